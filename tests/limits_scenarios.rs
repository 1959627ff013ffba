//! Scenario tests of the per-visitor daily byte limit, driven through the real core: refused
//! before anything is stored, with `rate_limited` and the ms until the UTC day ends; a retry of a
//! stored message is still acked; the next day starts afresh; agents and other visitors unaffected.

mod sim;

use serde_json::json;
use sim::{json as j, Desk};
use support_desk::limits::DAY_MS;

fn msg(text: &str, id: &str) -> String {
    json!({ "type": "message", "message": text, "clientMsgId": id }).to_string()
}

#[test]
fn a_visitor_over_its_daily_bytes_is_refused_until_the_day_ends_and_nothing_is_stored() {
    let mut desk = Desk::new();
    desk.bytes_per_day = 100;
    desk.now = 10 * DAY_MS + 1_000;
    desk.admin("admin");
    desk.visitor("a", "A");
    desk.visitor("b", "B");
    desk.send("a", &msg(&"x".repeat(60), "a1"));
    desk.send("a", &msg(&"é".repeat(25), "a2")); // 50 bytes of UTF-8: 110 > 100
    let frames: Vec<_> = desk.take("a").iter().map(j).collect();
    assert_eq!(frames[0]["type"], "ack");
    let refusal = &frames[1];
    assert_eq!((refusal["type"].as_str(), refusal["code"].as_str()), (Some("error"), Some("rate_limited")));
    assert_eq!(refusal["clientMsgId"], "a2");
    let retry = refusal["retryAfterMs"].as_i64().expect("retryAfterMs");
    assert_eq!(retry, DAY_MS - (desk.now % DAY_MS), "until the UTC day ends");
    assert_eq!(desk.messages.len(), 1, "the refused message stored nothing");

    // A retry of the stored message is acked again, not counted again.
    desk.send("a", &msg(&"x".repeat(60), "a1"));
    assert_eq!(j(&desk.take("a")[0])["type"], "ack");
    desk.send("a", &msg(&"y".repeat(40), "a3"));
    assert_eq!(j(&desk.take("a")[0])["type"], "ack", "exactly the limit fits");

    // Another visitor and the agents are not affected.
    desk.send("b", &msg(&"z".repeat(100), "b1"));
    assert_eq!(j(&desk.take("b")[0])["type"], "ack");
    let user_id = "A";
    desk.send("admin", &json!({ "type": "message", "message": "w".repeat(500), "targetUserId": user_id }).to_string());
    assert!(desk.take("admin").iter().any(|f| j(f)["type"] == "ack"), "agents have no daily bytes");
    desk.take("a"); // the reply

    // The next UTC day starts afresh.
    desk.now = 11 * DAY_MS;
    desk.send("a", &msg(&"é".repeat(25), "a2"));
    assert_eq!(j(&desk.take("a")[0])["type"], "ack");
    assert_eq!(desk.conversations["A"].usage.bytes, 50);
}
