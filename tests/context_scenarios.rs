//! Who and where a visitor is, driving the real core: a page report stored as the visitor's own
//! context and told to agents, each bad field refused with nothing stored, no visitor writing
//! another's context, visits and the pages of a visit, a verified visitor's bounded attributes.

mod sim;

use serde_json::{json, Value};
use sim::{json as j, Desk};
use support_desk::desk::context::{arrive, arrive_seen, device};
use support_desk::protocol::context::{MAX_ATTRIBUTES, MAX_PAGES, MAX_TITLE_CHARS, MAX_URL_CHARS, VISIT_IDLE_MS};

fn send(desk: &mut Desk, socket: &'static str, frame: Value) {
    desk.send(socket, &frame.to_string());
}

fn frames(desk: &mut Desk, socket: &'static str) -> Vec<Value> {
    desk.take(socket).iter().map(j).collect()
}

/// The owner's inbox, visitor A who wrote, visitor B who did not (yet), verified visitor V who wrote.
fn desk() -> Desk {
    let mut desk = Desk::new();
    desk.admin("admin");
    desk.visitor("a", "A");
    desk.visitor("b", "B");
    desk.visitor("v", "V");
    if let Some(v) = desk.conversations.get_mut("V") {
        v.verified_id = Some("customer-42".into());
    }
    send(&mut desk, "a", json!({ "type": "message", "message": "hello" }));
    send(&mut desk, "v", json!({ "type": "message", "message": "hi, I am logged in" }));
    for s in ["a", "b", "v", "admin"] {
        desk.take(s);
    }
    desk
}

fn page(url: &str) -> Value {
    json!({
        "type": "context", "url": url, "title": "Pricing · Acme", "referrer": "https://news.example/issue-12",
        "language": "de-DE", "timeZone": "Europe/Berlin"
    })
}

/// Sends `frame` from `socket`; asserts it is refused with `code` to the sender only and that no
/// context (nor anything else) changed.
fn refused(desk: &mut Desk, socket: &'static str, frame: Value, code: &str) {
    let (contexts, conversations) = (desk.contexts.clone(), desk.conversations.clone());
    send(desk, socket, frame.clone());
    let got = frames(desk, socket);
    assert_eq!(got.len(), 1, "one answer to {frame}");
    assert_eq!((got[0]["type"].as_str(), got[0]["code"].as_str()), (Some("error"), Some(code)), "{frame}: {got:?}");
    assert_eq!(desk.contexts, contexts, "nothing stored for {frame}");
    assert_eq!(desk.conversations, conversations, "nothing changed for {frame}");
    for other in ["a", "b", "v", "admin"].into_iter().filter(|s| *s != socket) {
        assert!(desk.take(other).is_empty(), "{other} heard of a refused {frame}");
    }
}

#[test]
fn a_page_report_is_the_visitors_own_context_and_every_agent_hears_of_it() {
    let mut desk = desk();
    send(&mut desk, "a", page("https://shop.example/pricing?utm_source=newsletter"));
    assert!(frames(&mut desk, "a").is_empty(), "nothing is sent back to the visitor");
    assert!(desk.take("b").is_empty() && desk.take("v").is_empty(), "no other visitor hears of it");
    let got = frames(&mut desk, "admin");
    assert_eq!(got.len(), 1);
    let c = &got[0];
    assert_eq!((c["type"].as_str(), c["userId"].as_str()), (Some("context"), Some("A")));
    assert_eq!(c["url"], "https://shop.example/pricing?utm_source=newsletter");
    assert_eq!(
        (c["title"].as_str(), c["language"].as_str(), c["timeZone"].as_str()),
        (Some("Pricing · Acme"), Some("de-DE"), Some("Europe/Berlin"))
    );
    assert_eq!(c["referrer"], "https://news.example/issue-12");
    assert_eq!((c["visits"].as_u64(), c["pages"].as_array().map(Vec::len)), (Some(1), Some(1)));
    let stored = &desk.contexts["A"];
    assert_eq!(
        stored.page.as_ref().map(|p| p.url.as_str()),
        Some("https://shop.example/pricing?utm_source=newsletter")
    );
    // the sidebar row carries it too, without the pages
    let row = desk.users().into_iter().find(|r| r.user_id == "A").expect("A's row");
    let row = serde_json::to_value(&row).expect("json");
    assert_eq!(row["context"]["url"], "https://shop.example/pricing?utm_source=newsletter");
    assert!(row["context"].get("pages").is_none(), "rows leave the pages out");
}

#[test]
fn a_visitor_who_never_wrote_is_stored_but_not_announced() {
    let mut desk = desk();
    send(&mut desk, "b", page("https://shop.example/"));
    assert!(desk.take("admin").is_empty(), "no row in anyone's sidebar yet: no frame");
    assert!(desk.contexts["B"].page.is_some());
    // an agent who asks gets it
    send(&mut desk, "admin", json!({ "type": "context", "userId": "B" }));
    let got = frames(&mut desk, "admin");
    assert_eq!((got[0]["type"].as_str(), got[0]["url"].as_str()), (Some("context"), Some("https://shop.example/")));
}

#[test]
fn every_bad_field_is_refused_and_nothing_is_stored() {
    let mut desk = desk();
    let long_url = format!("https://shop.example/{}", "a".repeat(MAX_URL_CHARS));
    let bad: Vec<(&str, Value)> = vec![
        ("url", json!("javascript:alert(1)")),
        ("url", json!("data:text/html,hi")),
        ("url", json!("ftp://shop.example/")),
        ("url", json!("/relative/path")),
        ("url", json!("https://")),
        ("url", json!("https://shop.example/a b")),
        ("url", json!(long_url)),
        ("url", json!(5)),
        ("title", json!("x".repeat(MAX_TITLE_CHARS + 1))),
        ("title", json!("bell\u{7}")),
        ("referrer", json!("javascript:void(0)")),
        ("referrer", json!("android-app://com.example")),
        ("language", json!("deutsch!")),
        ("language", json!("d")),
        ("language", json!("de-DE-toolongsubtag")),
        ("language", json!("x".repeat(40))),
        ("timeZone", json!("Europe/../../etc")),
        ("timeZone", json!("/Europe/Berlin")),
        ("timeZone", json!("Europe Berlin")),
        ("timeZone", json!("A/".repeat(40))),
        ("timeZone", json!(1)),
    ];
    for (field, value) in bad {
        let mut frame = page("https://shop.example/ok");
        frame[field] = value;
        refused(&mut desk, "a", frame, "bad_frame");
    }
    refused(&mut desk, "a", json!({ "type": "context", "title": "no url" }), "bad_frame");
    // the same socket still reports a good page
    send(&mut desk, "a", page("https://shop.example/ok"));
    assert_eq!(frames(&mut desk, "admin")[0]["url"], "https://shop.example/ok");
}

#[test]
fn a_visitor_cannot_write_another_visitors_context() {
    let mut desk = desk();
    send(&mut desk, "b", page("https://shop.example/b-was-here"));
    let mut frame = page("https://evil.example/");
    frame["userId"] = json!("B");
    refused(&mut desk, "a", frame, "forbidden");
    assert_eq!(desk.contexts["B"].page.as_ref().map(|p| p.url.as_str()), Some("https://shop.example/b-was-here"));
    // a userId naming itself is fine: the socket's identity decides anyway
    let mut own = page("https://shop.example/mine");
    own["userId"] = json!("A");
    send(&mut desk, "a", own);
    assert_eq!(frames(&mut desk, "admin")[0]["userId"], "A");
    // an agent only asks; it cannot write a context
    refused(&mut desk, "admin", json!({ "type": "context", "userId": "A", "url": "https://x.example/" }), "bad_frame");
    refused(&mut desk, "admin", json!({ "type": "context", "userId": "nobody" }), "unknown_user");
    refused(&mut desk, "admin", json!({ "type": "context" }), "bad_frame");
}

#[test]
fn pages_of_a_visit_are_bounded_and_a_new_visit_starts_after_idle_time() {
    let mut desk = desk();
    for i in 0..MAX_PAGES + 5 {
        send(&mut desk, "a", page(&format!("https://shop.example/p/{i}")));
    }
    send(&mut desk, "a", page(&format!("https://shop.example/p/{}", MAX_PAGES + 4)));
    let pages = &desk.contexts["A"].pages;
    assert_eq!(pages.len(), MAX_PAGES, "the latest {MAX_PAGES} pages are kept");
    assert_eq!(pages[0].url, "https://shop.example/p/5");
    assert_eq!(pages.last().map(|p| p.url.as_str()), Some("https://shop.example/p/24"), "a repeat is not a new page");
    let first_seen = desk.contexts["A"].first_seen;
    // a reconnect soon after: the same visit
    desk.close("a");
    desk.visitor("a", "A");
    assert_eq!((desk.contexts["A"].visits, desk.contexts["A"].pages.len()), (1, MAX_PAGES));
    // 31 minutes later: a new visit, its pages start over, first seen stays
    desk.close("a");
    desk.now += VISIT_IDLE_MS + 60_000;
    desk.visitor("a", "A");
    let c = &desk.contexts["A"];
    assert_eq!((c.visits, c.pages.len(), c.first_seen), (2, 0, first_seen));
}

#[test]
fn the_desk_adds_browser_os_and_place_seen_at_connect() {
    let mut desk = desk();
    let ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
    let write = arrive(&desk.state, "A", device(Some(ua), Some("DE"), Some("Berlin")), desk.now);
    desk.state.apply(&write);
    send(&mut desk, "a", page("https://shop.example/"));
    let c = &frames(&mut desk, "admin")[0];
    assert_eq!((c["browser"].as_str(), c["os"].as_str()), (Some("Safari 17"), Some("iOS")));
    assert_eq!((c["country"].as_str(), c["city"].as_str()), (Some("DE"), Some("Berlin")));
    // absent where the runtime gives none (Miniflare): no field, no failure
    let write = arrive(&desk.state, "A", device(None, None, Some("  ")), desk.now);
    desk.state.apply(&write);
    assert_eq!(desk.contexts["A"].device, Default::default());
}

#[test]
fn a_reconnect_inside_a_visit_from_the_same_browser_keeps_the_place_without_reading_it_again() {
    let mut desk = desk();
    let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
    let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
    let here = || (Some("DE".to_owned()), Some("Berlin".to_owned()));
    let unread = || -> (Option<String>, Option<String>) { panic!("the place was read again inside the visit") };
    let place = |desk: &Desk| {
        let d = &desk.contexts["A"].device;
        (d.browser.clone(), d.country.clone(), d.city.clone())
    };
    // No context yet: the place is read.
    let write = arrive_seen(&desk.state, "A", Some(iphone), here, desk.now);
    desk.state.apply(&write);
    assert_eq!(place(&desk), (Some("Safari 17".into()), Some("DE".into()), Some("Berlin".into())));
    // The same browser and OS a minute later, inside the visit: kept, not read.
    desk.advance(desk.now + 60_000);
    let write = arrive_seen(&desk.state, "A", Some(iphone), unread, desk.now);
    desk.state.apply(&write);
    assert_eq!(place(&desk), (Some("Safari 17".into()), Some("DE".into()), Some("Berlin".into())));
    assert_eq!(desk.contexts["A"].visits, 1);
    // Another browser inside the visit: read again, and what it says replaces the place.
    let write = arrive_seen(&desk.state, "A", Some(firefox), || (Some("FR".into()), None), desk.now);
    desk.state.apply(&write);
    assert_eq!(place(&desk), (Some("Firefox 128".into()), Some("FR".into()), None));
    // A new visit (after the idle time) from the same browser: read again.
    desk.advance(desk.now + VISIT_IDLE_MS + 1);
    let write = arrive_seen(&desk.state, "A", Some(firefox), here, desk.now);
    desk.state.apply(&write);
    assert_eq!(place(&desk), (Some("Firefox 128".into()), Some("DE".into()), Some("Berlin".into())));
    assert_eq!(desk.contexts["A"].visits, 2);
}

#[test]
fn a_verified_visitors_attributes_are_bounded_and_anonymous_ones_may_not_pass_any() {
    let mut desk = desk();
    let mut frame = page("https://app.example/billing");
    frame["attributes"] = json!({ "plan": "pro", "seats": 12, "company.name": "Acme GmbH" });
    send(&mut desk, "v", frame.clone());
    let c = &frames(&mut desk, "admin")[0];
    assert_eq!(c["attributes"], json!({ "company.name": "Acme GmbH", "plan": "pro", "seats": 12 }));
    // a later report without attributes keeps them
    send(&mut desk, "v", page("https://app.example/settings"));
    assert_eq!(frames(&mut desk, "admin")[0]["attributes"]["plan"], "pro");

    refused(&mut desk, "a", frame, "forbidden");
    let too_many: serde_json::Map<String, Value> = (0..=MAX_ATTRIBUTES).map(|i| (format!("k{i}"), json!(i))).collect();
    for attributes in [
        Value::Object(too_many),
        json!({ "nested": { "a": 1 } }),
        json!({ "flag": true }),
        json!({ "list": [1, 2] }),
        json!({ "none": null }),
        json!({ "long": "x".repeat(101) }),
        json!({ "bad key!": "x" }),
        json!({ "": "x" }),
        json!({ "k".repeat(33): "x" }),
        json!("not an object"),
    ] {
        let mut frame = page("https://app.example/billing");
        frame["attributes"] = attributes;
        refused(&mut desk, "v", frame, "bad_frame");
    }
    assert_eq!(desk.contexts["V"].attributes.as_ref().map(|a| a.len()), Some(3), "the stored ones are untouched");
}
