//! Retention sweep measurement: sweep rate, and the ingest commit latency during a sweep
//! compared with the same ingest load without one.
//!
//! ```sh
//! cargo run --release --example retention_load -- --messages 1000000 --expired-percent 80
//! ```
//!
//! 1. Fills a fresh redb store with `--messages` messages in 200 groups (batches of 5,000
//!    updates), `--expired-percent` of them dated 100 days ago, the rest today.
//! 2. Baseline: a writer commits 10 new messages every 5 ms for `--seconds` (default 10) and
//!    records every commit's latency.
//! 3. The same writer load again, while `RetentionService` sweeps with a 30-day period
//!    (`--batch` messages per transaction, default 1,000) on another thread; the writer keeps
//!    going until the sweep ends. Prints the sweep rate and both latency distributions.

use hdrhistogram::Histogram;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tgbox::domain::{
    ChatId, ChatKind, ChatProfile, IncomingMessage, IncomingUpdate, MessageId, MessageKind,
    Timestamp, UpdateContent, UpdateId, UserId, UserProfile,
};
use tgbox::service::{RetentionService, RetentionSettings};
use tgbox::store::SharedStore;
use tgbox::store::redb::{RedbOptions, RedbStore};

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

const CHATS: i64 = 200;

fn message(update: u32, chat: i64, id: i32, date: i64, user: u64) -> IncomingUpdate {
    IncomingUpdate {
        update_id: UpdateId(update),
        received_at: Timestamp(date),
        content: UpdateContent::Message(IncomingMessage {
            chat: ChatProfile {
                id: ChatId(-1_000_000_000_000 - chat),
                kind: ChatKind::Supergroup,
                title: Some(format!("group {chat}")),
                username: None,
                is_forum: false,
            },
            from: Some(UserProfile {
                id: UserId(user),
                is_bot: false,
                first_name: format!("user {user}"),
                last_name: None,
                username: None,
                language_code: None,
            }),
            message_id: MessageId(id),
            date: Timestamp(date),
            edit_date: None,
            kind: MessageKind::Text,
            text: format!("message number {id} in group {chat}, a line of ordinary chat text"),
            reply_to: None,
            thread_id: None,
            joined: Vec::new(),
            left: None,
        }),
    }
}

/// Commit 10 messages every 5 ms until `stop`; returns per-commit latencies (µs).
fn writer_load(
    store: SharedStore,
    first_update: u32,
    stop: Arc<AtomicBool>,
) -> (Histogram<u64>, u32) {
    let mut hist = Histogram::<u64>::new(3).expect("histogram");
    let now = chrono::Utc::now().timestamp();
    let mut update = first_update;
    while !stop.load(Ordering::SeqCst) {
        let batch: Vec<IncomingUpdate> = (0..10u64)
            .map(|k| {
                update += 1;
                let chat = i64::from(update) % CHATS;
                message(update, chat, 10_000_000 + update as i32, now, 1 + k)
            })
            .collect();
        let t = Instant::now();
        store.ingest(&batch).expect("ingest");
        let _ = hist.record(t.elapsed().as_micros() as u64);
        std::thread::sleep(Duration::from_millis(5));
    }
    (hist, update)
}

fn show(name: &str, h: &Histogram<u64>) {
    println!(
        "{name}: {} commits, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        h.len(),
        h.value_at_quantile(0.5) as f64 / 1000.0,
        h.value_at_quantile(0.99) as f64 / 1000.0,
        h.max() as f64 / 1000.0
    );
}

fn main() {
    let total = arg("--messages", 1_000_000);
    let expired_pct = arg("--expired-percent", 80).min(100);
    let seconds = arg("--seconds", 10);
    let batch = arg("--batch", 1000) as usize;
    let dir = tempfile::tempdir().expect("temp dir");
    let store: SharedStore =
        Arc::new(RedbStore::open(dir.path(), &RedbOptions::default()).expect("open store"));
    let now = chrono::Utc::now().timestamp();
    let old = now - 100 * 86_400;
    let expired = total * expired_pct / 100;
    let t = Instant::now();
    let mut update = 0u32;
    let mut next_id = vec![0i32; CHATS as usize];
    let mut pending = Vec::with_capacity(5000);
    for i in 0..total {
        update += 1;
        let chat = (i % CHATS as u64) as usize;
        next_id[chat] += 1;
        let date = if i < expired {
            old + (i as i64) / 100
        } else {
            now - 3600
        };
        pending.push(message(
            update,
            chat as i64,
            next_id[chat],
            date,
            1 + i % 5000,
        ));
        if pending.len() == 5000 {
            store.ingest(&pending).expect("fill");
            pending.clear();
        }
    }
    store.ingest(&pending).expect("fill");
    println!(
        "filled {total} messages ({expired} expired) in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let stop = Arc::new(AtomicBool::new(false));
    let base = {
        let (store, stop2) = (store.clone(), stop.clone());
        let h = std::thread::spawn(move || writer_load(store, update, stop2));
        std::thread::sleep(Duration::from_secs(seconds));
        stop.store(true, Ordering::SeqCst);
        h.join().expect("writer")
    };
    show("ingest without a sweep", &base.0);

    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (store, stop) = (store.clone(), stop.clone());
        std::thread::spawn(move || writer_load(store, base.1, stop))
    };
    let service = RetentionService::new(
        store.clone(),
        RetentionSettings {
            days: 30,
            batch_size: batch,
            ..RetentionSettings::default()
        },
    );
    let report = service.run_now().expect("sweep");
    stop.store(true, Ordering::SeqCst);
    let during = writer.join().expect("writer");
    show("ingest during the sweep ", &during.0);
    println!(
        "sweep: {} messages in {} batches of {batch} in {:.1} s = {:.0} messages/s (pause {:?} between batches)",
        report.messages_removed,
        report.batches,
        report.duration_ms as f64 / 1000.0,
        report.messages_per_sec(),
        service.settings().pause,
    );
    println!(
        "messages left: {}",
        store.counts().map(|c| c.messages).unwrap_or(0)
    );
}
