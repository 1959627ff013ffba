//! Cloudflare Access sign-in, the runtime half (wasm only): fetches the team's key set, caches it
//! for the isolate, and verifies a token's RS256 signature with WebCrypto.
//!
//! The rules (what a token must say, when to refetch) live in [`crate::access`]; this file only
//! performs them. Refetch bound: a key set is used for an hour; a `kid` missing from it causes one
//! refetch at once (a key rotation), then at most one more per [`REFETCH_MS`] (failed refetches
//! count), so made-up `kid`s cannot make the Worker hammer the certs endpoint. With no usable set at all (first use, expired,
//! or every fetch failed so far) each request fetches.

use std::cell::RefCell;

use worker::js_sys::{self, Array, Function, Object, Promise, Reflect, Uint8Array, JSON};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::{console_error, Fetch, Method, Request};

use crate::access::{self, AccessConfig, AccessError, Jwk, KeyCache, KeyLookup, KeySet, Token, REFETCH_MS};
use crate::error::HttpError;

thread_local! {
    /// This isolate's key set. Borrowed only between awaits, never across one.
    static KEYS: RefCell<Option<KeyCache>> = const { RefCell::new(None) };
}

/// Verifies a `Cf-Access-Jwt-Assertion` and returns the email it signs in (lowercased). Every
/// failure is a 401 `unauthorized` naming the rule that failed, never the token.
pub async fn access_email(config: &AccessConfig, assertion: &str, now_ms: i64) -> Result<String, HttpError> {
    verified_email(config, assertion, now_ms).await.map_err(HttpError::from)
}

async fn verified_email(config: &AccessConfig, assertion: &str, now_ms: i64) -> Result<String, AccessError> {
    let token = access::parse(assertion)?;
    // The claims are checked before any key is looked up: an expired or foreign token costs no
    // fetch. Nothing is trusted until the signature below has been verified too.
    let email = access::check_claims(&token.claims, config, now_ms)?;
    let key = key_for(config, &token.header.kid, now_ms).await?;
    match verify(&key, &token).await {
        Ok(true) => Ok(email),
        Ok(false) | Err(_) => Err(AccessError::BadSignature),
    }
}

/// The key `kid` names: from the cache, or from one fetch of the key set when the rules allow it.
async fn key_for(config: &AccessConfig, kid: &str, now_ms: i64) -> Result<Jwk, AccessError> {
    let lookup = KEYS.with(|k| KeyCache::lookup(k.borrow().as_ref(), kid, now_ms, REFETCH_MS));
    let refetch = match lookup {
        KeyLookup::Found(key) => return Ok(key),
        KeyLookup::Unknown => return Err(AccessError::UnknownKey),
        KeyLookup::Fill => false,
        KeyLookup::Refetch => true,
    };
    match fetch_keys(config).await {
        Ok(keys) => {
            let key = keys.find(kid).cloned();
            KEYS.with(|k| *k.borrow_mut() = Some(KeyCache::new(keys, now_ms, refetch)));
            key.ok_or(AccessError::UnknownKey)
        }
        Err(e) => KEYS.with(|k| {
            let mut cache = k.borrow_mut();
            if refetch {
                if let Some(cache) = cache.as_mut() {
                    cache.refetch_failed(now_ms);
                }
            }
            // A refresh that failed keeps signing in with the set we had, rather than locking
            // agents out.
            KeyCache::stale(cache.as_ref(), kid).ok_or(e)
        }),
    }
}

/// One GET of the team's certs URL.
async fn fetch_keys(config: &AccessConfig) -> Result<KeySet, AccessError> {
    // A request built from the string, not `Fetch::Url`: that takes a `url::Url`, and parsing
    // one would link the `url` crate back in (see `routes::request_url`).
    let request = Request::new(&config.certs_url(), Method::Get).map_err(|_| AccessError::KeysUnavailable)?;
    let mut response = match Fetch::Request(request).send().await {
        Ok(r) => r,
        Err(e) => {
            console_error!("Access keys: fetching {} failed: {e}", config.certs_url());
            return Err(AccessError::KeysUnavailable);
        }
    };
    if response.status_code() != 200 {
        console_error!("Access keys: {} answered {}", config.certs_url(), response.status_code());
        return Err(AccessError::KeysUnavailable);
    }
    let body = response.text().await.map_err(|_| AccessError::KeysUnavailable)?;
    let keys = KeySet::parse(&body);
    if keys.as_ref().is_err() {
        console_error!("Access keys: {} did not serve a key set", config.certs_url());
    }
    keys
}

/// `crypto.subtle.verify("RSASSA-PKCS1-v1_5", key, signature, signing_input)` with the key
/// imported from its JWK. `Ok(false)`: the signature does not match.
async fn verify(key: &Jwk, token: &Token) -> Result<bool, JsValue> {
    let crypto = property(&js_sys::global(), "crypto")?;
    let subtle = property(&crypto, "subtle")?;
    let jwk = JSON::parse(&key.import_json())?;
    let algorithm = Object::new();
    Reflect::set(&algorithm, &"name".into(), &"RSASSA-PKCS1-v1_5".into())?;
    Reflect::set(&algorithm, &"hash".into(), &"SHA-256".into())?;
    let usages = Array::of1(&"verify".into());
    let import_args = Array::of5(&"jwk".into(), &jwk, &algorithm, &JsValue::FALSE, &usages);
    let crypto_key = call_async(&subtle, "importKey", &import_args).await?;
    let signature = Uint8Array::from(token.signature.as_slice());
    let data = Uint8Array::from(token.signing_input.as_bytes());
    let verify_args = Array::of4(&"RSASSA-PKCS1-v1_5".into(), &crypto_key, &signature, &data);
    Ok(call_async(&subtle, "verify", &verify_args).await?.as_bool() == Some(true))
}

fn property(target: &JsValue, name: &str) -> Result<JsValue, JsValue> {
    let value = Reflect::get(target, &JsValue::from_str(name))?;
    if value.is_undefined() || value.is_null() {
        return Err(JsValue::from_str(name));
    }
    Ok(value)
}

/// Calls `target[method](...args)` and awaits the promise it returns.
async fn call_async(target: &JsValue, method: &str, args: &Array) -> Result<JsValue, JsValue> {
    let function: Function = property(target, method)?.dyn_into()?;
    let promise: Promise = Reflect::apply(&function, target, args)?.dyn_into()?;
    JsFuture::from(promise).await
}
