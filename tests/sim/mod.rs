//! A deterministic desk simulator for scenario tests: the real parser and core, an in-memory
//! stand-in for SQLite, and named sockets whose inboxes the tests read.
//!
//! It performs effects exactly as the Durable Object glue does (writes first, then sends to the
//! audience), with a fixed clock and sequential ids, so a scenario reads like the use case.

#![allow(dead_code)]

use std::collections::BTreeMap;

use support_desk::desk::{self, Audience, Command, Conversation, Effect, Facts, Fresh, Sender, Write};
use support_desk::protocol::{self, Outbound, WireMessage, WELCOME_MESSAGES};
use support_desk::session::{self, Backlog};

pub struct Socket {
    pub sender: Sender,
    pub open: bool,
    pub inbox: Vec<Outbound>,
}

#[derive(Default)]
pub struct Desk {
    pub now: i64,
    pub conversations: BTreeMap<String, Conversation>,
    pub messages: Vec<(String, WireMessage)>,
    pub sockets: BTreeMap<&'static str, Socket>,
    ids: u32,
}

impl Desk {
    pub fn new() -> Self {
        Desk { now: 1_000, ..Default::default() }
    }

    /// Opens a visitor socket named `socket` for `user_id` (created on first sight); returns the
    /// welcome it got.
    pub fn visitor(&mut self, socket: &'static str, user_id: &str) -> Outbound {
        self.now += 1;
        let conversation = self
            .conversations
            .entry(user_id.to_owned())
            .or_insert_with(|| Conversation::new(user_id, format!("User {user_id}")))
            .clone();
        let was_online = self.online(user_id);
        let sender = Sender::Visitor { user_id: user_id.to_owned() };
        self.sockets.insert(socket, Socket { sender, open: true, inbox: Vec::new() });
        let page = Backlog::Latest(self.page(user_id, None, WELCOME_MESSAGES + 1));
        let welcome = session::welcome(&conversation, format!("token-{user_id}"), "epoch-1", WELCOME_MESSAGES, page)
            .expect("a latest page is never too far behind");
        let effects = desk::presence(&conversation, was_online, true);
        self.perform(socket, effects);
        welcome
    }

    pub fn admin(&mut self, socket: &'static str) {
        self.sockets.insert(socket, Socket { sender: Sender::Admin, open: true, inbox: Vec::new() });
    }

    /// The admin sidebar as an admin socket opening now would get it: newest activity first.
    pub fn users(&self) -> Vec<support_desk::protocol::UserRow> {
        let mut rows: Vec<_> = self.conversations.values().filter(|c| c.last.is_some()).collect();
        rows.sort_by_key(|c| std::cmp::Reverse(c.last.as_ref().map(|l| (l.at, l.seq))));
        rows.into_iter().map(|c| c.row(self.online(&c.user_id))).collect()
    }

    pub fn close(&mut self, socket: &'static str) {
        let Some(s) = self.sockets.get_mut(socket) else { return };
        s.open = false;
        if let Sender::Visitor { user_id } = s.sender.clone() {
            if !self.online(&user_id) {
                if let Some(c) = self.conversations.get(&user_id).cloned() {
                    let effects = desk::presence(&c, true, false);
                    self.perform(socket, effects);
                }
            }
        }
    }

    /// Sends a text frame from `socket`, as the glue's `websocket_message` handles it.
    pub fn send(&mut self, socket: &'static str, text: &str) {
        self.now += 1;
        let sender = self.sockets[socket].sender.clone();
        let effects = match self.step(&sender, text) {
            Ok(effects) => effects,
            Err(err) => vec![Effect::Send {
                to: Audience::Sender,
                frame: Outbound::error(&err, protocol::peek_client_msg_id(text)),
            }],
        };
        self.perform(socket, effects);
    }

    fn step(&mut self, sender: &Sender, text: &str) -> Result<Vec<Effect>, support_desk::error::FrameError> {
        let command = desk::command(sender, protocol::parse(text)?)?;
        Ok(match command {
            Command::Ping => vec![Effect::Send { to: Audience::Sender, frame: Outbound::Pong }],
            Command::Post { ref user_id, author, ref client_msg_id, .. } => {
                let duplicate = client_msg_id.as_ref().and_then(|id| {
                    self.messages
                        .iter()
                        .find(|(u, m)| u == user_id && m.sender == author && m.client_msg_id.as_ref() == Some(id))
                        .map(|(_, m)| m.clone())
                });
                let facts = Facts {
                    conversation: self.conversations.get(user_id).cloned(),
                    duplicate,
                    online: self.online(user_id),
                };
                self.ids += 1;
                let seq = self.messages.last().map_or(1, |(_, m)| m.seq + 1);
                desk::post(self.now, Fresh { id: format!("m{}", self.ids), seq }, command, facts)?
            }
            Command::Read { ref user_id } => desk::read(Facts {
                conversation: self.conversations.get(user_id).cloned(),
                duplicate: None,
                online: self.online(user_id),
            })?,
            Command::History { user_id, before, limit } => {
                if !self.conversations.contains_key(&user_id) {
                    return Err(support_desk::error::FrameError::UnknownUser);
                }
                let page = self.page(&user_id, before, limit + 1);
                vec![Effect::Send { to: Audience::Sender, frame: desk::history(user_id, limit, page) }]
            }
        })
    }

    fn perform(&mut self, origin: &'static str, effects: Vec<Effect>) {
        let mut sent = false;
        for effect in effects {
            match effect {
                Effect::Store(write) => {
                    assert!(!sent, "a write came after a send: an ack could precede durability");
                    match write {
                        Write::Message { user_id, message, conversation } => {
                            self.messages.push((user_id.clone(), message));
                            self.conversations.insert(user_id, conversation);
                        }
                        Write::Conversation(c) => {
                            self.conversations.insert(c.user_id.clone(), c);
                        }
                    }
                }
                Effect::Send { to, frame } => {
                    sent = true;
                    for name in self.audience(&to, origin) {
                        if let Some(s) = self.sockets.get_mut(name) {
                            s.inbox.push(frame.clone());
                        }
                    }
                }
            }
        }
    }

    fn audience(&self, to: &Audience, origin: &'static str) -> Vec<&'static str> {
        let open = self.sockets.iter().filter(|(_, s)| s.open);
        let is_visitor = |s: &Socket, id: &str| matches!(&s.sender, Sender::Visitor { user_id } if user_id == id);
        match to {
            Audience::Sender => vec![origin],
            Audience::Visitor(id) => open.filter(|(_, s)| is_visitor(s, id)).map(|(n, _)| *n).collect(),
            Audience::VisitorOthers(id) => {
                open.filter(|(n, s)| **n != origin && is_visitor(s, id)).map(|(n, _)| *n).collect()
            }
            Audience::Admins => open.filter(|(_, s)| s.sender == Sender::Admin).map(|(n, _)| *n).collect(),
            Audience::AdminOthers => {
                open.filter(|(n, s)| **n != origin && s.sender == Sender::Admin).map(|(n, _)| *n).collect()
            }
        }
    }

    fn online(&self, user_id: &str) -> bool {
        self.sockets
            .values()
            .any(|s| s.open && matches!(&s.sender, Sender::Visitor { user_id: u } if u == user_id))
    }

    fn page(&self, user_id: &str, before: Option<i64>, limit: u32) -> Vec<WireMessage> {
        self.messages
            .iter()
            .rev()
            .filter(|(u, m)| u == user_id && before.is_none_or(|b| m.seq < b))
            .take(limit as usize)
            .map(|(_, m)| m.clone())
            .collect()
    }

    /// Takes everything `socket` received so far.
    pub fn take(&mut self, socket: &'static str) -> Vec<Outbound> {
        std::mem::take(&mut self.sockets.get_mut(socket).expect("socket").inbox)
    }
}

/// A frame as JSON, for compact assertions.
pub fn json(frame: &Outbound) -> serde_json::Value {
    serde_json::from_str(&frame.to_json()).expect("frames are JSON")
}

pub fn types(frames: &[Outbound]) -> Vec<String> {
    frames.iter().map(|f| json(f)["type"].as_str().unwrap_or("").to_owned()).collect()
}
