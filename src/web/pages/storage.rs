//! Storage: per-table sizes and fragmentation, the search index, the last cleanup and
//! compaction, and the buttons that run a compaction or download a backup.
//!
//! The backup download streams the same file `tgbox backup` writes, produced while it is sent
//! (one read transaction on a blocking thread, piped into the response). If it fails halfway the
//! response simply ends early; the file then lacks its trailer and `tgbox restore` refuses it.

use super::{Chrome, bytes, message, render, when};
use crate::domain::Timestamp;
use crate::store::{MaintenanceRun, TableStats};
use crate::web::WebState;
use crate::web::auth::guard::CurrentSession;
use crate::web::auth::routes::{CsrfForm, csrf_ok, csrf_rejected};
use askama::Template;
use axum::Extension;
use axum::body::Body;
use axum::extract::{Form, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

struct TableRow {
    name: String,
    rows: String,
    stored: String,
    metadata: String,
    fragmented: String,
}

/// One finished maintenance run, formatted.
struct RunView {
    when: String,
    trigger: String,
    store: String,
    pause: String,
    index: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "storage.html")]
struct StoragePage {
    chrome: Chrome,
    file: String,
    reclaimable: String,
    totals: TableRow,
    tables: Vec<TableRow>,
    /// (size, segments and documents)
    index: Option<(String, String)>,
    compaction: Option<RunView>,
    running: bool,
    schedule: String,
    cleanup: Option<String>,
    cleanup_button: bool,
    can_compact: bool,
}

fn row(t: &TableStats) -> TableRow {
    TableRow {
        name: t.name.clone(),
        rows: t.rows.to_string(),
        stored: bytes(t.stored_bytes),
        metadata: bytes(t.metadata_bytes),
        fragmented: bytes(t.fragmented_bytes),
    }
}

fn run_view(r: &MaintenanceRun) -> RunView {
    let store = r.store.as_ref().map_or("failed".to_string(), |s| {
        format!(
            "{} → {} ({} reclaimed) in {} ms",
            bytes(s.bytes_before),
            bytes(s.bytes_after),
            bytes(s.reclaimed_bytes()),
            s.duration_ms
        )
    });
    let pause = r.store.as_ref().map_or("-".to_string(), |s| {
        format!(
            "{} ms (waited {} ms for calls in flight)",
            s.pause_ms, s.wait_ms
        )
    });
    let index = r.index.as_ref().map_or("not compacted".to_string(), |i| {
        format!(
            "{} → {}, {} → {} segments, {} deleted documents dropped, in {} ms",
            bytes(i.bytes_before),
            bytes(i.bytes_after),
            i.segments_before,
            i.segments_after,
            i.deleted_docs_before,
            i.duration_ms
        )
    });
    RunView {
        when: when(Timestamp(r.finished_at)),
        trigger: r.trigger.clone(),
        store,
        pause,
        index,
        error: r.error.clone(),
    }
}

pub async fn page(
    State(state): State<WebState>,
    Extension(session): Extension<CurrentSession>,
) -> Response {
    let file = state.settings.data_dir.join(crate::store::redb::FILE_NAME);
    let maintenance = state.maintenance.clone();
    let gathered = state
        .blocking(move |store| {
            let stats = store.table_stats();
            let file_bytes = std::fs::metadata(&file).map_or(0, |m| m.len());
            let index = maintenance.as_ref().and_then(|m| m.index_figures());
            let reclaimable = maintenance
                .as_ref()
                .and_then(|m| m.reclaimable_bytes().ok());
            (stats, file_bytes, index, reclaimable)
        })
        .await;
    let Some((Ok(stats), file_bytes, index, reclaimable)) = gathered else {
        return super::store_failed();
    };
    let sum = |f: fn(&TableStats) -> u64| stats.iter().map(f).sum::<u64>();
    let totals = row(&TableStats {
        name: "all tables".into(),
        rows: sum(|t| t.rows),
        stored_bytes: sum(|t| t.stored_bytes),
        metadata_bytes: sum(|t| t.metadata_bytes),
        fragmented_bytes: sum(|t| t.fragmented_bytes),
    });
    let m = state.maintenance.as_deref();
    let schedule = m.map_or(String::new(), |m| {
        let s = m.schedule();
        let daily = s.daily_at.map_or("no daily run".to_string(), |(h, mm)| {
            format!("daily at {h:02}:{mm:02} UTC")
        });
        let frag = s.fragmented_bytes.map_or(String::new(), |b| {
            format!(", and when {} are fragmented", bytes(b))
        });
        format!("{daily}{frag}")
    });
    let hooks = m.and_then(|m| m.cleanup_hooks());
    let cleanup = hooks
        .as_ref()
        .and_then(|h| (h.last)())
        .map(|c| format!("{} — {}", when(Timestamp(c.finished_at)), c.summary));
    render(&StoragePage {
        chrome: Chrome::new(&state, &session, "storage", "Storage".into()),
        file: bytes(file_bytes),
        reclaimable: reclaimable.map_or("-".to_string(), bytes),
        totals,
        tables: stats.iter().map(row).collect(),
        index: index.map(|i| {
            (
                bytes(i.bytes),
                format!(
                    "{} segments, {} documents ({} deleted, awaiting a merge)",
                    i.segments, i.docs, i.deleted_docs
                ),
            )
        }),
        compaction: m.and_then(|m| m.last_run()).as_ref().map(run_view),
        running: m.is_some_and(|m| m.is_running()),
        schedule,
        cleanup,
        cleanup_button: hooks.is_some_and(|h| h.run_now.is_some()),
        can_compact: m.is_some(),
    })
}

/// "Compact now": start a compaction in the background and go back to the page.
pub async fn compact(
    State(state): State<WebState>,
    Extension(session): Extension<CurrentSession>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !csrf_ok(&session, form.token()) {
        return csrf_rejected();
    }
    let Some(m) = state.maintenance.clone() else {
        return message(
            StatusCode::SERVICE_UNAVAILABLE,
            "Not available",
            "Compaction is not available in this setup.",
        );
    };
    if m.is_running() {
        return Redirect::to("/storage").into_response();
    }
    tokio::task::spawn_blocking(move || {
        if let Err(e) = m.compact("dashboard") {
            tracing::info!(error = %e, "compaction from the dashboard not started");
        }
    });
    Redirect::to("/storage").into_response()
}

/// "Run cleanup": start the retention sweep, when the app wired one.
pub async fn cleanup(
    State(state): State<WebState>,
    Extension(session): Extension<CurrentSession>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !csrf_ok(&session, form.token()) {
        return csrf_rejected();
    }
    let run = state
        .maintenance
        .as_ref()
        .and_then(|m| m.cleanup_hooks())
        .and_then(|h| h.run_now);
    match run {
        Some(run) => {
            tokio::task::spawn_blocking(move || run());
            Redirect::to("/storage").into_response()
        }
        None => message(
            StatusCode::SERVICE_UNAVAILABLE,
            "Not available",
            "The retention sweep is not available in this setup.",
        ),
    }
}

/// The backup as a download: GET (a link) or POST (the form button, with CSRF).
pub async fn backup_get(State(state): State<WebState>) -> Response {
    stream_backup(state)
}

pub async fn backup_post(
    State(state): State<WebState>,
    Extension(session): Extension<CurrentSession>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !csrf_ok(&session, form.token()) {
        return csrf_rejected();
    }
    stream_backup(state)
}

fn stream_backup(state: WebState) -> Response {
    let (writer, reader) = tokio::io::duplex(256 * 1024);
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || {
        let mut out = tokio_util::io::SyncIoBridge::new(writer);
        match store.backup(&mut out) {
            Ok(s) => tracing::info!(rows = s.rows, bytes = s.bytes, "backup downloaded"),
            Err(e) => tracing::warn!(error = %e, "backup download failed (the file is incomplete)"),
        }
    });
    let name = format!(
        "tgbox-{}.tgbox-backup",
        chrono::Utc::now().format("%Y%m%d-%H%M%S")
    );
    (
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        Body::from_stream(tokio_util::io::ReaderStream::new(reader)),
    )
        .into_response()
}
