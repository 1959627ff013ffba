//! The team's key set (JWKS) for Access sign-in: the RSA signing keys by `kid`, and the cache rule
//! that decides when the Worker fetches it again. Pure, like the rest of `access`.

use serde::Serialize;

use super::AccessError;
use crate::json_fields::{Fields, Refused, Schema};

/// The longest key set read from the certs endpoint (Cloudflare serves two keys, a few KB).
pub const MAX_KEY_SET_BYTES: usize = 64 * 1024;
/// How long a fetched key set is used before it is fetched again.
pub const KEY_SET_TTL_MS: i64 = 60 * 60 * 1000;
/// Least time between two refetches caused by an unknown `kid`, so tokens with made-up `kid`s
/// cannot make the Worker hammer the certs endpoint. A fill (no set, or an expired one) does not
/// start this interval: the first rotation after a fill is fetched at once.
pub const REFETCH_MS: i64 = 5_000;

/// One RSA public key of the team's key set, in the JWK form WebCrypto imports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Jwk {
    pub kid: String,
    pub kty: String,
    pub n: String,
    pub e: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
}

impl Jwk {
    /// One entry of a key set (by `json_fields`, as the derive read it).
    fn read(value: serde_json::Value) -> Result<Jwk, Refused> {
        const SCHEMA: &Schema = &[("kid", false), ("kty", false), ("n", false), ("e", false), ("alg", true)];
        let mut f = Fields::of_struct(value, SCHEMA)?;
        Ok(Jwk { kid: f.str("kid")?, kty: f.str("kty")?, n: f.str("n")?, e: f.str("e")?, alg: f.opt_str("alg")? })
    }

    /// The JSON handed to `crypto.subtle.importKey("jwk", …)`: only the public RSA fields.
    pub fn import_json(&self) -> String {
        #[derive(Serialize)]
        struct Import<'a> {
            kty: &'a str,
            n: &'a str,
            e: &'a str,
            alg: &'a str,
            ext: bool,
        }
        let import = Import { kty: "RSA", n: &self.n, e: &self.e, alg: "RS256", ext: true };
        // Serialising strings and a bool cannot fail; an empty object would fail the import.
        crate::protocol::json_text(&import).unwrap_or_else(|_| "{}".into())
    }
}

/// The team's published keys (`{"keys":[…]}`), RSA signing keys only.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeySet {
    keys: Vec<Jwk>,
}

impl KeySet {
    /// Reads a certs response. Entries that are not RSA signing keys with a `kid`, `n` and `e`
    /// are skipped; a body that is not `{"keys":[…]}` is refused.
    pub fn parse(json: &str) -> Result<KeySet, AccessError> {
        if json.len() > MAX_KEY_SET_BYTES {
            return Err(AccessError::KeysUnavailable);
        }
        let Ok(Some(serde_json::Value::Array(keys))) =
            Fields::parse_struct(json, &[("keys", false)]).and_then(|mut f| f.take("keys"))
        else {
            return Err(AccessError::KeysUnavailable);
        };
        let keys = keys
            .into_iter()
            .filter(|v| v.get("use").is_none_or(|u| u == "sig"))
            .filter_map(|v| Jwk::read(v).ok())
            .filter(|k| {
                k.kty == "RSA"
                    && !k.kid.is_empty()
                    && !k.n.is_empty()
                    && !k.e.is_empty()
                    && k.alg.as_deref().is_none_or(|a| a == "RS256")
            })
            .collect();
        Ok(KeySet { keys })
    }

    /// The key a token's `kid` names.
    pub fn find(&self, kid: &str) -> Option<&Jwk> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// The isolate's copy of the key set, and when it was fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCache {
    keys: KeySet,
    fetched_at_ms: i64,
    /// When a `kid` missing from the set last caused a refetch (`None`: not since the last fill).
    refetched_at_ms: Option<i64>,
}

/// What to do for a token's `kid`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyLookup {
    /// The cached set has it.
    Found(Jwk),
    /// Nothing usable is cached (none yet, or older than [`KEY_SET_TTL_MS`]): fetch.
    Fill,
    /// The set is fresh but lacks the `kid` (the team may have rotated): fetch once more.
    Refetch,
    /// The set lacks the `kid` and was refetched for an unknown `kid` too recently: refuse.
    Unknown,
}

impl KeyCache {
    /// A cache holding a set fetched at `now_ms`; `refetch` says whether an unknown `kid` caused it
    /// (which starts the refetch interval; a fill does not, so the first rotation after a fill is
    /// served at once).
    pub fn new(keys: KeySet, now_ms: i64, refetch: bool) -> Self {
        KeyCache { keys, fetched_at_ms: now_ms, refetched_at_ms: refetch.then_some(now_ms) }
    }

    /// Decides for `kid` at `now_ms`. `refetch_ms` is the least time between two refetches caused
    /// by unknown `kid`s ([`REFETCH_MS`] in the Worker; a parameter so tests can vary it).
    pub fn lookup(cache: Option<&KeyCache>, kid: &str, now_ms: i64, refetch_ms: i64) -> KeyLookup {
        let Some(cache) = cache else { return KeyLookup::Fill };
        // A clock that went backwards also counts as stale, rather than trusting the set forever.
        let age = now_ms.saturating_sub(cache.fetched_at_ms);
        if !(0..KEY_SET_TTL_MS).contains(&age) {
            return KeyLookup::Fill;
        }
        if let Some(key) = cache.keys.find(kid) {
            return KeyLookup::Found(key.clone());
        }
        match cache.refetched_at_ms {
            Some(at) if (0..refetch_ms).contains(&now_ms.saturating_sub(at)) => KeyLookup::Unknown,
            _ => KeyLookup::Refetch,
        }
    }

    /// Notes a refetch that failed at `now_ms`: it starts the interval as a successful one would,
    /// so made-up `kid`s cannot turn an unreachable certs endpoint into a fetch per request.
    pub fn refetch_failed(&mut self, now_ms: i64) {
        self.refetched_at_ms = Some(now_ms);
    }

    /// The key for `kid` whatever the age of the set: used when a refresh could not be fetched.
    pub fn stale(cache: Option<&KeyCache>, kid: &str) -> Option<Jwk> {
        cache.and_then(|c| c.keys.find(kid)).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW_MS: i64 = 1_800_000_000_000;

    fn key(kid: &str) -> serde_json::Value {
        serde_json::json!({"kid": kid, "kty": "RSA", "alg": "RS256", "use": "sig", "e": "AQAB", "n": "xyz"})
    }

    #[test]
    fn the_key_set_keeps_rsa_signing_keys_by_kid() {
        let body = serde_json::json!({
            "keys": [
                key("k1"),
                {"kid": "k2", "kty": "RSA", "e": "AQAB", "n": "abc"},
                {"kid": "ec", "kty": "EC", "crv": "P-256", "x": "a", "y": "b"},
                {"kid": "enc", "kty": "RSA", "use": "enc", "e": "AQAB", "n": "abc"},
                {"kid": "hs", "kty": "RSA", "alg": "HS256", "e": "AQAB", "n": "abc"},
                {"kid": "no-n", "kty": "RSA", "e": "AQAB"},
                "not an object",
            ],
            "public_cert": {"kid": "k1", "cert": "-----BEGIN CERTIFICATE-----"},
        });
        let set = KeySet::parse(&body.to_string()).unwrap();
        assert_eq!(set.len(), 2);
        assert_eq!(set.find("k1").map(|k| k.n.as_str()), Some("xyz"));
        assert_eq!(set.find("k2").map(|k| k.alg.clone()), Some(None));
        for kid in ["ec", "enc", "hs", "no-n", "k3"] {
            assert_eq!(set.find(kid), None, "{kid}");
        }
        assert_eq!(KeySet::parse("not json"), Err(AccessError::KeysUnavailable));
        assert_eq!(KeySet::parse(r#"{"nokeys":[]}"#), Err(AccessError::KeysUnavailable));
        let huge = format!(r#"{{"keys":[],"pad":"{}"}}"#, "x".repeat(MAX_KEY_SET_BYTES));
        assert_eq!(KeySet::parse(&huge), Err(AccessError::KeysUnavailable));
        let import: serde_json::Value = serde_json::from_str(&set.find("k2").unwrap().import_json()).unwrap();
        assert_eq!(import, serde_json::json!({"kty": "RSA", "n": "abc", "e": "AQAB", "alg": "RS256", "ext": true}));
    }

    #[test]
    fn the_key_reader_takes_what_the_derive_took_and_refuses_the_rest() {
        let k = Jwk::read(serde_json::json!({"kid": "k", "kty": "RSA", "n": "n", "e": "e", "alg": null, "x": 1}));
        assert_eq!(k, Ok(Jwk { kid: "k".into(), kty: "RSA".into(), n: "n".into(), e: "e".into(), alg: None }));
        for bad in [
            serde_json::json!({"kty": "RSA", "n": "n", "e": "e"}),
            serde_json::json!({"kid": "k", "kty": "RSA", "n": 1, "e": "e"}),
            serde_json::json!({"kid": "k", "kty": "RSA", "n": "n", "e": "e", "alg": 256}),
            serde_json::json!({"kid": null, "kty": "RSA", "n": "n", "e": "e"}),
            serde_json::json!(["k", "RSA", "n"]),
            serde_json::json!(["k", "RSA", "n", "e", null, "x"]),
        ] {
            assert_eq!(Jwk::read(bad.clone()), Err(Refused), "{bad}");
        }
        for body in [r#"{"keys":{}}"#, r#"{"keys":null}"#, r#"{"keys":[],"keys":[]}"#, "[]", "[{}]"] {
            assert_eq!(KeySet::parse(body), Err(AccessError::KeysUnavailable), "{body}");
        }
        // As the derives read them: a struct from an array, its fields by position.
        let positional = Jwk::read(serde_json::json!(["k", "RSA", "n", "e"]));
        assert_eq!(positional.map(|k| k.kid), Ok("k".into()));
        assert_eq!(KeySet::parse("[[]]"), Ok(KeySet::default()));
    }

    fn set(kids: &[&str]) -> KeySet {
        KeySet::parse(&serde_json::json!({"keys": kids.iter().map(|k| key(k)).collect::<Vec<_>>()}).to_string())
            .unwrap()
    }

    #[test]
    fn the_cache_fills_finds_and_expires() {
        assert_eq!(KeyCache::lookup(None, "k1", NOW_MS, 5000), KeyLookup::Fill);
        let cache = KeyCache::new(set(&["k1"]), NOW_MS, false);
        assert!(
            matches!(KeyCache::lookup(Some(&cache), "k1", NOW_MS + 1000, 5000), KeyLookup::Found(k) if k.kid == "k1")
        );
        assert_eq!(KeyCache::lookup(Some(&cache), "k1", NOW_MS + KEY_SET_TTL_MS, 5000), KeyLookup::Fill, "an hour old");
        assert_eq!(KeyCache::lookup(Some(&cache), "k1", NOW_MS - 1, 5000), KeyLookup::Fill, "the clock went back");
        assert_eq!(KeyCache::stale(Some(&cache), "k1").map(|k| k.kid), Some("k1".into()));
        assert_eq!(KeyCache::stale(Some(&cache), "k9"), None);
        assert_eq!(KeyCache::stale(None, "k1"), None);
    }

    #[test]
    fn unknown_kids_refetch_at_most_once_per_interval() {
        let filled = KeyCache::new(set(&["k1"]), NOW_MS, false);
        // Right after a fill, a rotated key is fetched at once.
        assert_eq!(KeyCache::lookup(Some(&filled), "k2", NOW_MS + 1, 5000), KeyLookup::Refetch);
        let refetched = KeyCache::new(set(&["k1", "k2"]), NOW_MS + 1, true);
        assert!(matches!(KeyCache::lookup(Some(&refetched), "k2", NOW_MS + 2, 5000), KeyLookup::Found(_)));
        // Made-up kids right after: refused without a fetch, until the interval has passed.
        for kid in ["bogus-1", "bogus-2", "bogus-3"] {
            assert_eq!(KeyCache::lookup(Some(&refetched), kid, NOW_MS + 2, 5000), KeyLookup::Unknown);
        }
        assert_eq!(KeyCache::lookup(Some(&refetched), "bogus", NOW_MS + 5000, 5000), KeyLookup::Unknown);
        assert_eq!(KeyCache::lookup(Some(&refetched), "bogus", NOW_MS + 5001, 5000), KeyLookup::Refetch);
        // A refetch that failed starts the interval too.
        let mut failed = KeyCache::new(set(&["k1"]), NOW_MS, false);
        failed.refetch_failed(NOW_MS + 10);
        assert_eq!(KeyCache::lookup(Some(&failed), "bogus", NOW_MS + 11, 5000), KeyLookup::Unknown);
        assert!(matches!(KeyCache::lookup(Some(&failed), "k1", NOW_MS + 11, 5000), KeyLookup::Found(_)));
        // An interval of 0 refetches for every unknown kid.
        assert_eq!(KeyCache::lookup(Some(&refetched), "bogus", NOW_MS + 1, 0), KeyLookup::Refetch);
    }
}
