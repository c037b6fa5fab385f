//! Logging setup and the metrics the rest of the app records into.

mod metrics;
pub mod process;
pub mod progress;

pub use metrics::{IngestMetrics, IngestSnapshot, LatencySummary};

use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// Plain text to stderr: colours only on a terminal, no timestamps under journald (it adds its
/// own). The filter comes from `--log-level`/config, unless `RUST_LOG` is set and no flag was given.
pub fn init_logging(level: &str, flag_given: bool) {
    let filter = match std::env::var("RUST_LOG") {
        Ok(env) if !flag_given && !env.trim().is_empty() => EnvFilter::try_new(env),
        _ => EnvFilter::try_new(level),
    }
    .unwrap_or_else(|_| EnvFilter::new("info"));
    let stderr = std::io::stderr();
    let ansi = stderr.is_terminal();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(true);
    // Under systemd, JOURNAL_STREAM is set and journald timestamps every line already.
    let result = if std::env::var_os("JOURNAL_STREAM").is_some() {
        builder.without_time().try_init()
    } else {
        builder.try_init()
    };
    // A second init (tests) is harmless.
    let _ = result;
}
