//! Conversations: messages and notes, read marks, status and assignment (each recorded as an
//! event agents see), snoozes waking; what agents and visitors read of them is `pages.rs`.

use super::{row, send, Agent, Audience, Conversation, Effect, Fresh, View, Write};
use crate::error::FrameError;
use crate::protocol::{Author, EventInfo, Inbound, Outbound, Status, WireMessage};

/// A visitor's frame: only their own conversation, only what a visitor may do.
pub(super) fn visitor_step(
    user_id: &str,
    frame: Inbound,
    view: &dyn View,
    now: i64,
    fresh: &mut dyn Fresh,
) -> Result<Vec<Effect>, FrameError> {
    // A socket still open when its visitor was blocked (its close is on its way) does nothing.
    if !matches!(frame, Inbound::Ping) && view.conversation(user_id).is_some_and(|c| c.status == Status::Blocked) {
        return Err(FrameError::Forbidden("this conversation was closed by the desk's team"));
    }
    match frame {
        Inbound::Ping => Ok(vec![send(Audience::Sender, Outbound::Pong)]),
        Inbound::Message { message, target_user_id, client_msg_id } => {
            if target_user_id.is_some() {
                return Err(FrameError::Forbidden("visitors cannot address a targetUserId"));
            }
            visitor_message(user_id, message, client_msg_id, view, now, fresh)
        }
        Inbound::History { user_id: asked, before, limit } => {
            if asked.is_some_and(|asked| asked != user_id) {
                return Err(FrameError::Forbidden("visitors can only read their own conversation"));
            }
            super::pages::history(user_id.to_owned(), before, limit, false, view)
        }
        Inbound::Context(frame) => super::context::report(user_id, frame, view, now),
        Inbound::Email { email, user_id: asked } => {
            if asked.is_some_and(|asked| asked != user_id) {
                return Err(FrameError::Forbidden("visitors can only leave their own email"));
            }
            super::availability::visitor_email(user_id, email, view)
        }
        Inbound::Read { .. } => Err(FrameError::Forbidden("only agents mark conversations read")),
        Inbound::AttachmentUrl { id } => {
            super::attachment::url(&super::Sender::Visitor { user_id: user_id.to_owned() }, &id, view, now)
        }
        Inbound::Typing { user_id: Some(asked) } if asked != user_id => {
            Err(FrameError::Forbidden("visitors can only type in their own conversation"))
        }
        Inbound::Typing { .. } => super::typing::visitor(user_id, view, now),
        Inbound::Seen { seq } => super::seen::visitor(user_id, seq, view),
        _ => Err(FrameError::Forbidden("only agents can do that")),
    }
}

fn ack(message: &WireMessage, user_id: Option<String>) -> Outbound {
    Outbound::Ack {
        client_msg_id: message.client_msg_id.clone(),
        id: message.id.clone(),
        seq: message.seq,
        at: message.at,
        user_id,
    }
}

fn message(fresh: &mut dyn Fresh, seq: i64, sender: Author, text: String, at: i64) -> WireMessage {
    WireMessage {
        id: fresh.id(),
        seq,
        sender,
        message: text,
        at,
        client_msg_id: None,
        agent_id: None,
        agent_name: None,
        event: None,
        attachment: None,
    }
}

/// An event line: what happened, said for people in `text`, for programs in `info`.
pub(super) fn event(
    fresh: &mut dyn Fresh,
    seq: i64,
    now: i64,
    text: String,
    by: Option<&Agent>,
    mut info: EventInfo,
) -> WireMessage {
    info.agent_id = by.map(|a| a.id.clone());
    info.agent_name = by.map(|a| a.name.clone());
    WireMessage { event: Some(info), ..message(fresh, seq, Author::Event, text, now) }
}

/// A retry (same author, kind and `clientMsgId`) is acked with the original and nothing else
/// happens, so a resend can never duplicate a message.
fn retry(
    view: &dyn View,
    user_id: &str,
    sender: Author,
    author_id: &str,
    client_msg_id: Option<&str>,
) -> Option<Effect> {
    let original = view.duplicate(user_id, sender, author_id, client_msg_id?)?;
    let ack_user = (sender != Author::User).then(|| user_id.to_owned());
    Some(send(Audience::Sender, ack(&original, ack_user)))
}

/// An agent's reply or note, signed with the agent's id and name.
fn by_agent(
    agent: &Agent,
    sender: Author,
    seq: i64,
    text: String,
    client_msg_id: Option<String>,
    now: i64,
    fresh: &mut dyn Fresh,
) -> WireMessage {
    WireMessage {
        client_msg_id,
        agent_id: Some(agent.id.clone()),
        agent_name: Some(agent.name.clone()),
        ..message(fresh, seq, sender, text, now)
    }
}

/// "Append this message to `user_id`'s conversation", written by `author_id`.
fn append(user_id: &str, message: &WireMessage, author_id: &str) -> Effect {
    Effect::Store(Write::Append {
        user_id: user_id.to_owned(),
        message: message.clone(),
        author_id: author_id.to_owned(),
    })
}

pub(super) fn conversation(view: &dyn View, user_id: &str) -> Result<Conversation, FrameError> {
    view.conversation(user_id).ok_or(FrameError::UnknownUser)
}

/// A conversation that has begun (at least one message): what status, assignment, unread marks
/// and notes apply to. A visitor who never wrote is not in any list yet.
pub(super) fn begun(view: &dyn View, user_id: &str) -> Result<Conversation, FrameError> {
    Some(conversation(view, user_id)?).filter(|c| c.last.is_some()).ok_or(FrameError::UnknownUser)
}

/// A visitor writes. A retry (same `clientMsgId`) is acked with the original and nothing else
/// happens. A desk over its storage budget refuses anything new. A message to a resolved or
/// snoozed conversation reopens it first.
fn visitor_message(
    user_id: &str,
    text: String,
    client_msg_id: Option<String>,
    view: &dyn View,
    now: i64,
    fresh: &mut dyn Fresh,
) -> Result<Vec<Effect>, FrameError> {
    if let Some(ack) = retry(view, user_id, Author::User, user_id, client_msg_id.as_deref()) {
        return Ok(vec![ack]);
    }
    let mut conv = conversation(view, user_id)?;
    let storage = view.storage();
    if storage.full() {
        return Ok(super::moderation::refuse_full(storage, client_msg_id, now));
    }
    // Checked before anything is stored (a retry above was stored already and costs nothing).
    crate::limits::may_write(view.bytes_per_day(), conv.usage.on(now), text.len() as u64, now)
        .map_err(|retry_after_ms| FrameError::DailyLimit { retry_after_ms })?;
    let mut seq = view.next_seq();
    let mut effects = Vec::new();
    let mut live = Vec::new();
    if conv.status != Status::Open {
        let text = format!("Reopened: {} wrote again", conv.name);
        let reopened = event(fresh, seq, now, text, None, EventInfo { kind: "reopened".into(), ..Default::default() });
        seq += 1;
        effects.push(Effect::Store(Write::Status { user_id: user_id.to_owned(), status: Status::Open, until: None }));
        effects.push(append(user_id, &reopened, ""));
        conv.status = Status::Open;
        conv.snoozed_until = None;
        live.push(send(Audience::Admins, Outbound::live(&reopened, Some(user_id.to_owned()))));
    }
    let m = WireMessage { client_msg_id, ..message(fresh, seq, Author::User, text, now) };
    effects.push(append(user_id, &m, user_id));
    conv.unread = conv.unread.saturating_add(1);
    conv.activity(&m);
    // The desk is away: its automatic message, once per conversation, after the visitor's.
    let away = super::availability::away_text(view, conv.away_sent, now).map(|text| {
        let info = EventInfo { kind: super::availability::AWAY_KIND.into(), ..Default::default() };
        WireMessage { event: Some(info), ..message(fresh, seq + 1, Author::Admin, text, now) }
    });
    if let Some(away) = &away {
        effects.push(append(user_id, away, ""));
        conv.activity(away);
        conv.away_sent = true;
    }
    // Agents who subscribed and have no inbox open are pushed (batched, `push.rs`).
    let event = super::push::PushEvent {
        event: "message".into(),
        user_id: user_id.to_owned(),
        name: conv.name.clone(),
        text: m.message.clone(),
    };
    effects.extend(super::push::queue(event, view, now));
    effects.push(send(Audience::Sender, ack(&m, None)));
    effects.push(send(Audience::VisitorOthers(user_id.to_owned()), Outbound::live(&m, None)));
    effects.extend(live);
    effects.push(send(Audience::Admins, Outbound::live(&m, Some(user_id.to_owned()))));
    if let Some(away) = &away {
        effects.push(send(Audience::Visitor(user_id.to_owned()), Outbound::live(away, None)));
        effects.push(send(Audience::Admins, Outbound::live(away, Some(user_id.to_owned()))));
    }
    effects.push(send(Audience::Admins, Outbound::User { user: row(view, &conv) }));
    Ok(effects)
}

/// An agent replies. The first reply to an unassigned conversation assigns it to its author.
pub(super) fn reply(
    agent: &Agent,
    user_id: String,
    text: String,
    client_msg_id: Option<String>,
    view: &dyn View,
    now: i64,
    fresh: &mut dyn Fresh,
) -> Result<Vec<Effect>, FrameError> {
    if let Some(ack) = retry(view, &user_id, Author::Admin, &agent.id, client_msg_id.as_deref()) {
        return Ok(vec![ack]);
    }
    let mut conv = conversation(view, &user_id)?;
    let seq = view.next_seq();
    let m = by_agent(agent, Author::Admin, seq, text, client_msg_id, now, fresh);
    let mut effects = vec![append(&user_id, &m, &agent.id)];
    conv.activity(&m);
    let mut assigned = None;
    if conv.assignee.is_none() {
        let info = EventInfo {
            kind: "assigned".into(),
            assignee_id: Some(agent.id.clone()),
            assignee_name: Some(agent.name.clone()),
            ..Default::default()
        };
        let text = format!("Assigned to {} (first reply)", agent.name);
        let e = event(fresh, seq + 1, now, text, Some(agent), info);
        effects.push(Effect::Store(Write::Assign { user_id: user_id.clone(), agent_id: Some(agent.id.clone()) }));
        effects.push(append(&user_id, &e, &agent.id));
        conv.assignee = Some(agent.id.clone());
        assigned = Some(e);
    }
    effects.push(send(Audience::Sender, ack(&m, Some(user_id.clone()))));
    effects.push(send(Audience::Visitor(user_id.clone()), Outbound::live(&m, None)));
    effects.push(send(Audience::AdminOthers, Outbound::live(&m, Some(user_id.clone()))));
    if let Some(e) = assigned {
        effects.push(send(Audience::Admins, Outbound::live(&e, Some(user_id.clone()))));
    }
    effects.push(send(Audience::Admins, Outbound::User { user: row(view, &conv) }));
    Ok(effects)
}

/// An internal note: stored and shown to agents, never to the visitor; it changes no count,
/// preview or order.
pub(super) fn note(
    agent: &Agent,
    user_id: String,
    text: String,
    client_msg_id: Option<String>,
    view: &dyn View,
    now: i64,
    fresh: &mut dyn Fresh,
) -> Result<Vec<Effect>, FrameError> {
    if let Some(ack) = retry(view, &user_id, Author::Note, &agent.id, client_msg_id.as_deref()) {
        return Ok(vec![ack]);
    }
    begun(view, &user_id)?;
    let m = by_agent(agent, Author::Note, view.next_seq(), text, client_msg_id, now, fresh);
    Ok(vec![
        append(&user_id, &m, &agent.id),
        send(Audience::Sender, ack(&m, Some(user_id.clone()))),
        send(Audience::AdminOthers, Outbound::live(&m, Some(user_id))),
    ])
}

/// Marks a conversation read: unread to 0, read mark to its latest message. Every admin socket
/// gets the new row, so every open inbox clears the badge.
pub(super) fn read(user_id: &str, view: &dyn View) -> Result<Vec<Effect>, FrameError> {
    let mut conv = conversation(view, user_id)?;
    let (before, up_to) = (conv.read_seq, conv.last.as_ref().map_or(conv.read_seq, |l| l.seq));
    conv.unread = 0;
    conv.read_seq = up_to;
    let mut effects = vec![
        Effect::Store(Write::Read { user_id: user_id.to_owned(), up_to }),
        send(Audience::Admins, Outbound::User { user: row(view, &conv) }),
    ];
    effects.extend(super::seen::told_visitor(user_id, before, up_to));
    Ok(effects)
}

/// Marks a conversation unread again (at least one unread), as a reminder to come back.
pub(super) fn unread(user_id: &str, view: &dyn View) -> Result<Vec<Effect>, FrameError> {
    let mut conv = begun(view, user_id)?;
    conv.unread = conv.unread.max(1);
    Ok(vec![
        Effect::Store(Write::Unread { user_id: user_id.to_owned() }),
        send(Audience::Admins, Outbound::User { user: row(view, &conv) }),
    ])
}

/// Resolves, reopens, snoozes or blocks. Setting the status it already has changes nothing and
/// answers the row to the sender only. A blocked conversation only reopens (unblocks), and only
/// by the owner or an admin.
pub(super) fn set_status(
    agent: &Agent,
    user_id: &str,
    status: Status,
    until: Option<i64>,
    view: &dyn View,
    now: i64,
    fresh: &mut dyn Fresh,
) -> Result<Vec<Effect>, FrameError> {
    let mut conv = begun(view, user_id)?;
    if conv.status == status && conv.snoozed_until == until {
        return Ok(vec![send(Audience::Sender, Outbound::User { user: row(view, &conv) })]);
    }
    let unblock = conv.status == Status::Blocked;
    if unblock && !super::moderation::may_moderate(agent.role) {
        return Err(FrameError::Forbidden("only the owner and admins unblock a visitor"));
    }
    if unblock && status != Status::Open {
        return Err(FrameError::Forbidden("this visitor is blocked: reopen the conversation first"));
    }
    let (kind, text) = match status {
        Status::Resolved => ("resolved", format!("{} resolved this", agent.name)),
        Status::Open if unblock => ("unblocked", format!("{} unblocked this", agent.name)),
        Status::Open => ("reopened", format!("{} reopened this", agent.name)),
        Status::Snoozed => ("snoozed", format!("{} snoozed this", agent.name)),
        Status::Blocked => ("blocked", format!("{} blocked this", agent.name)),
    };
    let e = event(
        fresh,
        view.next_seq(),
        now,
        text,
        Some(agent),
        EventInfo { kind: kind.into(), until, ..Default::default() },
    );
    conv.status = status;
    conv.snoozed_until = until;
    let mut effects = vec![
        Effect::Store(Write::Status { user_id: user_id.to_owned(), status, until }),
        append(user_id, &e, &agent.id),
        send(Audience::Admins, Outbound::live(&e, Some(user_id.to_owned()))),
        send(Audience::Admins, Outbound::User { user: row(view, &conv) }),
    ];
    if let Some(at) = until {
        effects.push(Effect::WakeAt(at));
    }
    Ok(effects)
}

/// Assigns a conversation to an active agent, or to nobody.
pub(super) fn assign(
    agent: &Agent,
    user_id: &str,
    to: Option<&str>,
    view: &dyn View,
    now: i64,
    fresh: &mut dyn Fresh,
) -> Result<Vec<Effect>, FrameError> {
    let mut conv = begun(view, user_id)?;
    let assignee = match to {
        Some(id) => Some(view.agent(id).ok_or(FrameError::UnknownAgent)?),
        None => None,
    };
    if conv.assignee.as_deref() == to {
        return Ok(vec![send(Audience::Sender, Outbound::User { user: row(view, &conv) })]);
    }
    let (kind, text) = match &assignee {
        Some(a) if a.id == agent.id => ("assigned", format!("{} took this conversation", agent.name)),
        Some(a) => ("assigned", format!("{} assigned it to {}", agent.name, a.name)),
        None => ("unassigned", format!("{} unassigned it", agent.name)),
    };
    let info = EventInfo {
        kind: kind.into(),
        assignee_id: assignee.as_ref().map(|a| a.id.clone()),
        assignee_name: assignee.as_ref().map(|a| a.name.clone()),
        ..Default::default()
    };
    let e = event(fresh, view.next_seq(), now, text, Some(agent), info);
    conv.assignee = assignee.map(|a| a.id);
    Ok(vec![
        Effect::Store(Write::Assign { user_id: user_id.to_owned(), agent_id: conv.assignee.clone() }),
        append(user_id, &e, &agent.id),
        send(Audience::Admins, Outbound::live(&e, Some(user_id.to_owned()))),
        send(Audience::Admins, Outbound::User { user: row(view, &conv) }),
    ])
}

/// Most conversations a revocation unassigns at once (newest first); older ones keep the
/// departed agent's name until someone reassigns them.
pub const UNASSIGN_LIMIT: u32 = 500;

/// The conversations assigned to an agent who left go back to nobody: the writes, then the
/// sends (an event and a row each).
pub(super) fn unassign_all(
    by: &Agent,
    departed: &Agent,
    view: &dyn View,
    now: i64,
    fresh: &mut dyn Fresh,
) -> (Vec<Effect>, Vec<Effect>) {
    let (mut writes, mut sends) = (Vec::new(), Vec::new());
    let assigned = view.assigned_to(&departed.id, UNASSIGN_LIMIT);
    for (seq, mut conv) in (view.next_seq()..).zip(assigned) {
        let text = format!("{} left the team: unassigned", departed.name);
        let info = EventInfo { kind: "unassigned".into(), ..Default::default() };
        let e = event(fresh, seq, now, text, Some(by), info);
        conv.assignee = None;
        writes.push(Effect::Store(Write::Assign { user_id: conv.user_id.clone(), agent_id: None }));
        writes.push(append(&conv.user_id, &e, &by.id));
        sends.push(send(Audience::Admins, Outbound::live(&e, Some(conv.user_id.clone()))));
        sends.push(send(Audience::Admins, Outbound::User { user: row(view, &conv) }));
    }
    (writes, sends)
}

/// The desk's alarm: every snoozed conversation whose time has come reopens, with an event.
pub fn wake(now: i64, due: Vec<Conversation>, view: &dyn View, fresh: &mut dyn Fresh) -> Vec<Effect> {
    let mut effects = Vec::new();
    let due = due.into_iter().filter(|c| c.status == Status::Snoozed && c.snoozed_until.is_some_and(|u| u <= now));
    for (seq, mut conv) in (view.next_seq()..).zip(due) {
        let user_id = conv.user_id.clone();
        let info = EventInfo { kind: "reopened".into(), ..Default::default() };
        let e = event(fresh, seq, now, "Snooze ended: reopened".into(), None, info);
        conv.status = Status::Open;
        conv.snoozed_until = None;
        effects.push(Effect::Store(Write::Status { user_id: user_id.clone(), status: Status::Open, until: None }));
        effects.push(append(&user_id, &e, ""));
        effects.push(send(Audience::Admins, Outbound::live(&e, Some(user_id))));
        effects.push(send(Audience::Admins, Outbound::User { user: row(view, &conv) }));
    }
    // Writes first, then sends: the glue performs them in this order. A stable partition, not a
    // sort: linear, and no sort code for `Effect` in the wasm.
    let (mut ordered, sends): (Vec<Effect>, Vec<Effect>) =
        effects.into_iter().partition(|e| matches!(e, Effect::Store(_)));
    ordered.extend(sends);
    ordered
}
