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
use tgbox::domain::{
    ChatId, ChatKind, ChatProfile, IncomingMessage, IncomingUpdate, MessageId, MessageKind,
    Timestamp, UpdateContent, UpdateId, UserId, UserProfile,
};
use tgbox::store::IngestSink;
use tgbox::store::redb::{FILE_NAME, RedbOptions, RedbStore};
use tgbox::telemetry::process;

const WORDS: &[&str] = &[
    "the",
    "release",
    "build",
    "is",
    "green",
    "again",
    "سلام",
    "دوستان",
    "می‌روم",
    "کتاب",
    "rust",
    "tokio",
    "async",
    "store",
    "عالی",
    "thanks",
    "meeting",
    "tomorrow",
    "at",
    "ten",
];

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn update(n: u32) -> IncomingUpdate {
    let chat = i64::from(n % 8);
    let user = u64::from(n % 500) + 1;
    let words = 4 + (n % 30) as usize;
    let text: Vec<&str> = (0..words)
        .map(|i| WORDS[(n as usize * 7 + i * 13) % WORDS.len()])
        .collect();
    IncomingUpdate {
        update_id: UpdateId(n),
        received_at: Timestamp(1_700_000_000),
        content: UpdateContent::Message(IncomingMessage {
            chat: ChatProfile {
                id: ChatId(-1_001_000_000_000 - chat),
                kind: ChatKind::Supergroup,
                title: Some(format!("Group {chat}")),
                username: None,
                is_forum: false,
            },
            from: Some(UserProfile {
                id: UserId(user),
                is_bot: false,
                first_name: format!("User {user}"),
                last_name: None,
                username: Some(format!("user{user}")),
                language_code: Some("fa".into()),
            }),
            message_id: MessageId(n as i32),
            date: Timestamp(1_700_000_000 + i64::from(n)),
            edit_date: None,
            kind: MessageKind::Text,
            text: text.join(" "),
            reply_to: None,
            thread_id: None,
            joined: vec![],
            left: None,
        }),
    }
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
