//! Which desks the Worker forwards to (wasm only): a desk exists if `DESKS` lists it or the owner
//! created it. Created desks are read from the `Directory` object and remembered by the isolate,
//! so a known desk costs no extra call and an unknown name at most one read per isolate per
//! `REREAD_MS` (`directory::KnownDesks`). Creating a desk (`POST /desks/{desk}`) is checked here
//! and recorded by the directory; no desk object is touched either way.

use std::cell::RefCell;

use worker::{Date, Env, Headers, Request, Response, Result};

use super::refuse;
use crate::directory::{self, Created, DeskList, DirectoryPage, KnownDesks, Lookup};
use crate::directory_object::NAME;

thread_local! {
    /// This isolate's memory of the created desks. Borrowed only between awaits, never across one.
    static KNOWN: RefCell<KnownDesks> = RefCell::new(KnownDesks::default());
}

/// The binding of the `Directory` class (wrangler.toml).
const BINDING: &str = "DIRECTORY";

/// Whether `desk` exists, as far as this isolate knows without asking the directory (`Ask`: it
/// must be asked, through `exists`).
pub fn lookup(env: &Env, desk: &str) -> Lookup {
    let list = DeskList::from_setting(super::setting(env, "DESKS").as_deref());
    let now = Date::now().as_millis() as i64;
    KNOWN.with(|k| k.borrow().lookup(&list, desk, now))
}

/// Whether `desk` exists on this deployment: listed in `DESKS` (`*`: any), or created.
pub async fn exists(env: &Env, desk: &str) -> Result<bool> {
    let after = match lookup(env, desk) {
        Lookup::Exists => return Ok(true),
        Lookup::Missing => return Ok(false),
        Lookup::Ask { after } => after,
    };
    let now = Date::now().as_millis() as i64;
    KNOWN.with(|k| k.borrow_mut().asking(now));
    let url = format!("https://{NAME}/desks?after={after}");
    let mut answer = env.durable_object(BINDING)?.get_by_name(NAME)?.fetch_with_str(&url).await?;
    if answer.status_code() != 200 {
        return Err(worker::Error::RustError(format!("directory read answered {}", answer.status_code())));
    }
    let page = DirectoryPage::read(&answer.text().await?).map_err(|_| bad_answer())?;
    Ok(KNOWN.with(|k| {
        let mut known = k.borrow_mut();
        known.read(page);
        known.knows(desk)
    }))
}

/// `POST /desks/{desk}` with `Authorization: Bearer <ADMIN_TOKEN>`: 201 created, 200 it already
/// was; 401 without the owner's secret, 503 if admin access is closed, 409 at `MAX_DESKS`. The
/// secret is checked before the directory is called, so wrong guesses cost no object call.
pub async fn create(req: &Request, env: &Env, desk: &str) -> Result<Response> {
    let owner = env
        .secret("ADMIN_TOKEN")
        .ok()
        .map(|s| s.to_string())
        .or_else(|| env.var("ADMIN_TOKEN").ok().map(|v| v.to_string()));
    if let Err(e) = directory::owner_may_create(owner.as_deref(), req.headers().get("Authorization")?.as_deref()) {
        return refuse(e);
    }
    let forwarded = crate::outgoing::post(&format!("https://{NAME}/desks/{desk}"), None, None)?;
    let mut answer = env.durable_object(BINDING)?.get_by_name(NAME)?.fetch_with_request(forwarded).await?;
    if !matches!(answer.status_code(), 200 | 201) {
        return Ok(answer); // the directory's refusal, as it wrote it
    }
    let created = Created::read(&answer.text().await?).map_err(|_| bad_answer())?;
    KNOWN.with(|k| k.borrow_mut().created(&created.desk));
    let headers = Headers::new();
    headers.set("Content-Type", "application/json; charset=utf-8")?;
    headers.set("Cache-Control", "no-store")?;
    headers.set("X-Content-Type-Options", "nosniff")?;
    Ok(crate::router::json_response(&created)?.with_status(created.status()).with_headers(headers))
}

/// The directory answered 200 with a body that is not what it writes.
fn bad_answer() -> worker::Error {
    worker::Error::RustError("the directory's answer is not one".into())
}
