//! Contract cases about the reads the dashboard pages use.

use super::fixtures::{group, new_message, person, text};
use super::must;
use crate::domain::{ChatId, MessageId, UserId};
use crate::store::Store;

pub fn members_of_chat_ascending(store: &dyn Store) {
    let (g, other) = (group(-10, "g"), group(-20, "o"));
    let users = [person(30, "c"), person(5, "a"), person(12, "b")];
    let mut updates = Vec::new();
    for (i, u) in users.iter().enumerate() {
        let n = i as u32 + 1;
        updates.push(new_message(n, text(&g, Some(u), n as i32, 0, "x")));
    }
    updates.push(new_message(
        9,
        text(&other, Some(&person(7, "z")), 1, 0, "x"),
    ));
    must(store.ingest(&updates), "ingest");
    let ids: Vec<u64> = must(store.members_of(ChatId(-10), 100), "members_of")
        .iter()
        .map(|m| m.user_id.0)
        .collect();
    assert_eq!(ids, vec![5, 12, 30]);
    let two = must(store.members_of(ChatId(-10), 2), "members_of");
    assert_eq!(two.len(), 2);
    assert!(
        two.iter()
            .all(|m| m.chat_id == ChatId(-10) && m.message_count == 1)
    );
    assert!(must(store.members_of(ChatId(-30), 10), "members_of").is_empty());
    assert_eq!(
        must(store.members_of(ChatId(-20), 10), "members_of")[0].user_id,
        UserId(7)
    );
}

pub fn recent_messages_newest_first(store: &dyn Store) {
    let (g, other) = (group(-10, "g"), group(-9, "o"));
    let a = person(1, "a");
    let mut updates = Vec::new();
    for (n, id) in [4, 1, 9, 2].into_iter().enumerate() {
        updates.push(new_message(n as u32 + 1, text(&g, Some(&a), id, 0, "x")));
    }
    updates.push(new_message(10, text(&other, Some(&a), 100, 0, "y")));
    must(store.ingest(&updates), "ingest");
    let ids: Vec<i32> = must(store.recent_messages(ChatId(-10), 3), "recent_messages")
        .iter()
        .map(|m| m.message_id.0)
        .collect();
    assert_eq!(ids, vec![9, 4, 2]);
    let other_ids: Vec<MessageId> = must(store.recent_messages(ChatId(-9), 10), "recent")
        .iter()
        .map(|m| m.message_id)
        .collect();
    assert_eq!(other_ids, vec![MessageId(100)]);
    assert!(must(store.recent_messages(ChatId(-1), 10), "recent").is_empty());
}
