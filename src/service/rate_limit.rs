//! A per-key rate limit on the key-value table, so it survives a restart: a sliding-window
//! counter (the current window's count plus the previous window's, weighted by how much of it
//! still overlaps). With `burst` requests per window of `burst × 60 / per_minute` seconds it
//! allows `burst` at once and `per_minute` per minute in the long run, like the token bucket it
//! replaces.
//!
//! Keys: `<key>:<window number>`, created by `kv_incr` with a TTL of two windows (the retention
//! sweep removes the expired ones). A per-user limit names its key under the user's prefix
//! (`service::keys`: `user:<id>:rate:search`) so `/forget` removes it. A request that is refused is not
//! counted. A store failure lets the request through (this is a politeness limit) and is logged.

use crate::store::{SharedStore, StoreError, UnixMillis, now_millis};
use std::time::Duration;

pub struct RateLimiter {
    store: SharedStore,
    limit: u32,
    window_ms: i64,
}

impl RateLimiter {
    /// `burst` at once, `per_minute` per minute after that, per key.
    pub fn new(store: SharedStore, burst: u32, per_minute: u32) -> Self {
        let burst = burst.max(1);
        let window_ms = (i64::from(burst) * 60_000 / i64::from(per_minute.max(1))).max(1);
        RateLimiter {
            store,
            limit: burst,
            window_ms,
        }
    }

    /// Count one request for `key`; `Err(wait)` says how long until one is allowed.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        self.check_at(key, now_millis())
    }

    pub fn check_at(&self, key: &str, now: UnixMillis) -> Result<(), Duration> {
        match self.try_check(key, now) {
            Ok(verdict) => verdict,
            Err(e) => {
                tracing::warn!(key, error = %e, "rate limit not checked");
                Ok(())
            }
        }
    }

    fn try_check(&self, key: &str, now: UnixMillis) -> Result<Result<(), Duration>, StoreError> {
        let w = self.window_ms;
        let window = now.div_euclid(w);
        let elapsed = now.rem_euclid(w);
        let current_key = format!("{key}:{window}");
        let previous_key = format!("{key}:{}", window - 1);
        let previous = match self.store.kv_get(&previous_key, now)? {
            Some(v) => std::str::from_utf8(&v)
                .ok()
                .and_then(|s| s.parse::<i64>().ok())
                .unwrap_or(0),
            None => 0,
        };
        let ttl = Duration::from_millis((2 * w) as u64);
        let current = self.store.kv_incr(&current_key, 1, Some(ttl), now)?;
        let limit = f64::from(self.limit);
        let estimate = weighted(previous, current, elapsed, w);
        if estimate <= limit {
            return Ok(Ok(()));
        }
        // Refused: not counted.
        self.store.kv_incr(&current_key, -1, Some(ttl), now)?;
        Ok(Err(wait(previous, current - 1, elapsed, w, limit)))
    }
}

/// The sliding estimate: all of the current window plus the previous one's overlapping share,
/// rounded down (so a steady stream gets the full `limit` per window, not one less).
fn weighted(previous: i64, current: i64, elapsed: i64, w: i64) -> f64 {
    (previous as f64 * (1.0 - elapsed as f64 / w as f64)).floor() + current as f64
}

/// How long until one more request fits, given the counts without it.
fn wait(previous: i64, current: i64, elapsed: i64, w: i64, limit: f64) -> Duration {
    let (p, c, wf) = (previous as f64, current as f64, w as f64);
    // The first instant t (ms into a window) where floor(prev (1 - t/w)) + cur + 1 <= limit,
    // that is prev (1 - t/w) < limit - cur.
    let first = |prev: f64, cur: f64| -> f64 {
        let k = limit - cur;
        if prev < k {
            0.0
        } else {
            (wf * (1.0 - k / prev)).floor() + 1.0
        }
    };
    let ms = if c + 1.0 <= limit {
        (first(p, c) - elapsed as f64).max(0.0)
    } else {
        // Not in this window: in the next, this window's count is the previous one.
        (wf - elapsed as f64) + first(c, 0.0)
    };
    Duration::from_millis(ms.max(1.0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::redb::{RedbOptions, RedbStore};
    use std::sync::Arc;

    fn store() -> (SharedStore, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = RedbStore::open(dir.path(), &RedbOptions::default()).unwrap();
        (Arc::new(store), dir)
    }

    #[test]
    fn burst_then_steady_rate_per_key() {
        let (store, _dir) = store();
        let limiter = RateLimiter::new(store.clone(), 3, 60); // window 3 s
        let t0 = 1_700_000_001_000; // on a window boundary
        for _ in 0..3 {
            assert!(limiter.check_at("1", t0).is_ok());
        }
        let wait = limiter.check_at("1", t0).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(4),
            "{wait:?}"
        );
        assert!(limiter.check_at("2", t0).is_ok(), "keys are independent");
        // Refusals are not counted: once the wait is over, one more goes through.
        let later = t0 + wait.as_millis() as i64;
        assert!(limiter.check_at("1", later).is_ok());
        assert!(limiter.check_at("1", later).is_err());
        // After a quiet window the burst is back.
        let quiet = t0 + 9_000;
        for _ in 0..3 {
            assert!(limiter.check_at("1", quiet).is_ok());
        }
        assert!(limiter.check_at("1", quiet).is_err());
    }

    #[test]
    fn long_run_rate_matches_per_minute() {
        let (store, _dir) = store();
        let limiter = RateLimiter::new(store, 5, 20); // window 15 s
        let t0 = 1_700_000_000_000;
        let mut allowed = 0;
        // Ask every 500 ms for 10 minutes.
        for i in 0..1200 {
            if limiter.check_at("u", t0 + i * 500).is_ok() {
                allowed += 1;
            }
        }
        // 20 per minute (+ the first burst, within the sliding estimate's rounding).
        assert!((195..=210).contains(&allowed), "{allowed}");
    }

    #[test]
    fn survives_a_restart_and_expires() {
        let dir = tempfile::tempdir().unwrap();
        let t0 = 1_700_000_000_000;
        {
            let store: SharedStore =
                Arc::new(RedbStore::open(dir.path(), &RedbOptions::default()).unwrap());
            let limiter = RateLimiter::new(store, 2, 60);
            assert!(limiter.check_at("user:9:rate:search", t0).is_ok());
            assert!(limiter.check_at("user:9:rate:search", t0).is_ok());
            assert!(limiter.check_at("user:9:rate:search", t0).is_err());
        }
        let store: SharedStore =
            Arc::new(RedbStore::open(dir.path(), &RedbOptions::default()).unwrap());
        let limiter = RateLimiter::new(store.clone(), 2, 60);
        assert!(
            limiter.check_at("user:9:rate:search", t0 + 10).is_err(),
            "state survived"
        );
        // Under the user's prefix, where /forget finds it.
        assert_eq!(
            store.kv_scan_prefix("user:9:", t0 + 10, 10).unwrap().len(),
            1
        );
        // The counters expire (two windows) and the sweep removes them.
        assert_eq!(store.kv_sweep_expired(t0 + 60_000, 100).unwrap(), 1);
        assert_eq!(store.kv_len(t0 + 60_000).unwrap(), 0);
    }

    #[test]
    fn wait_is_never_zero() {
        assert!(wait(0, 5, 0, 1000, 5.0) >= Duration::from_millis(1));
        assert_eq!(wait(0, 5, 0, 1000, 5.0), Duration::from_millis(1001));
        assert_eq!(wait(8, 0, 0, 1000, 4.0), Duration::from_millis(501));
        // floor(8 (1 - 501/1000)) + 0 + 1 = 4: fits at 501 ms, not at 500.
        assert!(weighted(8, 1, 501, 1000) <= 4.0 && weighted(8, 1, 500, 1000) > 4.0);
    }
}
