//! Who each socket is, decoded from its attachment once per awake instance instead of on every
//! frame: `deserializeAttachment` and the serde walk over the JS object it returns cost more than
//! the rest of routing a reply outside SQLite.
//!
//! A cache, never the only copy: the attachment stays the truth (it survives hibernation, this
//! does not), and a new instance starts empty. Keyed by the runtime's own `WebSocket` object
//! through a JS `WeakMap` (a socket object dropped by the runtime drops its key with it); bounded
//! in entries, so sockets that vanish without a close event cannot grow it without limit.

use std::collections::HashMap;

use wasm_bindgen::{JsCast, JsValue};
use worker::{js_sys, WebSocket};

use super::{label, write, Label};

/// Labels held at most (the runtime's limit of sockets per object is 32,768); past it, start over.
const MAX_LABELS: usize = 40_000;

pub struct Labels {
    keys: js_sys::WeakMap,
    held: HashMap<u32, Label>,
    next: u32,
}

impl Default for Labels {
    fn default() -> Self {
        Labels { keys: js_sys::WeakMap::new(), held: HashMap::new(), next: 0 }
    }
}

fn object(ws: &WebSocket) -> &js_sys::Object {
    let raw: &worker::web_sys::WebSocket = ws.as_ref();
    raw.unchecked_ref()
}

impl Labels {
    fn key(&self, ws: &WebSocket) -> Option<u32> {
        self.keys.get(object(ws)).as_f64().map(|k| k as u32)
    }

    /// Who `ws` is, as its attachment says (read from it the first time only).
    pub fn get(&mut self, ws: &WebSocket) -> Option<Label> {
        if let Some(held) = self.key(ws).and_then(|k| self.held.get(&k)) {
            return Some(held.clone());
        }
        let found = label(ws)?;
        self.hold(ws, found.clone());
        Some(found)
    }

    /// Holds a label just written to `ws`'s attachment (a socket accepted now).
    pub fn hold(&mut self, ws: &WebSocket, found: Label) {
        if self.held.len() >= MAX_LABELS {
            *self = Labels::default();
        }
        let key = match self.key(ws) {
            Some(k) => k,
            None => {
                self.next = self.next.wrapping_add(1);
                self.keys.set(object(ws), &JsValue::from_f64(f64::from(self.next)));
                self.next
            }
        };
        self.held.insert(key, found);
    }

    /// Notes that `ws` was heard from: the attachment is rewritten at most every `every_ms` (so a
    /// chatty socket does not pay for it on every frame), and the held label with it.
    pub fn heard(&mut self, ws: &WebSocket, label: &mut Label, now: i64, every_ms: i64) {
        if now - label.heard_at >= every_ms {
            label.heard_at = now;
            let _ = write(ws, label);
            self.hold(ws, label.clone());
        }
    }

    /// Forgets a socket that closed.
    pub fn forget(&mut self, ws: &WebSocket) {
        if let Some(k) = self.key(ws) {
            self.held.remove(&k);
            self.keys.delete(object(ws));
        }
    }
}
