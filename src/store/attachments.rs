//! Attachments in SQLite (`desk::attachment`): one row per file (its conversation, R2 key, name,
//! size, type, uploader and time), and the keys of deleted conversations' files waiting to be
//! removed from R2. A fourth `impl Store`, split from `store.rs` along this seam.

use worker::SqlStorageValue as V;

use super::*;
use crate::attachments::{Attachment, AttachmentUse};
use crate::desk::attachment::Stored;

impl Store {
    /// Records a file stored in R2 (the write `Attach`).
    pub(super) fn record_attachment(
        &self,
        user_id: &str,
        key: &str,
        a: &Attachment,
        uploader: &str,
        at: i64,
    ) -> worker::Result<()> {
        self.sql.exec(
            "INSERT INTO attachments (id, user_id, key, name, size, type, uploader, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                text(&a.id),
                text(user_id),
                text(key),
                text(&a.name),
                V::Integer(a.size as i64),
                text(&a.mime),
                text(uploader),
                V::Integer(at),
            ],
        )?;
        Ok(())
    }

    /// Part of `Delete`: the conversation's files leave the table, their keys wait in the trash
    /// until the alarm removes them from R2 (`desk_object::attachments`).
    pub(super) fn trash_attachments(&self, user_id: &str) -> worker::Result<()> {
        self.sql.exec(
            "INSERT OR IGNORE INTO attachment_trash (key) SELECT key FROM attachments WHERE user_id = ?",
            vec![text(user_id)],
        )?;
        self.sql.exec("DELETE FROM attachments WHERE user_id = ?", vec![text(user_id)])?;
        Ok(())
    }

    pub fn attachment(&self, id: &str) -> worker::Result<Option<Stored>> {
        let rows = self
            .sql
            .exec("SELECT id, user_id, key, name, size, type AS mime FROM attachments WHERE id = ?", vec![text(id)])?;
        Ok(first(rows)?.map(|mut r| Stored {
            user_id: r.str(1),
            key: r.str(2),
            attachment: Attachment { id: r.str(0), name: r.str(3), size: r.int(4).max(0) as u64, mime: r.str(5) },
        }))
    }

    /// What the limits are decided on: bytes of the conversation's files and of the desk's, and
    /// the uploader's files since `since`.
    pub fn attachment_use(&self, user_id: &str, uploader: &str, since: i64) -> worker::Result<AttachmentUse> {
        let rows = self.sql.exec(
            "SELECT (SELECT SUM(size) FROM attachments WHERE user_id = ?) AS conversation,
                    (SELECT SUM(size) FROM attachments) AS desk,
                    (SELECT COUNT(*) FROM attachments WHERE uploader = ? AND at > ?) AS recent,
                    (SELECT MIN(at) FROM attachments WHERE uploader = ? AND at > ?) AS oldest",
            vec![text(user_id), text(uploader), V::Integer(since), text(uploader), V::Integer(since)],
        )?;
        Ok(first(rows)?.map_or_else(AttachmentUse::default, |r| AttachmentUse {
            conversation_bytes: r.int(0).max(0) as u64,
            desk_bytes: r.int(1).max(0) as u64,
            recent_uploads: r.count(2),
            oldest_recent_at: r.opt_int(3),
        }))
    }

    /// Up to `limit` keys waiting to be removed from R2.
    pub fn trashed(&self, limit: u32) -> worker::Result<Vec<String>> {
        let found = self.sql.exec("SELECT key FROM attachment_trash LIMIT ?", vec![V::Integer(limit.into())])?;
        Ok(rows(found)?.into_iter().map(|mut r| r.str(0)).collect())
    }

    /// Keys removed from R2: out of the trash.
    pub fn untrash(&self, keys: &[String]) -> worker::Result<()> {
        for key in keys {
            self.sql.exec("DELETE FROM attachment_trash WHERE key = ?", vec![text(key)])?;
        }
        Ok(())
    }
}

impl Store {
    /// This desk's name, as the first request to it said (`desk_info`).
    pub fn desk_name(&self) -> worker::Result<Option<String>> {
        let rows = self.sql.exec("SELECT value AS v FROM desk_info WHERE key = 'desk_name'", None)?;
        Ok(first(rows)?.and_then(|mut r| r.opt_str(0)))
    }

    pub fn remember_desk_name(&self, desk: &str) -> worker::Result<()> {
        self.sql.exec("INSERT OR IGNORE INTO desk_info (key, value) VALUES ('desk_name', ?)", vec![text(desk)])?;
        Ok(())
    }
}
