//! SQLite storage of a desk: schema, migrations by version, and the queries the core needs.
//!
//! Atomicity: a step's writes run synchronously, with no `await` between them, inside one event.
//! workerd commits such a run as one implicit transaction, and its output gate holds every frame
//! sent after the writes until they are durable. So "store, then ack" never acks a lost message,
//! and a message is never stored without the counters it changes.

use serde::Deserialize;
use worker::{SqlStorage, SqlStorageValue as V};

use crate::desk::{Conversation, LastMessage, Write};
use crate::protocol::{Author, WireMessage};

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
];

pub struct Store {
    sql: SqlStorage,
}

#[derive(Deserialize)]
struct Version {
    v: i64,
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
        }
    }
}

#[derive(Deserialize)]
struct Text {
    v: String,
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
}

impl From<MessageRow> for WireMessage {
    fn from(r: MessageRow) -> Self {
        WireMessage { id: r.id, seq: r.seq, sender: r.sender, message: r.body, at: r.at, client_msg_id: r.client_msg_id }
    }
}

const CONVERSATION_SELECT: &str = "SELECT v.id, v.name, c.unread, c.read_seq, c.last_preview, c.last_sender, c.last_at, c.last_seq,
     v.verified_id FROM visitors v LEFT JOIN conversations c ON c.user_id = v.id";
/// Larger than any `seq` (the largest integer JavaScript numbers hold exactly).
const MAX_SAFE_SEQ: i64 = 9_007_199_254_740_991;
const MESSAGE_COLUMNS: &str = "id, seq, sender, body, at, client_msg_id";

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

    pub fn visitor_by_token_hash(&self, token_hash: &str) -> worker::Result<Option<Conversation>> {
        let q = format!("{CONVERSATION_SELECT} WHERE v.token_hash = ?");
        Ok(self.sql.exec(&q, vec![text(token_hash)])?.to_array::<ConversationRow>()?.pop().map(Into::into))
    }

    pub fn conversation(&self, user_id: &str) -> worker::Result<Option<Conversation>> {
        let q = format!("{CONVERSATION_SELECT} WHERE v.id = ?");
        Ok(self.sql.exec(&q, vec![text(user_id)])?.to_array::<ConversationRow>()?.pop().map(Into::into))
    }

    /// Conversations with at least one message, newest activity first.
    pub fn conversations(&self, limit: u32) -> worker::Result<Vec<Conversation>> {
        let q = "SELECT v.id, v.name, c.unread, c.read_seq, c.last_preview, c.last_sender, c.last_at, c.last_seq,
             v.verified_id FROM conversations c JOIN visitors v ON v.id = c.user_id
             ORDER BY c.last_at DESC, c.last_seq DESC LIMIT ?";
        let rows = self.sql.exec(q, vec![V::Integer(limit.into())])?.to_array::<ConversationRow>()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    pub fn visitor_by_verified_id(&self, verified_id: &str) -> worker::Result<Option<Conversation>> {
        let q = format!("{CONVERSATION_SELECT} WHERE v.verified_id = ?");
        Ok(self.sql.exec(&q, vec![text(verified_id)])?.to_array::<ConversationRow>()?.pop().map(Into::into))
    }

    /// A new visitor; `verified_id` for one whose host site vouched for it.
    pub fn create_visitor(
        &self,
        user_id: &str,
        token_hash: &str,
        name: &str,
        verified_id: Option<&str>,
        now: i64,
    ) -> worker::Result<()> {
        self.sql.exec(
            "INSERT INTO visitors (id, token_hash, name, created_at, last_seen, verified_id) VALUES (?, ?, ?, ?, ?, ?)",
            vec![text(user_id), text(token_hash), text(name), V::Integer(now), V::Integer(now), opt_text(verified_id)],
        )?;
        Ok(())
    }

    /// Visitors created from this address (hashed) in this window.
    pub fn births(&self, address_hash: &str, window: i64) -> worker::Result<u32> {
        let rows = self.sql.exec(
            "SELECT count AS v FROM visitor_births WHERE address_hash = ? AND period = ?",
            vec![text(address_hash), V::Integer(window)],
        )?;
        Ok(rows.to_array::<Version>()?.first().map_or(0, |r| r.v.max(0) as u32))
    }

    /// Counts one more visitor created from this address in this window; forgets older windows.
    pub fn count_birth(&self, address_hash: &str, window: i64) -> worker::Result<()> {
        self.sql.exec("DELETE FROM visitor_births WHERE period < ?", vec![V::Integer(window)])?;
        self.sql.exec(
            "INSERT INTO visitor_births (address_hash, period, count) VALUES (?, ?, 1)
             ON CONFLICT(address_hash, period) DO UPDATE SET count = count + 1",
            vec![text(address_hash), V::Integer(window)],
        )?;
        Ok(())
    }

    /// Records a returning visitor: last seen now, and a new display name if one was given.
    pub fn touch_visitor(&self, user_id: &str, name: Option<&str>, now: i64) -> worker::Result<()> {
        self.sql.exec(
            "UPDATE visitors SET last_seen = ?, name = COALESCE(?, name) WHERE id = ?",
            vec![V::Integer(now), opt_text(name), text(user_id)],
        )?;
        Ok(())
    }

    /// The message `author` already stored in `user_id`'s conversation under `client_msg_id`.
    pub fn duplicate(&self, user_id: &str, author: Author, client_msg_id: &str) -> worker::Result<Option<WireMessage>> {
        let q = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE user_id = ? AND sender = ? AND client_msg_id = ?"
        );
        let rows = self.sql.exec(&q, vec![text(user_id), text(author.as_str()), text(client_msg_id)])?;
        Ok(rows.to_array::<MessageRow>()?.pop().map(Into::into))
    }

    /// The `seq` the next message gets: one past the largest stored (an index lookup).
    pub fn next_seq(&self) -> worker::Result<i64> {
        let rows = self.sql.exec("SELECT COALESCE(MAX(seq), 0) + 1 AS v FROM messages", None)?;
        Ok(rows.to_array::<Version>()?.first().map_or(1, |r| r.v))
    }

    /// The desk's epoch: random, made once, changed only if its history is ever reset. `fresh`
    /// is used when there is none yet.
    pub fn epoch(&self, fresh: impl FnOnce() -> worker::Result<String>) -> worker::Result<String> {
        let rows = self.sql.exec("SELECT value AS v FROM desk_info WHERE key = 'epoch'", None)?;
        if let Some(row) = rows.to_array::<Text>()?.pop() {
            return Ok(row.v);
        }
        let epoch = fresh()?;
        self.sql.exec("INSERT INTO desk_info (key, value) VALUES ('epoch', ?)", vec![text(&epoch)])?;
        Ok(epoch)
    }

    /// Up to `limit` messages of a conversation with `seq > since`, oldest first.
    pub fn messages_after(&self, user_id: &str, since: i64, limit: u32) -> worker::Result<Vec<WireMessage>> {
        let q = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE user_id = ? AND seq > ? ORDER BY seq LIMIT ?"
        );
        let rows = self.sql.exec(&q, vec![text(user_id), V::Integer(since), V::Integer(limit.into())])?;
        Ok(rows.to_array::<MessageRow>()?.into_iter().map(Into::into).collect())
    }

    /// Up to `limit` messages of the whole desk with `seq > since`, oldest first, with their
    /// conversation: what an admin missed.
    pub fn desk_messages_after(&self, since: i64, limit: u32) -> worker::Result<Vec<(String, WireMessage)>> {
        let q = format!("SELECT user_id, {MESSAGE_COLUMNS} FROM messages WHERE seq > ? ORDER BY seq LIMIT ?");
        let rows = self.sql.exec(&q, vec![V::Integer(since), V::Integer(limit.into())])?;
        Ok(rows.to_array::<DeskMessageRow>()?.into_iter().map(|r| (r.user_id, r.message.into())).collect())
    }

    /// Up to `limit` messages of a conversation with `seq < before`, newest first.
    pub fn messages(&self, user_id: &str, before: Option<i64>, limit: u32) -> worker::Result<Vec<WireMessage>> {
        let q = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE user_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?"
        );
        let before = before.unwrap_or(MAX_SAFE_SEQ);
        let rows = self.sql.exec(&q, vec![text(user_id), V::Integer(before), V::Integer(limit.into())])?;
        Ok(rows.to_array::<MessageRow>()?.into_iter().map(Into::into).collect())
    }

    /// Applies one of the core's writes. Synchronous: see the module note on atomicity.
    pub fn apply(&self, write: &Write) -> worker::Result<()> {
        match write {
            Write::Message { user_id, message, conversation } => {
                self.sql.exec(
                    "INSERT INTO messages (seq, id, user_id, sender, body, client_msg_id, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    vec![
                        V::Integer(message.seq),
                        text(&message.id),
                        text(user_id),
                        text(message.sender.as_str()),
                        text(&message.message),
                        opt_text(message.client_msg_id.as_deref()),
                        V::Integer(message.at),
                    ],
                )?;
                self.save_conversation(conversation)
            }
            Write::Conversation(conversation) => self.save_conversation(conversation),
        }
    }

    fn save_conversation(&self, c: &Conversation) -> worker::Result<()> {
        // A conversation row exists only once there is a message: nothing to save before that.
        let Some(last) = &c.last else { return Ok(()) };
        self.sql.exec(
            "INSERT INTO conversations (user_id, unread, read_seq, last_preview, last_sender, last_at, last_seq)
             VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT(user_id) DO UPDATE SET unread = excluded.unread, read_seq = excluded.read_seq,
               last_preview = excluded.last_preview, last_sender = excluded.last_sender,
               last_at = excluded.last_at, last_seq = excluded.last_seq",
            vec![
                text(&c.user_id),
                V::Integer(c.unread.into()),
                V::Integer(c.read_seq),
                text(&last.preview),
                text(last.sender.as_str()),
                V::Integer(last.at),
                V::Integer(last.seq),
            ],
        )?;
        Ok(())
    }
}
