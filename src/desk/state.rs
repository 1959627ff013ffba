//! A conversation's state as stored: the visitor, unread and seen marks, the latest message, status,
//! assignee, the day's bytes, the email left and the away mark; how each write changes it (the
//! same as SQLite does), its sidebar row, and which views it belongs in.

use super::{is_away_message, Write};
use crate::protocol::{truncate, Author, ListView, Status, UserRow, WireMessage, PREVIEW_CHARS};

/// One visitor and the state of their conversation, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    pub user_id: String,
    pub name: String,
    /// Visitor messages since an agent last sent `read` (at least 1 after `unread`).
    pub unread: u32,
    /// The `seq` up to which an agent has read.
    pub read_seq: i64,
    /// The `seq` up to which the visitor has seen it on screen (`seen`); never goes down.
    pub seen_seq: i64,
    /// The latest visitor or agent message: preview, author, time, seq. `None` before the first.
    pub last: Option<LastMessage>,
    /// The host site's user id, for a visitor whose identity it vouched for (`identity.rs`).
    pub verified_id: Option<String>,
    pub status: Status,
    /// When a snoozed conversation reopens by itself.
    pub snoozed_until: Option<i64>,
    /// The agent it is assigned to.
    pub assignee: Option<String>,
    /// What the visitor wrote on its latest day of writing (`VISITOR_BYTES_PER_DAY`).
    pub usage: DayUsage,
    /// The email the visitor left (or an agent wrote in).
    pub email: Option<String>,
    /// The desk's automatic away message was sent to this conversation (once per conversation).
    pub away_sent: bool,
}

/// Message bytes (UTF-8) a visitor wrote on one UTC day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayUsage {
    pub day: i64,
    pub bytes: u64,
}

impl DayUsage {
    /// Bytes written on the day of `now` (0 on a later day).
    pub fn on(&self, now: i64) -> u64 {
        if self.day == crate::limits::day(now) {
            self.bytes
        } else {
            0
        }
    }

    /// After one more message of `bytes` written at `at`.
    pub fn add(&self, bytes: u64, at: i64) -> DayUsage {
        DayUsage { day: crate::limits::day(at), bytes: self.on(at).saturating_add(bytes) }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastMessage {
    pub preview: String,
    pub sender: Author,
    pub at: i64,
    pub seq: i64,
}

impl Conversation {
    /// A visitor with no messages yet.
    pub fn new(user_id: impl Into<String>, name: impl Into<String>) -> Self {
        Conversation {
            user_id: user_id.into(),
            name: name.into(),
            unread: 0,
            read_seq: 0,
            seen_seq: 0,
            last: None,
            verified_id: None,
            status: Status::Open,
            snoozed_until: None,
            assignee: None,
            usage: DayUsage::default(),
            email: None,
            away_sent: false,
        }
    }

    /// The admin sidebar row; `online` and the assignee's name come from the view.
    pub fn row(&self, online: bool) -> UserRow {
        UserRow {
            user_id: self.user_id.clone(),
            name: self.name.clone(),
            unread: self.unread,
            last_message: self.last.as_ref().map(|l| l.preview.clone()),
            last_sender: self.last.as_ref().map(|l| l.sender),
            last_at: self.last.as_ref().map(|l| l.at),
            online,
            verified_id: self.verified_id.clone(),
            status: self.status,
            snoozed_until: self.snoozed_until.filter(|_| self.status == Status::Snoozed),
            assignee_id: self.assignee.clone(),
            assignee_name: None,
            last_seq: self.last.as_ref().map(|l| l.seq),
            context: None,
            read_seq: self.read_seq,
            seen_seq: self.seen_seq,
            email: self.email.clone(),
        }
    }

    /// Whether this conversation belongs in `view` for agent `me`.
    pub fn in_view(&self, view: ListView, me: &str) -> bool {
        match view {
            ListView::All => self.status != Status::Blocked,
            ListView::Blocked => self.status == Status::Blocked,
            ListView::Open => self.status == Status::Open,
            ListView::Mine => self.status == Status::Open && self.assignee.as_deref() == Some(me),
            ListView::Unassigned => self.status == Status::Open && self.assignee.is_none(),
            ListView::Snoozed => self.status == Status::Snoozed,
            ListView::Resolved => self.status == Status::Resolved,
        }
    }

    /// What `write` does to this conversation, exactly as SQLite applies it (`store.rs`), so a
    /// copy kept in memory (`view_cache`, `memory`) stays equal to the stored row. The caller
    /// checks that the write is for this conversation (`Write::user_id`). SQLite keeps read
    /// marks, status and assignee in a row that the first visitor or agent message creates, so
    /// before one (`last` is `None`) only names and messages change anything.
    pub fn apply(&mut self, write: &Write) {
        let begun = self.last.is_some();
        match write {
            Write::Append { message, .. } => {
                if message.sender.public() {
                    self.activity(message);
                }
                if message.sender == Author::User {
                    self.unread = self.unread.saturating_add(1);
                    self.usage = self.usage.add(message.message.len() as u64, message.at);
                }
                if is_away_message(message) {
                    self.away_sent = true;
                }
            }
            Write::Read { up_to, .. } if begun => {
                self.unread = 0;
                self.read_seq = *up_to;
            }
            Write::Seen { up_to, .. } if begun => self.seen_seq = self.seen_seq.max(*up_to),
            Write::Unread { .. } if begun => self.unread = self.unread.max(1),
            Write::Status { status, until, .. } if begun => {
                self.status = *status;
                self.snoozed_until = *until;
            }
            Write::Assign { agent_id, .. } if begun => self.assignee = agent_id.clone(),
            Write::TouchVisitor { name: Some(name), .. } => self.name = name.clone(),
            Write::Email { email, .. } => self.email = email.clone(),
            _ => {}
        }
    }

    pub(crate) fn activity(&mut self, message: &WireMessage) {
        self.last = Some(LastMessage {
            preview: truncate(&message.message, PREVIEW_CHARS).to_owned(),
            sender: message.sender,
            at: message.at,
            seq: message.seq,
        });
    }
}
