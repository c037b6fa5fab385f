//! Contract cases about what `ingest` writes.

use super::fixtures::{edit, group, new_message, person, text, ts};
use super::must;
use crate::domain::{
    ChatId, ChatKind, ChatProfile, MemberStatus, MessageId, MessageKind, UpdateId, UserId,
};
use crate::store::{SCHEMA_VERSION, Store, StoreCounts};

pub fn fresh_store_is_empty(store: &dyn Store) {
    assert_eq!(
        must(store.schema_version(), "schema_version"),
        SCHEMA_VERSION
    );
    assert_eq!(must(store.last_update_id(), "last_update_id"), None);
    assert_eq!(must(store.bot_identity(), "bot_identity"), None);
    assert_eq!(must(store.counts(), "counts"), StoreCounts::default());
    assert!(must(store.users_by_activity(10), "users_by_activity").is_empty());
    assert!(must(store.messages_page(None, None, 10), "messages_page").is_empty());
    assert!(must(store.outbox_after(0, 10), "outbox_after").is_empty());
    assert!(!store.backend_name().is_empty());
}

pub fn empty_batch_is_fine(store: &dyn Store) {
    let outcome = must(store.ingest(&[]), "ingest empty");
    assert!(outcome.applied.is_empty());
    assert_eq!(outcome.duplicates, 0);
    assert_eq!(outcome.last_update_id, None);
    let g = group(-100, "g");
    must(
        store.ingest(&[new_message(7, text(&g, None, 1, 0, "x"))]),
        "ingest",
    );
    let outcome = must(store.ingest(&[]), "ingest empty");
    assert_eq!(outcome.last_update_id, Some(UpdateId(7)));
    assert_eq!(
        must(store.last_update_id(), "last_update_id"),
        Some(UpdateId(7))
    );
}

pub fn insert_and_read_back(store: &dyn Store) {
    let chat = ChatProfile {
        id: ChatId(-1001234567890),
        kind: ChatKind::Supergroup,
        title: Some("Rustaceans".into()),
        username: Some("rust_group".into()),
        is_forum: true,
    };
    let mut alice = person(42, "Alice");
    alice.last_name = Some("Liddell".into());
    alice.username = Some("alice".into());
    alice.language_code = Some("en".into());
    let mut m = text(&chat, Some(&alice), 77, 10, "hello world");
    m.kind = MessageKind::Photo;
    m.reply_to = Some(MessageId(76));
    m.thread_id = Some(5);
    let outcome = must(store.ingest(&[new_message(1000, m)]), "ingest");
    assert_eq!(outcome.applied, vec![UpdateId(1000)]);
    assert_eq!(outcome.messages_inserted, 1);
    assert_eq!(outcome.messages_edited, 0);
    assert_eq!(outcome.last_update_id, Some(UpdateId(1000)));

    let stored = must(store.message(chat.id, MessageId(77)), "message").expect("message stored");
    assert_eq!(stored.chat_id, chat.id);
    assert_eq!(stored.message_id, MessageId(77));
    assert_eq!(stored.user_id, Some(UserId(42)));
    assert_eq!(stored.date, ts(10));
    assert_eq!(stored.edit_date, None);
    assert_eq!(stored.kind, MessageKind::Photo);
    assert_eq!(stored.text, "hello world");
    assert_eq!(stored.reply_to, Some(MessageId(76)));
    assert_eq!(stored.thread_id, Some(5));
    assert!(stored.seq >= 1, "seq starts at 1");
    assert_eq!(must(store.message(chat.id, MessageId(78)), "message"), None);

    let user = must(store.user(UserId(42)), "user").expect("user stored");
    assert!(!user.is_bot);
    assert_eq!(user.first_name, "Alice");
    assert_eq!(user.last_name.as_deref(), Some("Liddell"));
    assert_eq!(user.username.as_deref(), Some("alice"));
    assert_eq!(user.language_code.as_deref(), Some("en"));
    assert!(user.is_active);
    assert!(!user.blocked_bot);
    assert_eq!(user.created_at, ts(10));
    assert_eq!(user.last_activity_at, ts(10));
    assert_eq!(user.message_count, 1);

    let c = must(store.chat(chat.id), "chat").expect("chat stored");
    assert_eq!(c.kind, ChatKind::Supergroup);
    assert_eq!(c.title.as_deref(), Some("Rustaceans"));
    assert_eq!(c.username.as_deref(), Some("rust_group"));
    assert!(c.is_forum);
    assert_eq!(c.retention_days, None);
    assert_eq!(c.created_at, ts(10));
    assert_eq!(c.last_activity_at, ts(10));
    assert_eq!(c.message_count, 1);
    assert_eq!(must(store.chats(), "chats"), vec![c]);

    let member = must(store.member(chat.id, UserId(42)), "member").expect("member stored");
    assert_eq!(member.status, MemberStatus::Active);
    assert_eq!(member.first_seen, ts(10));
    assert_eq!(member.last_seen, ts(10));
    assert_eq!(member.message_count, 1);
    assert_eq!(
        must(store.chats_of_user(UserId(42)), "chats_of_user"),
        vec![chat.id]
    );
    assert_eq!(must(store.user(UserId(43)), "user"), None);
}

pub fn counters_and_last_activity(store: &dyn Store) {
    let g1 = group(-1, "one");
    let g2 = group(-2, "two");
    let a = person(1, "A");
    let b = person(2, "B");
    let mut service = text(&g1, Some(&a), 4, 30, "");
    service.kind = MessageKind::Service;
    // A posts three times in one batch (coalesced), once in g2, plus a service message.
    must(
        store.ingest(&[
            new_message(1, text(&g1, Some(&a), 1, 10, "a1")),
            new_message(2, text(&g1, Some(&a), 2, 20, "a2")),
            new_message(3, text(&g1, Some(&b), 3, 15, "b1")),
            new_message(4, text(&g2, Some(&a), 1, 25, "a3")),
            new_message(5, service),
            new_message(6, text(&g1, Some(&a), 5, 5, "older, delivered late")),
        ]),
        "ingest",
    );
    must(
        store.ingest(&[new_message(7, text(&g2, Some(&b), 2, 40, "b2"))]),
        "ingest",
    );

    let ua = must(store.user(UserId(1)), "user").expect("A");
    assert_eq!(ua.message_count, 4, "service messages do not count");
    assert_eq!(ua.created_at, ts(10), "created_at is the first time seen");
    assert_eq!(
        ua.last_activity_at,
        ts(30),
        "last activity never moves back"
    );
    let ub = must(store.user(UserId(2)), "user").expect("B");
    assert_eq!(
        (ub.message_count, ub.created_at, ub.last_activity_at),
        (2, ts(15), ts(40))
    );

    let c1 = must(store.chat(g1.id), "chat").expect("g1");
    assert_eq!(
        (c1.message_count, c1.created_at, c1.last_activity_at),
        (4, ts(10), ts(30))
    );
    let c2 = must(store.chat(g2.id), "chat").expect("g2");
    assert_eq!(
        (c2.message_count, c2.created_at, c2.last_activity_at),
        (2, ts(25), ts(40))
    );

    let m = must(store.member(g1.id, UserId(1)), "member").expect("A in g1");
    assert_eq!(
        (m.message_count, m.first_seen, m.last_seen),
        (3, ts(10), ts(30))
    );
    let m = must(store.member(g2.id, UserId(2)), "member").expect("B in g2");
    assert_eq!(
        (m.message_count, m.first_seen, m.last_seen),
        (1, ts(40), ts(40))
    );
    assert_eq!(must(store.counts(), "counts").members, 4);
}

pub fn users_by_activity_order_without_stale_rows(store: &dyn Store) {
    let g = group(-7, "g");
    let users: Vec<_> = (1..=4).map(|i| person(i, &format!("u{i}"))).collect();
    let ids = |list: Vec<crate::domain::User>| list.into_iter().map(|u| u.id.0).collect::<Vec<_>>();
    must(
        store.ingest(&[
            new_message(1, text(&g, Some(&users[0]), 1, 10, "x")),
            new_message(2, text(&g, Some(&users[1]), 2, 20, "x")),
            new_message(3, text(&g, Some(&users[2]), 3, 30, "x")),
            new_message(4, text(&g, Some(&users[3]), 4, 40, "x")),
        ]),
        "ingest",
    );
    assert_eq!(
        ids(must(store.users_by_activity(10), "by activity")),
        vec![4, 3, 2, 1]
    );
    // User 1 posts again (later batch), user 2 posts several times in one batch.
    must(
        store.ingest(&[
            new_message(5, text(&g, Some(&users[1]), 5, 45, "x")),
            new_message(6, text(&g, Some(&users[0]), 6, 50, "x")),
            new_message(7, text(&g, Some(&users[1]), 7, 60, "x")),
            new_message(8, text(&g, Some(&users[1]), 8, 55, "x")),
        ]),
        "ingest",
    );
    assert_eq!(
        ids(must(store.users_by_activity(10), "by activity")),
        vec![2, 1, 4, 3]
    );
    assert_eq!(
        ids(must(store.users_by_activity(2), "by activity")),
        vec![2, 1]
    );
    assert!(must(store.users_by_activity(0), "by activity").is_empty());
    // An older message must not move anyone back.
    must(
        store.ingest(&[new_message(9, text(&g, Some(&users[3]), 9, 1, "x"))]),
        "ingest",
    );
    assert_eq!(
        ids(must(store.users_by_activity(10), "by activity")),
        vec![2, 1, 4, 3]
    );
}

pub fn edit_replaces_text_and_does_not_count(store: &dyn Store) {
    let g = group(-9, "g");
    let a = person(1, "A");
    let mut original = text(&g, Some(&a), 10, 100, "first version");
    original.reply_to = Some(MessageId(3));
    must(store.ingest(&[new_message(1, original.clone())]), "ingest");
    let before = must(store.message(g.id, MessageId(10)), "message").expect("stored");

    let mut changed = original.clone();
    changed.text = "second version".into();
    changed.kind = MessageKind::Document;
    changed.edit_date = Some(ts(200));
    changed.reply_to = None;
    let outcome = must(store.ingest(&[edit(2, changed)]), "ingest edit");
    assert_eq!((outcome.messages_inserted, outcome.messages_edited), (0, 1));
    assert_eq!(outcome.applied, vec![UpdateId(2)]);

    let after = must(store.message(g.id, MessageId(10)), "message").expect("stored");
    assert_eq!(after.text, "second version");
    assert_eq!(after.kind, MessageKind::Document);
    assert_eq!(after.edit_date, Some(ts(200)));
    assert_eq!(after.date, ts(100), "date kept");
    assert_eq!(after.user_id, Some(UserId(1)), "author kept");
    assert_eq!(after.reply_to, Some(MessageId(3)), "reply_to kept");
    assert!(after.seq > before.seq, "an edit gets a new outbox seq");
    assert_eq!(
        must(store.user(UserId(1)), "user")
            .expect("A")
            .message_count,
        1
    );
    assert_eq!(must(store.chat(g.id), "chat").expect("g").message_count, 1);
    assert_eq!(
        must(store.member(g.id, UserId(1)), "member")
            .expect("m")
            .message_count,
        1
    );
    assert_eq!(must(store.counts(), "counts").messages, 1);
    assert_eq!(
        must(store.messages_by_user(UserId(1), 10), "by user").len(),
        1
    );
}

pub fn edit_of_unknown_message_inserts(store: &dyn Store) {
    let g = group(-9, "g");
    let a = person(1, "A");
    let mut m = text(&g, Some(&a), 10, 100, "edited before we saw it");
    m.edit_date = Some(ts(150));
    let outcome = must(store.ingest(&[edit(1, m)]), "ingest edit");
    assert_eq!((outcome.messages_inserted, outcome.messages_edited), (1, 0));
    let stored = must(store.message(g.id, MessageId(10)), "message").expect("inserted");
    assert_eq!(stored.text, "edited before we saw it");
    assert_eq!((stored.date, stored.edit_date), (ts(100), Some(ts(150))));
    assert_eq!(
        must(store.user(UserId(1)), "user")
            .expect("A")
            .message_count,
        1
    );
    assert_eq!(must(store.chat(g.id), "chat").expect("g").message_count, 1);
    assert_eq!(
        must(store.member(g.id, UserId(1)), "member")
            .expect("m")
            .message_count,
        1
    );
}

pub fn redelivered_updates_are_skipped(store: &dyn Store) {
    let g = group(-3, "g");
    let a = person(1, "A");
    let m = |u: u32, id: i32| new_message(u, text(&g, Some(&a), id, i64::from(id), "x"));
    let first = must(store.ingest(&[m(100, 1), m(101, 2), m(102, 3)]), "ingest");
    assert_eq!(
        first.applied,
        vec![UpdateId(100), UpdateId(101), UpdateId(102)]
    );
    assert_eq!(first.duplicates, 0);
    // Telegram redelivers 101 and 102 (offset not confirmed) together with a new one.
    let second = must(
        store.ingest(&[m(101, 2), m(102, 3), m(103, 4)]),
        "ingest again",
    );
    assert_eq!(second.applied, vec![UpdateId(103)]);
    assert_eq!(second.duplicates, 2);
    assert_eq!(second.messages_inserted, 1);
    assert_eq!(second.last_update_id, Some(UpdateId(103)));
    // The same update twice inside one batch.
    let third = must(store.ingest(&[m(104, 5), m(104, 5)]), "ingest twice");
    assert_eq!((third.applied, third.duplicates), (vec![UpdateId(104)], 1));
    // A batch of nothing but redeliveries changes nothing.
    let fourth = must(store.ingest(&[m(100, 1)]), "ingest old");
    assert!(fourth.applied.is_empty());
    assert_eq!(fourth.last_update_id, Some(UpdateId(104)));
    assert_eq!(
        must(store.last_update_id(), "last_update_id"),
        Some(UpdateId(104))
    );
    assert_eq!(
        must(store.user(UserId(1)), "user")
            .expect("A")
            .message_count,
        5
    );
    assert_eq!(must(store.counts(), "counts").messages, 5);
    assert_eq!(must(store.outbox_after(0, 100), "outbox").len(), 5);
}

/// An id far below the last one (Telegram restarted its sequence) is new, and becomes the
/// reference for spotting later redeliveries.
pub fn redelivery_window(store: &dyn Store) {
    let g = group(-3, "g");
    let m = |u: u32, id: i32| new_message(u, text(&g, None, id, 0, "x"));
    let high = 5_000_000;
    must(store.ingest(&[m(high, 1)]), "ingest");
    let within = high - 1000;
    let far_below = 10;
    let outcome = must(store.ingest(&[m(within, 2), m(far_below, 3)]), "ingest");
    assert_eq!(
        outcome.duplicates, 1,
        "an id just below the last is a redelivery"
    );
    assert_eq!(outcome.applied, vec![UpdateId(far_below)]);
    assert_eq!(outcome.last_update_id, Some(UpdateId(far_below)));
    assert_eq!(
        must(store.last_update_id(), "last_update_id"),
        Some(UpdateId(far_below))
    );
    let again = must(
        store.ingest(&[m(far_below, 3), m(far_below + 1, 4)]),
        "ingest",
    );
    assert_eq!(
        (again.applied, again.duplicates),
        (vec![UpdateId(far_below + 1)], 1)
    );
    assert_eq!(must(store.counts(), "counts").messages, 3);
}

pub fn natural_key_duplicate_not_double_counted(store: &dyn Store) {
    let g = group(-3, "g");
    let a = person(1, "A");
    must(
        store.ingest(&[new_message(1, text(&g, Some(&a), 5, 10, "once"))]),
        "ingest",
    );
    let outcome = must(
        store.ingest(&[new_message(2, text(&g, Some(&a), 5, 10, "once, again"))]),
        "ingest duplicate",
    );
    assert_eq!(outcome.applied, vec![UpdateId(2)]);
    assert_eq!(outcome.messages_inserted, 0);
    let stored = must(store.message(g.id, MessageId(5)), "message").expect("stored");
    assert_eq!(stored.text, "once, again");
    assert_eq!(
        must(store.user(UserId(1)), "user")
            .expect("A")
            .message_count,
        1
    );
    assert_eq!(must(store.chat(g.id), "chat").expect("g").message_count, 1);
    assert_eq!(
        must(store.member(g.id, UserId(1)), "member")
            .expect("m")
            .message_count,
        1
    );
    assert_eq!(must(store.counts(), "counts").messages, 1);
    assert_eq!(
        must(store.messages_by_user(UserId(1), 10), "by user").len(),
        1
    );
    assert_eq!(
        must(store.messages_older_than(ts(1000), 10), "older").len(),
        1
    );
}
