//! Ingest path: translated updates -> group-commit writer -> redb with immediate durability.
//!
//! `cargo bench --bench ingest`. Each iteration commits a fixed number of messages through the
//! writer, from producers that submit batches the size getUpdates delivers (100), and waits for
//! every acknowledgement, so the figure is committed (fsynced) messages per second. The
//! `per_update_commit` case commits one update per transaction, the baseline that group commit
//! is measured against.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};
use tgbox::domain::IncomingUpdate;
use tgbox::ingest::{Writer, WriterConfig};
use tgbox::store::SharedStore;
use tgbox::store::redb::{RedbOptions, RedbStore};
use tgbox::telemetry::IngestMetrics;

#[path = "support/ingest_workload.rs"]
mod ingest_workload;
use ingest_workload::update;

static NEXT: AtomicU32 = AtomicU32::new(1);

fn batch(len: usize) -> Vec<IncomingUpdate> {
    (0..len)
        .map(|_| update(NEXT.fetch_add(1, Ordering::Relaxed)))
        .collect()
}

/// Commit `total` messages from `producers` concurrent producers in batches of `batch_len`.
fn run(
    rt: &tokio::runtime::Runtime,
    store: &SharedStore,
    total: usize,
    batch_len: usize,
    producers: usize,
    registry: bool,
) -> Duration {
    let metrics = Arc::new(if registry {
        IngestMetrics::new()
    } else {
        IngestMetrics::without_registry()
    });
    let (writer, handle) = Writer::start(store.clone(), WriterConfig::default(), metrics).unwrap();
    let per_producer = total / producers;
    let started = Instant::now();
    rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..producers {
            let handle = handle.clone();
            tasks.push(tokio::spawn(async move {
                let mut sent = 0;
                while sent < per_producer {
                    let b = batch(batch_len.min(per_producer - sent));
                    sent += b.len();
                    handle.commit(b, Instant::now()).await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
    let elapsed = started.elapsed();
    drop(handle);
    writer.join();
    elapsed
}

fn ingest(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store: SharedStore = Arc::new(
        RedbStore::open(
            dir.path(),
            &RedbOptions {
                cache_bytes: 32 << 20,
            },
        )
        .unwrap(),
    );

    let mut group = c.benchmark_group("ingest_redb_immediate");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(15));
    const TOTAL: usize = 20_000;
    group.throughput(Throughput::Elements(TOTAL as u64));
    for producers in [1usize, 4] {
        group.bench_with_input(
            BenchmarkId::new("group_commit_batch100", format!("{producers}_producers")),
            &producers,
            |b, &producers| {
                b.iter_custom(|iters| {
                    (0..iters)
                        .map(|_| run(&rt, &store, TOTAL, 100, producers, true))
                        .sum()
                })
            },
        );
    }
    group.finish();

    let mut group = c.benchmark_group("ingest_redb_immediate");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    const SMALL: usize = 500;
    group.throughput(Throughput::Elements(SMALL as u64));
    group.bench_function("per_update_commit", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| run(&rt, &store, SMALL, 1, 1, true))
                .sum()
        })
    });
    group.finish();

    // The dashboard's metrics registry on the ingest path: the same runs without it.
    let mut group = c.benchmark_group("ingest_metrics_overhead");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(15));
    group.throughput(Throughput::Elements(TOTAL as u64));
    for registry in [true, false] {
        let name = if registry { "registry" } else { "no_registry" };
        group.bench_function(
            BenchmarkId::new("group_commit_batch100_1_producer", name),
            |b| {
                b.iter_custom(|iters| {
                    (0..iters)
                        .map(|_| run(&rt, &store, TOTAL, 100, 1, registry))
                        .sum()
                })
            },
        );
    }
    group.finish();
}

/// The recording calls alone, per committed batch of 100 updates.
fn record_path(c: &mut Criterion) {
    let mut group = c.benchmark_group("metrics_record_per_batch");
    for registry in [true, false] {
        let m = if registry {
            IngestMetrics::new()
        } else {
            IngestMetrics::without_registry()
        };
        let name = if registry { "registry" } else { "no_registry" };
        group.bench_function(name, |b| {
            b.iter(|| {
                m.record_commit(100, 100, 0, 0, 0, Duration::from_micros(1800));
                m.record_latency(Duration::from_micros(2500), 100);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, ingest, record_path);
criterion_main!(benches);
