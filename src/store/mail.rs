//! What email stores (`desk::notify`): each conversation's mail state (kept by the
//! `messages_mail` trigger), when a visitor left, unsubscribes, agents' alerts, and the mail log
//! the limits count.

use serde::Deserialize;
use worker::SqlStorageValue as V;

use super::{opt_text, text, Store};
use crate::desk::notify::{Alerts, Pending};
use crate::desk::team::OWNER_DEFAULT_NAME;

/// Conversations looked at per alarm pass (the rest wait for the next pass, right after).
pub const PENDING_SLICE: i64 = 200;
const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;

#[derive(Deserialize)]
struct PendingRow {
    user_id: String,
    email: Option<String>,
    unsubscribed: Option<i64>,
    left_at: Option<i64>,
    reply_seq: i64,
    reply_at: i64,
    mailed_seq: i64,
    seen_seq: Option<i64>,
    wait_seq: i64,
    wait_at: i64,
    told_seq: i64,
    mailed_today: Option<i64>,
}

#[derive(Deserialize)]
struct Count {
    n: i64,
}

#[derive(Deserialize)]
struct AlertsRow {
    alert_unanswered: i64,
    alert_email: Option<String>,
}

/// An agent reply as the follow-up email shows it.
#[derive(Deserialize, Debug, Clone)]
pub struct MailedReply {
    pub body: String,
    pub author_name: Option<String>,
}

/// Someone an unanswered-conversation email goes to.
#[derive(Deserialize, Debug, Clone)]
pub struct AlertRecipient {
    pub id: String,
    pub name: String,
    pub address: String,
}

impl Store {
    /// Conversations with a reply not yet mailed or a wait not yet reported, and what decides
    /// them (`connected` is the glue's to fill in).
    pub fn mail_pending(&self, now: i64) -> worker::Result<Vec<Pending>> {
        let rows = self
            .sql
            .exec(
                "SELECT m.user_id, v.email, v.unsubscribed, m.left_at, m.reply_seq, m.reply_at, m.mailed_seq,
                        c.seen_seq, m.wait_seq, m.wait_at, m.told_seq,
                        (SELECT COUNT(*) FROM mail_log l WHERE l.user_id = m.user_id AND l.kind = 'followup'
                           AND l.status = 'sent' AND l.at > ?) AS mailed_today
                 FROM mail_state m JOIN visitors v ON v.id = m.user_id
                 LEFT JOIN conversations c ON c.user_id = m.user_id
                 WHERE m.reply_seq > m.mailed_seq OR m.wait_seq > m.told_seq
                 LIMIT ?",
                vec![V::Integer(now - DAY_MS), V::Integer(PENDING_SLICE)],
            )?
            .to_array::<PendingRow>()?;
        Ok(rows
            .into_iter()
            .map(|r| Pending {
                user_id: r.user_id,
                email: r.email,
                unsubscribed: r.unsubscribed.unwrap_or(0) != 0,
                connected: false,
                left_at: r.left_at,
                reply_seq: r.reply_seq,
                reply_at: r.reply_at,
                mailed_seq: r.mailed_seq,
                seen_seq: r.seen_seq.unwrap_or(0),
                wait_seq: r.wait_seq,
                wait_at: r.wait_at,
                told_seq: r.told_seq,
                mailed_today: r.mailed_today.unwrap_or(0).clamp(0, i64::from(u32::MAX)) as u32,
            })
            .collect())
    }

    /// Emails the desk sent in the hour before `now`; older log rows (past a day) go on the way.
    pub fn mail_sent_hour(&self, now: i64) -> worker::Result<u32> {
        self.sql.exec("DELETE FROM mail_log WHERE at < ?", vec![V::Integer(now - DAY_MS)])?;
        let rows = self
            .sql
            .exec(
                "SELECT COUNT(*) AS n FROM mail_log WHERE at > ? AND status = 'sent'",
                vec![V::Integer(now - HOUR_MS)],
            )?
            .to_array::<Count>()?;
        Ok(rows.first().map_or(0, |c| c.n.clamp(0, i64::from(u32::MAX)) as u32))
    }

    /// The agents' replies with seq in `(after, up_to]`, oldest first, the latest `limit`.
    pub fn mail_replies(
        &self,
        user_id: &str,
        after: i64,
        up_to: i64,
        limit: usize,
    ) -> worker::Result<Vec<MailedReply>> {
        let mut rows = self
            .sql
            .exec(
                "SELECT body, author_name FROM messages
                 WHERE user_id = ? AND seq > ? AND seq <= ? AND sender = 'admin' AND meta IS NULL
                 ORDER BY seq DESC LIMIT ?",
                vec![text(user_id), V::Integer(after), V::Integer(up_to), V::Integer(limit as i64)],
            )?
            .to_array::<MailedReply>()?;
        rows.reverse();
        Ok(rows)
    }

    /// Replies up to `up_to` are handled (mailed or passed over).
    pub fn mail_mark_mailed(&self, user_id: &str, up_to: i64) -> worker::Result<()> {
        self.sql.exec(
            "UPDATE mail_state SET mailed_seq = MAX(mailed_seq, ?) WHERE user_id = ?",
            vec![V::Integer(up_to), text(user_id)],
        )?;
        Ok(())
    }

    /// The wait that began at `since_seq` was reported unanswered.
    pub fn mail_mark_told(&self, user_id: &str, since_seq: i64) -> worker::Result<()> {
        self.sql.exec(
            "UPDATE mail_state SET told_seq = MAX(told_seq, ?) WHERE user_id = ?",
            vec![V::Integer(since_seq), text(user_id)],
        )?;
        Ok(())
    }

    /// The visitor's last socket closed at `at` (`None`: it has one open again).
    pub fn mail_left(&self, user_id: &str, at: Option<i64>) -> worker::Result<()> {
        self.sql.exec(
            "UPDATE mail_state SET left_at = ? WHERE user_id = ?",
            vec![at.map_or(V::Null, V::Integer), text(user_id)],
        )?;
        Ok(())
    }

    pub fn mail_log(
        &self,
        at: i64,
        kind: &str,
        recipient: &str,
        user_id: Option<&str>,
        status: &str,
    ) -> worker::Result<()> {
        self.sql.exec(
            "INSERT INTO mail_log (at, kind, recipient, user_id, status) VALUES (?, ?, ?, ?, ?)",
            vec![V::Integer(at), text(kind), text(recipient), opt_text(user_id), text(status)],
        )?;
        Ok(())
    }

    /// The visitor asked for no more email; `false`: no such visitor.
    pub fn unsubscribe(&self, user_id: &str) -> worker::Result<bool> {
        let rows = self
            .sql
            .exec("UPDATE visitors SET unsubscribed = 1 WHERE id = ? RETURNING 1 AS n", vec![text(user_id)])?
            .to_array::<Count>()?;
        Ok(!rows.is_empty())
    }

    /// Active agents who opted in to unanswered-conversation emails and have an address.
    pub fn alert_recipients(&self) -> worker::Result<Vec<AlertRecipient>> {
        self.sql
            .exec(
                "SELECT id, name, COALESCE(alert_email, email) AS address FROM agents
                 WHERE state = 'active' AND alert_unanswered = 1 AND COALESCE(alert_email, email) IS NOT NULL",
                None,
            )?
            .to_array::<AlertRecipient>()
    }

    pub fn alerts(&self, agent_id: &str) -> worker::Result<Alerts> {
        let rows = self
            .sql
            .exec("SELECT alert_unanswered, alert_email FROM agents WHERE id = ?", vec![text(agent_id)])?
            .to_array::<AlertsRow>()?;
        Ok(rows.first().map_or_else(Alerts::default, |r| Alerts {
            unanswered: r.alert_unanswered != 0,
            email: r.alert_email.clone(),
        }))
    }

    /// The owner has no row until it sets something about itself.
    pub(super) fn save_alerts(&self, agent_id: &str, on: bool, email: Option<&str>, now: i64) -> worker::Result<()> {
        self.sql.exec(
            "INSERT INTO agents (id, name, role, state, created_at, alert_unanswered, alert_email)
             VALUES (?, ?, 'owner', 'active', ?, ?, ?)
             ON CONFLICT(id) DO UPDATE SET alert_unanswered = excluded.alert_unanswered, alert_email = excluded.alert_email",
            vec![text(agent_id), text(OWNER_DEFAULT_NAME), V::Integer(now), V::Integer(i64::from(on)), opt_text(email)],
        )?;
        Ok(())
    }
}
