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
mod tests;
