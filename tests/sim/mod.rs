//! A deterministic desk for scenario tests: the real parser and the real core (`desk::step`)
//! over the library's in-memory view, and named sockets whose inboxes the tests read.
//!
//! Only what the Durable Object glue does itself is repeated here: effects performed in order
//! (writes first, then sends to their audience), a fixed clock and sequential ids, so a scenario
//! reads like the use case.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};

use support_desk::attachments::{Attachment, AttachmentLimits};
use support_desk::desk::attachment;
use support_desk::desk::memory::Memory;
use support_desk::desk::team::{self, SignIn};
use support_desk::desk::{self, Audience, Conversation, Effect, Sender, View};
use support_desk::error::{FrameError, HttpError};
use support_desk::limits::Buckets;
use support_desk::protocol::{self, Outbound, Role, UserRow, WireMessage, WELCOME_MESSAGES};
use support_desk::session::{self, Backlog};

/// The owner secret every simulated desk is configured with.
pub const OWNER_SECRET: &str = "owner-secret-0123456789abcdef-0123456789";

pub struct Socket {
    pub sender: Sender,
    pub open: bool,
    pub inbox: Vec<Outbound>,
    /// Close code, once the desk closed it.
    pub closed_with: Option<u16>,
}

/// Sequential ids and secrets: `m1`, `m2`… and bytes from a counter.
#[derive(Default)]
pub struct Counter(u32);

impl desk::Fresh for Counter {
    fn id(&mut self) -> String {
        self.0 += 1;
        format!("m{}", self.0)
    }

    fn secret(&mut self) -> [u8; 32] {
        self.0 += 1;
        let mut bytes = [0u8; 32];
        bytes[..4].copy_from_slice(&self.0.to_le_bytes());
        bytes
    }
}

#[derive(Default)]
pub struct Desk {
    pub now: i64,
    pub state: Memory,
    pub sockets: BTreeMap<&'static str, Socket>,
    pub fresh: Counter,
    /// Earliest time the desk asked its alarm to fire.
    pub alarm: Option<i64>,
    /// When set, every visitor frame is first admitted by its visitor's bucket, as the glue's
    /// `admit` does (a refusal is `rate_limited`, and the frame goes no further).
    pub visitor_buckets: Option<Buckets>,
}

impl Deref for Desk {
    type Target = Memory;
    fn deref(&self) -> &Memory {
        &self.state
    }
}

impl DerefMut for Desk {
    fn deref_mut(&mut self) -> &mut Memory {
        &mut self.state
    }
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
            .state
            .conversations
            .entry(user_id.to_owned())
            .or_insert_with(|| Conversation::new(user_id, format!("User {user_id}")))
            .clone();
        // As the glue: the visit recorded before the socket opens (no device seen in a test).
        let arrived = desk::context::arrive(&self.state, user_id, Default::default(), self.now);
        self.state.apply(&arrived);
        let was_online = self.state.online(user_id);
        let sender = Sender::Visitor { user_id: user_id.to_owned() };
        self.sockets.insert(socket, Socket { sender, open: true, inbox: Vec::new(), closed_with: None });
        self.refresh_presence();
        let page = Backlog::Latest(self.state.messages(user_id, None, WELCOME_MESSAGES + 1, false));
        let welcome = session::welcome(&conversation, format!("token-{user_id}"), "epoch-1", WELCOME_MESSAGES, page)
            .expect("a latest page is never too far behind");
        let effects = desk::presence(&self.state, &conversation, was_online, true);
        self.perform(socket, effects);
        welcome
    }

    /// Opens an admin socket signed in as the owner; returns its first frame (`users`).
    pub fn admin(&mut self, socket: &'static str) -> Outbound {
        self.sign_in(socket, Some(OWNER_SECRET)).expect("the owner signs in")
    }

    /// Opens an admin socket with a credential, as the desk object does; returns `users`.
    pub fn sign_in(&mut self, socket: &'static str, presented: Option<&str>) -> Result<Outbound, team::Refused> {
        let request = SignIn { owner_secret: Some(OWNER_SECRET), presented, ..Default::default() };
        let admitted = team::sign_in(&request, &self.state, self.now, &mut self.fresh)?;
        for w in &admitted.writes {
            self.state.apply(w);
        }
        let (id, role) = (admitted.agent.id.clone(), admitted.agent.role);
        self.sockets.insert(
            socket,
            Socket { sender: Sender::Agent { id, role }, open: true, inbox: Vec::new(), closed_with: None },
        );
        self.refresh_presence();
        let rows = self.users();
        let seq = self.state.next_seq() - 1;
        Ok(session::admin_snapshot(rows, "epoch-1", seq, admitted.agent.me(), None).expect("fresh").remove(0))
    }

    /// The `users` rows as an admin socket opening now would get them: newest activity first.
    pub fn users(&self) -> Vec<UserRow> {
        let rows = self
            .state
            .list(protocol::ListView::All, "", None, protocol::MAX_USERS_ROWS)
            .iter()
            .map(|c| desk::row(&self.state, c))
            .collect();
        desk::context::with_contexts(&self.state, rows)
    }

    pub fn close(&mut self, socket: &'static str) {
        let Some(s) = self.sockets.get_mut(socket) else {
            return;
        };
        s.open = false;
        let sender = s.sender.clone();
        let was = self.state.online.clone();
        self.refresh_presence();
        if let Sender::Visitor { user_id } = sender {
            if was.contains(&user_id) && !self.state.online(&user_id) {
                if let Some(c) = self.state.conversation(&user_id) {
                    let effects = desk::presence(&self.state, &c, true, false);
                    self.perform(socket, effects);
                }
            }
        }
    }

    /// Sends a text frame from `socket`, as the glue's `websocket_message` handles it.
    pub fn send(&mut self, socket: &'static str, text: &str) {
        self.now += 1;
        let sender = self.sockets[socket].sender.clone();
        if let (Sender::Visitor { user_id }, Some(buckets)) = (&sender, self.visitor_buckets.as_mut()) {
            if let Err(retry_after_ms) = buckets.take(user_id, self.now) {
                let refusal = Outbound::error(&FrameError::RateLimited { retry_after_ms }, None);
                self.perform(socket, vec![Effect::Send { to: Audience::Sender, frame: refusal }]);
                return;
            }
        }
        let outcome =
            protocol::parse(text).and_then(|frame| desk::step(&sender, frame, &self.state, self.now, &mut self.fresh));
        let effects = match outcome {
            Ok(effects) => effects,
            Err(err) => vec![Effect::Send {
                to: Audience::Sender,
                frame: Outbound::error(&err, protocol::peek_client_msg_id(text)),
            }],
        };
        self.perform(socket, effects);
    }

    /// Moves the clock to `now` and runs the alarm if it is due, as the desk object's `alarm`.
    pub fn advance(&mut self, now: i64) {
        self.now = now;
        if self.alarm.is_some_and(|at| at <= now) {
            self.alarm = None;
            let due = self.state.due(now);
            let effects = desk::conversation::wake(now, due, &self.state, &mut self.fresh);
            self.perform("", effects);
        }
    }

    /// The alarm found `user_id`'s conversation unanswered (`desk::notify`): the desk's automatic
    /// message, as the desk object's mail pass runs it.
    pub fn unanswered(&mut self, user_id: &str) {
        self.now += 1;
        let effects = desk::availability::unanswered(user_id, &self.state, self.now, &mut self.fresh);
        self.perform("", effects);
    }

    /// Moves the clock to `now` and runs one retention slice, as the desk object's `alarm` does.
    pub fn expire(&mut self, now: i64, retention_ms: i64) {
        self.now = now;
        let due = self.state.expired(now, retention_ms, desk::moderation::RETENTION_SLICE);
        let effects = desk::moderation::expire(now, retention_ms, due);
        self.perform("", effects);
    }

    fn refresh_presence(&mut self) {
        let open = self.sockets.values().filter(|s| s.open);
        let (mut visitors, mut agents) = (std::collections::BTreeSet::new(), std::collections::BTreeSet::new());
        for s in open {
            match &s.sender {
                Sender::Visitor { user_id } => visitors.insert(user_id.clone()),
                Sender::Agent { id, .. } => agents.insert(id.clone()),
            };
        }
        self.state.online = visitors;
        self.state.agents_online = agents;
    }

    fn perform(&mut self, origin: &'static str, effects: Vec<Effect>) {
        let mut sent = false;
        for effect in effects {
            match effect {
                Effect::Store(write) => {
                    assert!(!sent, "a write came after a send: an ack could precede durability");
                    self.state.apply(&write);
                }
                Effect::Send { to, frame } => {
                    sent = true;
                    for name in self.audience(&to, origin) {
                        if let Some(s) = self.sockets.get_mut(name) {
                            s.inbox.push(frame.clone());
                        }
                    }
                }
                Effect::CloseAgent { agent_id, code, .. } => {
                    for s in self.sockets.values_mut() {
                        if s.open && matches!(&s.sender, Sender::Agent { id, .. } if *id == agent_id) {
                            s.open = false;
                            s.closed_with = Some(code);
                        }
                    }
                    self.refresh_presence();
                }
                Effect::CloseVisitor { user_id, code, .. } => {
                    for s in self.sockets.values_mut() {
                        if s.open && matches!(&s.sender, Sender::Visitor { user_id: id } if *id == user_id) {
                            s.open = false;
                            s.closed_with = Some(code);
                        }
                    }
                    self.refresh_presence();
                }
                Effect::WakeAt(at) => self.alarm = Some(self.alarm.map_or(at, |a| a.min(at))),
                Effect::StorageWarned(at) => self.state.storage.warned_at = Some(at),
                Effect::Typed(typist, at) => self.state.typing.record(typist, at),
            }
        }
    }

    fn audience(&self, to: &Audience, origin: &'static str) -> Vec<&'static str> {
        let open = self.sockets.iter().filter(|(_, s)| s.open);
        let is_visitor = |s: &Socket, id: &str| matches!(&s.sender, Sender::Visitor { user_id } if user_id == id);
        let is_agent = |s: &Socket| matches!(s.sender, Sender::Agent { .. });
        match to {
            Audience::Sender => vec![origin],
            Audience::Visitor(id) => open.filter(|(_, s)| is_visitor(s, id)).map(|(n, _)| *n).collect(),
            Audience::VisitorOthers(id) => {
                open.filter(|(n, s)| **n != origin && is_visitor(s, id)).map(|(n, _)| *n).collect()
            }
            Audience::Admins => open.filter(|(_, s)| is_agent(s)).map(|(n, _)| *n).collect(),
            Audience::AdminOthers => open.filter(|(n, s)| **n != origin && is_agent(s)).map(|(n, _)| *n).collect(),
        }
    }

    /// An HTTP upload of a file by `socket`'s sender, as the desk object runs it: admitted before
    /// the body is read, then (the bytes checked and stored in R2) recorded and performed. No
    /// socket sent it, so nothing goes to a "sender". Returns the stored message.
    pub fn upload(
        &mut self,
        socket: &'static str,
        request: &attachment::Request,
        name: &str,
        limits: &AttachmentLimits,
    ) -> Result<WireMessage, HttpError> {
        self.now += 1;
        let sender = self.sockets[socket].sender.clone();
        let admitted = attachment::admit(&sender, request, limits, &self.state, self.now)?;
        let id = desk::Fresh::id(&mut self.fresh);
        let file = Attachment { id, name: name.into(), size: request.size, mime: admitted.kind.mime.into() };
        let recorded = attachment::record(&sender, request, file, limits, &self.state, self.now, &mut self.fresh)?;
        self.perform("", recorded.effects);
        Ok(recorded.message)
    }

    /// Takes everything `socket` received so far.
    pub fn take(&mut self, socket: &'static str) -> Vec<Outbound> {
        std::mem::take(&mut self.sockets.get_mut(socket).expect("socket").inbox)
    }

    /// The owner (on socket `by`) invites `name` as `role`, and they accept: returns the new
    /// agent's id and token.
    pub fn join(&mut self, by: &'static str, name: &str, role: Role) -> (String, String) {
        let role = role.as_str();
        self.send(by, &serde_json::json!({ "type": "invite", "name": name, "role": role }).to_string());
        let invited = self.take(by).into_iter().map(|f| json(&f)).find(|f| f["type"] == "invited").expect("invited");
        let body = serde_json::json!({ "code": invited["code"], "name": name }).to_string();
        let (write, accepted) = team::accept(&body, &self.state, self.now, &mut self.fresh).expect("accepted");
        self.state.apply(&write);
        (accepted.agent_id, accepted.token)
    }
}

/// A frame as JSON, for compact assertions.
pub fn json(frame: &Outbound) -> serde_json::Value {
    serde_json::from_str(&frame.to_json()).expect("frames are JSON")
}

pub fn types(frames: &[Outbound]) -> Vec<String> {
    frames.iter().map(|f| json(f)["type"].as_str().unwrap_or("").to_owned()).collect()
}
