//! Scenario tests of webhooks, driving the real core: which events a step queues and for which
//! endpoint, in the same step as the fact that caused them; their bodies (JSON and Slack) and
//! signatures; the bounded outbox; retries and giving up; the management frames' rights and
//! validation; the `conversation.unanswered` seam.

mod sim;

use serde_json::{json, Value};
use sim::{json as j, Desk};
use support_desk::desk::webhooks::{
    self, after_attempt, backoff, signature, valid_url, Attempt, Next, GIVE_UP_AFTER_MS,
};
use support_desk::desk::{Effect, Write};
use support_desk::protocol::Role;

fn send(desk: &mut Desk, socket: &'static str, frame: Value) -> Vec<Value> {
    desk.send(socket, &frame.to_string());
    desk.take(socket).iter().map(j).collect()
}

/// A desk named `acme` whose owner registered one JSON endpoint for every event, with loopback
/// allowed; Ana (agent) on the team; a visitor `v1` connected.
fn desk() -> (Desk, Value) {
    let mut desk = Desk::new();
    desk.state.hooks.desk = "acme".into();
    desk.state.hooks.allow_loopback = true;
    desk.admin("owner");
    let (_, ana) = desk.join("owner", "Ana Lima", Role::Agent);
    desk.sign_in("ana", Some(&ana)).expect("Ana signs in");
    desk.take("owner");
    desk.take("ana");
    let events = ["conversation.created", "message.created", "conversation.unanswered", "conversation.resolved"];
    let got =
        send(&mut desk, "owner", json!({"type": "webhook_save", "url": "http://127.0.0.1:9/hook", "events": events}));
    assert_eq!(got.len(), 1, "{got:?}");
    let endpoint = got[0]["endpoints"][0].clone();
    desk.visitor("v1", "u1");
    desk.take("v1");
    (desk, endpoint)
}

fn queued(desk: &Desk) -> Vec<(String, Value)> {
    desk.state
        .outbox
        .iter()
        .map(|d| (d.event.as_str().to_owned(), serde_json::from_str(&d.body).expect("a JSON body")))
        .collect()
}

#[test]
fn a_visitors_first_message_creates_the_conversation_then_every_message_is_told() {
    let (mut desk, endpoint) = desk();
    assert_eq!(endpoint["secret"].as_str().map(|s| s.starts_with("whsec_") && s.len() == 70), Some(true));
    desk.now = 1_000;
    send(&mut desk, "v1", json!({"type": "message", "message": "hello", "clientMsgId": "c1"}));
    let q = queued(&desk);
    let kinds: Vec<&str> = q.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["conversation.created", "message.created"]);
    let (_, created) = &q[0];
    assert_eq!(created["type"], "conversation.created");
    assert_eq!(created["desk"], "acme");
    assert!(created["at"].as_i64().is_some_and(|at| at >= 1_000), "the time of the step");
    assert_eq!(created["conversation"]["userId"], "u1");
    assert_eq!(created["message"]["text"], "hello");
    assert_ne!(q[0].1["id"], q[1].1["id"], "each event its own id");
    assert_eq!(desk.state.outbox[1].event_id, q[1].1["id"].as_str().unwrap_or_default(), "the id travels with the row");

    send(&mut desk, "v1", json!({"type": "message", "message": "again", "clientMsgId": "c2"}));
    assert_eq!(queued(&desk).len(), 3, "a later message: message.created only");
    assert_eq!(queued(&desk)[2].0, "message.created");
    send(&mut desk, "v1", json!({"type": "message", "message": "again", "clientMsgId": "c2"}));
    assert_eq!(queued(&desk).len(), 3, "a retried message (same clientMsgId) is not a new event");

    // An agent's reply is no event; resolving is.
    send(&mut desk, "ana", json!({"type": "message", "message": "hi", "targetUserId": "u1"}));
    assert_eq!(queued(&desk).len(), 3);
    send(&mut desk, "ana", json!({"type": "resolve", "userId": "u1"}));
    let q = queued(&desk);
    assert_eq!(q[3].0, "conversation.resolved");
    assert_eq!(q[3].1["agent"]["name"], "Ana Lima");
    assert!(q[3].1.get("message").is_none());

    send(&mut desk, "owner", json!({"type": "delete", "userId": "u1"}));
    assert!(desk.state.outbox.is_empty(), "a deleted conversation's undelivered events go with it");
}

#[test]
fn deliveries_are_written_with_the_fact_before_any_send_and_wake_the_alarm() {
    let (mut desk, _) = desk();
    desk.now = 5_000;
    let frame = support_desk::protocol::parse(r#"{"type":"message","message":"hi","clientMsgId":"c"}"#).expect("frame");
    let sender = support_desk::desk::Sender::Visitor { user_id: "u1".into() };
    let effects = support_desk::desk::step(&sender, frame, &desk.state, desk.now, &mut desk.fresh).expect("effects");
    let first_send = effects.iter().position(|e| matches!(e, Effect::Send { .. })).expect("a send");
    let queue_at: Vec<usize> = effects
        .iter()
        .enumerate()
        .filter(|(_, e)| matches!(e, Effect::Store(Write::WebhookQueue { .. })))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(queue_at.len(), 2);
    assert!(queue_at.iter().all(|i| *i < first_send), "queued among the writes, before any send");
    assert!(effects.contains(&Effect::WakeAt(5_000)), "the alarm delivers now");
}

#[test]
fn endpoints_get_only_their_events_in_their_format_and_disabled_ones_nothing() {
    let (mut desk, first) = desk();
    let slack = send(
        &mut desk,
        "owner",
        json!({"type": "webhook_save", "url": "https://hooks.slack.com/services/T/B/X", "events": ["message.created"], "format": "slack"}),
    );
    assert_eq!(slack[0]["endpoints"].as_array().map(Vec::len), Some(2));
    let id = first["id"].as_str().unwrap_or_default();
    send(&mut desk, "owner", json!({"type": "webhook_save", "id": id, "enabled": false}));
    send(&mut desk, "v1", json!({"type": "message", "message": "a <b> & c"}));
    assert_eq!(desk.state.outbox.len(), 1, "the disabled endpoint gets nothing");
    let body: Value = serde_json::from_str(&desk.state.outbox[0].body).expect("JSON");
    let name = desk.state.conversations["u1"].name.clone();
    assert_eq!(body, json!({"text": format!("{name} wrote on acme: a &lt;b&gt; &amp; c")}), "Slack's escapes");
}

#[test]
fn a_full_outbox_drops_the_new_event_and_logs_it() {
    let (mut desk, endpoint) = desk();
    desk.state.hooks.max_pending = 3;
    send(&mut desk, "v1", json!({"type": "message", "message": "one"})); // created + message
    send(&mut desk, "v1", json!({"type": "message", "message": "two"})); // message: 3 waiting
    send(&mut desk, "v1", json!({"type": "message", "message": "three"}));
    assert_eq!(desk.state.outbox.len(), 3, "never more than max_pending");
    let log = &desk.state.webhook_log;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].endpoint_id, endpoint["id"].as_str().unwrap_or_default());
    assert_eq!(log[0].status.as_str(), "dropped");
    assert!(log[0].error.as_deref().unwrap_or_default().contains("outbox full"));
    let texts: Vec<String> = queued(&desk).iter().map(|(_, b)| b["message"]["text"].to_string()).collect();
    assert_eq!(texts, ["\"one\"", "\"one\"", "\"two\""], "the older events keep their place");
    desk.take("owner");
    let list = send(&mut desk, "owner", json!({"type": "webhooks"}));
    assert_eq!(list[0]["endpoints"][0]["pending"], 3);
    assert_eq!(list[0]["log"][0]["status"], "dropped");
}

#[test]
fn only_the_owner_and_admins_manage_webhooks_and_bad_input_stores_nothing() {
    let (mut desk, endpoint) = desk();
    let id = endpoint["id"].as_str().unwrap_or_default().to_owned();
    let before = desk.state.hooks.endpoints.clone();
    let code = |got: Vec<Value>| got[0]["code"].as_str().unwrap_or_default().to_owned();
    for frame in [
        json!({"type": "webhooks"}),
        json!({"type": "webhook_save", "url": "https://example.com/h", "events": ["message.created"]}),
        json!({"type": "webhook_delete", "id": id}),
    ] {
        assert_eq!(code(send(&mut desk, "ana", frame)), "forbidden");
    }
    assert_eq!(code(send(&mut desk, "v1", json!({"type": "webhooks"}))), "forbidden", "nor visitors");
    for url in [
        "http://example.com/h",
        "ftp://x",
        "https://",
        "https://user:pw@example.com/",
        "https://a b.com",
        "javascript:alert(1)",
    ] {
        let got = send(&mut desk, "owner", json!({"type": "webhook_save", "url": url, "events": ["message.created"]}));
        assert_eq!(code(got), "bad_webhook_url", "{url}");
    }
    let long = format!("https://example.com/{}", "a".repeat(2048));
    let mut refused = |frame: Value| code(send(&mut desk, "owner", frame));
    let saving = |url: &str, events: Value| json!({"type": "webhook_save", "url": url, "events": events});
    assert_eq!(refused(saving(&long, json!(["message.created"]))), "bad_webhook_url");
    assert_eq!(refused(saving("https://e.com", json!([]))), "bad_webhook");
    assert_eq!(refused(json!({"type": "webhook_save", "url": "https://e.com"})), "bad_webhook");
    assert_eq!(refused(saving("https://e.com", json!(["nope"]))), "bad_frame");
    assert_eq!(refused(json!({"type": "webhook_delete", "id": "nope"})), "unknown_webhook");
    assert_eq!(desk.state.hooks.endpoints, before, "nothing stored by a refusal");

    for n in 1..10 {
        let got = send(&mut desk, "owner", saving(&format!("https://e{n}.com"), json!(["message.created"])));
        assert_eq!(got[0]["type"], "webhooks");
    }
    assert_eq!(code(send(&mut desk, "owner", saving("https://e.com", json!(["message.created"])))), "too_many");

    let rotated = send(&mut desk, "owner", json!({"type": "webhook_save", "id": id, "rotateSecret": true}));
    assert_ne!(rotated[0]["endpoints"][0]["secret"], endpoint["secret"], "a new secret");
    assert_eq!(rotated[0]["endpoints"][0]["url"], endpoint["url"], "the rest kept");
    let after = send(&mut desk, "owner", json!({"type": "webhook_delete", "id": id}));
    assert_eq!(after[0]["endpoints"].as_array().map(Vec::len), Some(9));
}

#[test]
fn urls_https_only_and_plain_http_only_to_loopback_when_allowed() {
    assert!(valid_url("https://hooks.example.com/x?y=1", false).is_some());
    assert!(valid_url("https://[2001:db8::1]:8443/x", false).is_some());
    assert!(valid_url("http://127.0.0.1:8080/x", false).is_none());
    assert!(valid_url("http://127.0.0.1:8080/x", true).is_some());
    assert!(valid_url("http://localhost/x", true).is_some());
    assert!(valid_url("http://[::1]:80/x", true).is_some());
    assert!(valid_url("http://example.com/x", true).is_none());
    assert!(valid_url("https://example.com:99999999/x", false).is_none());
}

#[test]
fn retries_back_off_exponentially_and_give_up_after_a_day_or_a_refusal() {
    let base = 1_000;
    assert_eq!(after_attempt(&Attempt::Answered(200), 1, 0, 10, base), Next::Delivered);
    assert_eq!(after_attempt(&Attempt::Answered(204), 7, 0, 10, base), Next::Delivered);
    assert_eq!(after_attempt(&Attempt::Answered(500), 1, 0, 10, base), Next::Retry { at: 1_010 });
    assert_eq!(after_attempt(&Attempt::Answered(503), 2, 0, 10, base), Next::Retry { at: 2_010 });
    assert_eq!(after_attempt(&Attempt::Failed("timeout".into()), 3, 0, 10, base), Next::Retry { at: 4_010 });
    assert_eq!(after_attempt(&Attempt::Answered(408), 1, 0, 0, base), Next::Retry { at: 1_000 });
    assert_eq!(after_attempt(&Attempt::Answered(429), 1, 0, 0, base), Next::Retry { at: 1_000 });
    assert_eq!(after_attempt(&Attempt::Answered(404), 1, 0, 0, base), Next::GiveUp, "refused: no retry");
    assert_eq!(after_attempt(&Attempt::Answered(410), 1, 0, 0, base), Next::GiveUp);
    assert_eq!(backoff(30_000, 40), webhooks::MAX_BACKOFF_MS, "at most an hour apart");
    let late = GIVE_UP_AFTER_MS - 500;
    assert_eq!(after_attempt(&Attempt::Answered(500), 30, 0, late, base), Next::GiveUp, "24 h after the event");
    assert!(matches!(
        after_attempt(&Attempt::Answered(500), 30, 0, GIVE_UP_AFTER_MS - 3_600_000, base),
        Next::Retry { .. }
    ));
}

#[test]
fn the_signature_is_the_hmac_of_the_exact_body() {
    // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
    assert_eq!(
        signature("Jefe", "what do ya want for nothing?"),
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

#[test]
fn the_unanswered_seam_queues_its_event_for_the_endpoints_that_want_it() {
    let (mut desk, _) = desk();
    send(&mut desk, "v1", json!({"type": "message", "message": "anyone?"}));
    let before = desk.state.outbox.len();
    desk.now = 300_000;
    let effects = webhooks::unanswered("u1", 1_000, &desk.state, desk.now, &mut desk.fresh);
    for e in &effects {
        if let Effect::Store(w) = e {
            desk.state.apply(w);
        }
    }
    assert!(effects.contains(&Effect::WakeAt(300_000)));
    let q = queued(&desk);
    assert_eq!(q.len(), before + 1);
    let (kind, body) = q.last().expect("queued");
    assert_eq!(kind, "conversation.unanswered");
    assert_eq!(body["waitingSince"], 1_000);
    assert_eq!(body["conversation"]["userId"], "u1");
}
