//! A dashboard over a real appliance fed by the simulator's community traffic, for the HTTP and
//! browser tests.
#![allow(dead_code)]

pub mod http;

use crate::common::{SimServer, config_for};
use std::sync::Arc;
use std::time::Duration;
use tgbox::app::{self, RunOptions};
use tgbox::config::Secret;
use tgbox::sim::{self, CommunitySpec};
use tgbox::store::SharedStore;
use tgbox::telemetry::{IngestMetrics, Monitor, Registry, Sampler};
use tgbox::web::auth::{Auth, credentials};
use tgbox::web::{WebSettings, WebState, dashboard_router, serve_dashboard};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub const PASSWORD: &str = "test-password-1";
pub const METRICS_TOKEN: &str = "scrape-token-123";

pub struct Dash {
    pub url: String,
    pub store: SharedStore,
    pub state: WebState,
    server: SimServer,
    stop: CancellationToken,
    app: JoinHandle<Result<(), app::AppError>>,
    _dir: tempfile::TempDir,
}

impl Dash {
    /// Simulator + appliance + the dashboard on an ephemeral port, with `messages` of community
    /// traffic archived and a few system samples taken.
    pub async fn start(messages: u64) -> Dash {
        Self::start_with(messages, false).await
    }

    /// With `live`, traffic (5 messages/s) and sampling (every second) go on until `stop`.
    pub async fn start_with(messages: u64, live: bool) -> Dash {
        let dir = tempfile::tempdir().unwrap();
        let server = SimServer::start().await;
        let config = config_for(&server.url, dir.path());
        let store = crate::common::open_store(dir.path());
        credentials::set_password(dir.path(), PASSWORD).unwrap();
        let logs = tgbox::telemetry::init_logging("info", false);
        let registry = Arc::new(Registry::with_logs(logs.clone()));
        let metrics = Arc::new(IngestMetrics::with_registry(Some(registry.clone())));
        let stop = CancellationToken::new();
        let (cfg, st, m, s) = (config.clone(), store.clone(), metrics.clone(), stop.clone());
        let token = Secret::new(server.sim.token());
        let app = tokio::spawn(async move {
            app::run_with_store(&cfg, token, RunOptions::default(), st, m, s).await
        });

        let community = sim::build_community(&server.sim, 7, CommunitySpec::default());
        let rate = 200.0;
        let secs = (messages as f64 / rate).max(0.2);
        let _ = sim::run_traffic(
            server.sim.clone(),
            community.clone(),
            rate,
            Some(Duration::from_secs_f64(secs)),
            7,
            CancellationToken::new(),
        )
        .await;
        server.wait_drained(Duration::from_secs(30)).await;

        let monitor = Arc::new(Monitor::new(80));
        let mut sampler = Sampler::new(dir.path());
        for _ in 0..3 {
            let figures = app::dashboard::storage_figures(&store, dir.path());
            let mut sample = sampler.sample(figures);
            sample.time -= 10;
            monitor.push(sample, &registry);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let figures = app::dashboard::storage_figures(&store, dir.path());
        monitor.push(sampler.sample(figures), &registry);
        let auth = Arc::new(Auth::new(
            dir.path().to_path_buf(),
            credentials::load_hash(dir.path()).unwrap(),
            Duration::from_secs(3600),
        ));
        let state = WebState {
            store: store.clone(),
            registry,
            monitor,
            logs,
            auth,
            maintenance: Some(Arc::new(
                tgbox::service::MaintenanceService::new(store.clone(), None, Default::default())
                    .with_search_index(Arc::new(
                        tgbox::search::SearchIndex::open(&dir.path().join("search")).unwrap(),
                    )),
            )),
            settings: Arc::new(WebSettings {
                secure_cookies: false,
                metrics_token: Some(Secret::new(METRICS_TOKEN)),
                data_dir: dir.path().to_path_buf(),
                session_ttl: Duration::from_secs(3600),
            }),
        };
        if live {
            tokio::spawn(sim::run_traffic(
                server.sim.clone(),
                community,
                5.0,
                None,
                8,
                stop.clone(),
            ));
            let (monitor, registry, stop, dir, store) = (
                state.monitor.clone(),
                state.registry.clone(),
                stop.clone(),
                dir.path().to_path_buf(),
                store.clone(),
            );
            tokio::spawn(async move {
                let mut sampler = Sampler::new(&dir);
                while !stop.is_cancelled() {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    let (st, d) = (store.clone(), dir.clone());
                    let figures = tokio::task::spawn_blocking(move || {
                        app::dashboard::storage_figures(&st, &d)
                    })
                    .await
                    .unwrap_or_default();
                    monitor.push(sampler.sample(figures), &registry);
                }
            });
        }
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let router = dashboard_router(state.clone());
        tokio::spawn(serve_dashboard(listener, router, stop.clone()));
        Dash {
            url,
            store,
            state,
            server,
            stop,
            app,
            _dir: dir,
        }
    }

    pub async fn stop(self) {
        self.stop.cancel();
        let _ = self.app.await;
        self.server.stop().await;
    }
}
