//! Tests of `access`: configuration, the token's parts and JSON, the claims' rules.

use super::*;

const NOW_MS: i64 = 1_800_000_000_000;
const AUD: &str = "aud-0123456789";
const ISS: &str = "https://myteam.cloudflareaccess.com";

fn config() -> AccessConfig {
    AccessConfig::from_vars(Some("myteam.cloudflareaccess.com"), Some(AUD)).unwrap()
}

fn b64(bytes: &[u8]) -> String {
    B64URL.encode(bytes)
}

fn jwt(header: &serde_json::Value, claims: &serde_json::Value, sig: &[u8]) -> String {
    format!("{}.{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()), b64(sig))
}

fn header() -> serde_json::Value {
    serde_json::json!({"alg": "RS256", "kid": "k1", "typ": "JWT"})
}

fn claims() -> serde_json::Value {
    serde_json::json!({
        "aud": [AUD], "iss": ISS, "email": "Ana@Example.com", "sub": "123",
        "iat": NOW_MS / 1000 - 10, "nbf": NOW_MS / 1000 - 10, "exp": NOW_MS / 1000 + 3600,
    })
}

fn with(mut claims: serde_json::Value, key: &str, value: serde_json::Value) -> serde_json::Value {
    claims[key] = value;
    claims
}

fn without(mut claims: serde_json::Value, key: &str) -> serde_json::Value {
    claims.as_object_mut().unwrap().remove(key);
    claims
}

/// Parses and checks claims, as `access_keys` does before it looks for the key.
fn email_of(token: &str) -> Result<String, AccessError> {
    check_claims(&parse(token)?.claims, &config(), NOW_MS)
}

#[test]
fn config_needs_both_values() {
    assert_eq!(AccessConfig::from_vars(None, Some(AUD)), None);
    assert_eq!(AccessConfig::from_vars(Some("t.cloudflareaccess.com"), None), None);
    assert_eq!(AccessConfig::from_vars(Some(""), Some(AUD)), None);
    assert_eq!(AccessConfig::from_vars(Some("t.cloudflareaccess.com"), Some("  ")), None);
}

#[test]
fn team_domain_becomes_issuer_and_certs_url() {
    let c = config();
    assert_eq!(c.issuer(), ISS);
    assert_eq!(c.aud(), AUD);
    assert_eq!(c.certs_url(), "https://myteam.cloudflareaccess.com/cdn-cgi/access/certs");
    let local = AccessConfig::from_vars(Some("http://127.0.0.1:9999/"), Some(AUD)).unwrap();
    assert_eq!(local.issuer(), "http://127.0.0.1:9999");
    assert_eq!(local.certs_url(), "http://127.0.0.1:9999/cdn-cgi/access/certs");
    let https = AccessConfig::from_vars(Some(" https://myteam.cloudflareaccess.com "), Some(AUD)).unwrap();
    assert_eq!(https, c);
}

#[test]
fn a_good_token_names_its_email_lowercased() {
    let token = jwt(&header(), &claims(), b"sig");
    let parsed = parse(&token).unwrap();
    assert_eq!(parsed.header.kid, "k1");
    assert_eq!(parsed.signature, b"sig");
    let (h, rest) = token.split_once('.').unwrap();
    let p = rest.split('.').next().unwrap();
    assert_eq!(parsed.signing_input, format!("{h}.{p}"));
    assert_eq!(email_of(&token), Ok("ana@example.com".into()));
    let single_aud = with(claims(), "aud", serde_json::json!(AUD));
    assert_eq!(email_of(&jwt(&header(), &single_aud, b"sig")), Ok("ana@example.com".into()));
    let no_nbf = without(claims(), "nbf");
    assert!(email_of(&jwt(&header(), &no_nbf, b"sig")).is_ok(), "nbf is optional");
    let fractional = with(claims(), "exp", serde_json::json!(NOW_MS as f64 / 1000.0 + 0.5));
    assert!(email_of(&jwt(&header(), &fractional, b"sig")).is_ok());
}

#[test]
fn padding_is_tolerated() {
    let pad = |s: &str| format!("{s}{}", "=".repeat((4 - s.len() % 4) % 4));
    let token = jwt(&header(), &claims(), b"signature!");
    let padded: Vec<String> = token.split('.').map(pad).collect();
    assert!(padded.iter().any(|p| p.ends_with('=')), "the test pads something");
    assert_eq!(email_of(&padded.join(".")), Ok("ana@example.com".into()));
}

#[test]
fn the_audience_must_be_ours() {
    for aud in [
        serde_json::json!("other"),
        serde_json::json!(["other", "another"]),
        serde_json::json!([]),
        serde_json::json!(null),
    ] {
        let token = jwt(&header(), &with(claims(), "aud", aud.clone()), b"sig");
        assert_eq!(email_of(&token), Err(AccessError::WrongAudience), "{aud}");
    }
    assert_eq!(email_of(&jwt(&header(), &without(claims(), "aud"), b"sig")), Err(AccessError::WrongAudience));
    let listed = with(claims(), "aud", serde_json::json!(["other", AUD]));
    assert!(email_of(&jwt(&header(), &listed, b"sig")).is_ok());
}

#[test]
fn the_issuer_must_be_the_team() {
    for iss in [
        "https://evil.cloudflareaccess.com",
        "http://myteam.cloudflareaccess.com",
        "https://myteam.cloudflareaccess.com/",
        "",
    ] {
        let token = jwt(&header(), &with(claims(), "iss", serde_json::json!(iss)), b"sig");
        assert_eq!(email_of(&token), Err(AccessError::WrongIssuer), "{iss}");
    }
    assert_eq!(email_of(&jwt(&header(), &without(claims(), "iss"), b"sig")), Err(AccessError::WrongIssuer));
}

#[test]
fn expiry_is_required_and_checked_with_skew() {
    let exp = |s: i64| jwt(&header(), &with(claims(), "exp", serde_json::json!(s)), b"sig");
    let now = NOW_MS / 1000;
    assert_eq!(email_of(&exp(now - 61)), Err(AccessError::Expired));
    assert_eq!(email_of(&exp(now - 3600)), Err(AccessError::Expired));
    assert!(email_of(&exp(now - 59)).is_ok(), "within the clock skew");
    assert_eq!(email_of(&jwt(&header(), &without(claims(), "exp"), b"sig")), Err(AccessError::MissingExpiry));
    let text_exp = with(claims(), "exp", serde_json::json!("tomorrow"));
    assert_eq!(email_of(&jwt(&header(), &text_exp, b"sig")), Err(AccessError::BadJson));
}

#[test]
fn not_before_is_checked_with_skew() {
    let nbf = |s: i64| jwt(&header(), &with(claims(), "nbf", serde_json::json!(s)), b"sig");
    let now = NOW_MS / 1000;
    assert_eq!(email_of(&nbf(now + 61)), Err(AccessError::NotYetValid));
    assert!(email_of(&nbf(now + 59)).is_ok(), "within the clock skew");
}

#[test]
fn an_email_is_required() {
    assert_eq!(email_of(&jwt(&header(), &without(claims(), "email"), b"sig")), Err(AccessError::MissingEmail));
    for email in ["", "   ", "no-at-sign"] {
        let token = jwt(&header(), &with(claims(), "email", serde_json::json!(email)), b"sig");
        assert_eq!(email_of(&token), Err(AccessError::MissingEmail), "{email:?}");
    }
    let long = format!("{}@example.com", "a".repeat(250));
    assert_eq!(
        email_of(&jwt(&header(), &with(claims(), "email", serde_json::json!(long)), b"sig")),
        Err(AccessError::MissingEmail)
    );
    // A service token carries `common_name` and no email: it signs nobody in.
    let service = with(without(claims(), "email"), "common_name", serde_json::json!("abc.access"));
    assert_eq!(email_of(&jwt(&header(), &service, b"sig")), Err(AccessError::MissingEmail));
}

#[test]
fn only_rs256_with_a_kid_is_accepted() {
    for alg in ["none", "None", "HS256", "RS512", "ES256", "PS256", ""] {
        let h = serde_json::json!({"alg": alg, "kid": "k1"});
        assert_eq!(email_of(&jwt(&h, &claims(), b"sig")), Err(AccessError::WrongAlgorithm), "{alg}");
    }
    let no_alg = serde_json::json!({"kid": "k1"});
    assert_eq!(email_of(&jwt(&no_alg, &claims(), b"sig")), Err(AccessError::WrongAlgorithm));
    let no_kid = serde_json::json!({"alg": "RS256"});
    assert_eq!(email_of(&jwt(&no_kid, &claims(), b"sig")), Err(AccessError::MissingKid));
    let empty_kid = serde_json::json!({"alg": "RS256", "kid": ""});
    assert_eq!(email_of(&jwt(&empty_kid, &claims(), b"sig")), Err(AccessError::MissingKid));
    // alg none with an empty signature, the classic forgery.
    let none = format!("{}.{}.", b64(br#"{"alg":"none","kid":"k1"}"#), b64(claims().to_string().as_bytes()));
    assert_eq!(email_of(&none), Err(AccessError::WrongAlgorithm));
    assert_eq!(email_of(&jwt(&header(), &claims(), b"")), Err(AccessError::BadSignature), "RS256 with no signature");
}

#[test]
fn garbage_is_refused_without_panicking() {
    let good = jwt(&header(), &claims(), b"sig");
    let parts: Vec<&str> = good.split('.').collect();
    let cases = [
        ("", AccessError::NotCompact),
        ("garbage", AccessError::NotCompact),
        ("a.b", AccessError::NotCompact),
        ("a.b.c.d", AccessError::NotCompact),
        ("..", AccessError::NotCompact),
        ("!!!.@@@.###", AccessError::BadBase64),
        ("eyJ+.eyJ/.c2ln", AccessError::BadBase64),
        ("e.e.e", AccessError::BadBase64),
    ];
    for (token, want) in cases {
        assert_eq!(email_of(token), Err(want.clone()), "{token:?}");
    }
    let not_json = format!("{}.{}.{}", b64(b"not json"), parts[1], parts[2]);
    assert_eq!(email_of(&not_json), Err(AccessError::BadJson));
    let claims_not_json = format!("{}.{}.{}", parts[0], b64(b"[1,2"), parts[2]);
    assert_eq!(email_of(&claims_not_json), Err(AccessError::BadJson));
    let array_claims = format!("{}.{}.{}", parts[0], b64(b"[1,2]"), parts[2]);
    assert_eq!(email_of(&array_claims), Err(AccessError::BadJson));
    let bad_sig = format!("{}.{}.{}", parts[0], parts[1], "%%%");
    assert_eq!(email_of(&bad_sig), Err(AccessError::BadBase64));
}

#[test]
fn the_claims_reader_takes_what_the_derive_took() {
    let all = Claims::read(r#"{"aud":["a"],"iss":"i","exp":1.5,"nbf":2,"email":"e","other":{"x":1}}"#);
    let want = Claims {
        aud: Some(serde_json::json!(["a"])),
        iss: Some("i".into()),
        exp: Some(1.5),
        nbf: Some(2.0),
        email: Some("e".into()),
    };
    assert_eq!(all, Ok(want));
    let none = Claims { aud: None, iss: None, exp: None, nbf: None, email: None };
    assert_eq!(Claims::read("{}"), Ok(none.clone()));
    assert_eq!(Claims::read(r#"{"aud":null,"iss":null,"exp":null,"nbf":null,"email":null}"#), Ok(none));
}

#[test]
fn the_claims_and_header_readers_refuse_what_the_derive_refused() {
    for text in [
        r#"{"iss":1}"#,
        r#"{"exp":"1"}"#,
        r#"{"nbf":true}"#,
        r#"{"email":["a"]}"#,
        r#"{"email":"a","email":"b"}"#,
        r#"{"aud":"a","aud":"b"}"#,
        r#"[null, null, null, null, null, null]"#,
        r#"[null, 1]"#,
        "not json",
    ] {
        assert_eq!(Claims::read(text), Err(Refused), "{text}");
    }
    let good = jwt(&header(), &claims(), b"sig");
    let parts: Vec<&str> = good.split('.').collect();
    for head in [
        r#"{"alg":"RS256","kid":"k1","kid":"k1"}"#,
        r#"{"alg":"RS256","alg":"RS256","kid":"k1"}"#,
        r#"{"alg":256,"kid":"k1"}"#,
        r#"{"alg":"RS256","kid":1}"#,
        r#"["RS256","k1","x"]"#,
    ] {
        let token = format!("{}.{}.{}", b64(head.as_bytes()), parts[1], parts[2]);
        assert_eq!(email_of(&token), Err(AccessError::BadJson), "{head}");
    }
    // As the derive read it: a header from an array, its fields by position.
    let positional = format!("{}.{}.{}", b64(br#"["RS256","k1"]"#), parts[1], parts[2]);
    assert_eq!(parse(&positional).map(|t| t.header.kid), Ok("k1".into()));
    assert_eq!(Claims::read("[]").map(|c| c.email), Ok(None));
    let null_kid = format!("{}.{}.{}", b64(br#"{"alg":"RS256","kid":null}"#), parts[1], parts[2]);
    assert_eq!(email_of(&null_kid), Err(AccessError::MissingKid));
}

#[test]
fn oversize_tokens_are_refused_before_parsing() {
    let big = "a".repeat(MAX_ASSERTION_BYTES + 1);
    assert_eq!(parse(&big), Err(AccessError::TooLarge));
    let padded_claims = with(claims(), "pad", serde_json::json!("x".repeat(MAX_ASSERTION_BYTES)));
    assert_eq!(email_of(&jwt(&header(), &padded_claims, b"sig")), Err(AccessError::TooLarge));
}

#[test]
fn every_failure_is_a_401_that_never_echoes_the_token() {
    let secretish = "eyJhbGciOiJub25lIn0.c2VjcmV0LWVtYWlsQGV4YW1wbGUuY29t.";
    let err = email_of(secretish).unwrap_err();
    let http = HttpError::from(err);
    assert_eq!(http.status(), 401);
    assert_eq!(http.code(), "unauthorized");
    assert!(!http.body().contains("c2VjcmV0"), "{}", http.body());
    for e in [AccessError::TooLarge, AccessError::UnknownKey, AccessError::BadSignature, AccessError::KeysUnavailable] {
        assert_eq!(HttpError::from(e.clone()), HttpError::Unauthorized(e.reason()));
        assert_eq!(e.to_string(), e.reason(), "Display and reason agree");
    }
}
