//! Search load measurement: index a generated corpus, then time a query mix.
//!
//! ```sh
//! cargo run --release --example search_load -- --messages 1000000 --queries 20000
//! ```
//!
//! 1. Generates the corpus (`tgbox::search::corpus`: mixed English/Persian, Zipf vocabulary,
//!    realistic lengths) in memory first, so generation is not counted.
//! 2. Indexes it with one indexing thread and the default 16 MiB writer budget (plus tantivy's
//!    one merge thread), commits and waits for merges: documents per second, the writer's extra
//!    peak RSS, index size on disk.
//! 3. Runs the query mix (one word, several words, phrase, filtered; English and Persian; common
//!    and rare words) in three scopes — one group (`/search` in a group), five groups (`/search`
//!    in private), all chats (dashboard) — newest first, a page of 5 with snippets prepared, and
//!    reports p50/p95/p99 per kind and overall.
//! 4. With `--store`: also writes the corpus into a redb store (batches of 5,000 updates) and
//!    times `tgbox reindex`'s rebuild from it (`search::rebuild_dir`).

use hdrhistogram::Histogram;
use std::time::{Duration, Instant};
use tgbox::domain::{ChatId, StoredMessage};
use tgbox::search::corpus::{Corpus, CorpusSpec};
use tgbox::search::{
    IndexerConfig, SearchIndex, SearchRequest, SortOrder, UserRef, build_from, query,
};
use tgbox::telemetry::process;

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

fn main() {
    let messages = arg("--messages", 1_000_000);
    let queries = arg("--queries", 20_000) as usize;
    let spec = CorpusSpec {
        messages,
        ..CorpusSpec::default()
    };
    println!("machine: {}, {} cores", cpu_model(), num_cpus());
    println!(
        "corpus: {messages} messages, {} chats, {} users, vocabulary {} per language",
        spec.chats, spec.users, spec.vocabulary
    );

    let started = Instant::now();
    let mut corpus = Corpus::new(spec);
    let docs: Vec<StoredMessage> = (0..messages).map(|n| corpus.message(n)).collect();
    let text_bytes: usize = docs.iter().map(|m| m.text.len()).sum();
    println!(
        "generated in {:.1} s; text {:.1} MiB, {:.0} bytes/message on average",
        started.elapsed().as_secs_f64(),
        mib(text_bytes as u64),
        text_bytes as f64 / messages.max(1) as f64
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let index = SearchIndex::open(dir.path()).expect("open index");
    let rss_before = process::rss_bytes().map(|(rss, _)| rss).unwrap_or(0);
    let peak_before = process::rss_bytes().map(|(_, peak)| peak).unwrap_or(0);
    let cfg = IndexerConfig::default();
    let started = Instant::now();
    let n = build_from(&index, &cfg, &mut docs.iter().cloned()).expect("index");
    let secs = started.elapsed().as_secs_f64();
    let peak_after = process::rss_bytes().map(|(_, peak)| peak).unwrap_or(0);
    println!(
        "indexed {n} messages in {secs:.1} s: {:.0} docs/s (1 indexing thread, {} MiB budget, commit + merges included)",
        n as f64 / secs,
        cfg.memory_bytes >> 20
    );
    println!(
        "writer peak RSS above the corpus: {:.1} MiB (process peak {:.1} MiB, before {:.1} MiB)",
        mib(peak_after.saturating_sub(peak_before.max(rss_before))),
        mib(peak_after),
        mib(rss_before)
    );
    println!(
        "index on disk: {:.1} MiB ({} docs)",
        mib(index.disk_bytes()),
        index.num_docs()
    );

    let kinds = ["one word", "multi-word", "phrase", "filtered"];
    let kind_of = |i: usize| match i % 8 {
        0 | 1 => 0,
        2 | 3 => 1,
        4 => 2,
        _ => 3,
    };
    let scopes = ["group", "5 groups", "all chats"];
    let mut by_kind: Vec<Histogram<u64>> = (0..4).map(|_| hist()).collect();
    let mut by_scope: Vec<Histogram<u64>> = (0..3).map(|_| hist()).collect();
    let mut all = hist();
    let five: Vec<ChatId> = (0..5).map(|i| Corpus::chat_id(i * 3)).collect();
    let mut total_hits = 0usize;
    // Warm the page cache and the term dictionaries a little first, as a running bot would be.
    for i in 0..200 {
        let q = query::parse(&corpus.query(i)).expect("query");
        run(&index, &q, None);
    }
    for i in 0..queries {
        let text = corpus.query(i);
        let started = Instant::now();
        let q = query::parse(&text).expect("query");
        let scope = (i / 8) % 3;
        let one = [Corpus::chat_id(i % 20)];
        let chats: Option<&[ChatId]> = match scope {
            0 => Some(&one),
            1 => Some(&five),
            _ => None,
        };
        total_hits += run(&index, &q, chats);
        let us = started.elapsed().as_micros().max(1) as u64;
        let _ = by_kind[kind_of(i)].record(us);
        let _ = by_scope[scope].record(us);
        let _ = all.record(us);
    }
    println!(
        "{queries} queries, {:.0} hits on average",
        total_hits as f64 / queries.max(1) as f64
    );
    println!("| queries | p50 | p95 | p99 | max |");
    println!("|---|---|---|---|---|");
    let row = |name: &str, h: &Histogram<u64>| {
        println!(
            "| {name} | {} | {} | {} | {} |",
            ms(h.value_at_quantile(0.50)),
            ms(h.value_at_quantile(0.95)),
            ms(h.value_at_quantile(0.99)),
            ms(h.max())
        );
    };
    for (k, h) in kinds.iter().zip(&by_kind) {
        row(k, h);
    }
    for (s, h) in scopes.iter().zip(&by_scope) {
        row(&format!("scope: {s}"), h);
    }
    row("**all**", &all);
    if std::env::args().any(|a| a == "--store") {
        drop(index);
        reindex_from_store(&docs);
    }
}

/// Ingest the corpus into a redb store, then rebuild an index from it as `tgbox reindex` does.
fn reindex_from_store(docs: &[StoredMessage]) {
    use tgbox::domain::{
        ChatKind, ChatProfile, IncomingMessage, IncomingUpdate, UpdateContent, UpdateId,
        UserProfile,
    };
    use tgbox::store::IngestSink;
    use tgbox::store::redb::{RedbOptions, RedbStore};
    let dir = tempfile::tempdir().expect("temp dir");
    let store = RedbStore::open(dir.path(), &RedbOptions::default()).expect("store");
    let started = Instant::now();
    for (b, chunk) in docs.chunks(5000).enumerate() {
        let batch: Vec<IncomingUpdate> = chunk
            .iter()
            .enumerate()
            .map(|(i, m)| IncomingUpdate {
                update_id: UpdateId((b * 5000 + i + 1) as u32),
                received_at: m.date,
                content: UpdateContent::Message(IncomingMessage {
                    chat: ChatProfile {
                        id: m.chat_id,
                        kind: ChatKind::Supergroup,
                        title: Some("bench".into()),
                        username: None,
                        is_forum: false,
                    },
                    from: m.user_id.map(|u| UserProfile {
                        id: u,
                        is_bot: false,
                        first_name: "U".into(),
                        last_name: None,
                        username: None,
                        language_code: None,
                    }),
                    message_id: m.message_id,
                    date: m.date,
                    edit_date: None,
                    kind: m.kind,
                    text: m.text.clone(),
                    reply_to: None,
                    thread_id: None,
                    joined: Vec::new(),
                    left: None,
                }),
            })
            .collect();
        store.ingest(&batch).expect("ingest");
    }
    println!(
        "store: {} messages ingested in {:.1} s",
        docs.len(),
        started.elapsed().as_secs_f64()
    );
    let index_dir = dir.path().join("search");
    let report = tgbox::search::rebuild_dir(
        &index_dir,
        &store,
        &IndexerConfig::default(),
        &mut |_, _| {},
    )
    .expect("rebuild");
    println!(
        "reindex from redb: {} messages in {:.1} s: {:.0} docs/s; index {:.1} MiB",
        report.messages,
        report.seconds,
        report.messages as f64 / report.seconds.max(0.001),
        mib(report.index_bytes)
    );
}

fn run(index: &SearchIndex, q: &tgbox::search::ParsedQuery, chats: Option<&[ChatId]>) -> usize {
    let from = match &q.from {
        Some(UserRef::Id(id)) => Some(*id),
        _ => None,
    };
    let results = index
        .search(&SearchRequest {
            query: q,
            chats,
            from,
            order: SortOrder::Newest,
            offset: 0,
            limit: 5,
        })
        .expect("search");
    results.total
}

fn hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("histogram")
}

fn ms(us: u64) -> String {
    format!("{:.2} ms", Duration::from_micros(us).as_secs_f64() * 1000.0)
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

fn num_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
