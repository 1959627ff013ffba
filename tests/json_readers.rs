//! The hand-written readers (`json_fields`) of JSON the desk stores: each reads back what its
//! `Serialize` wrote, takes what the derive it replaced took, and refuses what it refused.

use support_desk::attachments::Attachment;
use support_desk::json_fields::Refused;
use support_desk::protocol::context::{read_attributes, AttributeValue, Device, Page, PageReport};
use support_desk::protocol::{json_text, EventInfo};

#[test]
fn events_read_back_what_was_written() {
    let full = EventInfo {
        kind: "snoozed".into(),
        agent_id: Some("a1".into()),
        agent_name: Some("Ann".into()),
        assignee_id: Some("a2".into()),
        assignee_name: Some("Bob".into()),
        until: Some(-5),
    };
    for event in [full, EventInfo { kind: "resolved".into(), ..EventInfo::default() }] {
        assert_eq!(EventInfo::read(&json_text(&event).unwrap()), Ok(event));
    }
    // By position, as the derive read it.
    assert_eq!(EventInfo::read(r#"["k"]"#), Ok(EventInfo { kind: "k".into(), ..EventInfo::default() }));
    let nulls = r#"{"kind":"k","agentId":null,"until":null,"later":1}"#;
    assert_eq!(EventInfo::read(nulls), Ok(EventInfo { kind: "k".into(), ..EventInfo::default() }));
}

#[test]
fn events_refuse_what_the_derive_refused() {
    for text in [
        "{}",
        r#"{"kind":null}"#,
        r#"{"kind":1}"#,
        r#"{"kind":"k","agentName":2}"#,
        r#"{"kind":"k","until":1.5}"#,
        r#"{"kind":"k","until":"1"}"#,
        r#"{"kind":"k","kind":"k"}"#,
        "[]",
        "[1]",
        "",
    ] {
        assert_eq!(EventInfo::read(text), Err(Refused), "{text}");
    }
}

#[test]
fn attachments_read_back_and_refuse() {
    let a = Attachment { id: "f1".into(), name: "a.png".into(), size: 12_345, mime: "image/png".into() };
    assert_eq!(Attachment::read(&json_text(&a).unwrap()), Ok(a));
    for text in [
        r#"{"id":"f","name":"n","size":1}"#,
        r#"{"id":"f","name":"n","size":-1,"type":"t"}"#,
        r#"{"id":"f","name":"n","size":1.5,"type":"t"}"#,
        r#"{"id":"f","name":"n","size":"1","type":"t"}"#,
        r#"{"id":"f","name":null,"size":1,"type":"t"}"#,
        r#"{"id":"f","id":"g","name":"n","size":1,"type":"t"}"#,
        "not json",
    ] {
        assert_eq!(Attachment::read(text), Err(Refused), "{text}");
    }
}

#[test]
fn contexts_read_back_what_was_written() {
    let page = PageReport {
        url: "https://shop.example/a".into(),
        title: Some("A".into()),
        referrer: None,
        language: Some("en".into()),
        time_zone: Some("Europe/Paris".into()),
    };
    assert_eq!(PageReport::read(&json_text(&page).unwrap()), Ok(page));
    let device = Device { browser: Some("Firefox".into()), os: None, country: Some("FR".into()), city: None };
    assert_eq!(Device::read(&json_text(&device).unwrap()), Ok(device));
    assert_eq!(Device::read("{}"), Ok(Device::default()));
    let pages = vec![
        Page { url: "https://shop.example/a".into(), title: None, at: 1 },
        Page { url: "https://shop.example/b".into(), title: Some("B".into()), at: 2 },
    ];
    assert_eq!(Page::read_list(&json_text(&pages).unwrap()), Ok(pages));
    assert_eq!(Page::read_list("[]"), Ok(vec![]));
    let attributes = read_attributes(r#"{"plan":"pro","seats":3}"#).unwrap();
    assert_eq!(attributes.get("plan"), Some(&AttributeValue::Text("pro".into())));
    assert_eq!(attributes.get("seats"), Some(&AttributeValue::Number(3.into())));
}

#[test]
fn contexts_refuse_what_the_derive_refused() {
    for text in [r#"{"title":"t"}"#, r#"{"url":1}"#, r#"{"url":"u","timeZone":2}"#, r#"{"url":"u","url":"v"}"#, "[]"] {
        assert_eq!(PageReport::read(text), Err(Refused), "{text}");
    }
    assert_eq!(Device::read("[]"), Ok(Device::default()), "by position, as the derive");
    for text in [r#"{"os":1}"#, r#"{"city":"a","city":"b"}"#, "null", "[1]", "[null,null,null,null,null]"] {
        assert_eq!(Device::read(text), Err(Refused), "{text}");
    }
    for text in ["{}", r#"[{"url":"u"}]"#, r#"[{"url":"u","at":1.5}]"#, r#"[{"url":"u","at":1},"x"]"#, "[1]"] {
        assert_eq!(Page::read_list(text), Err(Refused), "{text}");
    }
    for text in [r#"{"a":true}"#, r#"{"a":[1]}"#, r#"{"a":null}"#, "[]", "x"] {
        assert_eq!(read_attributes(text).err(), Some(Refused), "{text}");
    }
}

#[test]
fn invite_bodies_read_and_refuse_what_the_derive_refused() {
    use support_desk::desk::team::AcceptBody;
    let body = AcceptBody::read(r#"{"code":"c0de","name":"Ann","extra":true}"#);
    assert_eq!(body, Ok(AcceptBody { code: "c0de".into(), name: "Ann".into() }));
    let positional = AcceptBody::read(r#"["c0de","Ann"]"#);
    assert_eq!(positional, Ok(AcceptBody { code: "c0de".into(), name: "Ann".into() }), "by position");
    for text in [
        r#"{"code":"c"}"#,
        r#"{"name":"n"}"#,
        r#"{"code":1,"name":"n"}"#,
        r#"{"code":"c","name":null}"#,
        r#"{"code":"c","code":"d","name":"n"}"#,
        r#"["c"]"#,
        r#"["c","n","x"]"#,
        "",
    ] {
        assert_eq!(AcceptBody::read(text), Err(Refused), "{text}");
    }
}

#[test]
fn ticket_bodies_read_and_refuse_what_the_derive_refused() {
    use support_desk::desk::ticket::VisitorTicketRequest;
    let all = VisitorTicketRequest::read(r#"{"token":"t","name":"Ann","userId":"u","userHash":"h","x":1}"#);
    let want = VisitorTicketRequest {
        token: Some("t".into()),
        name: Some("Ann".into()),
        user_id: Some("u".into()),
        user_hash: Some("h".into()),
    };
    assert_eq!(all, Ok(want));
    assert_eq!(VisitorTicketRequest::read("{}"), Ok(VisitorTicketRequest::default()));
    assert_eq!(VisitorTicketRequest::read(r#"{"token":null}"#), Ok(VisitorTicketRequest::default()));
    // By position every field must be there (`Option`s without `#[serde(default)]`), as the derive.
    assert_eq!(VisitorTicketRequest::read("[null,null,null,null]"), Ok(VisitorTicketRequest::default()));
    assert_eq!(VisitorTicketRequest::read(r#"["t",null,null]"#), Err(Refused));
    for text in [
        r#"{"token":1}"#,
        r#"{"name":["a"]}"#,
        r#"{"userId":true}"#,
        r#"{"userHash":{}}"#,
        r#"{"token":"a","token":"b"}"#,
        "[]",
        "null",
        "",
    ] {
        assert_eq!(VisitorTicketRequest::read(text), Err(Refused), "{text}");
    }
}
