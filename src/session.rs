//! What a socket gets when it opens or comes back, and when a silent one counts as gone.
//!
//! Pure, like the rest of the core. A client that reconnects says where it left off
//! (`since`: the largest `seq` it has seen; `epoch`: the desk history it saw it in). If the epoch is
//! the desk's and the gap is small, it gets exactly what it missed, in `seq` order; otherwise a
//! fresh snapshot, marked `resumed: false`, which tells it to reload what it shows.

use crate::desk::Conversation;
use crate::protocol::{
    fitting, json_len, newest_page, total_fits, Me, Outbound, UserRow, WireMessage, MAX_EPOCH_CHARS, MAX_USERS_ROWS,
    RESUME_MAX_MESSAGES,
};

mod liveness;
pub use liveness::{sweep_step, sweep_tag, Liveness, SweepRound, SWEEP_GROUPS};

/// Where a reconnecting client left off, from its query string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResumePoint {
    pub since: i64,
    pub epoch: String,
}

impl ResumePoint {
    /// Reads `since` and `epoch` from query parameters: both or neither. `Err` names the problem.
    pub fn from_query(since: Option<&str>, epoch: Option<&str>) -> Result<Option<Self>, &'static str> {
        match (since, epoch) {
            (None, None) => Ok(None),
            (Some(since), Some(epoch)) => {
                let since = since.parse::<i64>().ok().filter(|s| *s >= 0).ok_or("since must be a seq (0 or more)")?;
                if epoch.is_empty() || epoch.chars().count() > MAX_EPOCH_CHARS {
                    return Err("epoch must be the desk's epoch from an earlier welcome or users frame");
                }
                Ok(Some(ResumePoint { since, epoch: epoch.to_owned() }))
            }
            _ => Err("since and epoch go together"),
        }
    }
}

/// What to load for a (re)connecting socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    /// The messages after this `seq`: the client's view is current up to it.
    After(i64),
    /// A fresh snapshot: a first connection, or the client's epoch is not the desk's.
    Fresh,
}

pub fn replay(desk_epoch: &str, resume: Option<&ResumePoint>) -> Replay {
    match resume {
        Some(point) if point.epoch == desk_epoch => Replay::After(point.since),
        _ => Replay::Fresh,
    }
}

/// What the glue loaded for a [`Replay`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backlog<M> {
    /// After `since`, oldest first, at most `RESUME_MAX_MESSAGES + 1` (one extra shows the gap is too large).
    Missed(Vec<M>),
    /// The newest messages, newest first, at most `limit + 1` (one extra shows older ones exist).
    Latest(Vec<M>),
}

/// The gap is larger than a resume replays (more than `RESUME_MAX_MESSAGES` messages, or more
/// bytes than one frame's budget): load [`Backlog::Latest`] and build again. The client then gets
/// `resumed: false` and replaces what it shows, as it does after any gap too large.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooFarBehind;

fn too_far<M>(missed: &[M]) -> bool {
    missed.len() > RESUME_MAX_MESSAGES as usize
}

/// The first frame of a visitor socket. A fresh one holds the newest messages that fit in
/// `MAX_SEND_BYTES` (at most `limit`), `hasMore` if older ones exist; a resumed one holds every
/// missed message, or is [`TooFarBehind`] if they do not all fit.
pub fn welcome(
    conversation: &Conversation,
    token: String,
    epoch: &str,
    limit: u32,
    backlog: Backlog<WireMessage>,
) -> Result<Outbound, TooFarBehind> {
    let frame = |messages: Vec<WireMessage>, has_more: bool, resumed: bool| Outbound::Welcome {
        user_id: conversation.user_id.clone(),
        token: token.clone(),
        name: conversation.name.clone(),
        messages,
        has_more,
        epoch: epoch.to_owned(),
        resumed,
        verified_id: conversation.verified_id.clone(),
        read_seq: conversation.read_seq,
        seen_seq: conversation.seen_seq,
        email: conversation.email.clone(),
    };
    let base = json_len(&frame(Vec::new(), false, false));
    match backlog {
        Backlog::Missed(missed) if too_far(&missed) => Err(TooFarBehind),
        Backlog::Missed(missed) => {
            let missed: Vec<_> = missed.into_iter().map(WireMessage::for_visitor).collect();
            if fitting(base, &missed) < missed.len() {
                return Err(TooFarBehind);
            }
            Ok(frame(missed, false, true))
        }
        Backlog::Latest(newest_first) => {
            let (page, has_more) = newest_page(base, newest_first, limit, WireMessage::for_visitor);
            Ok(frame(page, has_more, false))
        }
    }
}

/// The first frames of an admin socket: the sidebar (with who signed in; of `rows`, newest
/// first, at most `MAX_USERS_ROWS` and as many as fit in one frame, `hasMore` if some were left
/// out), then (on a resume) every message, note and event the agent missed, in `seq` order, each
/// naming its conversation. A replay of more than `RESUME_MAX_MESSAGES` messages or more than
/// `MAX_SEND_BYTES` in all is [`TooFarBehind`].
pub fn admin_snapshot(
    mut rows: Vec<UserRow>,
    epoch: &str,
    latest_seq: i64,
    me: Me,
    missed: Option<Vec<(String, WireMessage)>>,
) -> Result<Vec<Outbound>, TooFarBehind> {
    if missed.as_deref().is_some_and(too_far) {
        return Err(TooFarBehind);
    }
    let replayed: Vec<Outbound> =
        missed.iter().flatten().map(|(user_id, m)| Outbound::live(m, Some(user_id.clone()))).collect();
    if !total_fits(&replayed) {
        return Err(TooFarBehind);
    }
    let resumed = missed.is_some();
    let mut users = Outbound::Users {
        users: Vec::new(),
        epoch: epoch.to_owned(),
        seq: latest_seq,
        resumed,
        me: Some(me),
        has_more: false,
    };
    let more = rows.len() > MAX_USERS_ROWS as usize;
    rows.truncate(MAX_USERS_ROWS as usize);
    let fit = fitting(json_len(&users), &rows);
    if let Outbound::Users { users, has_more, .. } = &mut users {
        *has_more = more || fit < rows.len();
        rows.truncate(fit);
        *users = rows;
    }
    Ok(std::iter::once(users).chain(replayed).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Author;

    fn m(seq: i64) -> WireMessage {
        WireMessage {
            id: format!("m{seq}"),
            seq,
            sender: Author::User,
            message: "x".into(),
            at: seq,
            client_msg_id: None,
            agent_id: None,
            agent_name: None,
            event: None,
            attachment: None,
        }
    }

    #[test]
    fn resume_points_come_in_pairs_and_must_be_sane() {
        assert_eq!(ResumePoint::from_query(None, None), Ok(None));
        let p = ResumePoint::from_query(Some("12"), Some("e1")).unwrap().unwrap();
        assert_eq!((p.since, p.epoch.as_str()), (12, "e1"));
        assert!(ResumePoint::from_query(Some("12"), None).is_err());
        assert!(ResumePoint::from_query(None, Some("e1")).is_err());
        assert!(ResumePoint::from_query(Some("-1"), Some("e1")).is_err());
        assert!(ResumePoint::from_query(Some("x"), Some("e1")).is_err());
        assert!(ResumePoint::from_query(Some("1"), Some(&"e".repeat(65))).is_err());
    }

    #[test]
    fn only_the_current_epoch_resumes() {
        let p = ResumePoint { since: 4, epoch: "now".into() };
        assert_eq!(replay("now", Some(&p)), Replay::After(4));
        assert_eq!(replay("reset", Some(&p)), Replay::Fresh);
        assert_eq!(replay("now", None), Replay::Fresh);
    }

    #[test]
    fn a_resumed_welcome_carries_exactly_the_missed_messages() {
        let c = Conversation::new("u", "U");
        let w = welcome(&c, "t".into(), "e", 200, Backlog::Missed(vec![m(5), m(9)])).unwrap();
        let Outbound::Welcome { messages, resumed, has_more, .. } = w else { panic!("welcome") };
        assert_eq!((messages.iter().map(|m| m.seq).collect::<Vec<_>>(), resumed, has_more), (vec![5, 9], true, false));
        let gap = (1..=RESUME_MAX_MESSAGES as i64 + 1).map(m).collect();
        assert_eq!(welcome(&c, "t".into(), "e", 200, Backlog::Missed(gap)), Err(TooFarBehind));
        let Ok(Outbound::Welcome { messages, resumed, has_more, .. }) =
            welcome(&c, "t".into(), "e", 2, Backlog::Latest(vec![m(3), m(2), m(1)]))
        else {
            panic!("welcome")
        };
        assert_eq!((messages.iter().map(|m| m.seq).collect::<Vec<_>>(), resumed, has_more), (vec![2, 3], false, true));
    }

    #[test]
    fn an_admin_resume_replays_missed_messages_after_the_sidebar() {
        let me = || crate::desk::Agent::owner(None).me();
        let frames = admin_snapshot(vec![], "e", 9, me(), Some(vec![("a".into(), m(8)), ("b".into(), m(9))])).unwrap();
        let json: Vec<String> = frames.iter().map(Outbound::to_json).collect();
        assert!(json[0].starts_with(r#"{"type":"users","users":[],"epoch":"e","seq":9,"resumed":true,"me":{"#));
        assert!(json[1].contains(r#""userId":"a""#) && json[1].contains(r#""seq":8"#));
        assert!(json[2].contains(r#""userId":"b""#) && json[2].contains(r#""seq":9"#));
        assert_eq!(admin_snapshot(vec![], "e", 9, me(), None).map(|f| f.len()), Ok(1));
        let gap = (1..=RESUME_MAX_MESSAGES as i64 + 1).map(|s| ("a".to_string(), m(s))).collect();
        assert_eq!(admin_snapshot(vec![], "e", 600, me(), Some(gap)), Err(TooFarBehind));
    }
}
