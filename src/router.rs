//! The Worker's fetch handler: checks each `/desks/...` request and forwards it to its desk object.
//!
//! Static files (widget, admin page, demo site) never get here: Workers static assets serve them
//! first, and only requests matching no file reach the Worker. A desk that this deployment does
//! not serve (not in `DESKS`, never created) is answered 404 here, before any object is named;
//! creating one is `router::desks`.

use worker::worker_sys::web_sys;
use worker::{Env, Headers, Request, Response, Result};

use crate::access::AccessConfig;
use crate::access_keys::access_email;
use crate::auth::{offers_subprotocol, SUBPROTOCOL};
use crate::error::HttpError;
use crate::routes::request_url::RequestUrl;
use crate::routes::{route, AllowedOrigins, Endpoint, Method, RequestHead};

mod desks;
mod entry;
mod files;

/// What the router reads off a request, straight from the runtime's request: the method, the
/// URL as serialized and the headers `routes::route` looks at (no `worker::Request`, no `cf`
/// object, no URL parse: see `routes::request_url`).
pub(crate) struct Head {
    method: Method,
    url: String,
    upgrade: Option<String>,
    websocket_key: Option<String>,
    websocket_version: Option<String>,
    has_body: bool,
    authorization: Option<String>,
    protocols: Option<String>,
    origin: Option<String>,
}

impl Head {
    pub(crate) fn of(req: &web_sys::Request) -> Result<Head> {
        let headers = req.headers();
        let get = |name: &str| headers.get(name).map_err(worker::Error::from);
        Ok(Head {
            method: match req.method().as_str() {
                "GET" => Method::Get,
                "POST" => Method::Post,
                _ => Method::Other,
            },
            url: req.url(),
            upgrade: get("Upgrade")?,
            websocket_key: get("Sec-WebSocket-Key")?,
            websocket_version: get("Sec-WebSocket-Version")?,
            has_body: get("Content-Length")?.is_some_and(|n| n.trim() != "0") || get("Transfer-Encoding")?.is_some(),
            authorization: get("Authorization")?,
            protocols: get("Sec-WebSocket-Protocol")?,
            origin: get("Origin")?,
        })
    }

    /// Which desk and endpoint, or the refusal; `ALLOWED_ORIGINS` read from `env`.
    pub(crate) fn route(&self, env: &Env) -> std::result::Result<(String, Endpoint), HttpError> {
        let url = RequestUrl::split(&self.url);
        let origins = AllowedOrigins::from_setting(setting(env, "ALLOWED_ORIGINS").as_deref());
        let head = RequestHead {
            method: self.method,
            path: url.path,
            upgrade: self.upgrade.as_deref(),
            websocket_key: self.websocket_key.as_deref(),
            websocket_version: self.websocket_version.as_deref(),
            has_body: self.has_body,
            authorization: self.authorization.as_deref(),
            protocols: self.protocols.as_deref(),
            origin: self.origin.as_deref(),
            authority: url.authority,
            scheme: url.scheme,
        };
        // Agents' credentials are checked by the desk object (their tokens and the count of failed
        // attempts live in its database), so admin endpoints go on to it like the others.
        route(&head, &origins).map(|r| (r.desk.to_owned(), r.endpoint))
    }
}

/// A text setting (`[vars]`) read straight off `env`: one property read, where `Env::var` also
/// checks the binding's type by its constructor's name and formats an error name on the way (on
/// a connect, the two settings every request reads cost ~1.6% of the isolate's time that way).
/// `None` when it is not set or not text, as `Env::var` then `to_string` would answer for both.
pub(crate) fn setting(env: &Env, name: &str) -> Option<String> {
    worker::js_sys::Reflect::get(env, &worker::wasm_bindgen::JsValue::from_str(name)).ok()?.as_string()
}

/// The Worker's answer to a request the synchronous entry (`router::entry`) could not answer
/// without awaiting: creating a desk, a file, a desk name not known yet, an Access sign-in.
async fn handle(head: Head, req: Request, env: Env) -> Result<Response> {
    let (desk, endpoint) = match head.route(&env) {
        Ok(r) => r,
        Err(e) => return refuse(e),
    };
    if endpoint == Endpoint::CreateDesk {
        return desks::create(&req, &env, &desk).await;
    }
    if endpoint == Endpoint::File {
        return files::serve(&req, &env, &desk).await;
    }
    // Before anything else reaches a desk: an unknown name creates and touches no object.
    if !desks::exists(&env, &desk).await? {
        return refuse(HttpError::UnknownDesk);
    }
    // Cloudflare Access: on the admin endpoints a `Cf-Access-Jwt-Assertion` is verified here, before
    // anything reaches the desk; a bad one is 401 even beside another credential. The desk object
    // signs in the agent named by the verified email (`X-Desk-Access-Email`), needing no other
    // credential.
    let access = match signed_in_by_access(&req, &env, endpoint).await {
        Ok(email) => email,
        Err(e) => return refuse(e),
    };
    let req = with_access_email(req, access.as_deref())?;
    // One object per desk, named by the desk: every socket of a desk meets in the same object.
    env.durable_object("DESK")?.get_by_name(&desk)?.fetch_with_request(req).await
}

/// The internal header carrying the email Cloudflare Access signed in (verified by the router).
pub const ACCESS_EMAIL_HEADER: &str = "X-Desk-Access-Email";

/// For the admin endpoints, when `ACCESS_TEAM_DOMAIN` and `ACCESS_AUD` are set and the request
/// carries `Cf-Access-Jwt-Assertion`: the verified email, or the 401 to answer. `Ok(None)`: no
/// Access sign-in on this request.
async fn signed_in_by_access(
    req: &Request,
    env: &Env,
    endpoint: Endpoint,
) -> std::result::Result<Option<String>, HttpError> {
    if !matches!(endpoint, Endpoint::Admin | Endpoint::AdminCheck | Endpoint::AdminTicket | Endpoint::AdminUpload) {
        return Ok(None);
    }
    let var = |name| env.var(name).ok().map(|v| v.to_string());
    let (team_domain, aud) = (var("ACCESS_TEAM_DOMAIN"), var("ACCESS_AUD"));
    let Some(config) = AccessConfig::from_vars(team_domain.as_deref(), aud.as_deref()) else {
        return Ok(None);
    };
    let Some(assertion) = req.headers().get("Cf-Access-Jwt-Assertion").ok().flatten() else {
        return Ok(None);
    };
    access_email(&config, &assertion, worker::Date::now().as_millis() as i64).await.map(Some)
}

/// The request to forward to the desk object: never with a client-sent `X-Desk-Access-Email`
/// (only the router may vouch for an email), and with the verified one when Access signed someone
/// in. Unchanged (the very same request) when there is nothing to remove or add.
///
/// An incoming request's headers are immutable, so a copy is made (`new Request(req)`, which
/// keeps method, headers and body; a WebSocket upgrade forwarded this way still upgrades).
pub fn with_access_email(req: Request, email: Option<&str>) -> Result<Request> {
    if email.is_none() && !req.headers().has(ACCESS_EMAIL_HEADER)? {
        return Ok(req);
    }
    let mut forwarded = req.clone_mut()?;
    let headers = forwarded.headers_mut()?;
    headers.delete(ACCESS_EMAIL_HEADER)?;
    if let Some(email) = email {
        headers.set(ACCESS_EMAIL_HEADER, email)?;
    }
    Ok(forwarded)
}

/// The HTTP answer for a refused request: status and a JSON `{"code","message"}` body. Any page
/// may read it (no credentials are involved), so the widget on a customer's site can tell a
/// refused token from a desk that is down.
pub fn refuse(err: HttpError) -> Result<Response> {
    let headers = Headers::new();
    headers.set("Content-Type", "application/json; charset=utf-8")?;
    headers.set("X-Content-Type-Options", "nosniff")?;
    headers.set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")?;
    headers.set("Access-Control-Allow-Origin", "*")?;
    if let Some(ms) = err.retry_after_ms() {
        headers.set("Retry-After", &ms.div_ceil(1000).to_string())?;
    }
    Ok(Response::ok(err.body())?.with_status(err.status()).with_headers(headers))
}

/// `Response::from_json` written through [`crate::protocol::json_text`], so serde's code for
/// these types is the one every other JSON text the wasm writes already uses.
pub fn json_response<T: serde::Serialize>(value: &T) -> Result<Response> {
    let text = crate::protocol::json_text(value)
        .map_err(|_| worker::Error::Json(("Failed to encode data to json".into(), 500)))?;
    Ok(worker::ResponseBuilder::new().with_header("Content-Type", "application/json")?.fixed(text.into_bytes()))
}

/// 204 for a credential check that passed, readable from any page.
pub fn known() -> Result<Response> {
    let headers = Headers::new();
    headers.set("Access-Control-Allow-Origin", "*")?;
    Ok(Response::empty()?.with_status(204).with_headers(headers))
}

/// A 101 that selects our subprotocol when the client offered it (browsers fail the handshake
/// if they offered protocols and none is selected).
pub fn with_subprotocol(req: &Request, mut response: Response) -> Result<Response> {
    if offers_subprotocol(req.headers().get("Sec-WebSocket-Protocol")?.as_deref()) {
        response.headers_mut().set("Sec-WebSocket-Protocol", SUBPROTOCOL)?;
    }
    Ok(response)
}
