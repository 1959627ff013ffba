//! What the core reads: the read-only [`View`] of a desk's state (SQLite in the glue,
//! [`super::memory::Memory`] in tests), what it finds (search hits, storage use), and [`Fresh`]
//! ids and secrets for what a step creates.

use super::*;

/// One search hit as the view finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub user_id: String,
    pub seq: i64,
    pub snippet: String,
}

/// What the core may read of the desk's state. Read-only: every change is a [`Write`] effect.
/// Implemented over SQLite by the glue and in memory by [`memory::Memory`].
pub trait View {
    fn conversation(&self, user_id: &str) -> Option<Conversation>;
    /// The message `author_id` already stored as `sender` in `user_id`'s conversation under
    /// `client_msg_id` (a retry).
    fn duplicate(&self, user_id: &str, sender: Author, author_id: &str, client_msg_id: &str) -> Option<WireMessage>;
    /// Whether the visitor has an open socket.
    fn online(&self, user_id: &str) -> bool;
    /// An active (accepted, not revoked) agent; the owner always exists.
    fn agent(&self, agent_id: &str) -> Option<Agent>;
    /// The team: active agents and pending invites, not revoked ones.
    fn agents(&self) -> Vec<Agent>;
    /// Whether the agent has an open admin socket.
    fn agent_online(&self, agent_id: &str) -> bool;
    /// Up to `limit` messages of a conversation with `seq < before`, newest first; only what a
    /// visitor sees unless `for_agents`.
    fn messages(&self, user_id: &str, before: Option<i64>, limit: u32, for_agents: bool) -> Vec<WireMessage>;
    /// Up to `limit` conversations of `view` for agent `me` whose latest message is older than
    /// `before` (a `seq`), newest first. Only conversations with at least one message.
    fn list(&self, view: ListView, me: &str, before: Option<i64>, limit: u32) -> Vec<Conversation>;
    /// Up to `limit` conversations assigned to an agent, whatever their status, newest first.
    fn assigned_to(&self, agent_id: &str, limit: u32) -> Vec<Conversation>;
    fn counts(&self, me: &str) -> Counts;
    /// The best match per conversation for every word of `query`, best first.
    fn search(&self, query: &str, limit: u32) -> Vec<Hit>;
    /// The `seq` the next message gets.
    fn next_seq(&self) -> i64;
    /// Any agent's name, revoked ones included (what they wrote and were assigned keeps it).
    fn agent_name(&self, agent_id: &str) -> Option<String>;
    /// Sign-in: the active agent whose own token hashes to this.
    fn agent_by_token(&self, token_hash: &str) -> Option<Agent>;
    /// Sign-in through Access: the active agent with this email.
    fn agent_by_email(&self, email: &str) -> Option<Agent>;
    /// A pending invite naming this email.
    fn invite_by_email(&self, email: &str) -> Option<Invite>;
    /// A pending invite by its code's hash.
    fn invite(&self, code_hash: &str) -> Option<Invite>;
    /// Admission: the visitor whose token hashes to this.
    fn visitor_by_token(&self, token_hash: &str) -> Option<Conversation>;
    /// Admission: the visitor a host site vouched for under this id.
    fn visitor_by_verified_id(&self, verified_id: &str) -> Option<Conversation>;
    /// Admission: how many sockets this visitor holds open.
    fn open_sockets(&self, user_id: &str) -> usize;
    /// The most message bytes a visitor may write per UTC day (`VISITOR_BYTES_PER_DAY`; 0: no limit).
    fn bytes_per_day(&self) -> u64;
    /// How much the desk stores against its budget, and when admins were last told it is full.
    fn storage(&self) -> StorageUse;
    /// Tickets: the one stored under this hash, expired or not (the core checks the time).
    fn ticket(&self, hash: &str) -> Option<ticket::Ticket>;
    /// Tickets: how many unused ones expire after `now`, for this (hashed) address and in all.
    fn live_tickets(&self, address: Option<&str>, now: i64) -> ticket::Live;
    /// Attachments: the one stored under this id, with its conversation.
    fn attachment(&self, _id: &str) -> Option<attachment::Stored> {
        None
    }
    /// Attachments: the bytes of `user_id`'s files and the desk's, and what `uploader` uploaded
    /// since `since`.
    fn attachment_use(&self, _user_id: &str, _uploader: &str, _since: i64) -> crate::attachments::AttachmentUse {
        Default::default()
    }
    /// Attachments: what signs this desk's URLs; `None`: attachments are not configured.
    fn attachment_signer(&self) -> Option<crate::attachments::Signer> {
        None
    }
    /// Who and where a visitor is, as stored (`None`: it never connected since contexts were kept).
    fn context(&self, user_id: &str) -> Option<context::Context>;
    /// The stored contexts of these visitors (one read for a page of rows), without this visit's
    /// pages: rows never show them (`Context::info(false)`), and they are the biggest part.
    fn contexts(&self, user_ids: &[&str]) -> Vec<context::Context>;
    /// The desk's saved replies, by shortcut.
    fn saved_replies(&self) -> Vec<crate::protocol::saved_replies::SavedReply>;
    /// Typing: when a frame of this typist was last forwarded (memory only; `typing::Throttle`).
    fn typed_at(&self, typist: &typing::Typist) -> Option<i64>;
    /// The desk's settings (the defaults until the owner changes them). Shared, not copied: the
    /// away-message check reads them on visitor messages.
    fn settings(&self) -> std::rc::Rc<crate::protocol::Settings>;
    /// An agent's email alerts (`desk::notify`); none stored: the defaults.
    fn alerts(&self, _agent_id: &str) -> notify::Alerts {
        notify::Alerts::default()
    }
    /// The desk can send email (the `send_email` binding and `EMAIL_FROM` are configured).
    fn email_enabled(&self) -> bool {
        false
    }

    /// Webhooks: the endpoints and the deployment's settings for them (none by default).
    fn webhooks(&self) -> std::rc::Rc<webhooks::Hooks> {
        Default::default()
    }
    /// Webhooks: how many deliveries wait for this endpoint.
    fn webhook_pending(&self, _endpoint_id: &str) -> usize {
        0
    }
    /// Webhooks: the delivery log, newest first.
    fn webhook_log(&self) -> Vec<crate::protocol::webhooks::DeliveryLog> {
        Vec::new()
    }
    /// Web Push as the deployment has it (`None`: no VAPID keys, push is off).
    fn push(&self) -> Option<push::PushSetup> {
        None
    }
    /// The endpoints this agent's browsers subscribed.
    fn push_endpoints(&self, _agent_id: &str) -> Vec<String> {
        Vec::new()
    }
    /// Whether any agent subscribed (a visitor's message queues nothing otherwise).
    fn push_subscribed(&self) -> bool {
        false
    }
}

/// The desk's storage as the view knows it (the glue measures SQLite now and then and adds what
/// it wrote since): what the budget is decided on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StorageUse {
    pub used_bytes: u64,
    /// `STORAGE_BUDGET_MB` in bytes; `None`: no budget.
    pub budget_bytes: Option<u64>,
    /// When admins were last told the desk is full (`Effect::StorageWarned`).
    pub warned_at: Option<i64>,
}

impl StorageUse {
    /// At or over its budget: new visitor messages are refused.
    pub fn full(&self) -> bool {
        self.budget_bytes.is_some_and(|b| self.used_bytes >= b)
    }
}

/// Ids and secrets for what a step creates, from the glue (randomness) or a test (counters).
pub trait Fresh {
    /// A new message or agent id.
    fn id(&mut self) -> String;
    /// 32 random bytes, for a secret (invite code, token).
    fn secret(&mut self) -> [u8; 32];
}
