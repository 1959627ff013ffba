//! Abuse limits: how fast a socket may send (and what a big answer costs), how many visitors one
//! address may create, how many sockets one visitor may hold, how much a desk stores and for how
//! long. Pure: settings come in as strings, time as milliseconds.
//!
//! Every limit has a default (documented in `SECURITY.md`) and a Worker variable to change it.
//! A flood is refused before its frames are parsed, so it costs the desk little and other
//! visitors' messages still get through.

/// A token bucket's shape: `per_sec` tokens refill each second, up to `burst`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub per_sec: f64,
    pub burst: f64,
}

/// The desk's limits, read once per object from its Worker variables.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Frames a visitor socket may send (`VISITOR_FRAMES_PER_SEC`, `VISITOR_FRAME_BURST`).
    pub visitor: Rate,
    /// Frames an admin socket may send (`ADMIN_FRAMES_PER_SEC`, `ADMIN_FRAME_BURST`).
    pub admin: Rate,
    /// New visitors one client address may create per window (`NEW_VISITORS_PER_IP`); 0: no limit.
    pub new_visitors_per_ip: u32,
    /// That window, in ms (`NEW_VISITORS_WINDOW_SEC`).
    pub new_visitor_window_ms: i64,
    /// Open sockets one visitor may hold at once, e.g. tabs (`SOCKETS_PER_VISITOR`).
    pub sockets_per_visitor: usize,
    /// The desk's SQLite size beyond which new visitor messages are refused (`STORAGE_BUDGET_MB`, MiB).
    pub storage_budget_bytes: u64,
    /// Conversations untouched this long are deleted (`RETENTION_DAYS`, decimals allowed); 0: never.
    pub retention_ms: i64,
}

/// Bytes in the MiB that `STORAGE_BUDGET_MB` counts in.
pub const MIB: f64 = 1024.0 * 1024.0;
/// A day in ms, as `RETENTION_DAYS` counts it.
pub const DAY_MS: f64 = 86_400_000.0;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            // A person types far below 2 messages a second; the burst lets an outbox of queued
            // messages go out at once after a reconnect.
            visitor: Rate { per_sec: 2.0, burst: 20.0 },
            // Admins hold the desk secret; their limit only stops a runaway script.
            admin: Rate { per_sec: 50.0, burst: 200.0 },
            new_visitors_per_ip: 60,
            new_visitor_window_ms: 600_000,
            sockets_per_visitor: 10,
            // A SQLite Durable Object stops at 10 GB: a desk full at 1 GiB leaves room for agents.
            storage_budget_bytes: 1024 * 1024 * 1024,
            retention_ms: 365 * 86_400_000,
        }
    }
}

impl Limits {
    /// Reads the limits from Worker variables through `var`; a missing or malformed value keeps
    /// its default (a typo must not lift a limit).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let d = Limits::default();
        let num =
            |key: &str| var(key).and_then(|v| v.trim().parse::<f64>().ok()).filter(|n| n.is_finite() && *n >= 0.0);
        let rate = |per_sec: &str, burst: &str, default: Rate| {
            let per_sec = num(per_sec).filter(|n| *n > 0.0).unwrap_or(default.per_sec);
            Rate { per_sec, burst: num(burst).filter(|n| *n >= 1.0).unwrap_or(default.burst) }
        };
        Limits {
            visitor: rate("VISITOR_FRAMES_PER_SEC", "VISITOR_FRAME_BURST", d.visitor),
            admin: rate("ADMIN_FRAMES_PER_SEC", "ADMIN_FRAME_BURST", d.admin),
            new_visitors_per_ip: num("NEW_VISITORS_PER_IP").map_or(d.new_visitors_per_ip, |n| n as u32),
            new_visitor_window_ms: num("NEW_VISITORS_WINDOW_SEC")
                .filter(|n| *n >= 1.0)
                .map_or(d.new_visitor_window_ms, |n| (n * 1000.0) as i64),
            sockets_per_visitor: num("SOCKETS_PER_VISITOR")
                .filter(|n| *n >= 1.0)
                .map_or(d.sockets_per_visitor, |n| n as usize),
            storage_budget_bytes: num("STORAGE_BUDGET_MB")
                .filter(|n| *n > 0.0)
                .map_or(d.storage_budget_bytes, |n| (n * MIB) as u64),
            retention_ms: num("RETENTION_DAYS").map_or(d.retention_ms, |n| (n * DAY_MS).min(i64::MAX as f64) as i64),
        }
    }

    /// The window a moment falls in, and the ms until it ends.
    pub fn window(&self, now: i64) -> (i64, i64) {
        let w = self.new_visitor_window_ms.max(1);
        (now.div_euclid(w), w - now.rem_euclid(w))
    }

    /// Whether an address that created `created` visitors in the current window may create one
    /// more; `Err` holds the ms until the window ends.
    pub fn may_create_visitor(&self, created: u32, now: i64) -> Result<(), u64> {
        if self.new_visitors_per_ip == 0 || created < self.new_visitors_per_ip {
            Ok(())
        } else {
            Err(self.window(now).1 as u64)
        }
    }
}

/// One socket's token bucket. Starts full.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    tokens: f64,
    at: i64,
}

impl Bucket {
    pub fn full(rate: Rate, now: i64) -> Self {
        Bucket { tokens: rate.burst, at: now }
    }

    /// Takes one token for a frame at `now`. `Err` holds the ms until one is there again.
    pub fn take(&mut self, rate: Rate, now: i64) -> Result<(), u64> {
        self.ready(rate, now)?;
        self.tokens -= 1.0;
        Ok(())
    }

    /// Whether a token is there at `now`, taking none: for an account only big answers draw on.
    /// `Err` holds the ms until one is there again.
    pub fn ready(&mut self, rate: Rate, now: i64) -> Result<(), u64> {
        self.refill(rate, now);
        if self.tokens >= 1.0 {
            Ok(())
        } else {
            Err(((1.0 - self.tokens) * 1000.0 / rate.per_sec).ceil().max(1.0) as u64)
        }
    }

    /// Whether the bucket has refilled to its burst by `now` (nothing left to remember).
    pub fn is_full(&self, rate: Rate, now: i64) -> bool {
        self.tokens + (now - self.at).max(0) as f64 * rate.per_sec / 1000.0 >= rate.burst
    }

    fn refill(&mut self, rate: Rate, now: i64) {
        // A clock that steps back must not mint tokens nor lock the socket out.
        let elapsed = (now - self.at).max(0) as f64;
        self.tokens = (self.tokens + elapsed * rate.per_sec / 1000.0).min(rate.burst);
        self.at = self.at.max(now);
    }

    /// Charges `cost` more tokens at `now` for what an admitted frame turned out to cost (see
    /// [`answer_cost`]). The bucket may go below zero: the next frames wait until the debt is
    /// paid back at the bucket's rate (`take`'s `retryAfterMs` says how long).
    pub fn charge(&mut self, rate: Rate, now: i64, cost: f64) {
        self.refill(rate, now);
        self.tokens -= cost.max(0.0);
    }
}

/// Bytes of answer one token pays for. A frame is admitted with one token; an answer larger than
/// this (a `history` page, a `list`, a `search`) costs one more token per started block, drawn
/// from its sender's answer account (one per visitor or agent, whatever its sockets), so a
/// client pulling history pays for what it pulls: at the visitors' 2 tokens a second, about
/// 16 KB/s, whatever its requests ask for and however many tabs ask. A full frame (256 KB) costs
/// 32 tokens, more than a visitor's burst: one full page at once, then a wait.
pub const ANSWER_BYTES_PER_TOKEN: usize = 8 * 1024;

/// The tokens an answer of `bytes` costs beyond the one its request was admitted with.
pub fn answer_cost(bytes: usize) -> f64 {
    bytes.div_ceil(ANSWER_BYTES_PER_TOKEN).saturating_sub(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: Rate = Rate { per_sec: 2.0, burst: 3.0 };

    #[test]
    fn a_burst_passes_then_frames_wait_for_the_refill() {
        let mut bucket = Bucket::full(RATE, 0);
        assert!((0..3).all(|_| bucket.take(RATE, 0).is_ok()));
        assert_eq!(bucket.take(RATE, 0), Err(500), "one token takes 500 ms at 2/s");
        assert_eq!(bucket.take(RATE, 400), Err(100));
        assert_eq!(bucket.take(RATE, 500), Ok(()));
        assert!(bucket.take(RATE, 500).is_err());
    }

    #[test]
    fn refused_frames_do_not_dig_the_hole_deeper() {
        let mut bucket = Bucket::full(RATE, 0);
        for _ in 0..3 {
            bucket.take(RATE, 0).unwrap();
        }
        for _ in 0..1000 {
            assert!(bucket.take(RATE, 0).is_err());
        }
        assert_eq!(bucket.take(RATE, 500), Ok(()), "a flood does not postpone the next token");
    }

    #[test]
    fn idle_time_refills_only_up_to_the_burst() {
        let mut bucket = Bucket::full(RATE, 0);
        bucket.take(RATE, 0).unwrap();
        let passed = (0..10).filter(|_| bucket.take(RATE, 3_600_000).is_ok()).count();
        assert_eq!(passed, 3);
    }

    #[test]
    fn a_clock_stepping_back_mints_nothing() {
        let mut bucket = Bucket::full(RATE, 10_000);
        for _ in 0..3 {
            bucket.take(RATE, 10_000).unwrap();
        }
        assert!(bucket.take(RATE, 0).is_err());
        assert_eq!(bucket.take(RATE, 10_500), Ok(()));
    }

    #[test]
    fn big_answers_cost_a_token_per_block_and_the_debt_is_waited_out() {
        assert_eq!(answer_cost(0), 0.0);
        assert_eq!(answer_cost(ANSWER_BYTES_PER_TOKEN), 0.0, "the admission token pays for one block");
        assert_eq!(answer_cost(ANSWER_BYTES_PER_TOKEN + 1), 1.0);
        assert_eq!(answer_cost(256 * 1024), 31.0, "a full frame: 32 tokens in all");
        let mut bucket = Bucket::full(RATE, 0);
        bucket.take(RATE, 0).unwrap();
        bucket.charge(RATE, 0, answer_cost(112 * 1024));
        // 3 - 1 - 13 = -11 tokens: 12 tokens short of the next frame, 6 s at 2/s.
        assert_eq!(bucket.take(RATE, 0), Err(6_000));
        assert_eq!(bucket.take(RATE, 5_000), Err(1_000));
        assert_eq!(bucket.take(RATE, 6_000), Ok(()));
        bucket.charge(RATE, 6_000, -5.0);
        assert!(bucket.take(RATE, 6_000).is_err(), "a negative cost mints nothing");
    }

    #[test]
    fn an_answer_account_is_checked_without_taking_and_forgotten_once_full() {
        let mut account = Bucket::full(RATE, 0);
        assert!((0..10).all(|_| account.ready(RATE, 0).is_ok()), "checking takes nothing");
        account.charge(RATE, 0, 4.0); // 3 - 4 = -1: 2 tokens short, 1 s at 2/s
        assert_eq!(account.ready(RATE, 0), Err(1_000));
        assert_eq!(account.ready(RATE, 1_000), Ok(()));
        assert!(!account.is_full(RATE, 1_000));
        assert!(account.is_full(RATE, 2_000), "back to its burst of 3 after 2 s");
    }

    #[test]
    fn variables_override_defaults_and_bad_values_keep_them() {
        let vars = |k: &str| match k {
            "VISITOR_FRAMES_PER_SEC" => Some("5".to_owned()),
            "VISITOR_FRAME_BURST" => Some("0.5".to_owned()), // below 1: ignored
            "ADMIN_FRAMES_PER_SEC" => Some("lots".to_owned()),
            "NEW_VISITORS_PER_IP" => Some("0".to_owned()),
            "SOCKETS_PER_VISITOR" => Some("-3".to_owned()),
            "NEW_VISITORS_WINDOW_SEC" => Some("60".to_owned()),
            "STORAGE_BUDGET_MB" => Some("0.5".to_owned()),
            "RETENTION_DAYS" => Some("0.0001".to_owned()),
            _ => None,
        };
        let l = Limits::from_vars(vars);
        let d = Limits::default();
        assert_eq!(l.visitor, Rate { per_sec: 5.0, burst: d.visitor.burst });
        assert_eq!(l.admin, d.admin);
        assert_eq!(l.new_visitors_per_ip, 0);
        assert_eq!(l.sockets_per_visitor, d.sockets_per_visitor);
        assert_eq!(l.new_visitor_window_ms, 60_000);
        assert_eq!(l.storage_budget_bytes, 512 * 1024, "decimals: half a MiB");
        assert_eq!(l.retention_ms, 8_640, "decimals: seconds, for tests");
        assert_eq!((d.storage_budget_bytes, d.retention_ms), (1 << 30, 365 * 86_400_000));
        let off = Limits::from_vars(|k| (k == "RETENTION_DAYS" || k == "STORAGE_BUDGET_MB").then(|| "0".to_owned()));
        assert_eq!(
            (off.retention_ms, off.storage_budget_bytes),
            (0, d.storage_budget_bytes),
            "0 keeps forever; no 0 budget"
        );
        assert_eq!(Limits::from_vars(|_| None), d);
    }

    #[test]
    fn new_visitors_per_address_are_counted_per_window() {
        let l = Limits { new_visitors_per_ip: 2, new_visitor_window_ms: 1000, ..Limits::default() };
        assert_eq!(l.window(2_300), (2, 700));
        assert_eq!(l.may_create_visitor(1, 2_300), Ok(()));
        assert_eq!(l.may_create_visitor(2, 2_300), Err(700));
        let open = Limits { new_visitors_per_ip: 0, ..l };
        assert_eq!(open.may_create_visitor(1_000_000, 0), Ok(()));
    }
}
