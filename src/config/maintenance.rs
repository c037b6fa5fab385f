//! Keys of scheduled maintenance (`maintenance.*`): when the store and the search index are
//! compacted by themselves.

use super::builder::Parser;
use super::{Config, ConfigError, toml_str};

/// When compaction runs by itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaintenanceConfig {
    /// Daily at (hour, minute), UTC; `None`: no daily run.
    pub compact_at: Option<(u8, u8)>,
    /// Also when the store's fragmented bytes reach this many MiB; 0: never.
    pub compact_fragmented_mb: u64,
}

const AT_EXPECTED: &str = "a UTC time of day HH:MM such as \"04:30\", or \"off\"";

fn parse_at(text: &str) -> Option<(u8, u8)> {
    let (h, m) = text.split_once(':')?;
    let (h, m): (u8, u8) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60 && text.len() <= 5).then_some((h, m))
}

pub(super) fn maintenance(p: &Parser<'_>) -> Result<MaintenanceConfig, ConfigError> {
    let compact_at = match p.opt_string("maintenance.compact_at")? {
        None => None,
        Some(s) if s.eq_ignore_ascii_case("off") => None,
        Some(s) => {
            Some(parse_at(&s).ok_or_else(|| p.invalid("maintenance.compact_at", &s, AT_EXPECTED))?)
        }
    };
    let compact_fragmented_mb = p.int(
        "maintenance.compact_fragmented_mb",
        0,
        1 << 30,
        "a whole number of MiB (0: never)",
    )?;
    Ok(MaintenanceConfig {
        compact_at,
        compact_fragmented_mb,
    })
}

pub(super) fn rendered(c: &Config) -> Vec<(&'static str, String)> {
    let m = &c.maintenance;
    vec![
        (
            "maintenance.compact_at",
            toml_str(&match m.compact_at {
                Some((h, mm)) => format!("{h:02}:{mm:02}"),
                None => "off".into(),
            }),
        ),
        (
            "maintenance.compact_fragmented_mb",
            m.compact_fragmented_mb.to_string(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use crate::config::ConfigBuilder;

    #[test]
    fn compact_at_is_parsed_and_checked() {
        let c = ConfigBuilder::new().build().unwrap();
        assert_eq!(c.maintenance.compact_at, Some((4, 30)));
        let c = ConfigBuilder::new()
            .flag("maintenance.compact_at", Some("off".into()))
            .build()
            .unwrap();
        assert_eq!(c.maintenance.compact_at, None);
        for bad in ["25:00", "4.30", "04:60", "noon"] {
            let err = ConfigBuilder::new()
                .flag("maintenance.compact_at", Some(bad.into()))
                .build()
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("maintenance.compact_at") && err.contains("HH:MM"),
                "{err}"
            );
        }
    }
}
