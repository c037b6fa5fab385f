//! End to end: `/search` in Telegram through the simulator — group and private scope, paging
//! with inline buttons (edited in place), malformed queries, and edits reflected in results.

mod common;

use common::chat::{ask_bot, buttons, say};
use common::{RunningApp, SimServer, config_for, wait_until};
use std::time::Duration;
use tgbox::config::ConfigBuilder;
use tgbox::sim::BotMessage;

const WAIT: Duration = Duration::from_secs(20);

/// Send `/search <q>` and wait for the reply to it (the bot's newest message in the chat).
async fn ask(server: &SimServer, chat: i64, user: u64, q: &str) -> BotMessage {
    ask_bot(server, chat, user, &format!("/search {q}")).await
}

/// Ask until the answer contains `expect` (the index commits shortly after ingest).
async fn ask_until(server: &SimServer, chat: i64, user: u64, q: &str, expect: &str) -> BotMessage {
    for _ in 0..15 {
        let reply = ask(server, chat, user, q).await;
        if reply.text.contains(expect) {
            return reply;
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    panic!("/search {q} never answered with {expect:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_in_groups_and_private_with_paging() {
    tgbox::telemetry::init_logging("warn,tgbox=info", true);
    let server = SimServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let base = config_for(&server.url, dir.path());
    let config = ConfigBuilder::new()
        .flag("telegram.api_url", Some(server.url.clone()))
        .flag("storage.dir", Some(base.storage.dir.display().to_string()))
        .flag("telegram.poll_timeout_secs", Some("1".into()))
        .flag("search.commit_interval_ms", Some("50".into()))
        .flag("search.rate_per_minute", Some("10000".into()))
        .build()
        .unwrap();
    let app = RunningApp::start_with(&server, config);
    let sim = &server.sim;
    let alice = server.user("Alice", Some("alice"));
    let bob = server.user("Bob", Some("bob"));
    let a = server.group("Rust A");
    let b = server.group("Secrets B");
    let alice_dm = server.private_chat(&alice);
    let bob_dm = server.private_chat(&bob);
    sim.join(a.id, alice.id).unwrap();
    sim.join(b.id, bob.id).unwrap();
    for i in 0..7 {
        sim.send(say(
            a.id,
            alice.id,
            &format!("rust tip number {i} <b>& stuff</b>"),
        ))
        .unwrap();
    }
    for i in 0..3 {
        sim.send(say(b.id, bob.id, &format!("rust secret {i}")))
            .unwrap();
    }
    server.wait_drained(WAIT).await;

    // In group A: only A's seven messages, newest first, five a page.
    let first = ask_until(&server, a.id, alice.id, "rust", "<b>7</b> results").await;
    assert!(first.text.contains("page 1/2"), "{}", first.text);
    assert!(
        !first.text.contains("secret"),
        "B leaked into A: {}",
        first.text
    );
    assert!(
        first.text.contains("<b>rust</b> tip number 6"),
        "{}",
        first.text
    );
    assert!(
        first.text.contains("&lt;b&gt;&amp; stuff&lt;/b&gt;"),
        "message text is escaped: {}",
        first.text
    );
    assert!(
        first.text.contains("<b>rust</b>"),
        "match in bold: {}",
        first.text
    );
    assert!(
        first.text.contains("https://t.me/c/"),
        "links: {}",
        first.text
    );
    let kb = buttons(&first);
    let next = kb
        .iter()
        .find(|(t, _)| t.contains("Next"))
        .expect("a Next button")
        .1
        .clone();
    assert!(kb.iter().all(|(_, d)| d.len() <= 64));

    // Next: the same message is edited to page 2.
    sim.press_button(a.id, first.message_id, alice.id, next)
        .unwrap();
    let page_two = {
        let id = first.message_id;
        assert!(
            wait_until(WAIT, || sim
                .sent_to(a.id)
                .iter()
                .any(|m| m.message_id == id && m.text.contains("page 2/2")))
            .await,
            "page 2 never shown"
        );
        sim.sent_to(a.id)
            .into_iter()
            .find(|m| m.message_id == id)
            .unwrap()
    };
    assert!(page_two.edited);
    assert!(
        page_two.text.contains("<b>rust</b> tip number 0"),
        "{}",
        page_two.text
    );
    assert!(buttons(&page_two).iter().any(|(t, _)| t.contains("Prev")));
    assert!(
        wait_until(WAIT, || !sim.callback_answers().is_empty()).await,
        "callback answered"
    );

    // Private: Alice is not in B, so B's secret stays hidden; Bob finds it.
    let hidden = ask(&server, alice_dm.id, alice.id, "secret").await;
    assert!(
        hidden.text.starts_with("No messages match"),
        "{}",
        hidden.text
    );
    assert!(
        hidden.text.contains("<code>secret</code>"),
        "{}",
        hidden.text
    );
    let found = ask_until(&server, bob_dm.id, bob.id, "secret", "<b>3</b> results").await;
    assert!(
        found.text.contains("Secrets B"),
        "group title shown: {}",
        found.text
    );
    // Alice in private sees A's messages with its title.
    let mine = ask(&server, alice_dm.id, alice.id, "tip from:@alice").await;
    assert!(mine.text.contains("<b>7</b> results"), "{}", mine.text);

    // A malformed query is explained.
    let bad = ask(&server, a.id, alice.id, "\"unclosed").await;
    assert!(bad.text.contains("quote"), "{}", bad.text);
    assert!(bad.reply_markup.is_none());

    // An edit is searchable under its new words.
    let posted = sim.send(say(b.id, bob.id, "original wording")).unwrap();
    server.wait_drained(WAIT).await;
    sim.edit(b.id, posted.message_id.unwrap(), "changed wording".into())
        .unwrap();
    server.wait_drained(WAIT).await;
    ask_until(&server, b.id, bob.id, "changed", "<b>1</b> result").await;
    let old = ask(&server, b.id, bob.id, "original").await;
    assert!(old.text.starts_with("No messages match"), "{}", old.text);

    app.stop().await;
    server.stop().await;
}
