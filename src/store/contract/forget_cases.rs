//! Contract cases of `/forget`: `forget_user` removes a user's rows and index rows, keeps
//! everyone else's and the per-chat counters.

use super::fixtures::{group, new_message, person, text};
use super::must;
use crate::domain::{ChatId, ChatKind, ChatProfile, LanguagePref, MessageId, UserId, UserSettings};
use crate::store::{ForgottenUser, Store};

fn private_with(id: u64, name: &str) -> ChatProfile {
    ChatProfile {
        id: ChatId(id as i64),
        kind: ChatKind::Private,
        title: Some(name.into()),
        username: None,
        is_forum: false,
    }
}

pub fn forget_user_removes_rows_and_index_rows(store: &dyn Store) {
    let (g, h) = (group(-1, "g"), group(-2, "h"));
    let mut a = person(1, "a");
    a.username = Some("Alice".into());
    let mut b = person(2, "b");
    b.username = Some("bob".into());
    let a_dm = private_with(1, "a");
    must(
        store.ingest(&[
            new_message(1, text(&g, Some(&a), 1, 10, "one")),
            new_message(2, text(&g, Some(&b), 2, 20, "two")),
            new_message(3, text(&h, Some(&a), 1, 30, "three")),
            new_message(4, text(&a_dm, Some(&a), 1, 40, "/forget")),
            new_message(5, text(&h, Some(&b), 2, 50, "four")),
        ]),
        "ingest",
    );
    let muted = UserSettings {
        language: LanguagePref::Persian,
        announcements: false,
    };
    must(store.set_user_settings(UserId(1), &muted), "settings a");
    must(store.set_user_settings(UserId(2), &muted), "settings b");
    let chat_g_before = must(store.chat(ChatId(-1)), "chat").expect("g");

    // With a message left in the private chat, the chat stays (no orphaned messages).
    let first = must(store.forget_user(UserId(1)), "forget");
    assert_eq!(
        first,
        ForgottenUser {
            user_row: true,
            memberships: 3,
            private_chat: false,
            settings: true,
            ..ForgottenUser::default()
        }
    );
    assert!(must(store.chat(ChatId(1)), "dm").is_some());

    // Remove the messages first (as the forget service does), then forget again.
    let keys: Vec<(ChatId, MessageId)> = must(store.messages_by_user(UserId(1), 100), "mine")
        .iter()
        .map(|m| (m.chat_id, m.message_id))
        .collect();
    assert_eq!(keys.len(), 3);
    assert_eq!(must(store.delete_messages(&keys), "delete"), 3);
    let second = must(store.forget_user(UserId(1)), "forget again");
    assert_eq!(
        second,
        ForgottenUser {
            private_chat: true,
            ..ForgottenUser::default()
        }
    );
    assert_eq!(
        must(store.forget_user(UserId(1)), "idempotent"),
        ForgottenUser::default()
    );

    // Nothing of user 1 is left.
    assert!(must(store.user(UserId(1)), "user").is_none());
    assert!(must(store.user_by_username("alice"), "by name").is_none());
    assert!(
        must(store.users_by_activity(10), "active")
            .iter()
            .all(|u| u.id != UserId(1))
    );
    assert!(must(store.chats_of_user(UserId(1)), "chats").is_empty());
    assert!(must(store.member(ChatId(-1), UserId(1)), "member").is_none());
    assert!(must(store.member(ChatId(-2), UserId(1)), "member").is_none());
    assert!(must(store.chat(ChatId(1)), "dm").is_none());
    assert!(must(store.user_settings(UserId(1)), "settings").is_none());
    assert!(must(store.messages_by_user(UserId(1), 10), "messages").is_empty());
    assert_eq!(
        must(store.users_without_announcements(), "muted"),
        vec![UserId(2)]
    );

    // User 2 is untouched; the group counters stay.
    let bob = must(store.user(UserId(2)), "b").expect("b stays");
    assert_eq!(bob.message_count, 2);
    assert_eq!(
        must(store.user_by_username("bob"), "bob").map(|u| u.id),
        Some(UserId(2))
    );
    assert_eq!(
        must(store.chats_of_user(UserId(2)), "chats b"),
        vec![ChatId(-2), ChatId(-1)]
    );
    assert_eq!(
        must(store.messages_by_user(UserId(2), 10), "b msgs").len(),
        2
    );
    assert_eq!(
        must(store.user_settings(UserId(2)), "settings b"),
        Some(muted)
    );
    let members: Vec<UserId> = must(store.members_of(ChatId(-1), 10), "members")
        .iter()
        .map(|m| m.user_id)
        .collect();
    assert_eq!(members, vec![UserId(2)]);
    let chat_g = must(store.chat(ChatId(-1)), "chat").expect("g");
    assert_eq!(chat_g.message_count, chat_g_before.message_count);
    let counts = must(store.counts(), "counts");
    assert_eq!(
        (counts.users, counts.chats, counts.members, counts.messages),
        (1, 2, 2, 2)
    );
}

pub fn forget_unknown_user_is_a_no_op(store: &dyn Store) {
    let g = group(-1, "g");
    must(
        store.ingest(&[new_message(1, text(&g, Some(&person(2, "b")), 1, 10, "x"))]),
        "ingest",
    );
    assert_eq!(
        must(store.forget_user(UserId(9)), "forget"),
        ForgottenUser::default()
    );
    assert_eq!(must(store.counts(), "counts").chats, 1);
    assert!(must(store.user(UserId(2)), "b").is_some());
}

pub fn forget_user_removes_broadcast_rows(store: &dyn Store) {
    use crate::domain::{Audience, NewBroadcast, RecipientStatus};
    let new = NewBroadcast {
        html: "hi".into(),
        audience: Audience::ActiveWithin { days: 7 },
    };
    let done = must(store.create_broadcast(&new, 1_000), "create");
    let ids = |v: &[u64]| v.iter().map(|&i| UserId(i)).collect::<Vec<_>>();
    must(
        store.start_broadcast(done.id, &ids(&[1, 2]), 1_100),
        "start",
    )
    .expect("job")
    .expect("queued");
    must(store.claim_broadcast_batch(done.id, 10), "claim");
    must(
        store.record_broadcast_results(
            done.id,
            &[
                (UserId(1), RecipientStatus::Sent),
                (UserId(2), RecipientStatus::Blocked),
            ],
            1_200,
        ),
        "record",
    );
    assert!(must(store.is_blocked(UserId(2)), "blocked"));
    // A second job still has user 1 pending.
    let running = must(store.create_broadcast(&new, 2_000), "create");
    must(
        store.start_broadcast(running.id, &ids(&[1, 3]), 2_100),
        "start",
    )
    .expect("job")
    .expect("queued");

    let gone = must(store.forget_user(UserId(1)), "forget");
    assert_eq!(gone.broadcast_rows, 2);
    assert!(!gone.blocked_mark);
    let gone = must(store.forget_user(UserId(2)), "forget");
    assert_eq!(gone.broadcast_rows, 1);
    assert!(gone.blocked_mark);
    assert!(!must(store.is_blocked(UserId(2)), "blocked"));
    for job in [done.id, running.id] {
        let rows = must(store.broadcast_recipients(job, None, None, 10), "rows");
        assert!(
            rows.iter().all(|(u, _)| *u != UserId(1) && *u != UserId(2)),
            "{rows:?}"
        );
    }
    // The finished job keeps its anonymous totals; the running one no longer waits for user 1.
    let d = must(store.broadcast(done.id), "job").expect("job");
    assert_eq!((d.counts.blocked, d.counts.sent), (1, 1));
    let r = must(store.broadcast(running.id), "job").expect("job");
    assert_eq!(r.counts.pending, 1);
    assert_eq!(
        must(store.claim_broadcast_batch(running.id, 10), "claim"),
        vec![UserId(3)]
    );
}
