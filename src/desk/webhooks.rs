//! Webhooks, the pure half: which events a step emits (`conversation.created` on a visitor's first
//! message, `message.created` on each, `conversation.resolved` on resolve, and
//! `conversation.unanswered` through [`unanswered`], the seam the unanswered rule calls), the body
//! each endpoint gets (the desk's JSON, or Slack's `{"text"}`), its signature, when a failed
//! delivery is tried again or given up, and who manages endpoints (the owner and admins).
//!
//! The glue performs it: a queued delivery is a [`Write::WebhookQueue`] performed in the same
//! synchronous run as the write that caused it (so a crash after the ack loses neither), and the
//! desk's alarm sends what is due (`desk_object/webhooks.rs`). Each endpoint has a bounded outbox:
//! when `max_pending` deliveries wait for it, a new event is not queued for it but logged as
//! `dropped` (older events keep their order and their place; the receiver that stopped answering
//! loses the newest, and the log says so).

use std::collections::HashMap;

use super::{send, Agent, Audience, Effect, Fresh, View, Write};
use crate::error::{FrameError, WebhookError};
use crate::protocol::webhooks::{
    DeliveryLog, DeliveryStatus, WebhookEndpoint, MAX_WEBHOOKS, WEBHOOK_LOG_KEEP, WEBHOOK_MAX_PENDING,
};
use crate::protocol::{Author, Outbound, Role, Status, WebhookEvent, WebhookFormat, WebhookSave};

mod delivery;
mod payload;

pub use delivery::*;
use payload::{bodies, Emitted};

/// An endpoint as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub id: String,
    pub url: String,
    pub events: Vec<WebhookEvent>,
    pub format: WebhookFormat,
    pub enabled: bool,
    pub secret: String,
}

/// What the core knows of the desk's webhooks: its endpoints, and the glue's settings for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hooks {
    pub endpoints: Vec<Endpoint>,
    /// The desk's name, as payloads say it.
    pub desk: String,
    /// `WEBHOOKS_ALLOW_LOOPBACK`: plain `http://` to 127.0.0.1, `localhost` or `[::1]` (local runs).
    pub allow_loopback: bool,
    /// Deliveries that may wait per endpoint (`WEBHOOK_MAX_PENDING`).
    pub max_pending: usize,
}

impl Default for Hooks {
    fn default() -> Self {
        Hooks { endpoints: Vec::new(), desk: String::new(), allow_loopback: false, max_pending: WEBHOOK_MAX_PENDING }
    }
}

/// One delivery waiting in the outbox: the body is final (its signature is computed over exactly
/// these bytes on every attempt), the event id stays the same across retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub endpoint_id: String,
    pub event_id: String,
    pub event: WebhookEvent,
    /// The conversation: a later delivery of the same conversation to the same endpoint waits
    /// until this one is done.
    pub user_id: String,
    pub body: String,
    pub at: i64,
}

/// Queues `events` for every enabled endpoint that wants them (or logs them `dropped` where the
/// outbox is full); then the alarm is asked to run now.
fn enqueue(events: &[Emitted], view: &dyn View, now: i64, fresh: &mut dyn Fresh) -> Vec<Effect> {
    let hooks = view.webhooks();
    let mut writes = Vec::new();
    let mut queued: HashMap<&str, usize> = HashMap::new();
    for e in events {
        let wanting: Vec<&Endpoint> =
            hooks.endpoints.iter().filter(|ep| ep.enabled && ep.events.contains(&e.event)).collect();
        if wanting.is_empty() {
            continue;
        }
        let id = fresh.id();
        let (json, slack) = bodies(&hooks, e, &id, now, view);
        for ep in wanting {
            let here = queued.entry(ep.id.as_str()).or_insert(0);
            let pending = view.webhook_pending(&ep.id) + *here;
            if pending >= hooks.max_pending {
                let error = format!("outbox full: {pending} deliveries wait for this endpoint; event not queued");
                let entry = DeliveryLog {
                    endpoint_id: ep.id.clone(),
                    event_id: id.clone(),
                    event: e.event,
                    status: DeliveryStatus::Dropped,
                    code: None,
                    error: Some(error),
                    attempts: 0,
                    at: now,
                };
                writes.push(Effect::Store(Write::WebhookLog { entry: Box::new(entry) }));
                continue;
            }
            *here += 1;
            let body = if ep.format == WebhookFormat::Slack { slack.clone() } else { json.clone() };
            let delivery = Delivery {
                endpoint_id: ep.id.clone(),
                event_id: id.clone(),
                event: e.event,
                user_id: e.user_id.to_owned(),
                body,
                at: now,
            };
            writes.push(Effect::Store(Write::WebhookQueue { delivery: Box::new(delivery) }));
        }
    }
    if writes.iter().any(|w| matches!(w, Effect::Store(Write::WebhookQueue { .. }))) {
        writes.push(Effect::WakeAt(now));
    }
    writes
}

/// The events a step's effects cause, queued with its writes (before any of its sends).
pub fn emit(mut effects: Vec<Effect>, view: &dyn View, now: i64, fresh: &mut dyn Fresh) -> Vec<Effect> {
    if !view.webhooks().endpoints.iter().any(|e| e.enabled) {
        return effects;
    }
    let mut events = Vec::new();
    for effect in &effects {
        match effect {
            Effect::Store(Write::Append { user_id, message, .. }) if message.sender == Author::User => {
                if view.conversation(user_id).is_none_or(|c| c.last.is_none()) {
                    let event = WebhookEvent::ConversationCreated;
                    events.push(Emitted { event, user_id, message: Some(message), waiting_since: None });
                }
                let event = WebhookEvent::MessageCreated;
                events.push(Emitted { event, user_id, message: Some(message), waiting_since: None });
            }
            Effect::Store(Write::Status { user_id, status: Status::Resolved, .. }) => {
                let line = effects.iter().find_map(|e| match e {
                    Effect::Store(Write::Append { user_id: u, message, .. })
                        if u == user_id && message.event.as_ref().is_some_and(|i| i.kind == "resolved") =>
                    {
                        Some(message)
                    }
                    _ => None,
                });
                let event = WebhookEvent::ConversationResolved;
                events.push(Emitted { event, user_id, message: line, waiting_since: None });
            }
            _ => {}
        }
    }
    if events.is_empty() {
        return effects;
    }
    let writes = enqueue(&events, view, now, fresh);
    let at = effects.iter().position(|e| !matches!(e, Effect::Store(_))).unwrap_or(effects.len());
    effects.splice(at..at, writes);
    effects
}

/// `conversation.unanswered` for `user_id`, whose visitor has waited since `waiting_since`: the
/// seam the unanswered rule calls (it decides when; this queues the deliveries).
pub fn unanswered(user_id: &str, waiting_since: i64, view: &dyn View, now: i64, fresh: &mut dyn Fresh) -> Vec<Effect> {
    let event = WebhookEvent::ConversationUnanswered;
    enqueue(&[Emitted { event, user_id, message: None, waiting_since: Some(waiting_since) }], view, now, fresh)
}

fn manager(agent: &Agent) -> Result<(), FrameError> {
    if agent.role == Role::Agent {
        return Err(FrameError::Forbidden("only the owner and admins manage webhooks"));
    }
    Ok(())
}

/// The `webhooks` frame for these endpoints (what the store holds once this step's writes are done).
fn frame(endpoints: &[Endpoint], view: &dyn View) -> Outbound {
    let endpoints = endpoints
        .iter()
        .map(|e| WebhookEndpoint {
            id: e.id.clone(),
            url: e.url.clone(),
            events: e.events.clone(),
            format: e.format,
            enabled: e.enabled,
            secret: e.secret.clone(),
            pending: view.webhook_pending(&e.id).min(u32::MAX as usize) as u32,
        })
        .collect();
    let mut log = view.webhook_log();
    log.truncate(WEBHOOK_LOG_KEEP);
    Outbound::Webhooks { endpoints, log }
}

/// `webhooks`: the endpoints (with their secrets) and the delivery log, to the owner and admins.
pub(super) fn list(agent: &Agent, view: &dyn View) -> Result<Vec<Effect>, FrameError> {
    manager(agent)?;
    Ok(vec![send(Audience::Sender, frame(&view.webhooks().endpoints, view))])
}

fn new_secret(fresh: &mut dyn Fresh) -> String {
    format!("whsec_{}", crate::auth::hex(&fresh.secret()))
}

/// `webhook_save`: validated as a whole before anything is stored.
pub(super) fn save(
    agent: &Agent,
    s: WebhookSave,
    view: &dyn View,
    now: i64,
    fresh: &mut dyn Fresh,
) -> Result<Vec<Effect>, FrameError> {
    manager(agent)?;
    let hooks = view.webhooks();
    let mut endpoints = hooks.endpoints.clone();
    let at = match &s.id {
        Some(id) => endpoints.iter().position(|e| &e.id == id).ok_or(FrameError::Webhook(WebhookError::Unknown))?,
        None => {
            if s.url.is_none() || s.events.is_none() {
                return Err(FrameError::Webhook(WebhookError::Incomplete));
            }
            if endpoints.len() >= MAX_WEBHOOKS {
                return Err(FrameError::Webhook(WebhookError::TooMany));
            }
            let (id, secret) = (fresh.id(), new_secret(fresh));
            let format = WebhookFormat::Json;
            endpoints.push(Endpoint { id, url: String::new(), events: Vec::new(), format, enabled: true, secret });
            endpoints.len() - 1
        }
    };
    let mut e = endpoints[at].clone();
    if let Some(url) = &s.url {
        e.url = valid_url(url, hooks.allow_loopback).ok_or(FrameError::Webhook(WebhookError::Url))?;
    }
    if let Some(mut events) = s.events {
        events.sort();
        events.dedup();
        if events.is_empty() {
            return Err(FrameError::Webhook(WebhookError::NoEvents));
        }
        e.events = events;
    }
    e.format = s.format.unwrap_or(e.format);
    e.enabled = s.enabled.unwrap_or(e.enabled);
    if s.rotate_secret && s.id.is_some() {
        e.secret = new_secret(fresh);
    }
    endpoints[at] = e.clone();
    Ok(vec![
        Effect::Store(Write::WebhookSave { endpoint: Box::new(e) }),
        send(Audience::Sender, frame(&endpoints, view)),
        // Deliveries held while it was disabled go now.
        Effect::WakeAt(now),
    ])
}

/// `webhook_delete`: the endpoint and its waiting deliveries go; its log rows stay.
pub(super) fn delete(agent: &Agent, id: String, view: &dyn View) -> Result<Vec<Effect>, FrameError> {
    manager(agent)?;
    let mut endpoints = view.webhooks().endpoints.clone();
    let before = endpoints.len();
    endpoints.retain(|e| e.id != id);
    if endpoints.len() == before {
        return Err(FrameError::Webhook(WebhookError::Unknown));
    }
    Ok(vec![Effect::Store(Write::WebhookDelete { id }), send(Audience::Sender, frame(&endpoints, view))])
}
