//! When a delivery is sent again or given up, its signature, and which URLs an endpoint may have.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::protocol::webhooks::MAX_WEBHOOK_URL;

/// Failed deliveries are retried for this long after the event, then given up: 24 hours.
pub const GIVE_UP_AFTER_MS: i64 = 24 * 3600 * 1000;
/// The first retry waits this long (`WEBHOOK_RETRY_BASE_MS` changes it), each next one twice as long…
pub const DEFAULT_RETRY_BASE_MS: i64 = 30_000;
/// …up to an hour between attempts.
pub const MAX_BACKOFF_MS: i64 = 3600 * 1000;

/// `X-Signature`'s value: `sha256=` and the hex HMAC-SHA256 of the exact body, keyed with the
/// endpoint's secret.
pub fn signature(secret: &str, body: &str) -> String {
    // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(body.as_bytes());
    format!("sha256={}", crate::auth::hex(&mac.finalize().into_bytes()))
}

/// What an attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// The receiver answered with this HTTP status.
    Answered(u16),
    /// No answer: a network error or the timeout.
    Failed(String),
}

/// What follows an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Delivered,
    Retry { at: i64 },
    GiveUp,
}

/// After the `attempts`-th attempt of a delivery queued at `queued_at`: a 2xx is delivered; a 4xx
/// other than 408 and 429 is given up (the receiver refuses it, a retry would not change that);
/// anything else is retried after `base_ms` × 2^(attempts−1) (at most an hour), unless that is
/// more than 24 hours after the event.
pub fn after_attempt(attempt: &Attempt, attempts: u32, queued_at: i64, now: i64, base_ms: i64) -> Next {
    match attempt {
        Attempt::Answered(200..=299) => return Next::Delivered,
        Attempt::Answered(code @ 400..=499) if *code != 408 && *code != 429 => return Next::GiveUp,
        _ => {}
    }
    let at = now + backoff(base_ms, attempts);
    if at - queued_at > GIVE_UP_AFTER_MS {
        Next::GiveUp
    } else {
        Next::Retry { at }
    }
}

/// The wait after the `attempts`-th failure.
pub fn backoff(base_ms: i64, attempts: u32) -> i64 {
    let doublings = attempts.saturating_sub(1).min(30);
    base_ms.max(1).saturating_mul(1 << doublings).min(MAX_BACKOFF_MS)
}

/// An endpoint URL as the desk keeps it: `https://host[:port]/…`, no credentials, no white space;
/// `http://` only to a loopback host and only when the deployment allows it (local runs, tests).
pub fn valid_url(raw: &str, allow_loopback: bool) -> Option<String> {
    let url = raw.trim();
    if url.len() > MAX_WEBHOOK_URL || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return None;
    }
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (host, after) = v6.split_once(']')?;
            (host, after.strip_prefix(':'))
        }
        None => match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    let host_ok = !host.is_empty()
        && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
        && (authority.starts_with('[') || !host.contains(':'));
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    if !host_ok || !port_ok {
        return None;
    }
    let host = host.to_ascii_lowercase();
    let loopback = host == "localhost" || host.starts_with("127.") || host == "::1";
    match scheme.to_ascii_lowercase().as_str() {
        "https" => Some(url.to_owned()),
        "http" if allow_loopback && loopback => Some(url.to_owned()),
        _ => None,
    }
}
