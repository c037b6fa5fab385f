//! Statistics latency on a big chat: one group with a year of history, then the time of each
//! report (`/stats`, `/top`, `/me`, private `/stats`) from the counters, compared with counting
//! the same figures from the stored messages (what a store without counters would have to do).
//!
//! ```sh
//! cargo run --release --example stats_load -- --messages 1000000 --users 2000 --runs 200
//! ```
//!
//! The history is written through the real ingest path (`Store::ingest`, batches of 2,000
//! updates, immediate durability), so the counters are the ones ingest keeps: messages spread
//! over 365 days, daytime-heavy hours, a few busy members (Zipf-like), 80 % text and the rest
//! media.

use hdrhistogram::Histogram;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use tgbox::domain::{
    ChatId, ChatKind, ChatProfile, Day, IncomingMessage, IncomingUpdate, MessageId, MessageKind,
    Timestamp, UpdateContent, UpdateId, UserId, UserProfile,
};
use tgbox::service::{StatsService, TopPeriod};
use tgbox::store::SharedStore;
use tgbox::store::redb::{RedbOptions, RedbStore};

const CHAT: ChatId = ChatId(-1_001_000_000_001);
const DAY: i64 = 86_400;

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A small deterministic generator (xorshift), so runs are comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn message(n: u32, rng: &mut Rng, users: u64, start: i64, span_days: i64) -> IncomingUpdate {
    // Zipf-like authors: squaring a uniform draw favours low ids.
    let u = rng.below(1 << 20) as f64 / f64::from(1 << 20);
    let user = 1 + ((u * u) * users as f64) as u64;
    let day = rng.below(span_days as u64) as i64;
    // Mostly 08:00-23:00 UTC.
    let hour = if rng.below(10) < 8 {
        8 + rng.below(16) as i64
    } else {
        rng.below(24) as i64
    };
    let date = start + day * DAY + hour * 3_600 + rng.below(3_600) as i64;
    let kind = match rng.below(10) {
        0 => MessageKind::Photo,
        1 => MessageKind::Sticker,
        _ => MessageKind::Text,
    };
    IncomingUpdate {
        update_id: UpdateId(n),
        received_at: Timestamp(date),
        content: UpdateContent::Message(IncomingMessage {
            chat: ChatProfile {
                id: CHAT,
                kind: ChatKind::Supergroup,
                title: Some("Big group".into()),
                username: None,
                is_forum: false,
            },
            from: Some(UserProfile {
                id: UserId(user),
                is_bot: false,
                first_name: format!("User {user}"),
                last_name: None,
                username: None,
                language_code: None,
            }),
            message_id: MessageId(n as i32),
            date: Timestamp(date),
            edit_date: None,
            kind,
            text: "the release build is green again".into(),
            reply_to: None,
            thread_id: None,
            joined: Vec::new(),
            left: None,
        }),
    }
}

fn time<T>(runs: u64, mut f: impl FnMut() -> T) -> Histogram<u64> {
    let mut h = Histogram::<u64>::new(3).expect("histogram");
    for _ in 0..runs {
        let t = Instant::now();
        std::hint::black_box(f());
        let _ = h.record(t.elapsed().as_micros() as u64);
    }
    h
}

fn show(name: &str, h: &Histogram<u64>) {
    println!(
        "{name:<34} p50 {:>9.3} ms  p95 {:>9.3} ms  p99 {:>9.3} ms  ({} runs)",
        h.value_at_quantile(0.5) as f64 / 1000.0,
        h.value_at_quantile(0.95) as f64 / 1000.0,
        h.value_at_quantile(0.99) as f64 / 1000.0,
        h.len()
    );
}

/// What `/stats` shows, counted from the stored messages (no counters): totals, the 30-day
/// series, distinct posters over 7 and 30 days, hours, kinds and the 30-day top 10.
fn from_messages(store: &SharedStore, today: Day) -> usize {
    let (week, month) = (today.minus(6), today.minus(29));
    let mut daily = [0u64; 30];
    let mut hours = [0u64; 168];
    let mut kinds: HashMap<MessageKind, u64> = HashMap::new();
    let mut posters: HashMap<UserId, u64> = HashMap::new();
    let mut weekly: HashMap<UserId, ()> = HashMap::new();
    let mut after = None;
    let mut total = 0usize;
    loop {
        let page = store
            .messages_page(Some(CHAT), after, 10_000)
            .expect("read messages");
        let Some(last) = page.last() else { break };
        after = Some((last.chat_id, last.message_id));
        for m in &page {
            total += 1;
            let day = Day::of(m.date);
            hours[usize::from(tgbox::domain::hour_of_week(m.date))] += 1;
            *kinds.entry(m.kind).or_default() += 1;
            if day >= month
                && let Some(slot) = daily.get_mut((day.0 - month.0) as usize)
            {
                *slot += 1;
                if let Some(u) = m.user_id {
                    *posters.entry(u).or_default() += 1;
                    if day >= week {
                        weekly.insert(u, ());
                    }
                }
            }
        }
    }
    let mut top: Vec<(UserId, u64)> = posters.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    top.truncate(10);
    total + top.len() + weekly.len()
}

fn main() {
    let messages = arg("--messages", 1_000_000) as u32;
    let users = arg("--users", 2_000);
    let runs = arg("--runs", 200);
    let dir = tempfile::tempdir().expect("temp dir");
    let store = RedbStore::open(dir.path(), &RedbOptions::default()).expect("open store");
    let store: SharedStore = Arc::new(store);
    let now = Timestamp::now();
    let start = Day::of(now).minus(364).start().0;

    println!(
        "stats_load: {messages} messages, {users} users, one group, 365 days ending today (UTC)"
    );
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let t = Instant::now();
    let mut batch = Vec::with_capacity(2_000);
    for n in 1..=messages {
        batch.push(message(n, &mut rng, users, start, 365));
        if batch.len() == 2_000 || n == messages {
            store.ingest(&batch).expect("ingest");
            batch.clear();
        }
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "ingested in {secs:.1} s ({:.0} messages/s, batches of 2,000)",
        f64::from(messages) / secs
    );
    let counts = store.counts().expect("counts");
    let tables = store.table_stats().expect("table stats");
    let size = |name: &str| {
        tables
            .iter()
            .find(|t| t.name == name)
            .map(|t| (t.rows, t.stored_bytes))
            .unwrap_or_default()
    };
    for name in [
        "chat_daily",
        "chat_user_daily",
        "chat_hourly",
        "chat_kinds",
        "messages",
    ] {
        let (rows, bytes) = size(name);
        println!(
            "  {name:<16} {rows:>9} rows {:>9.1} MiB",
            bytes as f64 / 1048576.0
        );
    }
    println!("  members {}", counts.members);

    let service = StatsService::new(store.clone());
    let busiest = store
        .top_posters(CHAT, tgbox::domain::StatsPeriod::AllTime, 1)
        .expect("top")
        .first()
        .map(|p| p.user)
        .unwrap_or(UserId(1));
    println!("\nreport latency from the counters (warm cache):");
    show(
        "/stats (group report)",
        &time(runs, || service.group_report(CHAT, TopPeriod::Month, now)),
    );
    show(
        "/top 7d",
        &time(runs, || service.top(CHAT, TopPeriod::Week, now)),
    );
    show(
        "/top 30d",
        &time(runs, || service.top(CHAT, TopPeriod::Month, now)),
    );
    show(
        "/top all",
        &time(runs, || service.top(CHAT, TopPeriod::AllTime, now)),
    );
    show(
        "/me (in the group)",
        &time(runs, || service.member_report(busiest, Some(CHAT), now)),
    );
    show(
        "/stats in private (1 group)",
        &time(runs, || service.groups_summary(busiest, now)),
    );
    println!("\nthe same /stats figures counted from the stored messages (no counters):");
    let scan_runs = 3.min(runs).max(1);
    show(
        "scan of every message of the chat",
        &time(scan_runs, || from_messages(&store, Day::of(now))),
    );
}
