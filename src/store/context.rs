//! Visitors' contexts and the desk's saved replies in SQLite (schema v11). A fourth `impl Store`,
//! split from `store.rs` along this seam. A context's parts that are lists or records (the page
//! reported, the device, the visit's pages, attributes) are JSON text: they are read and written
//! whole, never queried inside.

use worker::SqlStorageValue as V;

use super::*;
use crate::desk::context::Context;
use crate::protocol::context::{read_attributes, Device, Page, PageReport};
use crate::protocol::saved_replies::SavedReply;

/// A context read with [`CONTEXT_COLUMNS`].
fn context(mut r: Row) -> Context {
    Context {
        user_id: r.str(0),
        first_seen: r.int(1),
        visits: r.count(2),
        visit_started: r.int(3),
        last_active: r.int(4),
        page: r.opt_str(5).and_then(|p| PageReport::read(&p).ok()),
        device: Device::read(&r.str(6)).unwrap_or_default(),
        pages: Page::read_list(&r.str(7)).unwrap_or_default(),
        attributes: r.opt_str(8).and_then(|a| read_attributes(&a).ok()),
    }
}

const CONTEXT_COLUMNS: &str =
    "user_id, first_seen, visits, visit_started, last_active, page, device, pages, attributes";

/// [`CONTEXT_COLUMNS`] with an empty list in place of the pages.
const CONTEXT_WITHOUT_PAGES: &str =
    "user_id, first_seen, visits, visit_started, last_active, page, device, '[]', attributes";

fn json<T: serde::Serialize>(value: &T) -> V {
    crate::protocol::json_text(value).map_or(V::Null, V::String)
}

impl Store {
    pub fn context(&self, user_id: &str) -> worker::Result<Option<Context>> {
        let found = self
            .sql
            .exec(&format!("SELECT {CONTEXT_COLUMNS} FROM visitor_context WHERE user_id = ?"), vec![text(user_id)])?;
        Ok(first(found)?.map(context))
    }

    /// Several visitors' contexts in one statement (the ids as one JSON parameter: a statement
    /// binds at most 100), without their pages (see `View::contexts`: rows never show them).
    pub fn contexts(&self, user_ids: &[&str]) -> worker::Result<Vec<Context>> {
        if user_ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids = crate::protocol::json_text(user_ids).unwrap_or_else(|_| "[]".into());
        // Packed (one JSON text): up to 501 contexts for the admin's first frame.
        let q = format!(
            "SELECT json_array({CONTEXT_WITHOUT_PAGES}) AS r FROM visitor_context WHERE user_id IN (SELECT value FROM json_each(?))"
        );
        Ok(packed(&self.sql, &q, "", vec![V::String(ids)])?.into_iter().map(context).collect())
    }

    pub(super) fn put_context(&self, c: &Context) -> worker::Result<()> {
        self.sql.exec(
            "INSERT INTO visitor_context (user_id, first_seen, visits, visit_started, last_active, page, device, pages, attributes)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT(user_id) DO UPDATE SET first_seen = excluded.first_seen, visits = excluded.visits,
               visit_started = excluded.visit_started, last_active = excluded.last_active, page = excluded.page,
               device = excluded.device, pages = excluded.pages, attributes = excluded.attributes",
            vec![
                text(&c.user_id),
                V::Integer(c.first_seen),
                V::Integer(c.visits as i64),
                V::Integer(c.visit_started),
                V::Integer(c.last_active),
                c.page.as_ref().map_or(V::Null, json),
                json(&c.device),
                json(&c.pages),
                c.attributes.as_ref().map_or(V::Null, json),
            ],
        )?;
        Ok(())
    }

    pub fn saved_replies(&self) -> worker::Result<Vec<SavedReply>> {
        let found =
            self.sql.exec("SELECT id, title, shortcut, body, updated_at FROM saved_replies ORDER BY shortcut", None)?;
        Ok(rows(found)?
            .into_iter()
            .map(|mut r| SavedReply {
                id: r.str(0),
                title: r.str(1),
                shortcut: r.str(2),
                text: r.str(3),
                updated_at: r.int(4),
            })
            .collect())
    }

    pub(super) fn save_reply(&self, r: &SavedReply) -> worker::Result<()> {
        self.sql.exec(
            "INSERT INTO saved_replies (id, title, shortcut, body, updated_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT(id) DO UPDATE SET title = excluded.title, shortcut = excluded.shortcut,
               body = excluded.body, updated_at = excluded.updated_at",
            vec![text(&r.id), text(&r.title), text(&r.shortcut), text(&r.text), V::Integer(r.updated_at)],
        )?;
        Ok(())
    }

    pub(super) fn delete_reply(&self, id: &str) -> worker::Result<()> {
        self.sql.exec("DELETE FROM saved_replies WHERE id = ?", vec![text(id)])?;
        Ok(())
    }
}
