//! Credentials: visitor tokens (random, stored only as a SHA-256 hash) and the admin secret.
//!
//! Pure functions; the randomness for new tokens is passed in by the glue.

use sha2::{Digest, Sha256};

/// The subprotocol a client offers (and the server selects) for this wire contract.
pub const SUBPROTOCOL: &str = "support-desk.v1";
/// Prefix of the subprotocol that carries the admin secret from a browser, hex-encoded. Still
/// accepted for old clients; the shipped inbox presents a ticket instead (the header is logged).
pub const TOKEN_SUBPROTOCOL_PREFIX: &str = "support-desk.token.";
/// Prefix of the subprotocol that carries a ticket (`desk::ticket`): what browsers present.
pub const TICKET_SUBPROTOCOL_PREFIX: &str = "support-desk.ticket.";

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 0xf) as usize] as char);
    }
    out
}

/// Bytes of a hex string (either case); `None` if it is not hex of whole bytes.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    // `from_str_radix` alone would also take a sign ("+f"): only hex digits are hex.
    if !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| s.get(i..i + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok())).collect()
}

/// What the desk stores for a visitor token: its SHA-256, hex. A leaked database holds no token.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// A new visitor token from 32 random bytes (256 bits).
pub fn new_token(random: &[u8; 32]) -> String {
    hex(random)
}

/// Compares a presented secret with the configured one without leaking, through timing, how
/// much of it matched: both are hashed to fixed length first, then compared in full.
pub fn secret_matches(presented: &str, configured: &str) -> bool {
    let a = Sha256::digest(presented.as_bytes());
    let b = Sha256::digest(configured.as_bytes());
    a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The admin secret a request presents: `Authorization: Bearer <secret>`, or (browsers, which
/// cannot set headers on a WebSocket) a `support-desk.token.<hex>` subprotocol.
pub fn presented_admin_secret(authorization: Option<&str>, protocols: Option<&str>) -> Option<String> {
    if let Some(value) = authorization {
        let mut parts = value.trim().splitn(2, ' ');
        if parts.next().is_some_and(|scheme| scheme.eq_ignore_ascii_case("bearer")) {
            if let Some(secret) = parts.next().map(str::trim).filter(|s| !s.is_empty()) {
                return Some(secret.to_owned());
            }
        }
    }
    protocols?
        .split(',')
        .filter_map(|p| p.trim().strip_prefix(TOKEN_SUBPROTOCOL_PREFIX))
        .find_map(|h| unhex(h).and_then(|bytes| String::from_utf8(bytes).ok()))
}

/// The ticket among the offered subprotocols, if any (as presented: `desk::ticket::redeem` checks it).
pub fn presented_ticket(protocols: Option<&str>) -> Option<&str> {
    protocols?.split(',').find_map(|p| p.trim().strip_prefix(TICKET_SUBPROTOCOL_PREFIX))
}

/// Whether the client offered our subprotocol (then the 101 must select it, or browsers fail).
pub fn offers_subprotocol(protocols: Option<&str>) -> bool {
    protocols.is_some_and(|p| p.split(',').any(|x| x.trim() == SUBPROTOCOL))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_and_subprotocol_both_present_the_secret() {
        assert_eq!(presented_admin_secret(Some("Bearer s3cret"), None).as_deref(), Some("s3cret"));
        assert_eq!(presented_admin_secret(Some("bearer  s3cret "), None).as_deref(), Some("s3cret"));
        let offered = format!("{SUBPROTOCOL}, {TOKEN_SUBPROTOCOL_PREFIX}{}", hex(b"s3cret"));
        assert_eq!(presented_admin_secret(None, Some(&offered)).as_deref(), Some("s3cret"));
        assert!(offers_subprotocol(Some(&offered)));
    }

    #[test]
    fn a_ticket_is_read_from_its_subprotocol() {
        let offered = format!("{SUBPROTOCOL}, {TICKET_SUBPROTOCOL_PREFIX}ab12");
        assert_eq!(presented_ticket(Some(&offered)), Some("ab12"));
        assert_eq!(presented_ticket(Some(SUBPROTOCOL)), None);
        assert_eq!(presented_ticket(None), None);
        assert_eq!(presented_admin_secret(None, Some(&offered)), None, "a ticket is not a secret");
    }

    #[test]
    fn malformed_credentials_present_nothing() {
        assert_eq!(presented_admin_secret(Some("Basic abc"), None), None);
        assert_eq!(presented_admin_secret(Some("Bearer "), None), None);
        assert_eq!(presented_admin_secret(None, Some("support-desk.token.zz")), None);
        assert_eq!(presented_admin_secret(None, Some("support-desk.token.abc")), None);
        assert_eq!(presented_admin_secret(None, None), None);
        assert!(!offers_subprotocol(Some("chat")));
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(secret_matches("abc", "abc"));
        assert!(!secret_matches("abc", "abd"));
        assert!(!secret_matches("", "abc"));
        assert!(!secret_matches("abcd", "abc"));
    }

    #[test]
    fn tokens_are_stored_as_hashes() {
        let token = new_token(&[7u8; 32]);
        assert_eq!(token.len(), 64);
        let hash = token_hash(&token);
        assert_eq!(hash.len(), 64);
        assert_ne!(hash, token);
        assert_eq!(hash, token_hash(&token));
    }
}
