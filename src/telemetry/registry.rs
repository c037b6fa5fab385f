//! The metrics registry: per-operation latency histograms over sliding windows (1 min, 5 min,
//! 1 h), success and error counters, and time-windowed rates. One registry per process, passed
//! explicitly (the writer gets it through [`super::IngestMetrics`]).

use super::logs::LogRing;
use super::window::{WindowStats, WindowedHistogram};
use serde::Serialize;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What is measured. Latencies are recorded in microseconds; `CommitBatch` records sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Receive-to-commit time of one update (one observation per update).
    Update,
    /// One store write transaction.
    StoreCommit,
    /// Updates per store transaction (a size, not a time).
    CommitBatch,
    /// One search query.
    Search,
    /// One Telegram send (reply, broadcast message).
    TelegramSend,
    /// One search-index commit.
    IndexCommit,
    /// One dashboard page render.
    PageRender,
}

impl Op {
    pub const ALL: [Op; 7] = [
        Op::Update,
        Op::StoreCommit,
        Op::CommitBatch,
        Op::Search,
        Op::TelegramSend,
        Op::IndexCommit,
        Op::PageRender,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Op::Update => "update",
            Op::StoreCommit => "store_commit",
            Op::CommitBatch => "commit_batch",
            Op::Search => "search",
            Op::TelegramSend => "telegram_send",
            Op::IndexCommit => "index_commit",
            Op::PageRender => "page_render",
        }
    }

    /// Whether values are microseconds (else a plain count, such as a batch size).
    pub fn is_latency(self) -> bool {
        !matches!(self, Op::CommitBatch)
    }

    fn index(self) -> usize {
        Op::ALL.iter().position(|o| *o == self).unwrap_or(0)
    }
}

/// The three windows every figure is reported for.
pub const WINDOWS: [(&str, u64); 3] = [("1m", 60), ("5m", 300), ("1h", 3600)];

struct OpMetrics {
    ok: AtomicU64,
    err: AtomicU64,
    /// Milliseconds since `started` of the last success, plus one (0: never).
    last_ms: AtomicU64,
    hist: Mutex<WindowedHistogram>,
}

pub struct Registry {
    started: Instant,
    ops: Vec<OpMetrics>,
    logs: LogRing,
    /// The in-process cache's counters (`crate::cache` records into them).
    cache: std::sync::Arc<super::CacheCounters>,
}

#[derive(Clone, Debug, Serialize)]
pub struct OpWindow {
    pub window: &'static str,
    #[serde(flatten)]
    pub stats: WindowStats,
}

#[derive(Clone, Debug, Serialize)]
pub struct OpSnapshot {
    pub op: &'static str,
    pub unit: &'static str,
    pub ok: u64,
    pub errors: u64,
    pub windows: Vec<OpWindow>,
}

/// Messages (updates) per second over three spans.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Rates {
    pub now: f64,
    pub last_5m: f64,
    pub last_1h: f64,
}

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}

impl Registry {
    /// A registry with its own (unfed) log ring.
    pub fn new() -> Self {
        Self::with_logs(LogRing::default())
    }

    /// A registry that carries `logs` (the ring [`super::init_logging`] feeds) to the dashboard.
    pub fn with_logs(logs: LogRing) -> Self {
        Registry {
            logs,
            cache: std::sync::Arc::default(),
            started: Instant::now(),
            ops: Op::ALL
                .iter()
                .map(|_| OpMetrics {
                    ok: AtomicU64::new(0),
                    err: AtomicU64::new(0),
                    last_ms: AtomicU64::new(0),
                    hist: Mutex::new(WindowedHistogram::new()),
                })
                .collect(),
        }
    }

    pub fn logs(&self) -> &LogRing {
        &self.logs
    }

    /// The cache counters, shared with the cache that records into them.
    pub fn cache(&self) -> &std::sync::Arc<super::CacheCounters> {
        &self.cache
    }

    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    fn now_secs(&self) -> u64 {
        self.started.elapsed().as_secs()
    }

    fn op(&self, op: Op) -> &OpMetrics {
        &self.ops[op.index()]
    }

    /// Record `n` successful operations that each took `took`.
    pub fn record(&self, op: Op, took: Duration, n: u64) {
        self.record_value(op, took.as_micros().min(u128::from(u64::MAX)) as u64, n);
    }

    /// Record `n` successful operations with a raw value (microseconds, or a size).
    pub fn record_value(&self, op: Op, value: u64, n: u64) {
        let m = self.op(op);
        m.ok.fetch_add(n, Ordering::Relaxed);
        let elapsed = self.started.elapsed();
        m.last_ms
            .store(elapsed.as_millis() as u64 + 1, Ordering::Relaxed);
        let now = elapsed.as_secs();
        if let Ok(mut h) = m.hist.lock() {
            h.record(now, value, n);
        }
    }

    /// How long ago `op` last succeeded.
    pub fn last_age(&self, op: Op) -> Option<Duration> {
        match self.op(op).last_ms.load(Ordering::Relaxed) {
            0 => None,
            ms => Some(
                self.started
                    .elapsed()
                    .saturating_sub(Duration::from_millis(ms - 1)),
            ),
        }
    }

    /// Count a failed operation (not in the latency windows).
    pub fn record_error(&self, op: Op) {
        self.op(op).err.fetch_add(1, Ordering::Relaxed);
    }

    pub fn count(&self, op: Op) -> (u64, u64) {
        let m = self.op(op);
        (m.ok.load(Ordering::Relaxed), m.err.load(Ordering::Relaxed))
    }

    pub fn stats(&self, op: Op, window_secs: u64) -> WindowStats {
        let now = self.now_secs();
        self.op(op)
            .hist
            .lock()
            .map(|h| h.stats(now, window_secs))
            .unwrap_or_default()
    }

    /// Updates per second: now (last 10-20 s), last 5 minutes, last hour; windows shorter
    /// than the uptime divide by the uptime.
    pub fn rates(&self, op: Op) -> Rates {
        let now = self.now_secs();
        let up = self.started.elapsed().as_secs_f64().max(1.0);
        let Ok(h) = self.op(op).hist.lock() else {
            return Rates::default();
        };
        let (recent, covered) = h.recent_count(now);
        let per = |window: u64| h.stats(now, window).count as f64 / (window as f64).min(up);
        Rates {
            now: recent as f64 / covered.min(up),
            last_5m: per(300),
            last_1h: per(3600),
        }
    }

    pub fn snapshot(&self) -> Vec<OpSnapshot> {
        Op::ALL
            .iter()
            .map(|&op| {
                let (ok, errors) = self.count(op);
                OpSnapshot {
                    op: op.name(),
                    unit: if op.is_latency() { "us" } else { "count" },
                    ok,
                    errors,
                    windows: WINDOWS
                        .iter()
                        .map(|&(window, secs)| OpWindow {
                            window,
                            stats: self.stats(op, secs),
                        })
                        .collect(),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_counts_and_windows() {
        let r = Registry::new();
        r.record(Op::StoreCommit, Duration::from_millis(3), 1);
        r.record(Op::StoreCommit, Duration::from_millis(5), 1);
        r.record_error(Op::StoreCommit);
        r.record_value(Op::Update, 100, 50);
        assert_eq!(r.count(Op::StoreCommit), (2, 1));
        let s = r.stats(Op::StoreCommit, 60);
        assert_eq!(s.count, 2);
        assert!(s.max >= 4900.0, "{s:?}");
        let rates = r.rates(Op::Update);
        assert!(rates.now > 0.0 && rates.last_5m > 0.0, "{rates:?}");
        let snap = r.snapshot();
        assert_eq!(snap.len(), Op::ALL.len());
        assert_eq!(snap[0].op, "update");
        assert_eq!(snap[0].windows[0].stats.count, 50);
    }
}
