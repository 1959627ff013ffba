//! A desk's saved replies (canned responses): every agent lists and uses them; the owner and
//! admins, who already manage the team (`team.rs`), create, edit and delete them. Bounded: at
//! most `MAX_SAVED_REPLIES`, each short (`protocol::saved_replies`), shortcuts unique.

use super::{send, Agent, Audience, Effect, Fresh, View, Write};
use crate::error::FrameError;
use crate::protocol::saved_replies::{check, SavedReply, MAX_SAVED_REPLIES};
use crate::protocol::{Outbound, Role};

/// Whether `role` may create, edit and delete saved replies.
pub fn may_manage(role: Role) -> bool {
    matches!(role, Role::Owner | Role::Admin)
}

/// The list, to the agent who asked.
pub(super) fn list(view: &dyn View) -> Vec<Effect> {
    vec![send(Audience::Sender, Outbound::Replies { replies: view.saved_replies() })]
}

fn manager(agent: &Agent) -> Result<(), FrameError> {
    if may_manage(agent.role) {
        Ok(())
    } else {
        Err(FrameError::Forbidden("only the owner and admins manage saved replies"))
    }
}

/// The list after `write`, to every agent.
fn changed(view: &dyn View, write: Write) -> Vec<Effect> {
    let mut replies = view.saved_replies();
    match &write {
        Write::SaveReply { reply } => {
            replies.retain(|r| r.id != reply.id);
            replies.push((**reply).clone());
        }
        Write::DeleteReply { id } => replies.retain(|r| r.id != *id),
        _ => {}
    }
    super::sort_short(&mut replies, |a, b| a.shortcut < b.shortcut);
    vec![Effect::Store(write), send(Audience::Admins, Outbound::Replies { replies })]
}

/// A `save_reply` frame's fields.
pub struct Draft {
    pub id: Option<String>,
    pub title: String,
    pub shortcut: String,
    pub text: String,
}

/// Creates (`id: None`) or edits a saved reply.
pub(super) fn save(
    agent: &Agent,
    draft: Draft,
    view: &dyn View,
    now: i64,
    fresh: &mut dyn Fresh,
) -> Result<Vec<Effect>, FrameError> {
    manager(agent)?;
    let Draft { id, title, shortcut, text } = draft;
    let shortcut = check(&title, &shortcut, &text)?;
    let replies = view.saved_replies();
    if let Some(id) = &id {
        if !replies.iter().any(|r| r.id == *id) {
            return Err(FrameError::UnknownReply);
        }
    } else if replies.len() >= MAX_SAVED_REPLIES {
        return Err(FrameError::TooMany("a desk keeps at most 50 saved replies: delete one first"));
    }
    if replies.iter().any(|r| r.shortcut == shortcut && Some(&r.id) != id.as_ref()) {
        return Err(FrameError::BadFrame(format!("another saved reply has the shortcut /{shortcut}")));
    }
    let id = id.unwrap_or_else(|| fresh.id());
    let reply = SavedReply { id, title: title.trim().to_owned(), shortcut, text, updated_at: now };
    Ok(changed(view, Write::SaveReply { reply: Box::new(reply) }))
}

pub(super) fn delete(agent: &Agent, id: String, view: &dyn View) -> Result<Vec<Effect>, FrameError> {
    manager(agent)?;
    if !view.saved_replies().iter().any(|r| r.id == id) {
        return Err(FrameError::UnknownReply);
    }
    Ok(changed(view, Write::DeleteReply { id }))
}
