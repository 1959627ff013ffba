//! Property tests: whatever a client sends, the parser and the core answer with frames or a
//! refusal, never a panic (a panic in wasm resets the whole desk instance), and a refusal changes
//! nothing that is stored.

mod sim;

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use sim::{json as j, Desk};

/// JSON values of any shape, a few levels deep, with strings that include the ids in play.
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        prop_oneof![
            Just("A".to_owned()),
            Just("B".to_owned()),
            Just("owner".to_owned()),
            Just("m1".to_owned()),
            Just("open".to_owned()),
            Just("agent".to_owned()),
            Just(String::new()),
            any::<String>()
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Frames that look like the contract's, with fields of any shape: the inputs most likely to
/// get past the first checks.
fn frame() -> impl Strategy<Value = String> {
    let kind = prop_oneof![
        Just("message"),
        Just("read"),
        Just("history"),
        Just("ping"),
        Just("MESSAGE"),
        Just(""),
        Just("welcome"),
        Just("note"),
        Just("resolve"),
        Just("reopen"),
        Just("snooze"),
        Just("assign"),
        Just("unread"),
        Just("list"),
        Just("search"),
        Just("invite"),
        Just("revoke"),
        Just("agents"),
        Just("profile")
    ];
    let field = prop_oneof![
        Just("message"),
        Just("targetUserId"),
        Just("clientMsgId"),
        Just("userId"),
        Just("before"),
        Just("limit"),
        Just("type"),
        Just("until"),
        Just("agentId"),
        Just("view"),
        Just("cursor"),
        Just("query"),
        Just("name"),
        Just("role"),
        Just("email")
    ];
    (kind, prop::collection::vec((field, value()), 0..5)).prop_map(|(kind, fields)| {
        let mut map = Map::new();
        map.insert("type".into(), json!(kind));
        for (k, v) in fields {
            map.insert(k.into(), v);
        }
        Value::Object(map).to_string()
    })
}

fn any_input() -> impl Strategy<Value = String> {
    prop_oneof![3 => frame(), 1 => any::<String>(), 1 => value().prop_map(|v| v.to_string())]
}

fn desk() -> Desk {
    let mut desk = Desk::new();
    desk.admin("admin");
    let (_, token) = desk.join("admin", "Ana", support_desk::protocol::Role::Agent);
    desk.sign_in("agent", Some(&token)).expect("Ana signs in");
    desk.visitor("a", "A");
    desk.visitor("b", "B");
    desk.send("a", &json!({ "type": "message", "message": "hello", "clientMsgId": "c1" }).to_string());
    desk.send("b", &json!({ "type": "message", "message": "hi" }).to_string());
    for s in ["a", "b", "admin", "agent"] {
        desk.take(s);
    }
    desk
}

/// Every message in a frame a visitor got (live, `history`, `welcome`): its id.
fn message_ids(f: &Value) -> Vec<String> {
    let mut ids = Vec::new();
    if f["type"] == "message" {
        ids.extend(f["id"].as_str().map(str::to_owned));
    }
    for m in f["messages"].as_array().into_iter().flatten() {
        ids.extend(m["id"].as_str().map(str::to_owned));
    }
    ids
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn any_frame_from_anyone_is_answered_without_panic(inputs in prop::collection::vec((0..4usize, any_input()), 1..8)) {
        let mut desk = desk();
        for (who, text) in inputs {
            let socket = ["a", "b", "admin", "agent"][who];
            if !desk.sockets[socket].open {
                continue; // revoked by an earlier frame
            }
            let before = (desk.messages.clone(), desk.conversations.clone());
            desk.send(socket, &text);
            let answers = desk.take(socket);
            let refused = answers.iter().any(|f| j(f)["type"] == "error");
            if refused {
                prop_assert_eq!(answers.len(), 1, "a refusal is the only answer");
                prop_assert_eq!(&(desk.messages.clone(), desk.conversations.clone()), &before, "a refusal stores nothing");
            }
            // Visitors can never learn about another visitor's conversation: no frame names one,
            // and every message delivered belongs to their own conversation and is one a visitor
            // may see (never a note or an event), whatever frame carried it.
            for (visitor, own) in [("a", "A"), ("b", "B")] {
                for frame in desk.take(visitor) {
                    let f = j(&frame);
                    prop_assert!(f.get("userId").is_none() || f["userId"] == own, "{} got a frame about another visitor: {}", own, f);
                    prop_assert!(f.get("agentId").is_none() && !f.to_string().contains("\"agentId\""), "agent ids reach no visitor: {}", f);
                    for id in message_ids(&f) {
                        let stored = desk.messages.iter().find(|s| s.message.id == id);
                        prop_assert!(stored.is_some_and(|s| s.user_id == own && s.message.sender.public()), "{} got message {} of another conversation or kind: {}", own, id, f);
                    }
                }
            }
            desk.take("admin");
            desk.take("agent");
        }
    }

    #[test]
    fn parse_never_panics_on_arbitrary_text(text in any::<String>()) {
        let _ = support_desk::protocol::parse(&text);
        let _ = support_desk::protocol::peek_client_msg_id(&text);
    }
}
