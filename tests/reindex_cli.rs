//! `tgbox reindex`: rebuilds `DIR/search` from a stopped store and reports what it did.

use std::process::Command;
use tgbox::search::{SearchIndex, SearchRequest, SortOrder, query};
use tgbox::store::contract::fixtures::{group, new_message, person, text};
use tgbox::store::redb::{RedbOptions, RedbStore};
use tgbox::store::{IngestSink, OutboxRepo};

#[test]
fn reindex_builds_the_index_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let store = RedbStore::open(&data, &RedbOptions::default()).unwrap();
    let g = group(-10_042, "g");
    let a = person(1, "A");
    let updates: Vec<_> = (1..=250)
        .map(|i| {
            let body = format!("message {i} درباره کتاب\u{200c}ها");
            new_message(i, text(&g, Some(&a), i as i32, i64::from(i), &body))
        })
        .collect();
    store.ingest(&updates).unwrap();
    store.close().unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_tgbox"))
        .args(["reindex", "--json", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["messages"], 250);
    assert_eq!(report["outbox_pruned"], 250);

    let store = RedbStore::open(&data, &RedbOptions::default()).unwrap();
    assert!(store.outbox_after(0, 10).unwrap().is_empty());
    let index = SearchIndex::open(&data.join("search")).unwrap();
    assert_eq!(index.num_docs(), 250);
    assert_eq!(index.committed_seq().unwrap(), store.outbox_head().unwrap());
    let parsed = query::parse("کتابها").unwrap();
    let hits = index
        .search(&SearchRequest {
            query: &parsed,
            chats: None,
            from: None,
            order: SortOrder::Newest,
            offset: 0,
            limit: 5,
        })
        .unwrap();
    assert_eq!(hits.total, 250);

    // No store there: a clear error, and nothing is created.
    let missing = dir.path().join("nothing-here");
    let out = Command::new(env!("CARGO_BIN_EXE_tgbox"))
        .args(["reindex", "--data"])
        .arg(&missing)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no tgbox store"), "{err}");
    assert!(!missing.exists());
}
