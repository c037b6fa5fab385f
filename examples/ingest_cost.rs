//! The store's ingest transaction alone: CPU seconds and wall time per message, so that two
//! builds (say, before and after a change to `store/redb/ingest.rs`) can be compared on a
//! machine shared with other work, where CPU time is steadier than criterion's wall time.
//!
//! ```sh
//! cargo run --release --example ingest_cost -- --messages 300000 --batch 100 --rounds 3
//! ```
//!
//! The updates are those of `benches/ingest.rs` (8 groups, 500 members, 4-33 words, one second
//! apart). Each round writes `--messages` messages into a fresh store in batches of `--batch`
//! with `Store::ingest` (immediate durability, no writer thread), and prints the round's wall
//! time, the process CPU time (user + system) and the store file size.

use std::time::Instant;
use tgbox::domain::IncomingUpdate;
use tgbox::store::IngestSink;
use tgbox::store::redb::{FILE_NAME, RedbOptions, RedbStore};
use tgbox::telemetry::process;

#[path = "../benches/support/ingest_workload.rs"]
mod ingest_workload;
use ingest_workload::update;

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let messages = arg("--messages", 300_000) as u32;
    let batch_len = arg("--batch", 100).max(1) as u32;
    let rounds = arg("--rounds", 3);
    println!("ingest_cost: {messages} messages a round, batches of {batch_len}, {rounds} rounds");
    for round in 1..=rounds {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = RedbStore::open(
            dir.path(),
            &RedbOptions {
                cache_bytes: 32 << 20,
            },
        )
        .expect("open store");
        let cpu0 = process::cpu_seconds().unwrap_or(0.0);
        let t = Instant::now();
        let mut n = 1;
        while n <= messages {
            let end = (n + batch_len - 1).min(messages);
            let batch: Vec<IncomingUpdate> = (n..=end).map(update).collect();
            store.ingest(&batch).expect("ingest");
            n = end + 1;
        }
        let wall = t.elapsed().as_secs_f64();
        let cpu = process::cpu_seconds().unwrap_or(0.0) - cpu0;
        let size = std::fs::metadata(dir.path().join(FILE_NAME))
            .map(|m| m.len())
            .unwrap_or(0);
        println!(
            "round {round}: wall {wall:.2} s ({:.0} msg/s), CPU {cpu:.2} s ({:.1} µs/msg), file {:.1} MiB",
            f64::from(messages) / wall,
            cpu * 1e6 / f64::from(messages),
            size as f64 / 1048576.0
        );
        drop(store);
    }
}
