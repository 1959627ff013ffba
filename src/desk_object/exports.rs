//! The socket events as the runtime calls them, exported by hand instead of by
//! `#[durable_object]`: synchronously.
//!
//! Why: the macro exports every handler as an `async fn`, so each frame builds a JS `Promise`,
//! spawns a task and queues a microtask before any of the desk's own work runs; in a CPU profile
//! of visitor messages that plumbing was a fifth of the isolate's time. Handling a frame awaits
//! nothing (reads, writes and sends are synchronous calls), except when a snooze must move the
//! alarm earlier: only then is a promise returned. The runtime accepts either from a handler, and
//! its implicit transaction and output gate work the same (writes before sends, acks held until
//! durable).

use worker::js_sys::Uint8Array;
use worker::wasm_bindgen::prelude::*;
use worker::wasm_bindgen::JsValue;
use worker::wasm_bindgen_futures::future_to_promise;
use worker::worker_sys::web_sys;
use worker::{Result, Storage, WebSocket, WebSocketIncomingMessage};

use super::{now, Desk};

#[wasm_bindgen(
    wasm_bindgen = ::worker::wasm_bindgen,
    wasm_bindgen_futures = ::worker::wasm_bindgen_futures,
    js_sys = ::worker::js_sys
)]
impl Desk {
    /// `webSocketMessage`: undefined when done, a promise only when the alarm must be moved.
    #[wasm_bindgen(js_name = webSocketMessage)]
    pub fn socket_message(&self, ws: web_sys::WebSocket, message: JsValue) -> std::result::Result<JsValue, JsValue> {
        let message = match message.as_string() {
            Some(text) => WebSocketIncomingMessage::String(text),
            None => WebSocketIncomingMessage::Binary(Uint8Array::new(&message).to_vec()),
        };
        let wake = self.on_message(&WebSocket::from(ws), message).map_err(JsValue::from)?;
        if wake.is_empty() {
            return Ok(JsValue::UNDEFINED);
        }
        let storage = self.state.storage();
        let moved =
            async move { wake_by(storage, wake, now()).await.map(|_| JsValue::UNDEFINED).map_err(JsValue::from) };
        Ok(future_to_promise(moved).into())
    }

    #[wasm_bindgen(js_name = webSocketClose)]
    pub fn socket_close(
        &self,
        ws: web_sys::WebSocket,
        code: usize,
        reason: String,
        _was_clean: bool,
    ) -> std::result::Result<JsValue, JsValue> {
        self.on_close(&WebSocket::from(ws), code, reason).map_err(JsValue::from)?;
        Ok(self.mail_wake_promise())
    }

    #[wasm_bindgen(js_name = webSocketError)]
    pub fn socket_error(&self, ws: web_sys::WebSocket, _error: JsValue) -> std::result::Result<JsValue, JsValue> {
        self.on_error(&WebSocket::from(ws)).map_err(JsValue::from)?;
        Ok(self.mail_wake_promise())
    }
}

impl Desk {
    /// A visitor left and email may follow: a promise that moves the alarm (else undefined).
    fn mail_wake_promise(&self) -> JsValue {
        let Some(at) = self.mail_wake.take() else {
            return JsValue::UNDEFINED;
        };
        let storage = self.state.storage();
        let moved =
            async move { wake_by(storage, vec![at], now()).await.map(|_| JsValue::UNDEFINED).map_err(JsValue::from) };
        future_to_promise(moved).into()
    }
}

/// Makes sure the alarm fires by the earliest of `times` (a snooze ending).
pub(super) async fn wake_by(storage: Storage, times: Vec<i64>, now: i64) -> Result<()> {
    let Some(at) = times.into_iter().min() else {
        return Ok(());
    };
    if storage.get_alarm().await?.is_none_or(|current| current > at) {
        storage.set_alarm((at - now).max(1)).await?;
    }
    Ok(())
}
