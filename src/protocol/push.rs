//! Web Push frames: an agent's browser subscription as `PushManager` gives it
//! (`push_subscribe {endpoint, keys: {p256dh, auth}}`), and the checks on its fields. Whether
//! an endpoint's scheme is allowed (https; loopback http only in tests) is the core's call
//! (`desk::push`), since it depends on the deployment.

use serde::Deserialize;

use crate::error::FrameError;
use crate::push::from_b64u;

/// Longest push endpoint (push services' URLs are about 200 to 500 characters).
pub const MAX_ENDPOINT_CHARS: usize = 1024;

/// A subscription's keys, base64url: the browser's P-256 public key and its 16-byte secret.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PushKeys {
    pub p256dh: String,
    pub auth: String,
}

/// Checks what `parse` can check alone: the endpoint's size and form, the keys' sizes.
pub fn check_subscription(endpoint: &str, keys: &PushKeys) -> Result<(), FrameError> {
    check_endpoint(endpoint)?;
    let point = from_b64u(&keys.p256dh).filter(|p| p.len() == 65 && p[0] == 4);
    if point.is_none() {
        return Err(FrameError::BadSubscription("keys.p256dh must be a P-256 public key (65 bytes, base64url)"));
    }
    if from_b64u(&keys.auth).is_none_or(|a| a.len() != 16) {
        return Err(FrameError::BadSubscription("keys.auth must be 16 bytes, base64url"));
    }
    Ok(())
}

/// An endpoint is an absolute http(s) URL with a host, no user name or password, no spaces.
pub fn check_endpoint(endpoint: &str) -> Result<(), FrameError> {
    let bad = FrameError::BadSubscription("endpoint must be the push service's https URL");
    if endpoint.len() > MAX_ENDPOINT_CHARS || endpoint.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad);
    }
    let rest = endpoint.strip_prefix("https://").or_else(|| endpoint.strip_prefix("http://")).ok_or(bad.clone())?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') {
        return Err(bad);
    }
    Ok(())
}

/// Plain http to this machine (`localhost`, `127.0.0.1`, `[::1]`), which only a test's push
/// service uses; allowed only under `PUSH_ALLOW_LOOPBACK_HTTP`.
pub fn is_loopback_http(endpoint: &str) -> bool {
    let Some(rest) = endpoint.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    };
    matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}
