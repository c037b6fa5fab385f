//! The real binary under test: `tgbox run` with test defaults, community traffic, and kill -9
//! at random moments.

use super::SimServer;
use rand::{Rng, SeedableRng};
use std::ops::Range;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tgbox::sim::{self, CommunitySpec, TrafficReport};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// `tgbox run` against the simulator at `url`: a 1 s long poll, logs at warn, and the dashboard
/// on an ephemeral port (tests run side by side, and a developer's :8080 may be taken). `env`
/// adds or overrides `TGBOX_*` variables.
pub fn spawn_run(url: &str, data: &Path, token_file: &Path, env: &[(&str, String)]) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tgbox"));
    cmd.args(["run", "--log-level", "warn", "--api-url", url])
        .arg("--data")
        .arg(data)
        .arg("--token-file")
        .arg(token_file)
        .env("TGBOX_WEB_LISTEN", "127.0.0.1:0")
        .env("TGBOX_TELEGRAM_POLL_TIMEOUT_SECS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    for (name, value) in env {
        cmd.env(name, value);
    }
    cmd.spawn().expect("start tgbox")
}

/// The simulator's community traffic: `rate` messages/s for `secs`, generated from `seed`.
pub fn start_traffic(
    server: &SimServer,
    seed: u64,
    rate: f64,
    secs: u64,
) -> JoinHandle<TrafficReport> {
    let community = sim::build_community(&server.sim, seed, CommunitySpec::default());
    tokio::spawn(sim::run_traffic(
        server.sim.clone(),
        community,
        rate,
        Some(Duration::from_secs(secs)),
        seed,
        CancellationToken::new(),
    ))
}

/// SIGKILL the binary after random pauses (milliseconds from `pause_ms`) and start it again with
/// `restart`, until `traffic` ends or after `max_kills`. Returns the running instance and how
/// many times it was killed.
pub async fn kill_at_random_moments(
    mut child: Child,
    mut restart: impl FnMut() -> Child,
    traffic: &JoinHandle<TrafficReport>,
    seed: u64,
    pause_ms: Range<u64>,
    max_kills: u32,
) -> (Child, u32) {
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
    let mut kills = 0;
    while !traffic.is_finished() && kills < max_kills {
        tokio::time::sleep(Duration::from_millis(rng.random_range(pause_ms.clone()))).await;
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
        child = restart();
    }
    (child, kills)
}

/// SIGTERM the binary and assert that it exits 0 within 15 s.
pub async fn stop_gracefully(mut child: Child) {
    super::sigterm(&child);
    let exited = super::wait_until(Duration::from_secs(15), || {
        matches!(child.try_wait(), Ok(Some(_)))
    })
    .await;
    assert!(exited, "tgbox did not stop within 15 s of SIGTERM");
    assert!(child.wait().unwrap().success(), "graceful stop must exit 0");
}
