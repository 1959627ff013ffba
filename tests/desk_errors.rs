//! Every refusal by wire code: sent to the sender only, nothing stored, the socket keeps working.

mod sim;

use serde_json::json;
use sim::{json as j, Desk};
use support_desk::protocol::{MAX_FRAME_BYTES, MAX_MESSAGE_CHARS};

/// Sends `frame` from `socket` and returns the error code it got, after checking that nothing
/// was stored, no one else heard of it, and the same socket can still send a good frame.
fn refused(desk: &mut Desk, socket: &'static str, frame: &str) -> String {
    for s in ["a", "b", "admin", "admin-2"] {
        desk.take(s);
    }
    let (messages, conversations) = (desk.messages.clone(), desk.conversations.clone());
    desk.send(socket, frame);
    let got = desk.take(socket);
    assert_eq!(got.len(), 1, "exactly one answer to {frame:.80}");
    let error = j(&got[0]);
    assert_eq!(error["type"], "error", "for {frame:.80}");
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "a human-readable message");
    assert_eq!(desk.messages, messages, "nothing stored for {frame:.80}");
    assert_eq!(desk.conversations, conversations, "no state changed for {frame:.80}");
    for other in ["a", "b", "admin", "admin-2"].into_iter().filter(|s| *s != socket) {
        assert!(desk.take(other).is_empty(), "{other} heard of a refused frame {frame:.80}");
    }
    let good = match socket {
        "admin" | "admin-2" => {
            json!({ "type": "message", "message": "still here", "targetUserId": "A" })
        }
        _ => json!({ "type": "message", "message": "still here" }),
    };
    desk.send(socket, &good.to_string());
    assert_eq!(j(&desk.take(socket)[0])["type"], "ack", "socket works after {frame:.80}");
    error["code"].as_str().unwrap_or_default().to_owned()
}

fn desk() -> Desk {
    let mut desk = Desk::new();
    desk.admin("admin");
    desk.admin("admin-2");
    desk.visitor("a", "A");
    desk.visitor("b", "B");
    desk.send("a", &json!({ "type": "message", "message": "hello" }).to_string());
    desk
}

#[test]
fn malformed_frames() {
    let mut d = desk();
    assert_eq!(refused(&mut d, "a", "not json"), "bad_json");
    assert_eq!(refused(&mut d, "a", "[1,2]"), "bad_json");
    assert_eq!(refused(&mut d, "admin", "\"message\""), "bad_json");
    assert_eq!(refused(&mut d, "a", r#"{"message":"no type"}"#), "unknown_type");
    assert_eq!(refused(&mut d, "a", r#"{"type":"shout","message":"x"}"#), "unknown_type");
    assert_eq!(refused(&mut d, "a", r#"{"type":7}"#), "unknown_type");
    assert_eq!(refused(&mut d, "a", r#"{"type":"message","message":5}"#), "bad_frame");
    assert_eq!(refused(&mut d, "a", r#"{"type":"message"}"#), "bad_frame");
    assert_eq!(refused(&mut d, "admin", r#"{"type":"read"}"#), "bad_frame");
    assert_eq!(refused(&mut d, "admin", r#"{"type":"history","userId":"A","before":-1}"#), "bad_frame");
    assert_eq!(refused(&mut d, "admin", r#"{"type":"history"}"#), "bad_frame");
    let long_id = json!({ "type": "message", "message": "x", "clientMsgId": "i".repeat(101) }).to_string();
    assert_eq!(refused(&mut d, "a", &long_id), "bad_frame");
}

#[test]
fn admin_message_without_target_is_refused_never_broadcast() {
    let mut d = desk();
    assert_eq!(refused(&mut d, "admin", r#"{"type":"message","message":"to whom?"}"#), "missing_target");
    let with_id = json!({ "type": "message", "message": "to whom?", "clientMsgId": "c-9" }).to_string();
    d.send("admin", &with_id);
    let error = j(&d.take("admin")[0]);
    assert_eq!((error["code"].clone(), error["clientMsgId"].clone()), (json!("missing_target"), json!("c-9")));
}

#[test]
fn unknown_targets() {
    let mut d = desk();
    assert_eq!(
        refused(&mut d, "admin", r#"{"type":"message","message":"hi","targetUserId":"nobody"}"#),
        "unknown_user"
    );
    assert_eq!(refused(&mut d, "admin", r#"{"type":"read","userId":"nobody"}"#), "unknown_user");
    assert_eq!(refused(&mut d, "admin", r#"{"type":"history","userId":"nobody"}"#), "unknown_user");
}

#[test]
fn empty_and_too_long() {
    let mut d = desk();
    assert_eq!(refused(&mut d, "a", r#"{"type":"message","message":""}"#), "empty_message");
    assert_eq!(refused(&mut d, "a", r#"{"type":"message","message":" \n\t "}"#), "empty_message");
    assert_eq!(refused(&mut d, "admin", r#"{"type":"message","message":"  ","targetUserId":"A"}"#), "empty_message");
    let at_limit = json!({ "type": "message", "message": "é".repeat(MAX_MESSAGE_CHARS) }).to_string();
    d.take("a");
    d.send("a", &at_limit);
    assert_eq!(j(&d.take("a")[0])["type"], "ack", "exactly the limit is fine, counted in characters");
    let over = json!({ "type": "message", "message": "x".repeat(MAX_MESSAGE_CHARS + 1) }).to_string();
    assert_eq!(refused(&mut d, "a", &over), "too_long");
    let huge = format!(r#"{{"type":"message","message":"{}"}}"#, "x".repeat(MAX_FRAME_BYTES));
    assert_eq!(refused(&mut d, "a", &huge), "too_long");
}

#[test]
fn visitors_cannot_act_as_admins() {
    let mut d = desk();
    assert_eq!(refused(&mut d, "a", r#"{"type":"message","message":"hi","targetUserId":"B"}"#), "forbidden");
    assert_eq!(refused(&mut d, "a", r#"{"type":"message","message":"hi","targetUserId":"A"}"#), "forbidden");
    assert_eq!(refused(&mut d, "a", r#"{"type":"read","userId":"A"}"#), "forbidden");
    assert_eq!(refused(&mut d, "b", r#"{"type":"history","userId":"A"}"#), "forbidden");
}
