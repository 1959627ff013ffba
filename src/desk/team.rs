//! The team: who signs in as which agent, display names, invites, the member list, revocation.
//!
//! Rights: everyone answers and may list the team; the owner and admins invite and revoke; an
//! admin only agents, the owner anyone but itself. Secrets (invite codes, agent tokens) are made
//! from the glue's randomness and stored only as SHA-256 hashes.

use super::{send, Audience, Effect, Fresh, View, Write};
use crate::auth::{hex, secret_matches, token_hash};
use crate::error::{FrameError, HttpError};
use crate::json_fields::{self, Fields};
use crate::protocol::{display_name, AgentRow, Me, Outbound, Role};

/// The built-in owner's agent id: `ADMIN_TOKEN` signs in as this agent.
pub const OWNER_ID: &str = "owner";
/// The owner's name until it sets one.
pub const OWNER_DEFAULT_NAME: &str = "Owner";
/// How long an invite code is valid: 7 days.
pub const INVITE_TTL_MS: i64 = 7 * 24 * 3600 * 1000;
/// Shortest `ADMIN_TOKEN` the desk accepts; a shorter one keeps admin access closed.
pub const MIN_ADMIN_TOKEN_CHARS: usize = 32;
/// Failed credentials from one address within the window before it is refused for a while.
pub const MAX_AUTH_FAILURES: u32 = 10;
/// That window.
pub const AUTH_FAILURE_WINDOW_MS: i64 = 10 * 60 * 1000;

/// A member of the team (or a pending invite, not yet accepted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub email: Option<String>,
    pub pending: bool,
    /// Its status is `away` (set by the agent, or by its idle inbox); see `desk::availability`.
    pub away: bool,
}

impl Agent {
    /// The owner as it exists before it ever set a name.
    pub fn owner(name: Option<String>) -> Self {
        Agent {
            id: OWNER_ID.into(),
            name: name.unwrap_or_else(|| OWNER_DEFAULT_NAME.into()),
            role: Role::Owner,
            email: None,
            pending: false,
            away: false,
        }
    }

    pub fn me(&self) -> Me {
        Me { agent_id: self.id.clone(), name: self.name.clone(), role: self.role, away: self.away }
    }
}

/// A pending agent and its one-time code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invite {
    pub agent: Agent,
    pub code_hash: String,
    pub expires_at: i64,
}

/// Most rows one rename re-sends (the conversations assigned to the agent, newest first); an
/// older one shows the new name when it is next sent or listed.
pub const RENAME_ROWS: u32 = 200;

/// Renames the signed-in agent. The rows of the conversations assigned to it change (their
/// `assigneeName`), so every admin socket gets them.
pub(super) fn profile(agent: &super::Agent, name: &str, view: &dyn View) -> Result<Vec<Effect>, FrameError> {
    let name = display_name(name).map_err(|e| FrameError::BadFrame(e.message().into()))?;
    let me = Me { agent_id: agent.id.clone(), name: name.clone(), role: agent.role, away: agent.away };
    let mut effects = vec![
        Effect::Store(Write::Profile { agent_id: agent.id.clone(), name: name.clone() }),
        send(Audience::Sender, Outbound::Profile { me }),
    ];
    for conversation in view.assigned_to(&agent.id, RENAME_ROWS) {
        let mut row = super::row(view, &conversation);
        row.assignee_name = Some(name.clone());
        effects.push(send(Audience::Admins, Outbound::User { user: row }));
    }
    Ok(effects)
}

fn may_manage(by: Role, target: Role) -> bool {
    match by {
        Role::Owner => target != Role::Owner,
        Role::Admin => target == Role::Agent,
        Role::Agent => false,
    }
}

pub(super) fn invite(
    by: &Agent,
    name: &str,
    invited: Role,
    email: Option<String>,
    view: &dyn View,
    now: i64,
    fresh: &mut dyn Fresh,
) -> Result<Vec<Effect>, FrameError> {
    if !may_manage(by.role, invited) {
        return Err(FrameError::Forbidden(match by.role {
            Role::Agent => "only the owner and admins invite",
            _ => "admins invite agents; only the owner invites admins",
        }));
    }
    let name = display_name(name).map_err(|e| FrameError::BadFrame(e.message().into()))?;
    let email = match email {
        Some(raw) => Some(
            crate::protocol::valid_email(&raw)
                .ok_or_else(|| FrameError::BadFrame("email must be an address".into()))?,
        ),
        None => None,
    };
    if email.as_deref().is_some_and(|e| view.agents().iter().any(|a| a.email.as_deref() == Some(e))) {
        return Err(FrameError::BadFrame("someone on the team already has that email".into()));
    }
    let code = hex(&fresh.secret());
    let agent = Agent { id: fresh.id(), name, role: invited, email, pending: true, away: false };
    let expires_at = now + INVITE_TTL_MS;
    let invited_frame = Outbound::Invited { agent_id: agent.id.clone(), code: code.clone(), expires_at };
    Ok(vec![
        Effect::Store(Write::Invite { invite: Box::new(Invite { agent, code_hash: token_hash(&code), expires_at }) }),
        send(Audience::Sender, invited_frame),
    ])
}

/// The `agents` frame; `without` leaves out an agent just revoked in this step.
pub fn agents_frame(view: &dyn View, without: Option<&str>) -> Outbound {
    let agents = view
        .agents()
        .into_iter()
        .filter(|a| Some(a.id.as_str()) != without)
        .map(|a| AgentRow {
            online: !a.pending && view.agent_online(&a.id),
            agent_id: a.id,
            name: a.name,
            role: a.role,
            email: a.email,
            pending: a.pending,
            away: a.away,
        })
        .collect();
    Outbound::Agents { agents }
}

/// Revokes an agent (or a pending invite): its token stops working, its sockets close with 4001,
/// and the conversations assigned to it go back to nobody (an event and a row each), so the
/// team sees them as unassigned instead of waiting on someone who left.
pub(super) fn revoke(
    by: &Agent,
    agent_id: &str,
    view: &dyn View,
    now: i64,
    fresh: &mut dyn Fresh,
) -> Result<Vec<Effect>, FrameError> {
    let role = by.role;
    let target = view.agents().into_iter().find(|a| a.id == agent_id).ok_or(FrameError::UnknownAgent)?;
    if !may_manage(role, target.role) {
        return Err(FrameError::Forbidden(match (role, target.role) {
            (Role::Agent, _) => "only the owner and admins revoke",
            (_, Role::Owner) => "the owner cannot be revoked",
            _ => "admins revoke agents; only the owner revokes admins",
        }));
    }
    let (writes, sends) = super::conversation::unassign_all(by, &target, view, now, fresh);
    let mut effects = vec![Effect::Store(Write::Revoke { agent_id: agent_id.to_owned() })];
    effects.extend(writes);
    effects.push(Effect::CloseAgent { agent_id: agent_id.to_owned(), code: 4001, reason: "access revoked" });
    effects.push(send(Audience::Sender, agents_frame(view, Some(agent_id))));
    effects.extend(sends);
    Ok(effects)
}

/// What the glue read for an admin sign-in.
#[derive(Debug, Clone, Default)]
pub struct SignIn<'a> {
    /// `ADMIN_TOKEN` as configured (`None`: unset).
    pub owner_secret: Option<&'a str>,
    /// The credential the request presented (Bearer or subprotocol), if any.
    pub presented: Option<&'a str>,
    /// A ticket the upgrade presented (`support-desk.ticket.…`), if any: then it is the credential.
    pub ticket: Option<&'a str>,
    /// An email the Worker verified through Cloudflare Access, if any.
    pub access_email: Option<&'a str>,
    /// Failed credentials from this client address in the current window.
    pub failures: u32,
    /// When that window ends (for `Retry-After`).
    pub window_ends: i64,
}

/// Who signed in, and what to store for it (an invite accepted through Access).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admitted {
    pub agent: Agent,
    pub writes: Vec<Write>,
}

/// A refused sign-in; `failed` when it counts against the address (a wrong credential).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub error: HttpError,
    pub failed: bool,
}

/// Decides an admin sign-in. Checked in this order: admin access configured (503), the address
/// not throttled (429, even for a right credential, so guessing cannot go on), then the
/// credential: a ticket (used up by this sign-in; its agent must still be active), Access email,
/// `ADMIN_TOKEN`, an agent's own token. A refused ticket is not counted as a guess: 256 random
/// bits are not guessed, and a browser that raced its own ticket must not be throttled.
pub fn sign_in(s: &SignIn, view: &dyn View, now: i64, fresh: &mut dyn Fresh) -> Result<Admitted, Refused> {
    let refuse = |error, failed| Refused { error, failed };
    let owner_secret = s.owner_secret.filter(|t| !t.is_empty()).ok_or(refuse(HttpError::AdminDisabled, false))?;
    if owner_secret.chars().count() < MIN_ADMIN_TOKEN_CHARS {
        return Err(refuse(HttpError::WeakAdminToken, false));
    }
    if s.failures >= MAX_AUTH_FAILURES {
        let retry_after_ms = (s.window_ends - now).max(1000) as u64;
        return Err(refuse(HttpError::TooManyFailures { retry_after_ms }, false));
    }
    if let Some(presented) = s.ticket {
        let ticket = super::ticket::redeem(presented, view, now);
        let agent = match ticket.as_ref().map(|t| &t.holder) {
            Some(super::ticket::Holder::Agent { id }) => view.agent(id),
            _ => None,
        };
        let (Some(ticket), Some(agent)) = (ticket, agent) else {
            return Err(refuse(super::ticket::REFUSED, false));
        };
        return Ok(Admitted { agent, writes: vec![Write::ConsumeTicket { hash: ticket.hash }] });
    }
    if let Some(email) = s.access_email {
        if let Some(agent) = view.agent_by_email(email) {
            return Ok(Admitted { agent, writes: vec![] });
        }
        let Some(invite) = view.invite_by_email(email).filter(|i| i.expires_at > now) else {
            return Err(refuse(HttpError::Unauthorized("no agent of this desk has that Access email"), true));
        };
        // Signed in through Access: an own token is never needed, so it gets one nobody knows.
        let token_hash = token_hash(&hex(&fresh.secret()));
        let agent = Agent { pending: false, ..invite.agent.clone() };
        let write = Write::Accept {
            agent_id: agent.id.clone(),
            name: agent.name.clone(),
            code_hash: invite.code_hash,
            token_hash,
        };
        return Ok(Admitted { agent, writes: vec![write] });
    }
    let presented = s.presented.ok_or(refuse(HttpError::Unauthorized("admin credential required"), false))?;
    if secret_matches(presented, owner_secret) {
        let owner = view.agent(OWNER_ID).unwrap_or_else(|| Agent::owner(None));
        return Ok(Admitted { agent: owner, writes: vec![] });
    }
    match view.agent_by_token(&token_hash(presented)) {
        Some(agent) => Ok(Admitted { agent, writes: vec![] }),
        None => Err(refuse(HttpError::Unauthorized("wrong admin credential"), true)),
    }
}

/// What an invited person sends to join: `{"code","name"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptBody {
    pub code: String,
    pub name: String,
}

impl AcceptBody {
    /// The body (by `json_fields`, refusing what the derive refused).
    pub fn read(text: &str) -> Result<AcceptBody, json_fields::Refused> {
        let mut f = Fields::parse_struct(text, &[("code", false), ("name", false)])?;
        Ok(AcceptBody { code: f.str("code")?, name: f.str("name")? })
    }
}

/// The answer to an accepted invite: the agent and its own token, shown once.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Accepted {
    pub agent_id: String,
    pub name: String,
    pub role: Role,
    pub token: String,
}

/// Accepts an invite: a known, unexpired, unused code and a name give the agent its token.
pub fn accept(body: &str, view: &dyn View, now: i64, fresh: &mut dyn Fresh) -> Result<(Write, Accepted), HttpError> {
    let body = (body.len() <= 2048)
        .then(|| AcceptBody::read(body).ok())
        .flatten()
        .ok_or(HttpError::BadRequest("the body must be {\"code\": \"...\", \"name\": \"...\"}"))?;
    let name = display_name(&body.name).map_err(|e| HttpError::BadRequest(e.message()))?;
    let code_hash = token_hash(&body.code);
    let invite = view
        .invite(&code_hash)
        .filter(|i| i.expires_at > now)
        .ok_or(HttpError::Unauthorized("this invite was already used, has expired or does not exist"))?;
    let token = hex(&fresh.secret());
    let accepted = Accepted {
        agent_id: invite.agent.id.clone(),
        name: name.clone(),
        role: invite.agent.role,
        token: token.clone(),
    };
    let write = Write::Accept { agent_id: invite.agent.id, name, code_hash, token_hash: token_hash(&token) };
    Ok((write, accepted))
}
