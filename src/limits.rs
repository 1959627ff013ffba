//! Abuse limits: how fast a visitor (all its sockets together) or an agent socket may send (and
//! what a big answer costs), how many bytes a visitor may write a day, how many visitors one
//! address or network may create, how many sockets one visitor may hold, how much a desk stores
//! and for how long. Pure: settings come in as strings, time as milliseconds.
//!
//! Every limit has a default (documented in `SECURITY.md`) and a Worker variable to change it.
//! A flood is refused before its frames are parsed, so it costs the desk little and other
//! visitors' messages still get through. `limits::network` is the deployment-wide half: which
//! network an address belongs to and the new-visitor and sign-in decisions the `Limiter` object
//! makes for it.

use std::collections::HashMap;

pub mod network;

/// A day, in ms: the period of `VISITOR_BYTES_PER_DAY` (UTC days).
pub const DAY_MS: i64 = 86_400_000;

/// A token bucket's shape: `per_sec` tokens refill each second, up to `burst`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub per_sec: f64,
    pub burst: f64,
}

/// How new visitors are admitted, deployment-wide: a token bucket per address (an IPv4 address,
/// an IPv6 /64), a looser one per network (IPv4 /24, IPv6 /48), and a higher tier for addresses
/// whose visitors had real conversations (an agent read or answered them).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NewVisitors {
    /// `NEW_VISITORS_PER_IP` (burst) and `NEW_VISITORS_PER_MIN` (refill); burst 0: no limit.
    pub address: Rate,
    /// `NEW_VISITORS_PER_NETWORK` (burst) and `NEW_VISITORS_PER_MIN_PER_NETWORK` (refill).
    pub network: Rate,
    /// An address with a history of real conversations: `TRUSTED_NEW_VISITORS_PER_IP` (burst),
    /// `TRUSTED_NEW_VISITORS_PER_MIN` (refill).
    pub trusted: Rate,
}

impl NewVisitors {
    /// Whether new visitors are limited at all (`NEW_VISITORS_PER_IP=0` turns it off).
    pub fn enabled(&self) -> bool {
        self.address.burst >= 1.0
    }
}

/// The desk's limits, read once per object from its Worker variables.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Frames one visitor may send, all its sockets (tabs, reconnects) together
    /// (`VISITOR_FRAMES_PER_SEC`, `VISITOR_FRAME_BURST`).
    pub visitor: Rate,
    /// Frames an agent socket may send (`ADMIN_FRAMES_PER_SEC`, `ADMIN_FRAME_BURST`).
    pub admin: Rate,
    /// Message bytes (UTF-8) one visitor may write per UTC day (`VISITOR_BYTES_PER_DAY`); 0: no limit.
    pub visitor_bytes_per_day: u64,
    /// New visitors per address and network, across every desk of the deployment.
    pub new_visitors: NewVisitors,
    /// Open sockets one visitor may hold at once, e.g. tabs (`SOCKETS_PER_VISITOR`).
    pub sockets_per_visitor: usize,
    /// The desk's SQLite size beyond which new visitor messages are refused (`STORAGE_BUDGET_MB`, MiB).
    pub storage_budget_bytes: u64,
    /// Conversations untouched this long are deleted (`RETENTION_DAYS`, decimals allowed); 0: never.
    pub retention_ms: i64,
}

/// Bytes in the MiB that `STORAGE_BUDGET_MB` counts in.
pub const MIB: f64 = 1024.0 * 1024.0;

const fn per_min(n: f64, burst: f64) -> Rate {
    Rate { per_sec: n / 60.0, burst }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            // A person types far below 2 messages a second; the burst lets an outbox of queued
            // messages go out at once after a reconnect.
            visitor: Rate { per_sec: 2.0, burst: 20.0 },
            // Admins hold the desk secret; their limit only stops a runaway script.
            admin: Rate { per_sec: 50.0, burst: 200.0 },
            // 64 messages of the longest kind (4,000 characters of ASCII); a real visitor writes a
            // few KB a day.
            visitor_bytes_per_day: 256 * 1024,
            new_visitors: NewVisitors {
                // 60 at once, then one every 4 s: 210 over 10 minutes, so a school or an office
                // of 200 coming over 10 minutes all gets in; a script gets 900 an hour at most.
                address: per_min(15.0, 60.0),
                // A /24 (or an IPv6 /48) is several customers: four times the address's room.
                network: per_min(60.0, 240.0),
                // An address whose visitors talked to the team (a known office, a carrier's NAT).
                trusted: per_min(60.0, 240.0),
            },
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
        // New-visitor buckets: refill given per minute; a burst of 0 (address) turns them off.
        let per_minute = |refill: &str, burst: &str, default: Rate| Rate {
            per_sec: num(refill).filter(|n| *n > 0.0).map_or(default.per_sec, |n| n / 60.0),
            burst: num(burst).map_or(default.burst, f64::floor),
        };
        let dn = d.new_visitors;
        let address = per_minute("NEW_VISITORS_PER_MIN", "NEW_VISITORS_PER_IP", dn.address);
        let at_least =
            |r: Rate, floor: Rate| Rate { per_sec: r.per_sec.max(floor.per_sec), burst: r.burst.max(floor.burst) };
        Limits {
            visitor: rate("VISITOR_FRAMES_PER_SEC", "VISITOR_FRAME_BURST", d.visitor),
            admin: rate("ADMIN_FRAMES_PER_SEC", "ADMIN_FRAME_BURST", d.admin),
            visitor_bytes_per_day: num("VISITOR_BYTES_PER_DAY").map_or(d.visitor_bytes_per_day, |n| n as u64),
            new_visitors: NewVisitors {
                address,
                // A network is never tighter than one of its addresses, nor a trusted address
                // than an ordinary one.
                network: at_least(
                    per_minute("NEW_VISITORS_PER_MIN_PER_NETWORK", "NEW_VISITORS_PER_NETWORK", dn.network),
                    address,
                ),
                trusted: at_least(
                    per_minute("TRUSTED_NEW_VISITORS_PER_MIN", "TRUSTED_NEW_VISITORS_PER_IP", dn.trusted),
                    address,
                ),
            },
            sockets_per_visitor: num("SOCKETS_PER_VISITOR")
                .filter(|n| *n >= 1.0)
                .map_or(d.sockets_per_visitor, |n| n as usize),
            storage_budget_bytes: num("STORAGE_BUDGET_MB")
                .filter(|n| *n > 0.0)
                .map_or(d.storage_budget_bytes, |n| (n * MIB) as u64),
            retention_ms: num("RETENTION_DAYS")
                .map_or(d.retention_ms, |n| (n * DAY_MS as f64).min(i64::MAX as f64) as i64),
        }
    }
}

/// Whether a visitor who wrote `used` bytes on the UTC day of `now` may write `more` under a
/// limit of `per_day` (0: none); `Err` holds the ms until that day ends.
pub fn may_write(per_day: u64, used: u64, more: u64, now: i64) -> Result<(), u64> {
    if per_day == 0 || used.saturating_add(more) <= per_day {
        Ok(())
    } else {
        Err((DAY_MS - now.rem_euclid(DAY_MS)) as u64)
    }
}

/// The UTC day a moment falls in.
pub fn day(now: i64) -> i64 {
    now.div_euclid(DAY_MS)
}

/// A token bucket (a visitor's, an agent socket's, an address's). Starts full.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    tokens: f64,
    at: i64,
}

impl Bucket {
    pub fn full(rate: Rate, now: i64) -> Self {
        Bucket { tokens: rate.burst, at: now }
    }

    /// A bucket as stored (the `Limiter` object keeps its buckets in SQLite).
    pub fn stored(tokens: f64, at: i64) -> Self {
        Bucket { tokens: if tokens.is_finite() { tokens.max(0.0) } else { 0.0 }, at }
    }

    /// Its tokens and when they were counted, to store.
    pub fn parts(&self) -> (f64, i64) {
        (self.tokens, self.at)
    }

    fn refill(&mut self, rate: Rate, now: i64) {
        // A clock that steps back must not mint tokens nor lock the bucket out.
        let elapsed = (now - self.at).max(0) as f64;
        self.tokens = (self.tokens + elapsed * rate.per_sec / 1000.0).min(rate.burst);
        self.at = self.at.max(now);
    }

    /// Whether a token is there at `now`; `Err` holds the ms until one is. Takes nothing.
    pub fn peek(&mut self, rate: Rate, now: i64) -> Result<(), u64> {
        self.refill(rate, now);
        if self.tokens >= 1.0 {
            Ok(())
        } else {
            Err(((1.0 - self.tokens) * 1000.0 / rate.per_sec).ceil().max(1.0) as u64)
        }
    }

    /// Takes one token for a frame at `now`. `Err` holds the ms until one is there again.
    pub fn take(&mut self, rate: Rate, now: i64) -> Result<(), u64> {
        self.peek(rate, now)?;
        self.tokens -= 1.0;
        Ok(())
    }

    /// Whether it would be full at `now`: then forgetting it changes nothing (a new one starts full).
    pub fn is_full(&self, rate: Rate, now: i64) -> bool {
        let elapsed = (now - self.at).max(0) as f64;
        self.tokens + elapsed * rate.per_sec / 1000.0 >= rate.burst
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
/// from its sender's bucket (a visitor's, shared by all its sockets; an agent socket's), so a
/// client pulling history pays for what it pulls: at the visitors' 2 tokens a second, about
/// 16 KB/s, whatever its requests ask for and however many tabs ask. A full frame (256 KB) costs
/// 32 tokens, more than a visitor's burst: one full page at once, then a wait.
pub const ANSWER_BYTES_PER_TOKEN: usize = 8 * 1024;

/// The tokens an answer of `bytes` costs beyond the one its request was admitted with.
pub fn answer_cost(bytes: usize) -> f64 {
    bytes.div_ceil(ANSWER_BYTES_PER_TOKEN).saturating_sub(1) as f64
}

/// Buckets of one shape by key: one per visitor (by user id), shared by all its sockets, so a
/// reconnect or another tab finds the bucket the last socket left.
///
/// Memory only, and still exact across reconnects: the object cannot be evicted while a socket
/// keeps sending (eviction needs it idle for a while, about 10 s under workerd), and a bucket
/// whose burst refills within that idle time (20 at 2/s: 10 s) is full again by then, which is
/// what a new instance assumes. A restart (a deploy, a crash) can give each visitor one burst
/// more; the per-day byte limit is in SQLite and bounds what that can store. Bounded: buckets
/// that are full again are forgotten whenever the map doubles, so it holds the recent senders.
#[derive(Debug)]
pub struct Buckets {
    rate: Rate,
    map: HashMap<String, Bucket>,
    prune_at: usize,
}

/// Below this many buckets none are forgotten.
const PRUNE_FLOOR: usize = 1024;

impl Buckets {
    pub fn new(rate: Rate) -> Self {
        Buckets { rate, map: HashMap::new(), prune_at: PRUNE_FLOOR }
    }

    /// Takes a token from `key`'s bucket at `now`: one hash lookup, an allocation only for a key
    /// not held yet. `Err` holds the ms until it may send again.
    pub fn take(&mut self, key: &str, now: i64) -> Result<(), u64> {
        if let Some(bucket) = self.map.get_mut(key) {
            return bucket.take(self.rate, now);
        }
        if self.map.len() >= self.prune_at {
            let rate = self.rate;
            self.map.retain(|_, b| !b.is_full(rate, now));
            self.prune_at = (self.map.len() * 2).max(PRUNE_FLOOR);
        }
        let mut bucket = Bucket::full(self.rate, now);
        let taken = bucket.take(self.rate, now);
        self.map.insert(key.to_owned(), bucket);
        taken
    }

    /// Charges `key`'s bucket `cost` more tokens at `now` (a big answer; see [`Bucket::charge`]).
    pub fn charge(&mut self, key: &str, now: i64, cost: f64) {
        let rate = self.rate;
        self.map.entry(key.to_owned()).or_insert_with(|| Bucket::full(rate, now)).charge(rate, now, cost);
    }

    /// How many buckets are held.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
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
    fn a_bucket_is_peeked_without_taking_and_full_again_once_its_debt_is_paid() {
        let mut account = Bucket::full(RATE, 0);
        assert!((0..10).all(|_| account.peek(RATE, 0).is_ok()), "checking takes nothing");
        account.charge(RATE, 0, 4.0); // 3 - 4 = -1: 2 tokens short, 1 s at 2/s
        assert_eq!(account.peek(RATE, 0), Err(1_000));
        assert_eq!(account.peek(RATE, 1_000), Ok(()));
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
            "NEW_VISITORS_PER_MIN" => Some("6".to_owned()),
            "NEW_VISITORS_PER_NETWORK" => Some("1".to_owned()),
            "VISITOR_BYTES_PER_DAY" => Some("1000".to_owned()),
            _ => None,
        };
        let l = Limits::from_vars(vars);
        let d = Limits::default();
        assert_eq!(l.visitor, Rate { per_sec: 5.0, burst: d.visitor.burst });
        assert_eq!(l.admin, d.admin);
        assert!(!l.new_visitors.enabled());
        assert_eq!(l.new_visitors.address.per_sec, 0.1);
        assert_eq!(l.new_visitors.network.burst, 1.0);
        assert_eq!(l.sockets_per_visitor, d.sockets_per_visitor);
        assert_eq!(l.storage_budget_bytes, 512 * 1024, "decimals: half a MiB");
        assert_eq!(l.retention_ms, 8_640, "decimals: seconds, for tests");
        assert_eq!((d.storage_budget_bytes, d.retention_ms), (1 << 30, 365 * 86_400_000));
        let off = Limits::from_vars(|k| (k == "RETENTION_DAYS" || k == "STORAGE_BUDGET_MB").then(|| "0".to_owned()));
        assert_eq!(
            (off.retention_ms, off.storage_budget_bytes),
            (0, d.storage_budget_bytes),
            "0 keeps forever; no 0 budget"
        );
        assert_eq!(l.visitor_bytes_per_day, 1000);
        assert_eq!(Limits::from_vars(|_| None), d);
    }

    #[test]
    fn a_day_of_bytes_is_refused_past_the_limit_until_the_day_ends() {
        let noon = 3 * DAY_MS + DAY_MS / 2;
        assert_eq!(may_write(100, 40, 60, noon), Ok(()), "exactly the limit passes");
        assert_eq!(may_write(100, 41, 60, noon), Err((DAY_MS / 2) as u64));
        assert_eq!(day(noon), 3);
        assert_eq!(may_write(0, u64::MAX, 1, noon), Ok(()), "0: no limit");
    }

    #[test]
    fn a_visitor_bucket_is_shared_by_every_socket_and_reconnect() {
        let mut buckets = Buckets::new(RATE);
        // Three "sockets" of one visitor, one after another: one burst between them.
        let passed = (0..9).filter(|_| buckets.take("visitor-a", 0).is_ok()).count();
        assert_eq!(passed, 3);
        assert!(buckets.take("visitor-b", 0).is_ok(), "another visitor has its own bucket");
        assert_eq!(buckets.take("visitor-a", 500), Ok(()));
    }

    #[test]
    fn a_big_answer_is_charged_to_the_visitor_whatever_its_socket() {
        let mut buckets = Buckets::new(RATE);
        buckets.charge("visitor-a", 0, 4.0); // 3 - 4 = -1: 2 tokens short, 1 s at 2/s
        assert_eq!(buckets.take("visitor-a", 0), Err(1_000), "its next frame, from any socket, waits");
        assert!(buckets.take("visitor-b", 0).is_ok(), "another visitor does not pay for it");
        assert_eq!(buckets.take("visitor-a", 1_000), Ok(()));
    }

    #[test]
    fn buckets_that_are_full_again_are_forgotten_and_the_rest_kept() {
        let mut buckets = Buckets::new(RATE);
        for i in 0..PRUNE_FLOOR {
            buckets.take(&format!("v{i}"), 0).unwrap();
        }
        // v0 keeps sending: never full, never forgotten.
        for _ in 0..3 {
            buckets.take("v0", 1_000).unwrap();
        }
        // A new key at 1 s: every other bucket refilled (1 token spent, 2/s), so they go.
        buckets.take("new", 1_000).unwrap();
        assert_eq!(buckets.len(), 2);
        assert!(buckets.take("v0", 1_000).is_err(), "the busy visitor's bucket survived the pruning");
    }
}
