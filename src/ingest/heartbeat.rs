//! Liveness of the ingest path. The producer (the polling loop, or the webhook prober) beats on
//! every cycle; the systemd watchdog pings only while the last beat is recent, so a stuck loop
//! gets the service restarted.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A shared "last seen alive" time. Cheap to clone; all clones share one value.
#[derive(Clone, Debug)]
pub struct Heartbeat {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    origin: Instant,
    /// Milliseconds after `origin` of the last beat.
    last_ms: AtomicU64,
}

impl Heartbeat {
    /// A heartbeat that has just beaten.
    pub fn new() -> Self {
        Heartbeat {
            inner: Arc::new(Inner {
                origin: Instant::now(),
                last_ms: AtomicU64::new(0),
            }),
        }
    }

    /// Record that the ingest path is alive now.
    pub fn beat(&self) {
        let ms = self.inner.origin.elapsed().as_millis() as u64;
        self.inner.last_ms.fetch_max(ms, Ordering::Relaxed);
    }

    /// Time since the last beat.
    pub fn age(&self) -> Duration {
        let now = self.inner.origin.elapsed();
        now.saturating_sub(Duration::from_millis(
            self.inner.last_ms.load(Ordering::Relaxed),
        ))
    }
}

impl Default for Heartbeat {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_grows_until_the_next_beat() {
        let h = Heartbeat::new();
        std::thread::sleep(Duration::from_millis(30));
        assert!(h.age() >= Duration::from_millis(25));
        h.clone().beat();
        assert!(h.age() < Duration::from_millis(25));
    }
}
