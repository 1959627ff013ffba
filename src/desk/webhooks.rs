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

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

use super::{send, Agent, Audience, Effect, Fresh, View, Write};
use crate::error::{FrameError, WebhookError};
use crate::protocol::webhooks::{
    DeliveryLog, DeliveryStatus, WebhookEndpoint, MAX_WEBHOOKS, MAX_WEBHOOK_URL, WEBHOOK_LOG_KEEP, WEBHOOK_MAX_PENDING,
};
use crate::protocol::{Author, Outbound, Role, Status, WebhookEvent, WebhookFormat, WebhookSave, WireMessage};

/// Failed deliveries are retried for this long after the event, then given up: 24 hours.
pub const GIVE_UP_AFTER_MS: i64 = 24 * 3600 * 1000;
/// The first retry waits this long (`WEBHOOK_RETRY_BASE_MS` changes it), each next one twice as long…
pub const DEFAULT_RETRY_BASE_MS: i64 = 30_000;
/// …up to an hour between attempts.
pub const MAX_BACKOFF_MS: i64 = 3600 * 1000;
/// Characters of a message quoted in a Slack text.
const SLACK_QUOTE_CHARS: usize = 500;

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

/// `X-Signature`'s value: `sha256=` and the hex HMAC-SHA256 of the exact body, keyed with the
/// endpoint's secret.
pub fn signature(secret: &str, body: &str) -> String {
    // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(body.as_bytes());
    format!("sha256={}", crate::auth::hex(&mac.finalize().into_bytes()))
}

/// What an attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// The receiver answered with this HTTP status.
    Answered(u16),
    /// No answer: a network error or the timeout.
    Failed(String),
}

/// What follows an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Delivered,
    Retry { at: i64 },
    GiveUp,
}

/// After the `attempts`-th attempt of a delivery queued at `queued_at`: a 2xx is delivered; a 4xx
/// other than 408 and 429 is given up (the receiver refuses it, a retry would not change that);
/// anything else is retried after `base_ms` × 2^(attempts−1) (at most an hour), unless that is
/// more than 24 hours after the event.
pub fn after_attempt(attempt: &Attempt, attempts: u32, queued_at: i64, now: i64, base_ms: i64) -> Next {
    match attempt {
        Attempt::Answered(200..=299) => return Next::Delivered,
        Attempt::Answered(code @ 400..=499) if *code != 408 && *code != 429 => return Next::GiveUp,
        _ => {}
    }
    let at = now + backoff(base_ms, attempts);
    if at - queued_at > GIVE_UP_AFTER_MS {
        Next::GiveUp
    } else {
        Next::Retry { at }
    }
}

/// The wait after the `attempts`-th failure.
pub fn backoff(base_ms: i64, attempts: u32) -> i64 {
    let doublings = attempts.saturating_sub(1).min(30);
    base_ms.max(1).saturating_mul(1 << doublings).min(MAX_BACKOFF_MS)
}

/// An endpoint URL as the desk keeps it: `https://host[:port]/…`, no credentials, no white space;
/// `http://` only to a loopback host and only when the deployment allows it (local runs, tests).
pub fn valid_url(raw: &str, allow_loopback: bool) -> Option<String> {
    let url = raw.trim();
    if url.len() > MAX_WEBHOOK_URL || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return None;
    }
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (host, after) = v6.split_once(']')?;
            (host, after.strip_prefix(':'))
        }
        None => match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    let host_ok = !host.is_empty()
        && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
        && (authority.starts_with('[') || !host.contains(':'));
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    if !host_ok || !port_ok {
        return None;
    }
    let host = host.to_ascii_lowercase();
    let loopback = host == "localhost" || host.starts_with("127.") || host == "::1";
    match scheme.to_ascii_lowercase().as_str() {
        "https" => Some(url.to_owned()),
        "http" if allow_loopback && loopback => Some(url.to_owned()),
        _ => None,
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Payload<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    event: WebhookEvent,
    at: i64,
    desk: &'a str,
    conversation: PayloadConversation<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<PayloadMessage<'a>>,
    /// Who resolved it.
    #[serde(skip_serializing_if = "Option::is_none")]
    agent: Option<PayloadAgent<'a>>,
    /// Unanswered: since when the visitor waits.
    #[serde(skip_serializing_if = "Option::is_none")]
    waiting_since: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PayloadConversation<'a> {
    user_id: &'a str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
}

#[derive(Serialize)]
struct PayloadMessage<'a> {
    id: &'a str,
    seq: i64,
    text: &'a str,
    at: i64,
}

#[derive(Serialize)]
struct PayloadAgent<'a> {
    id: &'a str,
    name: &'a str,
}

/// One event a step emits, before it is queued per endpoint.
struct Emitted<'a> {
    event: WebhookEvent,
    user_id: &'a str,
    /// The visitor's message, or the `resolved` event line (whose author is the agent).
    message: Option<&'a WireMessage>,
    waiting_since: Option<i64>,
}

fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn quote(text: &str) -> String {
    let mut cut: String = text.chars().take(SLACK_QUOTE_CHARS).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    slack_escape(&cut)
}

/// The two bodies of an event (JSON and Slack), rendered once for every endpoint.
fn bodies(hooks: &Hooks, e: &Emitted, id: &str, now: i64, view: &dyn View) -> (String, String) {
    let conversation = view.conversation(e.user_id);
    let name = conversation.as_ref().map_or_else(|| super::default_name(e.user_id), |c| c.name.clone());
    let email = conversation.as_ref().and_then(|c| c.email.as_deref());
    let resolved = e.event == WebhookEvent::ConversationResolved;
    let agent = e.message.filter(|_| resolved).and_then(|m| {
        let info = m.event.as_ref()?;
        Some(PayloadAgent { id: info.agent_id.as_deref()?, name: info.agent_name.as_deref()? })
    });
    let text = if resolved { None } else { e.message };
    let payload = Payload {
        id,
        event: e.event,
        at: now,
        desk: &hooks.desk,
        conversation: PayloadConversation { user_id: e.user_id, name: &name, email },
        message: text.map(|m| PayloadMessage { id: &m.id, seq: m.seq, text: &m.message, at: m.at }),
        agent: agent.as_ref().map(|a| PayloadAgent { id: a.id, name: a.name }),
        waiting_since: e.waiting_since,
    };
    // Strings and numbers only: serialising cannot fail.
    let json = serde_json::to_string(&payload).unwrap_or_default();
    let (who, desk) = (slack_escape(&name), slack_escape(&hooks.desk));
    let said = text.map(|m| quote(&m.message)).unwrap_or_default();
    let line = match e.event {
        WebhookEvent::ConversationCreated => format!("New conversation on {desk} from {who}: {said}"),
        WebhookEvent::MessageCreated => format!("{who} wrote on {desk}: {said}"),
        WebhookEvent::ConversationUnanswered => format!("{who} is waiting for an answer on {desk}"),
        WebhookEvent::ConversationResolved => {
            let by = agent.as_ref().map_or_else(|| "An agent".to_owned(), |a| slack_escape(a.name));
            format!("{by} resolved the conversation with {who} on {desk}")
        }
    };
    let slack = serde_json::json!({ "text": line }).to_string();
    (json, slack)
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
