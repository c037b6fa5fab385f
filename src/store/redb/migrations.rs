//! Schema versions. The version lives in `meta` under `schema_version`; a file without a `meta`
//! table is version 0 (new or empty). Each migration moves the schema up by exactly one version
//! in its own durable write transaction, which also records the new version, so an interrupted
//! upgrade resumes where it stopped.
//!
//! To add version 2: bump `store::SCHEMA_VERSION` to 2, write `fn v1_to_v2` below and append it
//! to [`MIGRATIONS`] (the array length is tied to `SCHEMA_VERSION`, so forgetting either one does
//! not compile).

use super::errors::store_err;
use super::meta;
use super::tables::{
    CHATS, MEMBER_CHATS, MEMBERS, MESSAGES, MESSAGES_BY_TIME, MESSAGES_BY_USER, META, QUARANTINE,
    SEARCH_OUTBOX, USERS, USERS_BY_ACTIVITY,
};
use crate::store::{OpenError, SCHEMA_VERSION, StoreError, StoreResult};
use redb::{Database, Durability, ReadableDatabase, TableError, WriteTransaction};

type Migration = fn(&WriteTransaction) -> StoreResult<()>;

/// `MIGRATIONS[n]` migrates schema `n` to `n + 1`.
const MIGRATIONS: [Migration; SCHEMA_VERSION as usize] = [v0_to_v1];

/// v0 -> v1: create every table.
fn v0_to_v1(txn: &WriteTransaction) -> StoreResult<()> {
    txn.open_table(USERS).map_err(store_err)?;
    txn.open_table(CHATS).map_err(store_err)?;
    txn.open_table(MEMBERS).map_err(store_err)?;
    txn.open_table(MESSAGES).map_err(store_err)?;
    txn.open_table(META).map_err(store_err)?;
    txn.open_table(QUARANTINE).map_err(store_err)?;
    txn.open_table(SEARCH_OUTBOX).map_err(store_err)?;
    txn.open_table(MESSAGES_BY_USER).map_err(store_err)?;
    txn.open_table(MESSAGES_BY_TIME).map_err(store_err)?;
    txn.open_table(USERS_BY_ACTIVITY).map_err(store_err)?;
    txn.open_table(MEMBER_CHATS).map_err(store_err)?;
    Ok(())
}

/// The schema version recorded in the file (0 when there is no `meta` table yet).
pub(crate) fn recorded_version(db: &Database) -> StoreResult<u32> {
    let txn = db.begin_read().map_err(store_err)?;
    match txn.open_table(META) {
        Ok(table) => meta::schema_version(&table),
        Err(TableError::TableDoesNotExist(_)) => Ok(0),
        Err(e) => Err(store_err(e)),
    }
}

/// Bring the file up to [`SCHEMA_VERSION`], or refuse a newer one.
pub(crate) fn migrate(db: &Database, label: &str) -> Result<(), OpenError> {
    let found = recorded_version(db).map_err(|e| match e {
        StoreError::DiskFull => OpenError::Store(e),
        other => OpenError::Unreadable {
            path: label.to_string(),
            detail: other.to_string(),
        },
    })?;
    if found > SCHEMA_VERSION {
        return Err(OpenError::SchemaTooNew {
            path: label.to_string(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for from in found..SCHEMA_VERSION {
        let failed = |e: StoreError| match e {
            StoreError::DiskFull => OpenError::Store(e),
            other => OpenError::Migration {
                path: label.to_string(),
                from,
                detail: other.to_string(),
            },
        };
        let step = MIGRATIONS
            .get(from as usize)
            .ok_or_else(|| failed(StoreError::Backend("no migration for this version".into())))?;
        let mut txn = db.begin_write().map_err(|e| failed(store_err(e)))?;
        txn.set_durability(Durability::Immediate)
            .map_err(|e| failed(store_err(e)))?;
        step(&txn).map_err(failed)?;
        {
            let mut table = txn.open_table(META).map_err(|e| failed(store_err(e)))?;
            meta::put_schema_version(&mut table, from + 1).map_err(failed)?;
        }
        txn.commit().map_err(|e| failed(store_err(e)))?;
        tracing::info!(store = label, from, to = from + 1, "store schema migrated");
    }
    Ok(())
}
