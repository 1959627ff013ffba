//! The pure core of a desk: who may do what, what is stored, and who receives which frame.
//!
//! Nothing here knows of `worker`, clocks or randomness. One [`step`] takes the sender (from the
//! socket's attachment, never from the frame), the parsed frame, a read-only [`View`] of the
//! desk's state, the time and a source of [`Fresh`] ids, and returns [`Effect`]s: writes first,
//! then sends. The Durable Object implements `View` over SQLite (`store.rs`); the scenario tests
//! drive this same `step` over [`memory::Memory`], an in-memory view.
//!
//! The glue performs effects in order; because the runtime holds outgoing frames until the
//! writes before them are durable, an `ack` is never seen for a message that could be lost.
//!
//! - `view`: the read-only [`View`] the core reads through, and [`Fresh`] ids.
//! - [`conversation`]: messages, notes, read marks, status, assignment, history, list, search.
//! - [`pages`]: what is read: history pages, the sidebar's list views, search.
//! - [`team`]: agents: sign-in decisions, profile, invites, the team list, revocation.
//! - [`admission`]: who a visitor's upgrade is, and whether it may open a socket now.
//! - [`moderation`]: deleting and blocking visitors, the storage budget, retention.
//! - [`availability`]: agents' status, business hours and the settings, whether the desk is
//!   online and when it opens next, the away message and visitors' emails; [`zone`] the time
//!   zone arithmetic it needs (rules generated from tzdata into [`zones`]).
//! - [`ticket`]: short-lived, single-use tickets that browsers present instead of a credential.
//! - [`attachment`]: who may upload a file where, within which limits; its message; signed URLs.
//! - [`context`]: who and where a visitor is (visits, device, pages, a verified visitor's attributes).
//! - [`saved_replies`]: the desk's saved replies, managed by the owner and admins.
//! - [`typing`]: "typing…" from either side, to whom, and how often (never stored).
//! - [`seen`]: how far the visitor has seen its conversation (the agents' side is `read`).
//! - [`notify`]: who is told by email and when: the visitor's follow-up, unanswered
//!   conversations, the email limits, an agent's opt-in.
//! - [`webhooks`]: the events a step emits to the desk's webhooks, their bodies, signatures and
//!   retries, and who manages endpoints.

use crate::error::FrameError;
use crate::protocol::{Author, Counts, Inbound, ListView, Outbound, Role, Settings, Status, UserRow, WireMessage};

pub mod admission;
pub mod attachment;
pub mod availability;
pub mod context;
pub mod conversation;
pub mod memory;
pub mod moderation;
pub mod notify;
pub mod pages;
pub mod push;
pub mod saved_replies;
pub mod seen;
mod state;
pub mod team;
pub mod ticket;
pub mod typing;
mod view;
pub mod webhooks;
pub mod zone;
pub mod zones;

pub use state::{Conversation, DayUsage, LastMessage};
pub use team::{Agent, Invite, OWNER_ID};
pub use view::{Fresh, Hit, StorageUse, View};

/// Who sent a frame. Comes from the socket's attachment, set at upgrade: never from the frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sender {
    Visitor {
        user_id: String,
    },
    /// A signed-in member of the team (the owner included).
    Agent {
        id: String,
        role: Role,
    },
}

impl Sender {
    /// The built-in owner, as `ADMIN_TOKEN` signs in.
    pub fn owner() -> Self {
        Sender::Agent { id: OWNER_ID.into(), role: Role::Owner }
    }
}

/// Whether a message is the desk's automatic away message (an `admin` message with event `away`).
pub fn is_away_message(message: &WireMessage) -> bool {
    message.sender == Author::Admin && message.event.as_ref().is_some_and(|e| e.kind == availability::AWAY_KIND)
}

/// A durable write, stating its intent. Each is applied atomically; all of a step's writes
/// precede its sends.
// `Append` is by far the most common write and the largest; boxing it would cost an allocation
// per message for no gain.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// Append a message. A visitor's or agent's message also becomes the conversation's latest
    /// activity, and a visitor's counts one more unread; notes and events change nothing else.
    Append { user_id: String, message: WireMessage, author_id: String },
    /// An agent read the conversation up to `seq`: unread 0.
    Read { user_id: String, up_to: i64 },
    /// The visitor has seen its conversation up to `seq` (a lower mark than the stored one changes nothing).
    Seen { user_id: String, up_to: i64 },
    /// Marked unread again: unread at least 1.
    Unread { user_id: String },
    /// A new status (`until` for snoozed).
    Status { user_id: String, status: Status, until: Option<i64> },
    /// A new assignee (`None`: unassigned).
    Assign { user_id: String, agent_id: Option<String> },
    /// An agent's display name.
    Profile { agent_id: String, name: String },
    /// A pending agent and its one-time invite code (stored as a hash).
    Invite { invite: Box<Invite> },
    /// An invite accepted: the agent becomes active with its own token (stored as a hash).
    Accept { agent_id: String, name: String, code_hash: String, token_hash: String },
    /// An agent (or a pending invite) loses access; what it wrote keeps its name.
    Revoke { agent_id: String },
    /// A new visitor and its token (stored as a hash).
    CreateVisitor { user_id: String, token_hash: String, name: String, verified_id: Option<String> },
    /// A returning visitor: seen now, renamed if it gave a name.
    TouchVisitor { user_id: String, name: Option<String> },
    /// The visitor, its token, its conversation, messages, notes, events and search entries go.
    /// Message `seq`s are never reused: the desk remembers the highest it gave.
    Delete { user_id: String },
    /// A ticket issued (stored as a hash); expired ones are dropped on the way.
    IssueTicket { ticket: Box<ticket::Ticket> },
    /// A ticket used: deleted, so it never works again.
    ConsumeTicket { hash: String },
    /// A file stored in R2 under `key`, uploaded by `uploader` into `user_id`'s conversation. It
    /// goes with the conversation: a `Delete` queues its key for removal from R2.
    Attach { user_id: String, key: String, attachment: crate::attachments::Attachment, uploader: String, at: i64 },
    /// A visitor's context is now this (see `context.rs` for why a whole record).
    Context { context: Box<context::Context> },
    /// A saved reply created or edited (by id).
    SaveReply { reply: Box<crate::protocol::saved_replies::SavedReply> },
    /// A saved reply deleted.
    DeleteReply { id: String },
    /// An agent's own status (`away`, or back online).
    AgentStatus { agent_id: String, away: bool },
    /// The desk's settings, validated, replacing the stored ones.
    Settings { settings: Box<Settings> },
    /// A visitor's email (`None`: removed).
    Email { user_id: String, email: Option<String> },
    /// An agent's email alerts (`desk::notify`): unanswered conversations on or off, and where to.
    Alerts { agent_id: String, unanswered: bool, email: Option<String> },
    /// A webhook endpoint created or changed (by id).
    WebhookSave { endpoint: Box<webhooks::Endpoint> },
    /// A webhook endpoint removed, with the deliveries waiting for it.
    WebhookDelete { id: String },
    /// A delivery queued in the outbox: written with the fact that caused it.
    WebhookQueue { delivery: Box<webhooks::Delivery> },
    /// A row of the delivery log (an event dropped because its endpoint's outbox was full).
    WebhookLog { entry: Box<crate::protocol::webhooks::DeliveryLog> },
    /// Web Push: a subscription stored or forgotten, a push queued (`push.rs`).
    Push(push::PushWrite),
}

impl Write {
    /// The conversation this write changes, if it changes one.
    pub fn user_id(&self) -> Option<&str> {
        match self {
            Write::Append { user_id, .. }
            | Write::Read { user_id, .. }
            | Write::Seen { user_id, .. }
            | Write::Unread { user_id }
            | Write::Status { user_id, .. }
            | Write::Assign { user_id, .. }
            | Write::CreateVisitor { user_id, .. }
            | Write::TouchVisitor { user_id, .. }
            | Write::Attach { user_id, .. }
            | Write::Email { user_id, .. }
            | Write::Delete { user_id } => Some(user_id),
            Write::Context { context } => Some(&context.user_id),
            Write::Profile { .. }
            | Write::Invite { .. }
            | Write::Accept { .. }
            | Write::Revoke { .. }
            | Write::IssueTicket { .. }
            | Write::ConsumeTicket { .. }
            | Write::SaveReply { .. }
            | Write::DeleteReply { .. }
            | Write::AgentStatus { .. }
            | Write::Settings { .. }
            | Write::Alerts { .. }
            | Write::WebhookSave { .. }
            | Write::WebhookDelete { .. }
            | Write::WebhookQueue { .. }
            | Write::WebhookLog { .. } => None,
            Write::Push(push::PushWrite::Queue { event, .. }) => Some(&event.user_id),
            Write::Push(_) => None,
        }
    }
}

/// Who a frame goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// The socket the frame came from.
    Sender,
    /// Every open socket (tab) of this visitor.
    Visitor(String),
    /// Every socket of this visitor except the sender.
    VisitorOthers(String),
    /// Every admin (agent) socket.
    Admins,
    /// Every admin socket except the sender.
    AdminOthers,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Store(Write),
    Send {
        to: Audience,
        frame: Outbound,
    },
    /// Close every socket of this agent (revoked), with this code.
    CloseAgent {
        agent_id: String,
        code: u16,
        reason: &'static str,
    },
    /// Close every socket of this visitor (deleted, blocked, expired), with this code.
    CloseVisitor {
        user_id: String,
        code: u16,
        reason: &'static str,
    },
    /// Make sure the desk's alarm fires by then (a snoozed conversation reopens).
    WakeAt(i64),
    /// Admins were told now that the desk is full (so they are not told again for a while).
    StorageWarned(i64),
    /// A typing frame of this typist was forwarded now: the next is dropped for `TYPING_EVERY_MS`.
    Typed(typing::Typist, i64),
}

pub(crate) fn send(to: Audience, frame: Outbound) -> Effect {
    Effect::Send { to, frame }
}

/// Runs one client frame: checks what `sender` may do, reads what it needs through `view`,
/// and returns the effects. Visitors can only ever touch their own conversation. The webhook
/// events the frame causes are queued with its writes (`webhooks::emit`).
pub fn step(
    sender: &Sender,
    frame: Inbound,
    view: &dyn View,
    now: i64,
    fresh: &mut dyn Fresh,
) -> Result<Vec<Effect>, FrameError> {
    let effects = decide(sender, frame, view, now, fresh)?;
    Ok(webhooks::emit(effects, view, now, fresh))
}

fn decide(
    sender: &Sender,
    frame: Inbound,
    view: &dyn View,
    now: i64,
    fresh: &mut dyn Fresh,
) -> Result<Vec<Effect>, FrameError> {
    use conversation as c;
    let id = match sender {
        Sender::Visitor { user_id } => return c::visitor_step(user_id, frame, view, now, fresh),
        // Rights follow the agent as stored (the socket's role is what it had at sign-in).
        Sender::Agent { id, .. } => id.as_str(),
    };
    let agent = view.agent(id).ok_or(FrameError::Forbidden("this agent was revoked"))?;
    match frame {
        Inbound::Ping => Ok(vec![send(Audience::Sender, Outbound::Pong)]),
        Inbound::Message { message, target_user_id, client_msg_id } => {
            let user_id = target_user_id.ok_or(FrameError::MissingTarget)?;
            c::reply(&agent, user_id, message, client_msg_id, view, now, fresh)
        }
        Inbound::Note { user_id, message, client_msg_id } => {
            c::note(&agent, user_id, message, client_msg_id, view, now, fresh)
        }
        Inbound::Read { user_id } => c::read(&user_id, view),
        Inbound::Unread { user_id } => c::unread(&user_id, view),
        Inbound::History { user_id, before, limit } => {
            let user_id = user_id.ok_or_else(|| FrameError::BadFrame("history needs userId".into()))?;
            pages::history(user_id, before, limit, true, view)
        }
        Inbound::Resolve { user_id } => c::set_status(&agent, &user_id, Status::Resolved, None, view, now, fresh),
        Inbound::Reopen { user_id } => c::set_status(&agent, &user_id, Status::Open, None, view, now, fresh),
        Inbound::Snooze { user_id, until } => {
            if until <= now || until - now > crate::protocol::MAX_SNOOZE_MS {
                return Err(FrameError::BadFrame(
                    "until must be a time (ms) in the future, at most a year ahead".into(),
                ));
            }
            c::set_status(&agent, &user_id, Status::Snoozed, Some(until), view, now, fresh)
        }
        Inbound::Assign { user_id, agent_id } => c::assign(&agent, &user_id, agent_id.as_deref(), view, now, fresh),
        Inbound::List { view: which, cursor, limit } => pages::list(&agent, which, cursor.as_deref(), limit, view),
        Inbound::Search { query, limit } => Ok(pages::search(query, limit, view)),
        Inbound::Profile { name } => team::profile(&agent, &name, view),
        Inbound::Invite { name, role: invited, email } => {
            team::invite(&agent, &name, invited.into(), email, view, now, fresh)
        }
        Inbound::Agents => Ok(vec![send(Audience::Sender, team::agents_frame(view, None))]),
        Inbound::Revoke { agent_id } => team::revoke(&agent, &agent_id, view, now, fresh),
        Inbound::Delete { user_id } => moderation::delete(&agent, &user_id, view),
        Inbound::Block { user_id } => moderation::block(&agent, &user_id, view, now, fresh),
        Inbound::AttachmentUrl { id } => attachment::url(sender, &id, view, now),
        Inbound::Context(frame) => context::ask(frame, view),
        Inbound::Replies => Ok(saved_replies::list(view)),
        Inbound::SaveReply { id, title, shortcut, text } => {
            saved_replies::save(&agent, saved_replies::Draft { id, title, shortcut, text }, view, now, fresh)
        }
        Inbound::DeleteReply { id } => saved_replies::delete(&agent, id, view),
        Inbound::Typing { user_id } => {
            let user_id = user_id.ok_or_else(|| FrameError::BadFrame("typing from an agent needs userId".into()))?;
            typing::agent(&agent, &user_id, view, now)
        }
        Inbound::Seen { .. } => Err(FrameError::Forbidden("only visitors say what they have seen")),
        Inbound::Status { status } => Ok(availability::set_status(&agent, status)),
        Inbound::Settings => Ok(availability::show(view)),
        Inbound::SettingsUpdate(update) => availability::update(&agent, update, view),
        Inbound::Email { user_id, email } => availability::agent_email(user_id, email, view),
        Inbound::EmailAlerts { unanswered, email } => notify::alerts(&agent, unanswered, email, view),
        Inbound::Webhooks => webhooks::list(&agent, view),
        Inbound::WebhookSave(save) => webhooks::save(&agent, save, view, now, fresh),
        Inbound::WebhookDelete { id } => webhooks::delete(&agent, id, view),
        Inbound::Push => Ok(push::show(&agent, view)),
        Inbound::PushSubscribe { endpoint, keys } => push::subscribe(&agent, endpoint, keys, view),
        Inbound::PushUnsubscribe { endpoint } => Ok(push::unsubscribe(&agent, endpoint, view)),
    }
}

/// The default display name of a new visitor, from its id: short, stable, recognisable.
pub fn default_name(user_id: &str) -> String {
    let tag: String = user_id.chars().filter(char::is_ascii_alphanumeric).take(6).collect();
    format!("Visitor {}", tag.to_ascii_uppercase())
}

/// A sidebar row with what only the view knows: presence and the assignee's name.
pub fn row(view: &dyn View, conversation: &Conversation) -> UserRow {
    let mut row = conversation.row(view.online(&conversation.user_id));
    row.assignee_name = conversation.assignee.as_deref().and_then(|id| view.agent_name(id));
    row
}

/// Whether agents' sidebars list this conversation: only once it has a message.
pub fn in_sidebar(conversation: &Conversation) -> bool {
    conversation.last.is_some()
}

/// A visitor's first socket opened or last socket closed: admins see the online dot change.
/// Visitors who never wrote are not in the sidebar, so nothing is sent for them.
pub fn presence(view: &dyn View, conversation: &Conversation, was_online: bool, is_online: bool) -> Vec<Effect> {
    if was_online == is_online || !in_sidebar(conversation) {
        return Vec::new();
    }
    let mut row = row(view, conversation);
    row.online = is_online;
    row.context = view.context(&conversation.user_id).map(|c| c.info(false));
    vec![send(Audience::Admins, Outbound::User { user: row })]
}

/// Sorts a short list (bounded by a protocol limit: hours, holidays, saved replies), stably, by
/// insertion. `sort_by` is ~5 KB of wasm per element type (driftsort and its helpers); this is
/// a few hundred bytes, and on a few dozen items it is as fast.
pub fn sort_short<T>(items: &mut [T], mut less: impl FnMut(&T, &T) -> bool) {
    for i in 1..items.len() {
        let mut j = i;
        while j > 0 && less(&items[j], &items[j - 1]) {
            items.swap(j, j - 1);
            j -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sort_short;

    /// The same order as the standard library's stable sort, ties kept in their order.
    #[test]
    fn sort_short_is_a_stable_sort() {
        let mut seed = 7u32;
        for len in 0..40 {
            let items: Vec<(u32, usize)> = (0..len)
                .map(|i| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    ((seed >> 16) % 5, i)
                })
                .collect();
            let (mut ours, mut std) = (items.clone(), items);
            sort_short(&mut ours, |a, b| a.0 < b.0);
            std.sort_by_key(|x| x.0);
            assert_eq!(ours, std);
        }
    }
}
