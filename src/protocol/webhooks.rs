//! Webhooks as they travel: the management frames (`webhooks`, `webhook_save`, `webhook_delete`),
//! the endpoint and delivery-log rows the `webhooks` answer carries, the event types, and their
//! limits. What they mean (who may, which events a step emits, retries) is `desk::webhooks`.

use serde::{Deserialize, Serialize};

use crate::json_fields::unit_enum;

/// Most endpoints a desk keeps.
pub const MAX_WEBHOOKS: usize = 10;
/// Longest endpoint URL, in bytes.
pub const MAX_WEBHOOK_URL: usize = 2_048;
/// Deliveries waiting per endpoint by default (`WEBHOOK_MAX_PENDING` changes it): when an
/// endpoint has this many undelivered, a new event is not queued for it (logged as `dropped`).
pub const WEBHOOK_MAX_PENDING: usize = 1_000;
/// Delivery-log rows a desk keeps (the newest).
pub const WEBHOOK_LOG_KEEP: usize = 100;

/// What a webhook is told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum WebhookEvent {
    /// A visitor's first message.
    #[serde(rename = "conversation.created")]
    ConversationCreated,
    /// Every visitor message.
    #[serde(rename = "message.created")]
    MessageCreated,
    /// No agent reply some minutes after a visitor message (decided by the unanswered rule).
    #[serde(rename = "conversation.unanswered")]
    ConversationUnanswered,
    /// An agent resolved the conversation.
    #[serde(rename = "conversation.resolved")]
    ConversationResolved,
}
unit_enum!(WebhookEvent {
    ConversationCreated = "conversation.created",
    MessageCreated = "message.created",
    ConversationUnanswered = "conversation.unanswered",
    ConversationResolved = "conversation.resolved",
});

impl WebhookEvent {
    pub const ALL: [WebhookEvent; 4] = [
        WebhookEvent::ConversationCreated,
        WebhookEvent::MessageCreated,
        WebhookEvent::ConversationUnanswered,
        WebhookEvent::ConversationResolved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEvent::ConversationCreated => "conversation.created",
            WebhookEvent::MessageCreated => "message.created",
            WebhookEvent::ConversationUnanswered => "conversation.unanswered",
            WebhookEvent::ConversationResolved => "conversation.resolved",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// How a delivery's body is shaped: the desk's JSON event, or `{"text": ...}` for a Slack
/// incoming webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum WebhookFormat {
    #[default]
    Json,
    Slack,
}
unit_enum!(WebhookFormat { Json = "json", Slack = "slack" });

impl WebhookFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookFormat::Json => "json",
            WebhookFormat::Slack => "slack",
        }
    }
}

/// `webhook_save`: creates an endpoint (no `id`: `url` and `events` needed) or changes one
/// (absent fields keep their value; `rotateSecret` gives it a new secret).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct WebhookSave {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub events: Option<Vec<WebhookEvent>>,
    #[serde(default)]
    pub format: Option<WebhookFormat>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub rotate_secret: bool,
}

/// An endpoint as the desk stores it and shows it to the owner and admins (secret included:
/// they configure the receiver with it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEndpoint {
    pub id: String,
    pub url: String,
    pub events: Vec<WebhookEvent>,
    pub format: WebhookFormat,
    pub enabled: bool,
    pub secret: String,
    /// Deliveries waiting (or retrying) for it.
    pub pending: u32,
}

/// What happened to one delivery attempt (or to an event that could not be queued).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// The receiver answered 2xx.
    Delivered,
    /// The attempt failed; another follows.
    Retrying,
    /// Given up: a 4xx other than 408/429, or 24 hours of failures.
    Failed,
    /// Never queued: the endpoint's outbox was full.
    Dropped,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Retrying => "retrying",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Dropped => "dropped",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Delivered, Self::Retrying, Self::Failed, Self::Dropped].into_iter().find(|d| d.as_str() == s)
    }
}

/// One row of the delivery log, newest first in the `webhooks` frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryLog {
    pub endpoint_id: String,
    pub event_id: String,
    pub event: WebhookEvent,
    pub status: DeliveryStatus,
    /// The receiver's HTTP status, when it answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
    /// Why it failed, when it did (a network error, a timeout, a full outbox).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Attempts so far (0 for a dropped event).
    pub attempts: u32,
    pub at: i64,
}
