//! The byte budget of a frame the desk sends: how big a piece of a frame is once serialised,
//! and how many items of a list fit in one frame.
//!
//! Sizes are those of the JSON text the desk really sends ([`super::Outbound::to_json`]: compact
//! `serde_json`, UTF-8), measured without building the text. A frame is cut by bytes as well as by
//! count, so a page of 4,000-character messages (up to 4 bytes a character, more with escapes)
//! stays under [`MAX_SEND_BYTES`].

use serde::Serialize;

use super::{WireMessage, MAX_SEND_BYTES};

/// Where serde_json writes: the text being built, or only its length counted. One writer type
/// for both, so serde's code for each type is in the wasm once (a counting writer of its own
/// doubled every frame type's: ~14 KB of code before gzip). Every JSON text the desk writes goes
/// through [`json_text`] or [`json_len`].
struct Sink<'a> {
    out: Option<&'a mut Vec<u8>>,
    len: usize,
}

impl std::io::Write for Sink<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.len += buf.len();
        if let Some(out) = self.out.as_mut() {
            out.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.write(buf).map(drop)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `value` as compact JSON text, as `serde_json::to_string` writes it.
pub fn json_text<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    let mut out = Vec::with_capacity(128);
    serde_json::to_writer(&mut Sink { out: Some(&mut out), len: 0 }, value)?;
    // serde_json writes UTF-8 only.
    String::from_utf8(out).map_err(|_| <serde_json::Error as serde::ser::Error>::custom("JSON text was not UTF-8"))
}

/// Bytes of `value` as compact JSON, exactly as [`json_text`] would write it, without the text.
pub fn json_len<T: Serialize + ?Sized>(value: &T) -> usize {
    let mut count = Sink { out: None, len: 0 };
    // Our types cannot fail to serialise (see `Outbound::to_json`); if one ever did, count it as
    // the whole budget so it is never packed with anything else.
    match serde_json::to_writer(&mut count, value) {
        Ok(()) => count.len,
        Err(_) => MAX_SEND_BYTES,
    }
}

/// How many of `items`, taken in order, fit in a frame whose other fields (with the list empty,
/// `[]`) take `base` bytes. Items are joined by one comma each, as serde writes them.
///
/// At least one when there is one, so a page always moves on: the protocol's limits keep a single
/// item far below the budget (a message is at most 4,000 characters: under 25 KB of JSON even if
/// every character took 6 bytes; a row is under 3 KB).
pub fn fitting<T: Serialize>(base: usize, items: &[T]) -> usize {
    let mut used = base;
    for (i, item) in items.iter().enumerate() {
        used += json_len(item) + usize::from(i > 0);
        if used > MAX_SEND_BYTES {
            return i.max(1);
        }
    }
    items.len()
}

/// Whether a list of frames sent one after another (a resume's replay) stays within one budget
/// in total.
pub fn total_fits<T: Serialize>(frames: &[T]) -> bool {
    let mut used = 0usize;
    frames.iter().all(|f| {
        used += json_len(f);
        used <= MAX_SEND_BYTES
    })
}

/// A page of messages from a newest-first list (one more than `limit` shows older ones exist):
/// the newest that fit in a frame of `base` other bytes, at most `limit`, oldest first; and
/// whether older ones exist (beyond the count, or cut for bytes).
pub fn newest_page(
    base: usize,
    newest_first: Vec<WireMessage>,
    limit: u32,
    shown: impl Fn(WireMessage) -> WireMessage,
) -> (Vec<WireMessage>, bool) {
    let mut page: Vec<WireMessage> = newest_first.into_iter().map(shown).collect();
    let has_more = page.len() > limit as usize;
    page.truncate(limit as usize);
    let fit = fitting(base, &page);
    let cut = fit < page.len();
    page.truncate(fit);
    page.reverse();
    (page, has_more || cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_len_is_the_length_of_the_text() {
        let s = "a \"quoted\" 😀\n\\".to_string();
        assert_eq!(json_len(&s), serde_json::to_string(&s).unwrap().len());
        let v = vec![s.clone(), s];
        assert_eq!(json_len(&v), serde_json::to_string(&v).unwrap().len());
    }

    #[test]
    fn fitting_counts_commas_and_keeps_one() {
        let item = "x".repeat(100); // 102 bytes as JSON
        let items = vec![item.clone(), item.clone(), item];
        let base = MAX_SEND_BYTES - 102 * 2 - 1;
        assert_eq!(fitting(base, &items), 2, "two items and their comma fill the budget exactly");
        assert_eq!(fitting(base + 1, &items), 1);
        assert_eq!(fitting(MAX_SEND_BYTES, &items), 1, "a page always holds at least one item");
        assert_eq!(fitting::<String>(MAX_SEND_BYTES, &[]), 0);
        assert_eq!(fitting(10, &items), 3);
    }
}
