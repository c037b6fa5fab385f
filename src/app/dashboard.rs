//! Starting the dashboard beside the appliance: the system sampler task, the admin password
//! (or the one-time setup link), and the web server on `web.listen`.

use super::AppError;
use crate::cache::AppCache;
use crate::config::{Config, Secret};
use crate::store::SharedStore;
use crate::telemetry::sampler::SAMPLE_SECS;
use crate::telemetry::{Monitor, Registry, Sampler, StorageFigures, TableFigure};
use crate::web::auth::{Auth, credentials};
use crate::web::{self, WebSettings, WebState};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The running dashboard and sampler; [`Dashboard::stop`] ends both.
pub struct Dashboard {
    pub addr: Option<SocketAddr>,
    stop: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl Dashboard {
    pub async fn stop(self) {
        self.stop.cancel();
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// Bytes of the files directly in `dir` (the store) and below its sub-directories (indexes).
fn dir_sizes(dir: &Path) -> (u64, u64) {
    fn tree(p: &Path, depth: u32) -> u64 {
        let Ok(entries) = std::fs::read_dir(p) else {
            return 0;
        };
        entries
            .flatten()
            .map(|e| match e.metadata() {
                Ok(m) if m.is_dir() && depth < 8 => tree(&e.path(), depth + 1),
                Ok(m) => m.len(),
                Err(_) => 0,
            })
            .sum()
    }
    let (mut top, mut below) = (0, 0);
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            match e.metadata() {
                Ok(m) if m.is_dir() => below += tree(&e.path(), 1),
                Ok(m) => top += m.len(),
                Err(_) => {}
            }
        }
    }
    (top, below)
}

/// Users active in the last 24 h, reading the activity index newest first in growing chunks.
fn active_users_24h(store: &SharedStore) -> u64 {
    let since = chrono::Utc::now().timestamp() - 86_400;
    let mut limit = 256;
    loop {
        let Ok(users) = store.users_by_activity(limit) else {
            return 0;
        };
        let active = users
            .iter()
            .take_while(|u| u.last_activity_at.0 >= since)
            .count();
        if active < users.len() || users.len() < limit || limit >= 1 << 20 {
            return active as u64;
        }
        limit *= 4;
    }
}

/// The storage figures the sampler records: file sizes, rows, active users.
pub fn storage_figures(store: &SharedStore, dir: &Path) -> StorageFigures {
    let (store_bytes, index_bytes) = dir_sizes(dir);
    let rows = match store.counts() {
        Ok(c) => vec![
            ("users".to_string(), c.users),
            ("chats".to_string(), c.chats),
            ("members".to_string(), c.members),
            ("messages".to_string(), c.messages),
            ("search_outbox".to_string(), c.outbox_pending),
            ("quarantine".to_string(), c.quarantined),
        ],
        Err(_) => Vec::new(),
    };
    let tables = match store.table_stats() {
        Ok(stats) => stats
            .into_iter()
            .map(|t| TableFigure {
                name: t.name,
                rows: t.rows,
                stored_bytes: t.stored_bytes,
                metadata_bytes: t.metadata_bytes,
                fragmented_bytes: t.fragmented_bytes,
            })
            .collect(),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the store's table sizes");
            Vec::new()
        }
    };
    StorageFigures {
        store_bytes,
        index_bytes,
        rows,
        active_users_24h: active_users_24h(store),
        tables,
    }
}

/// Sample every [`SAMPLE_SECS`] until `stop`.
fn spawn_sampler(
    store: SharedStore,
    registry: Arc<Registry>,
    cache: Arc<AppCache>,
    monitor: Arc<Monitor>,
    dir: std::path::PathBuf,
    stop: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let sampler = Arc::new(std::sync::Mutex::new(Sampler::new(&dir)));
        let mut tick = tokio::time::interval(Duration::from_secs(SAMPLE_SECS));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = tick.tick() => {}
            }
            let (store, dir, sampler) = (store.clone(), dir.clone(), sampler.clone());
            let sample = tokio::task::spawn_blocking(move || {
                let figures = storage_figures(&store, &dir);
                sampler.lock().ok().map(|mut s| s.sample(figures))
            })
            .await;
            if let Ok(Some(sample)) = sample {
                cache.on_memory_sample(sample.rss_bytes, sample.system_total_bytes);
                monitor.push(sample, &registry);
            }
        }
    })
}

fn read_metrics_token(path: &Path) -> Result<Secret, AppError> {
    let text = std::fs::read_to_string(path).map_err(|source| AppError::Web {
        what: format!("cannot read web.metrics_token_file {}", path.display()),
        source,
    })?;
    let token = text.lines().next().unwrap_or("").trim().to_string();
    if token.is_empty() {
        return Err(AppError::Web {
            what: format!("web.metrics_token_file {} is empty", path.display()),
            source: std::io::Error::other("empty token file"),
        });
    }
    Ok(Secret::new(token))
}

/// Start the sampler and, if `web.enabled`, the dashboard on `web.listen`.
pub async fn start(
    config: &Config,
    store: SharedStore,
    registry: Arc<Registry>,
    maintenance: Arc<crate::service::MaintenanceService>,
    cache: Arc<AppCache>,
    shutdown: &CancellationToken,
) -> Result<Dashboard, AppError> {
    let stop = shutdown.child_token();
    let dir = config.storage.dir.clone();
    let monitor = Arc::new(Monitor::new(config.telemetry.rss_warn_percent));
    let mut tasks = vec![spawn_sampler(
        store.clone(),
        registry.clone(),
        cache,
        monitor.clone(),
        dir.clone(),
        stop.clone(),
    )];
    if !config.web.enabled {
        return Ok(Dashboard {
            addr: None,
            stop,
            tasks,
        });
    }
    let metrics_token = match &config.web.metrics_token_file {
        Some(p) => Some(read_metrics_token(p)?),
        None => None,
    };
    let hash_dir = dir.clone();
    let hash = super::blocking(move || credentials::load_hash(&hash_dir))
        .await?
        .map_err(|e| AppError::Web {
            what: e.to_string(),
            source: std::io::Error::other("admin file"),
        })?;
    let auth = Arc::new(Auth::new(dir.clone(), hash, config.web.session_ttl));
    let listener = tokio::net::TcpListener::bind(config.web.listen)
        .await
        .map_err(|source| AppError::Web {
            what: format!("cannot listen on web.listen {}", config.web.listen),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| AppError::Web {
        what: "no local address".into(),
        source,
    })?;
    tracing::info!("dashboard on http://{addr}");
    if !auth.has_password() {
        let token = auth.new_setup_token();
        tracing::warn!(
            "no dashboard admin password is set: open http://{addr}/setup?token={token} within \
             30 minutes to choose one (user admin), or run `tgbox admin set-password`"
        );
    }
    let state = WebState {
        store,
        logs: registry.logs().clone(),
        registry,
        monitor,
        auth,
        maintenance: Some(maintenance),
        settings: Arc::new(WebSettings {
            secure_cookies: config.web.secure_cookies,
            metrics_token,
            data_dir: dir,
            session_ttl: config.web.session_ttl,
        }),
    };
    let router = web::dashboard_router(state);
    let web_stop = stop.clone();
    tasks.push(tokio::spawn(async move {
        if let Err(e) = web::serve_dashboard(listener, router, web_stop).await {
            tracing::error!(error = %e, "dashboard server failed");
        }
    }));
    Ok(Dashboard {
        addr: Some(addr),
        stop,
        tasks,
    })
}
