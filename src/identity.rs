//! Verified identity: a site with logged-in customers vouches for one with an HMAC.
//!
//! The host's server computes `HMAC-SHA256(IDENTITY_SECRET, userId)` (hex) and puts it on the
//! page with the user id, as Intercom's and Crisp's identity verification do. The widget presents
//! both in a subprotocol, `support-desk.identity.<hex of userId>.<hash>`: a header, so the proof
//! stays out of URLs and logs. The desk then gives that user the same conversation on any device.
//! A claim whose hash is missing or wrong is refused outright: it never falls back to an
//! anonymous conversation and never reaches the verified one.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::auth::{hex, unhex};
use crate::error::HttpError;

/// Prefix of the subprotocol carrying an identity claim.
pub const IDENTITY_SUBPROTOCOL_PREFIX: &str = "support-desk.identity.";
/// Longest verified user id, in characters.
pub const MAX_EXTERNAL_ID_CHARS: usize = 128;

/// An identity claim as presented, before it is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub user_id: String,
    pub hash: Option<String>,
}

/// The identity claim among the offered subprotocols, if any. `Err` when one is offered but
/// cannot be read (bad hex, not UTF-8, an id out of bounds).
pub fn claim(protocols: Option<&str>) -> Result<Option<Claim>, HttpError> {
    let Some(raw) = protocols
        .into_iter()
        .flat_map(|p| p.split(','))
        .find_map(|p| p.trim().strip_prefix(IDENTITY_SUBPROTOCOL_PREFIX))
    else {
        return Ok(None);
    };
    let (id_hex, hash) = match raw.split_once('.') {
        Some((id, hash)) => (id, Some(hash).filter(|h| !h.is_empty())),
        None => (raw, None),
    };
    let user_id = unhex(id_hex)
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .filter(|id| valid_external_id(id))
        .ok_or(HttpError::BadRequest(
            "the identity's user id must be hex of 1 to 128 characters without control characters",
        ))?;
    Ok(Some(Claim { user_id, hash: hash.map(str::to_owned) }))
}

/// A claim sent as plain fields (a ticket request's body): `Err` when the id is out of bounds.
pub fn checked_claim(user_id: String, hash: Option<String>) -> Result<Claim, HttpError> {
    if !valid_external_id(&user_id) {
        return Err(HttpError::BadRequest("userId must be 1 to 128 characters without control characters"));
    }
    Ok(Claim { user_id, hash: hash.filter(|h| !h.is_empty()) })
}

fn valid_external_id(id: &str) -> bool {
    let n = id.chars().count();
    (1..=MAX_EXTERNAL_ID_CHARS).contains(&n) && !id.chars().any(char::is_control)
}

/// Checks a claim against the configured secret (`None` or empty: verification is not set up,
/// so every claim is refused). Returns the verified user id.
pub fn verify(claim: Claim, secret: Option<&str>) -> Result<String, HttpError> {
    let secret = secret.filter(|s| !s.is_empty()).ok_or(HttpError::IdentityDisabled)?;
    let hash = claim.hash.ok_or(HttpError::Unauthorized("an identity needs its userHash"))?;
    let presented = unhex(&hash).ok_or(HttpError::Unauthorized("the identity's userHash does not match"))?;
    // `verify_slice` compares in constant time.
    match mac(secret, &claim.user_id).map(|m| m.verify_slice(&presented)) {
        Some(Ok(())) => Ok(claim.user_id),
        _ => Err(HttpError::Unauthorized("the identity's userHash does not match")),
    }
}

/// The hash a host computes for `user_id` (hex); what `verify` expects.
pub fn user_hash(secret: &str, user_id: &str) -> Option<String> {
    Some(hex(&mac(secret, user_id)?.finalize().into_bytes()))
}

/// HMAC accepts keys of any length, so this is always `Some`; an `Option` keeps it panic-free.
fn mac(secret: &str, user_id: &str) -> Option<Hmac<Sha256>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(user_id.as_bytes());
    Some(mac)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user_hash(secret: &str, user_id: &str) -> String {
        super::user_hash(secret, user_id).unwrap_or_default()
    }

    const SECRET: &str = "identity-secret";

    fn offered(user_id: &str, hash: Option<&str>) -> String {
        let id = hex(user_id.as_bytes());
        let claim = match hash {
            Some(h) => format!("{IDENTITY_SUBPROTOCOL_PREFIX}{id}.{h}"),
            None => format!("{IDENTITY_SUBPROTOCOL_PREFIX}{id}"),
        };
        format!("support-desk.v1, {claim}")
    }

    #[test]
    fn the_rfc_4231_vector_holds() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            user_hash("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn a_claim_with_the_right_hash_is_the_verified_user() {
        let hash = user_hash(SECRET, "customer-42");
        let claim = claim(Some(&offered("customer-42", Some(&hash)))).unwrap().unwrap();
        assert_eq!(verify(claim, Some(SECRET)), Ok("customer-42".to_owned()));
        let upper = claim_of("customer-42", &hash.to_uppercase());
        assert_eq!(verify(upper, Some(SECRET)), Ok("customer-42".to_owned()), "hex in either case");
    }

    fn claim_of(user_id: &str, hash: &str) -> Claim {
        claim(Some(&offered(user_id, Some(hash)))).unwrap().unwrap()
    }

    #[test]
    fn missing_wrong_or_borrowed_hashes_are_refused() {
        let missing = claim(Some(&offered("customer-42", None))).unwrap().unwrap();
        assert!(matches!(verify(missing, Some(SECRET)), Err(HttpError::Unauthorized(_))));
        let borrowed = claim_of("customer-43", &user_hash(SECRET, "customer-42"));
        assert!(matches!(verify(borrowed, Some(SECRET)), Err(HttpError::Unauthorized(_))));
        let other_secret = claim_of("customer-42", &user_hash("another", "customer-42"));
        assert!(matches!(verify(other_secret, Some(SECRET)), Err(HttpError::Unauthorized(_))));
        let truncated = claim_of("customer-42", &user_hash(SECRET, "customer-42")[..62]);
        assert!(matches!(verify(truncated, Some(SECRET)), Err(HttpError::Unauthorized(_))));
        let garbage = claim_of("customer-42", "zz");
        assert!(matches!(verify(garbage, Some(SECRET)), Err(HttpError::Unauthorized(_))));
    }

    #[test]
    fn without_a_secret_no_claim_is_accepted() {
        let good = claim_of("customer-42", &user_hash(SECRET, "customer-42"));
        assert_eq!(verify(good.clone(), None), Err(HttpError::IdentityDisabled));
        assert_eq!(verify(good, Some("")), Err(HttpError::IdentityDisabled));
    }

    #[test]
    fn unreadable_claims_are_bad_requests_and_absent_ones_are_none() {
        assert_eq!(claim(None), Ok(None));
        assert_eq!(claim(Some("support-desk.v1")), Ok(None));
        for bad in ["support-desk.identity.", "support-desk.identity.zz.00", "support-desk.identity.ff.00"] {
            assert!(matches!(claim(Some(bad)), Err(HttpError::BadRequest(_))), "{bad}");
        }
        let long = "x".repeat(MAX_EXTERNAL_ID_CHARS + 1);
        assert!(matches!(claim(Some(&offered(&long, Some("00")))), Err(HttpError::BadRequest(_))));
        assert!(matches!(claim(Some(&offered("a\u{7}b", Some("00")))), Err(HttpError::BadRequest(_))));
    }
}
