//! Live support chat on Cloudflare's edge: one Durable Object per support desk routes each admin
//! reply to the visitor it is for, and keeps every message and unread count in SQLite.
//!
//! The map, from the wire inwards:
//! - [`protocol`]: the wire contract — inbound/outbound frames (serde, `tag = "type"`), limits,
//!   and the one `parse` of a text frame. Documented frame by frame in `docs/protocol.md`;
//!   `protocol::budget` measures frames as sent and cuts lists to the frame budget;
//!   `protocol::names` the one rule for display names (no blank look-alikes, check marks or
//!   imitations of the default `Visitor 3F0C1A`); `protocol::context` a visitor's page report
//!   and what agents see of it, checked field by field; `protocol::saved_replies` their limits;
//!   `protocol::settings` the desk's settings, agents' status and the status endpoint's body;
//!   `protocol::webhooks` the webhook management frames, events and delivery log.
//! - [`push`]: Web Push to agents, the pure half — the VAPID keys and JWT (RFC 8292), RFC 8291's
//!   key derivation and message layout (ECDH and AES-GCM are WebCrypto's, in the glue), the
//!   notification's text, what a push service's answer means.
//! - [`error`]: every refusal, each variant with its wire code (frames) or HTTP status.
//! - [`routes`]: which endpoint an HTTP request is for and whether it may reach a desk;
//!   `routes::request_url` the request URL's parts (authority, path, query parameters) read from
//!   the runtime's canonical string, without the `url` crate.
//! - [`directory`]: which desks exist — the `DESKS` list, the Worker's per-isolate memory of the
//!   desks the owner created (and how rarely an unknown name may re-read them), creating one.
//! - [`auth`]: visitor and agent tokens (stored hashed), secrets compared in constant time.
//! - [`access`]: Cloudflare Access sign-in for agents, the pure half — configuration, reading a
//!   `Cf-Access-Jwt-Assertion`, the header and claims rules; `access::keys` the key set and when to
//!   refetch it.
//! - [`attachments`]: files, the pure half — the type allow-list, magic bytes, safe names, the
//!   R2 key, the signed URLs files are served through, and the upload limits.
//! - [`email`]: emails, the pure half — the visitor's follow-up and the agents' unanswered alert
//!   as MIME (`email::mime`, our own writer), the link back to the page, signed unsubscribe URLs.
//! - [`json_fields`]: small JSON objects read by hand on cold paths (Access tokens and keys, stored
//!   contexts, HTTP bodies): one shared reader instead of a serde derive per type.
//! - [`identity`]: verified identity — a host site vouches for a logged-in user with an HMAC.
//! - [`limits`]: abuse limits — token buckets per visitor (not per socket) and per agent socket (big
//!   answers cost more tokens), message bytes per visitor per day, sockets per visitor — with their
//!   defaults and the Worker variables that change them; `limits::network` the deployment-wide
//!   half: an address's network (IPv4 /24, IPv6 /48 and /64) and the new-visitor and sign-in
//!   decisions made for it.
//! - [`desk`]: the pure core — one `step(sender, frame, view, now, fresh) -> effects` deciding
//!   rights, state transitions and routing. It reads through the read-only `desk::View` (SQLite
//!   in the glue, `desk::memory` in tests); `desk::conversation` holds messages, notes, status,
//!   assignment; `desk::pages` history, list and search; `desk::team` agents, sign-in, invites and revocation;
//!   `desk::moderation` deleting and blocking, the storage budget and retention;
//!   `desk::ticket` the single-use tickets browsers present instead of a credential;
//!   `desk::attachment` who may upload a file where, its message, who gets its signed URL;
//!   `desk::context` who and where a visitor is (visits, pages, device, attributes);
//!   `desk::saved_replies` the desk's saved replies and who manages them;
//!   `desk::push` who may subscribe to Web Push, batching a push per conversation, who is pushed;
//!   `desk::typing` "typing…" both ways, throttled, never stored; `desk::seen` the visitor's
//!   seen mark (stored) and the agents' read mark told to the visitor;
//!   `desk::notify` who is told by email and when (follow-up, unanswered, limits, opt-in);
//!   `desk::availability` agents' status, business hours, settings, the away message and emails,
//!   with `desk::zone` the time zone arithmetic (tzdata's rules in `desk::zones`);
//!   `desk::webhooks` the events a step emits to webhooks, their bodies, signatures and retries. No
//!   `worker`, no clock, no randomness: those come in as arguments, so it is tested natively.
//! - [`session`]: what a socket gets when it opens or resumes (`since` + `epoch`);
//!   `session::liveness` when a silent socket counts as gone, the sweep's groups, and when the
//!   sweep runs next (when the first socket could go stale, 30-75 s).
//! - [`presence`]: who is online, as the runtime's sockets last said, remembered per awake
//!   instance and forgotten for a visitor whenever one of its sockets opens or closes.
//! - [`view_cache`]: the glue's bounded in-memory copy of conversation rows and client ids, kept
//!   in step with every write, so a message costs its writes and no reads.
//! - [`schema`]: the SQLite schema as its migrations, and the statements that keep its derived
//!   columns true (host tests run them on SQLite: tests/schema.rs); `schema::messages_rebuild`
//!   v19's rebuild of `messages` without the `UNIQUE` on `id`, run where its copy is bounded.
//! - `store` (wasm only): writes by intent;
//!   `store::queries` the reads; `store::upkeep` the database's size and what retention finds due;
//!   `store::tickets` tickets by hash; `store::attachments` files' rows and the keys awaiting removal;
//!   `store::context` visitors' contexts and saved replies; `store::mail` email state and log;
//!   `store::webhooks` endpoints, the outbox and the delivery log;
//!   `store::push` Web Push's subscriptions, batches and pending pushes; `store::row` rows read by
//!   position (`raw()`), never through serde_wasm_bindgen.
//! - `desk_object` (wasm only): the `Desk` Durable Object — accepts and tags hibernatable
//!   sockets, runs the core, performs its effects (writes first, then sends);
//!   `desk_object::object` the class the runtime instantiates, a handle on the desk, with the
//!   socket events exported by hand; `desk_object::batch` handles frames in batches, one commit
//!   for many (group commit), a frame that comes alone at once; `desk_object::buckets` the
//!   per-sender frame buckets (admit, charge); `desk_object::view` is the core's `View` over SQLite and the runtime's sockets;
//!   `desk_object::effects` carries out the core's effects (writes, sends, closes, alarm times);
//!   `desk_object::visitor` a visitor's upgrade, answered without an await when it needs none;
//!   `desk_object::connect` opens agent sockets and serves the desk's HTTP endpoints;
//!   `desk_object::upkeep` measures storage for the budget and runs retention from the alarm;
//!   `desk_object::limiter` asks the client's network's `Limiter`; `desk_object::status` answers
//!   `GET /desks/{desk}/status`; `desk_object::sweep` the alarm:
//!   the stale-socket sweep in bounded slices, then retention and snoozes;
//!   `desk_object::attachments` uploads into R2 and the alarm's removal of deleted files;
//!   `desk_object::ids` the object's clock and randomness; `desk_object::mail` the alarm's email
//!   pass (`send_email`) and the unsubscribe page; `desk_object::webhooks` the alarm's
//!   webhook deliveries (signed, with a timeout, in bounded batches);
//!   `desk_object::push` Web Push's delivery from the alarm (WebCrypto encryption and signature, retries, gone subscriptions).
//! - `limiter_object` (wasm only): the `Limiter` Durable Object, one per network, shared by every
//!   desk: new-visitor buckets, the trusted tier and failed sign-ins per address, in SQLite.
//! - `sockets` (wasm only): tags, attachments and liveness of hibernatable sockets;
//!   `sockets::labels` who each socket is, read from its attachment once per awake instance.
//! - `outgoing` (wasm only): the requests the worker sends, built on the runtime's `RequestInit`.
//! - `access_keys` (wasm only): fetches and caches the Access key set, verifies RS256 with WebCrypto.
//! - `router` (wasm only): the Worker's fetch handler in front of the desk objects;
//!   `router::entry` its `fetch` export, which hands a request needing no await straight to its
//!   desk object's own promise;
//!   `router::desks` answers unknown desks 404 before any object is touched, and creates desks;
//!   `router::files` serves a file through its signed URL, straight from R2.
//! - `object_class` (wasm only): the exported class of an object that only answers `fetch`
//!   (`Limiter`, `Directory`), by hand instead of `#[durable_object]`'s every handler.
//! - `directory_object` (wasm only): the `Directory` Durable Object, the deployment's one SQLite
//!   record of created desks.
//!
//! Everything that touches the JavaScript runtime is compiled for wasm32 only, so `cargo test`
//! runs the core on the host.

pub mod access;
pub mod attachments;
pub mod auth;
pub mod desk;
pub mod directory;
pub mod email;
pub mod error;
pub mod identity;
pub mod json_fields;
pub mod limits;
pub mod presence;
pub mod protocol;
pub mod push;
pub mod routes;
pub mod schema;
pub mod session;
pub mod view_cache;

#[cfg(target_arch = "wasm32")]
mod access_keys;
#[cfg(target_arch = "wasm32")]
mod desk_object;
#[cfg(target_arch = "wasm32")]
mod directory_object;
#[cfg(target_arch = "wasm32")]
mod limiter_object;
#[cfg(target_arch = "wasm32")]
mod object_class;
#[cfg(target_arch = "wasm32")]
mod outgoing;
#[cfg(target_arch = "wasm32")]
mod router;
#[cfg(target_arch = "wasm32")]
mod sockets;
#[cfg(target_arch = "wasm32")]
mod store;
