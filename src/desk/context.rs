//! Who and where a visitor is: the visits it made, what the desk saw at connect (browser, OS,
//! country, city; a reconnect inside a visit from the same browser and OS keeps the place
//! already seen: `arrive_seen`), the pages it reports, and, for a verified visitor, the attributes its page
//! passed. Agents see it in rows and in `context` frames.
//!
//! A visit starts at a connect more than [`VISIT_IDLE_MS`] (30 minutes) after the visitor's last
//! connect or page report, or at its first connect; a new visit clears the pages kept (at most
//! [`MAX_PAGES`], the latest). The whole record is written at once (`Write::Context`): only
//! the visitor's own connect and frames change it, each a synchronous read-decide-write, so no
//! two writes of it can interleave.

use super::{send, Audience, Effect, View, Write};
use crate::error::FrameError;
use crate::protocol::context::{
    Attributes, ContextFrame, ContextInfo, Device, Page, PageReport, MAX_PAGES, VISIT_IDLE_MS,
};
use crate::protocol::{Outbound, UserRow};

mod user_agent;
pub use user_agent::{browser_and_os, device};

/// A visitor's context as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    pub user_id: String,
    pub first_seen: i64,
    pub visits: u32,
    pub visit_started: i64,
    /// The latest connect or page report: what decides whether a connect starts a new visit.
    pub last_active: i64,
    /// The latest page reported.
    pub page: Option<PageReport>,
    pub device: Device,
    /// This visit's pages, oldest first, at most [`MAX_PAGES`].
    pub pages: Vec<Page>,
    /// A verified visitor's attributes, as its page last passed them.
    pub attributes: Option<Attributes>,
}

impl Context {
    /// What agents see: with this visit's pages, or (in rows) without.
    pub fn info(&self, with_pages: bool) -> ContextInfo {
        ContextInfo {
            page: self.page.clone(),
            device: self.device.clone(),
            first_seen: self.first_seen,
            visits: self.visits,
            visit_started: self.visit_started,
            pages: if with_pages { self.pages.clone() } else { Vec::new() },
            attributes: self.attributes.clone(),
        }
    }
}

/// A visitor connects: a new visit if it is the first or the last activity is 30 minutes old;
/// what the desk saw at the upgrade replaces what it saw before. The write to make first.
pub fn arrive(view: &dyn View, user_id: &str, device: Device, now: i64) -> Write {
    arrive_after(view.context(user_id), user_id, device, now)
}

/// [`arrive`] for a returning visitor, with what the upgrade says read only as needed: the same
/// browser and OS inside the same visit keep the place seen at the visit's connects so far, and
/// `place` (country, city) is asked only otherwise. Why: reading the place makes the runtime
/// build the whole `request.cf` object (~5% of a connect's time in the isolate), and a visitor
/// going from page to page of a site reconnects on every page.
pub fn arrive_seen(
    view: &dyn View,
    user_id: &str,
    user_agent: Option<&str>,
    place: impl FnOnce() -> (Option<String>, Option<String>),
    now: i64,
) -> Write {
    let previous = view.context(user_id);
    let (browser, os) = user_agent.map(browser_and_os).unwrap_or_default();
    let kept = previous.as_ref().filter(|c| {
        c.visits > 0 && now - c.last_active <= VISIT_IDLE_MS && c.device.browser == browser && c.device.os == os
    });
    let device = match kept {
        Some(c) => c.device.clone(),
        None => {
            let (country, city) = place();
            device(user_agent, country.as_deref(), city.as_deref())
        }
    };
    arrive_after(previous, user_id, device, now)
}

/// [`arrive`] with the visitor's stored context already known (`None`: it has none, as a
/// visitor created by this very upgrade): the glue skips a read that can only find nothing.
pub fn arrive_after(previous: Option<Context>, user_id: &str, device: Device, now: i64) -> Write {
    let mut context =
        previous.unwrap_or_else(|| Context { user_id: user_id.to_owned(), first_seen: now, ..Context::default() });
    if context.visits == 0 || now - context.last_active > VISIT_IDLE_MS {
        context.visits = context.visits.saturating_add(1);
        context.visit_started = now;
        context.pages.clear();
    }
    context.device = device;
    context.last_active = now;
    Write::Context { context: Box::new(context) }
}

/// A visitor reports the page it is on: stored as its own context (never another's: the id is the
/// socket's), the page added to this visit's unless it is the one reported last; every agent gets
/// the `context` frame for a conversation they can see (one with a message). The frame's fields
/// were checked by `protocol::parse`; a refusal stores nothing.
pub(super) fn report(user_id: &str, frame: ContextFrame, view: &dyn View, now: i64) -> Result<Vec<Effect>, FrameError> {
    if frame.user_id.as_ref().is_some_and(|asked| asked != user_id) {
        return Err(FrameError::Forbidden("visitors can only report their own context"));
    }
    let report = frame.report().ok_or_else(|| FrameError::BadFrame("a visitor's context needs url".into()))?;
    let report = report.checked()?;
    let conversation = view.conversation(user_id).ok_or(FrameError::UnknownUser)?;
    if frame.attributes.is_some() && conversation.verified_id.is_none() {
        return Err(FrameError::Forbidden("only a verified visitor's page may pass attributes"));
    }
    let mut context = match view.context(user_id) {
        Some(c) => c,
        None => Context {
            user_id: user_id.to_owned(),
            first_seen: now,
            visits: 1,
            visit_started: now,
            ..Context::default()
        },
    };
    if context.pages.last().is_none_or(|p| p.url != report.url || p.title != report.title) {
        context.pages.push(Page { url: report.url.clone(), title: report.title.clone(), at: now });
        let over = context.pages.len().saturating_sub(MAX_PAGES);
        context.pages.drain(..over);
    }
    context.page = Some(report);
    context.last_active = now;
    if let Some(attributes) = frame.attributes {
        context.attributes = Some(attributes);
    }
    let frame = Outbound::Context { user_id: user_id.to_owned(), context: context.info(true) };
    let mut effects = vec![Effect::Store(Write::Context { context: Box::new(context) })];
    if conversation.last.is_some() {
        effects.push(send(Audience::Admins, frame));
    }
    Ok(effects)
}

/// An agent asks for a visitor's context: the `context` frame, or `unknown_user`. A visitor the
/// desk knows but with nothing reported yet gets an empty one (no visits).
pub(super) fn ask(frame: ContextFrame, view: &dyn View) -> Result<Vec<Effect>, FrameError> {
    let ContextFrame { user_id, attributes, .. } = &frame;
    if frame.report().is_some() || attributes.is_some() {
        return Err(FrameError::BadFrame("agents send context with userId only".into()));
    }
    let user_id = user_id.clone().ok_or_else(|| FrameError::BadFrame("context needs userId".into()))?;
    view.conversation(&user_id).ok_or(FrameError::UnknownUser)?;
    let context = view.context(&user_id).map(|c| c.info(true)).unwrap_or_default();
    Ok(vec![send(Audience::Sender, Outbound::Context { user_id, context })])
}

/// Rows with their visitors' contexts (one read for them all).
pub fn with_contexts(view: &dyn View, mut rows: Vec<UserRow>) -> Vec<UserRow> {
    let ids: Vec<&str> = rows.iter().map(|r| r.user_id.as_str()).collect();
    let found: std::collections::HashMap<String, Context> =
        view.contexts(&ids).into_iter().map(|c| (c.user_id.clone(), c)).collect();
    for row in &mut rows {
        row.context = found.get(&row.user_id).map(|c| c.info(false));
    }
    rows
}
