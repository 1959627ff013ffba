//! The desk's settings and availability as they travel: business hours, holidays, time zone,
//! expected reply time and the away message (`settings`, `settings_update`), an agent's status
//! (`status`), and the body of `GET /desks/{desk}/status`. Their limits live here; what they
//! mean (validation, "is the desk open") is `desk::availability`.

use serde::{Deserialize, Serialize};

use crate::json_fields::unit_enum;

/// Most opening intervals in a week (three per day).
pub const MAX_HOURS: usize = 21;
/// Most holidays a desk keeps.
pub const MAX_HOLIDAYS: usize = 100;
/// Longest away message, in characters.
pub const MAX_AWAY_CHARS: usize = 1_000;
/// Longest time zone name (the longest IANA name is 32 characters).
pub const MAX_ZONE_CHARS: usize = 64;
/// Longest `unansweredMinutes` (a day), and its default (`desk::notify`).
pub const MAX_UNANSWERED_MINUTES: u32 = 1_440;
pub const UNANSWERED_MINUTES: u32 = 5;
/// Agents listed by the status endpoint (the first who are online, by name).
pub const STATUS_AGENTS: usize = 5;

/// Days of the week, as the wire writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Day {
    Sun,
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
}
unit_enum!(Day { Sun = "sun", Mon = "mon", Tue = "tue", Wed = "wed", Thu = "thu", Fri = "fri", Sat = "sat" });

impl Day {
    /// 0 Sunday to 6 Saturday, as `zone::weekday` counts.
    pub fn index(self) -> u32 {
        self as u32
    }
}

/// One opening interval: on `day`, from `open` to `close` (`"HH:MM"`, local to the desk's
/// time zone; `close` may be `"24:00"`). An interval never spans midnight: write two.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hours {
    pub day: Day,
    pub open: String,
    pub close: String,
}

/// How soon the team usually answers, shown by the widget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ReplyTime {
    /// Within a few minutes.
    #[default]
    Minutes,
    /// Within a few hours.
    Hours,
    /// Within a day.
    Day,
}
unit_enum!(ReplyTime { Minutes = "minutes", Hours = "hours", Day = "day" });

/// The desk's settings as the `settings` frame shows them. Stored as the `settings_update` that
/// recreates them, and read back through `protocol::parse` (one deserialiser for both, which
/// keeps the worker smaller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// An IANA name (`Europe/Paris`); the default is `UTC`.
    pub time_zone: String,
    /// Opening intervals; empty (the default): no business hours, open whenever an agent is.
    pub hours: Vec<Hours>,
    /// Dates (`YYYY-MM-DD`, in the desk's time zone) the desk stays closed all day.
    pub holidays: Vec<String>,
    pub reply_time: ReplyTime,
    /// Sent once per conversation when a visitor writes while the desk is away; empty (the
    /// default, so that existing desks do not start answering by themselves): none is sent.
    pub away_message: String,
    /// A visitor's message with no agent reply for this long makes its conversation unanswered
    /// (`desk::notify`): opted-in agents get an email. 1 to 1440; default 5.
    pub unanswered_minutes: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            time_zone: "UTC".into(),
            hours: Vec::new(),
            holidays: Vec::new(),
            reply_time: ReplyTime::default(),
            away_message: String::new(),
            unanswered_minutes: UNANSWERED_MINUTES,
        }
    }
}

impl Settings {
    /// These settings with the fields `update` gives replaced.
    pub fn merged(mut self, update: SettingsUpdate) -> Settings {
        let SettingsUpdate { time_zone, hours, holidays, reply_time, away_message, unanswered_minutes } = update;
        self.time_zone = time_zone.unwrap_or(self.time_zone);
        self.hours = hours.unwrap_or(self.hours);
        self.holidays = holidays.unwrap_or(self.holidays);
        self.reply_time = reply_time.unwrap_or(self.reply_time);
        self.away_message = away_message.unwrap_or(self.away_message);
        self.unanswered_minutes = unanswered_minutes.unwrap_or(self.unanswered_minutes);
        self
    }

    /// The `settings_update` frame that recreates these settings (how the desk stores them).
    pub fn as_update_frame(&self) -> String {
        let json = super::Outbound::settings(self.clone()).to_json();
        match json.strip_prefix(r#"{"type":"settings","#) {
            Some(rest) => format!(r#"{{"type":"settings_update",{rest}"#),
            None => r#"{"type":"settings_update"}"#.into(),
        }
    }

    /// Settings stored by [`Settings::as_update_frame`] (the defaults if the text is not one).
    pub fn from_update_frame(text: &str) -> Settings {
        match super::parse(text) {
            Ok(super::Inbound::SettingsUpdate(update)) => Settings::default().merged(update),
            _ => Settings::default(),
        }
    }
}

/// A `settings_update`: the fields given replace the stored ones, absent ones stay.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SettingsUpdate {
    #[serde(default)]
    pub time_zone: Option<String>,
    #[serde(default)]
    pub hours: Option<Vec<Hours>>,
    #[serde(default)]
    pub holidays: Option<Vec<String>>,
    #[serde(default)]
    pub reply_time: Option<ReplyTime>,
    #[serde(default)]
    pub away_message: Option<String>,
    #[serde(default)]
    pub unanswered_minutes: Option<u32>,
}

/// An agent's own status: `online` (the default) or `away`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AgentStatus {
    #[default]
    Online,
    Away,
}
unit_enum!(AgentStatus { Online = "online", Away = "away" });

/// An agent as the status endpoint shows them to anyone: the name visitors already see on
/// replies, and its initials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublicAgent {
    pub name: String,
    pub initials: String,
}

/// The body of `GET /desks/{desk}/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Availability {
    /// At least one agent available, within business hours.
    pub online: bool,
    /// The agents available now (empty when the desk is not online), at most `STATUS_AGENTS`.
    pub agents: Vec<PublicAgent>,
    /// Outside business hours: when they begin next (ms since the epoch).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_open_at: Option<i64>,
    pub reply_time: ReplyTime,
}

impl Availability {
    pub fn to_json(&self) -> String {
        // Strings, numbers and a bool: serialising cannot fail; the fallback keeps it panic-free.
        crate::protocol::json_text(self)
            .unwrap_or_else(|_| r#"{"online":false,"agents":[],"replyTime":"minutes"}"#.into())
    }
}
