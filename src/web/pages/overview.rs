//! The overview: cards and charts, refreshed in place by `static/app.js`.

use super::{Chrome, bytes, duration, render, short_ms};
use crate::telemetry::{HistoryPoint, Op};
use crate::web::WebState;
use crate::web::auth::guard::CurrentSession;
use crate::web::charts::{Series, line_chart, short};
use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::response::Response;

pub struct Card {
    pub label: &'static str,
    pub value: String,
    pub note: String,
}

pub struct Chart {
    pub title: String,
    pub svg: String,
    pub legend: Vec<&'static str>,
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    chrome: Chrome,
    cards: Vec<Card>,
    charts: Vec<Chart>,
    tables: Vec<TableRow>,
}

/// One store table in the storage figures, formatted.
struct TableRow {
    name: String,
    rows: String,
    stored: String,
    metadata: String,
    fragmented: String,
}

fn card(label: &'static str, value: String, note: impl Into<String>) -> Card {
    Card {
        label,
        value,
        note: note.into(),
    }
}

fn charts_for(span: &str, secs: i64, points: &[HistoryPoint], now: i64) -> Vec<Chart> {
    // A young appliance has less history than the span: draw what there is, full width.
    let from = points
        .first()
        .map_or(now - secs, |p| (p.time - 1).max(now - secs));
    let series = |name: &'static str, f: fn(&HistoryPoint) -> f64| Series {
        name,
        points: points.iter().map(|p| (p.time, f(p))).collect(),
    };
    vec![
        Chart {
            title: format!("Throughput, last {span}"),
            svg: line_chart(
                "messages per second",
                "/s",
                from,
                now,
                &[series("messages/s", |p| p.messages_per_sec)],
            ),
            legend: vec!["messages/s"],
        },
        Chart {
            title: format!("Update-to-commit latency, last {span}"),
            svg: line_chart(
                "latency",
                " ms",
                from,
                now,
                &[
                    series("p50", |p| p.p50_ms),
                    series("p95", |p| p.p95_ms),
                    series("p99", |p| p.p99_ms),
                ],
            ),
            legend: vec!["p50", "p95", "p99"],
        },
        Chart {
            title: format!("Memory (RSS), last {span}"),
            svg: line_chart(
                "resident memory",
                " MiB",
                from,
                now,
                &[series("RSS MiB", |p| p.rss_bytes as f64 / 1048576.0)],
            ),
            legend: vec!["RSS MiB"],
        },
    ]
}

pub async fn page(
    State(state): State<WebState>,
    Extension(session): Extension<CurrentSession>,
) -> Response {
    let counts = state.blocking(|s| s.counts().ok()).await.flatten();
    let r = &state.registry;
    let rates = r.rates(Op::Update);
    let lat = r.stats(Op::Update, 300);
    let sample = state.monitor.latest();
    let (committed, _) = r.count(Op::Update);
    let mut cards = vec![
        card(
            "Messages processed",
            short(committed as f64),
            format!(
                "{} stored in total",
                counts.as_ref().map_or(0, |c| c.messages)
            ),
        ),
        card(
            "Messages/s",
            format!("{:.1}", rates.now),
            format!("5 min {:.1} · 1 h {:.1}", rates.last_5m, rates.last_1h),
        ),
        card(
            "Response time p50 / p95 / p99",
            format!(
                "{} / {} / {}",
                short_ms(lat.p50),
                short_ms(lat.p95),
                short_ms(lat.p99)
            ),
            "update to commit, last 5 min",
        ),
    ];
    match &sample {
        Some(s) => {
            cards.push(card(
                "Memory (RSS)",
                bytes(s.rss_bytes),
                format!(
                    "{} available on the system",
                    bytes(s.system_available_bytes)
                ),
            ));
            cards.push(card(
                "CPU",
                format!("{:.1} %", s.cpu_percent),
                format!("{} threads", s.threads),
            ));
            cards.push(card(
                "Active users (24 h)",
                s.storage.active_users_24h.to_string(),
                format!("{} users known", counts.as_ref().map_or(0, |c| c.users)),
            ));
            cards.push(card(
                "Storage",
                bytes(s.storage.store_bytes + s.storage.index_bytes),
                match s.disk_free_bytes {
                    Some(free) => format!("{} free on disk", bytes(free)),
                    None => String::new(),
                },
            ));
        }
        None => cards.push(card("System", "sampling…".into(), "first sample soon")),
    }
    let c = r.cache().snapshot();
    cards.push(card(
        "Cache hit ratio",
        c.hit_ratio
            .map_or_else(|| "—".into(), |x| format!("{:.1} %", x * 100.0)),
        format!(
            "{} hits · {} misses · {} of {} entries",
            short(c.hits as f64),
            short(c.misses as f64),
            c.entries,
            c.capacity
        ),
    ));
    cards.push(card(
        "Uptime",
        duration(r.uptime().as_secs()),
        format!("version {}", env!("CARGO_PKG_VERSION")),
    ));
    let now = sample
        .as_ref()
        .map_or_else(|| chrono::Utc::now().timestamp(), |s| s.time);
    let mut charts = charts_for("hour", 3600, &state.monitor.history(3600, 360), now);
    charts.extend(charts_for(
        "day",
        86400,
        &state.monitor.history(86400, 480),
        now,
    ));
    let tables = sample
        .as_ref()
        .map(|s| {
            s.storage
                .tables
                .iter()
                .map(|t| TableRow {
                    name: t.name.clone(),
                    rows: t.rows.to_string(),
                    stored: bytes(t.stored_bytes),
                    metadata: bytes(t.metadata_bytes),
                    fragmented: bytes(t.fragmented_bytes),
                })
                .collect()
        })
        .unwrap_or_default();
    render(&OverviewPage {
        chrome: Chrome::new(&state, &session, "overview", "Overview".into()),
        cards,
        charts,
        tables,
    })
}
