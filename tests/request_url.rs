//! `routes::request_url` against the `url` crate it replaced in the wasm: on URLs as the runtime
//! hands them over (already parsed and serialised by the WHATWG rules), the scheme, authority,
//! path and every query parameter read the same. `url` is a dev-dependency here, for this check.

use proptest::prelude::*;
use support_desk::routes::request_url::{form_decode, RequestUrl};
use url::Url;

/// Holds `RequestUrl` to `url` on `raw` after `url` has canonicalised it (as the runtime does),
/// for the parameter names in `keys` (each absent, present, repeated or encoded).
fn agrees(raw: &str, keys: &[&str]) {
    let Ok(parsed) = Url::parse(raw) else { return };
    let canonical = parsed.as_str();
    let ours = RequestUrl::split(canonical);
    let authority = match (parsed.host_str(), parsed.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        (None, _) => String::new(),
    };
    assert_eq!(ours.scheme, parsed.scheme(), "{canonical}");
    assert_eq!(ours.authority, authority, "{canonical}");
    assert_eq!(ours.path, parsed.path(), "{canonical}");
    for key in keys {
        let theirs = parsed.query_pairs().find(|(k, _)| k == key).map(|(_, v)| v.into_owned());
        assert_eq!(ours.param(key), theirs, "{canonical} ?{key}");
    }
}

#[test]
fn the_endpoints_urls_split_as_url_reads_them() {
    for raw in [
        "https://desk.example.com/desks/acme/visitor?since=12&epoch=abc&name=Ada%20L&token=t0k",
        "http://127.0.0.1:8787/desks/acme/admin?since=0",
        "http://[::1]:8787/desks/acme/visitor",
        "https://desk.example.com/files/acme/u1/f1?expires=1700000000000&sig=00ff",
        "https://desk.example.com/desks?after=5",
        "https://desk.example.com/desks/acme/unsubscribe?u=v1&sig=a%2Bb+c",
        "https://desk.example.com/",
        "https://desk.example.com",
        "https://user:pw@desk.example.com:8443/desks/acme?x",
        "https://desk.example.com/desks/acme/visitor?name=%E2%9C%93&name=second&=empty&&since=",
        "https://desk.example.com/desks/acme/visitor?name=%FF%FE&token=%zz%4&type=text%2Fplain",
        "https://desk.example.com/a/./b/../c?q=1#frag",
    ] {
        agrees(raw, &["since", "epoch", "name", "token", "expires", "sig", "after", "u", "x", "type", "q", ""]);
    }
}

#[test]
fn form_decoding_is_the_forms_rules() {
    assert_eq!(form_decode("a+b%20c"), "a b c");
    assert_eq!(form_decode("%41%4a%4A"), "AJJ");
    assert_eq!(form_decode("100%"), "100%");
    assert_eq!(form_decode("%zz%4"), "%zz%4");
    assert_eq!(form_decode("%E2%9C%93"), "✓");
    assert_eq!(form_decode("%FF"), "\u{FFFD}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn any_url_splits_as_url_reads_it(
        host in "[a-z0-9.-]{1,20}",
        port in proptest::option::of(0u16..),
        path in "(/[ -~]{0,12}){0,4}",
        query in proptest::option::of("[ -~%+&=\u{e9}\u{2713}]{0,60}"),
    ) {
        let port = port.map(|p| format!(":{p}")).unwrap_or_default();
        let query = query.map(|q| format!("?{q}")).unwrap_or_default();
        agrees(&format!("https://{host}{port}{path}{query}"), &["a", "b", "name", "%", " ", "é", "a b", ""]);
    }

    #[test]
    fn any_parameters_read_as_url_reads_them(
        pairs in proptest::collection::vec(("(a|b|name|a b|a\\+b|%61|é|)", "[ -~\u{e9}\u{2713}]{0,12}"), 0..6),
    ) {
        let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        agrees(&format!("https://desk.example.com/desks/acme/visitor?{}", query.join("&")), &["a", "b", "name", "a b", "a+b", "é", ""]);
    }

    #[test]
    fn any_string_splits_without_panic(raw in ".{0,200}") {
        let url = RequestUrl::split(&raw);
        let _ = url.param("a");
    }
}
