//! Wiring: open the store, start the writer, connect the bot, poll, and shut all of it down
//! along one path (a CancellationToken for "stop", a TaskTracker for "wait until stopped").

pub mod admin;
pub mod backup;
pub mod dashboard;
pub mod demo;
mod intake;
pub mod maintenance;
pub mod offline;
pub mod retention;
pub mod search;
pub mod supervise;

pub use intake::{SECRET_FILE, load_or_create_secret};
pub use supervise::Notifier;

use crate::bot::{self, Handlers};
use crate::cache::{AppCache, CachedStore};
use crate::config::{Backend, Config, Secret, StorageConfig};
use crate::ingest::{Writer, WriterConfig};
use crate::store::redb::{RedbOptions, RedbStore};
use crate::store::{OpenError, SharedStore, StoreError};
use crate::telemetry::IngestMetrics;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

#[derive(Debug, Error)]
pub enum AppError {
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Bot(#[from] bot::BotError),
    #[error(transparent)]
    Poll(#[from] bot::PollError),
    #[error("cannot start the writer thread: {0}")]
    Thread(#[source] std::io::Error),
    #[error("internal task failed: {0}")]
    Join(String),
    #[error("dashboard: {what}: {source}")]
    Web {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("webhook: {0}")]
    Webhook(String),
    #[error("cannot read or write the webhook secret {path}: {source}")]
    SecretFile {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "shutdown took longer than app.shutdown_timeout_secs ({0} s); exiting anyway (the \
         store recovers on the next start, and nothing unconfirmed is lost)"
    )]
    ShutdownTimeout(u64),
    #[error("{0}")]
    Search(String),
    /// A maintenance tool declined, with the reason as a sentence.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Restore(#[from] crate::store::redb::RestoreError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// How long shutdown waits for reply handlers before it stops waiting (at most half of the
/// shutdown bound).
const HANDLER_DRAIN: Duration = Duration::from_secs(5);

/// Open the configured backend.
pub fn open_store(storage: &StorageConfig) -> Result<SharedStore, OpenError> {
    match storage.backend {
        Backend::Redb => {
            let options = RedbOptions {
                cache_bytes: (storage.cache_mb as usize) << 20,
            };
            let store = RedbStore::open(&storage.dir, &options)?;
            Ok(Arc::new(store))
        }
    }
}

/// Run a blocking store call off the async workers.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AppError::Join(e.to_string()))
}

/// What a finished run did.
#[derive(Debug)]
pub struct RunSummary {
    pub updates_committed: u64,
}

#[derive(Default)]
pub struct RunOptions {
    /// Take over a data directory recorded for another bot.
    pub force: bool,
    /// Where READY/WATCHDOG/STOPPING notifications go (systemd, or nowhere).
    pub notifier: Notifier,
}

/// Run the appliance until `shutdown` fires: store, writer, bot, intake (polling or webhook).
/// Returns after everything is flushed and the store is closed, or with
/// [`AppError::ShutdownTimeout`] when that takes longer than `app.shutdown_timeout_secs`.
pub async fn run_appliance(
    config: &Config,
    token: Secret,
    options: RunOptions,
    metrics: Arc<IngestMetrics>,
    shutdown: CancellationToken,
) -> Result<RunSummary, AppError> {
    let notifier = options.notifier.clone();
    notifier.status("opening the store");
    let storage = config.storage.clone();
    let store = blocking(move || open_store(&storage)).await??;
    tracing::info!(dir = %config.storage.dir.display(), backend = store.backend_name(), "store open");
    notifier.status("connecting to Telegram");
    let run = run_with_store(
        config,
        token,
        options,
        store.clone(),
        metrics.clone(),
        shutdown.clone(),
    );
    let bound = config.app.shutdown_timeout;
    tokio::pin!(run);
    // The bound counts from the stop request.
    let result = tokio::select! {
        biased;
        () = shutdown.cancelled() => {
            notifier.stopping();
            match tokio::time::timeout(bound, &mut run).await {
                Ok(r) => r,
                Err(_) => {
                    tracing::error!(bound = ?bound, "graceful shutdown did not finish in time");
                    return Err(AppError::ShutdownTimeout(bound.as_secs()));
                }
            }
        }
        r = &mut run => r,
    };
    // The writer and the handlers hold their own clones; by now they are gone, so this drop
    // closes the database.
    drop(store);
    tracing::info!("store closed");
    result.map(|()| RunSummary {
        updates_committed: metrics.updates_committed(),
    })
}

/// [`run_appliance`] on a store the caller opened (tests pass fault-injecting stores here).
/// The caller closes the store after this returns.
pub async fn run_with_store(
    config: &Config,
    token: Secret,
    options: RunOptions,
    store: SharedStore,
    metrics: Arc<IngestMetrics>,
    shutdown: CancellationToken,
) -> Result<(), AppError> {
    let registry = metrics.registry();
    // Everything below (writer, bot, search, dashboard) goes through the cache, so every write
    // the app makes invalidates what it changed.
    let cache = Arc::new(AppCache::new(&config.cache, registry.cache().clone()));
    let store: SharedStore = Arc::new(CachedStore::new(store, cache.clone()));
    let (search_config, search_store, search_registry) =
        (config.clone(), store.clone(), registry.clone());
    let search = blocking(move || {
        search::SearchRuntime::start(&search_config, search_store, search_registry)
    })
    .await??;
    let writer_config = WriterConfig {
        max_batch: config.storage.commit_max_batch,
        interval: config.storage.commit_interval,
        on_commit: Some(search.commit_hook()),
        ..WriterConfig::default()
    };
    let (writer, writer_handle) =
        Writer::start(store.clone(), writer_config, metrics).map_err(AppError::Thread)?;
    let maintenance = {
        let (store, compactor, schedule, index) = (
            store.clone(),
            search.index_compactor(),
            maintenance::schedule(config),
            search.index.clone(),
        );
        Arc::new(
            blocking(move || {
                crate::service::MaintenanceService::new(store, Some(compactor), schedule)
                    .with_search_index(index)
            })
            .await?,
        )
    };
    // The retention sweep (scheduled in `run_bot`), also the Storage page's "last cleanup" and
    // "Run cleanup".
    let sweeper = retention::service(config, store.clone(), search.commit_hook().0);
    maintenance.set_cleanup(retention::cleanup_hooks(sweeper.clone()));
    let upkeep = shutdown.child_token();
    let started = dashboard::start(
        config,
        store.clone(),
        registry.clone(),
        maintenance.clone(),
        cache.clone(),
        &shutdown,
    )
    .await;
    let dashboard = match started {
        Ok(d) => d,
        Err(e) => {
            drop(writer_handle);
            blocking(move || writer.join()).await?;
            blocking(move || search.stop()).await?;
            return Err(e);
        }
    };
    // Without the socket the appliance still runs: `tgbox backup` then says it cannot reach
    // it, and the dashboard's download still works.
    let control = match backup::serve_control(&config.storage.dir, store.clone(), upkeep.clone()) {
        Ok(task) => Some(task),
        Err(e) => {
            tracing::warn!(error = %e, "no control socket: `tgbox backup` cannot reach this appliance");
            None
        }
    };
    let scheduler = maintenance::spawn_scheduler(maintenance, upkeep.clone());
    let result = run_bot(
        config,
        token,
        options,
        store,
        registry,
        search,
        sweeper,
        writer,
        writer_handle,
        shutdown,
    )
    .await;
    upkeep.cancel();
    let _ = scheduler.await;
    if let Some(control) = control {
        let _ = control.await;
    }
    dashboard.stop().await;
    result
}

/// Connect, bind, take updates until shutdown, then drain the handlers and the writer.
#[allow(clippy::too_many_arguments)]
async fn run_bot(
    config: &Config,
    token: Secret,
    options: RunOptions,
    store: SharedStore,
    registry: Arc<crate::telemetry::Registry>,
    search: search::SearchRuntime,
    sweeper: Arc<crate::service::RetentionService>,
    writer: Writer,
    writer_handle: crate::ingest::WriterHandle,
    shutdown: CancellationToken,
) -> Result<(), AppError> {
    let connected = bot::connect(token, &config.telegram.api_url, &shutdown).await;
    let tg = match connected {
        Ok(tg) => tg,
        Err(e) => {
            drop(writer_handle);
            blocking(move || writer.join()).await?;
            blocking(move || search.stop()).await?;
            return match e {
                bot::BotError::Cancelled => Ok(()),
                e => Err(e.into()),
            };
        }
    };
    let identity = tg.identity.clone();
    let (bind_store, force) = (store.clone(), options.force);
    blocking(move || bind_store.bind_bot(&identity, force)).await??;
    let read_store = store.clone();
    let start_after = blocking(move || read_store.last_update_id()).await??;

    let tracker = TaskTracker::new();
    // Broadcasts: one job at a time, resumed after a restart; stops with the handlers.
    let transport = Arc::new(bot::TelegramBroadcast::new(tg.bot.clone()));
    tracker.spawn(
        crate::service::broadcast::BroadcastRunner::new(
            store.clone(),
            transport,
            crate::service::broadcast::BroadcastSettings::default(),
        )
        .run(shutdown.clone()),
    );
    retention::spawn(
        &tracker,
        sweeper,
        config.retention.sweep_interval,
        shutdown.clone(),
    );
    let handlers = Handlers::with_registry(
        tg.bot.clone(),
        tg.identity.username.clone(),
        store.clone(),
        Some(registry),
    )
    .with_search(search.service.clone())
    .with_dialogue_ttl(config.bot.dialogue_ttl);
    for problem in crate::i18n::check_catalogs() {
        tracing::warn!(%problem, "text catalog");
    }
    let intake_result = intake::run(intake::Intake {
        config,
        tg,
        start_after,
        writer: writer_handle,
        handlers,
        tracker: tracker.clone(),
        notifier: &options.notifier,
        shutdown: shutdown.clone(),
    })
    .await;
    // Intake has stopped (shutdown, or a fatal error): stop everything else.
    shutdown.cancel();
    tracker.close();
    let drain = HANDLER_DRAIN.min(config.app.shutdown_timeout / 2);
    if tokio::time::timeout(drain, tracker.wait()).await.is_err() {
        tracing::warn!("some replies were still being sent at shutdown and were abandoned");
    }
    // Intake consumed the last writer handle: the writer drains its queue and exits.
    blocking(move || writer.join()).await?;
    tracing::info!("writer flushed");
    // After the writer: the outbox is final, so the indexer's last pass leaves nothing behind.
    blocking(move || search.stop()).await?;
    intake_result
}

/// Cancel `token` on SIGINT or SIGTERM.
pub fn cancel_on_signals(token: CancellationToken) {
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            match signal(SignalKind::terminate()) {
                Ok(mut term) => {
                    tokio::select! {
                        _ = ctrl_c => {}
                        _ = term.recv() => {}
                    }
                }
                Err(_) => {
                    let _ = ctrl_c.await;
                }
            }
        }
        #[cfg(not(unix))]
        {
            let _ = ctrl_c.await;
        }
        tracing::info!("shutdown requested");
        token.cancel();
    });
}
