//! Cloudflare Access single sign-on, the pure half: the configuration, reading a
//! `Cf-Access-Jwt-Assertion` (compact JWT), the header and claims rules, the key set (JWKS) and
//! when to fetch it again.
//!
//! No clock, no network, no crypto here: the time comes in as `now_ms`, the key set as the JSON the
//! team's certs endpoint served, and the RS256 signature is checked by WebCrypto in
//! `access_keys` (wasm only) over the [`Token::signing_input`] this module cuts out. Every failure
//! is an [`AccessError`], answered as 401 `unauthorized` with a reason that never echoes the token.

use base64::alphabet;
use base64::engine::general_purpose::GeneralPurposeConfig;
use base64::engine::{DecodePaddingMode, GeneralPurpose};
use base64::Engine as _;

use crate::error::HttpError;
use crate::json_fields::{Fields, Refused, Schema};
use crate::protocol::MAX_EMAIL_CHARS;

mod keys;
pub use keys::*;

/// The longest assertion read at all: Access tokens are about 1 KB; anything over this is refused
/// before it is split or decoded.
pub const MAX_ASSERTION_BYTES: usize = 8 * 1024;
/// Clock difference tolerated between Cloudflare and this isolate, both ways (`exp`, `nbf`).
pub const CLOCK_SKEW_MS: i64 = 60_000;

/// base64url without padding, as JWTs use it; padded input is accepted too.
const B64URL: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_encode_padding(false).with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why an Access assertion was not accepted. Each maps to 401 `unauthorized` with its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessError {
    TooLarge,
    NotCompact,
    BadBase64,
    BadJson,
    WrongAlgorithm,
    MissingKid,
    WrongAudience,
    WrongIssuer,
    MissingExpiry,
    Expired,
    NotYetValid,
    MissingEmail,
    UnknownKey,
    BadSignature,
    KeysUnavailable,
}

impl AccessError {
    /// The `reason` carried in the 401 body (a fixed sentence: no part of the token).
    pub fn reason(&self) -> &'static str {
        match self {
            AccessError::TooLarge => "Access token is too large",
            AccessError::NotCompact => "Access token is not a compact JWT (header.payload.signature)",
            AccessError::BadBase64 => "Access token is not valid base64url",
            AccessError::BadJson => "Access token header or claims are not valid JSON",
            AccessError::WrongAlgorithm => "Access token must be signed with RS256",
            AccessError::MissingKid => "Access token names no key id (kid)",
            AccessError::WrongAudience => "Access token is for another application (aud)",
            AccessError::WrongIssuer => "Access token is from another issuer (iss)",
            AccessError::MissingExpiry => "Access token has no expiry (exp)",
            AccessError::Expired => "Access token has expired",
            AccessError::NotYetValid => "Access token is not valid yet (nbf)",
            AccessError::MissingEmail => "Access token names no email",
            AccessError::UnknownKey => "Access token is signed with a key the team does not publish",
            AccessError::BadSignature => "Access token signature is not valid",
            AccessError::KeysUnavailable => "Access keys could not be fetched from the team domain",
        }
    }
}

impl std::fmt::Display for AccessError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.reason())
    }
}

impl std::error::Error for AccessError {}

impl From<AccessError> for HttpError {
    fn from(e: AccessError) -> Self {
        HttpError::Unauthorized(e.reason())
    }
}

/// `ACCESS_TEAM_DOMAIN` + `ACCESS_AUD`: which Access application's tokens sign agents in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessConfig {
    /// `https://<team>.cloudflareaccess.com`: the tokens' `iss`, and where the keys are served.
    origin: String,
    /// The application's audience tag (`aud`).
    aud: String,
}

impl AccessConfig {
    /// `None` (Access sign-in off) unless both are set and non-empty. A team domain such as
    /// `myteam.cloudflareaccess.com` means `https://myteam.cloudflareaccess.com`; a value that
    /// already has a scheme (`http://127.0.0.1:9999`, for tests and local runs) is the origin as is.
    pub fn from_vars(team_domain: Option<&str>, aud: Option<&str>) -> Option<Self> {
        let domain = team_domain.map(str::trim).unwrap_or("").trim_end_matches('/');
        let aud = aud.map(str::trim).unwrap_or("");
        if domain.is_empty() || aud.is_empty() {
            return None;
        }
        let origin = if domain.contains("://") { domain.to_owned() } else { format!("https://{domain}") };
        Some(AccessConfig { origin, aud: aud.to_owned() })
    }

    /// The issuer every token must name: the team's origin.
    pub fn issuer(&self) -> &str {
        &self.origin
    }

    pub fn aud(&self) -> &str {
        &self.aud
    }

    /// Where the team publishes its signing keys.
    pub fn certs_url(&self) -> String {
        format!("{}/cdn-cgi/access/certs", self.origin)
    }
}

/// The JOSE header fields that matter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub alg: String,
    pub kid: String,
}

/// The claims that matter. Times are seconds since the epoch (JWT NumericDate; fractions allowed).
#[derive(Debug, Clone, PartialEq)]
pub struct Claims {
    /// A string or an array of strings (kept as JSON: serde's untagged enums cost the wasm
    /// kilobytes).
    aud: Option<serde_json::Value>,
    iss: Option<String>,
    exp: Option<f64>,
    nbf: Option<f64>,
    email: Option<String>,
}

impl Claims {
    /// The payload's JSON (by `json_fields`, as the derive read it: every claim optional).
    fn read(text: &str) -> Result<Claims, Refused> {
        const SCHEMA: &Schema = &[("aud", true), ("iss", true), ("exp", true), ("nbf", true), ("email", true)];
        let mut f = Fields::parse_struct(text, SCHEMA)?;
        Ok(Claims {
            aud: f.opt("aud")?,
            iss: f.opt_str("iss")?,
            exp: f.opt_f64("exp")?,
            nbf: f.opt_f64("nbf")?,
            email: f.opt_str("email")?,
        })
    }
}

/// A split, decoded assertion whose header has passed [`parse`]'s checks. Its signature is not
/// verified yet: nothing in it may be trusted before `access_keys` has checked it.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub header: Header,
    pub claims: Claims,
    /// `base64url(header) + "." + base64url(payload)` as received: what the signature covers.
    pub signing_input: String,
    pub signature: Vec<u8>,
}

/// Splits and decodes a compact JWT and checks its header: `alg` must be `RS256` (never `none`
/// or an HMAC one) and a `kid` must name the key.
pub fn parse(assertion: &str) -> Result<Token, AccessError> {
    if assertion.len() > MAX_ASSERTION_BYTES {
        return Err(AccessError::TooLarge);
    }
    let assertion = assertion.trim();
    let mut parts = assertion.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(AccessError::NotCompact);
    };
    if h.is_empty() || p.is_empty() {
        return Err(AccessError::NotCompact);
    }
    let header_bytes = B64URL.decode(h).map_err(|_| AccessError::BadBase64)?;
    let payload_bytes = B64URL.decode(p).map_err(|_| AccessError::BadBase64)?;
    let signature = B64URL.decode(s).map_err(|_| AccessError::BadBase64)?;
    let (alg, kid) = json(&header_bytes, |text| {
        let mut f = Fields::parse_struct(text, &[("alg", true), ("kid", true)])?;
        Ok((f.opt_str("alg")?, f.opt_str("kid")?))
    })?;
    if alg.as_deref() != Some("RS256") {
        return Err(AccessError::WrongAlgorithm);
    }
    let kid = kid.filter(|k| !k.is_empty()).ok_or(AccessError::MissingKid)?;
    let claims = json(&payload_bytes, Claims::read)?;
    if signature.is_empty() {
        return Err(AccessError::BadSignature);
    }
    Ok(Token { header: Header { alg: "RS256".into(), kid }, claims, signing_input: format!("{h}.{p}"), signature })
}

/// JSON text read from its UTF-8 as text, like every other JSON the wasm reads (`from_slice`
/// would build a second copy of serde_json's parser, its byte reader), by `read`.
fn json<T>(bytes: &[u8], read: impl FnOnce(&str) -> Result<T, Refused>) -> Result<T, AccessError> {
    let text = std::str::from_utf8(bytes).map_err(|_| AccessError::BadJson)?;
    read(text).map_err(|_| AccessError::BadJson)
}

/// Seconds (NumericDate) to milliseconds, saturating.
fn to_ms(seconds: f64) -> i64 {
    // `as` saturates and maps NaN to 0; serde_json never yields NaN or infinities.
    (seconds * 1000.0) as i64
}

/// Checks the claims against the configuration at `now_ms` and returns the email they name,
/// lowercased. Order: audience, issuer, expiry, not-before, email.
pub fn check_claims(claims: &Claims, config: &AccessConfig, now_ms: i64) -> Result<String, AccessError> {
    let for_us = match &claims.aud {
        Some(serde_json::Value::String(a)) => a == config.aud(),
        Some(serde_json::Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(config.aud())),
        _ => false,
    };
    if !for_us {
        return Err(AccessError::WrongAudience);
    }
    if claims.iss.as_deref() != Some(config.issuer()) {
        return Err(AccessError::WrongIssuer);
    }
    let exp = claims.exp.map(to_ms).ok_or(AccessError::MissingExpiry)?;
    if exp.saturating_add(CLOCK_SKEW_MS) <= now_ms {
        return Err(AccessError::Expired);
    }
    if claims.nbf.map(to_ms).is_some_and(|nbf| nbf.saturating_sub(CLOCK_SKEW_MS) > now_ms) {
        return Err(AccessError::NotYetValid);
    }
    let email = claims.email.as_deref().map(str::trim).unwrap_or("");
    if email.is_empty() || email.chars().count() > MAX_EMAIL_CHARS || !email.contains('@') {
        return Err(AccessError::MissingEmail);
    }
    Ok(email.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW_MS: i64 = 1_800_000_000_000;
    const AUD: &str = "aud-0123456789";
    const ISS: &str = "https://myteam.cloudflareaccess.com";

    fn config() -> AccessConfig {
        AccessConfig::from_vars(Some("myteam.cloudflareaccess.com"), Some(AUD)).unwrap()
    }

    fn b64(bytes: &[u8]) -> String {
        B64URL.encode(bytes)
    }

    fn jwt(header: &serde_json::Value, claims: &serde_json::Value, sig: &[u8]) -> String {
        format!("{}.{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()), b64(sig))
    }

    fn header() -> serde_json::Value {
        serde_json::json!({"alg": "RS256", "kid": "k1", "typ": "JWT"})
    }

    fn claims() -> serde_json::Value {
        serde_json::json!({
            "aud": [AUD], "iss": ISS, "email": "Ana@Example.com", "sub": "123",
            "iat": NOW_MS / 1000 - 10, "nbf": NOW_MS / 1000 - 10, "exp": NOW_MS / 1000 + 3600,
        })
    }

    fn with(mut claims: serde_json::Value, key: &str, value: serde_json::Value) -> serde_json::Value {
        claims[key] = value;
        claims
    }

    fn without(mut claims: serde_json::Value, key: &str) -> serde_json::Value {
        claims.as_object_mut().unwrap().remove(key);
        claims
    }

    /// Parses and checks claims, as `access_keys` does before it looks for the key.
    fn email_of(token: &str) -> Result<String, AccessError> {
        check_claims(&parse(token)?.claims, &config(), NOW_MS)
    }

    #[test]
    fn config_needs_both_values() {
        assert_eq!(AccessConfig::from_vars(None, Some(AUD)), None);
        assert_eq!(AccessConfig::from_vars(Some("t.cloudflareaccess.com"), None), None);
        assert_eq!(AccessConfig::from_vars(Some(""), Some(AUD)), None);
        assert_eq!(AccessConfig::from_vars(Some("t.cloudflareaccess.com"), Some("  ")), None);
    }

    #[test]
    fn team_domain_becomes_issuer_and_certs_url() {
        let c = config();
        assert_eq!(c.issuer(), ISS);
        assert_eq!(c.aud(), AUD);
        assert_eq!(c.certs_url(), "https://myteam.cloudflareaccess.com/cdn-cgi/access/certs");
        let local = AccessConfig::from_vars(Some("http://127.0.0.1:9999/"), Some(AUD)).unwrap();
        assert_eq!(local.issuer(), "http://127.0.0.1:9999");
        assert_eq!(local.certs_url(), "http://127.0.0.1:9999/cdn-cgi/access/certs");
        let https = AccessConfig::from_vars(Some(" https://myteam.cloudflareaccess.com "), Some(AUD)).unwrap();
        assert_eq!(https, c);
    }

    #[test]
    fn a_good_token_names_its_email_lowercased() {
        let token = jwt(&header(), &claims(), b"sig");
        let parsed = parse(&token).unwrap();
        assert_eq!(parsed.header.kid, "k1");
        assert_eq!(parsed.signature, b"sig");
        let (h, rest) = token.split_once('.').unwrap();
        let p = rest.split('.').next().unwrap();
        assert_eq!(parsed.signing_input, format!("{h}.{p}"));
        assert_eq!(email_of(&token), Ok("ana@example.com".into()));
        let single_aud = with(claims(), "aud", serde_json::json!(AUD));
        assert_eq!(email_of(&jwt(&header(), &single_aud, b"sig")), Ok("ana@example.com".into()));
        let no_nbf = without(claims(), "nbf");
        assert!(email_of(&jwt(&header(), &no_nbf, b"sig")).is_ok(), "nbf is optional");
        let fractional = with(claims(), "exp", serde_json::json!(NOW_MS as f64 / 1000.0 + 0.5));
        assert!(email_of(&jwt(&header(), &fractional, b"sig")).is_ok());
    }

    #[test]
    fn padding_is_tolerated() {
        let pad = |s: &str| format!("{s}{}", "=".repeat((4 - s.len() % 4) % 4));
        let token = jwt(&header(), &claims(), b"signature!");
        let padded: Vec<String> = token.split('.').map(pad).collect();
        assert!(padded.iter().any(|p| p.ends_with('=')), "the test pads something");
        assert_eq!(email_of(&padded.join(".")), Ok("ana@example.com".into()));
    }

    #[test]
    fn the_audience_must_be_ours() {
        for aud in [
            serde_json::json!("other"),
            serde_json::json!(["other", "another"]),
            serde_json::json!([]),
            serde_json::json!(null),
        ] {
            let token = jwt(&header(), &with(claims(), "aud", aud.clone()), b"sig");
            assert_eq!(email_of(&token), Err(AccessError::WrongAudience), "{aud}");
        }
        assert_eq!(email_of(&jwt(&header(), &without(claims(), "aud"), b"sig")), Err(AccessError::WrongAudience));
        let listed = with(claims(), "aud", serde_json::json!(["other", AUD]));
        assert!(email_of(&jwt(&header(), &listed, b"sig")).is_ok());
    }

    #[test]
    fn the_issuer_must_be_the_team() {
        for iss in [
            "https://evil.cloudflareaccess.com",
            "http://myteam.cloudflareaccess.com",
            "https://myteam.cloudflareaccess.com/",
            "",
        ] {
            let token = jwt(&header(), &with(claims(), "iss", serde_json::json!(iss)), b"sig");
            assert_eq!(email_of(&token), Err(AccessError::WrongIssuer), "{iss}");
        }
        assert_eq!(email_of(&jwt(&header(), &without(claims(), "iss"), b"sig")), Err(AccessError::WrongIssuer));
    }

    #[test]
    fn expiry_is_required_and_checked_with_skew() {
        let exp = |s: i64| jwt(&header(), &with(claims(), "exp", serde_json::json!(s)), b"sig");
        let now = NOW_MS / 1000;
        assert_eq!(email_of(&exp(now - 61)), Err(AccessError::Expired));
        assert_eq!(email_of(&exp(now - 3600)), Err(AccessError::Expired));
        assert!(email_of(&exp(now - 59)).is_ok(), "within the clock skew");
        assert_eq!(email_of(&jwt(&header(), &without(claims(), "exp"), b"sig")), Err(AccessError::MissingExpiry));
        let text_exp = with(claims(), "exp", serde_json::json!("tomorrow"));
        assert_eq!(email_of(&jwt(&header(), &text_exp, b"sig")), Err(AccessError::BadJson));
    }

    #[test]
    fn not_before_is_checked_with_skew() {
        let nbf = |s: i64| jwt(&header(), &with(claims(), "nbf", serde_json::json!(s)), b"sig");
        let now = NOW_MS / 1000;
        assert_eq!(email_of(&nbf(now + 61)), Err(AccessError::NotYetValid));
        assert!(email_of(&nbf(now + 59)).is_ok(), "within the clock skew");
    }

    #[test]
    fn an_email_is_required() {
        assert_eq!(email_of(&jwt(&header(), &without(claims(), "email"), b"sig")), Err(AccessError::MissingEmail));
        for email in ["", "   ", "no-at-sign"] {
            let token = jwt(&header(), &with(claims(), "email", serde_json::json!(email)), b"sig");
            assert_eq!(email_of(&token), Err(AccessError::MissingEmail), "{email:?}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(
            email_of(&jwt(&header(), &with(claims(), "email", serde_json::json!(long)), b"sig")),
            Err(AccessError::MissingEmail)
        );
        // A service token carries `common_name` and no email: it signs nobody in.
        let service = with(without(claims(), "email"), "common_name", serde_json::json!("abc.access"));
        assert_eq!(email_of(&jwt(&header(), &service, b"sig")), Err(AccessError::MissingEmail));
    }

    #[test]
    fn only_rs256_with_a_kid_is_accepted() {
        for alg in ["none", "None", "HS256", "RS512", "ES256", "PS256", ""] {
            let h = serde_json::json!({"alg": alg, "kid": "k1"});
            assert_eq!(email_of(&jwt(&h, &claims(), b"sig")), Err(AccessError::WrongAlgorithm), "{alg}");
        }
        let no_alg = serde_json::json!({"kid": "k1"});
        assert_eq!(email_of(&jwt(&no_alg, &claims(), b"sig")), Err(AccessError::WrongAlgorithm));
        let no_kid = serde_json::json!({"alg": "RS256"});
        assert_eq!(email_of(&jwt(&no_kid, &claims(), b"sig")), Err(AccessError::MissingKid));
        let empty_kid = serde_json::json!({"alg": "RS256", "kid": ""});
        assert_eq!(email_of(&jwt(&empty_kid, &claims(), b"sig")), Err(AccessError::MissingKid));
        // alg none with an empty signature, the classic forgery.
        let none = format!("{}.{}.", b64(br#"{"alg":"none","kid":"k1"}"#), b64(claims().to_string().as_bytes()));
        assert_eq!(email_of(&none), Err(AccessError::WrongAlgorithm));
        assert_eq!(
            email_of(&jwt(&header(), &claims(), b"")),
            Err(AccessError::BadSignature),
            "RS256 with no signature"
        );
    }

    #[test]
    fn garbage_is_refused_without_panicking() {
        let good = jwt(&header(), &claims(), b"sig");
        let parts: Vec<&str> = good.split('.').collect();
        let cases = [
            ("", AccessError::NotCompact),
            ("garbage", AccessError::NotCompact),
            ("a.b", AccessError::NotCompact),
            ("a.b.c.d", AccessError::NotCompact),
            ("..", AccessError::NotCompact),
            ("!!!.@@@.###", AccessError::BadBase64),
            ("eyJ+.eyJ/.c2ln", AccessError::BadBase64),
            ("e.e.e", AccessError::BadBase64),
        ];
        for (token, want) in cases {
            assert_eq!(email_of(token), Err(want.clone()), "{token:?}");
        }
        let not_json = format!("{}.{}.{}", b64(b"not json"), parts[1], parts[2]);
        assert_eq!(email_of(&not_json), Err(AccessError::BadJson));
        let claims_not_json = format!("{}.{}.{}", parts[0], b64(b"[1,2"), parts[2]);
        assert_eq!(email_of(&claims_not_json), Err(AccessError::BadJson));
        let array_claims = format!("{}.{}.{}", parts[0], b64(b"[1,2]"), parts[2]);
        assert_eq!(email_of(&array_claims), Err(AccessError::BadJson));
        let bad_sig = format!("{}.{}.{}", parts[0], parts[1], "%%%");
        assert_eq!(email_of(&bad_sig), Err(AccessError::BadBase64));
    }

    #[test]
    fn the_claims_reader_takes_what_the_derive_took() {
        let all = Claims::read(r#"{"aud":["a"],"iss":"i","exp":1.5,"nbf":2,"email":"e","other":{"x":1}}"#);
        let want = Claims {
            aud: Some(serde_json::json!(["a"])),
            iss: Some("i".into()),
            exp: Some(1.5),
            nbf: Some(2.0),
            email: Some("e".into()),
        };
        assert_eq!(all, Ok(want));
        let none = Claims { aud: None, iss: None, exp: None, nbf: None, email: None };
        assert_eq!(Claims::read("{}"), Ok(none.clone()));
        assert_eq!(Claims::read(r#"{"aud":null,"iss":null,"exp":null,"nbf":null,"email":null}"#), Ok(none));
    }

    #[test]
    fn the_claims_and_header_readers_refuse_what_the_derive_refused() {
        for text in [
            r#"{"iss":1}"#,
            r#"{"exp":"1"}"#,
            r#"{"nbf":true}"#,
            r#"{"email":["a"]}"#,
            r#"{"email":"a","email":"b"}"#,
            r#"{"aud":"a","aud":"b"}"#,
            r#"[null, null, null, null, null, null]"#,
            r#"[null, 1]"#,
            "not json",
        ] {
            assert_eq!(Claims::read(text), Err(Refused), "{text}");
        }
        let good = jwt(&header(), &claims(), b"sig");
        let parts: Vec<&str> = good.split('.').collect();
        for head in [
            r#"{"alg":"RS256","kid":"k1","kid":"k1"}"#,
            r#"{"alg":"RS256","alg":"RS256","kid":"k1"}"#,
            r#"{"alg":256,"kid":"k1"}"#,
            r#"{"alg":"RS256","kid":1}"#,
            r#"["RS256","k1","x"]"#,
        ] {
            let token = format!("{}.{}.{}", b64(head.as_bytes()), parts[1], parts[2]);
            assert_eq!(email_of(&token), Err(AccessError::BadJson), "{head}");
        }
        // As the derive read it: a header from an array, its fields by position.
        let positional = format!("{}.{}.{}", b64(br#"["RS256","k1"]"#), parts[1], parts[2]);
        assert_eq!(parse(&positional).map(|t| t.header.kid), Ok("k1".into()));
        assert_eq!(Claims::read("[]").map(|c| c.email), Ok(None));
        let null_kid = format!("{}.{}.{}", b64(br#"{"alg":"RS256","kid":null}"#), parts[1], parts[2]);
        assert_eq!(email_of(&null_kid), Err(AccessError::MissingKid));
    }

    #[test]
    fn oversize_tokens_are_refused_before_parsing() {
        let big = "a".repeat(MAX_ASSERTION_BYTES + 1);
        assert_eq!(parse(&big), Err(AccessError::TooLarge));
        let padded_claims = with(claims(), "pad", serde_json::json!("x".repeat(MAX_ASSERTION_BYTES)));
        assert_eq!(email_of(&jwt(&header(), &padded_claims, b"sig")), Err(AccessError::TooLarge));
    }

    #[test]
    fn every_failure_is_a_401_that_never_echoes_the_token() {
        let secretish = "eyJhbGciOiJub25lIn0.c2VjcmV0LWVtYWlsQGV4YW1wbGUuY29t.";
        let err = email_of(secretish).unwrap_err();
        let http = HttpError::from(err);
        assert_eq!(http.status(), 401);
        assert_eq!(http.code(), "unauthorized");
        assert!(!http.body().contains("c2VjcmV0"), "{}", http.body());
        for e in
            [AccessError::TooLarge, AccessError::UnknownKey, AccessError::BadSignature, AccessError::KeysUnavailable]
        {
            assert_eq!(HttpError::from(e.clone()), HttpError::Unauthorized(e.reason()));
            assert_eq!(e.to_string(), e.reason(), "Display and reason agree");
        }
    }
}
