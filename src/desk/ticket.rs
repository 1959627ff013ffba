//! Tickets: short-lived, single-use stand-ins for a credential, so that what a browser puts in
//! its WebSocket upgrade (a header that Tail Workers, `wrangler tail` and Workers Logs keep) is
//! worth nothing by the time anyone reads it.
//!
//! A client trades its real credential for a ticket over HTTP (the admin secret or an agent's
//! token in `Authorization`, which logs redact by name; a visitor's token, display name or
//! identity proof in the body, which logs never show), then presents only the ticket in the
//! subprotocol `support-desk.ticket.<ticket>`. Tickets are 256 random bits, stored as SHA-256
//! hashes in the desk's SQLite (so they hold for that desk only, and single use survives the
//! object's eviction), valid `TICKET_TTL_MS` at most, and deleted by the upgrade that uses them.
//! Pure: the glue hands in what the request said and performs the write.

use serde::Serialize;

use super::{Fresh, View, Write};
use crate::auth::{hex, token_hash};
use crate::error::HttpError;
use crate::identity;
use crate::json_fields::{Fields, Refused, Schema};
use crate::protocol::{display_name, Status};

/// Longest a ticket is valid, and the default: 60 s.
pub const TICKET_TTL_MS: i64 = 60_000;
/// Unused, unexpired tickets one client address may hold at once (a real browser asks for one
/// per connect; an office behind one address holds far fewer than this within a minute).
pub const MAX_LIVE_TICKETS_PER_ADDRESS: u32 = 120;
/// Unused, unexpired tickets a desk holds at once: bounds the table whatever the addresses.
pub const MAX_LIVE_TICKETS: u32 = 50_000;
/// Largest body of a visitor's ticket request, in bytes.
pub const MAX_TICKET_BODY_BYTES: usize = 2048;

/// Whom a ticket signs in, decided when it was issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    /// An agent (the owner included), by id: still checked to be active when the ticket is used.
    Agent { id: String },
    /// A returning visitor, who presented its token.
    Visitor { user_id: String },
    /// A customer the host site vouched for (its identity proof checked at issue).
    Verified { id: String },
    /// Someone new: the visitor is created when the ticket is used (new-visitor limits then).
    NewVisitor,
}

/// A ticket as stored: its hash, never the ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub hash: String,
    pub holder: Holder,
    /// The display name a visitor asked for (checked at issue).
    pub name: Option<String>,
    /// The hashed client address it was issued to (`None`: unknown, local runs only).
    pub address: Option<String>,
    pub expires_at: i64,
}

/// The answer to a ticket request: `{"ticket","expiresIn"}` (seconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Issued {
    pub ticket: String,
    pub expires_in: i64,
}

/// How many unused tickets are alive now: for one address, and in the whole desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Live {
    pub address: u32,
    pub desk: u32,
}

/// The ticket lifetime from the `TICKET_TTL_MS` variable: 0 to 60,000 ms; anything else (unset,
/// malformed, longer) is the default, 60 s. 0 makes every ticket expired at once (tests).
pub fn ttl_from_setting(setting: Option<&str>) -> i64 {
    setting
        .and_then(|s| s.trim().parse::<i64>().ok())
        .filter(|ms| (0..=TICKET_TTL_MS).contains(ms))
        .unwrap_or(TICKET_TTL_MS)
}

/// Issues a ticket for `holder`: checks the live-ticket limits, makes the secret, and returns the
/// write that stores its hash with the answer for the client.
pub fn issue(
    holder: Holder,
    name: Option<String>,
    address: Option<&str>,
    ttl_ms: i64,
    view: &dyn View,
    now: i64,
    fresh: &mut dyn Fresh,
) -> Result<(Write, Issued), HttpError> {
    let live = view.live_tickets(address, now);
    if live.desk >= MAX_LIVE_TICKETS || (address.is_some() && live.address >= MAX_LIVE_TICKETS_PER_ADDRESS) {
        // Every live ticket is gone within one lifetime.
        return Err(HttpError::TooManyTickets { retry_after_ms: ttl_ms.max(1000) as u64 });
    }
    let ticket = hex(&fresh.secret());
    let stored = Ticket {
        hash: token_hash(&ticket),
        holder,
        name,
        address: address.map(str::to_owned),
        expires_at: now + ttl_ms,
    };
    let issued = Issued { ticket, expires_in: ttl_ms.div_euclid(1000) };
    Ok((Write::IssueTicket { ticket: Box::new(stored) }, issued))
}

/// What a visitor sends for a ticket (`POST /desks/{desk}/visitor/ticket`), every field optional:
/// `{"token","name","userId","userHash"}`. In the body, never in a URL or a header logs keep.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VisitorTicketRequest {
    pub token: Option<String>,
    pub name: Option<String>,
    pub user_id: Option<String>,
    pub user_hash: Option<String>,
}

impl VisitorTicketRequest {
    /// The body (by `json_fields`, refusing what the derive refused).
    pub fn read(text: &str) -> Result<VisitorTicketRequest, Refused> {
        // `Option`s without `#[serde(default)]`: absent from an object is `None`, but an array
        // must hold all four, as the derive read it.
        const SCHEMA: &Schema = &[("token", false), ("name", false), ("userId", false), ("userHash", false)];
        let mut f = Fields::parse_struct(text, SCHEMA)?;
        Ok(VisitorTicketRequest {
            token: f.opt_str("token")?,
            name: f.opt_str("name")?,
            user_id: f.opt_str("userId")?,
            user_hash: f.opt_str("userHash")?,
        })
    }
}

/// Decides a visitor's ticket request: the name must be a valid display name; an identity claim
/// must verify (it wins over a token, as on the socket); a token must be one this desk issued.
/// Without either, the ticket is for someone new.
// Every argument is one fact the decision needs and the core has no state of its own to hold them.
#[allow(clippy::too_many_arguments)]
pub fn for_visitor(
    body: &str,
    desk: &str,
    identity_secret: Option<&str>,
    address: Option<&str>,
    ttl_ms: i64,
    view: &dyn View,
    now: i64,
    fresh: &mut dyn Fresh,
) -> Result<(Write, Issued), HttpError> {
    let request: VisitorTicketRequest =
        (body.len() <= MAX_TICKET_BODY_BYTES).then(|| VisitorTicketRequest::read(body).ok()).flatten().ok_or(
            HttpError::BadRequest("the body must be {\"token\", \"name\", \"userId\", \"userHash\"} (all optional)"),
        )?;
    // The same rule as on the upgrade: no blank look-alike, default imitation or check mark.
    let name = request.name.as_deref().map(display_name).transpose().map_err(|e| HttpError::BadRequest(e.message()))?;
    let holder = match (request.user_id, request.token) {
        (Some(user_id), _) => {
            let claim = identity::checked_claim(user_id, request.user_hash)?;
            let id = identity::verify(claim, identity_secret, desk)?;
            if view.visitor_by_verified_id(&id).is_some_and(|c| c.status == Status::Blocked) {
                return Err(HttpError::Blocked);
            }
            Holder::Verified { id }
        }
        (None, Some(token)) => {
            let known = view
                .visitor_by_token(&token_hash(&token))
                .ok_or(HttpError::Unauthorized("this desk did not issue that token"))?;
            if known.status == Status::Blocked {
                return Err(HttpError::Blocked);
            }
            Holder::Visitor { user_id: known.user_id }
        }
        (None, None) => Holder::NewVisitor,
    };
    issue(holder, name, address, ttl_ms, view, now, fresh)
}

/// The stored ticket a presented one stands for, if it is unexpired and unused; `None` for
/// anything else (unknown, used, expired, another desk's: the refusal does not say which).
pub fn redeem(presented: &str, view: &dyn View, now: i64) -> Option<Ticket> {
    view.ticket(&token_hash(presented)).filter(|t| t.expires_at > now)
}

/// The refusal for a ticket that [`redeem`] did not find, or that is for the other kind of socket.
pub const REFUSED: HttpError =
    HttpError::Unauthorized("this ticket was already used, has expired or is not for this desk");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lifetime_is_at_most_a_minute() {
        assert_eq!(ttl_from_setting(None), TICKET_TTL_MS);
        assert_eq!(ttl_from_setting(Some("5000")), 5000);
        assert_eq!(ttl_from_setting(Some("0")), 0);
        for bad in ["60001", "-1", "abc", "", "1e3"] {
            assert_eq!(ttl_from_setting(Some(bad)), TICKET_TTL_MS, "{bad}");
        }
    }
}
