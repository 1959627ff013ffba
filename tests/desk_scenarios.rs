//! Scenario tests of the desk core, driven through the simulator: who gets which frame.

mod sim;

use serde_json::json;
use sim::{json as j, types, Desk};

fn msg(text: &str) -> String {
    json!({ "type": "message", "message": text }).to_string()
}

fn reply(target: &str, text: &str) -> String {
    json!({ "type": "message", "message": text, "targetUserId": target }).to_string()
}

#[test]
fn abc_reply_reaches_only_its_visitor_and_unread_counts_follow_reads() {
    let mut desk = Desk::new();
    desk.admin("admin");
    desk.admin("admin-tab-2");
    desk.visitor("a", "A");
    desk.visitor("b", "B");
    desk.visitor("c", "C");

    desk.send("c", &msg("C here"));
    desk.send("b", &msg("B here"));
    desk.send("a", &msg("Hi, I need help"));
    desk.send("a", &msg("Anyone?"));

    let rows = desk.users();
    let summary: Vec<_> = rows.iter().map(|r| (r.user_id.as_str(), r.unread)).collect();
    assert_eq!(summary, [("A", 2), ("B", 1), ("C", 1)], "newest activity first, with unread counts");

    desk.send("admin", &json!({ "type": "read", "userId": "C" }).to_string());
    let unread_c = |d: &Desk| d.users().iter().find(|r| r.user_id == "C").map(|r| r.unread);
    assert_eq!(unread_c(&desk), Some(0));
    for tab in ["admin", "admin-tab-2"] {
        let last = desk.take(tab).pop().map(|f| j(&f)).expect("a row update");
        assert_eq!((last["type"].clone(), last["user"]["unread"].clone()), (json!("user"), json!(0)), "{tab}");
    }
    for socket in ["a", "b", "c"] {
        desk.take(socket);
    }

    desk.send("admin", &reply("A", "Hello! How can I help you?"));

    let to_a = desk.take("a");
    assert_eq!(to_a.len(), 1);
    let got = j(&to_a[0]);
    assert_eq!(got["sender"], "admin");
    assert_eq!(got["message"], "Hello! How can I help you?");
    assert!(got.get("userId").is_none(), "visitors are not told their own id on each message");
    assert!(desk.take("b").is_empty(), "B must see nothing");
    assert!(desk.take("c").is_empty(), "C must see nothing");

    // The first reply to an unassigned conversation assigns it to its author: an event for agents.
    let admin = desk.take("admin");
    assert_eq!(types(&admin), ["ack", "message", "user"]);
    assert_eq!(j(&admin[0])["userId"], "A");
    assert_eq!(
        (j(&admin[1])["sender"].clone(), j(&admin[1])["event"]["kind"].clone()),
        (json!("event"), json!("assigned"))
    );
    let mirror = desk.take("admin-tab-2");
    assert_eq!(types(&mirror), ["message", "message", "user"]);
    assert_eq!((j(&mirror[0])["sender"].clone(), j(&mirror[0])["userId"].clone()), (json!("admin"), json!("A")));
    assert_eq!(
        (j(&mirror[0])["agentId"].clone(), j(&mirror[0])["agentName"].clone()),
        (json!("owner"), json!("Owner"))
    );
    assert_eq!(j(&mirror[2])["user"]["unread"], 2, "an admin reply does not clear unread: only read does");
    assert_eq!(j(&mirror[2])["user"]["assigneeId"], "owner");
}

#[test]
fn visitor_message_is_acked_and_reaches_every_admin_with_its_row() {
    let mut desk = Desk::new();
    desk.admin("admin");
    desk.visitor("a", "A");
    desk.take("admin");
    desk.send("a", &json!({ "type": "message", "message": "Hi", "clientMsgId": "c-1" }).to_string());

    let ack = j(&desk.take("a")[0]);
    assert_eq!(
        (ack["type"].clone(), ack["clientMsgId"].clone(), ack["seq"].clone()),
        (json!("ack"), json!("c-1"), json!(1))
    );
    let admin = desk.take("admin");
    assert_eq!(types(&admin), ["message", "user"]);
    let (m, row) = (j(&admin[0]), j(&admin[1])["user"].clone());
    assert_eq!(
        (m["sender"].clone(), m["userId"].clone(), m["id"].clone()),
        (json!("user"), json!("A"), ack["id"].clone())
    );
    assert_eq!(
        (row["unread"].clone(), row["lastMessage"].clone(), row["online"].clone()),
        (json!(1), json!("Hi"), json!(true))
    );
}

#[test]
fn every_tab_of_a_visitor_gets_replies_and_sees_its_own_messages() {
    let mut desk = Desk::new();
    desk.admin("admin");
    desk.visitor("a-tab-1", "A");
    desk.visitor("a-tab-2", "A");
    desk.visitor("b", "B");

    desk.send("a-tab-1", &msg("from tab one"));
    assert_eq!(types(&desk.take("a-tab-1")), ["ack"]);
    let echo = desk.take("a-tab-2");
    assert_eq!(types(&echo), ["message"]);
    assert_eq!((j(&echo[0])["sender"].clone(), j(&echo[0])["message"].clone()), (json!("user"), json!("from tab one")));

    desk.send("admin", &reply("A", "to both tabs"));
    for tab in ["a-tab-1", "a-tab-2"] {
        let got = desk.take(tab);
        assert_eq!(got.len(), 1, "{tab}");
        assert_eq!(j(&got[0])["message"], "to both tabs");
    }
    assert!(desk.take("b").is_empty());
}

#[test]
fn a_reply_to_an_offline_visitor_waits_in_their_welcome() {
    let mut desk = Desk::new();
    desk.admin("admin");
    desk.visitor("a", "A");
    desk.send("a", &msg("I'll be back"));
    desk.close("a");
    desk.send("admin", &reply("A", "Here is your answer"));
    assert_eq!(types(&desk.take("admin")).last().map(String::as_str), Some("user"));

    let welcome = j(&desk.visitor("a-again", "A"));
    let texts: Vec<_> = welcome["messages"].as_array().unwrap().iter().map(|m| m["message"].clone()).collect();
    assert_eq!(texts, [json!("I'll be back"), json!("Here is your answer")], "oldest first");
    assert_eq!(welcome["messages"][1]["sender"], "admin");
    assert_eq!(welcome["hasMore"], false);
}

#[test]
fn a_repeated_client_msg_id_is_stored_once_and_acked_with_the_original() {
    let mut desk = Desk::new();
    desk.admin("admin");
    desk.visitor("a", "A");
    let frame = json!({ "type": "message", "message": "once", "clientMsgId": "retry-me" }).to_string();
    desk.send("a", &frame);
    let first = j(&desk.take("a")[0]);
    desk.take("admin");
    desk.send("a", &frame);
    let second = j(&desk.take("a")[0]);

    assert_eq!(
        (second["id"].clone(), second["seq"].clone(), second["at"].clone()),
        (first["id"].clone(), first["seq"].clone(), first["at"].clone())
    );
    assert_eq!(desk.messages.len(), 1);
    assert!(desk.take("admin").is_empty(), "a retry is not delivered again");
    assert_eq!(desk.users()[0].unread, 1, "nor counted again");

    // The same id from the admin side is another sender: it is a new message.
    desk.send(
        "admin",
        &json!({ "type": "message", "message": "x", "targetUserId": "A", "clientMsgId": "retry-me" }).to_string(),
    );
    let replies = desk.messages.iter().filter(|s| s.message.sender == support_desk::protocol::Author::Admin).count();
    assert_eq!((desk.messages.len(), replies), (3, 1), "the reply, and the event of its assignment");
}

#[test]
fn read_marks_survive_as_state_and_only_visitor_messages_count() {
    let mut desk = Desk::new();
    desk.admin("admin");
    desk.visitor("a", "A");
    desk.send("a", &msg("one"));
    desk.send("a", &msg("two"));
    desk.send("admin", &json!({ "type": "read", "userId": "A" }).to_string());
    let c = &desk.conversations["A"];
    assert_eq!((c.unread, c.read_seq), (0, 2));
    desk.send("admin", &reply("A", "answer"));
    desk.send("a", &msg("three"));
    assert_eq!(desk.conversations["A"].unread, 1);
}

#[test]
fn history_pages_backwards_oldest_first() {
    let mut desk = Desk::new();
    desk.admin("admin");
    desk.visitor("a", "A");
    for i in 1..=5 {
        desk.send("a", &msg(&format!("m{i}")));
    }
    desk.take("admin");
    desk.send("admin", &json!({ "type": "history", "userId": "A", "before": 5, "limit": 2 }).to_string());
    let page = j(&desk.take("admin")[0]);
    let seqs: Vec<_> = page["messages"].as_array().unwrap().iter().map(|m| m["seq"].clone()).collect();
    assert_eq!(seqs, [json!(3), json!(4)]);
    assert_eq!(page["hasMore"], true);

    desk.take("a");
    desk.send("a", &json!({ "type": "history", "before": 3 }).to_string());
    let own = j(&desk.take("a")[0]);
    assert_eq!((own["messages"].as_array().unwrap().len(), own["hasMore"].clone()), (2, json!(false)));
}

#[test]
fn presence_is_announced_on_first_open_and_last_close_of_a_known_conversation() {
    let mut desk = Desk::new();
    desk.admin("admin");
    desk.visitor("a1", "A");
    assert!(desk.take("admin").is_empty(), "a visitor who never wrote is not in the sidebar");
    desk.send("a1", &msg("hello"));
    desk.take("admin");
    desk.visitor("a2", "A");
    assert!(desk.take("admin").is_empty(), "a second tab changes nothing");
    desk.close("a1");
    assert!(desk.take("admin").is_empty(), "one tab still open");
    desk.close("a2");
    let row = j(&desk.take("admin")[0]);
    assert_eq!((row["type"].clone(), row["user"]["online"].clone()), (json!("user"), json!(false)));
    desk.visitor("a3", "A");
    assert_eq!(j(&desk.take("admin")[0])["user"]["online"], true);
}

#[test]
fn desks_are_isolated_a_user_of_one_is_unknown_on_another() {
    let (mut one, mut two) = (Desk::new(), Desk::new());
    one.admin("admin");
    two.admin("admin");
    one.visitor("a", "A");
    one.send("a", &msg("only on desk one"));
    two.send("admin", &reply("A", "hello?"));
    assert_eq!(j(&two.take("admin")[0])["code"], "unknown_user");
    two.send("admin", &json!({ "type": "history", "userId": "A" }).to_string());
    assert_eq!(j(&two.take("admin")[0])["code"], "unknown_user");
    assert!(two.messages.is_empty() && two.users().is_empty());
}
