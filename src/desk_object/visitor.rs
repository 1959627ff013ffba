//! A visitor's upgrade (new or returning, fresh or resuming), answered without an await when it
//! needs none: the object's `fetch` export (`object.rs`) returns the 101 itself, and builds a
//! promise only for the awaits some upgrades need (the network's `Limiter` for someone new when
//! the address is known, telling it of a trusted address, arming the sweep's first alarm).
//!
//! Why: the `worker` crate's `fetch` export converts the request (method, URL, headers,
//! `request.cf`), runs the handler as a future behind a promise, and converts the answer back;
//! on a connect, with the router's same plumbing, that was about a fifth of the isolate's time.
//! So the request is read here straight off the runtime's object, only the parts an upgrade
//! uses, and the 101 is built as the runtime's own `Response`.

use std::rc::Rc;

use worker::js_sys::Reflect;
use worker::wasm_bindgen::JsValue;
use worker::wasm_bindgen_futures::future_to_promise;
use worker::worker_sys::ext::ResponseInitExt;
use worker::worker_sys::web_sys;
use worker::{Response, Result, WebSocketPair};

use super::view::{RandomFresh, StoreView};
use super::{new_sid, now, Desk};
use crate::auth::{offers_subprotocol, presented_ticket, SUBPROTOCOL};
use crate::desk::admission::{self, AdmittedVisitor, VisitorRequest};
use crate::desk::{self, context, Sender, View};
use crate::error::HttpError;
use crate::limits::network::Network;
use crate::protocol::{RESUME_MAX_MESSAGES, WELCOME_MESSAGES};
use crate::router::refuse;
use crate::routes::desk_in;
use crate::routes::request_url::RequestUrl;
use crate::session::{self, Backlog, Replay, ResumePoint};
use crate::sockets::{self, send, Tagged};
use crate::store::Store;

/// What a visitor's upgrade says, read once off the runtime's request; the place (`request.cf`)
/// only when the visitor's context needs it (`context::arrive_seen`).
pub(super) struct VisitorHead {
    url: String,
    protocols: Option<String>,
    network: Option<Network>,
    user_agent: Option<String>,
    request: web_sys::Request,
}

impl VisitorHead {
    pub(super) fn of(req: &web_sys::Request) -> Result<VisitorHead> {
        let headers = req.headers();
        let get = |name: &str| headers.get(name).map_err(worker::Error::from);
        Ok(VisitorHead {
            url: req.url(),
            protocols: get("Sec-WebSocket-Protocol")?,
            network: get("CF-Connecting-IP")?.as_deref().and_then(Network::of),
            user_agent: get("User-Agent")?,
            request: Clone::clone(req), // the handle, not the Fetch API's `clone()`
        })
    }
}

/// An upgrade the core let in, with what opening its socket needs.
struct Admitted {
    visitor: AdmittedVisitor,
    resume: Option<ResumePoint>,
    now: i64,
}

impl Desk {
    /// `GET /desks/{desk}/visitor`: the 101 (or the refusal) as a `Response`, or a promise of it
    /// when this upgrade must await something (see the module's comment).
    pub(super) fn open_visitor(self: &Rc<Self>, req: &web_sys::Request) -> Result<JsValue> {
        let head = VisitorHead::of(req)?;
        let store = self.store()?;
        let tagged = Tagged::new(&self.state); // this visitor's sockets, asked of the runtime once
        let view = self.view(&store, &tagged)?;
        let admitted = match self.admit_visitor(&head, &view)? {
            Ok(admitted) => admitted,
            Err(refusal) => return Ok(web_sys::Response::from(refusal).into()),
        };
        // Someone new: the deployment-wide limit of new visitors per address and network, asked
        // of the network's Limiter before anything is written (a refusal leaves no trace).
        if let Some(network) = admitted.visitor.ask_network.clone() {
            drop(view);
            let desk = self.clone();
            return Ok(promise(async move {
                if let Err(retry_after_ms) = desk.new_visitor_allowed(&network, false).await? {
                    return refuse(HttpError::RateLimited { retry_after_ms }).map(web_sys::Response::from);
                }
                let store = desk.store()?;
                let tagged = Tagged::new(&desk.state);
                let view = desk.view(&store, &tagged)?;
                let (response, trust) = desk.open_admitted(&store, &view, &head, admitted)?;
                desk.after_open(trust).await?;
                Ok(response)
            }));
        }
        let (response, trust) = self.open_admitted(&store, &view, &head, admitted)?;
        if trust.is_none() && self.sweeping.get() {
            return Ok(response.into());
        }
        let desk = self.clone();
        Ok(promise(async move {
            desk.after_open(trust).await?;
            Ok(response)
        }))
    }

    /// The core's decision on this upgrade (`desk::admission::visitor`), or the refusal to answer.
    fn admit_visitor(&self, head: &VisitorHead, view: &StoreView) -> Result<std::result::Result<Admitted, Response>> {
        let url = RequestUrl::split(&head.url);
        let resume = match ResumePoint::from_query(url.param("since").as_deref(), url.param("epoch").as_deref()) {
            Ok(resume) => resume,
            Err(why) => return refuse(HttpError::BadRequest(why)).map(Err),
        };
        let Some(desk) = desk_in(url.path) else {
            return refuse(HttpError::BadDesk).map(Err);
        };
        let now = now();
        let (name, token, protocols) = (url.param("name"), url.param("token"), head.protocols.as_deref());
        let request = VisitorRequest {
            name: name.as_deref(),
            token: token.as_deref(),
            protocols,
            identity_secret: self.identity_secret.as_deref(),
            desk,
            network: head.network.as_ref(),
            ticket: presented_ticket(protocols),
        };
        let mut fresh = RandomFresh::new(&self.ids);
        let decided = admission::visitor(&request, &self.limits, view, now, &mut fresh);
        if let Some(e) = view.failure() {
            return Err(e);
        }
        match decided {
            Ok(visitor) if !fresh.failed => Ok(Ok(Admitted { visitor, resume, now })),
            Ok(_) => Err(worker::Error::RustError("no randomness".into())),
            Err(e) => refuse(e).map(Err),
        }
    }

    /// Writes what admitting the visitor changed, opens its socket with its welcome, tells the
    /// inbox it is online; the 101, and the network to tell of a trusted address, if any.
    fn open_admitted(
        &self,
        store: &Store,
        view: &StoreView,
        head: &VisitorHead,
        admitted: Admitted,
    ) -> Result<(web_sys::Response, Option<Network>)> {
        let Admitted { visitor: admitted, resume, now } = admitted;
        // Written before the socket opens: a refused upgrade (above) leaves no trace.
        for w in &admitted.writes {
            self.write(store, w, now)?;
        }
        // Who and where: a new visit or the same one, with what this upgrade says of the device
        // (the place read only when the visitor's context needs it).
        let user_agent = head.user_agent.as_deref();
        let user_id = &admitted.conversation.user_id;
        let arrived = if admitted.returning {
            context::arrive_seen(view, user_id, user_agent, || place(&head.request), now)
        } else {
            // Someone created by this upgrade has no context yet: nothing to read.
            let (country, city) = place(&head.request);
            context::arrive_after(None, user_id, context::device(user_agent, country.as_deref(), city.as_deref()), now)
        };
        if let Some(e) = view.failure() {
            return Err(e);
        }
        self.write(store, &arrived, now)?;
        let AdmittedVisitor { conversation, token, returning, trust_network, .. } = admitted;
        let resume = if returning { resume } else { None }; // someone new has nothing to resume

        let user_id = conversation.user_id.clone();
        let epoch = self.epoch(store)?;
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

        // The inbox hears of a visitor coming online only for a row its sidebar lists: one with
        // a message (`desk::presence`). Someone without one (every visitor created just now)
        // costs neither the look at its sockets before nor the fresh view after.
        let has_row = desk::in_sidebar(&conversation);
        let was_online = has_row && view.online(&user_id);
        let pair = WebSocketPair::new()?;
        let sender = Sender::Visitor { user_id };
        sockets::accept(
            &self.state,
            &mut self.labels.borrow_mut(),
            &pair.server,
            sender.clone(),
            new_sid(&self.ids)?,
            now,
        )?;
        self.presence.borrow_mut().forget(&conversation.user_id);
        send(&pair.server, &welcome);
        if has_row {
            // A fresh look: the socket just accepted is one of this visitor's now.
            let tagged = Tagged::new(&self.state);
            let view = self.view(store, &tagged)?;
            let presence = desk::presence(&view, &conversation, was_online, true);
            self.perform(Some(&pair.server), presence, &tagged, now)?;
        }
        Ok((switching(&pair, head.protocols.as_deref())?, trust_network))
    }

    /// After the socket is accepted: the only awaits of an upgrade let in without the Limiter.
    async fn after_open(&self, trust: Option<Network>) -> Result<()> {
        if let Some(network) = &trust {
            self.trust(network).await;
        }
        self.keep_sweeping().await
    }
}

/// The 101 with the client's end of the socket, selecting our subprotocol when the client offered
/// it (browsers fail the handshake if they offered protocols and none is selected).
fn switching(pair: &WebSocketPair, protocols: Option<&str>) -> Result<web_sys::Response> {
    let mut init = web_sys::ResponseInit::new();
    init.set_status(101);
    init.websocket(pair.client.as_ref())?;
    if offers_subprotocol(protocols) {
        let headers = web_sys::Headers::new()?;
        headers.set("Sec-WebSocket-Protocol", SUBPROTOCOL)?;
        init.set_headers(&headers);
    }
    Ok(web_sys::Response::new_with_opt_str_and_init(None, &init)?)
}

/// A promise of the `Response` `answer` resolves to (its error as the rejection).
fn promise(answer: impl std::future::Future<Output = Result<web_sys::Response>> + 'static) -> JsValue {
    future_to_promise(async move { answer.await.map(JsValue::from).map_err(JsValue::from) }).into()
}

/// The country and city the runtime put in `request.cf` (on the edge and under wrangler dev;
/// absent under Miniflare unless it is given one). Read without the `worker` crate's getters,
/// which panic on a value of another type.
fn place(req: &web_sys::Request) -> (Option<String>, Option<String>) {
    let Some(cf) = Reflect::get(req, &JsValue::from_str("cf")).ok().filter(JsValue::is_object) else {
        return (None, None);
    };
    let field = |name: &str| Reflect::get(&cf, &JsValue::from_str(name)).ok().and_then(|v| v.as_string());
    (field("country"), field("city"))
}
