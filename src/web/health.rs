//! `GET /healthz`: answers while the server runs (the watchdog's webhook-mode probe uses it).

use axum::Router;
use axum::routing::get;

/// The path of the health check.
pub const HEALTH_PATH: &str = "/healthz";

pub fn routes() -> Router {
    Router::new().route(HEALTH_PATH, get(|| async { "ok\n" }))
}
