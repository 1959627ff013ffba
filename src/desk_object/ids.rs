//! The object's clock and randomness: the time of an event, socket ids, the epoch, 32 random bytes.

use std::cell::RefCell;

use worker::{js_sys, Result};

use super::view::{draw, IdStream};

use crate::auth::hex;

/// Milliseconds since the epoch, by `Date.now()`: a number, where `worker::Date::now()` makes a
/// JavaScript `Date` object and asks it the time (two calls into JavaScript and an object for
/// the collector, several times per frame).
pub(super) fn now() -> i64 {
    js_sys::Date::now() as i64
}

pub(super) fn random_bytes() -> Result<[u8; 32]> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|e| worker::Error::RustError(format!("no randomness: {e}")))?;
    Ok(bytes)
}

/// A socket id: 52 bits of the instance's secret stream (`view::IdStream`), exact as a
/// JavaScript number in the attachment.
pub(super) fn new_sid(ids: &RefCell<Option<IdStream>>) -> Result<u64> {
    let bytes = draw(ids, IdStream::secret).ok_or_else(|| worker::Error::RustError("no randomness".into()))?;
    let mut eight = [0u8; 8];
    eight.copy_from_slice(&bytes[..8]);
    Ok(u64::from_le_bytes(eight) & ((1 << 52) - 1))
}

pub(super) fn new_epoch() -> Result<String> {
    Ok(hex(&random_bytes()?[..16]))
}
