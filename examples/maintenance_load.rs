//! Compaction and backup measurement on a large store.
//!
//! ```sh
//! cargo run --release --example maintenance_load -- --messages 1000000 --delete-percent 70
//! ```
//!
//! 1. Writes `--messages` text messages (about 160 bytes each, 20 chats, 500 users) into a
//!    fresh redb store in batches of 5,000 updates, and builds the search index from it.
//! 2. Deletes `--delete-percent` of them (`delete_messages`, 10,000 keys per transaction: the
//!    rows, their index rows, outbox `Delete` entries) and applies the deletes to the index.
//! 3. Compacts the store while a writer thread keeps committing 10-message batches: the
//!    compaction's time and exclusive window, bytes before/after, and the writer's commit
//!    latencies before and during the compaction (the pause as ingest sees it).
//! 4. Compacts the index (segment merge + garbage collection): time, bytes, segments.
//! 5. Backup of the compacted store to a file, a verification read, and a restore into a new
//!    directory: MB/s of each.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tgbox::domain::MessageId;
use tgbox::search::{IndexerConfig, SearchIndex};
use tgbox::store::contract::fixtures::{group, new_message, person, text};
use tgbox::store::redb::{RedbOptions, RedbStore, restore_into, verify_backup};
use tgbox::store::{BackupRepo, IngestSink, MaintenanceRepo, MessageRepo, MetaRepo};

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn file_len(p: &Path) -> u64 {
    std::fs::metadata(p).map_or(0, |m| m.len())
}

fn percentile(v: &mut [Duration], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i].as_secs_f64() * 1000.0
}

fn main() {
    let messages = arg("--messages", 1_000_000) as i32;
    let delete_percent = arg("--delete-percent", 70).min(100) as i32;
    let root = tempfile::tempdir().expect("temp dir");
    let dir = root.path().join("data");
    let options = RedbOptions {
        cache_bytes: 64 << 20,
    };
    let store = Arc::new(RedbStore::open(&dir, &options).expect("open store"));

    // 1. Fill.
    let chats: Vec<_> = (0..20).map(|i| group(-1_000_000 - i, "group")).collect();
    let users: Vec<_> = (1..=500).map(|i| person(i, "user")).collect();
    let started = Instant::now();
    let mut batch = Vec::with_capacity(5000);
    for n in 1..=messages {
        let body = format!(
            "message {n} about the weekly meetup, the new release and who brings the snacks; \
             see the pinned notes for the agenda and the address of the venue, thanks all"
        );
        let chat = &chats[(n % 20) as usize];
        let user = &users[(n % 500) as usize];
        batch.push(new_message(
            n as u32,
            text(chat, Some(user), n, i64::from(n), &body),
        ));
        if batch.len() == 5000 {
            store.ingest(&batch).expect("ingest");
            batch.clear();
        }
    }
    if !batch.is_empty() {
        store.ingest(&batch).expect("ingest");
    }
    let file = dir.join(tgbox::store::redb::FILE_NAME);
    println!(
        "filled {messages} messages in {:.1} s; store file {:.1} MiB",
        started.elapsed().as_secs_f64(),
        mib(file_len(&file))
    );
    let index_dir = dir.join("search");
    let cfg = IndexerConfig::default();
    let started = Instant::now();
    let rebuilt =
        tgbox::search::rebuild_dir(&index_dir, &*store, &cfg, &mut |_, _| {}).expect("index");
    println!(
        "indexed {} messages in {:.1} s; index {:.1} MiB",
        rebuilt.messages,
        started.elapsed().as_secs_f64(),
        mib(rebuilt.index_bytes)
    );

    // 2. Delete.
    let started = Instant::now();
    let mut doomed = Vec::with_capacity(10_000);
    let mut deleted = 0u64;
    for n in 1..=messages {
        if n % 100 < delete_percent {
            doomed.push((chats[(n % 20) as usize].id, MessageId(n)));
        }
        if doomed.len() == 10_000 {
            deleted += store.delete_messages(&doomed).expect("delete");
            doomed.clear();
        }
    }
    deleted += store.delete_messages(&doomed).expect("delete");
    let index = SearchIndex::open(&index_dir).expect("open index");
    tgbox::search::catch_up(&index, &*store, &cfg).expect("apply deletes");
    let fragmented: u64 = store
        .table_stats()
        .expect("stats")
        .iter()
        .map(|t| t.fragmented_bytes)
        .sum();
    println!(
        "deleted {deleted} messages in {:.1} s (index updated); store file {:.1} MiB, {:.1} MiB \
         fragmented",
        started.elapsed().as_secs_f64(),
        mib(file_len(&file)),
        mib(fragmented)
    );

    // 3. Compact the store under a live writer.
    let stop = Arc::new(AtomicBool::new(false));
    let compacting = Arc::new(AtomicBool::new(false));
    let writer = {
        let (store, stop, compacting) = (store.clone(), stop.clone(), compacting.clone());
        std::thread::spawn(move || {
            let chat = group(-42, "live");
            let user = person(9_999, "live");
            let (mut before, mut during) = (Vec::new(), Vec::new());
            let mut id = 10_000_000u32;
            while !stop.load(Ordering::SeqCst) {
                let batch: Vec<_> = (0..10)
                    .map(|_| {
                        id += 1;
                        new_message(id, text(&chat, Some(&user), id as i32, id.into(), "live"))
                    })
                    .collect();
                let was = compacting.load(Ordering::SeqCst);
                let t = Instant::now();
                store.ingest(&batch).expect("live ingest");
                let took = t.elapsed();
                if was || compacting.load(Ordering::SeqCst) {
                    during.push(took);
                } else {
                    before.push(took);
                }
            }
            (before, during)
        })
    };
    std::thread::sleep(Duration::from_secs(2));
    compacting.store(true, Ordering::SeqCst);
    let report = store.compact().expect("compact");
    compacting.store(false, Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::SeqCst);
    let (mut before, mut during) = writer.join().expect("writer");
    println!(
        "store compaction: {:.1} MiB -> {:.1} MiB ({:.1} MiB reclaimed) in {:.2} s; exclusive \
         window {} ms (waited {} ms to start)",
        mib(report.bytes_before),
        mib(report.bytes_after),
        mib(report.reclaimed_bytes()),
        report.duration_ms as f64 / 1000.0,
        report.pause_ms,
        report.wait_ms
    );
    println!(
        "writer commits (10 messages each): before: n={} p50 {:.1} ms p99 {:.1} ms max {:.1} ms; \
         during compaction: n={} max {:.1} ms",
        before.len(),
        percentile(&mut before, 0.5),
        percentile(&mut before, 0.99),
        percentile(&mut before, 1.0),
        during.len(),
        percentile(&mut during, 1.0)
    );

    // 4. Compact the index.
    let figures = tgbox::search::compact_offline(&index, &cfg).expect("compact index");
    println!(
        "index compaction: {:.1} MiB -> {:.1} MiB, {} -> {} segments, {} deleted docs dropped, \
         in {:.2} s",
        mib(figures.bytes_before),
        mib(figures.bytes_after),
        figures.segments_before,
        figures.segments_after,
        figures.deleted_docs_before,
        figures.duration_ms as f64 / 1000.0
    );

    // 5. Backup, verify, restore.
    let backup = root.path().join("backup.tgbox-backup");
    let started = Instant::now();
    let mut out = std::io::BufWriter::with_capacity(
        256 * 1024,
        std::fs::File::create(&backup).expect("create backup"),
    );
    let summary = store.backup(&mut out).expect("backup");
    drop(out);
    let took = started.elapsed().as_secs_f64();
    println!(
        "backup: {} rows, {:.1} MiB in {:.2} s = {:.0} MB/s",
        summary.rows,
        mib(summary.bytes),
        took,
        summary.bytes as f64 / 1e6 / took
    );
    let started = Instant::now();
    let reader = std::io::BufReader::with_capacity(
        256 * 1024,
        std::fs::File::open(&backup).expect("open backup"),
    );
    verify_backup(reader).expect("verify");
    let took = started.elapsed().as_secs_f64();
    println!(
        "verify: {:.2} s = {:.0} MB/s",
        took,
        summary.bytes as f64 / 1e6 / took
    );
    let target = root.path().join("restored");
    let started = Instant::now();
    let restored = restore_into(&backup, &target).expect("restore");
    let took = started.elapsed().as_secs_f64();
    println!(
        "restore (verify pass + write pass): {} rows in {:.2} s = {:.0} MB/s of backup; restored \
         file {:.1} MiB",
        restored.rows,
        took,
        summary.bytes as f64 / 1e6 / took,
        mib(file_len(&target.join(tgbox::store::redb::FILE_NAME)))
    );
    let copy = RedbStore::open(&target, &options).expect("open restored");
    assert_eq!(
        copy.counts().expect("counts").messages,
        store.counts().expect("counts").messages
    );
    let remaining = store.counts().expect("counts").messages;
    println!("restored store holds the same {remaining} messages");
}
