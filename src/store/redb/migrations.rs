//! Schema versions. The version lives in `meta` under `schema_version`; a file without a `meta`
//! table is version 0 (new or empty). Each migration moves the schema up by exactly one version
//! in its own durable write transaction, which also records the new version, so an interrupted
//! upgrade resumes where it stopped.
//!
//! To add a version: bump `store::SCHEMA_VERSION`, write `fn vN_to_vN1` below and append it to
//! [`MIGRATIONS`] (the array length is tied to `SCHEMA_VERSION`, so forgetting either one does
//! not compile). A step never changes what an earlier step created: v1 files exist in the wild.
//!
//! - v1: every table of the first release.
//! - v2: `users_by_username` (lowercased username -> user id), backfilled from `users`.
//! - v3: `kv` + `kv_expiry` (key-value table with expiry), `user_settings` +
//!   `users_no_announcements`; new tables of this release are created here, empty.
//! - v3 (broadcasts): `broadcast_jobs`, `broadcast_recipients`, `broadcast_pending`,
//!   `blocked_users`.
//! - v3 (statistics): `chat_daily`, `chat_user_daily`, `chat_hourly`, `chat_kinds`, backfilled
//!   from the stored messages (what retention already removed cannot be counted).

use super::codec;
use super::errors::store_err;
use super::meta;
use super::tables::{
    BLOCKED_USERS, BROADCAST_JOBS, BROADCAST_PENDING, BROADCAST_RECIPIENTS, CHATS, MEMBER_CHATS,
    MEMBERS, MESSAGES, MESSAGES_BY_TIME, MESSAGES_BY_USER, META, QUARANTINE, SEARCH_OUTBOX, USERS,
    USERS_BY_ACTIVITY, USERS_BY_USERNAME,
};
use super::tables::{CHAT_DAILY, CHAT_HOURLY, CHAT_KINDS, CHAT_USER_DAILY};
use super::tables::{KV, KV_EXPIRY, USER_SETTINGS, USERS_NO_ANNOUNCEMENTS};
use crate::domain::{UserId, normalize_username};
use crate::store::{OpenError, SCHEMA_VERSION, StoreError, StoreResult};
use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableError, WriteTransaction};
use std::collections::BTreeMap;

type Migration = fn(&WriteTransaction) -> StoreResult<()>;

/// `MIGRATIONS[n]` migrates schema `n` to `n + 1`.
const MIGRATIONS: [Migration; SCHEMA_VERSION as usize] = [v0_to_v1, v1_to_v2, v2_to_v3];

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

/// v1 -> v2: the username index, backfilled. Where two stored users carry the same username (one
/// of them changed it since), the one active last gets it.
fn v1_to_v2(txn: &WriteTransaction) -> StoreResult<()> {
    let names = backfill_usernames(txn)?;
    tracing::info!(usernames = names, "username index backfilled");
    Ok(())
}

/// Fill `users_by_username` from `users` (also `tgbox check --repair`); returns the rows.
pub(crate) fn backfill_usernames(txn: &WriteTransaction) -> StoreResult<u64> {
    let mut best: BTreeMap<String, (i64, u64)> = BTreeMap::new();
    {
        let users = txn.open_table(USERS).map_err(store_err)?;
        for row in users.iter().map_err(store_err)? {
            let (k, v) = row.map_err(store_err)?;
            let user = codec::decode_user(UserId(k.value()), v.value())?;
            let Some(name) = user.username.as_deref().map(normalize_username) else {
                continue;
            };
            if name.is_empty() {
                continue;
            }
            let candidate = (user.last_activity_at.0, user.id.0);
            let slot = best.entry(name).or_insert(candidate);
            if candidate > *slot {
                *slot = candidate;
            }
        }
    }
    let mut index = txn.open_table(USERS_BY_USERNAME).map_err(store_err)?;
    for (name, (_, id)) in &best {
        index.insert(name.as_str(), *id).map_err(store_err)?;
    }
    Ok(best.len() as u64)
}

/// v2 -> v3: new tables, all starting empty except the statistics counters (backfilled).
fn v2_to_v3(txn: &WriteTransaction) -> StoreResult<()> {
    txn.open_table(KV).map_err(store_err)?;
    txn.open_table(KV_EXPIRY).map_err(store_err)?;
    txn.open_table(USER_SETTINGS).map_err(store_err)?;
    txn.open_table(USERS_NO_ANNOUNCEMENTS).map_err(store_err)?;
    txn.open_table(BROADCAST_JOBS).map_err(store_err)?;
    txn.open_table(BROADCAST_RECIPIENTS).map_err(store_err)?;
    txn.open_table(BROADCAST_PENDING).map_err(store_err)?;
    txn.open_table(BLOCKED_USERS).map_err(store_err)?;
    txn.open_table(CHAT_DAILY).map_err(store_err)?;
    txn.open_table(CHAT_USER_DAILY).map_err(store_err)?;
    txn.open_table(CHAT_HOURLY).map_err(store_err)?;
    txn.open_table(CHAT_KINDS).map_err(store_err)?;
    let counted = super::counters::backfill(txn)?;
    tracing::info!(messages = counted, "statistics counters backfilled");
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
