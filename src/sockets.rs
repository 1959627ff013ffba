//! Socket bookkeeping for the desk object: tags, attachments, liveness. Survives hibernation.
//!
//! Who a socket belongs to is written into its attachment at upgrade (role, user id) and it is
//! tagged (`admin`, or the visitor's user id), so a woken object finds "every socket of user X"
//! with one runtime call and needs no in-memory map. A visitor socket's second tag is its sweep
//! group (`session::sweep_tag`), so the stale-socket sweep asks for a slice, never for all.

use std::cell::RefCell;
use std::rc::Rc;

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use worker::{js_sys, web_sys, State, WebSocket};

use crate::desk::Sender;
use crate::protocol::{Outbound, Role};
use crate::session::sweep_tag;

mod labels;
pub use labels::Labels;

/// Tag on every admin (agent) socket. Visitor sockets carry their user id (a UUID, never `admin`).
pub const ADMIN_TAG: &str = "admin";

/// The second tag of an agent's sockets, so revoking an agent finds its sockets in one call.
pub fn agent_tag(agent_id: &str) -> String {
    format!("agent:{agent_id}")
}

/// Kept with each socket by the runtime (at most 16 KiB; this is well under 200 bytes).
#[derive(Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "lowercase")]
enum Attachment {
    Visitor {
        #[serde(rename = "userId")]
        user_id: String,
        #[serde(default, rename = "heardAt")]
        heard_at: i64,
        #[serde(default)]
        sid: u64,
    },
    /// Sockets accepted before agents existed: the one admin, now the owner.
    Admin {
        #[serde(default, rename = "heardAt")]
        heard_at: i64,
        #[serde(default)]
        sid: u64,
    },
    Agent {
        #[serde(rename = "agentId")]
        agent_id: String,
        #[serde(rename = "agentRole")]
        agent_role: Role,
        #[serde(default, rename = "heardAt")]
        heard_at: i64,
        #[serde(default)]
        sid: u64,
    },
}

/// What a socket's attachment says: who it is, when it was last heard from, and its socket id
/// (random, so in-memory per-socket state such as its rate bucket can be keyed by it).
#[derive(Clone)]
pub struct Label {
    pub sender: Sender,
    pub heard_at: i64,
    pub sid: u64,
}

/// Accepts a hibernatable socket for `sender`, tagged and labelled, heard from `now`.
pub fn accept(
    state: &State,
    labels: &mut Labels,
    ws: &WebSocket,
    sender: Sender,
    sid: u64,
    now: i64,
) -> worker::Result<()> {
    match &sender {
        // The second tag is its sweep group (`session::sweep_tag`): the sweep asks for one group
        // at a time, never for every socket at once.
        Sender::Visitor { user_id } => state.accept_websocket_with_tags(ws, &[user_id, &sweep_tag(sid)]),
        // Agent ids are ours (`owner` or a UUID), well under the runtime's 256-character tag limit.
        Sender::Agent { id, .. } => state.accept_websocket_with_tags(ws, &[ADMIN_TAG, &agent_tag(id)]),
    }
    let label = Label { sender, heard_at: now, sid };
    write(ws, &label)?;
    labels.hold(ws, label);
    Ok(())
}

fn write(ws: &WebSocket, label: &Label) -> worker::Result<()> {
    let (heard_at, sid) = (label.heard_at, label.sid);
    ws.serialize_attachment(match &label.sender {
        Sender::Visitor { user_id } => Attachment::Visitor { user_id: user_id.clone(), heard_at, sid },
        Sender::Agent { id, role } => Attachment::Agent { agent_id: id.clone(), agent_role: *role, heard_at, sid },
    })
}

/// Who a socket belongs to, when it last sent a frame (or opened), and its id, read from its
/// attachment (`Labels` holds what was read, per instance).
fn label(ws: &WebSocket) -> Option<Label> {
    Some(match ws.deserialize_attachment::<Attachment>().ok().flatten()? {
        Attachment::Visitor { user_id, heard_at, sid } => Label { sender: Sender::Visitor { user_id }, heard_at, sid },
        Attachment::Admin { heard_at, sid } => Label { sender: Sender::owner(), heard_at, sid },
        Attachment::Agent { agent_id, agent_role, heard_at, sid } => {
            Label { sender: Sender::Agent { id: agent_id, role: agent_role }, heard_at, sid }
        }
    })
}

#[wasm_bindgen]
extern "C" {
    /// The slice of `DurableObjectState` that `worker` 0.8 does not bind.
    type StateExt;
    #[wasm_bindgen(method, js_name = getWebSocketAutoResponseTimestamp)]
    fn auto_response_timestamp(this: &StateExt, ws: &web_sys::WebSocket) -> Option<js_sys::Date>;
}

/// When the runtime last answered a ping on this socket without waking us, in ms since the epoch.
pub fn last_ping(state: &State, ws: &WebSocket) -> Option<i64> {
    let ext: &StateExt = state.as_raw().unchecked_ref();
    ext.auto_response_timestamp(ws.as_ref()).map(|d| d.get_time() as i64)
}

/// The sockets of each tag, asked of the runtime at most once per event: routing one reply needs
/// the target's sockets twice (presence, delivery) and the admins' twice (mirror, row).
pub struct Tagged<'a> {
    state: &'a State,
    seen: RefCell<Vec<(String, Rc<Vec<WebSocket>>)>>,
}

impl<'a> Tagged<'a> {
    pub fn new(state: &'a State) -> Self {
        Tagged { state, seen: RefCell::new(Vec::new()) }
    }

    /// Every socket with `tag`, open or closing. Sending to a closing one fails harmlessly, so
    /// delivery does not pay for a `readyState` call per socket.
    pub fn all(&self, tag: &str) -> Rc<Vec<WebSocket>> {
        if let Some((_, list)) = self.seen.borrow().iter().find(|(t, _)| t == tag) {
            return Rc::clone(list);
        }
        let list = Rc::new(self.state.get_websockets_with_tag(tag));
        self.seen.borrow_mut().push((tag.to_owned(), Rc::clone(&list)));
        list
    }

    /// Whether any socket with `tag` is open: a visitor is online.
    pub fn any_open(&self, tag: &str) -> bool {
        self.all(tag).iter().any(is_open)
    }
}

/// Open sockets with `tag`, leaving out `except`.
pub fn tagged(state: &State, tag: &str, except: Option<&WebSocket>) -> Vec<WebSocket> {
    state.get_websockets_with_tag(tag).into_iter().filter(|ws| except != Some(ws) && is_open(ws)).collect()
}

pub fn is_open(ws: &WebSocket) -> bool {
    let raw: &web_sys::WebSocket = ws.as_ref();
    raw.ready_state() == web_sys::WebSocket::OPEN
}

/// Sends a frame; a socket that closed meanwhile is not an error worth reporting.
pub fn send(ws: &WebSocket, frame: &Outbound) {
    let _ = ws.send_with_str(frame.to_json());
}
