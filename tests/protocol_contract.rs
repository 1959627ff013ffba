//! The pinned frames, byte for byte: if one of these changes, a deployed widget or client breaks.

use support_desk::desk::{Conversation, LastMessage};
use support_desk::error::FrameError;
use support_desk::protocol::{parse, visitor_name, Author, Inbound, Outbound, WireMessage};

fn message() -> WireMessage {
    WireMessage {
        id: "m1".into(),
        seq: 7,
        sender: Author::User,
        message: "Hi".into(),
        at: 1000,
        client_msg_id: None,
        agent_id: None,
        agent_name: None,
        event: None,
        attachment: None,
    }
}

#[test]
fn server_frames_keep_their_shape() {
    let welcome = Outbound::Welcome {
        user_id: "u1".into(),
        token: "t".into(),
        name: "Visitor U1".into(),
        messages: vec![message()],
        has_more: false,
        epoch: "e1".into(),
        resumed: false,
        verified_id: None,
        read_seq: 0,
        seen_seq: 0,
        email: None,
    };
    assert_eq!(
        welcome.to_json(),
        r#"{"type":"welcome","userId":"u1","token":"t","name":"Visitor U1","messages":[{"id":"m1","seq":7,"sender":"user","message":"Hi","at":1000}],"hasMore":false,"epoch":"e1","resumed":false}"#
    );
    let ack = Outbound::Ack { client_msg_id: Some("c".into()), id: "m1".into(), seq: 7, at: 1000, user_id: None };
    assert_eq!(ack.to_json(), r#"{"type":"ack","clientMsgId":"c","id":"m1","seq":7,"at":1000}"#);
    let to_visitor = Outbound::Message {
        sender: Author::Admin,
        user_id: None,
        message: "Hello! How can I help you?".into(),
        id: "m2".into(),
        seq: 8,
        at: 1001,
        client_msg_id: None,
        agent_id: None,
        agent_name: None,
        event: None,
        attachment: None,
    };
    assert_eq!(
        to_visitor.to_json(),
        r#"{"type":"message","sender":"admin","message":"Hello! How can I help you?","id":"m2","seq":8,"at":1001}"#
    );
    let mut c = Conversation::new("u1", "User A");
    c.unread = 2;
    c.last = Some(LastMessage { preview: "Hi".into(), sender: Author::User, at: 1000, seq: 7 });
    // The pinned row and frame, extended: new fields only after the pinned ones.
    assert_eq!(
        Outbound::Users {
            users: vec![c.row(true)],
            epoch: "e1".into(),
            seq: 7,
            resumed: false,
            me: None,
            has_more: false
        }
        .to_json(),
        r#"{"type":"users","users":[{"userId":"u1","name":"User A","unread":2,"lastMessage":"Hi","lastSender":"user","lastAt":1000,"online":true,"status":"open","lastSeq":7}],"epoch":"e1","seq":7,"resumed":false}"#
    );
    assert_eq!(
        Outbound::error(&FrameError::MissingTarget, None).to_json(),
        r#"{"type":"error","code":"missing_target","message":"an admin message needs targetUserId: the visitor it is for"}"#
    );
}

#[test]
fn extensions_add_fields_only_where_they_apply() {
    let limited = Outbound::error(&FrameError::RateLimited { retry_after_ms: 500 }, Some("c1".into()));
    assert_eq!(
        limited.to_json(),
        r#"{"type":"error","code":"rate_limited","message":"too many frames: wait 500 ms before sending again","clientMsgId":"c1","retryAfterMs":500}"#
    );
    let mut c = Conversation::new("u1", "Ada");
    c.verified_id = Some("customer-42".into());
    assert_eq!(
        serde_json::to_value(c.row(false)).unwrap(),
        serde_json::json!({"userId":"u1","name":"Ada","unread":0,"online":false,"verifiedId":"customer-42","status":"open"})
    );
    let verified = Outbound::Welcome {
        user_id: "u1".into(),
        token: String::new(),
        name: "Ada".into(),
        messages: vec![],
        has_more: false,
        epoch: "e1".into(),
        resumed: false,
        verified_id: Some("customer-42".into()),
        read_seq: 0,
        seen_seq: 0,
        email: None,
    };
    assert_eq!(
        verified.to_json(),
        r#"{"type":"welcome","userId":"u1","token":"","name":"Ada","messages":[],"hasMore":false,"epoch":"e1","resumed":false,"verifiedId":"customer-42"}"#
    );
}

#[test]
fn client_frames_parse_with_contract_field_names() {
    let admin = r#"{"type":"message","message":"Hello","targetUserId":"u1","clientMsgId":"c1","extra":true}"#;
    assert_eq!(
        parse(admin),
        Ok(Inbound::Message {
            message: "Hello".into(),
            target_user_id: Some("u1".into()),
            client_msg_id: Some("c1".into())
        })
    );
    assert_eq!(parse(r#"{"type":"read","userId":"u1"}"#), Ok(Inbound::Read { user_id: "u1".into() }));
    assert_eq!(
        parse(r#"{"type":"history","userId":"u1","before":9,"limit":5}"#),
        Ok(Inbound::History { user_id: Some("u1".into()), before: Some(9), limit: Some(5) })
    );
    assert_eq!(parse(r#"{"type":"ping"}"#), Ok(Inbound::Ping));
}

#[test]
fn visitor_names_are_plain_bounded_text() {
    assert_eq!(visitor_name("  User A "), Some("User A".into()));
    assert_eq!(visitor_name(""), None);
    assert_eq!(visitor_name("a\u{0007}b"), None);
    assert_eq!(visitor_name(&"n".repeat(65)), None);
    assert_eq!(visitor_name(&"n".repeat(64)).map(|n| n.len()), Some(64));
}

#[test]
fn invisible_text_is_empty_and_control_characters_are_refused() {
    let msg = |text: &str| parse(&serde_json::json!({ "type": "message", "message": text }).to_string());
    for blank in ["\u{200B}", " \u{FEFF}\u{200D} ", "\u{00AD}", "\u{2060}\n", "\u{0000}"] {
        assert_eq!(msg(blank), Err(FrameError::EmptyMessage), "{blank:?}");
    }
    for control in ["hi\u{0000}", "bell\u{0007}", "esc\u{001B}[31m", "c1\u{0085}"] {
        assert!(matches!(msg(control), Err(FrameError::BadFrame(_))), "{control:?}");
    }
    for fine in ["line one\nline two", "tab\there", "crlf\r\n", "עברית \u{200F}ok", "emoji 👋"] {
        assert!(msg(fine).is_ok(), "{fine:?}");
    }
    assert_eq!(visitor_name("\u{200B}"), None, "a name must show something");
    assert_eq!(visitor_name("Bob\u{202E}gnp.exe"), None, "no bidi override in names");
    assert_eq!(visitor_name("Zoë"), Some("Zoë".to_owned()));
}

#[test]
fn an_empty_or_unknown_view_is_a_bad_frame() {
    for frame in [r#"{"type":"list","view":""}"#, r#"{"type":"list","view":"Open"}"#, r#"{"type":"list","view":null}"#]
    {
        assert_eq!(parse(frame).map_err(|e| e.code()), Err("bad_frame"), "{frame}");
    }
    assert!(parse(r#"{"type":"list"}"#).is_ok(), "no view: the default, open");
}

#[test]
fn attachments_add_a_field_and_a_frame_pair() {
    use support_desk::attachments::Attachment;
    let file = Attachment { id: "f1".into(), name: "shot.png".into(), size: 2048, mime: "image/png".into() };
    let with_file = WireMessage { message: "shot.png".into(), attachment: Some(file), ..message() };
    assert_eq!(
        Outbound::live(&with_file, None).to_json(),
        r#"{"type":"message","sender":"user","message":"shot.png","id":"m1","seq":7,"at":1000,"attachment":{"id":"f1","name":"shot.png","size":2048,"type":"image/png"}}"#
    );
    let url =
        Outbound::AttachmentUrl { id: "f1".into(), url: "/desks/a/files/u1/f1?expires=9&sig=ab".into(), expires_at: 9 };
    assert_eq!(
        url.to_json(),
        r#"{"type":"attachment_url","id":"f1","url":"/desks/a/files/u1/f1?expires=9&sig=ab","expiresAt":9}"#
    );
    assert_eq!(parse(r#"{"type":"attachment_url","id":"f1"}"#), Ok(Inbound::AttachmentUrl { id: "f1".into() }));
    assert_eq!(
        Outbound::live(&message(), None).to_json(),
        r#"{"type":"message","sender":"user","message":"Hi","id":"m1","seq":7,"at":1000}"#,
        "no file: unchanged"
    );
}

/// `parse` takes `type` out and reads the rest straight into its variant (issue 12): the type
/// may come anywhere, frames without fields ignore the rest, a shape error names the field, and
/// only an object is a frame.
#[test]
fn parse_reads_the_type_first_then_the_frame() {
    assert_eq!(parse(r#"{"userId":"u1","type":"read"}"#), Ok(Inbound::Read { user_id: "u1".into() }));
    assert_eq!(parse(r#" {"type":"ping","extra":[1,{"a":2}]}"#), Ok(Inbound::Ping));
    assert_eq!(parse(r#"{"type":"webhooks","id":7}"#), Ok(Inbound::Webhooks));
    assert_eq!(parse(r#"{"type":"read"}"#), Err(FrameError::BadFrame("missing field `userId`".into())));
    assert_eq!(parse(r#"{"type":"snooze","userId":"u1","until":"soon"}"#).map_err(|e| e.code()), Err("bad_frame"));
    assert_eq!(parse(r#"{"type":"nope"}"#), Err(FrameError::UnknownType("nope".into())));
    assert_eq!(parse(r#"{"type":5}"#), Err(FrameError::UnknownType(String::new())));
    assert_eq!(parse(r#"{"message":"hi"}"#), Err(FrameError::UnknownType(String::new())));
    for not_a_frame in [r#"["read","u1"]"#, r#""ping""#, "7", "null", r#"{"type":"ping""#, r#"{"type":"ping"} x"#] {
        assert_eq!(parse(not_a_frame), Err(FrameError::BadJson), "{not_a_frame}");
    }
}
