//! Admission of a visitor socket: who it is (a verified identity, a token this desk issued, or
//! someone new) and whether the desk lets it in now (sockets per visitor; for someone new, the
//! deployment-wide limit of new visitors per address and network, which the glue asks of the
//! network's `Limiter`). Pure: the glue hands in what the request said and performs the writes.

use super::{default_name, Conversation, Fresh, View, Write};
use crate::auth::{new_token, token_hash};
use crate::error::HttpError;
use crate::identity;
use crate::limits::network::Network;
use crate::limits::Limits;
use crate::protocol::{visitor_name, Author};

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
    /// The client's network (`None`: unknown, only in local runs).
    pub network: Option<&'a Network>,
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
    /// Someone new and anonymous: before any write, the network's `Limiter` must let a new
    /// visitor in from this address (refused: 429 `rate_limited`, nothing written).
    pub ask_network: Option<Network>,
    /// A returning visitor whose conversation an agent took up or answered: its address has a
    /// history of real conversations (the higher tier of new visitors).
    pub trust_network: Option<Network>,
}

/// Decides a visitor's upgrade. Checked in order: the name, an identity claim (a claim that
/// fails is refused, never treated as anonymous), a presented token (one this desk did not issue
/// is 401), the visitor's open sockets; someone new and anonymous is then let in only if the
/// network's `Limiter` agrees (`ask_network`). Nothing is written for a refusal.
pub fn visitor(
    request: &VisitorRequest,
    limits: &Limits,
    view: &dyn View,
    _now: i64,
    fresh: &mut dyn Fresh,
) -> Result<AdmittedVisitor, HttpError> {
    let name = match request.name.map(visitor_name) {
        Some(None) => return Err(HttpError::BadRequest("name must be 1 to 64 characters without control characters")),
        Some(name) => name,
        None => None,
    };
    let verified =
        identity::claim(request.protocols)?.map(|c| identity::verify(c, request.identity_secret)).transpose()?;
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
        // An agent took it up (replying assigns it) or answered it: people talked here.
        let engaged =
            conversation.assignee.is_some() || conversation.last.as_ref().is_some_and(|l| l.sender == Author::Admin);
        let trust_network = request.network.filter(|_| engaged).cloned();
        return Ok(AdmittedVisitor { conversation, token, returning: true, writes, ask_network: None, trust_network });
    }
    // A visitor the host site vouched for is not an anonymous flood: not counted.
    let ask_network = request.network.filter(|_| verified.is_none() && limits.new_visitors.enabled()).cloned();
    let user_id = fresh.id();
    let token = new_token(&fresh.secret());
    let name = name.unwrap_or_else(|| default_name(&user_id));
    let mut conversation = Conversation::new(user_id.clone(), name.clone());
    conversation.verified_id = verified.clone();
    let writes =
        vec![Write::CreateVisitor { user_id, token_hash: token_hash(&token), name, verified_id: verified.clone() }];
    let token = if verified.is_some() { String::new() } else { token };
    Ok(AdmittedVisitor { conversation, token, returning: false, writes, ask_network, trust_network: None })
}
