//! The retention sweep on a real redb store with the real search indexer: old messages leave
//! the store, every index and the search index; newer ones and those of chats kept longer stay;
//! counters stay; expired key-value entries are swept; the report survives a restart; and a
//! sweep under live ingest loses nothing new.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tgbox::domain::{ChatId, IncomingUpdate, MessageId, Timestamp, UserId};
use tgbox::search::{IndexerConfig, SearchIndex, SearchRequest, SortOrder, catch_up, query};
use tgbox::service::{RetentionService, RetentionSettings};
use tgbox::store::SharedStore;
use tgbox::store::contract::fixtures::{T0, group, new_message, person, text};
use tgbox::store::redb::{RedbOptions, RedbStore};

const DAY: i64 = 86_400;
/// "Now" for the sweeps: 100 days after the fixtures' origin.
const NOW_SECS: i64 = T0 + 100 * DAY;
const NOW_MS: i64 = NOW_SECS * 1000;

fn open(dir: &Path) -> SharedStore {
    let options = RedbOptions {
        cache_bytes: 4 << 20,
    };
    Arc::new(RedbStore::open(dir, &options).expect("open store"))
}

fn settings(days: u32, batch_size: usize) -> RetentionSettings {
    RetentionSettings {
        days,
        batch_size,
        pause: Duration::ZERO,
    }
}

fn hits(index: &SearchIndex, q: &str) -> Vec<(i64, i32)> {
    let parsed = query::parse(q).unwrap();
    let req = SearchRequest {
        query: &parsed,
        chats: None,
        from: None,
        order: SortOrder::Newest,
        offset: 0,
        limit: 10_000,
    };
    let mut out: Vec<(i64, i32)> = index
        .search(&req)
        .unwrap()
        .hits
        .iter()
        .map(|h| (h.chat_id.0, h.message_id.0))
        .collect();
    out.sort();
    out
}

/// Offsets from T0 of a message `days_ago` days before "now".
fn ago(days: i64) -> i64 {
    NOW_SECS - T0 - days * DAY
}

#[test]
fn sweep_removes_old_messages_everywhere_and_keeps_counters() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("data"));
    let index = SearchIndex::open(&dir.path().join("search")).unwrap();
    let icfg = IndexerConfig::default();
    // -1 follows the global 30 days; -2 keeps a year; -3 keeps a week; -4 keeps forever.
    let chats = [
        group(-1, "global"),
        group(-2, "year"),
        group(-3, "week"),
        group(-4, "always"),
    ];
    let (ann, bob) = (person(1, "Ann"), person(2, "Bob"));
    let mut updates = Vec::new();
    let mut uid = 0;
    for chat in &chats {
        for (n, (days, word)) in [(40, "ancient"), (10, "middle"), (1, "fresh")]
            .iter()
            .enumerate()
        {
            for k in 0..5 {
                uid += 1;
                let from = if k % 2 == 0 { &ann } else { &bob };
                let id = (n * 5 + k + 1) as i32;
                let body = format!("{word} note {k}");
                updates.push(new_message(
                    uid,
                    text(chat, Some(from), id, ago(*days) + k as i64, &body),
                ));
            }
        }
    }
    store.ingest(&updates).unwrap();
    assert!(store.set_chat_retention(ChatId(-2), Some(365)).unwrap());
    assert!(store.set_chat_retention(ChatId(-3), Some(7)).unwrap());
    assert!(store.set_chat_retention(ChatId(-4), Some(0)).unwrap());
    catch_up(&index, &*store, &icfg).unwrap();
    assert_eq!(hits(&index, "ancient").len(), 20);
    let users_before = (
        store.user(UserId(1)).unwrap(),
        store.user(UserId(2)).unwrap(),
    );
    let chats_before: Vec<_> = (1..=4).map(|c| store.chat(ChatId(-c)).unwrap()).collect();
    let member_before = store.member(ChatId(-1), UserId(1)).unwrap();
    // Key-value entries: one expired, one live, one persistent.
    store
        .kv_set(
            "dialogue:1",
            b"x",
            Some(Duration::from_secs(60)),
            NOW_MS - 120_000,
        )
        .unwrap();
    store
        .kv_set("dialogue:2", b"y", Some(Duration::from_secs(600)), NOW_MS)
        .unwrap();
    store.kv_set("setting", b"z", None, NOW_MS).unwrap();

    let service = RetentionService::new(store.clone(), settings(30, 3));
    let report = service.run_at(NOW_MS, &|| false).unwrap();
    // Global chat: 5 ancient; week chat: 5 ancient + 5 middle.
    assert_eq!(report.messages_removed, 15, "{report:?}");
    assert_eq!(report.keys_removed, 1);
    assert!(report.batches >= 5, "bounded transactions: {report:?}");
    assert_eq!((report.global_days, report.chat_overrides), (30, 3));
    assert_eq!(report.stopped_early, None);

    // The store: rows and every index.
    let ids = |c: i64| -> Vec<i32> {
        store
            .messages_page(Some(ChatId(c)), None, 100)
            .unwrap()
            .iter()
            .map(|m| m.message_id.0)
            .collect()
    };
    assert_eq!(ids(-1), (6..=15).collect::<Vec<_>>());
    assert_eq!(ids(-2), (1..=15).collect::<Vec<_>>());
    assert_eq!(ids(-3), (11..=15).collect::<Vec<_>>());
    assert_eq!(ids(-4), (1..=15).collect::<Vec<_>>());
    assert_eq!(store.counts().unwrap().messages, 45);
    let by_time = store
        .messages_older_than(Timestamp(NOW_SECS + 1), 1000)
        .unwrap();
    assert_eq!(
        by_time.len(),
        45,
        "the time index lost exactly the removed rows"
    );
    for (c, m) in &by_time {
        assert!(store.message(*c, *m).unwrap().is_some());
    }
    let by_user: usize = [1, 2]
        .iter()
        .map(|u| store.messages_by_user(UserId(*u), 1000).unwrap().len())
        .sum();
    assert_eq!(
        by_user, 45,
        "the per-user index lost exactly the removed rows"
    );
    for u in [1, 2] {
        for m in store.messages_by_user(UserId(u), 1000).unwrap() {
            assert!(store.message(m.chat_id, m.message_id).unwrap().is_some());
        }
    }
    // Counters stay.
    assert_eq!(
        (
            store.user(UserId(1)).unwrap(),
            store.user(UserId(2)).unwrap()
        ),
        users_before
    );
    let chats_after: Vec<_> = (1..=4).map(|c| store.chat(ChatId(-c)).unwrap()).collect();
    assert_eq!(chats_after, chats_before);
    assert_eq!(store.member(ChatId(-1), UserId(1)).unwrap(), member_before);
    // Key-value entries.
    // dialogue:2, setting, and the sweep's own report.
    assert_eq!(store.kv_len(NOW_MS).unwrap(), 3);
    assert!(
        store
            .kv_get(tgbox::service::retention::LAST_REPORT_KEY, NOW_MS)
            .unwrap()
            .is_some()
    );
    assert!(store.kv_get("dialogue:2", NOW_MS).unwrap().is_some());

    // The search index follows through the outbox.
    catch_up(&index, &*store, &icfg).unwrap();
    let ancient: Vec<i64> = hits(&index, "ancient").iter().map(|h| h.0).collect();
    assert_eq!(ancient.len(), 10);
    assert!(ancient.iter().all(|c| *c == -2 || *c == -4), "{ancient:?}");
    assert_eq!(hits(&index, "middle").len(), 15);
    assert_eq!(hits(&index, "fresh").len(), 20);
    assert_eq!(index.num_docs(), 45);

    // A second sweep finds nothing; the report survives a restart.
    let again = service.run_at(NOW_MS, &|| false).unwrap();
    assert_eq!((again.messages_removed, again.keys_removed), (0, 0));
    drop(service);
    drop(store);
    let store = open(&dir.path().join("data"));
    let reopened = RetentionService::new(store, settings(30, 3));
    assert_eq!(reopened.last_report().unwrap(), Some(again));
}

#[test]
fn no_global_period_applies_only_overrides_and_stop_is_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let (g, h) = (group(-1, "g"), group(-2, "h"));
    let a = person(1, "a");
    let mut updates = Vec::new();
    for i in 0..50u32 {
        let (chat, id) = if i % 2 == 0 {
            (&g, i / 2 + 1)
        } else {
            (&h, i / 2 + 1)
        };
        updates.push(new_message(
            i + 1,
            text(chat, Some(&a), id as i32, ago(60) + i64::from(i), "old"),
        ));
    }
    store.ingest(&updates).unwrap();
    let service = RetentionService::new(store.clone(), settings(0, 10));
    // Forever by default: nothing goes.
    assert_eq!(
        service.run_at(NOW_MS, &|| false).unwrap().messages_removed,
        0
    );
    store.set_chat_retention(ChatId(-2), Some(30)).unwrap();
    // A stop request between batches ends the sweep early and says so.
    let stopped = service.run_at(NOW_MS, &|| true).unwrap();
    assert_eq!(stopped.messages_removed, 0);
    assert!(stopped.stopped_early.is_some());
    let report = service.run_at(NOW_MS, &|| false).unwrap();
    assert_eq!(report.messages_removed, 25);
    assert_eq!(
        store
            .messages_page(Some(ChatId(-1)), None, 100)
            .unwrap()
            .len(),
        25
    );
    assert!(
        store
            .messages_page(Some(ChatId(-2)), None, 100)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn sweep_under_live_ingest_loses_nothing_new() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let g = group(-7, "busy");
    let a = person(1, "a");
    // 6,000 old messages to remove.
    let old: Vec<IncomingUpdate> = (0..6000u32)
        .map(|i| {
            new_message(
                i + 1,
                text(&g, Some(&a), i as i32 + 1, ago(90) + i64::from(i), "old"),
            )
        })
        .collect();
    for chunk in old.chunks(1000) {
        store.ingest(chunk).unwrap();
    }
    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let (store, done, g, a) = (store.clone(), done.clone(), g.clone(), a.clone());
        std::thread::spawn(move || {
            // New messages (dated today) in small commits until the sweep is over, at least 50.
            let mut n = 0u32;
            while n < 50 || !done.load(Ordering::SeqCst) {
                let batch: Vec<IncomingUpdate> = (0..5)
                    .map(|k| {
                        let i = 10_000 + n * 5 + k;
                        new_message(i, text(&g, Some(&a), i as i32, ago(0), "new"))
                    })
                    .collect();
                store.ingest(&batch).unwrap();
                n += 1;
            }
            n * 5
        })
    };
    let service = RetentionService::new(store.clone(), settings(30, 200));
    let report = service.run_at(NOW_MS, &|| false).unwrap();
    done.store(true, Ordering::SeqCst);
    let written = writer.join().unwrap();
    assert_eq!(report.messages_removed, 6000);
    assert!(report.batches >= 30);
    let left = store
        .messages_page(Some(ChatId(-7)), None, 100_000)
        .unwrap();
    assert_eq!(left.len() as u32, written, "every new message is there");
    assert!(left.iter().all(|m| m.message_id >= MessageId(10_000)));
    assert_eq!(
        store.chat(ChatId(-7)).unwrap().unwrap().message_count,
        u64::from(6000 + written),
        "counters keep what was said"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_sweep_runs_on_the_tracker_and_stops_on_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let g = group(-1, "g");
    let a = person(1, "a");
    // Dated long ago relative to the real clock (the task sweeps as of now).
    store
        .ingest(&[new_message(1, text(&g, Some(&a), 1, -400 * DAY, "old"))])
        .unwrap();
    let service = Arc::new(RetentionService::new(store.clone(), settings(30, 10)));
    let tracker = tokio_util::task::TaskTracker::new();
    let shutdown = tokio_util::sync::CancellationToken::new();
    tgbox::app::retention::spawn_with_first(
        &tracker,
        service.clone(),
        Duration::from_millis(10),
        Duration::from_secs(3600),
        shutdown.clone(),
    );
    let mut report = None;
    for _ in 0..500 {
        tokio::time::sleep(Duration::from_millis(10)).await;
        let s = service.clone();
        report = tokio::task::spawn_blocking(move || s.last_report().unwrap())
            .await
            .unwrap();
        if report.is_some() {
            break;
        }
    }
    let report = report.expect("the first sweep ran");
    assert_eq!(report.messages_removed, 1);
    assert_eq!(store.counts().unwrap().messages, 0);
    // The next sweep is an hour away: shutdown ends the task at once.
    shutdown.cancel();
    tracker.close();
    tokio::time::timeout(Duration::from_secs(5), tracker.wait())
        .await
        .expect("the sweep task stops on shutdown");
}

#[test]
fn storage_page_hooks_show_the_last_sweep_and_run_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let g = group(-1, "g");
    let a = person(1, "a");
    store
        .ingest(&[new_message(1, text(&g, Some(&a), 1, -400 * DAY, "old"))])
        .unwrap();
    let service = Arc::new(RetentionService::new(store.clone(), settings(30, 10)));
    let hooks = tgbox::app::retention::cleanup_hooks(service);
    assert!((hooks.last)().is_none(), "not run yet");
    (hooks.run_now.as_ref().expect("a button"))();
    let status = (hooks.last)().expect("a report");
    assert!(
        status
            .summary
            .starts_with("1 messages and 0 expired keys removed"),
        "{}",
        status.summary
    );
    assert!(
        status.summary.contains("kept 30 days"),
        "{}",
        status.summary
    );
    assert!(status.finished_at > 1_700_000_000);
    assert_eq!(store.counts().unwrap().messages, 0);
}
