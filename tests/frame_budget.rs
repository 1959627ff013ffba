//! Bounded answers: no frame the core builds is over `MAX_SEND_BYTES`, whatever the messages hold
//! (4,000 characters of 4-byte emoji, quotes and line breaks that JSON escapes), and paging by
//! bytes (`hasMore` + `before`, a list `cursor`) reaches every message and row exactly once.

mod sim;

use serde_json::{json, Value};
use sim::{json as j, Desk};
use support_desk::desk::Agent;
use support_desk::protocol::{json_len, Author, Outbound, UserRow, WireMessage, MAX_SEND_BYTES, MAX_USERS_ROWS};
use support_desk::session::{self, Backlog, TooFarBehind};

/// A worst-case message of 4,000 characters: astral emoji (4 bytes each in UTF-8), or characters
/// JSON escapes (2 bytes each), in turns.
fn heavy(i: usize) -> String {
    match i % 3 {
        0 => "😀".repeat(4_000),
        1 => "\"".repeat(2_000) + &"\n".repeat(1_000) + &"\\".repeat(1_000),
        _ => format!("{i} ") + &"𝄞".repeat(3_990),
    }
}

/// A desk where the owner (socket `admin`) wrote `n` heavy replies to visitor `A`, who wrote once.
fn heavy_desk(n: usize) -> Desk {
    let mut desk = Desk::new();
    desk.admin("admin");
    desk.visitor("a", "A");
    desk.send("a", &json!({ "type": "message", "message": "hello" }).to_string());
    for i in 0..n {
        let frame = json!({ "type": "message", "message": heavy(i), "targetUserId": "A" }).to_string();
        desk.send("admin", &frame);
    }
    desk.take("admin");
    desk.take("a");
    desk
}

fn size(frame: &Outbound) -> usize {
    frame.to_json().len()
}

/// Pages a conversation from the newest back with `before`, as clients do; returns every page.
fn page_back(desk: &mut Desk, socket: &'static str, user_id: Option<&str>) -> Vec<Value> {
    let mut pages = Vec::new();
    let mut before: Option<i64> = None;
    loop {
        let mut ask = json!({ "type": "history", "limit": 200 });
        if let Some(u) = user_id {
            ask["userId"] = json!(u);
        }
        if let Some(b) = before {
            ask["before"] = json!(b);
        }
        desk.send(socket, &ask.to_string());
        let mut got = desk.take(socket);
        assert_eq!(got.len(), 1, "one answer per request");
        let frame = got.remove(0);
        assert!(size(&frame) <= MAX_SEND_BYTES, "history page of {} bytes", size(&frame));
        let page = j(&frame);
        assert_eq!(page["type"], "history");
        let seqs: Vec<i64> = page["messages"].as_array().unwrap().iter().map(|m| m["seq"].as_i64().unwrap()).collect();
        assert!(!seqs.is_empty() || page["hasMore"] == false, "a page that says hasMore moves on");
        let more = page["hasMore"] == true;
        before = seqs.first().copied();
        pages.push(page);
        if !more {
            return pages;
        }
        assert!(pages.len() < 1_000, "paging ends");
    }
}

fn seqs_of(pages: &[Value]) -> Vec<i64> {
    let mut all: Vec<i64> = pages
        .iter()
        .rev()
        .flat_map(|p| p["messages"].as_array().unwrap().iter().map(|m| m["seq"].as_i64().unwrap()))
        .collect();
    let ordered = all.windows(2).all(|w| w[0] < w[1]);
    assert!(ordered, "pages join oldest first with no overlap");
    all.dedup();
    all
}

#[test]
fn history_paged_by_bytes_reaches_every_message_exactly_once() {
    let mut desk = heavy_desk(300);
    let stored_public: Vec<i64> =
        desk.state.messages.iter().filter(|s| s.message.sender.public()).map(|s| s.message.seq).collect();
    let stored_all: Vec<i64> = desk.state.messages.iter().map(|s| s.message.seq).collect();
    assert_eq!(stored_public.len(), 301);

    let visitor_pages = page_back(&mut desk, "a", None);
    assert!(visitor_pages.len() > 10, "300 heavy messages take many pages: {}", visitor_pages.len());
    assert!(
        visitor_pages[..visitor_pages.len() - 1].iter().all(|p| p["hasMore"] == true),
        "every page but the last says more"
    );
    assert_eq!(seqs_of(&visitor_pages), stored_public, "the visitor reads every message once, none of the agents'");

    // An agent pages the same conversation, with the event of the first reply.
    let admin_pages = page_back(&mut desk, "admin", Some("A"));
    assert_eq!(seqs_of(&admin_pages), stored_all);
}

#[test]
fn a_page_is_the_newest_that_fit_and_a_welcome_is_too() {
    let mut desk = heavy_desk(300);
    let welcome = desk.visitor("a2", "A");
    assert!(size(&welcome) <= MAX_SEND_BYTES, "welcome of {} bytes", size(&welcome));
    let w = j(&welcome);
    let shown = w["messages"].as_array().unwrap();
    assert!(shown.len() >= 10 && shown.len() < 200, "cut by bytes, not by count: {}", shown.len());
    assert_eq!(w["hasMore"], true);
    let newest = desk.state.messages.iter().filter(|s| s.message.sender.public()).map(|s| s.message.seq).max();
    assert_eq!(shown.last().unwrap()["seq"].as_i64(), newest, "the newest messages are the ones kept");
    // The next older message would not have fit: the page is as full as the budget allows.
    let oldest_shown = shown[0]["seq"].as_i64().unwrap();
    let older = desk.state.messages.iter().rev().find(|s| s.message.sender.public() && s.message.seq < oldest_shown);
    let older = json_len(&older.unwrap().message.clone().for_visitor());
    assert!(size(&welcome) + older + 1 > MAX_SEND_BYTES, "{} + {older} would fit", size(&welcome));
}

#[test]
fn small_messages_still_page_by_count() {
    let mut desk = Desk::new();
    desk.admin("admin");
    desk.visitor("a", "A");
    for i in 0..250 {
        desk.send("a", &json!({ "type": "message", "message": format!("m{i}") }).to_string());
    }
    desk.take("a");
    desk.send("a", &json!({ "type": "history", "limit": 200 }).to_string());
    let page = j(&desk.take("a").remove(0));
    assert_eq!((page["messages"].as_array().unwrap().len(), page["hasMore"].clone()), (200, json!(true)));
    let w = j(&desk.visitor("a2", "A"));
    assert_eq!((w["messages"].as_array().unwrap().len(), w["hasMore"].clone()), (200, json!(true)));
}

fn wire(seq: i64, text: String) -> WireMessage {
    WireMessage {
        id: format!("m{seq}"),
        seq,
        sender: Author::Admin,
        message: text,
        at: seq,
        client_msg_id: None,
        agent_id: Some("owner".into()),
        agent_name: Some("Owner".into()),
        event: None,
        attachment: None,
    }
}

#[test]
fn a_resume_whose_replay_does_not_fit_gets_a_fresh_snapshot() {
    let desk = heavy_desk(0);
    let c = desk.state.conversations["A"].clone();
    let missed = |n: i64| (1..=n).map(|s| wire(s, heavy(s as usize))).collect::<Vec<_>>();
    // A few heavy messages fit: replayed exactly, resumed.
    let w = session::welcome(&c, "t".into(), "e", 200, Backlog::Missed(missed(10))).expect("fits");
    assert!(size(&w) <= MAX_SEND_BYTES);
    assert_eq!((j(&w)["resumed"].clone(), j(&w)["messages"].as_array().unwrap().len()), (json!(true), 10));
    // Far fewer than RESUME_MAX_MESSAGES, but more bytes than a frame holds: a fresh snapshot.
    assert_eq!(session::welcome(&c, "t".into(), "e", 200, Backlog::Missed(missed(40))), Err(TooFarBehind));

    // An admin resume: each replayed message is its own frame, and the whole replay is one budget.
    let me = || Agent::owner(None).me();
    let named = |n| missed(n).into_iter().map(|m| ("A".to_string(), m)).collect::<Vec<_>>();
    let frames = session::admin_snapshot(vec![], "e", 10, me(), Some(named(10))).expect("fits");
    assert_eq!(frames.len(), 11);
    assert!(frames.iter().all(|f| size(f) <= MAX_SEND_BYTES));
    assert_eq!(session::admin_snapshot(vec![], "e", 40, me(), Some(named(40))), Err(TooFarBehind));
}

/// A row as big as the protocol allows: names of 64 emoji, a preview of 140, a verified id of 128.
fn fat_row(i: usize) -> UserRow {
    let mut row = support_desk::desk::Conversation::new(format!("user-{i:05}"), "👩".repeat(64)).row(true);
    row.last_message = Some("\"".repeat(70) + &"😀".repeat(70));
    row.last_sender = Some(Author::User);
    row.last_at = Some(1);
    row.last_seq = Some(10_000 - i as i64);
    row.verified_id = Some("🔑".repeat(128));
    row.assignee_id = Some("a".repeat(32));
    row.assignee_name = Some("🧑".repeat(64));
    row
}

#[test]
fn the_sidebar_snapshot_is_cut_by_bytes_and_says_so() {
    let me = Agent::owner(None).me();
    let rows: Vec<UserRow> = (0..MAX_USERS_ROWS as usize).map(fat_row).collect();
    let frames = session::admin_snapshot(rows.clone(), "e", 1, me.clone(), None).unwrap();
    assert!(size(&frames[0]) <= MAX_SEND_BYTES, "users of {} bytes", size(&frames[0]));
    let users = j(&frames[0]);
    let kept = users["users"].as_array().unwrap().len();
    assert!(kept > 50 && kept < rows.len(), "kept {kept}");
    assert_eq!(users["hasMore"], true);
    assert_eq!(users["users"][0]["userId"], "user-00000", "the newest rows are the ones kept");

    // Small rows: every row of the 500, nothing said; one more than 500 says hasMore.
    let small: Vec<UserRow> = (0..=MAX_USERS_ROWS as usize)
        .map(|i| support_desk::desk::Conversation::new(format!("u{i}"), "V").row(false))
        .collect();
    let all = j(&session::admin_snapshot(small[..500].to_vec(), "e", 1, me.clone(), None).unwrap()[0]);
    assert_eq!((all["users"].as_array().unwrap().len(), all.get("hasMore").is_none()), (500, true));
    let over = j(&session::admin_snapshot(small, "e", 1, me, None).unwrap()[0]);
    assert_eq!((over["users"].as_array().unwrap().len(), over["hasMore"].clone()), (500, json!(true)));
}
