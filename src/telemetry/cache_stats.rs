//! Counters of the in-process cache (`crate::cache`), kept here so the registry carries them to
//! `/api/metrics`, `/metrics` and the overview's hit ratio without telemetry knowing the cache.

use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};

/// Monotonic counters plus a few gauges, updated by the cache with relaxed atomics.
#[derive(Debug, Default)]
pub struct CacheCounters {
    hits: AtomicU64,
    misses: AtomicU64,
    insertions: AtomicU64,
    /// Entries pushed out by the size bound (LRU order), including by a shrink.
    evictions: AtomicU64,
    /// Entries found expired (TTL) and dropped.
    expirations: AtomicU64,
    /// Entries removed because the app wrote the value they cached.
    invalidations: AtomicU64,
    /// Times the cache was shrunk under memory pressure.
    shrinks: AtomicU64,
    entries: AtomicU64,
    bytes: AtomicU64,
    capacity: AtomicU64,
}

/// A copy of the counters at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct CacheSnapshot {
    pub hits: u64,
    pub misses: u64,
    pub insertions: u64,
    pub evictions: u64,
    pub expirations: u64,
    pub invalidations: u64,
    pub shrinks: u64,
    pub entries: u64,
    /// Estimated bytes held.
    pub bytes: u64,
    /// Current entry bound (lower than configured while shrunk).
    pub capacity: u64,
    /// hits / (hits + misses); `None` before the first lookup.
    pub hit_ratio: Option<f64>,
}

impl CacheCounters {
    pub fn hit(&self) {
        self.hits.fetch_add(1, Ordering::Relaxed);
    }
    pub fn miss(&self) {
        self.misses.fetch_add(1, Ordering::Relaxed);
    }
    pub fn inserted(&self) {
        self.insertions.fetch_add(1, Ordering::Relaxed);
    }
    pub fn evicted(&self, n: u64) {
        self.evictions.fetch_add(n, Ordering::Relaxed);
    }
    pub fn expired(&self) {
        self.expirations.fetch_add(1, Ordering::Relaxed);
    }
    pub fn invalidated(&self, n: u64) {
        self.invalidations.fetch_add(n, Ordering::Relaxed);
    }
    pub fn shrunk(&self) {
        self.shrinks.fetch_add(1, Ordering::Relaxed);
    }
    /// Add to (or, negative, take from) the entry and byte gauges.
    pub fn adjust_size(&self, entries: i64, bytes: i64) {
        add_signed(&self.entries, entries);
        add_signed(&self.bytes, bytes);
    }
    pub fn set_capacity(&self, entries: u64) {
        self.capacity.store(entries, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> CacheSnapshot {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let (hits, misses) = (get(&self.hits), get(&self.misses));
        CacheSnapshot {
            hits,
            misses,
            insertions: get(&self.insertions),
            evictions: get(&self.evictions),
            expirations: get(&self.expirations),
            invalidations: get(&self.invalidations),
            shrinks: get(&self.shrinks),
            entries: get(&self.entries),
            bytes: get(&self.bytes),
            capacity: get(&self.capacity),
            hit_ratio: (hits + misses > 0).then(|| hits as f64 / (hits + misses) as f64),
        }
    }
}

fn add_signed(a: &AtomicU64, by: i64) {
    if by >= 0 {
        a.fetch_add(by.unsigned_abs(), Ordering::Relaxed);
    } else {
        // Saturate at zero rather than wrap if a caller's bookkeeping is ever off.
        let _ = a.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
            Some(v.saturating_sub(by.unsigned_abs()))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_and_gauges() {
        let c = CacheCounters::default();
        assert_eq!(c.snapshot().hit_ratio, None);
        c.hit();
        c.hit();
        c.hit();
        c.miss();
        c.adjust_size(2, 100);
        c.adjust_size(-5, -1000);
        let s = c.snapshot();
        assert_eq!(s.hit_ratio, Some(0.75));
        assert_eq!((s.entries, s.bytes), (0, 0));
    }
}
