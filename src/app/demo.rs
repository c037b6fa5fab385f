//! `tgbox demo`: the simulator, its community traffic generator, and the real appliance talking
//! to the simulator over HTTP through `telegram.api_url`, in one process.

use super::{AppError, RunOptions, open_store, run_appliance};
use crate::config::{Config, Secret};
use crate::sim::{self, CommunitySpec, Sim, SimConfig};
use crate::telemetry::{IngestMetrics, IngestSnapshot, process};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use thiserror::Error;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Error)]
pub enum DemoError {
    #[error(
        "{0} already holds data that is not from a tgbox demo; choose an empty directory with \
         --data"
    )]
    NotADemoDir(PathBuf),
    #[error("cannot prepare the demo directory {path}: {source}")]
    Dir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the simulator: {0}")]
    Sim(#[source] std::io::Error),
    #[error("cannot set the demo dashboard password: {0}")]
    Password(String),
    #[error(transparent)]
    App(#[from] AppError),
}

pub struct DemoOptions {
    pub data: PathBuf,
    /// Simulated messages per second.
    pub rate: f64,
    /// Stop by itself after this long.
    pub duration: Option<Duration>,
    pub seed: u64,
    /// Print a status line every this often (None: silent).
    pub status_every: Option<Duration>,
}

/// What a demo run measured; `tgbox demo --report FILE` writes it as JSON.
#[derive(Debug, Serialize)]
pub struct DemoReport {
    pub seconds: f64,
    pub target_rate: f64,
    pub updates_produced: u64,
    pub updates_confirmed: u64,
    pub committed_per_sec: f64,
    pub cpu_seconds: Option<f64>,
    pub cpu_us_per_update: Option<f64>,
    pub rss_bytes: Option<u64>,
    pub peak_rss_bytes: Option<u64>,
    pub ingest: IngestSnapshot,
    /// The in-process cache's counters at the end (hit ratio on this workload).
    pub cache: crate::telemetry::CacheSnapshot,
}

/// A previous demo's directory is replaced; anything else that is not empty is refused.
fn prepare_dir(dir: &Path, sim_bot_id: u64) -> Result<(), DemoError> {
    let io = |source| DemoError::Dir {
        path: dir.to_path_buf(),
        source,
    };
    if dir.exists() {
        let non_empty = std::fs::read_dir(dir).map_err(io)?.next().is_some();
        if non_empty {
            let storage = crate::config::StorageConfig {
                dir: dir.to_path_buf(),
                backend: crate::config::Backend::Redb,
                cache_mb: 8,
                commit_interval: Duration::ZERO,
                commit_max_batch: 1,
            };
            let owner = open_store(&storage)
                .ok()
                .and_then(|store| store.bot_identity().ok().flatten());
            match owner {
                Some(bot) if bot.bot_id == sim_bot_id => {
                    std::fs::remove_dir_all(dir).map_err(io)?;
                }
                _ => return Err(DemoError::NotADemoDir(dir.to_path_buf())),
            }
        }
    }
    std::fs::create_dir_all(dir).map_err(io)
}

/// The dashboard port: 8080 when free, else any free port.
async fn pick_web_addr() -> std::net::SocketAddr {
    for port in [8080, 0] {
        if let Ok(l) = tokio::net::TcpListener::bind(("127.0.0.1", port)).await
            && let Ok(addr) = l.local_addr()
        {
            return addr;
        }
    }
    std::net::SocketAddr::from(([127, 0, 0, 1], 0))
}

/// A random demo password (letters and digits).
fn demo_password() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..14)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect()
}

/// `metrics` carries the registry (and log ring) the dashboard shows.
pub async fn run_demo(
    mut config: Config,
    options: DemoOptions,
    metrics: Arc<IngestMetrics>,
    shutdown: CancellationToken,
) -> Result<DemoReport, DemoError> {
    let sim = Sim::new(SimConfig::default());
    let data = options.data.clone();
    let bot_id = sim.bot_id();
    tokio::task::spawn_blocking(move || prepare_dir(&data, bot_id))
        .await
        .map_err(|e| DemoError::App(AppError::Join(e.to_string())))??;

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(DemoError::Sim)?;
    let sim_addr = listener.local_addr().map_err(DemoError::Sim)?;
    let sim_stop = CancellationToken::new();
    let sim_task = tokio::spawn(sim.clone().serve(listener, sim_stop.clone()));

    config.telegram.api_url = format!("http://{sim_addr}");
    config.storage.dir = options.data.clone();
    config.web.enabled = true;
    config.web.listen = pick_web_addr().await;
    let password = demo_password();
    let (dir, pw) = (options.data.clone(), password.clone());
    tokio::task::spawn_blocking(move || crate::web::auth::credentials::set_password(&dir, &pw))
        .await
        .map_err(|e| DemoError::App(AppError::Join(e.to_string())))?
        .map_err(|e| DemoError::Password(e.to_string()))?;
    let token = Secret::new(sim.token());
    println!("tgbox demo");
    println!("  data directory   {}", options.data.display());
    println!(
        "  simulated API    http://{sim_addr} (control API under /control, see docs/SIMULATOR.md)"
    );
    println!(
        "dashboard http://{}  login: admin / {password}",
        config.web.listen
    );
    println!(
        "  traffic          {} messages/s{}",
        options.rate,
        match options.duration {
            Some(d) => format!(" for {} s", d.as_secs()),
            None => ", until Ctrl-C".to_string(),
        }
    );

    let community = sim::build_community(&sim, options.seed, CommunitySpec::default());
    let app_stop = CancellationToken::new();
    let app_config = config.clone();
    let app_metrics = metrics.clone();
    let app_token = app_stop.clone();
    let mut app = tokio::spawn(async move {
        run_appliance(
            &app_config,
            token,
            RunOptions::default(),
            app_metrics,
            app_token,
        )
        .await
    });

    let traffic_stop = CancellationToken::new();
    let mut traffic = tokio::spawn(sim::run_traffic(
        sim.clone(),
        community,
        options.rate,
        options.duration,
        options.seed,
        traffic_stop.clone(),
    ));

    let started = Instant::now();
    let cpu_start = process::cpu_seconds();
    let mut status =
        tokio::time::interval(options.status_every.unwrap_or(Duration::from_secs(3600)));
    status.tick().await;
    let mut last = (Instant::now(), 0u64);
    let mut app_result = None;
    let mut traffic_done = false;
    // Run until the traffic is done (with --duration), Ctrl-C, or the appliance stops.
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            r = &mut app => { app_result = Some(r); break; }
            _ = &mut traffic, if !traffic_done => {
                traffic_done = true;
                if options.duration.is_some() { break; }
            }
            _ = status.tick(), if options.status_every.is_some() => {
                let committed = metrics.updates_committed();
                let now = Instant::now();
                let rate = (committed - last.1) as f64 / now.duration_since(last.0).as_secs_f64().max(1e-9);
                last = (now, committed);
                let snap = metrics.snapshot();
                println!(
                    "[{:>5.0} s] archived {} updates ({:.0}/s now), update-to-commit p99 {:.1} ms, waiting in simulator {}",
                    started.elapsed().as_secs_f64(), committed, rate, snap.update_to_commit.p99_ms, sim.stats().queued
                );
            }
        }
    }
    traffic_stop.cancel();
    if !traffic_done {
        let _ = (&mut traffic).await;
    }
    if app_result.is_none() && !shutdown.is_cancelled() {
        // Let the appliance confirm what the generator produced before stopping it.
        let deadline = Instant::now() + Duration::from_secs(20);
        while sim.stats().queued > 0 && Instant::now() < deadline && !app.is_finished() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    app_stop.cancel();
    let app_result = match app_result {
        Some(r) => r,
        None => app.await,
    };
    sim_stop.cancel();
    let _ = sim_task.await;
    app_result.map_err(|e| AppError::Join(e.to_string()))??;

    let seconds = started.elapsed().as_secs_f64();
    let stats = sim.stats();
    let ingest = metrics.snapshot();
    let cpu = match (cpu_start, process::cpu_seconds()) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    let rss = process::rss_bytes();
    let report = DemoReport {
        seconds,
        target_rate: options.rate,
        updates_produced: stats.produced,
        updates_confirmed: stats.confirmed,
        committed_per_sec: ingest.updates_committed as f64 / seconds.max(1e-9),
        cpu_seconds: cpu,
        cpu_us_per_update: cpu.map(|c| c * 1e6 / (ingest.updates_committed.max(1) as f64)),
        rss_bytes: rss.map(|r| r.0),
        peak_rss_bytes: rss.map(|r| r.1),
        ingest,
        cache: metrics.registry().cache().snapshot(),
    };
    println!(
        "demo finished: {} updates archived in {:.1} s; data in {}",
        report.ingest.updates_committed,
        seconds,
        options.data.display()
    );
    println!(
        "  inspect it with: tgbox stats --data {} --json",
        options.data.display()
    );
    Ok(report)
}
