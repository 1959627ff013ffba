//! The schema's migrations and triggers run on SQLite itself (rusqlite's bundled build), the way
//! `Store::open` runs them in workerd. Above all schema v18, which moved each conversation's mail
//! state from `mail_state` into its row: a desk upgraded from v17 keeps every conversation's state
//! and its pending work, and from then on the new trigger and the mark statements keep exactly
//! what the old trigger and marks kept, with `mail_due` true exactly when work is left.

use rusqlite::{params, Connection};
use support_desk::schema::{MAIL_MARK_MAILED, MAIL_MARK_TOLD, MIGRATIONS};

/// The version that moved the mail state (1-based, as `desk_meta.schema_version` counts).
const V18: usize = 18;

/// A database brought up to `version` (all of them: `MIGRATIONS.len()`).
fn desk_at(version: usize) -> Connection {
    let db = Connection::open_in_memory().expect("in-memory SQLite");
    db.execute_batch(
        "PRAGMA foreign_keys = ON; CREATE TABLE desk_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);",
    )
    .expect("desk_meta");
    for migration in &MIGRATIONS[..version] {
        db.execute_batch(migration).expect("migration applies");
    }
    db
}

fn visitor(db: &Connection, id: &str) {
    db.execute(
        "INSERT INTO visitors (id, token_hash, name, created_at, last_seen) VALUES (?1, ?2, 'V', 0, 0)",
        params![id, format!("hash-{id}")],
    )
    .expect("visitor");
}

/// Stores a message as `Store::apply` does (the triggers do the rest). `meta`: an automatic
/// message (the away message), which is no reply.
fn message(db: &Connection, seq: i64, user: &str, sender: &str, meta: Option<&str>) {
    db.execute(
        "INSERT INTO messages (seq, id, user_id, sender, body, client_msg_id, at, author_id, meta)
         VALUES (?1, ?2, ?3, ?4, 'text', NULL, ?5, ?6, ?7)",
        params![seq, format!("m{seq}"), user, sender, 1_000 + seq, if sender == "user" { user } else { "owner" }, meta],
    )
    .expect("message");
}

/// v17's marks, as `store::mail` ran them then.
fn old_mark_mailed(db: &Connection, user: &str, up_to: i64) {
    db.execute("UPDATE mail_state SET mailed_seq = MAX(mailed_seq, ?) WHERE user_id = ?", params![up_to, user])
        .expect("old mark");
}
fn old_mark_told(db: &Connection, user: &str, since: i64) {
    db.execute("UPDATE mail_state SET told_seq = MAX(told_seq, ?) WHERE user_id = ?", params![since, user])
        .expect("old mark");
}

type State = (i64, i64, i64, i64, i64, i64, Option<i64>);

/// (reply_seq, reply_at, mailed_seq, wait_seq, wait_at, told_seq, left_at) of each row, by user.
fn state(db: &Connection, table: &str) -> Vec<(String, State)> {
    let sql = format!(
        "SELECT user_id, reply_seq, reply_at, mailed_seq, wait_seq, wait_at, told_seq, left_at FROM {table} ORDER BY user_id"
    );
    let mut stmt = db.prepare(&sql).expect("state query");
    let rows = stmt
        .query_map([], |r| {
            Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?)))
        })
        .expect("state rows");
    rows.map(|r| r.expect("row")).collect()
}

/// Users with mail work left, by v17's partial index condition and by v18's flag (same set).
fn pending(db: &Connection, table: &str, condition: &str) -> Vec<String> {
    let mut stmt =
        db.prepare(&format!("SELECT user_id FROM {table} WHERE {condition} ORDER BY user_id")).expect("pending");
    let rows = stmt.query_map([], |r| r.get(0)).expect("pending rows");
    rows.map(|r| r.expect("row")).collect()
}
const OLD_PENDING: &str = "reply_seq > mailed_seq OR wait_seq > told_seq";

/// How many of the schema objects (tables, triggers, indexes) named in `names` (a quoted list) exist.
fn present(db: &Connection, names: &str) -> i64 {
    db.query_row(&format!("SELECT COUNT(*) FROM sqlite_master WHERE name IN ({names})"), [], |r| r.get(0))
        .expect("sqlite_master")
}

#[test]
fn every_migration_applies_in_order_on_sqlite() {
    let db = desk_at(MIGRATIONS.len());
    assert_eq!(present(&db, "'conversations', 'messages', 'visitors'"), 3);
}

#[test]
fn v18_carries_each_conversations_mail_state_and_pending_work() {
    let db = desk_at(V18 - 1);
    for v in ["a", "b", "c", "d", "e"] {
        visitor(&db, v);
    }
    // a: a reply already mailed. b: a wait already reported. c: a reply not mailed, visitor left.
    message(&db, 1, "a", "user", None);
    message(&db, 2, "a", "admin", None);
    old_mark_mailed(&db, "a", 2);
    message(&db, 3, "b", "user", None);
    message(&db, 4, "b", "user", None);
    old_mark_told(&db, "b", 3);
    message(&db, 5, "c", "user", None);
    message(&db, 6, "c", "admin", None);
    db.execute("UPDATE mail_state SET left_at = 4242 WHERE user_id = 'c'", []).expect("left");
    // d: its conversation deleted (its mail_state row stayed, with nothing left to mail).
    message(&db, 7, "d", "user", None);
    db.execute_batch("DELETE FROM messages WHERE user_id = 'd'; DELETE FROM conversations WHERE user_id = 'd';")
        .expect("delete");
    // e: a wait, then the away message (no reply: the wait goes on).
    message(&db, 8, "e", "user", None);
    message(&db, 9, "e", "admin", Some("{\"away\":true}"));

    let before: Vec<_> = state(&db, "mail_state").into_iter().filter(|(user, _)| user != "d").collect();
    let pending_before = pending(&db, "mail_state", OLD_PENDING);
    assert_eq!(pending_before, ["c", "d", "e"]);

    db.execute_batch(MIGRATIONS[V18 - 1]).expect("v18 applies to a v17 desk with data");

    assert_eq!(state(&db, "conversations"), before, "every conversation keeps its mail state");
    assert_eq!(pending(&db, "conversations", "mail_due = 1"), ["c", "e"], "work left, and only that");
    assert_eq!(pending(&db, "conversations", OLD_PENDING), ["c", "e"]);
    assert_eq!(present(&db, "'mail_state', 'messages_mail', 'visitors_forget_mail'"), 0);
    // A visitor can still be deleted (no trigger left pointing at the dropped table).
    db.execute_batch("DELETE FROM visitors WHERE id = 'd'").expect("visitor deleted after v18");
}

/// A small deterministic generator (no dependence on the run).
struct Lcg(u64);
impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

#[test]
fn v18_trigger_and_marks_keep_what_v17_kept_and_flag_exactly_the_work_left() {
    let old = desk_at(V18 - 1);
    let new = desk_at(V18);
    let users = ["u0", "u1", "u2", "u3", "u4", "u5"];
    for db in [&old, &new] {
        for u in users {
            visitor(db, u);
        }
    }
    // Every conversation starts with a visitor's message (an away message or a note never comes
    // first), so both tables have a row per user from here.
    let mut seq = 0;
    for u in users {
        seq += 1;
        for db in [&old, &new] {
            message(db, seq, u, "user", None);
        }
    }
    let mut rng = Lcg(12);
    for step in 0..3_000 {
        let user = users[rng.below(users.len() as u64) as usize];
        match rng.below(10) {
            0..=3 => {
                seq += 1;
                for db in [&old, &new] {
                    message(db, seq, user, "user", None);
                }
            }
            4..=5 => {
                seq += 1;
                for db in [&old, &new] {
                    message(db, seq, user, "admin", None);
                }
            }
            6 => {
                seq += 1;
                let (sender, meta) =
                    if rng.below(2) == 0 { ("admin", Some("{\"away\":true}")) } else { ("note", None) };
                for db in [&old, &new] {
                    message(db, seq, user, sender, meta);
                }
            }
            7 => {
                let up_to = rng.below(seq as u64 + 1) as i64;
                old_mark_mailed(&old, user, up_to);
                new.execute(MAIL_MARK_MAILED, params![up_to, user]).expect("mark mailed");
            }
            _ => {
                let since = rng.below(seq as u64 + 1) as i64;
                old_mark_told(&old, user, since);
                new.execute(MAIL_MARK_TOLD, params![since, user]).expect("mark told");
            }
        }
        assert_eq!(state(&new, "conversations"), state(&old, "mail_state"), "state after step {step}");
        let flagged = pending(&new, "conversations", "mail_due = 1");
        assert_eq!(flagged, pending(&old, "mail_state", OLD_PENDING), "pending after step {step}");
        assert_eq!(flagged, pending(&new, "conversations", OLD_PENDING), "flag exact after step {step}");
    }
}
