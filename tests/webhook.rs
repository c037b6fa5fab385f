//! Webhook mode end to end: the real appliance registers its webhook with the simulator, which
//! delivers every update as a POST carrying the secret header. Wrong or missing secrets get 401;
//! a request is answered only after its update committed; concurrent requests share commits;
//! polling mode removes a stale webhook.

mod common;

#[path = "store_redb/backends.rs"]
#[allow(dead_code)]
mod backends;

use backends::{DiskControl, FullDisk};
use common::{
    RunningApp, SimServer, config_for, free_port, open_store, wait_until, webhook_config_for,
};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tgbox::app::{self, RunOptions, SECRET_FILE};
use tgbox::config::Secret;
use tgbox::domain::{ChatId, MessageId};
use tgbox::sim::UserMessage;
use tgbox::store::SharedStore;
use tgbox::store::redb::{FILE_NAME, RedbOptions, RedbStore};
use tgbox::telemetry::IngestMetrics;
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(20);
const GROUP: i64 = -1_009_000_000_001;

fn text(chat_id: i64, user_id: u64, text: &str) -> UserMessage {
    UserMessage {
        chat_id,
        user_id,
        text: text.into(),
        ..UserMessage::default()
    }
}

async fn bot_api(server: &SimServer, method: &str, params: Value) -> Value {
    let url = format!("{}/bot{}/{method}", server.url, server.sim.token());
    let http = reqwest::Client::new();
    http.post(url)
        .json(&params)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn webhook_url_set(server: &SimServer) -> String {
    bot_api(server, "getWebhookInfo", json!({})).await["result"]["url"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn wait_for_webhook(server: &SimServer) {
    let deadline = std::time::Instant::now() + WAIT;
    while webhook_url_set(server).await.is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the appliance did not set its webhook"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A Bot API update as Telegram would post it: a text message in a group.
fn update_json(update_id: u32, message_id: i32, body: &str) -> String {
    json!({
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "date": 1_700_000_000,
            "chat": {"id": GROUP, "type": "supergroup", "title": "Direct"},
            "from": {"id": 4242, "is_bot": false, "first_name": "Dora"},
            "text": body,
        }
    })
    .to_string()
}

async fn post(port: u16, secret: Option<&str>, body: String) -> reqwest::StatusCode {
    let http = reqwest::Client::new();
    let mut req = http
        .post(format!("http://127.0.0.1:{port}/tgbox/webhook"))
        .header("content-type", "application/json")
        .body(body);
    if let Some(s) = secret {
        req = req.header("X-Telegram-Bot-Api-Secret-Token", s);
    }
    req.send().await.unwrap().status()
}

fn read_secret(dir: &Path) -> String {
    std::fs::read_to_string(dir.join(SECRET_FILE))
        .unwrap()
        .trim()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_delivery_with_the_secret_is_committed_and_wrong_secrets_get_401() {
    let server = SimServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let app = RunningApp::start_with(&server, webhook_config_for(&server.url, dir.path(), port));
    wait_for_webhook(&server).await;
    let sim = &server.sim;
    let alice = server.user("Alice", Some("alice"));
    let group = server.group("Hooked");
    let private = server.private_chat(&alice);
    sim.join(group.id, alice.id).unwrap();
    for i in 0..20 {
        sim.send(text(group.id, alice.id, &format!("webhook message {i}")))
            .unwrap();
    }
    sim.send(text(private.id, alice.id, "/start")).unwrap();
    server.wait_drained(WAIT).await;
    let stats = sim.stats();
    assert!(stats.webhook_deliveries >= 22, "{stats:?}");
    assert_eq!(stats.get_updates_calls, 0, "webhook mode must not poll");
    // Handlers run after the commit in webhook mode too.
    let private_id = private.id;
    assert!(
        wait_until(WAIT, || sim
            .sent_to(private_id)
            .iter()
            .any(|m| m.text.contains("Hello")))
        .await
    );

    // The secret was generated into the data directory and is what the simulator sends.
    let secret = read_secret(dir.path());
    assert_eq!(secret.len(), 48);
    let body = update_json(50_000, 1, "direct delivery");
    assert_eq!(post(port, None, body.clone()).await, 401);
    assert_eq!(post(port, Some("wrong"), body.clone()).await, 401);
    let mut almost = secret.clone();
    almost.pop();
    assert_eq!(post(port, Some(&almost), body.clone()).await, 401);
    assert_eq!(post(port, Some(&secret), body.clone()).await, 200);
    // A redelivery is answered 200 and not stored twice.
    assert_eq!(post(port, Some(&secret), body).await, 200);
    // A body that is not an update at all is dropped (as polling drops it), not retried forever.
    assert_eq!(post(port, Some(&secret), "{}".into()).await, 200);

    let summary = app.stop().await;
    assert!(summary.updates_committed >= 23);
    // Stopping does not delete the webhook: Telegram keeps updates for the next start.
    assert!(!webhook_url_set(&server).await.is_empty());
    let store = open_store(dir.path());
    let direct = store.message(ChatId(GROUP), MessageId(1)).unwrap().unwrap();
    assert_eq!(direct.text, "direct delivery");
    assert_eq!(store.chat(ChatId(GROUP)).unwrap().unwrap().message_count, 1);
    let stored = store.chat(ChatId(group.id)).unwrap().unwrap();
    assert_eq!(stored.message_count, 20);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_request_is_answered_only_after_its_update_committed() {
    let server = SimServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let control = Arc::new(DiskControl::default());
    let path = dir.path().join(FILE_NAME);
    let factory_control = control.clone();
    let store: SharedStore = Arc::new(
        RedbStore::open_with_backend_factory(
            move || FullDisk::open(&path, factory_control.clone()),
            &RedbOptions::default(),
        )
        .unwrap(),
    );
    let config = webhook_config_for(&server.url, dir.path(), port);
    let stop = CancellationToken::new();
    let app = {
        let (store, stop) = (store.clone(), stop.clone());
        let token = Secret::new(server.sim.token());
        tokio::spawn(async move {
            let metrics = Arc::new(IngestMetrics::new());
            app::run_with_store(&config, token, RunOptions::default(), store, metrics, stop).await
        })
    };
    wait_for_webhook(&server).await;
    let secret = read_secret(dir.path());

    // No commit can succeed: the request is held open, not answered.
    control.fill_after(0);
    let request = tokio::spawn({
        let secret = secret.clone();
        async move { post(port, Some(&secret), update_json(70_000, 7, "held")).await }
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        !request.is_finished(),
        "answered although the update could not be committed"
    );
    let msg = store.message(ChatId(GROUP), MessageId(7));
    assert!(!matches!(msg, Ok(Some(_))), "{msg:?}");

    // Space comes back: the commit succeeds, and only then the answer is 200.
    control.free_space();
    let status = tokio::time::timeout(WAIT, request).await.unwrap().unwrap();
    assert_eq!(status, 200);
    let stored = store.message(ChatId(GROUP), MessageId(7)).unwrap().unwrap();
    assert_eq!(stored.text, "held");
    stop.cancel();
    app.await.unwrap().unwrap();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_webhook_requests_share_commits() {
    let server = SimServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut config = webhook_config_for(&server.url, dir.path(), port);
    // Gather for a while, as on an SD card, so concurrent requests meet in one transaction.
    config.storage.commit_interval = Duration::from_millis(300);
    let app = RunningApp::start_with(&server, config);
    wait_for_webhook(&server).await;
    let secret = read_secret(dir.path());
    let batches_before = app.metrics.snapshot().batches;
    let requests: Vec<_> = (0..20u32)
        .map(|i| {
            let secret = secret.clone();
            tokio::spawn(async move {
                post(
                    port,
                    Some(&secret),
                    update_json(90_000 + i, 100 + i as i32, &format!("concurrent {i}")),
                )
                .await
            })
        })
        .collect();
    for r in requests {
        assert_eq!(r.await.unwrap(), 200);
    }
    let snap = app.metrics.snapshot();
    let batches = snap.batches - batches_before;
    assert!(
        batches < 20,
        "20 concurrent requests took {batches} transactions"
    );
    app.stop().await;
    let store = open_store(dir.path());
    assert_eq!(
        store.chat(ChatId(GROUP)).unwrap().unwrap().message_count,
        20
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_mode_removes_a_stale_webhook() {
    let server = SimServer::start().await;
    let set = bot_api(
        &server,
        "setWebhook",
        json!({"url": "http://127.0.0.1:9/stale", "secret_token": "old"}),
    )
    .await;
    assert_eq!(set["ok"], true, "{set}");
    let dir = tempfile::tempdir().unwrap();
    let app = RunningApp::start_with(&server, config_for(&server.url, dir.path()));
    let user = server.user("Polly", None);
    let group = server.group("Polled");
    server
        .sim
        .send(text(group.id, user.id, "after the stale webhook"))
        .unwrap();
    server.wait_drained(WAIT).await;
    assert_eq!(webhook_url_set(&server).await, "");
    app.stop().await;
    server.stop().await;
}
