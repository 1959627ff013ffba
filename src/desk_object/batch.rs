//! Group commit: frames are handled in batches, so one commit (one fsync) covers many messages.
//!
//! Why: workerd commits a Durable Object's implicit transaction once per event, after the event's
//! synchronous run. Handled one per event, each message paid a commit of its own: under load
//! (64 in flight) strace counted one `fsync` and ~18 page writes per message, the larger part of
//! the CPU a message costs (docs/performance.md, "Group commit").
//!
//! How: a frame is queued (`enqueue`); the first frame of a batch asks for a handler after a
//! zero-delay timer. The runtime delivers the frames it already holds before a timer fires, so by
//! then the queue holds every frame that arrived meanwhile; `drain` handles them in order in one
//! synchronous run, one implicit transaction. Nothing changes for durability: each frame's writes
//! still come before its sends, and the output gate holds every ack until the commit is durable.
//! A frame queued when the object dies was never acked, like a frame still on the wire: the
//! client resends it (clientMsgId makes that safe). Every other event (connect, close, error,
//! alarm) first drains the queue, so events are handled in the order they arrived.
//!
//! A frame that comes alone (nothing queued, the previous frame `ALONE_MS` or more before it) is
//! handled at once in its own event, as before batching: at a low rate a batch holds that one
//! frame anyway, and the timer's event, task and promise were pure cost (docs/performance.md,
//! "The message path at a low rate"). The first frame of a burst is handled alone; the frames
//! right behind it queue and share commits.

use worker::{console_error, WebSocket, WebSocketIncomingMessage};

use super::Desk;

/// At most this many frames per deferred run (one commit): a backlog is handled in bounded runs,
/// each ~10 ms of the desk's thread at most, so a connect or a close waits behind one run, not
/// behind the whole backlog. One fsync per 64 messages is already a small share of their cost.
pub(super) const BATCH: usize = 64;

/// A frame that arrives this long (ms) after the one before it, with nothing queued, is handled
/// in its own event instead of after a timer: at a low rate a batch would hold that one frame,
/// and the timer's extra event and promise cost more than the commit it could share.
pub(super) const ALONE_MS: i64 = 2;

impl Desk {
    /// Whether a frame arriving `now` comes alone: nothing queued, and the previous frame at least
    /// `ALONE_MS` before it. Remembers `now` as the latest arrival either way.
    pub(super) fn alone(&self, now: i64) -> bool {
        let before = self.last_frame_at.replace(now);
        self.frames.borrow().is_empty() && now - before >= ALONE_MS
    }

    /// Queues a frame; `true`: the queue was empty, so the caller must arrange a `drain`.
    pub(super) fn enqueue(&self, ws: WebSocket, message: WebSocketIncomingMessage) -> bool {
        let mut frames = self.frames.borrow_mut();
        frames.push_back((ws, message));
        frames.len() == 1
    }

    /// Handles every queued frame, in arrival order, synchronously; returns when the alarm must
    /// fire by (a snooze ending), which the caller sees to.
    pub(super) fn drain(&self) -> Vec<i64> {
        self.drain_up_to(usize::MAX)
    }

    /// `drain`, for at most `limit` frames.
    pub(super) fn drain_up_to(&self, limit: usize) -> Vec<i64> {
        let mut wake = Vec::new();
        for _ in 0..limit {
            // The borrow ends before the frame is handled: handling never queues, but stays safe.
            let next = self.frames.borrow_mut().pop_front();
            let Some((ws, message)) = next else {
                return wake;
            };
            match self.on_message(&ws, message) {
                Ok(times) => wake.extend(times),
                Err(err) => console_error!("desk: frame failed: {err}"),
            }
        }
        wake
    }

    /// Frames are still queued.
    pub(super) fn queued(&self) -> bool {
        !self.frames.borrow().is_empty()
    }
}
