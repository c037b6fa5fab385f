//! The getUpdates loop, written by hand for the durability guarantee: the offset that confirms
//! updates to Telegram is sent only after the writer reported them committed. teloxide's own
//! listener confirms as soon as updates are handed to the dispatcher, which could lose them.
//!
//! Cycle: getUpdates(offset) -> decode -> commit (durable) -> offset = last id + 1 -> spawn
//! handlers for the updates applied for the first time. The next getUpdates carries the new
//! offset, which is what confirms the batch. Replies are therefore at-most-once.

use super::convert::{self, ALLOWED_UPDATES};
use super::{Handlers, Telegram};
use crate::domain::{Timestamp, UpdateId};
use crate::ingest::{Heartbeat, WriterHandle};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use thiserror::Error;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

#[derive(Clone, Debug)]
pub struct PollingConfig {
    /// Long-poll timeout sent to Telegram.
    pub timeout: Duration,
    /// Updates per getUpdates, 1-100.
    pub limit: u8,
    /// Beaten on every cycle and while waiting, for the systemd watchdog.
    pub heartbeat: Heartbeat,
}

impl Default for PollingConfig {
    fn default() -> Self {
        PollingConfig {
            timeout: Duration::from_secs(30),
            limit: 100,
            heartbeat: Heartbeat::new(),
        }
    }
}

#[derive(Debug, Error)]
pub enum PollError {
    #[error("network error talking to the Bot API: {0}")]
    Network(String),
    #[error("Telegram rejected the bot token (401 Unauthorized)")]
    Unauthorized,
    #[error("too many requests; Telegram asks to retry after {0} s")]
    TooManyRequests(u64),
    #[error(
        "conflict: {0} (another tgbox or bot instance may be polling with this token, or a \
         webhook is set)"
    )]
    Conflict(String),
    #[error("the Bot API answered {status}: {description}")]
    Api { status: u16, description: String },
    #[error("the Bot API answer is not valid: {0}")]
    Malformed(String),
}

#[derive(Deserialize)]
struct ApiResponse<'a> {
    ok: bool,
    #[serde(borrow, default)]
    result: Option<Vec<&'a RawValue>>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    error_code: Option<u16>,
    #[serde(default)]
    parameters: Option<ResponseParameters>,
}

#[derive(Deserialize)]
struct ResponseParameters {
    #[serde(default)]
    retry_after: Option<u64>,
}

async fn get_updates(
    tg: &Telegram,
    offset: Option<i64>,
    config: &PollingConfig,
) -> Result<Vec<String>, PollError> {
    let mut body = serde_json::json!({
        "timeout": config.timeout.as_secs(),
        "limit": config.limit.clamp(1, 100),
        "allowed_updates": ALLOWED_UPDATES,
    });
    if let Some(offset) = offset {
        body["offset"] = offset.into();
    }
    let response = tg
        .raw
        .post(tg.method_url("getUpdates"))
        .json(&body)
        .timeout(config.timeout + Duration::from_secs(15))
        .send()
        .await
        // `without_url`: the URL holds the token.
        .map_err(|e| PollError::Network(e.without_url().to_string()))?;
    let status = response.status().as_u16();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| PollError::Network(e.without_url().to_string()))?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| PollError::Malformed("body is not UTF-8".into()))?;
    let parsed: ApiResponse<'_> = serde_json::from_str(text)
        .map_err(|e| PollError::Malformed(format!("HTTP {status}: {e}")))?;
    if parsed.ok {
        return Ok(parsed
            .result
            .unwrap_or_default()
            .into_iter()
            .map(|r| r.get().to_string())
            .collect());
    }
    let description = parsed
        .description
        .unwrap_or_else(|| "no description".into());
    Err(match parsed.error_code.unwrap_or(status) {
        401 | 404 => PollError::Unauthorized,
        409 => PollError::Conflict(description),
        429 => {
            PollError::TooManyRequests(parsed.parameters.and_then(|p| p.retry_after).unwrap_or(5))
        }
        code => PollError::Api {
            status: code,
            description,
        },
    })
}

/// Poll until `cancel` fires. Returns an error only for what retrying cannot fix (a rejected
/// token). Handler tasks are spawned on `tracker` so shutdown can wait for them.
pub async fn run_polling(
    tg: Telegram,
    start_after: Option<UpdateId>,
    writer: WriterHandle,
    handlers: Handlers,
    config: PollingConfig,
    tracker: TaskTracker,
    cancel: CancellationToken,
) -> Result<(), PollError> {
    // Resuming from the store's last committed id confirms anything committed before a crash.
    let mut offset: Option<i64> = start_after.map(|id| i64::from(id.0) + 1);
    let mut backoff = Backoff::new();
    tracing::info!(?offset, "polling for updates");
    loop {
        let fetched = tokio::select! {
            _ = cancel.cancelled() => break,
            r = get_updates(&tg, offset, &config) => r,
        };
        config.heartbeat.beat();
        let raws = match fetched {
            Ok(raws) => {
                backoff.reset();
                raws
            }
            Err(PollError::Unauthorized) => return Err(PollError::Unauthorized),
            Err(e) => {
                let wait = match &e {
                    PollError::TooManyRequests(secs) => Duration::from_secs(*secs),
                    _ => backoff.next(),
                };
                tracing::warn!(error = %e, retry_in = ?wait, "getUpdates failed");
                if wait_alive(wait, &config.heartbeat, &cancel).await {
                    continue;
                }
                break;
            }
        };
        if raws.is_empty() {
            continue;
        }
        let received = Instant::now();
        let now = Timestamp::now();
        let mut batch = Vec::with_capacity(raws.len());
        let mut for_handlers = HashMap::new();
        let mut max_id: Option<u32> = None;
        for raw in &raws {
            match convert::decode(raw, now) {
                Ok(decoded) => {
                    let id = decoded.incoming.update_id;
                    max_id = Some(max_id.map_or(id.0, |m| m.max(id.0)));
                    if let Some(update) = decoded.update {
                        for_handlers.insert(id, update);
                    }
                    batch.push(decoded.incoming);
                }
                Err(e) => {
                    let preview: String = raw.chars().take(200).collect();
                    tracing::error!(error = %e, raw = %preview, "dropping an update that has no update_id");
                }
            }
        }
        let Some(max_id) = max_id else { continue };
        let outcome = loop {
            match writer.commit(batch.clone(), received).await {
                Ok(outcome) => break Some(outcome),
                Err(e) if e.is_transient() && !cancel.is_cancelled() => {
                    let wait = backoff.next();
                    tracing::error!(error = %e, retry_in = ?wait, "cannot commit updates; they stay unconfirmed and will be retried");
                    if !wait_alive(wait, &config.heartbeat, &cancel).await {
                        break None;
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "stopping: updates not committed stay unconfirmed");
                    break None;
                }
            }
        };
        let Some(outcome) = outcome else { break };
        backoff.reset();
        offset = Some(i64::from(max_id) + 1);
        for id in outcome.applied {
            if let Some(update) = for_handlers.remove(&id) {
                handlers.dispatch(&tracker, update);
            }
        }
    }
    tracing::info!("polling stopped");
    Ok(())
}

/// Sleep `wait`, beating `heartbeat` every few seconds (a long `retry_after` is not a hang).
/// False when cancelled.
async fn wait_alive(wait: Duration, heartbeat: &Heartbeat, cancel: &CancellationToken) -> bool {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        heartbeat.beat();
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return true;
        }
        let step = (deadline - now).min(Duration::from_secs(5));
        tokio::select! {
            _ = cancel.cancelled() => return false,
            _ = tokio::time::sleep(step) => {}
        }
    }
}

/// Exponential backoff from 0.5 s to 30 s.
struct Backoff {
    next: Duration,
}

impl Backoff {
    fn new() -> Self {
        Backoff {
            next: Duration::from_millis(500),
        }
    }
    fn reset(&mut self) {
        self.next = Duration::from_millis(500);
    }
    fn next(&mut self) -> Duration {
        let now = self.next;
        self.next = (self.next * 2).min(Duration::from_secs(30));
        now
    }
}
