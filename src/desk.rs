//! The pure core of a desk: who may do what, what is stored, and who receives which frame.
//!
//! Nothing here knows of `worker`, clocks or randomness. A step runs in two halves so that the
//! glue only loads what a frame needs:
//! 1. [`command`] turns a parsed frame and its sender into a [`Command`] (or a refusal), deciding
//!    rights before anything is read;
//! 2. the glue loads the [`Facts`] that command needs from SQLite, and a step function
//!    ([`post`], [`read`], [`history`]) returns the [`Effect`]s: writes first, then sends.
//!
//! The glue performs effects in order; because the runtime holds outgoing frames until the
//! writes before them are durable, an `ack` is never seen for a message that could be lost.

use crate::error::FrameError;
use crate::protocol::{
    truncate, Author, Inbound, Outbound, UserRow, WireMessage, HISTORY_DEFAULT_LIMIT,
    HISTORY_MAX_LIMIT, PREVIEW_CHARS,
};

/// Who sent a frame. Comes from the socket's attachment, set at upgrade: never from the frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sender {
    Visitor { user_id: String },
    Admin,
}

/// One visitor and the state of their conversation, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    pub user_id: String,
    pub name: String,
    /// Visitor messages since an admin last sent `read`.
    pub unread: u32,
    /// The `seq` up to which an admin has read.
    pub read_seq: i64,
    /// The latest message of either side: preview, author, time, seq. `None` before the first.
    pub last: Option<LastMessage>,
    /// The host site's user id, for a visitor whose identity it vouched for (`identity.rs`).
    pub verified_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastMessage {
    pub preview: String,
    pub sender: Author,
    pub at: i64,
    pub seq: i64,
}

impl Conversation {
    /// A visitor with no messages yet.
    pub fn new(user_id: impl Into<String>, name: impl Into<String>) -> Self {
        Conversation { user_id: user_id.into(), name: name.into(), unread: 0, read_seq: 0, last: None, verified_id: None }
    }

    /// The admin sidebar row; `online` is known only to the glue (open sockets).
    pub fn row(&self, online: bool) -> UserRow {
        UserRow {
            user_id: self.user_id.clone(),
            name: self.name.clone(),
            unread: self.unread,
            last_message: self.last.as_ref().map(|l| l.preview.clone()),
            last_sender: self.last.as_ref().map(|l| l.sender),
            last_at: self.last.as_ref().map(|l| l.at),
            online,
            verified_id: self.verified_id.clone(),
        }
    }
}

/// What a frame asks for, once the sender's rights are checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Store a message in `user_id`'s conversation and deliver it.
    Post { user_id: String, author: Author, text: String, client_msg_id: Option<String> },
    /// Admin: mark `user_id`'s conversation read.
    Read { user_id: String },
    /// A page of `user_id`'s conversation, `seq < before`, newest `limit`, sent oldest first.
    History { user_id: String, before: Option<i64>, limit: u32 },
    /// Keep-alive that reached the object (the runtime usually answers it without waking us).
    Ping,
}

/// Checks what `sender` may do with `frame`. Visitors can only ever touch their own conversation.
pub fn command(sender: &Sender, frame: Inbound) -> Result<Command, FrameError> {
    match (sender, frame) {
        (_, Inbound::Ping) => Ok(Command::Ping),
        (Sender::Visitor { user_id }, Inbound::Message { message, target_user_id, client_msg_id }) => {
            if target_user_id.is_some() {
                return Err(FrameError::Forbidden("visitors cannot address a targetUserId"));
            }
            Ok(Command::Post { user_id: user_id.clone(), author: Author::User, text: message, client_msg_id })
        }
        (Sender::Admin, Inbound::Message { message, target_user_id, client_msg_id }) => {
            let user_id = target_user_id.ok_or(FrameError::MissingTarget)?;
            Ok(Command::Post { user_id, author: Author::Admin, text: message, client_msg_id })
        }
        (Sender::Visitor { .. }, Inbound::Read { .. }) => {
            Err(FrameError::Forbidden("only admins mark conversations read"))
        }
        (Sender::Admin, Inbound::Read { user_id }) => Ok(Command::Read { user_id }),
        (Sender::Visitor { user_id: own }, Inbound::History { user_id, before, limit }) => {
            if user_id.is_some_and(|asked| asked != *own) {
                return Err(FrameError::Forbidden("visitors can only read their own conversation"));
            }
            Ok(Command::History { user_id: own.clone(), before, limit: clamp_limit(limit) })
        }
        (Sender::Admin, Inbound::History { user_id, before, limit }) => {
            let user_id =
                user_id.ok_or_else(|| FrameError::BadFrame("history needs userId".into()))?;
            Ok(Command::History { user_id, before, limit: clamp_limit(limit) })
        }
    }
}

fn clamp_limit(limit: Option<u32>) -> u32 {
    limit.unwrap_or(HISTORY_DEFAULT_LIMIT).min(HISTORY_MAX_LIMIT)
}

/// What the glue loaded for a command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// The conversation the command names; `None` if no such visitor on this desk.
    pub conversation: Option<Conversation>,
    /// For a `Post` with a `clientMsgId`: the message this sender already stored under it.
    pub duplicate: Option<WireMessage>,
    /// Whether the visitor has an open socket (for the sidebar row).
    pub online: bool,
}

/// Identity for a new message, chosen by the glue (randomness and the desk's counter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fresh {
    pub id: String,
    pub seq: i64,
}

/// A durable write. Each is applied atomically; all of a step's writes precede its sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// A new message and the conversation state it changes, together.
    Message { user_id: String, message: WireMessage, conversation: Conversation },
    /// Conversation state alone (read marks).
    Conversation(Conversation),
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
    /// Every admin socket.
    Admins,
    /// Every admin socket except the sender.
    AdminOthers,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Store(Write),
    Send { to: Audience, frame: Outbound },
}

fn send(to: Audience, frame: Outbound) -> Effect {
    Effect::Send { to, frame }
}

/// Stores a message and routes it. A retry (same sender, same `clientMsgId`) is acked with the
/// original and nothing else happens, so a resend can never duplicate a message.
pub fn post(now: i64, fresh: Fresh, command: Command, facts: Facts) -> Result<Vec<Effect>, FrameError> {
    let Command::Post { user_id, author, text, client_msg_id } = command else {
        return Err(FrameError::BadFrame("not a message".into()));
    };
    let ack_user = (author == Author::Admin).then(|| user_id.clone());
    if let Some(original) = facts.duplicate {
        return Ok(vec![send(Audience::Sender, ack(&original, ack_user))]);
    }
    let mut conversation = facts.conversation.ok_or(FrameError::UnknownUser)?;
    let message = WireMessage { id: fresh.id, seq: fresh.seq, sender: author, message: text, at: now, client_msg_id };

    if author == Author::User {
        conversation.unread = conversation.unread.saturating_add(1);
    }
    conversation.last = Some(LastMessage {
        preview: truncate(&message.message, PREVIEW_CHARS).to_owned(),
        sender: author,
        at: now,
        seq: message.seq,
    });
    let row = conversation.row(facts.online);
    let for_visitor = live(&message, None);
    let for_admins = live(&message, Some(user_id.clone()));

    let mut effects = vec![
        Effect::Store(Write::Message { user_id: user_id.clone(), message: message.clone(), conversation }),
        send(Audience::Sender, ack(&message, ack_user)),
    ];
    match author {
        Author::User => {
            effects.push(send(Audience::VisitorOthers(user_id), for_visitor));
            effects.push(send(Audience::Admins, for_admins));
        }
        Author::Admin => {
            effects.push(send(Audience::Visitor(user_id), for_visitor));
            effects.push(send(Audience::AdminOthers, for_admins));
        }
    }
    effects.push(send(Audience::Admins, Outbound::User { user: row }));
    Ok(effects)
}

/// Marks a conversation read: unread to 0, read mark to its latest message. Every admin socket
/// gets the new row, so every open inbox clears the badge.
pub fn read(facts: Facts) -> Result<Vec<Effect>, FrameError> {
    let mut conversation = facts.conversation.ok_or(FrameError::UnknownUser)?;
    conversation.unread = 0;
    conversation.read_seq = conversation.last.as_ref().map_or(conversation.read_seq, |l| l.seq);
    let row = conversation.row(facts.online);
    Ok(vec![Effect::Store(Write::Conversation(conversation)), send(Audience::Admins, Outbound::User { user: row })])
}

/// Answers `history`. `newest_first` holds up to `limit + 1` messages with `seq < before`,
/// newest first, as the store reads them: one more than asked tells whether older ones exist.
pub fn history(user_id: String, limit: u32, newest_first: Vec<WireMessage>) -> Outbound {
    let (messages, has_more) = page(newest_first, limit);
    Outbound::History { user_id, messages, has_more }
}

fn page(mut newest_first: Vec<WireMessage>, limit: u32) -> (Vec<WireMessage>, bool) {
    let has_more = newest_first.len() > limit as usize;
    newest_first.truncate(limit as usize);
    newest_first.reverse();
    (newest_first, has_more)
}

/// A visitor's first socket opened or last socket closed: admins see the online dot change.
/// Visitors who never wrote are not in the sidebar, so nothing is sent for them.
pub fn presence(conversation: &Conversation, was_online: bool, is_online: bool) -> Vec<Effect> {
    if was_online == is_online || conversation.last.is_none() {
        return Vec::new();
    }
    vec![send(Audience::Admins, Outbound::User { user: conversation.row(is_online) })]
}

/// The default display name of a new visitor, from its id: short, stable, recognisable.
pub fn default_name(user_id: &str) -> String {
    let tag: String = user_id.chars().filter(char::is_ascii_alphanumeric).take(6).collect();
    format!("Visitor {}", tag.to_ascii_uppercase())
}

fn ack(message: &WireMessage, user_id: Option<String>) -> Outbound {
    Outbound::Ack {
        client_msg_id: message.client_msg_id.clone(),
        id: message.id.clone(),
        seq: message.seq,
        at: message.at,
        user_id,
    }
}

fn live(message: &WireMessage, user_id: Option<String>) -> Outbound {
    Outbound::Message {
        sender: message.sender,
        user_id,
        message: message.message.clone(),
        id: message.id.clone(),
        seq: message.seq,
        at: message.at,
        client_msg_id: message.client_msg_id.clone(),
    }
}
