//! Contract cases about the read side, the outbox and the metadata.

use super::fixtures::{edit, group, new_message, person, text, ts, update};
use super::must;
use crate::domain::{
    BotIdentity, ChatId, MessageId, OutboxOp, StoredMessage, UpdateContent, UserId,
};
use crate::store::{Store, StoreCounts, StoreError};

fn keys(messages: &[StoredMessage]) -> Vec<(i64, i32)> {
    messages
        .iter()
        .map(|m| (m.chat_id.0, m.message_id.0))
        .collect()
}

pub fn messages_page_by_chat_and_all(store: &dyn Store) {
    let chats = [group(-300, "c"), group(-200, "b"), group(100, "a")];
    let mut updates = Vec::new();
    let mut n = 0;
    for chat in &chats {
        for id in [3, 1, 2, 10] {
            n += 1;
            updates.push(new_message(n, text(chat, None, id, i64::from(n), "x")));
        }
    }
    must(store.ingest(&updates), "ingest");
    let mut expected = Vec::new();
    for chat in [-300, -200, 100] {
        for id in [1, 2, 3, 10] {
            expected.push((chat, id));
        }
    }
    // All chats, in pages of 3.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = must(store.messages_page(None, after, 3), "messages_page");
        assert!(page.len() <= 3);
        if page.is_empty() {
            break;
        }
        after = page.last().map(|m| (m.chat_id, m.message_id));
        seen.extend(keys(&page));
    }
    assert_eq!(seen, expected);
    // One chat, in pages of 3.
    let first = must(store.messages_page(Some(ChatId(-200)), None, 3), "page");
    assert_eq!(keys(&first), vec![(-200, 1), (-200, 2), (-200, 3)]);
    let rest = must(
        store.messages_page(Some(ChatId(-200)), Some((ChatId(-200), MessageId(3))), 3),
        "page",
    );
    assert_eq!(keys(&rest), vec![(-200, 10)]);
    let none = must(
        store.messages_page(Some(ChatId(-200)), Some((ChatId(-200), MessageId(10))), 3),
        "page",
    );
    assert!(none.is_empty());
    // A cursor from another chat: before it starts the chat, after it ends it.
    let from_before = must(
        store.messages_page(Some(ChatId(-200)), Some((ChatId(-300), MessageId(2))), 2),
        "page",
    );
    assert_eq!(keys(&from_before), vec![(-200, 1), (-200, 2)]);
    let from_after = must(
        store.messages_page(Some(ChatId(-200)), Some((ChatId(100), MessageId(1))), 2),
        "page",
    );
    assert!(from_after.is_empty());
    assert!(must(store.messages_page(Some(ChatId(7)), None, 10), "page").is_empty());
    assert!(must(store.messages_page(None, None, 0), "page").is_empty());
    // Extreme ids do not break the bounds.
    let edge = group(i64::MAX, "edge");
    must(
        store.ingest(&[
            new_message(100, text(&edge, None, i32::MAX, 0, "x")),
            new_message(101, text(&edge, None, i32::MIN, 0, "x")),
        ]),
        "ingest",
    );
    let page = must(
        store.messages_page(Some(ChatId(i64::MAX)), None, 10),
        "page",
    );
    assert_eq!(
        keys(&page),
        vec![(i64::MAX, i32::MIN), (i64::MAX, i32::MAX)]
    );
}

pub fn messages_by_user_newest_first(store: &dyn Store) {
    let (g1, g2) = (group(-1, "one"), group(-2, "two"));
    let (a, b) = (person(1, "A"), person(2, "B"));
    must(
        store.ingest(&[
            new_message(1, text(&g1, Some(&a), 1, 10, "a@10")),
            new_message(2, text(&g2, Some(&a), 1, 30, "a@30")),
            new_message(3, text(&g1, Some(&b), 2, 40, "b@40")),
            new_message(4, text(&g1, Some(&a), 3, 20, "a@20")),
            new_message(5, text(&g2, Some(&a), 2, 50, "a@50")),
        ]),
        "ingest",
    );
    let texts = |list: Vec<StoredMessage>| list.into_iter().map(|m| m.text).collect::<Vec<_>>();
    assert_eq!(
        texts(must(store.messages_by_user(UserId(1), 10), "by user")),
        vec!["a@50", "a@30", "a@20", "a@10"]
    );
    assert_eq!(
        texts(must(store.messages_by_user(UserId(1), 2), "by user")),
        vec!["a@50", "a@30"]
    );
    assert_eq!(
        texts(must(store.messages_by_user(UserId(2), 10), "by user")),
        vec!["b@40"]
    );
    assert!(must(store.messages_by_user(UserId(3), 10), "by user").is_empty());
    // An edit does not move the message in the list nor duplicate it.
    let mut changed = text(&g1, Some(&a), 1, 10, "a@10 edited");
    changed.edit_date = Some(ts(60));
    must(store.ingest(&[edit(6, changed)]), "ingest edit");
    assert_eq!(
        texts(must(store.messages_by_user(UserId(1), 10), "by user")),
        vec!["a@50", "a@30", "a@20", "a@10 edited"]
    );
}

pub fn messages_older_than_oldest_first(store: &dyn Store) {
    let (g1, g2) = (group(-1, "one"), group(-2, "two"));
    must(
        store.ingest(&[
            new_message(1, text(&g1, None, 1, 30, "x")),
            new_message(2, text(&g2, None, 1, 10, "x")),
            new_message(3, text(&g1, None, 2, 20, "x")),
            new_message(4, text(&g2, None, 2, 40, "x")),
            new_message(5, text(&g1, None, 3, 20, "x")),
        ]),
        "ingest",
    );
    let k = |c: i64, m: i32| (ChatId(c), MessageId(m));
    assert_eq!(
        must(store.messages_older_than(ts(30), 10), "older"),
        vec![k(-2, 1), k(-1, 2), k(-1, 3)],
        "strictly before, by date then key"
    );
    assert_eq!(
        must(store.messages_older_than(ts(30), 1), "older"),
        vec![k(-2, 1)]
    );
    assert!(must(store.messages_older_than(ts(10), 10), "older").is_empty());
    assert_eq!(
        must(store.messages_older_than(ts(1000), 10), "older").len(),
        5
    );
    let extreme = crate::domain::Timestamp(i64::MIN);
    assert!(must(store.messages_older_than(extreme, 10), "older").is_empty());
    let extreme = crate::domain::Timestamp(i64::MAX);
    assert_eq!(
        must(store.messages_older_than(extreme, 10), "older").len(),
        5
    );
    assert!(must(store.messages_older_than(ts(1000), 0), "older").is_empty());
}

pub fn chats_of_user_ascending(store: &dyn Store) {
    let a = person(1, "A");
    let updates: Vec<_> = [50_i64, -100, 7, -5]
        .iter()
        .enumerate()
        .map(|(i, c)| new_message(i as u32 + 1, text(&group(*c, "g"), Some(&a), 1, 0, "x")))
        .collect();
    must(store.ingest(&updates), "ingest");
    let chats: Vec<i64> = must(store.chats_of_user(UserId(1)), "chats_of_user")
        .into_iter()
        .map(|c| c.0)
        .collect();
    assert_eq!(chats, vec![-100, -5, 7, 50]);
    assert!(must(store.chats_of_user(UserId(2)), "chats_of_user").is_empty());
    let all: Vec<i64> = must(store.chats(), "chats")
        .into_iter()
        .map(|c| c.id.0)
        .collect();
    assert_eq!(all, vec![-100, -5, 7, 50]);
}

pub fn outbox_sequence_and_prune(store: &dyn Store) {
    let g = group(-1, "g");
    must(
        store.ingest(&[
            new_message(1, text(&g, None, 1, 0, "one")),
            new_message(2, text(&g, None, 2, 0, "two")),
        ]),
        "ingest",
    );
    let mut changed = text(&g, None, 1, 0, "one edited");
    changed.edit_date = Some(ts(5));
    must(
        store.ingest(&[
            edit(3, changed),
            new_message(4, text(&g, None, 3, 0, "three")),
        ]),
        "ingest",
    );
    let entries = must(store.outbox_after(0, 100), "outbox");
    let targets: Vec<i32> = entries.iter().map(|e| e.message_id.0).collect();
    assert_eq!(
        targets,
        vec![1, 2, 1, 3],
        "one entry per write, in commit order"
    );
    assert!(
        entries
            .iter()
            .all(|e| e.op == OutboxOp::Upsert && e.chat_id == g.id)
    );
    assert!(
        entries.windows(2).all(|w| w[0].seq < w[1].seq),
        "seq strictly increasing"
    );
    let seq_of = |id: i32| must(store.message(g.id, MessageId(id)), "message").map(|m| m.seq);
    assert_eq!(
        seq_of(1),
        Some(entries[2].seq),
        "a row carries the seq of its last write"
    );
    assert_eq!(seq_of(3), Some(entries[3].seq));

    let tail = must(store.outbox_after(entries[1].seq, 100), "outbox");
    assert_eq!(tail, entries[2..].to_vec());
    assert_eq!(
        must(store.outbox_after(entries[0].seq, 1), "outbox"),
        vec![entries[1]]
    );
    assert_eq!(must(store.counts(), "counts").outbox_pending, 4);
    assert!(must(store.outbox_after(u64::MAX, 10), "outbox").is_empty());
    assert!(must(store.outbox_after(0, 0), "outbox").is_empty());

    assert_eq!(must(store.prune_outbox(entries[1].seq), "prune"), 2);
    assert_eq!(
        must(store.outbox_after(0, 100), "outbox"),
        entries[2..].to_vec()
    );
    assert_eq!(must(store.prune_outbox(entries[1].seq), "prune again"), 0);
    assert_eq!(must(store.prune_outbox(u64::MAX), "prune all"), 2);
    assert_eq!(must(store.counts(), "counts").outbox_pending, 0);
    // Sequence numbers are never reused, even after everything was pruned.
    must(
        store.ingest(&[new_message(5, text(&g, None, 4, 0, "four"))]),
        "ingest",
    );
    let after_prune = must(store.outbox_after(0, 100), "outbox");
    assert_eq!(after_prune.len(), 1);
    assert!(after_prune[0].seq > entries[3].seq);
    // Updates that write no message add no entry.
    let ignored = update(6, UpdateContent::Ignored { kind: "x".into() });
    must(store.ingest(&[ignored]), "ingest");
    assert_eq!(must(store.outbox_after(0, 100), "outbox"), after_prune);
}

pub fn bind_bot_same_foreign_force(store: &dyn Store) {
    let ours = BotIdentity {
        bot_id: 111,
        username: "our_bot".into(),
    };
    must(store.bind_bot(&ours, false), "bind");
    assert_eq!(
        must(store.bot_identity(), "bot_identity"),
        Some(ours.clone())
    );
    must(store.bind_bot(&ours, false), "bind same again");
    // The same bot under a new username is still ours.
    let renamed = BotIdentity {
        bot_id: 111,
        username: "our_bot_v2".into(),
    };
    must(store.bind_bot(&renamed, false), "bind renamed");
    assert_eq!(
        must(store.bot_identity(), "bot_identity"),
        Some(renamed.clone())
    );

    let foreign = BotIdentity {
        bot_id: 222,
        username: "other_bot".into(),
    };
    match store.bind_bot(&foreign, false) {
        Err(StoreError::ForeignBot { recorded, actual }) => {
            assert!(
                recorded.contains("@our_bot_v2") && recorded.contains("111"),
                "{recorded}"
            );
            assert!(
                actual.contains("@other_bot") && actual.contains("222"),
                "{actual}"
            );
        }
        other => panic!("expected ForeignBot, got {other:?}"),
    }
    assert_eq!(must(store.bot_identity(), "bot_identity"), Some(renamed));
    must(store.bind_bot(&foreign, true), "bind forced");
    assert_eq!(must(store.bot_identity(), "bot_identity"), Some(foreign));
}

pub fn counts_after_mixed_batches(store: &dyn Store) {
    let (g1, g2) = (group(-1, "one"), group(-2, "two"));
    let (a, b, c) = (person(1, "A"), person(2, "B"), person(3, "C"));
    must(
        store.ingest(&[
            new_message(1, text(&g1, Some(&a), 1, 0, "x")),
            new_message(2, text(&g1, Some(&b), 2, 0, "x")),
            new_message(3, text(&g2, Some(&a), 1, 0, "x")),
            update(
                4,
                UpdateContent::Quarantined {
                    reason: "r".into(),
                    raw_json: "{}".into(),
                },
            ),
        ]),
        "ingest",
    );
    must(
        store.ingest(&[
            update(
                5,
                UpdateContent::Interaction {
                    user: c,
                    chat: None,
                    at: ts(1),
                },
            ),
            edit(6, text(&g2, Some(&a), 1, 0, "y")),
            new_message(7, text(&g2, None, 2, 0, "z")),
        ]),
        "ingest",
    );
    assert_eq!(
        must(store.counts(), "counts"),
        StoreCounts {
            users: 3,
            chats: 2,
            members: 3,
            messages: 4,
            outbox_pending: 5,
            quarantined: 1,
        }
    );
}

pub fn table_stats_match_counts(store: &dyn Store) {
    let g = group(-1, "g");
    let a = person(1, "A");
    let updates: Vec<_> = (1..=50)
        .map(|n| {
            new_message(
                n,
                text(&g, Some(&a), n as i32, i64::from(n), "some words here"),
            )
        })
        .collect();
    must(store.ingest(&updates), "ingest");
    let stats = must(store.table_stats(), "table_stats");
    let names: Vec<&str> = stats.iter().map(|t| t.name.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted, "table stats come in name order");
    let counts = must(store.counts(), "counts");
    for (name, rows) in [
        ("messages", counts.messages),
        ("users", counts.users),
        ("chats", counts.chats),
    ] {
        let t = stats
            .iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("no stats for table {name}: {names:?}"));
        assert_eq!(t.rows, rows, "{name}");
        assert!(t.stored_bytes > 0, "{name} holds data: {t:?}");
    }
}
