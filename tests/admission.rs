//! Admission of visitor sockets, driving the real decision over the in-memory view: new,
//! returning, verified, refused; and nothing written for a refusal. Whether someone new may be
//! created is the network's `Limiter`'s decision (`limits::network`): the core says when to ask.

mod sim;

use sim::Desk;
use support_desk::desk::admission::{self, VisitorRequest};
use support_desk::desk::View;
use support_desk::error::HttpError;
use support_desk::identity::{desk_key, user_hash};
use support_desk::limits::network::Network;
use support_desk::limits::Limits;
use support_desk::protocol::{Author, WireMessage};

const SECRET: &str = "identity-secret-for-tests";

fn limits(new_per_ip: &str) -> Limits {
    Limits::from_vars(|k| match k {
        "NEW_VISITORS_PER_IP" => Some(new_per_ip.to_owned()),
        "SOCKETS_PER_VISITOR" => Some("2".to_owned()),
        _ => None,
    })
}

fn claim(user_id: &str, hash: &str) -> String {
    let hex: String = user_id.bytes().map(|b| format!("{b:02x}")).collect();
    format!("support-desk.v1, support-desk.identity.{hex}.{hash}")
}

/// Admits `request` and applies its writes, as the glue does.
fn admit(desk: &mut Desk, request: &VisitorRequest, limits: &Limits) -> Result<admission::AdmittedVisitor, HttpError> {
    let admitted = admission::visitor(request, limits, &desk.state, desk.now, &mut desk.fresh)?;
    for w in &admitted.writes {
        desk.state.apply(w);
    }
    Ok(admitted)
}

#[test]
fn someone_new_gets_a_token_and_comes_back_with_it() {
    let mut desk = Desk::new();
    let l = limits("60");
    let net = Network::of("203.0.113.7");
    let first = admit(&mut desk, &VisitorRequest { network: net.as_ref(), ..Default::default() }, &l).expect("new");
    assert!(!first.returning && first.token.len() == 64);
    assert_eq!(first.ask_network, net, "someone new and anonymous: the network's Limiter is asked first");
    assert_eq!(first.conversation.name, support_desk::desk::default_name(&first.conversation.user_id));
    let again = VisitorRequest { token: Some(&first.token), name: Some("Ada"), ..Default::default() };
    let back = admit(&mut desk, &again, &l).expect("returning");
    assert!(back.returning);
    assert_eq!(back.ask_network, None, "a returning visitor never pays the new-visitor limit");
    assert_eq!(
        (back.conversation.user_id.as_str(), back.conversation.name.as_str()),
        (first.conversation.user_id.as_str(), "Ada")
    );
    assert_eq!(desk.state.conversation(&first.conversation.user_id).map(|c| c.name), Some("Ada".into()));
}

#[test]
fn refusals_write_nothing() {
    let mut desk = Desk::new();
    let l = limits("1");
    admit(&mut desk, &VisitorRequest::default(), &l).expect("the first");
    let before = desk.state.conversations.clone();
    let refused = |desk: &mut Desk, request: VisitorRequest| admit(desk, &request, &l).err();
    assert!(matches!(
        refused(&mut desk, VisitorRequest { token: Some("forged"), ..Default::default() }),
        Some(HttpError::Unauthorized(_))
    ));
    assert!(matches!(
        refused(&mut desk, VisitorRequest { name: Some("\u{202E}evil"), ..Default::default() }),
        Some(HttpError::BadRequest(_))
    ));
    let forged = claim("42", &"0".repeat(64));
    let no_secret = VisitorRequest { protocols: Some(&forged), ..Default::default() };
    assert_eq!(refused(&mut desk, no_secret), Some(HttpError::IdentityDisabled));
    let wrong = VisitorRequest { protocols: Some(&forged), identity_secret: Some(SECRET), ..Default::default() };
    assert!(matches!(refused(&mut desk, wrong), Some(HttpError::Unauthorized(_))));
    assert_eq!(desk.state.conversations.clone(), before, "nothing stored for a refusal");
}

#[test]
fn a_verified_visitor_is_one_conversation_everywhere_and_not_counted() {
    let mut desk = Desk::new();
    let l = limits("1");
    let office = Network::of("198.51.100.20");
    let key = desk_key(SECRET, "acme").expect("a key");
    let hash = user_hash(&key, "customer-42").expect("a hash");
    let proof = claim("customer-42", &hash);
    let request = VisitorRequest {
        protocols: Some(&proof),
        identity_secret: Some(SECRET),
        desk: "acme",
        network: office.as_ref(),
        ..Default::default()
    };
    let laptop = admit(&mut desk, &request, &l).expect("laptop");
    let phone = admit(&mut desk, &request, &l).expect("phone");
    assert_eq!(laptop.conversation.user_id, phone.conversation.user_id);
    assert_eq!((laptop.token.as_str(), laptop.conversation.verified_id.as_deref()), ("", Some("customer-42")));
    assert_eq!(
        (laptop.ask_network, phone.ask_network),
        (None, None),
        "vouched-for visitors are not an anonymous flood"
    );
}

#[test]
fn a_visitor_holds_at_most_its_socket_limit() {
    let mut desk = Desk::new();
    let l = limits("60");
    let first = admit(&mut desk, &VisitorRequest::default(), &l).expect("new");
    desk.state.sockets.insert(first.conversation.user_id.clone(), 2);
    let again = VisitorRequest { token: Some(&first.token), ..Default::default() };
    assert_eq!(admit(&mut desk, &again, &l).err(), Some(HttpError::TooManySockets));
}

#[test]
fn a_proof_for_another_desk_is_refused_and_writes_nothing() {
    let mut desk = Desk::new();
    let l = limits("60");
    let key = desk_key(SECRET, "acme").expect("a key");
    let proof = claim("customer-42", &user_hash(&key, "customer-42").expect("a hash"));
    let on =
        |desk| VisitorRequest { protocols: Some(&proof), identity_secret: Some(SECRET), desk, ..Default::default() };
    for other in ["shop", "Acme", "acme2"] {
        assert!(matches!(admit(&mut desk, &on(other), &l), Err(HttpError::Unauthorized(_))), "{other}");
    }
    assert!(desk.state.conversations.is_empty(), "nothing stored for a refusal");
    assert!(admit(&mut desk, &on("acme"), &l).is_ok(), "the desk the proof was made for");
}

#[test]
fn look_alike_names_are_refused_before_anything_is_written() {
    let mut desk = Desk::new();
    let l = limits("60");
    let first = admit(&mut desk, &VisitorRequest::default(), &l).expect("new");
    let before = desk.state.conversations.clone();
    let default = first.conversation.name.clone();
    for name in
        ["\u{3164}", "\u{2800}", "Alice Martin ✓", "Bob ✔", default.as_str(), "Visitor 3F0C1A", "\u{200B}\u{200B}"]
    {
        let renamed = VisitorRequest { token: Some(&first.token), name: Some(name), ..Default::default() };
        assert!(matches!(admit(&mut desk, &renamed, &l), Err(HttpError::BadRequest(_))), "{name:?}");
        let new = VisitorRequest { name: Some(name), ..Default::default() };
        assert!(matches!(admit(&mut desk, &new, &l), Err(HttpError::BadRequest(_))), "{name:?}");
    }
    assert_eq!(desk.state.conversations, before, "no visitor created or renamed");
}

#[test]
fn no_limiter_is_asked_when_new_visitors_are_not_limited_or_the_address_is_unknown() {
    let mut desk = Desk::new();
    let net = Network::of("2001:db8::1");
    let off = admit(&mut desk, &VisitorRequest { network: net.as_ref(), ..Default::default() }, &limits("0")).unwrap();
    assert_eq!(off.ask_network, None, "NEW_VISITORS_PER_IP=0");
    let unknown = admit(&mut desk, &VisitorRequest::default(), &limits("60")).unwrap();
    assert_eq!(unknown.ask_network, None, "no CF-Connecting-IP (local runs only)");
}

#[test]
fn a_returning_visitor_whose_conversation_an_agent_took_up_vouches_for_its_address() {
    let mut desk = Desk::new();
    let l = limits("60");
    let net = Network::of("192.0.2.44");
    let first = admit(&mut desk, &VisitorRequest { network: net.as_ref(), ..Default::default() }, &l).unwrap();
    let user_id = first.conversation.user_id.clone();
    let again = VisitorRequest { token: Some(&first.token), network: net.as_ref(), ..Default::default() };
    assert_eq!(admit(&mut desk, &again, &l).unwrap().trust_network, None, "nobody answered yet");
    let reply = WireMessage {
        id: "m1".into(),
        seq: 1,
        sender: Author::Admin,
        message: "Hello, how can I help?".into(),
        at: 1,
        client_msg_id: None,
        agent_id: Some("owner".into()),
        agent_name: None,
        event: None,
        attachment: None,
    };
    desk.state.apply(&support_desk::desk::Write::Append { user_id, message: reply, author_id: "owner".into() });
    assert_eq!(admit(&mut desk, &again, &l).unwrap().trust_network, net, "an agent answered: a real conversation");
}
