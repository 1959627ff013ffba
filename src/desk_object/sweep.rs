//! The desk's alarm: the stale-socket sweep in bounded slices (by sweep group), then retention
//! and snoozes (`upkeep.rs`), webhook deliveries (`webhooks.rs`), Web Push's batches and retries
//! (`push.rs`), and when to run again. A third `impl Desk`, split from `desk_object.rs`.

use worker::{Response, Result};

use super::{now, Desk};
use crate::session::{self, SweepRound};
use crate::sockets::{self, ADMIN_TAG};

/// Sockets the stale-socket sweep looks at per alarm run, at least (whole sweep groups are
/// taken until this many were seen); the rest are left for an alarm right after.
const SWEEP_SLICE: usize = 2000;

impl Desk {
    /// Closes sockets that went silent (their tab is gone but the runtime still lists them), so
    /// presence does not lie; deletes a slice of conversations retention made due; reopens
    /// snoozed conversations whose time has come; re-arms itself for whichever comes first next.
    ///
    /// Sockets are looked at by sweep group (`session::sweep_step`: 32 groups of visitor
    /// sockets, each asked of the runtime by its tag, then the agents' sockets), whole groups
    /// until [`SWEEP_SLICE`] were seen, one slice per run, the next run right after: a desk of
    /// 32k sockets is never held for the whole walk at once, and no run asks for every socket
    /// (that call alone is O(sockets)). A sweep runs when the first socket could go stale
    /// (`session::SweepRound`), not at every alarm. Retention and snoozes run at every alarm
    /// that is not in the middle of a sweep.
    pub(super) async fn on_alarm(&self) -> Result<Response> {
        let now = now();
        let from = self.sweep_from.get() as u64;
        // The sockets are walked when a sweep is due or under way. An alarm that fires before
        // then for other work (an email, a push, a webhook retry: a failing endpoint is retried
        // every second) leaves them alone: a walk per retry would cost a large desk O(sockets)
        // each time. A new instance knows no due time and sweeps.
        let sweep = if from != 0 || self.sweep_due.get().is_none_or(|at| at <= now) {
            self.sweep_slice(now, from)?
        } else {
            self.sweep_due.get()
        };
        self.sweep_due.set(sweep);
        let upkeep = if from == 0 {
            let next = self.upkeep(now)?;
            self.upkeep_next.set(next);
            next
        } else {
            self.upkeep_next.get()
        };
        // Files of conversations deleted (by an agent, or by retention just now) leave R2.
        let more_files = self.purge_attachments().await?;
        // Email: follow-ups and unanswered conversations due now (`mail.rs`); a failure there
        // is logged and retried, never in the way of the sweep.
        let mail = match self.mail_pass(now).await {
            Ok(next) => next,
            Err(e) => {
                worker::console_error!("mail: pass failed: {e}");
                self.mail.as_ref().map(|_| now + 60_000)
            }
        };
        // Webhook deliveries due (a failure here must not stop the sweep: retried next run).
        let webhooks = self.deliver_webhooks(now).await.unwrap_or_else(|e| {
            worker::console_error!("webhook: delivery run failed: {e}");
            Some(now + 1000)
        });
        // Web Push: due batches and pushes (`push.rs`); a failure is logged and retried.
        let push = self.push_due(now).await.unwrap_or_else(|e| {
            worker::console_error!("push: run failed: {e}");
            Some(now + 1000)
        });
        let files = more_files.then_some(now + 1);
        if let Some(at) = [sweep, files, upkeep, mail, webhooks, push].into_iter().flatten().min() {
            self.state.storage().set_alarm((at - now).max(1)).await?;
        }
        self.mail_armed.set(None);
        self.mail_wake.set(None);
        self.sweeping.set(sweep.is_some());
        Response::ok("swept")
    }

    /// One slice of the sweep from `from` (its cursor in `session::sweep_step`): whole groups
    /// until [`SWEEP_SLICE`] sockets were looked at, the stale ones closed. Returns when the
    /// sweep must run next: at once while groups are left; after the last, when the first
    /// socket left open could go stale (`SweepRound::next`: 30-75 s); `None` when it left none.
    fn sweep_slice(&self, now: i64, from: u64) -> Result<Option<i64>> {
        // What this sweep has decided so far, over its slices (a new sweep starts afresh).
        let mut round = if from == 0 { SweepRound::default() } else { self.sweep_round.get() };
        let (mut cursor, mut seen) = (from, 0);
        while seen < SWEEP_SLICE {
            let Some(tag) = session::sweep_step(cursor, ADMIN_TAG) else { break };
            cursor += 1;
            for ws in self.state.get_websockets_with_tag(&tag).iter().filter(|ws| sockets::is_open(ws)) {
                seen += 1;
                // The runtime's record of the last ping it answered settles a live socket; only
                // one whose pings stopped is asked what its attachment says (it may have sent frames).
                let pinged = sockets::last_ping(&self.state, ws).unwrap_or(0);
                let heard = if self.liveness.is_stale(now, pinged) {
                    let found = self.labels.borrow_mut().get(ws);
                    found.map_or(0, |l| l.heard_at).max(pinged)
                } else {
                    pinged
                };
                if round.look(&self.liveness, now, heard) {
                    let _ = ws.close(Some(4000), Some("no ping: connection presumed dead"));
                    self.gone(ws)?;
                }
            }
        }
        self.sweep_round.set(round);
        if session::sweep_step(cursor, ADMIN_TAG).is_some() {
            self.sweep_from.set(cursor as usize);
            return Ok(Some(now + 1));
        }
        self.sweep_from.set(0);
        Ok(round.next(&self.liveness, now))
    }
}
