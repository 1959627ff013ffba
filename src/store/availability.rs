//! What honest availability stores (schema v13): agents' own status, visitors' emails, the away
//! message sent once per conversation, and the desk's settings as one validated row: the
//! `settings_update` frame that recreates them.

use worker::SqlStorageValue as V;

use super::{first, opt_text, text, Store};
use crate::desk::team::OWNER_DEFAULT_NAME;
use crate::protocol::Settings;

impl Store {
    /// The owner has no row until it sets something about itself (its name, its status).
    pub(super) fn agent_status(&self, agent_id: &str, away: bool, now: i64) -> worker::Result<()> {
        self.sql.exec(
            "INSERT INTO agents (id, name, role, state, created_at, away) VALUES (?, ?, 'owner', 'active', ?, ?)
             ON CONFLICT(id) DO UPDATE SET away = excluded.away",
            vec![text(agent_id), text(OWNER_DEFAULT_NAME), V::Integer(now), V::Integer(i64::from(away))],
        )?;
        Ok(())
    }

    pub(super) fn visitor_email(&self, user_id: &str, email: Option<&str>) -> worker::Result<()> {
        self.sql.exec("UPDATE visitors SET email = ? WHERE id = ?", vec![opt_text(email), text(user_id)])?;
        Ok(())
    }

    /// The conversation's row exists: the visitor's message before it created it (trigger of v9).
    pub(super) fn away_sent(&self, user_id: &str) -> worker::Result<()> {
        self.sql.exec("UPDATE conversations SET away_sent = 1 WHERE user_id = ?", vec![text(user_id)])?;
        Ok(())
    }

    pub(super) fn save_settings(&self, settings: &Settings, now: i64) -> worker::Result<()> {
        let body = settings.as_update_frame();
        self.sql.exec(
            "INSERT INTO settings (id, body, updated_at) VALUES (1, ?, ?)
             ON CONFLICT(id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
            vec![text(&body), V::Integer(now)],
        )?;
        Ok(())
    }

    /// The stored settings, or the defaults (a row that no longer reads is the defaults too).
    pub fn settings(&self) -> worker::Result<Settings> {
        let row = first(self.sql.exec("SELECT body FROM settings WHERE id = 1", None)?)?;
        Ok(row.map(|mut r| Settings::from_update_frame(&r.str(0))).unwrap_or_default())
    }
}
