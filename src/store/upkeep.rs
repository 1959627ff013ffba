//! Upkeep of what a desk stores: how big its database is (for the storage budget), which
//! conversations retention has made due. A third `impl Store`, split from `store.rs` along this
//! seam.
//!
//! Due conversations are found without an index on `last_at` (every message would pay for
//! keeping one): `seq` grows with time, so the first `seq` written at or after the cutoff is found
//! by bisection with O(log n) point lookups on the primary key, and the conversations whose
//! latest message comes before it are the oldest rows of each status range of
//! `conversations_by_status`.

use worker::SqlStorageValue as V;

use super::*;

/// Every status a conversation row can have: each is one range of `conversations_by_status`.
const STATUSES: [&str; 4] = ["open", "snoozed", "resolved", "blocked"];

impl Store {
    /// Bytes of the database in use: its size less the free pages deletions left, when SQLite
    /// is allowed to tell them (else its whole size: deleting then frees room only as pages are
    /// reused, which is what new writes do first anyway). `page_size` is the database's page
    /// size as the caller last read it (`None`: not read yet, read here only when free pages
    /// need it): it is fixed when the database is created (only a `VACUUM`, which a Durable
    /// Object cannot run, would change it), so an instance reads it at most once.
    pub fn size(&self, page_size: &mut Option<i64>) -> u64 {
        let total = self.sql.database_size() as u64;
        let pragma = |name: &str| -> Option<i64> {
            let rows = self.sql.exec(&format!("PRAGMA {name}"), None).ok()?;
            first(rows).ok()??.opt_int(0)
        };
        let free = match pragma("freelist_count") {
            Some(pages) if pages > 0 => {
                if page_size.is_none() {
                    *page_size = pragma("page_size").filter(|size| *size > 0);
                }
                page_size.map_or(0, |size| (pages * size) as u64)
            }
            _ => 0,
        };
        total.saturating_sub(free)
    }

    /// The first message with `seq >= from`: its `seq` and time.
    fn first_from(&self, from: i64) -> worker::Result<Option<(i64, i64)>> {
        let rows = self
            .sql
            .exec("SELECT seq, at FROM messages WHERE seq >= ? ORDER BY seq LIMIT 1", vec![V::Integer(from)])?;
        Ok(first(rows)?.map(|r| (r.int(0), r.int(1))))
    }

    /// The first `seq` written at or after `at` (one past the last if none): every message before
    /// it is older than `at`. Bisection over `seq`, about log2(seq) point lookups.
    pub fn first_seq_since(&self, at: i64) -> worker::Result<i64> {
        let (mut lo, mut hi) = (1, self.next_seq()?);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.first_from(mid)? {
                Some((seq, when)) if when < at => lo = (seq + 1).min(hi),
                _ => hi = mid,
            }
        }
        Ok(lo)
    }

    /// Up to `limit` conversations whose latest message comes before `before_seq` and `before_at`,
    /// oldest first: the oldest rows of each status's range of `conversations_by_status`, merged
    /// (no index by `last_seq` alone: every message would have to maintain it).
    pub fn expired_conversations(
        &self,
        before_seq: i64,
        before_at: i64,
        limit: u32,
    ) -> worker::Result<Vec<Conversation>> {
        let arm = |status: &str| {
            format!(
                "SELECT * FROM (SELECT {CONVERSATION_COLUMNS} FROM conversations c JOIN visitors v ON v.id = c.user_id
                 WHERE c.status = '{status}' AND c.last_seq < ? AND c.last_at < ? ORDER BY c.last_seq LIMIT ?)"
            )
        };
        let q = format!("{} ORDER BY last_seq LIMIT ?", STATUSES.map(arm).join(" UNION ALL "));
        let mut args = Vec::new();
        for _ in STATUSES {
            args.extend([V::Integer(before_seq), V::Integer(before_at), V::Integer(limit.into())]);
        }
        args.push(V::Integer(limit.into()));
        conversations(self.sql.exec(&q, args)?)
    }

    /// Up to `limit` visitors who never wrote (no conversation) and were last seen before `at`,
    /// oldest first (through `visitors_by_seen`).
    pub fn idle_visitors(&self, at: i64, limit: u32) -> worker::Result<Vec<Conversation>> {
        let q = format!(
            "SELECT {CONVERSATION_COLUMNS} FROM visitors v LEFT JOIN conversations c ON c.user_id = v.id
             WHERE v.last_seen < ? AND c.user_id IS NULL ORDER BY v.last_seen LIMIT ?"
        );
        conversations(self.sql.exec(&q, vec![V::Integer(at), V::Integer(limit.into())])?)
    }

    /// The earliest moment anything stored was last touched: the oldest conversation's latest
    /// message, or the oldest last visit (a lower bound). `None`: nothing stored.
    pub fn oldest_activity(&self) -> worker::Result<Option<i64>> {
        let oldest = |status: &str| {
            format!("SELECT * FROM (SELECT last_at, last_seq FROM conversations WHERE status = '{status}' ORDER BY last_seq LIMIT 1)")
        };
        let q = format!(
            "SELECT MIN(COALESCE((SELECT last_at FROM ({}) ORDER BY last_seq LIMIT 1), 9007199254740991),
                        COALESCE((SELECT MIN(last_seen) FROM visitors), 9007199254740991)) AS v",
            STATUSES.map(oldest).join(" UNION ALL ")
        );
        let v = first(self.sql.exec(&q, None)?)?.and_then(|r| r.opt_int(0));
        Ok(v.filter(|v| *v < MAX_SAFE_SEQ))
    }
}
