//! Web Push to agents, the pure half: the desk's VAPID keys (RFC 8292), the `aes128gcm` message
//! encryption of RFC 8291 (over RFC 8188) from the ECDH secret on, the VAPID JWT's text, and the
//! notification an agent's service worker shows.
//!
//! The two primitives that need a key pair or a block cipher (ECDH P-256 and AES-128-GCM) and the
//! ES256 signature are the runtime's WebCrypto (`desk_object/push.rs`): it adds no wasm. HKDF is
//! HMAC-SHA256, which the crate already has. `tests/push.rs` runs this file's half against RFC
//! 8291's Appendix A with RustCrypto's ECDH and AES-GCM (dev-dependencies only), and the
//! integration test decrypts what workerd sent with Node's crypto.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

/// The record size written in the header: one record holds any payload the desk sends.
pub const RECORD_SIZE: u32 = 4096;
/// Longest notification text (characters); the rest is cut with an ellipsis.
pub const MAX_BODY_CHARS: usize = 200;
/// How long a push service keeps an undelivered notification (the `TTL` header, seconds).
pub const TTL_SECONDS: u32 = 12 * 3600;
/// How long a VAPID JWT is valid (RFC 8292 allows at most 24 h).
pub const JWT_LIFETIME_SECONDS: i64 = 12 * 3600;

/// Base64url without padding, as Web Push writes keys.
pub fn b64u(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Base64url, padded or not; `None` if it is not.
pub fn from_b64u(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()
}

/// The desk's VAPID key pair, from the `VAPID_PUBLIC_KEY` (65 bytes, uncompressed P-256 point)
/// and `VAPID_PRIVATE_KEY` (32 bytes) secrets, base64url, as `web-push generate-vapid-keys` and
/// `scripts/vapid-keys.js` write them, and the `VAPID_SUBJECT` (`mailto:` or `https:`).
#[derive(Clone, PartialEq, Eq)]
pub struct Vapid {
    pub public_key: String,
    private_key: String,
    pub subject: String,
}

impl std::fmt::Debug for Vapid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Vapid {{ public_key: {}, subject: {} }}", self.public_key, self.subject)
    }
}

impl Vapid {
    /// `None` (push is off) unless all three are there and well formed.
    pub fn new(public_key: Option<&str>, private_key: Option<&str>, subject: Option<&str>) -> Option<Vapid> {
        let (public_key, private_key) = (public_key?.trim(), private_key?.trim());
        let subject = subject?.trim();
        let point = from_b64u(public_key)?;
        let scalar = from_b64u(private_key)?;
        let subject_ok = subject.starts_with("mailto:") || subject.starts_with("https://");
        if point.len() != 65 || point[0] != 4 || scalar.len() != 32 || !subject_ok {
            return None;
        }
        Some(Vapid { public_key: public_key.into(), private_key: private_key.into(), subject: subject.into() })
    }

    /// The private key as a JWK WebCrypto imports for ES256 signing (it needs the point too).
    pub fn private_jwk(&self) -> String {
        let point = from_b64u(&self.public_key).unwrap_or_default();
        let (x, y) = if point.len() == 65 { (&point[1..33], &point[33..]) } else { (&[][..], &[][..]) };
        // Base64url needs no escaping in JSON (and `json!` costs the worker a kilobyte).
        format!(
            r#"{{"kty":"EC","crv":"P-256","x":"{}","y":"{}","d":"{}","ext":false}}"#,
            b64u(x),
            b64u(y),
            self.private_key
        )
    }

    /// The JWT's signing input (`header.claims`, RFC 8292 section 2) for a push service's origin,
    /// valid until `exp` (seconds).
    pub fn signing_input(&self, audience: &str, exp: i64) -> String {
        let header = b64u(br#"{"typ":"JWT","alg":"ES256"}"#);
        let text = |s: &str| crate::protocol::json_text(s).unwrap_or_default();
        let claims = format!(r#"{{"aud":{},"exp":{exp},"sub":{}}}"#, text(audience), text(&self.subject));
        format!("{header}.{}", b64u(claims.as_bytes()))
    }

    /// The `Authorization` header: `vapid t=<jwt>, k=<public key>`; `signature` is ES256's raw
    /// 64 bytes (r ‖ s), as WebCrypto gives them.
    pub fn authorization(&self, signing_input: &str, signature: &[u8]) -> String {
        format!("vapid t={signing_input}.{}, k={}", b64u(signature), self.public_key)
    }
}

/// A push service's origin (`scheme://host[:port]`), the JWT's `aud`.
pub fn audience(endpoint: &str) -> Option<String> {
    let (scheme, rest) = endpoint.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next().filter(|h| !h.is_empty())?;
    Some(format!("{scheme}://{host}"))
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// HKDF-SHA256 (RFC 5869) for outputs of at most 32 bytes: one block of expand.
fn hkdf(salt: &[u8], ikm: &[u8], info: &[u8]) -> [u8; 32] {
    let prk = hmac(salt, &[ikm]);
    hmac(&prk, &[info, &[1]])
}

/// The content key and nonce of one message (RFC 8291 section 3.4, RFC 8188 section 2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageKeys {
    pub cek: [u8; 16],
    pub nonce: [u8; 12],
}

/// Derives a message's keys from the ECDH secret between the desk's one-time key and the
/// subscription's `p256dh` (`ua_public`), the subscription's `auth` and a random 16-byte salt.
pub fn message_keys(ecdh_secret: &[u8], auth: &[u8], ua_public: &[u8], as_public: &[u8], salt: &[u8]) -> MessageKeys {
    let key_info = [b"WebPush: info\0".as_slice(), ua_public, as_public].concat();
    let ikm = hkdf(auth, ecdh_secret, &key_info);
    let cek = hkdf(salt, &ikm, b"Content-Encoding: aes128gcm\0");
    let nonce = hkdf(salt, &ikm, b"Content-Encoding: nonce\0");
    let mut keys = MessageKeys { cek: [0; 16], nonce: [0; 12] };
    keys.cek.copy_from_slice(&cek[..16]);
    keys.nonce.copy_from_slice(&nonce[..12]);
    keys
}

/// The one record's plaintext: the payload and the last-record delimiter, no padding.
pub fn record(payload: &[u8]) -> Vec<u8> {
    [payload, &[2]].concat()
}

/// The message body: RFC 8188's header (salt, record size, the desk's one-time public key as
/// the key id) and the record encrypted with AES-128-GCM (its tag appended).
pub fn body(salt: &[u8], as_public: &[u8], ciphertext: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(21 + as_public.len() + ciphertext.len());
    out.extend_from_slice(salt);
    out.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    out.push(as_public.len() as u8);
    out.extend_from_slice(as_public);
    out.extend_from_slice(ciphertext);
    out
}

/// What an agent's service worker shows (`admin/sw.js`): plain text, never HTML.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// The visitor's name.
    pub title: String,
    /// The latest message (cut to [`MAX_BODY_CHARS`]), with how many more came in the batch.
    pub body: String,
    /// The conversation, so a click opens it.
    pub user_id: String,
    /// What happened: `message` (a visitor wrote) or an event another part queues
    /// (`conversation.unanswered`).
    pub event: String,
    /// The desk, so a click opens its inbox (`/admin/chat?desk=...`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desk: Option<String>,
}

impl Notification {
    /// A visitor's `count` messages, the latest `text`.
    pub fn new(event: &str, user_id: &str, name: &str, text: &str, count: u32) -> Notification {
        let mut body: String = text.chars().take(MAX_BODY_CHARS).collect();
        if text.chars().count() > MAX_BODY_CHARS {
            body.push('…');
        }
        if count > 1 {
            body = format!("{body} (+{} more)", count - 1);
        }
        Notification { title: name.into(), body, user_id: user_id.into(), event: event.into(), desk: None }
    }

    pub fn to_json(&self) -> String {
        crate::protocol::json_text(self).unwrap_or_default()
    }
}

/// What a push service's answer means for a delivery (RFC 8030 section 5, 8.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted (2xx).
    Delivered,
    /// 404 or 410: the subscription is gone; forget it.
    Gone,
    /// Anything else (a 429, a 5xx, no answer): try again later, a bounded number of times.
    Retry,
    /// A 4xx other than those: this request will never work (too big, bad JWT); drop it.
    Refused,
}

impl Outcome {
    /// `None`: the request failed before an answer.
    pub fn of(status: Option<u16>) -> Outcome {
        match status {
            Some(200..=299) => Outcome::Delivered,
            Some(404 | 410) => Outcome::Gone,
            Some(408 | 429) | None => Outcome::Retry,
            Some(400..=499) => Outcome::Refused,
            Some(_) => Outcome::Retry,
        }
    }
}
