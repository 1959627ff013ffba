//! A message as the desk stores and sends it (`welcome`, `history`, live), and what an event
//! message records; what a visitor may see of one.

use serde::{Deserialize, Serialize};

use super::Author;

/// A message as stored and as shown in `welcome` and `history`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireMessage {
    pub id: String,
    pub seq: i64,
    pub sender: Author,
    pub message: String,
    pub at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_msg_id: Option<String>,
    /// For agents' replies and notes: who wrote it (admins only; stripped for visitors).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    /// For agents' replies (everyone) and notes: the agent's display name when written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_name: Option<String>,
    /// For events: what happened, for programs (`message` says it for people).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<EventInfo>,
}

impl WireMessage {
    /// The message as a visitor may see it: without the agent's id, or what an event records
    /// (the away message is an `admin` message with event `away`, for agents' eyes).
    pub fn for_visitor(mut self) -> Self {
        self.agent_id = None;
        self.event = None;
        self
    }
}

/// What an event message records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct EventInfo {
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<i64>,
}
