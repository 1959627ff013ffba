//! The schema's migrations and triggers run on SQLite itself (rusqlite's bundled build), the way
//! `Store::open` runs them in workerd. Above all schema v18, which moved each conversation's mail
//! state from `mail_state` into its row: a desk upgraded from v17 keeps every conversation's state
//! and its pending work, and from then on the new trigger and the mark statements keep exactly
//! what the old trigger and marks kept, with `mail_due` true exactly when work is left. And v19's
//! rebuild of `messages` without the `UNIQUE` on `id`: every row, index and trigger kept, fewer
//! pages written per stored message.

use rusqlite::{params, Connection};
use support_desk::schema::{
    messages_rebuild_due, MAIL_MARK_MAILED, MAIL_MARK_TOLD, MESSAGES_REBUILD, MESSAGES_REBUILD_STATE, MIGRATIONS,
};

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

/// Every row of `query`, each as its columns' texts (NULL as "NULL"), for before/after comparisons.
fn dump(db: &Connection, query: &str) -> Vec<Vec<String>> {
    let mut stmt = db.prepare(query).expect("dump query");
    let n = stmt.column_count();
    stmt.query_map([], |r| {
        (0..n).map(|i| r.get_ref(i).map(|v| format!("{v:?}"))).collect::<rusqlite::Result<Vec<String>>>()
    })
    .expect("dump rows")
    .map(|r| r.expect("dump row"))
    .collect()
}

fn rebuild_state(db: &Connection) -> (i64, i64) {
    db.query_row(MESSAGES_REBUILD_STATE, [], |r| Ok((r.get(0)?, r.get(1)?))).expect("rebuild state")
}

/// The schema outside `messages`' own definition and its `UNIQUE` index, as `sqlite_master` holds it.
const OTHER_OBJECTS: &str = "SELECT type, name, tbl_name, sql FROM sqlite_master
    WHERE name != 'messages' AND name NOT LIKE 'sqlite_autoindex_messages_%' ORDER BY type, name";

#[test]
fn the_rebuild_keeps_every_row_index_and_trigger_and_drops_only_the_unique_on_id() {
    let db = desk_at(MIGRATIONS.len());
    for u in ["a", "b"] {
        visitor(&db, u);
    }
    message(&db, 1, "a", "user", None);
    message(&db, 2, "a", "admin", None);
    message(&db, 3, "b", "user", None);
    message(&db, 4, "b", "event", Some("{}"));
    db.execute(
        "INSERT INTO messages (seq, id, user_id, sender, body, client_msg_id, at, author_id, author_name, attachment)
         VALUES (5, 'm5', 'b', 'admin', 'file', 'c-5', 1005, 'owner', 'Owner', '{\"id\":\"f\"}')",
        [],
    )
    .expect("a message with every column");
    db.execute_batch(
        "INSERT INTO search (rowid, body, user_id) SELECT seq, body, user_id FROM messages WHERE sender != 'event'",
    )
    .expect("indexed for search");
    let messages = dump(&db, "SELECT * FROM messages ORDER BY seq");
    let conversations = dump(&db, "SELECT * FROM conversations ORDER BY user_id");
    let others = dump(&db, OTHER_OBJECTS);
    let autoindex = "SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'sqlite_autoindex_messages_%'";
    assert_eq!(db.query_row(autoindex, [], |r| r.get::<_, i64>(0)).expect("count"), 1, "v4's UNIQUE on id, before");
    assert_eq!(rebuild_state(&db), (1, 5), "flagged by v19, five seqs");
    assert!(messages_rebuild_due(1, 5));

    db.execute_batch(MESSAGES_REBUILD).expect("the rebuild applies");

    assert_eq!(dump(&db, "SELECT * FROM messages ORDER BY seq"), messages, "every message, every column");
    assert_eq!(dump(&db, "SELECT * FROM conversations ORDER BY user_id"), conversations, "no trigger fired");
    assert_eq!(dump(&db, OTHER_OBJECTS), others, "every index and trigger as it was, same text");
    assert_eq!(db.query_row(autoindex, [], |r| r.get::<_, i64>(0)).expect("count"), 0, "the UNIQUE on id is gone");
    assert_eq!(rebuild_state(&db).0, 0, "and the flag with it");
    assert!(!messages_rebuild_due(rebuild_state(&db).0, 5), "a rebuilt desk is not rebuilt again");

    // The triggers and indexes work on the new table.
    message(&db, 6, "a", "user", None);
    let unread: i64 =
        db.query_row("SELECT unread FROM conversations WHERE user_id = 'a'", [], |r| r.get(0)).expect("row");
    assert_eq!(unread, 2, "the conversation trigger counts the new message");
    let again = db.execute(
        "INSERT INTO messages (seq, id, user_id, sender, body, client_msg_id, at, author_id) VALUES (7, 'm7', 'b', 'admin', 'x', 'c-5', 1, 'owner')",
        [],
    );
    assert!(again.is_err(), "a client id twice is still refused");
    db.execute("DELETE FROM messages WHERE seq = 1", []).expect("delete");
    let left: i64 = db.query_row("SELECT COUNT(*) FROM search WHERE rowid = 1", [], |r| r.get(0)).expect("count");
    assert_eq!(left, 0, "a deleted message leaves the search index");
}

#[test]
fn a_rebuild_that_failed_during_its_copy_runs_again_cleanly() {
    let db = desk_at(MIGRATIONS.len());
    visitor(&db, "a");
    for seq in 1..=3 {
        message(&db, seq, "a", if seq % 2 == 1 { "user" } else { "admin" }, None);
    }
    let messages = dump(&db, "SELECT * FROM messages ORDER BY seq");
    // What a copy cut short (out of space) leaves: a half-filled new table, `messages` untouched.
    db.execute_batch(
        "CREATE TABLE messages_v19 (seq INTEGER PRIMARY KEY, id TEXT NOT NULL);
         INSERT INTO messages_v19 (seq, id) SELECT seq, id FROM messages WHERE seq = 1;",
    )
    .expect("a half copy");
    db.execute_batch(MESSAGES_REBUILD).expect("the rebuild runs again");
    assert_eq!(dump(&db, "SELECT * FROM messages ORDER BY seq"), messages);
    assert_eq!(rebuild_state(&db).0, 0);
}

/// A desk in a WAL file at the latest version with `visitors` visitors and `stored` messages
/// with random ids; rebuilt by v19 when `rebuilt`. Returns the connection and the WAL's path.
fn desk_file(name: &str, rebuilt: bool, visitors: usize, stored: i64) -> (Connection, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("desk-pages-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("desk.sqlite");
    let db = Connection::open(&path).expect("file database");
    db.execute_batch("PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;").expect("WAL");
    db.execute_batch(
        "PRAGMA foreign_keys = ON; CREATE TABLE desk_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);",
    )
    .expect("desk_meta");
    for migration in MIGRATIONS {
        db.execute_batch(migration).expect("migration applies");
    }
    if rebuilt {
        db.execute_batch(MESSAGES_REBUILD).expect("rebuild");
    }
    db.execute_batch("BEGIN").expect("begin");
    for v in 0..visitors {
        visitor(&db, &format!("v{v}"));
    }
    let mut ids = Lcg(7);
    for seq in 1..=stored {
        random_message(&db, seq, &mut ids, visitors);
    }
    db.execute_batch("COMMIT; PRAGMA wal_checkpoint(TRUNCATE);").expect("stored");
    (db, dir.join("desk.sqlite-wal"))
}

/// A message as the desk stores one: a random 36-character id, a random conversation.
fn random_message(db: &Connection, seq: i64, rng: &mut Lcg, visitors: usize) {
    let id = format!(
        "{:08x}-{:08x}-{:08x}-{:09x}",
        rng.below(1 << 32),
        rng.below(1 << 32),
        rng.below(1 << 32),
        rng.below(1 << 31)
    );
    let user = format!("v{}", rng.below(visitors as u64));
    let admin = seq % 2 == 0;
    db.execute(
        "INSERT INTO messages (seq, id, user_id, sender, body, client_msg_id, at, author_id)
         VALUES (?1, ?2, ?3, ?4, 'r bench message', ?5, ?6, ?7)",
        params![
            seq,
            id,
            user,
            if admin { "admin" } else { "user" },
            format!("c-{seq}"),
            1_000 + seq,
            if admin { "owner" } else { user.as_str() }
        ],
    )
    .expect("message");
}

#[test]
fn a_stored_message_writes_fewer_pages_once_the_unique_on_id_is_gone() {
    const COMMITS: i64 = 300;
    let mut frames = Vec::new();
    for rebuilt in [false, true] {
        let (db, wal) = desk_file(if rebuilt { "rebuilt" } else { "v4" }, rebuilt, 500, 20_000);
        let mut rng = Lcg(99);
        for k in 1..=COMMITS {
            random_message(&db, 20_000 + k, &mut rng, 500); // one commit each, as at a low rate
        }
        let page: i64 = db.query_row("PRAGMA page_size", [], |r| r.get(0)).expect("page size");
        let bytes = std::fs::metadata(&wal).expect("WAL").len() as i64;
        frames.push((bytes - 32) / (page + 24));
        let _ = std::fs::remove_dir_all(wal.parent().expect("dir"));
    }
    let (before, after) = (frames[0] as f64 / COMMITS as f64, frames[1] as f64 / COMMITS as f64);
    println!("pages per stored message: {before:.2} with the UNIQUE on id, {after:.2} without");
    assert!(before - after >= 0.8, "{before:.2} -> {after:.2} pages per commit: the rebuild should save about one");
}

/// FNV-1a, 64 bits: a fingerprint that does not depend on the Rust version.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

#[test]
fn shipped_migrations_keep_their_text() {
    // A stored desk has run each migration as it read then. v6 and v18 now take the triggers they
    // share with v19's rebuild from macros, which must expand to the very same text: v1..v18's
    // fingerprint is the one main had before the macros (fdb3f3b), v19's the one it shipped with.
    let fingerprint = |n: usize| fnv1a(&MIGRATIONS[..n].iter().flat_map(|m| m.bytes().chain([0])).collect::<Vec<u8>>());
    assert_eq!(fingerprint(18), 16_917_851_497_293_830_552, "v1..v18 changed: add a migration instead");
    assert_eq!(fingerprint(19), 3_279_623_515_094_325_512, "v19 changed: add a migration instead");
}
