//! Tickets in SQLite (`desk::ticket`): stored by hash, deleted when used, dropped once expired.
//! A third `impl Store`, split from `store.rs` along this seam.

use worker::SqlStorageValue as V;

use super::*;
use crate::desk::ticket::{Holder, Live, Ticket};

impl Store {
    /// Stores a new ticket's hash; tickets that expired by `now` go first (so the table holds
    /// only what is alive, at most `MAX_LIVE_TICKETS` rows).
    pub(super) fn issue_ticket(&self, t: &Ticket, now: i64) -> worker::Result<()> {
        self.sql.exec("DELETE FROM tickets WHERE expires_at <= ?", vec![V::Integer(now)])?;
        let (kind, subject) = match &t.holder {
            Holder::Agent { id } => ("agent", Some(id.as_str())),
            Holder::Visitor { user_id } => ("visitor", Some(user_id.as_str())),
            Holder::Verified { id } => ("verified", Some(id.as_str())),
            Holder::NewVisitor => ("new", None),
        };
        self.sql.exec(
            "INSERT INTO tickets (hash, kind, subject, name, address_hash, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
            vec![
                text(&t.hash),
                text(kind),
                opt_text(subject),
                opt_text(t.name.as_deref()),
                opt_text(t.address.as_deref()),
                V::Integer(t.expires_at),
            ],
        )?;
        Ok(())
    }

    pub(super) fn consume_ticket(&self, hash: &str) -> worker::Result<()> {
        self.sql.exec("DELETE FROM tickets WHERE hash = ?", vec![text(hash)])?;
        Ok(())
    }

    /// The ticket stored under `hash`, expired or not. A row that does not read back as a
    /// ticket (an unknown kind) is no ticket.
    pub fn ticket(&self, hash: &str) -> worker::Result<Option<Ticket>> {
        let rows = self.sql.exec(
            "SELECT hash, kind, subject, name, address_hash, expires_at FROM tickets WHERE hash = ?",
            vec![text(hash)],
        )?;
        Ok(first(rows)?.and_then(|mut r| {
            let holder = match (r.str(1).as_str(), r.opt_str(2)) {
                ("agent", Some(id)) => Holder::Agent { id },
                ("visitor", Some(user_id)) => Holder::Visitor { user_id },
                ("verified", Some(id)) => Holder::Verified { id },
                ("new", _) => Holder::NewVisitor,
                _ => return None,
            };
            Some(Ticket { hash: r.str(0), holder, name: r.opt_str(3), address: r.opt_str(4), expires_at: r.int(5) })
        }))
    }

    /// Unused tickets that expire after `now`: for this address, and in the whole desk.
    pub fn live_tickets(&self, address: Option<&str>, now: i64) -> worker::Result<Live> {
        let rows = self.sql.exec(
            "SELECT SUM(address_hash = ?) AS address, COUNT(*) AS desk FROM tickets WHERE expires_at > ?",
            vec![opt_text(address), V::Integer(now)],
        )?;
        Ok(first(rows)?.map_or_else(Live::default, |r| Live { address: r.count(0), desk: r.count(1) }))
    }
}
