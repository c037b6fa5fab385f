//! Webhook mode, the Bot API side: register the webhook with setWebhook, and take each delivered
//! update (the raw request body) through the same path as polling: decode -> commit (durable) ->
//! answer -> handlers for updates applied for the first time.
//!
//! The HTTP side (secret check, status codes) is `web::webhook`; `app` joins the two.
//!
//! Ordering: the store recognises redeliveries by the last committed update id, which assumes
//! updates arrive in order. tgbox therefore registers the webhook with `max_connections = 1`
//! (Telegram then sends the next update only after the previous one was answered) and holds a
//! request open while a commit fails for a transient reason (a full disk), retrying for up to
//! [`COMMIT_PATIENCE`], instead of answering an error that would let Telegram move on.

use super::convert::{self, ALLOWED_UPDATES};
use super::{BotError, Handlers, Telegram};
use crate::config::Secret;
use crate::domain::Timestamp;
use crate::ingest::{Heartbeat, IngestError, WriterHandle};
use serde::Deserialize;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long one webhook request keeps retrying a commit that fails for a transient reason
/// before it answers 503 (Telegram's own timeout is longer).
pub const COMMIT_PATIENCE: Duration = Duration::from_secs(20);

/// Takes delivered updates into the store. Cheap to clone.
#[derive(Clone)]
pub struct WebhookIntake {
    writer: WriterHandle,
    handlers: Handlers,
    tracker: TaskTracker,
    heartbeat: Heartbeat,
    cancel: CancellationToken,
}

impl WebhookIntake {
    pub fn new(
        writer: WriterHandle,
        handlers: Handlers,
        tracker: TaskTracker,
        heartbeat: Heartbeat,
        cancel: CancellationToken,
    ) -> Self {
        WebhookIntake {
            writer,
            handlers,
            tracker,
            heartbeat,
            cancel,
        }
    }

    /// Commit one delivered update. `Ok` means it is durable (or was committed before, or is so
    /// malformed that it has no update id and is dropped, as polling does): answer 2xx. `Err`
    /// means it is not committed: answer an error so Telegram delivers it again.
    pub async fn accept(&self, body: &str) -> Result<(), IngestError> {
        self.heartbeat.beat();
        let received = Instant::now();
        let decoded = match convert::decode(body, Timestamp::now()) {
            Ok(decoded) => decoded,
            Err(e) => {
                let preview: String = body.chars().take(200).collect();
                tracing::error!(error = %e, raw = %preview, "dropping a webhook update that has no update_id");
                return Ok(());
            }
        };
        let id = decoded.incoming.update_id;
        let deadline = received + COMMIT_PATIENCE;
        let mut backoff = Duration::from_millis(100);
        let outcome = loop {
            match self
                .writer
                .commit(vec![decoded.incoming.clone()], received)
                .await
            {
                Ok(outcome) => break outcome,
                Err(e) if e.is_transient() && Instant::now() + backoff < deadline => {
                    tracing::warn!(error = %e, update_id = id.0, retry_in = ?backoff, "cannot commit a webhook update; retrying before answering");
                    tokio::select! {
                        _ = self.cancel.cancelled() => return Err(e),
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
                Err(e) => return Err(e),
            }
        };
        self.heartbeat.beat();
        if outcome.applied.contains(&id) {
            if let Some(update) = decoded.update {
                let handlers = self.handlers.clone();
                self.tracker
                    .spawn(async move { handlers.handle(update).await });
            }
        } else {
            tracing::info!(
                update_id = id.0,
                last_committed = ?outcome.last_update_id.map(|u| u.0),
                "webhook update was committed before (a redelivery); skipped"
            );
        }
        Ok(())
    }
}

#[derive(Deserialize)]
struct ApiAnswer {
    ok: bool,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    error_code: Option<u16>,
}

/// Register `url` with Telegram (setWebhook) with our secret token, one connection at a time.
/// Transient failures are retried until `cancel` fires; a refusal (a bad URL, say) is fatal.
pub async fn set_webhook(
    tg: &Telegram,
    url: &str,
    secret: &Secret,
    cancel: &CancellationToken,
) -> Result<(), BotError> {
    let body = serde_json::json!({
        "url": url,
        "secret_token": secret.expose(),
        "max_connections": 1,
        "allowed_updates": ALLOWED_UPDATES,
        "drop_pending_updates": false,
    });
    let mut backoff = Duration::from_millis(500);
    loop {
        let request = tg
            .raw
            .post(tg.method_url("setWebhook"))
            .json(&body)
            .timeout(Duration::from_secs(30))
            .send();
        let sent = tokio::select! {
            _ = cancel.cancelled() => return Err(BotError::Cancelled),
            r = request => r,
        };
        let problem = match sent {
            Ok(response) => {
                let status = response.status().as_u16();
                match response.json::<ApiAnswer>().await {
                    Ok(a) if a.ok => {
                        tracing::info!(%url, "webhook registered with Telegram");
                        return Ok(());
                    }
                    Ok(a) => {
                        let description = a.description.unwrap_or_default();
                        match a.error_code.unwrap_or(status) {
                            401 | 404 => return Err(BotError::Unauthorized),
                            400 => return Err(BotError::Webhook(description)),
                            code => format!("{code}: {description}"),
                        }
                    }
                    Err(e) => format!("HTTP {status}: {}", e.without_url()),
                }
            }
            Err(e) => e.without_url().to_string(),
        };
        tracing::warn!(error = %problem, retry_in = ?backoff, "setWebhook failed; retrying");
        tokio::select! {
            _ = cancel.cancelled() => return Err(BotError::Cancelled),
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(Duration::from_secs(30));
    }
}
