//! Scenario tests of "typing…" and seen marks, driven through the real core: who hears a typing
//! frame (and who never does), that nothing of it is stored, its throttle and the rate limit;
//! seen marks validated, never lowered, stored, and carried by `welcome` and the admin rows.

mod sim;

use serde_json::{json, Value};
use sim::{json as j, Desk};
use support_desk::desk::View;
use support_desk::limits::{Buckets, Limits};
use support_desk::protocol::{Role, TYPING_EVERY_MS};

const TYPING: &str = r#"{"type":"typing"}"#;

fn msg(text: &str) -> String {
    json!({ "type": "message", "message": text }).to_string()
}

fn typing_for(user_id: &str) -> String {
    json!({ "type": "typing", "userId": user_id }).to_string()
}

fn seen(seq: i64) -> String {
    json!({ "type": "seen", "seq": seq }).to_string()
}

const SOCKETS: [&str; 6] = ["owner", "ana", "a", "a-tab-2", "b", "c"];

/// The owner and agent Ana signed in; visitors A (two tabs) and B wrote, C never did.
fn desk() -> (Desk, String) {
    let mut desk = Desk::new();
    desk.admin("owner");
    let (ana_id, ana) = desk.join("owner", "Ana", Role::Agent);
    desk.sign_in("ana", Some(&ana)).expect("Ana signs in");
    desk.visitor("a", "A");
    desk.visitor("a-tab-2", "A");
    desk.visitor("b", "B");
    desk.visitor("c", "C");
    desk.send("a", &msg("Hi, my order is late"));
    desk.send("b", &msg("Hello"));
    drain(&mut desk);
    (desk, ana_id)
}

fn drain(desk: &mut Desk) {
    for s in SOCKETS {
        desk.take(s);
    }
}

/// What every socket got, as JSON, by socket name (those that got nothing left out).
fn heard(desk: &mut Desk) -> Vec<(&'static str, Vec<Value>)> {
    SOCKETS
        .iter()
        .map(|s| (*s, desk.take(s).iter().map(j).collect::<Vec<_>>()))
        .filter(|(_, frames)| !frames.is_empty())
        .collect()
}

#[test]
fn a_visitors_typing_reaches_every_agent_and_no_visitor_and_nothing_is_stored() {
    let (mut desk, _) = desk();
    let (messages, conversations) = (desk.messages.clone(), desk.conversations.clone());
    desk.send("a", TYPING);
    let to_agents = json!({ "type": "typing", "userId": "A" });
    assert_eq!(heard(&mut desk), [("owner", vec![to_agents.clone()]), ("ana", vec![to_agents])]);
    assert_eq!(desk.messages, messages, "typing is never stored");
    assert_eq!(desk.conversations, conversations, "typing changes no conversation");

    // Naming its own conversation is the same; naming another's is refused, and B hears nothing.
    desk.now += TYPING_EVERY_MS;
    desk.send("b", &typing_for("A"));
    let refusal = heard(&mut desk);
    assert_eq!(refusal.len(), 1, "only the sender hears of it: {refusal:?}");
    assert_eq!((refusal[0].0, refusal[0].1[0]["code"].as_str()), ("b", Some("forbidden")));
    desk.send("b", &typing_for("B"));
    assert_eq!(heard(&mut desk).iter().map(|(s, _)| *s).collect::<Vec<_>>(), ["owner", "ana"]);

    // A visitor who never wrote has no row in any inbox: nothing is sent.
    desk.send("c", TYPING);
    assert!(heard(&mut desk).is_empty());
    assert_eq!(desk.messages, messages);
}

#[test]
fn an_agents_typing_reaches_that_visitor_by_name_and_the_other_agents_with_who() {
    let (mut desk, ana_id) = desk();
    desk.send("ana", &typing_for("A"));
    let to_visitor = json!({ "type": "typing", "agentName": "Ana" });
    let to_agents = json!({ "type": "typing", "userId": "A", "agentId": ana_id, "agentName": "Ana" });
    assert_eq!(
        heard(&mut desk),
        [("owner", vec![to_agents]), ("a", vec![to_visitor.clone()]), ("a-tab-2", vec![to_visitor])],
        "B and C hear nothing, the visitor learns no agent id, Ana is not told about herself"
    );
    // The exact frames on the wire.
    desk.now += TYPING_EVERY_MS;
    desk.send("ana", &typing_for("A"));
    assert_eq!(desk.take("a")[0].to_json(), r#"{"type":"typing","agentName":"Ana"}"#);
    assert_eq!(
        desk.take("owner")[0].to_json(),
        format!(r#"{{"type":"typing","userId":"A","agentId":"{ana_id}","agentName":"Ana"}}"#)
    );
    drain(&mut desk);

    // An agent must name a conversation it could reply to.
    desk.now += TYPING_EVERY_MS;
    desk.send("ana", TYPING);
    let got = heard(&mut desk);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!((got[0].0, got[0].1[0]["code"].as_str()), ("ana", Some("bad_frame")));
}

#[test]
fn agents_cannot_type_to_unknown_visitors_and_visitors_cannot_say_seen_for_agents() {
    let (mut desk, _) = desk();
    for (socket, frame, code) in [
        ("ana", typing_for("nobody"), "unknown_user"),
        ("ana", seen(1), "forbidden"),
        ("a", r#"{"type":"typing","userId":5}"#.to_owned(), "bad_frame"),
        ("a", seen(0), "bad_frame"),
        ("a", r#"{"type":"seen"}"#.to_owned(), "bad_frame"),
    ] {
        let (messages, conversations) = (desk.messages.clone(), desk.conversations.clone());
        desk.now += TYPING_EVERY_MS;
        desk.send(socket, &frame);
        let got = heard(&mut desk);
        assert_eq!(got.len(), 1, "{frame}: only its sender hears: {got:?}");
        assert_eq!((got[0].0, got[0].1[0]["code"].as_str()), (socket, Some(code)), "{frame}");
        assert!(got[0].1[0]["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert_eq!((&desk.messages, &desk.conversations), (&messages, &conversations), "{frame}");
    }
}

#[test]
fn typing_is_forwarded_at_most_once_per_period_per_typist_and_extra_frames_are_dropped_quietly() {
    let (mut desk, _) = desk();
    let start = desk.now;
    let forwarded = |desk: &mut Desk, socket: &'static str, at: i64| {
        desk.now = at - 1; // `send` moves the clock one ms on
        desk.send(socket, if socket == "ana" { r#"{"type":"typing","userId":"A"}"# } else { TYPING });
        let got = heard(desk);
        assert!(got.iter().all(|(_, frames)| frames.iter().all(|f| f["type"] == "typing")), "never an error: {got:?}");
        !got.is_empty()
    };
    assert!(forwarded(&mut desk, "a", start + 10));
    assert!(!forwarded(&mut desk, "a", start + 500), "within 2 s: dropped");
    assert!(!forwarded(&mut desk, "a-tab-2", start + 1_000), "another tab of the same visitor: dropped too");
    assert!(forwarded(&mut desk, "b", start + 1_000), "another visitor has its own period");
    assert!(forwarded(&mut desk, "ana", start + 1_000), "so has an agent");
    assert!(!forwarded(&mut desk, "a", start + 10 + TYPING_EVERY_MS - 1));
    assert!(forwarded(&mut desk, "a", start + 10 + TYPING_EVERY_MS), "the next period");
    assert!(!forwarded(&mut desk, "ana", start + 1_500));
    assert!(forwarded(&mut desk, "ana", start + 3_000));

    // The message itself follows as usual (clients clear "typing…" when it comes).
    desk.send("a", &msg("Order 1234"));
    let owner = desk.take("owner");
    assert_eq!(j(&owner[0])["type"], "message");
}

#[test]
fn typing_as_documented_never_makes_a_visitor_rate_limited_but_a_flood_of_it_is() {
    let (mut desk, _) = desk();
    desk.visitor_buckets = Some(Buckets::new(Limits::default().visitor));
    // Ten minutes of a fast typist: a typing frame every 2 s, a message every 6 s, and after each
    // message the widget's seen mark; plus a burst of five messages sent at once.
    let start = desk.now;
    let mut limited = 0;
    for i in 0..300 {
        desk.now = start + i * 2_000;
        desk.send("a", TYPING);
        if i % 3 == 0 {
            desk.send("a", &msg(&format!("line {i}")));
            let seq = desk.state.next_seq() - 1;
            desk.send("a", &seen(seq));
        }
        if i == 150 {
            for k in 0..5 {
                desk.send("a", &msg(&format!("burst {k}")));
            }
        }
        limited += desk.take("a").iter().filter(|f| j(f)["code"] == "rate_limited").count();
        drain(&mut desk);
    }
    assert_eq!(limited, 0, "used as documented, typing never exhausts the visitor's bucket");

    // Typing counts against the limit like any frame: a script sending it in a loop is stopped.
    desk.now += 60_000;
    for _ in 0..100 {
        desk.send("a", TYPING);
    }
    let refused = desk.take("a").iter().filter(|f| j(f)["code"] == "rate_limited").count();
    assert!(refused >= 70, "after the burst of 20, typing frames are refused: {refused}");
    assert_eq!(desk.take("owner").len(), 1, "and the agents heard one of them");
}

#[test]
fn seen_marks_are_validated_never_lowered_stored_and_told_to_agents_only() {
    let (mut desk, _) = desk();
    desk.send("owner", &json!({ "type": "message", "message": "On its way", "targetUserId": "A" }).to_string());
    let reply_seq = j(&desk.take("owner")[0])["seq"].as_i64().expect("ack seq");
    drain(&mut desk);

    desk.send("a", &seen(reply_seq));
    let told = json!({ "type": "seen", "userId": "A", "seq": reply_seq });
    assert_eq!(heard(&mut desk), [("owner", vec![told.clone()]), ("ana", vec![told])]);
    assert_eq!(desk.conversations["A"].seen_seq, reply_seq, "stored");

    // Lower or equal: nothing changes, nobody is told, no error.
    desk.send("a-tab-2", &seen(reply_seq - 1));
    desk.send("a", &seen(reply_seq));
    assert!(heard(&mut desk).is_empty());
    assert_eq!(desk.conversations["A"].seen_seq, reply_seq, "never lowered");

    // Beyond the conversation's latest message (the assignment event after the reply is not one
    // the visitor sees): refused, nothing stored.
    let conversations = desk.conversations.clone();
    desk.send("a", &seen(reply_seq + 1));
    let got = heard(&mut desk);
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].0, got[0].1[0]["code"].as_str()), ("a", Some("bad_frame")));
    assert!(got[0].1[0]["message"].as_str().unwrap_or_default().contains("beyond"), "{:?}", got[0].1[0]);
    assert_eq!(desk.conversations, conversations);

    // The rows and a new visitor socket carry both marks.
    desk.send("owner", &json!({ "type": "read", "userId": "A" }).to_string());
    let row = desk.users().into_iter().find(|r| r.user_id == "A").expect("A's row");
    assert_eq!((row.seen_seq, row.read_seq), (reply_seq, reply_seq));
    let row = j(&support_desk::protocol::Outbound::User { user: row });
    assert_eq!((row["user"]["seenSeq"].as_i64(), row["user"]["readSeq"].as_i64()), (Some(reply_seq), Some(reply_seq)));
    let welcome = j(&desk.visitor("a-tab-3", "A"));
    assert_eq!((welcome["seenSeq"].as_i64(), welcome["readSeq"].as_i64()), (Some(reply_seq), Some(reply_seq)));
    let welcome_b = j(&desk.visitor("b-tab-2", "B"));
    assert!(welcome_b.get("seenSeq").is_none() && welcome_b.get("readSeq").is_none(), "0 is not sent: {welcome_b}");
}

#[test]
fn an_agent_reading_tells_that_visitor_only_and_only_when_the_mark_moves() {
    let (mut desk, _) = desk();
    let a_seq = desk.conversations["A"].last.as_ref().map(|l| l.seq).expect("A wrote");
    desk.send("ana", &json!({ "type": "read", "userId": "A" }).to_string());
    let got = heard(&mut desk);
    let read = json!({ "type": "read", "seq": a_seq });
    let visitors: Vec<_> = got.iter().filter(|(s, _)| !matches!(*s, "owner" | "ana")).cloned().collect();
    assert_eq!(visitors, [("a", vec![read.clone()]), ("a-tab-2", vec![read])]);
    assert_eq!(support_desk::protocol::Outbound::Read { seq: 7 }.to_json(), r#"{"type":"read","seq":7}"#);

    // Read again with nothing new: the agents get the row, the visitor nothing.
    desk.send("owner", &json!({ "type": "read", "userId": "A" }).to_string());
    let got = heard(&mut desk);
    assert!(got.iter().all(|(s, _)| matches!(*s, "owner" | "ana")), "{got:?}");
}
