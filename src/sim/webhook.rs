//! Webhook delivery: POST each queued update, in order, to the webhook URL.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::Sim;
use super::json::unix_now;

const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

fn client(sim: &Sim) -> reqwest::Client {
    sim.inner()
        .http
        .get_or_init(|| {
            reqwest::Client::builder()
                .timeout(REQUEST_TIMEOUT)
                .build()
                .unwrap_or_else(|_| reqwest::Client::new())
        })
        .clone()
}

/// Delivers updates one at a time until `cancel` (deleteWebhook, a new setWebhook) or the sim
/// stops. A 2xx answer confirms the update; anything else is retried with backoff.
pub(crate) async fn deliver(
    sim: Sim,
    url: String,
    secret: Option<String>,
    cancel: CancellationToken,
) {
    let http = client(&sim);
    let stopping = sim.inner().stopping.clone();
    let mut backoff = FIRST_BACKOFF;
    tracing::info!(%url, "webhook delivery started");
    loop {
        let notified = sim.inner().wake.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let next: Option<(u32, Arc<str>)> =
            sim.lock().queue.front().map(|q| (q.id, q.json.clone()));
        let Some((id, body)) = next else {
            tokio::select! {
                () = &mut notified => continue,
                () = cancel.cancelled() => break,
                () = stopping.cancelled() => break,
            }
        };
        let mut req = http
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
        if let Some(s) = &secret {
            req = req.header("X-Telegram-Bot-Api-Secret-Token", s.as_str());
        }
        let result = tokio::select! {
            r = req.send() => r,
            () = cancel.cancelled() => break,
            () = stopping.cancelled() => break,
        };
        let error = match result {
            Ok(resp) if resp.status().is_success() => None,
            Ok(resp) => Some(format!(
                "Wrong response from the webhook: {}",
                resp.status()
            )),
            Err(e) if e.is_timeout() => Some("Read timeout expired".to_owned()),
            Err(e) => Some(format!("Connection failed: {e}")),
        };
        match error {
            None => {
                let mut st = sim.lock();
                // Only if the webhook is still this one and nobody dropped the update meanwhile.
                if !cancel.is_cancelled() && st.queue.confirm_front(id) {
                    st.counters.webhook_deliveries += 1;
                }
                backoff = FIRST_BACKOFF;
            }
            Some(msg) => {
                tracing::debug!(update_id = id, error = %msg, "webhook delivery failed");
                {
                    let mut st = sim.lock();
                    st.counters.webhook_failures += 1;
                    if let Some(w) = st.webhook.as_mut().filter(|_| !cancel.is_cancelled()) {
                        w.last_error = Some((unix_now(), msg));
                    }
                }
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    () = cancel.cancelled() => break,
                    () = stopping.cancelled() => break,
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
    tracing::info!(%url, "webhook delivery stopped");
}
