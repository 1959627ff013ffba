//! What agents and visitors read: a conversation's history pages, the sidebar's list views by
//! cursor, and search; each answer cut to what fits in one frame. Split from `conversation.rs`.

use super::conversation::conversation;
use super::{row, send, Agent, Audience, Effect, View};
use crate::error::FrameError;
use crate::protocol::{
    fitting, json_len, newest_page, ListView, Outbound, SearchResult, Status, WireMessage, HISTORY_DEFAULT_LIMIT,
    HISTORY_MAX_LIMIT, LIST_DEFAULT_LIMIT, SEARCH_DEFAULT_LIMIT,
};

/// A page of a conversation: up to `limit` messages with `seq < before`, oldest first: the newest
/// of them that fit in one frame (`MAX_SEND_BYTES`). `hasMore` says older ones exist, whether
/// past the count or cut for bytes: the client pages on with `before` = the oldest it got.
pub(super) fn history(
    user_id: String,
    before: Option<i64>,
    limit: Option<u32>,
    for_agents: bool,
    view: &dyn View,
) -> Result<Vec<Effect>, FrameError> {
    conversation(view, &user_id)?;
    let limit = limit.unwrap_or(HISTORY_DEFAULT_LIMIT).min(HISTORY_MAX_LIMIT);
    let newest_first = view.messages(&user_id, before, limit + 1, for_agents);
    let frame =
        |messages: Vec<WireMessage>, has_more: bool| Outbound::History { user_id: user_id.clone(), messages, has_more };
    let base = json_len(&frame(Vec::new(), false));
    let shown: fn(WireMessage) -> WireMessage = if for_agents { |m| m } else { WireMessage::for_visitor };
    let (messages, has_more) = newest_page(base, newest_first, limit, shown);
    Ok(vec![send(Audience::Sender, frame(messages, has_more))])
}

/// A page of a sidebar view, newest activity first, by cursor: up to `limit` rows, as many as fit
/// in one frame; a page cut short (by count or bytes) gives the cursor of its last row.
pub(super) fn list(
    agent: &Agent,
    which: ListView,
    cursor: Option<&str>,
    limit: Option<u32>,
    view: &dyn View,
) -> Result<Vec<Effect>, FrameError> {
    let moderator = super::moderation::may_moderate(agent.role);
    if which == ListView::Blocked && !moderator {
        return Err(FrameError::Forbidden("only the owner and admins see blocked visitors"));
    }
    let limit = limit.unwrap_or(LIST_DEFAULT_LIMIT);
    let before = cursor.and_then(crate::protocol::parse_cursor);
    let mut rows = view.list(which, &agent.id, before, limit + 1);
    let mut more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let mut users = super::context::with_contexts(view, rows.iter().map(|c| row(view, c)).collect());
    let mut counts = view.counts(&agent.id);
    if !moderator {
        counts.blocked = None;
    }
    // The cursor's length is known before it is chosen: a seq is at most 20 characters.
    let longest_cursor = Some(i64::MIN.to_string());
    let base = json_len(&Outbound::List { view: which, users: Vec::new(), counts, cursor: longest_cursor });
    let fit = fitting(base, &users);
    more |= fit < users.len();
    users.truncate(fit);
    let cursor = if more { users.last().and_then(|r| r.last_seq).map(|s| s.to_string()) } else { None };
    Ok(vec![send(Audience::Sender, Outbound::List { view: which, users, counts, cursor })])
}

/// Conversations matching every word of `query`, with the matching snippet (never a blocked
/// one): the best `limit`, as many as fit in one frame (`hasMore` when some were left out for bytes).
pub(super) fn search(query: String, limit: Option<u32>, view: &dyn View) -> Vec<Effect> {
    let hits = view.search(&query, limit.unwrap_or(SEARCH_DEFAULT_LIMIT));
    let mut results: Vec<_> = hits
        .into_iter()
        .filter_map(|h| {
            let conv = view.conversation(&h.user_id).filter(|c| c.status != Status::Blocked)?;
            Some(SearchResult { user: row(view, &conv), user_id: h.user_id, seq: h.seq, snippet: h.snippet })
        })
        .collect();
    let base = json_len(&Outbound::Search { query: query.clone(), results: Vec::new(), has_more: false });
    let fit = fitting(base, &results);
    let has_more = fit < results.len();
    results.truncate(fit);
    vec![send(Audience::Sender, Outbound::Search { query, results, has_more })]
}
