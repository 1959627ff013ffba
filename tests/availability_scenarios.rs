//! Scenario tests of honest availability, driving the real core with explicit clocks: agents'
//! status and sockets, business hours across days, holidays and time zones (DST changes
//! included), settings rights and validation, the away message once per conversation, and the
//! email a visitor leaves.

mod sim;

use serde_json::{json, Value};
use sim::{json as j, Desk};
use support_desk::desk::availability::{self, next_open, within_hours};
use support_desk::desk::zone::{self, days_from_civil, DAY_MS};
use support_desk::protocol::{Role, Settings};

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

/// Ms since the epoch of a UTC date and time.
fn utc(y: i64, m: u32, d: u32, h: i64, min: i64) -> i64 {
    days_from_civil(y, m, d) * DAY_MS + (h * 60 + min) * 60_000
}

fn status(desk: &Desk) -> Value {
    serde_json::from_str(&availability::availability(&desk.state, desk.now).to_json()).expect("JSON")
}

/// Business hours Monday to Friday, 09:00 to 17:00 in `zone`.
fn weekdays(zone: &str) -> Value {
    let hours: Vec<Value> = ["mon", "tue", "wed", "thu", "fri"]
        .iter()
        .map(|d| json!({"day": d, "open": "09:00", "close": "17:00"}))
        .collect();
    json!({ "type": "settings_update", "timeZone": zone, "hours": hours })
}

/// A desk with the owner signed in, Ana (agent) and Ben (admin) on the team.
fn team() -> Desk {
    let mut desk = Desk::new();
    desk.admin("owner");
    let (_, ana) = desk.join("owner", "Ana Lima", Role::Agent);
    let (_, ben) = desk.join("owner", "Ben", Role::Admin);
    desk.sign_in("ana", Some(&ana)).expect("Ana signs in");
    desk.sign_in("ben", Some(&ben)).expect("Ben signs in");
    for s in ["owner", "ana", "ben"] {
        desk.take(s);
    }
    desk
}

#[test]
fn availability_follows_agents_status_and_sockets() {
    let mut desk = Desk::new();
    assert_eq!(status(&desk), json!({"online": false, "agents": [], "replyTime": "minutes"}), "nobody signed in");
    desk.admin("owner");
    assert_eq!(status(&desk)["agents"], json!([{"name": "Owner", "initials": "O"}]));
    assert_eq!(status(&desk)["online"], true);

    send(&mut desk, "owner", json!({"type": "status", "status": "away"}));
    assert_eq!(frames(&mut desk, "owner"), vec![json!({"type": "status", "agentId": "owner", "status": "away"})]);
    assert_eq!(status(&desk)["online"], false, "an agent away is not available, inbox open or not");
    send(&mut desk, "owner", json!({"type": "agents"}));
    assert_eq!(frames(&mut desk, "owner")[0]["agents"][0]["away"], true, "the team sees it");

    send(&mut desk, "owner", json!({"type": "status", "status": "online"}));
    desk.take("owner");
    assert_eq!(status(&desk)["online"], true);
    desk.close("owner");
    assert_eq!(status(&desk)["online"], false, "no inbox open: not available");
    desk.visitor("v", "V");
    assert_eq!(
        error_code(&mut desk, "v", json!({"type": "status", "status": "online"})),
        "forbidden",
        "not a visitor's"
    );
}

#[test]
fn only_available_agents_are_listed_with_initials() {
    let mut desk = team();
    send(&mut desk, "ben", json!({"type": "status", "status": "away"}));
    let listed = status(&desk)["agents"].clone();
    assert_eq!(listed, json!([{"name": "Ana Lima", "initials": "AL"}, {"name": "Owner", "initials": "O"}]));
    let to_ana = frames(&mut desk, "ana");
    assert_eq!(to_ana[0]["type"], "status", "every inbox hears of a status change: {to_ana:?}");
}

#[test]
fn business_hours_by_day_in_the_desks_time_zone_across_a_dst_change() {
    let mut desk = team();
    desk.now = utc(2026, 3, 27, 8, 0); // Friday 09:00 in Paris (CET, UTC+1)
    send(&mut desk, "owner", weekdays("Europe/Paris"));
    let changed = frames(&mut desk, "ben");
    assert_eq!(changed[0]["type"], "settings", "every inbox gets the new settings");
    assert_eq!(changed[0]["timeZone"], "Europe/Paris");
    desk.take("owner");
    desk.take("ana");

    desk.now = utc(2026, 3, 27, 8, 30);
    assert_eq!(status(&desk)["online"], true, "Friday 09:30 in Paris");
    assert!(status(&desk).get("nextOpenAt").is_none(), "open: no next opening");
    desk.now = utc(2026, 3, 27, 7, 59);
    assert_eq!(status(&desk)["online"], false, "08:59 in Paris");
    assert_eq!(status(&desk)["nextOpenAt"], utc(2026, 3, 27, 8, 0));
    assert_eq!(status(&desk)["agents"], json!([]), "nobody is shown outside hours");

    // Friday 17:30: next Monday 09:00, and Paris moved to CEST (UTC+2) on Sunday 29 March.
    desk.now = utc(2026, 3, 27, 16, 30);
    assert_eq!(status(&desk)["online"], false);
    assert_eq!(status(&desk)["nextOpenAt"], utc(2026, 3, 30, 7, 0));
    desk.now = utc(2026, 3, 30, 7, 30);
    assert_eq!(status(&desk)["online"], true, "Monday 09:30 CEST");
    desk.now = utc(2026, 3, 28, 10, 0);
    assert_eq!(status(&desk)["online"], false, "Saturday");
}

#[test]
fn holidays_close_the_desk_all_day() {
    let mut desk = team();
    desk.now = utc(2026, 12, 24, 18, 0); // Thursday 19:00 in Paris
    let mut update = weekdays("Europe/Paris");
    update["holidays"] = json!(["2026-12-25", "2026-12-28", "2026-12-25"]);
    send(&mut desk, "owner", update);
    let got = frames(&mut desk, "owner");
    assert_eq!(got[0]["holidays"], json!(["2026-12-25", "2026-12-28"]), "sorted, once each");
    assert_eq!(status(&desk)["nextOpenAt"], utc(2026, 12, 29, 8, 0), "Friday 25 and Monday 28 skipped");
    desk.now = utc(2026, 12, 25, 10, 0);
    assert_eq!(status(&desk)["online"], false, "Christmas, a Friday");
}

#[test]
fn time_zones_with_their_own_rules() {
    let s = |zone: &str, hours: Value| -> Settings {
        let frame = json!({"type": "settings_update", "timeZone": zone, "hours": hours}).to_string();
        Settings::from_update_frame(&frame)
    };
    // New York: EST (UTC-5) until 8 March 2026, EDT (UTC-4) after.
    let ny = s("America/New_York", json!([{"day": "mon", "open": "09:00", "close": "10:00"}]));
    assert!(within_hours(&ny, utc(2026, 3, 2, 14, 30)), "Monday 09:30 EST");
    assert!(!within_hours(&ny, utc(2026, 3, 9, 14, 30)), "Monday 10:30 EDT");
    assert!(within_hours(&ny, utc(2026, 3, 9, 13, 30)), "Monday 09:30 EDT");
    assert_eq!(next_open(&ny, utc(2026, 3, 3, 0, 0)), Some(utc(2026, 3, 9, 13, 0)));
    // Sydney: daylight time in January (UTC+11), standard in July (UTC+10).
    let sydney = s("Australia/Sydney", json!([{"day": "thu", "open": "09:00", "close": "17:00"}]));
    assert_eq!(next_open(&sydney, utc(2026, 1, 1, 0, 0)), Some(utc(2026, 1, 7, 22, 0)));
    assert_eq!(next_open(&sydney, utc(2026, 7, 1, 0, 0)), Some(utc(2026, 7, 1, 23, 0)));
    // A zone without DST; and a desk without hours is open whenever an agent is.
    let tokyo = s("Asia/Tokyo", json!([{"day": "fri", "open": "00:00", "close": "24:00"}]));
    assert!(within_hours(&tokyo, utc(2026, 12, 3, 15, 0)), "Friday 00:00 in Tokyo");
    assert!(within_hours(&Settings::default(), 0));
    assert_eq!(next_open(&Settings::default(), 0), None);
}

#[test]
fn wall_clock_times_skipped_or_repeated_by_a_change() {
    let ny = zone::zone("America/New_York").expect("known");
    let local = |y, m, d, h, min| utc(y, m, d, h, min); // the same count, read on the wall clock
                                                        // 02:30 on 8 March 2026 never happens: read with the offset before (EST), it is 03:30 EDT.
    assert_eq!(ny.utc(local(2026, 3, 8, 2, 30)), utc(2026, 3, 8, 7, 30));
    // 01:30 on 1 November 2026 happens twice: its first occurrence (EDT).
    assert_eq!(ny.utc(local(2026, 11, 1, 1, 30)), utc(2026, 11, 1, 5, 30));
    assert_eq!(ny.local(utc(2026, 11, 1, 6, 30)), local(2026, 11, 1, 1, 30), "the second one, EST");
    assert!(zone::zone("Asia/Calcutta").is_some(), "old names (links) are known too");
    assert!(zone::zone("Mars/Olympus").is_none());
}

#[test]
fn settings_are_for_the_owner_and_admins_and_validated() {
    let mut desk = team();
    assert_eq!(error_code(&mut desk, "ana", weekdays("Europe/Paris")), "forbidden", "an agent");
    send(&mut desk, "ana", json!({"type": "settings"}));
    let shown = frames(&mut desk, "ana");
    assert_eq!(
        shown,
        vec![
            json!({"type": "settings", "timeZone": "UTC", "hours": [], "holidays": [], "replyTime": "minutes", "awayMessage": "", "unansweredMinutes": 5})
        ],
        "anyone on the team reads them; the defaults"
    );
    send(&mut desk, "ben", json!({"type": "settings_update", "replyTime": "hours", "awayMessage": "  Back soon  "}));
    let saved = frames(&mut desk, "ben");
    assert_eq!((saved[0]["replyTime"].clone(), saved[0]["awayMessage"].clone()), (json!("hours"), json!("Back soon")));

    let bad = |hours: Value| json!({"type": "settings_update", "hours": hours});
    let cases = [
        (json!({"type": "settings_update", "timeZone": "Mars/Olympus"}), "bad_time_zone"),
        (bad(json!([{"day": "mon", "open": "17:00", "close": "09:00"}])), "bad_hours"),
        (bad(json!([{"day": "mon", "open": "24:00", "close": "24:00"}])), "bad_hours"),
        (bad(json!([{"day": "mon", "open": "9:00", "close": "10:00"}])), "bad_hours"),
        (bad(json!(vec![json!({"day": "mon", "open": "09:00", "close": "10:00"}); 22])), "bad_hours"),
        (json!({"type": "settings_update", "holidays": ["2026-02-30"]}), "bad_holidays"),
        (json!({"type": "settings_update", "holidays": vec!["2026-01-01"; 101]}), "bad_holidays"),
        (json!({"type": "settings_update", "awayMessage": "x".repeat(1001)}), "bad_away_message"),
        (json!({"type": "settings_update", "awayMessage": "bell \u{7}"}), "bad_away_message"),
        (bad(json!([{"day": "someday", "open": "09:00", "close": "10:00"}])), "bad_frame"),
        (json!({"type": "settings_update", "replyTime": "never"}), "bad_frame"),
    ];
    desk.take("owner");
    desk.take("ben");
    let before = desk.state.settings.clone();
    for (frame, code) in cases {
        assert_eq!(error_code(&mut desk, "owner", frame.clone()), code, "{frame}");
    }
    assert_eq!(desk.state.settings, before, "a refusal stores nothing");
    assert!(frames(&mut desk, "ben").is_empty(), "and tells no one");
}

#[test]
fn the_away_message_goes_once_per_conversation_while_the_desk_is_away() {
    let mut desk = team();
    send(&mut desk, "owner", json!({"type": "settings_update", "awayMessage": "We're away: leave your email"}));
    for s in ["owner", "ana", "ben"] {
        desk.close(s);
    }
    desk.visitor("a", "A");
    send(&mut desk, "a", json!({"type": "message", "message": "Anyone there?", "clientMsgId": "c1"}));
    let got = frames(&mut desk, "a");
    assert_eq!(got[0]["type"], "ack");
    assert_eq!(
        (got[1]["sender"].clone(), got[1]["message"].clone()),
        (json!("admin"), json!("We're away: leave your email"))
    );
    assert!(got[1].get("agentId").is_none(), "nothing agents-only: {got:?}");
    assert_eq!(got[1]["event"], json!({"kind": "away"}), "visitors see only that it was automatic");
    let kept = desk.state.messages.last().expect("stored");
    assert_eq!(kept.message.event.as_ref().map(|e| e.kind.as_str()), Some("away"), "agents see what it was");
    send(&mut desk, "a", json!({"type": "message", "message": "Hello?"}));
    assert_eq!(sim::types(&desk.take("a")), vec!["ack"], "once per conversation");
    assert!(desk.state.conversations["A"].away_sent);

    desk.visitor("b", "B");
    send(&mut desk, "b", json!({"type": "message", "message": "Hi"}));
    assert_eq!(sim::types(&desk.take("b")), vec!["ack", "message"], "another conversation gets its own");

    desk.admin("owner2");
    desk.visitor("c", "C");
    send(&mut desk, "c", json!({"type": "message", "message": "Hi"}));
    assert_eq!(sim::types(&desk.take("c")), vec!["ack"], "an agent is available: no away message");
    let seen = frames(&mut desk, "owner2");
    assert!(seen.iter().all(|f| f["event"]["kind"] != "away"), "{seen:?}");
}

#[test]
fn no_away_message_until_the_owner_writes_one() {
    let mut desk = Desk::new();
    desk.visitor("a", "A");
    send(&mut desk, "a", json!({"type": "message", "message": "Hi"}));
    assert_eq!(sim::types(&desk.take("a")), vec!["ack"]);
}

#[test]
fn a_visitor_leaves_an_email_once_valid_and_agents_see_and_edit_it() {
    let mut desk = team();
    desk.visitor("a", "A");
    send(&mut desk, "a", json!({"type": "message", "message": "Hi"}));
    for s in ["a", "owner", "ana", "ben"] {
        desk.take(s);
    }
    for bad in [json!("not-an-email"), json!("a@b"), json!(format!("{}@example.com", "x".repeat(250))), json!(null)] {
        assert_eq!(error_code(&mut desk, "a", json!({"type": "email", "email": bad})), "bad_email", "{bad}");
    }
    assert_eq!(desk.state.conversations["A"].email, None, "nothing stored");
    assert_eq!(
        error_code(&mut desk, "a", json!({"type": "email", "email": "a@example.com", "userId": "B"})),
        "forbidden"
    );
    send(&mut desk, "a", json!({"type": "email", "email": " Ada@Example.com "}));
    assert_eq!(frames(&mut desk, "a"), vec![json!({"type": "email_saved"})]);
    let row = frames(&mut desk, "owner");
    assert_eq!(row[0]["user"]["email"], "ada@example.com", "the row shows it: {row:?}");
    assert_eq!(j(&desk.visitor("a2", "A"))["email"], "ada@example.com", "the widget knows it was left");
    desk.take("ben");
    desk.take("ana");

    send(&mut desk, "ana", json!({"type": "email", "userId": "A", "email": "ada@work.example"}));
    assert_eq!(frames(&mut desk, "ben")[0]["user"]["email"], "ada@work.example", "an agent edits it");
    desk.take("ana");
    assert_eq!(error_code(&mut desk, "ana", json!({"type": "email", "userId": "A", "email": "nope"})), "bad_email");
    assert_eq!(
        error_code(&mut desk, "ana", json!({"type": "email", "userId": "Z", "email": "z@z.io"})),
        "unknown_user"
    );
    assert_eq!(error_code(&mut desk, "ana", json!({"type": "email", "email": "z@z.io"})), "bad_frame");
    desk.take("ben");
    send(&mut desk, "ana", json!({"type": "email", "userId": "A", "email": null}));
    assert!(frames(&mut desk, "ben")[0]["user"].get("email").is_none(), "and removes it");
}

#[test]
fn an_unanswered_conversation_gets_the_automatic_message_once_even_with_agents_online() {
    let mut desk = team();
    desk.visitor("a", "A");
    send(&mut desk, "a", json!({"type": "message", "message": "Anyone there?"}));
    desk.unanswered("A");
    assert_eq!(sim::types(&desk.take("a")), vec!["ack"], "no automatic message until the owner writes one");

    send(&mut desk, "owner", json!({"type": "settings_update", "awayMessage": "Sorry for the wait"}));
    desk.take("owner");
    desk.unanswered("A");
    let got = frames(&mut desk, "a");
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        (got[0]["message"].clone(), got[0]["event"].clone()),
        (json!("Sorry for the wait"), json!({"kind": "away"}))
    );
    let agents = frames(&mut desk, "ana");
    assert!(agents.iter().any(|f| f["type"] == "message" && f["userId"] == "A"), "{agents:?}");
    assert!(desk.state.conversations["A"].away_sent);

    desk.unanswered("A");
    assert!(desk.take("a").is_empty(), "once per conversation");
    desk.visitor("b", "B");
    send(&mut desk, "b", json!({"type": "message", "message": "Hi"}));
    send(&mut desk, "owner", json!({"type": "resolve", "userId": "B"}));
    desk.take("b");
    desk.unanswered("B");
    assert!(desk.take("b").is_empty(), "a resolved conversation waits for nobody");
}
