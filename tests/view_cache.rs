//! The view cache: what it answers without SQLite, when it must ask, and that it stays bounded
//! and in step with every write (driven by the real core over the in-memory desk).

use support_desk::desk::memory::Memory;
use support_desk::desk::{Conversation, View, Write};
use support_desk::protocol::{Author, Status, WireMessage};
use support_desk::view_cache::{Seen, ViewCache, MAX_CLIENT_IDS_PER_CONVERSATION};

fn message(seq: i64, sender: Author, text: &str, client_msg_id: Option<&str>) -> WireMessage {
    WireMessage {
        id: format!("m{seq}"),
        seq,
        sender,
        message: text.into(),
        at: 1_000 + seq,
        client_msg_id: client_msg_id.map(Into::into),
        agent_id: None,
        agent_name: None,
        event: None,
        attachment: None,
    }
}

fn append(user: &str, author: &str, m: WireMessage) -> Write {
    Write::Append { user_id: user.into(), message: m, author_id: author.into() }
}

fn created(user: &str) -> Write {
    Write::CreateVisitor { user_id: user.into(), token_hash: format!("t-{user}"), name: user.into(), verified_id: None }
}

#[test]
fn a_visitor_created_here_is_fully_known_and_tracks_its_ids() {
    let mut cache = ViewCache::default();
    cache.apply(&created("u1"));
    assert_eq!(cache.seen("u1", Author::User, "u1", "a"), Seen::No, "nothing stored yet: no need to ask");
    cache.apply(&append("u1", "u1", message(1, Author::User, "hi", Some("a"))));
    assert_eq!(cache.seen("u1", Author::User, "u1", "a"), Seen::Maybe, "a retry must be checked against storage");
    assert_eq!(cache.seen("u1", Author::Admin, "owner", "a"), Seen::No, "the same id from an agent is another message");
    assert_eq!(cache.seen("u2", Author::User, "u2", "a"), Seen::Unknown, "another conversation is not held");
    let c = cache.conversation("u1").expect("held");
    assert_eq!((c.unread, c.last.map(|l| l.seq)), (1, Some(1)));
    assert_eq!(cache.ids_held(), 1);
}

#[test]
fn a_conversation_read_from_storage_asks_once_for_its_ids() {
    let mut cache = ViewCache::default();
    cache.fill(Conversation::new("u1", "Ann"));
    assert_eq!(cache.seen("u1", Author::User, "u1", "a"), Seen::Unknown);
    cache.fill_ids("u1", [(Author::User, "u1", "a")].into_iter());
    assert_eq!(cache.seen("u1", Author::User, "u1", "a"), Seen::Maybe);
    assert_eq!(cache.seen("u1", Author::User, "u1", "b"), Seen::No);
    // A second load (another step that also missed) changes nothing.
    cache.fill_ids("u1", std::iter::empty());
    assert_eq!(cache.seen("u1", Author::User, "u1", "a"), Seen::Maybe);
}

#[test]
fn too_many_ids_fall_back_to_storage_for_every_check() {
    let mut cache = ViewCache::default();
    cache.fill(Conversation::new("u1", "Ann"));
    let ids: Vec<String> = (0..=MAX_CLIENT_IDS_PER_CONVERSATION).map(|i| format!("c{i}")).collect();
    cache.fill_ids("u1", ids.iter().map(|id| (Author::User, "u1", id.as_str())));
    assert_eq!(cache.seen("u1", Author::User, "u1", "new"), Seen::Maybe);
    assert_eq!(cache.ids_held(), 0, "none held for it");

    // A conversation that grows past the bound while held lets go of its ids too.
    cache.apply(&created("u2"));
    for i in 0..=MAX_CLIENT_IDS_PER_CONVERSATION as i64 {
        cache.apply(&append("u2", "u2", message(i + 1, Author::User, "x", Some(&format!("c{i}")))));
    }
    assert_eq!(cache.seen("u2", Author::User, "u2", "never"), Seen::Maybe);
    assert_eq!(cache.ids_held(), 0);
}

#[test]
fn bounded_in_conversations_and_ids_least_recently_used_first() {
    let mut cache = ViewCache::new(16, 64);
    for i in 0..16 {
        cache.apply(&created(&format!("u{i}")));
    }
    assert!(cache.conversation("u0").is_some(), "touch u0: now the most recently used");
    cache.apply(&created("u16"));
    assert!(cache.len() <= 16);
    assert!(cache.conversation("u0").is_some(), "the recently used one stays");
    assert!(cache.conversation("u1").is_none(), "the least recently used went first");

    // Ids count against their own bound.
    for i in 0..65 {
        cache.apply(&append("u0", "u0", message(i + 1, Author::User, "x", Some(&format!("c{i}")))));
        cache.conversation("u0");
    }
    assert!(cache.ids_held() <= 64, "held {}", cache.ids_held());
    // Evicted conversations are asked of storage again, never answered wrongly.
    for i in 0..17 {
        let id = format!("u{i}");
        if cache.conversation(&id).is_none() {
            assert_eq!(cache.seen(&id, Author::User, &id, "c0"), Seen::Unknown);
        }
    }
}

#[test]
fn a_failed_write_forgets_everything() {
    let mut cache = ViewCache::default();
    cache.apply(&created("u1"));
    cache.clear();
    assert!(cache.is_empty());
    assert_eq!(cache.ids_held(), 0);
    assert_eq!(cache.seen("u1", Author::User, "u1", "a"), Seen::Unknown);
}

#[test]
fn marks_and_status_before_the_first_message_change_nothing_as_in_sqlite() {
    // SQLite keeps them in the row the first message creates: an update before it matches no row.
    let mut cache = ViewCache::default();
    cache.apply(&created("u1"));
    cache.apply(&Write::Read { user_id: "u1".into(), up_to: 9 });
    cache.apply(&Write::Status { user_id: "u1".into(), status: Status::Resolved, until: None });
    cache.apply(&Write::Assign { user_id: "u1".into(), agent_id: Some("ana".into()) });
    assert_eq!(cache.conversation("u1"), Some(Conversation::new("u1", "u1")));
    // A note is not activity: still no row.
    cache.apply(&append("u1", "owner", message(1, Author::Note, "psst", None)));
    assert_eq!(cache.conversation("u1").and_then(|c| c.last), None);
}

#[test]
fn a_deleted_conversation_is_dropped_with_its_ids_and_a_block_is_a_status() {
    let mut cache = ViewCache::default();
    cache.apply(&created("u1"));
    cache.apply(&append("u1", "u1", message(1, Author::User, "hi", Some("a"))));
    cache.apply(&Write::Status { user_id: "u1".into(), status: Status::Blocked, until: None });
    assert_eq!(cache.conversation("u1").map(|c| c.status), Some(Status::Blocked));
    assert_eq!(cache.ids_held(), 1);
    cache.apply(&Write::Delete { user_id: "u1".into() });
    assert!(cache.conversation("u1").is_none(), "gone: storage is asked (and has nothing)");
    assert_eq!(cache.ids_held(), 0, "its ids went with it");
    assert_eq!(cache.seen("u1", Author::User, "u1", "a"), Seen::Unknown);
    assert_eq!(Write::Delete { user_id: "u1".into() }.user_id(), Some("u1"));
}

/// Every write the real core makes, over a long random-ish session, leaves the cached rows equal
/// to the desk's own (the in-memory desk applies writes as SQLite does).
#[test]
fn in_step_with_the_core_over_a_scripted_session() {
    use support_desk::desk::{step, Effect, Sender};
    use support_desk::protocol::{parse, Role};

    struct Seq(u64);
    impl support_desk::desk::Fresh for Seq {
        fn id(&mut self) -> String {
            self.0 += 1;
            format!("id-{}", self.0)
        }
        fn secret(&mut self) -> [u8; 32] {
            self.0 += 1;
            [self.0 as u8; 32]
        }
    }
    let mut desk = Memory::default();
    let mut cache = ViewCache::new(3, 1_000); // small: evictions and refills all along
    let mut fresh = Seq(0);
    let users = ["u0", "u1", "u2", "u3", "u4"];
    for u in users {
        let w = created(u);
        desk.apply(&w);
        cache.apply(&w);
    }
    let owner = Sender::Agent { id: "owner".into(), role: Role::Owner };
    let mut now = 10_000;
    for round in 0..400usize {
        let u = users[round * 7 % users.len()];
        if round % 37 == 36 {
            // Deleted, then the same id back as a new visitor: the cache never answers the old row.
            for w in [Write::Delete { user_id: u.into() }, created(u)] {
                desk.apply(&w);
                cache.apply(&w);
            }
        }
        let (sender, frame) = match round % 11 {
            0 | 4 | 7 => (
                Sender::Visitor { user_id: u.into() },
                format!(r#"{{"type":"message","message":"hi {round}","clientMsgId":"c{}"}}"#, round % 13),
            ),
            1 | 5 => (
                owner.clone(),
                format!(r#"{{"type":"message","message":"re {round}","targetUserId":"{u}","clientMsgId":"r{round}"}}"#),
            ),
            2 => (owner.clone(), format!(r#"{{"type":"read","userId":"{u}"}}"#)),
            3 => (owner.clone(), format!(r#"{{"type":"resolve","userId":"{u}"}}"#)),
            6 => (owner.clone(), format!(r#"{{"type":"snooze","userId":"{u}","until":{}}}"#, now + 5)),
            8 => (owner.clone(), format!(r#"{{"type":"block","userId":"{u}"}}"#)),
            9 => (owner.clone(), format!(r#"{{"type":"reopen","userId":"{u}"}}"#)),
            _ => (owner.clone(), format!(r#"{{"type":"unread","userId":"{u}"}}"#)),
        };
        now += 3;
        let Ok(frame) = parse(&frame) else { panic!("bad test frame {frame}") };
        // The view the glue gives the core: rows from the cache when held, the desk's otherwise.
        for u in users {
            if cache.conversation(u).is_none() {
                cache.fill(desk.conversation(u).expect("exists"));
            }
        }
        let Ok(effects) = step(&sender, frame, &desk, now, &mut fresh) else { continue };
        for e in &effects {
            if let Effect::Store(w) = e {
                desk.apply(w);
                cache.apply(w);
            }
        }
        for u in users {
            if let Some(held) = cache.conversation(u) {
                assert_eq!(Some(held), desk.conversation(u), "round {round}: {u} differs");
            }
        }
    }
}
