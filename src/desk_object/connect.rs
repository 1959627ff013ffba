//! Opening sockets on a desk and its HTTP endpoints (a visitor's upgrade is `visitor.rs`): an agent's sign-in and upgrade (sidebar, then what it missed), accepting
//! an invite, the credential checks clients ask before they give a credential up, and the
//! tickets browsers trade their credential for. A second `impl Desk`, split from
//! `desk_object.rs` along this seam.

use worker::{Headers, Request, Response, Result, WebSocketPair};

use super::view::RandomFresh;
use super::{new_sid, now, Desk};
use crate::auth::{presented_admin_secret, presented_ticket, token_hash};
use crate::desk::team::{self, Admitted, SignIn, AUTH_FAILURE_WINDOW_MS};
use crate::desk::ticket::{self, Holder};
use crate::desk::{self, context, moderation, Sender, View};
use crate::error::HttpError;
use crate::json_fields::Fields;
use crate::protocol::{ListView, Status, MAX_USERS_ROWS, RESUME_MAX_MESSAGES};
use crate::router::{known, refuse, with_subprotocol};
use crate::routes::desk_in;
use crate::routes::request_url::RequestUrl;
use crate::session::{self, Replay, ResumePoint};
use crate::sockets::{self, send, Tagged};
use crate::store::Store;

/// Which request an agent signs in with: what it may present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Via {
    /// The admin socket's upgrade: Bearer, Access, a ticket, or (old clients) the secret's subprotocol.
    Upgrade,
    /// `admin/check`: Bearer, Access, or the secret's subprotocol (never a ticket: it is not used up).
    Check,
    /// `admin/ticket`: Bearer or Access only.
    TicketRequest,
}

impl Desk {
    /// Answers whether this desk issued a visitor token (`{"token": "..."}`: 204, 401, or 403 for a
    /// blocked visitor, and the widget then stops trying), or, with no token (`{}`), whether
    /// someone new from this address would be let in now (204, or 429 `rate_limited` with
    /// `retryAfterMs` and `Retry-After`): browsers cannot read why a handshake failed, so the
    /// widget asks here to tell a held-back visitor when it will retry.
    pub(super) async fn check_visitor(&self, req: &Request, body: &str) -> Result<Response> {
        let bad = || refuse(HttpError::BadRequest("the body must be {\"token\": \"...\"} or {}"));
        if body.len() > 1024 {
            return bad();
        }
        // Exactly `{}` (no member at all) is the admission question; otherwise a string `token`.
        let token = match Fields::parse_struct(body, &[("token", false)]) {
            Ok(fields) if fields.is_empty() => None,
            Ok(mut fields) => match fields.str("token") {
                Ok(token) => Some(token),
                Err(_) => return bad(),
            },
            Err(_) => return bad(),
        };
        let Some(token) = token else {
            let network = self.network(req.headers())?.filter(|_| self.limits.new_visitors.enabled());
            return match network {
                Some(network) => match self.new_visitor_allowed(&network, true).await? {
                    Ok(()) => known(),
                    Err(retry_after_ms) => refuse(HttpError::RateLimited { retry_after_ms }),
                },
                None => known(),
            };
        };
        match self.store()?.visitor_by_token_hash(&token_hash(&token))? {
            Some(c) if c.status == Status::Blocked => refuse(HttpError::Blocked),
            Some(_) => known(),
            None => refuse(HttpError::Unauthorized("this desk did not issue that token")),
        }
    }

    /// Decides an agent's sign-in (`desk::team::sign_in`): counts a wrong credential against the
    /// client address, deployment-wide (the network's Limiter), stores what an Access sign-in
    /// accepted (and uses up a ticket).
    pub(super) async fn sign_in(
        &self,
        store: &Store,
        req: &Request,
        now: i64,
        via: Via,
    ) -> Result<std::result::Result<Admitted, HttpError>> {
        let headers = req.headers();
        // A ticket request takes the credential from `Authorization` (or Access) only: the point
        // of a ticket is that no secret rides in a header that logs keep.
        let protocols = if via == Via::TicketRequest { None } else { headers.get("Sec-WebSocket-Protocol")? };
        let presented = presented_admin_secret(headers.get("Authorization")?.as_deref(), protocols.as_deref());
        // Only an upgrade may present a ticket: a check or a ticket request never uses one up.
        let protocols = if via == Via::Upgrade { protocols } else { None };
        // Only the Worker sets this header, and only after verifying an Access token; it removes
        // any copy a client sent. Without Access configured it is never trusted.
        let access_email = if self.access { headers.get("X-Desk-Access-Email")? } else { None };
        let network = self.network(headers)?;
        let period = now.div_euclid(AUTH_FAILURE_WINDOW_MS);
        let failures = match &network {
            Some(n) => self.sign_in_failures(n, period, false).await?,
            None => 0,
        };
        let request = SignIn {
            owner_secret: self.owner_secret.as_deref(),
            presented: presented.as_deref(),
            ticket: presented_ticket(protocols.as_deref()),
            access_email: access_email.as_deref(),
            failures,
            window_ends: (period + 1) * AUTH_FAILURE_WINDOW_MS,
        };
        let tagged = Tagged::new(&self.state);
        let view = self.view(store, &tagged)?;
        let mut fresh = RandomFresh::new(&self.ids);
        let decided = team::sign_in(&request, &view, now, &mut fresh);
        if let Some(e) = view.failure() {
            return Err(e);
        }
        match decided {
            Ok(admitted) if !fresh.failed => {
                for w in &admitted.writes {
                    self.write(store, w, now)?;
                }
                Ok(Ok(admitted))
            }
            Ok(_) => Err(worker::Error::RustError("no randomness".into())),
            Err(refused) => {
                if let (true, Some(n)) = (refused.failed, &network) {
                    self.sign_in_failures(n, period, true).await?;
                }
                Ok(Err(refused.error))
            }
        }
    }

    /// The client address as a key for per-address ticket counts: hashed with the desk's epoch.
    /// `None` where there is none (only local runs lack `CF-Connecting-IP`).
    fn address_key(&self, store: &Store, headers: &Headers) -> Result<Option<String>> {
        let Some(address) = headers.get("CF-Connecting-IP")?.filter(|a| !a.is_empty()) else {
            return Ok(None);
        };
        Ok(Some(token_hash(&format!("{}|{address}", self.epoch(store)?))))
    }

    /// `POST /desks/{desk}/admin/check`: 204 if the credential signs someone in.
    pub(super) async fn check_admin(&self, req: &Request) -> Result<Response> {
        let store = self.store()?;
        match self.sign_in(&store, req, now(), Via::Check).await? {
            Ok(_) => known(),
            Err(e) => refuse(e),
        }
    }

    /// `POST /desks/{desk}/admin/ticket` with the credential (Bearer, or Access): a ticket for
    /// this agent's next upgrade, `{"ticket","expiresIn"}`.
    pub(super) async fn admin_ticket(&self, req: &Request) -> Result<Response> {
        let store = self.store()?;
        let now = now();
        let agent = match self.sign_in(&store, req, now, Via::TicketRequest).await? {
            Ok(admitted) => admitted.agent,
            Err(e) => return refuse(e),
        };
        let address = self.address_key(&store, req.headers())?;
        let tagged = Tagged::new(&self.state);
        let view = self.view(&store, &tagged)?;
        let mut fresh = RandomFresh::new(&self.ids);
        let holder = Holder::Agent { id: agent.id };
        let decided = ticket::issue(holder, None, address.as_deref(), self.ticket_ttl, &view, now, &mut fresh);
        self.answer_ticket(&store, decided, view.failure(), fresh.failed, now, false)
    }

    /// `POST /desks/{desk}/visitor/ticket` with `{"token","name","userId","userHash"}` (all
    /// optional) as a `text/plain` body, so that from a customer's site it is a simple CORS
    /// request: a ticket for the visitor's next upgrade. A ticket for someone new is refused with
    /// 429 `rate_limited` (`retryAfterMs`, `Retry-After`) while the network's `Limiter` would not
    /// let a new visitor in from this address: asked without taking, as `visitor/check` with `{}`
    /// does; the upgrade that uses the ticket is what takes from the address's bucket.
    pub(super) async fn visitor_ticket(&self, req: &Request, body: &str) -> Result<Response> {
        let store = self.store()?;
        let now = now();
        let address = self.address_key(&store, req.headers())?;
        let tagged = Tagged::new(&self.state);
        let view = self.view(&store, &tagged)?;
        let mut fresh = RandomFresh::new(&self.ids);
        let path = req.path();
        let Some(desk) = desk_in(&path) else {
            return refuse(HttpError::BadDesk);
        };
        let secret = self.identity_secret.as_deref();
        let decided =
            ticket::for_visitor(body, desk, secret, address.as_deref(), self.ticket_ttl, &view, now, &mut fresh);
        let someone_new = matches!(
            &decided,
            Ok((crate::desk::Write::IssueTicket { ticket }, _)) if ticket.holder == Holder::NewVisitor
        );
        if someone_new {
            let network = self.network(req.headers())?.filter(|_| self.limits.new_visitors.enabled());
            if let Some(network) = network {
                if let Err(retry_after_ms) = self.new_visitor_allowed(&network, true).await? {
                    return refuse(HttpError::RateLimited { retry_after_ms });
                }
            }
        }
        self.answer_ticket(&store, decided, view.failure(), fresh.failed, now, true)
    }

    /// Stores an issued ticket's hash and answers it (never cached; `cors`: readable from any
    /// page, for the widget on customers' sites), or answers the refusal.
    fn answer_ticket(
        &self,
        store: &Store,
        decided: std::result::Result<(crate::desk::Write, ticket::Issued), HttpError>,
        failure: Option<worker::Error>,
        no_randomness: bool,
        now: i64,
        cors: bool,
    ) -> Result<Response> {
        if let Some(e) = failure {
            return Err(e);
        }
        match decided {
            Ok((write, issued)) if !no_randomness => {
                self.write(store, &write, now)?;
                let headers = Headers::new();
                headers.set("Content-Type", "application/json; charset=utf-8")?;
                headers.set("Cache-Control", "no-store")?;
                headers.set("X-Content-Type-Options", "nosniff")?;
                if cors {
                    headers.set("Access-Control-Allow-Origin", "*")?;
                }
                Ok(crate::router::json_response(&issued)?.with_headers(headers))
            }
            Ok(_) => Err(worker::Error::RustError("no randomness".into())),
            Err(e) => refuse(e),
        }
    }

    /// `POST /desks/{desk}/agents/accept` with `{"code","name"}`: the invited agent's own token.
    pub(super) fn accept_invite(&self, body: &str) -> Result<Response> {
        let store = self.store()?;
        let tagged = Tagged::new(&self.state);
        let view = self.view(&store, &tagged)?;
        let mut fresh = RandomFresh::new(&self.ids);
        let now = now();
        let decided = team::accept(body, &view, now, &mut fresh);
        if let Some(e) = view.failure() {
            return Err(e);
        }
        match decided {
            Ok((write, accepted)) if !fresh.failed => {
                self.write(&store, &write, now)?;
                let headers = Headers::new();
                headers.set("Content-Type", "application/json; charset=utf-8")?;
                headers.set("Cache-Control", "no-store")?;
                headers.set("X-Content-Type-Options", "nosniff")?;
                Ok(crate::router::json_response(&accepted)?.with_headers(headers))
            }
            Ok(_) => Err(worker::Error::RustError("no randomness".into())),
            Err(e) => refuse(e),
        }
    }

    pub(super) async fn open_admin(&self, req: &Request) -> Result<Response> {
        let store = self.store()?;
        let raw_url = req.inner().url();
        let url = RequestUrl::split(&raw_url);
        let param = |key: &str| url.param(key);
        let resume = match ResumePoint::from_query(param("since").as_deref(), param("epoch").as_deref()) {
            Ok(resume) => resume,
            Err(why) => return refuse(HttpError::BadRequest(why)),
        };
        let now = now();
        let agent = match self.sign_in(&store, req, now, Via::Upgrade).await? {
            Ok(admitted) => admitted.agent,
            Err(e) => return refuse(e),
        };
        let epoch = self.epoch(&store)?;
        let latest_seq = self.next_seq(&store)? - 1;
        // Presence per row (at most MAX_USERS_ROWS + 1 tag lookups), not per open socket: the
        // cost follows the sidebar's size, not the number of visitors connected. One more row
        // than the frame holds tells whether there are more.
        let tagged = Tagged::new(&self.state);
        let view = self.view(&store, &tagged)?;
        let rows: Vec<_> =
            view.list(ListView::All, &agent.id, None, MAX_USERS_ROWS + 1).iter().map(|c| desk::row(&view, c)).collect();
        let rows = context::with_contexts(&view, rows);
        if let Some(e) = view.failure() {
            return Err(e);
        }
        let missed = match session::replay(&epoch, resume.as_ref()) {
            Replay::After(since) => Some(store.desk_messages_after(since, RESUME_MAX_MESSAGES + 1)?),
            Replay::Fresh => None,
        };
        let frames = match session::admin_snapshot(rows.clone(), &epoch, latest_seq, agent.me(), missed) {
            Ok(frames) => frames,
            Err(_) => session::admin_snapshot(rows, &epoch, latest_seq, agent.me(), None)
                .map_err(|_| worker::Error::RustError("a fresh snapshot is never too far behind".into()))?,
        };

        let pair = WebSocketPair::new()?;
        let sender = Sender::Agent { id: agent.id, role: agent.role };
        sockets::accept(&self.state, &mut self.labels.borrow_mut(), &pair.server, sender, new_sid(&self.ids)?, now)?;
        for frame in &frames {
            send(&pair.server, frame);
        }
        // While the desk is full, every inbox that opens is told so.
        if let Some(notice) = moderation::on_connect(self.storage_use(&store)) {
            send(&pair.server, &notice);
        }
        with_subprotocol(req, Response::from_websocket(pair.client)?)
    }
}
