//! The desk's SQLite schema as its history: one migration per version, never edited once
//! shipped (a stored desk has run it); a change is a new entry at the end. `Store::open` runs
//! the ones a desk has not run yet. Plain text, so host tests run it on SQLite (tests/schema.rs),
//! with the statements that keep the derived `mail_due` column true. Two triggers are written
//! once, as macros, for the migration that created them and for v19's rebuild of `messages`
//! (`schema::messages_rebuild`); tests/schema.rs pins every shipped migration's text.

/// The trigger that removes a deleted message's search entry (v6), as v6 created it and as the
/// rebuild of `messages` (`MESSAGES_REBUILD`) creates it again: one text for both.
macro_rules! messages_unsearch {
    () => {
        "CREATE TRIGGER messages_unsearch AFTER DELETE ON messages WHEN old.sender != 'event' BEGIN
        DELETE FROM search WHERE rowid = old.seq;
     END;"
    };
}

/// The trigger that keeps a message's conversation row (v18's version), as v18 created it and as
/// the rebuild of `messages` creates it again.
macro_rules! messages_conversation {
    () => {
        "CREATE TRIGGER messages_conversation AFTER INSERT ON messages WHEN new.sender IN ('user', 'admin') BEGIN
        INSERT INTO conversations (user_id, unread, read_seq, last_preview, last_sender, last_at, last_seq, created_at,
                                   day, day_bytes, reply_seq, reply_at, wait_seq, wait_at, mail_due)
        VALUES (new.user_id, new.sender = 'user', 0, substr(new.body, 1, 140), new.sender, new.at, new.seq, new.at,
                CASE WHEN new.sender = 'user' THEN new.at / 86400000 ELSE 0 END,
                CASE WHEN new.sender = 'user' THEN length(CAST(new.body AS BLOB)) ELSE 0 END,
                CASE WHEN new.sender = 'admin' AND new.meta IS NULL THEN new.seq ELSE 0 END,
                CASE WHEN new.sender = 'admin' AND new.meta IS NULL THEN new.at ELSE 0 END,
                CASE WHEN new.sender = 'user' THEN new.seq ELSE 0 END,
                CASE WHEN new.sender = 'user' THEN new.at ELSE 0 END,
                new.sender = 'user' OR new.meta IS NULL)
        ON CONFLICT(user_id) DO UPDATE SET unread = unread + excluded.unread,
          last_preview = excluded.last_preview, last_sender = excluded.last_sender,
          last_at = excluded.last_at, last_seq = excluded.last_seq,
          day_bytes = CASE WHEN excluded.unread = 0 THEN day_bytes
            WHEN day = excluded.day THEN day_bytes + excluded.day_bytes ELSE excluded.day_bytes END,
          day = CASE WHEN excluded.unread = 0 THEN day ELSE excluded.day END,
          reply_seq = CASE WHEN excluded.reply_seq != 0 THEN excluded.reply_seq ELSE reply_seq END,
          reply_at = CASE WHEN excluded.reply_seq != 0 THEN excluded.reply_at ELSE reply_at END,
          wait_at = CASE WHEN excluded.reply_seq != 0 THEN 0
            WHEN excluded.wait_seq != 0 AND wait_seq = 0 THEN excluded.wait_at ELSE wait_at END,
          wait_seq = CASE WHEN excluded.reply_seq != 0 THEN 0
            WHEN excluded.wait_seq != 0 AND wait_seq = 0 THEN excluded.wait_seq ELSE wait_seq END;
        UPDATE conversations SET mail_due = 1
        WHERE user_id = new.user_id AND mail_due = 0 AND (reply_seq > mailed_seq OR wait_seq > told_seq);
     END;"
    };
}

/// Each entry moves the schema one version up; applied in order, each exactly once.
pub const MIGRATIONS: &[&str] = &[
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
    concat!(
        messages_unsearch!(),
        "
     CREATE TRIGGER visitors_unsearch AFTER DELETE ON visitors BEGIN
        DELETE FROM search WHERE rowid = -old.rowid;
     END;
     CREATE INDEX visitors_by_seen ON visitors(last_seen);"
    ),
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
    // v10: attachments (`desk::attachment`). A message may carry a file (`attachment`, its JSON
    // as the wire has it); each file has a row (its conversation and R2 key, for the URL, the
    // limits and deletion: by conversation for its bytes, by uploader and time for the upload
    // rate). Deleting a conversation moves its files' keys to `attachment_trash` in the same
    // write; the alarm removes them from R2, then from the trash.
    "ALTER TABLE messages ADD COLUMN attachment TEXT;
     CREATE TABLE attachments (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        key TEXT NOT NULL,
        name TEXT NOT NULL,
        size INTEGER NOT NULL,
        type TEXT NOT NULL,
        uploader TEXT NOT NULL,
        at INTEGER NOT NULL
     ) WITHOUT ROWID;
     CREATE INDEX attachments_by_user ON attachments(user_id);
     CREATE INDEX attachments_by_uploader ON attachments(uploader, at);
     CREATE TABLE attachment_trash (key TEXT PRIMARY KEY) WITHOUT ROWID;",
    // v11: who and where each visitor is (`desk::context`): first seen, visits, the latest page
    // reported, what the desk saw at connect, this visit's pages and a verified visitor's
    // attributes (JSON text, read and written whole); gone with the visitor (trigger). Visitors
    // already known start with one visit, seen first when they were created. And the desk's saved
    // replies (`desk::saved_replies`), shortcuts unique.
    "CREATE TABLE visitor_context (
        user_id TEXT PRIMARY KEY,
        first_seen INTEGER NOT NULL,
        visits INTEGER NOT NULL,
        visit_started INTEGER NOT NULL,
        last_active INTEGER NOT NULL,
        page TEXT,
        device TEXT NOT NULL,
        pages TEXT NOT NULL,
        attributes TEXT
     ) WITHOUT ROWID;
     INSERT INTO visitor_context (user_id, first_seen, visits, visit_started, last_active, device, pages)
        SELECT id, created_at, 1, last_seen, last_seen, '{}', '[]' FROM visitors;
     CREATE TRIGGER visitors_forget_context AFTER DELETE ON visitors BEGIN
        DELETE FROM visitor_context WHERE user_id = old.id;
     END;
     CREATE TABLE saved_replies (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        shortcut TEXT NOT NULL UNIQUE,
        body TEXT NOT NULL,
        updated_at INTEGER NOT NULL
     ) WITHOUT ROWID;",
    // v12: the visitor's seen mark (`desk::seen`), beside the agents' read mark: the highest seq
    // its widget has shown on screen. Written only when it rises.
    "ALTER TABLE conversations ADD COLUMN seen_seq INTEGER NOT NULL DEFAULT 0;",
    // v13: honest availability (`desk::availability`): agents' own status, the email a visitor
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
    // (h14e) email (`desk::notify`, `store::mail`): per conversation, the latest agent reply and
    // what of it was mailed, the visitor's current wait (its first unanswered message) and
    // whether that wait was reported unanswered, and when the visitor's last socket closed; kept
    // by a trigger in the same statement as each message (the away message is no reply). Rows
    // with something not yet handled are found through a partial index. Visitors who
    // unsubscribed; agents' opt-in and the address their alerts go to; every email sent or
    // refused, for the limits and the record.
    "CREATE TABLE mail_state (
        user_id TEXT PRIMARY KEY,
        reply_seq INTEGER NOT NULL DEFAULT 0,
        reply_at INTEGER NOT NULL DEFAULT 0,
        mailed_seq INTEGER NOT NULL DEFAULT 0,
        wait_seq INTEGER NOT NULL DEFAULT 0,
        wait_at INTEGER NOT NULL DEFAULT 0,
        told_seq INTEGER NOT NULL DEFAULT 0,
        left_at INTEGER
     ) WITHOUT ROWID;
     CREATE INDEX mail_pending ON mail_state(user_id) WHERE reply_seq > mailed_seq OR wait_seq > told_seq;
     CREATE TRIGGER messages_mail AFTER INSERT ON messages
        WHEN new.sender = 'user' OR (new.sender = 'admin' AND new.meta IS NULL) BEGIN
        INSERT INTO mail_state (user_id, reply_seq, reply_at, wait_seq, wait_at)
        VALUES (new.user_id,
                CASE WHEN new.sender = 'admin' THEN new.seq ELSE 0 END,
                CASE WHEN new.sender = 'admin' THEN new.at ELSE 0 END,
                CASE WHEN new.sender = 'user' THEN new.seq ELSE 0 END,
                CASE WHEN new.sender = 'user' THEN new.at ELSE 0 END)
        ON CONFLICT(user_id) DO UPDATE SET
          reply_seq = CASE WHEN new.sender = 'admin' THEN new.seq ELSE reply_seq END,
          reply_at = CASE WHEN new.sender = 'admin' THEN new.at ELSE reply_at END,
          wait_at = CASE WHEN new.sender = 'admin' THEN 0 WHEN wait_seq = 0 THEN new.at ELSE wait_at END,
          wait_seq = CASE WHEN new.sender = 'admin' THEN 0 WHEN wait_seq = 0 THEN new.seq ELSE wait_seq END;
     END;
     CREATE TRIGGER visitors_forget_mail AFTER DELETE ON visitors BEGIN
        DELETE FROM mail_state WHERE user_id = old.id;
     END;
     ALTER TABLE visitors ADD COLUMN unsubscribed INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE agents ADD COLUMN alert_unanswered INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE agents ADD COLUMN alert_email TEXT;
     CREATE TABLE mail_log (
        at INTEGER NOT NULL,
        kind TEXT NOT NULL,
        recipient TEXT NOT NULL,
        user_id TEXT,
        status TEXT NOT NULL
     );
     CREATE INDEX mail_log_by_at ON mail_log(at);
     CREATE INDEX mail_log_by_user ON mail_log(user_id, at);",
    // Webhooks (`desk::webhooks`): the endpoints (events as a comma list), the outbox of
    // deliveries (written with the fact that caused them; a row goes only once delivered or given
    // up; the lowest id per endpoint and conversation goes first) and the delivery log (the newest
    // rows, trimmed on insert).
    "CREATE TABLE webhooks (
        id TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        events TEXT NOT NULL,
        format TEXT NOT NULL,
        enabled INTEGER NOT NULL,
        secret TEXT NOT NULL,
        created_at INTEGER NOT NULL
     ) WITHOUT ROWID;
     CREATE TABLE webhook_outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        endpoint_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        event TEXT NOT NULL,
        user_id TEXT NOT NULL,
        body TEXT NOT NULL,
        queued_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at INTEGER NOT NULL
     );
     CREATE INDEX webhook_outbox_by_endpoint ON webhook_outbox(endpoint_id, user_id, id);
     CREATE TABLE webhook_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        endpoint_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        event TEXT NOT NULL,
        status TEXT NOT NULL,
        code INTEGER,
        error TEXT,
        attempts INTEGER NOT NULL,
        at INTEGER NOT NULL
     );",
    // Web Push to agents (`desk::push`, `desk_object/push.rs`): agents' browser subscriptions
    // (one row per endpoint: one browser), each conversation's batch waiting for its window to
    // end, and the pushes waiting to be sent or retried. A subscription that goes takes its
    // pending pushes; a visitor deleted takes its batches and pushes (their text is theirs).
    "CREATE TABLE push_subscriptions (
        endpoint TEXT PRIMARY KEY,
        agent_id TEXT NOT NULL,
        p256dh TEXT NOT NULL,
        auth TEXT NOT NULL,
        created_at INTEGER NOT NULL
     ) WITHOUT ROWID;
     CREATE INDEX push_subscriptions_by_agent ON push_subscriptions(agent_id);
     CREATE TABLE push_batches (
        user_id TEXT NOT NULL,
        event TEXT NOT NULL,
        name TEXT NOT NULL,
        body TEXT NOT NULL,
        count INTEGER NOT NULL,
        due_at INTEGER NOT NULL,
        PRIMARY KEY (user_id, event)
     ) WITHOUT ROWID;
     CREATE INDEX push_batches_by_due ON push_batches(due_at);
     CREATE TABLE push_outbox (
        id INTEGER PRIMARY KEY,
        endpoint TEXT NOT NULL,
        user_id TEXT NOT NULL,
        payload TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        due_at INTEGER NOT NULL
     );
     CREATE INDEX push_outbox_by_due ON push_outbox(due_at);
     CREATE TRIGGER push_subscription_gone AFTER DELETE ON push_subscriptions BEGIN
        DELETE FROM push_outbox WHERE endpoint = old.endpoint;
     END;
     CREATE TRIGGER push_visitor_gone AFTER DELETE ON visitors BEGIN
        DELETE FROM push_batches WHERE user_id = old.id;
        DELETE FROM push_outbox WHERE user_id = old.id;
     END;",
    // v17: cheaper connects. A new visitor's name was indexed for search by a trigger in the
    // same statement as its row: a new FTS5 segment at every connect's commit (issue 12's
    // profile: the costliest part of a connect). Names are now indexed in batches like messages
    // (`Store::index_visitors`: before every search, and every `SEARCH_BATCH` new visitors), so a
    // search still finds every visitor stored before it. `search_visitors` is the highest visitor
    // rowid indexed; a rename is indexed at once only for an indexed row (a row above the mark
    // is indexed with its name of the moment). Visitors' rowids can be reused after the newest
    // row is deleted: a deletion lowers the mark to the highest row left if that is below it
    // (every row up to there is indexed, none above it exists), so a reused rowid is above it.
    "DROP TRIGGER visitors_search;
     DROP TRIGGER visitors_rename;
     INSERT INTO desk_meta (key, value) SELECT 'search_visitors', COALESCE(MAX(rowid), 0) FROM visitors;
     CREATE TRIGGER visitors_rename AFTER UPDATE OF name ON visitors WHEN new.name != old.name
        AND new.rowid <= (SELECT value FROM desk_meta WHERE key = 'search_visitors') BEGIN
        DELETE FROM search WHERE rowid = -new.rowid;
        INSERT INTO search (rowid, body, user_id) VALUES (-new.rowid, new.name, new.id);
     END;
     CREATE TRIGGER visitors_search_mark AFTER DELETE ON visitors BEGIN
        UPDATE desk_meta SET value = MIN(value, COALESCE((SELECT MAX(rowid) FROM visitors), 0))
        WHERE key = 'search_visitors';
     END;",
    // v18: cheaper messages. Each message's mail state (see the email entry above) moves into its
    // conversation's row, which the same statement writes anyway, and the index of conversations
    // with mail work is on a flag (`mail_due`) that changes only when that work appears or is
    // done, not with every message: a stored message no longer writes a `mail_state` row and its
    // partial index entry (two of ~10 pages per commit; docs/performance.md, "The message path
    // at a low rate"). `mail_due` is 1 exactly when `reply_seq > mailed_seq OR wait_seq >
    // told_seq`: set here when a message makes it so, recomputed where mailed/told move
    // (`store::mail`). State of conversations already deleted (no row) had nothing left to mail.
    concat!(
        "ALTER TABLE conversations ADD COLUMN reply_seq INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE conversations ADD COLUMN reply_at INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE conversations ADD COLUMN mailed_seq INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE conversations ADD COLUMN wait_seq INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE conversations ADD COLUMN wait_at INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE conversations ADD COLUMN told_seq INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE conversations ADD COLUMN left_at INTEGER;
     ALTER TABLE conversations ADD COLUMN mail_due INTEGER NOT NULL DEFAULT 0;
     UPDATE conversations SET reply_seq = m.reply_seq, reply_at = m.reply_at, mailed_seq = m.mailed_seq,
        wait_seq = m.wait_seq, wait_at = m.wait_at, told_seq = m.told_seq, left_at = m.left_at,
        mail_due = (m.reply_seq > m.mailed_seq OR m.wait_seq > m.told_seq)
        FROM mail_state m WHERE m.user_id = conversations.user_id;
     DROP TRIGGER messages_mail;
     DROP TRIGGER visitors_forget_mail;
     DROP TABLE mail_state;
     CREATE INDEX conversations_mail_due ON conversations(user_id) WHERE mail_due = 1;
     DROP TRIGGER messages_conversation;
     ",
        messages_conversation!()
    ),
    // v19: the `UNIQUE` on `messages.id` is to go. No statement reads a message by its id (ids
    // are 122 random bits, unique without an index), and the index cost every stored message a
    // write at a random leaf: 1.35 of ~8.3 pages per commit (docs/performance.md, "The floor").
    // SQLite cannot drop a column's constraint, so `messages` is rebuilt (`MESSAGES_REBUILD`),
    // which copies every message: a flag only here, and the rebuild runs where that copy is
    // bounded (`messages_rebuild_due`), at this open or a later one.
    "INSERT INTO desk_meta (key, value) VALUES ('messages_id_unique', 1);",
];

/// An agent reply up to `?1` was handled (mailed or passed over) for conversation `?2`; the row
/// stays flagged (`mail_due`) only while work is left (schema v18).
pub const MAIL_MARK_MAILED: &str = "UPDATE conversations SET mailed_seq = MAX(mailed_seq, ?1),
    mail_due = (reply_seq > MAX(mailed_seq, ?1) OR wait_seq > told_seq) WHERE user_id = ?2";

/// The wait that began at `?1` was reported unanswered for conversation `?2`; the flag as above.
pub const MAIL_MARK_TOLD: &str = "UPDATE conversations SET told_seq = MAX(told_seq, ?1),
    mail_due = (reply_seq > mailed_seq OR wait_seq > MAX(told_seq, ?1)) WHERE user_id = ?2";

// After the macros it uses (textual scope).
mod messages_rebuild;
pub use messages_rebuild::{messages_rebuild_due, MESSAGES_REBUILD, MESSAGES_REBUILD_MAX, MESSAGES_REBUILD_STATE};
