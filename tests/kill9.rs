//! kill -9 at random moments: the real binary runs against the simulator under generated
//! traffic and is SIGKILLed several times. Afterwards every update the simulator saw confirmed is
//! in the store exactly once, and the counters were not inflated by redelivery.

mod common;

use common::{SimServer, kill_at_random_moments, spawn_run, start_traffic, stop_gracefully};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_random_moments_loses_and_duplicates_nothing() {
    let server = SimServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, server.sim.token()).unwrap();

    let seed: u64 = rand::random();
    eprintln!("kill -9 test seed {seed}");
    let traffic = start_traffic(&server, seed, 1500.0, 8);
    let start = || spawn_run(&server.url, &data, &token_file, &[]);
    let (child, kills) = kill_at_random_moments(start(), start, &traffic, seed, 150..1200, 6).await;
    let report = traffic.await.unwrap();
    eprintln!("traffic: {report:?}; kills: {kills}");
    assert!(
        kills >= 3,
        "the test should kill the appliance several times"
    );

    // Let the last instance catch up, then stop it the polite way.
    server.wait_drained(Duration::from_secs(60)).await;
    stop_gracefully(child).await;

    common::assert_archive_matches_deliveries(&server.sim, &data);
    server.stop().await;
}
