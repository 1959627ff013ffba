//! Uploads and the R2 side of attachments: a file's HTTP upload (credential, the core's admission,
//! the body read and counted, its bytes checked, stored in R2, recorded as a message), and the
//! alarm's removal from R2 of deleted conversations' files. A fourth `impl Desk`, split from
//! `desk_object.rs` along this seam; the decisions are the core's (`desk::attachment`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use futures_util::StreamExt;
use worker::{console_log, Bucket, Env, Headers, HttpMetadata, Request, Response, Result};

use super::connect::Via;
use super::view::RandomFresh;
use super::{now, Desk};
use crate::attachments::{
    content_matches, object_key, sanitize_name, ttl_from_setting, Attachment, AttachmentLimits, Signer,
    MAX_ATTACHMENT_BYTES,
};
use crate::desk::attachment::{self, Recorded};
use crate::desk::{Fresh, Sender, Write};
use crate::error::HttpError;
use crate::router::refuse;
use crate::routes::desk_in;
use crate::routes::request_url::RequestUrl;
use crate::sockets::Tagged;
use crate::store::Store;

/// Keys removed from R2 per alarm run (R2 deletes at most 1,000 per call).
const PURGE_SLICE: u32 = 1000;

/// What the object needs for files: the `ATTACHMENTS` bucket, `ATTACHMENT_SECRET`, the URL
/// lifetime, the limits, and this desk's name (learnt from the first request, kept in SQLite).
pub(super) struct Files {
    bucket: Option<Bucket>,
    secret: Option<String>,
    ttl_ms: i64,
    pub limits: AttachmentLimits,
    pub(super) desk: RefCell<Option<String>>,
    /// Made once the desk's name is known: every event's view holds it (a pointer, no copy).
    signer: RefCell<Option<Rc<Signer>>>,
}

impl Files {
    pub fn new(env: &Env) -> Self {
        let var = |key: &str| env.var(key).ok().map(|v| v.to_string());
        let secret = env.secret("ATTACHMENT_SECRET").ok().map(|s| s.to_string()).or_else(|| var("ATTACHMENT_SECRET"));
        Files {
            bucket: env.bucket("ATTACHMENTS").ok(),
            secret: secret.filter(|s| !s.is_empty()),
            ttl_ms: ttl_from_setting(var("ATTACHMENT_URL_TTL_MS").as_deref()),
            limits: AttachmentLimits::from_vars(var),
            desk: RefCell::new(None),
            signer: RefCell::new(None),
        }
    }
}

impl Desk {
    /// Remembers this desk's name from a request's path (once per instance; in SQLite, so a
    /// socket event after hibernation can sign URLs without a request).
    pub(super) fn learn_desk(&self, path: &str) -> Result<()> {
        if self.files.desk.borrow().is_some() {
            return Ok(());
        }
        if let Some(desk) = desk_in(path) {
            self.store()?.remember_desk_name(desk)?;
            *self.files.desk.borrow_mut() = Some(desk.to_owned());
        }
        Ok(())
    }

    /// What signs this desk's URLs; `None` when attachments are not configured.
    pub(super) fn signer(&self, store: &Store) -> Result<Option<Rc<Signer>>> {
        if self.files.secret.is_none() || self.files.bucket.is_none() {
            return Ok(None);
        }
        if let Some(signer) = self.files.signer.borrow().as_ref() {
            return Ok(Some(signer.clone()));
        }
        let known = self.files.desk.borrow().clone();
        let desk = match known {
            Some(desk) => Some(desk),
            None => {
                let stored = store.desk_name()?;
                self.files.desk.borrow_mut().clone_from(&stored);
                stored
            }
        };
        let signer = desk
            .zip(self.files.secret.clone())
            .map(|(desk, secret)| Rc::new(Signer { secret, desk, ttl_ms: self.files.ttl_ms }));
        self.files.signer.borrow_mut().clone_from(&signer);
        Ok(signer)
    }

    /// `POST /desks/{desk}/visitor/upload?ticket=&name=&type=` or `…/admin/upload?userId=&name=&type=`
    /// with the file as the body: 201 `{"id","seq","at","attachment","url","expiresAt"}`.
    pub(super) async fn upload(&self, mut req: Request, by_agent: bool) -> Result<Response> {
        let store = self.store()?;
        let (Some(bucket), Some(signer)) = (self.files.bucket.clone(), self.signer(&store)?) else {
            return refuse(HttpError::AttachmentsDisabled);
        };
        let raw_url = req.inner().url();
        let url = RequestUrl::split(&raw_url);
        let param = |key: &str| url.param(key);
        let size = match req.headers().get("Content-Length")?.and_then(|v| v.trim().parse::<u64>().ok()) {
            Some(size) => size,
            None => return refuse(HttpError::LengthRequired),
        };
        // Too big is said before any credential is looked at or any byte read.
        if size > MAX_ATTACHMENT_BYTES {
            return refuse(HttpError::TooLarge);
        }
        let (declared_type, target) = (param("type").unwrap_or_default(), param("userId"));
        let request = attachment::Request { target: target.as_deref(), declared_type: &declared_type, size };
        let now = now();
        let (sender, consume) = if by_agent {
            match self.sign_in(&store, &req, now, Via::TicketRequest).await? {
                Ok(admitted) => (Sender::Agent { id: admitted.agent.id, role: admitted.agent.role }, None),
                Err(e) => return refuse(e),
            }
        } else {
            let tagged = Tagged::new(&self.state);
            let view = self.view(&store, &tagged)?;
            let decided = attachment::visitor_by_ticket(param("ticket").as_deref(), &view, now);
            if let Some(e) = view.failure() {
                return Err(e);
            }
            match decided {
                Ok((sender, used)) => (sender, Some(used)),
                Err(e) => return refuse(e),
            }
        };
        let tagged = Tagged::new(&self.state);
        let view = self.view(&store, &tagged)?;
        let admitted = attachment::admit(&sender, &request, &self.files.limits, &view, now);
        if let Some(e) = view.failure() {
            return Err(e);
        }
        let admitted = match admitted {
            Ok(admitted) => admitted,
            Err(e) => return refuse(e),
        };
        // The ticket is used up by an upload let in, before anything is awaited.
        if let Some(used) = consume {
            self.write(&store, &used, now)?;
        }
        let bytes = match read_counted(&mut req, size).await? {
            Ok(bytes) => bytes,
            Err(e) => return refuse(e),
        };
        if !content_matches(admitted.kind, &bytes) {
            return refuse(HttpError::BadType("the file's content is not what its type says"));
        }
        let mut fresh = RandomFresh::new(&self.ids);
        let id = fresh.id();
        if fresh.failed {
            return Err(worker::Error::RustError("no randomness".into()));
        }
        let name = sanitize_name(&param("name").unwrap_or_default(), admitted.kind);
        let mime = admitted.kind.mime.to_owned();
        let file = Attachment { id, name: name.clone(), size: bytes.len() as u64, mime: mime.clone() };
        let key = object_key(&signer.desk, &admitted.user_id, &file.id);
        let metadata = HttpMetadata { content_type: Some(mime), ..Default::default() };
        let custom = HashMap::from([("name".to_owned(), name)]);
        bucket.put(key.clone(), bytes).http_metadata(metadata).custom_metadata(custom).execute().await?;

        // Decided again after the awaits: the conversation may have changed meanwhile.
        let (store, now) = (self.store()?, super::now());
        let tagged = Tagged::new(&self.state);
        let view = self.view(&store, &tagged)?;
        let mut fresh = RandomFresh::new(&self.ids);
        let decided = attachment::record(&sender, &request, file.clone(), &self.files.limits, &view, now, &mut fresh);
        let failure = view.failure();
        let recorded = match decided {
            Ok(recorded) if failure.is_none() && !fresh.failed => recorded,
            refused => {
                bucket.delete(key).await?;
                return match (refused, failure) {
                    (_, Some(e)) => Err(e),
                    (Err(e), None) => refuse(e),
                    (Ok(_), None) => Err(worker::Error::RustError("no randomness".into())),
                };
            }
        };
        let Recorded { effects, message } = recorded;
        self.perform(None, effects, &tagged, now)?;
        let signed = signer.sign(&admitted.user_id, &file.id, now);
        let answer = serde_json::json!({
            "id": message.id, "seq": message.seq, "at": message.at, "attachment": file,
            "url": signed.url, "expiresAt": signed.expires_at,
        });
        let headers = Headers::new();
        headers.set("Content-Type", "application/json; charset=utf-8")?;
        headers.set("Cache-Control", "no-store")?;
        headers.set("X-Content-Type-Options", "nosniff")?;
        if !by_agent {
            headers.set("Access-Control-Allow-Origin", "*")?;
        }
        Ok(Response::ok(answer.to_string())?.with_status(201).with_headers(headers))
    }

    /// The alarm's part: removes a slice of deleted conversations' files from R2, then their keys
    /// from the trash. Returns whether more wait (the alarm comes back right away).
    pub(super) async fn purge_attachments(&self) -> Result<bool> {
        let Some(bucket) = self.files.bucket.clone() else {
            return Ok(false);
        };
        let keys = self.store()?.trashed(PURGE_SLICE)?;
        if keys.is_empty() {
            return Ok(false);
        }
        bucket.delete_multiple(keys.iter().map(String::as_str).collect()).await?;
        self.store()?.untrash(&keys)?;
        console_log!("attachments purged: {}", keys.len());
        Ok(keys.len() as u32 == PURGE_SLICE)
    }

    /// After a write: whether files wait to be removed from R2 (then the alarm must fire now).
    pub(super) fn purge_due(&self, store: &Store, write: &Write) -> Result<bool> {
        Ok(matches!(write, Write::Delete { .. }) && self.files.bucket.is_some() && !store.trashed(1)?.is_empty())
    }
}

/// The body, counted as it arrives: more than its `Content-Length` (or than the limit) stops the
/// read at once with `too_large`; less is a broken upload.
async fn read_counted(req: &mut Request, declared: u64) -> Result<std::result::Result<Vec<u8>, HttpError>> {
    let limit = declared.min(MAX_ATTACHMENT_BYTES);
    let mut stream = req.stream()?;
    let mut bytes = Vec::with_capacity(limit as usize);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if bytes.len() as u64 + chunk.len() as u64 > limit {
            return Ok(Err(HttpError::TooLarge));
        }
        bytes.extend_from_slice(&chunk);
    }
    if bytes.len() as u64 != declared {
        return Ok(Err(HttpError::BadRequest("the body is shorter than its Content-Length")));
    }
    Ok(Ok(bytes))
}
