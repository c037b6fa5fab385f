//! The store contract against `RedbStore` on real files, plus what only redb has: reopening,
//! locking, schema versions, damaged records, a full disk and crashes.

#[path = "store_redb/backends.rs"]
mod backends;
#[path = "store_redb/faults.rs"]
mod faults;

use std::any::Any;
use std::path::Path;
use std::sync::Arc;
use tgbox::domain::{BotIdentity, ChatId, MessageId, UpdateId, UserId};
use tgbox::store::contract::fixtures::{group, new_message, person, text};
use tgbox::store::redb::{RawKey, RedbOptions, RedbStore};
use tgbox::store::{
    ChatRepo, IngestSink, MessageRepo, MetaRepo, OpenError, OutboxRepo, SCHEMA_VERSION,
    SharedStore, StoreError, UserRepo,
};

pub fn options() -> RedbOptions {
    RedbOptions {
        cache_bytes: 4 * 1024 * 1024,
    }
}

fn fresh() -> (SharedStore, Box<dyn Any>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = RedbStore::open(dir.path(), &options()).expect("open store");
    (Arc::new(store), Box::new(dir))
}

mod contract {
    tgbox::store_contract_tests!(super::fresh);
}

#[test]
fn contract_run_all_entry_point() {
    tgbox::store::contract::run_all(&fresh);
}

#[test]
fn readers_run_while_batches_are_ingested() {
    let (store, _dir) = fresh();
    let g = group(-100, "g");
    let writer = {
        let store = store.clone();
        std::thread::spawn(move || {
            for n in 0..50_u32 {
                let m = text(&g, Some(&person(u64::from(n % 5), "u")), n as i32, 0, "x");
                store.ingest(&[new_message(n + 1, m)]).expect("ingest");
            }
        })
    };
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let store = store.clone();
            std::thread::spawn(move || {
                let mut last = 0;
                for _ in 0..200 {
                    let messages = store.counts().expect("counts").messages;
                    assert!(messages >= last, "a reader saw the count go back");
                    last = messages;
                    store.users_by_activity(10).expect("users_by_activity");
                }
            })
        })
        .collect();
    writer.join().expect("writer");
    for r in readers {
        r.join().expect("reader");
    }
    assert_eq!(store.counts().unwrap().messages, 50);
}

fn open(dir: &Path) -> RedbStore {
    RedbStore::open(dir, &options()).expect("open store")
}

fn some_batches(store: &RedbStore) {
    let g = group(-100, "g");
    let a = person(1, "A");
    store
        .ingest(&[
            new_message(10, text(&g, Some(&a), 1, 10, "one")),
            new_message(11, text(&g, Some(&a), 2, 20, "two")),
        ])
        .expect("ingest");
    store
        .ingest(&[new_message(
            12,
            text(&g, Some(&person(2, "B")), 3, 30, "three"),
        )])
        .expect("ingest");
}

#[test]
fn reopen_after_close_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    some_batches(&store);
    let bot = BotIdentity {
        bot_id: 7,
        username: "b".into(),
    };
    store.bind_bot(&bot, false).unwrap();
    let counts = store.counts().unwrap();
    let outbox = store.outbox_after(0, 100).unwrap();
    let users = store.users_by_activity(10).unwrap();
    let page = store.messages_page(None, None, 100).unwrap();
    store.close().unwrap();

    let store = open(dir.path());
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(store.counts().unwrap(), counts);
    assert_eq!(store.last_update_id().unwrap(), Some(UpdateId(12)));
    assert_eq!(store.bot_identity().unwrap(), Some(bot));
    assert_eq!(store.outbox_after(0, 100).unwrap(), outbox);
    assert_eq!(store.users_by_activity(10).unwrap(), users);
    assert_eq!(store.messages_page(None, None, 100).unwrap(), page);
    // Redeliveries are still recognised and the outbox sequence continues.
    let g = group(-100, "g");
    let outcome = store
        .ingest(&[
            new_message(12, text(&g, None, 3, 30, "three")),
            new_message(13, text(&g, None, 4, 40, "four")),
        ])
        .unwrap();
    assert_eq!(
        (outcome.duplicates, outcome.applied),
        (1, vec![UpdateId(13)])
    );
    let last_seq = outbox.last().map(|e| e.seq).unwrap();
    let after = store.outbox_after(last_seq, 100).unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].message_id, MessageId(4));
    // Dropping without close also leaves a store that opens with everything.
    drop(store);
    let store = open(dir.path());
    assert_eq!(store.counts().unwrap().messages, 4);
}

#[test]
fn open_creates_missing_directories() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("a/b/c");
    let store = open(&nested);
    assert!(nested.join(tgbox::store::redb::FILE_NAME).exists());
    store.close().unwrap();
}

#[test]
fn second_open_of_the_same_directory_is_locked() {
    let dir = tempfile::tempdir().unwrap();
    let first = open(dir.path());
    match RedbStore::open(dir.path(), &options()) {
        Err(e @ OpenError::Locked { .. }) => {
            let message = e.to_string();
            assert!(message.contains("tgbox.redb"), "{message}");
            assert!(message.contains("already running"), "{message}");
        }
        other => panic!("expected Locked, got {other:?}"),
    }
    first.close().unwrap();
    open(dir.path()).close().unwrap();
}

#[test]
fn newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    some_batches(&store);
    store
        .set_schema_version_for_test(SCHEMA_VERSION + 1)
        .unwrap();
    store.close().unwrap();
    match RedbStore::open(dir.path(), &options()) {
        Err(OpenError::SchemaTooNew {
            found, supported, ..
        }) => {
            assert_eq!((found, supported), (SCHEMA_VERSION + 1, SCHEMA_VERSION));
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
}

fn assert_corrupt<T: std::fmt::Debug>(result: Result<T, StoreError>, table: &str) {
    match result {
        Err(StoreError::Corrupt { table: t, detail }) => {
            assert_eq!(t, table, "{detail}");
        }
        other => panic!("expected Corrupt in {table}, got {other:?}"),
    }
}

#[test]
fn damaged_records_are_reported_not_panicked_on() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    some_batches(&store);
    let before = store.counts().unwrap();

    store
        .overwrite_raw_for_test(RawKey::User(UserId(1)), &[1, 0xff, 0xff, 0xff])
        .unwrap();
    store
        .overwrite_raw_for_test(RawKey::Message(ChatId(-100), MessageId(2)), &[200, 1, 2])
        .unwrap();
    store
        .overwrite_raw_for_test(RawKey::Chat(ChatId(-100)), &[])
        .unwrap();
    assert_corrupt(store.user(UserId(1)), "users");
    assert_corrupt(store.users_by_activity(10), "users");
    assert_corrupt(store.message(ChatId(-100), MessageId(2)), "messages");
    assert_corrupt(store.messages_page(None, None, 10), "messages");
    assert_corrupt(store.messages_by_user(UserId(1), 10), "messages");
    assert_corrupt(store.chat(ChatId(-100)), "chats");
    // Undamaged records still read.
    assert!(store.user(UserId(2)).unwrap().is_some());
    assert!(store.message(ChatId(-100), MessageId(1)).unwrap().is_some());

    // An ingest that has to read a damaged record fails as a whole: nothing partial.
    let g = group(-100, "g");
    let result = store.ingest(&[
        new_message(13, text(&g, Some(&person(3, "C")), 9, 50, "fine")),
        new_message(14, text(&g, Some(&person(1, "A")), 10, 60, "needs user 1")),
    ]);
    assert_corrupt(result, "chats");
    assert_eq!(store.counts().unwrap(), before);
    assert_eq!(store.last_update_id().unwrap(), Some(UpdateId(12)));
    assert!(store.user(UserId(3)).unwrap().is_none());

    // A damaged meta value too.
    store
        .overwrite_raw_for_test(RawKey::Meta("last_update_id".into()), &[1, 2, 3])
        .unwrap();
    assert_corrupt(store.last_update_id(), "meta");
    assert_corrupt(store.ingest(&[]), "meta");
}

#[test]
fn v1_store_migrates_with_the_username_index_backfilled() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let g = group(-100, "g");
    let with_name = |id: u64, username: &str| tgbox::domain::UserProfile {
        username: Some(username.to_string()),
        ..person(id, "U")
    };
    store
        .ingest(&[
            new_message(1, text(&g, Some(&with_name(1, "Alice")), 1, 10, "a")),
            // Sam renamed away later without being seen; Bob took "sam" and was active after.
            new_message(2, text(&g, Some(&with_name(2, "sam")), 2, 20, "b")),
            new_message(3, text(&g, Some(&person(4, "NoName")), 3, 25, "c")),
        ])
        .unwrap();
    store
        .ingest(&[new_message(
            4,
            text(&g, Some(&with_name(3, "SAM")), 4, 30, "d"),
        )])
        .unwrap();
    store.downgrade_to_v1_for_test().unwrap();
    assert_eq!(store.schema_version().unwrap(), 1);
    store.close().unwrap();

    let store = open(dir.path());
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let id = |name: &str| store.user_by_username(name).unwrap().map(|u| u.id.0);
    assert_eq!(id("alice"), Some(1));
    assert_eq!(id("@ALICE"), Some(1));
    assert_eq!(
        id("sam"),
        Some(3),
        "the user active last keeps a shared name"
    );
    assert_eq!(id("noname"), None);
    // Everything else is untouched by the migration.
    assert_eq!(store.counts().unwrap().messages, 4);
    assert_eq!(store.last_update_id().unwrap(), Some(UpdateId(4)));
}
