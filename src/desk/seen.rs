//! Seen marks, one per side of a conversation, stored so a reload shows the same: the visitor's
//! (`seen`: the highest `seq` its widget has shown on screen) is told to the agents; the agents'
//! is the existing read mark (`read`), told to the visitor.

use super::{send, Audience, Effect, View, Write};
use crate::error::FrameError;
use crate::protocol::Outbound;

/// A visitor has seen its conversation up to `seq`: stored and told to every agent. A mark at or
/// below the stored one changes nothing (marks never go down); one beyond the conversation's
/// latest message is refused.
pub(super) fn visitor(user_id: &str, seq: i64, view: &dyn View) -> Result<Vec<Effect>, FrameError> {
    let conversation = view.conversation(user_id).ok_or(FrameError::UnknownUser)?;
    let latest = conversation.last.as_ref().map_or(0, |l| l.seq);
    if seq > latest {
        return Err(FrameError::BadFrame(format!("seq {seq} is beyond this conversation's latest message ({latest})")));
    }
    if seq <= conversation.seen_seq {
        return Ok(Vec::new());
    }
    Ok(vec![
        Effect::Store(Write::Seen { user_id: user_id.to_owned(), up_to: seq }),
        send(Audience::Admins, Outbound::Seen { user_id: user_id.to_owned(), seq }),
    ])
}

/// An agent read the conversation up to `up_to` (was `before`): the visitor's sockets are told,
/// so its widget marks its messages up to there "Seen".
pub(super) fn told_visitor(user_id: &str, before: i64, up_to: i64) -> Option<Effect> {
    (up_to > before).then(|| send(Audience::Visitor(user_id.to_owned()), Outbound::Read { seq: up_to }))
}
