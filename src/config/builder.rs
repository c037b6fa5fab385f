//! Collecting raw values from file, environment and flags, and parsing them into a [`Config`].

use super::{
    Backend, BotConfig, Config, ConfigError, KEYS, LogConfig, Origin, SearchConfig, Secret,
    StorageConfig, TelegramConfig, TelemetryConfig, WebConfig, env_name, spec,
};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

struct Raw {
    value: toml::Value,
    origin: Origin,
}

/// Collects raw values in precedence order; later sets win.
#[derive(Default)]
pub struct ConfigBuilder {
    values: BTreeMap<&'static str, Raw>,
    warnings: Vec<String>,
}

impl ConfigBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Read the file named by `--config`, or else `./tgbox.toml`, or else
    /// `/etc/tgbox/tgbox.toml`; with no file at all, defaults apply.
    pub fn file(self, explicit: Option<&Path>) -> Result<Self, ConfigError> {
        match explicit {
            Some(path) => self.file_at(path),
            None => {
                for candidate in ["tgbox.toml", "/etc/tgbox/tgbox.toml"] {
                    let path = Path::new(candidate);
                    if path.is_file() {
                        return self.file_at(path);
                    }
                }
                Ok(self)
            }
        }
    }

    pub fn file_at(self, path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        self.toml_text(&text, path)
    }

    pub fn toml_text(mut self, text: &str, path: &Path) -> Result<Self, ConfigError> {
        let table: toml::Table =
            text.parse()
                .map_err(|e: toml::de::Error| ConfigError::Syntax {
                    path: path.to_path_buf(),
                    message: e.message().to_string(),
                })?;
        for (section, value) in table {
            match value {
                toml::Value::Table(inner) => {
                    for (name, value) in inner {
                        let dotted = format!("{section}.{name}");
                        match spec(&dotted) {
                            Some(s) => {
                                self.values.insert(
                                    s.key,
                                    Raw {
                                        value,
                                        origin: Origin::File(path.to_path_buf()),
                                    },
                                );
                            }
                            None => self.warnings.push(format!(
                                "unknown config key {dotted} in {} is ignored",
                                path.display()
                            )),
                        }
                    }
                }
                _ => self.warnings.push(format!(
                    "unknown top-level config key {section} in {} is ignored (keys live in \
                     sections such as [telegram] or [storage])",
                    path.display()
                )),
            }
        }
        Ok(self)
    }

    /// Apply `TGBOX_*` variables from `vars` (pass `std::env::vars()`).
    pub fn env(mut self, vars: impl IntoIterator<Item = (String, String)>) -> Self {
        for (name, value) in vars {
            if !name.starts_with("TGBOX_") {
                continue;
            }
            match KEYS.iter().find(|k| env_name(k.key) == name) {
                Some(s) => {
                    self.values.insert(
                        s.key,
                        Raw {
                            value: toml::Value::String(value),
                            origin: Origin::Env(name),
                        },
                    );
                }
                None => self
                    .warnings
                    .push(format!("unknown environment variable {name} is ignored")),
            }
        }
        self
    }

    /// A command-line override. `key` must be one of [`KEYS`].
    pub fn flag(mut self, key: &'static str, value: Option<String>) -> Self {
        if let (Some(value), Some(s)) = (value, spec(key)) {
            self.values.insert(
                s.key,
                Raw {
                    value: toml::Value::String(value),
                    origin: Origin::Flag,
                },
            );
        }
        self
    }

    pub fn build(self) -> Result<Config, ConfigError> {
        let mut origins = BTreeMap::new();
        for s in KEYS {
            let origin = self
                .values
                .get(s.key)
                .map(|r| r.origin.clone())
                .unwrap_or(Origin::Default);
            origins.insert(s.key, origin);
        }
        let p = Parser {
            values: &self.values,
        };
        let token = p.opt_string("telegram.token")?.map(Secret::new);
        let token_file = p.opt_string("telegram.token_file")?.map(PathBuf::from);
        let api_url = p.url("telegram.api_url")?;
        let poll_timeout = Duration::from_secs(p.int(
            "telegram.poll_timeout_secs",
            0,
            50,
            "a whole number of seconds from 0 to 50",
        )?);
        let dir = PathBuf::from(p.non_empty("storage.dir", "a directory path")?);
        let backend = match p.non_empty("storage.backend", "\"redb\"")?.as_str() {
            "redb" => Backend::Redb,
            other => {
                return Err(p.invalid(
                    "storage.backend",
                    other,
                    "\"redb\" (postgres needs a build with the postgres feature)",
                ));
            }
        };
        let cache_mb = p.int(
            "storage.cache_mb",
            1,
            65_536,
            "a whole number of MiB from 1 to 65536",
        )?;
        let commit_interval = Duration::from_millis(p.int(
            "storage.commit_interval_ms",
            0,
            10_000,
            "a whole number of milliseconds from 0 to 10000",
        )?);
        let commit_max_batch = p.int(
            "storage.commit_max_batch",
            1,
            100_000,
            "a whole number from 1 to 100000",
        )? as usize;
        let listen_text = p.non_empty("web.listen", "an address:port such as 127.0.0.1:8080")?;
        let listen: SocketAddr = listen_text.parse().map_err(|_| {
            p.invalid(
                "web.listen",
                &listen_text,
                "an address:port such as 127.0.0.1:8080",
            )
        })?;
        let (mode, webhook) = super::appliance::telegram_mode(&p)?;
        let app = super::appliance::app(&p)?;
        let level = p.non_empty(
            "log.level",
            "error, warn, info, debug, trace, or a tracing filter",
        )?;
        if tracing_subscriber::EnvFilter::try_new(&level).is_err() {
            return Err(p.invalid(
                "log.level",
                &level,
                "error, warn, info, debug, trace, or a tracing filter",
            ));
        }
        let web = WebConfig {
            listen,
            enabled: p.boolean("web.enabled")?,
            secure_cookies: p.boolean("web.secure_cookies")?,
            session_ttl: Duration::from_secs(
                3600 * p.int(
                    "web.session_hours",
                    1,
                    720,
                    "a whole number of hours from 1 to 720",
                )?,
            ),
            metrics_token_file: p.opt_string("web.metrics_token_file")?.map(PathBuf::from),
        };
        // The dashboard owns web.listen; the webhook receiver needs its own address then.
        if web.enabled && webhook.as_ref().is_some_and(|w| w.listen.is_none()) {
            return Err(p.invalid(
                "telegram.webhook_listen",
                "",
                "an address:port of its own for the webhook receiver, such as 127.0.0.1:8443 \
                 (web.listen serves the dashboard), or web.enabled = false",
            ));
        }
        let telemetry = TelemetryConfig {
            rss_warn_percent: p.int(
                "telemetry.rss_warn_percent",
                0,
                100,
                "a whole number from 0 to 100",
            )? as u8,
        };
        Ok(Config {
            telegram: TelegramConfig {
                token,
                token_file,
                api_url,
                poll_timeout,
                mode,
                webhook,
            },
            storage: StorageConfig {
                dir,
                backend,
                cache_mb,
                commit_interval,
                commit_max_batch,
            },
            web,
            log: LogConfig { level },
            telemetry,
            app,
            search: p.search()?,
            cache: super::upkeep::cache(&p)?,
            retention: super::upkeep::retention(&p)?,
            maintenance: super::maintenance::maintenance(&p)?,
            bot: p.bot()?,
            origins,
            warnings: self.warnings,
        })
    }
}

pub(super) struct Parser<'a> {
    values: &'a BTreeMap<&'static str, Raw>,
}

impl Parser<'_> {
    pub(super) fn raw(&self, key: &'static str) -> Option<(toml::Value, Origin)> {
        match self.values.get(key) {
            Some(r) => Some((r.value.clone(), r.origin.clone())),
            None => spec(key)
                .and_then(|s| s.default)
                .map(|d| (default_value(d), Origin::Default)),
        }
    }

    pub(super) fn invalid(
        &self,
        key: &'static str,
        value: &str,
        expected: &'static str,
    ) -> ConfigError {
        let origin = self
            .values
            .get(key)
            .map(|r| r.origin.clone())
            .unwrap_or(Origin::Default);
        let shown = if spec(key).is_some_and(|s| s.secret) {
            "[redacted]".to_string()
        } else {
            format!("{value:?}")
        };
        ConfigError::Invalid {
            key,
            value: shown,
            origin,
            expected,
        }
    }

    pub(super) fn opt_string(&self, key: &'static str) -> Result<Option<String>, ConfigError> {
        match self.raw(key) {
            None => Ok(None),
            Some((toml::Value::String(s), _)) if s.trim().is_empty() => Ok(None),
            Some((toml::Value::String(s), _)) => Ok(Some(s.trim().to_string())),
            Some((other, _)) => Err(self.invalid(key, &other.to_string(), "a string")),
        }
    }

    pub(super) fn non_empty(
        &self,
        key: &'static str,
        expected: &'static str,
    ) -> Result<String, ConfigError> {
        match self.opt_string(key)? {
            Some(s) => Ok(s),
            None => Err(self.invalid(key, "", expected)),
        }
    }

    pub(super) fn int(
        &self,
        key: &'static str,
        min: u64,
        max: u64,
        expected: &'static str,
    ) -> Result<u64, ConfigError> {
        let (value, _) = self
            .raw(key)
            .ok_or_else(|| self.invalid(key, "", expected))?;
        let n = match &value {
            toml::Value::Integer(n) => u64::try_from(*n).ok(),
            toml::Value::String(s) => s.trim().parse::<u64>().ok(),
            _ => None,
        };
        match n {
            Some(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(self.invalid(key, &display_value(&value), expected)),
        }
    }

    fn bot(&self) -> Result<BotConfig, ConfigError> {
        let minutes = self.int(
            "bot.dialogue_ttl_minutes",
            1,
            10_080,
            "a whole number of minutes from 1 to 10080 (a week)",
        )?;
        Ok(BotConfig {
            dialogue_ttl: Duration::from_secs(minutes * 60),
        })
    }

    fn search(&self) -> Result<SearchConfig, ConfigError> {
        let writer_memory_mb = self.int(
            "search.writer_memory_mb",
            15,
            4096,
            "a whole number of MiB from 15 to 4096",
        )?;
        let threads = self.int("search.threads", 1, 8, "a whole number from 1 to 8")? as usize;
        let commit_interval = Duration::from_millis(self.int(
            "search.commit_interval_ms",
            10,
            600_000,
            "a whole number of milliseconds from 10 to 600000",
        )?);
        let commit_max_docs = self.int(
            "search.commit_max_docs",
            1,
            10_000_000,
            "a whole number from 1 to 10000000",
        )? as usize;
        let rate_per_minute = self.int(
            "search.rate_per_minute",
            1,
            10_000,
            "a whole number from 1 to 10000",
        )? as u32;
        Ok(SearchConfig {
            writer_memory_mb,
            threads,
            commit_interval,
            commit_max_docs,
            rate_per_minute,
        })
    }
    fn boolean(&self, key: &'static str) -> Result<bool, ConfigError> {
        const EXPECTED: &str = "true or false";
        let (value, _) = self
            .raw(key)
            .ok_or_else(|| self.invalid(key, "", EXPECTED))?;
        match &value {
            toml::Value::Boolean(b) => Ok(*b),
            toml::Value::String(s) => match s.trim() {
                "true" | "1" | "yes" => Ok(true),
                "false" | "0" | "no" => Ok(false),
                other => Err(self.invalid(key, other, EXPECTED)),
            },
            other => Err(self.invalid(key, &display_value(other), EXPECTED)),
        }
    }

    pub(super) fn url(&self, key: &'static str) -> Result<String, ConfigError> {
        const EXPECTED: &str = "an http:// or https:// URL such as https://api.telegram.org";
        let text = self.non_empty(key, EXPECTED)?;
        match reqwest::Url::parse(&text) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
                Ok(text.trim_end_matches('/').to_string())
            }
            _ => Err(self.invalid(key, &text, EXPECTED)),
        }
    }
}

fn default_value(text: &str) -> toml::Value {
    toml::Value::String(text.to_string())
}

fn display_value(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
