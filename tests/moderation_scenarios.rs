//! Scenario tests of bounded storage, driving the real core over the in-memory desk: deleting a
//! conversation, blocking a visitor (and unblocking), the storage budget, and retention with the
//! clock passed in.

mod sim;

use serde_json::{json, Value};
use sim::{json as j, Desk};
use support_desk::desk::admission::{self, VisitorRequest};
use support_desk::desk::moderation::{CLOSE_EXPIRED, CLOSE_REMOVED, RETENTION_SLICE, STORAGE_WARN_EVERY_MS};
use support_desk::desk::{StorageUse, View};
use support_desk::error::HttpError;
use support_desk::identity::{desk_key, user_hash};
use support_desk::limits::Limits;
use support_desk::protocol::{Author, Role, Status};

const SECRET: &str = "identity-secret-for-tests";
/// The desk under test (an identity proof is valid on one desk only).
const DESK: &str = "acme";

fn send(desk: &mut Desk, socket: &'static str, frame: Value) {
    desk.send(socket, &frame.to_string());
}

fn frames(desk: &mut Desk, socket: &'static str) -> Vec<Value> {
    desk.take(socket).iter().map(j).collect()
}

fn types_of(frames: &[Value]) -> Vec<String> {
    frames.iter().map(|f| f["type"].as_str().unwrap_or("").to_owned()).collect()
}

fn ids(list: &Value) -> Vec<String> {
    list["users"].as_array().into_iter().flatten().filter_map(|r| r["userId"].as_str().map(str::to_owned)).collect()
}

fn answer(desk: &mut Desk, socket: &'static str, frame: Value) -> Value {
    send(desk, socket, frame);
    let got = frames(desk, socket);
    assert_eq!(got.len(), 1, "one answer: {got:?}");
    got.into_iter().next().unwrap_or_default()
}

fn claim(user_id: &str) -> String {
    let hex: String = user_id.bytes().map(|b| format!("{b:02x}")).collect();
    format!(
        "support-desk.v1, support-desk.identity.{hex}.{}",
        user_hash(&desk_key(SECRET, DESK).unwrap_or_default(), user_id).unwrap_or_default()
    )
}

/// Admits `request` and applies its writes, as the glue does; the admitted user id and token.
fn admit(desk: &mut Desk, request: &VisitorRequest) -> Result<(String, String), HttpError> {
    let admitted = admission::visitor(request, &Limits::default(), &desk.state, desk.now, &mut desk.fresh)?;
    for w in &admitted.writes {
        desk.state.apply(w);
    }
    Ok((admitted.conversation.user_id, admitted.token))
}

/// The owner, Ben (admin) and Ana (agent) signed in; visitor A (with a token) and B wrote.
fn desk() -> (Desk, String) {
    let mut desk = Desk::new();
    desk.admin("owner");
    let (_, ben) = desk.join("owner", "Ben", Role::Admin);
    let (_, ana) = desk.join("owner", "Ana", Role::Agent);
    desk.sign_in("ben", Some(&ben)).expect("Ben signs in");
    desk.sign_in("ana", Some(&ana)).expect("Ana signs in");
    let (a, token) = admit(&mut desk, &VisitorRequest::default()).expect("A is new");
    desk.visitor("a", &a);
    desk.visitor("b", "B");
    send(&mut desk, "a", json!({ "type": "message", "message": "Hi, my parcel zanzibar is late" }));
    send(&mut desk, "b", json!({ "type": "message", "message": "Hello" }));
    for s in ["owner", "ben", "ana", "a", "b"] {
        desk.take(s);
    }
    (desk, token)
}

fn user_a(desk: &Desk) -> String {
    desk.conversations.keys().find(|k| *k != "B").cloned().expect("A")
}

#[test]
fn only_the_owner_and_admins_delete_block_and_see_blocked() {
    let (mut desk, _) = desk();
    let a = user_a(&desk);
    for frame in [json!({ "type": "delete", "userId": a }), json!({ "type": "block", "userId": a })] {
        let refused = answer(&mut desk, "ana", frame);
        assert_eq!((refused["type"].clone(), refused["code"].clone()), (json!("error"), json!("forbidden")));
    }
    let refused = answer(&mut desk, "ana", json!({ "type": "list", "view": "blocked" }));
    assert_eq!(refused["code"], "forbidden");
    let list = answer(&mut desk, "ana", json!({ "type": "list", "view": "open" }));
    assert!(list["counts"].get("blocked").is_none(), "an agent is not told the blocked count: {list}");
    let list = answer(&mut desk, "ben", json!({ "type": "list", "view": "open" }));
    assert_eq!(list["counts"]["blocked"], 0, "an admin is");
    assert!(desk.conversations.contains_key(&a), "nothing happened");
    assert!(frames(&mut desk, "a").is_empty() && desk.sockets["a"].open);
    let unknown = answer(&mut desk, "ben", json!({ "type": "delete", "userId": "nobody" }));
    assert_eq!(unknown["code"], "unknown_user");
}

#[test]
fn a_deleted_conversation_is_gone_everywhere_and_its_seqs_are_never_reused() {
    let (mut desk, token) = desk();
    let a = user_a(&desk);
    let last_seq = desk.next_seq() - 1;
    send(&mut desk, "ben", json!({ "type": "delete", "userId": a }));
    for admin in ["owner", "ben", "ana"] {
        assert_eq!(frames(&mut desk, admin), [json!({ "type": "removed", "userId": a })], "{admin} drops the row");
    }
    assert_eq!(desk.sockets["a"].closed_with, Some(CLOSE_REMOVED), "the visitor's socket closes with 4003");
    assert!(desk.conversation(&a).is_none());
    assert!(desk.messages.iter().all(|m| m.user_id != a), "its messages went too");
    assert!(desk.search("zanzibar", 20).is_empty(), "and its search entries");
    let list = answer(&mut desk, "owner", json!({ "type": "list", "view": "all" }));
    assert_eq!(ids(&list), ["B"]);
    assert_eq!(list["counts"]["open"], 1);
    // Its token is refused (the widget then starts afresh); the deletion was the last message's
    // conversation, yet the next message gets a new seq.
    assert_eq!(
        admit(&mut desk, &VisitorRequest { token: Some(&token), ..Default::default() }).err().map(|e| e.status()),
        Some(401)
    );
    send(&mut desk, "b", json!({ "type": "message", "message": "still here", "clientMsgId": "b-2" }));
    let ack = frames(&mut desk, "b").into_iter().find(|f| f["type"] == "ack").expect("acked");
    assert!(ack["seq"].as_i64() > Some(last_seq), "seq {} after {last_seq}", ack["seq"]);
}

#[test]
fn deleting_the_newest_messages_does_not_lower_the_next_seq() {
    let (mut desk, _) = desk();
    send(&mut desk, "b", json!({ "type": "message", "message": "newest" }));
    let next = desk.next_seq();
    send(&mut desk, "owner", json!({ "type": "delete", "userId": "B" }));
    assert_eq!(desk.next_seq(), next, "B held the newest message; its seq stays used");
}

#[test]
fn a_blocked_visitor_is_shut_out_and_out_of_every_list_until_reopened() {
    let (mut desk, token) = desk();
    let a = user_a(&desk);
    send(&mut desk, "owner", json!({ "type": "block", "userId": a }));
    assert_eq!(desk.sockets["a"].closed_with, Some(CLOSE_REMOVED));
    let seen = frames(&mut desk, "ana");
    assert_eq!(types_of(&seen), ["message", "user"], "{seen:?}");
    assert_eq!((seen[0]["sender"].clone(), seen[0]["message"].clone()), (json!("event"), json!("Owner blocked this")));
    assert_eq!(seen[0]["event"]["kind"], "blocked");
    assert_eq!(seen[1]["user"]["status"], "blocked");
    assert_eq!(desk.conversations[&a].status, Status::Blocked);
    frames(&mut desk, "ben");
    frames(&mut desk, "owner");

    for view in ["open", "all", "unassigned"] {
        let list = answer(&mut desk, "ben", json!({ "type": "list", "view": view }));
        assert_eq!(ids(&list), ["B"], "{view}");
        assert_eq!((list["counts"]["open"].clone(), list["counts"]["blocked"].clone()), (json!(1), json!(1)));
    }
    let blocked = answer(&mut desk, "ben", json!({ "type": "list", "view": "blocked" }));
    assert_eq!(ids(&blocked), vec![a.clone()]);
    assert!(desk.users().iter().all(|r| r.user_id != a), "not in an opening inbox's users");
    let found = answer(&mut desk, "owner", json!({ "type": "search", "query": "zanzibar" }));
    assert_eq!(found["results"], json!([]), "not in search results");

    // Its token is refused at connect; a frame from a socket still open is refused.
    let again = admit(&mut desk, &VisitorRequest { token: Some(&token), ..Default::default() });
    assert_eq!(again.err(), Some(HttpError::Blocked));
    desk.sockets.get_mut("a").expect("a").open = true;
    let refused = answer(&mut desk, "a", json!({ "type": "message", "message": "let me in" }));
    assert_eq!(refused["code"], "forbidden");
    assert!(desk.messages.iter().all(|m| m.message.message != "let me in"));

    // Only the owner or an admin unblocks, by reopening.
    for (socket, frame) in [
        ("ana", json!({ "type": "reopen", "userId": a })),
        ("ben", json!({ "type": "resolve", "userId": a })),
        ("ben", json!({ "type": "snooze", "userId": a, "until": desk.now + 60_000 })),
    ] {
        assert_eq!(answer(&mut desk, socket, frame.clone())["code"], "forbidden", "{socket}: {frame}");
    }
    send(&mut desk, "ben", json!({ "type": "reopen", "userId": a }));
    let seen = frames(&mut desk, "owner");
    assert_eq!(seen[0]["message"], "Ben unblocked this");
    assert_eq!(seen[1]["user"]["status"], "open");
    admit(&mut desk, &VisitorRequest { token: Some(&token), ..Default::default() }).expect("let in again");
}

#[test]
fn a_blocked_verified_id_is_refused_on_every_device() {
    let mut desk = Desk::new();
    desk.admin("owner");
    let laptop = claim("customer-42");
    let request =
        VisitorRequest { protocols: Some(&laptop), identity_secret: Some(SECRET), desk: DESK, ..Default::default() };
    let (user, _) = admit(&mut desk, &request).expect("verified");
    desk.visitor("laptop", &user);
    send(&mut desk, "laptop", json!({ "type": "message", "message": "hi" }));
    send(&mut desk, "owner", json!({ "type": "block", "userId": user }));
    assert_eq!(admit(&mut desk, &request).err(), Some(HttpError::Blocked), "another device with the same id");
    assert_eq!(HttpError::Blocked.status(), 403);
}

#[test]
fn a_full_desk_refuses_new_visitor_messages_tells_admins_and_agents_still_reply() {
    let (mut desk, _) = desk();
    let stored = desk.messages.len();
    desk.storage = StorageUse { used_bytes: 2_000, budget_bytes: Some(1_000), warned_at: None };
    send(&mut desk, "b", json!({ "type": "message", "message": "one more", "clientMsgId": "b-9" }));
    let refused = frames(&mut desk, "b");
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!((refused[0]["code"].clone(), refused[0]["clientMsgId"].clone()), (json!("storage_full"), json!("b-9")));
    let told = json!({ "type": "storage", "full": true, "usedBytes": 2_000, "budgetBytes": 1_000 });
    for admin in ["owner", "ben", "ana"] {
        assert_eq!(frames(&mut desk, admin), vec![told.clone()], "{admin} is told");
    }
    assert_eq!(desk.messages.len(), stored, "nothing stored");

    // Told again only after a while.
    send(&mut desk, "b", json!({ "type": "message", "message": "and another" }));
    assert_eq!(frames(&mut desk, "b")[0]["code"], "storage_full");
    assert!(frames(&mut desk, "owner").is_empty(), "not told twice within a minute");
    desk.now += STORAGE_WARN_EVERY_MS;
    send(&mut desk, "b", json!({ "type": "message", "message": "later" }));
    assert_eq!(frames(&mut desk, "owner").len(), 1, "told again a minute later");
    frames(&mut desk, "b");

    // Agents keep answering; a retry of what was stored before is still acked.
    send(
        &mut desk,
        "ana",
        json!({ "type": "message", "message": "We are on it", "targetUserId": "B", "clientMsgId": "r1" }),
    );
    assert!(frames(&mut desk, "ana").iter().any(|f| f["type"] == "ack"));
    assert_eq!(frames(&mut desk, "b")[0]["message"], "We are on it");
    assert!(desk.messages.iter().any(|m| m.message.sender == Author::Admin));
    assert_eq!(
        support_desk::desk::moderation::on_connect(desk.storage),
        Some(support_desk::desk::moderation::notice(desk.storage))
    );

    desk.storage.used_bytes = 999;
    send(&mut desk, "b", json!({ "type": "message", "message": "room again", "clientMsgId": "b-10" }));
    assert!(frames(&mut desk, "b").iter().any(|f| f["type"] == "ack"), "under the budget, accepted");
    assert_eq!(support_desk::desk::moderation::on_connect(desk.storage), None);
}

#[test]
fn retention_deletes_exactly_the_untouched_conversations_in_slices() {
    const DAY: i64 = 86_400_000;
    let (mut desk, _) = desk();
    let a = user_a(&desk);
    let retention = 30 * DAY;
    let a_at = desk.messages.iter().find(|m| m.user_id == a).map(|m| m.message.at).expect("A wrote");
    // B writes again 10 days later: after 30 days only A is due.
    desk.now += 10 * DAY;
    send(&mut desk, "b", json!({ "type": "message", "message": "ten days on" }));
    frames(&mut desk, "owner");
    desk.expire(a_at + retention, retention);
    assert!(desk.conversation(&a).is_some(), "not yet: exactly 30 days");
    desk.expire(a_at + retention + 1, retention);
    assert!(desk.conversation(&a).is_none(), "A is gone");
    assert!(desk.messages.iter().all(|m| m.user_id != a));
    assert!(desk.conversation("B").is_some(), "B wrote 10 days later: kept");
    assert_eq!(frames(&mut desk, "owner"), [json!({ "type": "removed", "userId": a })]);
    assert_eq!(desk.sockets["a"].closed_with, Some(CLOSE_EXPIRED), "its socket reconnects afresh");
    desk.expire(desk.now, 0);
    assert!(desk.conversation("B").is_some(), "0: retention off");

    // A backlog goes in slices.
    let mut desk = Desk::new();
    for i in 0..(RETENTION_SLICE + 20) {
        let socket: &'static str = Box::leak(format!("v{i}").into_boxed_str());
        desk.visitor(socket, socket);
        send(&mut desk, socket, json!({ "type": "message", "message": "old" }));
    }
    desk.expire(desk.now + retention, retention);
    assert_eq!(desk.conversations.len(), 20, "one slice");
    desk.expire(desk.now + 1, retention);
    assert!(desk.conversations.is_empty(), "the rest in the next run");
}
