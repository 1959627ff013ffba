//! SQLite storage of a desk: schema, migrations by version, and the queries the core needs.
//!
//! Atomicity: a step's writes run synchronously, with no `await` between them, inside one event.
//! workerd commits such a run as one implicit transaction, and its output gate holds every frame
//! sent after the writes until they are durable. So "store, then ack" never acks a lost message,
//! and a message is never stored without the counters it changes.

use serde::Deserialize;
use worker::{SqlStorage, SqlStorageValue as V};

use crate::desk::{Agent, Conversation, DayUsage, Hit, Invite, LastMessage, Write};
use crate::protocol::{Author, Counts, EventInfo, ListView, Role, Status, WireMessage};

mod availability;
mod queries;
mod tickets;
mod upkeep;

/// Each entry moves the schema one version up; applied in order, each exactly once.
const MIGRATIONS: &[&str] = &[
    // v1: visitors (identity), conversations (per-visitor state), messages (desk-wide seq).
    "CREATE TABLE visitors (
        id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_seen INTEGER NOT NULL
     );
     CREATE TABLE conversations (
        user_id TEXT PRIMARY KEY REFERENCES visitors(id),
        unread INTEGER NOT NULL DEFAULT 0,
        read_seq INTEGER NOT NULL DEFAULT 0,
        last_preview TEXT NOT NULL,
        last_sender TEXT NOT NULL,
        last_at INTEGER NOT NULL,
        last_seq INTEGER NOT NULL
     );
     CREATE INDEX conversations_by_activity ON conversations(last_at DESC);
     CREATE TABLE messages (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        user_id TEXT NOT NULL REFERENCES visitors(id),
        sender TEXT NOT NULL CHECK (sender IN ('user', 'admin')),
        body TEXT NOT NULL,
        client_msg_id TEXT,
        at INTEGER NOT NULL
     );
     CREATE INDEX messages_by_user ON messages(user_id, seq);
     CREATE UNIQUE INDEX messages_by_client_id
        ON messages(user_id, sender, client_msg_id) WHERE client_msg_id IS NOT NULL;",
    // v2: desk-wide facts that are text (the epoch clients resume against).
    "CREATE TABLE desk_info (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
    // v3: verified identity (the host site's user id; one conversation per id), and new visitors
    // per client address per window (the address stored only as a hash).
    "ALTER TABLE visitors ADD COLUMN verified_id TEXT;
     CREATE UNIQUE INDEX visitors_by_verified_id ON visitors(verified_id) WHERE verified_id IS NOT NULL;
     CREATE TABLE visitor_births (
        address_hash TEXT NOT NULL,
        period INTEGER NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (address_hash, period)
     ) WITHOUT ROWID;",
    // v4: the team inbox. Conversations get a status, a snooze time and an assignee, and are
    // ordered by their latest message's seq (two indexes: every message updates each of them, so
    // `mine` walks the open ones by seq rather than keeping a third); messages
    // their author (an agent id, or the visitor's id) and, for events, what happened; notes and
    // events join the kinds (the CHECK changes, so the table is rebuilt, data carried over: old
    // replies were the one admin's, now the owner's). Agents, invites, failed sign-ins per
    // address, and a full-text index of messages and visitor names kept in step by triggers in
    // the same statement as every insert (rowid = seq for messages, -rowid of the visitor for
    // names).
    "ALTER TABLE conversations ADD COLUMN status TEXT NOT NULL DEFAULT 'open';
     ALTER TABLE conversations ADD COLUMN snoozed_until INTEGER;
     ALTER TABLE conversations ADD COLUMN assignee_id TEXT;
     ALTER TABLE conversations ADD COLUMN created_at INTEGER;
     UPDATE conversations SET created_at = last_at;
     DROP INDEX conversations_by_activity;
     CREATE INDEX conversations_by_seq ON conversations(last_seq DESC);
     CREATE INDEX conversations_by_status ON conversations(status, last_seq DESC);
     CREATE INDEX conversations_snoozed ON conversations(snoozed_until) WHERE snoozed_until IS NOT NULL;
     CREATE TABLE messages_v4 (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        user_id TEXT NOT NULL REFERENCES visitors(id),
        sender TEXT NOT NULL CHECK (sender IN ('user', 'admin', 'note', 'event')),
        body TEXT NOT NULL,
        client_msg_id TEXT,
        at INTEGER NOT NULL,
        author_id TEXT NOT NULL,
        author_name TEXT,
        meta TEXT
     );
     INSERT INTO messages_v4 (seq, id, user_id, sender, body, client_msg_id, at, author_id)
        SELECT seq, id, user_id, sender, body, client_msg_id, at,
               CASE sender WHEN 'user' THEN user_id ELSE 'owner' END FROM messages;
     DROP TABLE messages;
     ALTER TABLE messages_v4 RENAME TO messages;
     CREATE INDEX messages_by_user ON messages(user_id, seq);
     CREATE UNIQUE INDEX messages_by_client_id
        ON messages(user_id, sender, author_id, client_msg_id) WHERE client_msg_id IS NOT NULL;
     CREATE TABLE agents (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'agent')),
        email TEXT,
        token_hash TEXT UNIQUE,
        state TEXT NOT NULL CHECK (state IN ('pending', 'active', 'revoked')),
        created_at INTEGER NOT NULL
     );
     CREATE UNIQUE INDEX agents_by_email ON agents(email) WHERE email IS NOT NULL AND state != 'revoked';
     CREATE TABLE invites (
        code_hash TEXT PRIMARY KEY,
        agent_id TEXT NOT NULL REFERENCES agents(id),
        expires_at INTEGER NOT NULL
     );
     CREATE TABLE auth_failures (
        address_hash TEXT NOT NULL,
        period INTEGER NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (address_hash, period)
     ) WITHOUT ROWID;
     CREATE VIRTUAL TABLE search USING fts5(body, user_id UNINDEXED, tokenize = 'unicode61 remove_diacritics 2', detail = none);
     INSERT INTO search (rowid, body, user_id) SELECT seq, body, user_id FROM messages;
     INSERT INTO search (rowid, body, user_id) SELECT -rowid, name, id FROM visitors;
     CREATE TRIGGER messages_search AFTER INSERT ON messages WHEN new.sender != 'event' BEGIN
        INSERT INTO search (rowid, body, user_id) VALUES (new.seq, new.body, new.user_id);
     END;
     CREATE TRIGGER visitors_search AFTER INSERT ON visitors BEGIN
        INSERT INTO search (rowid, body, user_id) VALUES (-new.rowid, new.name, new.id);
     END;
     CREATE TRIGGER visitors_rename AFTER UPDATE OF name ON visitors WHEN new.name != old.name BEGIN
        DELETE FROM search WHERE rowid = -new.rowid;
        INSERT INTO search (rowid, body, user_id) VALUES (-new.rowid, new.name, new.id);
     END;",
    // v5: cheaper messages. FTS5 writes a new index segment at every commit, and each message is
    // its own commit: that doubled the cost of storing a message. Messages are now indexed in
    // batches (`Store::index_messages`: before every search, and every `SEARCH_BATCH` seqs), so a
    // search still finds every message stored before it; `search_messages` is the last seq
    // indexed, and `seq` never goes below it again. The index by `last_seq` alone goes too: the
    // all-conversations list merges the three status ranges of `conversations_by_status`.
    "DROP TRIGGER messages_search;
     DROP INDEX conversations_by_seq;
     INSERT INTO desk_meta (key, value) SELECT 'search_messages', COALESCE(MAX(seq), 0) FROM messages;",
    // v6: bounded storage. Deleting a message or a visitor removes its search entry in the same
    // statement. Visitors by last visit, for the retention of those who never wrote (updated once
    // per connect, never per message: no index is added to the message path). Conversations due
    // for retention are found through `conversations_by_status`, status by status (`upkeep.rs`).
    "CREATE TRIGGER messages_unsearch AFTER DELETE ON messages WHEN old.sender != 'event' BEGIN
        DELETE FROM search WHERE rowid = old.seq;
     END;
     CREATE TRIGGER visitors_unsearch AFTER DELETE ON visitors BEGIN
        DELETE FROM search WHERE rowid = -old.rowid;
     END;
     CREATE INDEX visitors_by_seen ON visitors(last_seen);",
    // v7: tickets (`desk::ticket`): a browser's stand-in for a credential, stored by hash, valid
    // a minute at most, deleted when used. `kind` says whom it signs in (`subject`: an agent id,
    // a visitor's id or a verified id); `name`, the display name a visitor asked for.
    "CREATE TABLE tickets (
        hash TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('agent', 'visitor', 'verified', 'new')),
        subject TEXT,
        name TEXT,
        address_hash TEXT,
        expires_at INTEGER NOT NULL
     ) WITHOUT ROWID;
     CREATE INDEX tickets_by_expiry ON tickets(expires_at);",
    // v8: what each visitor wrote on its latest day of writing (VISITOR_BYTES_PER_DAY), kept in
    // the conversation row that every visitor message updates anyway, so the limit costs no
    // statement of its own. New visitors and failed sign-ins are counted deployment-wide by the
    // `Limiter` objects now: the per-desk counters go.
    "ALTER TABLE conversations ADD COLUMN day INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE conversations ADD COLUMN day_bytes INTEGER NOT NULL DEFAULT 0;
     DROP TABLE visitor_births;
     DROP TABLE auth_failures;",
    // v9: a message's conversation row is updated by a trigger in the same statement as its
    // insert, so storing a message is one statement (one call across the JS boundary) instead of
    // two. What it writes is what the upsert of v4-v8 wrote from Rust: the latest activity, one
    // more unread for a visitor's message, and the visitor's bytes of the day
    // (`limits::day`, `DayUsage::add`); the preview is the first `PREVIEW_CHARS` characters.
    "CREATE TRIGGER messages_conversation AFTER INSERT ON messages WHEN new.sender IN ('user', 'admin') BEGIN
        INSERT INTO conversations (user_id, unread, read_seq, last_preview, last_sender, last_at, last_seq, created_at, day, day_bytes)
        VALUES (new.user_id, new.sender = 'user', 0, substr(new.body, 1, 140), new.sender, new.at, new.seq, new.at,
                CASE WHEN new.sender = 'user' THEN new.at / 86400000 ELSE 0 END,
                CASE WHEN new.sender = 'user' THEN length(CAST(new.body AS BLOB)) ELSE 0 END)
        ON CONFLICT(user_id) DO UPDATE SET unread = unread + excluded.unread,
          last_preview = excluded.last_preview, last_sender = excluded.last_sender,
          last_at = excluded.last_at, last_seq = excluded.last_seq,
          day_bytes = CASE WHEN excluded.unread = 0 THEN day_bytes
            WHEN day = excluded.day THEN day_bytes + excluded.day_bytes ELSE excluded.day_bytes END,
          day = CASE WHEN excluded.unread = 0 THEN day ELSE excluded.day END;
     END;",
    // v10: honest availability (`desk::availability`): agents' own status, the email a visitor
    // leaves, whether a conversation got the automatic away message, and the desk's settings
    // (business hours, time zone, holidays, reply time, away message) as one validated JSON row.
    "ALTER TABLE agents ADD COLUMN away INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE visitors ADD COLUMN email TEXT;
     ALTER TABLE conversations ADD COLUMN away_sent INTEGER NOT NULL DEFAULT 0;
     CREATE TABLE settings (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        body TEXT NOT NULL,
        updated_at INTEGER NOT NULL
     );",
];

/// Messages are indexed for search at least once per this many seqs (and before every search).
pub const SEARCH_BATCH: i64 = 1024;

pub struct Store {
    sql: SqlStorage,
}

#[derive(Deserialize)]
struct Version {
    v: i64,
}

#[derive(Deserialize)]
struct Text {
    v: String,
}

#[derive(Deserialize)]
struct ConversationRow {
    id: String,
    name: String,
    unread: Option<u32>,
    read_seq: Option<i64>,
    last_preview: Option<String>,
    last_sender: Option<Author>,
    last_at: Option<i64>,
    last_seq: Option<i64>,
    verified_id: Option<String>,
    status: Option<String>,
    snoozed_until: Option<i64>,
    assignee_id: Option<String>,
    day: Option<i64>,
    day_bytes: Option<i64>,
    email: Option<String>,
    away_sent: Option<i64>,
}

impl From<ConversationRow> for Conversation {
    fn from(r: ConversationRow) -> Self {
        let last = match (r.last_preview, r.last_sender, r.last_at, r.last_seq) {
            (Some(preview), Some(sender), Some(at), Some(seq)) => Some(LastMessage { preview, sender, at, seq }),
            _ => None,
        };
        Conversation {
            user_id: r.id,
            name: r.name,
            unread: r.unread.unwrap_or(0),
            read_seq: r.read_seq.unwrap_or(0),
            last,
            verified_id: r.verified_id,
            status: r.status.as_deref().and_then(Status::parse).unwrap_or_default(),
            snoozed_until: r.snoozed_until,
            assignee: r.assignee_id,
            usage: DayUsage { day: r.day.unwrap_or(0), bytes: r.day_bytes.unwrap_or(0).max(0) as u64 },
            email: r.email,
            away_sent: r.away_sent.unwrap_or(0) != 0,
        }
    }
}

#[derive(Deserialize)]
struct DeskMessageRow {
    user_id: String,
    #[serde(flatten)]
    message: MessageRow,
}

#[derive(Deserialize)]
struct MessageRow {
    id: String,
    seq: i64,
    sender: Author,
    body: String,
    at: i64,
    client_msg_id: Option<String>,
    author_id: Option<String>,
    author_name: Option<String>,
    meta: Option<String>,
}

impl From<MessageRow> for WireMessage {
    fn from(r: MessageRow) -> Self {
        let by_agent = matches!(r.sender, Author::Admin | Author::Note);
        WireMessage {
            id: r.id,
            seq: r.seq,
            sender: r.sender,
            message: r.body,
            at: r.at,
            client_msg_id: r.client_msg_id,
            agent_id: if by_agent { r.author_id } else { None },
            agent_name: if by_agent { r.author_name } else { None },
            event: r.meta.and_then(|m| serde_json::from_str::<EventInfo>(&m).ok()),
        }
    }
}

#[derive(Deserialize)]
struct ClientIdRow {
    sender: Author,
    author_id: String,
    client_msg_id: String,
}

#[derive(Deserialize)]
struct AgentRow {
    id: String,
    name: String,
    role: String,
    email: Option<String>,
    state: String,
    away: Option<i64>,
}

impl From<AgentRow> for Agent {
    fn from(r: AgentRow) -> Self {
        Agent {
            role: Role::parse(&r.role).unwrap_or(Role::Agent),
            pending: r.state == "pending",
            id: r.id,
            name: r.name,
            email: r.email,
            away: r.away.unwrap_or(0) != 0,
        }
    }
}

#[derive(Deserialize)]
struct InviteRow {
    #[serde(flatten)]
    agent: AgentRow,
    code_hash: String,
    expires_at: i64,
}

const CONVERSATION_COLUMNS: &str = "v.id, v.name, c.unread, c.read_seq, c.last_preview, c.last_sender, c.last_at,
     c.last_seq, v.verified_id, c.status, c.snoozed_until, c.assignee_id, c.day, c.day_bytes, v.email, c.away_sent";
/// Larger than any `seq` (the largest integer JavaScript numbers hold exactly).
const MAX_SAFE_SEQ: i64 = 9_007_199_254_740_991;
const MESSAGE_COLUMNS: &str = "id, seq, sender, body, at, client_msg_id, author_id, author_name, meta";
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
            .exec("SELECT value AS v FROM desk_meta WHERE key = 'schema_version'", None)?
            .to_array::<Version>()?
            .first()
            .map_or(0, |r| r.v);
        for (i, migration) in MIGRATIONS.iter().enumerate().skip(current.max(0) as usize) {
            sql.exec(migration, None)?;
            sql.exec(
                "INSERT INTO desk_meta (key, value) VALUES ('schema_version', ?)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                vec![V::Integer(i as i64 + 1)],
            )?;
        }
        Ok(Store { sql })
    }

    /// Applies one of the core's writes, as its intent says. Synchronous: see the module note.
    pub fn apply(&self, write: &Write, now: i64) -> worker::Result<()> {
        let sql = &self.sql;
        match write {
            Write::Append { user_id, message: m, author_id } => {
                let meta = m.event.as_ref().and_then(|e| serde_json::to_string(e).ok());
                sql.exec(
                    "INSERT INTO messages (seq, id, user_id, sender, body, client_msg_id, at, author_id, author_name, meta)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                // Triggers remove the search entries of each message and of the name.
                sql.exec("DELETE FROM messages WHERE user_id = ?", vec![text(user_id)])?;
                sql.exec("DELETE FROM conversations WHERE user_id = ?", vec![text(user_id)])?;
                sql.exec("DELETE FROM visitors WHERE id = ?", vec![text(user_id)])?;
            }
            Write::IssueTicket { ticket } => self.issue_ticket(ticket, now)?,
            Write::ConsumeTicket { hash } => self.consume_ticket(hash)?,
            Write::AgentStatus { agent_id, away } => self.agent_status(agent_id, *away, now)?,
            Write::Settings { settings } => self.save_settings(settings, now)?,
            Write::Email { user_id, email } => self.visitor_email(user_id, email.as_deref())?,
            Write::Revoke { agent_id } => {
                sql.exec("DELETE FROM invites WHERE agent_id = ?", vec![text(agent_id)])?;
                sql.exec("UPDATE agents SET state = 'revoked', token_hash = NULL WHERE id = ?", vec![text(agent_id)])?;
            }
        }
        Ok(())
    }
}
