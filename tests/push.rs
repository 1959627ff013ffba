//! Web Push to agents: the encryption against RFC 8291's Appendix A (RustCrypto's ECDH and
//! AES-GCM standing in for the worker's WebCrypto), the VAPID JWT's form, and the core's
//! decisions: who may subscribe what, the per-agent limit, batching, and who is pushed.

mod sim;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use p256::ecdsa::signature::Verifier;
use serde_json::{json, Value};
use sim::{json as j, Desk};
use support_desk::desk::push::{recipients, PushSetup};
use support_desk::protocol::Role;
use support_desk::push::{self, b64u, from_b64u, Notification, Outcome, Vapid};

fn b(text: &str) -> Vec<u8> {
    from_b64u(text).expect("base64url")
}

/// RFC 8291, Appendix A: every intermediate value and the final message, byte for byte.
#[test]
fn rfc8291_appendix_a() {
    let plaintext = b("V2hlbiBJIGdyb3cgdXAsIEkgd2FudCB0byBiZSBhIHdhdGVybWVsb24");
    let as_private = b("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw");
    let as_public = b("BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8");
    let ua_public = b("BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4");
    let auth = b("BTBZMqHH6r4Tts7J_aSIgg");
    let salt = b("DGv6ra1nlYgDCS1FRnbzlw");

    let secret = p256::SecretKey::from_slice(&as_private).expect("private key");
    let ua = p256::PublicKey::from_sec1_bytes(&ua_public).expect("public key");
    let shared = p256::ecdh::diffie_hellman(secret.to_nonzero_scalar(), ua.as_affine());
    assert_eq!(b64u(shared.raw_secret_bytes()), "kyrL1jIIOHEzg3sM2ZWRHDRB62YACZhhSlknJ672kSs");

    let keys = push::message_keys(shared.raw_secret_bytes(), &auth, &ua_public, &as_public, &salt);
    assert_eq!(b64u(&keys.cek), "oIhVW04MRdy2XN9CiKLxTg");
    assert_eq!(b64u(&keys.nonce), "4h_95klXJ5E_qnoN");

    let cipher = Aes128Gcm::new_from_slice(&keys.cek).expect("key");
    let ciphertext =
        cipher.encrypt(Nonce::from_slice(&keys.nonce), push::record(&plaintext).as_slice()).expect("encrypt");
    let message = push::body(&salt, &as_public, &ciphertext);
    assert_eq!(
        b64u(&message),
        "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
    );
}

/// A key pair as `scripts/vapid-keys.js` writes one (base64url public point and scalar).
fn vapid() -> (Vapid, p256::ecdsa::SigningKey) {
    let scalar = [7u8; 32];
    let signing = p256::ecdsa::SigningKey::from_slice(&scalar).expect("key");
    let point = signing.verifying_key().to_encoded_point(false);
    let vapid = Vapid::new(Some(&b64u(point.as_bytes())), Some(&b64u(&scalar)), Some("mailto:ops@example.com"));
    (vapid.expect("valid keys"), signing)
}

#[test]
fn vapid_jwt_is_es256_for_the_push_services_origin() {
    let (vapid, signing) = vapid();
    let aud = push::audience("https://push.example.net:8443/wpush/v2/abc?x=1").expect("origin");
    assert_eq!(aud, "https://push.example.net:8443");
    let input = vapid.signing_input(&aud, 1_800_000_000);
    let (header, claims) = input.split_once('.').expect("two parts");
    let header: Value = serde_json::from_slice(&b(header)).expect("JSON");
    let claims: Value = serde_json::from_slice(&b(claims)).expect("JSON");
    assert_eq!(header, json!({"typ": "JWT", "alg": "ES256"}));
    assert_eq!(claims, json!({"aud": aud, "exp": 1_800_000_000, "sub": "mailto:ops@example.com"}));
    // WebCrypto's ECDSA gives r ‖ s, which is what a JWS carries: the same as RustCrypto's.
    let signature: p256::ecdsa::Signature = p256::ecdsa::signature::Signer::sign(&signing, input.as_bytes());
    let header = vapid.authorization(&input, &signature.to_bytes());
    let (t, k) = header.strip_prefix("vapid t=").and_then(|r| r.split_once(", k=")).expect("t and k");
    assert_eq!(k, vapid.public_key);
    let (signed, sig) = t.rsplit_once('.').expect("signature");
    let sig = p256::ecdsa::Signature::from_slice(&b(sig)).expect("64 bytes");
    signing.verifying_key().verify(signed.as_bytes(), &sig).expect("verifies");
    assert!(vapid.private_jwk().contains("\"d\":"));
    assert!(!format!("{vapid:?}").contains(&b64u(&[7u8; 32])), "Debug never shows the private key");
}

#[test]
fn vapid_keys_must_be_whole() {
    let (v, _) = vapid();
    assert!(Vapid::new(Some(&v.public_key), None, Some("mailto:a@b.c")).is_none());
    assert!(Vapid::new(Some("abc"), Some(&b64u(&[7u8; 32])), Some("mailto:a@b.c")).is_none());
    assert!(Vapid::new(Some(&v.public_key), Some(&b64u(&[7u8; 32])), Some("ops@example.com")).is_none());
    assert!(Vapid::new(Some(&v.public_key), Some(&b64u(&[7u8; 32])), Some("https://example.com")).is_some());
}

#[test]
fn notifications_are_plain_text_cut_and_counted() {
    let n = Notification::new("message", "u1", "Visitor 3F0C1A", &"x".repeat(300), 3);
    assert_eq!(n.body.chars().count(), push::MAX_BODY_CHARS + 1 + " (+2 more)".len());
    assert!(n.body.ends_with("… (+2 more)"));
    let v: Value = serde_json::from_str(&n.to_json()).expect("JSON");
    assert_eq!(v["userId"], "u1");
    assert_eq!(v["title"], "Visitor 3F0C1A");
}

#[test]
fn push_service_answers() {
    assert_eq!(Outcome::of(Some(201)), Outcome::Delivered);
    assert_eq!(Outcome::of(Some(410)), Outcome::Gone);
    assert_eq!(Outcome::of(Some(404)), Outcome::Gone);
    assert_eq!(Outcome::of(Some(429)), Outcome::Retry);
    assert_eq!(Outcome::of(Some(503)), Outcome::Retry);
    assert_eq!(Outcome::of(None), Outcome::Retry);
    assert_eq!(Outcome::of(Some(413)), Outcome::Refused);
}

const P256DH: &str = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
const AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";

fn subscribe(endpoint: &str) -> Value {
    json!({"type": "push_subscribe", "endpoint": endpoint, "keys": {"p256dh": P256DH, "auth": AUTH}})
}

fn answer(desk: &mut Desk, socket: &'static str, frame: Value) -> Value {
    desk.send(socket, &frame.to_string());
    let got: Vec<Value> = desk.take(socket).iter().map(j).collect();
    assert_eq!(got.len(), 1, "one answer: {got:?}");
    got[0].clone()
}

/// The owner and Ana (agent) signed in; push on with a 30 s batch unless `on` is false.
fn team(on: bool) -> Desk {
    let mut desk = Desk::new();
    if on {
        desk.state.push.setup =
            Some(PushSetup { public_key: "BPUBLIC".into(), allow_loopback_http: false, batch_ms: 30_000 });
    }
    desk.admin("owner");
    let (_, ana) = desk.join("owner", "Ana Lima", Role::Agent);
    desk.sign_in("ana", Some(&ana)).expect("Ana signs in");
    desk.take("owner");
    desk.take("ana");
    desk
}

#[test]
fn push_off_says_so_and_stores_nothing() {
    let mut desk = team(false);
    assert_eq!(
        answer(&mut desk, "ana", json!({"type": "push"})),
        json!({"type": "push", "enabled": false, "subscriptions": 0})
    );
    let refused = answer(&mut desk, "ana", subscribe("https://push.example.net/abc"));
    assert_eq!(refused["code"], "push_disabled");
    assert!(desk.state.push.subscriptions.is_empty());
}

#[test]
fn subscriptions_are_checked_and_limited_per_agent() {
    let mut desk = team(true);
    for (frame, code) in [
        (subscribe("http://push.example.net/abc"), "bad_subscription"),
        (subscribe("http://localhost:9/abc"), "bad_subscription"), // loopback only under the test var
        (subscribe("https://user@push.example.net/abc"), "bad_subscription"),
        (subscribe("ftp://push.example.net/abc"), "bad_subscription"),
        (
            json!({"type": "push_subscribe", "endpoint": "https://p.example/a", "keys": {"p256dh": "AAAA", "auth": AUTH}}),
            "bad_subscription",
        ),
        (
            json!({"type": "push_subscribe", "endpoint": "https://p.example/a", "keys": {"p256dh": P256DH, "auth": "AAAA"}}),
            "bad_subscription",
        ),
        (json!({"type": "push_subscribe", "endpoint": "https://p.example/a"}), "bad_frame"),
    ] {
        assert_eq!(answer(&mut desk, "ana", frame.clone())["code"], code, "{frame}");
    }
    assert!(desk.state.push.subscriptions.is_empty(), "nothing stored for a refused frame");
    for i in 0..10 {
        let ok = answer(&mut desk, "ana", subscribe(&format!("https://push.example.net/{i}")));
        assert_eq!(ok, json!({"type": "push", "enabled": true, "publicKey": "BPUBLIC", "subscriptions": i + 1}));
    }
    // The same browser again changes nothing; an eleventh is refused.
    assert_eq!(answer(&mut desk, "ana", subscribe("https://push.example.net/3"))["subscriptions"], 10);
    assert_eq!(answer(&mut desk, "ana", subscribe("https://push.example.net/10"))["code"], "too_many");
    // The owner's are its own; Ana's unsubscribe touches only hers.
    assert_eq!(answer(&mut desk, "owner", subscribe("https://push.example.net/o"))["subscriptions"], 1);
    let gone = answer(&mut desk, "ana", json!({"type": "push_unsubscribe", "endpoint": "https://push.example.net/o"}));
    assert_eq!(gone["subscriptions"], 10);
    let gone = answer(&mut desk, "ana", json!({"type": "push_unsubscribe", "endpoint": "https://push.example.net/0"}));
    assert_eq!(gone["subscriptions"], 9);
    assert_eq!(desk.state.push.subscriptions.len(), 10);
}

#[test]
fn loopback_http_only_under_the_test_var() {
    let mut desk = team(true);
    if let Some(setup) = desk.state.push.setup.as_mut() {
        setup.allow_loopback_http = true;
    }
    assert_eq!(answer(&mut desk, "ana", subscribe("http://127.0.0.1:4567/push/1"))["subscriptions"], 1);
    assert_eq!(answer(&mut desk, "ana", subscribe("http://example.net/push/1"))["code"], "bad_subscription");
}

#[test]
fn a_conversation_rings_once_per_window_and_only_agents_without_the_inbox() {
    let mut desk = team(true);
    desk.visitor("v1", "visitor-1");
    desk.send("v1", &json!({"type": "message", "message": "before anyone subscribed"}).to_string());
    assert!(desk.state.push.batches.is_empty(), "nobody subscribed: nothing queued");
    desk.take("ana");
    desk.take("owner");
    answer(&mut desk, "ana", subscribe("https://push.example.net/ana"));
    answer(&mut desk, "owner", subscribe("https://push.example.net/owner"));
    desk.send("v1", &json!({"type": "message", "message": "hello"}).to_string());
    let start = desk.now; // the message's time
    desk.advance(start + 10_000);
    desk.send("v1", &json!({"type": "message", "message": "anyone there?"}).to_string());
    assert_eq!(desk.state.push.batches.len(), 1, "one batch for the conversation");
    let batch = desk.state.push.batches.values().next().cloned().expect("batch");
    assert_eq!(batch.count, 2);
    assert_eq!(batch.event.text, "anyone there?");
    assert_eq!(batch.due_at, start + 30_000, "the window starts at the first message");
    // Ana closed her inbox; the owner's is open: only Ana's browser is pushed.
    desk.close("ana");
    let subs = desk.state.push.subscriptions.values().cloned().collect();
    let to: Vec<String> = recipients(subs, &desk.state).into_iter().map(|s| s.agent_id).collect();
    assert_eq!(to.len(), 1);
    assert_ne!(to[0], support_desk::desk::OWNER_ID);
}
