//! Scenario tests of the team inbox, driving the real core: roles, named replies, assignment,
//! status and snoozes, notes and events that never reach visitors, paging and search.

mod sim;

use serde_json::{json, Value};
use sim::{json as j, Desk, OWNER_SECRET};
use support_desk::desk::team::{self, SignIn};
use support_desk::error::HttpError;
use support_desk::protocol::{Author, Role};

fn send(desk: &mut Desk, socket: &'static str, frame: Value) {
    desk.send(socket, &frame.to_string());
}

fn frames(desk: &mut Desk, socket: &'static str) -> Vec<Value> {
    desk.take(socket).iter().map(j).collect()
}

fn error_code(desk: &mut Desk, socket: &'static str, frame: Value) -> String {
    send(desk, socket, frame);
    let got = frames(desk, socket);
    assert_eq!(got.len(), 1, "one answer: {got:?}");
    assert_eq!(got[0]["type"], "error", "{got:?}");
    got[0]["code"].as_str().unwrap_or_default().to_owned()
}

/// A desk with the owner, Ana (agent) and Ben (admin) signed in, and visitors A and B who wrote.
fn team() -> Desk {
    let mut desk = Desk::new();
    desk.admin("owner");
    let (_, ana) = desk.join("owner", "Ana", Role::Agent);
    let (_, ben) = desk.join("owner", "Ben", Role::Admin);
    let me = j(&desk.sign_in("ana", Some(&ana)).expect("Ana signs in with her own token"));
    assert_eq!((me["me"]["name"].clone(), me["me"]["role"].clone()), (json!("Ana"), json!("agent")));
    desk.sign_in("ben", Some(&ben)).expect("Ben signs in");
    desk.visitor("a", "A");
    desk.visitor("b", "B");
    send(&mut desk, "a", json!({ "type": "message", "message": "Hi, I need help" }));
    send(&mut desk, "b", json!({ "type": "message", "message": "Where is my parcel?" }));
    for s in ["owner", "ana", "ben", "a", "b"] {
        desk.take(s);
    }
    desk
}

fn agent_id(desk: &Desk, name: &str) -> String {
    desk.agents.values().find(|r| r.agent.name == name).map(|r| r.agent.id.clone()).expect("agent")
}

#[test]
fn each_agent_signs_in_as_itself_and_replies_carry_its_name() {
    let mut desk = team();
    send(&mut desk, "ana", json!({ "type": "message", "message": "Hello from Ana", "targetUserId": "A" }));
    let to_visitor = frames(&mut desk, "a");
    assert_eq!(to_visitor.len(), 1);
    assert_eq!(to_visitor[0]["agentName"], "Ana");
    assert!(to_visitor[0].get("agentId").is_none(), "visitors never learn agent ids");
    let mirror = frames(&mut desk, "ben");
    assert_eq!(mirror[0]["agentId"], agent_id(&desk, "Ana"));
    assert_eq!(mirror[0]["agentName"], "Ana");
    // The visitor's welcome after a reload carries the name too, and no event.
    let welcome = j(&desk.visitor("a2", "A"));
    let last = welcome["messages"].as_array().and_then(|m| m.last()).cloned().unwrap_or_default();
    assert_eq!((last["sender"].clone(), last["agentName"].clone()), (json!("admin"), json!("Ana")));
    assert!(welcome["messages"]
        .as_array()
        .is_some_and(|m| m.iter().all(|m| m["sender"] == "user" || m["sender"] == "admin")));
}

#[test]
fn the_first_reply_assigns_and_later_replies_do_not_reassign() {
    let mut desk = team();
    send(&mut desk, "ana", json!({ "type": "message", "message": "Mine", "targetUserId": "A" }));
    let ana = agent_id(&desk, "Ana");
    assert_eq!(desk.conversations["A"].assignee.as_deref(), Some(ana.as_str()));
    let owner = frames(&mut desk, "owner");
    let event = owner.iter().find(|f| f["sender"] == "event").expect("an assignment event");
    assert_eq!(
        (event["event"]["kind"].clone(), event["event"]["assigneeName"].clone()),
        (json!("assigned"), json!("Ana"))
    );
    assert_eq!(owner.last().map(|f| f["user"]["assigneeName"].clone()), Some(json!("Ana")));
    send(&mut desk, "ben", json!({ "type": "message", "message": "Ben here too", "targetUserId": "A" }));
    assert_eq!(desk.conversations["A"].assignee.as_deref(), Some(ana.as_str()), "still Ana's");
    assert!(frames(&mut desk, "a").iter().all(|f| f["sender"] != "event"), "the visitor sees no events");
}

#[test]
fn resolve_filters_and_a_visitor_message_reopens() {
    let mut desk = team();
    send(&mut desk, "ana", json!({ "type": "resolve", "userId": "A" }));
    let seen = frames(&mut desk, "owner");
    assert_eq!(types_of(&seen), ["message", "user"]);
    assert_eq!(seen[0]["message"], "Ana resolved this");
    assert_eq!(seen[1]["user"]["status"], "resolved");
    send(&mut desk, "owner", json!({ "type": "list", "view": "open" }));
    let open = frames(&mut desk, "owner").remove(0);
    assert_eq!(ids(&open), ["B"]);
    assert_eq!((open["counts"]["open"].clone(), open["counts"]["resolved"].clone()), (json!(1), json!(1)));
    assert!(frames(&mut desk, "a").is_empty(), "resolving tells the visitor nothing");

    send(&mut desk, "a", json!({ "type": "message", "message": "One more thing" }));
    assert_eq!(desk.conversations["A"].status, support_desk::protocol::Status::Open);
    let seen = frames(&mut desk, "owner");
    assert!(seen.iter().any(|f| f["event"]["kind"] == "reopened"), "{seen:?}");
    assert_eq!(seen.last().map(|f| f["user"]["status"].clone()), Some(json!("open")));
    let visitor = frames(&mut desk, "a");
    assert_eq!(types_of(&visitor), ["ack"], "the visitor gets its ack, no event");
}

#[test]
fn a_snooze_ends_by_the_alarm_at_its_time() {
    let mut desk = team();
    let until = desk.now + 60_000;
    send(&mut desk, "owner", json!({ "type": "snooze", "userId": "B", "until": until }));
    assert_eq!(desk.conversations["B"].snoozed_until, Some(until));
    assert_eq!(desk.alarm, Some(until), "the desk asks its alarm to fire then");
    assert_eq!(frames(&mut desk, "ana").last().map(|f| f["user"]["status"].clone()), Some(json!("snoozed")));
    desk.advance(until - 1);
    assert_eq!(desk.conversations["B"].status, support_desk::protocol::Status::Snoozed);
    desk.advance(until);
    assert_eq!(desk.conversations["B"].status, support_desk::protocol::Status::Open);
    let seen = frames(&mut desk, "ana");
    assert_eq!(seen[0]["event"]["kind"], "reopened");
    assert_eq!(seen[1]["user"]["status"], "open");
    assert!(frames(&mut desk, "b").is_empty());
    desk.take("owner");
    let past = json!({ "type": "snooze", "userId": "B", "until": desk.now - 1 });
    assert_eq!(error_code(&mut desk, "owner", past), "bad_frame");
}

#[test]
fn notes_reach_agents_only() {
    let mut desk = team();
    send(&mut desk, "ana", json!({ "type": "note", "userId": "A", "message": "VIP, be nice", "clientMsgId": "n1" }));
    let ack = frames(&mut desk, "ana");
    assert_eq!((ack[0]["type"].clone(), ack[0]["userId"].clone()), (json!("ack"), json!("A")));
    let mirror = frames(&mut desk, "owner");
    assert_eq!((mirror[0]["sender"].clone(), mirror[0]["agentName"].clone()), (json!("note"), json!("Ana")));
    assert!(frames(&mut desk, "a").is_empty(), "never live to the visitor");
    assert_eq!(desk.conversations["A"].unread, 1, "a note counts nothing");
    let welcome = j(&desk.visitor("a2", "A"));
    assert!(!welcome.to_string().contains("VIP"), "nor in a welcome");
    send(&mut desk, "a", json!({ "type": "history" }));
    assert!(!frames(&mut desk, "a")[0].to_string().contains("VIP"), "nor in the visitor's history");
    send(&mut desk, "ben", json!({ "type": "history", "userId": "A" }));
    assert!(frames(&mut desk, "ben")[0].to_string().contains("VIP"), "agents see it in history");
    // A retry of the note is acked with the original.
    send(&mut desk, "ana", json!({ "type": "note", "userId": "A", "message": "VIP, be nice", "clientMsgId": "n1" }));
    assert_eq!(desk.messages.iter().filter(|s| s.message.sender == Author::Note).count(), 1);
}

#[test]
fn roles_decide_who_manages_the_team() {
    let mut desk = team();
    assert_eq!(error_code(&mut desk, "ana", json!({ "type": "invite", "name": "Cy", "role": "agent" })), "forbidden");
    assert_eq!(error_code(&mut desk, "ben", json!({ "type": "invite", "name": "Cy", "role": "admin" })), "forbidden");
    assert_eq!(error_code(&mut desk, "ben", json!({ "type": "invite", "name": "Cy", "role": "owner" })), "bad_frame");
    send(&mut desk, "ben", json!({ "type": "invite", "name": "Cy", "role": "agent" }));
    assert_eq!(frames(&mut desk, "ben")[0]["type"], "invited");
    let ben = agent_id(&desk, "Ben");
    assert_eq!(error_code(&mut desk, "ana", json!({ "type": "revoke", "agentId": ben })), "forbidden");
    assert_eq!(error_code(&mut desk, "ben", json!({ "type": "revoke", "agentId": "owner" })), "forbidden");
    assert_eq!(error_code(&mut desk, "ben", json!({ "type": "revoke", "agentId": "nobody" })), "unknown_agent");
    send(&mut desk, "ana", json!({ "type": "agents" }));
    let team_list = frames(&mut desk, "ana").remove(0);
    let mut names: Vec<_> =
        team_list["agents"].as_array().into_iter().flatten().map(|a| a["name"].to_string()).collect();
    names.sort();
    assert_eq!(names, ["\"Ana\"", "\"Ben\"", "\"Cy\"", "\"Owner\""]);
    let cy = team_list["agents"].as_array().into_iter().flatten().find(|a| a["name"] == "Cy").cloned();
    assert_eq!(cy.map(|c| c["pending"].clone()), Some(json!(true)));
}

#[test]
fn revoking_closes_the_agents_sockets_and_its_token_stops_working() {
    let mut desk = team();
    send(&mut desk, "ana", json!({ "type": "message", "message": "From Ana", "targetUserId": "A" }));
    let ana = agent_id(&desk, "Ana");
    desk.take("ben");
    send(&mut desk, "ben", json!({ "type": "revoke", "agentId": ana }));
    assert_eq!(desk.sockets["ana"].closed_with, Some(4001));
    let seen = frames(&mut desk, "ben");
    assert!(!seen[0].to_string().contains("\"Ana\""), "the team list without Ana: {}", seen[0]);
    // Her conversation goes back to nobody, said in an event and a row.
    assert_eq!(seen[1]["message"], "Ana left the team: unassigned");
    assert_eq!((seen[2]["user"]["userId"].clone(), seen[2]["user"].get("assigneeId").cloned()), (json!("A"), None));
    assert_eq!(desk.conversations["A"].assignee, None);
    assert!(desk.sign_in("ana-again", Some("not-a-token")).is_err());
    let record = desk.agents[&ana].clone();
    assert!(record.revoked && record.token_hash.is_none());
    // What Ana wrote keeps her name.
    send(&mut desk, "owner", json!({ "type": "history", "userId": "A" }));
    let history = frames(&mut desk, "owner").pop().expect("history");
    assert!(history["messages"].as_array().is_some_and(|m| m.iter().any(|m| m["agentName"] == "Ana")));
    assert_eq!(
        error_code(&mut desk, "owner", json!({ "type": "assign", "userId": "A", "agentId": ana })),
        "unknown_agent"
    );
}

#[test]
fn assign_unassign_and_unread() {
    let mut desk = team();
    let ben = agent_id(&desk, "Ben");
    send(&mut desk, "ana", json!({ "type": "assign", "userId": "B", "agentId": ben }));
    let seen = frames(&mut desk, "owner");
    assert_eq!(seen[0]["message"], "Ana assigned it to Ben");
    assert_eq!(seen[1]["user"]["assigneeId"], ben);
    desk.take("ben");
    send(&mut desk, "ben", json!({ "type": "list", "view": "mine" }));
    assert_eq!(ids(&frames(&mut desk, "ben")[0]), ["B"]);
    send(&mut desk, "ben", json!({ "type": "assign", "userId": "B", "agentId": null }));
    assert_eq!(desk.conversations["B"].assignee, None);
    send(&mut desk, "owner", json!({ "type": "read", "userId": "B" }));
    send(&mut desk, "owner", json!({ "type": "unread", "userId": "B" }));
    assert_eq!(desk.conversations["B"].unread, 1);
    assert_eq!(error_code(&mut desk, "a", json!({ "type": "resolve", "userId": "A" })), "forbidden");
}

#[test]
fn paging_never_skips_or_repeats_a_row_while_rows_move() {
    let mut desk = Desk::new();
    desk.admin("owner");
    let names: Vec<&'static str> = (0..30).map(|i| &*Box::leak(format!("V{i:02}").into_boxed_str())).collect();
    for name in &names {
        desk.visitor(name, name);
        send(&mut desk, name, json!({ "type": "message", "message": format!("hello from {name}") }));
    }
    desk.take("owner");
    let (mut paged, mut moved) = (Vec::new(), Vec::new());
    let mut cursor: Option<String> = None;
    for round in 0.. {
        send(&mut desk, "owner", json!({ "type": "list", "view": "open", "cursor": cursor, "limit": 7 }));
        let page = frames(&mut desk, "owner").pop().expect("list");
        paged.extend(ids(&page));
        // Meanwhile, visitors write: their rows move to the top and are announced as `user`.
        for name in names.iter().skip(round * 3 % 30).step_by(11).take(2) {
            send(&mut desk, name, json!({ "type": "message", "message": "again" }));
        }
        moved.extend(
            frames(&mut desk, "owner").iter().filter(|f| f["type"] == "user").map(|f| f["user"]["userId"].clone()),
        );
        match page["cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let mut unique = paged.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), paged.len(), "no row twice across pages: {paged:?}");
    for name in &names {
        assert!(paged.contains(&name.to_string()) || moved.contains(&json!(name)), "{name} was never shown");
    }
}

#[test]
fn search_finds_words_and_names_and_survives_syntax() {
    let mut desk = team();
    send(&mut desk, "owner", json!({ "type": "search", "query": "parc" }));
    let found = frames(&mut desk, "owner").remove(0);
    assert_eq!(found["results"][0]["userId"], "B");
    assert_eq!(found["results"][0]["user"]["name"], "User B");
    send(&mut desk, "owner", json!({ "type": "search", "query": "User A" }));
    assert_eq!(frames(&mut desk, "owner")[0]["results"][0]["seq"], 0, "a name match");
    send(&mut desk, "owner", json!({ "type": "search", "query": "\"NEAR( * -" }));
    assert_eq!(frames(&mut desk, "owner")[0]["type"], "search");
    assert_eq!(error_code(&mut desk, "owner", json!({ "type": "search", "query": " " })), "bad_frame");
    assert_eq!(error_code(&mut desk, "a", json!({ "type": "search", "query": "parcel" })), "forbidden");
}

#[test]
fn sign_in_is_closed_without_a_strong_owner_secret_and_throttled_after_failures() {
    let desk = Desk::new();
    let mut fresh = sim::Counter::default();
    let ask = |s: SignIn, fresh: &mut sim::Counter| team::sign_in(&s, &desk.state, 0, fresh).map(|a| a.agent.id);
    let weak = SignIn { owner_secret: Some("short-secret"), presented: Some("short-secret"), ..Default::default() };
    assert_eq!(ask(weak, &mut fresh).map_err(|r| r.error), Err(HttpError::WeakAdminToken));
    let unset = SignIn { presented: Some(OWNER_SECRET), ..Default::default() };
    assert_eq!(ask(unset, &mut fresh).map_err(|r| r.error), Err(HttpError::AdminDisabled));
    let wrong = SignIn { owner_secret: Some(OWNER_SECRET), presented: Some("guess"), ..Default::default() };
    assert!(ask(wrong, &mut fresh).is_err_and(|r| r.failed), "a wrong credential counts as a failure");
    let right =
        SignIn { owner_secret: Some(OWNER_SECRET), presented: Some(OWNER_SECRET), failures: 9, ..Default::default() };
    assert_eq!(ask(right.clone(), &mut fresh).map_err(|r| r.error), Ok("owner".to_owned()));
    let throttled = SignIn { failures: 10, window_ends: 5_000, ..right };
    assert_eq!(
        ask(throttled, &mut fresh).map_err(|r| r.error),
        Err(HttpError::TooManyFailures { retry_after_ms: 5_000 })
    );
}

fn ids(list: &Value) -> Vec<String> {
    list["users"].as_array().into_iter().flatten().filter_map(|r| r["userId"].as_str().map(str::to_owned)).collect()
}

fn types_of(frames: &[Value]) -> Vec<String> {
    frames.iter().map(|f| f["type"].as_str().unwrap_or("").to_owned()).collect()
}

#[test]
fn a_rename_resends_the_rows_assigned_to_the_agent() {
    let mut desk = team();
    send(&mut desk, "ana", json!({ "type": "message", "message": "Mine now", "targetUserId": "A" }));
    for s in ["owner", "ana", "ben", "a"] {
        desk.take(s);
    }
    send(&mut desk, "ana", json!({ "type": "profile", "name": "Ana Lima" }));
    assert_eq!(frames(&mut desk, "ana")[0]["me"]["name"], "Ana Lima");
    let rows = frames(&mut desk, "ben");
    assert_eq!(rows.len(), 1, "only the rows assigned to Ana: {rows:?}");
    assert_eq!(
        (rows[0]["user"]["userId"].clone(), rows[0]["user"]["assigneeName"].clone()),
        (json!("A"), json!("Ana Lima"))
    );
}

#[test]
fn agents_names_may_not_pass_for_blank_a_visitor_or_a_verified_customer() {
    let mut desk = team();
    let looks =
        ["\u{3164}", "\u{2800}", "\u{115F}\u{1160}", "\u{FFA0}", "\u{200B}", "Ana ✓", "☑ Support", "Visitor 3F0C1A"];
    for name in looks {
        assert_eq!(error_code(&mut desk, "ana", json!({ "type": "profile", "name": name })), "bad_frame", "{name:?}");
        let invite = json!({ "type": "invite", "name": name, "role": "agent" });
        assert_eq!(error_code(&mut desk, "owner", invite), "bad_frame", "{name:?}");
    }
    // Accepting an invite names the agent too: the invite's code is kept for a good name after.
    send(&mut desk, "owner", json!({ "type": "invite", "name": "Cleo", "role": "agent" }));
    let invited = frames(&mut desk, "owner").into_iter().find(|f| f["type"] == "invited").expect("invited");
    for name in looks {
        let body = json!({ "code": invited["code"], "name": name }).to_string();
        let refused = team::accept(&body, &desk.state, desk.now, &mut desk.fresh).map(|_| ());
        assert!(matches!(refused, Err(HttpError::BadRequest(_))), "{name:?}");
    }
    let body = json!({ "code": invited["code"], "name": "Cleo" }).to_string();
    assert!(team::accept(&body, &desk.state, desk.now, &mut desk.fresh).is_ok());
    assert!(desk.agents.values().all(|r| !looks.contains(&r.agent.name.as_str())), "no agent was renamed");
}
