//! Logs: the newest lines from the ring buffer, filtered by level.

use super::{Chrome, render};
use crate::telemetry::logs::level_rank;
use crate::web::WebState;
use crate::web::auth::guard::CurrentSession;
use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

const SHOWN: usize = 2000;

#[derive(Deserialize, Default)]
pub struct LogQuery {
    #[serde(default)]
    level: String,
}

pub struct Line {
    pub time: String,
    pub level: &'static str,
    pub class: &'static str,
    pub target: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "logs.html")]
struct LogsPage {
    chrome: Chrome,
    level: &'static str,
    levels: [&'static str; 5],
    lines: Vec<Line>,
}

pub async fn page(
    State(state): State<WebState>,
    Extension(session): Extension<CurrentSession>,
    Query(q): Query<LogQuery>,
) -> Response {
    let levels = ["error", "warn", "info", "debug", "trace"];
    let level = levels
        .iter()
        .copied()
        .find(|l| *l == q.level.to_ascii_lowercase())
        .unwrap_or("trace");
    let rank = level_rank(&level.to_ascii_uppercase());
    let lines = state
        .logs
        .recent(rank, SHOWN)
        .into_iter()
        .map(|l| Line {
            time: chrono::DateTime::from_timestamp(l.time, 0)
                .map(|d| d.format("%m-%d %H:%M:%S").to_string())
                .unwrap_or_default(),
            class: match l.level {
                "ERROR" => "lv-error",
                "WARN" => "lv-warn",
                "INFO" => "lv-info",
                _ => "lv-debug",
            },
            level: l.level,
            target: l.target,
            message: l.message,
        })
        .collect();
    render(&LogsPage {
        chrome: Chrome::new(&state, &session, "logs", "Logs".into()),
        level,
        levels,
        lines,
    })
}
