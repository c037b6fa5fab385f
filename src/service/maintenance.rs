//! Maintenance: compaction of the store and the search index, when it is due, and what the last
//! run did (kept in memory and in the store, so the dashboard shows it after a restart).
//!
//! A run compacts the store first (the exclusive window: ingest waits for it, see
//! `MaintenanceRepo::compact`), then asks the indexer thread to merge the index's segments and
//! collect its garbage (searches and ingest go on meanwhile). One run at a time.
//!
//! Schedule: a daily time in **UTC** (`maintenance.compact_at`, run if the appliance is up within
//! the hour after it), and/or when the store's fragmented bytes pass
//! `maintenance.compact_fragmented_mb` (at most once an hour).
//!
//! The retention sweep (another service) reports into the slot [`MaintenanceService::set_cleanup`]
//! so that the storage page shows its last result and can start it.

use crate::search::SearchIndex;
use crate::store::{IndexCompactionFigures, MaintenanceRun, SharedStore, StoreError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use thiserror::Error;

/// Compacts the search index (the app wires it to the indexer thread).
pub type IndexCompactor = Arc<dyn Fn() -> Result<IndexCompactionFigures, String> + Send + Sync>;

/// The last retention sweep, as the retention service reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CleanupStatus {
    /// Unix seconds.
    pub finished_at: i64,
    /// One line: what was removed and how long it took.
    pub summary: String,
}

/// Where the storage page reads the last cleanup from, and how it starts one. Wired by the app
/// once the retention service exists; until then the page says "not run yet".
#[derive(Clone)]
pub struct CleanupHooks {
    pub last: Arc<dyn Fn() -> Option<CleanupStatus> + Send + Sync>,
    /// Start a sweep in the background (the "Run cleanup" button), if offered.
    pub run_now: Option<Arc<dyn Fn() + Send + Sync>>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MaintenanceSchedule {
    /// Daily at (hour, minute) UTC.
    pub daily_at: Option<(u8, u8)>,
    /// Compact when this many bytes are reclaimable (see [`MaintenanceService::reclaimable_bytes`]).
    pub fragmented_bytes: Option<u64>,
}

/// At most one fragmentation-triggered run per this many seconds.
const MIN_GAP_SECS: i64 = 3600;
/// A daily run missed by more than this (the appliance was down) waits for the next day.
const DAILY_WINDOW_SECS: i64 = 3600;

#[derive(Debug, Error)]
pub enum MaintenanceError {
    #[error("a compaction is already running")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The search index's size as the storage page shows it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IndexFigures {
    pub bytes: u64,
    pub segments: u64,
    pub docs: u64,
    /// Deleted documents still in segments (a merge drops them).
    pub deleted_docs: u64,
}

pub struct MaintenanceService {
    store: SharedStore,
    index: Option<IndexCompactor>,
    search: Option<Arc<SearchIndex>>,
    schedule: MaintenanceSchedule,
    last: Mutex<Option<MaintenanceRun>>,
    running: AtomicBool,
    cleanup: RwLock<Option<CleanupHooks>>,
}

impl MaintenanceService {
    /// The service over `store`; `index` compacts the search index (none: store only). Reads
    /// the last recorded run from the store.
    pub fn new(
        store: SharedStore,
        index: Option<IndexCompactor>,
        schedule: MaintenanceSchedule,
    ) -> Self {
        let last = match store.last_maintenance() {
            Ok(last) => last,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the last maintenance run");
                None
            }
        };
        MaintenanceService {
            store,
            index,
            search: None,
            schedule,
            last: Mutex::new(last),
            running: AtomicBool::new(false),
            cleanup: RwLock::new(None),
        }
    }

    /// Show this index's size and segments on the storage page.
    pub fn with_search_index(mut self, index: Arc<SearchIndex>) -> Self {
        self.search = Some(index);
        self
    }

    /// The search index's figures, when it is known (blocking: lists files).
    pub fn index_figures(&self) -> Option<IndexFigures> {
        let index = self.search.as_ref()?;
        let (segments, deleted_docs) = index.segment_figures().ok()?;
        Some(IndexFigures {
            bytes: index.disk_bytes(),
            segments,
            docs: index.num_docs(),
            deleted_docs,
        })
    }

    pub fn schedule(&self) -> MaintenanceSchedule {
        self.schedule
    }

    pub fn last_run(&self) -> Option<MaintenanceRun> {
        self.last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::Acquire)
    }

    /// Compact the store, then the index (blocking). `trigger` is recorded ("dashboard", ...).
    /// A failing part is recorded in the run's `error`; the run is returned either way.
    pub fn compact(&self, trigger: &str) -> Result<MaintenanceRun, MaintenanceError> {
        if self.running.swap(true, Ordering::AcqRel) {
            return Err(MaintenanceError::Busy);
        }
        let run = self.compact_inner(trigger);
        self.running.store(false, Ordering::Release);
        Ok(run)
    }

    fn compact_inner(&self, trigger: &str) -> MaintenanceRun {
        let mut errors = Vec::new();
        let store = match self.store.compact() {
            Ok(r) => Some(r),
            Err(e) => {
                tracing::error!(error = %e, "store compaction failed");
                errors.push(format!("store: {e}"));
                None
            }
        };
        let index = match &self.index {
            Some(compact) => match compact() {
                Ok(f) => Some(f),
                Err(e) => {
                    tracing::error!(error = %e, "search index compaction failed");
                    errors.push(format!("search index: {e}"));
                    None
                }
            },
            None => None,
        };
        let run = MaintenanceRun {
            finished_at: chrono::Utc::now().timestamp(),
            trigger: trigger.to_string(),
            store,
            index,
            error: (!errors.is_empty()).then(|| errors.join("; ")),
        };
        if let Err(e) = self.store.record_maintenance(&run) {
            tracing::warn!(error = %e, "cannot record the maintenance run in the store");
        }
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) = Some(run.clone());
        run
    }

    /// Bytes a compaction can give back: the file minus what the tables use (their keys,
    /// values and tree pages), or at least the bytes fragmented inside the tables. redb's
    /// per-table fragmentation alone misses the free pages between tables, which after a large
    /// deletion are most of it.
    pub fn reclaimable_bytes(&self) -> Result<u64, StoreError> {
        let stats = self.store.table_stats()?;
        let used: u64 = stats
            .iter()
            .map(|t| t.stored_bytes + t.metadata_bytes)
            .sum();
        let fragmented: u64 = stats.iter().map(|t| t.fragmented_bytes).sum();
        let free = self
            .store
            .file_bytes()
            .map_or(0, |file| file.saturating_sub(used));
        Ok(free.max(fragmented))
    }

    /// Why a run is due at `now` (Unix seconds), if it is.
    pub fn due(&self, now: i64) -> Option<&'static str> {
        let last = self.last_run().map_or(i64::MIN, |r| r.finished_at);
        if let Some((h, m)) = self.schedule.daily_at {
            let slot = now - now.rem_euclid(86_400) + i64::from(h) * 3600 + i64::from(m) * 60;
            if (slot..slot + DAILY_WINDOW_SECS).contains(&now) && last < slot {
                return Some("schedule");
            }
        }
        if let Some(limit) = self.schedule.fragmented_bytes
            && now.saturating_sub(last) >= MIN_GAP_SECS
        {
            match self.reclaimable_bytes() {
                Ok(n) if n >= limit => return Some("fragmentation"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "cannot read the store's fragmentation"),
            }
        }
        None
    }

    /// Run if due (the scheduler calls this every minute; blocking).
    pub fn run_if_due(&self, now: i64) -> Option<MaintenanceRun> {
        let trigger = self.due(now)?;
        tracing::info!(trigger, "scheduled compaction starts");
        self.compact(trigger).ok()
    }

    /// Wire the retention sweep's status (and start button) into the storage page.
    pub fn set_cleanup(&self, hooks: CleanupHooks) {
        *self.cleanup.write().unwrap_or_else(PoisonError::into_inner) = Some(hooks);
    }

    pub fn cleanup_hooks(&self) -> Option<CleanupHooks> {
        self.cleanup
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::redb::RedbStore;

    #[test]
    fn schedule_decides_and_runs_are_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let store: SharedStore =
            Arc::new(RedbStore::open(dir.path(), &Default::default()).unwrap());
        let schedule = MaintenanceSchedule {
            daily_at: Some((4, 30)),
            fragmented_bytes: None,
        };
        let service = MaintenanceService::new(store.clone(), None, schedule);
        let day = 20_000 * 86_400;
        let slot = day + 4 * 3600 + 30 * 60;
        assert_eq!(service.due(slot - 1), None);
        assert_eq!(service.due(slot), Some("schedule"));
        assert_eq!(
            service.due(slot + DAILY_WINDOW_SECS),
            None,
            "missed by over an hour"
        );
        let run = service.compact("test").unwrap();
        assert!(run.store.is_some() && run.error.is_none(), "{run:?}");
        // The run is in the store: a new service (a restart) sees it.
        let again = MaintenanceService::new(store, None, schedule);
        assert_eq!(again.last_run(), Some(run));
    }

    #[test]
    fn reclaimable_space_triggers_a_run_at_most_hourly() {
        use crate::domain::{ChatId, MessageId};
        use crate::store::contract::fixtures::{group, new_message, person, text};
        let dir = tempfile::tempdir().unwrap();
        let store: SharedStore =
            Arc::new(RedbStore::open(dir.path(), &Default::default()).unwrap());
        let (chat, user) = (group(-1, "g"), person(1, "u"));
        let body = "x".repeat(500);
        let batch: Vec<_> = (1..=2000)
            .map(|i| new_message(i as u32, text(&chat, Some(&user), i, i.into(), &body)))
            .collect();
        store.ingest(&batch).unwrap();
        let keys: Vec<_> = (1..=1900).map(|i| (ChatId(-1), MessageId(i))).collect();
        store.delete_messages(&keys).unwrap();
        let schedule = MaintenanceSchedule {
            daily_at: None,
            fragmented_bytes: Some(256 << 10),
        };
        let service = MaintenanceService::new(store, None, schedule);
        let reclaimable = service.reclaimable_bytes().unwrap();
        assert!(
            reclaimable > 512 << 10,
            "only {reclaimable} bytes reclaimable"
        );
        let now = chrono::Utc::now().timestamp();
        assert_eq!(service.due(now), Some("fragmentation"));
        let run = service.run_if_due(now).unwrap();
        assert_eq!(run.trigger, "fragmentation");
        assert!(service.reclaimable_bytes().unwrap() < reclaimable);
        // Not again within the hour, whatever the figures say.
        assert_eq!(service.due(now + 60), None);
    }
}
