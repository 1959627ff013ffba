//! A desk's saved replies on the wire: their shape, limits and checks. Chosen so the whole list
//! always fits one frame: at most [`MAX_SAVED_REPLIES`] × (title + shortcut + text) at 4 bytes a
//! character is under `MAX_SEND_BYTES` (`tests/saved_replies.rs` checks the worst case).

use serde::Serialize;

use crate::error::FrameError;

/// Most saved replies a desk keeps.
pub const MAX_SAVED_REPLIES: usize = 50;
/// Longest title, in characters.
pub const MAX_REPLY_TITLE_CHARS: usize = 80;
/// Longest shortcut: 1 to 32 of `a-z 0-9 _ -` (typed after `/` in the reply box).
pub const MAX_SHORTCUT_CHARS: usize = 32;
/// Longest text, in characters.
pub const MAX_REPLY_TEXT_CHARS: usize = 1_000;

/// One saved reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedReply {
    pub id: String,
    pub title: String,
    pub shortcut: String,
    pub text: String,
    pub updated_at: i64,
}

/// A shortcut as stored: trimmed, lowercased, a leading `/` dropped; `None` if not 1 to
/// [`MAX_SHORTCUT_CHARS`] of `a-z 0-9 _ -`.
pub fn shortcut(raw: &str) -> Option<String> {
    let s = raw.trim().trim_start_matches('/').to_ascii_lowercase();
    let ok = (1..=MAX_SHORTCUT_CHARS).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-'));
    ok.then_some(s)
}

/// Checks a saved reply's fields; returns the shortcut as stored.
pub fn check(title: &str, raw_shortcut: &str, text: &str) -> Result<String, FrameError> {
    let n = title.trim().chars().count();
    if n == 0 || n > MAX_REPLY_TITLE_CHARS || title.chars().any(char::is_control) {
        return Err(FrameError::BadFrame(format!("title must be 1 to {MAX_REPLY_TITLE_CHARS} characters")));
    }
    let shortcut = shortcut(raw_shortcut)
        .ok_or_else(|| FrameError::BadFrame(format!("shortcut must be 1 to {MAX_SHORTCUT_CHARS} of a-z 0-9 _ -")))?;
    let n = text.chars().count();
    if text.trim().is_empty()
        || n > MAX_REPLY_TEXT_CHARS
        || text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(FrameError::BadFrame(format!(
            "text must be 1 to {MAX_REPLY_TEXT_CHARS} characters (line breaks and tabs allowed)"
        )));
    }
    Ok(shortcut)
}
