//! The redb backend: the only module that names redb types.
//!
//! - `tables`: every table definition (primary tables and secondary indexes).
//! - `codec`: versioned postcard records.
//! - `migrations`: schema versions, one function per step.
//! - `ingest`: [`IngestSink`] — a whole batch in one durable write transaction.
//! - `read`: the read traits, one read transaction per call.
//! - `kv`: the key-value table with expiry; `settings`: user settings; `purge`: removing
//!   messages with their index rows.
//! - `counters`: statistics counters written by ingest (and backfilled by the v3 migration);
//!   `stats`: [`StatsRepo`](crate::store::StatsRepo), reading them.
//!
//! redb latches any I/O failure (a full disk, say): every later operation on that `Database`
//! fails until it is closed and reopened. [`RedbStore`] therefore remembers a failure and reopens
//! the file on the next call, so ingest resumes by itself once space is freed.

mod backup;
mod broadcast;
mod broadcast_codec;
mod check;
mod codec;
mod compact;
mod counters;
mod errors;
mod forget;
mod ingest;
mod kv;
mod meta;
mod migrations;
mod purge;
mod read;
mod retention;
mod settings;
mod stats;
mod tables;
mod testing;

pub use backup::{RestoreError, RestoreReport, restore_into, verify_backup};

pub use testing::{IndexRow, RawKey, needs_repair_for_test};

use crate::store::{OpenError, Store, StoreError, StoreResult};
use errors::store_err;
use redb::{
    Database, DatabaseError, Durability, ReadTransaction, ReadableDatabase, StorageBackend,
    WriteTransaction,
};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, RwLock, RwLockReadGuard};

/// The database file inside the data directory.
pub const FILE_NAME: &str = "tgbox.redb";

/// Tuning of the redb backend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedbOptions {
    /// Page cache size. redb defaults to 1 GiB, far too much for a small VPS or a Pi.
    pub cache_bytes: usize,
}

impl Default for RedbOptions {
    fn default() -> Self {
        RedbOptions {
            cache_bytes: 32 * 1024 * 1024,
        }
    }
}

type OpenFn = dyn Fn(&redb::Builder) -> Result<Database, DatabaseError> + Send + Sync;

/// The redb store. Cheap to share behind an `Arc`; all methods take `&self`.
pub struct RedbStore {
    db: RwLock<Option<Database>>,
    /// Set after an I/O failure: the next call reopens the database first.
    broken: AtomicBool,
    open_fn: Box<OpenFn>,
    options: RedbOptions,
    /// The file path, or a description of the backend, for messages.
    label: String,
    /// The file, when the store is on one (its size before and after a compaction).
    file: Option<PathBuf>,
}

impl std::fmt::Debug for RedbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbStore")
            .field("label", &self.label)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl RedbStore {
    /// Open (or create) `dir/tgbox.redb`, creating `dir` if missing, and migrate it to the
    /// current schema. Refuses a file another process (or another `RedbStore`) has open.
    pub fn open(dir: &Path, options: &RedbOptions) -> Result<RedbStore, OpenError> {
        std::fs::create_dir_all(dir).map_err(|source| OpenError::CreateDir {
            path: dir.display().to_string(),
            source,
        })?;
        let path: PathBuf = dir.join(FILE_NAME);
        let label = path.display().to_string();
        let file = path.clone();
        let open_fn = move |b: &redb::Builder| b.create(&path);
        let mut store = Self::open_inner(Box::new(open_fn), label, options)?;
        store.file = Some(file);
        Ok(store)
    }

    /// Open a database on a custom storage backend (tests: fault injection, crash images).
    /// The backend cannot be reopened: after an I/O failure the store stays failed. Use
    /// [`RedbStore::open_with_backend_factory`] to test recovery.
    #[doc(hidden)]
    pub fn open_with_backend(
        backend: impl StorageBackend,
        options: &RedbOptions,
    ) -> Result<RedbStore, OpenError> {
        let slot = Mutex::new(Some(backend));
        let open_fn = move |b: &redb::Builder| {
            let backend = slot.lock().ok().and_then(|mut s| s.take()).ok_or_else(|| {
                DatabaseError::Storage(redb::StorageError::Io(std::io::Error::other(
                    "this storage backend cannot be reopened",
                )))
            })?;
            b.create_with_backend(backend)
        };
        Self::open_inner(Box::new(open_fn), "(custom backend)".to_string(), options)
    }

    /// Open a database on backends made by `factory`, called again to reopen after an I/O
    /// failure.
    #[doc(hidden)]
    pub fn open_with_backend_factory<B, F>(
        factory: F,
        options: &RedbOptions,
    ) -> Result<RedbStore, OpenError>
    where
        B: StorageBackend,
        F: Fn() -> std::io::Result<B> + Send + Sync + 'static,
    {
        let open_fn = move |b: &redb::Builder| b.create_with_backend(factory()?);
        Self::open_inner(Box::new(open_fn), "(custom backend)".to_string(), options)
    }

    fn open_inner(
        open_fn: Box<OpenFn>,
        label: String,
        options: &RedbOptions,
    ) -> Result<RedbStore, OpenError> {
        let db = open_database(&*open_fn, &label, options)?;
        tracing::info!(store = %label, cache_bytes = options.cache_bytes, "redb store open");
        Ok(RedbStore {
            db: RwLock::new(Some(db)),
            broken: AtomicBool::new(false),
            open_fn,
            options: options.clone(),
            label,
            file: None,
        })
    }

    /// Close the database cleanly (the next open needs no repair).
    pub fn close(self) -> StoreResult<()> {
        let db = match self.db.into_inner() {
            Ok(db) => db,
            Err(poisoned) => poisoned.into_inner(),
        };
        match db {
            Some(db) => db.close().map_err(store_err),
            None => Ok(()),
        }
    }

    /// Verify every page checksum and the allocator state (`tgbox check`). `Ok(false)` means the
    /// file needed a repair, which has been done.
    pub fn check_integrity(&mut self) -> StoreResult<bool> {
        let db = self.db.get_mut().map_err(|_| poisoned())?;
        match db.as_mut() {
            Some(db) => db.check_integrity().map_err(store_err),
            None => Err(StoreError::Closed),
        }
    }

    /// Run `f` on the open database; reopen first after an earlier I/O failure, and remember a
    /// new one.
    fn with_db<T>(&self, f: impl FnOnce(&Database) -> StoreResult<T>) -> StoreResult<T> {
        if self.broken.load(Ordering::Acquire) {
            self.reopen()?;
        }
        let guard: RwLockReadGuard<'_, Option<Database>> =
            self.db.read().map_err(|_| poisoned())?;
        let db = guard.as_ref().ok_or(StoreError::Closed)?;
        let result = f(db);
        if let Err(e) = &result {
            if e.is_transient() {
                tracing::warn!(store = %self.label, error = %e, "store I/O failed; it will be reopened");
                self.broken.store(true, Ordering::Release);
            }
        }
        result
    }

    /// One read transaction.
    fn read<T>(&self, f: impl FnOnce(&ReadTransaction) -> StoreResult<T>) -> StoreResult<T> {
        self.with_db(|db| {
            let txn = db.begin_read().map_err(store_err)?;
            f(&txn)
        })
    }

    /// One durable write transaction: committed with immediate durability when `f` returns
    /// `Ok`, rolled back (dropped) otherwise.
    fn write<T>(&self, f: impl FnOnce(&WriteTransaction) -> StoreResult<T>) -> StoreResult<T> {
        self.with_db(|db| {
            let mut txn = db.begin_write().map_err(store_err)?;
            txn.set_durability(Durability::Immediate)
                .map_err(store_err)?;
            let out = f(&txn)?;
            txn.commit().map_err(store_err)?;
            Ok(out)
        })
    }

    fn reopen(&self) -> StoreResult<()> {
        let mut guard = self.db.write().map_err(|_| poisoned())?;
        if !self.broken.load(Ordering::Acquire) {
            return Ok(()); // another caller reopened it meanwhile
        }
        // Dropping the failed handle releases its file locks.
        drop(guard.take());
        match open_database(&*self.open_fn, &self.label, &self.options) {
            Ok(db) => {
                *guard = Some(db);
                self.broken.store(false, Ordering::Release);
                tracing::info!(store = %self.label, "store reopened after an I/O failure");
                Ok(())
            }
            Err(OpenError::Store(e)) => Err(e),
            Err(e) => Err(StoreError::Backend(e.to_string())),
        }
    }
}

fn poisoned() -> StoreError {
    StoreError::Backend("the store lock was poisoned by a panic".to_string())
}

fn open_database(
    open_fn: &OpenFn,
    label: &str,
    options: &RedbOptions,
) -> Result<Database, OpenError> {
    let mut builder = Database::builder();
    builder.set_cache_size(options.cache_bytes);
    let db = open_fn(&builder).map_err(|e| errors::open_err(label, e))?;
    migrations::migrate(&db, label)?;
    Ok(db)
}

impl Store for RedbStore {
    fn backend_name(&self) -> &'static str {
        "redb"
    }
}
