//! The retention sweep on a schedule: a task on the app's tracker that runs
//! [`RetentionService`] every `retention.sweep_interval_minutes` (the first time a minute after
//! start, or sooner with a shorter interval), off the async workers, and stops between batches
//! on shutdown.

use crate::config::Config;
use crate::service::{
    CleanupHooks, CleanupStatus, RetentionError, RetentionService, RetentionSettings, SweepReport,
};
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

/// One line for the Storage page's "last cleanup".
pub fn summary(r: &SweepReport) -> String {
    let mut line = format!(
        "{} messages and {} expired keys removed in {} batches, {:.1} s",
        r.messages_removed,
        r.keys_removed,
        r.batches,
        r.duration_ms as f64 / 1000.0
    );
    match r.global_days {
        0 => line.push_str("; messages kept forever unless a chat says otherwise"),
        d => line.push_str(&format!("; messages kept {d} days")),
    }
    if r.chat_overrides > 0 {
        line.push_str(&format!(
            " ({} chats with their own period)",
            r.chat_overrides
        ));
    }
    if let Some(why) = &r.stopped_early {
        line.push_str(&format!("; stopped early: {why}"));
    }
    line
}

/// The Storage page's view of the sweep: the last stored report, and "Run cleanup" (a sweep
/// now, in the background; a second one while one runs is skipped).
pub fn cleanup_hooks(service: Arc<RetentionService>) -> CleanupHooks {
    let last = service.clone();
    CleanupHooks {
        last: Arc::new(move || {
            let r = last.last_report().ok().flatten()?;
            Some(CleanupStatus {
                finished_at: (r.started_at_ms + r.duration_ms as i64).div_euclid(1000),
                summary: summary(&r),
            })
        }),
        run_now: Some(Arc::new(move || match service.run_now() {
            Ok(r) => tracing::info!(
                messages = r.messages_removed,
                keys = r.keys_removed,
                "retention sweep run from the dashboard"
            ),
            Err(RetentionError::Busy) => {
                tracing::info!("a retention sweep is already running")
            }
            Err(e) => tracing::warn!(error = %e, "retention sweep from the dashboard failed"),
        })),
    }
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
