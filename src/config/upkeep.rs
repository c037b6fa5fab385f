//! The in-process cache (`cache.*`) and the retention sweep (`retention.*`).

use super::ConfigError;
use super::builder::Parser;
use std::time::Duration;

/// The in-process cache of lookups and short-lived results (`cache.*`).
#[derive(Clone, Debug)]
pub struct CacheConfig {
    /// Most entries held, all caches together.
    pub max_entries: usize,
    /// Most (estimated) bytes held, all caches together.
    pub max_mb: u64,
    /// Longest time a looked-up user, chat or settings entry is served from the cache. Writes
    /// through the app invalidate at once; this bounds anything that slips past.
    pub ttl: Duration,
    /// Shrink the cache when the process RSS passes this share of system memory; 0 = never.
    pub shrink_at_rss_percent: u8,
}

/// The retention sweep (`retention.*`).
#[derive(Clone, Debug)]
pub struct RetentionConfig {
    /// Keep messages this many days; 0 keeps them forever. Chats may override it.
    pub days: u32,
    /// Time between sweeps.
    pub sweep_interval: Duration,
    /// Messages removed per transaction.
    pub batch_size: usize,
}

pub(super) fn cache(p: &Parser<'_>) -> Result<CacheConfig, ConfigError> {
    Ok(CacheConfig {
        max_entries: p.int(
            "cache.max_entries",
            16,
            10_000_000,
            "a whole number from 16 to 10000000",
        )? as usize,
        max_mb: p.int(
            "cache.max_mb",
            1,
            4096,
            "a whole number of MiB from 1 to 4096",
        )?,
        ttl: Duration::from_secs(p.int(
            "cache.ttl_secs",
            1,
            86_400,
            "a whole number of seconds from 1 to 86400",
        )?),
        shrink_at_rss_percent: p.int(
            "cache.shrink_at_rss_percent",
            0,
            100,
            "a whole number from 0 to 100",
        )? as u8,
    })
}

pub(super) fn retention(p: &Parser<'_>) -> Result<RetentionConfig, ConfigError> {
    Ok(RetentionConfig {
        days: p.int(
            "retention.days",
            0,
            36_500,
            "a whole number of days from 0 (keep forever) to 36500",
        )? as u32,
        sweep_interval: Duration::from_secs(
            60 * p.int(
                "retention.sweep_interval_minutes",
                1,
                10_080,
                "a whole number of minutes from 1 to 10080",
            )?,
        ),
        batch_size: p.int(
            "retention.batch_size",
            10,
            100_000,
            "a whole number from 10 to 100000",
        )? as usize,
    })
}

/// The keys of this file as `tgbox config check` shows them.
pub(super) fn rendered(c: &super::Config) -> Vec<(&'static str, String)> {
    vec![
        ("cache.max_entries", c.cache.max_entries.to_string()),
        ("cache.max_mb", c.cache.max_mb.to_string()),
        ("cache.ttl_secs", c.cache.ttl.as_secs().to_string()),
        (
            "cache.shrink_at_rss_percent",
            c.cache.shrink_at_rss_percent.to_string(),
        ),
        ("retention.days", c.retention.days.to_string()),
        (
            "retention.sweep_interval_minutes",
            (c.retention.sweep_interval.as_secs() / 60).to_string(),
        ),
        ("retention.batch_size", c.retention.batch_size.to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use crate::config::ConfigBuilder;
    use std::path::Path;

    #[test]
    fn defaults_and_errors() {
        let c = ConfigBuilder::new().build().unwrap();
        assert_eq!(c.retention.days, 0);
        assert_eq!(c.cache.max_entries, 10_000);
        let err = ConfigBuilder::new()
            .toml_text("[retention]\nbatch_size = 1", Path::new("t.toml"))
            .unwrap()
            .build()
            .unwrap_err()
            .to_string();
        assert!(err.contains("retention.batch_size"), "{err}");
        let c = ConfigBuilder::new()
            .toml_text(
                "[cache]\nshrink_at_rss_percent = 0\n[retention]\ndays = 30",
                Path::new("t.toml"),
            )
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(c.cache.shrink_at_rss_percent, 0);
        assert_eq!(c.retention.days, 30);
        assert!(c.render_redacted().contains("days = 30"));
    }
}
