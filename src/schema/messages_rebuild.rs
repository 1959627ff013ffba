//! v19's rebuild of `messages` without the `UNIQUE` on `id`: the statements, and when a desk
//! runs them (only where the copy is bounded). `Store::open` asks after every open.

/// Rebuilds `messages` without v4's `UNIQUE` on `id` (see v19), keeping every row, index and
/// trigger, and clears the flag. Safe to run again after a failure at any step that can fail for
/// want of space (the copy): a half-filled `messages_v19` is dropped first, and nothing of
/// `messages` is touched until the copy is whole. After `DROP TABLE messages` come only the
/// rename, which writes the schema, and the indexes, which reuse the pages the drop freed.
pub const MESSAGES_REBUILD: &str = concat!(
    "DROP TABLE IF EXISTS messages_v19;
     CREATE TABLE messages_v19 (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL,
        user_id TEXT NOT NULL REFERENCES visitors(id),
        sender TEXT NOT NULL CHECK (sender IN ('user', 'admin', 'note', 'event')),
        body TEXT NOT NULL,
        client_msg_id TEXT,
        at INTEGER NOT NULL,
        author_id TEXT NOT NULL,
        author_name TEXT,
        meta TEXT,
        attachment TEXT
     );
     INSERT INTO messages_v19 (seq, id, user_id, sender, body, client_msg_id, at, author_id, author_name, meta, attachment)
        SELECT seq, id, user_id, sender, body, client_msg_id, at, author_id, author_name, meta, attachment FROM messages;
     DROP TABLE messages;
     ALTER TABLE messages_v19 RENAME TO messages;
     CREATE INDEX messages_by_user ON messages(user_id, seq);
     CREATE UNIQUE INDEX messages_by_client_id
        ON messages(user_id, sender, author_id, client_msg_id) WHERE client_msg_id IS NOT NULL;
     ",
    messages_unsearch!(),
    "\n     ",
    messages_conversation!(),
    "\n     UPDATE desk_meta SET value = 0 WHERE key = 'messages_id_unique';"
);

/// Whether `messages` still has v4's `UNIQUE` on `id` (1) and how many messages it could hold at
/// most (the seq span, two index lookups where a count would read every row).
pub const MESSAGES_REBUILD_STATE: &str =
    "SELECT COALESCE((SELECT value FROM desk_meta WHERE key = 'messages_id_unique'), 0),
    COALESCE((SELECT MAX(seq) FROM messages) - (SELECT MIN(seq) FROM messages) + 1, 0)";

/// The most messages a rebuild copies: 200,000 took 1.2 s on this machine's SQLite (file, WAL,
/// the commit included; docs/performance.md), once per desk. A bigger desk keeps the index
/// (nothing depends on it) until retention brings it under: a copy past this could outrun the
/// runtime's CPU limit for one event, then retry, and fail, at every open.
pub const MESSAGES_REBUILD_MAX: i64 = 200_000;

/// Whether to run `MESSAGES_REBUILD` now, from `MESSAGES_REBUILD_STATE`'s answer.
pub fn messages_rebuild_due(unique_flag: i64, seq_span: i64) -> bool {
    unique_flag == 1 && seq_span <= MESSAGES_REBUILD_MAX
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flagged_desk_is_rebuilt_only_while_the_copy_is_bounded() {
        assert!(messages_rebuild_due(1, 0), "a new desk: nothing to copy");
        assert!(messages_rebuild_due(1, MESSAGES_REBUILD_MAX));
        assert!(!messages_rebuild_due(1, MESSAGES_REBUILD_MAX + 1), "too many to copy in one event");
        assert!(!messages_rebuild_due(0, 10), "already rebuilt");
    }
}
