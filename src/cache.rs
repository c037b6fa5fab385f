//! The in-process cache: TTL + LRU with an entry and a byte bound, counters in the metrics
//! registry, and a valve that shrinks it under memory pressure.
//!
//! [`TtlLru`] is the generic part: a few shards, each an exact LRU list (`lru::LruCache`, already
//! in the build through tantivy) of entries carrying an expiry on a [`Clock`] the tests control.
//! [`CachedStore`] (in `cache/store.rs`) puts it in front of the store for the hot lookups
//! (users, chats, members, user settings) and for short-lived results ([`AppCache`]).
//!
//! Correctness: the app writes only through [`CachedStore`], which invalidates what each write
//! touches after the store call returns; a load that raced with an invalidation is not cached
//! (a generation check under the shard lock). The TTL (`cache.ttl_secs`) bounds anything else.

mod store;
mod store_broadcast;
mod store_stats;

pub use store::{AppCache, CachedStore};

use crate::telemetry::CacheCounters;
use lru::LruCache;
use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Milliseconds on a monotonic clock; only differences matter.
pub trait Clock: Send + Sync {
    fn now_ms(&self) -> u64;
}

/// The process's monotonic clock.
#[derive(Debug)]
pub struct SystemClock(Instant);

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock(Instant::now())
    }
}

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        self.0.elapsed().as_millis() as u64
    }
}

/// A clock that moves only when told (tests).
#[derive(Debug, Default)]
pub struct ManualClock(AtomicU64);

impl ManualClock {
    pub fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_millis() as u64, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The bounds of a cache, all shards together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_entries: usize,
    pub max_bytes: usize,
    /// Independent LRU lists (less lock contention); eviction order is exact within a shard.
    pub shards: usize,
}

/// How far a shrink may go: never below this share of the configured bounds.
const MIN_SHARE: usize = 16;

struct Entry<V> {
    value: V,
    expires_at: u64,
    weight: usize,
}

struct Shard<K: Hash + Eq, V> {
    lru: LruCache<K, Entry<V>>,
    bytes: usize,
    max_entries: usize,
    max_bytes: usize,
}

/// A sharded TTL + LRU cache. Values are cloned out (use `Arc` for large ones).
pub struct TtlLru<K: Hash + Eq, V> {
    shards: Box<[Mutex<Shard<K, V>>]>,
    hasher: std::collections::hash_map::RandomState,
    clock: Arc<dyn Clock>,
    counters: Arc<CacheCounters>,
    weigh: fn(&K, &V) -> usize,
    configured: Limits,
    /// Bumped (under the shard lock) by every invalidation: a load that started before one is
    /// not inserted.
    generation: AtomicU64,
    /// 0 = full size; n = bounds divided by 2^n.
    shrink_level: AtomicU64,
}

impl<K: Hash + Eq + Clone, V: Clone> TtlLru<K, V> {
    pub fn new(
        limits: Limits,
        clock: Arc<dyn Clock>,
        counters: Arc<CacheCounters>,
        weigh: fn(&K, &V) -> usize,
    ) -> Self {
        let n = limits.shards.clamp(1, 64);
        let limits = Limits {
            max_entries: limits.max_entries.max(n),
            max_bytes: limits.max_bytes.max(n),
            shards: n,
        };
        let shards = (0..n)
            .map(|_| {
                Mutex::new(Shard {
                    lru: LruCache::unbounded(),
                    bytes: 0,
                    max_entries: limits.max_entries / n,
                    max_bytes: limits.max_bytes / n,
                })
            })
            .collect();
        counters.set_capacity(limits.max_entries as u64);
        TtlLru {
            shards,
            hasher: Default::default(),
            clock,
            counters,
            weigh,
            configured: limits,
            generation: AtomicU64::new(0),
            shrink_level: AtomicU64::new(0),
        }
    }

    fn shard(&self, key: &K) -> MutexGuard<'_, Shard<K, V>> {
        let i = (self.hasher.hash_one(key) % self.shards.len() as u64) as usize;
        self.shards[i]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The live value, marking it most recently used; counts a hit or a miss.
    pub fn get(&self, key: &K) -> Option<V> {
        let now = self.clock.now_ms();
        let mut shard = self.shard(key);
        let found = match shard.lru.get(key) {
            Some(e) if e.expires_at > now => Some(e.value.clone()),
            Some(_) => {
                if let Some(e) = shard.lru.pop(key) {
                    shard.bytes -= e.weight;
                    self.counters.adjust_size(-1, -(e.weight as i64));
                }
                self.counters.expired();
                None
            }
            None => None,
        };
        drop(shard);
        match &found {
            Some(_) => self.counters.hit(),
            None => self.counters.miss(),
        }
        found
    }

    /// Insert (or replace) a value living `ttl`, evicting least recently used entries past
    /// the bounds.
    pub fn insert(&self, key: K, value: V, ttl: Duration) {
        let mut shard = self.shard(&key);
        self.insert_locked(&mut shard, key, value, ttl);
    }

    fn insert_locked(&self, shard: &mut Shard<K, V>, key: K, value: V, ttl: Duration) {
        let weight = (self.weigh)(&key, &value);
        let expires_at = self.clock.now_ms().saturating_add(ttl.as_millis() as u64);
        let entry = Entry {
            value,
            expires_at,
            weight,
        };
        if let Some(old) = shard.lru.put(key, entry) {
            shard.bytes -= old.weight;
            self.counters.adjust_size(-1, -(old.weight as i64));
        }
        shard.bytes += weight;
        self.counters.adjust_size(1, weight as i64);
        self.counters.inserted();
        self.evict_over_bounds(shard);
    }

    fn evict_over_bounds(&self, shard: &mut Shard<K, V>) {
        let mut evicted = 0;
        while shard.lru.len() > shard.max_entries
            || (shard.bytes > shard.max_bytes && shard.lru.len() > 1)
        {
            let Some((_, e)) = shard.lru.pop_lru() else {
                break;
            };
            shard.bytes -= e.weight;
            self.counters.adjust_size(-1, -(e.weight as i64));
            evicted += 1;
        }
        if evicted > 0 {
            self.counters.evicted(evicted);
        }
    }

    /// The cached value, or `load()`'s, which is cached for `ttl` unless an invalidation
    /// happened while it ran (then it may be stale, and is returned but not kept).
    pub fn get_or_insert_with<E>(
        &self,
        key: K,
        ttl: Duration,
        load: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E> {
        if let Some(v) = self.get(&key) {
            return Ok(v);
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let value = load()?;
        let mut shard = self.shard(&key);
        if self.generation.load(Ordering::SeqCst) == generation {
            self.insert_locked(&mut shard, key, value.clone(), ttl);
        }
        Ok(value)
    }

    /// Drop these keys because their values changed.
    pub fn invalidate<'a>(&self, keys: impl IntoIterator<Item = &'a K>)
    where
        K: 'a,
    {
        let mut removed = 0;
        for key in keys {
            let mut shard = self.shard(key);
            self.generation.fetch_add(1, Ordering::SeqCst);
            if let Some(e) = shard.lru.pop(key) {
                shard.bytes -= e.weight;
                self.counters.adjust_size(-1, -(e.weight as i64));
                removed += 1;
            }
        }
        if removed > 0 {
            self.counters.invalidated(removed);
        }
    }

    /// Drop every entry whose key matches.
    pub fn invalidate_where(&self, matches: impl Fn(&K) -> bool) {
        let mut removed = 0;
        for shard in self.shards.iter() {
            let mut shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
            self.generation.fetch_add(1, Ordering::SeqCst);
            let keys: Vec<K> = shard
                .lru
                .iter()
                .filter(|(k, _)| matches(k))
                .map(|(k, _)| k.clone())
                .collect();
            for k in keys {
                if let Some(e) = shard.lru.pop(&k) {
                    shard.bytes -= e.weight;
                    self.counters.adjust_size(-1, -(e.weight as i64));
                    removed += 1;
                }
            }
        }
        if removed > 0 {
            self.counters.invalidated(removed);
        }
    }

    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).lru.len())
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Estimated bytes held.
    pub fn bytes(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).bytes)
            .sum()
    }

    /// The entry bound in force (all shards).
    pub fn capacity(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).max_entries)
            .sum()
    }

    /// Halve the bounds (down to 1/16 of the configured ones), evicting the least recently used
    /// entries. Returns whether anything changed.
    pub fn shrink(&self) -> bool {
        let level = self.shrink_level.load(Ordering::SeqCst);
        if (1usize << (level + 1)) > MIN_SHARE {
            return false;
        }
        self.shrink_level.store(level + 1, Ordering::SeqCst);
        self.apply_level(level + 1);
        self.counters.shrunk();
        true
    }

    /// Back to the configured bounds. Returns whether it was shrunk.
    pub fn restore(&self) -> bool {
        if self.shrink_level.swap(0, Ordering::SeqCst) == 0 {
            return false;
        }
        self.apply_level(0);
        true
    }

    pub fn is_shrunk(&self) -> bool {
        self.shrink_level.load(Ordering::SeqCst) > 0
    }

    fn apply_level(&self, level: u64) {
        let n = self.shards.len();
        let max_entries = ((self.configured.max_entries / n) >> level).max(1);
        let max_bytes = ((self.configured.max_bytes / n) >> level).max(1);
        for shard in self.shards.iter() {
            let mut shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
            shard.max_entries = max_entries;
            shard.max_bytes = max_bytes;
            self.evict_over_bounds(&mut shard);
        }
        self.counters.set_capacity((max_entries * n) as u64);
    }

    /// Drop everything.
    pub fn clear(&self) {
        self.invalidate_where(|_| true);
    }
}

/// Shrinks a cache while the process RSS is above a share of system memory, and restores it
/// once RSS is well below (under 90 % of the limit). Logs once per episode.
pub struct PressureValve {
    percent: u8,
    over: std::sync::atomic::AtomicBool,
}

/// What [`PressureValve::check`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pressure {
    Normal,
    Shrunk,
    Restored,
}

impl PressureValve {
    /// `percent` of system memory; 0 never shrinks.
    pub fn new(percent: u8) -> Self {
        PressureValve {
            percent,
            over: Default::default(),
        }
    }

    /// Look at one memory sample; shrink or restore `cache` as needed.
    pub fn check<K: Hash + Eq + Clone, V: Clone>(
        &self,
        cache: &TtlLru<K, V>,
        rss_bytes: u64,
        system_total_bytes: u64,
    ) -> Pressure {
        if self.percent == 0 || system_total_bytes == 0 {
            return Pressure::Normal;
        }
        let limit = system_total_bytes / 100 * u64::from(self.percent);
        if rss_bytes > limit {
            let before = cache.len();
            if cache.shrink() {
                if !self.over.swap(true, Ordering::SeqCst) {
                    tracing::warn!(
                        rss_mib = rss_bytes >> 20,
                        limit_mib = limit >> 20,
                        entries_before = before,
                        entries_after = cache.len(),
                        capacity = cache.capacity(),
                        "memory pressure: shrinking the in-process cache (cache.shrink_at_rss_percent)"
                    );
                }
                return Pressure::Shrunk;
            }
            return Pressure::Normal;
        }
        if rss_bytes < limit / 10 * 9 && cache.restore() {
            self.over.store(false, Ordering::SeqCst);
            tracing::info!(
                rss_mib = rss_bytes >> 20,
                "memory use is back down: the in-process cache may grow to its configured size again"
            );
            return Pressure::Restored;
        }
        Pressure::Normal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(max_entries: usize, max_bytes: usize) -> (TtlLru<u32, String>, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::default());
        let c = TtlLru::new(
            Limits {
                max_entries,
                max_bytes,
                shards: 1,
            },
            clock.clone(),
            Arc::default(),
            |_, v: &String| v.len(),
        );
        (c, clock)
    }

    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn ttl_expiry_on_the_clock() {
        let (c, clock) = cache(10, 1000);
        c.insert(1, "one".into(), Duration::from_secs(5));
        c.insert(2, "two".into(), MIN);
        clock.advance(Duration::from_millis(4999));
        assert_eq!(c.get(&1).as_deref(), Some("one"));
        clock.advance(Duration::from_millis(1));
        assert_eq!(c.get(&1), None, "expired at its instant");
        assert_eq!(c.get(&2).as_deref(), Some("two"));
        let s = c.counters.snapshot();
        assert_eq!((s.hits, s.misses, s.expirations), (2, 1, 1));
        assert_eq!((s.entries, s.bytes), (1, 3));
    }

    #[test]
    fn lru_eviction_order_by_entries_and_bytes() {
        let (c, _) = cache(3, 1000);
        for k in 1..=3 {
            c.insert(k, format!("v{k}"), MIN);
        }
        assert!(c.get(&1).is_some(), "1 becomes the most recent");
        c.insert(4, "v4".into(), MIN);
        assert_eq!(c.get(&2), None, "2 was least recently used");
        assert!(c.get(&1).is_some() && c.get(&3).is_some() && c.get(&4).is_some());
        assert_eq!(c.counters.snapshot().evictions, 1);
        // The byte bound evicts too: 10 bytes fit.
        let (c, _) = cache(100, 10);
        c.insert(1, "aaaa".into(), MIN);
        c.insert(2, "bbbb".into(), MIN);
        c.get(&1);
        c.insert(3, "cccc".into(), MIN);
        assert_eq!(c.get(&2), None);
        assert_eq!(c.bytes(), 8);
    }

    #[test]
    fn invalidation_and_racing_loads() {
        let (c, _) = cache(10, 1000);
        let v: Result<String, ()> = c.get_or_insert_with(1, MIN, || Ok("loaded".into()));
        assert_eq!(v.unwrap(), "loaded");
        let again: Result<String, ()> = c.get_or_insert_with(1, MIN, || panic!("cached"));
        assert_eq!(again.unwrap(), "loaded");
        c.invalidate([&1]);
        assert_eq!(c.counters.snapshot().invalidations, 1);
        // A load during which the key was invalidated is returned but not cached.
        let raced: Result<String, ()> = c.get_or_insert_with(1, MIN, || {
            c.invalidate([&1]);
            Ok("stale".into())
        });
        assert_eq!(raced.unwrap(), "stale");
        assert_eq!(c.get(&1), None);
        let failed: Result<String, &str> = c.get_or_insert_with(2, MIN, || Err("no"));
        assert!(failed.is_err());
        assert_eq!(c.get(&2), None, "errors are not cached");
        c.insert(5, "x".into(), MIN);
        c.insert(6, "y".into(), MIN);
        c.invalidate_where(|k| *k == 5);
        assert_eq!((c.get(&5), c.get(&6).as_deref()), (None, Some("y")));
    }

    #[test]
    fn shrink_under_pressure_and_restore() {
        let (c, _) = cache(64, 1 << 20);
        for k in 0..64 {
            c.insert(k, "v".into(), MIN);
        }
        let valve = PressureValve::new(50);
        let gib = 1u64 << 30;
        assert_eq!(valve.check(&c, gib / 4, gib), Pressure::Normal);
        assert_eq!(c.len(), 64);
        assert_eq!(valve.check(&c, gib, gib), Pressure::Shrunk);
        assert_eq!((c.len(), c.capacity()), (32, 32));
        // The most recently used half stays.
        assert!(c.get(&63).is_some() && c.get(&0).is_none());
        for _ in 0..10 {
            valve.check(&c, gib, gib);
        }
        assert_eq!(c.capacity(), 4, "never below 1/16");
        // Just under the limit is not yet "well below".
        assert_eq!(valve.check(&c, gib / 100 * 49, gib), Pressure::Normal);
        assert_eq!(valve.check(&c, gib / 4, gib), Pressure::Restored);
        assert_eq!(c.capacity(), 64);
        assert_eq!(c.counters.snapshot().capacity, 64);
        assert_eq!(PressureValve::new(0).check(&c, gib, gib), Pressure::Normal);
        c.clear();
        assert!(c.is_empty());
    }
}
