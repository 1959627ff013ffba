//! The bodies of an event: the desk's JSON, and Slack's `{"text"}` (escaped, a message quoted in part).

use serde::Serialize;

use super::Hooks;
use crate::desk::View;
use crate::protocol::{WebhookEvent, WireMessage};

/// Characters of a message quoted in a Slack text.
const SLACK_QUOTE_CHARS: usize = 500;

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
pub(super) struct Emitted<'a> {
    pub event: WebhookEvent,
    pub user_id: &'a str,
    /// The visitor's message, or the `resolved` event line (whose author is the agent).
    pub message: Option<&'a WireMessage>,
    pub waiting_since: Option<i64>,
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
pub(super) fn bodies(hooks: &Hooks, e: &Emitted, id: &str, now: i64, view: &dyn View) -> (String, String) {
    let conversation = view.conversation(e.user_id);
    let name = conversation.as_ref().map_or_else(|| crate::desk::default_name(e.user_id), |c| c.name.clone());
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
    let json = crate::protocol::json_text(&payload).unwrap_or_default();
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
