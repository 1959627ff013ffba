//! The desk's per-sender frame buckets: a frame is admitted by a token from its sender's bucket
//! (a visitor's, shared by all its sockets; an agent socket's own), and a big answer charges the
//! bucket more. A fourth `impl Desk`, split from `desk_object.rs` along this seam.

use super::Desk;
use crate::desk::Sender;
use crate::limits::{Bucket, Rate};
use crate::sockets::Label;

impl Desk {
    /// Takes a token from the sender's bucket (a visitor's, whatever its socket; an agent
    /// socket's); `Err`: ms until it may send again.
    pub(super) fn admit(&self, label: &Label, now: i64) -> std::result::Result<(), u64> {
        match &label.sender {
            Sender::Visitor { user_id } => self.visitor_buckets.borrow_mut().take(user_id, now),
            Sender::Agent { .. } => self.agent_bucket(label.sid, now, |bucket, rate| bucket.take(rate, now)),
        }
    }

    /// Charges the sender's bucket `cost` tokens more for an answer bigger than its frame's token
    /// pays for (`limits::answer_cost`): the visitor's bucket, whatever its socket, or the agent
    /// socket's. The bucket may go into debt; `admit` then refuses until it is paid back.
    pub(super) fn charge(&self, label: &Label, now: i64, cost: f64) {
        if cost <= 0.0 {
            return;
        }
        match &label.sender {
            Sender::Visitor { user_id } => self.visitor_buckets.borrow_mut().charge(user_id, now, cost),
            Sender::Agent { .. } => self.agent_bucket(label.sid, now, |bucket, rate| bucket.charge(rate, now, cost)),
        }
    }

    /// Runs `f` on the agent socket `sid`'s bucket (full when first used) with the agents' rate.
    fn agent_bucket<R>(&self, sid: u64, now: i64, f: impl FnOnce(&mut Bucket, Rate) -> R) -> R {
        let rate = self.limits.admin;
        f(self.agent_buckets.borrow_mut().entry(sid).or_insert_with(|| Bucket::full(rate, now)), rate)
    }
}
