//! The HTTP server: the only code outside `sim/` that names axum types.
//!
//! Each feature contributes a sub-router; [`router`] merges them into one `axum::Router`, and
//! [`serve`] runs a router on a listener until shutdown (in-flight requests finish first). Today
//! the features are the health check and the Telegram webhook receiver; the dashboard adds its
//! routes to [`WebState`] and [`router`] the same way.

mod health;
pub mod webhook;

pub use webhook::{AcceptFn, WebhookAnswer, WebhookRoute};

use axum::Router;
use tokio_util::sync::CancellationToken;

/// Everything the web server may serve; `None` parts are left out.
#[derive(Clone, Default)]
pub struct WebState {
    /// The webhook receiver (webhook mode, when it shares the web server).
    pub webhook: Option<WebhookRoute>,
}

/// The whole application router: health plus every configured feature.
pub fn router(state: WebState) -> Router {
    let mut router = health::routes();
    if let Some(route) = state.webhook {
        router = router.merge(webhook::routes(route));
    }
    router
}

/// Serve `router` on `listener` until `shutdown` fires; then stop accepting connections and
/// let in-flight requests finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}
