//! Admission of a visitor socket: who it is (a verified identity, a token this desk issued, or
//! someone new) and whether the desk lets it in now (sockets per visitor; for someone new, the
//! deployment-wide limit of new visitors per address and network, which the glue asks of the
//! network's `Limiter`). Pure: the glue hands in what the request said and performs the writes.

use super::ticket::{self, Holder};
use super::{default_name, Conversation, Fresh, View, Write};
use crate::auth::{new_token, token_hash};
use crate::error::HttpError;
use crate::identity;
use crate::limits::network::Network;
use crate::limits::Limits;
use crate::protocol::{display_name, Author, Status};

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
    /// The client's network (`None`: unknown, only in local runs).
    pub network: Option<&'a Network>,
    /// A ticket presented in the subprotocol (`support-desk.ticket.…`), raw.
    pub ticket: Option<&'a str>,
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

/// Who an upgrade says it is, from a ticket or from the request itself.
struct Claimed {
    name: Option<String>,
    verified: Option<String>,
    /// The visitor this desk already knows, if any.
    known: Option<Conversation>,
    /// What `welcome.token` carries for a returning anonymous visitor: the token it presented
    /// (`""` when it presented a ticket: it holds its token already, and the desk keeps only a hash).
    token: String,
    /// The ticket to use up, if one was presented.
    consume: Option<Write>,
}

/// A presented ticket decides everything (its holder and name, checked at issue); the `token`,
/// `name` and identity of the request are then ignored.
fn claimed(request: &VisitorRequest, view: &dyn View, now: i64) -> Result<Claimed, HttpError> {
    if let Some(presented) = request.ticket {
        let ticket = ticket::redeem(presented, view, now).ok_or(ticket::REFUSED)?;
        let (verified, known) = match &ticket.holder {
            Holder::Visitor { user_id } => (None, Some(view.conversation(user_id).ok_or(ticket::REFUSED)?)),
            Holder::Verified { id } => (Some(id.clone()), view.visitor_by_verified_id(id)),
            Holder::NewVisitor => (None, None),
            Holder::Agent { .. } => return Err(ticket::REFUSED),
        };
        let consume = Some(Write::ConsumeTicket { hash: ticket.hash });
        return Ok(Claimed { name: ticket.name, verified, known, token: String::new(), consume });
    }
    // A name that passes for blank, for the desk's default or for a verified customer is refused
    // with its reason (`protocol::names`).
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
    let token = if verified.is_some() { String::new() } else { request.token.unwrap_or_default().to_owned() };
    Ok(Claimed { name, verified, known, token, consume: None })
}

/// Decides a visitor's upgrade. Checked in order: a ticket (unknown, used or expired is 401), or
/// else the name, an identity claim (a claim that fails is refused, never treated as anonymous)
/// and a presented token (one this desk did not issue is 401); then a blocked visitor (403), the
/// visitor's open sockets; someone new and anonymous is then let in only if the network's
/// `Limiter` agrees (`ask_network`, asked by the glue before any write). Nothing is written for a
/// refusal; a ticket is used up only by an upgrade that is let in.
pub fn visitor(
    request: &VisitorRequest,
    limits: &Limits,
    view: &dyn View,
    now: i64,
    fresh: &mut dyn Fresh,
) -> Result<AdmittedVisitor, HttpError> {
    let Claimed { name, verified, known, token, consume } = claimed(request, view, now)?;
    let mut writes: Vec<Write> = consume.into_iter().collect();
    if let Some(mut conversation) = known {
        if conversation.status == Status::Blocked {
            return Err(HttpError::Blocked);
        }
        if view.open_sockets(&conversation.user_id) >= limits.sockets_per_visitor {
            return Err(HttpError::TooManySockets);
        }
        writes.push(Write::TouchVisitor { user_id: conversation.user_id.clone(), name: name.clone() });
        if let Some(name) = name {
            conversation.name = name;
        }
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
    writes.push(Write::CreateVisitor { user_id, token_hash: token_hash(&token), name, verified_id: verified.clone() });
    let token = if verified.is_some() { String::new() } else { token };
    Ok(AdmittedVisitor { conversation, token, returning: false, writes, ask_network, trust_network: None })
}
