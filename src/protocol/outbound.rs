//! Frames the desk sends: one `#[serde(tag = "type")]` union, serialised once per send.

use serde::Serialize;

use super::context::ContextInfo;
use super::saved_replies::SavedReply;
use super::{AgentStatus, Author, EventInfo, Hours, ListView, ReplyTime, Role, Settings, Status, WireMessage};
use crate::attachments::Attachment;
use crate::error::FrameError;

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
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snoozed_until: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee_name: Option<String>,
    /// The `seq` of the latest message: the order of the sidebar, and a list cursor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seq: Option<i64>,
    /// Who and where the visitor is (without the visit's pages), in `users`, `list` and the
    /// `user` rows of presence changes; rows sent for a message leave it out (keep the last one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<ContextInfo>,
    /// The `seq` up to which an agent has read (sent when not 0).
    #[serde(skip_serializing_if = "is_zero")]
    pub read_seq: i64,
    /// The `seq` up to which the visitor has seen the conversation (sent when not 0).
    #[serde(skip_serializing_if = "is_zero")]
    pub seen_seq: i64,
    /// The email the visitor left (or an agent wrote in).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// Who a socket is signed in as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Me {
    pub agent_id: String,
    pub name: String,
    pub role: Role,
    /// Sent only when true: the agent set itself away (or its idle inbox did).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub away: bool,
}

/// A member of the team as the `agents` frame lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentRow {
    pub agent_id: String,
    pub name: String,
    pub role: Role,
    pub online: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub pending: bool,
    /// Sent only when true: the agent's status is `away`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub away: bool,
}

/// Conversations per view, for the sidebar's tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct Counts {
    pub open: u32,
    pub mine: u32,
    pub unassigned: u32,
    pub snoozed: u32,
    pub resolved: u32,
    /// Blocked visitors: told to owners and admins only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked: Option<u32>,
}

/// One search result: a conversation, the matching message (`seq` 0: the name matched).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchResult {
    pub user_id: String,
    pub seq: i64,
    pub snippet: String,
    pub user: UserRow,
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
        /// The `seq` up to which an agent has read this conversation (sent when not 0).
        #[serde(skip_serializing_if = "is_zero")]
        read_seq: i64,
        /// The `seq` up to which this visitor has seen it, as it last said (sent when not 0).
        #[serde(skip_serializing_if = "is_zero")]
        seen_seq: i64,
        /// The email the visitor left, if any (the widget then does not ask for it).
        #[serde(skip_serializing_if = "Option::is_none")]
        email: Option<String>,
    },
    /// The sidebar. `seq` is the desk's latest; `resumed` says the missed messages follow.
    #[serde(rename_all = "camelCase")]
    Users {
        users: Vec<UserRow>,
        epoch: String,
        seq: i64,
        resumed: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        me: Option<Me>,
        /// Sent only when true: more conversations than fit in one frame (page on with `list`).
        #[serde(rename = "hasMore", skip_serializing_if = "std::ops::Not::not")]
        has_more: bool,
    },
    User {
        user: UserRow,
    },
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
        #[serde(skip_serializing_if = "Option::is_none")]
        agent_id: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        agent_name: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        event: Option<EventInfo>,
        #[serde(skip_serializing_if = "Option::is_none")]
        attachment: Option<Attachment>,
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
    History {
        user_id: String,
        messages: Vec<WireMessage>,
        has_more: bool,
    },
    /// A page of the sidebar; `cursor` absent on the last page.
    List {
        view: ListView,
        users: Vec<UserRow>,
        counts: Counts,
        #[serde(skip_serializing_if = "Option::is_none")]
        cursor: Option<String>,
    },
    Search {
        query: String,
        results: Vec<SearchResult>,
        /// Sent only when true: more results matched than fit in one frame (the best are sent).
        #[serde(rename = "hasMore", skip_serializing_if = "std::ops::Not::not")]
        has_more: bool,
    },
    Profile {
        me: Me,
    },
    #[serde(rename_all = "camelCase")]
    Invited {
        agent_id: String,
        code: String,
        expires_at: i64,
    },
    Agents {
        agents: Vec<AgentRow>,
    },
    Pong,
    /// Who and where a visitor is, with the pages of this visit: to every agent when the visitor
    /// reports a page (conversations with a message only), or to the agent who asked.
    #[serde(rename_all = "camelCase")]
    Context {
        user_id: String,
        #[serde(flatten)]
        context: ContextInfo,
    },
    /// The desk's saved replies, by shortcut: to the agent who asked, to every agent on a change.
    Replies {
        replies: Vec<SavedReply>,
    },
    /// Someone is typing. To agents about a visitor: `userId`; to the visitor: `agentName`; to
    /// the other agents about an agent: `userId`, `agentId` and `agentName`.
    #[serde(rename_all = "camelCase")]
    Typing {
        #[serde(skip_serializing_if = "Option::is_none")]
        user_id: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        agent_id: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        agent_name: Option<String>,
    },
    /// To agents: the visitor `userId` has seen its conversation up to `seq`.
    #[serde(rename_all = "camelCase")]
    Seen {
        user_id: String,
        seq: i64,
    },
    /// To a visitor: an agent has read its conversation up to `seq`.
    Read {
        seq: i64,
    },
    /// The desk's settings (to `settings`, and to every inbox when they change).
    /// (Its fields, not a flattened `Settings`: serde's flatten costs the worker kilobytes.)
    #[serde(rename_all = "camelCase")]
    Settings {
        time_zone: String,
        hours: Vec<Hours>,
        holidays: Vec<String>,
        reply_time: ReplyTime,
        away_message: String,
        unanswered_minutes: u32,
    },
    /// An agent's status changed (to every inbox).
    #[serde(rename_all = "camelCase")]
    #[serde(rename = "status")]
    AgentStatus {
        agent_id: String,
        status: AgentStatus,
    },
    /// The visitor's email is stored.
    #[serde(rename = "email_saved")]
    EmailSaved,
    /// An agent's own email alerts (`email_alerts`): unanswered conversations on or off, the
    /// address they go to, and whether this desk can send email at all.
    #[serde(rename = "email_alerts", rename_all = "camelCase")]
    EmailAlerts {
        unanswered: bool,
        email: Option<String>,
        email_enabled: bool,
    },
    /// To the owner or an admin: the desk's webhook endpoints and the newest delivery log rows.
    Webhooks {
        endpoints: Vec<super::webhooks::WebhookEndpoint>,
        log: Vec<super::webhooks::DeliveryLog>,
    },
    /// Web Push for this agent (to `push`, `push_subscribe`, `push_unsubscribe`): whether the
    /// desk can push, its VAPID public key, and how many browsers of this agent are subscribed.
    #[serde(rename_all = "camelCase")]
    Push {
        enabled: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        public_key: Option<String>,
        subscriptions: u32,
    },
    /// A conversation is gone (deleted by an owner or admin, or by retention): drop its row.
    #[serde(rename_all = "camelCase")]
    Removed {
        user_id: String,
    },
    /// The desk's storage budget: `full` while new visitor messages are refused.
    #[serde(rename_all = "camelCase")]
    Storage {
        full: bool,
        used_bytes: u64,
        budget_bytes: u64,
    },
    /// A signed URL for an attachment: a path on the desk's origin, valid until `expiresAt` (ms).
    #[serde(rename = "attachment_url", rename_all = "camelCase")]
    AttachmentUrl {
        id: String,
        url: String,
        expires_at: i64,
    },
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
    /// The `settings` frame.
    pub fn settings(s: Settings) -> Self {
        let Settings { time_zone, hours, holidays, reply_time, away_message, unanswered_minutes } = s;
        Outbound::Settings { time_zone, hours, holidays, reply_time, away_message, unanswered_minutes }
    }

    /// The frame for a refused client frame.
    pub fn error(err: &FrameError, client_msg_id: Option<String>) -> Self {
        Outbound::Error {
            code: err.code(),
            message: err.to_string(),
            client_msg_id,
            retry_after_ms: err.retry_after_ms(),
        }
    }

    /// A stored message delivered live; `user_id` for admins (visitors get none, and no agent id).
    pub fn live(m: &WireMessage, user_id: Option<String>) -> Self {
        let for_admins = user_id.is_some();
        Outbound::Message {
            sender: m.sender,
            user_id,
            message: m.message.clone(),
            id: m.id.clone(),
            seq: m.seq,
            at: m.at,
            client_msg_id: m.client_msg_id.clone(),
            agent_id: if for_admins { m.agent_id.clone() } else { None },
            agent_name: m.agent_name.clone(),
            // Visitors see one kind of event: that a reply was the desk's automatic one.
            event: if for_admins || m.event.as_ref().is_some_and(|e| e.kind == "away") {
                m.event.clone()
            } else {
                None
            },
            attachment: m.attachment.clone(),
        }
    }

    /// JSON text of the frame. Serialising these types cannot fail (no maps with non-string
    /// keys, no custom serialisers); the fallback keeps a bug from ever panicking in wasm.
    pub fn to_json(&self) -> String {
        crate::protocol::json_text(self)
            .unwrap_or_else(|_| r#"{"type":"error","code":"internal","message":"frame could not be encoded"}"#.into())
    }
}
