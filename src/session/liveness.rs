//! When a silent socket counts as gone, how the stale-socket sweep walks the sockets (by sweep
//! group), and when it runs next. Pure: the glue (`desk_object/sweep.rs`) asks the runtime for
//! the sockets and their last pings, and does what this decides.

/// When a silent socket counts as gone, and how often the desk looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Liveness {
    /// A socket silent this long (no frame, no ping) is closed: its tab is most likely gone,
    /// and the sidebar's online dot must not lie.
    pub stale_after_ms: i64,
}

impl Liveness {
    /// Clients ping every 25 s (see docs/protocol.md): three missed pings make a socket stale.
    pub const DEFAULT_STALE_AFTER_MS: i64 = 75_000;

    /// From the optional `SOCKET_STALE_MS` setting; anything unusable means the default.
    pub fn from_setting(setting: Option<&str>) -> Self {
        let stale_after_ms = setting
            .and_then(|s| s.trim().parse::<i64>().ok())
            .filter(|ms| (1_000..=3_600_000).contains(ms))
            .unwrap_or(Self::DEFAULT_STALE_AFTER_MS);
        Liveness { stale_after_ms }
    }

    /// The shortest time between two sweeps (a sweep looks at every socket): the next one runs
    /// when the first socket it saw could go stale, but never sooner than this, so a stale
    /// socket lives at most ~1.4x the limit (`SweepRound::next`).
    pub fn sweep_every_ms(&self) -> i64 {
        (self.stale_after_ms * 2 / 5).max(500)
    }

    /// When a socket last heard from at `last_heard` becomes stale (`is_stale` from then on).
    pub fn stale_at(&self, last_heard: i64) -> i64 {
        last_heard.saturating_add(self.stale_after_ms).saturating_add(1)
    }

    /// Whether a socket last heard from at `last_heard` (its open time, last frame or last ping,
    /// whichever is latest) is stale at `now`.
    pub fn is_stale(&self, now: i64, last_heard: i64) -> bool {
        now.saturating_sub(last_heard) > self.stale_after_ms
    }
}

/// How many groups the sweep walks visitor sockets in: each visitor socket carries a second tag
/// naming its group, so a slice of the sweep asks the runtime for one group's sockets (about
/// 1/32 of them: ~1,000 at 32,768) instead of every socket. Asking for all of them costs
/// O(sockets) per call (~25 ms at 19,000 here), which is the stall a slice must not have.
pub const SWEEP_GROUPS: u64 = 32;

/// The tag of the sweep group a visitor socket with socket id `sid` belongs to (`sweep:0` to
/// `sweep:31`): never a user id (a UUID) nor an agent's tags.
pub fn sweep_tag(sid: u64) -> String {
    format!("sweep:{}", sid % SWEEP_GROUPS)
}

/// What the sweep walks, in order, by its cursor `0..=SWEEP_GROUPS`: the visitor groups, then
/// (the last step) every agent socket by their shared tag `admin_tag`. `None`: the sweep is done.
pub fn sweep_step(cursor: u64, admin_tag: &str) -> Option<String> {
    match cursor {
        c if c < SWEEP_GROUPS => Some(sweep_tag(c)),
        c if c == SWEEP_GROUPS => Some(admin_tag.to_owned()),
        _ => None,
    }
}

/// One whole sweep, over all its slices: which sockets it closes, and when the next should run.
///
/// Why not every `sweep_every_ms`: a sweep asks the runtime for every held socket (after an
/// eviction each becomes a new JavaScript object), which is most of what a quiet desk with many
/// visitors costs. Sockets that ping every 25 s cannot go stale within 50 s of a sweep that saw
/// them, so the next sweep waits for the first moment one could, clamped to
/// [`sweep_every_ms`, `stale_after_ms`] after this one: ~40% fewer sweeps on a healthy desk,
/// and a dead socket is closed as soon as the rule allows, no later than before.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepRound {
    /// The soonest moment a socket this sweep left open can go stale (`None`: it left none).
    soonest_stale: Option<i64>,
}

impl SweepRound {
    /// Looks at one open socket, last heard from at `last_heard` (an earlier time than the truth
    /// only makes the next sweep come sooner): `true` when it is stale and must be closed.
    pub fn look(&mut self, live: &Liveness, now: i64, last_heard: i64) -> bool {
        if live.is_stale(now, last_heard) {
            return true;
        }
        let at = live.stale_at(last_heard);
        self.soonest_stale = Some(self.soonest_stale.map_or(at, |s| s.min(at)));
        false
    }

    /// When the next sweep should run, this one having ended at `now`; `None` when it left no
    /// socket open (a socket that opens later arms the alarm itself). Never later than the limit
    /// after `now`: a socket that opened during this sweep, in a group it had already looked at,
    /// cannot go stale before then.
    pub fn next(&self, live: &Liveness, now: i64) -> Option<i64> {
        let soonest = self.soonest_stale?;
        Some(soonest.clamp(now + live.sweep_every_ms(), now + live.stale_after_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sweep_walks_every_group_then_the_agents_once() {
        let steps: Vec<String> = (0..).map_while(|c| sweep_step(c, "admin")).collect();
        assert_eq!(steps.len() as u64, SWEEP_GROUPS + 1);
        assert_eq!(steps.last().map(String::as_str), Some("admin"));
        // Every visitor socket's group is one of the steps, whatever its id.
        for sid in [0, 1, 31, 32, 33, u64::MAX, 0x1234_5678_9abc_def0] {
            assert!(steps.contains(&sweep_tag(sid)), "{sid}");
        }
        // The groups share the load: consecutive ids go round all of them.
        let groups: std::collections::HashSet<String> = (0..SWEEP_GROUPS).map(sweep_tag).collect();
        assert_eq!(groups.len() as u64, SWEEP_GROUPS);
        // A group tag is no user id (a UUID) and no agent tag, and far under the 256-char limit.
        assert!(steps.iter().all(|t| t.len() < 16 && !t.starts_with("agent:")));
    }

    #[test]
    fn silence_past_the_limit_is_stale() {
        let live = Liveness::from_setting(None);
        assert_eq!((live.stale_after_ms, live.sweep_every_ms()), (75_000, 30_000));
        assert!(!live.is_stale(100_000, 100_000 - 75_000));
        assert!(live.is_stale(100_001, 100_000 - 75_000));
        assert_eq!(Liveness::from_setting(Some("3000")).stale_after_ms, 3_000);
        for unusable in ["", "x", "10", "-5", "99999999999"] {
            assert_eq!(Liveness::from_setting(Some(unusable)).stale_after_ms, 75_000, "{unusable}");
        }
    }

    #[test]
    fn a_sweep_closes_the_stale_and_waits_for_the_first_that_could_go_stale() {
        let live = Liveness::from_setting(None);
        let now = 1_000_000;
        let mut round = SweepRound::default();
        assert_eq!(round.next(&live, now), None, "nothing seen: the alarm may rest");
        assert!(round.look(&live, now, now - 75_001), "silent past the limit: closed");
        assert_eq!(round.next(&live, now), None, "a closed socket does not call for another sweep");
        assert!(!round.look(&live, now, now - 20_000));
        assert!(!round.look(&live, now, now - 5_000));
        // The first could go stale 55 s from now: the next sweep then, not at 30 s.
        assert_eq!(round.next(&live, now), Some(now - 20_000 + 75_001));
        // One about to go stale: no sooner than 30 s (a sweep looks at every socket).
        assert!(!round.look(&live, now, now - 74_000));
        assert_eq!(round.next(&live, now), Some(now + 30_000));
        // Heard just now, alone: at the limit.
        let mut fresh = SweepRound::default();
        assert!(!fresh.look(&live, now, now));
        assert_eq!(fresh.next(&live, now), Some(now + 75_000));
    }

    /// Sweeps as the alarm runs them (each at the time the one before chose) over 300 sockets that
    /// open at random times in an hour and ping every 25 s, a third of them (`dying`) stopping at a
    /// random time. Returns how many sweeps ran, checking on the way that no socket is closed
    /// while it pings and every dead one is closed no later than the limit plus one
    /// `sweep_every_ms` after it was last heard.
    fn simulate(live: &Liveness, dying: bool, mut seed: u64) -> i64 {
        let mut rand = move |n: i64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as i64
        };
        let horizon = 3_600_000;
        // (opened, stops pinging at (i64::MAX: never), first ping after), and when it was closed
        let mut sockets: Vec<((i64, i64, i64), Option<i64>)> = (0..300)
            .map(|_| {
                let opened = rand(horizon);
                let stops = if dying && rand(3) == 0 { opened + rand(horizon) } else { i64::MAX };
                ((opened, stops, 1 + rand(25_000)), None)
            })
            .collect();
        let last_heard = |(opened, stops, first): (i64, i64, i64), t: i64| -> i64 {
            let until = t.min(stops);
            if until < opened + first {
                return opened;
            }
            opened + first + (until - opened - first) / 25_000 * 25_000
        };
        let (mut at, mut sweeps) = (0, 0);
        while at < horizon + 200_000 {
            sweeps += 1;
            let mut round = SweepRound::default();
            for (s, closed) in sockets.iter_mut().filter(|(s, c)| c.is_none() && s.0 <= at) {
                if round.look(live, at, last_heard(*s, at)) {
                    assert!(s.1 <= at, "a socket that pings was closed at {at}: {s:?}");
                    *closed = Some(at);
                }
            }
            at = round.next(live, at).unwrap_or(at + live.stale_after_ms);
        }
        for (s, closed) in &sockets {
            if s.1 < horizon {
                let heard = last_heard(*s, s.1);
                let by = closed.unwrap_or_else(|| panic!("a dead socket was never closed: {s:?}"));
                let late = by - heard;
                assert!(
                    late <= live.stale_after_ms + live.sweep_every_ms(),
                    "closed {late} ms after last heard: {s:?}"
                );
            } else if s.1 == i64::MAX {
                assert!(closed.is_none(), "a live socket was closed: {s:?}");
            }
        }
        sweeps
    }

    #[test]
    fn the_schedule_keeps_the_bound_and_sweeps_a_healthy_desk_less() {
        let live = Liveness::from_setting(None);
        let every_30s = (3_600_000 + 200_000) / live.sweep_every_ms();
        for seed in [1, 0x9e37_79b9_7f4a_7c15, 42] {
            let dying = simulate(&live, true, seed);
            assert!(dying <= every_30s + 1, "{dying} sweeps with dying sockets, {every_30s} at a fixed 30 s");
            let healthy = simulate(&live, false, seed);
            println!("seed {seed}: {dying} sweeps with dying sockets, {healthy} healthy, {every_30s} at a fixed 30 s");
            // Pings every 25 s: nothing can go stale within ~50 s of a sweep.
            assert!(healthy * 10 <= every_30s * 7, "{healthy} sweeps of a healthy desk, {every_30s} at a fixed 30 s");
        }
    }
}
