//! Desks that exist on purpose: which desk names a deployment serves (the `DESKS` variable, plus
//! the desks the owner created), the Worker's per-isolate memory of the created ones, and the
//! rules for creating one.
//!
//! Pure: the Worker hands in its settings, what the directory answered and the time; it performs
//! the reads and writes (`router::desks`, `directory_object`). Why a memory in the Worker: the
//! common request, for a listed or known desk, must cost no extra Durable Object call; why a
//! bound on re-reads: a script spraying random names must not turn each name into a call. So a
//! name the Worker does not know causes at most one read of the directory per isolate per
//! [`REREAD_MS`], and only names created since the last read travel (`after`).

use std::collections::HashSet;

use serde::Serialize;

use crate::auth::{presented_admin_secret, secret_matches};
use crate::desk::team::MIN_ADMIN_TOKEN_CHARS;
use crate::error::HttpError;
use crate::json_fields::{Fields, Refused};
use crate::protocol::valid_desk_name;

/// Desks the owner may create when `MAX_DESKS` is unset or malformed.
pub const DEFAULT_MAX_DESKS: u32 = 1_000;
/// The largest `MAX_DESKS` honoured: every isolate keeps the created names in memory (64 bytes
/// each at most), and a cold isolate reads them in one answer.
pub const MAX_MAX_DESKS: u32 = 10_000;
/// Least time between two reads of the directory caused by names this isolate does not know.
/// Also how long a desk created through one isolate may stay unknown to another that read the
/// directory just before it was created.
pub const REREAD_MS: i64 = 1_000;

/// The `DESKS` variable: the desk names this deployment serves without anyone creating them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeskList {
    /// `*`: any valid name (what `make dev`, the test harnesses and the bench set).
    Any,
    /// These names. Empty (unset): only the desks the owner created.
    Only(Vec<String>),
}

impl DeskList {
    /// Reads the setting: names separated by commas or white space, or `*`. Entries that are not
    /// valid desk names are ignored (a typo closes a desk rather than opening all).
    pub fn from_setting(setting: Option<&str>) -> Self {
        let entries: Vec<&str> =
            setting.unwrap_or("").split([',', ' ', '\n', '\t']).filter(|e| !e.is_empty()).collect();
        if entries.contains(&"*") {
            return DeskList::Any;
        }
        DeskList::Only(entries.into_iter().filter(|e| valid_desk_name(e)).map(str::to_owned).collect())
    }

    pub fn lists(&self, desk: &str) -> bool {
        match self {
            DeskList::Any => true,
            DeskList::Only(names) => names.iter().any(|n| n == desk),
        }
    }
}

/// `MAX_DESKS`: how many desks the owner may create (listed desks do not count). A missing or
/// malformed value keeps the default; values above [`MAX_MAX_DESKS`] are lowered to it.
pub fn max_desks(setting: Option<&str>) -> u32 {
    setting.and_then(|v| v.trim().parse::<u32>().ok()).map_or(DEFAULT_MAX_DESKS, |n| n.min(MAX_MAX_DESKS))
}

/// One answer of the directory: the desks created after the `seq` the Worker asked with, in the
/// order they were created, and the `seq` of the last one (the asked one when there are none).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct DirectoryPage {
    pub desks: Vec<String>,
    pub last: i64,
}

/// The directory's answer to a create: the desk, and whether this request created it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Created {
    pub desk: String,
    pub created: bool,
}

impl DirectoryPage {
    /// The `Directory`'s answer as its `Serialize` wrote it (by `json_fields`).
    pub fn read(text: &str) -> Result<DirectoryPage, Refused> {
        let mut f = Fields::parse_struct(text, &[("desks", false), ("last", false)])?;
        Ok(DirectoryPage { desks: f.strs("desks")?, last: f.i64("last")? })
    }
}

impl Created {
    /// The `Directory`'s answer to a create as its `Serialize` wrote it (by `json_fields`).
    pub fn read(text: &str) -> Result<Created, Refused> {
        let mut f = Fields::parse_struct(text, &[("desk", false), ("created", false)])?;
        Ok(Created { desk: f.str("desk")?, created: f.bool("created")? })
    }

    /// 201 when this request created the desk, 200 when it already existed.
    pub fn status(&self) -> u16 {
        if self.created {
            201
        } else {
            200
        }
    }
}

/// What the Worker should do with a desk name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// Listed, or known to have been created: forward the request.
    Exists,
    /// Not listed, not among the created desks read recently: 404, no object touched.
    Missing,
    /// Not known, and the directory may be read: ask for the desks created after this `seq`.
    Ask { after: i64 },
}

/// The Worker's memory (one per isolate) of the desks created through the directory. Desks are
/// never deleted, so a name once known stays known; only names not yet seen need a read.
#[derive(Debug, Clone, Default)]
pub struct KnownDesks {
    names: HashSet<String>,
    /// The `seq` of the last created desk read from the directory.
    last: i64,
    /// A read has completed: until then every unknown name asks (the isolate knows nothing yet).
    read: bool,
    /// When the last read was started.
    asked_at: Option<i64>,
}

impl KnownDesks {
    /// Decides a desk name at `now`: listed or known exists; otherwise the directory is asked if
    /// no read was started within [`REREAD_MS`] (or none ever completed), else the name is missing.
    pub fn lookup(&self, list: &DeskList, desk: &str, now: i64) -> Lookup {
        if list.lists(desk) || self.names.contains(desk) {
            return Lookup::Exists;
        }
        // A clock that steps back counts as "long ago": a stuck negative answer would be worse.
        let recent = self.asked_at.is_some_and(|at| now >= at && now - at < REREAD_MS);
        if self.read && recent {
            Lookup::Missing
        } else {
            Lookup::Ask { after: self.last }
        }
    }

    /// A read of the directory starts at `now`.
    pub fn asking(&mut self, now: i64) {
        self.asked_at = Some(now);
    }

    /// What a read answered: its names join the known ones (invalid ones are ignored, and at most
    /// [`MAX_MAX_DESKS`] are kept, whatever the directory says).
    pub fn read(&mut self, page: DirectoryPage) {
        for desk in page.desks {
            if self.names.len() >= MAX_MAX_DESKS as usize {
                break;
            }
            if valid_desk_name(&desk) {
                self.names.insert(desk);
            }
        }
        self.last = self.last.max(page.last);
        self.read = true;
    }

    /// This isolate created (or confirmed) a desk: it is known at once, without a read.
    pub fn created(&mut self, desk: &str) {
        if valid_desk_name(desk) && self.names.len() < MAX_MAX_DESKS as usize {
            self.names.insert(desk.to_owned());
        }
    }

    pub fn knows(&self, desk: &str) -> bool {
        self.names.contains(desk)
    }
}

/// Whether the directory may record a new desk: `exists`, it already holds that name (200, no
/// write); `count` desks were created so far, `max` may be.
pub fn create(desk: &str, exists: bool, count: u32, max: u32) -> Result<Created, HttpError> {
    if !valid_desk_name(desk) {
        return Err(HttpError::BadDesk);
    }
    if exists {
        return Ok(Created { desk: desk.to_owned(), created: false });
    }
    if count >= max {
        return Err(HttpError::TooManyDesks);
    }
    Ok(Created { desk: desk.to_owned(), created: true })
}

/// Whether a request may create desks: only the owner, by `Authorization: Bearer <ADMIN_TOKEN>`
/// (agents' tokens belong to one desk; a browser's token subprotocol is not read here). Admin
/// access closed (no `ADMIN_TOKEN`, or a weak one) is 503, as for sign-ins.
pub fn owner_may_create(owner_secret: Option<&str>, authorization: Option<&str>) -> Result<(), HttpError> {
    let owner_secret = owner_secret.filter(|t| !t.is_empty()).ok_or(HttpError::AdminDisabled)?;
    if owner_secret.chars().count() < MIN_ADMIN_TOKEN_CHARS {
        return Err(HttpError::WeakAdminToken);
    }
    let presented = presented_admin_secret(authorization, None)
        .ok_or(HttpError::Unauthorized("creating a desk needs Authorization: Bearer <ADMIN_TOKEN>"))?;
    if secret_matches(&presented, owner_secret) {
        Ok(())
    } else {
        Err(HttpError::Unauthorized("wrong admin credential"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "owner-secret-0123456789abcdef0123456789";

    fn page(desks: &[&str], last: i64) -> DirectoryPage {
        DirectoryPage { desks: desks.iter().map(|d| d.to_string()).collect(), last }
    }

    #[test]
    fn the_setting_lists_names_or_any() {
        assert_eq!(DeskList::from_setting(Some("*")), DeskList::Any);
        assert_eq!(DeskList::from_setting(Some("demo, *")), DeskList::Any);
        let list = DeskList::from_setting(Some("demo, acme-1\nshop_2 bad.name caf\u{e9} ,,"));
        assert_eq!(list, DeskList::Only(vec!["demo".into(), "acme-1".into(), "shop_2".into()]));
        assert!(list.lists("acme-1") && !list.lists("ACME-1") && !list.lists("bad.name") && !list.lists(""));
        assert_eq!(DeskList::from_setting(None), DeskList::Only(vec![]));
        assert_eq!(DeskList::from_setting(Some("  ")), DeskList::Only(vec![]));
        assert!(DeskList::Any.lists("anything"));
    }

    #[test]
    fn max_desks_has_a_default_and_a_ceiling() {
        assert_eq!(max_desks(None), DEFAULT_MAX_DESKS);
        assert_eq!(max_desks(Some("oops")), DEFAULT_MAX_DESKS);
        assert_eq!(max_desks(Some("-1")), DEFAULT_MAX_DESKS);
        assert_eq!(max_desks(Some(" 5 ")), 5);
        assert_eq!(max_desks(Some("0")), 0);
        assert_eq!(max_desks(Some("99999999")), MAX_MAX_DESKS);
    }

    #[test]
    fn listed_desks_never_ask_the_directory() {
        let known = KnownDesks::default();
        let list = DeskList::from_setting(Some("demo"));
        assert_eq!(known.lookup(&list, "demo", 0), Lookup::Exists);
        assert_eq!(known.lookup(&DeskList::Any, "whatever", 0), Lookup::Exists);
        assert_eq!(known.lookup(&list, "other", 0), Lookup::Ask { after: 0 });
    }

    #[test]
    fn unknown_names_cost_at_most_one_read_per_interval() {
        let list = DeskList::Only(vec![]);
        let mut known = KnownDesks::default();
        known.asking(1_000);
        known.read(page(&["acme"], 1));
        assert_eq!(known.lookup(&list, "acme", 1_001), Lookup::Exists);
        // A spray of names right after a read: all missing, none asks.
        for i in 0..200 {
            assert_eq!(known.lookup(&list, &format!("random-{i}"), 1_000 + i), Lookup::Missing);
        }
        // Once the interval has passed, one read, for what was created since.
        assert_eq!(known.lookup(&list, "random-x", 1_000 + REREAD_MS), Lookup::Ask { after: 1 });
        known.asking(1_000 + REREAD_MS);
        known.read(page(&["shop"], 2));
        assert_eq!(known.lookup(&list, "shop", 1_000 + REREAD_MS), Lookup::Exists);
        assert_eq!(known.lookup(&list, "random-x", 1_001 + REREAD_MS), Lookup::Missing);
        assert_eq!(known.lookup(&list, "acme", 1_001 + REREAD_MS), Lookup::Exists, "names once read stay known");
    }

    #[test]
    fn a_cold_isolate_asks_until_a_read_completes_and_a_clock_stepping_back_asks_again() {
        let list = DeskList::Only(vec![]);
        let mut known = KnownDesks::default();
        known.asking(5_000);
        // The first read is still in flight: a concurrent request must not be told "missing".
        assert_eq!(known.lookup(&list, "acme", 5_001), Lookup::Ask { after: 0 });
        known.read(page(&[], 0));
        assert_eq!(known.lookup(&list, "acme", 5_002), Lookup::Missing);
        assert_eq!(known.lookup(&list, "acme", 4_000), Lookup::Ask { after: 0 });
    }

    #[test]
    fn created_desks_are_known_at_once_and_reads_are_bounded() {
        let list = DeskList::Only(vec![]);
        let mut known = KnownDesks::default();
        known.asking(0);
        known.read(page(&[], 0));
        known.created("fresh");
        assert_eq!(known.lookup(&list, "fresh", 1), Lookup::Exists);
        known.created("bad name");
        known.read(page(&["../x", "ok"], 7));
        assert!(!known.knows("bad name") && !known.knows("../x") && known.knows("ok"));
        let flood: Vec<String> = (0..MAX_MAX_DESKS + 50).map(|i| format!("d{i}")).collect();
        known.read(DirectoryPage { desks: flood, last: 99_999 });
        assert_eq!(known.names.len(), MAX_MAX_DESKS as usize, "memory stays bounded whatever the answer");
        assert_eq!(known.lookup(&list, "zzz", REREAD_MS + 1), Lookup::Ask { after: 99_999 });
    }

    #[test]
    fn creating_is_capped_and_idempotent() {
        assert_eq!(create("acme", false, 0, 2), Ok(Created { desk: "acme".into(), created: true }));
        assert_eq!(create("acme", false, 0, 2).map(|c| c.status()), Ok(201));
        assert_eq!(create("acme", true, 2, 2).map(|c| c.status()), Ok(200), "an existing desk is 200 even at the cap");
        assert_eq!(create("acme", false, 2, 2), Err(HttpError::TooManyDesks));
        assert_eq!(create("a b", false, 0, 2), Err(HttpError::BadDesk));
        assert_eq!(create("new", false, 0, 0), Err(HttpError::TooManyDesks));
    }

    #[test]
    fn directory_answers_read_back_and_refuse_what_the_derives_refused() {
        let p = page(&["a", "b"], 7);
        assert_eq!(DirectoryPage::read(&serde_json::to_string(&p).unwrap()), Ok(p));
        let c = Created { desk: "a".into(), created: true };
        assert_eq!(Created::read(&serde_json::to_string(&c).unwrap()), Ok(c));
        for text in [
            r#"{"desks":["a"]}"#,
            r#"{"desks":["a",1],"last":1}"#,
            r#"{"desks":null,"last":1}"#,
            r#"{"desks":[],"last":1.5}"#,
            r#"{"desks":[],"last":1,"last":2}"#,
            "[[]]",
            "[[],1,2]",
        ] {
            assert_eq!(DirectoryPage::read(text), Err(Refused), "{text}");
        }
        assert_eq!(DirectoryPage::read("[[],1]"), Ok(page(&[], 1)), "by position, as the derive");
        for text in [r#"{"desk":"a"}"#, r#"{"desk":"a","created":1}"#, r#"{"desk":2,"created":true}"#, "{}"] {
            assert_eq!(Created::read(text), Err(Refused), "{text}");
        }
    }

    #[test]
    fn only_the_owner_creates_desks() {
        let bearer = format!("Bearer {SECRET}");
        assert_eq!(owner_may_create(Some(SECRET), Some(&bearer)), Ok(()));
        assert!(matches!(owner_may_create(Some(SECRET), Some("Bearer wrong")), Err(HttpError::Unauthorized(_))));
        assert!(matches!(owner_may_create(Some(SECRET), None), Err(HttpError::Unauthorized(_))));
        assert!(matches!(owner_may_create(Some(SECRET), Some(SECRET)), Err(HttpError::Unauthorized(_))));
        assert_eq!(owner_may_create(None, Some(&bearer)), Err(HttpError::AdminDisabled));
        assert_eq!(owner_may_create(Some(""), Some("Bearer ")), Err(HttpError::AdminDisabled));
        assert_eq!(owner_may_create(Some("short"), Some("Bearer short")), Err(HttpError::WeakAdminToken));
    }
}
