//! kill -9 in webhook mode: the real binary receives updates from the simulator's webhook
//! delivery under generated traffic and is SIGKILLed at random moments. An update is confirmed
//! (answered 2xx) only after its transaction committed, so afterwards every update the simulator
//! saw confirmed is in the store exactly once.

mod common;

use common::{
    SimServer, free_port, kill_at_random_moments, spawn_run, start_traffic, stop_gracefully,
};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_kill_9_at_random_moments_loses_and_duplicates_nothing() {
    let server = SimServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, server.sim.token()).unwrap();
    let port = free_port();

    let seed: u64 = rand::random();
    eprintln!("webhook kill -9 test seed {seed}");
    // One update per request: a few hundred per second is what one connection carries.
    let traffic = start_traffic(&server, seed, 300.0, 8);
    let webhook = [
        ("TGBOX_TELEGRAM_MODE", "webhook".to_string()),
        (
            "TGBOX_TELEGRAM_WEBHOOK_URL",
            format!("http://127.0.0.1:{port}/tgbox/webhook"),
        ),
        ("TGBOX_TELEGRAM_WEBHOOK_LISTEN", format!("127.0.0.1:{port}")),
    ];
    let start = || spawn_run(&server.url, &data, &token_file, &webhook);
    let (child, kills) = kill_at_random_moments(start(), start, &traffic, seed, 300..1500, 6).await;
    let report = traffic.await.unwrap();
    eprintln!("traffic: {report:?}; kills: {kills}");
    assert!(
        kills >= 3,
        "the test should kill the appliance several times"
    );

    server.wait_drained(Duration::from_secs(90)).await;
    let stats = server.sim.stats();
    assert!(stats.webhook_deliveries > 0, "{stats:?}");
    assert_eq!(stats.get_updates_calls, 0, "webhook mode must not poll");
    stop_gracefully(child).await;

    common::assert_archive_matches_deliveries(&server.sim, &data);
    server.stop().await;
}
