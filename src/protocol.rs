//! The wire contract: every frame a client may send or receive, its limits, and the one `parse`.
//!
//! This file is the single source of truth for `docs/protocol.md`. Inbound frames are parsed in
//! one place ([`parse`]) into a typed [`Inbound`] or a [`FrameError`] carrying its wire code;
//! outbound frames are one `#[serde(tag = "type")]` union, [`Outbound`], serialised once per send.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::FrameError;

mod budget;
mod message;
mod names;
mod outbound;
mod settings;
pub use budget::{fitting, json_len, newest_page, total_fits};
pub use message::{EventInfo, WireMessage};
pub use names::{display_name, visitor_name, NameError};
pub use outbound::*;
pub use settings::*;

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
/// How far ahead a conversation may be snoozed: a year.
pub const MAX_SNOOZE_MS: i64 = 366 * 24 * 3600 * 1000;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InviteRole {
    Admin,
    Agent,
}

impl From<InviteRole> for Role {
    fn from(r: InviteRole) -> Self {
        match r {
            InviteRole::Admin => Role::Admin,
            InviteRole::Agent => Role::Agent,
        }
    }
}

/// The sidebar's views (`list.view`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
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

/// A frame from a client, after [`parse`]. Which role may send which frame is the core's call.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Inbound {
    #[serde(rename_all = "camelCase")]
    Message {
        message: String,
        #[serde(default)]
        target_user_id: Option<String>,
        #[serde(default)]
        client_msg_id: Option<String>,
    },
    #[serde(rename_all = "camelCase")]
    Read {
        user_id: String,
    },
    #[serde(rename_all = "camelCase")]
    Resolve {
        user_id: String,
    },
    #[serde(rename_all = "camelCase")]
    Reopen {
        user_id: String,
    },
    #[serde(rename_all = "camelCase")]
    Snooze {
        user_id: String,
        until: i64,
    },
    /// `agentId: null` (or absent) unassigns.
    #[serde(rename_all = "camelCase")]
    Assign {
        user_id: String,
        #[serde(default)]
        agent_id: Option<String>,
    },
    #[serde(rename_all = "camelCase")]
    Unread {
        user_id: String,
    },
    #[serde(rename_all = "camelCase")]
    Note {
        user_id: String,
        message: String,
        #[serde(default)]
        client_msg_id: Option<String>,
    },
    List {
        #[serde(default)]
        view: ListView,
        #[serde(default)]
        cursor: Option<String>,
        #[serde(default)]
        limit: Option<u32>,
    },
    Search {
        query: String,
        #[serde(default)]
        limit: Option<u32>,
    },
    Profile {
        name: String,
    },
    Invite {
        name: String,
        role: InviteRole,
        #[serde(default)]
        email: Option<String>,
    },
    Agents,
    #[serde(rename_all = "camelCase")]
    Revoke {
        agent_id: String,
    },
    /// Owner/admin: the visitor, its conversation, messages and search entries go.
    #[serde(rename_all = "camelCase")]
    Delete {
        user_id: String,
    },
    /// Owner/admin: the visitor is shut out (status `blocked`); `reopen` lets it back.
    #[serde(rename_all = "camelCase")]
    Block {
        user_id: String,
    },
    #[serde(rename_all = "camelCase")]
    History {
        #[serde(default)]
        user_id: Option<String>,
        #[serde(default)]
        before: Option<i64>,
        #[serde(default)]
        limit: Option<u32>,
    },
    Ping,
    /// An agent sets its own status (`online` or `away`).
    Status {
        status: AgentStatus,
    },
    /// An agent asks for the desk's settings.
    Settings,
    /// The owner or an admin changes settings (absent fields keep their value).
    #[serde(rename = "settings_update")]
    SettingsUpdate(SettingsUpdate),
    /// A visitor leaves its email (`email`); an agent edits a visitor's (`userId`, `email`,
    /// `null` or `""` to remove it).
    #[serde(rename_all = "camelCase")]
    Email {
        #[serde(default)]
        email: Option<String>,
        #[serde(default)]
        user_id: Option<String>,
    },
}

/// The `type`s [`Inbound`] knows, to tell `unknown_type` from `bad_frame`.
const INBOUND_TYPES: [&str; 22] = [
    "message",
    "read",
    "history",
    "ping",
    "resolve",
    "reopen",
    "snooze",
    "assign",
    "unread",
    "note",
    "list",
    "search",
    "profile",
    "invite",
    "agents",
    "revoke",
    "delete",
    "block",
    "status",
    "settings",
    "settings_update",
    "email",
];

/// Turns one text frame into a typed frame, or the error to answer it with.
///
/// Order matters for the codes: size first (no parsing of a huge frame), then JSON, then `type`,
/// then the shape of the known frame, then field limits.
pub fn parse(text: &str) -> Result<Inbound, FrameError> {
    if text.len() > MAX_FRAME_BYTES {
        return Err(FrameError::FrameTooLarge);
    }
    let value: Value = serde_json::from_str(text).map_err(|_| FrameError::BadJson)?;
    let Value::Object(map) = &value else {
        return Err(FrameError::BadJson);
    };
    match map.get("type").and_then(Value::as_str) {
        Some(t) if INBOUND_TYPES.contains(&t) => {}
        Some(t) => return Err(FrameError::UnknownType(truncate(t, 40).to_owned())),
        None => return Err(FrameError::UnknownType(String::new())),
    }
    let frame: Inbound = serde_json::from_value(value).map_err(|e| FrameError::BadFrame(e.to_string()))?;
    check_limits(&frame)?;
    Ok(frame)
}

/// The `clientMsgId` of a frame that may have failed to parse, so an error can echo it.
pub fn peek_client_msg_id(text: &str) -> Option<String> {
    if text.len() > MAX_FRAME_BYTES {
        return None;
    }
    let value: Value = serde_json::from_str(text).ok()?;
    let id = value.get("clientMsgId")?.as_str()?;
    valid_client_msg_id(id).then(|| id.to_owned())
}

fn check_text(message: &str, client_msg_id: Option<&String>) -> Result<(), FrameError> {
    if let Some(id) = client_msg_id {
        if !valid_client_msg_id(id) {
            return Err(FrameError::BadFrame(format!("clientMsgId must be 1 to {MAX_CLIENT_MSG_ID_CHARS} characters")));
        }
    }
    if message.chars().all(|c| c.is_whitespace() || invisible(c)) {
        return Err(FrameError::EmptyMessage);
    }
    if message.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(FrameError::BadFrame(
            "message may not contain control characters other than line breaks and tabs".into(),
        ));
    }
    if message.chars().count() > MAX_MESSAGE_CHARS {
        return Err(FrameError::MessageTooLong);
    }
    Ok(())
}

fn check_limits(frame: &Inbound) -> Result<(), FrameError> {
    match frame {
        Inbound::Message { message, client_msg_id, .. } | Inbound::Note { message, client_msg_id, .. } => {
            check_text(message, client_msg_id.as_ref())?;
        }
        Inbound::List { limit: Some(limit), .. } if !(1..=LIST_MAX_LIMIT).contains(limit) => {
            return Err(FrameError::BadFrame(format!("limit must be 1 to {LIST_MAX_LIMIT}")));
        }
        Inbound::List { cursor: Some(cursor), .. } if parse_cursor(cursor).is_none() => {
            return Err(FrameError::BadFrame("cursor must be one a list frame gave".into()));
        }
        Inbound::Search { query, limit } => {
            if limit.is_some_and(|l| !(1..=SEARCH_MAX_LIMIT).contains(&l)) {
                return Err(FrameError::BadFrame(format!("limit must be 1 to {SEARCH_MAX_LIMIT}")));
            }
            let n = query.chars().count();
            if query.trim().is_empty() || n > MAX_QUERY_CHARS || query.chars().any(char::is_control) {
                return Err(FrameError::BadFrame(format!("query must be 1 to {MAX_QUERY_CHARS} visible characters")));
            }
        }
        Inbound::Profile { name } => {
            display_name(name).map_err(|e| FrameError::BadFrame(e.message().into()))?;
        }
        Inbound::Invite { name, email, .. } => {
            display_name(name).map_err(|e| FrameError::BadFrame(e.message().into()))?;
            if email.as_deref().is_some_and(|e| valid_email(e).is_none()) {
                return Err(FrameError::BadFrame("email must be an address like ana@example.com".into()));
            }
        }
        Inbound::History { before: Some(b), .. } if *b < 1 => {
            return Err(FrameError::BadFrame("before must be a positive seq".into()));
        }
        Inbound::History { limit: Some(0), .. } => {
            return Err(FrameError::BadFrame("limit must be at least 1".into()));
        }
        _ => {}
    }
    Ok(())
}

/// A list cursor: the `seq` of the last row of the previous page, as text.
pub fn parse_cursor(cursor: &str) -> Option<i64> {
    cursor.parse::<i64>().ok().filter(|s| *s > 0)
}

/// An email as agents are matched by it: trimmed, lowercased, `local@domain`, no white space or
/// control characters. `None` if it is not one.
pub fn valid_email(raw: &str) -> Option<String> {
    let email = raw.trim().to_lowercase();
    let (local, domain) = email.split_once('@')?;
    let ok = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && email.chars().count() <= MAX_EMAIL_CHARS
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    ok.then_some(email)
}

fn valid_client_msg_id(id: &str) -> bool {
    let n = id.chars().count();
    (1..=MAX_CLIENT_MSG_ID_CHARS).contains(&n)
}

/// A desk name is 1 to 64 of `[A-Za-z0-9_-]`: safe in a URL, a log line and an object name.
pub fn valid_desk_name(desk: &str) -> bool {
    (1..=64).contains(&desk.len()) && desk.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Characters that print nothing: controls, zero-width spaces and joiners, direction marks, word
/// joiners, the byte-order mark, the soft hyphen. A text of only these (and white space) is empty.
fn invisible(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{00AD}' | '\u{034F}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// The longest prefix of `s` with at most `max` characters, cut on a character boundary.
pub fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// The exact frames the runtime answers without waking the object (see `desk_object.rs`).
pub const PING_FRAME: &str = r#"{"type":"ping"}"#;
pub const PONG_FRAME: &str = r#"{"type":"pong"}"#;
