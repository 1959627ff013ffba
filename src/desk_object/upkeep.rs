//! Keeping a desk's storage bounded: what the core's budget decision reads (the database's size,
//! measured now and then, plus an estimate of what was written since) and the alarm's retention
//! run (a slice of due conversations deleted). A third `impl Desk`, split from `desk_object.rs` along this seam.
//!
//! Asking the runtime for the database's size on every message would cost a call across the
//! JavaScript boundary each time: it is measured on first use, then again after
//! [`MEASURE_EVERY_WRITES`] writes or [`MEASURE_EVERY_BYTES`] estimated bytes, and after
//! anything is deleted.

use worker::Result;

use super::view::RandomFresh;
use super::{Desk, Tagged};
use crate::desk::moderation::{self, RETENTION_SLICE};
use crate::desk::{self, StorageUse, Write};
use crate::store::Store;

/// Writes after which the size is measured again.
pub const MEASURE_EVERY_WRITES: u32 = 64;
/// Estimated bytes written after which the size is measured again.
pub const MEASURE_EVERY_BYTES: u64 = 256 * 1024;
/// What a stored row costs besides its text (keys, indexes, the search index), as estimated.
const ROW_OVERHEAD: u64 = 200;

/// The database's size as last measured (`None`: measure before use) and what was written since.
#[derive(Debug, Clone, Copy, Default)]
pub struct Measure {
    measured: Option<u64>,
    added: u64,
    writes: u32,
}

/// Snoozed conversations reopened per alarm run; more are left for an alarm right after.
const WAKE_SLICE: u32 = 100;

impl Desk {
    /// The storage the core decides the budget on: measured if due, plus the estimate since.
    pub(super) fn storage_use(&self, store: &Store) -> StorageUse {
        let mut m = self.storage.get();
        let measured = match m.measured {
            Some(bytes) if m.writes < MEASURE_EVERY_WRITES && m.added < MEASURE_EVERY_BYTES => bytes,
            _ => {
                let mut page_size = self.page_size.get();
                let bytes = store.size(&mut page_size);
                self.page_size.set(page_size);
                m = Measure { measured: Some(bytes), added: 0, writes: 0 };
                self.storage.set(m);
                bytes
            }
        };
        StorageUse {
            used_bytes: measured.saturating_add(m.added),
            budget_bytes: Some(self.limits.storage_budget_bytes),
            warned_at: self.storage_warned.get(),
        }
    }

    /// Counts a write SQLite applied into the estimate; a deletion asks for a new measure.
    pub(super) fn wrote(&self, write: &Write) {
        let mut m = self.storage.get();
        let bytes = match write {
            Write::Delete { .. } => {
                self.storage.set(Measure::default());
                return;
            }
            Write::Append { message, .. } => message.message.len() as u64 * 2 + ROW_OVERHEAD,
            // A context row is rewritten in place (at most ~50 KB, bounded per visitor): a row.
            Write::SaveReply { reply } => reply.text.len() as u64 * 2 + ROW_OVERHEAD,
            _ => ROW_OVERHEAD,
        };
        m.added = m.added.saturating_add(bytes);
        m.writes = m.writes.saturating_add(1);
        self.storage.set(m);
    }

    /// One retention run: deletes up to [`RETENTION_SLICE`] due conversations (and visitors who
    /// never wrote), and says when to look again (`None`: retention is off or nothing is
    /// stored). With a full slice that is right away, so a backlog goes in slices with the desk's
    /// other events in between. (New visitors and failed sign-ins are counted, and forgotten, by
    /// the `Limiter` objects.)
    pub(super) fn expire(&self, store: &Store, now: i64) -> Result<Option<i64>> {
        let retention = self.limits.retention_ms;
        let Some(cutoff) = moderation::retention_cutoff(now, retention) else {
            return Ok(None);
        };
        let before_seq = store.first_seq_since(cutoff)?;
        let mut due = store.expired_conversations(before_seq, cutoff, RETENTION_SLICE)?;
        if (due.len() as u32) < RETENTION_SLICE {
            due.extend(store.idle_visitors(cutoff, RETENTION_SLICE - due.len() as u32)?);
        }
        let more = due.len() as u32 == RETENTION_SLICE;
        let effects = moderation::expire(now, retention, due);
        if !effects.is_empty() {
            let tagged = Tagged::new(&self.state);
            self.perform(None, effects, &tagged, now)?;
        }
        if more {
            return Ok(Some(now + 1));
        }
        // Not before a while from now: the oldest visit may belong to a visitor whose
        // conversation is recent, and the alarm must not spin on it.
        let gap = (retention / 100).clamp(1000, 3_600_000);
        Ok(store.oldest_activity()?.map(|oldest| oldest.saturating_add(retention).max(now + gap)))
    }

    /// Retention and snoozes: runs what is due, returns when it must run next.
    pub(super) fn upkeep(&self, now: i64) -> Result<Option<i64>> {
        let store = self.store()?;
        // Names of visitors who connected since the last batch: a search pays for fewer.
        store.index_visitors()?;
        let expiry = self.expire(&store, now)?;
        let due = store.due(now, WAKE_SLICE)?;
        let more = due.len() as u32 == WAKE_SLICE;
        if !due.is_empty() {
            let tagged = Tagged::new(&self.state);
            let view = self.view(&store, &tagged)?;
            let mut fresh = RandomFresh::new(&self.ids);
            let effects = desk::conversation::wake(now, due, &view, &mut fresh);
            if view.failure().is_none() && !fresh.failed {
                self.perform(None, effects, &tagged, now)?;
            }
        }
        let snooze = if more { Some(now + 1) } else { store.next_due()? };
        Ok([snooze, expiry].into_iter().flatten().min())
    }
}
