//! Frames from clients: the [`Inbound`] union, the one [`parse`] (size, JSON, `type`, shape,
//! then field limits, in that order) and the checks on single fields other parts share.

use serde::de::IntoDeserializer;
use serde::Deserialize;
use serde_json::Value;

use super::*;
use crate::error::FrameError;

/// A frame from a client, after [`parse`]. Which role may send which frame is the core's call.
///
/// On the wire a frame is one object with its `type` among its fields. [`parse`] reads the JSON
/// (as before: the same checks of depth, numbers and text), looks `type` up and hands serde the
/// object as that variant's fields (`Tagged`; no `#[serde(tag)]` here), so serde reads it
/// straight into its variant instead of buffering the whole frame as `Content` again (that
/// buffering cost the wasm ~75 KB of code before gzip).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
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
    /// A short-lived signed URL for an attachment of a conversation the sender may read.
    #[serde(rename = "attachment_url")]
    AttachmentUrl {
        id: String,
    },
    /// A visitor: the page it is on. An agent: `userId` only, asking for that visitor's context.
    Context(context::ContextFrame),
    /// Agents: the desk's saved replies.
    Replies,
    /// Owner/admin: creates (no `id`) or edits a saved reply.
    #[serde(rename = "save_reply")]
    SaveReply {
        #[serde(default)]
        id: Option<String>,
        title: String,
        shortcut: String,
        text: String,
    },
    /// Owner/admin: deletes a saved reply.
    #[serde(rename = "delete_reply")]
    DeleteReply {
        id: String,
    },
    /// "I am typing": a visitor's (no `userId`) or an agent's, for conversation `userId`. Never
    /// stored; forwarded at most once per `TYPING_EVERY_MS` (`desk::typing`).
    #[serde(rename_all = "camelCase")]
    Typing {
        #[serde(default)]
        user_id: Option<String>,
    },
    /// A visitor has shown its conversation up to `seq` on screen (`desk::seen`).
    Seen {
        seq: i64,
    },
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
    /// An agent reads (no fields) or sets its own email alerts: `unanswered` on or off, and
    /// `email`, where they go (`""`: its own email). See `desk::notify`.
    #[serde(rename = "email_alerts")]
    EmailAlerts {
        #[serde(default)]
        unanswered: Option<bool>,
        #[serde(default)]
        email: Option<String>,
    },
    /// Owner/admin: the desk's webhook endpoints and delivery log (`protocol::webhooks`).
    Webhooks,
    /// Owner/admin: creates or changes a webhook endpoint.
    #[serde(rename = "webhook_save")]
    WebhookSave(super::WebhookSave),
    /// Owner/admin: removes a webhook endpoint and what waits to be delivered to it.
    #[serde(rename = "webhook_delete")]
    WebhookDelete {
        id: String,
    },
    /// Web Push (`desk::push`): an agent's browser subscribes, with what `PushManager` gave it.
    #[serde(rename = "push_subscribe")]
    PushSubscribe {
        endpoint: String,
        keys: push::PushKeys,
    },
    /// An agent's browser stops: the subscription is forgotten.
    #[serde(rename = "push_unsubscribe")]
    PushUnsubscribe {
        endpoint: String,
    },
    /// An agent asks whether push is on, with the desk's VAPID public key.
    Push,
}

/// The `type`s [`Inbound`] knows, to tell `unknown_type` from `bad_frame`.
#[rustfmt::skip] // one line per dozen, not one per name
const INBOUND_TYPES: [&str; 36] = [
    "message", "read", "history", "ping", "resolve", "reopen", "snooze", "assign", "unread", "note", "list", "search",
    "profile", "invite", "agents", "revoke", "delete", "block", "context", "replies", "save_reply", "delete_reply",
    "attachment_url", "typing", "seen", "status", "settings", "settings_update", "email", "email_alerts",
    "webhooks", "webhook_save", "webhook_delete",
    "push_subscribe", "push_unsubscribe", "push",
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
    let Value::Object(map) = value else {
        return Err(FrameError::BadJson);
    };
    let tag = match map.get("type").and_then(Value::as_str) {
        Some(t) => match INBOUND_TYPES.iter().find(|known| **known == t) {
            Some(known) => *known,
            None => return Err(FrameError::UnknownType(truncate(t, 40).to_owned())),
        },
        None => return Err(FrameError::UnknownType(String::new())),
    };
    // The frame read straight into its variant (`type` inside is an unknown field, ignored).
    let body = Tagged { tag, body: Value::Object(map) };
    let frame = Inbound::deserialize(serde::de::value::EnumAccessDeserializer::new(body))
        .map_err(|e| FrameError::BadFrame(error_text(&e)))?;
    check_limits(&frame)?;
    Ok(frame)
}

/// A frame as serde's enum access: its variant is `tag`, its fields `body`. What an internally
/// tagged derive would do, minus buffering the frame as `Content` first.
struct Tagged {
    tag: &'static str,
    body: Value,
}

impl<'de> serde::de::EnumAccess<'de> for Tagged {
    type Error = serde_json::Error;
    type Variant = Body;

    fn variant_seed<V: serde::de::DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Body), Self::Error> {
        let tag: serde::de::value::StrDeserializer<'_, Self::Error> = self.tag.into_deserializer();
        Ok((seed.deserialize(tag)?, Body(self.body)))
    }
}

/// A frame's fields, read into the variant its `type` names (fields of unit variants ignored).
struct Body(Value);

impl<'de> serde::de::VariantAccess<'de> for Body {
    type Error = serde_json::Error;

    fn unit_variant(self) -> Result<(), Self::Error> {
        Ok(())
    }

    fn newtype_variant_seed<T: serde::de::DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Self::Error> {
        seed.deserialize(self.0)
    }

    fn tuple_variant<V: serde::de::Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Self::Error> {
        serde::Deserializer::deserialize_seq(self.0, visitor)
    }

    fn struct_variant<V: serde::de::Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        serde::Deserializer::deserialize_struct(self.0, "", fields, visitor)
    }
}

/// What serde says is wrong with a frame (a `Value` has no position; kept to be sure).
fn error_text(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
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
        Inbound::Context(frame) => frame.check()?,
        Inbound::SaveReply { title, shortcut, text, .. } => {
            saved_replies::check(title, shortcut, text)?;
        }
        Inbound::History { before: Some(b), .. } if *b < 1 => {
            return Err(FrameError::BadFrame("before must be a positive seq".into()));
        }
        Inbound::AttachmentUrl { id } if id.is_empty() || id.len() > MAX_ATTACHMENT_ID_CHARS => {
            return Err(FrameError::BadFrame(format!("id must be 1 to {MAX_ATTACHMENT_ID_CHARS} characters")));
        }
        Inbound::History { limit: Some(0), .. } => {
            return Err(FrameError::BadFrame("limit must be at least 1".into()));
        }
        Inbound::PushSubscribe { endpoint, keys } => push::check_subscription(endpoint, keys)?,
        Inbound::PushUnsubscribe { endpoint } => push::check_endpoint(endpoint)?,
        Inbound::Seen { seq } if *seq < 1 => {
            return Err(FrameError::BadFrame("seq must be a positive seq".into()));
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
