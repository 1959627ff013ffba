//! Which endpoint a request is for, and whether it may reach a desk: the HTTP half of the contract.
//!
//! Pure: the router hands in the method, path and headers it read, and gets a [`Route`] or the
//! [`HttpError`] to answer with. Checks run in a fixed order so each request gets one clear reason.

use crate::auth::{presented_admin_secret, secret_matches};
use crate::error::HttpError;
use crate::protocol::valid_desk_name;

/// What a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `GET /desks/{desk}/visitor` + upgrade: a visitor socket.
    Visitor,
    /// `GET /desks/{desk}/admin` + upgrade: an admin socket.
    Admin,
    /// `POST /desks/{desk}/visitor/check`: does this desk know a visitor token? Browsers cannot
    /// read why a WebSocket handshake failed, so clients ask here before dropping a token.
    VisitorCheck,
    /// `POST /desks/{desk}/admin/check`: is this admin credential right?
    AdminCheck,
}

impl Endpoint {
    fn is_admin(self) -> bool {
        matches!(self, Endpoint::Admin | Endpoint::AdminCheck)
    }

    fn is_socket(self) -> bool {
        matches!(self, Endpoint::Visitor | Endpoint::Admin)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route<'a> {
    pub desk: &'a str,
    pub endpoint: Endpoint,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    #[default]
    Get,
    Post,
    Other,
}

/// What the router read off a request.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestHead<'a> {
    pub method: Method,
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
        "visitor/check" => Endpoint::VisitorCheck,
        "admin/check" => Endpoint::AdminCheck,
        _ => return Err(HttpError::NotFound),
    };
    if !valid_desk_name(desk) {
        return Err(HttpError::BadDesk);
    }
    let wanted = if endpoint.is_socket() { Method::Get } else { Method::Post };
    if head.method != wanted {
        return Err(HttpError::MethodNotAllowed);
    }
    if endpoint.is_socket() && !head.upgrade.is_some_and(|u| u.trim().eq_ignore_ascii_case("websocket")) {
        return Err(HttpError::UpgradeRequired);
    }
    if endpoint.is_admin() {
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
        RequestHead { method: Method::Get, path, upgrade: Some("websocket"), authority: "desk.example", ..Default::default() }
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
        let post = RequestHead { method: Method::Post, ..upgrade("/desks/a/visitor") };
        assert_eq!(route(&post, None), Err(HttpError::MethodNotAllowed));
        let get_check = RequestHead { upgrade: None, ..upgrade("/desks/a/visitor/check") };
        assert_eq!(route(&get_check, None), Err(HttpError::MethodNotAllowed));
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
    fn credential_checks_are_posts_and_the_admin_one_needs_the_secret() {
        let check = |path| RequestHead { method: Method::Post, path, authority: "desk.example", ..Default::default() };
        assert_eq!(route(&check("/desks/a/visitor/check"), None).map(|r| r.endpoint), Ok(Endpoint::VisitorCheck));
        assert!(matches!(route(&check("/desks/a/admin/check"), Some("k")), Err(HttpError::Unauthorized(_))));
        let with_secret = RequestHead { authorization: Some("Bearer k"), ..check("/desks/a/admin/check") };
        assert_eq!(route(&with_secret, Some("k")).map(|r| r.endpoint), Ok(Endpoint::AdminCheck));
        let foreign = RequestHead { origin: Some("https://evil.example"), ..with_secret };
        assert_eq!(route(&foreign, Some("k")), Err(HttpError::ForeignOrigin));
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
