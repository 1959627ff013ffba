//! The wire contract: every frame a client may send or receive, its limits, and the one `parse`.
//!
//! This module (with its files) is the single source of truth for `docs/protocol.md`. Inbound
//! frames are parsed in one place ([`parse`], `protocol/inbound.rs`) into a typed [`Inbound`] or a
//! `FrameError` carrying its wire code; outbound frames are one `#[serde(tag = "type")]` union,
//! [`Outbound`] (`protocol/outbound.rs`), serialised once per send.

use serde::{Deserialize, Serialize};

use crate::json_fields::{unit_enum, Fields, Refused, Schema};

mod budget;
pub mod context;
mod inbound;
mod names;
mod outbound;
pub mod push;
pub mod saved_replies;
mod settings;
pub mod webhooks;
pub use budget::{fitting, json_len, json_text, newest_page, total_fits};
pub use inbound::*;
pub use names::{display_name, visitor_name, NameError};
pub use outbound::*;
pub use settings::*;
pub use webhooks::{WebhookEvent, WebhookFormat, WebhookSave};

/// Longest message text, in Unicode scalar values (what `str::chars` counts).
pub const MAX_MESSAGE_CHARS: usize = 4_000;
/// Largest text frame accepted, in bytes. A 4,000-character message fits with room for escaping.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
/// Largest frame the desk sends, in bytes of JSON text (UTF-8). Every list in a frame (messages,
/// rows, results) is cut to fit; a cut page says so (`hasMore`, a `cursor`), and a resume whose
/// replay would not fit gets a fresh snapshot instead.
pub const MAX_SEND_BYTES: usize = 256 * 1024;
/// Longest `clientMsgId`; it is an idempotency key, usually a UUID.
pub const MAX_CLIENT_MSG_ID_CHARS: usize = 100;
/// Longest visitor display name.
pub const MAX_NAME_CHARS: usize = 64;
/// Messages in a `welcome` (the newest ones; `hasMore` tells if older exist).
pub const WELCOME_MESSAGES: u32 = 200;
/// `history.limit` when not given, and its ceiling.
pub const HISTORY_DEFAULT_LIMIT: u32 = 100;
pub const HISTORY_MAX_LIMIT: u32 = 200;
/// Most missed messages replayed on a resume; a larger gap gets a fresh snapshot instead.
pub const RESUME_MAX_MESSAGES: u32 = 500;
/// Longest `epoch` a client may send back (the desk's own are 32 hex characters).
pub const MAX_EPOCH_CHARS: usize = 64;
/// Rows in the `users` snapshot (newest activity first).
pub const MAX_USERS_ROWS: u32 = 500;
/// Characters of the latest message shown as a row's preview.
pub const PREVIEW_CHARS: usize = 140;
/// `list.limit` when not given, and its ceiling.
pub const LIST_DEFAULT_LIMIT: u32 = 50;
pub const LIST_MAX_LIMIT: u32 = 100;
/// `search.limit` when not given, and its ceiling; the longest query.
pub const SEARCH_DEFAULT_LIMIT: u32 = 20;
pub const SEARCH_MAX_LIMIT: u32 = 50;
pub const MAX_QUERY_CHARS: usize = 200;
/// Longest agent email (RFC 5321's path limit).
pub const MAX_EMAIL_CHARS: usize = 254;
/// Longest attachment id a client may ask a URL for (the desk's own are UUIDs, 36 characters).
pub const MAX_ATTACHMENT_ID_CHARS: usize = 64;
/// How far ahead a conversation may be snoozed: a year.
pub const MAX_SNOOZE_MS: i64 = 366 * 24 * 3600 * 1000;
/// At most one `typing` frame of a sender is forwarded per this many ms; the rest are dropped.
pub const TYPING_EVERY_MS: i64 = 2_000;
/// How long a client shows "typing…" after the last `typing` frame (the message itself clears it).
pub const TYPING_SHOWN_MS: i64 = 6_000;

/// Who wrote a message: the visitor (`user`), an agent's reply (`admin`), or, seen by agents
/// only, an agent's internal note or an event of the conversation (status, assignment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Author {
    User,
    Admin,
    Note,
    Event,
}

impl Author {
    pub fn as_str(self) -> &'static str {
        match self {
            Author::User => "user",
            Author::Admin => "admin",
            Author::Note => "note",
            Author::Event => "event",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "user" => Author::User,
            "admin" => Author::Admin,
            "note" => Author::Note,
            "event" => Author::Event,
            _ => return None,
        })
    }

    /// Whether the visitor sees messages of this kind (notes and events are for agents only).
    pub fn public(self) -> bool {
        matches!(self, Author::User | Author::Admin)
    }
}

/// Where a conversation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    #[default]
    Open,
    Snoozed,
    Resolved,
    /// An owner or admin blocked the visitor: out of every list, refused at connect, until reopened.
    Blocked,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Snoozed => "snoozed",
            Status::Resolved => "resolved",
            Status::Blocked => "blocked",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(Status::Open),
            "snoozed" => Some(Status::Snoozed),
            "resolved" => Some(Status::Resolved),
            "blocked" => Some(Status::Blocked),
            _ => None,
        }
    }
}

/// An agent's role: the owner (built in, signs in with `ADMIN_TOKEN`), admins (manage the
/// team), agents (answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Admin,
    Agent,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Agent => "agent",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "agent" => Some(Role::Agent),
            _ => None,
        }
    }
}

/// The roles an invite may give (the owner is built in, never invited).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteRole {
    Admin,
    Agent,
}
unit_enum!(InviteRole { Admin = "admin", Agent = "agent" });

impl From<InviteRole> for Role {
    fn from(r: InviteRole) -> Self {
        match r {
            InviteRole::Admin => Role::Admin,
            InviteRole::Agent => Role::Agent,
        }
    }
}

/// The sidebar's views (`list.view`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ListView {
    #[default]
    Open,
    Mine,
    Unassigned,
    Snoozed,
    Resolved,
    /// Every conversation but the blocked ones.
    All,
    /// Blocked visitors (owners and admins only).
    Blocked,
}
unit_enum!(ListView {
    Open = "open",
    Mine = "mine",
    Unassigned = "unassigned",
    Snoozed = "snoozed",
    Resolved = "resolved",
    All = "all",
    Blocked = "blocked",
});

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
    /// A file sent with the message (its `message` is then the file's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<crate::attachments::Attachment>,
}

impl WireMessage {
    /// The message as a visitor may see it: without the agent's id.
    pub fn for_visitor(mut self) -> Self {
        self.agent_id = None;
        self
    }
}

/// What an event message records. (`Deserialize` is for `WireMessage`'s, which host tests use;
/// the wasm reads stored events with [`EventInfo::read`].)
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

impl EventInfo {
    /// An event as stored (its JSON as written by `Serialize`), by `json_fields`.
    pub fn read(text: &str) -> Result<EventInfo, Refused> {
        const SCHEMA: &Schema = &[
            ("kind", false),
            ("agentId", true),
            ("agentName", true),
            ("assigneeId", true),
            ("assigneeName", true),
            ("until", true),
        ];
        let mut f = Fields::parse_struct(text, SCHEMA)?;
        Ok(EventInfo {
            kind: f.str("kind")?,
            agent_id: f.opt_str("agentId")?,
            agent_name: f.opt_str("agentName")?,
            assignee_id: f.opt_str("assigneeId")?,
            assignee_name: f.opt_str("assigneeName")?,
            until: f.opt_i64("until")?,
        })
    }
}

/// The exact frames the runtime answers without waking the object (see `desk_object.rs`).
pub const PING_FRAME: &str = r#"{"type":"ping"}"#;
pub const PONG_FRAME: &str = r#"{"type":"pong"}"#;
