//! Contract cases about the kinds of updates: joins and leaves, channels, private chats,
//! quarantine, interactions, and texts that trip naive code.

use super::fixtures::{group, new_message, person, text, ts, update};
use super::must;
use crate::domain::{
    ChatId, ChatKind, ChatProfile, MAX_STORED_TEXT_BYTES, MemberStatus, MessageId, MessageKind,
    QuarantinedUpdate, UpdateContent, UpdateId, UserId, clamp_text,
};
use crate::store::{Store, StoreCounts};

pub fn joins_and_leaves(store: &dyn Store) {
    let g = group(-5, "g");
    let (b, c) = (person(2, "B"), person(3, "C"));
    let mut joined = text(&g, Some(&b), 1, 10, "");
    joined.kind = MessageKind::MembersJoined;
    joined.joined = vec![b.clone(), c.clone()];
    let mut bot = person(99, "tgbox");
    bot.is_bot = true;
    let mut bot_added = text(&g, Some(&b), 2, 11, "");
    bot_added.kind = MessageKind::MembersJoined;
    bot_added.joined = vec![bot];
    must(
        store.ingest(&[new_message(1, joined), new_message(2, bot_added)]),
        "ingest joins",
    );
    for id in [2, 3, 99] {
        let m = must(store.member(g.id, UserId(id)), "member").expect("joined member");
        assert_eq!(m.status, MemberStatus::Active);
        assert_eq!(m.message_count, 0, "join messages do not count");
    }
    assert_eq!(
        must(store.member(g.id, UserId(3)), "member")
            .expect("C")
            .first_seen,
        ts(10)
    );
    assert!(
        must(store.user(UserId(99)), "user")
            .expect("bot stored")
            .is_bot
    );
    assert_eq!(
        must(store.user(UserId(3)), "user")
            .expect("C")
            .message_count,
        0
    );
    assert_eq!(must(store.chat(g.id), "chat").expect("g").message_count, 0);

    let mut left = text(&g, Some(&c), 3, 20, "");
    left.kind = MessageKind::MemberLeft;
    left.left = Some(c.clone());
    must(store.ingest(&[new_message(3, left)]), "ingest leave");
    let m = must(store.member(g.id, UserId(3)), "member").expect("row kept");
    assert_eq!(m.status, MemberStatus::Left);
    assert_eq!((m.first_seen, m.last_seen), (ts(10), ts(20)));
    assert_eq!(
        must(store.chats_of_user(UserId(3)), "chats_of_user"),
        vec![g.id]
    );
    // Coming back makes the member active again.
    must(
        store.ingest(&[new_message(4, text(&g, Some(&c), 4, 30, "back"))]),
        "ingest",
    );
    let m = must(store.member(g.id, UserId(3)), "member").expect("row");
    assert_eq!((m.status, m.message_count), (MemberStatus::Active, 1));
    // A leave of someone never seen creates the row as Left.
    let d = person(4, "D");
    let mut left = text(&g, None, 5, 40, "");
    left.kind = MessageKind::MemberLeft;
    left.left = Some(d);
    must(
        store.ingest(&[new_message(5, left)]),
        "ingest leave of unknown",
    );
    let m = must(store.member(g.id, UserId(4)), "member").expect("row");
    assert_eq!((m.status, m.first_seen), (MemberStatus::Left, ts(40)));
    assert!(must(store.user(UserId(4)), "user").is_some());
}

pub fn channel_post_without_user(store: &dyn Store) {
    let channel = ChatProfile {
        id: ChatId(-1009),
        kind: ChatKind::Channel,
        title: Some("News".into()),
        username: Some("news".into()),
        is_forum: false,
    };
    let outcome = must(
        store.ingest(&[new_message(1, text(&channel, None, 1, 10, "breaking"))]),
        "ingest",
    );
    assert_eq!(outcome.messages_inserted, 1);
    let m = must(store.message(channel.id, MessageId(1)), "message").expect("stored");
    assert_eq!(m.user_id, None);
    let c = must(store.chat(channel.id), "chat").expect("channel");
    assert_eq!((c.kind, c.message_count), (ChatKind::Channel, 1));
    let counts = must(store.counts(), "counts");
    assert_eq!((counts.users, counts.members, counts.messages), (0, 0, 1));
    assert!(must(store.users_by_activity(10), "by activity").is_empty());
}

pub fn private_chat_is_stored(store: &dyn Store) {
    let a = person(5, "A");
    let private = ChatProfile {
        id: ChatId(5),
        kind: ChatKind::Private,
        title: Some("A".into()),
        username: None,
        is_forum: false,
    };
    must(
        store.ingest(&[new_message(1, text(&private, Some(&a), 1, 10, "/start"))]),
        "ingest",
    );
    let c = must(store.chat(ChatId(5)), "chat").expect("private chat stored");
    assert_eq!((c.kind, c.message_count), (ChatKind::Private, 1));
    assert_eq!(
        must(store.user(UserId(5)), "user")
            .expect("A")
            .message_count,
        1
    );
}

pub fn quarantine_stored_verbatim(store: &dyn Store) {
    let raw = "{\"update_id\":9,\"weird\":\"\\u0000 ☃ \u{202E}x\",\"n\":1e999}";
    let outcome = must(
        store.ingest(&[update(
            9,
            UpdateContent::Quarantined {
                reason: "unknown field layout".into(),
                raw_json: raw.into(),
            },
        )]),
        "ingest",
    );
    assert_eq!(
        (outcome.quarantined, outcome.applied.clone()),
        (1, vec![UpdateId(9)])
    );
    assert_eq!(outcome.last_update_id, Some(UpdateId(9)));
    let q = must(store.quarantined(10), "quarantined");
    assert_eq!(
        q,
        vec![QuarantinedUpdate {
            update_id: UpdateId(9),
            received_at: ts(9),
            reason: "unknown field layout".into(),
            raw_json: raw.into(),
        }]
    );
    assert_eq!(must(store.counts(), "counts").quarantined, 1);
    assert_eq!(must(store.counts(), "counts").messages, 0);
}

pub fn ignored_update_moves_only_the_offset(store: &dyn Store) {
    let outcome = must(
        store.ingest(&[update(
            3,
            UpdateContent::Ignored {
                kind: "poll_answer".into(),
            },
        )]),
        "ingest",
    );
    assert_eq!(outcome.applied, vec![UpdateId(3)]);
    assert_eq!(
        must(store.last_update_id(), "last_update_id"),
        Some(UpdateId(3))
    );
    assert_eq!(must(store.counts(), "counts"), StoreCounts::default());
}

pub fn interaction_refreshes_profile(store: &dyn Store) {
    let g = group(-3, "g");
    let mut a = person(1, "A");
    a.username = Some("old_name".into());
    a.language_code = Some("fa".into());
    must(
        store.ingest(&[new_message(1, text(&g, Some(&a), 1, 10, "hi"))]),
        "ingest",
    );
    let mut renamed = person(1, "A2");
    renamed.username = Some("new_name".into());
    let outcome = must(
        store.ingest(&[update(
            2,
            UpdateContent::Interaction {
                user: renamed,
                chat: Some(group(-4, "other")),
                at: ts(50),
            },
        )]),
        "ingest interaction",
    );
    assert_eq!(outcome.applied, vec![UpdateId(2)]);
    let u = must(store.user(UserId(1)), "user").expect("A");
    assert_eq!(u.first_name, "A2");
    assert_eq!(u.username.as_deref(), Some("new_name"));
    assert_eq!(
        u.language_code.as_deref(),
        Some("fa"),
        "an absent language is not a change"
    );
    assert_eq!(
        (u.last_activity_at, u.message_count, u.created_at),
        (ts(50), 1, ts(10))
    );
    assert_eq!(
        must(store.chat(ChatId(-4)), "chat"),
        None,
        "interactions store no chat"
    );
    assert_eq!(must(store.counts(), "counts").members, 1);
    // A user first seen through an interaction.
    let b = person(2, "B");
    must(
        store.ingest(&[update(
            3,
            UpdateContent::Interaction {
                user: b,
                chat: None,
                at: ts(60),
            },
        )]),
        "ingest interaction",
    );
    let u = must(store.user(UserId(2)), "user").expect("B");
    assert_eq!(
        (u.created_at, u.last_activity_at, u.message_count),
        (ts(60), ts(60), 0)
    );
    let order: Vec<u64> = must(store.users_by_activity(10), "by activity")
        .into_iter()
        .map(|u| u.id.0)
        .collect();
    assert_eq!(order, vec![2, 1]);
}

pub fn huge_text_clamped_on_char_boundary(store: &dyn Store) {
    let g = group(-3, "g");
    // One ASCII byte, then two-byte letters: the byte limit falls inside a letter.
    let huge = format!("a{}", "ی".repeat(MAX_STORED_TEXT_BYTES));
    must(
        store.ingest(&[new_message(1, text(&g, None, 1, 0, &huge))]),
        "ingest huge",
    );
    let stored = must(store.message(g.id, MessageId(1)), "message").expect("stored");
    assert!(stored.text.len() <= MAX_STORED_TEXT_BYTES);
    assert!(stored.text.len() > MAX_STORED_TEXT_BYTES - 4);
    assert!(huge.starts_with(&stored.text));
    assert_eq!(stored.text, clamp_text(huge, MAX_STORED_TEXT_BYTES));
}

/// Texts and names that trip naive code; each must come back byte for byte.
pub const ODD_TEXTS: &[&str] = &[
    "\u{202E}evil RTL override\u{202C} and \u{200F}marks\u{200E}",
    "می\u{200C}خواهم كتاب يك ة ٣٤ ـــ",
    "👨\u{200D}👩\u{200D}👧\u{200D}👦 🏳️\u{200D}🌈 🇮🇷 👍🏽",
    "nul\0inside\0\0",
    "\u{0301}\u{0308} lone combining marks",
    "\u{FEFF}bom \u{FFFF} \u{10FFFF} tab\tcr\rlf\n",
    "",
];

pub fn odd_unicode_roundtrips(store: &dyn Store) {
    let g = ChatProfile {
        title: Some(ODD_TEXTS[0].into()),
        ..group(-3, "")
    };
    let mut updates = Vec::new();
    for (i, body) in ODD_TEXTS.iter().enumerate() {
        let n = i as u32 + 1;
        let mut user = person(u64::from(n), body);
        user.last_name = Some(ODD_TEXTS[1].into());
        updates.push(new_message(n, text(&g, Some(&user), n as i32, 0, body)));
    }
    must(store.ingest(&updates), "ingest");
    for (i, body) in ODD_TEXTS.iter().enumerate() {
        let n = i as u32 + 1;
        let m = must(store.message(g.id, MessageId(n as i32)), "message").expect("stored");
        assert_eq!(m.text, *body);
        let u = must(store.user(UserId(u64::from(n))), "user").expect("stored");
        assert_eq!(u.first_name, *body);
        assert_eq!(u.last_name.as_deref(), Some(ODD_TEXTS[1]));
    }
    let c = must(store.chat(g.id), "chat").expect("chat");
    assert_eq!(c.title.as_deref(), Some(ODD_TEXTS[0]));
}
