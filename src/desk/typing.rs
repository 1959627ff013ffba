//! "Typing…": a visitor's goes to every agent, an agent's to that visitor (as its name) and to
//! the other agents (so two agents do not answer at once). Never stored: a `typing` frame is
//! forwarded or dropped, nothing else.
//!
//! Throttled by typist, not by socket: a visitor (all its tabs together) or an agent (all its
//! inbox tabs, whatever the conversation) gets at most one frame forwarded per `TYPING_EVERY_MS`;
//! the rest are dropped quietly (no error: a client that types fast is not wrong). So no socket
//! forwards more than one per period. Each frame was admitted by the sender's rate limit first,
//! like any frame: one every 2 s is a quarter of a visitor's refill, so typing as documented never
//! makes a visitor `rate_limited`. When the last forward was is the glue's memory (`Throttle`): a
//! new instance forgets it, which lets at most one frame per typist through early.

use std::collections::HashMap;

use super::{send, Agent, Audience, Effect, View};
use crate::error::FrameError;
use crate::protocol::{Outbound, TYPING_EVERY_MS};

/// Who is typing, as the throttle counts: a visitor, or an agent whatever the conversation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Typist {
    Visitor(String),
    Agent(String),
}

/// Whether a frame of a typist last forwarded at `last` may be forwarded at `now`. A clock that
/// steps back keeps the typist waiting rather than letting a burst through.
pub fn due(last: Option<i64>, now: i64) -> bool {
    last.is_none_or(|at| now - at >= TYPING_EVERY_MS)
}

/// A visitor types: every agent learns it for this conversation. A visitor who never wrote has
/// no row in any inbox, so nothing is sent for it (as for presence).
pub(super) fn visitor(user_id: &str, view: &dyn View, now: i64) -> Result<Vec<Effect>, FrameError> {
    let conversation = view.conversation(user_id).ok_or(FrameError::UnknownUser)?;
    let typist = Typist::Visitor(user_id.to_owned());
    if conversation.last.is_none() || !due(view.typed_at(&typist), now) {
        return Ok(Vec::new());
    }
    let frame = Outbound::Typing { user_id: Some(user_id.to_owned()), agent_id: None, agent_name: None };
    Ok(vec![Effect::Typed(typist, now), send(Audience::Admins, frame)])
}

/// An agent types a reply to `user_id`: it needs the right to reply there (the conversation
/// exists, as for a reply). The visitor's sockets get the agent's name only; the other agent
/// sockets get who, for which conversation.
pub(super) fn agent(agent: &Agent, user_id: &str, view: &dyn View, now: i64) -> Result<Vec<Effect>, FrameError> {
    view.conversation(user_id).ok_or(FrameError::UnknownUser)?;
    let typist = Typist::Agent(agent.id.clone());
    if !due(view.typed_at(&typist), now) {
        return Ok(Vec::new());
    }
    let to_visitor = Outbound::Typing { user_id: None, agent_id: None, agent_name: Some(agent.name.clone()) };
    let to_agents = Outbound::Typing {
        user_id: Some(user_id.to_owned()),
        agent_id: Some(agent.id.clone()),
        agent_name: Some(agent.name.clone()),
    };
    Ok(vec![
        Effect::Typed(typist, now),
        send(Audience::Visitor(user_id.to_owned()), to_visitor),
        send(Audience::AdminOthers, to_agents),
    ])
}

/// When each typist's last frame was forwarded: memory only, bounded. Entries older than the
/// period are useless; they are forgotten whenever the map has doubled since it was last pruned,
/// so it holds about the typists of the last two seconds at a constant cost per frame.
#[derive(Debug, Clone)]
pub struct Throttle {
    last: HashMap<Typist, i64>,
    prune_at: usize,
}

/// Below this many typists none are forgotten.
const PRUNE_FLOOR: usize = 1024;

impl Default for Throttle {
    fn default() -> Self {
        Throttle { last: HashMap::new(), prune_at: PRUNE_FLOOR }
    }
}

impl Throttle {
    pub fn get(&self, typist: &Typist) -> Option<i64> {
        self.last.get(typist).copied()
    }

    /// A frame of `typist` was forwarded at `at` (the core's `Effect::Typed`).
    pub fn record(&mut self, typist: Typist, at: i64) {
        if self.last.len() >= self.prune_at && !self.last.contains_key(&typist) {
            self.last.retain(|_, last| !due(Some(*last), at));
            self.prune_at = (self.last.len() * 2).max(PRUNE_FLOOR);
        }
        self.last.insert(typist, at);
    }

    pub fn len(&self) -> usize {
        self.last.len()
    }

    pub fn is_empty(&self) -> bool {
        self.last.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_frame_per_period_and_a_clock_stepping_back_lets_none_through() {
        assert!(due(None, 0));
        assert!(!due(Some(1_000), 2_999));
        assert!(due(Some(1_000), 3_000));
        assert!(!due(Some(5_000), 1_000));
    }

    #[test]
    fn the_throttle_forgets_typists_whose_period_is_over_and_stays_bounded() {
        let mut t = Throttle::default();
        for i in 0..10_000 {
            // ten typists a millisecond, all within one period: every one is still throttled
            t.record(Typist::Visitor(format!("v{i}")), i / 10);
        }
        assert_eq!(t.len(), 10_000);
        let mut t = Throttle::default();
        for i in 0..100_000 {
            t.record(Typist::Visitor(format!("v{i}")), i * 10);
        }
        assert!(t.len() <= 2 * PRUNE_FLOOR, "old typists are forgotten: {}", t.len());
        assert_eq!(t.get(&Typist::Visitor("v99999".into())), Some(999_990));
    }
}
