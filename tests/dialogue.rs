//! The dialogue storage (teloxide's `Storage` over the key-value table) on a real redb file:
//! round trip, expiry after the TTL on an explicit clock, survival across a reopen, and what
//! happens to a state that no longer decodes.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use teloxide::dispatching::dialogue::Storage;
use teloxide::types::ChatId;
use tgbox::bot::dialogue::{BotDialogue, Clock, KvDialogueStorage};
use tgbox::store::redb::{RedbOptions, RedbStore};
use tgbox::store::{KvTtl, SharedStore};

const T0: i64 = 1_700_000_000_000;
const TTL: Duration = Duration::from_secs(30 * 60);

fn open(dir: &std::path::Path) -> SharedStore {
    let options = RedbOptions {
        cache_bytes: 4 * 1024 * 1024,
    };
    Arc::new(RedbStore::open(dir, &options).expect("open store"))
}

fn clock() -> (Arc<AtomicI64>, Clock) {
    let now = Arc::new(AtomicI64::new(T0));
    let read = now.clone();
    (now, Arc::new(move || read.load(Ordering::SeqCst)))
}

fn confirm(user: u64) -> BotDialogue {
    BotDialogue::ForgetConfirm {
        user,
        prompt: Some(7),
    }
}

async fn get(s: &Arc<KvDialogueStorage>, chat: i64) -> Option<BotDialogue> {
    Storage::<BotDialogue>::get_dialogue(s.clone(), ChatId(chat))
        .await
        .expect("get")
}

#[tokio::test]
async fn dialogues_round_trip_expire_and_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (now, clock) = clock();
    let store = open(dir.path());
    let storage = KvDialogueStorage::with_clock(store.clone(), TTL, clock.clone());

    assert_eq!(get(&storage, 42).await, None);
    storage
        .clone()
        .update_dialogue(ChatId(42), confirm(42))
        .await
        .unwrap();
    storage
        .clone()
        .update_dialogue(ChatId(-100), confirm(1))
        .await
        .unwrap();
    assert_eq!(get(&storage, 42).await, Some(confirm(42)));
    // One key per chat, with the TTL.
    assert_eq!(
        store.kv_ttl("dialogue:42", T0).unwrap(),
        KvTtl::ExpiresIn(TTL)
    );

    // Reopen the store (a restart): the dialogue is still there.
    drop(storage);
    drop(store);
    let store = open(dir.path());
    let storage = KvDialogueStorage::with_clock(store.clone(), TTL, clock.clone());
    assert_eq!(get(&storage, 42).await, Some(confirm(42)));

    // An update renews the TTL.
    now.store(T0 + 20 * 60_000, Ordering::SeqCst);
    storage
        .clone()
        .update_dialogue(ChatId(42), confirm(42))
        .await
        .unwrap();

    // Just before its TTL a dialogue is there; at its TTL it is gone.
    now.store(T0 + TTL.as_millis() as i64 - 1, Ordering::SeqCst);
    assert_eq!(get(&storage, -100).await, Some(confirm(1)));
    now.store(T0 + TTL.as_millis() as i64, Ordering::SeqCst);
    assert_eq!(get(&storage, -100).await, None, "expired at its TTL");
    assert_eq!(get(&storage, 42).await, Some(confirm(42)), "renewed");

    // Removing ends it; removing again is fine.
    Storage::<BotDialogue>::remove_dialogue(storage.clone(), ChatId(42))
        .await
        .unwrap();
    Storage::<BotDialogue>::remove_dialogue(storage.clone(), ChatId(42))
        .await
        .unwrap();
    assert_eq!(get(&storage, 42).await, None);
}

#[tokio::test]
async fn a_state_that_does_not_decode_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let (_, clock) = clock();
    let store = open(dir.path());
    let storage = KvDialogueStorage::with_clock(store.clone(), TTL, clock);
    store
        .kv_set(
            "dialogue:5",
            b"{\"state\":\"from_a_newer_version\"}",
            None,
            T0,
        )
        .unwrap();
    assert_eq!(get(&storage, 5).await, None);
    assert_eq!(store.kv_get("dialogue:5", T0).unwrap(), None, "removed");
    store.kv_set("dialogue:5", b"\xff\x00", None, T0).unwrap();
    assert_eq!(get(&storage, 5).await, None);
}

#[tokio::test]
async fn any_serde_type_can_be_a_dialogue() {
    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    enum Quiz {
        Asked { question: u32, answers: Vec<String> },
    }
    let dir = tempfile::tempdir().unwrap();
    let (_, clock) = clock();
    let storage = KvDialogueStorage::with_clock(open(dir.path()), TTL, clock);
    let state = Quiz::Asked {
        question: 3,
        answers: vec!["سلام".into(), "\u{0}".into()],
    };
    storage
        .clone()
        .update_dialogue(ChatId(9), state)
        .await
        .unwrap();
    let back: Option<Quiz> = storage.clone().get_dialogue(ChatId(9)).await.unwrap();
    assert_eq!(
        back,
        Some(Quiz::Asked {
            question: 3,
            answers: vec!["سلام".into(), "\u{0}".into()],
        })
    );
    // The type-erased form teloxide's handlers use works too.
    let erased = Storage::<Quiz>::erase(storage);
    assert!(erased.get_dialogue(ChatId(10)).await.unwrap().is_none());
}
