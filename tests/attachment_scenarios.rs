//! Scenario tests of attachments, driving the real core over the in-memory desk: who may upload
//! into which conversation, the type, size, rate and storage decisions made before a byte is read,
//! the message that records a file (for both sides, written before anyone is told), who gets a
//! signed URL for it, the ticket a visitor's upload presents, and files leaving with their
//! conversation.

mod sim;

use serde_json::{json, Value};
use sim::{json as j, Desk};
use support_desk::attachments::{AttachmentLimits, Signer, UPLOAD_WINDOW_MS};
use support_desk::desk::attachment::{self, Request};
use support_desk::desk::ticket::{Holder, Ticket};
use support_desk::desk::{Sender, StorageUse, Write};
use support_desk::error::HttpError;
use support_desk::protocol::{Role, Status};

const DESK: &str = "acme";

fn signer() -> Signer {
    Signer { secret: "attachment-secret-for-tests-0123456789".into(), desk: DESK.into(), ttl_ms: 600_000 }
}

/// A desk with attachments configured, the owner on `owner`, visitors `u1` (tab `v1`) and `u2`
/// (tab `v2`), each of whom wrote once.
fn desk() -> Desk {
    let mut desk = Desk::new();
    desk.state.signer = Some(signer());
    desk.admin("owner");
    desk.visitor("v1", "u1");
    desk.visitor("v2", "u2");
    desk.send("v1", r#"{"type":"message","message":"hello"}"#);
    desk.send("v2", r#"{"type":"message","message":"hi"}"#);
    for socket in ["owner", "v1", "v2"] {
        desk.take(socket);
    }
    desk
}

fn png(size: u64) -> Request<'static> {
    Request { target: None, declared_type: "image/png", size }
}

fn to(target: &'static str, declared_type: &'static str, size: u64) -> Request<'static> {
    Request { target: Some(target), declared_type, size }
}

fn frames(desk: &mut Desk, socket: &'static str) -> Vec<Value> {
    desk.take(socket).iter().map(j).collect()
}

fn answer(desk: &mut Desk, socket: &'static str, frame: Value) -> Value {
    desk.send(socket, &frame.to_string());
    let got = frames(desk, socket);
    assert_eq!(got.len(), 1, "one answer: {got:?}");
    got[0].clone()
}

#[test]
fn a_visitors_file_is_a_message_with_its_attachment_for_every_tab_and_every_agent() {
    let mut desk = desk();
    desk.visitor("v1b", "u1");
    desk.take("v1b");
    let m = desk.upload("v1", &png(2048), "shot.png", &AttachmentLimits::default()).expect("admitted");
    let file =
        json!({ "id": m.attachment.as_ref().unwrap().id, "name": "shot.png", "size": 2048, "type": "image/png" });
    for tab in ["v1", "v1b"] {
        let got = frames(&mut desk, tab);
        let message = got.iter().find(|f| f["type"] == "message").expect("a message frame");
        assert_eq!((&message["message"], &message["attachment"]), (&json!("shot.png"), &file), "{tab}");
    }
    let agents = frames(&mut desk, "owner");
    assert!(agents.iter().any(|f| f["type"] == "message" && f["userId"] == "u1" && f["attachment"] == file));
    assert!(frames(&mut desk, "v2").is_empty(), "another visitor hears nothing");
    let stored = desk.state.attachments.values().map(|(a, by, _)| (a.user_id.clone(), a.key.clone(), by.clone()));
    let key = format!("acme/u1/{}", file["id"].as_str().unwrap());
    assert_eq!(stored.collect::<Vec<_>>(), vec![("u1".to_owned(), key, "u1".to_owned())]);
    let history = answer(&mut desk, "v1", json!({ "type": "history" }));
    assert_eq!(history["messages"].as_array().unwrap().last().unwrap()["attachment"], file, "stored with the message");
}

#[test]
fn an_agents_file_is_a_reply_the_visitor_gets_signed_by_the_agent() {
    let mut desk = desk();
    let m = desk.upload("owner", &to("u1", "application/pdf", 100), "invoice.pdf", &AttachmentLimits::default());
    let m = m.expect("an agent replies with a file");
    assert_eq!(m.agent_id.as_deref(), Some("owner"));
    let got = frames(&mut desk, "v1");
    let message = got.iter().find(|f| f["type"] == "message").expect("the visitor gets it");
    assert_eq!((&message["sender"], &message["attachment"]["type"]), (&json!("admin"), &json!("application/pdf")));
    assert!(message.get("agentId").is_none(), "no agent id for visitors");
    assert!(frames(&mut desk, "v2").is_empty());
}

#[test]
fn rights_a_visitor_only_its_own_conversation_an_agent_only_while_active() {
    let mut desk = desk();
    let limits = AttachmentLimits::default();
    let other = desk.upload("v1", &to("u2", "image/png", 10), "x.png", &limits);
    assert_eq!(other, Err(HttpError::Forbidden("visitors can only upload into their own conversation")));
    assert!(desk.upload("v1", &to("u1", "image/png", 10), "x.png", &limits).is_ok(), "its own, named");
    let no_target = desk.upload("owner", &png(10), "x.png", &limits);
    assert_eq!(no_target, Err(HttpError::BadRequest("an agent's upload needs userId")));
    assert_eq!(desk.upload("owner", &to("nobody", "image/png", 10), "x.png", &limits), Err(HttpError::UnknownUser));
    let (ana, _) = desk.join("owner", "Ana", Role::Agent);
    desk.sockets.insert(
        "ana",
        sim::Socket {
            sender: Sender::Agent { id: ana.clone(), role: Role::Agent },
            open: true,
            inbox: vec![],
            closed_with: None,
        },
    );
    assert!(
        desk.upload("ana", &to("u2", "image/png", 10), "x.png", &limits).is_ok(),
        "an agent replies with files too"
    );
    desk.state.apply(&Write::Revoke { agent_id: ana });
    assert_eq!(
        desk.upload("ana", &to("u2", "image/png", 10), "x.png", &limits),
        Err(HttpError::Forbidden("this agent was revoked"))
    );
    desk.state.apply(&Write::Status { user_id: "u2".into(), status: Status::Blocked, until: None });
    assert_eq!(desk.upload("v2", &png(10), "x.png", &limits), Err(HttpError::Blocked));
}

#[test]
fn type_and_size_are_decided_before_anything_else() {
    let mut desk = desk();
    let limits = AttachmentLimits::default();
    for bad in ["text/html", "image/svg+xml", "application/x-msdownload", ""] {
        let refused = desk.upload("v1", &Request { target: Some("u2"), declared_type: bad, size: 10 }, "x", &limits);
        assert!(matches!(refused, Err(HttpError::BadType(_))), "{bad}: before the rights");
    }
    let huge = desk.upload("v1", &png(10 * 1024 * 1024 + 1), "x.png", &limits);
    assert_eq!(huge.map_err(|e| (e.status(), e.code())), Err((413, "too_large")));
    assert!(desk.upload("v1", &png(10 * 1024 * 1024), "x.png", &limits).is_ok(), "10 MiB exactly is fine");
    assert_eq!(desk.upload("v1", &png(0), "x.png", &limits), Err(HttpError::BadRequest("the file is empty")));
}

#[test]
fn uploads_per_hour_count_per_uploader_and_free_up_an_hour_after_the_oldest() {
    let mut desk = desk();
    let limits = AttachmentLimits { uploads_per_hour: 2, ..Default::default() };
    let first_at = desk.now + 1;
    desk.upload("v1", &png(10), "a.png", &limits).expect("1");
    desk.upload("v1", &png(10), "b.png", &limits).expect("2");
    let refused = desk.upload("v1", &png(10), "c.png", &limits).unwrap_err();
    let retry = refused.retry_after_ms().expect("says when");
    assert_eq!((refused.status(), refused.code()), (429, "rate_limited"));
    assert_eq!(retry as i64, first_at + UPLOAD_WINDOW_MS - desk.now);
    assert!(desk.upload("v2", &png(10), "d.png", &limits).is_ok(), "another visitor has its own count");
    desk.now = first_at + UPLOAD_WINDOW_MS;
    assert!(desk.upload("v1", &png(10), "e.png", &limits).is_ok(), "the oldest left the window");
}

#[test]
fn a_conversation_and_the_desk_hold_a_bounded_number_of_bytes() {
    let mut desk = desk();
    let limits = AttachmentLimits { conversation_bytes: 100, desk_bytes: 150, ..Default::default() };
    desk.upload("v1", &png(60), "a.png", &limits).expect("room");
    let full = desk.upload("v1", &png(41), "b.png", &limits);
    assert_eq!(full, Err(HttpError::StorageFull("this conversation holds as many files as it may")));
    desk.upload("v2", &png(80), "c.png", &limits).expect("its own room");
    let desk_full = desk.upload("v2", &png(20), "d.png", &limits);
    assert_eq!(desk_full.map_err(|e| (e.status(), e.code())), Err((507, "storage_full")));
    desk.state.storage = StorageUse { used_bytes: 10, budget_bytes: Some(10), warned_at: None };
    let limits = AttachmentLimits::default();
    assert!(matches!(desk.upload("v1", &png(1), "e.png", &limits), Err(HttpError::StorageFull(_))));
    assert!(desk.upload("owner", &to("u1", "image/png", 1), "f.png", &limits).is_ok(), "agents' replies still go out");
}

#[test]
fn signed_urls_only_for_the_conversations_visitor_and_the_agents() {
    let mut desk = desk();
    let m = desk.upload("v1", &png(10), "a.png", &AttachmentLimits::default()).unwrap();
    let id = m.attachment.unwrap().id;
    for socket in ["v1", "v2", "owner"] {
        desk.take(socket);
    }
    let own = answer(&mut desk, "v1", json!({ "type": "attachment_url", "id": id }));
    let expected = signer().sign("u1", &id, desk.now);
    assert_eq!(
        own,
        json!({ "type": "attachment_url", "id": id, "url": expected.url, "expiresAt": expected.expires_at })
    );
    let other = answer(&mut desk, "v2", json!({ "type": "attachment_url", "id": id }));
    assert_eq!((&other["type"], &other["code"]), (&json!("error"), &json!("forbidden")));
    assert_eq!(answer(&mut desk, "owner", json!({ "type": "attachment_url", "id": id }))["type"], "attachment_url");
    assert_eq!(
        answer(&mut desk, "owner", json!({ "type": "attachment_url", "id": "nope" }))["code"],
        "unknown_attachment"
    );
    assert_eq!(answer(&mut desk, "owner", json!({ "type": "attachment_url", "id": "" }))["code"], "bad_frame");
    desk.state.signer = None;
    assert_eq!(answer(&mut desk, "v1", json!({ "type": "attachment_url", "id": id }))["code"], "attachments_disabled");
    assert!(desk.upload("v1", &png(10), "b.png", &AttachmentLimits::default()).is_err(), "nor uploads");
}

#[test]
fn a_visitors_upload_presents_a_ticket_for_an_existing_conversation_used_once() {
    let mut desk = desk();
    let ticket = |holder, expires_at| Ticket { hash: String::new(), holder, name: None, address: None, expires_at };
    let issue = |desk: &mut Desk, presented: &str, holder, expires_at| {
        let mut t = ticket(holder, expires_at);
        t.hash = support_desk::auth::token_hash(presented);
        desk.state.apply(&Write::IssueTicket { ticket: Box::new(t) });
    };
    let (now, later) = (desk.now, desk.now + 60_000);
    issue(&mut desk, "t-visitor", Holder::Visitor { user_id: "u1".into() }, later);
    issue(&mut desk, "t-new", Holder::NewVisitor, later);
    issue(&mut desk, "t-agent", Holder::Agent { id: "owner".into() }, later);
    issue(&mut desk, "t-old", Holder::Visitor { user_id: "u1".into() }, now);
    let (sender, used) = attachment::visitor_by_ticket(Some("t-visitor"), &desk.state, desk.now).expect("its own");
    assert_eq!(sender, Sender::Visitor { user_id: "u1".into() });
    desk.state.apply(&used);
    for presented in [Some("t-visitor"), Some("t-new"), Some("t-agent"), Some("t-old"), Some("made-up")] {
        let refused = attachment::visitor_by_ticket(presented, &desk.state, desk.now);
        assert_eq!(refused.map_err(|e| e.status()), Err(401), "{presented:?}");
    }
    assert_eq!(attachment::visitor_by_ticket(None, &desk.state, desk.now).map_err(|e| e.code()), Err("unauthorized"));
}

#[test]
fn deleting_or_expiring_a_conversation_puts_its_files_out_for_removal() {
    let mut desk = desk();
    let limits = AttachmentLimits::default();
    let a = desk.upload("v1", &png(10), "a.png", &limits).unwrap().attachment.unwrap();
    let b = desk.upload("v2", &png(10), "b.png", &limits).unwrap().attachment.unwrap();
    desk.send("owner", &json!({ "type": "delete", "userId": "u1" }).to_string());
    assert_eq!(desk.state.trash, vec![format!("acme/u1/{}", a.id)]);
    assert!(desk.state.attachments.contains_key(&b.id) && !desk.state.attachments.contains_key(&a.id));
    desk.expire(desk.now + 10 * UPLOAD_WINDOW_MS, UPLOAD_WINDOW_MS);
    assert_eq!(desk.state.trash.len(), 2, "retention takes the files with the conversation");
    assert!(desk.state.attachments.is_empty());
}
