//! Who and where a visitor is, on the wire: the page report a widget sends (`context`), its limits
//! and validation, and what agents are shown of it (a row's `context`, the `context` frame).
//!
//! Every field is bounded and checked before anything is stored: URLs only `http(s)`, a
//! language that looks like a BCP 47 tag, a time zone that looks like an IANA name, and for
//! verified visitors at most [`MAX_ATTRIBUTES`] short attributes (strings and numbers). The widget
//! cuts what it sends to these limits (`client/protocol.js`), so a real page is never refused.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::FrameError;
use crate::json_fields::{Fields, Refused, Schema};

/// Longest page URL or referrer, in characters.
pub const MAX_URL_CHARS: usize = 2048;
/// Longest page title, in characters.
pub const MAX_TITLE_CHARS: usize = 300;
/// Longest language tag (BCP 47 allows 35 for a well-formed tag with extensions).
pub const MAX_LANGUAGE_CHARS: usize = 35;
/// Longest time zone name (the longest IANA name is 32 characters).
pub const MAX_TIME_ZONE_CHARS: usize = 64;
/// Most attributes a verified visitor's page may pass (`SupportChat.identify({attributes})`).
pub const MAX_ATTRIBUTES: usize = 20;
/// Longest attribute key: letters, digits, `_`, `-` and `.`.
pub const MAX_ATTRIBUTE_KEY_CHARS: usize = 32;
/// Longest attribute value (text), in characters.
pub const MAX_ATTRIBUTE_VALUE_CHARS: usize = 100;
/// Pages kept per visit (the latest).
pub const MAX_PAGES: usize = 20;
/// A connect more than this long after the visitor's last connect or page report starts a new
/// visit: 30 minutes, the usual web-analytics session timeout.
pub const VISIT_IDLE_MS: i64 = 30 * 60 * 1000;

/// An attribute's value: text or a number (JSON numbers are always finite).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum AttributeValue {
    Text(String),
    Number(serde_json::Number),
}

/// Text or a number, anything else refused: by hand, as serde's untagged enums buffer the value
/// first and cost the wasm kilobytes of code.
impl<'de> Deserialize<'de> for AttributeValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = AttributeValue;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("text or a number")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<AttributeValue, E> {
                Ok(AttributeValue::Text(v.to_owned()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<AttributeValue, E> {
                Ok(AttributeValue::Text(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<AttributeValue, E> {
                Ok(AttributeValue::Number(v.into()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<AttributeValue, E> {
                Ok(AttributeValue::Number(v.into()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<AttributeValue, E> {
                serde_json::Number::from_f64(v)
                    .map(AttributeValue::Number)
                    .ok_or_else(|| E::custom("a number must be finite"))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// Attributes by key, sorted by key.
pub type Attributes = BTreeMap<String, AttributeValue>;

/// What a widget reports of the page it is on, as checked by [`PageReport::checked`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PageReport {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

/// A `context` frame as sent: a visitor's page report (`url` and the rest, `attributes` for a
/// verified visitor), or an agent's question (`userId` only). Which is which is the core's call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextFrame {
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub referrer: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub time_zone: Option<String>,
    #[serde(default)]
    pub attributes: Option<Attributes>,
}

impl ContextFrame {
    /// The page report it carries, if it has a `url` (unchecked: see [`PageReport::checked`]).
    pub fn report(&self) -> Option<PageReport> {
        Some(PageReport {
            url: self.url.clone()?,
            title: self.title.clone(),
            referrer: self.referrer.clone(),
            language: self.language.clone(),
            time_zone: self.time_zone.clone(),
        })
    }

    /// Field limits, checked by `protocol::parse`.
    pub fn check(&self) -> Result<(), FrameError> {
        if let Some(report) = self.report() {
            report.checked()?;
        }
        if let Some(attributes) = &self.attributes {
            check_attributes(attributes)?;
        }
        Ok(())
    }
}

/// One page of a visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Page {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub at: i64,
}

/// What the desk itself saw when the visitor connected: browser and OS (from `User-Agent`),
/// country and city (from `request.cf`; absent where the runtime gives none).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Device {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
}

/// The stored JSON of a context's parts (as written by `Serialize`), read by `json_fields`
/// rather than by a derive each.
impl PageReport {
    pub fn read(text: &str) -> Result<PageReport, Refused> {
        const SCHEMA: &Schema =
            &[("url", false), ("title", true), ("referrer", true), ("language", true), ("timeZone", true)];
        let mut f = Fields::parse_struct(text, SCHEMA)?;
        Ok(PageReport {
            url: f.str("url")?,
            title: f.opt_str("title")?,
            referrer: f.opt_str("referrer")?,
            language: f.opt_str("language")?,
            time_zone: f.opt_str("timeZone")?,
        })
    }
}

impl Device {
    pub fn read(text: &str) -> Result<Device, Refused> {
        const SCHEMA: &Schema = &[("browser", true), ("os", true), ("country", true), ("city", true)];
        let mut f = Fields::parse_struct(text, SCHEMA)?;
        Ok(Device {
            browser: f.opt_str("browser")?,
            os: f.opt_str("os")?,
            country: f.opt_str("country")?,
            city: f.opt_str("city")?,
        })
    }
}

impl Page {
    /// A visit's pages: a JSON array of pages, every one readable.
    pub fn read_list(text: &str) -> Result<Vec<Page>, Refused> {
        let Ok(Value::Array(items)) = serde_json::from_str::<Value>(text) else {
            return Err(Refused);
        };
        items
            .into_iter()
            .map(|item| {
                let mut f = Fields::of_struct(item, &[("url", false), ("title", true), ("at", false)])?;
                Ok(Page { url: f.str("url")?, title: f.opt_str("title")?, at: f.i64("at")? })
            })
            .collect()
    }
}

/// Attributes as stored: read into a `Value` first, so the code that reads them is the one the
/// `context` frame's attributes already use.
pub fn read_attributes(text: &str) -> Result<Attributes, Refused> {
    let value = serde_json::from_str::<Value>(text).map_err(|_| Refused)?;
    Attributes::deserialize(value).map_err(|_| Refused)
}

/// What agents see of a visitor: in a row's `context` (without `pages`) and in the `context`
/// frame (with them). `attributes` are what the verified visitor's page passed: claims of the
/// browser, not checked by the host's signature.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextInfo {
    #[serde(flatten)]
    pub page: Option<PageReport>,
    #[serde(flatten)]
    pub device: Device,
    pub first_seen: i64,
    pub visits: u32,
    pub visit_started: i64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pages: Vec<Page>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Attributes>,
}

fn bad(what: &str) -> FrameError {
    FrameError::BadFrame(what.to_owned())
}

/// Text without control characters, at most `max` characters.
fn plain(s: &str, max: usize) -> bool {
    s.chars().count() <= max && !s.chars().any(char::is_control)
}

/// An absolute `http(s)` URL with a host, no white space or control characters.
pub fn valid_url(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &url[8..]
    } else if lower.starts_with("http://") {
        &url[7..]
    } else {
        return false;
    };
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    host_end > 0 && plain(url, MAX_URL_CHARS) && !url.chars().any(char::is_whitespace)
}

/// Looks like a BCP 47 tag: `de`, `de-DE`, `zh-Hant-TW`, `x-klingon`: subtags of 1 to 8 letters
/// or digits, the first of 2 to 3 letters (or `x`/`i`).
pub fn valid_language(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let first = parts.next().unwrap_or("");
    let first_ok = (first.len() >= 2 && first.len() <= 3 && first.bytes().all(|b| b.is_ascii_alphabetic()))
        || first.eq_ignore_ascii_case("x")
        || first.eq_ignore_ascii_case("i");
    tag.len() <= MAX_LANGUAGE_CHARS
        && first_ok
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Looks like an IANA time zone: `UTC`, `Europe/Berlin`, `America/Argentina/Buenos_Aires`,
/// `Etc/GMT+5`: up to 4 parts of letters, digits, `_`, `+`, `-`, the first starting with a letter.
pub fn valid_time_zone(zone: &str) -> bool {
    let parts: Vec<&str> = zone.split('/').collect();
    zone.len() <= MAX_TIME_ZONE_CHARS
        && parts.len() <= 4
        && zone.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'-')))
}

fn valid_key(key: &str) -> bool {
    (1..=MAX_ATTRIBUTE_KEY_CHARS).contains(&key.len())
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// Checks a verified visitor's attributes: at most [`MAX_ATTRIBUTES`], short keys, short text or
/// numbers.
pub fn check_attributes(attributes: &Attributes) -> Result<(), FrameError> {
    if attributes.len() > MAX_ATTRIBUTES {
        return Err(FrameError::BadFrame(format!("at most {MAX_ATTRIBUTES} attributes")));
    }
    for (key, value) in attributes {
        if !valid_key(key) {
            return Err(FrameError::BadFrame(format!(
                "attribute keys are 1 to {MAX_ATTRIBUTE_KEY_CHARS} of A-Z a-z 0-9 _ - ."
            )));
        }
        if let AttributeValue::Text(text) = value {
            if !plain(text, MAX_ATTRIBUTE_VALUE_CHARS) {
                return Err(FrameError::BadFrame(format!(
                    "attribute values are numbers or text of at most {MAX_ATTRIBUTE_VALUE_CHARS} characters"
                )));
            }
        }
    }
    Ok(())
}

impl PageReport {
    /// The report with empty optional fields dropped, or why it is refused (`bad_frame`).
    pub fn checked(self) -> Result<PageReport, FrameError> {
        let given = |s: Option<String>| s.filter(|s| !s.is_empty());
        let report = PageReport {
            url: self.url,
            title: given(self.title),
            referrer: given(self.referrer),
            language: given(self.language),
            time_zone: given(self.time_zone),
        };
        if !valid_url(&report.url) {
            return Err(FrameError::BadFrame(format!(
                "url must be an http(s) URL of at most {MAX_URL_CHARS} characters"
            )));
        }
        if report.title.as_deref().is_some_and(|t| !plain(t, MAX_TITLE_CHARS)) {
            return Err(FrameError::BadFrame(format!(
                "title must be at most {MAX_TITLE_CHARS} characters, without control characters"
            )));
        }
        if report.referrer.as_deref().is_some_and(|r| !valid_url(r)) {
            return Err(bad("referrer must be empty or an http(s) URL"));
        }
        if report.language.as_deref().is_some_and(|l| !valid_language(l)) {
            return Err(bad("language must be a BCP 47 tag such as de-DE"));
        }
        if report.time_zone.as_deref().is_some_and(|z| !valid_time_zone(z)) {
            return Err(bad("timeZone must be an IANA time zone such as Europe/Berlin"));
        }
        Ok(report)
    }
}
