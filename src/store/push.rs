//! What Web Push stores: agents' subscriptions, each conversation's batch, and the pushes
//! waiting to be sent or retried (`desk::push`, `desk_object/push.rs`).

use worker::SqlStorageValue as V;

use super::{text, Store};
use crate::desk::push::{Batch, PushEvent, PushWrite, Subscription};
use crate::protocol::push::PushKeys;

/// A push waiting to be sent: its row, its subscription's keys, how often it was tried.
#[derive(Debug)]
pub struct Pending {
    pub id: i64,
    pub endpoint: String,
    pub payload: String,
    pub attempts: i64,
    pub p256dh: String,
    pub auth: String,
}

// Rows are read by position (`raw`): a serde struct per query costs the worker kilobytes each.
fn rows(cursor: worker::SqlCursor) -> worker::Result<Vec<Vec<V>>> {
    cursor.raw().collect()
}

fn string(row: &mut [V], i: usize) -> String {
    match row.get_mut(i).map(|v| std::mem::replace(v, V::Null)) {
        Some(V::String(s)) => s,
        _ => String::new(),
    }
}

fn int(row: &[V], i: usize) -> Option<i64> {
    match row.get(i) {
        Some(V::Integer(n)) => Some(*n),
        Some(V::Float(f)) => Some(*f as i64),
        _ => None,
    }
}

impl Store {
    pub(super) fn apply_push(&self, write: &PushWrite, now: i64) -> worker::Result<()> {
        match write {
            PushWrite::Subscribe { agent_id, endpoint, keys } => {
                self.sql.exec(
                    "INSERT INTO push_subscriptions (endpoint, agent_id, p256dh, auth, created_at) VALUES (?, ?, ?, ?, ?)
                     ON CONFLICT(endpoint) DO UPDATE SET agent_id = excluded.agent_id, p256dh = excluded.p256dh,
                       auth = excluded.auth",
                    vec![text(endpoint), text(agent_id), text(&keys.p256dh), text(&keys.auth), V::Integer(now)],
                )?;
            }
            PushWrite::Unsubscribe { agent_id, endpoint } => {
                self.sql.exec(
                    "DELETE FROM push_subscriptions WHERE endpoint = ? AND agent_id = ?",
                    vec![text(endpoint), text(agent_id)],
                )?;
            }
            // A batch already waiting keeps its due time: one push per window.
            PushWrite::Queue { event, due_at } => {
                self.sql.exec(
                    "INSERT INTO push_batches (user_id, event, name, body, count, due_at) VALUES (?, ?, ?, ?, 1, ?)
                     ON CONFLICT(user_id, event) DO UPDATE SET name = excluded.name, body = excluded.body,
                       count = count + 1",
                    vec![
                        text(&event.user_id),
                        text(&event.event),
                        text(&event.name),
                        text(&event.text),
                        V::Integer(*due_at),
                    ],
                )?;
            }
        }
        Ok(())
    }

    pub fn push_endpoints(&self, agent_id: &str) -> worker::Result<Vec<String>> {
        let found =
            rows(self.sql.exec("SELECT endpoint FROM push_subscriptions WHERE agent_id = ?", vec![text(agent_id)])?)?;
        Ok(found.into_iter().map(|mut r| string(&mut r, 0)).collect())
    }

    pub fn push_subscribed(&self) -> worker::Result<bool> {
        Ok(!rows(self.sql.exec("SELECT 1 FROM push_subscriptions LIMIT 1", None)?)?.is_empty())
    }

    /// Every subscription (at most ten per agent).
    pub fn push_subscriptions(&self) -> worker::Result<Vec<Subscription>> {
        let found = rows(self.sql.exec("SELECT endpoint, agent_id, p256dh, auth FROM push_subscriptions", None)?)?;
        Ok(found
            .into_iter()
            .map(|mut r| Subscription {
                endpoint: string(&mut r, 0),
                agent_id: string(&mut r, 1),
                keys: PushKeys { p256dh: string(&mut r, 2), auth: string(&mut r, 3) },
            })
            .collect())
    }

    /// Up to `limit` batches due by `now`, oldest first.
    pub fn due_push_batches(&self, now: i64, limit: i64) -> worker::Result<Vec<Batch>> {
        let found = rows(self.sql.exec(
            "SELECT user_id, event, name, body, count, due_at FROM push_batches WHERE due_at <= ? ORDER BY due_at LIMIT ?",
            vec![V::Integer(now), V::Integer(limit)],
        )?)?;
        Ok(found
            .into_iter()
            .map(|mut r| Batch {
                event: PushEvent {
                    user_id: string(&mut r, 0),
                    event: string(&mut r, 1),
                    name: string(&mut r, 2),
                    text: string(&mut r, 3),
                },
                count: int(&r, 4).unwrap_or(1).clamp(0, u32::MAX as i64) as u32,
                due_at: int(&r, 5).unwrap_or(0),
            })
            .collect())
    }

    /// A due batch becomes one push per subscription, in the same run of writes.
    pub fn push_batch_sent(&self, batch: &Batch, pushes: &[(String, String)], now: i64) -> worker::Result<()> {
        for (endpoint, payload) in pushes {
            self.sql.exec(
                "INSERT INTO push_outbox (endpoint, user_id, payload, attempts, due_at) VALUES (?, ?, ?, 0, ?)",
                vec![text(endpoint), text(&batch.event.user_id), text(payload), V::Integer(now)],
            )?;
        }
        self.sql.exec(
            "DELETE FROM push_batches WHERE user_id = ? AND event = ?",
            vec![text(&batch.event.user_id), text(&batch.event.event)],
        )?;
        Ok(())
    }

    /// Up to `limit` pushes due by `now`, with their subscriptions' keys.
    pub fn due_pushes(&self, now: i64, limit: i64) -> worker::Result<Vec<Pending>> {
        let found = rows(self.sql.exec(
            "SELECT o.id, o.endpoint, o.payload, o.attempts, s.p256dh, s.auth FROM push_outbox o
             JOIN push_subscriptions s ON s.endpoint = o.endpoint WHERE o.due_at <= ? ORDER BY o.due_at LIMIT ?",
            vec![V::Integer(now), V::Integer(limit)],
        )?)?;
        Ok(found
            .into_iter()
            .map(|mut r| Pending {
                id: int(&r, 0).unwrap_or(0),
                endpoint: string(&mut r, 1),
                payload: string(&mut r, 2),
                attempts: int(&r, 3).unwrap_or(0),
                p256dh: string(&mut r, 4),
                auth: string(&mut r, 5),
            })
            .collect())
    }

    pub fn push_done(&self, id: i64) -> worker::Result<()> {
        self.sql.exec("DELETE FROM push_outbox WHERE id = ?", vec![V::Integer(id)])?;
        Ok(())
    }

    pub fn push_retry(&self, id: i64, attempts: i64, due_at: i64) -> worker::Result<()> {
        self.sql.exec(
            "UPDATE push_outbox SET attempts = ?, due_at = ? WHERE id = ?",
            vec![V::Integer(attempts), V::Integer(due_at), V::Integer(id)],
        )?;
        Ok(())
    }

    /// The push service said the subscription is gone: it and its pending pushes go (trigger).
    pub fn push_gone(&self, endpoint: &str) -> worker::Result<()> {
        self.sql.exec("DELETE FROM push_subscriptions WHERE endpoint = ?", vec![text(endpoint)])?;
        Ok(())
    }

    /// When the next batch or push is due.
    pub fn push_next_due(&self) -> worker::Result<Option<i64>> {
        let found = rows(self.sql.exec(
            "SELECT MIN(due_at) FROM (SELECT MIN(due_at) AS due_at FROM push_batches
             UNION ALL SELECT MIN(due_at) AS due_at FROM push_outbox)",
            None,
        )?)?;
        Ok(found.first().and_then(|r| int(r, 0)))
    }
}
