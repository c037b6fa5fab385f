//! The retention sweep on a schedule: a task on the app's tracker that runs
//! [`RetentionService`] every `retention.sweep_interval_minutes` (the first time a minute after
//! start, or sooner with a shorter interval), off the async workers, and stops between batches
//! on shutdown.

use crate::config::Config;
use crate::service::{RetentionError, RetentionService, RetentionSettings};
use crate::store::{SharedStore, now_millis};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Longest wait before the first sweep after start.
const FIRST_SWEEP_AFTER: Duration = Duration::from_secs(60);

pub fn settings(config: &Config) -> RetentionSettings {
    RetentionSettings {
        days: config.retention.days,
        batch_size: config.retention.batch_size,
        ..RetentionSettings::default()
    }
}

/// The service for this configuration; `wake` is called after each batch (the search indexer).
pub fn service(
    config: &Config,
    store: SharedStore,
    wake: Arc<dyn Fn() + Send + Sync>,
) -> Arc<RetentionService> {
    Arc::new(RetentionService::new(store, settings(config)).with_on_batch(wake))
}

/// Sweep every `interval` (the first time after a minute, or `interval` if shorter) until
/// `shutdown`.
pub fn spawn(
    tracker: &TaskTracker,
    service: Arc<RetentionService>,
    interval: Duration,
    shutdown: CancellationToken,
) {
    spawn_with_first(
        tracker,
        service,
        FIRST_SWEEP_AFTER.min(interval),
        interval,
        shutdown,
    )
}

/// [`spawn`] with the delay of the first sweep given (tests).
pub fn spawn_with_first(
    tracker: &TaskTracker,
    service: Arc<RetentionService>,
    first_after: Duration,
    interval: Duration,
    shutdown: CancellationToken,
) {
    tracker.spawn(async move {
        let first = tokio::time::Instant::now() + first_after;
        let mut tick = tokio::time::interval_at(first, interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = tick.tick() => {}
            }
            let (svc, stop) = (service.clone(), shutdown.clone());
            let run =
                tokio::task::spawn_blocking(move || svc.run_at(now_millis(), &|| stop.is_cancelled()))
                    .await;
            match run {
                Ok(Ok(r)) if r.messages_removed > 0 || r.keys_removed > 0 => tracing::info!(
                    messages = r.messages_removed,
                    keys = r.keys_removed,
                    batches = r.batches,
                    ms = r.duration_ms,
                    "retention sweep done"
                ),
                Ok(Ok(r)) => tracing::debug!(ms = r.duration_ms, "retention sweep: nothing to remove"),
                Ok(Err(RetentionError::Busy)) => {
                    tracing::debug!("retention sweep skipped: one is already running")
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "retention sweep failed; retrying at the next interval"),
                Err(e) => tracing::error!(error = %e, "retention sweep task failed"),
            }
        }
    });
}
