//! Configuration: defaults < TOML file < `TGBOX_*` environment < command-line flags.
//!
//! Every key has one entry in [`KEYS`]; the file, the environment and the flags are all read as
//! (key, raw value, origin) triples and then parsed in one place, so a bad value gets the same
//! clear message wherever it came from: the key, the value, its origin, and what is allowed.

mod appliance;
mod builder;
mod keys;
mod maintenance;
mod upkeep;

pub use appliance::{AppConfig, TelegramMode, WebhookConfig};
pub use builder::ConfigBuilder;
pub(crate) use keys::spec;
pub use keys::{KEYS, KeySpec, env_name};
pub use maintenance::MaintenanceConfig;
pub use upkeep::{CacheConfig, RetentionConfig};

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use thiserror::Error;

/// Where a value came from, for error messages and `tgbox config check`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    Default,
    File(PathBuf),
    Env(String),
    Flag,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("default"),
            Origin::File(p) => write!(f, "file {}", p.display()),
            Origin::Env(name) => write!(f, "environment {name}"),
            Origin::Flag => f.write_str("command line"),
        }
    }
}

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("config file {path} is not valid TOML: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("config {key} = {value} (from {origin}) is not valid: expected {expected}")]
    Invalid {
        key: &'static str,
        value: String,
        origin: Origin,
        expected: &'static str,
    },
    #[error("cannot read telegram.token_file {path}: {source}")]
    TokenFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "no Telegram bot token: set telegram.token or telegram.token_file in the config, \
         TGBOX_TELEGRAM_TOKEN, or a systemd credential named telegram-token"
    )]
    MissingToken,
}

/// A secret that never prints itself.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Redb,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Redb => "redb",
        }
    }
}

#[derive(Clone, Debug)]
pub struct TelegramConfig {
    pub token: Option<Secret>,
    pub token_file: Option<PathBuf>,
    pub api_url: String,
    pub poll_timeout: Duration,
    pub mode: TelegramMode,
    /// Set in webhook mode.
    pub webhook: Option<WebhookConfig>,
}

#[derive(Clone, Debug)]
pub struct StorageConfig {
    pub dir: PathBuf,
    pub backend: Backend,
    pub cache_mb: u64,
    pub commit_interval: Duration,
    pub commit_max_batch: usize,
}

#[derive(Clone, Debug)]
pub struct WebConfig {
    pub listen: SocketAddr,
    /// Serve the dashboard at all.
    pub enabled: bool,
    /// Mark session cookies `Secure` (the dashboard is reached over HTTPS).
    pub secure_cookies: bool,
    /// How long a login lasts.
    pub session_ttl: Duration,
    /// File holding the bearer token Prometheus scrapers send to `/metrics`.
    pub metrics_token_file: Option<PathBuf>,
}

#[derive(Clone, Debug)]
pub struct TelemetryConfig {
    /// Warn (log and dashboard) when RSS passes this share of system memory; 0 = never.
    pub rss_warn_percent: u8,
}

#[derive(Clone, Debug)]
pub struct LogConfig {
    pub level: String,
}

/// The full-text index (`search.*`).
#[derive(Clone, Debug)]
pub struct SearchConfig {
    /// Memory budget of the index writer, all threads together.
    pub writer_memory_mb: u64,
    /// Indexing threads.
    pub threads: usize,
    /// Commit the index at the latest this long after the first uncommitted change.
    pub commit_interval: Duration,
    /// Commit the index at the latest after this many changes.
    pub commit_max_docs: usize,
    /// `/search` requests per user and minute (after a burst of 5).
    pub rate_per_minute: u32,
}

/// The bot's own behaviour (`bot.*`).
#[derive(Clone, Debug)]
pub struct BotConfig {
    /// How long an unfinished dialogue (a multi-step flow such as `/forget`) is kept.
    pub dialogue_ttl: Duration,
}

impl BotConfig {
    fn render(&self) -> Vec<(&'static str, String)> {
        vec![(
            "bot.dialogue_ttl_minutes",
            (self.dialogue_ttl.as_secs() / 60).to_string(),
        )]
    }
}

/// The effective configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub telegram: TelegramConfig,
    pub storage: StorageConfig,
    pub web: WebConfig,
    pub log: LogConfig,
    pub telemetry: TelemetryConfig,
    pub app: AppConfig,
    pub search: SearchConfig,
    pub cache: CacheConfig,
    pub retention: RetentionConfig,
    pub maintenance: MaintenanceConfig,
    pub bot: BotConfig,
    /// Where each key's value came from.
    pub origins: BTreeMap<&'static str, Origin>,
    /// Unknown keys and similar non-fatal findings; logged once logging is up.
    pub warnings: Vec<String>,
}

impl Config {
    /// Load with the usual precedence from the process environment.
    pub fn load(
        explicit_file: Option<&Path>,
        flags: &[(&'static str, Option<String>)],
    ) -> Result<Config, ConfigError> {
        let mut builder = ConfigBuilder::new()
            .file(explicit_file)?
            .env(std::env::vars());
        for (key, value) in flags {
            builder = builder.flag(key, value.clone());
        }
        builder.build()
    }

    /// The bot token: `telegram.token`, else `telegram.token_file`, else the systemd credential
    /// `$CREDENTIALS_DIRECTORY/telegram-token`.
    pub fn resolve_token(&self) -> Result<Secret, ConfigError> {
        if let Some(token) = &self.telegram.token {
            return Ok(token.clone());
        }
        let file = match (
            &self.telegram.token_file,
            std::env::var_os("CREDENTIALS_DIRECTORY"),
        ) {
            (Some(path), _) => path.clone(),
            (None, Some(dir)) => PathBuf::from(dir).join("telegram-token"),
            (None, None) => return Err(ConfigError::MissingToken),
        };
        let text = std::fs::read_to_string(&file).map_err(|source| ConfigError::TokenFile {
            path: file.clone(),
            source,
        })?;
        let token = text.lines().next().unwrap_or("").trim().to_string();
        if token.is_empty() {
            return Err(ConfigError::MissingToken);
        }
        Ok(Secret::new(token))
    }

    /// The effective configuration as TOML, secrets redacted, each key annotated with its origin.
    pub fn render_redacted(&self) -> String {
        let mut values: Vec<(&str, String)> = vec![
            (
                "telegram.token",
                match &self.telegram.token {
                    Some(_) => "\"[redacted]\"".into(),
                    None => "# not set".into(),
                },
            ),
            (
                "telegram.token_file",
                match &self.telegram.token_file {
                    Some(p) => toml_str(&p.display().to_string()),
                    None => "# not set".into(),
                },
            ),
            ("telegram.api_url", toml_str(&self.telegram.api_url)),
            (
                "telegram.poll_timeout_secs",
                self.telegram.poll_timeout.as_secs().to_string(),
            ),
            (
                "storage.dir",
                toml_str(&self.storage.dir.display().to_string()),
            ),
            ("storage.backend", toml_str(self.storage.backend.as_str())),
            ("storage.cache_mb", self.storage.cache_mb.to_string()),
            (
                "storage.commit_interval_ms",
                self.storage.commit_interval.as_millis().to_string(),
            ),
            (
                "storage.commit_max_batch",
                self.storage.commit_max_batch.to_string(),
            ),
            ("web.listen", toml_str(&self.web.listen.to_string())),
            ("log.level", toml_str(&self.log.level)),
            ("web.enabled", self.web.enabled.to_string()),
            ("web.secure_cookies", self.web.secure_cookies.to_string()),
            (
                "web.session_hours",
                (self.web.session_ttl.as_secs() / 3600).to_string(),
            ),
            (
                "web.metrics_token_file",
                match &self.web.metrics_token_file {
                    Some(p) => toml_str(&p.display().to_string()),
                    None => "# not set".into(),
                },
            ),
            (
                "telemetry.rss_warn_percent",
                self.telemetry.rss_warn_percent.to_string(),
            ),
        ];
        values.extend(self.search.render());
        values.extend(upkeep::rendered(self));
        values.extend(self.bot.render());
        // Keys of one section are printed together, whatever order they were added in.
        let mut sections: Vec<(&str, String)> = Vec::new();
        for (key, value) in values
            .into_iter()
            .chain(appliance::rendered(self))
            .chain(maintenance::rendered(self))
        {
            let (sec, name) = key.split_once('.').unwrap_or(("", key));
            let origin = self.origins.get(key).cloned().unwrap_or(Origin::Default);
            let line = if value.starts_with('#') {
                format!("# {name}: {}\n", value.trim_start_matches("# "))
            } else {
                format!("{name} = {value}  # {origin}\n")
            };
            match sections.iter_mut().find(|(s, _)| *s == sec) {
                Some((_, text)) => text.push_str(&line),
                None => sections.push((sec, line)),
            }
        }
        let mut out = String::new();
        for (sec, text) in sections {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&format!("[{sec}]\n{text}"));
        }
        out
    }
}

impl SearchConfig {
    fn render(&self) -> Vec<(&'static str, String)> {
        vec![
            ("search.writer_memory_mb", self.writer_memory_mb.to_string()),
            ("search.threads", self.threads.to_string()),
            (
                "search.commit_interval_ms",
                self.commit_interval.as_millis().to_string(),
            ),
            ("search.commit_max_docs", self.commit_max_docs.to_string()),
            ("search.rate_per_minute", self.rate_per_minute.to_string()),
        ]
    }
}

pub(crate) fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_toml(text: &str) -> Result<Config, ConfigError> {
        ConfigBuilder::new()
            .toml_text(text, Path::new("test.toml"))?
            .build()
    }

    #[test]
    fn defaults_are_safe() {
        let c = ConfigBuilder::new().build().unwrap();
        assert_eq!(c.web.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.storage.cache_mb, 32);
        assert_eq!(c.telegram.api_url, "https://api.telegram.org");
        assert!(c.telegram.token.is_none());
    }

    #[test]
    fn precedence_file_env_flag() {
        let c = ConfigBuilder::new()
            .toml_text(
                "[storage]\ncache_mb = 10\ncommit_max_batch = 5\ndir = \"a\"",
                Path::new("f.toml"),
            )
            .unwrap()
            .env([("TGBOX_STORAGE_CACHE_MB".to_string(), "20".to_string())])
            .flag("storage.dir", Some("b".into()))
            .build()
            .unwrap();
        assert_eq!(c.storage.cache_mb, 20);
        assert_eq!(c.storage.commit_max_batch, 5);
        assert_eq!(c.storage.dir, PathBuf::from("b"));
        assert_eq!(
            c.origins["storage.cache_mb"],
            Origin::Env("TGBOX_STORAGE_CACHE_MB".into())
        );
        assert_eq!(c.origins["storage.dir"], Origin::Flag);
    }

    #[test]
    fn wrong_type_names_key_value_and_allowed() {
        let err = from_toml("[storage]\ncache_mb = \"lots\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("storage.cache_mb"), "{err}");
        assert!(err.contains("lots"), "{err}");
        assert!(err.contains("1 to 65536"), "{err}");
        let err = from_toml("[storage]\ncache_mb = 0")
            .unwrap_err()
            .to_string();
        assert!(err.contains("storage.cache_mb"), "{err}");
        let err = from_toml("[web]\nlisten = 8080").unwrap_err().to_string();
        assert!(err.contains("web.listen"), "{err}");
        let err = from_toml("[telegram]\napi_url = \"ftp://x\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("telegram.api_url"), "{err}");
        let err = from_toml("[storage]\nbackend = \"sqlite\"")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("storage.backend") && err.contains("sqlite"),
            "{err}"
        );
        let err = from_toml("[log]\nlevel = \"[[[\"").unwrap_err().to_string();
        assert!(err.contains("log.level"), "{err}");
    }

    #[test]
    fn search_keys_parse_and_are_bounded() {
        let c = from_toml("[search]\nthreads = 2\ncommit_interval_ms = 50\nrate_per_minute = 5")
            .unwrap();
        assert_eq!(c.search.threads, 2);
        assert_eq!(c.search.commit_interval, Duration::from_millis(50));
        assert_eq!(c.search.rate_per_minute, 5);
        assert_eq!(c.search.writer_memory_mb, 16);
        assert_eq!(c.search.commit_max_docs, 10_000);
        let err = from_toml("[search]\nthreads = 0").unwrap_err().to_string();
        assert!(
            err.contains("search.threads") && err.contains("1 to 8"),
            "{err}"
        );
        let err = from_toml("[search]\nwriter_memory_mb = 8")
            .unwrap_err()
            .to_string();
        assert!(err.contains("search.writer_memory_mb"), "{err}");
        assert!(
            c.render_redacted()
                .contains("[search]\nwriter_memory_mb = 16")
        );
    }

    #[test]
    fn syntax_error_names_file() {
        let err = from_toml("[storage\n").unwrap_err().to_string();
        assert!(
            err.contains("test.toml") && err.contains("not valid TOML"),
            "{err}"
        );
    }

    #[test]
    fn unknown_keys_warn() {
        let c = from_toml("[storage]\ncache_mbs = 1\n[nope]\nx = 1\ntop = 2").unwrap();
        assert_eq!(c.warnings.len(), 3, "{:?}", c.warnings);
        assert!(
            c.warnings[0].contains("storage.cache_mbs")
                || c.warnings.iter().any(|w| w.contains("storage.cache_mbs"))
        );
        let c = ConfigBuilder::new()
            .env([("TGBOX_NOPE".to_string(), "1".to_string())])
            .build()
            .unwrap();
        assert!(c.warnings[0].contains("TGBOX_NOPE"));
    }

    #[test]
    fn secrets_never_render() {
        let c = from_toml("[telegram]\ntoken = \"123:SECRET\"").unwrap();
        assert!(!c.render_redacted().contains("SECRET"));
        assert!(!format!("{c:?}").contains("SECRET"));
        let err = ConfigBuilder::new()
            .env([("TGBOX_TELEGRAM_TOKEN".to_string(), "x".to_string())])
            .build()
            .unwrap();
        assert_eq!(err.resolve_token().unwrap().expose(), "x");
    }

    #[test]
    fn token_file_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tok");
        std::fs::write(&path, "42:abc\n").unwrap();
        let c = ConfigBuilder::new()
            .flag("telegram.token_file", Some(path.display().to_string()))
            .build()
            .unwrap();
        assert_eq!(c.resolve_token().unwrap().expose(), "42:abc");
    }
}
