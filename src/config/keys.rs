//! Every configuration key tgbox knows, with its default and a one-line help. Adding a key
//! here, parsing it in `builder.rs`, and documenting it in `packaging/tgbox.toml.example` (a
//! test checks that) is all it takes.

/// A known key: its dotted name, default (as TOML text), whether it is secret, and help.
pub struct KeySpec {
    pub key: &'static str,
    pub default: Option<&'static str>,
    pub secret: bool,
    pub help: &'static str,
}

pub const KEYS: &[KeySpec] = &[
    KeySpec {
        key: "telegram.token",
        default: None,
        secret: true,
        help: "bot token from @BotFather",
    },
    KeySpec {
        key: "telegram.token_file",
        default: None,
        secret: false,
        help: "file holding the bot token (first line)",
    },
    KeySpec {
        key: "telegram.api_url",
        default: Some("https://api.telegram.org"),
        secret: false,
        help: "Bot API server base URL",
    },
    KeySpec {
        key: "telegram.poll_timeout_secs",
        default: Some("30"),
        secret: false,
        help: "getUpdates long-poll timeout, 0-50 s",
    },
    KeySpec {
        key: "storage.dir",
        default: Some("tgbox-data"),
        secret: false,
        help: "data directory",
    },
    KeySpec {
        key: "storage.backend",
        default: Some("redb"),
        secret: false,
        help: "storage backend: redb",
    },
    KeySpec {
        key: "storage.cache_mb",
        default: Some("32"),
        secret: false,
        help: "redb page cache in MiB, 1-65536",
    },
    KeySpec {
        key: "storage.commit_interval_ms",
        default: Some("0"),
        secret: false,
        help: "extra wait to gather a larger commit batch, 0-10000 ms (raise on SD cards)",
    },
    KeySpec {
        key: "storage.commit_max_batch",
        default: Some("2000"),
        secret: false,
        help: "most updates in one commit, 1-100000",
    },
    KeySpec {
        key: "web.listen",
        default: Some("127.0.0.1:8080"),
        secret: false,
        help: "dashboard address:port",
    },
    KeySpec {
        key: "log.level",
        default: Some("info"),
        secret: false,
        help: "error, warn, info, debug, trace, or a tracing filter",
    },
    KeySpec {
        key: "web.enabled",
        default: Some("true"),
        secret: false,
        help: "serve the dashboard: true or false",
    },
    KeySpec {
        key: "web.secure_cookies",
        default: Some("false"),
        secret: false,
        help: "mark session cookies Secure (dashboard behind HTTPS): true or false",
    },
    KeySpec {
        key: "web.session_hours",
        default: Some("12"),
        secret: false,
        help: "how long a dashboard login lasts, 1-720 hours",
    },
    KeySpec {
        key: "web.metrics_token_file",
        default: None,
        secret: false,
        help: "file holding a bearer token that lets scrapers read /metrics without a login",
    },
    KeySpec {
        key: "telemetry.rss_warn_percent",
        default: Some("80"),
        secret: false,
        help: "warn when RSS passes this % of system memory, 0-100 (0: never)",
    },
    KeySpec {
        key: "telegram.mode",
        default: Some("polling"),
        secret: false,
        help: "how updates arrive: polling (getUpdates) or webhook",
    },
    KeySpec {
        key: "telegram.webhook_url",
        default: None,
        secret: false,
        help: "webhook mode: the public URL Telegram posts updates to",
    },
    KeySpec {
        key: "telegram.webhook_listen",
        default: None,
        secret: false,
        help: "webhook mode: own address:port for the receiver (unset: web.listen)",
    },
    KeySpec {
        key: "telegram.webhook_secret_file",
        default: None,
        secret: false,
        help: "webhook mode: file with the secret token (unset: DIR/webhook-secret, generated)",
    },
    KeySpec {
        key: "app.shutdown_timeout_secs",
        default: Some("10"),
        secret: false,
        help: "most seconds a graceful shutdown may take, 1-300",
    },
    KeySpec {
        key: "search.writer_memory_mb",
        default: Some("16"),
        secret: false,
        help: "search index writer memory budget in MiB, 15-4096 (at least 15 per thread)",
    },
    KeySpec {
        key: "search.threads",
        default: Some("1"),
        secret: false,
        help: "search indexing threads, 1-8",
    },
    KeySpec {
        key: "search.commit_interval_ms",
        default: Some("1000"),
        secret: false,
        help: "longest wait before indexed messages become searchable, 10-600000 ms",
    },
    KeySpec {
        key: "search.commit_max_docs",
        default: Some("10000"),
        secret: false,
        help: "most indexed changes before a search index commit, 1-10000000",
    },
    KeySpec {
        key: "search.rate_per_minute",
        default: Some("20"),
        secret: false,
        help: "/search requests per user and minute, after a burst of 5, 1-10000",
    },
    KeySpec {
        key: "cache.max_entries",
        default: Some("10000"),
        secret: false,
        help: "most entries in the in-process cache, 16-10000000",
    },
    KeySpec {
        key: "cache.max_mb",
        default: Some("16"),
        secret: false,
        help: "most MiB (estimated) in the in-process cache, 1-4096",
    },
    KeySpec {
        key: "cache.ttl_secs",
        default: Some("60"),
        secret: false,
        help: "longest a cached user, chat or setting is served, 1-86400 s",
    },
    KeySpec {
        key: "cache.shrink_at_rss_percent",
        default: Some("70"),
        secret: false,
        help: "halve the cache when RSS passes this % of system memory, 0-100 (0: never)",
    },
    KeySpec {
        key: "retention.days",
        default: Some("0"),
        secret: false,
        help: "keep messages this many days, 0-36500 (0: forever); chats may override",
    },
    KeySpec {
        key: "retention.sweep_interval_minutes",
        default: Some("60"),
        secret: false,
        help: "minutes between retention sweeps, 1-10080",
    },
    KeySpec {
        key: "retention.batch_size",
        default: Some("1000"),
        secret: false,
        help: "messages removed per retention transaction, 10-100000",
    },
    KeySpec {
        key: "maintenance.compact_at",
        default: Some("04:30"),
        secret: false,
        help: "daily compaction of the store and search index, HH:MM UTC, or off",
    },
    KeySpec {
        key: "maintenance.compact_fragmented_mb",
        default: Some("128"),
        secret: false,
        help: "also compact when this many MiB of the store file are reclaimable (0: never)",
    },
    KeySpec {
        key: "bot.dialogue_ttl_minutes",
        default: Some("30"),
        secret: false,
        help: "minutes an unfinished dialogue (e.g. the /forget confirmation) is kept, 1-10080",
    },
];

pub(crate) fn spec(key: &str) -> Option<&'static KeySpec> {
    KEYS.iter().find(|k| k.key == key)
}

/// The environment variable for a key: `storage.cache_mb` -> `TGBOX_STORAGE_CACHE_MB`.
pub fn env_name(key: &str) -> String {
    format!("TGBOX_{}", key.replace('.', "_").to_ascii_uppercase())
}
