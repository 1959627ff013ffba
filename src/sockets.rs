//! Socket bookkeeping for the desk object: tags, attachments, liveness. Survives hibernation.
//!
//! Who a socket belongs to is written into its attachment at upgrade (role, user id) and it is
//! tagged (`admin`, or the visitor's user id), so a woken object finds "every socket of user X"
//! with one runtime call and needs no in-memory map. A visitor socket's second tag is its sweep
//! group (`session::sweep_tag`), so the stale-socket sweep asks for a slice, never for all.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

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

/// Kept with each socket by the runtime (at most 16 KiB; this is well under 200 bytes): a plain
/// object `{role: "visitor"|"agent"|"admin", userId | agentId + agentRole, heardAt, sid}`, built
/// and read field by field (no serde_wasm_bindgen in the wasm). `admin`: sockets accepted before
/// agents existed, the one admin, now the owner.
fn attachment_value(label: &Label) -> JsValue {
    let o = js_sys::Object::new();
    let set = |k: &str, v: JsValue| {
        let _ = js_sys::Reflect::set(&o, &JsValue::from_str(k), &v);
    };
    match &label.sender {
        Sender::Visitor { user_id } => {
            set("role", "visitor".into());
            set("userId", user_id.into());
        }
        Sender::Agent { id, role } => {
            set("role", "agent".into());
            set("agentId", id.into());
            set("agentRole", role.as_str().into());
        }
    }
    set("heardAt", JsValue::from_f64(label.heard_at as f64));
    set("sid", JsValue::from_f64(label.sid as f64));
    o.into()
}

fn attachment_label(v: &JsValue) -> Option<Label> {
    if !v.is_object() {
        return None;
    }
    let get = |k: &str| js_sys::Reflect::get(v, &JsValue::from_str(k)).ok();
    let text = |k: &str| get(k).and_then(|v| v.as_string());
    let number = |k: &str| get(k).and_then(|v| v.as_f64()).unwrap_or(0.0);
    let (heard_at, sid) = (number("heardAt") as i64, number("sid") as u64);
    let sender = match text("role")?.as_str() {
        "visitor" => Sender::Visitor { user_id: text("userId")? },
        "admin" => Sender::owner(),
        "agent" => Sender::Agent { id: text("agentId")?, role: Role::parse(&text("agentRole")?)? },
        _ => return None,
    };
    Some(Label { sender, heard_at, sid })
}

#[wasm_bindgen]
extern "C" {
    /// The attachment half of the runtime's `WebSocket`, bound here to pass a plain `JsValue`.
    type SocketExt;
    #[wasm_bindgen(method, catch, js_name = serializeAttachment)]
    fn serialize_attachment(this: &SocketExt, value: &JsValue) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = deserializeAttachment)]
    fn deserialize_attachment(this: &SocketExt) -> Result<JsValue, JsValue>;
}

fn ext(ws: &WebSocket) -> &SocketExt {
    let raw: &web_sys::WebSocket = ws.as_ref();
    raw.unchecked_ref()
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
    ext(ws).serialize_attachment(&attachment_value(label)).map_err(worker::Error::from)
}

/// Who a socket belongs to, when it last sent a frame (or opened), and its id, read from its
/// attachment (`Labels` holds what was read, per instance).
fn label(ws: &WebSocket) -> Option<Label> {
    attachment_label(&ext(ws).deserialize_attachment().ok()?)
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
    seen: RefCell<HashMap<String, Rc<Vec<WebSocket>>>>,
}

impl<'a> Tagged<'a> {
    pub fn new(state: &'a State) -> Self {
        Tagged { state, seen: RefCell::default() }
    }

    /// Every socket with `tag`, open or closing. Sending to a closing one fails harmlessly, so
    /// delivery does not pay for a `readyState` call per socket.
    pub fn all(&self, tag: &str) -> Rc<Vec<WebSocket>> {
        if let Some(list) = self.seen.borrow().get(tag) {
            return Rc::clone(list);
        }
        let list = Rc::new(self.state.get_websockets_with_tag(tag));
        self.seen.borrow_mut().insert(tag.to_owned(), Rc::clone(&list));
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
