//! Web Push to agents, the runtime half (`desk::push` decides, `crate::push` encrypts): the
//! deployment's setup from its secrets and vars, and the alarm's delivery. Due batches become
//! one push per subscription of an agent with no inbox open (written before anything is sent);
//! each push is encrypted for its subscription (RFC 8291, with WebCrypto's ECDH and AES-GCM),
//! signed for its push service (VAPID, ES256 with WebCrypto) and POSTed. A 404/410 forgets the
//! subscription; a 429/5xx or no answer is retried with a doubling delay, [`MAX_ATTEMPTS`] times
//! at most; everything between runs is in SQLite.
//!
//! Vars: `VAPID_PUBLIC_KEY`, `VAPID_PRIVATE_KEY` (secrets), `VAPID_SUBJECT`; `PUSH_BATCH_MS`
//! (default 30 s), `PUSH_RETRY_MS` (the first retry's delay, default 30 s),
//! `PUSH_ALLOW_LOOPBACK_HTTP` (tests only: endpoints on http://localhost).

use worker::js_sys::{self, Array, Function, Object, Promise, Reflect, Uint8Array, JSON};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::{console_error, Env, Fetch, Headers, Result};

use super::Desk;
use crate::desk::push::{self as core, PushSetup};
use crate::push::{self, from_b64u, Notification, Outcome, Vapid};
use crate::sockets::Tagged;

/// Tries of one push before it is dropped (the first and four retries: about 15 minutes in all
/// at the default delay).
pub const MAX_ATTEMPTS: i64 = 5;
/// Batches turned into pushes, and pushes sent, per alarm run; the rest wait for the next run.
const PER_RUN: i64 = 50;

/// The deployment's Web Push, read once per object.
pub(super) struct PushConfig {
    pub vapid: Vapid,
    pub setup: PushSetup,
    pub retry_ms: i64,
}

impl PushConfig {
    /// `None` (push is off) without all three VAPID settings, well formed.
    pub fn from_env(env: &Env) -> Option<PushConfig> {
        let var = |key: &str| env.var(key).ok().map(|v| v.to_string());
        let secret = |key: &str| env.secret(key).ok().map(|s| s.to_string()).or_else(|| var(key));
        let vapid = Vapid::new(
            secret("VAPID_PUBLIC_KEY").as_deref(),
            secret("VAPID_PRIVATE_KEY").as_deref(),
            var("VAPID_SUBJECT").as_deref(),
        )?;
        let ms = |key: &str, default: i64| {
            var(key).and_then(|v| v.trim().parse::<i64>().ok()).filter(|v| *v >= 0).unwrap_or(default)
        };
        let setup = PushSetup {
            public_key: vapid.public_key.clone(),
            allow_loopback_http: var("PUSH_ALLOW_LOOPBACK_HTTP").is_some_and(|v| v.trim() == "1" || v.trim() == "true"),
            batch_ms: ms("PUSH_BATCH_MS", 30_000),
        };
        Some(PushConfig { vapid, setup, retry_ms: ms("PUSH_RETRY_MS", 30_000).max(1) })
    }
}

impl Desk {
    /// The alarm's part: due batches become pushes, due pushes are sent. Returns when it must
    /// run next (`None`: nothing waits).
    pub(super) async fn push_due(&self, now: i64) -> Result<Option<i64>> {
        let Some(config) = self.push.as_ref() else {
            return Ok(None);
        };
        let store = self.store()?;
        // Batches to pushes: synchronous, so a batch and its pushes change in one commit.
        let batches = store.due_push_batches(now, PER_RUN)?;
        if !batches.is_empty() {
            let tagged = Tagged::new(&self.state);
            let view = self.view(&store, &tagged)?;
            let recipients = core::recipients(store.push_subscriptions()?, &view);
            let desk = store.desk_name()?;
            for batch in &batches {
                let e = &batch.event;
                let mut notification = Notification::new(&e.event, &e.user_id, &e.name, &e.text, batch.count);
                notification.desk.clone_from(&desk);
                let payload = notification.to_json();
                let pushes: Vec<(String, String)> =
                    recipients.iter().map(|s| (s.endpoint.clone(), payload.clone())).collect();
                store.push_batch_sent(batch, &pushes, now)?;
            }
        }
        for pending in store.due_pushes(now, PER_RUN)? {
            let status = match send(config, &pending, now).await {
                Ok(status) => Some(status),
                Err(e) => {
                    console_error!("push: sending to {} failed: {e:?}", origin(&pending.endpoint));
                    None
                }
            };
            let store = self.store()?;
            match Outcome::of(status) {
                Outcome::Delivered | Outcome::Refused => store.push_done(pending.id)?,
                Outcome::Gone => store.push_gone(&pending.endpoint)?,
                Outcome::Retry if pending.attempts + 1 >= MAX_ATTEMPTS => store.push_done(pending.id)?,
                Outcome::Retry => {
                    let delay = config.retry_ms.saturating_mul(1 << pending.attempts.clamp(0, 20));
                    store.push_retry(pending.id, pending.attempts + 1, now.saturating_add(delay))?
                }
            }
            if let Some(s) = status.filter(|s| !(200..300).contains(s)) {
                console_error!("push: {} answered {s}", origin(&pending.endpoint));
            }
        }
        self.store()?.push_next_due()
    }
}

/// The push service's origin, for logs (the endpoint's path is a capability).
fn origin(endpoint: &str) -> String {
    push::audience(endpoint).unwrap_or_default()
}

/// One POST to the push service; its status.
async fn send(
    config: &PushConfig,
    pending: &crate::store::push::Pending,
    now: i64,
) -> std::result::Result<u16, JsValue> {
    let ua_public = from_b64u(&pending.p256dh).ok_or("p256dh")?;
    let auth = from_b64u(&pending.auth).ok_or("auth")?;
    let body = encrypt(pending.payload.as_bytes(), &ua_public, &auth).await?;
    let audience = push::audience(&pending.endpoint).ok_or("endpoint")?;
    let input = config.vapid.signing_input(&audience, now / 1000 + push::JWT_LIFETIME_SECONDS);
    let signature = sign(&config.vapid, &input).await?;
    let headers = Headers::new();
    let set = |name: &str, value: &str| headers.set(name, value).map_err(|e| JsValue::from_str(&e.to_string()));
    set("Authorization", &config.vapid.authorization(&input, &signature))?;
    set("Content-Encoding", "aes128gcm")?;
    set("Content-Type", "application/octet-stream")?;
    set("TTL", &push::TTL_SECONDS.to_string())?;
    set("Urgency", "high")?;
    let body: JsValue = Uint8Array::from(body.as_slice()).into();
    let request = crate::outgoing::post(&pending.endpoint, Some(&headers), Some(&body))
        .map_err(|e| JsValue::from_str(&e.to_string()))?;
    let response = Fetch::Request(request).send().await.map_err(|e| JsValue::from_str(&e.to_string()))?;
    Ok(response.status_code())
}

/// RFC 8291: a one-time ECDH key pair, the shared secret with the subscription's key, the keys
/// derived from it (`crate::push`), one AES-128-GCM record.
async fn encrypt(payload: &[u8], ua_public: &[u8], auth: &[u8]) -> std::result::Result<Vec<u8>, JsValue> {
    let subtle = subtle()?;
    let ecdh = algorithm(&[("name", "ECDH"), ("namedCurve", "P-256")])?;
    let usages = Array::of1(&"deriveBits".into());
    let pair = call(&subtle, "generateKey", &Array::of3(&ecdh, &JsValue::TRUE, &usages)).await?;
    let private = Reflect::get(&pair, &"privateKey".into())?;
    let public = Reflect::get(&pair, &"publicKey".into())?;
    let as_public = bytes(call(&subtle, "exportKey", &Array::of2(&"raw".into(), &public)).await?);
    let ua_bytes = Uint8Array::from(ua_public);
    let empty = Array::new();
    let ua_key =
        call(&subtle, "importKey", &Array::of5(&"raw".into(), &ua_bytes, &ecdh, &JsValue::TRUE, &empty)).await?;
    let derive = algorithm(&[("name", "ECDH")])?;
    Reflect::set(&derive, &"public".into(), &ua_key)?;
    let secret = bytes(call(&subtle, "deriveBits", &Array::of3(&derive, &private, &JsValue::from(256))).await?);
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(|_| JsValue::from_str("random"))?;
    let keys = push::message_keys(&secret, auth, ua_public, &as_public, &salt);
    let aes = algorithm(&[("name", "AES-GCM")])?;
    let cek = Uint8Array::from(keys.cek.as_slice());
    let usages = Array::of1(&"encrypt".into());
    let key = call(&subtle, "importKey", &Array::of5(&"raw".into(), &cek, &aes, &JsValue::FALSE, &usages)).await?;
    Reflect::set(&aes, &"iv".into(), &Uint8Array::from(keys.nonce.as_slice()))?;
    let plaintext = Uint8Array::from(push::record(payload).as_slice());
    let ciphertext = bytes(call(&subtle, "encrypt", &Array::of3(&aes, &key, &plaintext)).await?);
    Ok(push::body(&salt, &as_public, &ciphertext))
}

/// ES256 over the JWT's signing input: WebCrypto gives r ‖ s, 64 bytes, as JWS wants them.
async fn sign(vapid: &Vapid, input: &str) -> std::result::Result<Vec<u8>, JsValue> {
    let subtle = subtle()?;
    let jwk = JSON::parse(&vapid.private_jwk())?;
    let ecdsa = algorithm(&[("name", "ECDSA"), ("namedCurve", "P-256")])?;
    let usages = Array::of1(&"sign".into());
    let key = call(&subtle, "importKey", &Array::of5(&"jwk".into(), &jwk, &ecdsa, &JsValue::FALSE, &usages)).await?;
    let params = algorithm(&[("name", "ECDSA"), ("hash", "SHA-256")])?;
    let data = Uint8Array::from(input.as_bytes());
    Ok(bytes(call(&subtle, "sign", &Array::of3(&params, &key, &data)).await?))
}

fn subtle() -> std::result::Result<JsValue, JsValue> {
    let crypto = Reflect::get(&js_sys::global(), &"crypto".into())?;
    Reflect::get(&crypto, &"subtle".into())
}

fn algorithm(fields: &[(&str, &str)]) -> std::result::Result<Object, JsValue> {
    let object = Object::new();
    for (k, v) in fields {
        Reflect::set(&object, &(*k).into(), &(*v).into())?;
    }
    Ok(object)
}

fn bytes(buffer: JsValue) -> Vec<u8> {
    Uint8Array::new(&buffer).to_vec()
}

/// `subtle[method](...args)`, awaited.
async fn call(target: &JsValue, method: &str, args: &Array) -> std::result::Result<JsValue, JsValue> {
    let function: Function = Reflect::get(target, &method.into())?.dyn_into()?;
    let promise: Promise = Reflect::apply(&function, target, args)?.dyn_into()?;
    JsFuture::from(promise).await
}
