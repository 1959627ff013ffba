//! Verified identity: a site with logged-in customers vouches for one with an HMAC, valid on one
//! desk only.
//!
//! Each desk has its own key, derived from the deployment's secret and the desk's name:
//! `deskKey = hex(HMAC-SHA256(IDENTITY_SECRET, "desk:" + desk))`. The host's server computes
//! `HMAC-SHA256(deskKey, userId)` (hex, the desk key's text as the HMAC key) and puts it on the
//! page with the user id, as Intercom's and Crisp's identity verification do. So a hash for
//! customer 42 on desk `acme` opens nothing on desk `shop`, and a site given only its desk's key
//! cannot vouch for anyone on another desk of the deployment (a hash over `desk + ":" + userId`
//! would bind the hash too, but every site would need the secret that opens every desk).
//!
//! The widget presents the id and hash in a subprotocol, `support-desk.identity.<hex of
//! userId>.<hash>`: a header, so the proof stays out of URLs. The desk then gives that user the
//! same conversation on any device. A claim whose hash is missing or wrong is refused outright: it
//! never falls back to an anonymous conversation and never reaches the verified one.

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

/// Checks a claim made on `desk` against the configured secret (`None` or empty: verification
/// is not set up, so every claim is refused). Returns the verified user id.
pub fn verify(claim: Claim, secret: Option<&str>, desk: &str) -> Result<String, HttpError> {
    let secret = secret.filter(|s| !s.is_empty()).ok_or(HttpError::IdentityDisabled)?;
    let hash = claim.hash.ok_or(HttpError::Unauthorized("an identity needs its userHash"))?;
    let wrong = HttpError::Unauthorized("the identity's userHash does not match (it is computed with this desk's key)");
    let presented = unhex(&hash).ok_or(wrong.clone())?;
    let key = desk_key(secret, desk).ok_or(wrong.clone())?;
    // `verify_slice` compares in constant time.
    match mac(&key, &claim.user_id).map(|m| m.verify_slice(&presented)) {
        Some(Ok(())) => Ok(claim.user_id),
        _ => Err(wrong),
    }
}

/// A desk's identity key (hex): what the operator gives the site that embeds that desk.
pub fn desk_key(secret: &str, desk: &str) -> Option<String> {
    Some(hex(&mac(secret, &format!("desk:{desk}"))?.finalize().into_bytes()))
}

/// The hash a host computes for `user_id` with its desk's key (hex); what `verify` expects.
pub fn user_hash(desk_key: &str, user_id: &str) -> Option<String> {
    Some(hex(&mac(desk_key, user_id)?.finalize().into_bytes()))
}

/// HMAC accepts keys of any length, so this is always `Some`; an `Option` keeps it panic-free.
fn mac(key: &str, data: &str) -> Option<Hmac<Sha256>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).ok()?;
    mac.update(data.as_bytes());
    Some(mac)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "identity-secret";
    const DESK: &str = "acme";

    /// What the host's server computes, from the operator's secret, for a user of `desk`.
    fn hash_on(desk: &str, secret: &str, user_id: &str) -> String {
        desk_key(secret, desk).and_then(|key| super::user_hash(&key, user_id)).unwrap_or_default()
    }

    fn user_hash(secret: &str, user_id: &str) -> String {
        hash_on(DESK, secret, user_id)
    }

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
            super::user_hash("Jefe", "what do ya want for nothing?").unwrap_or_default(),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn the_desk_key_is_the_documented_formula() {
        // docs/widget.md: deskKey = hex(HMAC-SHA256(IDENTITY_SECRET, "desk:" + desk)); the hash is
        // HMAC-SHA256 keyed with that hex text. Pinned, so the snippets there stay right.
        let key = desk_key(SECRET, DESK).unwrap_or_default();
        assert_eq!(key, super::user_hash(SECRET, "desk:acme").unwrap_or_default());
        assert_eq!(key.len(), 64);
        assert_eq!(user_hash(SECRET, "customer-42"), super::user_hash(&key, "customer-42").unwrap_or_default());
    }

    #[test]
    fn a_claim_with_the_right_hash_is_the_verified_user() {
        let hash = user_hash(SECRET, "customer-42");
        let claim = claim(Some(&offered("customer-42", Some(&hash)))).unwrap().unwrap();
        assert_eq!(verify(claim, Some(SECRET), DESK), Ok("customer-42".to_owned()));
        let upper = claim_of("customer-42", &hash.to_uppercase());
        assert_eq!(verify(upper, Some(SECRET), DESK), Ok("customer-42".to_owned()), "hex in either case");
    }

    fn claim_of(user_id: &str, hash: &str) -> Claim {
        claim(Some(&offered(user_id, Some(hash)))).unwrap().unwrap()
    }

    #[test]
    fn a_hash_for_one_desk_fails_on_every_other() {
        let for_acme = claim_of("customer-42", &hash_on("acme", SECRET, "customer-42"));
        assert_eq!(verify(for_acme.clone(), Some(SECRET), "acme"), Ok("customer-42".to_owned()));
        for other in ["shop", "ACME", "acme-2", "acm", ""] {
            assert!(
                matches!(verify(for_acme.clone(), Some(SECRET), other), Err(HttpError::Unauthorized(_))),
                "{other}"
            );
        }
        let unbound = claim_of("customer-42", &super::user_hash(SECRET, "customer-42").unwrap_or_default());
        assert!(
            matches!(verify(unbound, Some(SECRET), DESK), Err(HttpError::Unauthorized(_))),
            "the old formula, HMAC(IDENTITY_SECRET, userId), opens nothing"
        );
    }

    #[test]
    fn missing_wrong_or_borrowed_hashes_are_refused() {
        let missing = claim(Some(&offered("customer-42", None))).unwrap().unwrap();
        assert!(matches!(verify(missing, Some(SECRET), DESK), Err(HttpError::Unauthorized(_))));
        let borrowed = claim_of("customer-43", &user_hash(SECRET, "customer-42"));
        assert!(matches!(verify(borrowed, Some(SECRET), DESK), Err(HttpError::Unauthorized(_))));
        let other_secret = claim_of("customer-42", &user_hash("another", "customer-42"));
        assert!(matches!(verify(other_secret, Some(SECRET), DESK), Err(HttpError::Unauthorized(_))));
        let truncated = claim_of("customer-42", &user_hash(SECRET, "customer-42")[..62]);
        assert!(matches!(verify(truncated, Some(SECRET), DESK), Err(HttpError::Unauthorized(_))));
        let garbage = claim_of("customer-42", "zz");
        assert!(matches!(verify(garbage, Some(SECRET), DESK), Err(HttpError::Unauthorized(_))));
    }

    #[test]
    fn without_a_secret_no_claim_is_accepted() {
        let good = claim_of("customer-42", &user_hash(SECRET, "customer-42"));
        assert_eq!(verify(good.clone(), None, DESK), Err(HttpError::IdentityDisabled));
        assert_eq!(verify(good, Some(""), DESK), Err(HttpError::IdentityDisabled));
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
