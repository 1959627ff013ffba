//! Opening sockets on a desk: a visitor's upgrade (new or returning, fresh or resuming), an
//! admin's (sidebar, then what it missed), and the visitor token check the widget asks before it
//! gives a token up. A second `impl Desk`, split from `desk_object.rs` along this seam.

use worker::{Request, Response, Result, WebSocketPair};

use super::{new_uuid, now, random_bytes, Desk};
use crate::auth::{new_token, token_hash};
use crate::desk::{self, Conversation, Sender};
use crate::error::HttpError;
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
        let (conversation, token, resume) = match param("token") {
            Some(token) => {
                let Some(mut conversation) = store.visitor_by_token_hash(&token_hash(&token))? else {
                    return refuse(HttpError::Unauthorized("this desk did not issue that token"));
                };
                store.touch_visitor(&conversation.user_id, name.as_deref(), now)?;
                if let Some(name) = name {
                    conversation.name = name;
                }
                (conversation, token, resume)
            }
            None => {
                let user_id = new_uuid()?;
                let token = new_token(&random_bytes()?);
                let name = name.unwrap_or_else(|| desk::default_name(&user_id));
                store.create_visitor(&user_id, &token_hash(&token), &name, now)?;
                (Conversation::new(user_id, name), token, None) // nothing to resume
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
                let latest = if param("token").is_some() { store.messages(&user_id, None, WELCOME_MESSAGES + 1)? } else { Vec::new() };
                let backlog = Backlog::Latest(latest);
                session::welcome(&conversation, token, &epoch, WELCOME_MESSAGES, backlog)
                    .map_err(|_| worker::Error::RustError("a latest page is never too far behind".into()))?
            }
        };

        let was_online = Tagged::new(&self.state).any_open(&user_id);
        let pair = WebSocketPair::new()?;
        let sender = Sender::Visitor { user_id };
        sockets::accept(&self.state, &pair.server, &sender, now)?;
        send(&pair.server, &welcome);
        let presence = desk::presence(&conversation, was_online, true);
        self.perform(&pair.server, presence, &Tagged::new(&self.state))?;
        with_subprotocol(req, Response::from_websocket(pair.client)?)
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
        sockets::accept(&self.state, &pair.server, &Sender::Admin, now())?;
        for frame in &frames {
            send(&pair.server, frame);
        }
        with_subprotocol(req, Response::from_websocket(pair.client)?)
    }
}
