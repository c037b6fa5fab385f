//! Query latency on a generated corpus: `cargo bench --bench search`.
//!
//! Builds an index of `TGBOX_BENCH_DOCS` messages (default 200,000; the 1,000,000-message figures
//! in docs/PERFORMANCE.md come from `examples/search_load.rs`) from `search::corpus`, then
//! measures one search per iteration for each kind of query in the benchmark mix: one word,
//! several words, a phrase, and a word with a filter; each in one group (the `/search` in a group
//! case) and across all chats. A search here is what the service does against the index:
//! parse, build the query, count and collect the page of 5, newest first, and prepare snippets.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use std::time::Duration;
use tgbox::domain::ChatId;
use tgbox::search::corpus::{Corpus, CorpusSpec};
use tgbox::search::{IndexerConfig, SearchIndex, SearchRequest, SortOrder, build_from, query};

fn docs() -> u64 {
    std::env::var("TGBOX_BENCH_DOCS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000)
}

fn bench(c: &mut Criterion) {
    let n = docs();
    let dir = tempfile::tempdir().expect("temp dir");
    let index = SearchIndex::open(dir.path()).expect("index");
    let spec = CorpusSpec {
        messages: n,
        ..CorpusSpec::default()
    };
    let mut corpus = Corpus::new(spec);
    let mut generator = Corpus::new(corpus.spec().clone());
    let mut messages = (0..n).map(move |i| generator.message(i));
    build_from(&index, &IndexerConfig::default(), &mut messages).expect("index corpus");

    let kinds: [(&str, &[usize]); 4] = [
        ("one_word", &[0, 1]),
        ("multi_word", &[2, 3]),
        ("phrase", &[4]),
        ("filtered", &[5, 6, 7]),
    ];
    let mut group = c.benchmark_group("search");
    group.measurement_time(Duration::from_secs(5));
    for (name, slots) in kinds {
        // 64 queries of this kind, English and Persian alternating.
        let queries: Vec<_> = (0..512)
            .filter(|i| slots.contains(&(i % 8)))
            .take(64)
            .map(|i| query::parse(&corpus.query(i)).expect("query"))
            .collect();
        for (scope, chats) in [("group", Some(vec![Corpus::chat_id(3)])), ("all", None)] {
            let mut i = 0;
            group.bench_function(BenchmarkId::new(name, scope), |b| {
                b.iter(|| {
                    let q = &queries[i % queries.len()];
                    i += 1;
                    let chats: Option<&[ChatId]> = chats.as_deref();
                    let from = match &q.from {
                        Some(tgbox::search::UserRef::Id(id)) => Some(*id),
                        _ => None,
                    };
                    index
                        .search(&SearchRequest {
                            query: q,
                            chats,
                            from,
                            order: SortOrder::Newest,
                            offset: 0,
                            limit: 5,
                        })
                        .expect("search")
                        .total
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
