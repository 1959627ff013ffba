//! An in-memory desk state implementing [`View`], with the same meaning of every [`Write`] as
//! SQLite's (`store.rs`): what the scenario and property tests drive the real core over.

use std::collections::{BTreeMap, BTreeSet};

use super::attachment::Stored as Stored_;
use super::context::Context;
use super::ticket::{Live, Ticket};
use super::{Agent, Conversation, Hit, Invite, StorageUse, View, Write, OWNER_ID};
use crate::attachments::{AttachmentUse, Signer};
use crate::protocol::saved_replies::SavedReply;
use crate::protocol::{truncate, Author, Counts, ListView, Settings, Status, WireMessage};

/// A stored message with its conversation and author (agent id, or the visitor's id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub user_id: String,
    pub message: WireMessage,
    pub author_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentRecord {
    pub agent: Agent,
    pub token_hash: Option<String>,
    pub revoked: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Memory {
    pub conversations: BTreeMap<String, Conversation>,
    pub messages: Vec<Stored>,
    /// The team, the owner included once it set a name; pending invites too.
    pub agents: BTreeMap<String, AgentRecord>,
    /// Pending invite codes (hash) to (agent id, expiry).
    pub invites: BTreeMap<String, (String, i64)>,
    /// Visitors with an open socket.
    pub online: BTreeSet<String>,
    /// Agents' email alerts (`desk::notify`).
    pub alerts: BTreeMap<String, super::notify::Alerts>,
    /// Agents with an open admin socket.
    pub agents_online: BTreeSet<String>,
    /// Open sockets per visitor.
    pub sockets: BTreeMap<String, usize>,
    /// Visitor tokens (hash) to user ids.
    pub tokens: BTreeMap<String, String>,
    /// The highest `seq` ever given, as the desk remembers it when messages are deleted.
    pub seq_floor: i64,
    /// What the budget is decided on; tests set it (no budget by default).
    pub storage: StorageUse,
    /// Unused tickets by hash.
    pub tickets: BTreeMap<String, Ticket>,
    /// `VISITOR_BYTES_PER_DAY` (0, the default: no limit).
    pub bytes_per_day: u64,
    /// Attachments by id, with when and by whom each was uploaded.
    pub attachments: BTreeMap<String, (Stored_, String, i64)>,
    /// R2 keys of deleted conversations' files, waiting to be removed from the bucket.
    pub trash: Vec<String>,
    /// What signs attachment URLs; `None`: attachments are not configured.
    pub signer: Option<Signer>,
    /// Visitors' contexts by user id.
    pub contexts: BTreeMap<String, Context>,
    /// Saved replies by id.
    pub saved_replies: BTreeMap<String, SavedReply>,
    /// When each typist's last `typing` frame was forwarded (`Effect::Typed`).
    pub typing: super::typing::Throttle,
    /// The desk's settings as stored (`None`: the defaults).
    pub settings: Option<Settings>,
    /// Webhook endpoints and the deployment's settings for them (tests set `desk`, `max_pending`).
    pub hooks: super::webhooks::Hooks,
    /// Queued webhook deliveries, oldest first.
    pub outbox: Vec<super::webhooks::Delivery>,
    /// The webhook delivery log, newest first.
    pub webhook_log: Vec<crate::protocol::webhooks::DeliveryLog>,
    /// Web Push: the setup, subscriptions and batches (`desk::push`).
    pub push: super::push::PushMemory,
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// Whether every query word is in `text` (the last one as a prefix), as FTS5 answers it.
fn matches(query: &[String], text: &str) -> bool {
    let have = words(text);
    query
        .iter()
        .enumerate()
        .all(|(i, q)| have.iter().any(|w| if i + 1 == query.len() { w.starts_with(q.as_str()) } else { w == q }))
}

impl Memory {
    /// Applies one write, as `store.rs` does in SQLite.
    pub fn apply(&mut self, write: &Write) {
        match write {
            Write::Append { user_id, message, author_id } => {
                if let Some(c) = self.conversations.get_mut(user_id) {
                    c.apply(write);
                }
                self.messages.push(Stored {
                    user_id: user_id.clone(),
                    message: message.clone(),
                    author_id: author_id.clone(),
                });
            }
            Write::Read { user_id, .. }
            | Write::Seen { user_id, .. }
            | Write::Unread { user_id }
            | Write::Status { user_id, .. }
            | Write::Assign { user_id, .. }
            | Write::Email { user_id, .. }
            | Write::TouchVisitor { user_id, .. } => {
                if let Some(c) = self.conversations.get_mut(user_id) {
                    c.apply(write);
                }
            }
            Write::Alerts { agent_id, unanswered, email } => {
                let alerts = super::notify::Alerts { unanswered: *unanswered, email: email.clone() };
                self.alerts.insert(agent_id.clone(), alerts);
            }
            Write::Profile { agent_id, name } => {
                let record = self.agents.entry(agent_id.clone()).or_insert_with(|| AgentRecord {
                    agent: Agent::owner(None),
                    token_hash: None,
                    revoked: false,
                });
                record.agent.name = name.clone();
            }
            Write::Invite { invite } => {
                self.invites.insert(invite.code_hash.clone(), (invite.agent.id.clone(), invite.expires_at));
                let record = AgentRecord { agent: invite.agent.clone(), token_hash: None, revoked: false };
                self.agents.insert(invite.agent.id.clone(), record);
            }
            Write::Accept { agent_id, name, code_hash, token_hash } => {
                self.invites.remove(code_hash);
                if let Some(r) = self.agents.get_mut(agent_id) {
                    r.agent.pending = false;
                    r.agent.name = name.clone();
                    r.token_hash = Some(token_hash.clone());
                }
            }
            Write::CreateVisitor { user_id, token_hash, name, verified_id } => {
                let mut c = Conversation::new(user_id.clone(), name.clone());
                c.verified_id = verified_id.clone();
                self.conversations.insert(user_id.clone(), c);
                self.tokens.insert(token_hash.clone(), user_id.clone());
            }
            Write::Delete { user_id } => {
                self.seq_floor = self.seq_floor.max(self.next_seq() - 1);
                self.conversations.remove(user_id);
                self.messages.retain(|m| m.user_id != *user_id);
                self.outbox.retain(|d| d.user_id != *user_id);
                self.tokens.retain(|_, id| id != user_id);
                let gone: Vec<String> = self
                    .attachments
                    .iter()
                    .filter(|(_, a)| a.0.user_id == *user_id)
                    .map(|(id, _)| id.clone())
                    .collect();
                for id in gone {
                    if let Some((a, _, _)) = self.attachments.remove(&id) {
                        self.trash.push(a.key);
                    }
                }
                self.contexts.remove(user_id);
            }
            Write::Context { context } => {
                self.contexts.insert(context.user_id.clone(), (**context).clone());
            }
            Write::SaveReply { reply } => {
                self.saved_replies.insert(reply.id.clone(), (**reply).clone());
            }
            Write::DeleteReply { id } => {
                self.saved_replies.remove(id);
            }
            Write::IssueTicket { ticket } => {
                // SQLite also drops expired tickets here; no answer of the view differs for it.
                self.tickets.insert(ticket.hash.clone(), (**ticket).clone());
            }
            Write::ConsumeTicket { hash } => {
                self.tickets.remove(hash);
            }
            Write::Attach { user_id, key, attachment, uploader, at } => {
                let stored = Stored_ { user_id: user_id.clone(), key: key.clone(), attachment: attachment.clone() };
                self.attachments.insert(attachment.id.clone(), (stored, uploader.clone(), *at));
            }
            Write::AgentStatus { agent_id, away } => {
                // As the owner's name: the owner has no record until it sets something.
                let record = self.agents.entry(agent_id.clone()).or_insert_with(|| AgentRecord {
                    agent: Agent::owner(None),
                    token_hash: None,
                    revoked: false,
                });
                record.agent.away = *away;
            }
            Write::Settings { settings } => self.settings = Some((**settings).clone()),
            Write::WebhookSave { endpoint } => match self.hooks.endpoints.iter_mut().find(|e| e.id == endpoint.id) {
                Some(e) => *e = (**endpoint).clone(),
                None => self.hooks.endpoints.push((**endpoint).clone()),
            },
            Write::WebhookDelete { id } => {
                self.hooks.endpoints.retain(|e| &e.id != id);
                self.outbox.retain(|d| &d.endpoint_id != id);
            }
            Write::WebhookQueue { delivery } => self.outbox.push((**delivery).clone()),
            Write::WebhookLog { entry } => self.webhook_log.insert(0, (**entry).clone()),
            Write::Push(write) => self.push.apply(write),
            Write::Revoke { agent_id } => {
                self.invites.retain(|_, (id, _)| id != agent_id);
                if let Some(r) = self.agents.get_mut(agent_id) {
                    r.revoked = true;
                    r.token_hash = None;
                }
            }
        }
    }

    /// Snoozed conversations whose time has come.
    pub fn due(&self, now: i64) -> Vec<Conversation> {
        let due = |c: &&Conversation| c.status == Status::Snoozed && c.snoozed_until.is_some_and(|u| u <= now);
        self.conversations.values().filter(due).cloned().collect()
    }

    /// Conversations whose latest message is older than `retention_ms` before `now`, oldest
    /// first, at most `limit` (visitors who never wrote are chosen by their last visit, which
    /// this in-memory desk does not keep).
    pub fn expired(&self, now: i64, retention_ms: i64, limit: u32) -> Vec<Conversation> {
        let Some(cutoff) = super::moderation::retention_cutoff(now, retention_ms) else {
            return Vec::new();
        };
        let mut due: Vec<&Conversation> =
            self.conversations.values().filter(|c| c.last.as_ref().is_some_and(|l| l.at < cutoff)).collect();
        due.sort_by_key(|c| c.last.as_ref().map(|l| l.seq));
        due.into_iter().take(limit as usize).cloned().collect()
    }

    fn active(&self) -> impl Iterator<Item = &AgentRecord> {
        self.agents.values().filter(|r| !r.revoked && !r.agent.pending)
    }

    fn pending_invite(&self, agent_id: &str) -> Option<Invite> {
        let (code_hash, (_, expires_at)) = self.invites.iter().find(|(_, (id, _))| id == agent_id)?;
        let agent = self.agents.get(agent_id).filter(|r| !r.revoked)?.agent.clone();
        Some(Invite { agent, code_hash: code_hash.clone(), expires_at: *expires_at })
    }
}

impl View for Memory {
    fn conversation(&self, user_id: &str) -> Option<Conversation> {
        self.conversations.get(user_id).cloned()
    }

    fn duplicate(&self, user_id: &str, sender: Author, author_id: &str, client_msg_id: &str) -> Option<WireMessage> {
        self.messages
            .iter()
            .find(|s| {
                s.user_id == user_id
                    && s.author_id == author_id
                    && s.message.sender == sender
                    && s.message.client_msg_id.as_deref() == Some(client_msg_id)
            })
            .map(|s| s.message.clone())
    }

    fn online(&self, user_id: &str) -> bool {
        self.online.contains(user_id)
    }

    fn agent(&self, agent_id: &str) -> Option<Agent> {
        if agent_id == OWNER_ID {
            return Some(self.agents.get(OWNER_ID).map_or_else(|| Agent::owner(None), |r| r.agent.clone()));
        }
        self.active().find(|r| r.agent.id == agent_id).map(|r| r.agent.clone())
    }

    fn agents(&self) -> Vec<Agent> {
        let mut team: Vec<Agent> = vec![self.agent(OWNER_ID).unwrap_or_else(|| Agent::owner(None))];
        team.extend(self.agents.values().filter(|r| !r.revoked && r.agent.id != OWNER_ID).map(|r| r.agent.clone()));
        team
    }

    fn agent_online(&self, agent_id: &str) -> bool {
        self.agents_online.contains(agent_id)
    }

    fn messages(&self, user_id: &str, before: Option<i64>, limit: u32, for_agents: bool) -> Vec<WireMessage> {
        self.messages
            .iter()
            .rev()
            .filter(|s| s.user_id == user_id && before.is_none_or(|b| s.message.seq < b))
            .filter(|s| for_agents || s.message.sender.public())
            .take(limit as usize)
            .map(|s| s.message.clone())
            .collect()
    }

    fn list(&self, view: ListView, me: &str, before: Option<i64>, limit: u32) -> Vec<Conversation> {
        let mut rows: Vec<&Conversation> = self
            .conversations
            .values()
            .filter(|c| c.in_view(view, me))
            .filter(|c| c.last.as_ref().is_some_and(|l| before.is_none_or(|b| l.seq < b)))
            .collect();
        rows.sort_by_key(|c| std::cmp::Reverse(c.last.as_ref().map(|l| l.seq)));
        rows.into_iter().take(limit as usize).cloned().collect()
    }

    fn assigned_to(&self, agent_id: &str, limit: u32) -> Vec<Conversation> {
        let mut rows: Vec<&Conversation> =
            self.conversations.values().filter(|c| c.assignee.as_deref() == Some(agent_id)).collect();
        rows.sort_by_key(|c| std::cmp::Reverse(c.last.as_ref().map(|l| l.seq)));
        rows.into_iter().take(limit as usize).cloned().collect()
    }

    fn counts(&self, me: &str) -> Counts {
        let n = |view| self.conversations.values().filter(|c| c.last.is_some() && c.in_view(view, me)).count() as u32;
        Counts {
            open: n(ListView::Open),
            mine: n(ListView::Mine),
            unassigned: n(ListView::Unassigned),
            snoozed: n(ListView::Snoozed),
            resolved: n(ListView::Resolved),
            blocked: Some(n(ListView::Blocked)),
        }
    }

    fn search(&self, query: &str, limit: u32) -> Vec<Hit> {
        let query = words(query);
        if query.is_empty() {
            return Vec::new();
        }
        let mut hits: Vec<Hit> = Vec::new();
        for s in self.messages.iter().rev().filter(|s| s.message.sender != Author::Event) {
            if hits.iter().all(|h| h.user_id != s.user_id) && matches(&query, &s.message.message) {
                hits.push(Hit {
                    user_id: s.user_id.clone(),
                    seq: s.message.seq,
                    snippet: truncate(&s.message.message, 64).into(),
                });
            }
        }
        for c in self.conversations.values() {
            if hits.iter().all(|h| h.user_id != c.user_id) && matches(&query, &c.name) {
                hits.push(Hit { user_id: c.user_id.clone(), seq: 0, snippet: c.name.clone() });
            }
        }
        hits.truncate(limit as usize);
        hits
    }

    fn next_seq(&self) -> i64 {
        self.messages.last().map_or(0, |s| s.message.seq).max(self.seq_floor) + 1
    }

    fn agent_name(&self, agent_id: &str) -> Option<String> {
        match self.agents.get(agent_id) {
            Some(r) => Some(r.agent.name.clone()),
            None => self.agent(agent_id).map(|a| a.name),
        }
    }

    fn agent_by_token(&self, token_hash: &str) -> Option<Agent> {
        self.active().find(|r| r.token_hash.as_deref() == Some(token_hash)).map(|r| r.agent.clone())
    }

    fn agent_by_email(&self, email: &str) -> Option<Agent> {
        self.active().find(|r| r.agent.email.as_deref() == Some(email)).map(|r| r.agent.clone())
    }

    fn invite_by_email(&self, email: &str) -> Option<Invite> {
        let r =
            self.agents.values().find(|r| !r.revoked && r.agent.pending && r.agent.email.as_deref() == Some(email))?;
        self.pending_invite(&r.agent.id)
    }

    fn invite(&self, code_hash: &str) -> Option<Invite> {
        let (agent_id, _) = self.invites.get(code_hash)?;
        self.pending_invite(agent_id)
    }

    fn visitor_by_token(&self, token_hash: &str) -> Option<Conversation> {
        self.tokens.get(token_hash).and_then(|id| self.conversation(id))
    }

    fn visitor_by_verified_id(&self, verified_id: &str) -> Option<Conversation> {
        self.conversations.values().find(|c| c.verified_id.as_deref() == Some(verified_id)).cloned()
    }

    fn open_sockets(&self, user_id: &str) -> usize {
        self.sockets.get(user_id).copied().unwrap_or(0)
    }

    fn bytes_per_day(&self) -> u64 {
        self.bytes_per_day
    }

    fn storage(&self) -> StorageUse {
        self.storage
    }

    fn ticket(&self, hash: &str) -> Option<Ticket> {
        self.tickets.get(hash).cloned()
    }

    fn settings(&self) -> std::rc::Rc<Settings> {
        std::rc::Rc::new(self.settings.clone().unwrap_or_default())
    }

    fn push(&self) -> Option<super::push::PushSetup> {
        self.push.setup.clone()
    }

    fn push_endpoints(&self, agent_id: &str) -> Vec<String> {
        self.push.endpoints(agent_id)
    }

    fn push_subscribed(&self) -> bool {
        !self.push.subscriptions.is_empty()
    }

    fn live_tickets(&self, address: Option<&str>, now: i64) -> Live {
        let live = || self.tickets.values().filter(|t| t.expires_at > now);
        Live {
            address: address.map_or(0, |a| live().filter(|t| t.address.as_deref() == Some(a)).count() as u32),
            desk: live().count() as u32,
        }
    }

    fn attachment(&self, id: &str) -> Option<Stored_> {
        self.attachments.get(id).map(|(a, _, _)| a.clone())
    }

    fn attachment_use(&self, user_id: &str, uploader: &str, since: i64) -> AttachmentUse {
        let all = self.attachments.values();
        let recent: Vec<i64> = all.clone().filter(|(_, by, at)| by == uploader && *at > since).map(|x| x.2).collect();
        AttachmentUse {
            conversation_bytes: all
                .clone()
                .filter(|(a, _, _)| a.user_id == user_id)
                .map(|(a, _, _)| a.attachment.size)
                .sum(),
            desk_bytes: all.map(|(a, _, _)| a.attachment.size).sum(),
            recent_uploads: recent.len() as u32,
            oldest_recent_at: recent.into_iter().min(),
        }
    }

    fn attachment_signer(&self) -> Option<Signer> {
        self.signer.clone()
    }

    fn context(&self, user_id: &str) -> Option<Context> {
        self.contexts.get(user_id).cloned()
    }

    fn contexts(&self, user_ids: &[&str]) -> Vec<Context> {
        let without_pages = |c: &Context| Context { pages: Vec::new(), ..c.clone() };
        user_ids.iter().filter_map(|id| self.contexts.get(*id).map(without_pages)).collect()
    }

    fn saved_replies(&self) -> Vec<SavedReply> {
        let mut replies: Vec<SavedReply> = self.saved_replies.values().cloned().collect();
        replies.sort_by(|a, b| a.shortcut.cmp(&b.shortcut));
        replies
    }

    fn typed_at(&self, typist: &super::typing::Typist) -> Option<i64> {
        self.typing.get(typist)
    }

    fn alerts(&self, agent_id: &str) -> super::notify::Alerts {
        self.alerts.get(agent_id).cloned().unwrap_or_default()
    }

    fn webhooks(&self) -> std::rc::Rc<super::webhooks::Hooks> {
        std::rc::Rc::new(self.hooks.clone())
    }

    fn webhook_pending(&self, endpoint_id: &str) -> usize {
        self.outbox.iter().filter(|d| d.endpoint_id == endpoint_id).count()
    }

    fn webhook_log(&self) -> Vec<crate::protocol::webhooks::DeliveryLog> {
        self.webhook_log.clone()
    }
}
