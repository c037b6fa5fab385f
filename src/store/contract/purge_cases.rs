//! Contract cases of settings and of removing messages (retention, `/forget`).

use super::fixtures::{group, new_message, person, text, ts};
use super::must;
use crate::domain::{ChatId, LanguagePref, MessageId, OutboxOp, UserId, UserSettings};
use crate::store::Store;

pub fn settings_roundtrip_and_announcement_index(store: &dyn Store) {
    assert_eq!(must(store.user_settings(UserId(1)), "get"), None);
    let fa_muted = UserSettings {
        language: LanguagePref::Persian,
        announcements: false,
    };
    must(store.set_user_settings(UserId(7), &fa_muted), "set");
    must(store.set_user_settings(UserId(3), &fa_muted), "set");
    must(
        store.set_user_settings(UserId(5), &UserSettings::default()),
        "set",
    );
    assert_eq!(must(store.user_settings(UserId(7)), "get"), Some(fa_muted));
    assert_eq!(
        must(store.users_without_announcements(), "muted"),
        vec![UserId(3), UserId(7)]
    );
    // Turning announcements back on leaves the index.
    let en = UserSettings {
        language: LanguagePref::English,
        announcements: true,
    };
    must(store.set_user_settings(UserId(3), &en), "set");
    assert_eq!(must(store.user_settings(UserId(3)), "get"), Some(en));
    assert_eq!(
        must(store.users_without_announcements(), "muted"),
        vec![UserId(7)]
    );
    assert!(must(store.delete_user_settings(UserId(7)), "delete"));
    assert!(!must(store.delete_user_settings(UserId(7)), "delete again"));
    assert_eq!(must(store.user_settings(UserId(7)), "get"), None);
    assert!(must(store.users_without_announcements(), "muted").is_empty());
}

pub fn delete_messages_removes_rows_and_index_rows(store: &dyn Store) {
    let (g, h) = (group(-1, "g"), group(-2, "h"));
    let (a, b) = (person(1, "a"), person(2, "b"));
    let updates = vec![
        new_message(1, text(&g, Some(&a), 1, 10, "one")),
        new_message(2, text(&g, Some(&b), 2, 20, "two")),
        new_message(3, text(&h, Some(&a), 1, 30, "three")),
        new_message(4, text(&g, Some(&a), 3, 40, "four")),
    ];
    must(store.ingest(&updates), "ingest");
    let head = must(store.outbox_head(), "head");
    let removed = must(
        store.delete_messages(&[
            (ChatId(-1), MessageId(1)),
            (ChatId(-2), MessageId(1)),
            (ChatId(-9), MessageId(9)), // unknown: ignored
        ]),
        "delete",
    );
    assert_eq!(removed, 2);
    assert!(must(store.message(ChatId(-1), MessageId(1)), "get").is_none());
    assert!(must(store.message(ChatId(-2), MessageId(1)), "get").is_none());
    assert!(must(store.message(ChatId(-1), MessageId(2)), "get").is_some());
    // No index row points at a removed message.
    let by_a: Vec<(ChatId, MessageId)> = must(store.messages_by_user(UserId(1), 10), "by user")
        .iter()
        .map(|m| (m.chat_id, m.message_id))
        .collect();
    assert_eq!(by_a, vec![(ChatId(-1), MessageId(3))]);
    let old = must(store.messages_older_than(ts(100), 10), "older");
    assert_eq!(
        old,
        vec![(ChatId(-1), MessageId(2)), (ChatId(-1), MessageId(3))]
    );
    assert_eq!(must(store.counts(), "counts").messages, 2);
    // Counters stay: they count what was said.
    let user_a = must(store.user(UserId(1)), "user").map(|u| u.message_count);
    assert_eq!(user_a, Some(3));
    assert_eq!(
        must(store.chat(ChatId(-1)), "chat").map(|c| c.message_count),
        Some(3)
    );
    // The search index is told, in order, after everything before.
    let entries = must(store.outbox_after(head, 10), "outbox");
    let deletes: Vec<(ChatId, MessageId, OutboxOp)> = entries
        .iter()
        .map(|e| (e.chat_id, e.message_id, e.op))
        .collect();
    assert_eq!(
        deletes,
        vec![
            (ChatId(-1), MessageId(1), OutboxOp::Delete),
            (ChatId(-2), MessageId(1), OutboxOp::Delete)
        ]
    );
    assert_eq!(must(store.outbox_head(), "head"), head + 2);
    assert_eq!(must(store.delete_messages(&[]), "delete nothing"), 0);
    // Deleting again is a no-op and queues nothing.
    assert_eq!(
        must(
            store.delete_messages(&[(ChatId(-1), MessageId(1))]),
            "delete"
        ),
        0
    );
    assert_eq!(must(store.outbox_head(), "head"), head + 2);
}
