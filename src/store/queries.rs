//! The reads the core and the glue need: conversations, messages, the sidebar's views, search,
//! agents and invites. A second `impl Store`, split from `store.rs` along this seam.

use worker::SqlStorageValue as V;

use crate::protocol::MAX_SEND_BYTES;

use super::*;

/// A message's text in bytes, as a column of a message query (`len`).
const BODY_BYTES: &str = "length(CAST(body AS BLOB)) AS len";

/// Wraps a message query (with its `ORDER BY seq {order} LIMIT`, selecting [`BODY_BYTES`]) so
/// that SQLite hands over only the rows a frame could hold: once the texts of the rows before it
/// pass `MAX_SEND_BYTES`, no later row can be sent (its JSON is never shorter than its text), so
/// it is not read out. The first row past the budget is kept: the core, which cuts by the exact
/// JSON, sees that it does not fit and says so (`hasMore`, or a resume too far behind).
fn within_budget(query: &str, order: &str) -> String {
    format!(
        "SELECT * FROM (SELECT *, SUM(len) OVER (ORDER BY seq {order} ROWS UNBOUNDED PRECEDING) AS run FROM ({query}))
         WHERE run - len <= {MAX_SEND_BYTES} ORDER BY seq {order}"
    )
}

/// `list`'s `WHERE` for a view; `?` placeholders for `me` where the view needs it.
fn view_filter(view: ListView) -> &'static str {
    match view {
        ListView::All => "c.status != 'blocked'",
        ListView::Blocked => "c.status = 'blocked'",
        ListView::Open => "c.status = 'open'",
        ListView::Mine => "c.status = 'open' AND c.assignee_id = ?",
        ListView::Unassigned => "c.status = 'open' AND c.assignee_id IS NULL",
        ListView::Snoozed => "c.status = 'snoozed'",
        ListView::Resolved => "c.status = 'resolved'",
    }
}

/// The user's words as an FTS5 query: each quoted (so no character of theirs is syntax), all
/// required, the last one a prefix. `None` when nothing searchable is left.
pub fn fts_query(query: &str) -> Option<String> {
    let words: Vec<String> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(16)
        .map(|w| format!("\"{w}\""))
        .collect();
    let last = words.len().checked_sub(1)?;
    Some(
        words
            .iter()
            .enumerate()
            .map(|(i, w)| if i == last { format!("{w}*") } else { w.clone() })
            .collect::<Vec<_>>()
            .join(" "),
    )
}

impl Store {
    fn one_conversation(&self, filter: &str, value: &str) -> worker::Result<Option<Conversation>> {
        let q = format!(
            "SELECT {CONVERSATION_COLUMNS} FROM visitors v LEFT JOIN conversations c ON c.user_id = v.id WHERE {filter} = ?"
        );
        Ok(first(self.sql.exec(&q, vec![text(value)])?)?.map(conversation))
    }

    pub fn visitor_by_token_hash(&self, token_hash: &str) -> worker::Result<Option<Conversation>> {
        self.one_conversation("v.token_hash", token_hash)
    }

    pub fn conversation(&self, user_id: &str) -> worker::Result<Option<Conversation>> {
        self.one_conversation("v.id", user_id)
    }

    pub fn visitor_by_verified_id(&self, verified_id: &str) -> worker::Result<Option<Conversation>> {
        self.one_conversation("v.verified_id", verified_id)
    }

    /// A page of a sidebar view: conversations whose latest message is older than `before`,
    /// newest first.
    pub fn list(&self, view: ListView, me: &str, before: Option<i64>, limit: u32) -> worker::Result<Vec<Conversation>> {
        let (before, limit) = (V::Integer(before.unwrap_or(MAX_SAFE_SEQ)), V::Integer(limit.into()));
        let q = if view == ListView::All {
            // Every status, newest first: the newest `limit` of each status's range of
            // `conversations_by_status`, merged (no index by `last_seq` alone to maintain).
            let arm = |status: &str| {
                format!(
                    "SELECT * FROM (SELECT {CONVERSATION_COLUMNS} FROM conversations c JOIN visitors v ON v.id = c.user_id
                     WHERE c.status = '{status}' AND c.last_seq < ? ORDER BY c.last_seq DESC LIMIT ?)"
                )
            };
            format!(
                "{} UNION ALL {} UNION ALL {} ORDER BY last_seq DESC LIMIT ?",
                arm("open"),
                arm("snoozed"),
                arm("resolved")
            )
        } else {
            format!(
                "SELECT {CONVERSATION_COLUMNS} FROM conversations c JOIN visitors v ON v.id = c.user_id
                 WHERE {} AND c.last_seq < ? ORDER BY c.last_seq DESC LIMIT ?",
                view_filter(view)
            )
        };
        let args = match view {
            ListView::All => {
                vec![before.clone(), limit.clone(), before.clone(), limit.clone(), before, limit.clone(), limit]
            }
            ListView::Mine => vec![text(me), before, limit],
            _ => vec![before, limit],
        };
        // Read packed (one JSON text): a page is up to 501 rows, the admin's first frame. The
        // rows become JSON after the `LIMIT`, so only those kept are written out.
        let q = format!("SELECT json_array({CONVERSATION_NAMES}) AS r, last_seq AS k FROM ({q})");
        Ok(packed(&self.sql, &q, "k DESC", args)?.into_iter().map(conversation).collect())
    }

    pub fn assigned_to(&self, agent_id: &str, limit: u32) -> worker::Result<Vec<Conversation>> {
        let q = format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations c JOIN visitors v ON v.id = c.user_id
             WHERE c.assignee_id = ? ORDER BY c.last_seq DESC LIMIT ?"
        );
        conversations(self.sql.exec(&q, vec![text(agent_id), V::Integer(limit.into())])?)
    }

    pub fn counts(&self, me: &str) -> worker::Result<Counts> {
        let q = "SELECT SUM(status = 'open') AS open, SUM(status = 'open' AND assignee_id = ?) AS mine,
             SUM(status = 'open' AND assignee_id IS NULL) AS unassigned, SUM(status = 'snoozed') AS snoozed,
             SUM(status = 'resolved') AS resolved, SUM(status = 'blocked') AS blocked FROM conversations";
        let row = first(self.sql.exec(q, vec![text(me)])?)?;
        Ok(row.map_or_else(Counts::default, |r| Counts {
            open: r.count(0),
            mine: r.count(1),
            unassigned: r.count(2),
            snoozed: r.count(3),
            resolved: r.count(4),
            blocked: Some(r.count(5)),
        }))
    }

    /// The best match per conversation, best first (FTS5's rank), at most `limit` conversations:
    /// grouped before the limit, so one chatty conversation cannot crowd out the others. Two
    /// steps, because FTS5's `snippet()` is not allowed in an aggregate: the best row of each
    /// conversation (SQLite takes the bare `rowid` from the row with `MIN(rank)`), then the
    /// snippets of just those rows.
    pub fn search(&self, query: &str, limit: u32) -> worker::Result<Vec<Hit>> {
        let Some(fts) = fts_query(query) else { return Ok(Vec::new()) };
        // Every message stored so far is found, and every visitor's name.
        self.index_messages()?;
        self.index_visitors()?;
        // (user_id, rowid) of each conversation's best row.
        let best: Vec<(String, i64)> = rows(self.sql.exec(
            "SELECT user_id, rowid AS id, MIN(rank) AS r FROM search WHERE search MATCH ?
             GROUP BY user_id ORDER BY r LIMIT ?",
            vec![text(&fts), V::Integer(limit.into())],
        )?)?
        .into_iter()
        .map(|mut r| (r.str(0), r.int(1)))
        .collect();
        if best.is_empty() {
            return Ok(Vec::new());
        }
        let marks = vec!["?"; best.len()].join(", ");
        let q = format!(
            "SELECT rowid AS id, snippet(search, 0, '', '', '…', 12) AS snippet FROM search
             WHERE search MATCH ? AND rowid IN ({marks})"
        );
        let mut args = vec![text(&fts)];
        args.extend(best.iter().map(|b| V::Integer(b.1)));
        let snippets: Vec<(i64, String)> =
            rows(self.sql.exec(&q, args)?)?.into_iter().map(|mut r| (r.int(0), r.str(1))).collect();
        Ok(best
            .into_iter()
            .map(|(user_id, id)| Hit {
                snippet: snippets.iter().find(|s| s.0 == id).map(|s| s.1.clone()).unwrap_or_default(),
                seq: id.max(0),
                user_id,
            })
            .collect())
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

    /// Records a returning visitor: last seen now, and a new display name if one was given.
    pub fn touch_visitor(&self, user_id: &str, name: Option<&str>, now: i64) -> worker::Result<()> {
        self.sql.exec(
            "UPDATE visitors SET last_seen = ?, name = COALESCE(?, name) WHERE id = ?",
            vec![V::Integer(now), opt_text(name), text(user_id)],
        )?;
        Ok(())
    }

    /// The message `author_id` already stored as `sender` in the conversation under `client_msg_id`.
    pub fn duplicate(
        &self,
        user_id: &str,
        sender: Author,
        author_id: &str,
        client_msg_id: &str,
    ) -> worker::Result<Option<WireMessage>> {
        let q = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE user_id = ? AND sender = ? AND author_id = ? AND client_msg_id = ?"
        );
        let rows =
            self.sql.exec(&q, vec![text(user_id), text(sender.as_str()), text(author_id), text(client_msg_id)])?;
        Ok(first(rows)?.and_then(|mut r| message(&mut r, 0)))
    }

    /// Every (kind, author, clientMsgId) stored in a conversation, up to `limit` of them: what the
    /// view's cache holds to answer "not a duplicate" without a statement per message.
    pub fn client_ids(&self, user_id: &str, limit: usize) -> worker::Result<Vec<(Author, String, String)>> {
        let found = self.sql.exec(
            "SELECT sender, author_id, client_msg_id FROM messages
             WHERE user_id = ? AND client_msg_id IS NOT NULL LIMIT ?",
            vec![text(user_id), V::Integer(limit as i64)],
        )?;
        Ok(rows(found)?.into_iter().filter_map(|mut r| Some((Author::parse(&r.str(0))?, r.str(1), r.str(2)))).collect())
    }

    /// Adds the messages stored since the last call to the search index, in one statement (one
    /// index segment for the batch instead of one per message), and moves the mark past them.
    pub fn index_messages(&self) -> worker::Result<()> {
        self.sql.exec(
            "INSERT INTO search (rowid, body, user_id) SELECT seq, body, user_id FROM messages
             WHERE seq > (SELECT value FROM desk_meta WHERE key = 'search_messages') AND sender != 'event'",
            None,
        )?;
        self.sql.exec(
            "UPDATE desk_meta SET value = MAX(value, (SELECT COALESCE(MAX(seq), 0) FROM messages))
             WHERE key = 'search_messages'",
            None,
        )?;
        Ok(())
    }

    /// Adds the names of the visitors created since the last call to the search index, in one
    /// statement, and moves the mark past them (schema v17: one index segment per batch instead
    /// of one per connect). A name changed since its row was made is indexed as it is now.
    pub fn index_visitors(&self) -> worker::Result<()> {
        self.sql.exec(
            "INSERT INTO search (rowid, body, user_id) SELECT -rowid, name, id FROM visitors
             WHERE rowid > (SELECT value FROM desk_meta WHERE key = 'search_visitors');
             UPDATE desk_meta SET value = MAX(value, (SELECT COALESCE(MAX(rowid), 0) FROM visitors))
             WHERE key = 'search_visitors'",
            None,
        )?;
        Ok(())
    }

    /// The `seq` the next message gets: one past the largest ever given (index lookups: the
    /// largest stored, the last indexed for search, and the floor a deletion leaves), so a seq is
    /// never reused, not even after the newest messages were deleted.
    pub fn next_seq(&self) -> worker::Result<i64> {
        let rows = self.sql.exec(
            "SELECT MAX(COALESCE((SELECT MAX(seq) FROM messages), 0),
                        COALESCE((SELECT value FROM desk_meta WHERE key = 'search_messages'), 0),
                        COALESCE((SELECT value FROM desk_meta WHERE key = 'seq_floor'), 0)) + 1 AS v",
            None,
        )?;
        Ok(first(rows)?.map_or(1, |r| r.int(0)))
    }

    /// The desk's epoch: random, made once, changed only if its history is ever reset. `fresh`
    /// is used when there is none yet.
    pub fn epoch(&self, fresh: impl FnOnce() -> worker::Result<String>) -> worker::Result<String> {
        let rows = self.sql.exec("SELECT value AS v FROM desk_info WHERE key = 'epoch'", None)?;
        if let Some(v) = first(rows)?.and_then(|mut r| r.opt_str(0)) {
            return Ok(v);
        }
        let epoch = fresh()?;
        self.sql.exec("INSERT INTO desk_info (key, value) VALUES ('epoch', ?)", vec![text(&epoch)])?;
        Ok(epoch)
    }

    /// Up to `limit` messages a visitor sees in its conversation with `seq > since`, oldest first.
    pub fn messages_after(&self, user_id: &str, since: i64, limit: u32) -> worker::Result<Vec<WireMessage>> {
        let q = within_budget(
            &format!(
                "SELECT {MESSAGE_COLUMNS}, {BODY_BYTES} FROM messages
                 WHERE user_id = ? AND seq > ? AND sender IN ('user', 'admin') ORDER BY seq LIMIT ?"
            ),
            "ASC",
        );
        messages(self.sql.exec(&q, vec![text(user_id), V::Integer(since), V::Integer(limit.into())])?)
    }

    /// Up to `limit` messages, notes and events of the whole desk with `seq > since`, oldest
    /// first, with their conversation: what an agent missed.
    pub fn desk_messages_after(&self, since: i64, limit: u32) -> worker::Result<Vec<(String, WireMessage)>> {
        let q = within_budget(
            &format!(
                "SELECT user_id, {MESSAGE_COLUMNS}, {BODY_BYTES} FROM messages WHERE seq > ? ORDER BY seq LIMIT ?"
            ),
            "ASC",
        );
        let found = rows(self.sql.exec(&q, vec![V::Integer(since), V::Integer(limit.into())])?)?;
        Ok(found.into_iter().filter_map(|mut r| Some((r.str(0), message(&mut r, 1)?))).collect())
    }

    /// Up to `limit` messages of a conversation with `seq < before`, newest first; notes and
    /// events only `for_agents`.
    pub fn messages(
        &self,
        user_id: &str,
        before: Option<i64>,
        limit: u32,
        for_agents: bool,
    ) -> worker::Result<Vec<WireMessage>> {
        let kinds = if for_agents { "" } else { "AND sender IN ('user', 'admin')" };
        let q = within_budget(
            &format!(
                "SELECT {MESSAGE_COLUMNS}, {BODY_BYTES} FROM messages
                 WHERE user_id = ? AND seq < ? {kinds} ORDER BY seq DESC LIMIT ?"
            ),
            "DESC",
        );
        let before = before.unwrap_or(MAX_SAFE_SEQ);
        messages(self.sql.exec(&q, vec![text(user_id), V::Integer(before), V::Integer(limit.into())])?)
    }

    fn agents_where(&self, filter: &str, args: Vec<V>) -> worker::Result<Vec<Agent>> {
        let q = format!("SELECT {AGENT_COLUMNS} FROM agents a WHERE {filter} ORDER BY a.created_at, a.id");
        Ok(rows(self.sql.exec(&q, args)?)?.into_iter().map(|mut r| agent(&mut r).0).collect())
    }

    /// Every agent ever on the team, revoked ones flagged: small, and cached by the object.
    pub fn all_agents(&self) -> worker::Result<Vec<(Agent, bool)>> {
        let q = format!("SELECT {AGENT_COLUMNS} FROM agents a ORDER BY a.created_at, a.id");
        Ok(rows(self.sql.exec(&q, None)?)?.into_iter().map(|mut r| agent(&mut r)).collect())
    }

    pub fn agent_by_token(&self, token_hash: &str) -> worker::Result<Option<Agent>> {
        Ok(self.agents_where("a.token_hash = ? AND a.state = 'active'", vec![text(token_hash)])?.pop())
    }

    fn invite_where(&self, filter: &str, value: &str) -> worker::Result<Option<Invite>> {
        let q = format!(
            "SELECT {AGENT_COLUMNS}, i.code_hash, i.expires_at FROM invites i JOIN agents a ON a.id = i.agent_id
             WHERE a.state = 'pending' AND {filter} = ?"
        );
        let row = first(self.sql.exec(&q, vec![text(value)])?)?;
        Ok(row.map(|mut r| Invite { agent: agent(&mut r).0, code_hash: r.str(6), expires_at: r.int(7) }))
    }

    pub fn invite(&self, code_hash: &str) -> worker::Result<Option<Invite>> {
        self.invite_where("i.code_hash", code_hash)
    }

    pub fn invite_by_email(&self, email: &str) -> worker::Result<Option<Invite>> {
        self.invite_where("a.email", email)
    }

    /// Snoozed conversations whose time has come, oldest first, at most `limit`.
    pub fn due(&self, now: i64, limit: u32) -> worker::Result<Vec<Conversation>> {
        let q = format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations c JOIN visitors v ON v.id = c.user_id
             WHERE c.snoozed_until IS NOT NULL AND c.snoozed_until <= ? AND c.status = 'snoozed'
             ORDER BY c.snoozed_until LIMIT ?"
        );
        conversations(self.sql.exec(&q, vec![V::Integer(now), V::Integer(limit.into())])?)
    }

    /// When the next snoozed conversation reopens.
    pub fn next_due(&self) -> worker::Result<Option<i64>> {
        let q =
            "SELECT MIN(snoozed_until) AS v FROM conversations WHERE snoozed_until IS NOT NULL AND status = 'snoozed'";
        Ok(first(self.sql.exec(q, None)?)?.and_then(|r| r.opt_int(0)))
    }
}
