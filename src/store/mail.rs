//! What email stores (`desk::notify`): each conversation's mail state (columns of its row, kept
//! by the `messages_conversation` trigger; `mail_due` flags the rows with work, schema v18), when
//! a visitor left, unsubscribes, agents' alerts, and the mail log the limits count.

use worker::SqlStorageValue as V;

use super::{first, opt_text, rows, text, Store};
use crate::desk::notify::{Alerts, Pending};
use crate::desk::team::OWNER_DEFAULT_NAME;

/// Conversations looked at per alarm pass (the rest wait for the next pass, right after).
pub const PENDING_SLICE: i64 = 200;
const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;

/// An agent reply as the follow-up email shows it.
#[derive(Debug, Clone)]
pub struct MailedReply {
    pub body: String,
    pub author_name: Option<String>,
}

/// Someone an unanswered-conversation email goes to.
#[derive(Debug, Clone)]
pub struct AlertRecipient {
    pub id: String,
    pub name: String,
    pub address: String,
}

impl Store {
    /// Conversations with a reply not yet mailed or a wait not yet reported, and what decides
    /// them (`connected` is the glue's to fill in).
    pub fn mail_pending(&self, now: i64) -> worker::Result<Vec<Pending>> {
        let found = self.sql.exec(
            "SELECT c.user_id, v.email, v.unsubscribed, c.left_at, c.reply_seq, c.reply_at, c.mailed_seq,
                        c.seen_seq, c.wait_seq, c.wait_at, c.told_seq,
                        (SELECT COUNT(*) FROM mail_log l WHERE l.user_id = c.user_id AND l.kind = 'followup'
                           AND l.status = 'sent' AND l.at > ?) AS mailed_today
                 FROM conversations c JOIN visitors v ON v.id = c.user_id
                 WHERE c.mail_due = 1
                 LIMIT ?",
            vec![V::Integer(now - DAY_MS), V::Integer(PENDING_SLICE)],
        )?;
        Ok(rows(found)?
            .into_iter()
            .map(|mut r| Pending {
                user_id: r.str(0),
                email: r.opt_str(1),
                unsubscribed: r.int(2) != 0,
                connected: false,
                left_at: r.opt_int(3),
                reply_seq: r.int(4),
                reply_at: r.int(5),
                mailed_seq: r.int(6),
                seen_seq: r.int(7),
                wait_seq: r.int(8),
                wait_at: r.int(9),
                told_seq: r.int(10),
                mailed_today: r.count(11),
            })
            .collect())
    }

    /// Emails the desk sent in the hour before `now`; older log rows (past a day) go on the way.
    pub fn mail_sent_hour(&self, now: i64) -> worker::Result<u32> {
        self.sql.exec("DELETE FROM mail_log WHERE at < ?", vec![V::Integer(now - DAY_MS)])?;
        let row = first(self.sql.exec(
            "SELECT COUNT(*) AS n FROM mail_log WHERE at > ? AND status = 'sent'",
            vec![V::Integer(now - HOUR_MS)],
        )?)?;
        Ok(row.map_or(0, |r| r.count(0)))
    }

    /// The agents' replies with seq in `(after, up_to]`, oldest first, the latest `limit`.
    pub fn mail_replies(
        &self,
        user_id: &str,
        after: i64,
        up_to: i64,
        limit: usize,
    ) -> worker::Result<Vec<MailedReply>> {
        let found = self.sql.exec(
            "SELECT body, author_name FROM messages
             WHERE user_id = ? AND seq > ? AND seq <= ? AND sender = 'admin' AND meta IS NULL
             ORDER BY seq DESC LIMIT ?",
            vec![text(user_id), V::Integer(after), V::Integer(up_to), V::Integer(limit as i64)],
        )?;
        let mut replies: Vec<MailedReply> =
            rows(found)?.into_iter().map(|mut r| MailedReply { body: r.str(0), author_name: r.opt_str(1) }).collect();
        replies.reverse();
        Ok(replies)
    }

    /// Replies up to `up_to` are handled (mailed or passed over).
    pub fn mail_mark_mailed(&self, user_id: &str, up_to: i64) -> worker::Result<()> {
        self.sql.exec(crate::schema::MAIL_MARK_MAILED, vec![V::Integer(up_to), text(user_id)])?;
        Ok(())
    }

    /// The wait that began at `since_seq` was reported unanswered.
    pub fn mail_mark_told(&self, user_id: &str, since_seq: i64) -> worker::Result<()> {
        self.sql.exec(crate::schema::MAIL_MARK_TOLD, vec![V::Integer(since_seq), text(user_id)])?;
        Ok(())
    }

    /// The visitor's last socket closed at `at` (`None`: it has one open again).
    pub fn mail_left(&self, user_id: &str, at: Option<i64>) -> worker::Result<()> {
        self.sql.exec(
            "UPDATE conversations SET left_at = ? WHERE user_id = ?",
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
        let found =
            self.sql.exec("UPDATE visitors SET unsubscribed = 1 WHERE id = ? RETURNING 1 AS n", vec![text(user_id)])?;
        Ok(first(found)?.is_some())
    }

    /// Active agents who opted in to unanswered-conversation emails and have an address.
    pub fn alert_recipients(&self) -> worker::Result<Vec<AlertRecipient>> {
        let found = self.sql.exec(
            "SELECT id, name, COALESCE(alert_email, email) AS address FROM agents
             WHERE state = 'active' AND alert_unanswered = 1 AND COALESCE(alert_email, email) IS NOT NULL",
            None,
        )?;
        Ok(rows(found)?
            .into_iter()
            .map(|mut r| AlertRecipient { id: r.str(0), name: r.str(1), address: r.str(2) })
            .collect())
    }

    pub fn alerts(&self, agent_id: &str) -> worker::Result<Alerts> {
        let row = first(
            self.sql.exec("SELECT alert_unanswered, alert_email FROM agents WHERE id = ?", vec![text(agent_id)])?,
        )?;
        Ok(row.map_or_else(Alerts::default, |mut r| Alerts { unanswered: r.int(0) != 0, email: r.opt_str(1) }))
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
