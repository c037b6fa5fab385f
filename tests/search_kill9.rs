//! kill -9 while the appliance ingests and indexes: the index is never ahead of the store (its
//! committed outbox sequence is at most the store's, and nothing it has not applied was pruned),
//! and after a restart it catches up: one document per stored message, every message findable,
//! the outbox empty.

mod common;

use common::{
    SimServer, kill_at_random_moments, open_store, spawn_run, start_traffic, stop_gracefully,
};
use rand::{Rng, SeedableRng};
use std::path::Path;
use std::time::Duration;
use tgbox::domain::ChatId;
use tgbox::search::{SearchIndex, SearchRequest, SortOrder, query, query_terms};

/// The crash image obeys the invariant: the index is not ahead of the store, and the outbox
/// still holds every entry after the index's payload.
fn check_not_ahead(data: &Path) {
    let store = open_store(data);
    let index = SearchIndex::open(&data.join(tgbox::search::DIR_NAME)).unwrap();
    let committed = index.committed_seq().unwrap();
    let head = store.outbox_head().unwrap();
    assert!(committed <= head, "index at {committed}, store at {head}");
    if committed < head {
        let next = store.outbox_after(committed, 1).unwrap();
        assert_eq!(
            next.first().map(|e| e.seq),
            Some(committed + 1),
            "outbox pruned past the index"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_while_indexing_then_restart_catches_up() {
    let server = SimServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, server.sim.token()).unwrap();

    let seed: u64 = rand::random();
    eprintln!("search kill -9 test seed {seed}");
    let traffic = start_traffic(&server, seed, 1500.0, 6);
    // Frequent index commits, so that kills land between them as well as during them.
    let search_env = [
        ("TGBOX_SEARCH_COMMIT_INTERVAL_MS", "200".to_string()),
        ("TGBOX_SEARCH_COMMIT_MAX_DOCS", "500".to_string()),
    ];
    let start = || spawn_run(&server.url, &data, &token_file, &search_env);
    let restart = || {
        check_not_ahead(&data);
        start()
    };
    let (mut child, kills) =
        kill_at_random_moments(start(), restart, &traffic, seed, 300..1300, 5).await;
    // Spot checks below pick messages at random, reproducibly for the seed.
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed ^ 0x5eed);
    traffic.await.unwrap();
    assert!(
        kills >= 3,
        "the test should kill the appliance several times"
    );
    // One more kill once everything is ingested, probably before the index committed it all.
    server.wait_drained(Duration::from_secs(60)).await;
    child.kill().unwrap();
    child.wait().unwrap();
    check_not_ahead(&data);

    // Restart: the indexer replays the outbox. Then stop it the polite way.
    let child = start();
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop_gracefully(child).await;

    let store = open_store(&data);
    let index = SearchIndex::open(&data.join(tgbox::search::DIR_NAME)).unwrap();
    let counts = store.counts().unwrap();
    assert!(counts.messages > 1000, "{counts:?}");
    assert_eq!(
        index.num_docs(),
        counts.messages,
        "one document per message"
    );
    assert_eq!(counts.outbox_pending, 0, "outbox pruned");
    assert_eq!(index.committed_seq().unwrap(), store.outbox_head().unwrap());

    // Spot checks: stored messages are found by a phrase of their own words, in their chat.
    let messages = store.messages_page(None, None, 100_000).unwrap();
    let mut checked = 0;
    for _ in 0..400 {
        let m = &messages[rng.random_range(0..messages.len())];
        if m.text.starts_with('/') {
            continue;
        }
        let terms = query_terms(&m.text);
        if terms.is_empty() {
            continue;
        }
        let start = rng.random_range(0..terms.len());
        let phrase: Vec<&str> = terms[start..].iter().take(3).map(String::as_str).collect();
        let parsed = query::parse(&format!("\"{}\"", phrase.join(" "))).unwrap();
        let chats = [ChatId(m.chat_id.0)];
        let results = index
            .search(&SearchRequest {
                query: &parsed,
                chats: Some(&chats),
                from: None,
                order: SortOrder::Newest,
                offset: 0,
                limit: 100_000,
            })
            .unwrap();
        assert!(
            results
                .hits
                .iter()
                .any(|h| h.chat_id == m.chat_id && h.message_id == m.message_id),
            "message {:?} not found by {parsed}",
            (m.chat_id, m.message_id)
        );
        checked += 1;
        if checked == 60 {
            break;
        }
    }
    assert!(
        checked >= 30,
        "too few messages with words to check: {checked}"
    );
    server.stop().await;
}
