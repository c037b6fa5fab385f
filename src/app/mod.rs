//! Wiring: open the store, start the writer, connect the bot, poll, and shut all of it down
//! along one path (a CancellationToken for "stop", a TaskTracker for "wait until stopped").

pub mod demo;
pub mod offline;
pub mod search;

use crate::bot::{self, Handlers, PollingConfig};
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
    #[error("{0}")]
    Search(String),
}

/// How long shutdown waits for reply handlers before it stops waiting.
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

pub struct RunOptions {
    /// Take over a data directory recorded for another bot.
    pub force: bool,
}

/// Run the appliance until `shutdown` fires: store, writer, bot, polling. Returns after
/// everything is flushed and the store is closed.
pub async fn run_appliance(
    config: &Config,
    token: Secret,
    options: RunOptions,
    metrics: Arc<IngestMetrics>,
    shutdown: CancellationToken,
) -> Result<RunSummary, AppError> {
    let storage = config.storage.clone();
    let store = blocking(move || open_store(&storage)).await??;
    tracing::info!(dir = %config.storage.dir.display(), backend = store.backend_name(), "store open");
    let result = run_with_store(
        config,
        token,
        options,
        store.clone(),
        metrics.clone(),
        shutdown,
    )
    .await;
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
    let (search_config, search_store) = (config.clone(), store.clone());
    let search =
        blocking(move || search::SearchRuntime::start(&search_config, search_store)).await??;
    let writer_config = WriterConfig {
        max_batch: config.storage.commit_max_batch,
        interval: config.storage.commit_interval,
        on_commit: Some(search.commit_hook()),
        ..WriterConfig::default()
    };
    let (writer, writer_handle) =
        Writer::start(store.clone(), writer_config, metrics).map_err(AppError::Thread)?;

    let connected = bot::connect(token, &config.telegram.api_url, &shutdown).await;
    let tg = match connected {
        Ok(tg) => tg,
        Err(bot::BotError::Cancelled) => {
            drop(writer_handle);
            blocking(move || writer.join()).await?;
            blocking(move || search.stop()).await?;
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    let identity = tg.identity.clone();
    let (bind_store, force) = (store.clone(), options.force);
    blocking(move || bind_store.bind_bot(&identity, force)).await??;
    let read_store = store.clone();
    let start_after = blocking(move || read_store.last_update_id()).await??;
    bot::prepare_polling(&tg).await;

    let tracker = TaskTracker::new();
    let handlers = Handlers::new(tg.bot.clone(), tg.identity.username.clone(), store.clone())
        .with_search(search.service.clone());
    let polling = PollingConfig {
        timeout: config.telegram.poll_timeout,
        ..PollingConfig::default()
    };
    let poll_result = bot::run_polling(
        tg,
        start_after,
        writer_handle,
        handlers,
        polling,
        tracker.clone(),
        shutdown.clone(),
    )
    .await;
    // Polling has stopped (shutdown, or a fatal error): stop everything else.
    shutdown.cancel();
    tracker.close();
    if tokio::time::timeout(HANDLER_DRAIN, tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!("some replies were still being sent at shutdown and were abandoned");
    }
    // `run_polling` consumed the last writer handle: the writer drains its queue and exits.
    blocking(move || writer.join()).await?;
    tracing::info!("writer flushed");
    // After the writer: the outbox is final, so the indexer's last pass leaves nothing behind.
    blocking(move || search.stop()).await?;
    poll_result.map_err(AppError::from)
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
