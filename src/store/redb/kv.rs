//! [`KvRepo`] for redb: `kv` holds `key -> (expiry, value)` and `kv_expiry` indexes keys by
//! expiry. Invariant: a `kv` row has an expiry exactly when `kv_expiry` has the row
//! `(expiry, key)`; both are written in the same transaction. Reads treat a row whose expiry is at
//! or before `now` as absent; the sweep removes such rows in expiry order.

use super::RedbStore;
use super::codec::{self, V1};
use super::errors::store_err;
use super::tables::{KV, KV_EXPIRY};
use crate::store::{KvRepo, KvTtl, StoreError, StoreResult, UnixMillis};
use redb::{ReadableTable, ReadableTableMetadata, Table};
use serde::{Deserialize, Serialize};
use std::time::Duration;

const TABLE: &str = "kv";

#[derive(Serialize, Deserialize)]
struct KvV1 {
    expires_at: Option<i64>,
    value: Vec<u8>,
}

fn encode(entry: &KvV1) -> StoreResult<Vec<u8>> {
    codec::encode(TABLE, V1, entry)
}

fn decode(bytes: &[u8]) -> StoreResult<KvV1> {
    let (version, rest) = codec::split(TABLE, bytes)?;
    match version {
        V1 => codec::body(TABLE, rest),
        v => Err(codec::unknown_version(TABLE, v)),
    }
}

/// The expiry recorded in a `kv` value (`tgbox check` and its repair).
pub(super) fn expiry_of(bytes: &[u8]) -> StoreResult<Option<i64>> {
    Ok(decode(bytes)?.expires_at)
}

impl KvV1 {
    fn is_live(&self, now: UnixMillis) -> bool {
        self.expires_at.is_none_or(|at| at > now)
    }
}

/// `now + ttl`, saturating (a TTL of centuries is "practically never").
fn expiry(now: UnixMillis, ttl: Option<Duration>) -> Option<i64> {
    ttl.map(|ttl| now.saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX)))
}

type KvTable<'t> = Table<'t, &'static str, &'static [u8]>;
type ExpiryTable<'t> = Table<'t, (i64, &'static str), ()>;

fn get_entry<T>(table: &T, key: &str) -> StoreResult<Option<KvV1>>
where
    T: ReadableTable<&'static str, &'static [u8]>,
{
    table
        .get(key)
        .map_err(store_err)?
        .map(|g| decode(g.value()))
        .transpose()
}

fn get_live<T>(table: &T, key: &str, now: UnixMillis) -> StoreResult<Option<KvV1>>
where
    T: ReadableTable<&'static str, &'static [u8]>,
{
    Ok(get_entry(table, key)?.filter(|e| e.is_live(now)))
}

/// Write `entry` under `key`, keeping the expiry index in step with the previous row.
fn put(
    kv: &mut KvTable<'_>,
    exp: &mut ExpiryTable<'_>,
    key: &str,
    entry: &KvV1,
) -> StoreResult<()> {
    if let Some(old) = get_entry(kv, key)? {
        if let Some(at) = old.expires_at {
            exp.remove((at, key)).map_err(store_err)?;
        }
    }
    kv.insert(key, encode(entry)?.as_slice())
        .map_err(store_err)?;
    if let Some(at) = entry.expires_at {
        exp.insert((at, key), ()).map_err(store_err)?;
    }
    Ok(())
}

/// Remove `key`; returns the removed entry.
fn remove(kv: &mut KvTable<'_>, exp: &mut ExpiryTable<'_>, key: &str) -> StoreResult<Option<KvV1>> {
    let old = match kv.remove(key).map_err(store_err)? {
        Some(g) => Some(decode(g.value())?),
        None => None,
    };
    if let Some(at) = old.as_ref().and_then(|e| e.expires_at) {
        exp.remove((at, key)).map_err(store_err)?;
    }
    Ok(old)
}

impl KvRepo for RedbStore {
    fn kv_get(&self, key: &str, now: UnixMillis) -> StoreResult<Option<Vec<u8>>> {
        self.read(|txn| {
            let kv = txn.open_table(KV).map_err(store_err)?;
            Ok(get_live(&kv, key, now)?.map(|e| e.value))
        })
    }

    fn kv_mget(&self, keys: &[&str], now: UnixMillis) -> StoreResult<Vec<Option<Vec<u8>>>> {
        self.read(|txn| {
            let kv = txn.open_table(KV).map_err(store_err)?;
            keys.iter()
                .map(|k| Ok(get_live(&kv, k, now)?.map(|e| e.value)))
                .collect()
        })
    }

    fn kv_set(
        &self,
        key: &str,
        value: &[u8],
        ttl: Option<Duration>,
        now: UnixMillis,
    ) -> StoreResult<()> {
        self.kv_mset(&[(key, value)], ttl, now)
    }

    fn kv_mset(
        &self,
        entries: &[(&str, &[u8])],
        ttl: Option<Duration>,
        now: UnixMillis,
    ) -> StoreResult<()> {
        self.write(|txn| {
            let mut kv = txn.open_table(KV).map_err(store_err)?;
            let mut exp = txn.open_table(KV_EXPIRY).map_err(store_err)?;
            let expires_at = expiry(now, ttl);
            for (key, value) in entries {
                let entry = KvV1 {
                    expires_at,
                    value: value.to_vec(),
                };
                put(&mut kv, &mut exp, key, &entry)?;
            }
            Ok(())
        })
    }

    fn kv_del(&self, keys: &[&str], now: UnixMillis) -> StoreResult<u64> {
        self.write(|txn| {
            let mut kv = txn.open_table(KV).map_err(store_err)?;
            let mut exp = txn.open_table(KV_EXPIRY).map_err(store_err)?;
            let mut removed = 0;
            for key in keys {
                if remove(&mut kv, &mut exp, key)?.is_some_and(|e| e.is_live(now)) {
                    removed += 1;
                }
            }
            Ok(removed)
        })
    }

    fn kv_incr(
        &self,
        key: &str,
        by: i64,
        ttl_if_created: Option<Duration>,
        now: UnixMillis,
    ) -> StoreResult<i64> {
        let not_an_integer = || StoreError::NotAnInteger {
            key: key.to_string(),
        };
        self.write(|txn| {
            let mut kv = txn.open_table(KV).map_err(store_err)?;
            let mut exp = txn.open_table(KV_EXPIRY).map_err(store_err)?;
            let (current, expires_at) = match get_live(&kv, key, now)? {
                Some(entry) => {
                    let n = std::str::from_utf8(&entry.value)
                        .ok()
                        .and_then(|s| s.parse::<i64>().ok())
                        .ok_or_else(not_an_integer)?;
                    (n, entry.expires_at)
                }
                None => (0, expiry(now, ttl_if_created)),
            };
            let next = current.checked_add(by).ok_or_else(not_an_integer)?;
            let entry = KvV1 {
                expires_at,
                value: next.to_string().into_bytes(),
            };
            put(&mut kv, &mut exp, key, &entry)?;
            Ok(next)
        })
    }

    fn kv_expire(&self, key: &str, ttl: Option<Duration>, now: UnixMillis) -> StoreResult<bool> {
        self.write(|txn| {
            let mut kv = txn.open_table(KV).map_err(store_err)?;
            let mut exp = txn.open_table(KV_EXPIRY).map_err(store_err)?;
            let Some(mut entry) = get_live(&kv, key, now)? else {
                return Ok(false);
            };
            entry.expires_at = expiry(now, ttl);
            put(&mut kv, &mut exp, key, &entry)?;
            Ok(true)
        })
    }

    fn kv_ttl(&self, key: &str, now: UnixMillis) -> StoreResult<KvTtl> {
        self.read(|txn| {
            let kv = txn.open_table(KV).map_err(store_err)?;
            Ok(match get_live(&kv, key, now)? {
                None => KvTtl::Missing,
                Some(KvV1 {
                    expires_at: None, ..
                }) => KvTtl::Persistent,
                Some(KvV1 {
                    expires_at: Some(at),
                    ..
                }) => {
                    let left = u64::try_from(at.saturating_sub(now)).unwrap_or(0);
                    KvTtl::ExpiresIn(Duration::from_millis(left))
                }
            })
        })
    }

    fn kv_scan_prefix(
        &self,
        prefix: &str,
        now: UnixMillis,
        limit: usize,
    ) -> StoreResult<Vec<(String, Vec<u8>)>> {
        self.read(|txn| {
            let kv = txn.open_table(KV).map_err(store_err)?;
            let mut out = Vec::new();
            for row in kv.range(prefix..).map_err(store_err)? {
                if out.len() >= limit {
                    break;
                }
                let (k, v) = row.map_err(store_err)?;
                let key = k.value();
                if !key.starts_with(prefix) {
                    break;
                }
                let entry = decode(v.value())?;
                if entry.is_live(now) {
                    out.push((key.to_string(), entry.value));
                }
            }
            Ok(out)
        })
    }

    fn kv_sweep_expired(&self, now: UnixMillis, limit: usize) -> StoreResult<u64> {
        self.write(|txn| {
            let mut kv = txn.open_table(KV).map_err(store_err)?;
            let mut exp = txn.open_table(KV_EXPIRY).map_err(store_err)?;
            // The index is ordered by expiry, so the due rows are a prefix of it.
            let mut due: Vec<(i64, String)> = Vec::new();
            for row in exp.iter().map_err(store_err)? {
                if due.len() >= limit {
                    break;
                }
                let (k, _) = row.map_err(store_err)?;
                let (at, key) = k.value();
                if at > now {
                    break;
                }
                due.push((at, key.to_string()));
            }
            for (at, key) in &due {
                exp.remove((*at, key.as_str())).map_err(store_err)?;
                // The row may have been rewritten with a later expiry only if the index were
                // out of step; remove it only when it is still the expired one.
                if get_entry(&kv, key)?.is_some_and(|e| e.expires_at == Some(*at)) {
                    kv.remove(key.as_str()).map_err(store_err)?;
                }
            }
            Ok(due.len() as u64)
        })
    }

    fn kv_len(&self, now: UnixMillis) -> StoreResult<u64> {
        self.read(|txn| {
            let kv = txn.open_table(KV).map_err(store_err)?;
            let exp = txn.open_table(KV_EXPIRY).map_err(store_err)?;
            let mut expired = 0u64;
            for row in exp.iter().map_err(store_err)? {
                let (k, _) = row.map_err(store_err)?;
                if k.value().0 > now {
                    break;
                }
                expired += 1;
            }
            Ok(kv.len().map_err(store_err)?.saturating_sub(expired))
        })
    }
}
