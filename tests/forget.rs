//! The forget service on a real redb store: a user's messages (with outbox deletes for the
//! search index, in pages), their key-value keys and rows go; other users' data and keys stay.

use std::sync::Arc;
use tgbox::domain::{ChatId, OutboxOp, UserId};
use tgbox::service::ForgetService;
use tgbox::store::contract::fixtures::{group, new_message, person, text};
use tgbox::store::redb::{RedbOptions, RedbStore};
use tgbox::store::{ForgottenUser, SharedStore};

const NOW: i64 = 1_700_000_000_000;

#[test]
fn forget_removes_messages_in_pages_keys_and_rows() {
    let dir = tempfile::tempdir().unwrap();
    let store: SharedStore = Arc::new(
        RedbStore::open(
            dir.path(),
            &RedbOptions {
                cache_bytes: 4 * 1024 * 1024,
            },
        )
        .unwrap(),
    );
    let g = group(-100, "g");
    let (a, b) = (person(1, "a"), person(12, "b"));
    // More messages than one page, so the service has to loop.
    let n = tgbox::service::forget::PAGE as i32 + 7;
    let mut updates = Vec::new();
    for i in 0..n {
        updates.push(new_message(
            i as u32 + 1,
            text(&g, Some(&a), i + 1, i as i64, "mine"),
        ));
    }
    updates.push(new_message(
        n as u32 + 1,
        text(&g, Some(&b), n + 1, 0, "theirs"),
    ));
    store.ingest(&updates).unwrap();
    let head = store.outbox_head().unwrap();
    for key in [
        "user:1:rate:search",
        "user:1:x",
        "dialogue:1",
        "user:12:x",
        "dialogue:-100",
    ] {
        store.kv_set(key, b"1", None, NOW).unwrap();
    }

    let service = ForgetService::new(store.clone());
    let preview = service.preview(UserId(1)).unwrap();
    assert_eq!(
        (preview.messages, preview.more, preview.chats),
        (n as u64, false, 1)
    );
    let report = service.forget(UserId(1), NOW).unwrap();
    assert_eq!(report.messages, n as u64);
    assert_eq!(report.keys, 3);
    assert_eq!(report.memberships, 1);
    assert!(report.user_row);

    assert!(store.messages_by_user(UserId(1), 10).unwrap().is_empty());
    assert!(store.user(UserId(1)).unwrap().is_none());
    // Every removed message is queued for removal from the search index.
    let deletes = store
        .outbox_after(head, 10_000)
        .unwrap()
        .into_iter()
        .filter(|e| e.op == OutboxOp::Delete && e.chat_id == ChatId(-100))
        .count();
    assert_eq!(deletes, n as usize);
    // Other keys and users stay.
    let left: Vec<String> = store
        .kv_scan_prefix("", NOW, 100)
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(left, ["dialogue:-100", "user:12:x"]);
    assert_eq!(store.messages_by_user(UserId(12), 10).unwrap().len(), 1);
    assert!(store.member(ChatId(-100), UserId(12)).unwrap().is_some());
    // Running it again finds nothing more.
    let again = service.forget(UserId(1), NOW).unwrap();
    assert_eq!((again.messages, again.keys), (0, 0));
    assert_eq!(
        store.forget_user(UserId(1)).unwrap(),
        ForgottenUser::default()
    );
}
