//! Scenario tests of who is told by email and when (`desk::notify`), with explicit clocks: the
//! visitor's follow-up (batched per burst, only once the visitor has been gone long enough, never
//! while a socket is open, never without an address or after unsubscribing, nothing already seen),
//! the unanswered detection (once per wait, a new wait after an agent reply), the limits, and an
//! agent's own `email_alerts` opt-in through the real core.

mod sim;

use serde_json::json;
use sim::{json as j, Desk};
use support_desk::desk::notify::{decide, MailRules, Notice, PassReason, Pending};
use support_desk::protocol::Role;

const MIN: i64 = 60_000;
const T0: i64 = 1_800_000_000_000;

fn rules() -> MailRules {
    MailRules { followup_after_ms: 2 * MIN, unanswered_ms: None, per_visitor_day: 3, per_desk_hour: 100 }
}

/// Ana's visitor wrote at T0 (seq 1) and left at T0 + 1 min, with an address.
fn left() -> Pending {
    Pending {
        user_id: "v1".into(),
        email: Some("v@example.org".into()),
        left_at: Some(T0 + MIN),
        wait_seq: 1,
        wait_at: T0,
        ..Pending::default()
    }
}

/// The agent replied (seq `seq` at `at`): the wait ends, a reply is pending.
fn replied(mut p: Pending, seq: i64, at: i64) -> Pending {
    p.reply_seq = seq;
    p.reply_at = at;
    p.wait_seq = 0;
    p.wait_at = 0;
    p
}

#[test]
fn a_burst_of_replies_is_one_email_once_the_burst_is_quiet() {
    let r = rules();
    // Replies at +3 min (seq 2) and +4 min (seq 3): due 2 min after the latest.
    let p = replied(replied(left(), 2, T0 + 3 * MIN), 3, T0 + 4 * MIN);
    let early = decide(T0 + 5 * MIN, std::slice::from_ref(&p), &r, 5 * MIN, 0);
    assert!(early.notices.is_empty(), "the burst is not quiet yet: {early:?}");
    assert_eq!(early.next, Some(T0 + 6 * MIN), "the alarm comes back when it is");
    let due = decide(T0 + 6 * MIN, std::slice::from_ref(&p), &r, 5 * MIN, 0);
    assert_eq!(
        due.notices,
        vec![Notice::FollowUp { user_id: "v1".into(), to: "v@example.org".into(), after_seq: 0, up_to: 3 }],
        "both replies in one email"
    );
    // Marked mailed: nothing more until another reply.
    let mailed = Pending { mailed_seq: 3, ..p };
    assert!(decide(T0 + 9 * MIN, std::slice::from_ref(&mailed), &r, 5 * MIN, 0).notices.is_empty());
    let again = replied(mailed, 5, T0 + 10 * MIN);
    let next = decide(T0 + 12 * MIN, &[again], &r, 5 * MIN, 0);
    assert_eq!(
        next.notices,
        vec![Notice::FollowUp { user_id: "v1".into(), to: "v@example.org".into(), after_seq: 3, up_to: 5 }],
        "only the replies since the last email"
    );
}

#[test]
fn the_two_minutes_count_from_the_visitor_leaving() {
    let r = rules();
    // The agent replied while the visitor was still there; it left later, at +10 min.
    let p = Pending { left_at: Some(T0 + 10 * MIN), ..replied(left(), 2, T0 + 3 * MIN) };
    assert_eq!(decide(T0 + 11 * MIN, std::slice::from_ref(&p), &r, 5 * MIN, 0).next, Some(T0 + 12 * MIN));
    assert_eq!(decide(T0 + 12 * MIN, &[p], &r, 5 * MIN, 0).notices.len(), 1);
}

#[test]
fn no_email_while_connected_without_an_address_after_unsubscribing_or_once_seen() {
    let r = rules();
    let late = T0 + 60 * MIN;
    let base = replied(left(), 2, T0 + 3 * MIN);
    let connected = Pending { connected: true, ..base.clone() };
    let d = decide(late, &[connected], &r, 5 * MIN, 0);
    assert!(d.notices.is_empty() && d.next.is_none(), "the socket delivers; its close starts the clock: {d:?}");
    let cases = [
        (Pending { email: None, ..base.clone() }, PassReason::NoAddress),
        (Pending { unsubscribed: true, ..base.clone() }, PassReason::Unsubscribed),
        (Pending { seen_seq: 2, ..base.clone() }, PassReason::Seen),
    ];
    for (p, why) in cases {
        let d = decide(late, &[p], &r, 5 * MIN, 0);
        assert_eq!(d.notices, vec![Notice::PassOver { user_id: "v1".into(), up_to: 2, why }]);
        assert!(!why.is_refusal());
    }
}

#[test]
fn limits_refuse_per_visitor_per_day_and_per_desk_per_hour() {
    let r = MailRules { per_desk_hour: 2, ..rules() };
    let late = T0 + 60 * MIN;
    let tired = Pending { mailed_today: 3, ..replied(left(), 2, T0 + 3 * MIN) };
    let d = decide(late, &[tired], &r, 5 * MIN, 0);
    assert_eq!(d.notices, vec![Notice::PassOver { user_id: "v1".into(), up_to: 2, why: PassReason::VisitorLimit }]);
    // Three visitors due, one email left this hour: the first gets it, the others are refused.
    let many: Vec<Pending> = ["a", "b", "c"]
        .iter()
        .map(|id| Pending { user_id: (*id).into(), ..replied(left(), 2, T0 + 3 * MIN) })
        .collect();
    let d = decide(late, &many, &r, 5 * MIN, 1);
    assert!(matches!(&d.notices[0], Notice::FollowUp { user_id, .. } if user_id == "a"));
    for (n, id) in d.notices[1..].iter().zip(["b", "c"]) {
        assert_eq!(n, &Notice::PassOver { user_id: id.into(), up_to: 2, why: PassReason::DeskLimit });
    }
    assert!(PassReason::DeskLimit.is_refusal());
}

#[test]
fn a_wait_is_unanswered_once_and_a_new_wait_starts_after_a_reply() {
    let r = rules();
    let waiting = Pending { email: None, left_at: None, connected: true, ..left() };
    let d = decide(T0 + 4 * MIN, std::slice::from_ref(&waiting), &r, 5 * MIN, 0);
    assert!(d.notices.is_empty());
    assert_eq!(d.next, Some(T0 + 5 * MIN));
    let d = decide(T0 + 5 * MIN, std::slice::from_ref(&waiting), &r, 5 * MIN, 0);
    assert_eq!(d.notices, vec![Notice::Unanswered { user_id: "v1".into(), since_seq: 1, since_at: T0 }]);
    // Told (the glue marks `told_seq`): never again for this wait, however long it lasts.
    let told = Pending { told_seq: 1, ..waiting };
    assert!(decide(T0 + 90 * MIN, std::slice::from_ref(&told), &r, 5 * MIN, 0).notices.is_empty());
    // An agent replied (the wait ends), then the visitor wrote again at +100 min (seq 4): a new wait.
    let again = Pending { wait_seq: 4, wait_at: T0 + 100 * MIN, ..replied(told, 3, T0 + 95 * MIN) };
    let d = decide(T0 + 105 * MIN, &[Pending { mailed_seq: 3, ..again }], &r, 5 * MIN, 0);
    assert_eq!(d.notices, vec![Notice::Unanswered { user_id: "v1".into(), since_seq: 4, since_at: T0 + 100 * MIN }]);
}

#[test]
fn delays_come_from_variables() {
    let r = MailRules::from_vars(|k| match k {
        "FOLLOWUP_AFTER_MS" => Some("1500".into()),
        "UNANSWERED_MS" => Some("2000".into()),
        "MAIL_PER_VISITOR_DAY" => Some("1".into()),
        _ => None,
    });
    assert_eq!((r.followup_after_ms, r.unanswered_ms, r.per_visitor_day), (1500, Some(2000), 1));
    assert_eq!(r.per_desk_hour, MailRules::default().per_desk_hour);
}

#[test]
fn an_agent_opts_in_to_unanswered_alerts_for_itself() {
    let mut desk = Desk::new();
    desk.admin("owner");
    let (_, ana) = desk.join("owner", "Ana", Role::Agent);
    desk.sign_in("ana", Some(&ana)).expect("Ana signs in");
    desk.take("owner");
    desk.take("ana");
    desk.send("owner", &json!({"type": "email_alerts"}).to_string());
    let got: Vec<_> = desk.take("owner").iter().map(j).collect();
    assert_eq!(got, vec![json!({"type": "email_alerts", "unanswered": false, "email": null, "emailEnabled": false})]);
    desk.send("owner", &json!({"type": "email_alerts", "unanswered": true, "email": " Boss@Example.COM "}).to_string());
    let got: Vec<_> = desk.take("owner").iter().map(j).collect();
    assert_eq!(
        got,
        vec![json!({"type": "email_alerts", "unanswered": true, "email": "boss@example.com", "emailEnabled": false})]
    );
    assert!(desk.take("ana").is_empty(), "nobody else is told");
    // Ana's own is hers alone; a bad address is refused and changes nothing.
    desk.send("ana", &json!({"type": "email_alerts", "email": "not an address"}).to_string());
    let got: Vec<_> = desk.take("ana").iter().map(j).collect();
    assert_eq!(got[0]["code"], "bad_email");
    desk.send("ana", &json!({"type": "email_alerts"}).to_string());
    let got: Vec<_> = desk.take("ana").iter().map(j).collect();
    assert_eq!(got[0]["unanswered"], false);
}

#[test]
fn visitors_cannot_set_alerts_and_settings_bound_unanswered_minutes() {
    let mut desk = Desk::new();
    desk.admin("owner");
    desk.visitor("v", "v1");
    desk.take("v");
    desk.send("v", &json!({"type": "email_alerts", "unanswered": true}).to_string());
    assert_eq!(j(&desk.take("v")[0])["code"], "forbidden");
    desk.take("owner");
    for bad in [0, 1441] {
        desk.send("owner", &json!({"type": "settings_update", "unansweredMinutes": bad}).to_string());
        assert_eq!(j(&desk.take("owner")[0])["code"], "bad_unanswered_minutes");
    }
    desk.send("owner", &json!({"type": "settings_update", "unansweredMinutes": 15}).to_string());
    assert_eq!(j(&desk.take("owner")[0])["unansweredMinutes"], 15);
}
