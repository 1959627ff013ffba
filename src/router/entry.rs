//! The Worker's `fetch` export, written by hand instead of by `#[event(fetch)]`: a request that
//! needs no await here (a socket or endpoint of a desk this isolate knows, no Access sign-in) is
//! handed to its desk object at once, and the object's own promise is the answer.
//!
//! Why: the macro's export converts the request into a `worker::Request` (method, URL, headers,
//! `request.cf`), runs the handler as a Rust future behind a JS promise, and converts the
//! object's answer into a `worker::Response` and back. On a connect that plumbing was about a
//! fifth of the isolate's time. Everything that must await (creating a desk, a file, a desk name
//! not known yet, an Access token) still goes through `router::handle`, as before.

use worker::js_sys::{Promise, Reflect};
use worker::wasm_bindgen::prelude::*;
use worker::wasm_bindgen::JsCast;
use worker::wasm_bindgen_futures::future_to_promise;
use worker::worker_sys::{web_sys, Context, DurableObjectNamespace};
use worker::{console_error, Env, Request, Result};

use super::{desks, handle, refuse, Head, ACCESS_EMAIL_HEADER};
use crate::directory::Lookup;
use crate::error::HttpError;
use crate::routes::Endpoint;

/// What the runtime calls for every request that matched no static file: a `Response`, or a
/// promise of one.
#[wasm_bindgen(js_name = fetch)]
pub fn fetch(req: web_sys::Request, env: Env, _ctx: Context) -> JsValue {
    console_error_panic_hook::set_once();
    let head = match Head::of(&req) {
        Ok(head) => head,
        Err(e) => return internal_error(e),
    };
    match now(&head, &req, &env) {
        Ok(Some(answer)) => return answer,
        Ok(None) => {}
        Err(e) => return internal_error(e),
    }
    let later = async move {
        let answer = match handle(head, Request::from(req), env).await {
            Ok(response) => web_sys::Response::from(response),
            Err(e) => return Ok(internal_error(e)),
        };
        Ok(answer.into())
    };
    future_to_promise(later).into()
}

/// The answer without an await (a refusal, or the desk object's promise), or `None`: `handle`.
fn now(head: &Head, req: &web_sys::Request, env: &Env) -> Result<Option<JsValue>> {
    let (desk, endpoint) = match head.route(env) {
        Ok(r) => r,
        Err(e) => return Ok(Some(web_sys::Response::from(refuse(e)?).into())),
    };
    if matches!(endpoint, Endpoint::CreateDesk | Endpoint::File) {
        return Ok(None);
    }
    match desks::lookup(env, &desk) {
        Lookup::Exists => {}
        Lookup::Missing => return Ok(Some(web_sys::Response::from(refuse(HttpError::UnknownDesk)?).into())),
        Lookup::Ask { .. } => return Ok(None),
    }
    // An Access token to verify, or a client-sent access email to remove: `handle` does both.
    let headers = req.headers();
    if headers.has("Cf-Access-Jwt-Assertion")? || headers.has(ACCESS_EMAIL_HEADER)? {
        return Ok(None);
    }
    // One object per desk, named by the desk: every socket of a desk meets in the same object.
    let namespace: DurableObjectNamespace = Reflect::get(env, &JsValue::from_str("DESK"))?.unchecked_into();
    let promise: Promise = namespace.get_by_name(&desk)?.fetch_with_request(req)?;
    Ok(Some(promise.into()))
}

/// What the macro's export answered on an error: a plain 500, the error in the log.
fn internal_error(e: worker::Error) -> JsValue {
    console_error!("{e}");
    match worker::Response::error("INTERNAL SERVER ERROR", 500) {
        Ok(response) => web_sys::Response::from(response).into(),
        Err(_) => JsValue::UNDEFINED,
    }
}
