//! End to end: the real appliance (teloxide client, own polling loop, group-commit writer, redb)
//! against the simulated Bot API over HTTP.

mod common;

use common::{RunningApp, SimServer, open_store, wait_until};
use std::time::Duration;
use tgbox::domain::{ChatId, MemberStatus, MessageId, MessageKind, UserId};
use tgbox::sim::{Fault, FaultPlan, FaultRule, UserMessage};

const WAIT: Duration = Duration::from_secs(20);

fn text(chat_id: i64, user_id: u64, text: &str) -> UserMessage {
    UserMessage {
        chat_id,
        user_id,
        text: text.into(),
        ..UserMessage::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_edits_joins_and_start_reply() {
    let server = SimServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = RunningApp::start(&server, dir.path());
    let sim = &server.sim;

    let alice = server.user("Alice", Some("alice"));
    let bob = server.user("Bob", None);
    let group = server.group("Rustaceans");
    let private = server.private_chat(&alice);
    sim.join(group.id, alice.id).unwrap();
    sim.join(group.id, bob.id).unwrap();
    let first = sim.send(text(group.id, alice.id, "hello group")).unwrap();
    let reply = sim
        .send(UserMessage {
            reply_to: first.message_id,
            ..text(group.id, bob.id, "hi Alice, سلام")
        })
        .unwrap();
    sim.send(text(private.id, alice.id, "/start")).unwrap();
    server.wait_drained(WAIT).await;
    sim.edit(
        group.id,
        reply.message_id.unwrap(),
        "hi Alice (edited)".into(),
    )
    .unwrap();
    sim.leave(group.id, bob.id).unwrap();
    server.wait_drained(WAIT).await;

    // /start is answered after its update is committed.
    let private_id = private.id;
    assert!(
        wait_until(WAIT, || sim
            .sent_to(private_id)
            .iter()
            .any(|m| m.text.contains("Hello")))
        .await,
        "no welcome in {:?}",
        sim.sent_to(private_id)
    );
    assert!(
        sim.commands().iter().any(|(c, _)| c == "start"),
        "setMyCommands not called"
    );
    app.stop().await;

    let store = open_store(dir.path());
    let group_id = ChatId(group.id);
    let first_stored = store
        .message(group_id, MessageId(first.message_id.unwrap()))
        .unwrap()
        .unwrap();
    assert_eq!(first_stored.text, "hello group");
    assert_eq!(first_stored.user_id, Some(UserId(alice.id)));
    let edited = store
        .message(group_id, MessageId(reply.message_id.unwrap()))
        .unwrap()
        .unwrap();
    assert_eq!(edited.text, "hi Alice (edited)");
    assert!(edited.edit_date.is_some());
    assert_eq!(edited.reply_to, first.message_id.map(MessageId));
    let chat = store.chat(group_id).unwrap().unwrap();
    assert_eq!(chat.title.as_deref(), Some("Rustaceans"));
    assert_eq!(
        chat.message_count, 2,
        "service messages and edits do not count"
    );
    let a = store.user(UserId(alice.id)).unwrap().unwrap();
    assert_eq!(a.username.as_deref(), Some("alice"));
    assert_eq!(a.message_count, 2); // group message + /start in private
    let bob_member = store.member(group_id, UserId(bob.id)).unwrap().unwrap();
    assert_eq!(bob_member.status, MemberStatus::Left);
    assert_eq!(bob_member.message_count, 1);
    let alice_member = store.member(group_id, UserId(alice.id)).unwrap().unwrap();
    assert_eq!(alice_member.status, MemberStatus::Active);
    assert!(
        store
            .chats_of_user(UserId(alice.id))
            .unwrap()
            .contains(&group_id)
    );
    // One outbox entry per message write; the search indexer applied and pruned them by the
    // time the appliance stopped.
    assert!(store.outbox_head().unwrap() >= 3);
    assert_eq!(store.counts().unwrap().outbox_pending, 0);
    let last = sim.delivery_log().last().unwrap().update_id;
    assert_eq!(store.last_update_id().unwrap().map(|u| u.0), Some(last));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_continues_with_no_duplicate_and_no_gap() {
    let server = SimServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let sim = &server.sim;
    let user = server.user("Carol", Some("carol"));
    let group = server.group("Restarts");
    sim.join(group.id, user.id).unwrap();

    let app = RunningApp::start(&server, dir.path());
    for i in 0..40 {
        sim.send(text(group.id, user.id, &format!("before restart {i}")))
            .unwrap();
    }
    server.wait_drained(WAIT).await;
    app.stop().await;

    // Updates that arrive while the appliance is down wait in the simulator.
    for i in 0..40 {
        sim.send(text(group.id, user.id, &format!("while stopped {i}")))
            .unwrap();
    }
    assert_eq!(sim.stats().queued, 40);
    let app = RunningApp::start(&server, dir.path());
    for i in 0..20 {
        sim.send(text(group.id, user.id, &format!("after restart {i}")))
            .unwrap();
    }
    server.wait_drained(WAIT).await;
    let summary = app.stop().await;
    assert_eq!(summary.updates_committed, 60);

    let store = open_store(dir.path());
    let all = store
        .messages_page(Some(ChatId(group.id)), None, 1000)
        .unwrap();
    let texts: Vec<&str> = all
        .iter()
        .filter(|m| m.kind == MessageKind::Text)
        .map(|m| m.text.as_str())
        .collect();
    assert_eq!(texts.len(), 100, "every message exactly once");
    let ids: Vec<i32> = all.iter().map(|m| m.message_id.0).collect();
    let mut sorted = ids.clone();
    sorted.dedup();
    assert_eq!(ids, sorted);
    assert!(
        ids.windows(2).all(|w| w[1] == w[0] + 1),
        "no gap in message ids: {ids:?}"
    );
    assert_eq!(
        store.user(UserId(user.id)).unwrap().unwrap().message_count,
        100
    );
    // Every confirmed update is in the store, and only once.
    let delivered = sim.delivery_log();
    let unique: std::collections::HashSet<u32> = delivered.iter().map(|d| d.update_id).collect();
    assert_eq!(
        unique.len(),
        delivered.len(),
        "an update was confirmed twice"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_kept_and_nothing_is_lost() {
    let server = SimServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let sim = &server.sim;
    let user = server.user("Dana", Some("dana"));
    let group = server.group("Odd input");
    sim.join(group.id, user.id).unwrap();
    let app = RunningApp::start(&server, dir.path());

    let before = sim
        .send(text(group.id, user.id, "before the bad ones"))
        .unwrap();
    let malformed = sim.inject_raw_text(
        r#"{"update_id":{update_id},"message":{"message_id":"not-a-number","date":1}}"#.into(),
    );
    let unknown = sim.inject_raw(serde_json::json!({"business_rocket": {"speed": 9}}));
    let odd = "RTL \u{202B}متن\u{202C} ZWNJ می\u{200C}روم, emoji 👩\u{200D}👩\u{200D}👧, \
               combining e\u{0301}\u{0301}, NUL \u{0000} end, CJK 漢字, 𝔘𝔫𝔦𝔠𝔬𝔡𝔢";
    let odd_posted = sim.send(text(group.id, user.id, odd)).unwrap();
    // A 100 KB text is more than Telegram allows from a user, so it arrives raw.
    let big_text = "x".repeat(50_000) + &"ب".repeat(25_000);
    let big_id = 900_001;
    sim.inject_raw(serde_json::json!({"message": {
        "message_id": big_id, "date": 1_700_000_000,
        "chat": {"id": group.id, "type": "supergroup", "title": "Odd input"},
        "from": {"id": user.id, "is_bot": false, "first_name": "Dana"},
        "text": big_text,
    }}));
    let after = sim
        .send(text(group.id, user.id, "after the bad ones"))
        .unwrap();
    server.wait_drained(WAIT).await;
    app.stop().await;

    let store = open_store(dir.path());
    let g = ChatId(group.id);
    for posted in [before, after] {
        assert!(
            store
                .message(g, MessageId(posted.message_id.unwrap()))
                .unwrap()
                .is_some()
        );
    }
    let odd_stored = store
        .message(g, MessageId(odd_posted.message_id.unwrap()))
        .unwrap()
        .unwrap();
    assert_eq!(odd_stored.text, odd);
    let big = store.message(g, MessageId(big_id)).unwrap().unwrap();
    assert_eq!(big.text.len(), 100_000);
    let quarantined = store.quarantined(10).unwrap();
    let ids: Vec<u32> = quarantined.iter().map(|q| q.update_id.0).collect();
    assert!(
        ids.contains(&malformed) && ids.contains(&unknown),
        "{quarantined:?}"
    );
    let q = quarantined
        .iter()
        .find(|q| q.update_id.0 == malformed)
        .unwrap();
    assert!(q.raw_json.contains("not-a-number"));
    assert!(q.reason.contains("malformed message"), "{}", q.reason);
    let q = quarantined
        .iter()
        .find(|q| q.update_id.0 == unknown)
        .unwrap();
    assert!(q.reason.contains("business_rocket"), "{}", q.reason);
    assert_eq!(store.counts().unwrap().quarantined, 2);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_faults_delay_but_never_lose_updates() {
    let server = SimServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let sim = &server.sim;
    let user = server.user("Erin", None);
    let group = server.group("Flaky network");
    sim.join(group.id, user.id).unwrap();
    let rule = |fault: Fault, times: u32| FaultRule {
        method: Some("getUpdates".into()),
        fault,
        times,
        every: 2,
        chat_id: None,
    };
    sim.set_faults(FaultPlan {
        rules: vec![
            rule(Fault::ServerError { status: 502 }, 2),
            rule(Fault::DropConnection, 2),
            rule(Fault::MalformedBody, 2),
            rule(Fault::TooManyRequests { retry_after: 1 }, 1),
        ],
    });
    let app = RunningApp::start(&server, dir.path());
    for i in 0..30 {
        sim.send(text(group.id, user.id, &format!("through the storm {i}")))
            .unwrap();
        if i % 10 == 0 {
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
    server.wait_drained(Duration::from_secs(60)).await;
    app.stop().await;
    assert!(sim.stats().faults_injected >= 4, "{:?}", sim.stats());
    let store = open_store(dir.path());
    assert_eq!(
        store.chat(ChatId(group.id)).unwrap().unwrap().message_count,
        30
    );
    server.stop().await;
}
