//! Requests the worker sends (webhooks, pushes, calls to its own objects), built on the runtime's
//! `RequestInit` directly: `worker::RequestInit`'s conversion links a serde_wasm_bindgen
//! serialiser for its `cf` options into the wasm, and we never set any.

use worker::wasm_bindgen::JsValue;
use worker::{web_sys, Headers, Request, Result};

/// A `POST` to `url` with `headers` and `body` (a string or bytes as a JS value).
pub fn post(url: &str, headers: Option<&Headers>, body: Option<&JsValue>) -> Result<Request> {
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    if let Some(headers) = headers {
        init.set_headers(&headers.0);
    }
    if let Some(body) = body {
        init.set_body(body);
    }
    web_sys::Request::new_with_str_and_init(url, &init).map(Request::from).map_err(|e| {
        worker::Error::JsError(e.as_string().unwrap_or_else(|| "invalid URL or options for Request".into()))
    })
}
