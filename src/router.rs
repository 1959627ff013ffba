//! The Worker's fetch handler: checks each `/desks/...` request and forwards it to its desk object.
//!
//! Static files (widget, admin page, demo site) never get here: Workers static assets serve them
//! first, and only requests matching no file reach the Worker.

use worker::{event, Context, Env, Headers, Request, Response, Result};

use crate::auth::{offers_subprotocol, SUBPROTOCOL};
use crate::error::HttpError;
use crate::routes::{route, RequestHead};

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    console_error_panic_hook::set_once();
    let headers = req.headers();
    let (upgrade, authorization, protocols, origin) = (
        headers.get("Upgrade")?,
        headers.get("Authorization")?,
        headers.get("Sec-WebSocket-Protocol")?,
        headers.get("Origin")?,
    );
    let url = req.url()?;
    let authority = match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        (None, _) => String::new(),
    };
    let path = req.path();
    let admin_secret = env.secret("ADMIN_TOKEN").ok().map(|s| s.to_string());
    let head = RequestHead {
        method_is_get: req.method() == worker::Method::Get,
        path: &path,
        upgrade: upgrade.as_deref(),
        authorization: authorization.as_deref(),
        protocols: protocols.as_deref(),
        origin: origin.as_deref(),
        authority: &authority,
    };
    let desk = match route(&head, admin_secret.as_deref()) {
        Ok(r) => r.desk.to_owned(),
        Err(e) => return refuse(e),
    };
    // One object per desk, named by the desk: every socket of a desk meets in the same object.
    env.durable_object("DESK")?.get_by_name(&desk)?.fetch_with_request(req).await
}

/// The HTTP answer for a refused request: status and a JSON `{"code","message"}` body.
pub fn refuse(err: HttpError) -> Result<Response> {
    let headers = Headers::new();
    headers.set("Content-Type", "application/json; charset=utf-8")?;
    Ok(Response::ok(err.body())?.with_status(err.status()).with_headers(headers))
}

/// A 101 that selects our subprotocol when the client offered it (browsers fail the handshake
/// if they offered protocols and none is selected).
pub fn with_subprotocol(req: &Request, mut response: Response) -> Result<Response> {
    if offers_subprotocol(req.headers().get("Sec-WebSocket-Protocol")?.as_deref()) {
        response.headers_mut().set("Sec-WebSocket-Protocol", SUBPROTOCOL)?;
    }
    Ok(response)
}
