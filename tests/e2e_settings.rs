//! End to end through the simulator: languages (the command menu per language, Telegram's
//! language_code, `/settings` buttons switching the language in place), and `/forget` as a
//! dialogue that survives a restart and erases the user from the store and the search index.

mod common;

use common::chat::{ask_bot, button, buttons, say};
use common::{RunningApp, SimServer, config_for, open_store, wait_until};
use std::time::Duration;
use tgbox::config::{Config, ConfigBuilder};
use tgbox::domain::{ChatId, LanguagePref, UserId, UserSettings};
use tgbox::sim::{BotMessage, NewUser, SimUser};

const WAIT: Duration = Duration::from_secs(20);
const FSI: char = '\u{2068}';

fn config(server: &SimServer, dir: &std::path::Path) -> Config {
    let base = config_for(&server.url, dir);
    ConfigBuilder::new()
        .flag("telegram.api_url", Some(server.url.clone()))
        .flag("storage.dir", Some(base.storage.dir.display().to_string()))
        .flag("telegram.poll_timeout_secs", Some("1".into()))
        .flag("web.listen", Some("127.0.0.1:0".into()))
        .flag("search.commit_interval_ms", Some("50".into()))
        .flag("search.rate_per_minute", Some("10000".into()))
        .build()
        .unwrap()
}

/// Send `text` as `user` in `chat` and wait for the bot's next message there.
async fn send(server: &SimServer, chat: i64, user: u64, text: &str) -> BotMessage {
    ask_bot(server, chat, user, text).await
}

/// Press a button and wait until the message it is on is edited to contain `expect`.
async fn press(
    server: &SimServer,
    m: &BotMessage,
    user: u64,
    data: String,
    expect: &str,
) -> BotMessage {
    let sim = &server.sim;
    sim.press_button(m.chat_id, m.message_id, user, data)
        .unwrap();
    let find = || {
        sim.sent_to(m.chat_id)
            .into_iter()
            .find(|x| x.message_id == m.message_id && x.edited && x.text.contains(expect))
    };
    assert!(
        wait_until(WAIT, || find().is_some()).await,
        "the message was never edited to show {expect:?}: {:?}",
        sim.sent_to(m.chat_id).last()
    );
    find().unwrap()
}

/// Press a button and wait for the answer to that press.
async fn press_for_answer(
    server: &SimServer,
    m: &BotMessage,
    user: u64,
    data: &str,
) -> Option<String> {
    let sim = &server.sim;
    let before = sim.callback_answers().len();
    sim.press_button(m.chat_id, m.message_id, user, data.into())
        .unwrap();
    assert!(
        wait_until(WAIT, || sim.callback_answers().len() > before).await,
        "press not answered"
    );
    sim.callback_answers().pop().unwrap().text
}

fn persian_user(server: &SimServer, name: &str) -> SimUser {
    server.sim.add_user(NewUser {
        first_name: name.into(),
        username: None,
        language_code: Some("fa-IR".into()),
        ..NewUser::default()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn languages_and_settings_buttons() {
    tgbox::telemetry::init_logging("warn,tgbox=info", true);
    let server = SimServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = RunningApp::start_with(&server, config(&server, dir.path()));
    let sim = &server.sim;
    let alice = server.user("Alice", Some("alice"));
    let bob = server.user("Bob", Some("bob"));
    let maryam = persian_user(&server, "مریم");
    let dm = server.private_chat(&alice);
    let g = server.group("Group");

    // The menu is published in English, and in Persian for Persian clients.
    assert!(
        wait_until(WAIT, || !sim.commands_for_language("fa").is_empty()).await,
        "no Persian command menu"
    );
    let en: Vec<String> = sim.commands().into_iter().map(|(c, _)| c).collect();
    assert_eq!(
        en,
        [
            "start", "help", "search", "settings", "forget", "stats", "me", "top"
        ]
    );
    let fa = sim.commands_for_language("fa");
    assert_eq!(fa.len(), 8);
    assert_eq!(fa[3], ("settings".into(), "زبان و اطلاعیه‌ها".into()));

    // Telegram's language decides until a setting is made.
    let help = send(&server, dm.id, alice.id, "/help").await;
    assert!(help.text.starts_with("<b>Commands</b>"), "{}", help.text);
    assert!(help.text.contains("/settings — language"), "{}", help.text);
    let maryam_dm = server.private_chat(&maryam);
    let help = send(&server, maryam_dm.id, maryam.id, "/help").await;
    assert!(help.text.starts_with("<b>فرمان‌ها</b>"), "{}", help.text);
    assert!(
        help.text
            .contains(&format!("{FSI}/search\u{2069} — جستجوی پیام‌ها")),
        "commands isolated in Persian: {}",
        help.text
    );
    let hello = send(&server, maryam_dm.id, maryam.id, "/start").await;
    assert!(hello.text.starts_with("سلام <b>مریم</b>!"), "{}", hello.text);

    // /settings shows the panel; "فارسی" switches to Persian and redraws it in place.
    let panel = send(&server, dm.id, alice.id, "/settings").await;
    assert!(panel.text.contains("Your settings"), "{}", panel.text);
    assert!(panel.text.contains("automatic (English)"), "{}", panel.text);
    assert!(buttons(&panel).iter().all(|(_, d)| d.len() < 64));
    let persian = press(
        &server,
        &panel,
        alice.id,
        button(&panel, "فارسی"),
        "تنظیمات شما",
    )
    .await;
    assert!(
        persian.text.contains("زبان: <b>فارسی</b>"),
        "{}",
        persian.text
    );
    assert!(
        buttons(&persian).iter().any(|(t, _)| t == "✓ فارسی"),
        "{:?}",
        buttons(&persian)
    );
    assert!(
        wait_until(WAIT, || sim
            .callback_answers()
            .iter()
            .any(|a| a.text.as_deref() == Some("ذخیره شد.")))
        .await,
        "the press was answered in Persian: {:?}",
        sim.callback_answers()
    );
    let help = send(&server, dm.id, alice.id, "/help").await;
    assert!(help.text.starts_with("<b>فرمان‌ها</b>"), "{}", help.text);

    // Announcements off, on the same panel (now labelled in Persian).
    let muted = press(
        &server,
        &persian,
        alice.id,
        button(&persian, "اطلاعیه‌ها: خاموش"),
        "<b>خاموش</b>",
    )
    .await;

    // Someone else's panel, and malformed data, get a clear answer and change nothing.
    let group_panel = send(&server, g.id, alice.id, "/settings").await;
    let not_yours = press_for_answer(
        &server,
        &group_panel,
        bob.id,
        &button(&group_panel, "English"),
    )
    .await;
    assert_eq!(
        not_yours.as_deref(),
        Some("These buttons belong to someone else; send /settings to see yours.")
    );
    for bad in ["st:1:zz", "st:x", "zz", "st:99999999999999999999999:le"] {
        let answer = press_for_answer(&server, &group_panel, bob.id, bad).await;
        assert!(
            answer.as_deref().is_some_and(|a| a.contains("not valid")),
            "{bad}: {answer:?}"
        );
    }

    // Back to automatic: English again (Alice's Telegram is English).
    let auto = press(
        &server,
        &muted,
        alice.id,
        button(&muted, "خودکار"),
        "Your settings",
    )
    .await;
    assert!(auto.text.contains("automatic (English)"), "{}", auto.text);
    let help = send(&server, dm.id, alice.id, "/help").await;
    assert!(help.text.starts_with("<b>Commands</b>"), "{}", help.text);

    app.stop().await;
    let store = open_store(dir.path());
    assert_eq!(
        store.user_settings(UserId(alice.id)).unwrap(),
        Some(UserSettings {
            language: LanguagePref::Auto,
            announcements: false,
        })
    );
    assert_eq!(store.user_settings(UserId(bob.id)).unwrap(), None);
    assert_eq!(
        store.users_without_announcements().unwrap(),
        vec![UserId(alice.id)]
    );
    drop(store);
    server.stop().await;
}

/// Ask `/search` in `chat` until the reply contains `expect` (the index commits shortly after).
async fn search_until(
    server: &SimServer,
    chat: i64,
    user: u64,
    q: &str,
    expect: &str,
) -> BotMessage {
    for _ in 0..30 {
        let reply = send(server, chat, user, &format!("/search {q}")).await;
        if reply.text.contains(expect) {
            return reply;
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    panic!("/search {q} never answered with {expect:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forget_erases_the_user_and_survives_a_restart() {
    tgbox::telemetry::init_logging("warn,tgbox=info", true);
    let server = SimServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&server, dir.path());
    let app = RunningApp::start_with(&server, cfg.clone());
    let sim = &server.sim;
    let alice = server.user("Alice", Some("alice"));
    let bob = server.user("Bob", Some("bob"));
    let carol = server.user("Carol", Some("carol"));
    let g = server.group("Zoo");
    let h = server.group("Other");
    let alice_dm = server.private_chat(&alice);
    let carol_dm = server.private_chat(&carol);
    sim.join(g.id, alice.id).unwrap();
    sim.join(g.id, bob.id).unwrap();
    sim.join(h.id, alice.id).unwrap();
    for i in 0..3 {
        sim.send(say(g.id, alice.id, &format!("zebra secret of alice {i}")))
            .unwrap();
    }
    sim.send(say(h.id, alice.id, "zebra in the other group"))
        .unwrap();
    sim.send(say(g.id, bob.id, "zebra seen by bob")).unwrap();
    sim.send(say(g.id, carol.id, "carol was here")).unwrap();
    server.wait_drained(WAIT).await;
    search_until(&server, g.id, bob.id, "zebra", "<b>4</b> results").await;
    // Alice has settings and a key of her own.
    let panel = send(&server, alice_dm.id, alice.id, "/settings").await;
    press(
        &server,
        &panel,
        alice.id,
        button(&panel, "Announcements: off"),
        "<b>off</b>",
    )
    .await;

    // In a group, /forget only points to the private chat.
    let group_reply = send(&server, g.id, alice.id, "/forget").await;
    assert!(
        group_reply.text.contains("private chat"),
        "{}",
        group_reply.text
    );
    assert!(group_reply.reply_markup.is_none());

    // In private it asks; the question survives a restart.
    let prompt = send(&server, alice_dm.id, alice.id, "/forget").await;
    assert!(prompt.text.contains("Delete everything"), "{}", prompt.text);
    assert!(
        prompt.text.contains("That is 9 archived messages"),
        "{}",
        prompt.text
    );
    let yes = button(&prompt, "Yes, delete everything");
    assert!(!button(&prompt, "Cancel").is_empty());
    app.stop().await;
    let app = RunningApp::start_with(&server, cfg.clone());
    let done = press(&server, &prompt, alice.id, yes.clone(), "Done.").await;
    assert!(
        buttons(&done).is_empty(),
        "buttons spent: {:?}",
        buttons(&done)
    );
    assert!(
        done.text.contains("I deleted 9 messages, 3 memberships"),
        "{}",
        done.text
    );
    // Search follows: only Bob's zebra is left.
    let left = search_until(&server, g.id, bob.id, "zebra", "<b>1</b> result").await;
    assert!(!left.text.contains("alice"), "{}", left.text);

    // Carol answers by typing: first something else, then Cancel, then the word.
    let prompt = send(&server, carol_dm.id, carol.id, "/forget").await;
    let waiting = send(&server, carol_dm.id, carol.id, "hmm").await;
    assert!(
        waiting.text.contains("<code>DELETE</code>"),
        "{}",
        waiting.text
    );
    press(
        &server,
        &prompt,
        carol.id,
        button(&prompt, "Cancel"),
        "Cancelled",
    )
    .await;
    let after_cancel = sim.sent_to(carol_dm.id).len();
    sim.send(say(carol_dm.id, carol.id, "DELETE")).unwrap();
    server.wait_drained(WAIT).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        sim.sent_to(carol_dm.id).len(),
        after_cancel,
        "no dialogue after Cancel: the word is just a message"
    );
    send(&server, carol_dm.id, carol.id, "/forget").await;
    let done = send(&server, carol_dm.id, carol.id, "delete").await;
    assert!(done.text.starts_with("Done."), "{}", done.text);

    app.stop().await;
    let store = open_store(dir.path());
    for (user, dm) in [(&alice, alice_dm.id), (&carol, carol_dm.id)] {
        let id = UserId(user.id);
        assert!(
            store.user(id).unwrap().is_none(),
            "user row of {}",
            user.first_name
        );
        assert!(store.messages_by_user(id, 100).unwrap().is_empty());
        assert!(store.chats_of_user(id).unwrap().is_empty());
        assert!(store.member(ChatId(g.id), id).unwrap().is_none());
        assert!(store.user_settings(id).unwrap().is_none());
        assert!(
            store.chat(ChatId(dm)).unwrap().is_none(),
            "private chat row"
        );
        let now = tgbox::store::now_millis();
        assert!(
            store
                .kv_scan_prefix(&format!("dialogue:{}", user.id), now, 10)
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .kv_scan_prefix(&format!("user:{}:", user.id), now, 10)
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .user_by_username(user.username.as_deref().unwrap())
                .unwrap()
                .is_none()
        );
    }
    assert!(
        store
            .member(ChatId(h.id), UserId(alice.id))
            .unwrap()
            .is_none()
    );
    // Bob and the group counters are untouched.
    let b = store.user(UserId(bob.id)).unwrap().expect("bob stays");
    assert!(b.message_count >= 1);
    assert!(
        store
            .member(ChatId(g.id), UserId(bob.id))
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .messages_by_user(UserId(bob.id), 100)
            .unwrap()
            .iter()
            .any(|m| m.text == "zebra seen by bob")
    );
    let zoo = store.chat(ChatId(g.id)).unwrap().expect("group stays");
    assert!(
        zoo.message_count >= 5,
        "counters stay: {}",
        zoo.message_count
    );
    drop(store);
    server.stop().await;
}
