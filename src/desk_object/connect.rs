//! Opening sockets on a desk: a visitor's upgrade (new or returning, fresh or resuming), an
//! admin's (sidebar, then what it missed), and the visitor token check the widget asks before it
//! gives a token up. A second `impl Desk`, split from `desk_object.rs` along this seam.

use worker::{Request, Response, Result, WebSocketPair};

use super::{new_sid, new_uuid, now, random_bytes, Desk};
use crate::auth::{new_token, token_hash};
use crate::desk::{self, Conversation, Sender};
use crate::error::HttpError;
use crate::identity;
use crate::store::Store;
use crate::protocol::{visitor_name, MAX_USERS_ROWS, RESUME_MAX_MESSAGES, WELCOME_MESSAGES};
use crate::router::{known, refuse, with_subprotocol};
use crate::session::{self, Backlog, Replay, ResumePoint};
use crate::sockets::{self, send, Tagged};

impl Desk {
    pub(super) fn open_visitor(&self, req: &Request) -> Result<Response> {
        let store = self.store()?;
        let url = req.url()?;
        let param = |key: &str| url.query_pairs().find(|(k, _)| k == key).map(|(_, v)| v.into_owned());
        let name = match param("name").map(|raw| visitor_name(&raw)) {
            Some(None) => return refuse(HttpError::BadRequest("name must be 1 to 64 characters without control characters")),
            Some(name) => name,
            None => None,
        };
        let resume = match ResumePoint::from_query(param("since").as_deref(), param("epoch").as_deref()) {
            Ok(resume) => resume,
            Err(why) => return refuse(HttpError::BadRequest(why)),
        };
        let now = now();
        // A verified identity first: a claim that fails is refused, never treated as anonymous.
        let claim = match identity::claim(req.headers().get("Sec-WebSocket-Protocol")?.as_deref()) {
            Ok(claim) => claim,
            Err(e) => return refuse(e),
        };
        let verified = match claim.map(|c| identity::verify(c, self.identity_secret.as_deref())).transpose() {
            Ok(verified) => verified,
            Err(e) => return refuse(e),
        };
        let known = match (&verified, param("token")) {
            (Some(verified_id), _) => store.visitor_by_verified_id(verified_id)?,
            (None, Some(token)) => match store.visitor_by_token_hash(&token_hash(&token))? {
                Some(conversation) => Some(conversation),
                None => return refuse(HttpError::Unauthorized("this desk did not issue that token")),
            },
            (None, None) => None,
        };
        let returning = known.is_some();
        let tagged = Tagged::new(&self.state); // this visitor's sockets, asked of the runtime once
        let (conversation, token, resume) = match known {
            Some(mut conversation) => {
                // Checked before anything is written: a refused socket leaves no trace.
                let open = tagged.all(&conversation.user_id).iter().filter(|ws| sockets::is_open(ws)).count();
                if open >= self.limits.sockets_per_visitor {
                    return refuse(HttpError::TooManySockets);
                }
                store.touch_visitor(&conversation.user_id, name.as_deref(), now)?;
                if let Some(name) = name {
                    conversation.name = name;
                }
                // A verified visitor gets no token: it proves who it is again on every connect.
                let token = if verified.is_some() { String::new() } else { param("token").unwrap_or_default() };
                (conversation, token, resume)
            }
            None => {
                let births = match verified {
                    Some(_) => None, // vouched for by the host site: not an anonymous flood
                    None => match self.may_create_visitor(&store, req, now)? {
                        Ok(births) => births,
                        Err(e) => return refuse(e),
                    },
                };
                let user_id = new_uuid()?;
                let token = new_token(&random_bytes()?);
                let name = name.unwrap_or_else(|| desk::default_name(&user_id));
                store.create_visitor(&user_id, &token_hash(&token), &name, verified.as_deref(), now)?;
                if let Some((address, period)) = births {
                    store.count_birth(&address, period)?;
                }
                let mut conversation = Conversation::new(user_id, name);
                conversation.verified_id = verified.clone();
                let token = if verified.is_some() { String::new() } else { token };
                (conversation, token, None) // nothing to resume
            }
        };

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
                let latest = if returning { store.messages(&user_id, None, WELCOME_MESSAGES + 1)? } else { Vec::new() };
                let backlog = Backlog::Latest(latest);
                session::welcome(&conversation, token, &epoch, WELCOME_MESSAGES, backlog)
                    .map_err(|_| worker::Error::RustError("a latest page is never too far behind".into()))?
            }
        };

        let was_online = tagged.any_open(&user_id);
        let pair = WebSocketPair::new()?;
        let sender = Sender::Visitor { user_id };
        sockets::accept(&self.state, &pair.server, sender.clone(), new_sid()?, now)?;
        send(&pair.server, &welcome);
        let presence = desk::presence(&conversation, was_online, true);
        // A fresh look: the socket just accepted is one of this visitor's now.
        self.perform(&pair.server, presence, &Tagged::new(&self.state))?;
        with_subprotocol(req, Response::from_websocket(pair.client)?)
    }

    /// Whether the client address may create one more visitor now (`NEW_VISITORS_PER_IP`):
    /// `Ok(Some((address hash, period)))` to count it once created, `Ok(None)` when there is
    /// nothing to count (no limit, or no address: only local runs lack `CF-Connecting-IP`).
    fn may_create_visitor(
        &self,
        store: &Store,
        req: &Request,
        now: i64,
    ) -> Result<std::result::Result<Option<(String, i64)>, HttpError>> {
        let address = req.headers().get("CF-Connecting-IP")?.filter(|a| !a.is_empty());
        let (Some(address), true) = (address, self.limits.new_visitors_per_ip > 0) else { return Ok(Ok(None)) };
        let (period, _) = self.limits.window(now);
        // Hashed with the desk's epoch, and deleted once its window is over.
        let address = token_hash(&format!("{}|{address}", self.epoch(store)?));
        Ok(match self.limits.may_create_visitor(store.births(&address, period)?, now) {
            Ok(()) => Ok(Some((address, period))),
            Err(retry_after_ms) => Err(HttpError::RateLimited { retry_after_ms }),
        })
    }

    /// Answers whether this desk issued a visitor token (`{"token": "..."}`): 204 or 401.
    pub(super) fn check_visitor(&self, body: &str) -> Result<Response> {
        #[derive(serde::Deserialize)]
        struct Check {
            token: String,
        }
        let Some(check) = (body.len() <= 1024).then(|| serde_json::from_str::<Check>(body).ok()).flatten() else {
            return refuse(HttpError::BadRequest("the body must be {\"token\": \"...\"}"));
        };
        match self.store()?.visitor_by_token_hash(&token_hash(&check.token))? {
            Some(_) => known(),
            None => refuse(HttpError::Unauthorized("this desk did not issue that token")),
        }
    }

    pub(super) fn open_admin(&self, req: &Request) -> Result<Response> {
        let store = self.store()?;
        let url = req.url()?;
        let param = |key: &str| url.query_pairs().find(|(k, _)| k == key).map(|(_, v)| v.into_owned());
        let resume = match ResumePoint::from_query(param("since").as_deref(), param("epoch").as_deref()) {
            Ok(resume) => resume,
            Err(why) => return refuse(HttpError::BadRequest(why)),
        };
        let epoch = self.epoch(&store)?;
        let latest_seq = self.next_seq(&store)? - 1;
        // Presence per row (at most MAX_USERS_ROWS tag lookups), not per open socket: the cost
        // follows the sidebar's size, not the number of visitors connected.
        let tagged = Tagged::new(&self.state);
        let rows: Vec<_> =
            store.conversations(MAX_USERS_ROWS)?.iter().map(|c| c.row(tagged.any_open(&c.user_id))).collect();
        let missed = match session::replay(&epoch, resume.as_ref()) {
            Replay::After(since) => Some(store.desk_messages_after(since, RESUME_MAX_MESSAGES + 1)?),
            Replay::Fresh => None,
        };
        let frames = match session::admin_snapshot(rows.clone(), &epoch, latest_seq, missed) {
            Ok(frames) => frames,
            Err(_) => session::admin_snapshot(rows, &epoch, latest_seq, None)
                .map_err(|_| worker::Error::RustError("a fresh snapshot is never too far behind".into()))?,
        };

        let pair = WebSocketPair::new()?;
        sockets::accept(&self.state, &pair.server, Sender::Admin, new_sid()?, now())?;
        for frame in &frames {
            send(&pair.server, frame);
        }
        with_subprotocol(req, Response::from_websocket(pair.client)?)
    }
}
