//! Shared helpers for the end-to-end tests: a simulator on loopback, the real appliance
//! in-process (or the real binary), and polling waits.
#![allow(dead_code)]

mod binary;
pub mod chat;

// Not every test uses every helper.
#[allow(unused_imports)]
pub use binary::{kill_at_random_moments, spawn_run, start_traffic, stop_gracefully};

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
        .flag("web.listen", Some("127.0.0.1:0".into()))
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
            app::run_appliance(&config, token, RunOptions::default(), m, s).await
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

/// A config for webhook mode: the receiver on its own loopback port, the URL pointing there.
pub fn webhook_config_for(api_url: &str, dir: &Path, port: u16) -> Config {
    ConfigBuilder::new()
        .flag("telegram.api_url", Some(api_url.to_string()))
        .flag("storage.dir", Some(dir.display().to_string()))
        .flag("telegram.mode", Some("webhook".into()))
        .flag(
            "telegram.webhook_url",
            Some(format!("http://127.0.0.1:{port}/tgbox/webhook")),
        )
        .flag("telegram.webhook_listen", Some(format!("127.0.0.1:{port}")))
        // The dashboard takes an ephemeral port: tests run side by side.
        .flag("web.listen", Some("127.0.0.1:0".into()))
        .build()
        .unwrap()
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    l.local_addr().unwrap().port()
}

/// `tgbox export` of a stopped data directory, one JSON value per message.
pub fn export(data: &Path) -> Vec<serde_json::Value> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tgbox"))
        .args(["export", "--format", "jsonl", "--data"])
        .arg(data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Every update the simulator saw confirmed is in the (stopped) store exactly once with its
/// final text, nothing else is, counters were not inflated by redelivery, and the last
/// committed update id is the last confirmed one.
pub fn assert_archive_matches_deliveries(sim: &Sim, data: &Path) {
    use std::collections::{HashMap, HashSet};
    let delivered = sim.delivery_log();
    let ids: HashSet<u32> = delivered.iter().map(|d| d.update_id).collect();
    assert_eq!(ids.len(), delivered.len(), "an update was confirmed twice");
    let mut expected: HashMap<(i64, i32), String> = HashMap::new();
    for d in &delivered {
        if let (Some(chat), Some(msg)) = (d.chat_id, d.message_id)
            && matches!(
                d.kind.as_str(),
                "message" | "edited_message" | "channel_post" | "edited_channel_post"
            )
        {
            expected.insert((chat, msg), d.text.clone().unwrap_or_default());
        }
    }
    let exported = export(data);
    let mut seen: HashMap<(i64, i32), String> = HashMap::new();
    for line in &exported {
        let key = (
            line["chat_id"].as_i64().unwrap(),
            line["message_id"].as_i64().unwrap() as i32,
        );
        let text = line["text"].as_str().unwrap().to_string();
        assert!(
            seen.insert(key, text).is_none(),
            "message {key:?} exported twice"
        );
    }
    for (key, text) in &expected {
        match seen.get(key) {
            Some(stored) => assert_eq!(stored, text, "message {key:?} has a stale text"),
            None => panic!("confirmed message {key:?} is missing from the store"),
        }
    }
    assert_eq!(
        seen.len(),
        expected.len(),
        "the store holds messages the simulator never confirmed"
    );
    let store = open_store(data);
    let posted: u64 = exported
        .iter()
        .filter(|l| {
            !matches!(
                l["kind"].as_str(),
                Some("members_joined" | "member_left" | "service")
            )
        })
        .count() as u64;
    let chat_total: u64 = store.chats().unwrap().iter().map(|c| c.message_count).sum();
    assert_eq!(chat_total, posted, "counters counted a message twice");
    let last = delivered.iter().map(|d| d.update_id).max();
    assert_eq!(store.last_update_id().unwrap().map(|u| u.0), last);
}

/// Send SIGTERM to a child process.
pub fn sigterm(child: &std::process::Child) {
    let pid = child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
}
