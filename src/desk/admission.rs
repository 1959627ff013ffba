//! Admission of a visitor socket: who it is (a verified identity, a token this desk issued, or
//! someone new) and whether the desk lets it in now (sockets per visitor, new visitors per
//! address). Pure: the glue hands in what the request said and performs the writes.

use super::{default_name, Conversation, Fresh, View, Write};
use crate::auth::{new_token, token_hash};
use crate::error::HttpError;
use crate::identity;
use crate::limits::Limits;
use crate::protocol::display_name;

/// What a visitor's upgrade request says.
#[derive(Debug, Clone, Default)]
pub struct VisitorRequest<'a> {
    /// The `name` query parameter, raw.
    pub name: Option<&'a str>,
    /// The `token` query parameter, raw.
    pub token: Option<&'a str>,
    /// The `Sec-WebSocket-Protocol` header (an identity claim travels there).
    pub protocols: Option<&'a str>,
    /// `IDENTITY_SECRET`, if configured.
    pub identity_secret: Option<&'a str>,
    /// This desk's name: an identity proof is valid on one desk only.
    pub desk: &'a str,
    /// The client address, hashed (`None`: unknown, only in local runs).
    pub address: Option<&'a str>,
}

/// A visitor let in, and what to store for it before the socket opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdmittedVisitor {
    pub conversation: Conversation,
    /// What `welcome.token` carries: the new or presented token, or `""` for a verified visitor
    /// (it proves who it is again on every connect).
    pub token: String,
    /// A visitor this desk knew: it may resume.
    pub returning: bool,
    pub writes: Vec<Write>,
}

/// Decides a visitor's upgrade. Checked in order: the name, an identity claim (a claim that
/// fails is refused, never treated as anonymous), a presented token (one this desk did not issue
/// is 401), the visitor's open sockets, then, for someone new and anonymous, the address's quota.
/// Nothing is written for a refusal.
pub fn visitor(
    request: &VisitorRequest,
    limits: &Limits,
    view: &dyn View,
    now: i64,
    fresh: &mut dyn Fresh,
) -> Result<AdmittedVisitor, HttpError> {
    // Checked first, for everyone: a name that passes for blank, for the desk's default or for a
    // verified customer is refused with its reason (`protocol::names`).
    let name = request.name.map(display_name).transpose().map_err(|e| HttpError::BadRequest(e.message()))?;
    let verified = identity::claim(request.protocols)?
        .map(|c| identity::verify(c, request.identity_secret, request.desk))
        .transpose()?;
    let known = match (&verified, request.token) {
        (Some(verified_id), _) => view.visitor_by_verified_id(verified_id),
        (None, Some(token)) => Some(
            view.visitor_by_token(&token_hash(token))
                .ok_or(HttpError::Unauthorized("this desk did not issue that token"))?,
        ),
        (None, None) => None,
    };
    if let Some(mut conversation) = known {
        if view.open_sockets(&conversation.user_id) >= limits.sockets_per_visitor {
            return Err(HttpError::TooManySockets);
        }
        let writes = vec![Write::TouchVisitor { user_id: conversation.user_id.clone(), name: name.clone() }];
        if let Some(name) = name {
            conversation.name = name;
        }
        let token = if verified.is_some() { String::new() } else { request.token.unwrap_or_default().to_owned() };
        return Ok(AdmittedVisitor { conversation, token, returning: true, writes });
    }
    let mut writes = Vec::new();
    // A visitor the host site vouched for is not an anonymous flood: not counted.
    if let (None, Some(address), true) = (&verified, request.address, limits.new_visitors_per_ip > 0) {
        let (period, _) = limits.window(now);
        limits
            .may_create_visitor(view.births(address, period), now)
            .map_err(|retry_after_ms| HttpError::RateLimited { retry_after_ms })?;
        writes.push(Write::CountBirth { address: address.to_owned(), period });
    }
    let user_id = fresh.id();
    let token = new_token(&fresh.secret());
    let name = name.unwrap_or_else(|| default_name(&user_id));
    let mut conversation = Conversation::new(user_id.clone(), name.clone());
    conversation.verified_id = verified.clone();
    writes.insert(
        0,
        Write::CreateVisitor { user_id, token_hash: token_hash(&token), name, verified_id: verified.clone() },
    );
    let token = if verified.is_some() { String::new() } else { token };
    Ok(AdmittedVisitor { conversation, token, returning: false, writes })
}
