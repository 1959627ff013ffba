//! `GET /desks/{desk}/status`: whether the desk is online, who is, when it opens next. What the
//! closed widget shows, so it needs no socket: answered from what the object holds in memory (the
//! team, the settings) and the runtime's socket tags, one tag lookup per team member; cacheable
//! for a few seconds by browsers and Cloudflare's cache alike.

use worker::{Headers, Request, Response, Result};

use super::{now, Desk};
use crate::desk::availability;
use crate::sockets::Tagged;

/// How long browsers and caches may keep an answer: a few seconds, so a desk that just went
/// away says so soon, and a busy site's page views cost the desk one request per few seconds.
pub const STATUS_MAX_AGE_S: u32 = 5;

impl Desk {
    pub(super) fn status(&self, req: &Request) -> Result<Response> {
        let store = self.store()?;
        let tagged = Tagged::new(&self.state);
        let view = self.view(&store, &tagged)?;
        let body = availability::availability(&view, now()).to_json();
        if let Some(e) = view.failure() {
            return Err(e);
        }
        let headers = Headers::new();
        headers.set("Content-Type", "application/json; charset=utf-8")?;
        headers.set("Cache-Control", &format!("public, max-age={STATUS_MAX_AGE_S}"))?;
        headers.set("X-Content-Type-Options", "nosniff")?;
        // The router let this request through only if its Origin (if any) may embed the widget
        // (`ALLOWED_ORIGINS`, `routes::route`): that page may read the answer. Caches keep one
        // answer per Origin.
        headers.set("Vary", "Origin")?;
        if let Some(origin) = req.headers().get("Origin")? {
            headers.set("Access-Control-Allow-Origin", &origin)?;
        }
        Ok(Response::ok(body)?.with_headers(headers))
    }
}
