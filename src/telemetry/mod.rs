//! Logging setup and the metrics the rest of the app records into: ingest totals
//! ([`IngestMetrics`]), the windowed per-operation [`Registry`], the system [`Sampler`] and its
//! [`Monitor`] (latest sample, 24 h history, memory warning), and the [`LogRing`] of recent lines.

pub mod cache_stats;
pub mod logs;
mod metrics;
pub mod process;
pub mod progress;
pub mod registry;
pub mod sampler;
pub mod window;

pub use cache_stats::{CacheCounters, CacheSnapshot};
pub use logs::{LogLine, LogRing};
pub use metrics::{IngestMetrics, IngestSnapshot, LatencySummary};
pub use registry::{Op, Rates, Registry};
pub use sampler::{HistoryPoint, Monitor, Sample, Sampler, StorageFigures, TableFigure};

use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Plain text to stderr: colours only on a terminal, no timestamps under journald (it adds its
/// own). The filter comes from `--log-level`/config, unless `RUST_LOG` is set and no flag was given.
/// Lines also go to the returned ring (the dashboard's Logs page).
pub fn init_logging(level: &str, flag_given: bool) -> LogRing {
    let filter = match std::env::var("RUST_LOG") {
        Ok(env) if !flag_given && !env.trim().is_empty() => EnvFilter::try_new(env),
        _ => EnvFilter::try_new(level),
    }
    .unwrap_or_else(|_| EnvFilter::new("info"));
    let stderr = std::io::stderr();
    let ansi = stderr.is_terminal();
    let ring = LogRing::default();
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(true);
    let registry = tracing_subscriber::registry()
        .with(filter)
        .with(ring.layer());
    // Under systemd, JOURNAL_STREAM is set and journald timestamps every line already.
    let result = if std::env::var_os("JOURNAL_STREAM").is_some() {
        registry.with(fmt.without_time()).try_init()
    } else {
        registry.with(fmt).try_init()
    };
    // A second init (tests) is harmless.
    let _ = result;
    ring
}
