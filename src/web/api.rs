//! JSON and Prometheus endpoints.

use crate::telemetry::registry::WINDOWS;
use crate::telemetry::{Op, Sample};
use crate::web::WebState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::fmt::Write as _;

#[derive(Serialize)]
pub struct Health {
    pub status: &'static str,
    pub version: &'static str,
    pub uptime_secs: u64,
    pub store_open: bool,
    /// Seconds since the last update was committed (none yet: null).
    pub last_update_age_secs: Option<u64>,
}

pub async fn health(State(state): State<WebState>) -> Response {
    let store_open = state
        .blocking(|s| s.schema_version().is_ok())
        .await
        .unwrap_or(false);
    let body = Health {
        status: if store_open { "ok" } else { "degraded" },
        version: env!("CARGO_PKG_VERSION"),
        uptime_secs: state.registry.uptime().as_secs(),
        store_open,
        last_update_age_secs: state.registry.last_age(Op::Update).map(|d| d.as_secs()),
    };
    let status = if store_open {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

#[derive(Serialize)]
struct MetricsBody {
    version: &'static str,
    uptime_secs: u64,
    messages_per_sec: crate::telemetry::Rates,
    operations: Vec<crate::telemetry::registry::OpSnapshot>,
    system: Option<Sample>,
    memory_warning: Option<String>,
    store: Option<crate::store::StoreCounts>,
    cache: crate::telemetry::CacheSnapshot,
}

pub async fn metrics_json(State(state): State<WebState>) -> Response {
    let counts = state.blocking(|s| s.counts().ok()).await.flatten();
    Json(MetricsBody {
        version: env!("CARGO_PKG_VERSION"),
        uptime_secs: state.registry.uptime().as_secs(),
        messages_per_sec: state.registry.rates(Op::Update),
        operations: state.registry.snapshot(),
        system: state.monitor.latest(),
        memory_warning: state.monitor.warning(),
        store: counts,
        cache: state.registry.cache().snapshot(),
    })
    .into_response()
}

/// Prometheus text exposition (format 0.0.4).
pub async fn prometheus(State(state): State<WebState>) -> Response {
    let counts = state.blocking(|s| s.counts().ok()).await.flatten();
    let mut out = String::with_capacity(8192);
    let r = &state.registry;
    let _ = writeln!(out, "# HELP tgbox_uptime_seconds Seconds since start.");
    let _ = writeln!(out, "# TYPE tgbox_uptime_seconds gauge");
    let _ = writeln!(out, "tgbox_uptime_seconds {}", r.uptime().as_secs());
    let _ = writeln!(out, "# HELP tgbox_operations_total Operations by result.");
    let _ = writeln!(out, "# TYPE tgbox_operations_total counter");
    for op in Op::ALL {
        let (ok, err) = r.count(op);
        let n = op.name();
        let _ = writeln!(
            out,
            "tgbox_operations_total{{op=\"{n}\",result=\"ok\"}} {ok}"
        );
        let _ = writeln!(
            out,
            "tgbox_operations_total{{op=\"{n}\",result=\"error\"}} {err}"
        );
    }
    let _ = writeln!(
        out,
        "# HELP tgbox_operation_seconds Latency quantiles over sliding windows."
    );
    let _ = writeln!(out, "# TYPE tgbox_operation_seconds gauge");
    let _ = writeln!(
        out,
        "# HELP tgbox_commit_batch_size Updates per store transaction over sliding windows."
    );
    let _ = writeln!(out, "# TYPE tgbox_commit_batch_size gauge");
    for op in Op::ALL {
        let (metric, scale) = if op.is_latency() {
            ("tgbox_operation_seconds", 1e-6)
        } else {
            ("tgbox_commit_batch_size", 1.0)
        };
        for (window, secs) in WINDOWS {
            let s = r.stats(op, secs);
            for (q, v) in [
                ("0.5", s.p50),
                ("0.95", s.p95),
                ("0.99", s.p99),
                ("1", s.max),
            ] {
                let _ = writeln!(
                    out,
                    "{metric}{{op=\"{}\",window=\"{window}\",quantile=\"{q}\"}} {}",
                    op.name(),
                    v * scale
                );
            }
        }
    }
    let rates = r.rates(Op::Update);
    let _ = writeln!(
        out,
        "# HELP tgbox_messages_per_second Updates committed per second."
    );
    let _ = writeln!(out, "# TYPE tgbox_messages_per_second gauge");
    for (span, v) in [
        ("now", rates.now),
        ("5m", rates.last_5m),
        ("1h", rates.last_1h),
    ] {
        let _ = writeln!(out, "tgbox_messages_per_second{{window=\"{span}\"}} {v}");
    }
    let c = r.cache().snapshot();
    let _ = writeln!(
        out,
        "# HELP tgbox_cache_events_total In-process cache lookups and changes by kind."
    );
    let _ = writeln!(out, "# TYPE tgbox_cache_events_total counter");
    for (kind, v) in [
        ("hit", c.hits),
        ("miss", c.misses),
        ("insertion", c.insertions),
        ("eviction", c.evictions),
        ("expiration", c.expirations),
        ("invalidation", c.invalidations),
        ("shrink", c.shrinks),
    ] {
        let _ = writeln!(out, "tgbox_cache_events_total{{event=\"{kind}\"}} {v}");
    }
    for (name, help, v) in [
        (
            "tgbox_cache_entries",
            "Entries in the in-process cache.",
            c.entries,
        ),
        (
            "tgbox_cache_bytes",
            "Estimated bytes in the in-process cache.",
            c.bytes,
        ),
        (
            "tgbox_cache_capacity_entries",
            "Entry bound in force (lower while shrunk under memory pressure).",
            c.capacity,
        ),
    ] {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
    }
    if let Some(s) = state.monitor.latest() {
        let gauges = [
            (
                "tgbox_process_resident_bytes",
                "Resident set size.",
                s.rss_bytes as f64,
            ),
            (
                "tgbox_process_virtual_bytes",
                "Virtual memory size.",
                s.virtual_bytes as f64,
            ),
            (
                "tgbox_process_cpu_percent",
                "CPU use, percent of one core.",
                f64::from(s.cpu_percent),
            ),
            ("tgbox_process_threads", "Threads.", s.threads as f64),
            (
                "tgbox_system_available_bytes",
                "System memory available.",
                s.system_available_bytes as f64,
            ),
            (
                "tgbox_data_disk_free_bytes",
                "Free bytes on the data directory's disk.",
                s.disk_free_bytes.unwrap_or(0) as f64,
            ),
            (
                "tgbox_store_bytes",
                "Size of the store files.",
                s.storage.store_bytes as f64,
            ),
            (
                "tgbox_index_bytes",
                "Size of the search index.",
                s.storage.index_bytes as f64,
            ),
            (
                "tgbox_active_users_24h",
                "Users active in the last 24 hours.",
                s.storage.active_users_24h as f64,
            ),
        ];
        for (name, help, v) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        }
    }
    if let Some(s) = state.monitor.latest()
        && !s.storage.tables.is_empty()
    {
        for (name, help, get) in [
            (
                "tgbox_table_stored_bytes",
                "Bytes of keys and values per store table.",
                (|t: &crate::telemetry::TableFigure| t.stored_bytes) as fn(&_) -> u64,
            ),
            (
                "tgbox_table_metadata_bytes",
                "Bytes of tree structure per store table.",
                |t| t.metadata_bytes,
            ),
            (
                "tgbox_table_fragmented_bytes",
                "Allocated but unused bytes per store table (compaction reclaims them).",
                |t| t.fragmented_bytes,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
            for t in &s.storage.tables {
                let _ = writeln!(out, "{name}{{table=\"{}\"}} {}", t.name, get(t));
            }
        }
    }
    if let Some(c) = counts {
        let _ = writeln!(out, "# HELP tgbox_store_rows Rows per table.");
        let _ = writeln!(out, "# TYPE tgbox_store_rows gauge");
        for (t, n) in [
            ("users", c.users),
            ("chats", c.chats),
            ("members", c.members),
            ("messages", c.messages),
            ("search_outbox", c.outbox_pending),
            ("quarantine", c.quarantined),
        ] {
            let _ = writeln!(out, "tgbox_store_rows{{table=\"{t}\"}} {n}");
        }
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response()
}
