//! Shared helpers for the end-to-end tests: a simulator on loopback, the real appliance
//! in-process (or the real binary), and polling waits.
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tgbox::app::{self, AppError, RunOptions, RunSummary};
use tgbox::config::{Config, ConfigBuilder, Secret};
use tgbox::sim::{NewChat, NewUser, Sim, SimChat, SimChatKind, SimConfig, SimUser};
use tgbox::store::SharedStore;
use tgbox::telemetry::IngestMetrics;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub struct SimServer {
    pub sim: Sim,
    pub url: String,
    stop: CancellationToken,
    task: JoinHandle<std::io::Result<()>>,
}

impl SimServer {
    pub async fn start() -> SimServer {
        let sim = Sim::new(SimConfig::default());
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let stop = CancellationToken::new();
        let task = tokio::spawn(sim.clone().serve(listener, stop.clone()));
        SimServer {
            sim,
            url,
            stop,
            task,
        }
    }

    pub async fn stop(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }

    pub fn user(&self, first_name: &str, username: Option<&str>) -> SimUser {
        self.sim.add_user(NewUser {
            first_name: first_name.into(),
            username: username.map(str::to_string),
            language_code: Some("en".into()),
            ..NewUser::default()
        })
    }

    pub fn group(&self, title: &str) -> SimChat {
        self.sim.add_chat(NewChat {
            id: None,
            kind: SimChatKind::Supergroup,
            title: title.into(),
            username: None,
            is_forum: false,
        })
    }

    pub fn private_chat(&self, user: &SimUser) -> SimChat {
        self.sim.add_chat(NewChat {
            id: Some(user.id as i64),
            kind: SimChatKind::Private,
            title: String::new(),
            username: user.username.clone(),
            is_forum: false,
        })
    }

    /// Wait until the appliance confirmed everything the simulator queued.
    pub async fn wait_drained(&self, timeout: Duration) {
        let sim = self.sim.clone();
        assert!(
            wait_until(timeout, move || sim.stats().queued == 0).await,
            "the appliance did not confirm all updates in time: {:?}",
            self.sim.stats()
        );
    }
}

pub fn config_for(api_url: &str, dir: &Path) -> Config {
    ConfigBuilder::new()
        .flag("telegram.api_url", Some(api_url.to_string()))
        .flag("storage.dir", Some(dir.display().to_string()))
        .flag("telegram.poll_timeout_secs", Some("1".into()))
        .build()
        .unwrap()
}

pub struct RunningApp {
    stop: CancellationToken,
    task: JoinHandle<Result<RunSummary, AppError>>,
    pub metrics: Arc<IngestMetrics>,
}

impl RunningApp {
    pub fn start(server: &SimServer, dir: &Path) -> RunningApp {
        Self::start_with(server, config_for(&server.url, dir))
    }

    /// Start with a configuration of the test's own (from [`config_for`], adjusted).
    pub fn start_with(server: &SimServer, config: Config) -> RunningApp {
        let token = Secret::new(server.sim.token());
        let stop = CancellationToken::new();
        let metrics = Arc::new(IngestMetrics::new());
        let (m, s) = (metrics.clone(), stop.clone());
        let task = tokio::spawn(async move {
            app::run_appliance(&config, token, RunOptions { force: false }, m, s).await
        });
        RunningApp {
            stop,
            task,
            metrics,
        }
    }

    pub async fn stop(self) -> RunSummary {
        self.stop.cancel();
        self.task.await.unwrap().unwrap()
    }
}

pub fn open_store(dir: &Path) -> SharedStore {
    let config = config_for("http://127.0.0.1:1", dir);
    app::open_store(&config.storage).unwrap()
}

pub async fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cond()
}
