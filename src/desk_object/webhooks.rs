//! Webhooks, the glue's half: the deployment's settings for them (`WEBHOOKS_ALLOW_LOOPBACK`,
//! `WEBHOOK_RETRY_BASE_MS`, `WEBHOOK_TIMEOUT_MS`, `WEBHOOK_MAX_PENDING`), the core's view of the
//! endpoints (cached, dropped on every endpoint write), and the alarm's delivery run: what is due,
//! at most [`BATCH`] a run, sent at once with a timeout, each outcome recorded as
//! `desk::webhooks::after_attempt` decides. A fourth `impl Desk`.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use futures_util::future::{join_all, select, Either};
use worker::{console_error, console_log, AbortController, Delay, Env, Fetch, Headers, Request};

use super::Desk;
use crate::desk::webhooks::{after_attempt, signature, Attempt, Hooks, Next, DEFAULT_RETRY_BASE_MS};
use crate::protocol::webhooks::{DeliveryLog, DeliveryStatus, WEBHOOK_MAX_PENDING};
use crate::protocol::WebhookEvent;
use crate::store::{Due, Store};

/// Deliveries sent per alarm run (concurrently); more due: the alarm runs again right after.
const BATCH: usize = 10;
/// How long a receiver has to answer, by default (`WEBHOOK_TIMEOUT_MS` changes it).
const DEFAULT_TIMEOUT_MS: u64 = 10_000;
/// Characters of an error kept in the log.
const ERROR_CHARS: usize = 200;

/// The deployment's webhook settings and the cached endpoints.
pub(super) struct Config {
    allow_loopback: bool,
    max_pending: usize,
    retry_base_ms: i64,
    timeout_ms: u64,
    /// The endpoints as SQLite says (`None`: read them on first need).
    cache: RefCell<Option<Rc<Hooks>>>,
}

impl Config {
    pub fn new(env: &Env) -> Self {
        let var = |key: &str| env.var(key).ok().map(|v| v.to_string());
        let number = |key: &str| var(key).and_then(|v| v.trim().parse::<u64>().ok()).filter(|n| *n > 0);
        Config {
            allow_loopback: var("WEBHOOKS_ALLOW_LOOPBACK").is_some_and(|v| v.trim() == "true"),
            max_pending: number("WEBHOOK_MAX_PENDING").map_or(WEBHOOK_MAX_PENDING, |n| n as usize),
            retry_base_ms: number("WEBHOOK_RETRY_BASE_MS").map_or(DEFAULT_RETRY_BASE_MS, |n| n as i64),
            timeout_ms: number("WEBHOOK_TIMEOUT_MS").unwrap_or(DEFAULT_TIMEOUT_MS),
            cache: RefCell::new(None),
        }
    }

    /// An endpoint was written: read them again on next need.
    pub fn forget(&self) {
        *self.cache.borrow_mut() = None;
    }

    /// The core's [`Hooks`]: cached, or read from SQLite.
    pub fn hooks(&self, store: &Store) -> worker::Result<Rc<Hooks>> {
        if let Some(h) = self.cache.borrow().as_ref() {
            return Ok(h.clone());
        }
        let hooks = Rc::new(Hooks {
            endpoints: store.webhooks()?,
            desk: store.desk_name()?.unwrap_or_default(),
            allow_loopback: self.allow_loopback,
            max_pending: self.max_pending,
        });
        *self.cache.borrow_mut() = Some(hooks.clone());
        Ok(hooks)
    }
}

fn cut(text: &str) -> String {
    text.chars().take(ERROR_CHARS).collect()
}

impl Desk {
    /// Sends the deliveries due now (at most [`BATCH`]) and records what came of each; returns
    /// when the next one is due.
    pub(super) async fn deliver_webhooks(&self, now: i64) -> worker::Result<Option<i64>> {
        let due = self.store()?.due_deliveries(now, BATCH)?;
        if due.is_empty() {
            return self.store()?.next_delivery();
        }
        let timeout = self.webhooks.timeout_ms;
        let attempts = join_all(due.iter().map(|d| attempt(d, timeout))).await;
        // Synchronous from here: the outcomes are written together.
        let store = self.store()?;
        let done = super::now();
        for (d, attempt) in due.iter().zip(attempts) {
            let n = u32::try_from(d.attempts).unwrap_or(0).saturating_add(1);
            let next = after_attempt(&attempt, n, d.queued_at, done, self.webhooks.retry_base_ms);
            let (code, error) = match &attempt {
                Attempt::Answered(code) => (Some(*code), None),
                Attempt::Failed(why) => (None, Some(cut(why))),
            };
            let status = match next {
                Next::Delivered => {
                    store.finish_delivery(d.id)?;
                    DeliveryStatus::Delivered
                }
                Next::Retry { at } => {
                    store.retry_delivery(d.id, n, at)?;
                    DeliveryStatus::Retrying
                }
                Next::GiveUp => {
                    store.finish_delivery(d.id)?;
                    console_error!(
                        "webhook: gave up event {} ({}) to endpoint {} after {n} attempt(s): {}",
                        d.event_id,
                        d.event,
                        d.endpoint_id,
                        error.clone().unwrap_or_else(|| format!("HTTP {}", code.unwrap_or(0)))
                    );
                    DeliveryStatus::Failed
                }
            };
            console_log!("webhook: {} {} to {}: {} (attempt {n})", d.event, d.event_id, d.endpoint_id, status.as_str());
            let Some(event) = WebhookEvent::parse(&d.event) else {
                continue;
            };
            store.log_delivery(&DeliveryLog {
                endpoint_id: d.endpoint_id.clone(),
                event_id: d.event_id.clone(),
                event,
                status,
                code,
                error,
                attempts: n,
                at: done,
            })?;
        }
        store.next_delivery()
    }

    /// The view's endpoints (through `desk_object/view.rs`).
    pub(super) fn hooks(&self, store: &Store) -> worker::Result<Rc<Hooks>> {
        self.webhooks.hooks(store)
    }
}

/// One attempt: POST the stored body, signed, within the timeout.
async fn attempt(d: &Due, timeout_ms: u64) -> Attempt {
    let request = || -> worker::Result<Request> {
        let headers = Headers::new();
        headers.set("Content-Type", "application/json")?;
        headers.set("User-Agent", "support-desk-webhooks")?;
        headers.set("X-Signature", &signature(&d.secret, &d.body))?;
        headers.set("X-Event-Id", &d.event_id)?;
        headers.set("X-Event-Type", &d.event)?;
        crate::outgoing::post(&d.url, Some(&headers), Some(&d.body.as_str().into()))
    };
    let request = match request() {
        Ok(r) => r,
        Err(e) => return Attempt::Failed(format!("bad request: {e}")),
    };
    let controller = AbortController::default();
    let signal = controller.signal();
    let fetch = Fetch::Request(request);
    let sent = Box::pin(fetch.send_with_signal(&signal));
    let timer = Box::pin(Delay::from(Duration::from_millis(timeout_ms)));
    let outcome = match select(sent, timer).await {
        Either::Left((Ok(response), _)) => Attempt::Answered(response.status_code()),
        Either::Left((Err(e), _)) => Attempt::Failed(e.to_string()),
        Either::Right(_) => {
            controller.abort();
            Attempt::Failed(format!("no answer within {timeout_ms} ms"))
        }
    };
    outcome
}
