//! Compaction and the record of the last maintenance run.
//!
//! redb's `Database::compact` needs `&mut Database`: no transaction may be open. Every store
//! call holds the read side of `RedbStore::db` for exactly its own duration, so taking the write
//! side *is* the maintenance window: it waits for the calls in flight (the ingest writer's
//! transaction included) and holds back every new one until the compaction is done. The ingest
//! writer simply waits meanwhile; nothing is confirmed to Telegram until its commit returns, so
//! nothing is lost, and updates queue up in Telegram (or in the webhook's retry loop).

use super::errors::store_err;
use super::tables::{META, meta_key};
use super::{RedbStore, codec, poisoned};
use crate::store::{CompactionReport, MaintenanceRepo, MaintenanceRun, StoreError, StoreResult};
use redb::Durability;
use std::sync::atomic::Ordering;
use std::time::Instant;

const TABLE: &str = "meta.last_maintenance";

impl RedbStore {
    fn file_len(&self) -> u64 {
        MaintenanceRepo::file_bytes(self).unwrap_or(0)
    }
}

impl MaintenanceRepo for RedbStore {
    fn compact(&self) -> StoreResult<CompactionReport> {
        if self.broken.load(Ordering::Acquire) {
            self.reopen()?;
        }
        let started = Instant::now();
        let bytes_before = self.file_len();
        let mut guard = self.db.write().map_err(|_| poisoned())?;
        let acquired = Instant::now();
        let result = match guard.as_mut() {
            Some(db) => db.compact().map_err(store_err),
            None => Err(StoreError::Closed),
        };
        let pause = acquired.elapsed();
        drop(guard);
        if let Err(e) = &result
            && e.is_transient()
        {
            self.broken.store(true, Ordering::Release);
        }
        let compacted = result?;
        let report = CompactionReport {
            bytes_before,
            bytes_after: self.file_len(),
            compacted,
            wait_ms: (acquired - started).as_millis() as u64,
            pause_ms: pause.as_millis() as u64,
            duration_ms: started.elapsed().as_millis() as u64,
        };
        tracing::info!(
            store = %self.label,
            before = report.bytes_before,
            after = report.bytes_after,
            pause_ms = report.pause_ms,
            "store compacted"
        );
        Ok(report)
    }

    fn file_bytes(&self) -> Option<u64> {
        let path = self.file.as_deref()?;
        std::fs::metadata(path).ok().map(|m| m.len())
    }

    fn last_maintenance(&self) -> StoreResult<Option<MaintenanceRun>> {
        self.read(|txn| {
            let meta = txn.open_table(META).map_err(store_err)?;
            let Some(bytes) = meta
                .get(meta_key::LAST_MAINTENANCE)
                .map_err(store_err)?
                .map(|g| g.value().to_vec())
            else {
                return Ok(None);
            };
            let (version, rest) = codec::split(TABLE, &bytes)?;
            match version {
                1 => Ok(Some(codec::body(TABLE, rest)?)),
                v => Err(codec::unknown_version(TABLE, v)),
            }
        })
    }

    fn record_maintenance(&self, run: &MaintenanceRun) -> StoreResult<()> {
        let bytes = codec::encode(TABLE, 1, run)?;
        self.with_db(|db| {
            let mut txn = db.begin_write().map_err(store_err)?;
            txn.set_durability(Durability::Immediate)
                .map_err(store_err)?;
            {
                let mut meta = txn.open_table(META).map_err(store_err)?;
                meta.insert(meta_key::LAST_MAINTENANCE, bytes.as_slice())
                    .map_err(store_err)?;
            }
            txn.commit().map_err(store_err)
        })
    }
}
