//! Semantics of the Bot API over real HTTP (and the harness other HTTP tests share).

use std::time::Duration;

use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::*;

pub(super) struct Harness {
    pub sim: Sim,
    pub base: String,
    pub http: reqwest::Client,
    stop: CancellationToken,
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

pub(super) async fn start() -> Harness {
    let sim = Sim::new(SimConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let stop = CancellationToken::new();
    tokio::spawn(sim.clone().serve(listener, stop.clone()));
    Harness {
        sim,
        base,
        http: reqwest::Client::new(),
        stop,
    }
}

impl Harness {
    pub async fn call(&self, method: &str, body: Value) -> (u16, Value) {
        let url = format!("{}/bot{}/{method}", self.base, self.sim.token());
        let resp = self.http.post(url).json(&body).send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn updates(&self, body: Value) -> Vec<Value> {
        let (status, v) = self.call("getUpdates", body).await;
        assert_eq!(status, 200, "{v}");
        v["result"].as_array().unwrap().clone()
    }

    fn group(&self) -> (i64, u64) {
        let chat = self.sim.add_chat(NewChat {
            id: None,
            kind: SimChatKind::Supergroup,
            title: "G".into(),
            username: Some("pubgroup".into()),
            is_forum: false,
        });
        let user = self.sim.add_user(NewUser {
            first_name: "Ann".into(),
            ..NewUser::default()
        });
        (chat.id, user.id)
    }

    fn say(&self, chat: i64, user: u64, text: &str) -> Posted {
        self.sim
            .send(UserMessage {
                chat_id: chat,
                user_id: user,
                text: text.into(),
                ..UserMessage::default()
            })
            .unwrap()
    }
}

fn ids(updates: &[Value]) -> Vec<u64> {
    updates
        .iter()
        .map(|u| u["update_id"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn auth_unknown_method_and_get_me() {
    let h = start().await;
    let resp = h
        .http
        .get(format!("{}/bot1:wrong/getMe", h.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(
        v,
        json!({"ok":false,"error_code":401,"description":"Unauthorized"})
    );
    let (s, v) = h.call("noSuchMethod", json!({})).await;
    assert_eq!(
        (s, v["description"].as_str()),
        (404, Some("Not Found: method not found"))
    );
    // GET with a query string and a case-insensitive method name.
    let url = format!("{}/bot{}/GETME?x=1", h.base, h.sim.token());
    let v: Value = h.http.get(url).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["result"]["id"], 7_000_000_001u64);
    assert_eq!(v["result"]["username"], "tgbox_sim_bot");
}

#[tokio::test]
async fn offsets_confirm_and_limit() {
    let h = start().await;
    let (chat, user) = h.group();
    for i in 0..5 {
        h.say(chat, user, &format!("m{i}"));
    }
    let all = h.updates(json!({})).await;
    assert_eq!(ids(&all), vec![1, 2, 3, 4, 5]);
    // Without an offset nothing is confirmed.
    assert_eq!(h.updates(json!({"limit": 2})).await.len(), 2);
    assert!(h.sim.delivery_log().is_empty());
    let rest = h.updates(json!({"offset": 3, "limit": 100})).await;
    assert_eq!(ids(&rest), vec![3, 4, 5]);
    let log = h.sim.delivery_log();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].kind, "message");
    assert_eq!(log[1].text.as_deref(), Some("m1"));
    assert_eq!(log[1].chat_id, Some(chat));
    // limit is clamped to 1..=100.
    assert_eq!(h.updates(json!({"offset": 3, "limit": 0})).await.len(), 1);
    assert!(h.updates(json!({"offset": 6})).await.is_empty());
    assert_eq!(h.sim.stats().confirmed, 5);
    assert_eq!(h.sim.stats().queued, 0);
    // Each update is logged once.
    h.updates(json!({"offset": 6})).await;
    assert_eq!(h.sim.delivery_log().len(), 5);
}

#[tokio::test]
async fn negative_offset_forgets_older_updates() {
    let h = start().await;
    let (chat, user) = h.group();
    for i in 0..5 {
        h.say(chat, user, &format!("m{i}"));
    }
    let last2 = h.updates(json!({"offset": -2})).await;
    assert_eq!(ids(&last2), vec![4, 5]);
    assert_eq!(h.sim.stats().dropped, 3);
    assert!(h.sim.delivery_log().is_empty());
}

#[tokio::test]
async fn long_poll_wakes_on_new_update() {
    let h = start().await;
    let (chat, user) = h.group();
    let sim = h.sim.clone();
    let t0 = std::time::Instant::now();
    let poster = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        sim.send(UserMessage {
            chat_id: chat,
            user_id: user,
            text: "wake".into(),
            ..UserMessage::default()
        })
        .unwrap();
    });
    let got = h.updates(json!({"timeout": 20})).await;
    assert_eq!(got.len(), 1);
    assert!(t0.elapsed() < Duration::from_secs(5));
    assert_eq!(got[0]["message"]["text"], "wake");
    poster.await.unwrap();
    // An empty long poll answers after the timeout.
    let t0 = std::time::Instant::now();
    assert!(
        h.updates(json!({"offset": 2, "timeout": 1}))
            .await
            .is_empty()
    );
    assert!(t0.elapsed() >= Duration::from_millis(900));
}

#[tokio::test]
async fn second_poll_terminates_the_first() {
    let h = start().await;
    let first = {
        let http = h.http.clone();
        let url = format!("{}/bot{}/getUpdates", h.base, h.sim.token());
        tokio::spawn(async move {
            let r = http
                .post(url)
                .json(&json!({"timeout": 30}))
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(h.updates(json!({"timeout": 0})).await.is_empty());
    let (status, body) = first.await.unwrap();
    assert_eq!(status, 409);
    assert!(
        body["description"]
            .as_str()
            .unwrap()
            .starts_with("Conflict: terminated by other getUpdates")
    );
}

#[tokio::test]
async fn allowed_updates_is_remembered() {
    let h = start().await;
    let (chat, user) = h.group();
    h.updates(json!({"allowed_updates": ["callback_query"]}))
        .await;
    h.say(chat, user, "ignored");
    // Not specifying allowed_updates keeps the previous filter.
    assert!(h.updates(json!({})).await.is_empty());
    assert_eq!(h.sim.stats().filtered, 1);
    h.updates(json!({"allowed_updates": []})).await;
    h.say(chat, user, "seen");
    let got = h.updates(json!({})).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["message"]["text"], "seen");
}

#[tokio::test]
async fn webhook_blocks_get_updates_and_delivers() {
    let h = start().await;
    let (chat, user) = h.group();
    // A webhook receiver that fails the first delivery, then accepts.
    let received =
        std::sync::Arc::new(std::sync::Mutex::new(Vec::<(Option<String>, Value)>::new()));
    let hook = {
        let received = received.clone();
        let fails = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(1));
        axum::Router::new().route(
            "/hook",
            axum::routing::post(
                move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                    let received = received.clone();
                    let fails = fails.clone();
                    async move {
                        if fails.fetch_sub(1, std::sync::atomic::Ordering::SeqCst) == 1 {
                            return axum::http::StatusCode::BAD_GATEWAY;
                        }
                        let secret = headers
                            .get("X-Telegram-Bot-Api-Secret-Token")
                            .map(|v| v.to_str().unwrap().to_owned());
                        received
                            .lock()
                            .unwrap()
                            .push((secret, serde_json::from_slice(&body).unwrap()));
                        axum::http::StatusCode::OK
                    }
                },
            ),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, hook).await });
    h.say(chat, user, "one");
    let (s, v) = h
        .call(
            "setWebhook",
            json!({"url": hook_url, "secret_token": "s3cr3t"}),
        )
        .await;
    assert_eq!((s, &v["result"]), (200, &json!(true)), "{v}");
    let (s, v) = h.call("getUpdates", json!({})).await;
    assert_eq!(s, 409);
    assert_eq!(
        v["description"],
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
    );
    h.say(chat, user, "two");
    for _ in 0..100 {
        if h.sim.delivery_log().len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].0.as_deref(), Some("s3cr3t"));
    assert_eq!(got[0].1["message"]["text"], "one");
    assert_eq!(got[1].1["message"]["text"], "two");
    assert_eq!(h.sim.stats().webhook_failures, 1);
    let (_, info) = h.call("getWebhookInfo", json!({})).await;
    assert_eq!(info["result"]["url"], json!(hook_url));
    assert!(info["result"]["last_error_message"].is_string());
    let (s, _) = h
        .call("deleteWebhook", json!({"drop_pending_updates": true}))
        .await;
    assert_eq!(s, 200);
    assert!(h.updates(json!({})).await.is_empty());
}

#[tokio::test]
async fn faults_are_injected_and_never_lose_updates() {
    let h = start().await;
    let (chat, user) = h.group();
    h.say(chat, user, "a");
    h.say(chat, user, "b");
    h.sim.set_faults(FaultPlan {
        rules: vec![
            FaultRule::once(
                Some("getupdates"),
                Fault::TooManyRequests { retry_after: 7 },
            ),
            FaultRule::once(Some("getUpdates"), Fault::ServerError { status: 502 }),
            FaultRule::once(Some("getUpdates"), Fault::MalformedBody),
            FaultRule::once(Some("getUpdates"), Fault::DropConnection),
            FaultRule::once(Some("getUpdates"), Fault::Slow { delay_ms: 300 }),
        ],
    });
    let (s, v) = h.call("getUpdates", json!({"offset": 2})).await;
    assert_eq!(s, 429);
    assert_eq!(
        v,
        json!({"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}})
    );
    let (s, v) = h.call("getUpdates", json!({"offset": 2})).await;
    assert_eq!((s, v["error_code"].as_u64()), (502, Some(502)));
    let (s, v) = h.call("getUpdates", json!({"offset": 2})).await;
    assert!(s == 200 && v.is_string(), "malformed body expected: {v}");
    let url = format!("{}/bot{}/getUpdates", h.base, h.sim.token());
    let err = h
        .http
        .post(url)
        .json(&json!({"offset": 2}))
        .send()
        .await
        .unwrap_err();
    assert!(!err.is_status(), "connection error expected: {err:?}");
    // None of the faulted calls applied the offset.
    assert!(h.sim.delivery_log().is_empty());
    let t0 = std::time::Instant::now();
    let got = h.updates(json!({"offset": 1})).await;
    assert!(t0.elapsed() >= Duration::from_millis(300));
    assert_eq!(ids(&got), vec![1, 2]);
    assert_eq!(h.sim.stats().faults_injected, 5);
    // Forbidden only for one chat's sends.
    h.sim.set_faults(FaultPlan {
        rules: vec![FaultRule {
            method: Some("sendMessage".into()),
            chat_id: Some(chat),
            fault: Fault::Forbidden {
                description: "Forbidden: bot was blocked by the user".into(),
            },
            times: 0,
            every: 1,
        }],
    });
    let (s, v) = h
        .call("sendMessage", json!({"chat_id": chat, "text": "x"}))
        .await;
    assert_eq!(
        (s, v["description"].as_str()),
        (403, Some("Forbidden: bot was blocked by the user"))
    );
    let other = h.sim.add_chat(NewChat {
        id: None,
        kind: SimChatKind::Group,
        title: "other".into(),
        username: None,
        is_forum: false,
    });
    let (s, _) = h
        .call("sendMessage", json!({"chat_id": other.id, "text": "x"}))
        .await;
    assert_eq!(s, 200);
    h.sim.clear_faults();
    let (s, _) = h
        .call("sendMessage", json!({"chat_id": chat, "text": "x"}))
        .await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn send_edit_delete_and_validation() {
    let h = start().await;
    let (chat, user) = h.group();
    let (s, v) = h
        .call("sendMessage", json!({"chat_id": chat, "text": "  "}))
        .await;
    assert_eq!(
        (s, v["description"].as_str()),
        (400, Some("Bad Request: message text is empty"))
    );
    let long = "ب".repeat(4097);
    let (_, v) = h
        .call("sendMessage", json!({"chat_id": chat, "text": long}))
        .await;
    assert_eq!(v["description"], "Bad Request: message is too long");
    // 4096 UTF-16 units is fine even with HTML markup around it.
    let ok = format!("<b>{}</b>", "x".repeat(4096));
    let (s, _) = h
        .call(
            "sendMessage",
            json!({"chat_id": chat, "text": ok, "parse_mode": "HTML"}),
        )
        .await;
    assert_eq!(s, 200);
    let kb = |data: &str| json!({"inline_keyboard": [[{"text": "b", "callback_data": data}]]});
    let (_, v) = h
        .call(
            "sendMessage",
            json!({"chat_id": chat, "text": "k", "reply_markup": kb(&"x".repeat(65))}),
        )
        .await;
    assert_eq!(v["description"], "Bad Request: BUTTON_DATA_INVALID");
    let (_, v) = h
        .call("sendMessage", json!({"chat_id": 999, "text": "k"}))
        .await;
    assert_eq!(v["description"], "Bad Request: chat not found");
    let (_, v) = h
        .call("sendMessage", json!({"chat_id": user, "text": "k"}))
        .await;
    assert_eq!(v["error_code"], 403);
    let p = h.say(chat, user, "hello");
    let (s, v) = h
        .call(
            "sendMessage",
            json!({"chat_id": "@PubGroup", "text": "hi /help", "reply_markup": kb("d1"),
                   "reply_parameters": {"message_id": p.message_id}}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let m = &v["result"];
    let mid = m["message_id"].as_i64().unwrap();
    assert_eq!(mid, 3); // per-chat ids shared with user messages
    assert_eq!(m["reply_to_message"]["text"], "hello");
    assert_eq!(m["entities"][0]["type"], "bot_command");
    assert_eq!(m["from"]["is_bot"], true);
    let (_, v) = h.call("editMessageText", json!({"chat_id": chat, "message_id": mid, "text": "hi /help", "reply_markup": kb("d1")})).await;
    assert!(
        v["description"]
            .as_str()
            .unwrap()
            .starts_with("Bad Request: message is not modified")
    );
    let (_, v) = h
        .call(
            "editMessageText",
            json!({"chat_id": chat, "message_id": 77, "text": "z"}),
        )
        .await;
    assert_eq!(v["description"], "Bad Request: message to edit not found");
    let (_, v) = h
        .call(
            "editMessageText",
            json!({"chat_id": chat, "message_id": p.message_id, "text": "z"}),
        )
        .await;
    assert_eq!(v["description"], "Bad Request: message can't be edited");
    let (s, v) = h
        .call(
            "editMessageText",
            json!({"chat_id": chat, "message_id": mid, "text": "edited"}),
        )
        .await;
    assert_eq!(s, 200);
    assert!(v["result"]["edit_date"].is_i64());
    let sent = h.sim.sent_to(chat);
    let last = sent.iter().find(|b| b.message_id == mid as i32).unwrap();
    assert!(last.edited && last.reply_markup.is_none() && last.text == "edited");
    let (s, _) = h
        .call(
            "editMessageReplyMarkup",
            json!({"chat_id": chat, "message_id": mid, "reply_markup": kb("d2")}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = h
        .call("deleteMessage", json!({"chat_id": chat, "message_id": mid}))
        .await;
    assert_eq!(s, 200);
    let (_, v) = h
        .call("deleteMessage", json!({"chat_id": chat, "message_id": mid}))
        .await;
    assert_eq!(v["description"], "Bad Request: message to delete not found");
    assert!(h.sim.sent_to(chat).iter().any(|b| b.deleted));
    assert_eq!(h.sim.stats().bot_sends["sendMessage"], 2);
}

#[tokio::test]
async fn callbacks_commands_chat_and_forms() {
    let h = start().await;
    let (chat, user) = h.group();
    let (_, v) = h
        .call(
            "sendMessage",
            json!({"chat_id": chat, "text": "pick",
            "reply_markup": {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}}),
        )
        .await;
    let mid = v["result"]["message_id"].as_i64().unwrap() as i32;
    h.sim.press_button(chat, mid, user, "a".into()).unwrap();
    let ups = h.updates(json!({})).await;
    let cq = &ups[0]["callback_query"];
    assert_eq!(cq["data"], "a");
    assert_eq!(cq["message"]["message_id"], mid);
    let id = cq["id"].as_str().unwrap();
    let (s, _) = h
        .call(
            "answerCallbackQuery",
            json!({"callback_query_id": id, "text": "ok"}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = h
        .call("answerCallbackQuery", json!({"callback_query_id": id}))
        .await;
    assert_eq!(s, 400);
    assert_eq!(h.sim.callback_answers()[0].text.as_deref(), Some("ok"));
    // A url-encoded form, as some clients send.
    let url = format!("{}/bot{}/setMyCommands", h.base, h.sim.token());
    let resp = h
        .http
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("commands=%5B%7B%22command%22%3A%22stats%22%2C%22description%22%3A%22Show+stats%22%7D%5D")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        h.sim.commands(),
        vec![("stats".to_owned(), "Show stats".to_owned())]
    );
    let (_, v) = h.call("getMyCommands", json!({})).await;
    assert_eq!(
        v["result"],
        json!([{"command": "stats", "description": "Show stats"}])
    );
    let (_, v) = h
        .call(
            "setMyCommands",
            json!({"commands": [{"command": "Bad", "description": "x"}]}),
        )
        .await;
    assert_eq!(v["description"], "Bad Request: BOT_COMMAND_INVALID");
    let (_, v) = h.call("getChat", json!({"chat_id": chat})).await;
    assert_eq!(v["result"]["type"], "supergroup");
    assert_eq!(v["result"]["max_reaction_count"], 11);
}
