//! Carrying out the core's effects, in order: writes (each through `Desk::write`, which keeps the
//! caches in step), then sends, closes and alarm times. An `impl Desk` of its own, split from
//! `desk_object.rs`.

use worker::{Result, WebSocket};

use super::Desk;
use crate::desk::{Audience, Effect, Write};
use crate::sockets::{agent_tag, Tagged, ADMIN_TAG};

impl Desk {
    /// Carries out effects in order; returns when the alarm must fire by and how many bytes went
    /// to `origin`. The core puts writes before sends, so a failed write returns here before
    /// anyone is told anything.
    pub(super) fn perform(
        &self,
        origin: Option<&WebSocket>,
        effects: Vec<Effect>,
        tagged: &Tagged,
        now: i64,
    ) -> Result<Performed> {
        let mut store = None;
        let mut wake = Vec::new();
        let mut answered_bytes = 0;
        for effect in effects {
            match effect {
                Effect::Store(write) => {
                    if store.is_none() {
                        store = Some(self.store()?);
                    }
                    if let Some(s) = &store {
                        self.write(s, &write, now)?;
                        if let Write::Append { message, .. } = &write {
                            let reply = message.sender == crate::protocol::Author::Admin && message.event.is_none();
                            let visitor = message.sender == crate::protocol::Author::User;
                            if let Some(at) =
                                (reply || visitor).then(|| self.mail_message_stored(s, visitor, now)).flatten()
                            {
                                wake.push(at);
                            }
                        }
                        if self.purge_due(s, &write)? {
                            wake.push(now); // the alarm removes the files from R2
                        }
                    }
                }
                Effect::Send { to, frame } => {
                    let json = frame.to_json(); // once, whatever the number of recipients
                    let (tag, except) = match &to {
                        Audience::Sender => {
                            if let Some(ws) = origin {
                                answered_bytes += json.len();
                                let _ = ws.send_with_str(&json);
                            }
                            continue;
                        }
                        Audience::Visitor(user_id) => (user_id.as_str(), None),
                        Audience::VisitorOthers(user_id) => (user_id.as_str(), origin),
                        Audience::Admins => (ADMIN_TAG, None),
                        Audience::AdminOthers => (ADMIN_TAG, origin),
                    };
                    for ws in tagged.all(tag).iter().filter(|ws| except != Some(*ws)) {
                        let _ = ws.send_with_str(&json); // a closing socket is not an error
                    }
                }
                Effect::CloseAgent { agent_id, code, reason } => {
                    for ws in self.state.get_websockets_with_tag(&agent_tag(&agent_id)) {
                        let found = self.labels.borrow_mut().get(&ws);
                        if let Some(label) = found {
                            self.agent_buckets.borrow_mut().remove(&label.sid);
                        }
                        let _ = ws.close(Some(code), Some(reason));
                    }
                }
                Effect::CloseVisitor { user_id, code, reason } => {
                    // Its bucket (by user id) is forgotten with the others once full again.
                    for ws in self.state.get_websockets_with_tag(&user_id) {
                        let _ = ws.close(Some(code), Some(reason));
                    }
                    self.presence.borrow_mut().forget(&user_id);
                }
                Effect::WakeAt(at) => wake.push(at),
                Effect::StorageWarned(at) => self.storage_warned.set(Some(at)),
                Effect::Typed(typist, at) => self.typing.borrow_mut().record(typist, at),
            }
        }
        Ok(Performed { wake, answered_bytes })
    }
}

/// What performing a step's effects came to.
pub(super) struct Performed {
    /// When the alarm must fire by (snoozes ending).
    pub(super) wake: Vec<i64>,
    /// Bytes of JSON sent to the socket the frame came from: what its answer cost.
    pub(super) answered_bytes: usize,
}
