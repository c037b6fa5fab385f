//! A full disk stops ingest with a clear error and confirms nothing; when space is freed,
//! ingest resumes by itself and every update is archived exactly once.

mod common;

#[path = "store_redb/backends.rs"]
#[allow(dead_code)]
mod backends;

use backends::{DiskControl, FullDisk};
use common::{SimServer, config_for, wait_until};
use std::sync::Arc;
use std::time::Duration;
use tgbox::app::{self, RunOptions};
use tgbox::config::Secret;
use tgbox::domain::ChatId;
use tgbox::sim::UserMessage;
use tgbox::store::SharedStore;
use tgbox::store::redb::{FILE_NAME, RedbOptions, RedbStore};
use tgbox::telemetry::IngestMetrics;
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_disk_pauses_ingest_and_it_resumes_when_space_is_freed() {
    let server = SimServer::start().await;
    let sim = &server.sim;
    let dir = tempfile::tempdir().unwrap();
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
    let config = config_for(&server.url, dir.path());
    let stop = CancellationToken::new();
    let metrics = Arc::new(IngestMetrics::new());
    let app = {
        let (store, stop, metrics) = (store.clone(), stop.clone(), metrics.clone());
        let token = Secret::new(sim.token());
        tokio::spawn(async move {
            app::run_with_store(&config, token, RunOptions::default(), store, metrics, stop).await
        })
    };

    let user = server.user("Frank", None);
    let group = server.group("Tight disk");
    sim.join(group.id, user.id).unwrap();
    let say = |text: String| {
        sim.send(UserMessage {
            chat_id: group.id,
            user_id: user.id,
            text,
            ..UserMessage::default()
        })
        .unwrap()
    };
    for i in 0..10 {
        say(format!("plenty of space {i}"));
    }
    server.wait_drained(Duration::from_secs(20)).await;
    let confirmed_before = sim.stats().confirmed;

    control.fill_after(0);
    for i in 0..10 {
        say(format!("disk is full {i}"));
    }
    let m = metrics.clone();
    assert!(
        wait_until(Duration::from_secs(10), || m.snapshot().commit_errors >= 2).await,
        "no failed commit seen"
    );
    // Nothing written while the disk is full is confirmed to Telegram.
    assert_eq!(sim.stats().confirmed, confirmed_before);
    assert_eq!(sim.stats().queued, 10);

    control.free_space();
    server.wait_drained(Duration::from_secs(60)).await;
    stop.cancel();
    app.await.unwrap().unwrap();

    let chat = store.chat(ChatId(group.id)).unwrap().unwrap();
    assert_eq!(
        chat.message_count, 20,
        "every message once, none lost and none doubled"
    );
    let texts: Vec<String> = store
        .messages_page(Some(ChatId(group.id)), None, 100)
        .unwrap()
        .into_iter()
        .map(|m| m.text)
        .collect();
    assert!(texts.iter().any(|t| t == "disk is full 9"), "{texts:?}");
    server.stop().await;
}
