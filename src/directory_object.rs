//! The `Directory` Durable Object: the one place a deployment records the desks its owner created
//! (`POST /desks/{desk}`), in SQLite, so a created desk survives restarts and every isolate of the
//! Worker reads the same list. One instance per deployment ([`NAME`]).
//!
//! Only the Worker talks to it, on two internal routes: `GET /desks?after=<seq>` answers the desks
//! created after that `seq` (a [`DirectoryPage`]), `POST /desks/{desk}` records one (201, or 200
//! if it was there, or 409 `too_many_desks` at `MAX_DESKS`). The rules are in
//! [`crate::directory`]; this file stores and reads. Desks listed in `DESKS` are never written
//! here, and no request for an unknown name writes anything.

use std::cell::Cell;

use worker::{console_log, Date, Env, Method, Request, Response, Result, SqlStorageValue as V, State};

use crate::directory::{self, DirectoryPage, MAX_MAX_DESKS};
use crate::error::HttpError;
use crate::object_class::hand_exported_object;
use crate::router::refuse;
use crate::routes::request_url::RequestUrl;
use crate::store::row::{first, rows};

/// The name of the deployment's one directory object.
pub const NAME: &str = "directory";

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS desks (
    seq INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
)";

/// The object's state; the class the runtime instantiates is [`class::Directory`].
pub struct Directory {
    state: State,
    /// `MAX_DESKS`: how many desks may be created.
    max_desks: u32,
    schema_checked: Cell<bool>,
}

impl Directory {
    fn new(state: State, env: Env) -> Self {
        console_log!("directory object started");
        let max_desks = directory::max_desks(env.var("MAX_DESKS").ok().map(|v| v.to_string()).as_deref());
        Directory { state, max_desks, schema_checked: Cell::new(false) }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        let raw_url = req.inner().url();
        let url = RequestUrl::split(&raw_url);
        let path = url.path;
        match (req.method(), path.strip_prefix("/desks")) {
            (Method::Get, Some("")) => {
                let after = url.param("after").and_then(|v| v.parse::<i64>().ok());
                let page = self.read(after.unwrap_or(0))?;
                console_log!("directory read: {} desks created after {}", page.desks.len(), after.unwrap_or(0));
                crate::router::json_response(&page)
            }
            (Method::Post, Some(rest)) => match rest.strip_prefix('/') {
                Some(desk) => self.create(desk),
                None => refuse(HttpError::NotFound),
            },
            _ => refuse(HttpError::NotFound),
        }
    }
}

hand_exported_object!(Directory);

impl Directory {
    fn sql(&self) -> Result<worker::SqlStorage> {
        let sql = self.state.storage().sql();
        if !self.schema_checked.get() {
            sql.exec(SCHEMA, None)?;
            self.schema_checked.set(true);
        }
        Ok(sql)
    }

    /// The desks created after `after`, oldest first, at most [`MAX_MAX_DESKS`].
    fn read(&self, after: i64) -> Result<DirectoryPage> {
        let found = rows(self.sql()?.exec(
            "SELECT name, seq FROM desks WHERE seq > ? ORDER BY seq LIMIT ?",
            vec![V::Integer(after), V::Integer(MAX_MAX_DESKS.into())],
        )?)?;
        let last = found.last().map_or(after, |r| r.int(1));
        Ok(DirectoryPage { desks: found.into_iter().map(|mut r| r.str(0)).collect(), last })
    }

    /// Records `desk` unless it is there or the cap is reached. The check and the insert run with
    /// no `await` between them, so two creates at once cannot both pass the cap.
    fn create(&self, desk: &str) -> Result<Response> {
        let sql = self.sql()?;
        let exists =
            first(sql.exec("SELECT seq AS n FROM desks WHERE name = ?", vec![V::String(desk.to_owned())])?)?.is_some();
        let count = first(sql.exec("SELECT COUNT(*) AS n FROM desks", None)?)?.map_or(0, |r| r.int(0));
        let created = match directory::create(desk, exists, count.clamp(0, u32::MAX.into()) as u32, self.max_desks) {
            Ok(created) => created,
            Err(e) => return refuse(e),
        };
        if created.created {
            sql.exec(
                "INSERT INTO desks (name, created_at) VALUES (?, ?)",
                vec![V::String(desk.to_owned()), V::Integer(Date::now().as_millis() as i64)],
            )?;
            console_log!("directory: desk {desk} created");
        }
        Ok(crate::router::json_response(&created)?.with_status(created.status()))
    }
}
