//! Contract cases of per-chat retention overrides.

use super::fixtures::{group, new_message, person, text};
use super::must;
use crate::domain::ChatId;
use crate::store::Store;

pub fn chat_retention_override_survives_ingest(store: &dyn Store) {
    let (g, h) = (group(-1, "g"), group(-2, "h"));
    let a = person(1, "a");
    must(
        store.ingest(&[
            new_message(1, text(&g, Some(&a), 1, 10, "one")),
            new_message(2, text(&h, Some(&a), 1, 20, "two")),
        ]),
        "ingest",
    );
    assert!(must(store.chat_retention_overrides(), "list").is_empty());
    assert!(must(store.set_chat_retention(ChatId(-2), Some(7)), "set"));
    assert!(must(store.set_chat_retention(ChatId(-1), Some(0)), "set"));
    assert!(
        !must(store.set_chat_retention(ChatId(-9), Some(3)), "unknown"),
        "an unknown chat is not created"
    );
    assert_eq!(must(store.chat(ChatId(-9)), "chat"), None);
    assert_eq!(
        must(store.chat_retention_overrides(), "list"),
        vec![(ChatId(-2), 7), (ChatId(-1), 0)]
    );
    // Ingest rewrites the chat row (title, activity, counters) and keeps the override.
    must(
        store.ingest(&[new_message(3, text(&h, Some(&a), 2, 30, "three"))]),
        "ingest",
    );
    let chat = must(store.chat(ChatId(-2)), "chat").expect("chat");
    assert_eq!(chat.retention_days, Some(7));
    assert_eq!(chat.message_count, 2);
    assert!(must(store.set_chat_retention(ChatId(-2), None), "clear"));
    assert_eq!(
        must(store.chat_retention_overrides(), "list"),
        vec![(ChatId(-1), 0)]
    );
}

pub fn messages_by_time_cursor_steps_past_kept_rows(store: &dyn Store) {
    use super::fixtures::ts;
    use crate::domain::{MessageId, Timestamp};
    let (g, h) = (group(-1, "g"), group(-2, "h"));
    let a = person(1, "a");
    must(
        store.ingest(&[
            new_message(1, text(&g, Some(&a), 1, 10, "one")),
            new_message(2, text(&h, Some(&a), 1, 20, "two")),
            new_message(3, text(&g, Some(&a), 2, 20, "three")),
            new_message(4, text(&g, Some(&a), 3, 40, "four")),
        ]),
        "ingest",
    );
    let first = must(store.messages_by_time_after(ts(40), None, 2), "page");
    assert_eq!(
        first,
        vec![
            (ts(10), ChatId(-1), MessageId(1)),
            (ts(20), ChatId(-2), MessageId(1)),
        ]
    );
    let rest = must(
        store.messages_by_time_after(ts(40), first.last().copied(), 10),
        "page",
    );
    assert_eq!(rest, vec![(ts(20), ChatId(-1), MessageId(2))]);
    assert!(
        must(
            store.messages_by_time_after(ts(40), rest.last().copied(), 10),
            "end"
        )
        .is_empty()
    );
    assert!(must(store.messages_by_time_after(Timestamp(0), None, 10), "none").is_empty());
}
