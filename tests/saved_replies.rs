//! Saved replies, driving the real core: every agent lists them, only the owner and admins
//! create, edit and delete them, every change reaches every agent, and their bounds (count,
//! sizes, unique shortcuts) hold with a clear refusal and nothing stored.

mod sim;

use serde_json::{json, Value};
use sim::{json as j, Desk};
use support_desk::protocol::saved_replies::{
    SavedReply, MAX_REPLY_TEXT_CHARS, MAX_REPLY_TITLE_CHARS, MAX_SAVED_REPLIES, MAX_SHORTCUT_CHARS,
};
use support_desk::protocol::{Outbound, Role, MAX_SEND_BYTES};

fn send(desk: &mut Desk, socket: &'static str, frame: Value) {
    desk.send(socket, &frame.to_string());
}

fn frames(desk: &mut Desk, socket: &'static str) -> Vec<Value> {
    desk.take(socket).iter().map(j).collect()
}

/// The owner, Ben (admin) and Ana (agent) signed in; visitor A who wrote.
fn team() -> Desk {
    let mut desk = Desk::new();
    desk.admin("owner");
    let (_, ana) = desk.join("owner", "Ana", Role::Agent);
    let (_, ben) = desk.join("owner", "Ben", Role::Admin);
    desk.sign_in("ana", Some(&ana)).expect("Ana signs in");
    desk.sign_in("ben", Some(&ben)).expect("Ben signs in");
    desk.visitor("a", "A");
    send(&mut desk, "a", json!({ "type": "message", "message": "hello" }));
    for s in ["owner", "ana", "ben", "a"] {
        desk.take(s);
    }
    desk
}

fn save(shortcut: &str) -> Value {
    json!({ "type": "save_reply", "title": "Refunds", "shortcut": shortcut, "text": "Refunds take 5–7 days.\nThanks!" })
}

fn refused(desk: &mut Desk, socket: &'static str, frame: Value, code: &str) {
    let before = desk.saved_replies.clone();
    send(desk, socket, frame.clone());
    let got = frames(desk, socket);
    assert_eq!(got.len(), 1, "one answer to {frame}");
    assert_eq!((got[0]["type"].as_str(), got[0]["code"].as_str()), (Some("error"), Some(code)), "{frame}: {got:?}");
    assert_eq!(desk.saved_replies, before, "nothing stored for {frame}");
    for other in ["owner", "ana", "ben", "a"].into_iter().filter(|s| *s != socket) {
        assert!(desk.take(other).is_empty(), "{other} heard of a refused {frame}");
    }
}

#[test]
fn admins_manage_saved_replies_and_every_agent_gets_the_list() {
    let mut desk = team();
    send(&mut desk, "ben", save("/Refund"));
    for agent in ["owner", "ana", "ben"] {
        let got = frames(&mut desk, agent);
        assert_eq!(got.len(), 1, "{agent}: {got:?}");
        assert_eq!(got[0]["type"], "replies");
        assert_eq!(got[0]["replies"][0]["shortcut"], "refund", "stored lowercase, without the slash");
        assert_eq!(got[0]["replies"][0]["text"], "Refunds take 5–7 days.\nThanks!");
    }
    assert!(desk.take("a").is_empty(), "visitors never see saved replies");
    let id = desk.saved_replies.keys().next().cloned().expect("stored");

    // the owner edits it, an agent lists it
    send(
        &mut desk,
        "owner",
        json!({ "type": "save_reply", "id": id, "title": "Refund time", "shortcut": "refund", "text": "5–7 days." }),
    );
    assert_eq!(frames(&mut desk, "ana")[0]["replies"][0]["title"], "Refund time");
    desk.take("owner");
    desk.take("ben");
    send(&mut desk, "ana", json!({ "type": "replies" }));
    let listed = frames(&mut desk, "ana");
    assert_eq!((listed.len(), listed[0]["replies"][0]["text"].as_str()), (1, Some("5–7 days.")));
    assert!(desk.take("owner").is_empty() && desk.take("ben").is_empty(), "a list goes to who asked");

    // an agent may not manage them
    refused(&mut desk, "ana", save("hello"), "forbidden");
    refused(
        &mut desk,
        "ana",
        json!({ "type": "save_reply", "id": id, "title": "x", "shortcut": "x", "text": "x" }),
        "forbidden",
    );
    refused(&mut desk, "ana", json!({ "type": "delete_reply", "id": id }), "forbidden");
    // nor a visitor
    refused(&mut desk, "a", save("hello"), "forbidden");
    refused(&mut desk, "a", json!({ "type": "replies" }), "forbidden");

    send(&mut desk, "ben", json!({ "type": "delete_reply", "id": id }));
    assert_eq!(frames(&mut desk, "ana")[0]["replies"], json!([]));
    assert!(desk.saved_replies.is_empty());
    desk.take("owner");
    desk.take("ben");
    refused(&mut desk, "ben", json!({ "type": "delete_reply", "id": id }), "unknown_reply");
    refused(
        &mut desk,
        "ben",
        json!({ "type": "save_reply", "id": "nope", "title": "t", "shortcut": "s", "text": "x" }),
        "unknown_reply",
    );
}

#[test]
fn saved_replies_are_bounded() {
    let mut desk = team();
    let bad = [
        json!({ "type": "save_reply", "title": "", "shortcut": "a", "text": "x" }),
        json!({ "type": "save_reply", "title": "t".repeat(MAX_REPLY_TITLE_CHARS + 1), "shortcut": "a", "text": "x" }),
        json!({ "type": "save_reply", "title": "t", "shortcut": "", "text": "x" }),
        json!({ "type": "save_reply", "title": "t", "shortcut": "has space", "text": "x" }),
        json!({ "type": "save_reply", "title": "t", "shortcut": "s".repeat(MAX_SHORTCUT_CHARS + 1), "text": "x" }),
        json!({ "type": "save_reply", "title": "t", "shortcut": "a", "text": "   " }),
        json!({ "type": "save_reply", "title": "t", "shortcut": "a", "text": "x".repeat(MAX_REPLY_TEXT_CHARS + 1) }),
        json!({ "type": "save_reply", "title": "t", "shortcut": "a", "text": "bell\u{7}" }),
        json!({ "type": "save_reply", "title": "t", "shortcut": "a" }),
    ];
    for frame in bad {
        refused(&mut desk, "owner", frame, "bad_frame");
    }
    for i in 0..MAX_SAVED_REPLIES {
        send(&mut desk, "owner", save(&format!("r{i}")));
    }
    assert_eq!(desk.saved_replies.len(), MAX_SAVED_REPLIES);
    for s in ["owner", "ana", "ben"] {
        desk.take(s);
    }
    refused(&mut desk, "owner", save("r0"), "too_many");
    refused(&mut desk, "owner", save("one-more"), "too_many");
    // a shortcut is unique
    let id = desk.saved_replies.values().find(|r| r.shortcut == "r1").map(|r| r.id.clone()).expect("r1");
    refused(
        &mut desk,
        "owner",
        json!({ "type": "save_reply", "id": id, "title": "t", "shortcut": "R2", "text": "x" }),
        "bad_frame",
    );
}

#[test]
fn the_fullest_list_fits_one_frame() {
    // Every reply at its limits, in 4-byte characters: the list still fits MAX_SEND_BYTES.
    let widest = |i: usize| SavedReply {
        id: format!("{i:036}"),
        title: "😀".repeat(MAX_REPLY_TITLE_CHARS),
        shortcut: "s".repeat(MAX_SHORTCUT_CHARS),
        text: "😀".repeat(MAX_REPLY_TEXT_CHARS),
        updated_at: i64::MAX,
    };
    let frame = Outbound::Replies { replies: (0..MAX_SAVED_REPLIES).map(widest).collect() };
    let bytes = frame.to_json().len();
    assert!(bytes <= MAX_SEND_BYTES, "{bytes} bytes");
}
