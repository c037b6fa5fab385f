//! The retention sweep: remove messages older than the retention period, in bounded
//! transactions, and sweep expired key-value entries.
//!
//! Periods: `retention.days` globally (0 = forever) and a per-chat override on the chat row
//! (`RetentionRepo`: `None` follows the global value, `Some(0)` keeps forever, `Some(n)` days).
//! How the sweep finds what to remove without a full scan:
//! - **Global walk** (global period set): a cursor over `messages_by_time` up to the global
//!   cutoff, oldest first. Messages of chats whose override is longer (or forever) are stepped
//!   over, not deleted; the cursor (`RetentionRepo::messages_by_time_after`) moves past them, so
//!   they cost a read per sweep, never a loop. Chats with a shorter override are covered too:
//!   anything older than the global cutoff is older than theirs.
//! - **Per-chat walk** (each override shorter than the global period, or any override when there
//!   is no global one): the chat's messages in key order (`messages_page`), which is time order
//!   within a chat because Telegram's message ids grow with time, deleting those older than the
//!   chat's cutoff and stopping at the first page that reaches a newer message.
//!
//! Every batch is one `delete_messages` transaction (rows, index rows, outbox `Delete`s, so the
//! search index follows); counters stay. After each batch the sweep pauses for as long as the
//! batch took (at least `pause`), so it holds the write lock at most half of the time and a
//! commit of the ingest writer waits at most one batch. The report of the last sweep is kept in the key-value table
//! (`retention:last_report`) so it survives a restart.

use crate::domain::{ChatId, MessageId, Timestamp};
use crate::store::{SharedStore, StoreError, UnixMillis, now_millis};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use thiserror::Error;

/// The key-value key holding the last [`SweepReport`] (JSON, no expiry).
pub const LAST_REPORT_KEY: &str = "retention:last_report";

const DAY_SECS: i64 = 86_400;

#[derive(Clone, Debug)]
pub struct RetentionSettings {
    /// Global period in days; 0 keeps messages forever.
    pub days: u32,
    /// Messages per transaction.
    pub batch_size: usize,
    /// Least pause between two batches; the pause is as long as the batch took if that is
    /// longer (lets the ingest writer in).
    pub pause: Duration,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        RetentionSettings {
            days: 0,
            batch_size: 1000,
            pause: Duration::from_millis(5),
        }
    }
}

/// What one sweep did (the Storage page's "last cleanup").
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SweepReport {
    /// When the sweep started, Unix milliseconds.
    pub started_at_ms: i64,
    pub duration_ms: u64,
    pub messages_removed: u64,
    /// Expired key-value entries removed.
    pub keys_removed: u64,
    /// Delete transactions (messages and keys).
    pub batches: u64,
    /// The global period in force (0 = forever) and how many chats had an override.
    pub global_days: u32,
    pub chat_overrides: u64,
    /// Set when the sweep stopped early: on shutdown, or on an error (what is removed stays
    /// removed; the next sweep goes on).
    pub stopped_early: Option<String>,
}

impl SweepReport {
    /// Messages removed per second of sweep time.
    pub fn messages_per_sec(&self) -> f64 {
        self.messages_removed as f64 / (self.duration_ms.max(1) as f64 / 1000.0)
    }
}

#[derive(Debug, Error)]
pub enum RetentionError {
    #[error("retention sweep: {0}")]
    Store(#[from] StoreError),
    #[error("a retention sweep is already running")]
    Busy,
}

/// Runs sweeps (one at a time) and remembers the last report.
pub struct RetentionService {
    store: SharedStore,
    settings: RetentionSettings,
    running: Mutex<()>,
    /// Called after each batch that queued search deletions (wakes the indexer).
    on_batch: Option<Arc<dyn Fn() + Send + Sync>>,
}

impl RetentionService {
    pub fn new(store: SharedStore, settings: RetentionSettings) -> Self {
        RetentionService {
            store,
            settings,
            running: Mutex::new(()),
            on_batch: None,
        }
    }

    /// Call `wake` after each batch of removed messages (the app wakes the search indexer).
    pub fn with_on_batch(mut self, wake: Arc<dyn Fn() + Send + Sync>) -> Self {
        self.on_batch = Some(wake);
        self
    }

    pub fn settings(&self) -> &RetentionSettings {
        &self.settings
    }

    /// Sweep now (blocking; call it off the async workers). `Busy` if a sweep is running.
    pub fn run_now(&self) -> Result<SweepReport, RetentionError> {
        self.run_at(now_millis(), &|| false)
    }

    /// Sweep as of `now` (Unix ms), stopping between batches when `stop()` says so. The report
    /// is stored (also for a sweep that stopped early) and returned.
    pub fn run_at(
        &self,
        now: UnixMillis,
        stop: &dyn Fn() -> bool,
    ) -> Result<SweepReport, RetentionError> {
        let _guard = match self.running.try_lock() {
            Ok(g) => g,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return Err(RetentionError::Busy),
        };
        let started = Instant::now();
        let mut report = SweepReport {
            started_at_ms: now,
            global_days: self.settings.days,
            ..SweepReport::default()
        };
        let outcome = self.sweep(now, stop, &mut report);
        report.duration_ms = started.elapsed().as_millis() as u64;
        match &outcome {
            Ok(true) => {}
            Ok(false) => report.stopped_early = Some("stopped by shutdown".into()),
            Err(e) => report.stopped_early = Some(e.to_string()),
        }
        match serde_json::to_vec(&report) {
            Ok(json) => self.store.kv_set(LAST_REPORT_KEY, &json, None, now)?,
            Err(e) => tracing::warn!(error = %e, "cannot encode the sweep report"),
        }
        outcome?;
        Ok(report)
    }

    /// The last stored report, if any sweep ever ran (an unreadable one counts as none).
    pub fn last_report(&self) -> Result<Option<SweepReport>, StoreError> {
        last_report(&self.store)
    }

    /// `Ok(false)`: stopped early by `stop`.
    fn sweep(
        &self,
        now: UnixMillis,
        stop: &dyn Fn() -> bool,
        report: &mut SweepReport,
    ) -> Result<bool, StoreError> {
        let now_secs = now.div_euclid(1000);
        let overrides: HashMap<ChatId, u32> =
            self.store.chat_retention_overrides()?.into_iter().collect();
        report.chat_overrides = overrides.len() as u64;
        let global = self.settings.days;
        let cutoff = |days: u32| Timestamp(now_secs - i64::from(days) * DAY_SECS);
        if global > 0 && !self.global_walk(cutoff(global), &overrides, stop, report)? {
            return Ok(false);
        }
        let mut shorter: Vec<(ChatId, u32)> = overrides
            .iter()
            .filter(|&(_, &d)| d > 0 && (global == 0 || d < global))
            .map(|(&c, &d)| (c, d))
            .collect();
        shorter.sort();
        for (chat, days) in shorter {
            if !self.chat_walk(chat, cutoff(days), stop, report)? {
                return Ok(false);
            }
        }
        let limit = self.settings.batch_size.max(1);
        loop {
            if stop() {
                return Ok(false);
            }
            let started = Instant::now();
            let n = self.store.kv_sweep_expired(now, limit)?;
            report.keys_removed += n;
            if n > 0 {
                report.batches += 1;
            }
            if (n as usize) < limit {
                break;
            }
            self.pause_after(started.elapsed());
        }
        Ok(true)
    }

    fn global_walk(
        &self,
        before: Timestamp,
        overrides: &HashMap<ChatId, u32>,
        stop: &dyn Fn() -> bool,
        report: &mut SweepReport,
    ) -> Result<bool, StoreError> {
        let global = self.settings.days;
        // Chats kept longer than the global period: stepped over.
        let keeps = |chat: &ChatId| overrides.get(chat).is_some_and(|&d| d == 0 || d > global);
        let limit = self.settings.batch_size.max(1);
        let mut cursor = None;
        loop {
            if stop() {
                return Ok(false);
            }
            let page = self.store.messages_by_time_after(before, cursor, limit)?;
            let Some(&last) = page.last() else {
                return Ok(true);
            };
            cursor = Some(last);
            let doomed: Vec<(ChatId, MessageId)> = page
                .iter()
                .filter(|(_, chat, _)| !keeps(chat))
                .map(|&(_, c, m)| (c, m))
                .collect();
            self.delete(&doomed, report)?;
            if page.len() < limit {
                return Ok(true);
            }
        }
    }

    fn chat_walk(
        &self,
        chat: ChatId,
        before: Timestamp,
        stop: &dyn Fn() -> bool,
        report: &mut SweepReport,
    ) -> Result<bool, StoreError> {
        let limit = self.settings.batch_size.max(1);
        let mut after = None;
        loop {
            if stop() {
                return Ok(false);
            }
            let page = self.store.messages_page(Some(chat), after, limit)?;
            let Some(last) = page.last() else {
                return Ok(true);
            };
            after = Some((last.chat_id, last.message_id));
            let reached_newer = page.iter().any(|m| m.date >= before);
            let doomed: Vec<(ChatId, MessageId)> = page
                .iter()
                .filter(|m| m.date < before)
                .map(|m| (m.chat_id, m.message_id))
                .collect();
            self.delete(&doomed, report)?;
            if reached_newer || page.len() < limit {
                return Ok(true);
            }
        }
    }

    fn delete(
        &self,
        keys: &[(ChatId, MessageId)],
        report: &mut SweepReport,
    ) -> Result<(), StoreError> {
        if keys.is_empty() {
            return Ok(());
        }
        let started = Instant::now();
        report.messages_removed += self.store.delete_messages(keys)?;
        report.batches += 1;
        if let Some(wake) = &self.on_batch {
            wake();
        }
        self.pause_after(started.elapsed());
        Ok(())
    }

    /// Sleep as long as the batch took (at least `pause`, at most a second).
    fn pause_after(&self, batch: Duration) {
        let pause = batch.max(self.settings.pause).min(Duration::from_secs(1));
        if !pause.is_zero() {
            std::thread::sleep(pause);
        }
    }
}

/// The last stored sweep report of a store (for pages that have only the store).
pub fn last_report(store: &SharedStore) -> Result<Option<SweepReport>, StoreError> {
    let Some(bytes) = store.kv_get(LAST_REPORT_KEY, now_millis())? else {
        return Ok(None);
    };
    match serde_json::from_slice(&bytes) {
        Ok(r) => Ok(Some(r)),
        Err(e) => {
            tracing::warn!(error = %e, "the stored retention report is unreadable; ignoring it");
            Ok(None)
        }
    }
}
