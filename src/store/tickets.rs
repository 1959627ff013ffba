//! Tickets in SQLite (`desk::ticket`): stored by hash, deleted when used, dropped once expired.
//! A third `impl Store`, split from `store.rs` along this seam.

use worker::SqlStorageValue as V;

use super::*;
use crate::desk::ticket::{Holder, Live, Ticket};

#[derive(Deserialize)]
struct TicketRow {
    hash: String,
    kind: String,
    subject: Option<String>,
    name: Option<String>,
    address_hash: Option<String>,
    expires_at: i64,
}

#[derive(Deserialize)]
struct LiveRow {
    address: Option<i64>,
    desk: Option<i64>,
}

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
        Ok(rows.to_array::<TicketRow>()?.pop().and_then(|r| {
            let holder = match (r.kind.as_str(), r.subject) {
                ("agent", Some(id)) => Holder::Agent { id },
                ("visitor", Some(user_id)) => Holder::Visitor { user_id },
                ("verified", Some(id)) => Holder::Verified { id },
                ("new", _) => Holder::NewVisitor,
                _ => return None,
            };
            Some(Ticket { hash: r.hash, holder, name: r.name, address: r.address_hash, expires_at: r.expires_at })
        }))
    }

    /// Unused tickets that expire after `now`: for this address, and in the whole desk.
    pub fn live_tickets(&self, address: Option<&str>, now: i64) -> worker::Result<Live> {
        let rows = self.sql.exec(
            "SELECT SUM(address_hash = ?) AS address, COUNT(*) AS desk FROM tickets WHERE expires_at > ?",
            vec![opt_text(address), V::Integer(now)],
        )?;
        let row = rows.to_array::<LiveRow>()?.pop();
        let n = |v: Option<i64>| v.unwrap_or(0).clamp(0, u32::MAX.into()) as u32;
        Ok(row.map_or_else(Live::default, |r| Live { address: n(r.address), desk: n(r.desk) }))
    }
}
