//! Attachments, the pure half: the type allow-list, what a file's first bytes must be, file names
//! made safe, the R2 object key, and the short-lived signed URLs files are served through.
//!
//! A file is uploaded over HTTP (`desk_object::attachments`), stored in the `ATTACHMENTS` R2
//! bucket under `{desk}/{userId}/{id}` and recorded in SQLite as a message carrying an
//! [`Attachment`]. It is read back only through a URL signed with `ATTACHMENT_SECRET`: an
//! HMAC-SHA256 over the desk, the conversation, the attachment id and the expiry, so the Worker
//! serves it (`router::files`) without asking the desk object, and nobody can make a URL for
//! another conversation, another desk or a later time. Nothing here knows of `worker`.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::auth::{hex, unhex};
use crate::json_fields::{Fields, Refused};
use crate::protocol::truncate;

/// Largest file, in bytes: 10 MiB.
pub const MAX_ATTACHMENT_BYTES: u64 = 10 * 1024 * 1024;
/// Longest file name kept, in characters (the extension is kept when a name is cut).
pub const MAX_NAME_CHARS: usize = 100;
/// How long a signed URL works, by default: 10 minutes.
pub const URL_TTL_MS: i64 = 10 * 60 * 1000;
/// The longest `ATTACHMENT_URL_TTL_MS` may make it: a day.
pub const MAX_URL_TTL_MS: i64 = 24 * 3600 * 1000;

/// One allowed type: its MIME type, the extensions a name may end with (the first is added to a
/// name that has none of them), and whether it is an image (shown inline as a thumbnail; every
/// other type is served as a download).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    pub mime: &'static str,
    pub extensions: &'static [&'static str],
    pub image: bool,
}

/// The allow-list. No `text/html`, no SVG (both run script when opened inline), nothing
/// executable; office documents only in their zip-based forms.
pub const KINDS: [Kind; 10] = [
    Kind { mime: "image/png", extensions: &["png"], image: true },
    Kind { mime: "image/jpeg", extensions: &["jpg", "jpeg"], image: true },
    Kind { mime: "image/gif", extensions: &["gif"], image: true },
    Kind { mime: "image/webp", extensions: &["webp"], image: true },
    Kind { mime: "application/pdf", extensions: &["pdf"], image: false },
    Kind { mime: "text/plain", extensions: &["txt", "log"], image: false },
    Kind { mime: "text/csv", extensions: &["csv"], image: false },
    Kind { mime: "application/zip", extensions: &["zip"], image: false },
    Kind {
        mime: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        extensions: &["docx"],
        image: false,
    },
    Kind {
        mime: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        extensions: &["xlsx"],
        image: false,
    },
];

/// The allowed kind of a declared MIME type (parameters such as `; charset=` ignored, any case).
pub fn kind(declared: &str) -> Option<&'static Kind> {
    let mime = declared.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    KINDS.iter().find(|k| k.mime == mime)
}

/// An attachment as messages carry it (`"attachment":{"id","name","size","type"}`).
/// (`Deserialize` is for `WireMessage`'s, which host tests use; the wasm reads stored attachments
/// with [`Attachment::read`].)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: String,
    pub name: String,
    pub size: u64,
    #[serde(rename = "type")]
    pub mime: String,
}

impl Attachment {
    /// An attachment as stored with its message (its JSON as written by `Serialize`).
    pub fn read(text: &str) -> Result<Attachment, Refused> {
        let mut f = Fields::parse_struct(text, &[("id", false), ("name", false), ("size", false), ("type", false)])?;
        Ok(Attachment { id: f.str("id")?, name: f.str("name")?, size: f.u64("size")?, mime: f.str("type")? })
    }
}

/// Whether `bytes` (the whole file) is what `kind` says: images, PDFs and zips by their magic
/// bytes, text as UTF-8 without NUL. An empty file is nothing.
pub fn content_matches(kind: &Kind, bytes: &[u8]) -> bool {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    match kind.mime {
        "image/png" => starts(b"\x89PNG\r\n\x1a\n"),
        "image/jpeg" => starts(b"\xFF\xD8\xFF"),
        "image/gif" => starts(b"GIF87a") || starts(b"GIF89a"),
        "image/webp" => bytes.len() >= 12 && starts(b"RIFF") && &bytes[8..12] == b"WEBP",
        "application/pdf" => starts(b"%PDF-"),
        "text/plain" | "text/csv" => !bytes.is_empty() && !bytes.contains(&0) && std::str::from_utf8(bytes).is_ok(),
        // Word and Excel files are zip archives too.
        _ => starts(b"PK\x03\x04") || starts(b"PK\x05\x06"),
    }
}

/// A file name made safe to store, show and put in a header: the last path segment only, no
/// control or bidi-control characters (no `fdp.exe` posing as `exe.pdf`), no quotes or
/// backslashes, no leading dots, at most [`MAX_NAME_CHARS`], and ending with an extension of its
/// kind (one is added if not). A name with nothing left becomes `file.<ext>`.
pub fn sanitize_name(raw: &str, kind: &Kind) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !bidi_control(*c))
        .map(|c| if matches!(c, '"' | '\'' | '<' | '>' | ':' | '*' | '?' | '|' | ';') { '_' } else { c })
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim().to_owned();
    let lower = cleaned.to_lowercase();
    let has_ext = kind.extensions.iter().any(|e| lower.ends_with(&format!(".{e}")) && lower.len() > e.len() + 1);
    let (stem, ext) = if has_ext {
        match cleaned.rfind('.') {
            Some(dot) => (cleaned[..dot].to_owned(), cleaned[dot + 1..].to_owned()),
            None => (cleaned.clone(), kind.extensions[0].to_owned()),
        }
    } else {
        (cleaned.clone(), kind.extensions[0].to_owned())
    };
    let stem = if stem.trim().is_empty() { "file".to_owned() } else { stem };
    let room = MAX_NAME_CHARS.saturating_sub(ext.chars().count() + 1);
    format!("{}.{ext}", truncate(stem.trim_end(), room).trim_end())
}

fn bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The R2 key of an attachment: a desk's files never share a prefix with another desk's, and a
/// conversation's all start `{desk}/{userId}/`.
pub fn object_key(desk: &str, user_id: &str, id: &str) -> String {
    format!("{desk}/{user_id}/{id}")
}

/// The URL lifetime from `ATTACHMENT_URL_TTL_MS`: 0 to a day; anything else is the default.
pub fn ttl_from_setting(setting: Option<&str>) -> i64 {
    setting
        .and_then(|s| s.trim().parse::<i64>().ok())
        .filter(|ms| (0..=MAX_URL_TTL_MS).contains(ms))
        .unwrap_or(URL_TTL_MS)
}

/// What signs and checks a desk's attachment URLs: `ATTACHMENT_SECRET`, the desk, the lifetime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    pub secret: String,
    pub desk: String,
    pub ttl_ms: i64,
}

/// A signed URL: a path on the desk's own origin, and when it stops working (ms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedUrl {
    pub url: String,
    pub expires_at: i64,
}

/// Why a file URL is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlRefusal {
    /// Signed right, but its time has passed: ask for a new one (`attachment_url`).
    Expired,
    /// Not signed by this deployment for this desk, conversation, file and expiry: changed or made up.
    BadSignature,
}

impl Signer {
    fn mac(&self, user_id: &str, id: &str, expires_at: i64) -> Option<Hmac<Sha256>> {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.secret.as_bytes()).ok()?;
        mac.update(format!("attachment\n{}\n{user_id}\n{id}\n{expires_at}", self.desk).as_bytes());
        Some(mac)
    }

    /// The signature of one file's URL valid until `expires_at`, hex.
    pub fn signature(&self, user_id: &str, id: &str, expires_at: i64) -> String {
        self.mac(user_id, id, expires_at).map(|m| hex(&m.finalize().into_bytes())).unwrap_or_default()
    }

    /// A URL for the file `id` of `user_id`'s conversation, valid from `now` for the lifetime.
    pub fn sign(&self, user_id: &str, id: &str, now: i64) -> SignedUrl {
        let expires_at = now.saturating_add(self.ttl_ms);
        let sig = self.signature(user_id, id, expires_at);
        let url = format!("/desks/{}/files/{user_id}/{id}?expires={expires_at}&sig={sig}", self.desk);
        SignedUrl { url, expires_at }
    }

    /// Checks a presented URL's parts (compared in constant time), then its expiry.
    pub fn verify(&self, user_id: &str, id: &str, expires: &str, sig: &str, now: i64) -> Result<(), UrlRefusal> {
        let expires_at: i64 = expires.parse().map_err(|_| UrlRefusal::BadSignature)?;
        let presented = unhex(sig).ok_or(UrlRefusal::BadSignature)?;
        let mac = self.mac(user_id, id, expires_at).ok_or(UrlRefusal::BadSignature)?;
        mac.verify_slice(&presented).map_err(|_| UrlRefusal::BadSignature)?;
        if expires_at <= now {
            return Err(UrlRefusal::Expired);
        }
        Ok(())
    }
}

/// `Content-Disposition` of a served file: images `inline` (thumbnails), everything else
/// `attachment` (downloaded, never opened in the desk's origin); the name as ASCII and as UTF-8.
pub fn disposition(kind: &Kind, name: &str) -> String {
    let ascii: String = name.chars().map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '_' }).collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    let how = if kind.image { "inline" } else { "attachment" };
    format!("{how}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// `Content-Type` of a served file: its allowed type (text with its charset); anything not on the
/// allow-list (never stored, but never trusted either) as opaque bytes.
pub fn served_type(stored: Option<&str>) -> (String, Option<&'static Kind>) {
    match stored.and_then(kind) {
        Some(k) if k.mime.starts_with("text/") => (format!("{}; charset=utf-8", k.mime), Some(k)),
        Some(k) => (k.mime.to_owned(), Some(k)),
        None => ("application/octet-stream".to_owned(), None),
    }
}

/// What one desk lets uploads spend, read from its Worker variables; a missing or malformed value
/// keeps its default (a typo must not lift a limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttachmentLimits {
    /// Files one uploader (a visitor, or an agent) may upload per hour (`UPLOADS_PER_HOUR`).
    pub uploads_per_hour: u32,
    /// Bytes of files one conversation may hold (`ATTACHMENT_MB_PER_CONVERSATION`, MiB).
    pub conversation_bytes: u64,
    /// Bytes of files the whole desk may hold (`ATTACHMENT_BUDGET_MB`, MiB).
    pub desk_bytes: u64,
}

/// The window `uploads_per_hour` counts in.
pub const UPLOAD_WINDOW_MS: i64 = 3600 * 1000;

impl Default for AttachmentLimits {
    fn default() -> Self {
        // A person sends a few screenshots in a conversation; a script at most 30 files an hour
        // (300 MiB), and never more than a conversation's 100 MiB.
        AttachmentLimits { uploads_per_hour: 30, conversation_bytes: 100 << 20, desk_bytes: 5 << 30 }
    }
}

impl AttachmentLimits {
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let d = AttachmentLimits::default();
        let num = |key: &str| var(key).and_then(|v| v.trim().parse::<f64>().ok()).filter(|n| n.is_finite() && *n > 0.0);
        let mib = |n: f64| (n * crate::limits::MIB) as u64;
        AttachmentLimits {
            uploads_per_hour: num("UPLOADS_PER_HOUR").map_or(d.uploads_per_hour, |n| n as u32),
            conversation_bytes: num("ATTACHMENT_MB_PER_CONVERSATION").map_or(d.conversation_bytes, mib),
            desk_bytes: num("ATTACHMENT_BUDGET_MB").map_or(d.desk_bytes, mib),
        }
    }
}

/// What the desk's files use now, as SQLite counts them: what the limits are decided on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AttachmentUse {
    /// Bytes of files in this conversation.
    pub conversation_bytes: u64,
    /// Bytes of files in the whole desk.
    pub desk_bytes: u64,
    /// Files this uploader uploaded in the last [`UPLOAD_WINDOW_MS`].
    pub recent_uploads: u32,
    /// When the oldest of those was uploaded (the window frees a slot an hour after it).
    pub oldest_recent_at: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png() -> &'static Kind {
        kind("image/png").unwrap()
    }

    #[test]
    fn only_listed_types_are_allowed() {
        assert_eq!(kind("IMAGE/PNG").map(|k| k.mime), Some("image/png"));
        assert_eq!(kind("text/plain; charset=utf-8").map(|k| k.mime), Some("text/plain"));
        for bad in ["text/html", "image/svg+xml", "application/javascript", "application/octet-stream", ""] {
            assert!(kind(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn magic_bytes_must_match_the_declared_type() {
        assert!(content_matches(png(), b"\x89PNG\r\n\x1a\nrest"));
        assert!(!content_matches(png(), b"<html><script>"));
        assert!(!content_matches(kind("image/jpeg").unwrap(), b"\x89PNG\r\n\x1a\n"));
        assert!(content_matches(kind("image/webp").unwrap(), b"RIFF\0\0\0\0WEBPVP8 "));
        assert!(!content_matches(kind("text/plain").unwrap(), b"a\0b"));
        assert!(!content_matches(kind("text/plain").unwrap(), b""));
        assert!(content_matches(kind("application/zip").unwrap(), b"PK\x03\x04"));
    }

    #[test]
    fn names_are_made_safe() {
        assert_eq!(sanitize_name("../../etc/passwd", png()), "passwd.png");
        assert_eq!(sanitize_name("C:\\Users\\a\\shot.PNG", png()), "shot.PNG");
        assert_eq!(sanitize_name("photo\u{202E}gnp.exe", png()), "photognp.exe.png");
        assert_eq!(sanitize_name("\"x\";<b>.png", png()), "_x___b_.png");
        assert_eq!(sanitize_name("...", png()), "file.png");
        assert_eq!(sanitize_name("", png()), "file.png");
        assert_eq!(sanitize_name(".png", png()), "png.png");
        let long = sanitize_name(&format!("{}.png", "a".repeat(300)), png());
        assert_eq!(long.chars().count(), MAX_NAME_CHARS);
        assert!(long.ends_with(".png"));
    }

    #[test]
    fn urls_are_signed_for_one_file_and_expire() {
        let signer = Signer { secret: "s".repeat(32), desk: "acme".into(), ttl_ms: 1000 };
        let signed = signer.sign("u1", "f1", 5000);
        assert_eq!(signed.expires_at, 6000);
        let sig = signer.signature("u1", "f1", 6000);
        assert!(signed.url.ends_with(&format!("/desks/acme/files/u1/f1?expires=6000&sig={sig}")));
        assert_eq!(signer.verify("u1", "f1", "6000", &sig, 5999), Ok(()));
        assert_eq!(signer.verify("u1", "f1", "6000", &sig, 6000), Err(UrlRefusal::Expired));
        assert_eq!(signer.verify("u2", "f1", "6000", &sig, 1), Err(UrlRefusal::BadSignature));
        assert_eq!(signer.verify("u1", "f2", "6000", &sig, 1), Err(UrlRefusal::BadSignature));
        assert_eq!(signer.verify("u1", "f1", "7000", &sig, 1), Err(UrlRefusal::BadSignature));
        assert_eq!(signer.verify("u1", "f1", "x", &sig, 1), Err(UrlRefusal::BadSignature));
        assert_eq!(signer.verify("u1", "f1", "6000", "zz", 1), Err(UrlRefusal::BadSignature));
        let other_desk = Signer { desk: "other".into(), ..signer.clone() };
        assert_eq!(other_desk.verify("u1", "f1", "6000", &sig, 1), Err(UrlRefusal::BadSignature));
    }

    #[test]
    fn served_headers_follow_the_allow_list() {
        assert_eq!(served_type(Some("text/csv")).0, "text/csv; charset=utf-8");
        assert_eq!(served_type(Some("text/html")).0, "application/octet-stream");
        assert!(disposition(png(), "a.png").starts_with("inline;"));
        let pdf = kind("application/pdf").unwrap();
        assert_eq!(
            disposition(pdf, "résumé.pdf"),
            "attachment; filename=\"r_sum_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"
        );
    }
}
