//! The glue's side of the core's contract: [`View`] over SQLite and the runtime's sockets, and
//! [`Fresh`] ids and secrets from the runtime's randomness (and the socket ids and epochs drawn from it).
//!
//! The core never sees a storage error: a failed read is remembered here and answers as empty,
//! and the glue throws away the effects of a step whose view failed (answering `internal`).

use std::cell::RefCell;
use std::rc::Rc;

use super::ids::random_bytes;
use crate::attachments::{AttachmentUse, Signer};
use crate::desk::attachment::Stored;
use crate::desk::context::Context;
use crate::desk::ticket::{Live, Ticket};
use crate::desk::typing::{Throttle, Typist};
use crate::desk::{Agent, Conversation, Fresh, Hit, Invite, StorageUse, View, OWNER_ID};
use crate::presence::Presence;
use crate::protocol::saved_replies::SavedReply;
use crate::protocol::{Author, Counts, ListView, Settings, WireMessage};
use crate::sockets::{self, agent_tag, Tagged};
use crate::store::Store;
use crate::view_cache::{Seen, ViewCache, MAX_CLIENT_IDS_PER_CONVERSATION};

/// The team as the object caches it: every agent ever, revoked ones flagged. It is small, read
/// on almost every agent frame (rights, names on rows), and changes only by this object's writes.
pub type Team = Rc<Vec<(Agent, bool)>>;

pub struct StoreView<'a> {
    store: &'a Store,
    tagged: &'a Tagged<'a>,
    cache: &'a RefCell<ViewCache>,
    next_seq: i64,
    team: Team,
    storage: StorageUse,
    bytes_per_day: u64,
    signer: Option<Rc<Signer>>,
    /// When each typist was last forwarded; `None` outside a client frame (nobody types there).
    typing: Option<&'a RefCell<Throttle>>,
    /// The desk's settings as SQLite says, read on first need (see `Desk::settings`).
    settings: &'a RefCell<Option<Rc<Settings>>>,
    /// Web Push as the deployment has it (`None`: off).
    push: Option<crate::desk::push::PushSetup>,
    failure: RefCell<Option<worker::Error>>,
    /// The desk can send email (`desk_object::mail`).
    email_enabled: bool,
    /// Webhooks: the endpoints and the deployment's settings (none until `with_hooks`).
    hooks: Rc<crate::desk::webhooks::Hooks>,
    /// Who is online as the runtime last said (`None`: ask it every time).
    presence: Option<&'a RefCell<Presence>>,
}

impl<'a> StoreView<'a> {
    // One argument per cache the object keeps; a struct of them would only rename the list.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: &'a Store,
        tagged: &'a Tagged<'a>,
        cache: &'a RefCell<ViewCache>,
        next_seq: i64,
        team: Team,
        storage: StorageUse,
        bytes_per_day: u64,
        settings: &'a RefCell<Option<Rc<Settings>>>,
    ) -> Self {
        StoreView {
            store,
            tagged,
            cache,
            next_seq,
            team,
            storage,
            bytes_per_day,
            settings,
            signer: None,
            typing: None,
            push: None,
            failure: RefCell::new(None),
            email_enabled: false,
            hooks: Rc::default(),
            presence: None,
        }
    }

    /// With the object's memo of who is online (`crate::presence`).
    pub fn with_presence(self, presence: &'a RefCell<Presence>) -> Self {
        StoreView { presence: Some(presence), ..self }
    }

    /// With Web Push's setup (`None`: push is off).
    pub fn with_push(self, push: Option<crate::desk::push::PushSetup>) -> Self {
        StoreView { push, ..self }
    }

    /// With what signs attachment URLs (`None`: attachments are not configured).
    /// Whether the desk can send email (the `email_alerts` frame says so).
    pub fn with_email(self, email_enabled: bool) -> Self {
        StoreView { email_enabled, ..self }
    }

    pub fn with_signer(self, signer: Option<Rc<Signer>>) -> Self {
        StoreView { signer, ..self }
    }

    /// With the desk's webhooks.
    pub fn with_hooks(self, hooks: Rc<crate::desk::webhooks::Hooks>) -> Self {
        StoreView { hooks, ..self }
    }

    /// The view of a client frame, which may be a `typing` one.
    pub fn with_typing(mut self, typing: &'a RefCell<Throttle>) -> Self {
        self.typing = Some(typing);
        self
    }

    /// A conversation read from SQLite is as new: the cache holds it from now on.
    fn held(&self, found: Option<Conversation>) -> Option<Conversation> {
        if let Some(c) = &found {
            self.cache.borrow_mut().fill(c.clone());
        }
        found
    }

    fn member(&self, agent_id: &str) -> Option<&(Agent, bool)> {
        self.team.iter().find(|(a, _)| a.id == agent_id)
    }

    /// The first read that failed, if any: then the step's effects must not be performed.
    pub fn failure(&self) -> Option<worker::Error> {
        self.failure.borrow_mut().take()
    }

    fn or<T>(&self, result: worker::Result<T>, fallback: T) -> T {
        result.unwrap_or_else(|e| {
            self.failure.borrow_mut().get_or_insert(e);
            fallback
        })
    }
}

impl View for StoreView<'_> {
    fn conversation(&self, user_id: &str) -> Option<Conversation> {
        if let Some(c) = self.cache.borrow_mut().conversation(user_id) {
            return Some(c);
        }
        self.held(self.or(self.store.conversation(user_id), None))
    }

    fn duplicate(&self, user_id: &str, sender: Author, author_id: &str, client_msg_id: &str) -> Option<WireMessage> {
        let mut seen = self.cache.borrow().seen(user_id, sender, author_id, client_msg_id);
        if seen == Seen::Unknown && self.conversation(user_id).is_some() {
            // Once per conversation per wake: then every new id is told apart in memory.
            let ids = self.or(self.store.client_ids(user_id, MAX_CLIENT_IDS_PER_CONVERSATION + 1), Vec::new());
            if self.failure.borrow().is_none() {
                let ids = ids.iter().map(|(s, a, c)| (*s, a.as_str(), c.as_str()));
                self.cache.borrow_mut().fill_ids(user_id, ids);
            }
            seen = self.cache.borrow().seen(user_id, sender, author_id, client_msg_id);
        }
        if seen == Seen::No {
            return None;
        }
        self.or(self.store.duplicate(user_id, sender, author_id, client_msg_id), None)
    }

    fn online(&self, user_id: &str) -> bool {
        match self.presence {
            Some(p) => p.borrow_mut().online(user_id, || self.tagged.any_open(user_id)),
            None => self.tagged.any_open(user_id),
        }
    }

    fn agent(&self, agent_id: &str) -> Option<Agent> {
        match self.member(agent_id) {
            Some((agent, false)) if !agent.pending => Some(agent.clone()),
            None if agent_id == OWNER_ID => Some(Agent::owner(None)),
            _ => None,
        }
    }

    fn agents(&self) -> Vec<Agent> {
        let mut team: Vec<Agent> = self.team.iter().filter(|(_, revoked)| !revoked).map(|(a, _)| a.clone()).collect();
        if !team.iter().any(|a| a.id == OWNER_ID) {
            team.insert(0, Agent::owner(None));
        }
        team
    }

    fn agent_online(&self, agent_id: &str) -> bool {
        self.tagged.any_open(&agent_tag(agent_id))
    }

    fn messages(&self, user_id: &str, before: Option<i64>, limit: u32, for_agents: bool) -> Vec<WireMessage> {
        self.or(self.store.messages(user_id, before, limit, for_agents), Vec::new())
    }

    fn list(&self, view: ListView, me: &str, before: Option<i64>, limit: u32) -> Vec<Conversation> {
        self.or(self.store.list(view, me, before, limit), Vec::new())
    }

    fn assigned_to(&self, agent_id: &str, limit: u32) -> Vec<Conversation> {
        self.or(self.store.assigned_to(agent_id, limit), Vec::new())
    }

    fn counts(&self, me: &str) -> Counts {
        self.or(self.store.counts(me), Counts::default())
    }

    fn search(&self, query: &str, limit: u32) -> Vec<Hit> {
        self.or(self.store.search(query, limit), Vec::new())
    }

    fn next_seq(&self) -> i64 {
        self.next_seq
    }

    fn agent_name(&self, agent_id: &str) -> Option<String> {
        match self.member(agent_id) {
            Some((agent, _)) => Some(agent.name.clone()),
            None => (agent_id == OWNER_ID).then(|| Agent::owner(None).name),
        }
    }

    fn agent_by_token(&self, token_hash: &str) -> Option<Agent> {
        self.or(self.store.agent_by_token(token_hash), None)
    }

    fn agent_by_email(&self, email: &str) -> Option<Agent> {
        let active = |(a, revoked): &&(Agent, bool)| !revoked && !a.pending && a.email.as_deref() == Some(email);
        self.team.iter().find(active).map(|(a, _)| a.clone())
    }

    fn invite_by_email(&self, email: &str) -> Option<Invite> {
        self.or(self.store.invite_by_email(email), None)
    }

    fn invite(&self, code_hash: &str) -> Option<Invite> {
        self.or(self.store.invite(code_hash), None)
    }

    fn visitor_by_token(&self, token_hash: &str) -> Option<Conversation> {
        self.held(self.or(self.store.visitor_by_token_hash(token_hash), None))
    }

    fn visitor_by_verified_id(&self, verified_id: &str) -> Option<Conversation> {
        self.held(self.or(self.store.visitor_by_verified_id(verified_id), None))
    }

    fn open_sockets(&self, user_id: &str) -> usize {
        self.tagged.all(user_id).iter().filter(|ws| sockets::is_open(ws)).count()
    }

    fn bytes_per_day(&self) -> u64 {
        self.bytes_per_day
    }

    fn storage(&self) -> StorageUse {
        self.storage
    }

    fn ticket(&self, hash: &str) -> Option<Ticket> {
        self.or(self.store.ticket(hash), None)
    }

    fn alerts(&self, agent_id: &str) -> crate::desk::notify::Alerts {
        self.or(self.store.alerts(agent_id), Default::default())
    }

    fn email_enabled(&self) -> bool {
        self.email_enabled
    }

    fn push(&self) -> Option<crate::desk::push::PushSetup> {
        self.push.clone()
    }

    fn push_endpoints(&self, agent_id: &str) -> Vec<String> {
        self.or(self.store.push_endpoints(agent_id), Vec::new())
    }

    fn push_subscribed(&self) -> bool {
        self.push.is_some() && self.or(self.store.push_subscribed(), false)
    }

    fn settings(&self) -> Rc<Settings> {
        if let Some(s) = self.settings.borrow().as_ref() {
            return s.clone();
        }
        let read = self.store.settings().map(Rc::new);
        let ok = read.is_ok();
        let s = self.or(read, Rc::new(Settings::default()));
        if ok {
            *self.settings.borrow_mut() = Some(s.clone());
        }
        s
    }

    fn live_tickets(&self, address: Option<&str>, now: i64) -> Live {
        // A failed read answers none; the step is thrown away anyway (`failure`).
        self.or(self.store.live_tickets(address, now), Live::default())
    }

    fn attachment(&self, id: &str) -> Option<Stored> {
        self.or(self.store.attachment(id), None)
    }

    fn attachment_use(&self, user_id: &str, uploader: &str, since: i64) -> AttachmentUse {
        self.or(self.store.attachment_use(user_id, uploader, since), AttachmentUse::default())
    }

    fn attachment_signer(&self) -> Option<Signer> {
        self.signer.as_deref().cloned()
    }

    fn context(&self, user_id: &str) -> Option<Context> {
        self.or(self.store.context(user_id), None)
    }

    fn contexts(&self, user_ids: &[&str]) -> Vec<Context> {
        self.or(self.store.contexts(user_ids), Vec::new())
    }

    fn saved_replies(&self) -> Vec<SavedReply> {
        self.or(self.store.saved_replies(), Vec::new())
    }

    fn typed_at(&self, typist: &Typist) -> Option<i64> {
        self.typing.and_then(|t| t.borrow().get(typist))
    }

    fn webhooks(&self) -> Rc<crate::desk::webhooks::Hooks> {
        self.hooks.clone()
    }

    fn webhook_pending(&self, endpoint_id: &str) -> usize {
        self.or(self.store.webhook_pending(endpoint_id), 0)
    }

    fn webhook_log(&self) -> Vec<crate::protocol::webhooks::DeliveryLog> {
        self.or(self.store.webhook_log(), Vec::new())
    }
}

/// Message and event ids, secrets and socket ids without a call into JavaScript per draw: SHA-256
/// over a 256-bit seed drawn from the runtime's CSPRNG once per instance and a counter (a
/// hash-based generator: an id says nothing about the seed or about other ids). Secrets
/// (tokens, tickets, invite codes) and socket ids come from a second seed of their own, drawn
/// with the first, which no id ever shows any part of: SHA-256 of a secret 256-bit key and a
/// counter is a keyed pseudorandom function, as unpredictable as the CSPRNG's own output to
/// anyone without the key (the key lives only in this instance's memory; a new instance draws
/// new seeds, so a counter that starts again never repeats an output).
pub struct IdStream {
    seed: [u8; 32],
    counter: u64,
    secret_seed: [u8; 32],
    secrets: u64,
}

impl IdStream {
    pub(super) fn seeded() -> worker::Result<Self> {
        Ok(IdStream { seed: random_bytes()?, counter: 0, secret_seed: random_bytes()?, secrets: 0 })
    }

    fn next(&mut self) -> String {
        use sha2::{Digest, Sha256};
        self.counter += 1;
        let digest = Sha256::new().chain_update(self.seed).chain_update(self.counter.to_le_bytes()).finalize();
        let mut sixteen = [0u8; 16];
        sixteen.copy_from_slice(&digest[..16]);
        uuid::Builder::from_random_bytes(sixteen).into_uuid().to_string()
    }

    /// 32 bytes no one can predict without the instance's secret seed.
    pub(super) fn secret(&mut self) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        self.secrets += 1;
        Sha256::new().chain_update(self.secret_seed).chain_update(self.secrets.to_le_bytes()).finalize().into()
    }
}

/// Draws from the instance's stream, seeding it first if this instance has not yet.
pub(super) fn draw<T>(ids: &RefCell<Option<IdStream>>, f: impl FnOnce(&mut IdStream) -> T) -> Option<T> {
    let mut ids = ids.borrow_mut();
    if ids.is_none() {
        *ids = IdStream::seeded().ok();
    }
    ids.as_mut().map(f)
}

/// Ids and secrets for one event. Randomness does not fail in workerd; if it ever did, the step's
/// effects are thrown away (`failed`), never performed with a weak secret.
pub struct RandomFresh<'a> {
    ids: &'a RefCell<Option<IdStream>>,
    pub failed: bool,
}

impl<'a> RandomFresh<'a> {
    pub fn new(ids: &'a RefCell<Option<IdStream>>) -> Self {
        RandomFresh { ids, failed: false }
    }
}

impl Fresh for RandomFresh<'_> {
    fn id(&mut self) -> String {
        draw(self.ids, IdStream::next).unwrap_or_else(|| {
            self.failed = true;
            String::new()
        })
    }

    fn secret(&mut self) -> [u8; 32] {
        draw(self.ids, IdStream::secret).unwrap_or_else(|| {
            self.failed = true;
            [0; 32]
        })
    }
}
