//! kill -9 in webhook mode: the real binary receives updates from the simulator's webhook
//! delivery under generated traffic and is SIGKILLed at random moments. An update is confirmed
//! (answered 2xx) only after its transaction committed, so afterwards every update the simulator
//! saw confirmed is in the store exactly once.

mod common;

use common::{SimServer, free_port, sigterm, wait_until};
use rand::{Rng, SeedableRng};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tgbox::sim::{self, CommunitySpec};
use tokio_util::sync::CancellationToken;

fn start_binary(url: &str, data: &Path, token_file: &Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_tgbox"))
        .args(["run", "--log-level", "warn", "--api-url", url])
        // The dashboard takes an ephemeral port: tests run side by side.
        .env("TGBOX_WEB_LISTEN", "127.0.0.1:0")
        .arg("--data")
        .arg(data)
        .arg("--token-file")
        .arg(token_file)
        .env("TGBOX_TELEGRAM_MODE", "webhook")
        .env(
            "TGBOX_TELEGRAM_WEBHOOK_URL",
            format!("http://127.0.0.1:{port}/tgbox/webhook"),
        )
        .env("TGBOX_TELEGRAM_WEBHOOK_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start tgbox")
}

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
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
    let community = sim::build_community(&server.sim, seed, CommunitySpec::default());
    let stop_traffic = CancellationToken::new();
    // One update per request: a few hundred per second is what one connection carries.
    let traffic = tokio::spawn(sim::run_traffic(
        server.sim.clone(),
        community,
        300.0,
        Some(Duration::from_secs(8)),
        seed,
        stop_traffic.clone(),
    ));

    let mut kills = 0;
    let mut child = start_binary(&server.url, &data, &token_file, port);
    while !traffic.is_finished() && kills < 6 {
        tokio::time::sleep(Duration::from_millis(rng.random_range(300..1500))).await;
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
        child = start_binary(&server.url, &data, &token_file, port);
    }
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
    sigterm(&child);
    let exited = wait_until(Duration::from_secs(15), || {
        matches!(child.try_wait(), Ok(Some(_)))
    })
    .await;
    assert!(exited, "tgbox did not stop within 15 s of SIGTERM");
    assert!(child.wait().unwrap().success(), "graceful stop must exit 0");

    common::assert_archive_matches_deliveries(&server.sim, &data);
    server.stop().await;
}
