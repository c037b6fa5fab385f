//! Server-rendered pages (askama templates in `templates/`). Every page shares [`Chrome`]: the
//! navigation, the logout form's CSRF token, and the memory warning.

pub mod broadcasts;
pub mod chat_retention;
pub mod chats;
pub mod logs;
pub mod overview;
pub mod storage;
pub mod users;

use super::auth::guard::CurrentSession;
use crate::domain::Timestamp;
use crate::web::WebState;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// What the layout needs on every page.
pub struct Chrome {
    pub title: String,
    pub nav: &'static str,
    pub csrf: String,
    pub warning: Option<String>,
    pub version: &'static str,
}

impl Chrome {
    pub fn new(
        state: &WebState,
        session: &CurrentSession,
        nav: &'static str,
        title: String,
    ) -> Self {
        Chrome {
            title,
            nav,
            csrf: session.csrf.clone(),
            warning: state.monitor.warning(),
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    title: &'a str,
    text: &'a str,
}

/// Render a template, or a plain 500 (logged) when rendering fails.
pub fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "page failed to render\n").into_response()
        }
    }
}

/// A small page with a title and a sentence.
pub fn message(status: StatusCode, title: &str, text: &str) -> Response {
    (status, render(&MessagePage { title, text })).into_response()
}

pub async fn not_found() -> Response {
    message(StatusCode::NOT_FOUND, "Not found", "There is no such page.")
}

pub fn store_failed() -> Response {
    message(
        StatusCode::SERVICE_UNAVAILABLE,
        "Store unavailable",
        "The store could not be read; see the log.",
    )
}

pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

pub fn duration(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else if m > 0 {
        format!("{m}m {s}s")
    } else {
        format!("{s}s")
    }
}

/// Microseconds as a short millisecond figure.
pub fn short_ms(us: f64) -> String {
    let ms = us / 1000.0;
    if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

/// "2025-01-02 13:04" (UTC).
pub fn when(t: Timestamp) -> String {
    chrono::DateTime::from_timestamp(t.0, 0)
        .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| t.0.to_string())
}

/// Cut a text for a table cell.
pub fn excerpt(text: &str, chars: usize) -> String {
    let mut out: String = text.chars().take(chars).collect();
    if text.chars().nth(chars).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats() {
        assert_eq!(super::bytes(512), "512 B");
        assert_eq!(super::bytes(3 << 20), "3.0 MiB");
        assert_eq!(super::duration(3725), "1h 2m");
        assert_eq!(super::excerpt("سلام دنیا", 4), "سلام…");
    }
}
