//! What a desk keeps, and for how long: owners and admins delete a conversation or block a
//! visitor; the storage budget refuses new visitor messages while the desk is full (and tells
//! the admins); retention deletes conversations nobody touched for `RETENTION_DAYS`.
//!
//! Deleting and blocking close the visitor's sockets with [`CLOSE_REMOVED`]: the widget then
//! says the chat was closed and does not reconnect. Retention closes them with
//! [`CLOSE_EXPIRED`]: the widget reconnects, its token is refused, and it starts afresh.

use super::conversation::{begun, set_status};
use super::{send, Agent, Audience, Conversation, Effect, Fresh, StorageUse, View, Write};
use crate::error::FrameError;
use crate::protocol::{Outbound, Role, Status};

/// Close code of a visitor socket whose conversation was deleted or blocked: do not reconnect.
pub const CLOSE_REMOVED: u16 = 4003;
/// Close code of a visitor socket whose conversation expired (retention): reconnect afresh.
pub const CLOSE_EXPIRED: u16 = 4004;
/// Admins are told the desk is full at most this often (and on every admin connect while it is).
pub const STORAGE_WARN_EVERY_MS: i64 = 60_000;
/// Conversations deleted per alarm run at most; more are left for an alarm right after, so a
/// backlog never holds up the desk's other events for long.
pub const RETENTION_SLICE: u32 = 100;

/// Who may delete and block: the owner and admins.
pub fn may_moderate(role: Role) -> bool {
    matches!(role, Role::Owner | Role::Admin)
}

fn moderator(agent: &Agent) -> Result<(), FrameError> {
    if may_moderate(agent.role) {
        Ok(())
    } else {
        Err(FrameError::Forbidden("only the owner and admins delete, block or see blocked visitors"))
    }
}

/// Deletes a visitor and everything of its conversation; its sockets close, every inbox drops
/// the row. Its token is refused from then on (a widget then starts a new conversation).
pub(super) fn delete(agent: &Agent, user_id: &str, view: &dyn View) -> Result<Vec<Effect>, FrameError> {
    moderator(agent)?;
    view.conversation(user_id).ok_or(FrameError::UnknownUser)?;
    Ok(vec![
        Effect::Store(Write::Delete { user_id: user_id.to_owned() }),
        Effect::CloseVisitor { user_id: user_id.to_owned(), code: CLOSE_REMOVED, reason: "conversation deleted" },
        send(Audience::Admins, Outbound::Removed { user_id: user_id.to_owned() }),
    ])
}

/// Blocks a visitor: status `blocked` (out of every view but `blocked`), an event for the team,
/// its sockets closed; admission refuses its token and verified id until someone reopens it.
pub(super) fn block(
    agent: &Agent,
    user_id: &str,
    view: &dyn View,
    now: i64,
    fresh: &mut dyn Fresh,
) -> Result<Vec<Effect>, FrameError> {
    moderator(agent)?;
    let already = begun(view, user_id)?.status == Status::Blocked;
    let mut effects = set_status(agent, user_id, Status::Blocked, None, view, now, fresh)?;
    if !already {
        let at = effects.iter().position(|e| !matches!(e, Effect::Store(_))).unwrap_or(effects.len());
        let close = Effect::CloseVisitor { user_id: user_id.to_owned(), code: CLOSE_REMOVED, reason: "blocked" };
        effects.insert(at, close);
    }
    Ok(effects)
}

/// The frame that tells admins how full the desk is.
pub fn notice(storage: StorageUse) -> Outbound {
    Outbound::Storage {
        full: storage.full(),
        used_bytes: storage.used_bytes,
        budget_bytes: storage.budget_bytes.unwrap_or(0),
    }
}

/// What an admin socket opening now is told: the notice, while the desk is full.
pub fn on_connect(storage: StorageUse) -> Option<Outbound> {
    storage.full().then(|| notice(storage))
}

/// A visitor message refused because the desk is full: `storage_full` to the sender, and the
/// admins told (at most every [`STORAGE_WARN_EVERY_MS`]). Nothing is stored.
pub(super) fn refuse_full(storage: StorageUse, client_msg_id: Option<String>, now: i64) -> Vec<Effect> {
    let mut effects = vec![send(Audience::Sender, Outbound::error(&FrameError::StorageFull, client_msg_id))];
    if storage.warned_at.is_none_or(|at| now - at >= STORAGE_WARN_EVERY_MS || at > now) {
        effects.push(Effect::StorageWarned(now));
        effects.push(send(Audience::Admins, notice(storage)));
    }
    effects
}

/// Before this moment, a conversation untouched since is due; `None`: retention is off.
pub fn retention_cutoff(now: i64, retention_ms: i64) -> Option<i64> {
    (retention_ms > 0).then(|| now.saturating_sub(retention_ms))
}

/// The desk's alarm: of the candidates the store found, each conversation whose latest message is
/// older than the cutoff goes (a visitor who never wrote was chosen by its last visit), with its
/// sockets closed ([`CLOSE_EXPIRED`]) and every inbox told. Writes first, then the rest.
pub fn expire(now: i64, retention_ms: i64, due: Vec<Conversation>) -> Vec<Effect> {
    let Some(cutoff) = retention_cutoff(now, retention_ms) else {
        return Vec::new();
    };
    let (mut writes, mut then) = (Vec::new(), Vec::new());
    for c in due.into_iter().filter(|c| c.last.as_ref().is_none_or(|l| l.at < cutoff)) {
        writes.push(Effect::Store(Write::Delete { user_id: c.user_id.clone() }));
        let reason = "conversation expired";
        then.push(Effect::CloseVisitor { user_id: c.user_id.clone(), code: CLOSE_EXPIRED, reason });
        if c.last.is_some() {
            then.push(send(Audience::Admins, Outbound::Removed { user_id: c.user_id }));
        }
    }
    writes.extend(then);
    writes
}
