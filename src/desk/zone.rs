//! Time zones without a time zone crate: an IANA name is looked up in [`zones`](super::zones)
//! (generated from tzdata: each name with its current POSIX TZ rule, ~600 names sharing ~100
//! rules), and the rule is evaluated here. A POSIX rule says the standard offset and, for zones
//! with daylight saving time, its offset and the two yearly changes (`Mm.w.d/time`: day `d` of
//! week `w` of month `m`, at local `time`). That is all business hours need from now on; past
//! rule changes do not matter to "is the desk open" or "when does it open next".
//!
//! Times are milliseconds since the Unix epoch (UTC); a "local" time is the same count on the
//! zone's wall clock (UTC plus the offset in force), so civil-date arithmetic applies to both.

use super::zones::{RULES, ZONES};

pub const DAY_MS: i64 = 86_400_000;

/// One yearly change: day `weekday` (0 Sunday) of week `week` (1 to 5, 5 the last) of `month`,
/// at `secs` seconds after local midnight (may be negative or past 24 h, as POSIX allows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Change {
    month: u32,
    week: u32,
    weekday: u32,
    secs: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Dst {
    /// Seconds east of UTC while daylight saving time is in force.
    offset: i64,
    start: Change,
    end: Change,
}

/// A zone's current rule: its standard offset (seconds east of UTC) and its DST, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone {
    std: i64,
    dst: Option<Dst>,
}

/// The zone an IANA name stands for (`Europe/Paris`, `UTC`, links like `Asia/Calcutta` too).
pub fn zone(name: &str) -> Option<Zone> {
    let (_, rule) = ZONES.lines().filter_map(|l| l.split_once('\t')).find(|(n, _)| *n == name)?;
    parse(RULES.get(rule.parse::<usize>().ok()?)?)
}

/// Whether this deployment knows the zone name.
pub fn known(name: &str) -> bool {
    zone(name).is_some()
}

impl Zone {
    /// UTC: what a desk uses before its owner picks a zone.
    pub const UTC: Zone = Zone { std: 0, dst: None };

    /// Seconds east of UTC in force at `utc_ms`.
    pub fn offset_at(&self, utc_ms: i64) -> i64 {
        let Some(dst) = self.dst else {
            return self.std;
        };
        let year = civil(div(utc_ms + self.std * 1000, DAY_MS)).0;
        // A change's time is local: the start in standard time, the end in daylight time.
        let start = (days_of(year, dst.start) * 86_400 + dst.start.secs - self.std) * 1000;
        let end = (days_of(year, dst.end) * 86_400 + dst.end.secs - dst.offset) * 1000;
        let in_dst = if start < end { start <= utc_ms && utc_ms < end } else { utc_ms < end || utc_ms >= start };
        if in_dst {
            dst.offset
        } else {
            self.std
        }
    }

    /// The wall-clock time at `utc_ms`.
    pub fn local(&self, utc_ms: i64) -> i64 {
        utc_ms + self.offset_at(utc_ms) * 1000
    }

    /// The instant a wall-clock time happens. A time skipped by a change forward is read with the
    /// offset before it (so 02:30 on a spring-forward night is 03:30 daylight time); a time that
    /// happens twice (the hour repeated in autumn) is its first occurrence.
    pub fn utc(&self, local_ms: i64) -> i64 {
        let standard = local_ms - self.std * 1000;
        let Some(dst) = self.dst else {
            return standard;
        };
        let daylight = local_ms - dst.offset * 1000;
        match (self.local(standard) == local_ms, self.local(daylight) == local_ms) {
            (true, true) => standard.min(daylight),
            (false, true) => daylight,
            _ => standard,
        }
    }
}

fn div(a: i64, b: i64) -> i64 {
    a.div_euclid(b)
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian; Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = div(y, 400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date (year, month, day) of a day count since 1970-01-01.
pub fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = div(z, 146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Day of the week of a day count: 0 Sunday to 6 Saturday (1970-01-01 was a Thursday).
pub fn weekday(days: i64) -> u32 {
    (days + 4).rem_euclid(7) as u32
}

fn days_in_month(y: i64, m: u32) -> u32 {
    (days_from_civil(if m == 12 { y + 1 } else { y }, if m == 12 { 1 } else { m + 1 }, 1) - days_from_civil(y, m, 1))
        as u32
}

/// The day (since the epoch) a change falls on in `year`.
fn days_of(year: i64, c: Change) -> i64 {
    let first = days_from_civil(year, c.month, 1);
    let mut day = first + i64::from((c.weekday + 7 - weekday(first)) % 7) + 7 * i64::from(c.week - 1);
    while day >= first + i64::from(days_in_month(year, c.month)) {
        day -= 7;
    }
    day
}

/// Reads a POSIX TZ rule: `std offset [dst [offset] ,start[/time],end[/time]]`. Offsets are
/// written west-positive (`CET-1` is UTC+1); names may be `<+03>` quoted.
fn parse(rule: &str) -> Option<Zone> {
    let mut s = rule.as_bytes();
    name(&mut s)?;
    let std = -offset(&mut s)?;
    if s.is_empty() {
        return Some(Zone { std, dst: None });
    }
    name(&mut s)?;
    let dst_offset = if s.first() == Some(&b',') { std + 3600 } else { -offset(&mut s)? };
    let start = change(&mut s)?;
    let end = change(&mut s)?;
    s.is_empty().then_some(Zone { std, dst: Some(Dst { offset: dst_offset, start, end }) })
}

fn name(s: &mut &[u8]) -> Option<()> {
    let len = if s.first() == Some(&b'<') {
        s.iter().position(|&b| b == b'>')? + 1
    } else {
        s.iter().position(|b| !b.is_ascii_alphabetic()).unwrap_or(s.len())
    };
    (len >= 3).then(|| *s = &s[len..])
}

fn number(s: &mut &[u8]) -> Option<i64> {
    let len = s.iter().position(|b| !b.is_ascii_digit()).unwrap_or(s.len());
    let n = std::str::from_utf8(&s[..len]).ok()?.parse().ok()?;
    *s = &s[len..];
    Some(n)
}

/// `[+-]hh[:mm[:ss]]` in seconds.
fn offset(s: &mut &[u8]) -> Option<i64> {
    let sign = match s.first() {
        Some(b'-') => -1,
        Some(b'+') => 1,
        _ => 0,
    };
    if sign != 0 {
        *s = &s[1..];
    }
    let mut secs = number(s)? * 3600;
    for unit in [60, 1] {
        if s.first() != Some(&b':') {
            break;
        }
        *s = &s[1..];
        secs += number(s)? * unit;
    }
    Some(if sign < 0 { -secs } else { secs })
}

/// `,Mm.w.d[/time]` (the only form tzdata's rules use today).
fn change(s: &mut &[u8]) -> Option<Change> {
    *s = s.strip_prefix(b",M")?;
    let month = number(s)? as u32;
    *s = s.strip_prefix(b".")?;
    let week = number(s)? as u32;
    *s = s.strip_prefix(b".")?;
    let weekday = number(s)? as u32;
    let secs = match s.strip_prefix(b"/") {
        Some(rest) => {
            *s = rest;
            offset(s)?
        }
        None => 7200,
    };
    ((1..=12).contains(&month) && (1..=5).contains(&week) && weekday <= 6).then_some(Change {
        month,
        week,
        weekday,
        secs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_generated_rule_parses() {
        for line in ZONES.lines() {
            let name = line.split('\t').next().unwrap_or_default();
            assert!(zone(name).is_some(), "{name}");
        }
        assert!(ZONES.lines().count() > 500);
    }

    #[test]
    fn civil_dates_round_trip() {
        for days in [-1, 0, 59, 365, 11_016, 20_000, 20_454, 47_482] {
            let (y, m, d) = civil(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(weekday(days_from_civil(2026, 12, 4)), 5, "a Friday");
    }
}
