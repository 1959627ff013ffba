//! The deployment-wide half of the limits: which network a client address belongs to, and the
//! decisions the `Limiter` object (one per network, `idFromName("net:" + network)`) makes for
//! it — may a new visitor be created from this address now, how many wrong admin credentials it
//! presented in this window — whichever desk asks. Pure: the object keeps the buckets and counts
//! in SQLite and passes the time in; the wire between a desk and the object is [`Ask`] / [`Answer`].
//!
//! Tiers: the *address* is an IPv4 address or an IPv6 /64 (what one customer holds); the
//! *network* an IPv4 /24 or an IPv6 /48 (what one provider hands a site). A new visitor takes a
//! token from both buckets, so many addresses of one network share the looser network budget.

use std::net::{IpAddr, Ipv6Addr};

use serde::Serialize;

use super::{Bucket, NewVisitors};
use crate::json_fields::{Fields, Refused};

/// How long an address stays in the higher tier after one of its visitors had a real
/// conversation (an agent read or answered it): 30 days.
pub const TRUST_MS: i64 = 30 * 86_400_000;

/// Where a client address is counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    /// The network: the `Limiter` object's name is `net:` followed by this.
    pub name: String,
    /// The address tier's key within it: the IPv4 address, or the IPv6 /64.
    pub address: String,
}

impl Network {
    /// The network of a `CF-Connecting-IP` value; `None` if it is not an IP address, or is the
    /// loopback (only local runs: Miniflare and `wrangler dev` fill in `127.0.0.1` for a client
    /// that sent none; the edge never does). An IPv4-mapped IPv6 address counts as its IPv4 address.
    pub fn of(ip: &str) -> Option<Network> {
        let ip = ip.trim().parse::<IpAddr>().ok()?;
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match ip {
            _ if ip.is_loopback() => None,
            IpAddr::V4(v4) => Some(v4_network(v4.octets())),
            IpAddr::V6(v6) => Some(v6_network(&v6)),
        }
    }

    /// The `Limiter` object's name.
    pub fn object_name(&self) -> String {
        format!("net:{}", self.name)
    }
}

fn v4_network([a, b, c, d]: [u8; 4]) -> Network {
    Network { name: format!("{a}.{b}.{c}.0/24"), address: format!("{a}.{b}.{c}.{d}") }
}

fn v6_network(v6: &Ipv6Addr) -> Network {
    let s = v6.segments();
    Network {
        name: format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2]),
        address: format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3]),
    }
}

/// What a desk asks a network's `Limiter` (`{"ask": "newVisitor", ...}`; read by [`Ask::from_json`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "ask", rename_all = "camelCase")]
pub enum Ask {
    /// May a new visitor be created from `address` now? Takes a token unless `peek` (the
    /// widget asking why it was held back).
    NewVisitor { address: String, peek: bool },
    /// One of `address`'s visitors had a real conversation: the higher tier, for a while.
    Trust { address: String },
    /// Wrong admin credentials from `address` in window `period`; one more counted if `add`.
    Failures { address: String, period: i64, add: bool },
}

impl Ask {
    /// The ask in a `Limiter` request's body (`{"ask": "<kind>", …the kind's fields}`, read by
    /// `json_fields`); `None` if it is not one.
    pub fn from_json(text: &str) -> Option<Ask> {
        let read = || -> Result<Ask, Refused> {
            let mut f = Fields::parse(text)?;
            Ok(match f.str("ask")?.as_str() {
                "newVisitor" => Ask::NewVisitor { address: f.str("address")?, peek: f.bool("peek")? },
                "trust" => Ask::Trust { address: f.str("address")? },
                "failures" => {
                    Ask::Failures { address: f.str("address")?, period: f.i64("period")?, add: f.bool("add")? }
                }
                _ => return Err(Refused),
            })
        };
        read().ok()
    }
}

/// The `Limiter`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Answer {
    /// `NewVisitor`: refused, wait this long. `None`: let in (or another ask, done).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
    /// `Failures`: the count in the window, the one just added included.
    #[serde(default)]
    pub failures: u32,
}

impl Answer {
    /// The `Limiter`'s body as its `Serialize` wrote it (by `json_fields`; `failures` defaults to 0).
    pub fn read(text: &str) -> Result<Answer, Refused> {
        let mut f = Fields::parse_struct(text, &[("retryAfterMs", true), ("failures", true)])?;
        let failures = f.opt_u64("failures")?.unwrap_or(0);
        Ok(Answer {
            retry_after_ms: f.opt_u64("retryAfterMs")?,
            failures: u32::try_from(failures).map_err(|_| Refused)?,
        })
    }
}

/// An address's standing, as the `Limiter` stores it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Standing {
    pub address: Bucket,
    pub network: Bucket,
    /// The address is in the higher tier until then (0: never was).
    pub trusted_until: i64,
}

/// Whether a new visitor may be created from an address now: a token from the address's bucket
/// (the trusted tier's shape while it is trusted) and one from its network's. Both or neither
/// are taken, so a refusal costs nothing and a flood does not postpone the next admission.
/// `Err` holds the ms until both have a token.
pub fn admit_new_visitor(standing: &mut Standing, limits: &NewVisitors, now: i64, take: bool) -> Result<(), u64> {
    if !limits.enabled() {
        return Ok(());
    }
    let address_rate = if standing.trusted_until > now { limits.trusted } else { limits.address };
    let a = standing.address.peek(address_rate, now);
    let n = standing.network.peek(limits.network, now);
    match (a, n) {
        (Ok(()), Ok(())) => {
            if take {
                // Both just had a token: neither take can fail.
                let _ = standing.address.take(address_rate, now);
                let _ = standing.network.take(limits.network, now);
            }
            Ok(())
        }
        (a, n) => Err(a.err().unwrap_or(0).max(n.err().unwrap_or(0))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Limits;

    fn fresh(limits: &NewVisitors, now: i64) -> Standing {
        Standing {
            address: Bucket::full(limits.address, now),
            network: Bucket::full(limits.network, now),
            trusted_until: 0,
        }
    }

    #[test]
    fn addresses_and_networks_are_read_per_family() {
        let v4 = Network::of("203.0.113.77").unwrap();
        assert_eq!((v4.name.as_str(), v4.address.as_str()), ("203.0.113.0/24", "203.0.113.77"));
        assert_eq!(v4.object_name(), "net:203.0.113.0/24");
        let v6 = Network::of("2001:db8:aa:bb:1:2:3:4").unwrap();
        assert_eq!((v6.name.as_str(), v6.address.as_str()), ("2001:db8:aa::/48", "2001:db8:aa:bb::/64"));
        let same64 = Network::of("2001:DB8:AA:BB:ffff::9").unwrap();
        assert_eq!(same64, v6, "every address of a /64 is one address");
        assert_eq!(Network::of("::ffff:203.0.113.77"), Some(v4), "IPv4-mapped counts as IPv4");
        for bad in [
            "",
            "localhost",
            "203.0.113",
            "1.2.3.4.5",
            "2001:db8::g",
            "203.0.113.7:443",
            "127.0.0.1",
            "::1",
            "::ffff:127.0.0.1",
        ] {
            assert_eq!(Network::of(bad), None, "{bad}");
        }
    }

    #[test]
    fn two_hundred_new_visitors_over_ten_minutes_all_get_in_thousands_do_not() {
        let limits = Limits::default().new_visitors;
        // 200 people behind one address, one every 3 s for 10 minutes (an office, a school).
        let mut s = fresh(&limits, 0);
        let crowd = (0..200).filter(|i| admit_new_visitor(&mut s, &limits, i * 3_000, true).is_ok()).count();
        assert_eq!(crowd, 200);
        // A script asking 20 times a second for the same 10 minutes.
        let mut s = fresh(&limits, 0);
        let script = (0..12_000).filter(|i| admit_new_visitor(&mut s, &limits, i * 50, true).is_ok()).count();
        assert!(script <= 60 + 150 + 1, "the script got {script}");
        // Over an hour: the refill, not the burst, is what a script gets.
        let hour = (12_000..72_000).filter(|i| admit_new_visitor(&mut s, &limits, i * 50, true).is_ok()).count();
        assert!(hour <= 15 * 50 + 1, "{hour} in the next 50 minutes");
    }

    #[test]
    fn a_network_shares_one_looser_budget_among_its_addresses() {
        let limits = Limits::default().new_visitors;
        let mut network = Bucket::full(limits.network, 0);
        // 1,000 addresses of one /64-spread /48 (or /24), each asking once at the same moment.
        let mut admitted = 0;
        for _ in 0..1_000 {
            let mut s = Standing { address: Bucket::full(limits.address, 0), network, trusted_until: 0 };
            if admit_new_visitor(&mut s, &limits, 0, true).is_ok() {
                admitted += 1;
            }
            network = s.network;
        }
        assert_eq!(admitted, 240, "the network's burst, however many addresses");
    }

    #[test]
    fn a_trusted_address_gets_the_higher_tier_until_the_trust_ends() {
        let limits = Limits::default().new_visitors;
        let mut s = Standing { trusted_until: 1_000, ..fresh(&limits, 0) };
        s.address = Bucket::full(limits.trusted, 0);
        let passed = (0..300).filter(|_| admit_new_visitor(&mut s, &limits, 0, true).is_ok()).count();
        assert_eq!(passed, 240);
        let mut plain = fresh(&limits, 0);
        assert_eq!((0..300).filter(|_| admit_new_visitor(&mut plain, &limits, 0, true).is_ok()).count(), 60);
    }

    #[test]
    fn a_refusal_or_a_peek_takes_nothing() {
        let limits =
            NewVisitors { address: crate::limits::Rate { per_sec: 1.0, burst: 1.0 }, ..Limits::default().new_visitors };
        let mut s = fresh(&limits, 0);
        assert_eq!(admit_new_visitor(&mut s, &limits, 0, false), Ok(()), "a peek");
        assert_eq!(admit_new_visitor(&mut s, &limits, 0, true), Ok(()));
        let network_before = s.network;
        assert_eq!(admit_new_visitor(&mut s, &limits, 0, true), Err(1_000));
        assert_eq!(s.network, network_before, "the network's token was not taken for a refusal");
        assert_eq!(admit_new_visitor(&mut s, &limits, 1_000, true), Ok(()));
        let off = NewVisitors { address: crate::limits::Rate { per_sec: 1.0, burst: 0.0 }, ..limits };
        assert!((0..1_000).all(|_| admit_new_visitor(&mut s, &off, 0, true).is_ok()), "NEW_VISITORS_PER_IP=0");
    }

    #[test]
    fn asks_and_answers_round_trip_as_json() {
        let ask = Ask::NewVisitor { address: "203.0.113.7".into(), peek: false };
        let json = serde_json::to_string(&ask).unwrap();
        assert_eq!(json, r#"{"ask":"newVisitor","address":"203.0.113.7","peek":false}"#);
        assert_eq!(Ask::from_json(&json), Some(ask));
        for ask in [Ask::Trust { address: "a".into() }, Ask::Failures { address: "b".into(), period: 7, add: true }] {
            assert_eq!(Ask::from_json(&serde_json::to_string(&ask).unwrap()), Some(ask));
        }
        assert_eq!(Ask::from_json(r#"{"ask":"other","address":"a"}"#), None);
        assert_eq!(Ask::from_json(r#"["trust","a"]"#), None);
        let answer = Answer { retry_after_ms: Some(4_000), failures: 0 };
        assert_eq!(Answer::read(&serde_json::to_string(&answer).unwrap()), Ok(answer));
    }

    #[test]
    fn asks_and_answers_refuse_what_the_derives_refused() {
        for text in [
            r#"{"ask":"newVisitor","address":"a"}"#,
            r#"{"ask":"newVisitor","address":"a","peek":"no"}"#,
            r#"{"ask":"trust"}"#,
            r#"{"ask":"trust","address":1}"#,
            r#"{"ask":"trust","ask":"trust","address":"a"}"#,
            r#"{"ask":"trust","address":"a","address":"b"}"#,
            r#"{"ask":"failures","address":"a","period":1.5,"add":true}"#,
            r#"{"ask":"failures","address":"a","period":1}"#,
            r#"{"ask":null,"address":"a"}"#,
            r#"{"address":"a"}"#,
            "not json",
        ] {
            assert_eq!(Ask::from_json(text), None, "{text}");
        }
        let other_fields = r#"{"address":"a","extra":[1],"ask":"trust"}"#;
        assert_eq!(Ask::from_json(other_fields), Some(Ask::Trust { address: "a".into() }));
        assert_eq!(Answer::read("{}"), Ok(Answer { retry_after_ms: None, failures: 0 }));
        assert_eq!(Answer::read("[]"), Ok(Answer { retry_after_ms: None, failures: 0 }), "by position");
        assert_eq!(Answer::read(r#"{"failures":3}"#), Ok(Answer { retry_after_ms: None, failures: 3 }));
        for text in [
            r#"{"failures":4294967296}"#,
            r#"{"failures":-1}"#,
            r#"{"retryAfterMs":1.5}"#,
            r#"{"failures":1,"failures":1}"#,
            "[1,2,3]",
        ] {
            assert_eq!(Answer::read(text), Err(Refused), "{text}");
        }
    }
}
