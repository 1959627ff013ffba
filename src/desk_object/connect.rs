//! Opening sockets on a desk and its HTTP endpoints: a visitor's upgrade (new or returning,
//! fresh or resuming), an agent's sign-in and upgrade (sidebar, then what it missed), accepting
//! an invite, and the credential checks clients ask before they give a credential up. A second
//! `impl Desk`, split from `desk_object.rs` along this seam.

use worker::{Headers, Request, Response, Result, WebSocketPair};

use super::view::RandomFresh;
use super::{new_sid, now, Desk};
use crate::auth::{presented_admin_secret, token_hash};
use crate::desk::admission::{self, AdmittedVisitor, VisitorRequest};
use crate::desk::team::{self, Admitted, SignIn, AUTH_FAILURE_WINDOW_MS};
use crate::desk::{self, Sender, View};
use crate::error::HttpError;
use crate::protocol::{ListView, MAX_USERS_ROWS, RESUME_MAX_MESSAGES, WELCOME_MESSAGES};
use crate::router::{known, refuse, with_subprotocol};
use crate::session::{self, Backlog, Replay, ResumePoint};
use crate::sockets::{self, send, Tagged};
use crate::store::Store;

impl Desk {
    pub(super) async fn open_visitor(&self, req: &Request) -> Result<Response> {
        let store = self.store()?;
        let url = req.url()?;
        let param = |key: &str| url.query_pairs().find(|(k, _)| k == key).map(|(_, v)| v.into_owned());
        let resume = match ResumePoint::from_query(param("since").as_deref(), param("epoch").as_deref()) {
            Ok(resume) => resume,
            Err(why) => return refuse(HttpError::BadRequest(why)),
        };
        let now = now();
        let headers = req.headers();
        let (name, token, protocols) = (param("name"), param("token"), headers.get("Sec-WebSocket-Protocol")?);
        let network = self.network(headers)?;
        let request = VisitorRequest {
            name: name.as_deref(),
            token: token.as_deref(),
            protocols: protocols.as_deref(),
            identity_secret: self.identity_secret.as_deref(),
            network: network.as_ref(),
        };
        let tagged = Tagged::new(&self.state); // this visitor's sockets, asked of the runtime once
        let view = self.view(&store, &tagged)?;
        let mut fresh = RandomFresh::default();
        let decided = admission::visitor(&request, &self.limits, &view, now, &mut fresh);
        if let Some(e) = view.failure() {
            return Err(e);
        }
        let admitted = match decided {
            Ok(admitted) if !fresh.failed => admitted,
            Ok(_) => return Err(worker::Error::RustError("no randomness".into())),
            Err(e) => return refuse(e),
        };
        // Someone new: the deployment-wide limit of new visitors per address and network, asked
        // of the network's Limiter before anything is written (a refusal leaves no trace).
        if let Some(network) = &admitted.ask_network {
            if let Err(retry_after_ms) = self.new_visitor_allowed(network, false).await? {
                return refuse(HttpError::RateLimited { retry_after_ms });
            }
        }
        // Written before the socket opens: a refused upgrade (above) leaves no trace.
        for w in &admitted.writes {
            self.write(&store, w, now)?;
        }
        let AdmittedVisitor { conversation, token, returning, trust_network, .. } = admitted;
        let resume = if returning { resume } else { None }; // someone new has nothing to resume

        let user_id = conversation.user_id.clone();
        let epoch = self.epoch(&store)?;
        let missed = match session::replay(&epoch, resume.as_ref()) {
            Replay::After(since) => {
                let backlog = Backlog::Missed(store.messages_after(&user_id, since, RESUME_MAX_MESSAGES + 1)?);
                session::welcome(&conversation, token.clone(), &epoch, WELCOME_MESSAGES, backlog).ok()
            }
            Replay::Fresh => None,
        };
        let welcome = match missed {
            Some(welcome) => welcome,
            None => {
                // A visitor created just now has no messages to read.
                let latest =
                    if returning { store.messages(&user_id, None, WELCOME_MESSAGES + 1, false)? } else { Vec::new() };
                let backlog = Backlog::Latest(latest);
                session::welcome(&conversation, token, &epoch, WELCOME_MESSAGES, backlog)
                    .map_err(|_| worker::Error::RustError("a latest page is never too far behind".into()))?
            }
        };

        let was_online = view.online(&user_id);
        let pair = WebSocketPair::new()?;
        let sender = Sender::Visitor { user_id };
        sockets::accept(&self.state, &pair.server, sender.clone(), new_sid()?, now)?;
        send(&pair.server, &welcome);
        // A fresh look: the socket just accepted is one of this visitor's now.
        let tagged = Tagged::new(&self.state);
        let view = self.view(&store, &tagged)?;
        let presence = desk::presence(&view, &conversation, was_online, true);
        self.perform(Some(&pair.server), presence, &tagged, now)?;
        // Last, after the socket is accepted: the only await of a returning visitor's upgrade.
        if let Some(network) = &trust_network {
            self.trust(network).await;
        }
        with_subprotocol(req, Response::from_websocket(pair.client)?)
    }

    /// Answers whether this desk issued a visitor token (`{"token": "..."}`: 204 or 401), or, with
    /// no token (`{}`), whether someone new from this address would be let in now (204, or 429
    /// `rate_limited` with `retryAfterMs` and `Retry-After`): browsers cannot read why a
    /// handshake failed, so the widget asks here to tell a held-back visitor when it will retry.
    pub(super) async fn check_visitor(&self, req: &Request, body: &str) -> Result<Response> {
        #[derive(serde::Deserialize)]
        struct Check {
            token: String,
        }
        let token = if body.len() > 1024 {
            return refuse(HttpError::BadRequest("the body must be {\"token\": \"...\"} or {}"));
        } else if serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(body).is_ok_and(|m| m.is_empty()) {
            None // exactly `{}`: the admission question
        } else {
            match serde_json::from_str::<Check>(body) {
                Ok(check) => Some(check.token),
                Err(_) => return refuse(HttpError::BadRequest("the body must be {\"token\": \"...\"} or {}")),
            }
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
            Some(_) => known(),
            None => refuse(HttpError::Unauthorized("this desk did not issue that token")),
        }
    }

    /// Decides an agent's sign-in (`desk::team::sign_in`): counts a wrong credential against the
    /// client address, deployment-wide (the network's Limiter), stores what an Access sign-in
    /// accepted.
    async fn sign_in(
        &self,
        store: &Store,
        req: &Request,
        now: i64,
    ) -> Result<std::result::Result<Admitted, HttpError>> {
        let headers = req.headers();
        let presented = presented_admin_secret(
            headers.get("Authorization")?.as_deref(),
            headers.get("Sec-WebSocket-Protocol")?.as_deref(),
        );
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
            access_email: access_email.as_deref(),
            failures,
            window_ends: (period + 1) * AUTH_FAILURE_WINDOW_MS,
        };
        let tagged = Tagged::new(&self.state);
        let view = self.view(store, &tagged)?;
        let mut fresh = RandomFresh::default();
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

    /// `POST /desks/{desk}/admin/check`: 204 if the credential signs someone in.
    pub(super) async fn check_admin(&self, req: &Request) -> Result<Response> {
        let store = self.store()?;
        match self.sign_in(&store, req, now()).await? {
            Ok(_) => known(),
            Err(e) => refuse(e),
        }
    }

    /// `POST /desks/{desk}/agents/accept` with `{"code","name"}`: the invited agent's own token.
    pub(super) fn accept_invite(&self, body: &str) -> Result<Response> {
        let store = self.store()?;
        let tagged = Tagged::new(&self.state);
        let view = self.view(&store, &tagged)?;
        let mut fresh = RandomFresh::default();
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
                Ok(Response::from_json(&accepted)?.with_headers(headers))
            }
            Ok(_) => Err(worker::Error::RustError("no randomness".into())),
            Err(e) => refuse(e),
        }
    }

    pub(super) async fn open_admin(&self, req: &Request) -> Result<Response> {
        let store = self.store()?;
        let url = req.url()?;
        let param = |key: &str| url.query_pairs().find(|(k, _)| k == key).map(|(_, v)| v.into_owned());
        let resume = match ResumePoint::from_query(param("since").as_deref(), param("epoch").as_deref()) {
            Ok(resume) => resume,
            Err(why) => return refuse(HttpError::BadRequest(why)),
        };
        let now = now();
        let agent = match self.sign_in(&store, req, now).await? {
            Ok(admitted) => admitted.agent,
            Err(e) => return refuse(e),
        };
        let epoch = self.epoch(&store)?;
        let latest_seq = self.next_seq(&store)? - 1;
        // Presence per row (at most MAX_USERS_ROWS tag lookups), not per open socket: the cost
        // follows the sidebar's size, not the number of visitors connected.
        let tagged = Tagged::new(&self.state);
        let view = self.view(&store, &tagged)?;
        let rows: Vec<_> =
            view.list(ListView::All, &agent.id, None, MAX_USERS_ROWS).iter().map(|c| desk::row(&view, c)).collect();
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
        sockets::accept(&self.state, &pair.server, sender, new_sid()?, now)?;
        for frame in &frames {
            send(&pair.server, frame);
        }
        with_subprotocol(req, Response::from_websocket(pair.client)?)
    }
}
