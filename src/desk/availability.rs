//! Honest availability: whether the desk is open (at least one agent available, within business
//! hours), when it opens next, the settings that say so (validated here), agents' own status, and
//! the away message and email a visitor leaves.
//!
//! An agent is *available* while its status is `online` (the default) and at least one of its
//! inbox sockets is open. The inbox reports idleness itself: after `IDLE_MS` without input in any
//! of its tabs it sets the agent `away`, and back `online` at the next input (only if it was the
//! inbox, not the agent, that set it away); a tab that closes or goes silent loses its socket
//! (the stale-socket sweep), which ends availability too.
//!
//! No clock here: every function takes `now` (ms since the epoch), so tests pass times in.

use super::zone::{self, Zone, DAY_MS};
use super::{row, send, Agent, Audience, Effect, View, Write};
use crate::error::{FrameError, SettingsError};
use crate::protocol::{
    valid_email, AgentStatus, Author, Availability, EventInfo, Outbound, PublicAgent, Role, Settings, SettingsUpdate,
    WireMessage, MAX_AWAY_CHARS, MAX_HOLIDAYS, MAX_HOURS, MAX_ZONE_CHARS, STATUS_AGENTS,
};

/// How long an inbox waits without input before it sets its agent away (the inbox's rule,
/// written here so the docs and the client constant have one source): 10 minutes.
pub const IDLE_MS: i64 = 600_000;
/// How far ahead the next opening is looked for (holidays included): 400 days.
const LOOKAHEAD_DAYS: i64 = 400;
/// The `event.kind` of the automatic away message.
pub const AWAY_KIND: &str = "away";

/// `"HH:MM"` (`24:00` allowed when `end`) in minutes after midnight.
fn minutes(hhmm: &str, end: bool) -> Option<i64> {
    let (h, m) = hhmm.split_once(':')?;
    if h.len() != 2 || m.len() != 2 || !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    let total = h * 60 + m;
    (m < 60 && (total < 24 * 60 || (end && total == 24 * 60))).then_some(total)
}

/// `YYYY-MM-DD` as a day count since the epoch (years 2000 to 2199).
fn date(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| text.get(r)?.parse::<u32>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(2000..2200).contains(&y) || !(1..=12).contains(&m) || d == 0 {
        return None;
    }
    let days = zone::days_from_civil(i64::from(y), m, d);
    (zone::civil(days) == (i64::from(y), m, d)).then_some(days)
}

/// Checks settings and puts them in order (hours by day and time, holidays sorted, once each).
pub fn validate(mut s: Settings) -> Result<Settings, SettingsError> {
    if s.time_zone.chars().count() > MAX_ZONE_CHARS || !zone::known(&s.time_zone) {
        return Err(SettingsError::TimeZone);
    }
    if s.hours.len() > MAX_HOURS {
        return Err(SettingsError::TooManyHours);
    }
    for h in &s.hours {
        match (minutes(&h.open, false), minutes(&h.close, true)) {
            (Some(open), Some(close)) if open < close => {}
            _ => return Err(SettingsError::Hours),
        }
    }
    super::sort_short(&mut s.hours, |a, b| (a.day, &a.open) < (b.day, &b.open));
    if s.holidays.len() > MAX_HOLIDAYS {
        return Err(SettingsError::TooManyHolidays);
    }
    if s.holidays.iter().any(|d| date(d).is_none()) {
        return Err(SettingsError::Holiday);
    }
    super::sort_short(&mut s.holidays, |a, b| a < b);
    s.holidays.dedup();
    let away = s.away_message.trim();
    if away.chars().count() > MAX_AWAY_CHARS || away.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\t')) {
        return Err(SettingsError::AwayMessage);
    }
    s.away_message = away.to_owned();
    if !(1..=crate::protocol::MAX_UNANSWERED_MINUTES).contains(&s.unanswered_minutes) {
        return Err(SettingsError::UnansweredMinutes);
    }
    Ok(s)
}

fn zone_of(s: &Settings) -> Zone {
    zone::zone(&s.time_zone).unwrap_or(Zone::UTC)
}

/// The local day (since the epoch) and its opening intervals in local ms, if not a holiday.
fn intervals(s: &Settings, day: i64) -> impl Iterator<Item = (i64, i64)> + '_ {
    let (y, m, d) = zone::civil(day);
    let holiday = s.holidays.iter().any(|h| *h == format!("{y:04}-{m:02}-{d:02}"));
    let wd = zone::weekday(day);
    s.hours.iter().filter(move |h| !holiday && h.day.index() == wd).filter_map(move |h| {
        let (open, close) = (minutes(&h.open, false)?, minutes(&h.close, true)?);
        Some((day * DAY_MS + open * 60_000, day * DAY_MS + close * 60_000))
    })
}

/// Whether `now` is within business hours (always, for a desk without any).
pub fn within_hours(s: &Settings, now: i64) -> bool {
    if s.hours.is_empty() {
        return true;
    }
    let local = zone_of(s).local(now);
    intervals(s, local.div_euclid(DAY_MS)).any(|(open, close)| open <= local && local < close)
}

/// When business hours next begin after `now` (`None`: no hours, or none within 400 days).
pub fn next_open(s: &Settings, now: i64) -> Option<i64> {
    let zone = zone_of(s);
    let today = zone.local(now).div_euclid(DAY_MS);
    (today..today + LOOKAHEAD_DAYS)
        .flat_map(|day| intervals(s, day).collect::<Vec<_>>())
        .map(|(open, _)| zone.utc(open))
        .find(|at| *at > now)
}

/// Initials of a display name: the first letter of its first two words, upper case.
pub fn initials(name: &str) -> String {
    let letters: String =
        name.split_whitespace().filter_map(|w| w.chars().find(|c| c.is_alphanumeric())).take(2).collect();
    let letters = if letters.is_empty() { name.chars().take(1).collect() } else { letters };
    // ASCII only: full Unicode case tables would cost the worker more than initials are worth.
    letters.to_ascii_uppercase()
}

/// The agents available now: active, status `online`, with an inbox open.
fn available(view: &dyn View) -> Vec<Agent> {
    let mut agents: Vec<Agent> =
        view.agents().into_iter().filter(|a| !a.pending && !a.away && view.agent_online(&a.id)).collect();
    agents.sort_by(|a, b| a.name.cmp(&b.name));
    agents
}

/// What the status endpoint answers.
pub fn availability(view: &dyn View, now: i64) -> Availability {
    let settings = view.settings();
    let open = within_hours(&settings, now);
    let agents = if open { available(view) } else { Vec::new() };
    let online = !agents.is_empty();
    Availability {
        online,
        agents: agents
            .iter()
            .take(STATUS_AGENTS)
            .map(|a| PublicAgent { name: a.name.clone(), initials: initials(&a.name) })
            .collect(),
        next_open_at: if open { None } else { next_open(&settings, now) },
        reply_time: settings.reply_time,
    }
}

/// Whether the desk is online now (what the away message is decided on).
pub fn online(view: &dyn View, now: i64) -> bool {
    within_hours(&view.settings(), now) && !available(view).is_empty()
}

/// `{"type":"settings"}`: any member of the team may read them.
pub(super) fn show(view: &dyn View) -> Vec<Effect> {
    vec![send(Audience::Sender, Outbound::settings((*view.settings()).clone()))]
}

/// `settings_update`: the owner and admins; validated as a whole before anything is stored.
pub(super) fn update(agent: &Agent, update: SettingsUpdate, view: &dyn View) -> Result<Vec<Effect>, FrameError> {
    if agent.role == Role::Agent {
        return Err(FrameError::Forbidden("only the owner and admins change the desk's settings"));
    }
    let s = validate((*view.settings()).clone().merged(update)).map_err(FrameError::Settings)?;
    Ok(vec![
        Effect::Store(Write::Settings { settings: Box::new(s.clone()) }),
        send(Audience::Admins, Outbound::settings(s)),
    ])
}

/// `status`: an agent sets its own status; every inbox sees it.
pub(super) fn set_status(agent: &Agent, status: AgentStatus) -> Vec<Effect> {
    vec![
        Effect::Store(Write::AgentStatus { agent_id: agent.id.clone(), away: status == AgentStatus::Away }),
        send(Audience::Admins, Outbound::AgentStatus { agent_id: agent.id.clone(), status }),
    ]
}

/// A visitor leaves (or changes) its email: validated, stored with the visitor, acked with
/// `email_saved`; agents get the row.
pub(super) fn visitor_email(user_id: &str, email: Option<String>, view: &dyn View) -> Result<Vec<Effect>, FrameError> {
    let email = email.as_deref().and_then(valid_email).ok_or(FrameError::BadEmail)?;
    let mut effects = save_email(user_id, Some(email), view)?;
    effects.push(send(Audience::Visitor(user_id.to_owned()), Outbound::EmailSaved));
    Ok(effects)
}

/// An agent edits a visitor's email (`null` or `""` removes it).
pub(super) fn agent_email(
    user_id: Option<String>,
    email: Option<String>,
    view: &dyn View,
) -> Result<Vec<Effect>, FrameError> {
    let user_id = user_id.ok_or_else(|| FrameError::BadFrame("an agent's email frame needs userId".into()))?;
    let email = match email.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => Some(valid_email(raw).ok_or(FrameError::BadEmail)?),
    };
    save_email(&user_id, email, view)
}

fn save_email(user_id: &str, email: Option<String>, view: &dyn View) -> Result<Vec<Effect>, FrameError> {
    let mut conversation = view.conversation(user_id).ok_or(FrameError::UnknownUser)?;
    conversation.email = email.clone();
    let mut effects = vec![Effect::Store(Write::Email { user_id: user_id.to_owned(), email })];
    // Visitors who never wrote are in no list: their row goes out with their first message.
    if conversation.last.is_some() {
        effects.push(send(Audience::Admins, Outbound::User { user: row(view, &conversation) }));
    }
    Ok(effects)
}

/// A conversation went unanswered (`desk::notify`): the desk's automatic message, if the owner
/// wrote one and this conversation has had none (the same once-per-conversation mark as away).
pub fn unanswered(user_id: &str, view: &dyn View, now: i64, fresh: &mut dyn super::Fresh) -> Vec<Effect> {
    let Some(mut conv) = view.conversation(user_id) else {
        return Vec::new();
    };
    let text = view.settings().away_message.clone();
    if conv.away_sent || text.is_empty() || conv.status != crate::protocol::Status::Open {
        return Vec::new();
    }
    let info = EventInfo { kind: AWAY_KIND.into(), ..Default::default() };
    let seq = view.next_seq();
    let message = WireMessage {
        id: fresh.id(),
        seq,
        sender: Author::Admin,
        message: text,
        at: now,
        client_msg_id: None,
        agent_id: None,
        agent_name: None,
        event: Some(info),
        attachment: None,
    };
    conv.activity(&message);
    conv.away_sent = true;
    vec![
        Effect::Store(Write::Append {
            user_id: user_id.to_owned(),
            message: message.clone(),
            author_id: String::new(),
        }),
        send(Audience::Visitor(user_id.to_owned()), Outbound::live(&message, None)),
        send(Audience::Admins, Outbound::live(&message, Some(user_id.to_owned()))),
        send(Audience::Admins, Outbound::User { user: row(view, &conv) }),
    ]
}

/// The away message's text, if the desk should send one now to a conversation that has had none.
pub(super) fn away_text(view: &dyn View, away_sent: bool, now: i64) -> Option<String> {
    if away_sent {
        return None;
    }
    let settings = view.settings();
    (!settings.away_message.is_empty() && !online(view, now)).then(|| settings.away_message.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_dates_are_read_strictly() {
        assert_eq!(minutes("09:30", false), Some(570));
        assert_eq!(minutes("24:00", true), Some(1440));
        assert_eq!(minutes("24:00", false), None);
        assert_eq!(minutes("9:30", false), None);
        assert_eq!(minutes("09:60", false), None);
        assert!(date("2026-02-28").is_some());
        assert!(date("2026-02-29").is_none());
        assert!(date("2028-02-29").is_some());
        assert!(date("26-02-28").is_none());
    }

    #[test]
    fn initials_of_names() {
        assert_eq!(initials("Ana Lima"), "AL");
        assert_eq!(initials("ben"), "B");
        assert_eq!(initials("zoë de la Cruz"), "ZD");
    }
}
