//! The simulator against an unmodified teloxide client: every kind of update the simulator
//! produces must deserialize into `teloxide::types::Update` (teloxide silently turns parse
//! failures into `UpdateKind::Error`), and the Bot API methods must work through `teloxide::Bot`.

use std::time::Duration;

use serde_json::{Value, json};
use teloxide::ApiError;
use teloxide::RequestError;
use teloxide::prelude::*;
use teloxide::types::{
    BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, MaybeInaccessibleMessage,
    MessageId, Update, UpdateKind,
};
use tgbox::sim::{
    Fault, FaultPlan, FaultRule, Media, NewChat, NewUser, Sim, SimChatKind, SimConfig, UserMessage,
};
use tokio_util::sync::CancellationToken;

struct Served {
    sim: Sim,
    base: String,
    stop: CancellationToken,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn serve() -> Served {
    let sim = Sim::new(SimConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let stop = CancellationToken::new();
    tokio::spawn(sim.clone().serve(listener, stop.clone()));
    Served { sim, base, stop }
}

impl Served {
    fn bot(&self) -> Bot {
        Bot::new(self.sim.token()).set_api_url(self.base.parse().unwrap())
    }

    /// The raw `result` array of a getUpdates call (confirming nothing).
    async fn raw_updates(&self) -> Vec<Value> {
        let url = format!("{}/bot{}/getUpdates", self.base, self.sim.token());
        let body: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
        assert_eq!(body["ok"], true);
        body["result"].as_array().unwrap().clone()
    }
}

fn msg(chat_id: i64, user_id: u64, text: &str) -> UserMessage {
    UserMessage {
        chat_id,
        user_id,
        text: text.to_owned(),
        ..UserMessage::default()
    }
}

/// An assertion on one update.
type Check = Box<dyn Fn(&Update)>;

fn message_of(u: &Update) -> &Message {
    match &u.kind {
        UpdateKind::Message(m)
        | UpdateKind::EditedMessage(m)
        | UpdateKind::ChannelPost(m)
        | UpdateKind::EditedChannelPost(m) => m,
        other => panic!("message expected, got {other:?}"),
    }
}

#[tokio::test]
async fn every_update_kind_parses_in_teloxide() {
    let s = serve().await;
    let sim = &s.sim;
    let group = sim.add_chat(NewChat {
        id: None,
        kind: SimChatKind::Supergroup,
        title: "کافه برنامه‌نویسان".into(),
        username: Some("cafe_dev".into()),
        is_forum: false,
    });
    let forum = sim.add_chat(NewChat {
        id: None,
        kind: SimChatKind::Supergroup,
        title: "Forum".into(),
        username: None,
        is_forum: true,
    });
    let basic = sim.add_chat(NewChat {
        id: None,
        kind: SimChatKind::Group,
        title: "Basic".into(),
        username: None,
        is_forum: false,
    });
    let channel = sim.add_chat(NewChat {
        id: None,
        kind: SimChatKind::Channel,
        title: "News".into(),
        username: Some("news".into()),
        is_forum: false,
    });
    let ali = sim.add_user(NewUser {
        id: None,
        first_name: "علی".into(),
        last_name: Some("رضایی".into()),
        username: Some("ali_rezaei".into()),
        language_code: Some("fa".into()),
    });
    let emma = sim.add_user(NewUser {
        first_name: "Emma".into(),
        ..NewUser::default()
    });
    let g = group.id;
    let mut expected: Vec<Check> = Vec::new();

    sim.join(g, ali.id).unwrap();
    expected.push(Box::new(move |u| {
        let m = message_of(u);
        assert_eq!(m.new_chat_members().unwrap()[0].id.0, ali.id);
        assert_eq!(m.chat.title(), Some("کافه برنامه‌نویسان"));
    }));
    let hello = sim.send(msg(g, ali.id, "/search کتاب‌ها سلام 😀")).unwrap();
    expected.push(Box::new(|u| {
        let m = message_of(u);
        assert_eq!(m.text(), Some("/search کتاب‌ها سلام 😀"));
        let from = m.from.as_ref().unwrap();
        assert_eq!(from.username.as_deref(), Some("ali_rezaei"));
        assert_eq!(from.language_code.as_deref(), Some("fa"));
        let ents = m.parse_entities().unwrap();
        assert_eq!(ents[0].text(), "/search");
    }));
    let hello_id = hello.message_id.unwrap();
    sim.send(UserMessage {
        reply_to: Some(hello_id),
        ..msg(g, emma.id, "reply")
    })
    .unwrap();
    expected.push(Box::new(move |u| {
        let m = message_of(u);
        assert_eq!(m.reply_to_message().unwrap().id.0, hello_id);
        assert_eq!(
            m.reply_to_message().unwrap().text().unwrap(),
            "/search کتاب‌ها سلام 😀"
        );
    }));
    for media in [
        Media::Photo,
        Media::Video,
        Media::Document,
        Media::Voice,
        Media::Sticker,
        Media::Animation,
    ] {
        let text = if media == Media::Sticker {
            "🔥"
        } else {
            "a caption"
        };
        sim.send(UserMessage {
            media: Some(media),
            ..msg(g, emma.id, text)
        })
        .unwrap();
        expected.push(Box::new(move |u| {
            let m = message_of(u);
            let ok = match media {
                Media::Photo => m.photo().is_some_and(|p| p.len() == 3),
                Media::Video => m.video().is_some(),
                Media::Document => m.document().is_some(),
                Media::Voice => m.voice().is_some(),
                Media::Sticker => m
                    .sticker()
                    .is_some_and(|s| s.emoji.as_deref() == Some("🔥")),
                Media::Animation => m.animation().is_some(),
            };
            assert!(ok, "{media:?} not parsed: {m:?}");
            if media != Media::Sticker {
                assert_eq!(m.caption(), Some("a caption"));
            }
        }));
    }
    sim.edit(g, hello_id, "edited text".into()).unwrap();
    expected.push(Box::new(|u| {
        assert!(matches!(u.kind, UpdateKind::EditedMessage(_)));
        let m = message_of(u);
        assert_eq!(m.text(), Some("edited text"));
        assert!(m.edit_date().is_some());
    }));
    sim.leave(g, ali.id).unwrap();
    expected.push(Box::new(move |u| {
        assert_eq!(message_of(u).left_chat_member().unwrap().id.0, ali.id);
    }));
    // Forum: a created topic, a message in it, and a message in a topic the sim never saw.
    let topic = sim.create_topic(forum.id, emma.id, "Help".into()).unwrap();
    let thread = topic.message_id.unwrap();
    expected.push(Box::new(|u| {
        assert_eq!(message_of(u).forum_topic_created().unwrap().name, "Help");
    }));
    sim.send(UserMessage {
        thread_id: Some(thread),
        ..msg(forum.id, emma.id, "in topic")
    })
    .unwrap();
    expected.push(Box::new(move |u| {
        let m = message_of(u);
        assert_eq!(m.thread_id.map(|t| t.0.0), Some(thread));
        assert!(m.is_topic_message);
        assert!(
            m.reply_to_message()
                .unwrap()
                .forum_topic_created()
                .is_some()
        );
    }));
    sim.send(UserMessage {
        thread_id: Some(999),
        ..msg(forum.id, emma.id, "old topic")
    })
    .unwrap();
    expected.push(Box::new(|u| {
        let m = message_of(u);
        assert_eq!(m.thread_id.map(|t| t.0.0), Some(999));
        assert!(
            m.reply_to_message()
                .unwrap()
                .forum_topic_created()
                .is_some()
        );
    }));
    sim.send(msg(basic.id, emma.id, "basic group")).unwrap();
    expected.push(Box::new(|u| assert!(message_of(u).chat.is_group())));
    sim.send(msg(emma.id as i64, emma.id, "/start")).unwrap();
    expected.push(Box::new(|u| {
        let m = message_of(u);
        assert!(m.chat.is_private());
        assert_eq!(m.chat.first_name(), Some("Emma"));
    }));
    let post = sim.send(msg(channel.id, 0, "channel news")).unwrap();
    expected.push(Box::new(move |u| {
        assert!(matches!(u.kind, UpdateKind::ChannelPost(_)));
        let m = message_of(u);
        assert_eq!(m.sender_chat.as_ref().unwrap().id.0, channel.id);
        assert!(m.from.is_none());
    }));
    sim.edit(channel.id, post.message_id.unwrap(), "channel news!".into())
        .unwrap();
    expected.push(Box::new(|u| {
        assert!(matches!(u.kind, UpdateKind::EditedChannelPost(_)));
    }));

    // A bot message with a keyboard, then a button press on it.
    let bot = s.bot();
    let keyboard = InlineKeyboardMarkup::new(vec![vec![InlineKeyboardButton::callback(
        "Yes", "vote:yes",
    )]]);
    let sent = bot
        .send_message(ChatId(g), "Vote?")
        .reply_markup(keyboard)
        .await
        .unwrap();
    sim.press_button(g, sent.id.0, emma.id, "vote:yes".into())
        .unwrap();
    expected.push(Box::new(move |u| {
        let UpdateKind::CallbackQuery(q) = &u.kind else {
            panic!("callback query expected: {u:?}");
        };
        assert_eq!(q.data.as_deref(), Some("vote:yes"));
        assert_eq!(q.from.id.0, emma.id);
        let Some(MaybeInaccessibleMessage::Regular(m)) = &q.message else {
            panic!("regular message expected");
        };
        assert_eq!(m.text(), Some("Vote?"));
        assert!(m.reply_markup().is_some());
    }));

    let raw = s.raw_updates().await;
    assert_eq!(raw.len(), expected.len());
    for (json, check) in raw.iter().zip(&expected) {
        // From text, as teloxide does: its UpdateKind visitor needs borrowed keys.
        let update: Update = serde_json::from_str(&json.to_string()).unwrap();
        if matches!(update.kind, UpdateKind::Error(_)) {
            let inner = json
                .as_object()
                .unwrap()
                .iter()
                .find(|(k, _)| *k != "update_id")
                .unwrap()
                .1;
            let err = serde_json::from_value::<Message>(inner.clone()).err();
            panic!("teloxide could not parse: {json}\n{err:?}");
        }
        check(&update);
    }
    // getChat for every chat type.
    assert!(bot.get_chat(ChatId(basic.id)).await.unwrap().is_group());
    assert!(bot.get_chat(ChatId(channel.id)).await.unwrap().is_channel());
    let f = bot.get_chat(ChatId(forum.id)).await.unwrap();
    assert!(f.is_supergroup());
    assert_eq!(
        bot.get_chat(ChatId(g)).await.unwrap().username(),
        Some("cafe_dev")
    );
    // The same through teloxide's own getUpdates.
    let updates = bot.get_updates().await.unwrap();
    assert_eq!(updates.len(), expected.len());
    assert!(
        updates
            .iter()
            .all(|u| !matches!(u.kind, UpdateKind::Error(_)))
    );
}

#[tokio::test]
async fn teloxide_bot_end_to_end() {
    let s = serve().await;
    let sim = &s.sim;
    let bot = s.bot();
    let me = bot.get_me().await.unwrap();
    assert_eq!(me.user.id.0, sim.bot_id());
    assert_eq!(me.username(), "tgbox_sim_bot");

    let chat = sim.add_chat(NewChat {
        id: None,
        kind: SimChatKind::Supergroup,
        title: "Group".into(),
        username: None,
        is_forum: false,
    });
    let user = sim.add_user(NewUser {
        first_name: "Sara".into(),
        ..NewUser::default()
    });
    sim.send(msg(chat.id, user.id, "one")).unwrap();
    sim.send(msg(chat.id, user.id, "two")).unwrap();
    let ups = bot.get_updates().await.unwrap();
    assert_eq!(ups.len(), 2);
    let next = ups[1].id.as_offset();
    // A long poll is woken by a new message.
    let poster = {
        let sim = sim.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            sim.send(msg(chat.id, user.id, "three")).unwrap();
        })
    };
    let ups = bot.get_updates().offset(next).timeout(10).await.unwrap();
    poster.await.unwrap();
    assert_eq!(ups.len(), 1);
    assert_eq!(message_of(&ups[0]).text(), Some("three"));
    assert_eq!(sim.delivery_log().len(), 2);
    bot.get_updates()
        .offset(ups[0].id.as_offset())
        .await
        .unwrap();
    assert_eq!(sim.delivery_log().len(), 3);

    let keyboard = InlineKeyboardMarkup::new(vec![vec![
        InlineKeyboardButton::callback("A", "a"),
        InlineKeyboardButton::url("Docs", "https://example.org".parse().unwrap()),
    ]]);
    let sent = bot
        .send_message(ChatId(chat.id), "<b>Pick</b>")
        .parse_mode(teloxide::types::ParseMode::Html)
        .reply_markup(keyboard)
        .await
        .unwrap();
    assert_eq!(sent.text(), Some("Pick"));
    assert_eq!(sent.id.0, 4);
    let edited = bot
        .edit_message_text(ChatId(chat.id), sent.id, "Picked")
        .await
        .unwrap();
    assert!(edited.edit_date().is_some());
    let err = bot
        .edit_message_text(ChatId(chat.id), sent.id, "Picked")
        .await
        .unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::MessageNotModified)),
        "{err:?}"
    );
    let err = bot
        .edit_message_text(ChatId(chat.id), MessageId(999), "x")
        .await
        .unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::MessageToEditNotFound)),
        "{err:?}"
    );
    let stored = sim.sent_to(chat.id);
    assert_eq!(stored[0].text, "Picked");
    assert!(stored[0].edited);

    sim.press_button(chat.id, sent.id.0, user.id, "a".into())
        .unwrap();
    let ups = bot.get_updates().offset(4).await.unwrap();
    let UpdateKind::CallbackQuery(q) = &ups[0].kind else {
        panic!("callback expected: {:?}", ups[0]);
    };
    bot.answer_callback_query(q.id.clone())
        .text("Done")
        .await
        .unwrap();
    assert_eq!(sim.callback_answers()[0].text.as_deref(), Some("Done"));

    bot.set_my_commands(vec![
        BotCommand::new("stats", "Show statistics"),
        BotCommand::new("search", "Search messages"),
    ])
    .await
    .unwrap();
    assert_eq!(sim.commands().len(), 2);
    let cmds = bot.get_my_commands().await.unwrap();
    assert_eq!(cmds[1].command, "search");

    let info = bot.get_webhook_info().await.unwrap();
    assert!(info.url.is_none());
    bot.delete_webhook().await.unwrap();

    let full = bot.get_chat(ChatId(chat.id)).await.unwrap();
    assert!(full.is_supergroup());
    assert_eq!(full.title(), Some("Group"));
    let private = bot.get_chat(ChatId(user.id as i64)).await;
    assert!(private.is_err(), "no private chat yet");
    sim.send(msg(user.id as i64, user.id, "/start")).unwrap();
    let private = bot.get_chat(ChatId(user.id as i64)).await.unwrap();
    assert!(private.is_private());

    let photo = bot
        .send_photo(
            ChatId(chat.id),
            InputFile::memory(vec![0x89, b'P', b'N', b'G']).file_name("a.png"),
        )
        .caption("a photo")
        .await
        .unwrap();
    assert!(photo.photo().is_some());
    assert_eq!(photo.caption(), Some("a photo"));
    let doc = bot
        .send_document(
            ChatId(chat.id),
            InputFile::memory(b"hello".to_vec()).file_name("notes.txt"),
        )
        .await
        .unwrap();
    let d = doc.document().unwrap();
    assert_eq!(d.file_name.as_deref(), Some("notes.txt"));
    assert_eq!(d.file.size, 5);
    let kinds: Vec<_> = sim.sent_to(chat.id).iter().map(|b| b.kind).collect();
    assert_eq!(kinds.len(), 3);
    bot.delete_message(ChatId(chat.id), photo.id).await.unwrap();
    assert!(sim.sent_to(chat.id)[1].deleted);
}

#[tokio::test]
async fn teloxide_sees_faults_and_unparseable_updates() {
    let s = serve().await;
    let sim = &s.sim;
    let bot = s.bot();
    let chat = sim.add_chat(NewChat {
        id: None,
        kind: SimChatKind::Group,
        title: "G".into(),
        username: None,
        is_forum: false,
    });
    sim.set_faults(FaultPlan {
        rules: vec![
            FaultRule::once(Some("getMe"), Fault::TooManyRequests { retry_after: 3 }),
            FaultRule::once(Some("getMe"), Fault::DropConnection),
            FaultRule::once(Some("getMe"), Fault::MalformedBody),
            FaultRule {
                method: Some("sendMessage".into()),
                chat_id: Some(chat.id),
                fault: Fault::Forbidden {
                    description: "Forbidden: bot was blocked by the user".into(),
                },
                times: 1,
                every: 1,
            },
        ],
    });
    let err = bot.get_me().await.unwrap_err();
    assert!(
        matches!(err, RequestError::RetryAfter(s) if s.seconds() == 3),
        "{err:?}"
    );
    let err = bot.get_me().await.unwrap_err();
    assert!(matches!(err, RequestError::Network(_)), "{err:?}");
    let err = bot.get_me().await.unwrap_err();
    assert!(matches!(err, RequestError::InvalidJson { .. }), "{err:?}");
    bot.get_me().await.unwrap();
    let err = bot.send_message(ChatId(chat.id), "hi").await.unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::BotBlocked)),
        "{err:?}"
    );
    bot.send_message(ChatId(chat.id), "hi").await.unwrap();

    let bad = sim.inject_raw_text(
        r#"{"update_id":{update_id},"message":{"message_id":"not-a-number"}}"#.into(),
    );
    let unknown = sim.inject_raw(json!({"brand_new_kind": {"x": 1}}));
    let ups = bot.get_updates().await.unwrap();
    assert_eq!(ups.len(), 2);
    assert_eq!(ups[0].id.0, bad);
    assert!(matches!(ups[0].kind, UpdateKind::Error(_)));
    assert_eq!(ups[1].id.0, unknown);
    assert!(matches!(ups[1].kind, UpdateKind::Error(_)));
    bot.get_updates()
        .offset(ups[1].id.as_offset())
        .await
        .unwrap();
    let log = sim.delivery_log();
    assert_eq!(log[0].kind, "raw");
    assert_eq!(log[1].kind, "brand_new_kind");
}

#[tokio::test]
async fn teloxide_dispatcher_polls_and_replies() {
    use teloxide::dispatching::UpdateFilterExt;
    use teloxide::error_handlers::LoggingErrorHandler;
    use teloxide::update_listeners::Polling;

    let s = serve().await;
    let sim = s.sim.clone();
    let chat = sim.add_chat(NewChat {
        id: None,
        kind: SimChatKind::Supergroup,
        title: "Echo".into(),
        username: None,
        is_forum: true,
    });
    let user = sim.add_user(NewUser {
        first_name: "Kian".into(),
        ..NewUser::default()
    });
    let bot = s.bot();
    let handler = Update::filter_message().endpoint(|bot: Bot, msg: Message| async move {
        let text = format!("echo: {}", msg.text().unwrap_or(""));
        let mut req = bot.send_message(msg.chat.id, text);
        if let Some(thread) = msg.thread_id {
            req = req.message_thread_id(thread);
        }
        req.await?;
        respond(())
    });
    let mut dispatcher = Dispatcher::builder(bot.clone(), handler).build();
    let shutdown = dispatcher.shutdown_token();
    let listener = Polling::builder(bot)
        .timeout(Duration::from_secs(1))
        .build();
    let task = tokio::spawn(async move {
        dispatcher
            .dispatch_with_listener(listener, LoggingErrorHandler::new())
            .await;
    });
    let topic = sim.create_topic(chat.id, user.id, "Bots".into()).unwrap();
    for i in 0..20 {
        sim.send(UserMessage {
            thread_id: topic.message_id,
            ..msg(chat.id, user.id, &format!("سلام {i}"))
        })
        .unwrap();
    }
    for _ in 0..100 {
        if sim.sent_to(chat.id).len() == 21 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let sent = sim.sent_to(chat.id);
    assert_eq!(
        sent.len(),
        21,
        "one echo per message, including the topic creation"
    );
    assert!(sent.iter().any(|m| m.text == "echo: سلام 19"));
    assert!(sent.iter().all(|m| m.thread_id == topic.message_id));
    if let Ok(done) = shutdown.shutdown() {
        done.await;
    }
    task.await.unwrap();
    // Every update was confirmed exactly once.
    let log = sim.delivery_log();
    assert_eq!(log.len(), 21);
    let mut ids: Vec<u32> = log.iter().map(|d| d.update_id).collect();
    ids.dedup();
    assert_eq!(ids.len(), 21);
}
