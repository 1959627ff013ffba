//! Who is told by email, and when (issue 14, "Nobody left waiting"): the visitor's follow-up when
//! an agent replied after it left, the `conversation.unanswered` detection, the email limits, and
//! an agent's own opt-in (`email_alerts`). Pure: the glue reads each conversation's [`Pending`]
//! state from SQLite (`store::mail`), passes `now`, and performs the [`Notice`]s (`desk_object::mail`).
//!
//! The seam for other notifiers (webhooks, Web Push): [`decide`] returns every
//! [`Notice::Unanswered`] exactly once per wait, and the glue marks it told in the same pass; a
//! notifier hooks onto that notice (one `conversation.unanswered` per `(user_id, since_seq)`),
//! whatever email does with it.

use super::{send, Agent, Audience, Effect, View, Write};
use crate::error::FrameError;
use crate::protocol::{valid_email, Outbound};

/// When a visitor with no open socket gets agents' replies by email: this long after the later
/// of its leaving and the latest reply (`FOLLOWUP_AFTER_MS`), so a burst of replies is one email.
pub const FOLLOWUP_AFTER_MS: i64 = 120_000;
/// Emails one visitor may receive per day (`MAIL_PER_VISITOR_DAY`).
pub const MAIL_PER_VISITOR_DAY: u32 = 10;
/// Emails one desk may send per hour (`MAIL_PER_DESK_HOUR`), visitors' and agents' together.
pub const MAIL_PER_DESK_HOUR: u32 = 100;
/// Replies one follow-up email carries at most (the latest ones; older ones are counted).
pub const MAX_REPLIES_PER_MAIL: usize = 20;

/// The delays and limits, from the Worker's variables (tests make the delays tiny).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailRules {
    pub followup_after_ms: i64,
    /// `None`: the desk's `unansweredMinutes` setting decides (`UNANSWERED_MS` overrides it).
    pub unanswered_ms: Option<i64>,
    pub per_visitor_day: u32,
    pub per_desk_hour: u32,
}

impl Default for MailRules {
    fn default() -> Self {
        MailRules {
            followup_after_ms: FOLLOWUP_AFTER_MS,
            unanswered_ms: None,
            per_visitor_day: MAIL_PER_VISITOR_DAY,
            per_desk_hour: MAIL_PER_DESK_HOUR,
        }
    }
}

impl MailRules {
    /// From the Worker's variables; a missing or unreadable one keeps its default.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let num = |key: &str| var(key).and_then(|v| v.trim().parse::<i64>().ok()).filter(|n| *n >= 0);
        let d = MailRules::default();
        MailRules {
            followup_after_ms: num("FOLLOWUP_AFTER_MS").unwrap_or(d.followup_after_ms),
            unanswered_ms: num("UNANSWERED_MS"),
            per_visitor_day: num("MAIL_PER_VISITOR_DAY").map_or(d.per_visitor_day, |n| n.min(u32::MAX as i64) as u32),
            per_desk_hour: num("MAIL_PER_DESK_HOUR").map_or(d.per_desk_hour, |n| n.min(u32::MAX as i64) as u32),
        }
    }
}

/// One conversation with something that may be due, as SQLite says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pending {
    pub user_id: String,
    /// The address the visitor left (`None`: none).
    pub email: Option<String>,
    pub unsubscribed: bool,
    /// The visitor has an open socket now.
    pub connected: bool,
    /// When its last socket closed (`None`: not recorded; the glue records `now` then).
    pub left_at: Option<i64>,
    /// The latest agent reply (seq, time); 0: none.
    pub reply_seq: i64,
    pub reply_at: i64,
    /// Replies up to this seq were mailed (or passed over).
    pub mailed_seq: i64,
    /// The visitor has seen its conversation up to here (its widget said so).
    pub seen_seq: i64,
    /// The first visitor message no agent has answered yet (seq, time); 0: nobody waits.
    pub wait_seq: i64,
    pub wait_at: i64,
    /// The wait already reported unanswered (its `wait_seq`).
    pub told_seq: i64,
    /// Emails this visitor got in the 24 hours before `now`.
    pub mailed_today: u32,
}

/// What the glue does for one conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// Mail the visitor its agents' replies with seq in `(after_seq, up_to]`, then mark `up_to` mailed.
    FollowUp { user_id: String, to: String, after_seq: i64, up_to: i64 },
    /// Replies up to `up_to` will never be mailed (no address, unsubscribed, seen, refused): mark them.
    PassOver { user_id: String, up_to: i64, why: PassReason },
    /// The wait that began with visitor message `since_seq` (at `since_at`) got no agent reply in
    /// time: told once (mark `since_seq` told). Agents who opted in get an email; webhooks hook here.
    Unanswered { user_id: String, since_seq: i64, since_at: i64 },
}

/// Why replies are passed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassReason {
    NoAddress,
    Unsubscribed,
    /// The visitor saw them on screen.
    Seen,
    /// `per_visitor_day` reached: logged as a refusal.
    VisitorLimit,
    /// `per_desk_hour` reached: logged as a refusal.
    DeskLimit,
}

impl PassReason {
    pub fn as_str(self) -> &'static str {
        match self {
            PassReason::NoAddress => "no_address",
            PassReason::Unsubscribed => "unsubscribed",
            PassReason::Seen => "seen",
            PassReason::VisitorLimit => "visitor_limit",
            PassReason::DeskLimit => "desk_limit",
        }
    }

    /// A limit refused the email (worth a log line and a row in the mail log).
    pub fn is_refusal(self) -> bool {
        matches!(self, PassReason::VisitorLimit | PassReason::DeskLimit)
    }
}

/// What a pass over the pending conversations decided, and when to look again.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Decision {
    pub notices: Vec<Notice>,
    /// The earliest time something not yet due becomes due (the alarm's next time).
    pub next: Option<i64>,
}

/// Decides, at `now`, what is due for each pending conversation. `unanswered_ms`: the wait after
/// which a conversation is unanswered; `sent_hour`: emails the desk sent in the hour before `now`
/// (each follow-up decided here counts against the limit, in order).
pub fn decide(now: i64, pending: &[Pending], rules: &MailRules, unanswered_ms: i64, sent_hour: u32) -> Decision {
    let mut d = Decision::default();
    let mut sent = sent_hour;
    let later = |at: i64, d: &mut Decision| d.next = Some(d.next.map_or(at, |n| n.min(at)));
    for p in pending {
        if p.wait_seq > 0 && p.wait_seq > p.told_seq {
            let due = p.wait_at + unanswered_ms;
            if now >= due {
                d.notices.push(Notice::Unanswered {
                    user_id: p.user_id.clone(),
                    since_seq: p.wait_seq,
                    since_at: p.wait_at,
                });
            } else {
                later(due, &mut d);
            }
        }
        if p.reply_seq <= p.mailed_seq {
            continue;
        }
        let pass = |why| Notice::PassOver { user_id: p.user_id.clone(), up_to: p.reply_seq, why };
        let Some(to) = p.email.clone() else {
            d.notices.push(pass(PassReason::NoAddress));
            continue;
        };
        if p.unsubscribed {
            d.notices.push(pass(PassReason::Unsubscribed));
            continue;
        }
        if p.connected {
            continue; // the socket delivers; when it closes, `left_at` starts the clock
        }
        if p.seen_seq >= p.reply_seq {
            d.notices.push(pass(PassReason::Seen));
            continue;
        }
        let left = p.left_at.unwrap_or(now);
        let due = left.max(p.reply_at) + rules.followup_after_ms;
        if now < due {
            later(due, &mut d);
            continue;
        }
        if p.mailed_today >= rules.per_visitor_day {
            d.notices.push(pass(PassReason::VisitorLimit));
        } else if sent >= rules.per_desk_hour {
            d.notices.push(pass(PassReason::DeskLimit));
        } else {
            sent += 1;
            let after_seq = p.mailed_seq.max(p.seen_seq);
            d.notices.push(Notice::FollowUp { user_id: p.user_id.clone(), to, after_seq, up_to: p.reply_seq });
        }
    }
    d
}

/// An agent's email preferences, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Alerts {
    /// Email me when a conversation is unanswered.
    pub unanswered: bool,
    /// Where to (`None`: the agent's own email, from its invite or Access). Kept apart from that
    /// email on purpose: the agent's email is how Access signs it in, and this one signs in nobody.
    pub email: Option<String>,
}

/// `email_alerts`: an agent reads (no fields) or sets its own opt-in to unanswered-conversation
/// emails, and may give the address they go to (`""`: back to its own email).
pub(super) fn alerts(
    agent: &Agent,
    unanswered: Option<bool>,
    email: Option<String>,
    view: &dyn View,
) -> Result<Vec<Effect>, FrameError> {
    let current = view.alerts(&agent.id);
    let address = match email.as_deref().map(str::trim) {
        None => current.email.clone(),
        Some("") => None,
        Some(raw) => Some(valid_email(raw).ok_or(FrameError::BadEmail)?),
    };
    let on = unanswered.unwrap_or(current.unanswered);
    let shown = address.clone().or_else(|| agent.email.clone());
    let frame = Outbound::EmailAlerts { unanswered: on, email: shown, email_enabled: view.email_enabled() };
    let mut effects = Vec::new();
    if on != current.unanswered || address != current.email {
        effects.push(Effect::Store(Write::Alerts { agent_id: agent.id.clone(), unanswered: on, email: address }));
    }
    effects.push(send(Audience::Sender, frame));
    Ok(effects)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_read_from_vars() {
        let r = MailRules::from_vars(|k| (k == "FOLLOWUP_AFTER_MS").then(|| "50".into()));
        assert_eq!(r.followup_after_ms, 50);
        assert_eq!(r.unanswered_ms, None);
        let r = MailRules::from_vars(|_| Some("x".into()));
        assert_eq!(r, MailRules::default());
    }
}
