//! SQLite storage of a desk: schema, migrations by version, and the queries the core needs.
//!
//! Atomicity: a step's writes run synchronously, with no `await` between them, inside one event.
//! workerd commits such a run as one implicit transaction, and its output gate holds every frame
//! sent after the writes until they are durable. So "store, then ack" never acks a lost message,
//! and a message is never stored without the counters it changes.

use worker::{SqlStorage, SqlStorageValue as V};

use crate::attachments::Attachment;
use crate::desk::{Agent, Conversation, DayUsage, Hit, Invite, LastMessage, Write};
use crate::protocol::{Author, Counts, EventInfo, ListView, Role, Status, WireMessage};

mod attachments;
mod availability;
mod context;
pub mod mail;
pub mod push;
mod queries;
pub mod row;
mod tickets;
mod upkeep;
mod webhooks;

use row::{first, packed, rows, Row};
pub use webhooks::Due;

/// Messages are indexed for search at least once per this many seqs (and before every search).
pub const SEARCH_BATCH: i64 = 1024;

pub struct Store {
    sql: SqlStorage,
}

/// A conversation read with [`CONVERSATION_COLUMNS`], from column `at` on.
fn conversation(mut r: Row) -> Conversation {
    let last = match (r.opt_str(5), r.opt_str(6).as_deref().and_then(Author::parse), r.opt_int(7), r.opt_int(8)) {
        (Some(preview), Some(sender), Some(at), Some(seq)) => Some(LastMessage { preview, sender, at, seq }),
        _ => None,
    };
    Conversation {
        user_id: r.str(0),
        name: r.str(1),
        unread: r.count(2),
        read_seq: r.int(3),
        seen_seq: r.int(4),
        last,
        verified_id: r.opt_str(9),
        status: r.opt_str(10).as_deref().and_then(Status::parse).unwrap_or_default(),
        snoozed_until: r.opt_int(11),
        assignee: r.opt_str(12),
        usage: DayUsage { day: r.int(13), bytes: r.int(14).max(0) as u64 },
        email: r.opt_str(15),
        away_sent: r.int(16) != 0,
    }
}

fn conversations(cursor: worker::SqlCursor) -> worker::Result<Vec<Conversation>> {
    Ok(rows(cursor)?.into_iter().map(conversation).collect())
}

/// A message read with [`MESSAGE_COLUMNS`] starting at column `at`; `None` for a kind of
/// message this build does not know.
fn message(r: &mut Row, at: usize) -> Option<WireMessage> {
    let sender = Author::parse(&r.str(at + 2))?;
    let by_agent = matches!(sender, Author::Admin | Author::Note);
    let (author_id, author_name) = (r.opt_str(at + 6), r.opt_str(at + 7));
    Some(WireMessage {
        id: r.str(at),
        seq: r.int(at + 1),
        sender,
        message: r.str(at + 3),
        at: r.int(at + 4),
        client_msg_id: r.opt_str(at + 5),
        agent_id: if by_agent { author_id } else { None },
        agent_name: if by_agent { author_name } else { None },
        event: r.opt_str(at + 8).and_then(|m| EventInfo::read(&m).ok()),
        attachment: r.opt_str(at + 9).and_then(|a| Attachment::read(&a).ok()),
    })
}

fn messages(cursor: worker::SqlCursor) -> worker::Result<Vec<WireMessage>> {
    Ok(rows(cursor)?.into_iter().filter_map(|mut r| message(&mut r, 0)).collect())
}

/// An agent read with [`AGENT_COLUMNS`], and whether it was revoked.
fn agent(r: &mut Row) -> (Agent, bool) {
    let state = r.str(4);
    let agent = Agent {
        role: Role::parse(&r.str(2)).unwrap_or(Role::Agent),
        pending: state == "pending",
        id: r.str(0),
        name: r.str(1),
        email: r.opt_str(3),
        away: r.int(5) != 0,
    };
    (agent, state == "revoked")
}

const CONVERSATION_COLUMNS: &str =
    "v.id, v.name, c.unread, c.read_seq, c.seen_seq, c.last_preview, c.last_sender, c.last_at,
     c.last_seq, v.verified_id, c.status, c.snoozed_until, c.assignee_id, c.day, c.day_bytes, v.email, c.away_sent";
/// [`CONVERSATION_COLUMNS`] as a subquery names them (without their tables).
const CONVERSATION_NAMES: &str = "id, name, unread, read_seq, seen_seq, last_preview, last_sender, last_at, last_seq,
     verified_id, status, snoozed_until, assignee_id, day, day_bytes, email, away_sent";
/// Larger than any `seq` (the largest integer JavaScript numbers hold exactly).
const MAX_SAFE_SEQ: i64 = 9_007_199_254_740_991;
const MESSAGE_COLUMNS: &str = "id, seq, sender, body, at, client_msg_id, author_id, author_name, meta, attachment";
const AGENT_COLUMNS: &str = "a.id, a.name, a.role, a.email, a.state, a.away";

fn text(s: &str) -> V {
    V::String(s.to_owned())
}

fn opt_text(s: Option<&str>) -> V {
    s.map_or(V::Null, text)
}

impl Store {
    /// A handle on a database whose schema this instance has already brought up to date.
    pub fn attach(sql: SqlStorage) -> Self {
        Store { sql }
    }

    /// Opens the desk's database, bringing its schema up to the latest version.
    pub fn open(sql: SqlStorage) -> worker::Result<Self> {
        sql.exec("CREATE TABLE IF NOT EXISTS desk_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)", None)?;
        let current = sql
            .exec("SELECT value AS v FROM desk_meta WHERE key = 'schema_version'", None)
            .and_then(first)?
            .map_or(0, |r| r.int(0));
        for (i, migration) in crate::schema::MIGRATIONS.iter().enumerate().skip(current.max(0) as usize) {
            sql.exec(migration, None)?;
            sql.exec(
                "INSERT INTO desk_meta (key, value) VALUES ('schema_version', ?)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                vec![V::Integer(i as i64 + 1)],
            )?;
        }
        // v19's rebuild, where its copy is bounded; a desk too big for it keeps asking at each
        // open (two index lookups) until retention brings it under.
        let state = sql.exec(crate::schema::MESSAGES_REBUILD_STATE, None).and_then(first)?;
        if state.is_some_and(|r| crate::schema::messages_rebuild_due(r.int(0), r.int(1))) {
            sql.exec(crate::schema::MESSAGES_REBUILD, None)?;
        }
        Ok(Store { sql })
    }

    /// Applies one of the core's writes, as its intent says. Synchronous: see the module note.
    pub fn apply(&self, write: &Write, now: i64) -> worker::Result<()> {
        let sql = &self.sql;
        match write {
            Write::Append { user_id, message: m, author_id } => {
                let meta = m.event.as_ref().and_then(|e| crate::protocol::json_text(e).ok());
                let attachment = m.attachment.as_ref().and_then(|a| crate::protocol::json_text(a).ok());
                sql.exec(
                    "INSERT INTO messages (seq, id, user_id, sender, body, client_msg_id, at, author_id, author_name, meta, attachment)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    vec![
                        V::Integer(m.seq),
                        text(&m.id),
                        text(user_id),
                        text(m.sender.as_str()),
                        text(&m.message),
                        opt_text(m.client_msg_id.as_deref()),
                        V::Integer(m.at),
                        text(author_id),
                        opt_text(m.agent_name.as_deref()),
                        opt_text(meta.as_deref()),
                        opt_text(attachment.as_deref()),
                    ],
                )?;
                if m.seq % SEARCH_BATCH == 0 {
                    self.index_messages()?;
                }
                if crate::desk::is_away_message(m) {
                    self.away_sent(user_id)?;
                }
                // The conversation's row follows in the same statement (trigger of schema v9).
            }
            Write::Read { user_id, up_to } => {
                sql.exec(
                    "UPDATE conversations SET unread = 0, read_seq = ? WHERE user_id = ?",
                    vec![V::Integer(*up_to), text(user_id)],
                )?;
            }
            Write::Seen { user_id, up_to } => {
                sql.exec(
                    "UPDATE conversations SET seen_seq = MAX(seen_seq, ?) WHERE user_id = ?",
                    vec![V::Integer(*up_to), text(user_id)],
                )?;
            }
            Write::Unread { user_id } => {
                sql.exec("UPDATE conversations SET unread = MAX(unread, 1) WHERE user_id = ?", vec![text(user_id)])?;
            }
            Write::Status { user_id, status, until } => {
                sql.exec(
                    "UPDATE conversations SET status = ?, snoozed_until = ? WHERE user_id = ?",
                    vec![text(status.as_str()), until.map_or(V::Null, V::Integer), text(user_id)],
                )?;
            }
            Write::Assign { user_id, agent_id } => {
                sql.exec(
                    "UPDATE conversations SET assignee_id = ? WHERE user_id = ?",
                    vec![opt_text(agent_id.as_deref()), text(user_id)],
                )?;
            }
            Write::Profile { agent_id, name } => {
                // The owner has no row until it names itself; other agents always have one.
                sql.exec(
                    "INSERT INTO agents (id, name, role, state, created_at) VALUES (?, ?, 'owner', 'active', ?)
                     ON CONFLICT(id) DO UPDATE SET name = excluded.name",
                    vec![text(agent_id), text(name), V::Integer(now)],
                )?;
            }
            Write::Invite { invite } => {
                let a = &invite.agent;
                sql.exec(
                    "INSERT INTO agents (id, name, role, email, state, created_at) VALUES (?, ?, ?, ?, 'pending', ?)",
                    vec![
                        text(&a.id),
                        text(&a.name),
                        text(a.role.as_str()),
                        opt_text(a.email.as_deref()),
                        V::Integer(now),
                    ],
                )?;
                sql.exec(
                    "INSERT INTO invites (code_hash, agent_id, expires_at) VALUES (?, ?, ?)",
                    vec![text(&invite.code_hash), text(&a.id), V::Integer(invite.expires_at)],
                )?;
            }
            Write::Accept { agent_id, name, code_hash, token_hash } => {
                sql.exec("DELETE FROM invites WHERE code_hash = ?", vec![text(code_hash)])?;
                sql.exec(
                    "UPDATE agents SET state = 'active', name = ?, token_hash = ? WHERE id = ? AND state = 'pending'",
                    vec![text(name), text(token_hash), text(agent_id)],
                )?;
            }
            Write::CreateVisitor { user_id, token_hash, name, verified_id } => {
                self.create_visitor(user_id, token_hash, name, verified_id.as_deref(), now)?;
            }
            Write::TouchVisitor { user_id, name } => self.touch_visitor(user_id, name.as_deref(), now)?,
            Write::Delete { user_id } => {
                // The highest seq ever given survives its message: seqs are never reused, so no
                // client's resume point can skip a later message.
                sql.exec(
                    "INSERT INTO desk_meta (key, value) VALUES ('seq_floor', (SELECT COALESCE(MAX(seq), 0) FROM messages))
                     ON CONFLICT(key) DO UPDATE SET value = MAX(value, excluded.value)",
                    None,
                )?;
                // Its files go with it: their keys wait for the alarm to remove them from R2.
                self.trash_attachments(user_id)?;
                // Its webhook deliveries not yet sent go too (what was delivered is the receiver's).
                self.forget_deliveries(user_id)?;
                // Triggers remove the search entries of each message and of the name.
                sql.exec("DELETE FROM messages WHERE user_id = ?", vec![text(user_id)])?;
                sql.exec("DELETE FROM conversations WHERE user_id = ?", vec![text(user_id)])?;
                sql.exec("DELETE FROM visitors WHERE id = ?", vec![text(user_id)])?;
            }
            Write::IssueTicket { ticket } => self.issue_ticket(ticket, now)?,
            Write::ConsumeTicket { hash } => self.consume_ticket(hash)?,
            Write::Attach { user_id, key, attachment, uploader, at } => {
                self.record_attachment(user_id, key, attachment, uploader, *at)?;
            }
            Write::Context { context } => self.put_context(context)?,
            Write::SaveReply { reply } => self.save_reply(reply)?,
            Write::DeleteReply { id } => self.delete_reply(id)?,
            Write::AgentStatus { agent_id, away } => self.agent_status(agent_id, *away, now)?,
            Write::Settings { settings } => self.save_settings(settings, now)?,
            Write::Email { user_id, email } => self.visitor_email(user_id, email.as_deref())?,
            Write::Alerts { agent_id, unanswered, email } => {
                self.save_alerts(agent_id, *unanswered, email.as_deref(), now)?;
            }
            Write::WebhookSave { endpoint } => self.save_webhook(endpoint, now)?,
            Write::WebhookDelete { id } => self.delete_webhook(id)?,
            Write::WebhookQueue { delivery } => self.queue_delivery(delivery)?,
            Write::WebhookLog { entry } => self.log_delivery(entry)?,
            Write::Push(write) => self.apply_push(write, now)?,
            Write::Revoke { agent_id } => {
                sql.exec("DELETE FROM invites WHERE agent_id = ?", vec![text(agent_id)])?;
                sql.exec("UPDATE agents SET state = 'revoked', token_hash = NULL WHERE id = ?", vec![text(agent_id)])?;
            }
        }
        Ok(())
    }
}
