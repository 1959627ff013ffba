//! Tickets, driving the real core over the in-memory view: issued for a credential, good once,
//! for one minute at most, for the kind of socket they were issued for, and bounded per address
//! and per desk. The clock is passed in: expiry is tested at the millisecond, without waiting.

mod sim;

use sim::Desk;
use support_desk::desk::admission::{self, VisitorRequest};
use support_desk::desk::team::{self, SignIn};
use support_desk::desk::ticket::{self, Holder, Issued, MAX_LIVE_TICKETS_PER_ADDRESS, TICKET_TTL_MS};
use support_desk::desk::{View, Write};
use support_desk::error::HttpError;
use support_desk::identity::{desk_key, user_hash};
use support_desk::limits::network::Network;
use support_desk::limits::Limits;

const OWNER_SECRET: &str = "owner-secret-0123456789abcdef-0123456789";
const IDENTITY_SECRET: &str = "identity-secret-for-tests";
/// The desk these tickets are for (an identity proof is valid on one desk only).
const DESK: &str = "acme";

/// Issues a ticket for `holder` and stores it, as the glue does.
fn issue(desk: &mut Desk, holder: Holder, name: Option<&str>, address: Option<&str>) -> Result<Issued, HttpError> {
    let (write, issued) =
        ticket::issue(holder, name.map(str::to_owned), address, TICKET_TTL_MS, &desk.state, desk.now, &mut desk.fresh)?;
    desk.state.apply(&write);
    Ok(issued)
}

/// A visitor's ticket request with `body`, stored as the glue does.
fn ask(desk: &mut Desk, body: &str) -> Result<Issued, HttpError> {
    let (write, issued) = ticket::for_visitor(
        body,
        DESK,
        Some(IDENTITY_SECRET),
        Some("addr"),
        TICKET_TTL_MS,
        &desk.state,
        desk.now,
        &mut desk.fresh,
    )?;
    desk.state.apply(&write);
    Ok(issued)
}

/// The visitor upgrade that presents `ticket`, with its writes applied.
fn upgrade(desk: &mut Desk, ticket: &str) -> Result<admission::AdmittedVisitor, HttpError> {
    let limits = Limits::from_vars(|_| None);
    let network = Network::of("203.0.113.9");
    let request = VisitorRequest { ticket: Some(ticket), network: network.as_ref(), desk: DESK, ..Default::default() };
    let admitted = admission::visitor(&request, &limits, &desk.state, desk.now, &mut desk.fresh)?;
    for w in &admitted.writes {
        desk.state.apply(w);
    }
    Ok(admitted)
}

/// The admin upgrade that presents `ticket`, with its writes applied: the agent signed in.
fn sign_in(desk: &mut Desk, ticket: &str) -> Result<String, HttpError> {
    let request = SignIn { owner_secret: Some(OWNER_SECRET), ticket: Some(ticket), ..Default::default() };
    let admitted = team::sign_in(&request, &desk.state, desk.now, &mut desk.fresh).map_err(|r| {
        assert!(!r.failed, "a refused ticket is not counted as a guess");
        r.error
    })?;
    for w in &admitted.writes {
        desk.state.apply(w);
    }
    Ok(admitted.agent.id)
}

#[test]
fn an_agent_ticket_signs_in_once() {
    let mut desk = Desk::new();
    let issued = issue(&mut desk, Holder::Agent { id: "owner".into() }, None, Some("addr")).expect("issued");
    assert_eq!((issued.ticket.len(), issued.expires_in), (64, 60));
    assert!(desk.state.tickets.values().all(|t| t.hash != issued.ticket), "stored as a hash only");
    assert_eq!(sign_in(&mut desk, &issued.ticket), Ok("owner".to_owned()));
    assert_eq!(sign_in(&mut desk, &issued.ticket), Err(ticket::REFUSED), "the second use is refused");
    assert!(desk.state.tickets.is_empty(), "used up");
}

#[test]
fn a_ticket_expires_after_its_lifetime() {
    let mut desk = Desk::new();
    let first = issue(&mut desk, Holder::Agent { id: "owner".into() }, None, None).expect("issued");
    let second = issue(&mut desk, Holder::Agent { id: "owner".into() }, None, None).expect("issued");
    desk.now += TICKET_TTL_MS - 1;
    assert_eq!(sign_in(&mut desk, &first.ticket), Ok("owner".to_owned()), "good until its last millisecond");
    desk.now += 1;
    assert_eq!(sign_in(&mut desk, &second.ticket), Err(ticket::REFUSED), "expired at its lifetime");
    let mut desk = Desk::new();
    let (write, _) = ticket::issue(Holder::NewVisitor, None, None, 0, &desk.state, desk.now, &mut desk.fresh).unwrap();
    let Write::IssueTicket { ticket } = &write else { panic!("an issue write") };
    assert_eq!(ticket.expires_at, desk.now, "a lifetime of 0 (TICKET_TTL_MS=0, tests) is expired at once");
}

#[test]
fn a_ticket_is_for_one_kind_of_socket_and_a_revoked_agent_loses_it() {
    let mut desk = Desk::new();
    let visitor = issue(&mut desk, Holder::NewVisitor, None, None).expect("issued");
    assert_eq!(sign_in(&mut desk, &visitor.ticket), Err(ticket::REFUSED), "a visitor's ticket opens no admin socket");
    assert!(upgrade(&mut desk, &visitor.ticket).is_ok(), "and it was not used up by the refusal");
    let agent = issue(&mut desk, Holder::Agent { id: "owner".into() }, None, None).expect("issued");
    assert_eq!(
        upgrade(&mut desk, &agent.ticket).err(),
        Some(ticket::REFUSED),
        "an agent's ticket opens no visitor socket"
    );
    let gone = issue(&mut desk, Holder::Agent { id: "ana".into() }, None, None).expect("issued");
    assert_eq!(sign_in(&mut desk, &gone.ticket), Err(ticket::REFUSED), "the agent must be active when it is used");
    for forged in ["", "00", &"f".repeat(64)] {
        assert_eq!(sign_in(&mut desk, forged), Err(ticket::REFUSED), "{forged:?}");
    }
}

#[test]
fn a_visitor_ticket_carries_who_it_is_and_its_name() {
    let mut desk = Desk::new();
    let new = ask(&mut desk, r#"{"name":"Ada"}"#).expect("a new visitor's ticket");
    let first = upgrade(&mut desk, &new.ticket).expect("admitted");
    assert!(!first.returning && first.token.len() == 64);
    assert_eq!(first.conversation.name, "Ada", "the name rode in the ticket request's body");
    assert!(first.ask_network.is_some(), "someone new by ticket: the network's Limiter is asked before any write");

    let body = format!(r#"{{"token":"{}","name":"Ada L."}}"#, first.token);
    let back = ask(&mut desk, &body).expect("a returning visitor's ticket");
    let again = upgrade(&mut desk, &back.ticket).expect("admitted");
    assert!(again.returning);
    assert_eq!(again.ask_network, None, "a returning visitor never pays the new-visitor limit");
    assert_eq!(again.conversation.user_id, first.conversation.user_id);
    assert_eq!(again.token, "", "the desk keeps only the token's hash: the visitor already holds it");
    assert_eq!(desk.state.conversation(&first.conversation.user_id).map(|c| c.name), Some("Ada L.".into()));

    let key = desk_key(IDENTITY_SECRET, DESK).unwrap_or_default();
    let proof = user_hash(&key, "customer-42").unwrap_or_default();
    let body = format!(r#"{{"userId":"customer-42","userHash":"{proof}","token":"{}"}}"#, first.token);
    let verified = ask(&mut desk, &body).expect("a verified customer's ticket");
    let customer = upgrade(&mut desk, &verified.ticket).expect("admitted");
    assert_eq!(customer.conversation.verified_id.as_deref(), Some("customer-42"), "identity wins over a token");
    assert_eq!(customer.ask_network, None, "a verified customer is not an anonymous flood");
    assert_ne!(customer.conversation.user_id, first.conversation.user_id);
}

#[test]
fn a_ticket_request_that_fails_issues_nothing() {
    let mut desk = Desk::new();
    let refusals = [
        (r#"{"token":"forged"}"#.to_owned(), "unauthorized"),
        (r#"{"userId":"customer-42","userHash":"00"}"#.to_owned(), "unauthorized"),
        (r#"{"userId":"customer-42"}"#.to_owned(), "unauthorized"),
        (r#"{"userId":""}"#.to_owned(), "bad_request"),
        (r#"{"name":"\u202Eevil"}"#.to_owned(), "bad_request"),
        (r#"{"name":42}"#.to_owned(), "bad_request"),
        ("not json".to_owned(), "bad_request"),
        (format!(r#"{{"name":"{}"}}"#, "x".repeat(3000)), "bad_request"),
    ];
    for (body, code) in refusals {
        assert_eq!(ask(&mut desk, &body).map(|_| ()).map_err(|e| e.code()), Err(code), "{body}");
    }
    assert!(desk.state.tickets.is_empty(), "nothing stored for a refusal");
}

#[test]
fn unused_tickets_are_bounded_per_address() {
    let mut desk = Desk::new();
    for _ in 0..MAX_LIVE_TICKETS_PER_ADDRESS {
        issue(&mut desk, Holder::NewVisitor, None, Some("busy")).expect("within the limit");
    }
    let refused = issue(&mut desk, Holder::NewVisitor, None, Some("busy"));
    assert_eq!(refused, Err(HttpError::TooManyTickets { retry_after_ms: TICKET_TTL_MS as u64 }));
    assert_eq!(refused.unwrap_err().code(), "rate_limited");
    assert!(issue(&mut desk, Holder::NewVisitor, None, Some("elsewhere")).is_ok(), "another address is not held up");
    desk.now += TICKET_TTL_MS;
    assert!(issue(&mut desk, Holder::NewVisitor, None, Some("busy")).is_ok(), "expired tickets no longer count");
}
