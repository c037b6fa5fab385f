//! Maintenance on real redb files: compaction gives back the space of deleted messages and loses
//! nothing under live ingest; backup -> restore reproduces the store and refuses damaged files;
//! the consistency check finds injected index damage and the repair fixes it.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tgbox::domain::{ChatId, MessageId, UserId};
use tgbox::store::contract::fixtures::{group, new_message, person, text};
use tgbox::store::redb::{IndexRow, RedbOptions, RedbStore, restore_into, verify_backup};
use tgbox::store::{
    ChatRepo, CheckRepo, IngestSink, KvRepo, MaintenanceRepo, MessageRepo, MetaRepo, SettingsRepo,
    SharedStore, Store, UserRepo,
};

fn options() -> RedbOptions {
    RedbOptions {
        cache_bytes: 8 << 20,
    }
}

fn open(dir: &Path) -> Arc<RedbStore> {
    Arc::new(RedbStore::open(dir, &options()).unwrap())
}

/// `count` messages of about `body` bytes each in chats -1001..-1004 by users 1..=50, as update
/// ids starting at `first_update`, in batches of 500.
fn fill(store: &dyn Store, first_update: u32, first_msg: i32, count: i32, body: usize) {
    let chats: Vec<_> = (0..4).map(|i| group(-1001 - i, "group")).collect();
    let users: Vec<_> = (1..=50).map(|i| person(i, "user")).collect();
    let filler = "lorem ipsum dolor sit amet ".repeat(body / 27 + 1);
    let mut batch = Vec::new();
    for i in 0..count {
        let n = first_msg + i;
        let chat = &chats[(n % 4) as usize];
        let user = &users[(n % 50) as usize];
        let m = text(
            chat,
            Some(user),
            n,
            i64::from(n),
            &format!("{n} {}", &filler[..body]),
        );
        batch.push(new_message(first_update + i as u32, m));
        if batch.len() == 500 {
            store.ingest(&batch).unwrap();
            batch.clear();
        }
    }
    if !batch.is_empty() {
        store.ingest(&batch).unwrap();
    }
}

fn all_keys(store: &dyn Store) -> Vec<(ChatId, MessageId)> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = store.messages_page(None, after, 5000).unwrap();
        out.extend(page.iter().map(|m| (m.chat_id, m.message_id)));
        match page.last() {
            Some(m) if page.len() == 5000 => after = Some((m.chat_id, m.message_id)),
            _ => return out,
        }
    }
}

fn logical_bytes(store: &dyn Store) -> u64 {
    store
        .table_stats()
        .unwrap()
        .iter()
        .map(|t| t.stored_bytes + t.metadata_bytes)
        .sum()
}

#[test]
fn compaction_gives_back_most_of_the_deleted_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    fill(&*store, 1, 1, 20_000, 600);
    let keys = all_keys(&*store);
    let before = logical_bytes(&*store);
    // Delete 90 %: every message but each tenth.
    let doomed: Vec<_> = keys
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 10 != 0)
        .map(|(_, k)| *k)
        .collect();
    for chunk in doomed.chunks(2000) {
        assert_eq!(store.delete_messages(chunk).unwrap(), chunk.len() as u64);
    }
    let remaining = logical_bytes(&*store);
    let deleted = before - remaining;
    let report = store.compact().unwrap();
    let reclaimed = report.reclaimed_bytes();
    println!(
        "compaction: file {} -> {} bytes, reclaimed {reclaimed} bytes = {:.1} % of the {deleted} \
         bytes of deleted rows (keys, values, tree metadata); {remaining} bytes of rows remain; \
         pause {} ms",
        report.bytes_before,
        report.bytes_after,
        100.0 * reclaimed as f64 / deleted as f64,
        report.pause_ms
    );
    assert!(report.compacted);
    assert!(
        reclaimed * 10 >= deleted * 6,
        "compaction gave back only {reclaimed} of {deleted} deleted bytes"
    );
    assert!(
        report.bytes_after <= 3 * remaining,
        "the compacted file ({} bytes) is far larger than its rows ({remaining} bytes)",
        report.bytes_after
    );
    // Nothing that was kept is lost, and everything is still consistent.
    assert_eq!(all_keys(&*store).len(), keys.len() - doomed.len());
    assert!(store.check_consistency(5).unwrap().is_clean());
    // The file stays usable after the compaction: more ingest, and a reopen.
    fill(&*store, 100_000, 100_000, 100, 10);
    drop(store);
    let store = open(dir.path());
    assert_eq!(all_keys(&*store).len(), keys.len() - doomed.len() + 100);
}

#[test]
fn compaction_under_live_ingest_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    fill(&*store, 1, 1, 5_000, 300);
    let keys = all_keys(&*store);
    store.delete_messages(&keys[..4_000]).unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let ingest = {
        let (store, done) = (store.clone(), done.clone());
        std::thread::spawn(move || {
            let mut slowest = Duration::ZERO;
            let chat = group(-2001, "live");
            let user = person(7, "live");
            for b in 0..200u32 {
                let batch: Vec<_> = (0..25u32)
                    .map(|i| {
                        let n = 10_000 + b * 25 + i;
                        new_message(n, text(&chat, Some(&user), n as i32, n.into(), "live"))
                    })
                    .collect();
                let started = Instant::now();
                store.ingest(&batch).unwrap();
                slowest = slowest.max(started.elapsed());
            }
            done.store(true, Ordering::SeqCst);
            slowest
        })
    };
    let mut compactions = Vec::new();
    while !done.load(Ordering::SeqCst) || compactions.is_empty() {
        compactions.push(store.compact().unwrap());
    }
    let slowest = ingest.join().unwrap();
    let longest_pause = compactions.iter().map(|c| c.pause_ms).max().unwrap_or(0);
    println!(
        "{} compactions under ingest; longest exclusive window {longest_pause} ms; slowest \
         ingest commit {} ms",
        compactions.len(),
        slowest.as_millis()
    );
    let live: Vec<_> = store
        .messages_page(Some(ChatId(-2001)), None, 10_000)
        .unwrap();
    assert_eq!(
        live.len(),
        5_000,
        "a message written during compaction is missing"
    );
    assert_eq!(
        store.last_update_id().unwrap().map(|u| u.0),
        Some(10_000 + 4_999)
    );
    assert_eq!(all_keys(&*store).len(), 1_000 + 5_000);
    assert!(store.check_consistency(5).unwrap().is_clean());
}

fn dump(store: &dyn Store) -> Vec<u8> {
    let mut out = Vec::new();
    store.backup(&mut out).unwrap();
    out
}

#[test]
fn backup_restores_the_same_store_and_damaged_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    fill(&*store, 1, 1, 3_000, 100);
    store
        .kv_set("session:1", b"state", Some(Duration::from_secs(60)), 1_000)
        .unwrap();
    store.kv_set("counter", b"7", None, 1_000).unwrap();
    store
        .set_user_settings(
            UserId(3),
            &tgbox::domain::UserSettings {
                language: tgbox::domain::LanguagePref::Persian,
                announcements: false,
            },
        )
        .unwrap();
    let bytes = dump(&*store);
    let summary = verify_backup(bytes.as_slice()).unwrap();
    assert_eq!(summary.header.last_update_id, Some(3_000));

    let file = dir.path().join("backup.bin");
    std::fs::write(&file, &bytes).unwrap();
    let target = tempfile::tempdir().unwrap();
    let restored = restore_into(&file, target.path()).unwrap();
    assert_eq!(restored.rows, summary.rows);
    let copy = open(target.path());
    assert_eq!(all_keys(&*copy), all_keys(&*store));
    assert_eq!(
        copy.messages_page(None, None, 100).unwrap(),
        store.messages_page(None, None, 100).unwrap()
    );
    assert_eq!(copy.counts().unwrap(), store.counts().unwrap());
    assert_eq!(copy.chats().unwrap(), store.chats().unwrap());
    assert_eq!(copy.kv_get("counter", 2_000).unwrap(), Some(b"7".to_vec()));
    assert_eq!(
        copy.kv_get("session:1", 2_000).unwrap(),
        Some(b"state".to_vec())
    );
    assert_eq!(
        copy.user_settings(UserId(3)).unwrap(),
        store.user_settings(UserId(3)).unwrap()
    );
    assert!(copy.check_consistency(5).unwrap().is_clean());
    // A backup of the restored store is the same file but for the time it was taken.
    let again = dump(&*copy);
    assert_eq!(again.len(), bytes.len());

    // Damaged files: refused before anything is written.
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", bytes[..bytes.len() / 2].to_vec()),
        ("no trailer", bytes[..bytes.len() - 4].to_vec()),
        ("flipped byte", {
            let mut b = bytes.clone();
            let mid = b.len() / 2;
            b[mid] ^= 0x01;
            b
        }),
        ("empty", Vec::new()),
    ];
    for (what, damaged) in cases {
        let file = dir.path().join(format!("{what}.bin"));
        std::fs::write(&file, &damaged).unwrap();
        let target = tempfile::tempdir().unwrap();
        let err = restore_into(&file, target.path()).unwrap_err();
        println!("{what}: {err}");
        let left: Vec<_> = std::fs::read_dir(target.path()).unwrap().collect();
        assert!(left.is_empty(), "{what}: restore wrote {left:?}");
    }
}

#[test]
fn check_finds_injected_damage_and_repair_fixes_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let mut alice = person(5, "Alice");
    alice.username = Some("alice".into());
    let chat = group(-3001, "g");
    store
        .ingest(&[
            new_message(1, text(&chat, Some(&alice), 1, 100, "hello")),
            new_message(2, text(&chat, Some(&alice), 2, 200, "world")),
        ])
        .unwrap();
    assert!(store.check_consistency(5).unwrap().is_clean());
    let date = store
        .message(ChatId(-3001), MessageId(1))
        .unwrap()
        .unwrap()
        .date
        .0;
    store
        .set_index_row_for_test(
            IndexRow::MessagesByTime(date, ChatId(-3001), MessageId(1)),
            false,
        )
        .unwrap();
    store
        .set_index_row_for_test(IndexRow::MemberChats(UserId(99), ChatId(-3001)), true)
        .unwrap();
    store
        .set_index_row_for_test(IndexRow::UsersByUsername("ghost".into(), UserId(5)), true)
        .unwrap();
    let report = store.check_consistency(5).unwrap();
    print!("{}", report.to_text());
    let bad: Vec<_> = report
        .items
        .iter()
        .filter(|i| i.bad > 0)
        .map(|i| i.name.as_str())
        .collect();
    assert_eq!(
        bad,
        [
            "messages -> messages_by_time",
            "users_by_username -> users",
            "member_chats -> members"
        ]
    );
    assert!(report.to_text().contains("message (-3001, 1)"));
    let repair = store.rebuild_indexes().unwrap();
    assert!(!repair.rebuilt.is_empty());
    assert!(store.check_consistency(5).unwrap().is_clean());
    assert_eq!(
        store.user_by_username("alice").unwrap().map(|u| u.id),
        Some(UserId(5))
    );
    let shared: SharedStore = store;
    assert_eq!(shared.messages_by_user(UserId(5), 10).unwrap().len(), 2);
}

#[test]
fn the_running_indexer_compacts_the_index_on_request() {
    use tgbox::search::{Indexer, IndexerConfig, SearchIndex};
    let dir = tempfile::tempdir().unwrap();
    let store: SharedStore = open(dir.path());
    let index = Arc::new(SearchIndex::open(&dir.path().join("search")).unwrap());
    let cfg = IndexerConfig {
        commit_max_docs: 300,
        commit_interval: Duration::from_millis(20),
        ..IndexerConfig::default()
    };
    let indexer = Indexer::start(index.clone(), store.clone(), cfg).unwrap();
    let wake = indexer.wake_handle();
    // Several commits make several segments; then most messages go.
    for part in 0..4 {
        fill(&*store, 1 + part * 500, 1 + part as i32 * 500, 500, 50);
        wake.wake();
        std::thread::sleep(Duration::from_millis(100));
    }
    let keys = all_keys(&*store);
    store.delete_messages(&keys[..1500]).unwrap();
    wake.wake();
    let figures = wake.compact().unwrap();
    println!("index compaction through the indexer: {figures:?}");
    assert!(figures.segments_after <= 1, "{figures:?}");
    assert!(
        figures.deleted_docs_before > 0,
        "the deletes were not applied first: {figures:?}"
    );
    assert_eq!(
        index.segment_figures().unwrap().1,
        0,
        "deleted documents left"
    );
    // Everything the store holds is indexed once, nothing else.
    let mut indexed = index.message_keys().unwrap();
    indexed.sort();
    let mut stored = all_keys(&*store);
    stored.sort();
    assert!(
        indexed == stored,
        "{} documents indexed, {} messages stored",
        indexed.len(),
        stored.len()
    );
    indexer.stop();
}
