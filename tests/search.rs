//! The search index against a real redb store: the indexer applies the outbox (inserts, edits,
//! deletes), commits with the outbox sequence, prunes, rebuilds on a gap; a rebuild equals the
//! incremental index; the service enforces who sees what.

#[path = "search/access.rs"]
mod access;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tgbox::domain::{ChatId, MessageId};
use tgbox::search::{self, IndexerConfig, SearchIndex, SearchRequest, SortOrder, catch_up, query};
use tgbox::store::contract::fixtures::{edit, group, new_message, person, text};
use tgbox::store::redb::{RedbOptions, RedbStore};
use tgbox::store::{IngestSink, MessageRepo, MetaRepo, OutboxRepo, SharedStore};

pub fn store_in(dir: &Path) -> Arc<RedbStore> {
    let options = RedbOptions {
        cache_bytes: 4 << 20,
    };
    Arc::new(RedbStore::open(dir, &options).expect("open store"))
}

pub fn cfg() -> IndexerConfig {
    IndexerConfig {
        commit_max_docs: 50,
        batch: 64,
        ..IndexerConfig::default()
    }
}

/// Keys of every hit of `q` in all chats, newest first.
pub fn keys(index: &SearchIndex, q: &str) -> Vec<(i64, i32)> {
    let parsed = query::parse(q).unwrap();
    let req = SearchRequest {
        query: &parsed,
        chats: None,
        from: match parsed.from {
            Some(search::UserRef::Id(id)) => Some(id),
            _ => None,
        },
        order: SortOrder::Newest,
        offset: 0,
        limit: 10_000,
    };
    let results = index.search(&req).unwrap();
    assert_eq!(results.total, results.hits.len());
    results
        .hits
        .iter()
        .map(|h| (h.chat_id.0, h.message_id.0))
        .collect()
}

#[test]
fn indexer_applies_outbox_commits_and_prunes() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(&dir.path().join("data"));
    let index = SearchIndex::open(&dir.path().join("search")).unwrap();
    let g = group(-100_124, "g");
    let a = person(1, "A");
    let updates: Vec<_> = (1..=120)
        .map(|i| {
            let body = if i % 3 == 0 {
                format!("hello world {i} می\u{200c}روم")
            } else {
                format!("just chatting {i}")
            };
            new_message(i, text(&g, Some(&a), i as i32, i64::from(i), &body))
        })
        .collect();
    store.ingest(&updates).unwrap();
    assert_eq!(index.committed_seq().unwrap(), 0);
    let seq = catch_up(&index, &*store, &cfg()).unwrap();
    assert_eq!(seq, store.outbox_head().unwrap());
    assert_eq!(index.committed_seq().unwrap(), seq);
    assert_eq!(index.num_docs(), 120);
    assert_eq!(store.counts().unwrap().outbox_pending, 0, "pruned");
    let hello = keys(&index, "hello");
    assert_eq!(hello.len(), 40);
    assert_eq!(hello[0], (-100_124, 120), "newest first");
    assert_eq!(
        keys(&index, "میروم").len(),
        40,
        "joined form finds ZWNJ form"
    );
    assert_eq!(keys(&index, "\"world 3\"").len(), 1);
    assert_eq!(keys(&index, "hello -world").len(), 0);
    // T0 is 2023-11-14 22:13 UTC; after:D starts the day after D.
    assert_eq!(keys(&index, "chatting before:2023-11-15").len(), 80);
    assert!(keys(&index, "chatting after:2023-11-14").is_empty());
    assert!(keys(&index, "nothinglikethis").is_empty());
    // A second pass with nothing new changes nothing.
    assert_eq!(catch_up(&index, &*store, &cfg()).unwrap(), seq);
    assert_eq!(index.num_docs(), 120);
}

#[test]
fn edits_and_deletes_are_reflected() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(&dir.path().join("data"));
    let index = SearchIndex::open(&dir.path().join("search")).unwrap();
    let g = group(-1007, "g");
    let a = person(1, "A");
    store
        .ingest(&[
            new_message(1, text(&g, Some(&a), 1, 10, "I like apples")),
            new_message(2, text(&g, Some(&a), 2, 20, "apples and pears")),
        ])
        .unwrap();
    catch_up(&index, &*store, &cfg()).unwrap();
    assert_eq!(keys(&index, "apples").len(), 2);
    let mut changed = text(&g, Some(&a), 1, 10, "I like bananas");
    changed.edit_date = Some(tgbox::store::contract::fixtures::ts(30));
    store.ingest(&[edit(3, changed)]).unwrap();
    catch_up(&index, &*store, &cfg()).unwrap();
    assert_eq!(keys(&index, "apples"), vec![(-1007, 2)]);
    assert_eq!(keys(&index, "bananas"), vec![(-1007, 1)]);
    assert_eq!(index.num_docs(), 2, "an edit replaces, never duplicates");

    assert_eq!(
        store
            .delete_messages(&[(ChatId(-1007), MessageId(2))])
            .unwrap(),
        1
    );
    catch_up(&index, &*store, &cfg()).unwrap();
    assert!(keys(&index, "apples").is_empty());
    assert!(keys(&index, "pears").is_empty());
    assert_eq!(index.num_docs(), 1);
    assert_eq!(store.counts().unwrap().outbox_pending, 0);
}

/// Mixed traffic with edits and deletes, indexed incrementally in many small steps, gives the
/// same index as a rebuild from the store.
#[test]
fn reindex_equals_incremental_index() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(&dir.path().join("data"));
    let incremental = SearchIndex::open(&dir.path().join("inc")).unwrap();
    let mut corpus = search::corpus::Corpus::new(search::corpus::CorpusSpec {
        chats: 4,
        users: 30,
        vocabulary: 500,
        messages: 600,
        ..search::corpus::CorpusSpec::default()
    });
    let chats: Vec<_> = (0..4)
        .map(|i| group(search::corpus::Corpus::chat_id(i).0, "g"))
        .collect();
    let mut update_id = 0u32;
    let mut next = |store: &RedbStore, m: tgbox::domain::StoredMessage, is_edit: bool| {
        update_id += 1;
        let chat = chats.iter().find(|c| c.id == m.chat_id).cloned().unwrap();
        let from = person(m.user_id.unwrap().0, "U");
        let incoming = text(
            &chat,
            Some(&from),
            m.message_id.0,
            m.date.0 - 1_700_000_000,
            &m.text,
        );
        let u = if is_edit {
            edit(update_id, incoming)
        } else {
            new_message(update_id, incoming)
        };
        store.ingest(&[u]).unwrap();
    };
    let mut written = Vec::new();
    for n in 0..600u64 {
        let m = corpus.message(n);
        written.push(m.clone());
        next(&store, m, false);
        if n % 7 == 3 {
            // Edit an earlier message to the text of a fresh one.
            let mut target = written[(n as usize * 13) % written.len()].clone();
            target.text = corpus.message(n + 10_000).text;
            next(&store, target, true);
        }
        if n % 50 == 49 {
            let victim = &written[(n as usize * 7) % written.len()];
            store
                .delete_messages(&[(victim.chat_id, victim.message_id)])
                .unwrap();
        }
        if n % 37 == 0 {
            catch_up(&incremental, &*store, &cfg()).unwrap();
        }
    }
    catch_up(&incremental, &*store, &cfg()).unwrap();
    let rebuilt_dir = dir.path().join("rebuilt");
    let report = search::rebuild_dir(&rebuilt_dir, &*store, &cfg(), &mut |_, _| {}).unwrap();
    let rebuilt = SearchIndex::open(&rebuilt_dir).unwrap();
    let stored = store.counts().unwrap().messages;
    assert_eq!(report.messages, stored);
    assert_eq!(incremental.num_docs(), stored);
    assert_eq!(rebuilt.num_docs(), stored);
    assert_eq!(
        rebuilt.committed_seq().unwrap(),
        incremental.committed_seq().unwrap()
    );
    let mut queries: Vec<String> = (0..40).map(|i| corpus.query(i)).collect();
    queries.extend(["the", "و", "می\u{200c}شود", "کتاب", "from:3"].map(String::from));
    let mut nonempty = 0;
    for q in &queries {
        let mut a = keys(&incremental, q);
        let mut b = keys(&rebuilt, q);
        a.sort_unstable();
        b.sort_unstable();
        assert_eq!(a, b, "query {q:?}");
        nonempty += usize::from(!a.is_empty());
    }
    assert!(nonempty > 10, "the queries should find something");
}

#[test]
fn lost_index_or_pruned_outbox_is_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(&dir.path().join("data"));
    let g = group(-1009, "g");
    let updates: Vec<_> = (1..=30)
        .map(|i| new_message(i, text(&g, None, i as i32, 0, &format!("note {i}"))))
        .collect();
    store.ingest(&updates).unwrap();
    let first_dir = dir.path().join("first");
    let first = SearchIndex::open(&first_dir).unwrap();
    catch_up(&first, &*store, &cfg()).unwrap();
    assert_eq!(store.counts().unwrap().outbox_pending, 0);
    drop(first);
    // The index directory is lost: the outbox cannot replay what was pruned, so it rebuilds.
    std::fs::remove_dir_all(&first_dir).unwrap();
    let fresh = SearchIndex::open(&first_dir).unwrap();
    catch_up(&fresh, &*store, &cfg()).unwrap();
    assert_eq!(fresh.num_docs(), 30);
    assert_eq!(keys(&fresh, "note").len(), 30);
    // An index ahead of the store (the store was restored from an older backup) is rebuilt too.
    let other = tempfile::tempdir().unwrap();
    let older = store_in(other.path());
    older.ingest(&updates[..10]).unwrap();
    catch_up(&fresh, &*older, &cfg()).unwrap();
    assert_eq!(fresh.num_docs(), 10);
}

#[test]
fn indexer_thread_is_woken_and_flushes_on_stop() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(&dir.path().join("data"));
    let shared: SharedStore = store.clone();
    let index = Arc::new(SearchIndex::open(&dir.path().join("search")).unwrap());
    let config = IndexerConfig {
        commit_interval: Duration::from_millis(50),
        poll_interval: Duration::from_secs(3600), // only a wake-up can make it look
        ..IndexerConfig::default()
    };
    let indexer = search::Indexer::start(index.clone(), shared, config).unwrap();
    let wake = indexer.wake_handle();
    let g = group(-1005, "g");
    store
        .ingest(&[new_message(1, text(&g, None, 1, 0, "wake me up"))])
        .unwrap();
    wake.wake();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while index.num_docs() < 1 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        index.num_docs(),
        1,
        "woken indexer commits within the interval"
    );
    // Written but not announced: the stop still applies it.
    store
        .ingest(&[new_message(2, text(&g, None, 2, 0, "last words"))])
        .unwrap();
    indexer.stop();
    assert_eq!(index.num_docs(), 2);
    assert_eq!(keys(&index, "last words").len(), 1);
    assert_eq!(store.counts().unwrap().outbox_pending, 0);
    assert_eq!(index.committed_seq().unwrap(), store.outbox_head().unwrap());
    // Reopening the store and the index finds the same state (the commit is durable).
    drop(index);
    let reopened = SearchIndex::open(&dir.path().join("search")).unwrap();
    assert_eq!(reopened.num_docs(), 2);
    assert!(store.message(g.id, MessageId(1)).unwrap().is_some());
}
