//! The `Desk` Durable Object: accepts and tags sockets, loads what the core needs, performs effects.
//!
//! It holds nothing that matters in memory. Who a socket is lives in its tags and attachment
//! (they survive hibernation); everything else lives in SQLite. The only field besides the handles
//! is a flag that the schema was checked by this instance.

use std::cell::Cell;
use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use worker::web_sys;
use worker::{
    console_error, console_log, durable_object, Date, DurableObject, Env, Request, Response, Result, State, WebSocket,
    WebSocketIncomingMessage, WebSocketPair, WebSocketRequestResponsePair,
};

use crate::auth::{new_token, token_hash};
use crate::desk::{self, Audience, Command, Conversation, Effect, Facts, Fresh, Sender};
use crate::error::{FrameError, HttpError};
use crate::protocol::{self, visitor_name, Outbound, MAX_USERS_ROWS, PING_FRAME, PONG_FRAME, WELCOME_MESSAGES};
use crate::router::{refuse, with_subprotocol};
use crate::store::Store;

/// Tag on every admin socket. Visitor sockets are tagged with their user id (a UUID, so it can
/// never be `admin`) and with [`VISITOR_TAG`].
const ADMIN_TAG: &str = "admin";
const VISITOR_TAG: &str = "visitor";

/// Who a socket belongs to, kept in its attachment so a woken object needs no in-memory map.
#[derive(Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "lowercase")]
enum Attachment {
    Visitor {
        #[serde(rename = "userId")]
        user_id: String,
    },
    Admin,
}

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
    schema_checked: Cell<bool>,
}

impl DurableObject for Desk {
    fn new(state: State, _env: Env) -> Self {
        console_log!("desk object started");
        // Pings are answered by the runtime itself, so keep-alives never wake a hibernated desk.
        if let Ok(pair) = WebSocketRequestResponsePair::new(PING_FRAME, PONG_FRAME) {
            state.set_websocket_auto_response(&pair);
        }
        Desk { state, schema_checked: Cell::new(false) }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        // The router has already checked the desk name, the upgrade and (for admins) the secret.
        if req.path().ends_with("/admin") {
            self.open_admin(&req)
        } else {
            self.open_visitor(&req)
        }
    }

    async fn websocket_message(&self, ws: WebSocket, message: WebSocketIncomingMessage) -> Result<()> {
        let Some(sender) = sender_of(&ws) else {
            let _ = ws.close(Some(1011), Some("unknown socket"));
            return Ok(());
        };
        let outcome = match message {
            WebSocketIncomingMessage::String(text) => self.step(&sender, &text).map_err(|e| (e, Some(text))),
            WebSocketIncomingMessage::Binary(_) => Err((StepError::Refused(FrameError::BadJson), None)),
        };
        let effects = match outcome {
            Ok(effects) => effects,
            Err((StepError::Refused(err), text)) => {
                let id = text.as_deref().and_then(protocol::peek_client_msg_id);
                vec![Effect::Send { to: Audience::Sender, frame: Outbound::error(&err, id) }]
            }
            Err((StepError::Internal(err), _)) => {
                console_error!("desk: frame failed: {err}");
                send(&ws, &internal_error());
                return Ok(());
            }
        };
        if let Err(err) = self.perform(&ws, effects) {
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
}

impl Desk {
    fn store(&self) -> Result<Store> {
        let store = if self.schema_checked.get() {
            Store::attach(self.state.storage().sql())
        } else {
            Store::open(self.state.storage().sql())?
        };
        self.schema_checked.set(true);
        Ok(store)
    }

    fn open_visitor(&self, req: &Request) -> Result<Response> {
        let store = self.store()?;
        let url = req.url()?;
        let param = |key: &str| url.query_pairs().find(|(k, _)| k == key).map(|(_, v)| v.into_owned());
        let name = match param("name") {
            Some(raw) => match visitor_name(&raw) {
                Some(name) => Some(name),
                None => return refuse(HttpError::BadRequest("name must be 1 to 64 characters without control characters")),
            },
            None => None,
        };
        let now = now();
        let (conversation, token) = match param("token") {
            Some(token) => {
                let Some(mut conversation) = store.visitor_by_token_hash(&token_hash(&token))? else {
                    return refuse(HttpError::Unauthorized("this desk did not issue that token"));
                };
                store.touch_visitor(&conversation.user_id, name.as_deref(), now)?;
                if let Some(name) = name {
                    conversation.name = name;
                }
                (conversation, token)
            }
            None => {
                let user_id = new_uuid()?;
                let token = new_token(&random_bytes()?);
                let name = name.unwrap_or_else(|| desk::default_name(&user_id));
                store.create_visitor(&user_id, &token_hash(&token), &name, now)?;
                (Conversation::new(user_id, name), token)
            }
        };

        let user_id = conversation.user_id.clone();
        let was_online = !self.sockets(&user_id, None).is_empty();
        let pair = WebSocketPair::new()?;
        self.state.accept_websocket_with_tags(&pair.server, &[&user_id, VISITOR_TAG]);
        pair.server.serialize_attachment(Attachment::Visitor { user_id: user_id.clone() })?;
        let page = store.messages(&user_id, None, WELCOME_MESSAGES + 1)?;
        send(&pair.server, &desk::welcome(&conversation, token, WELCOME_MESSAGES, page));
        self.perform(&pair.server, desk::presence(&conversation, was_online, true))?;
        with_subprotocol(req, Response::from_websocket(pair.client)?)
    }

    fn open_admin(&self, req: &Request) -> Result<Response> {
        let store = self.store()?;
        let pair = WebSocketPair::new()?;
        self.state.accept_websocket_with_tags(&pair.server, &[ADMIN_TAG]);
        pair.server.serialize_attachment(Attachment::Admin)?;
        let online = self.online_visitors();
        let users = store
            .conversations(MAX_USERS_ROWS)?
            .iter()
            .map(|c| c.row(online.contains(&c.user_id)))
            .collect();
        send(&pair.server, &Outbound::Users { users });
        with_subprotocol(req, Response::from_websocket(pair.client)?)
    }

    /// Parses a frame, checks rights, loads the facts, and asks the core for the effects.
    fn step(&self, sender: &Sender, text: &str) -> std::result::Result<Vec<Effect>, StepError> {
        let command = desk::command(sender, protocol::parse(text)?)?;
        let store = self.store()?;
        let effects = match command {
            Command::Ping => vec![Effect::Send { to: Audience::Sender, frame: Outbound::Pong }],
            Command::Post { ref user_id, author, ref client_msg_id, .. } => {
                let duplicate = match client_msg_id {
                    Some(id) => store.duplicate(user_id, author, id)?,
                    None => None,
                };
                let facts = Facts {
                    conversation: store.conversation(user_id)?,
                    duplicate,
                    online: !self.sockets(user_id, None).is_empty(),
                };
                let fresh = Fresh { id: new_uuid()?, seq: store.next_seq()? };
                desk::post(now(), fresh, command, facts)?
            }
            Command::Read { ref user_id } => desk::read(Facts {
                conversation: store.conversation(user_id)?,
                duplicate: None,
                online: !self.sockets(user_id, None).is_empty(),
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
    fn perform(&self, origin: &WebSocket, effects: Vec<Effect>) -> Result<()> {
        let mut store = None;
        for effect in effects {
            match effect {
                Effect::Store(write) => {
                    if store.is_none() {
                        store = Some(self.store()?);
                    }
                    if let Some(s) = &store {
                        s.apply(&write)?;
                    }
                }
                Effect::Send { to, frame } => {
                    // Serialised once, whatever the number of recipients.
                    let json = frame.to_json();
                    for ws in self.audience(&to, origin) {
                        let _ = ws.send_with_str(&json); // a socket closing meanwhile is not an error
                    }
                }
            }
        }
        Ok(())
    }

    fn audience(&self, to: &Audience, origin: &WebSocket) -> Vec<WebSocket> {
        match to {
            Audience::Sender => vec![origin.clone()],
            Audience::Visitor(user_id) => self.sockets(user_id, None),
            Audience::VisitorOthers(user_id) => self.sockets(user_id, Some(origin)),
            Audience::Admins => self.sockets(ADMIN_TAG, None),
            Audience::AdminOthers => self.sockets(ADMIN_TAG, Some(origin)),
        }
    }

    /// Open sockets with `tag`, leaving out `except`.
    fn sockets(&self, tag: &str, except: Option<&WebSocket>) -> Vec<WebSocket> {
        self.state
            .get_websockets_with_tag(tag)
            .into_iter()
            .filter(|ws| except != Some(ws) && is_open(ws))
            .collect()
    }

    /// User ids with at least one open socket, from one pass over the visitor sockets.
    fn online_visitors(&self) -> HashSet<String> {
        self.sockets(VISITOR_TAG, None)
            .iter()
            .filter_map(|ws| match sender_of(ws) {
                Some(Sender::Visitor { user_id }) => Some(user_id),
                _ => None,
            })
            .collect()
    }

    /// A socket closed or failed: if it was a visitor's last, the admins see them go offline.
    fn gone(&self, ws: &WebSocket) -> Result<()> {
        let Some(Sender::Visitor { user_id }) = sender_of(ws) else { return Ok(()) };
        if !self.sockets(&user_id, Some(ws)).is_empty() {
            return Ok(());
        }
        if let Some(conversation) = self.store()?.conversation(&user_id)? {
            self.perform(ws, desk::presence(&conversation, true, false))?;
        }
        Ok(())
    }
}

fn sender_of(ws: &WebSocket) -> Option<Sender> {
    match ws.deserialize_attachment::<Attachment>().ok().flatten()? {
        Attachment::Visitor { user_id } => Some(Sender::Visitor { user_id }),
        Attachment::Admin => Some(Sender::Admin),
    }
}

fn is_open(ws: &WebSocket) -> bool {
    let raw: &web_sys::WebSocket = ws.as_ref();
    raw.ready_state() == web_sys::WebSocket::OPEN
}

fn send(ws: &WebSocket, frame: &Outbound) {
    let _ = ws.send_with_str(frame.to_json());
}

fn internal_error() -> Outbound {
    Outbound::Error { code: "internal", message: "the desk could not handle this frame; retry later".into(), client_msg_id: None }
}

fn now() -> i64 {
    Date::now().as_millis() as i64
}

fn random_bytes() -> Result<[u8; 32]> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|e| worker::Error::RustError(format!("no randomness: {e}")))?;
    Ok(bytes)
}

fn new_uuid() -> Result<String> {
    let bytes = random_bytes()?;
    let mut sixteen = [0u8; 16];
    sixteen.copy_from_slice(&bytes[..16]);
    Ok(uuid::Builder::from_random_bytes(sixteen).into_uuid().to_string())
}
