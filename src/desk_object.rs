//! The `Desk` Durable Object: accepts sockets, loads what the core needs, performs its effects.
//!
//! It holds nothing that matters in memory: who a socket is lives in its tags and attachment
//! (`sockets.rs`), everything else in SQLite (`store.rs`). Opening sockets is in
//! `desk_object/connect.rs`. Its few fields are caches of what
//! SQLite already says (schema checked, next seq, epoch, alarm armed): a new instance rebuilds them
//! on first use, and they stay true because this instance is the desk's only writer.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use worker::{
    console_error, console_log, durable_object, Date, DurableObject, Env, Request, Response, Result, State,
    WebSocket, WebSocketIncomingMessage, WebSocketRequestResponsePair,
};

use crate::auth::hex;
use crate::desk::{self, Audience, Command, Effect, Facts, Fresh, Sender, Write};
use crate::error::FrameError;
use crate::limits::{Bucket, Limits};
use crate::protocol::{self, Outbound, PING_FRAME, PONG_FRAME};
use crate::session::Liveness;
use crate::sockets::{self, send, Label, Tagged, ADMIN_TAG};
use crate::store::Store;

mod connect;

/// Why a frame could not be handled: the client's fault (answered with its code) or ours.
enum StepError {
    Refused(FrameError),
    Internal(worker::Error),
}

impl From<FrameError> for StepError {
    fn from(e: FrameError) -> Self {
        StepError::Refused(e)
    }
}

impl From<worker::Error> for StepError {
    fn from(e: worker::Error) -> Self {
        StepError::Internal(e)
    }
}

#[durable_object]
pub struct Desk {
    state: State,
    liveness: Liveness,
    schema_checked: Cell<bool>,
    /// The `seq` the next message gets; `None`: ask SQLite.
    next_seq: Cell<Option<i64>>,
    epoch: RefCell<Option<String>>,
    /// A sweep alarm is known to be set.
    sweeping: Cell<bool>,
    limits: Limits,
    /// `IDENTITY_SECRET`: verifies host sites' identity claims (`None`: every claim is refused).
    identity_secret: Option<String>,
    /// Each socket's rate bucket, by socket id. Memory only on purpose: an object is evicted only
    /// after it has been idle for a while, and by then every bucket would be full again.
    buckets: RefCell<HashMap<u64, Bucket>>,
}

impl DurableObject for Desk {
    fn new(state: State, env: Env) -> Self {
        console_log!("desk object started");
        // Pings are answered by the runtime itself, so keep-alives never wake a hibernated desk.
        if let Ok(pair) = WebSocketRequestResponsePair::new(PING_FRAME, PONG_FRAME) {
            state.set_websocket_auto_response(&pair);
        }
        let var = |key: &str| env.var(key).ok().map(|v| v.to_string());
        let setting = var("SOCKET_STALE_MS");
        let identity_secret = env.secret("IDENTITY_SECRET").ok().map(|s| s.to_string()).or_else(|| var("IDENTITY_SECRET"));
        Desk {
            state,
            liveness: Liveness::from_setting(setting.as_deref()),
            schema_checked: Cell::new(false),
            next_seq: Cell::new(None),
            epoch: RefCell::new(None),
            sweeping: Cell::new(false),
            limits: Limits::from_vars(var),
            identity_secret,
            buckets: RefCell::new(HashMap::new()),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        // The router has already checked the desk name, the method, the upgrade and (for admins)
        // the secret.
        if req.path().ends_with("/visitor/check") {
            let body = req.text().await?;
            return self.check_visitor(&body);
        }
        let response = if req.path().ends_with("/admin") { self.open_admin(&req)? } else { self.open_visitor(&req)? };
        if response.status_code() == 101 {
            self.keep_sweeping().await?;
        }
        Ok(response)
    }

    async fn websocket_message(&self, ws: WebSocket, message: WebSocketIncomingMessage) -> Result<()> {
        let Some(mut label) = sockets::label(&ws) else {
            let _ = ws.close(Some(1011), Some("unknown socket"));
            return Ok(());
        };
        let now = now();
        sockets::heard(&ws, &mut label, now, self.liveness.sweep_every_ms() / 2);
        // Before parsing: a flood costs the desk one bucket lookup per frame, nothing more.
        if let Err(retry_after_ms) = self.admit(&label, now) {
            let id = match &message {
                WebSocketIncomingMessage::String(text) => protocol::peek_client_msg_id(text),
                WebSocketIncomingMessage::Binary(_) => None,
            };
            send(&ws, &Outbound::error(&FrameError::RateLimited { retry_after_ms }, id));
            return Ok(());
        }
        let sender = label.sender;
        let tagged = Tagged::new(&self.state);
        let (outcome, text) = match message {
            WebSocketIncomingMessage::String(text) => (self.step(&sender, &text, &tagged), Some(text)),
            WebSocketIncomingMessage::Binary(_) => (Err(FrameError::BadJson.into()), None),
        };
        let effects = match outcome {
            Ok(effects) => effects,
            Err(StepError::Refused(err)) => {
                let id = text.as_deref().and_then(protocol::peek_client_msg_id);
                vec![Effect::Send { to: Audience::Sender, frame: Outbound::error(&err, id) }]
            }
            Err(StepError::Internal(err)) => {
                console_error!("desk: frame failed: {err}");
                send(&ws, &internal_error());
                return Ok(());
            }
        };
        if let Err(err) = self.perform(&ws, effects, &tagged) {
            console_error!("desk: effects failed: {err}");
            send(&ws, &internal_error());
        }
        Ok(())
    }

    async fn websocket_close(&self, ws: WebSocket, code: usize, reason: String, _clean: bool) -> Result<()> {
        // Answer a close with a close, or the client sees an abnormal 1006.
        let code = match code as u16 {
            c @ (1000..=1003 | 1007..=1014 | 3000..=4999) => c,
            _ => 1000,
        };
        let _ = ws.close(Some(code), Some(reason));
        self.gone(&ws)
    }

    async fn websocket_error(&self, ws: WebSocket, _error: worker::Error) -> Result<()> {
        let _ = ws.close(Some(1011), Some("socket error"));
        self.gone(&ws)
    }

    /// Closes sockets that went silent (their tab is gone but the runtime still lists them), so
    /// presence does not lie; re-arms itself while any socket is open.
    async fn alarm(&self) -> Result<Response> {
        let now = now();
        let mut open = 0;
        for ws in self.state.get_websockets().into_iter().filter(sockets::is_open) {
            let heard = sockets::label(&ws).map_or(0, |l| l.heard_at);
            let heard = heard.max(sockets::last_ping(&self.state, &ws).unwrap_or(0));
            if self.liveness.is_stale(now, heard) {
                let _ = ws.close(Some(4000), Some("no ping: connection presumed dead"));
                self.gone(&ws)?;
            } else {
                open += 1;
            }
        }
        if open > 0 {
            self.state.storage().set_alarm(self.liveness.sweep_every_ms()).await?;
        }
        self.sweeping.set(open > 0);
        Response::ok("swept")
    }
}

impl Desk {
    fn store(&self) -> Result<Store> {
        let sql = self.state.storage().sql();
        let store = if self.schema_checked.get() { Store::attach(sql) } else { Store::open(sql)? };
        self.schema_checked.set(true);
        Ok(store)
    }

    async fn keep_sweeping(&self) -> Result<()> {
        if self.sweeping.get() {
            return Ok(());
        }
        let storage = self.state.storage();
        if storage.get_alarm().await?.is_none() {
            storage.set_alarm(self.liveness.sweep_every_ms()).await?;
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

    fn next_seq(&self, store: &Store) -> Result<i64> {
        match self.next_seq.get() {
            Some(seq) => Ok(seq),
            None => store.next_seq(),
        }
    }

    /// Parses a frame, checks rights, loads the facts, and asks the core for the effects.
    fn step(&self, sender: &Sender, text: &str, tagged: &Tagged) -> std::result::Result<Vec<Effect>, StepError> {
        let command = desk::command(sender, protocol::parse(text)?)?;
        let store = self.store()?;
        let effects = match command {
            Command::Ping => vec![Effect::Send { to: Audience::Sender, frame: Outbound::Pong }],
            Command::Post { ref user_id, author, ref client_msg_id, .. } => {
                let duplicate = match client_msg_id {
                    Some(id) => store.duplicate(user_id, author, id)?,
                    None => None,
                };
                let facts = Facts { conversation: store.conversation(user_id)?, duplicate, online: tagged.any_open(user_id) };
                let fresh = Fresh { id: new_uuid()?, seq: self.next_seq(&store)? };
                desk::post(now(), fresh, command, facts)?
            }
            Command::Read { ref user_id } => desk::read(Facts {
                conversation: store.conversation(user_id)?,
                duplicate: None,
                online: tagged.any_open(user_id),
            })?,
            Command::History { user_id, before, limit } => {
                if store.conversation(&user_id)?.is_none() {
                    return Err(FrameError::UnknownUser.into());
                }
                let page = store.messages(&user_id, before, limit + 1)?;
                vec![Effect::Send { to: Audience::Sender, frame: desk::history(user_id, limit, page) }]
            }
        };
        Ok(effects)
    }

    /// Carries out effects in order. The core puts writes before sends, so a failed write
    /// returns here before anyone is told anything.
    fn perform(&self, origin: &WebSocket, effects: Vec<Effect>, tagged: &Tagged) -> Result<()> {
        let mut store = None;
        for effect in effects {
            match effect {
                Effect::Store(write) => {
                    if store.is_none() {
                        store = Some(self.store()?);
                    }
                    if let Some(s) = &store {
                        if let Err(e) = s.apply(&write) {
                            self.next_seq.set(None);
                            return Err(e);
                        }
                        if let Write::Message { message, .. } = &write {
                            self.next_seq.set(Some(message.seq + 1));
                        }
                    }
                }
                Effect::Send { to, frame } => {
                    let json = frame.to_json(); // once, whatever the number of recipients
                    let (tag, except) = match &to {
                        Audience::Sender => {
                            let _ = origin.send_with_str(&json);
                            continue;
                        }
                        Audience::Visitor(user_id) => (user_id.as_str(), None),
                        Audience::VisitorOthers(user_id) => (user_id.as_str(), Some(origin)),
                        Audience::Admins => (ADMIN_TAG, None),
                        Audience::AdminOthers => (ADMIN_TAG, Some(origin)),
                    };
                    for ws in tagged.all(tag).iter().filter(|ws| except != Some(*ws)) {
                        let _ = ws.send_with_str(&json); // a closing socket is not an error
                    }
                }
            }
        }
        Ok(())
    }

    /// Takes a token from the socket's bucket; `Err`: ms until it may send again.
    fn admit(&self, label: &Label, now: i64) -> std::result::Result<(), u64> {
        let rate = match label.sender {
            Sender::Visitor { .. } => self.limits.visitor,
            Sender::Admin => self.limits.admin,
        };
        self.buckets.borrow_mut().entry(label.sid).or_insert_with(|| Bucket::full(rate, now)).take(rate, now)
    }

    /// A socket closed, failed or went stale: if it was a visitor's last, admins see them leave.
    fn gone(&self, ws: &WebSocket) -> Result<()> {
        let Some(label) = sockets::label(ws) else { return Ok(()) };
        self.buckets.borrow_mut().remove(&label.sid);
        let Sender::Visitor { user_id } = label.sender else { return Ok(()) };
        if !sockets::tagged(&self.state, &user_id, Some(ws)).is_empty() {
            return Ok(());
        }
        if let Some(conversation) = self.store()?.conversation(&user_id)? {
            self.perform(ws, desk::presence(&conversation, true, false), &Tagged::new(&self.state))?;
        }
        Ok(())
    }
}

fn internal_error() -> Outbound {
    Outbound::Error { code: "internal", message: "the desk could not handle this frame; retry later".into(), client_msg_id: None, retry_after_ms: None }
}

fn now() -> i64 {
    Date::now().as_millis() as i64
}

fn random_bytes() -> Result<[u8; 32]> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|e| worker::Error::RustError(format!("no randomness: {e}")))?;
    Ok(bytes)
}

/// A socket id: 52 random bits, exact as a JavaScript number in the attachment.
fn new_sid() -> Result<u64> {
    let bytes = random_bytes()?;
    let mut eight = [0u8; 8];
    eight.copy_from_slice(&bytes[..8]);
    Ok(u64::from_le_bytes(eight) & ((1 << 52) - 1))
}

fn new_uuid() -> Result<String> {
    let bytes = random_bytes()?;
    let mut sixteen = [0u8; 16];
    sixteen.copy_from_slice(&bytes[..16]);
    Ok(uuid::Builder::from_random_bytes(sixteen).into_uuid().to_string())
}

fn new_epoch() -> Result<String> {
    Ok(hex(&random_bytes()?[..16]))
}
