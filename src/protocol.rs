//! The wire contract: every frame a client may send or receive, its limits, and the one `parse`.
//!
//! This file is the single source of truth for `docs/protocol.md`. Inbound frames are parsed in
//! one place ([`parse`]) into a typed [`Inbound`] or a [`FrameError`] carrying its wire code;
//! outbound frames are one `#[serde(tag = "type")]` union, [`Outbound`], serialised once per send.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::FrameError;

/// Longest message text, in Unicode scalar values (what `str::chars` counts).
pub const MAX_MESSAGE_CHARS: usize = 4_000;
/// Largest text frame accepted, in bytes. A 4,000-character message fits with room for escaping.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
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

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Author {
    User,
    Admin,
}

impl Author {
    pub fn as_str(self) -> &'static str {
        match self {
            Author::User => "user",
            Author::Admin => "admin",
        }
    }
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
    Read { user_id: String },
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
}

/// The `type`s [`Inbound`] knows, to tell `unknown_type` from `bad_frame`.
const INBOUND_TYPES: [&str; 4] = ["message", "read", "history", "ping"];

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
    let frame: Inbound =
        serde_json::from_value(value).map_err(|e| FrameError::BadFrame(e.to_string()))?;
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

fn check_limits(frame: &Inbound) -> Result<(), FrameError> {
    match frame {
        Inbound::Message { message, client_msg_id, .. } => {
            if let Some(id) = client_msg_id {
                if !valid_client_msg_id(id) {
                    return Err(FrameError::BadFrame(format!(
                        "clientMsgId must be 1 to {MAX_CLIENT_MSG_ID_CHARS} characters"
                    )));
                }
            }
            if message.chars().all(|c| c.is_whitespace() || invisible(c)) {
                return Err(FrameError::EmptyMessage);
            }
            if message.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
                return Err(FrameError::BadFrame("message may not contain control characters other than line breaks and tabs".into()));
            }
            if message.chars().count() > MAX_MESSAGE_CHARS {
                return Err(FrameError::MessageTooLong);
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

fn valid_client_msg_id(id: &str) -> bool {
    let n = id.chars().count();
    (1..=MAX_CLIENT_MSG_ID_CHARS).contains(&n)
}

/// A desk name is 1 to 64 of `[A-Za-z0-9_-]`: safe in a URL, a log line and an object name.
pub fn valid_desk_name(desk: &str) -> bool {
    (1..=64).contains(&desk.len())
        && desk.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A visitor display name: trimmed, 1 to 64 characters, something visible, no control characters
/// and no bidirectional overrides (which could make a name in the inbox read as another).
pub fn visitor_name(raw: &str) -> Option<String> {
    let name = raw.trim();
    let n = name.chars().count();
    let bidi = |c: char| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
    ((1..=MAX_NAME_CHARS).contains(&n)
        && !name.chars().any(|c| c.is_control() || bidi(c))
        && !name.chars().all(|c| c.is_whitespace() || invisible(c)))
    .then(|| name.to_owned())
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
}

/// One row of the admin sidebar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRow {
    pub user_id: String,
    pub name: String,
    pub unread: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_sender: Option<Author>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_at: Option<i64>,
    pub online: bool,
    /// The host site's user id when the site vouched for this visitor (verified identity).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified_id: Option<String>,
}

/// Every frame the server sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Outbound {
    #[serde(rename_all = "camelCase")]
    Welcome {
        user_id: String,
        token: String,
        name: String,
        /// `resumed`: only the messages after the client's `since`; else the latest page.
        messages: Vec<WireMessage>,
        has_more: bool,
        epoch: String,
        resumed: bool,
        /// Set for a verified visitor (then `token` is empty: it presents its identity again).
        #[serde(skip_serializing_if = "Option::is_none")]
        verified_id: Option<String>,
    },
    /// The sidebar. `seq` is the desk's latest; `resumed` says the missed messages follow.
    #[serde(rename_all = "camelCase")]
    Users { users: Vec<UserRow>, epoch: String, seq: i64, resumed: bool },
    User { user: UserRow },
    /// A message delivered live. `user_id` names the conversation for admins; visitors get none.
    #[serde(rename_all = "camelCase")]
    Message {
        sender: Author,
        #[serde(skip_serializing_if = "Option::is_none")]
        user_id: Option<String>,
        message: String,
        id: String,
        seq: i64,
        at: i64,
        #[serde(skip_serializing_if = "Option::is_none")]
        client_msg_id: Option<String>,
    },
    #[serde(rename_all = "camelCase")]
    Ack {
        #[serde(skip_serializing_if = "Option::is_none")]
        client_msg_id: Option<String>,
        id: String,
        seq: i64,
        at: i64,
        #[serde(skip_serializing_if = "Option::is_none")]
        user_id: Option<String>,
    },
    #[serde(rename_all = "camelCase")]
    History { user_id: String, messages: Vec<WireMessage>, has_more: bool },
    Pong,
    #[serde(rename_all = "camelCase")]
    Error {
        code: &'static str,
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        client_msg_id: Option<String>,
        /// For `rate_limited`: when the client may send again.
        #[serde(skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
    },
}

impl Outbound {
    /// The frame for a refused client frame.
    pub fn error(err: &FrameError, client_msg_id: Option<String>) -> Self {
        Outbound::Error { code: err.code(), message: err.to_string(), client_msg_id, retry_after_ms: err.retry_after_ms() }
    }

    /// JSON text of the frame. Serialising these types cannot fail (no maps with non-string
    /// keys, no custom serialisers); the fallback keeps a bug from ever panicking in wasm.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| {
            r#"{"type":"error","code":"internal","message":"frame could not be encoded"}"#.into()
        })
    }
}

/// The exact frames the runtime answers without waking the object (see `desk_object.rs`).
pub const PING_FRAME: &str = r#"{"type":"ping"}"#;
pub const PONG_FRAME: &str = r#"{"type":"pong"}"#;
