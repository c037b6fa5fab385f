//! End to end: `/stats`, `/me` and `/top` in Telegram through the simulator, on a store that
//! already holds older history (written before the appliance starts, dated 3, 20 and 100 days
//! ago), so the 7-day, 30-day and all-time figures differ. Every command is itself a message
//! and counts; the expected figures below say so where it matters.

mod common;

use common::chat::{ask_bot, say};
use common::{RunningApp, SimServer, config_for, open_store};
use std::time::Duration;
use tgbox::domain::{ChatProfile, IncomingUpdate, Timestamp, UserProfile};
use tgbox::i18n::rtl_problems;
use tgbox::sim::{BotMessage, Media, NewUser, UserMessage};
use tgbox::store::contract::fixtures::{T0, group, new_message, person, text};

const WAIT: Duration = Duration::from_secs(20);
const DAY: i64 = 86_400;

/// Send `text` as `user` in `chat` and wait for the bot's reply there.
async fn ask(server: &SimServer, chat: i64, user: u64, text: &str) -> BotMessage {
    ask_bot(server, chat, user, text).await
}

/// `n` old messages by `from` in `chat`, `days_ago` days before now, ids from `first_id`.
fn old(
    chat: &ChatProfile,
    from: &UserProfile,
    n: i32,
    days_ago: i64,
    first_id: i32,
    update_id: &mut u32,
) -> Vec<IncomingUpdate> {
    let date = Timestamp::now().0 - days_ago * DAY - T0;
    (0..n)
        .map(|i| {
            *update_id += 1;
            let m = text(chat, Some(from), first_id + i, date, "from the archive");
            new_message(*update_id, m)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_me_and_top_through_the_simulator() {
    tgbox::telemetry::init_logging("warn,tgbox=info", true);
    let server = SimServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let sim = &server.sim;
    let alice = server.user("Alice", Some("alice"));
    let bob = server.user("Bob", Some("bob"));
    let carol = server.user("Carol", Some("carol"));
    let a = server.group("Rust A");
    let b = server.group("Other B");
    let alice_dm = server.private_chat(&alice);

    // Older history, stored before the appliance starts: Carol 4 messages 100 days ago, Bob 2
    // twenty days ago, Alice 1 three days ago (and 1 in group B). Message ids far above the
    // simulator's, update ids 1..=8 (the simulator's first 8 ids are used up below).
    let (ga, gb) = (group(a.id, "Rust A"), group(b.id, "Other B"));
    let (pa, pb, pc) = (
        person(alice.id, "Alice"),
        person(bob.id, "Bob"),
        person(carol.id, "Carol"),
    );
    let mut update_id = 0;
    let mut history = old(&ga, &pc, 4, 100, 100_000, &mut update_id);
    history.extend(old(&ga, &pb, 2, 20, 100_010, &mut update_id));
    history.extend(old(&ga, &pa, 1, 3, 100_020, &mut update_id));
    history.extend(old(&gb, &pa, 1, 3, 100_000, &mut update_id));
    {
        let store = open_store(dir.path());
        store.ingest(&history).unwrap();
    }
    for _ in 0..update_id {
        sim.inject_raw(serde_json::json!({}));
    }

    let config = config_for(&server.url, dir.path());
    let app = RunningApp::start_with(&server, config);
    for user in [alice.id, bob.id, carol.id] {
        sim.join(a.id, user).unwrap();
    }
    sim.join(b.id, alice.id).unwrap();
    sim.send(say(a.id, alice.id, "hello")).unwrap();
    sim.send(UserMessage {
        media: Some(Media::Photo),
        ..say(a.id, alice.id, "a picture")
    })
    .unwrap();
    server.wait_drained(WAIT).await;

    // Alice: 1 (3 days ago) + hello + photo + this command = 4 in 7 days; Bob's 2 are within
    // 30 days; Carol's 4 only in all-time figures: 10 in all, 9 texts and a photo.
    let stats = ask(&server, a.id, alice.id, "/stats").await;
    let t = &stats.text;
    assert_eq!(stats.parse_mode.as_deref(), Some("HTML"), "{t}");
    assert!(t.contains("<b>Rust A</b>: statistics"), "{t}");
    assert!(
        t.contains("Messages: <b>10</b> in all, 4 in 7 days, 6 in 30 days"),
        "{t}"
    );
    assert!(
        t.contains("Active members: <b>1</b> in 7 days, <b>2</b> in 30 days"),
        "{t}"
    );
    assert!(t.contains("Joined: 3, left: 0 in 30 days"), "{t}");
    assert!(t.contains("<b>Messages per day</b>"), "{t}");
    assert!(t.contains("<b>Busiest hours</b> (UTC)"), "{t}");
    assert!(
        t.contains("<b>Top posters</b> (last 30 days)\n1. Alice — <b>4</b>\n2. Bob — <b>2</b>\n"),
        "{t}"
    );
    assert!(t.contains("text 9 (90%), photo 1 (10%)"), "{t}");

    // /top all: Alice 4 and Carol 4 share first place (listed by id), Bob 2 + this command.
    let top = ask(&server, a.id, bob.id, "/top all").await;
    assert!(
        top.text
            .contains("1. Alice — <b>4</b>\n2. Carol — <b>4</b>\n3. Bob — <b>3</b>\n"),
        "{}",
        top.text
    );
    assert!(top.text.contains("all time"), "{}", top.text);
    assert!(top.text.contains("3 members posted"), "{}", top.text);
    let top = ask(&server, a.id, bob.id, "/top 7d").await;
    assert!(
        top.text
            .contains("1. Alice — <b>4</b>\n2. Bob — <b>2</b>\n\n2 members posted"),
        "{}",
        top.text
    );
    let bad = ask(&server, a.id, bob.id, "/top 5d").await;
    assert!(
        bad.text.contains("I don't know the period <code>5d</code>"),
        "{}",
        bad.text
    );
    let bad = ask(&server, a.id, bob.id, "/stats <b>").await;
    assert!(
        bad.text.contains("period <code>&lt;b&gt;</code>"),
        "{}",
        bad.text
    );

    // Carol: 4 old + this /me = 5, 1 of them in 30 days; Bob has 2 + 4 commands = 6.
    let me = ask(&server, a.id, carol.id, "/me").await;
    assert!(me.text.contains("<b>Rust A</b>"), "{}", me.text);
    assert!(
        me.text.contains("Messages: <b>5</b> (1 in 30 days)"),
        "{}",
        me.text
    );
    assert!(
        me.text.contains("Rank: <b>#2</b> of 3 posters"),
        "{}",
        me.text
    );
    assert!(!me.text.contains("Other B"), "{}", me.text);

    // In private: Alice's groups, and /me over both.
    let mine = ask(&server, alice_dm.id, alice.id, "/stats").await;
    assert!(mine.text.contains("<b>Your groups</b>"), "{}", mine.text);
    assert!(
        mine.text.contains("<b>Rust A</b>: 15 messages"),
        "{}",
        mine.text
    );
    assert!(mine.text.contains("yours: 4"), "{}", mine.text);
    assert!(
        mine.text
            .contains("<b>Other B</b>: 1 messages (1 in 7 days, 1 active members); yours: 1"),
        "{}",
        mine.text
    );
    let me = ask(&server, alice_dm.id, alice.id, "/me").await;
    assert!(
        me.text.contains("In all: <b>5</b> messages in 2 groups"),
        "{}",
        me.text
    );
    let top = ask(&server, alice_dm.id, alice.id, "/top").await;
    assert!(top.text.contains("send it in the group"), "{}", top.text);

    persian_member(&server, a.id).await;

    // The commands are in the menu.
    let help = ask(&server, alice_dm.id, alice.id, "/help").await;
    for cmd in ["/stats", "/me", "/top"] {
        assert!(help.text.contains(cmd), "{}", help.text);
    }
    app.stop().await;
    server.stop().await;
}

/// The reply's text, checked to read right to left: no Latin letter or ASCII digit outside an
/// isolate (counts are in Persian digits), every line starting right to left.
fn persian(reply: &BotMessage) -> &str {
    let t = &reply.text;
    assert_eq!(reply.parse_mode.as_deref(), Some("HTML"), "{t}");
    let problems = rtl_problems(t);
    assert!(problems.is_empty(), "{problems:?} in:\n{t}");
    t
}

/// A Persian-speaking member (Telegram language "fa") joins group A, which holds 15 counted
/// messages by then (Alice 4, Bob 6, Carol 5; in 7 days Alice 4, Bob 4, Carol 1), and asks
/// `/stats`, `/top all`, `/me`, a bad period, then `/stats` and `/me` in private: every answer
/// is in Persian with the figures in Persian digits.
async fn persian_member(server: &SimServer, group_a: i64) {
    let sim = &server.sim;
    let maryam = sim.add_user(NewUser {
        first_name: "مریم".into(),
        username: Some("maryam".into()),
        language_code: Some("fa".into()),
        ..NewUser::default()
    });
    let dm = server.private_chat(&maryam);
    sim.join(group_a, maryam.id).unwrap();

    // 16 messages with this one: 10 in 7 days (Alice 4, Bob 4, Carol 1, Maryam 1), 12 in 30.
    let stats = ask(server, group_a, maryam.id, "/stats").await;
    let t = persian(&stats);
    assert!(
        t.starts_with("📊 آمار <b>\u{2068}Rust A\u{2069}</b>\n"),
        "{t}"
    );
    assert!(
        t.contains("پیام‌ها: <b>۱۶</b> در کل، ۱۰ در ۷ روز، ۱۲ در ۳۰ روز"),
        "{t}"
    );
    assert!(
        t.contains("اعضای فعال: <b>۴</b> در ۷ روز، <b>۴</b> در ۳۰ روز"),
        "{t}"
    );
    assert!(t.contains("در ۳۰ روز: ۴ نفر پیوستند، ۰ نفر رفتند"), "{t}");
    assert!(t.contains("<b>پرکارترین ساعت‌ها</b>"), "{t}");
    assert!(t.contains("پرکارترین روز هفته: "), "{t}");
    assert!(
        t.contains(
            "<b>فعال‌ترین اعضا</b> (۳۰ روز گذشته)\n\
             ۱. \u{2068}Bob\u{2069} — <b>۶</b> پیام\n\
             ۲. \u{2068}Alice\u{2069} — <b>۴</b> پیام\n"
        ),
        "{t}"
    );
    assert!(t.contains("مریم — <b>۱</b> پیام\n"), "{t}");
    assert!(
        t.contains("<b>گونه‌های پیام</b>\nمتن ۱۵ (۹۳٪)، عکس ۱ (۶٪)"),
        "{t}"
    );

    let top = ask(server, group_a, maryam.id, "/top all").await;
    let t = persian(&top);
    assert!(
        t.starts_with(
            "🏆 <b>فعال‌ترین اعضا</b> در <b>\u{2068}Rust A\u{2069}</b>، از آغاز تا امروز\n"
        ),
        "{t}"
    );
    assert!(
        t.contains(
            "۱. \u{2068}Bob\u{2069} — <b>۶</b> پیام\n\
             ۲. \u{2068}Carol\u{2069} — <b>۵</b> پیام\n\
             ۳. \u{2068}Alice\u{2069} — <b>۴</b> پیام\n\
             ۴. مریم — <b>۲</b> پیام\n"
        ),
        "{t}"
    );
    assert!(t.contains("\n۴ نفر در این بازه پیام فرستاده‌اند."), "{t}");

    let me = ask(server, group_a, maryam.id, "/me").await;
    let t = persian(&me);
    assert!(t.starts_with("👤 <b>آمار شما</b>\n"), "{t}");
    assert!(t.contains("پیام‌ها: <b>۳</b> (۳ در ۳۰ روز)"), "{t}");
    assert!(t.contains("رتبه: <b>۴</b> از ۴ نفر"), "{t}");
    let today = Timestamp::now().0;
    let today = chrono::DateTime::from_timestamp(today, 0)
        .unwrap()
        .format("%Y-%m-%d")
        .to_string();
    assert!(
        t.contains(&format!("نخستین حضور: \u{2068}{today}\u{2069}")),
        "{t}"
    );

    let bad = ask(server, group_a, maryam.id, "/top 5d").await;
    let t = persian(&bad);
    assert!(
        t.starts_with("بازهٔ <code>\u{2068}5d\u{2069}</code> را نمی‌شناسم."),
        "{t}"
    );

    // In private: 19 messages in group A now, 13 of them in 7 days, 4 of them hers.
    let mine = ask(server, dm.id, maryam.id, "/stats").await;
    let t = persian(&mine);
    assert!(
        t.contains(
            "📊 <b>گروه‌های شما</b>\n\
             • <b>\u{2068}Rust A\u{2069}</b>: ۱۹ پیام (۱۳ در ۷ روز، ۴ عضو فعال)؛ سهم شما: ۴\n"
        ),
        "{t}"
    );
    let me = ask(server, dm.id, maryam.id, "/me").await;
    let t = persian(&me);
    assert!(
        t.contains("<b>\u{2068}Rust A\u{2069}</b>\nپیام‌ها: <b>۴</b> (۴ در ۳۰ روز)"),
        "{t}"
    );
    let top = ask(server, dm.id, maryam.id, "/top").await;
    let t = persian(&top);
    assert!(t.contains("در خود گروه بفرستید"), "{t}");
}
