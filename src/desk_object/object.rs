//! The class the runtime instantiates (`Desk` in wrangler.toml): a handle (`Rc`) on the desk, so
//! that a deferred handler (a batch of frames, an upgrade that awaits) can hold it.
//!
//! Every handler is exported by hand, synchronously, instead of by `#[durable_object]`. Why: the
//! macro exports each one as an `async fn`, so each frame and each connect built a JS `Promise`,
//! spawned a task and queued a microtask before any of the desk's own work ran (a fifth of the
//! isolate's time for visitor messages), and `fetch` converted the request and the response
//! through the `worker` crate's types. Now a frame only joins the queue (the first of a batch
//! returns the promise that handles them all), and a visitor's upgrade that needs no await is
//! answered with its 101 directly (`visitor.rs`).

use std::rc::Rc;
use std::time::Duration;

use worker::js_sys::Uint8Array;
use worker::wasm_bindgen::prelude::*;
use worker::wasm_bindgen::JsValue;
use worker::wasm_bindgen_futures::future_to_promise;
use worker::worker_sys::{web_sys, DurableObjectState};
use worker::{Delay, Env, Request, State, WebSocket, WebSocketIncomingMessage};

use super::batch::BATCH;
use super::exports::wake_by;
use super::now;
use crate::routes::request_url::RequestUrl;

#[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen)]
pub struct Desk {
    desk: Rc<super::Desk>,
}

impl Desk {
    /// Handles the frames still queued, then moves the alarm if one of them needs it.
    async fn drain(desk: &super::Desk) -> worker::Result<()> {
        let wake = desk.drain();
        wake_by(desk.state.storage(), wake, now()).await
    }
}

#[wasm_bindgen(
    wasm_bindgen = ::worker::wasm_bindgen,
    wasm_bindgen_futures = ::worker::wasm_bindgen_futures,
    js_sys = ::worker::js_sys
)]
impl Desk {
    #[wasm_bindgen(constructor)]
    pub fn new(state: DurableObjectState, env: Env) -> Desk {
        Desk { desk: Rc::new(super::Desk::create(State::from(state), env)) }
    }

    /// `fetch`: a visitor's upgrade, when no frame waits to be handled first, is answered here
    /// (a `Response`, or a promise only when it must await); everything else, as a promise.
    #[wasm_bindgen(js_name = fetch)]
    pub fn fetch(&self, req: web_sys::Request) -> std::result::Result<JsValue, JsValue> {
        let url = req.url();
        let path = RequestUrl::split(&url).path;
        if path.ends_with("/visitor") && !self.desk.queued() {
            self.desk.learn_desk(path)?;
            return Ok(self.desk.open_visitor(&req)?);
        }
        let desk = self.desk.clone();
        let later = async move {
            Desk::drain(&desk).await?;
            let response = desk.fetch(Request::from(req)).await?;
            Ok(web_sys::Response::from(response).into())
        };
        Ok(future_to_promise(async move { later.await.map_err(|e: worker::Error| JsValue::from(e)) }).into())
    }

    #[wasm_bindgen(js_name = alarm)]
    pub fn alarm(&self) -> JsValue {
        let desk = self.desk.clone();
        let later = async move {
            Desk::drain(&desk).await?;
            let response = desk.alarm().await?;
            Ok(web_sys::Response::from(response).into())
        };
        future_to_promise(async move { later.await.map_err(|e: worker::Error| JsValue::from(e)) }).into()
    }

    /// `webSocketMessage`: a frame that comes alone is handled at once (`batch::ALONE_MS`);
    /// otherwise it joins the queue, and the first of a batch returns the promise that handles the
    /// batch once the runtime has delivered what it holds (undefined otherwise).
    #[wasm_bindgen(js_name = webSocketMessage)]
    pub fn socket_message(&self, ws: web_sys::WebSocket, message: JsValue) -> std::result::Result<JsValue, JsValue> {
        let message = match message.as_string() {
            Some(text) => WebSocketIncomingMessage::String(text),
            None => WebSocketIncomingMessage::Binary(Uint8Array::new(&message).to_vec()),
        };
        if self.desk.alone(now()) {
            let wake = match self.desk.on_message(&WebSocket::from(ws), message) {
                Ok(times) => times,
                Err(err) => {
                    worker::console_error!("desk: frame failed: {err}");
                    Vec::new()
                }
            };
            return Ok(self.desk.wake_promise(wake));
        }
        if !self.desk.enqueue(WebSocket::from(ws), message) {
            return Ok(JsValue::UNDEFINED);
        }
        let desk = self.desk.clone();
        let batch = async move {
            // A zero timer: the runtime delivers the frames it already holds first. Each run is one
            // commit; a backlog takes several, each after another timer (`batch::BATCH`).
            loop {
                Delay::from(Duration::ZERO).await;
                let wake = desk.drain_up_to(BATCH);
                wake_by(desk.state.storage(), wake, now()).await.map_err(JsValue::from)?;
                if !desk.queued() {
                    return Ok(JsValue::UNDEFINED);
                }
            }
        };
        Ok(future_to_promise(batch).into())
    }

    #[wasm_bindgen(js_name = webSocketClose)]
    pub fn socket_close(
        &self,
        ws: web_sys::WebSocket,
        code: usize,
        reason: String,
        _was_clean: bool,
    ) -> std::result::Result<JsValue, JsValue> {
        let wake = self.desk.drain();
        let done = self.desk.on_close(&WebSocket::from(ws), code, reason);
        // The drained frames' alarm moves (snoozes) happen whether or not this close went well.
        let moved = self.desk.wake_promise(wake);
        done.map_err(JsValue::from)?;
        Ok(moved)
    }

    #[wasm_bindgen(js_name = webSocketError)]
    pub fn socket_error(&self, ws: web_sys::WebSocket, _error: JsValue) -> std::result::Result<JsValue, JsValue> {
        let wake = self.desk.drain();
        let done = self.desk.on_error(&WebSocket::from(ws));
        // The drained frames' alarm moves (snoozes) happen whether or not this close went well.
        let moved = self.desk.wake_promise(wake);
        done.map_err(JsValue::from)?;
        Ok(moved)
    }
}
