//! Who is online, as the runtime's sockets last said, remembered per awake instance: the admin's
//! first frame (`users`, up to 501 rows) and `list` pages mark each row online or not, and asking
//! the runtime is one `getWebSockets(userId)` call per row plus a `readyState` per socket.
//!
//! A memo of the runtime's answers, never a copy of anything stored and never a count kept by
//! hand: a visitor's entry is forgotten whenever one of its sockets opens, closes, errs or is
//! closed by the desk (connect, close, error, the sweep, a block), so the next question asks the
//! runtime again. A new instance (after eviction or a restart) starts empty and asks. The
//! runtime's own record stays the truth; this only saves asking it twice for the same answer.
//! Bounded: past [`MAX_KNOWN`] visitors it starts over.
//!
//! The one moment it can differ from asking: a client's close has reached the runtime and its
//! close event has not reached the desk yet. A frame built then says online; the close event
//! follows, forgets the visitor and sends every inbox the row with `online: false`, as it always
//! did, so an inbox is right again at once.

use std::collections::HashMap;

/// Visitors remembered at most (the runtime holds at most 32,768 sockets per object, but rows
/// of visitors long gone are asked about too); past it, everything is forgotten.
pub const MAX_KNOWN: usize = 40_000;

#[derive(Debug, Default)]
pub struct Presence {
    known: HashMap<String, bool>,
}

impl Presence {
    /// Whether `user_id` is online: as remembered, or as `ask` (the runtime) says now.
    pub fn online(&mut self, user_id: &str, ask: impl FnOnce() -> bool) -> bool {
        if let Some(&online) = self.known.get(user_id) {
            return online;
        }
        let online = ask();
        if self.known.len() >= MAX_KNOWN {
            self.known.clear();
        }
        self.known.insert(user_id.to_owned(), online);
        online
    }

    /// One of `user_id`'s sockets opened or closed: ask the runtime next time.
    pub fn forget(&mut self, user_id: &str) {
        self.known.remove(user_id);
    }

    /// A socket whose visitor is not known changed: ask the runtime about everyone.
    pub fn clear(&mut self) {
        self.known.clear();
    }

    /// Visitors remembered now.
    pub fn len(&self) -> usize {
        self.known.len()
    }

    pub fn is_empty(&self) -> bool {
        self.known.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asks_once_until_forgotten() {
        let mut p = Presence::default();
        let mut asked = 0;
        assert!(p.online("a", || {
            asked += 1;
            true
        }));
        assert!(p.online("a", || unreachable!("remembered")));
        p.forget("a");
        assert!(!p.online("a", || {
            asked += 1;
            false
        }));
        assert_eq!(asked, 2);
        p.clear();
        assert!(p.is_empty());
    }

    #[test]
    fn bounded() {
        let mut p = Presence::default();
        for i in 0..MAX_KNOWN + 10 {
            p.online(&i.to_string(), || true);
        }
        assert!(p.len() <= MAX_KNOWN);
    }
}
