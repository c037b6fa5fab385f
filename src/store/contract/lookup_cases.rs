//! Contract cases for what search needs from the store: usernames and the outbox head.

use super::fixtures::{group, new_message, person, text, update};
use super::must;
use crate::domain::{UpdateContent, UserId, UserProfile};
use crate::store::Store;

fn named(id: u64, username: Option<&str>) -> UserProfile {
    UserProfile {
        username: username.map(str::to_string),
        ..person(id, "N")
    }
}

fn found(store: &dyn Store, name: &str) -> Option<u64> {
    must(store.user_by_username(name), "user_by_username").map(|u| u.id.0)
}

pub fn user_by_username_follows_renames(store: &dyn Store) {
    let g = group(-1, "g");
    let (alice, bob, anon) = (
        named(1, Some("Alice_R")),
        named(2, Some("bob")),
        named(3, None),
    );
    must(
        store.ingest(&[
            new_message(1, text(&g, Some(&alice), 1, 0, "hi")),
            new_message(2, text(&g, Some(&bob), 2, 1, "hey")),
            new_message(3, text(&g, Some(&anon), 3, 2, "yo")),
        ]),
        "ingest",
    );
    // Case-insensitive, with or without @.
    assert_eq!(found(store, "alice_r"), Some(1));
    assert_eq!(found(store, "@ALICE_R"), Some(1));
    assert_eq!(found(store, "bob"), Some(2));
    let user = must(store.user_by_username("@bob"), "lookup").unwrap();
    assert_eq!(user.username.as_deref(), Some("bob"));
    assert_eq!(found(store, "nobody"), None);
    assert_eq!(found(store, ""), None);
    assert_eq!(found(store, "@"), None);

    // Alice renames herself: the old name no longer finds her.
    let renamed = named(1, Some("alice_new"));
    must(
        store.ingest(&[new_message(4, text(&g, Some(&renamed), 4, 3, "renamed"))]),
        "ingest",
    );
    assert_eq!(found(store, "alice_r"), None);
    assert_eq!(found(store, "alice_new"), Some(1));

    // Bob drops his username, then Carol takes it: it finds Carol, and Bob seen again without
    // one does not take it away from her.
    let bob_plain = named(2, None);
    must(
        store.ingest(&[update(
            5,
            UpdateContent::Interaction {
                user: bob_plain.clone(),
                chat: None,
                at: super::fixtures::ts(4),
            },
        )]),
        "ingest",
    );
    assert_eq!(found(store, "bob"), None);
    let carol = named(4, Some("Bob"));
    must(
        store.ingest(&[new_message(6, text(&g, Some(&carol), 5, 5, "I am bob now"))]),
        "ingest",
    );
    assert_eq!(found(store, "bob"), Some(4));
    must(
        store.ingest(&[new_message(
            7,
            text(&g, Some(&bob_plain), 6, 6, "still here"),
        )]),
        "ingest",
    );
    assert_eq!(found(store, "bob"), Some(4));

    // Two users swap names within one batch.
    let (x, y) = (named(10, Some("xname")), named(11, Some("yname")));
    must(
        store.ingest(&[
            new_message(8, text(&g, Some(&x), 7, 7, "x")),
            new_message(9, text(&g, Some(&y), 8, 7, "y")),
        ]),
        "ingest",
    );
    let (x2, y2) = (named(10, Some("yname")), named(11, Some("xname")));
    must(
        store.ingest(&[
            new_message(10, text(&g, Some(&x2), 9, 8, "x")),
            new_message(11, text(&g, Some(&y2), 10, 8, "y")),
        ]),
        "ingest",
    );
    assert_eq!(found(store, "xname"), Some(11));
    assert_eq!(found(store, "yname"), Some(10));
    assert_eq!(
        must(store.user(UserId(10)), "user").and_then(|u| u.username),
        Some("yname".to_string())
    );
}

pub fn outbox_head_never_decreases(store: &dyn Store) {
    assert_eq!(must(store.outbox_head(), "head"), 0);
    let g = group(-1, "g");
    must(
        store.ingest(&[
            new_message(1, text(&g, None, 1, 0, "one")),
            new_message(2, text(&g, None, 2, 0, "two")),
        ]),
        "ingest",
    );
    let entries = must(store.outbox_after(0, 10), "outbox");
    let head = must(store.outbox_head(), "head");
    assert_eq!(Some(head), entries.last().map(|e| e.seq));
    must(store.prune_outbox(u64::MAX), "prune");
    assert_eq!(
        must(store.outbox_head(), "head"),
        head,
        "pruning keeps the head"
    );
    let ignored = update(3, UpdateContent::Ignored { kind: "x".into() });
    must(store.ingest(&[ignored]), "ingest");
    assert_eq!(must(store.outbox_head(), "head"), head);
    must(
        store.ingest(&[new_message(4, text(&g, None, 3, 0, "three"))]),
        "ingest",
    );
    let next = must(store.outbox_after(head, 10), "outbox");
    assert_eq!(next.len(), 1);
    assert_eq!(must(store.outbox_head(), "head"), next[0].seq);
    assert!(next[0].seq > head);
}
