//! Which endpoint a request is for, and whether it may reach a desk: the HTTP half of the contract.
//!
//! Pure: the router hands in the method, path and headers it read, and gets a [`Route`] or the
//! [`HttpError`] to answer with. Checks run in a fixed order so each request gets one clear reason.

use crate::auth::{presented_admin_secret, secret_matches};
use crate::error::HttpError;
use crate::protocol::valid_desk_name;

/// The socket a request opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Visitor,
    Admin,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route<'a> {
    pub desk: &'a str,
    pub endpoint: Endpoint,
}

/// What the router read off a request.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestHead<'a> {
    pub method_is_get: bool,
    pub path: &'a str,
    pub upgrade: Option<&'a str>,
    pub authorization: Option<&'a str>,
    pub protocols: Option<&'a str>,
    /// The browser's `Origin` header, if any (non-browser clients send none).
    pub origin: Option<&'a str>,
    /// This request's own `host[:port]`, as the client addressed it.
    pub authority: &'a str,
}

/// Decides whether `head` may open a socket on a desk. `admin_secret` is the configured
/// `ADMIN_TOKEN` (`None` or empty: admin access is closed).
pub fn route<'a>(head: &RequestHead<'a>, admin_secret: Option<&str>) -> Result<Route<'a>, HttpError> {
    let rest = head.path.strip_prefix("/desks/").ok_or(HttpError::NotFound)?;
    let (desk, endpoint) = rest.split_once('/').ok_or(HttpError::NotFound)?;
    let endpoint = match endpoint {
        "visitor" => Endpoint::Visitor,
        "admin" => Endpoint::Admin,
        _ => return Err(HttpError::NotFound),
    };
    if !valid_desk_name(desk) {
        return Err(HttpError::BadDesk);
    }
    if !head.method_is_get {
        return Err(HttpError::MethodNotAllowed);
    }
    if !head.upgrade.is_some_and(|u| u.trim().eq_ignore_ascii_case("websocket")) {
        return Err(HttpError::UpgradeRequired);
    }
    if endpoint == Endpoint::Admin {
        // A page on another site must not open an admin socket with a victim's browser (cross-site
        // WebSocket hijacking): browsers always send Origin, so a foreign one is refused.
        if head.origin.is_some_and(|o| !same_origin(o, head.authority)) {
            return Err(HttpError::ForeignOrigin);
        }
        let configured = admin_secret.filter(|s| !s.is_empty()).ok_or(HttpError::AdminDisabled)?;
        let presented = presented_admin_secret(head.authorization, head.protocols)
            .ok_or(HttpError::Unauthorized("admin credential required"))?;
        if !secret_matches(&presented, configured) {
            return Err(HttpError::Unauthorized("wrong admin credential"));
        }
    }
    Ok(Route { desk, endpoint })
}

/// Whether an `Origin` (`scheme://host[:port]`) names the authority the request was sent to.
fn same_origin(origin: &str, authority: &str) -> bool {
    origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .is_some_and(|host| host.eq_ignore_ascii_case(authority))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upgrade(path: &str) -> RequestHead<'_> {
        RequestHead { method_is_get: true, path, upgrade: Some("websocket"), authority: "desk.example", ..Default::default() }
    }

    #[test]
    fn visitor_and_admin_paths_route_to_their_desk() {
        let r = route(&upgrade("/desks/acme-1/visitor"), None).unwrap();
        assert_eq!((r.desk, r.endpoint), ("acme-1", Endpoint::Visitor));
        let head = RequestHead { authorization: Some("Bearer k"), ..upgrade("/desks/acme/admin") };
        assert_eq!(route(&head, Some("k")).unwrap().endpoint, Endpoint::Admin);
    }

    #[test]
    fn each_refusal_has_its_reason() {
        assert_eq!(route(&upgrade("/desks/a.b/visitor"), None), Err(HttpError::BadDesk));
        assert_eq!(route(&upgrade("/desks//visitor"), None), Err(HttpError::BadDesk));
        let long = format!("/desks/{}/visitor", "a".repeat(65));
        assert_eq!(route(&upgrade(&long), None), Err(HttpError::BadDesk));
        assert_eq!(route(&upgrade("/desks/a/other"), None), Err(HttpError::NotFound));
        assert_eq!(route(&upgrade("/desks/a/visitor/x"), None), Err(HttpError::NotFound));
        assert_eq!(route(&upgrade("/elsewhere"), None), Err(HttpError::NotFound));
        let plain = RequestHead { upgrade: None, ..upgrade("/desks/a/visitor") };
        assert_eq!(route(&plain, None), Err(HttpError::UpgradeRequired));
        let post = RequestHead { method_is_get: false, ..upgrade("/desks/a/visitor") };
        assert_eq!(route(&post, None), Err(HttpError::MethodNotAllowed));
    }

    #[test]
    fn admin_needs_the_configured_secret() {
        let bare = upgrade("/desks/a/admin");
        assert_eq!(route(&bare, None), Err(HttpError::AdminDisabled));
        assert_eq!(route(&bare, Some("")), Err(HttpError::AdminDisabled));
        assert!(matches!(route(&bare, Some("k")), Err(HttpError::Unauthorized(_))));
        let wrong = RequestHead { authorization: Some("Bearer nope"), ..bare };
        assert!(matches!(route(&wrong, Some("k")), Err(HttpError::Unauthorized(_))));
    }

    #[test]
    fn admin_sockets_refuse_foreign_browser_origins() {
        let good = RequestHead { authorization: Some("Bearer k"), ..upgrade("/desks/a/admin") };
        let same = RequestHead { origin: Some("https://desk.example"), ..good };
        assert!(route(&same, Some("k")).is_ok());
        for origin in ["https://evil.example", "null", "https://desk.example.evil", "desk.example"] {
            let foreign = RequestHead { origin: Some(origin), ..good };
            assert_eq!(route(&foreign, Some("k")), Err(HttpError::ForeignOrigin), "{origin}");
        }
        let visitor = RequestHead { origin: Some("https://customer.example"), ..upgrade("/desks/a/visitor") };
        assert!(route(&visitor, None).is_ok(), "the widget is embedded on other sites");
    }
}
