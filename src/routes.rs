//! Which endpoint a request is for, and whether it may reach a desk: the HTTP half of the contract.
//!
//! Pure: the router hands in the method, path and headers it read, and gets a [`Route`] or the
//! [`HttpError`] to answer with. Checks run in a fixed order so each request gets one clear reason.

pub mod request_url;

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
    /// `POST /desks/{desk}/agents/accept`: an invited person joins the team.
    AgentsAccept,
    /// `POST /desks/{desk}`: the owner creates a desk (the Worker checks `ADMIN_TOKEN` and the
    /// directory records the name; no desk object is touched).
    CreateDesk,
    /// `POST /desks/{desk}/visitor/ticket`: a visitor's single-use ticket for its next upgrade.
    VisitorTicket,
    /// `POST /desks/{desk}/admin/ticket`: an agent's single-use ticket, for the credential it presents.
    AdminTicket,
    /// `POST /desks/{desk}/visitor/upload?ticket=…`: a visitor's file, for its own conversation.
    VisitorUpload,
    /// `POST /desks/{desk}/admin/upload?userId=…`: an agent's file (credential as for `admin/ticket`).
    AdminUpload,
    /// `GET /desks/{desk}/files/{userId}/{id}?expires=…&sig=…`: a file, through its signed URL
    /// (the Worker checks the signature and reads R2; no desk object is asked).
    File,
    /// `GET /desks/{desk}/status`: is the desk online, who is, when it opens next (no socket;
    /// cacheable for a few seconds; readable by the sites that may embed the widget).
    Status,
    /// `GET|POST /desks/{desk}/unsubscribe?u=…&sig=…`: a visitor's signed unsubscribe link from a
    /// follow-up email (GET: a confirmation page; POST: unsubscribed). The signature is its own
    /// credential; mail clients' one-click POST sends no Origin.
    Unsubscribe,
}

impl Endpoint {
    /// Endpoints that sign an agent in (the desk object checks the credential: agents' tokens
    /// live in its database, and failed attempts are counted there), and creating a desk (the
    /// owner's, checked by the Worker): pages of other origins may not call them.
    pub fn is_admin(self) -> bool {
        matches!(
            self,
            Endpoint::Admin
                | Endpoint::AdminCheck
                | Endpoint::AgentsAccept
                | Endpoint::CreateDesk
                | Endpoint::AdminTicket
                | Endpoint::AdminUpload
        )
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
    /// `Sec-WebSocket-Key`: every real handshake has one, 16 random bytes in base64.
    pub websocket_key: Option<&'a str>,
    /// `Sec-WebSocket-Version`: `13`, the only one there is (RFC 6455).
    pub websocket_version: Option<&'a str>,
    /// The request carries a body (`Content-Length` over 0, or `Transfer-Encoding`): no handshake does.
    pub has_body: bool,
    pub authorization: Option<&'a str>,
    pub protocols: Option<&'a str>,
    /// The browser's `Origin` header, if any (non-browser clients send none).
    pub origin: Option<&'a str>,
    /// This request's own `host[:port]`, as the client addressed it.
    pub authority: &'a str,
    /// This request's own scheme, `https` or `http` (with `authority`, the desk's own origin).
    pub scheme: &'a str,
}

/// The sites whose pages may open visitor sockets (`ALLOWED_ORIGINS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedOrigins {
    /// `*`: any site (what `make dev` configures).
    Any,
    /// These origins (`https://*.example.com` covers its subdomains), plus the desk's own.
    /// Empty, the default: only the desk's own pages.
    Only(Vec<String>),
}

impl AllowedOrigins {
    /// Reads the setting: origins separated by commas or spaces, or `*`. Entries that are not
    /// `http(s)://host[:port]` are ignored, so a typo closes a site rather than opening all.
    pub fn from_setting(setting: Option<&str>) -> Self {
        let entries: Vec<&str> =
            setting.unwrap_or("").split([',', ' ', '\n', '\t']).filter(|e| !e.is_empty()).collect();
        if entries.contains(&"*") {
            return AllowedOrigins::Any;
        }
        let origins = entries
            .into_iter()
            .map(|e| e.trim_end_matches('/').to_ascii_lowercase())
            .filter(|e| host_of(e).is_some_and(|h| !h.is_empty() && !h.contains('/')))
            .collect();
        AllowedOrigins::Only(origins)
    }

    /// Whether a page of `origin` may open a visitor socket on a desk whose own origin is `own`
    /// (`scheme://host[:port]`).
    pub fn allows(&self, origin: &str, own: &str) -> bool {
        let origin = origin.to_ascii_lowercase();
        match self {
            AllowedOrigins::Any => true,
            AllowedOrigins::Only(list) => {
                origin.eq_ignore_ascii_case(own)
                    || list.iter().any(|allowed| match allowed.split_once("://*.") {
                        // `https://*.shop.example` covers `https://a.shop.example`, not `https://shop.example`.
                        Some((scheme, domain)) => origin
                            .strip_prefix(scheme)
                            .and_then(|o| o.strip_prefix("://"))
                            .and_then(|host| host.strip_suffix(domain))
                            .is_some_and(|sub| sub.len() > 1 && sub.ends_with('.')),
                        None => *allowed == origin,
                    })
            }
        }
    }
}

fn host_of(origin: &str) -> Option<&str> {
    origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"))
}

/// Decides whether `head` may reach a desk; `origins`, the sites that may embed the widget. The
/// admin credential is not checked here but by the desk object (`desk::team::sign_in`).
pub fn route<'a>(head: &RequestHead<'a>, origins: &AllowedOrigins) -> Result<Route<'a>, HttpError> {
    let rest = head.path.strip_prefix("/desks/").filter(|r| !r.is_empty()).ok_or(HttpError::NotFound)?;
    let (desk, endpoint) = match rest.split_once('/') {
        // Only a POST names a desk itself; any other method finds no route there, as before desks
        // could be created (so `/desks/./visitor` and `/desks/x%2Fvisitor` stay 404).
        None if head.method == Method::Post => (rest, Endpoint::CreateDesk),
        None => return Err(HttpError::NotFound),
        Some((desk, "visitor")) => (desk, Endpoint::Visitor),
        Some((desk, "admin")) => (desk, Endpoint::Admin),
        Some((desk, "visitor/check")) => (desk, Endpoint::VisitorCheck),
        Some((desk, "admin/check")) => (desk, Endpoint::AdminCheck),
        Some((desk, "agents/accept")) => (desk, Endpoint::AgentsAccept),
        Some((desk, "visitor/ticket")) => (desk, Endpoint::VisitorTicket),
        Some((desk, "admin/ticket")) => (desk, Endpoint::AdminTicket),
        Some((desk, "visitor/upload")) => (desk, Endpoint::VisitorUpload),
        Some((desk, "admin/upload")) => (desk, Endpoint::AdminUpload),
        Some((desk, file)) if file_in(file).is_some() => (desk, Endpoint::File),
        Some((desk, "status")) => (desk, Endpoint::Status),
        Some((desk, "unsubscribe")) => (desk, Endpoint::Unsubscribe),
        Some(_) => return Err(HttpError::NotFound),
    };
    if !valid_desk_name(desk) {
        return Err(HttpError::BadDesk);
    }
    // A signed URL is its own credential, and an <img> on a customer's page sends no Origin.
    if endpoint == Endpoint::File {
        return if head.method == Method::Get {
            Ok(Route { desk, endpoint })
        } else {
            Err(HttpError::MethodNotAllowed)
        };
    }
    if endpoint == Endpoint::Unsubscribe {
        return if matches!(head.method, Method::Get | Method::Post) {
            Ok(Route { desk, endpoint })
        } else {
            Err(HttpError::MethodNotAllowed)
        };
    }
    let wanted = if endpoint.is_socket() || endpoint == Endpoint::Status { Method::Get } else { Method::Post };
    if head.method != wanted {
        return Err(HttpError::MethodNotAllowed);
    }
    // workerd hands the Worker any upgrade as a GET (a POST, HEAD or DELETE too) and refuses the
    // 101 only afterwards: a body at least tells a POST or PUT apart.
    if endpoint.is_socket() && head.has_body {
        return Err(HttpError::MethodNotAllowed);
    }
    if endpoint.is_socket() && !head.upgrade.is_some_and(|u| u.trim().eq_ignore_ascii_case("websocket")) {
        return Err(HttpError::UpgradeRequired);
    }
    // The rest of the handshake is checked here, not left to the runtime: it would refuse a
    // malformed one only after the desk had created the visitor.
    if endpoint.is_socket() && !head.websocket_key.is_some_and(valid_websocket_key) {
        return Err(HttpError::BadRequest("a WebSocket handshake needs a Sec-WebSocket-Key of 16 bytes in base64"));
    }
    if endpoint.is_socket() && head.websocket_version.map(str::trim) != Some("13") {
        return Err(HttpError::BadRequest("a WebSocket handshake needs Sec-WebSocket-Version: 13"));
    }
    let own = format!("{}://{}", head.scheme, head.authority);
    if !endpoint.is_admin() {
        // The widget runs on customers' sites: only those configured may talk to this desk, so a
        // copied snippet on a stranger's site does not get a working chat (non-browser clients
        // send no Origin and are limited like any visitor).
        if head.origin.is_some_and(|o| !origins.allows(o, &own)) {
            return Err(HttpError::OriginNotAllowed);
        }
    } else {
        // A page on another site must not open an admin socket with a victim's browser (cross-site
        // WebSocket hijacking): browsers always send Origin, so a foreign one is refused. Scheme,
        // host and port all count: a page of `http://` this host (which anyone on the network
        // can write) is another origin than the desk's `https://` one.
        if head.origin.is_some_and(|o| !o.eq_ignore_ascii_case(&own)) {
            return Err(HttpError::ForeignOrigin);
        }
    }
    Ok(Route { desk, endpoint })
}

/// A `Sec-WebSocket-Key` as RFC 6455 has it: 16 bytes in base64, so 22 characters and `==`.
fn valid_websocket_key(key: &str) -> bool {
    let key = key.trim();
    key.len() == 24
        && key.ends_with("==")
        && key[..22].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

/// `files/{userId}/{id}` (the rest of a file's path): the conversation and the attachment id, each
/// 1 to 64 of `[A-Za-z0-9_-]`.
pub fn file_in(rest: &str) -> Option<(&str, &str)> {
    let (user_id, id) = rest.strip_prefix("files/")?.split_once('/')?;
    let ok =
        |s: &str| (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    (ok(user_id) && ok(id)).then_some((user_id, id))
}

/// The desk a path names (`/desks/{desk}/...`), if the name is a valid one: how a desk object
/// knows its own name from a request the router let through.
pub fn desk_in(path: &str) -> Option<&str> {
    let (desk, _) = path.strip_prefix("/desks/")?.split_once('/')?;
    valid_desk_name(desk).then_some(desk)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The default: no `ALLOWED_ORIGINS`, so only the desk's own pages.
    fn none() -> AllowedOrigins {
        AllowedOrigins::from_setting(None)
    }

    /// A plain POST from the desk's own origin.
    fn post(path: &str) -> RequestHead<'_> {
        RequestHead { method: Method::Post, path, authority: "desk.example", scheme: "https", ..Default::default() }
    }

    fn upgrade(path: &str) -> RequestHead<'_> {
        RequestHead {
            method: Method::Get,
            path,
            upgrade: Some("websocket"),
            websocket_key: Some("dGhlIHNhbXBsZSBub25jZQ=="),
            websocket_version: Some("13"),
            authority: "desk.example",
            scheme: "https",
            ..Default::default()
        }
    }

    #[test]
    fn visitor_and_admin_paths_route_to_their_desk() {
        let r = route(&upgrade("/desks/acme-1/visitor"), &none()).unwrap();
        assert_eq!((r.desk, r.endpoint), ("acme-1", Endpoint::Visitor));
        let head = RequestHead { authorization: Some("Bearer k-0123456789abcdef"), ..upgrade("/desks/acme/admin") };
        assert_eq!(route(&head, &none()).unwrap().endpoint, Endpoint::Admin);
    }

    #[test]
    fn each_refusal_has_its_reason() {
        assert_eq!(route(&upgrade("/desks/a.b/visitor"), &none()), Err(HttpError::BadDesk));
        assert_eq!(route(&upgrade("/desks//visitor"), &none()), Err(HttpError::BadDesk));
        let long = format!("/desks/{}/visitor", "a".repeat(65));
        assert_eq!(route(&upgrade(&long), &none()), Err(HttpError::BadDesk));
        assert_eq!(route(&upgrade("/desks/a/other"), &none()), Err(HttpError::NotFound));
        assert_eq!(route(&upgrade("/desks/a/visitor/x"), &none()), Err(HttpError::NotFound));
        assert_eq!(route(&upgrade("/elsewhere"), &none()), Err(HttpError::NotFound));
        let plain = RequestHead { upgrade: None, ..upgrade("/desks/a/visitor") };
        assert_eq!(route(&plain, &none()), Err(HttpError::UpgradeRequired));
        for key in [
            None,
            Some(""),
            Some("  "),
            Some("x"),
            Some("dGhlIHNhbXBsZSBub25jZQ="),
            Some("dGhlIHNhbXBsZSBub25jZQ=x"),
            Some("dGhlIHNhbXBsZSBub25jZ*=="),
            Some("dGhlIHNhbXBsZSBub25jZQ==dGhlIHNhbXBsZSBub25jZQ=="),
        ] {
            let bad = RequestHead { websocket_key: key, ..upgrade("/desks/a/visitor") };
            assert!(matches!(route(&bad, &none()), Err(HttpError::BadRequest(_))), "{key:?}");
        }
        for version in [None, Some(""), Some("8"), Some("12"), Some("13, 8"), Some("14")] {
            let bad = RequestHead { websocket_version: version, ..upgrade("/desks/a/admin") };
            assert!(matches!(route(&bad, &none()), Err(HttpError::BadRequest(_))), "{version:?}");
        }
        let head = RequestHead { method: Method::Other, ..upgrade("/desks/a/visitor") };
        assert_eq!(route(&head, &none()), Err(HttpError::MethodNotAllowed), "HEAD, DELETE, PUT…");
        let post_as_get = RequestHead { has_body: true, ..upgrade("/desks/a/visitor") };
        assert_eq!(route(&post_as_get, &none()), Err(HttpError::MethodNotAllowed), "a handshake has no body");
        let post = RequestHead { method: Method::Post, ..upgrade("/desks/a/visitor") };
        assert_eq!(route(&post, &none()), Err(HttpError::MethodNotAllowed));
        let get_check = RequestHead { upgrade: None, ..upgrade("/desks/a/visitor/check") };
        assert_eq!(route(&get_check, &none()), Err(HttpError::MethodNotAllowed));
    }

    #[test]
    fn credential_checks_and_accepting_invites_are_posts() {
        assert_eq!(route(&post("/desks/a/visitor/check"), &none()).map(|r| r.endpoint), Ok(Endpoint::VisitorCheck));
        let accept = post("/desks/a/agents/accept");
        assert_eq!(route(&accept, &none()).map(|r| r.endpoint), Ok(Endpoint::AgentsAccept));
        let tickets =
            [("/desks/a/visitor/ticket", Endpoint::VisitorTicket), ("/desks/a/admin/ticket", Endpoint::AdminTicket)];
        for (path, endpoint) in tickets {
            assert_eq!(route(&post(path), &none()).map(|r| r.endpoint), Ok(endpoint), "{path}");
            let get = RequestHead { method: Method::Get, ..post(path) };
            assert_eq!(route(&get, &none()), Err(HttpError::MethodNotAllowed), "{path}");
        }
        let foreign = RequestHead { origin: Some("https://evil.example"), ..post("/desks/a/admin/ticket") };
        assert_eq!(
            route(&foreign, &none()),
            Err(HttpError::ForeignOrigin),
            "an admin ticket is for the desk's own pages"
        );
        let stranger = RequestHead { origin: Some("https://evil.example"), ..post("/desks/a/visitor/ticket") };
        assert_eq!(
            route(&stranger, &none()),
            Err(HttpError::OriginNotAllowed),
            "visitor tickets follow ALLOWED_ORIGINS"
        );
        let with_secret =
            RequestHead { authorization: Some("Bearer k-0123456789abcdef"), ..post("/desks/a/admin/check") };
        assert_eq!(route(&with_secret, &none()).map(|r| r.endpoint), Ok(Endpoint::AdminCheck));
        let foreign = RequestHead { origin: Some("https://evil.example"), ..with_secret };
        assert_eq!(route(&foreign, &none()), Err(HttpError::ForeignOrigin));
    }

    #[test]
    fn creating_a_desk_is_a_post_on_the_desk_itself() {
        let post = |path| RequestHead { method: Method::Post, path, authority: "desk.example", ..Default::default() };
        let r = route(&post("/desks/acme-2"), &none()).unwrap();
        assert_eq!((r.desk, r.endpoint), ("acme-2", Endpoint::CreateDesk));
        let get = RequestHead { method: Method::Get, ..post("/desks/acme") };
        assert_eq!(route(&get, &none()), Err(HttpError::NotFound), "only a POST names a desk itself");
        let upgrade = RequestHead { upgrade: Some("websocket"), ..get };
        assert_eq!(route(&RequestHead { path: "/desks/visitor", ..upgrade }, &none()), Err(HttpError::NotFound));
        assert_eq!(route(&post("/desks/"), &none()), Err(HttpError::NotFound));
        assert_eq!(route(&post("/desks/a.b"), &none()), Err(HttpError::BadDesk));
        assert_eq!(route(&post("/desks/acme/"), &none()), Err(HttpError::NotFound));
        let foreign = RequestHead { origin: Some("https://evil.example"), ..post("/desks/acme") };
        assert_eq!(route(&foreign, &none()), Err(HttpError::ForeignOrigin));
    }

    #[test]
    fn admin_sockets_refuse_foreign_browser_origins() {
        let good = RequestHead { authorization: Some("Bearer k-0123456789abcdef"), ..upgrade("/desks/a/admin") };
        let same = RequestHead { origin: Some("https://desk.example"), ..good };
        assert!(route(&same, &none()).is_ok());
        for origin in [
            "https://evil.example",
            "null",
            "https://desk.example.evil",
            "desk.example",
            "http://desk.example",
            "wss://desk.example",
            "https://desk.example:8443",
            "https://desk.example:443",
            "https://desk.example/",
            "https://evil.example/https://desk.example",
        ] {
            let foreign = RequestHead { origin: Some(origin), ..good };
            assert_eq!(route(&foreign, &none()), Err(HttpError::ForeignOrigin), "{origin}");
        }
        // Scheme, host and port: a desk served over plain HTTP (as in local runs) is its own origin.
        let local = RequestHead { scheme: "http", authority: "127.0.0.1:8787", ..good };
        assert!(route(&RequestHead { origin: Some("http://127.0.0.1:8787"), ..local }, &none()).is_ok());
        for origin in ["https://127.0.0.1:8787", "http://127.0.0.1:8788", "http://127.0.0.1", "http://localhost:8787"] {
            let foreign = RequestHead { origin: Some(origin), ..local };
            assert_eq!(route(&foreign, &none()), Err(HttpError::ForeignOrigin), "{origin}");
        }
        let visitor = RequestHead { origin: Some("https://customer.example"), ..upgrade("/desks/a/visitor") };
        let customer = AllowedOrigins::from_setting(Some("https://customer.example"));
        assert!(route(&visitor, &customer).is_ok(), "the widget is embedded on configured sites");
    }

    #[test]
    fn visitor_sockets_and_checks_accept_only_configured_origins() {
        let shops =
            AllowedOrigins::from_setting(Some("https://shop.example, https://*.acme.example/ http://localhost:8080"));
        let visitor = |origin| RequestHead { origin: Some(origin), ..upgrade("/desks/a/visitor") };
        for origin in [
            "https://shop.example",
            "HTTPS://SHOP.EXAMPLE",
            "https://eu.acme.example",
            "https://desk.example",
            "http://localhost:8080",
        ] {
            assert!(route(&visitor(origin), &shops).is_ok(), "{origin}");
        }
        for origin in [
            "https://evil.example",
            "http://shop.example",
            "https://shop.example.evil",
            "https://acme.example",
            "https://evilacme.example",
            "https://x.acme.example.evil",
            "null",
            "http://localhost:8081",
            "http://desk.example",
            "https://desk.example:444",
        ] {
            assert_eq!(route(&visitor(origin), &shops), Err(HttpError::OriginNotAllowed), "{origin}");
        }
        let check = RequestHead { method: Method::Post, upgrade: None, ..visitor("https://evil.example") };
        let check = RequestHead { path: "/desks/a/visitor/check", ..check };
        assert_eq!(route(&check, &shops), Err(HttpError::OriginNotAllowed));
        let no_origin = upgrade("/desks/a/visitor");
        assert!(route(&no_origin, &none()).is_ok(), "non-browser clients send no Origin");
        assert_eq!(route(&visitor("https://shop.example"), &none()), Err(HttpError::OriginNotAllowed));
    }

    #[test]
    fn the_origins_setting_is_read_strictly() {
        assert_eq!(AllowedOrigins::from_setting(Some("*")), AllowedOrigins::Any);
        assert_eq!(AllowedOrigins::from_setting(Some("https://a.example, *")), AllowedOrigins::Any);
        assert!(AllowedOrigins::Any.allows("null", "https://desk.example"));
        let typos =
            AllowedOrigins::from_setting(Some("shop.example, https://, ftp://x.example, https://a.example/path"));
        assert_eq!(typos, AllowedOrigins::Only(vec![]), "entries that are not origins open nothing");
        assert_eq!(AllowedOrigins::from_setting(Some("")), AllowedOrigins::Only(vec![]));
    }

    #[test]
    fn uploads_are_posts_and_files_are_gets_from_anywhere() {
        assert_eq!(route(&post("/desks/a/visitor/upload"), &none()).map(|r| r.endpoint), Ok(Endpoint::VisitorUpload));
        assert_eq!(route(&post("/desks/a/admin/upload"), &none()).map(|r| r.endpoint), Ok(Endpoint::AdminUpload));
        let foreign = RequestHead { origin: Some("https://evil.example"), ..post("/desks/a/admin/upload") };
        assert_eq!(route(&foreign, &none()), Err(HttpError::ForeignOrigin));
        let stranger = RequestHead { origin: Some("https://evil.example"), ..post("/desks/a/visitor/upload") };
        assert_eq!(route(&stranger, &none()), Err(HttpError::OriginNotAllowed));
        let get = |path| RequestHead { method: Method::Get, ..post(path) };
        let file = RequestHead { origin: Some("https://shop.example"), ..get("/desks/a/files/u-1/f_2") };
        assert_eq!(route(&file, &none()).map(|r| r.endpoint), Ok(Endpoint::File), "a signed URL is the credential");
        assert_eq!(route(&post("/desks/a/files/u/f"), &none()), Err(HttpError::MethodNotAllowed));
        for bad in ["/desks/a/files/u", "/desks/a/files/u/f/g", "/desks/a/files//f", "/desks/a/files/u/f.png"] {
            assert_eq!(route(&get(bad), &none()), Err(HttpError::NotFound), "{bad}");
        }
    }
}
