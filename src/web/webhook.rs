//! The webhook receiver: `POST <path>` with one update as the JSON body.
//!
//! A request without the right `X-Telegram-Bot-Api-Secret-Token` gets 401 and is not read
//! further. Otherwise the body goes to the intake (see `bot::WebhookIntake`), which answers only
//! once the update is committed; then the request gets 200. When it cannot be committed the
//! answer is 503 and Telegram delivers the update again.

use crate::config::Secret;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// The header Telegram sends the secret token in.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// What the intake made of one delivered update.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WebhookAnswer {
    /// Durable (or deliberately dropped): answer 200.
    Committed,
    /// Not committed: answer 503 so Telegram retries.
    Retry(String),
}

/// Takes the body of one delivered update and resolves once it is committed (or not).
pub type AcceptFn =
    Arc<dyn Fn(String) -> Pin<Box<dyn Future<Output = WebhookAnswer> + Send>> + Send + Sync>;

/// The webhook route: where it listens, the secret it expects, and what takes the updates.
#[derive(Clone)]
pub struct WebhookRoute {
    /// Path of the public webhook URL, e.g. `/tgbox/webhook`.
    pub path: String,
    pub secret: Secret,
    pub accept: AcceptFn,
}

pub fn routes(route: WebhookRoute) -> Router {
    let path = route.path.clone();
    Router::new()
        .route(&path, post(receive))
        .with_state(Arc::new(route))
}

async fn receive(
    State(route): State<Arc<WebhookRoute>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let given = headers.get(SECRET_HEADER).map(|v| v.as_bytes());
    if !secret_matches(given, route.secret.expose().as_bytes()) {
        tracing::warn!("webhook request without the right secret token refused");
        return (StatusCode::UNAUTHORIZED, "wrong secret token\n");
    }
    let Ok(text) = String::from_utf8(body.to_vec()) else {
        return (StatusCode::BAD_REQUEST, "body is not UTF-8\n");
    };
    match (route.accept)(text).await {
        WebhookAnswer::Committed => (StatusCode::OK, ""),
        WebhookAnswer::Retry(reason) => {
            tracing::warn!(%reason, "webhook update not committed; answering 503 so Telegram retries");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "not committed, retry later\n",
            )
        }
    }
}

/// Compare in time that depends only on the expected secret's length, not on where the first
/// difference is.
fn secret_matches(given: Option<&[u8]>, expected: &[u8]) -> bool {
    let Some(given) = given else { return false };
    let mut diff = given.len() ^ expected.len();
    for (i, e) in expected.iter().enumerate() {
        let g = given.get(i).copied().unwrap_or(0);
        diff |= usize::from(g ^ e);
    }
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::secret_matches;

    #[test]
    fn secret_comparison() {
        assert!(secret_matches(Some(b"abc"), b"abc"));
        assert!(!secret_matches(Some(b"abd"), b"abc"));
        assert!(!secret_matches(Some(b"ab"), b"abc"));
        assert!(!secret_matches(Some(b"abcd"), b"abc"));
        assert!(!secret_matches(Some(b""), b"abc"));
        assert!(!secret_matches(None, b"abc"));
        assert!(!secret_matches(Some(b"ab\0"), b"ab"));
    }
}
