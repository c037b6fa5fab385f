//! Ingest counters and the update-to-commit latency histogram. Cheap on the hot path: atomics
//! for counts, one short mutex hold per committed batch for the histogram.

use super::registry::{Op, Registry};
use hdrhistogram::Histogram;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct IngestMetrics {
    started: Instant,
    updates_committed: AtomicU64,
    messages_inserted: AtomicU64,
    messages_edited: AtomicU64,
    duplicates: AtomicU64,
    quarantined: AtomicU64,
    batches: AtomicU64,
    commit_errors: AtomicU64,
    /// Microseconds from receiving an update to its commit returning.
    latency_us: Mutex<Histogram<u64>>,
    /// Microseconds one store transaction took.
    commit_us: Mutex<Histogram<u64>>,
    /// The windowed registry the dashboard reads; `None` records only the totals above.
    registry: Option<Arc<Registry>>,
}

#[derive(Clone, Debug, Serialize)]
pub struct LatencySummary {
    pub count: u64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct IngestSnapshot {
    pub uptime_secs: f64,
    pub updates_committed: u64,
    pub messages_inserted: u64,
    pub messages_edited: u64,
    pub duplicates: u64,
    pub quarantined: u64,
    pub batches: u64,
    pub commit_errors: u64,
    pub update_to_commit: LatencySummary,
    pub commit: LatencySummary,
}

fn new_histogram() -> Histogram<u64> {
    // 1 µs .. 1 h with 3 significant digits; construction cannot fail with these bounds.
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("constant histogram bounds are valid")
}

fn summarize(h: &Histogram<u64>) -> LatencySummary {
    let ms = |us: u64| us as f64 / 1000.0;
    LatencySummary {
        count: h.len(),
        p50_ms: ms(h.value_at_quantile(0.50)),
        p95_ms: ms(h.value_at_quantile(0.95)),
        p99_ms: ms(h.value_at_quantile(0.99)),
        max_ms: ms(h.max()),
    }
}

impl Default for IngestMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl IngestMetrics {
    /// Totals plus a fresh windowed [`Registry`].
    pub fn new() -> Self {
        Self::with_registry(Some(Arc::new(Registry::new())))
    }

    /// Totals only (the ingest bench measures the registry's cost against this).
    pub fn without_registry() -> Self {
        Self::with_registry(None)
    }

    pub fn with_registry(registry: Option<Arc<Registry>>) -> Self {
        IngestMetrics {
            registry,
            started: Instant::now(),
            updates_committed: AtomicU64::new(0),
            messages_inserted: AtomicU64::new(0),
            messages_edited: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            quarantined: AtomicU64::new(0),
            batches: AtomicU64::new(0),
            commit_errors: AtomicU64::new(0),
            latency_us: Mutex::new(new_histogram()),
            commit_us: Mutex::new(new_histogram()),
        }
    }

    /// The windowed registry (an unshared empty one when built without).
    pub fn registry(&self) -> Arc<Registry> {
        self.registry
            .clone()
            .unwrap_or_else(|| Arc::new(Registry::new()))
    }

    /// Record one committed transaction.
    pub fn record_commit(
        &self,
        updates: u64,
        inserted: u64,
        edited: u64,
        duplicates: u64,
        quarantined: u64,
        commit_time: Duration,
    ) {
        self.updates_committed.fetch_add(updates, Ordering::Relaxed);
        self.messages_inserted
            .fetch_add(inserted, Ordering::Relaxed);
        self.messages_edited.fetch_add(edited, Ordering::Relaxed);
        self.duplicates.fetch_add(duplicates, Ordering::Relaxed);
        self.quarantined.fetch_add(quarantined, Ordering::Relaxed);
        self.batches.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut h) = self.commit_us.lock() {
            h.saturating_record(commit_time.as_micros() as u64);
        }
        if let Some(r) = &self.registry {
            r.record(Op::StoreCommit, commit_time, 1);
            r.record_value(Op::CommitBatch, updates, 1);
        }
    }

    pub fn record_commit_error(&self) {
        self.commit_errors.fetch_add(1, Ordering::Relaxed);
        if let Some(r) = &self.registry {
            r.record_error(Op::StoreCommit);
        }
    }

    /// Record the receive-to-commit latency of `count` updates that shared one commit.
    pub fn record_latency(&self, latency: Duration, count: u64) {
        if count == 0 {
            return;
        }
        if let Ok(mut h) = self.latency_us.lock() {
            let _ = h.record_n(latency.as_micros().max(1) as u64, count);
        }
        if let Some(r) = &self.registry {
            r.record(Op::Update, latency, count);
        }
    }

    pub fn updates_committed(&self) -> u64 {
        self.updates_committed.load(Ordering::Relaxed)
    }

    pub fn snapshot(&self) -> IngestSnapshot {
        let latency = self.latency_us.lock().map(|h| summarize(&h)).ok();
        let commit = self.commit_us.lock().map(|h| summarize(&h)).ok();
        let empty = LatencySummary {
            count: 0,
            p50_ms: 0.0,
            p95_ms: 0.0,
            p99_ms: 0.0,
            max_ms: 0.0,
        };
        IngestSnapshot {
            uptime_secs: self.started.elapsed().as_secs_f64(),
            updates_committed: self.updates_committed.load(Ordering::Relaxed),
            messages_inserted: self.messages_inserted.load(Ordering::Relaxed),
            messages_edited: self.messages_edited.load(Ordering::Relaxed),
            duplicates: self.duplicates.load(Ordering::Relaxed),
            quarantined: self.quarantined.load(Ordering::Relaxed),
            batches: self.batches.load(Ordering::Relaxed),
            commit_errors: self.commit_errors.load(Ordering::Relaxed),
            update_to_commit: latency.unwrap_or_else(|| empty.clone()),
            commit: commit.unwrap_or(empty),
        }
    }
}
