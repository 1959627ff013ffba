//! Web Push to agents, the core's half: who may subscribe which endpoint (the desk must have
//! VAPID keys; https, or loopback http in tests; at most [`MAX_PER_AGENT`] browsers an agent),
//! queueing a push for an event ([`queue`]: the seam other notifications call), and who is
//! pushed when a batch is due ([`recipients`]).
//!
//! When: a visitor's message queues its conversation's batch; the batch is due
//! [`PushSetup::batch_ms`] after the first message it holds (later ones only update its text and
//! count), so a conversation rings an agent at most once per window. When it is due, every
//! subscription of an agent with no open inbox socket is pushed; an agent with the inbox open
//! is told by the inbox itself (the page's own notification while the tab is hidden). Delivery,
//! retries and forgetting gone subscriptions are the glue's (`desk_object/push.rs`).

use super::*;
use crate::protocol::push::{is_loopback_http, PushKeys};

/// Browsers (subscriptions) one agent may have.
pub const MAX_PER_AGENT: usize = 10;

/// Web Push as this deployment has it (`None` from the view: no VAPID keys, push is off).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushSetup {
    /// The VAPID public key browsers subscribe with (base64url).
    pub public_key: String,
    /// `PUSH_ALLOW_LOOPBACK_HTTP`: endpoints on http://localhost are accepted (tests only).
    pub allow_loopback_http: bool,
    /// `PUSH_BATCH_MS`: how long a conversation's batch collects messages before it is pushed.
    pub batch_ms: i64,
}

/// A stored subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub endpoint: String,
    pub agent_id: String,
    pub keys: PushKeys,
}

/// Something to push about a conversation. Messages of the same `event` and conversation queued
/// within one batch window become one push (the latest text, and how many there were).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushEvent {
    /// `message` (a visitor wrote); other parts may queue their own (`conversation.unanswered`).
    pub event: String,
    pub user_id: String,
    /// The visitor's display name: the notification's title.
    pub name: String,
    pub text: String,
}

/// Push's durable writes (one `Write::Push` variant, so the core's list stays short).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushWrite {
    /// Stored for this agent (an endpoint another agent had moves to this one: it is one browser).
    Subscribe { agent_id: String, endpoint: String, keys: PushKeys },
    /// This agent's subscription forgotten.
    Unsubscribe { agent_id: String, endpoint: String },
    /// Into its conversation's batch, due at `due_at` unless the batch is already waiting.
    Queue { event: PushEvent, due_at: i64 },
}

fn status(view: &dyn View, agent_id: &str) -> Effect {
    status_after(view, view.push_endpoints(agent_id).len())
}

/// `push`: whether push is on, the key to subscribe with, this agent's subscriptions.
pub fn show(agent: &Agent, view: &dyn View) -> Vec<Effect> {
    vec![status(view, &agent.id)]
}

/// `push_subscribe`: the fields' form was checked by `parse`; here what the deployment allows.
pub fn subscribe(agent: &Agent, endpoint: String, keys: PushKeys, view: &dyn View) -> Result<Vec<Effect>, FrameError> {
    let setup = view.push().ok_or(FrameError::PushDisabled)?;
    let allowed = endpoint.starts_with("https://") || (setup.allow_loopback_http && is_loopback_http(&endpoint));
    if !allowed {
        return Err(FrameError::BadSubscription("endpoint must be the push service's https URL"));
    }
    let mine = view.push_endpoints(&agent.id);
    if !mine.contains(&endpoint) && mine.len() >= MAX_PER_AGENT {
        return Err(FrameError::TooMany("at most 10 browsers per agent receive push notifications"));
    }
    let count = mine.len() + usize::from(!mine.contains(&endpoint));
    let write = PushWrite::Subscribe { agent_id: agent.id.clone(), endpoint, keys };
    Ok(vec![Effect::Store(Write::Push(write)), status_after(view, count)])
}

/// `push_unsubscribe`: this agent's subscription goes (another agent's is left alone).
pub fn unsubscribe(agent: &Agent, endpoint: String, view: &dyn View) -> Vec<Effect> {
    let mine = view.push_endpoints(&agent.id);
    if !mine.contains(&endpoint) {
        return vec![status(view, &agent.id)];
    }
    let write = PushWrite::Unsubscribe { agent_id: agent.id.clone(), endpoint };
    vec![Effect::Store(Write::Push(write)), status_after(view, mine.len() - 1)]
}

/// The answer as it will be once the write is applied (the view still shows the state before):
/// `subscriptions` of this agent.
fn status_after(view: &dyn View, subscriptions: usize) -> Effect {
    let setup = view.push();
    let frame = Outbound::Push {
        enabled: setup.is_some(),
        public_key: setup.map(|s| s.public_key),
        subscriptions: subscriptions as u32,
    };
    send(Audience::Sender, frame)
}

/// Queues a push about `event` (the seam other parts call: a visitor's message here,
/// `conversation.unanswered` from the unanswered detection). Nothing when push is off or no one
/// subscribed; otherwise its batch and an alarm by the time it is due.
pub fn queue(event: PushEvent, view: &dyn View, now: i64) -> Vec<Effect> {
    let Some(setup) = view.push() else {
        return Vec::new();
    };
    if !view.push_subscribed() {
        return Vec::new();
    }
    let due_at = now + setup.batch_ms.max(0);
    vec![Effect::Store(Write::Push(PushWrite::Queue { event, due_at })), Effect::WakeAt(due_at)]
}

/// The subscriptions a due batch is pushed to: those of active agents with no open inbox socket.
pub fn recipients(subscriptions: Vec<Subscription>, view: &dyn View) -> Vec<Subscription> {
    subscriptions.into_iter().filter(|s| view.agent(&s.agent_id).is_some() && !view.agent_online(&s.agent_id)).collect()
}

/// A batch waiting in [`PushMemory`]: its latest event, how many it holds, when it is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub event: PushEvent,
    pub count: u32,
    pub due_at: i64,
}

/// Push's state in the in-memory desk (`memory::Memory`), applied as `store/push.rs` does.
#[derive(Debug, Clone, Default)]
pub struct PushMemory {
    /// What the view answers for [`View::push`]; tests set it (`None`: push is off).
    pub setup: Option<PushSetup>,
    /// Subscriptions by endpoint.
    pub subscriptions: std::collections::BTreeMap<String, Subscription>,
    /// Batches by conversation and event.
    pub batches: std::collections::BTreeMap<(String, String), Batch>,
}

impl PushMemory {
    pub fn apply(&mut self, write: &PushWrite) {
        match write {
            PushWrite::Subscribe { agent_id, endpoint, keys } => {
                let sub = Subscription { endpoint: endpoint.clone(), agent_id: agent_id.clone(), keys: keys.clone() };
                self.subscriptions.insert(endpoint.clone(), sub);
            }
            PushWrite::Unsubscribe { agent_id, endpoint } => {
                self.subscriptions.retain(|e, s| !(e == endpoint && &s.agent_id == agent_id));
            }
            PushWrite::Queue { event, due_at } => {
                let key = (event.user_id.clone(), event.event.clone());
                let batch =
                    self.batches.entry(key).or_insert(Batch { event: event.clone(), count: 0, due_at: *due_at });
                batch.event = event.clone();
                batch.count += 1;
            }
        }
    }

    pub fn endpoints(&self, agent_id: &str) -> Vec<String> {
        self.subscriptions.values().filter(|s| s.agent_id == agent_id).map(|s| s.endpoint.clone()).collect()
    }
}
