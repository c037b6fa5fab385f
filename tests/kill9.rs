//! kill -9 at random moments: the real binary runs against the simulator under generated
//! traffic and is SIGKILLed several times. Afterwards every update the simulator saw confirmed is
//! in the store exactly once, and the counters were not inflated by redelivery.

mod common;

use common::{SimServer, wait_until};
use rand::{Rng, SeedableRng};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tgbox::sim::{self, CommunitySpec};
use tokio_util::sync::CancellationToken;

fn start_binary(url: &str, data: &Path, token_file: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_tgbox"))
        .args(["run", "--log-level", "warn", "--api-url", url])
        // The dashboard takes an ephemeral port: tests run side by side.
        .env("TGBOX_WEB_LISTEN", "127.0.0.1:0")
        .arg("--data")
        .arg(data)
        .arg("--token-file")
        .arg(token_file)
        .env("TGBOX_TELEGRAM_POLL_TIMEOUT_SECS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start tgbox")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_random_moments_loses_and_duplicates_nothing() {
    let server = SimServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, server.sim.token()).unwrap();

    let seed: u64 = rand::random();
    eprintln!("kill -9 test seed {seed}");
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
    let community = sim::build_community(&server.sim, seed, CommunitySpec::default());
    let stop_traffic = CancellationToken::new();
    let traffic = tokio::spawn(sim::run_traffic(
        server.sim.clone(),
        community,
        1500.0,
        Some(Duration::from_secs(8)),
        seed,
        stop_traffic.clone(),
    ));

    let mut kills = 0;
    let mut child = start_binary(&server.url, &data, &token_file);
    while !traffic.is_finished() && kills < 6 {
        tokio::time::sleep(Duration::from_millis(rng.random_range(150..1200))).await;
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
        child = start_binary(&server.url, &data, &token_file);
    }
    let report = traffic.await.unwrap();
    eprintln!("traffic: {report:?}; kills: {kills}");
    assert!(
        kills >= 3,
        "the test should kill the appliance several times"
    );

    // Let the last instance catch up, then stop it the polite way.
    server.wait_drained(Duration::from_secs(60)).await;
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let exited = wait_until(Duration::from_secs(15), || {
        matches!(child.try_wait(), Ok(Some(_)))
    })
    .await;
    assert!(exited, "tgbox did not stop within 15 s of SIGTERM");
    assert!(child.wait().unwrap().success(), "graceful stop must exit 0");

    common::assert_archive_matches_deliveries(&server.sim, &data);
    server.stop().await;
}
