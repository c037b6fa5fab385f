//! Graceful shutdown under load: SIGTERM while updates pour in. The binary must exit 0 within
//! `app.shutdown_timeout_secs`, leave a store that opens without repair, and lose nothing: after
//! a restart drains the rest, every update the simulator saw confirmed is archived exactly once.

mod common;

use common::{SimServer, sigterm, spawn_run, start_traffic, wait_until};
use std::process::Child;
use std::time::{Duration, Instant};
use tgbox::store::redb::needs_repair_for_test;

const BOUND_SECS: u64 = 5;

async fn stop(mut child: Child) -> Duration {
    let asked = Instant::now();
    sigterm(&child);
    let exited = wait_until(Duration::from_secs(BOUND_SECS + 10), || {
        matches!(child.try_wait(), Ok(Some(_)))
    })
    .await;
    assert!(exited, "tgbox did not exit after SIGTERM");
    let took = asked.elapsed();
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "a graceful stop within the bound exits 0, got {status}"
    );
    took
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_stops_in_time_cleanly_and_loses_nothing() {
    let server = SimServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, server.sim.token()).unwrap();

    let traffic = start_traffic(&server, 7, 2000.0, 6);
    let bound = [("TGBOX_APP_SHUTDOWN_TIMEOUT_SECS", BOUND_SECS.to_string())];
    let start = || spawn_run(&server.url, &data, &token_file, &bound);
    let child = start();
    // Stop it in the middle of the traffic.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let took = stop(child).await;
    eprintln!("graceful stop under load took {took:?}");
    assert!(
        took < Duration::from_secs(BOUND_SECS + 2),
        "stop took {took:?}, bound {BOUND_SECS} s"
    );
    assert_eq!(
        needs_repair_for_test(&data),
        Ok(false),
        "a graceful stop must close the store cleanly"
    );
    let confirmed_at_stop = server.sim.stats().confirmed;
    assert!(confirmed_at_stop > 0);

    // A restart takes the rest; nothing confirmed before the stop is missing.
    traffic.await.unwrap();
    let child = start();
    server.wait_drained(Duration::from_secs(60)).await;
    stop(child).await;
    assert_eq!(needs_repair_for_test(&data), Ok(false));
    common::assert_archive_matches_deliveries(&server.sim, &data);
    server.stop().await;
}
