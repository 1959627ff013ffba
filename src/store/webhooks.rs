//! What webhooks store: endpoints, the outbox of deliveries and the delivery log (schema: the
//! webhooks migration). The outbox is written with the fact that caused each delivery (same
//! synchronous run: one implicit transaction); a row leaves it only once delivered or given up.

use worker::SqlStorageValue as V;

use super::{first, opt_text, rows, text, Store};
use crate::desk::webhooks::{Delivery, Endpoint};
use crate::protocol::webhooks::{DeliveryLog, DeliveryStatus, WEBHOOK_LOG_KEEP};
use crate::protocol::{WebhookEvent, WebhookFormat};

/// A delivery due now, with where it goes.
#[derive(Debug, Clone)]
pub struct Due {
    pub id: i64,
    pub endpoint_id: String,
    pub event_id: String,
    pub event: String,
    pub body: String,
    pub queued_at: i64,
    pub attempts: i64,
    pub url: String,
    pub secret: String,
}

/// The head of each endpoint's queue per conversation: only it may be sent (order per conversation).
const HEADS: &str = "SELECT MIN(id) FROM webhook_outbox GROUP BY endpoint_id, user_id";

impl Store {
    pub(super) fn save_webhook(&self, e: &Endpoint, now: i64) -> worker::Result<()> {
        let events: Vec<&str> = e.events.iter().map(|e| e.as_str()).collect();
        self.sql.exec(
            "INSERT INTO webhooks (id, url, events, format, enabled, secret, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT(id) DO UPDATE SET url = excluded.url, events = excluded.events, format = excluded.format,
                enabled = excluded.enabled, secret = excluded.secret",
            vec![
                text(&e.id),
                text(&e.url),
                text(&events.join(",")),
                text(e.format.as_str()),
                V::Integer(i64::from(e.enabled)),
                text(&e.secret),
                V::Integer(now),
            ],
        )?;
        Ok(())
    }

    pub(super) fn delete_webhook(&self, id: &str) -> worker::Result<()> {
        self.sql.exec("DELETE FROM webhook_outbox WHERE endpoint_id = ?", vec![text(id)])?;
        self.sql.exec("DELETE FROM webhooks WHERE id = ?", vec![text(id)])?;
        Ok(())
    }

    pub(super) fn queue_delivery(&self, d: &Delivery) -> worker::Result<()> {
        self.sql.exec(
            "INSERT INTO webhook_outbox (endpoint_id, event_id, event, user_id, body, queued_at, next_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
            vec![
                text(&d.endpoint_id),
                text(&d.event_id),
                text(d.event.as_str()),
                text(&d.user_id),
                text(&d.body),
                V::Integer(d.at),
                V::Integer(d.at),
            ],
        )?;
        Ok(())
    }

    /// A conversation deleted: its deliveries not yet sent go with it.
    pub(super) fn forget_deliveries(&self, user_id: &str) -> worker::Result<()> {
        self.sql.exec("DELETE FROM webhook_outbox WHERE user_id = ?", vec![text(user_id)])?;
        Ok(())
    }

    /// Adds a log row and keeps only the newest [`WEBHOOK_LOG_KEEP`].
    pub fn log_delivery(&self, l: &DeliveryLog) -> worker::Result<()> {
        self.sql.exec(
            "INSERT INTO webhook_log (endpoint_id, event_id, event, status, code, error, attempts, at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                text(&l.endpoint_id),
                text(&l.event_id),
                text(l.event.as_str()),
                text(l.status.as_str()),
                l.code.map_or(V::Null, |c| V::Integer(i64::from(c))),
                opt_text(l.error.as_deref()),
                V::Integer(i64::from(l.attempts)),
                V::Integer(l.at),
            ],
        )?;
        self.sql.exec(
            "DELETE FROM webhook_log WHERE id <= (SELECT MAX(id) FROM webhook_log) - ?",
            vec![V::Integer(WEBHOOK_LOG_KEEP as i64)],
        )?;
        Ok(())
    }

    pub fn webhooks(&self) -> worker::Result<Vec<Endpoint>> {
        let found = self
            .sql
            .exec("SELECT id, url, events, format, enabled, secret FROM webhooks ORDER BY created_at, id", None)?;
        Ok(rows(found)?
            .into_iter()
            .map(|mut r| Endpoint {
                events: r.str(2).split(',').filter_map(WebhookEvent::parse).collect(),
                format: if r.str(3) == "slack" { WebhookFormat::Slack } else { WebhookFormat::Json },
                enabled: r.int(4) != 0,
                id: r.str(0),
                url: r.str(1),
                secret: r.str(5),
            })
            .collect())
    }

    pub fn webhook_pending(&self, endpoint_id: &str) -> worker::Result<usize> {
        let row = first(
            self.sql.exec("SELECT COUNT(*) AS n FROM webhook_outbox WHERE endpoint_id = ?", vec![text(endpoint_id)])?,
        )?;
        Ok(row.map_or(0, |r| r.int(0).max(0) as usize))
    }

    pub fn webhook_log(&self) -> worker::Result<Vec<DeliveryLog>> {
        let found = self.sql.exec(
            "SELECT endpoint_id, event_id, event, status, code, error, attempts, at FROM webhook_log
             ORDER BY id DESC LIMIT ?",
            vec![V::Integer(WEBHOOK_LOG_KEEP as i64)],
        )?;
        Ok(rows(found)?
            .into_iter()
            .filter_map(|mut r| {
                Some(DeliveryLog {
                    event: WebhookEvent::parse(&r.str(2))?,
                    status: DeliveryStatus::parse(&r.str(3))?,
                    code: r.opt_int(4).and_then(|c| u16::try_from(c).ok()),
                    error: r.opt_str(5),
                    attempts: u32::try_from(r.int(6)).unwrap_or(0),
                    at: r.int(7),
                    endpoint_id: r.str(0),
                    event_id: r.str(1),
                })
            })
            .collect())
    }

    /// Up to `limit` deliveries due by `now`: each the oldest waiting for its endpoint and
    /// conversation, to an enabled endpoint.
    pub fn due_deliveries(&self, now: i64, limit: usize) -> worker::Result<Vec<Due>> {
        let query = format!(
            "SELECT o.id, o.endpoint_id, o.event_id, o.event, o.body, o.queued_at, o.attempts, w.url, w.secret
             FROM webhook_outbox o JOIN webhooks w ON w.id = o.endpoint_id
             WHERE o.id IN ({HEADS}) AND o.next_at <= ? AND w.enabled = 1
             ORDER BY o.next_at, o.id LIMIT ?"
        );
        let found = self.sql.exec(&query, vec![V::Integer(now), V::Integer(limit as i64)])?;
        Ok(rows(found)?
            .into_iter()
            .map(|mut r| Due {
                id: r.int(0),
                endpoint_id: r.str(1),
                event_id: r.str(2),
                event: r.str(3),
                body: r.str(4),
                queued_at: r.int(5),
                attempts: r.int(6),
                url: r.str(7),
                secret: r.str(8),
            })
            .collect())
    }

    /// When the next delivery is due (heads of enabled endpoints only: a later event of a
    /// conversation waits for its head, so it never makes the alarm run early).
    pub fn next_delivery(&self) -> worker::Result<Option<i64>> {
        let query = format!(
            "SELECT MIN(o.next_at) AS at FROM webhook_outbox o JOIN webhooks w ON w.id = o.endpoint_id
             WHERE o.id IN ({HEADS}) AND w.enabled = 1"
        );
        Ok(first(self.sql.exec(&query, None)?)?.and_then(|r| r.opt_int(0)))
    }

    /// A delivery is done (delivered or given up): it leaves the outbox.
    pub fn finish_delivery(&self, id: i64) -> worker::Result<()> {
        self.sql.exec("DELETE FROM webhook_outbox WHERE id = ?", vec![V::Integer(id)])?;
        Ok(())
    }

    /// A delivery failed and waits until `next_at`.
    pub fn retry_delivery(&self, id: i64, attempts: u32, next_at: i64) -> worker::Result<()> {
        self.sql.exec(
            "UPDATE webhook_outbox SET attempts = ?, next_at = ? WHERE id = ?",
            vec![V::Integer(i64::from(attempts)), V::Integer(next_at), V::Integer(id)],
        )?;
        Ok(())
    }
}
