//! The `Desk` Durable Object: accepts sockets, runs the core over its SQLite view, performs the
//! core's effects (writes first, then sends).
//!
//! It holds nothing that matters in memory: who a socket is lives in its tags and attachment
//! (`sockets.rs`), everything else in SQLite (`store.rs`). Opening sockets and the HTTP
//! endpoints of a desk are in `desk_object/connect.rs`; the core's read-only view over SQLite in
//! `desk_object/view.rs`; carrying out the core's effects in `desk_object/effects.rs`. Its few fields are caches of what SQLite already says (schema checked,
//! next seq, epoch, alarm armed): a new instance rebuilds them on first use, and they stay true
//! because this instance is the desk's only writer.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use worker::js_sys::Promise;
use worker::wasm_bindgen::JsCast;
use worker::wasm_bindgen_futures::JsFuture;
use worker::worker_sys::web_sys;

use worker::{
    console_error, console_log, Env, ObjectNamespace, Request, Response, Result, State, WebSocket,
    WebSocketIncomingMessage, WebSocketRequestResponsePair,
};

use crate::desk::{self, Audience, Effect, Sender, View, Write};
use crate::error::FrameError;
use crate::limits::{self, Bucket, Buckets, Limits};
use crate::protocol::{self, Outbound, PING_FRAME, PONG_FRAME};
use crate::session::Liveness;
use crate::sockets::{self, send, Labels, Tagged};
use crate::store::Store;
use crate::view_cache::ViewCache;

mod attachments;
mod batch;
mod buckets;
mod connect;
mod effects;
mod exports;
mod ids;
mod limiter;
mod mail;
pub(crate) mod object;
mod push;
mod status;
mod sweep;
mod upkeep;
mod view;
mod visitor;
mod webhooks;

use ids::{new_epoch, new_sid, now};
use view::{IdStream, RandomFresh, StoreView, Team};

/// The desk itself. The class the runtime instantiates is `object::Desk`, a handle on this one
/// (an `Rc`), so that a deferred task can hold it: see `batch.rs`.
pub struct Desk {
    state: State,
    /// Frames received and not handled yet: handled together, one commit for all (`batch.rs`).
    frames: RefCell<std::collections::VecDeque<(WebSocket, WebSocketIncomingMessage)>>,
    /// When the latest frame arrived (ms): a frame that comes alone is handled at once (`batch.rs`).
    last_frame_at: Cell<i64>,
    liveness: Liveness,
    schema_checked: Cell<bool>,
    /// The `seq` the next message gets; `None`: ask SQLite.
    next_seq: Cell<Option<i64>>,
    epoch: RefCell<Option<String>>,
    /// An alarm is known to be set within one sweep interval.
    sweeping: Cell<bool>,
    /// Visitors created by this instance since their names were last indexed for search (the
    /// alarm and every search index them too: this only bounds a batch).
    unindexed_visitors: Cell<i64>,
    /// Where the sweep resumes: its step in `session::sweep_step` (0: a new sweep). Memory only:
    /// a new instance starts a new sweep, which costs a repeat, never a socket left unswept.
    sweep_from: Cell<usize>,
    /// What the current sweep decided in its slices so far: when it must run next (memory only,
    /// as `sweep_from`).
    sweep_round: Cell<crate::session::SweepRound>,
    /// When the sweep must next walk the sockets (`None`: at the next alarm). Memory only: a new
    /// instance sweeps at its first alarm.
    sweep_due: Cell<Option<i64>>,
    /// When retention or a snooze needs the alarm next, as the sweep's first slice found.
    upkeep_next: Cell<Option<i64>>,
    limits: Limits,
    /// `IDENTITY_SECRET`: verifies host sites' identity claims (`None`: every claim is refused).
    identity_secret: Option<String>,
    /// `ADMIN_TOKEN`: the owner's secret (`None`: admin access is closed).
    owner_secret: Option<String>,
    /// Cloudflare Access is configured: the Worker verified the email it forwards.
    access: bool,
    /// How long a ticket is valid (`TICKET_TTL_MS`, at most and by default 60 s).
    ticket_ttl: i64,
    /// The team, as SQLite says (see `view::Team`); `None`: read it again.
    team: RefCell<Option<Team>>,
    /// Conversations and their client ids as SQLite says (see `view_cache`), kept in step by
    /// `write`; emptied when a write fails.
    cache: RefCell<ViewCache>,
    /// Each visitor's frame bucket, by user id, shared by all its sockets: a reconnect or another
    /// tab finds it as the last socket left it. A big answer (history, list,
    /// search) is charged to it by its size: while in debt, none of the visitor's sockets is heard. Memory only, and why that is exact: `Buckets`.
    visitor_buckets: RefCell<Buckets>,
    /// Each agent socket's, by socket id: agents hold the desk's credentials, and their limit
    /// only stops a runaway script (several inbox tabs of one agent each get their own).
    agent_buckets: RefCell<HashMap<u64, Bucket>>,
    /// The `LIMITER` binding: the deployment-wide `Limiter` objects (new visitors, sign-ins).
    limiter: Option<ObjectNamespace>,
    /// Networks already told that one of their visitors had a real conversation (bounded).
    trusted: RefCell<std::collections::HashSet<String>>,
    /// Message and event ids, seeded once per instance (see `view::IdStream`).
    ids: RefCell<Option<IdStream>>,
    /// Who each socket is, read from its attachment once per instance (see `sockets::Labels`).
    labels: RefCell<Labels>,
    /// Who is online, as the runtime said (see `presence`): forgotten per visitor by every
    /// accept, close, error and close the desk makes.
    presence: RefCell<crate::presence::Presence>,
    /// The database's size as last measured and what was written since (see `upkeep.rs`).
    storage: Cell<upkeep::Measure>,
    /// The database's page size, read by the storage measure the first time free pages need it
    /// (fixed for a database's life: `Store::size`).
    page_size: Cell<Option<i64>>,
    /// When admins were last told the desk is full (memory only: a new instance tells them again).
    storage_warned: Cell<Option<i64>>,
    /// Attachments: the R2 bucket, the URL secret, limits, this desk's name (`attachments.rs`).
    files: attachments::Files,
    /// When each typist's last `typing` frame was forwarded (memory only, see `desk::typing`).
    typing: RefCell<desk::typing::Throttle>,
    /// The desk's settings as SQLite says (`None`: read them on first need); replaced by `write`.
    settings: RefCell<Option<std::rc::Rc<crate::protocol::Settings>>>,
    /// Email (`desk_object::mail`): `None` when the binding or its variables are missing.
    mail: Option<mail::Mailer>,
    /// When follow-ups and unanswered waits fall due (`FOLLOWUP_AFTER_MS`, `UNANSWERED_MS`), email on or off.
    notify_rules: crate::desk::notify::MailRules,
    /// The alarm was asked to fire by then for email (memory only: a new instance asks again).
    mail_armed: Cell<Option<i64>>,
    /// A visitor left during a socket event: the alarm must fire by then (`exports.rs` sees to it).
    mail_wake: Cell<Option<i64>>,
    /// Webhooks: the deployment's settings for them and the cached endpoints (`webhooks.rs`).
    webhooks: webhooks::Config,
    /// Web Push: the VAPID keys and its vars (`None`: push is off; `desk_object/push.rs`).
    push: Option<push::PushConfig>,
}

impl Desk {
    pub(crate) fn create(state: State, env: Env) -> Self {
        console_log!("desk object started");
        // Pings are answered by the runtime itself, so keep-alives never wake a hibernated desk.
        if let Ok(pair) = WebSocketRequestResponsePair::new(PING_FRAME, PONG_FRAME) {
            state.set_websocket_auto_response(&pair);
        }
        let var = |key: &str| env.var(key).ok().map(|v| v.to_string());
        let secret = |key: &str| env.secret(key).ok().map(|s| s.to_string()).or_else(|| var(key));
        let set = |key: &str| var(key).is_some_and(|v| !v.trim().is_empty());
        let limits = Limits::from_vars(var);
        Desk {
            frames: RefCell::new(Default::default()),
            last_frame_at: Cell::new(0),
            liveness: Liveness::from_setting(var("SOCKET_STALE_MS").as_deref()),
            schema_checked: Cell::new(false),
            next_seq: Cell::new(None),
            epoch: RefCell::new(None),
            sweeping: Cell::new(false),
            unindexed_visitors: Cell::new(0),
            sweep_from: Cell::new(0),
            sweep_round: Cell::new(Default::default()),
            sweep_due: Cell::new(None),
            upkeep_next: Cell::new(None),
            limits,
            identity_secret: secret("IDENTITY_SECRET"),
            owner_secret: secret("ADMIN_TOKEN"),
            access: set("ACCESS_TEAM_DOMAIN") && set("ACCESS_AUD"),
            ticket_ttl: crate::desk::ticket::ttl_from_setting(var("TICKET_TTL_MS").as_deref()),
            team: RefCell::new(None),
            cache: RefCell::new(ViewCache::default()),
            visitor_buckets: RefCell::new(Buckets::new(limits.visitor)),
            agent_buckets: RefCell::new(HashMap::new()),
            limiter: env.durable_object("LIMITER").ok(),
            trusted: RefCell::new(std::collections::HashSet::new()),
            ids: RefCell::new(None),
            labels: RefCell::new(Labels::default()),
            presence: RefCell::default(),
            storage: Cell::new(upkeep::Measure::default()),
            page_size: Cell::new(None),
            storage_warned: Cell::new(None),
            files: attachments::Files::new(&env),
            typing: RefCell::new(Default::default()),
            settings: RefCell::new(None),
            mail: mail::Mailer::from_env(&env, &var, &secret),
            notify_rules: crate::desk::notify::MailRules::from_vars(var),
            mail_armed: Cell::new(None),
            mail_wake: Cell::new(None),
            webhooks: webhooks::Config::new(&env),
            push: push::PushConfig::from_env(&env),
            state,
        }
    }

    pub(crate) async fn fetch(self: &Rc<Self>, mut req: Request) -> Result<Response> {
        // The router has already checked the desk name, the method, the upgrade and origins.
        let path = req.path();
        self.learn_desk(&path)?;
        if path.ends_with("/status") {
            return self.status(&req);
        }
        if path.ends_with("/unsubscribe") {
            return self.unsubscribe(&req);
        }
        if path.ends_with("/visitor/upload") || path.ends_with("/admin/upload") {
            return self.upload(req, path.ends_with("/admin/upload")).await;
        }
        if path.ends_with("/visitor/check") {
            let body = req.text().await?;
            return self.check_visitor(&req, &body).await;
        }
        if path.ends_with("/admin/check") {
            return self.check_admin(&req).await;
        }
        if path.ends_with("/admin/ticket") {
            return self.admin_ticket(&req).await;
        }
        if path.ends_with("/visitor/ticket") {
            let body = req.text().await?;
            return self.visitor_ticket(&req, &body).await;
        }
        if path.ends_with("/agents/accept") {
            let body = req.text().await?;
            return self.accept_invite(&body);
        }
        if !path.ends_with("/admin") {
            // Answered by the `fetch` export itself when nothing was queued (`object.rs`).
            let answer = Desk::open_visitor(self, req.inner())?;
            let answer = JsFuture::from(Promise::resolve(&answer)).await?;
            return Ok(Response::from(answer.unchecked_into::<web_sys::Response>()));
        }
        let response = self.open_admin(&req).await?;
        if response.status_code() == 101 {
            self.keep_sweeping().await?;
        }
        Ok(response)
    }

    /// The stale-socket sweep, retention and snoozes (`desk_object/sweep.rs`).
    pub(crate) async fn alarm(&self) -> Result<Response> {
        self.on_alarm().await
    }
}

impl Desk {
    /// A frame from a socket: admitted, parsed, decided by the core, its effects performed.
    /// Synchronous (no await between the view's reads and the writes); returns when the alarm
    /// must fire by, which the caller sees to (`exports::wake_by`).
    fn on_message(&self, ws: &WebSocket, message: WebSocketIncomingMessage) -> Result<Vec<i64>> {
        let found = self.labels.borrow_mut().get(ws);
        let Some(mut label) = found else {
            let _ = ws.close(Some(1011), Some("unknown socket"));
            self.presence.borrow_mut().clear(); // whose it was is not known
            return Ok(Vec::new());
        };
        let now = now();
        self.labels.borrow_mut().heard(ws, &mut label, now, self.liveness.sweep_every_ms() / 2);
        let text = match message {
            WebSocketIncomingMessage::String(text) => Some(text),
            WebSocketIncomingMessage::Binary(_) => None,
        };
        // Before parsing: a flood costs the desk one bucket lookup per frame, nothing more. The
        // bucket is the visitor's (or agent's), not the socket's: reconnecting or opening more
        // tabs does not refill it.
        if let Err(retry_after_ms) = self.admit(&label, now) {
            let id = text.as_deref().and_then(protocol::peek_client_msg_id);
            send(ws, &Outbound::error(&FrameError::RateLimited { retry_after_ms }, id));
            return Ok(Vec::new());
        }
        let tagged = Tagged::new(&self.state);
        let store = self.store()?;
        let view = self.view(&store, &tagged)?.with_typing(&self.typing);
        let mut fresh = RandomFresh::new(&self.ids);
        let outcome = match &text {
            Some(text) => protocol::parse(text).and_then(|f| desk::step(&label.sender, f, &view, now, &mut fresh)),
            None => Err(FrameError::BadJson),
        };
        if let Some(err) = view.failure() {
            console_error!("desk: frame failed: {err}");
            send(ws, &internal_error());
            return Ok(Vec::new());
        }
        let effects = match outcome {
            _ if fresh.failed => {
                send(ws, &internal_error());
                return Ok(Vec::new());
            }
            Ok(effects) => effects,
            Err(err) => {
                let id = text.as_deref().and_then(protocol::peek_client_msg_id);
                vec![Effect::Send { to: Audience::Sender, frame: Outbound::error(&err, id) }]
            }
        };
        match self.perform(Some(ws), effects, &tagged, now) {
            Ok(done) => {
                // A big answer (history, list, search) costs its requester by its size.
                self.charge(&label, now, limits::answer_cost(done.answered_bytes));
                return Ok(done.wake);
            }
            Err(err) => {
                console_error!("desk: effects failed: {err}");
                send(ws, &internal_error());
            }
        }
        Ok(Vec::new())
    }

    /// A close from the client: answered with a close (or the client sees an abnormal 1006).
    fn on_close(&self, ws: &WebSocket, code: usize, reason: String) -> Result<()> {
        let code = match code as u16 {
            c @ (1000..=1003 | 1007..=1014 | 3000..=4999) => c,
            _ => 1000,
        };
        let _ = ws.close(Some(code), Some(reason));
        self.gone(ws)
    }

    fn on_error(&self, ws: &WebSocket) -> Result<()> {
        let _ = ws.close(Some(1011), Some("socket error"));
        self.gone(ws)
    }

    fn store(&self) -> Result<Store> {
        let sql = self.state.storage().sql();
        let store = if self.schema_checked.get() { Store::attach(sql) } else { Store::open(sql)? };
        self.schema_checked.set(true);
        Ok(store)
    }

    /// Makes sure an alarm fires within one sweep interval while sockets are open.
    async fn keep_sweeping(&self) -> Result<()> {
        if self.sweeping.get() {
            return Ok(());
        }
        let every = self.liveness.sweep_every_ms();
        let storage = self.state.storage();
        let now = now();
        if storage.get_alarm().await?.is_none_or(|at| at > now + every) {
            storage.set_alarm(every).await?;
        }
        self.sweeping.set(true);
        Ok(())
    }

    fn epoch(&self, store: &Store) -> Result<String> {
        if let Some(epoch) = self.epoch.borrow().as_ref() {
            return Ok(epoch.clone());
        }
        let epoch = store.epoch(new_epoch)?;
        *self.epoch.borrow_mut() = Some(epoch.clone());
        Ok(epoch)
    }

    /// Read from SQLite once per instance (or after a failed write), then kept by `write`: every
    /// connect and frame builds a view, and a `SELECT MAX(seq)` each time was a tenth of a
    /// connect's CPU. Only appends move it (a delete keeps its seq as the floor).
    fn next_seq(&self, store: &Store) -> Result<i64> {
        match self.next_seq.get() {
            Some(seq) => Ok(seq),
            None => {
                let seq = store.next_seq()?;
                self.next_seq.set(Some(seq));
                Ok(seq)
            }
        }
    }

    /// The core's view of this desk for one event.
    fn view<'a>(&'a self, store: &'a Store, tagged: &'a Tagged<'a>) -> Result<StoreView<'a>> {
        let cached = self.team.borrow().clone();
        let team = match cached {
            Some(team) => team,
            None => {
                let team: Team = std::rc::Rc::new(store.all_agents()?);
                *self.team.borrow_mut() = Some(team.clone());
                team
            }
        };
        let storage = self.storage_use(store);
        let bytes_per_day = self.limits.visitor_bytes_per_day;
        let next_seq = self.next_seq(store)?;
        let view = StoreView::new(store, tagged, &self.cache, next_seq, team, storage, bytes_per_day, &self.settings);
        let push = self.push.as_ref().map(|p| p.setup.clone());
        let view = view.with_signer(self.signer(store)?).with_email(self.mail.is_some());
        Ok(view.with_hooks(self.hooks(store)?).with_push(push).with_presence(&self.presence))
    }

    /// Applies one write and keeps the cached next `seq` and team in step.
    fn write(&self, store: &Store, write: &Write, now: i64) -> Result<()> {
        if matches!(
            write,
            Write::Profile { .. }
                | Write::Invite { .. }
                | Write::Accept { .. }
                | Write::Revoke { .. }
                | Write::AgentStatus { .. }
        ) {
            *self.team.borrow_mut() = None;
        }
        if let Write::Settings { .. } = write {
            *self.settings.borrow_mut() = None;
        }
        if let Write::WebhookSave { .. } | Write::WebhookDelete { .. } = write {
            self.webhooks.forget();
        }
        if let Write::WebhookLog { entry } = write {
            console_error!(
                "webhook: {} {} not queued for {}: {}",
                entry.event.as_str(),
                entry.event_id,
                entry.endpoint_id,
                entry.error.as_deref().unwrap_or("")
            );
        }
        if let Err(e) = store.apply(write, now) {
            // A write may have failed after changing something: what memory holds is unknown.
            self.next_seq.set(None);
            self.cache.borrow_mut().clear();
            return Err(e);
        }
        self.cache.borrow_mut().apply(write);
        self.wrote(write);
        if let Write::Append { message, .. } = write {
            self.next_seq.set(Some(message.seq + 1));
        }
        if let Write::CreateVisitor { .. } = write {
            let unindexed = self.unindexed_visitors.get() + 1;
            self.unindexed_visitors.set(unindexed % crate::store::SEARCH_BATCH);
            if unindexed >= crate::store::SEARCH_BATCH {
                store.index_visitors()?;
            }
        }
        Ok(())
    }

    /// A socket closed, failed or went stale: if it was a visitor's last, admins see them leave.
    fn gone(&self, ws: &WebSocket) -> Result<()> {
        let found = self.labels.borrow_mut().get(ws);
        self.labels.borrow_mut().forget(ws);
        let Some(label) = found else {
            self.presence.borrow_mut().clear(); // whose it was is not known
            return Ok(());
        };
        // A visitor's bucket stays: its next socket takes from it.
        if matches!(label.sender, Sender::Agent { .. }) {
            self.agent_buckets.borrow_mut().remove(&label.sid);
        }
        let Sender::Visitor { user_id } = label.sender else {
            return Ok(());
        };
        self.presence.borrow_mut().forget(&user_id);
        if !sockets::tagged(&self.state, &user_id, Some(ws)).is_empty() {
            return Ok(());
        }
        let store = self.store()?;
        self.mail_visitor_left(&store, &user_id, now())?;
        let tagged = Tagged::new(&self.state);
        let view = self.view(&store, &tagged)?;
        if let Some(conversation) = view.conversation(&user_id) {
            let effects = desk::presence(&view, &conversation, true, false);
            self.perform(Some(ws), effects, &tagged, now())?;
        }
        if let Some(e) = view.failure() {
            return Err(e);
        }
        Ok(())
    }
}

fn internal_error() -> Outbound {
    Outbound::Error {
        code: "internal",
        message: "the desk could not handle this frame; retry later".into(),
        client_msg_id: None,
        retry_after_ms: None,
    }
}
