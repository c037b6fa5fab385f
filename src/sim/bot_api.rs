//! The Bot API endpoint: `/bot<token>/<method>`, request parsing, faults, `getUpdates` and the
//! webhook methods. Message-related methods are in `bot_send.rs`.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State as AxState;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::faults::Fault;
use super::json;
use super::params::Params;
use super::queue;
use super::state::WebhookConf;
use super::{Sim, webhook};

/// A Bot API error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub code: u16,
    pub description: String,
    pub retry_after: Option<u32>,
}

impl ApiError {
    pub fn new(code: u16, description: impl Into<String>) -> ApiError {
        ApiError {
            code,
            description: description.into(),
            retry_after: None,
        }
    }

    /// 400 "Bad Request: <what>".
    pub fn bad(what: &str) -> ApiError {
        ApiError::new(400, format!("Bad Request: {what}"))
    }

    pub fn forbidden(what: &str) -> ApiError {
        ApiError::new(403, format!("Forbidden: {what}"))
    }

    fn body(&self) -> String {
        let mut v =
            json!({ "ok": false, "error_code": self.code, "description": self.description });
        if let Some(r) = self.retry_after {
            v["parameters"] = json!({ "retry_after": r });
        }
        v.to_string()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code).unwrap_or(StatusCode::BAD_REQUEST);
        json_response(status, self.body())
    }
}

fn json_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// A successful answer: a result value (with an optional description) or a pre-built body.
pub(crate) enum Answer {
    Value(Value),
    Described(Value, &'static str),
    Raw(String),
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let body = match self {
            Answer::Value(v) => format!("{{\"ok\":true,\"result\":{v}}}"),
            Answer::Described(v, d) => {
                json!({ "ok": true, "result": v, "description": d }).to_string()
            }
            Answer::Raw(s) => s,
        };
        json_response(StatusCode::OK, body)
    }
}

/// Canonical spelling of the supported methods (Telegram matches method names case-insensitively).
const METHODS: [&str; 19] = [
    "getMe",
    "getUpdates",
    "setWebhook",
    "deleteWebhook",
    "getWebhookInfo",
    "sendMessage",
    "editMessageText",
    "editMessageReplyMarkup",
    "answerCallbackQuery",
    "deleteMessage",
    "sendPhoto",
    "sendDocument",
    "setMyCommands",
    "getMyCommands",
    "deleteMyCommands",
    "getChat",
    "sendChatAction",
    "logOut",
    "close",
];

/// The fallback handler of the router: every request that is not a control API request.
pub(crate) async fn handle(
    AxState(sim): AxState<Sim>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    if path.starts_with("/control/") {
        return super::control::unknown(path);
    }
    let Some((token, method)) = path.strip_prefix("/bot").and_then(|r| r.split_once('/')) else {
        return ApiError::new(404, "Not Found").into_response();
    };
    if token != sim.token() {
        return ApiError::new(401, "Unauthorized").into_response();
    }
    let method = method.trim_end_matches('/');
    let Some(method) = METHODS
        .iter()
        .find(|m| m.eq_ignore_ascii_case(method))
        .copied()
    else {
        return ApiError::new(404, "Not Found: method not found").into_response();
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let params = Params::parse(uri.query(), content_type, &body);
    let chat_id = params
        .as_ref()
        .ok()
        .and_then(|p| p.i64("chat_id").ok().flatten());
    let is_send = super::flood::SEND_METHODS.contains(&method);
    let (fault, sent_at) = {
        let mut st = sim.lock();
        st.counters.api_calls += 1;
        let fault = st.faults.take(&method.to_ascii_lowercase(), chat_id);
        if fault.is_some() {
            st.counters.faults_injected += 1;
        }
        let now = st.flood.now_us();
        if is_send && matches!(fault, Some(ref f) if !matches!(f, Fault::Slow { .. })) {
            st.flood
                .log(now, method, chat_id, super::flood::SendOutcome::Fault);
        }
        if is_send && fault.is_none() {
            if let Err(retry_after) = st.flood.admit(now, method, chat_id) {
                return ApiError {
                    code: 429,
                    description: format!("Too Many Requests: retry after {retry_after}"),
                    retry_after: Some(retry_after),
                }
                .into_response();
            }
        }
        (fault, now)
    };
    if let Some(fault) = fault {
        tracing::debug!(method, ?fault, "injecting fault");
        match fault {
            Fault::Slow { delay_ms } => tokio::time::sleep(Duration::from_millis(delay_ms)).await,
            other => return fault_response(other),
        }
    }
    let params = match params {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let result = dispatch(&sim, method, &params).await;
    if is_send {
        let outcome = match &result {
            Ok(_) => super::flood::SendOutcome::Ok,
            Err(e) => super::flood::SendOutcome::Error(e.code),
        };
        sim.lock().flood.log(sent_at, method, chat_id, outcome);
    }
    match result {
        Ok(answer) => answer.into_response(),
        Err(e) => {
            tracing::debug!(method, error = %e.description, "bot API error");
            e.into_response()
        }
    }
}

fn fault_response(fault: Fault) -> Response {
    match fault {
        Fault::TooManyRequests { retry_after } => ApiError {
            code: 429,
            description: format!("Too Many Requests: retry after {retry_after}"),
            retry_after: Some(retry_after),
        }
        .into_response(),
        Fault::ServerError { status } => {
            let status = StatusCode::from_u16(status)
                .ok()
                .filter(StatusCode::is_server_error)
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let reason = status.canonical_reason().unwrap_or("Internal Server Error");
            let body = json!({ "ok": false, "error_code": status.as_u16(), "description": reason });
            json_response(status, body.to_string())
        }
        Fault::Forbidden { description } => ApiError::new(403, description).into_response(),
        Fault::MalformedBody => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            "<html><body>502 Bad Gateway</body></html>{\"ok\":tr",
        )
            .into_response(),
        Fault::DropConnection => {
            // A body that fails before its first byte makes hyper close the connection without
            // writing the (still buffered) response head: the client sees a dropped connection.
            let stream = tokio_util::io::ReaderStream::new(FailingReader);
            Response::new(Body::from_stream(stream))
        }
        Fault::Slow { .. } => ApiError::new(500, "Internal Server Error").into_response(),
    }
}

struct FailingReader;

impl tokio::io::AsyncRead for FailingReader {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        _buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "simulated dropped connection",
        )))
    }
}

async fn dispatch(sim: &Sim, method: &'static str, p: &Params) -> Result<Answer, ApiError> {
    let cfg = sim.config();
    let answer = match method {
        "getMe" => Answer::Value(json::me_json(
            sim.bot_id(),
            &cfg.bot_first_name,
            &cfg.bot_username,
        )),
        "getUpdates" => return get_updates(sim, p).await,
        "setWebhook" => set_webhook(sim, p)?,
        "deleteWebhook" => delete_webhook(sim, p),
        "getWebhookInfo" => get_webhook_info(sim),
        "logOut" | "close" => Answer::Value(json!(true)),
        _ => Answer::Value(sim.lock().bot_call(method, p)?),
    };
    *sim.lock().counters.bot_sends.entry(method).or_default() += 1;
    Ok(answer)
}

async fn get_updates(sim: &Sim, p: &Params) -> Result<Answer, ApiError> {
    let offset = p.i64("offset")?.unwrap_or(0);
    let limit = p.i64("limit")?.unwrap_or(100).clamp(1, 100) as usize;
    let timeout = p.i64("timeout")?.unwrap_or(0).clamp(0, 3600) as u64;
    let allowed = string_list(p, "allowed_updates")?;
    let inner = sim.inner();
    let my_gen = {
        let mut st = sim.lock();
        st.counters.get_updates_calls += 1;
        if st.webhook.is_some() {
            return Err(ApiError::new(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
            ));
        }
        if let Some(names) = allowed {
            st.queue.allowed = queue::allowed_mask(&names);
        }
        if offset > 0 {
            st.queue
                .confirm_below(u32::try_from(offset).unwrap_or(u32::MAX));
        } else if offset < 0 {
            st.queue
                .keep_last(usize::try_from(offset.unsigned_abs()).unwrap_or(usize::MAX));
        }
        st.poll_gen += 1;
        if st.queue.len() > 0 || timeout == 0 || inner.stopping.is_cancelled() {
            Err(st.queue.batch_response(limit))
        } else {
            Ok(st.poll_gen)
        }
    };
    // A poll still waiting is superseded by this one.
    inner.wake.notify_waiters();
    let my_gen = match my_gen {
        Ok(generation) => generation,
        Err(immediate) => return Ok(Answer::Raw(immediate)),
    };
    let deadline = Instant::now() + Duration::from_secs(timeout);
    loop {
        let notified = inner.wake.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        {
            let st = sim.lock();
            if st.poll_gen != my_gen {
                return Err(ApiError::new(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                ));
            }
            if st.queue.len() > 0 || st.webhook.is_some() {
                return Ok(Answer::Raw(st.queue.batch_response(limit)));
            }
        }
        tokio::select! {
            () = &mut notified => {}
            () = tokio::time::sleep_until(deadline) => break,
            () = inner.stopping.cancelled() => break,
        }
    }
    Ok(Answer::Raw(sim.lock().queue.batch_response(limit)))
}

fn string_list(p: &Params, key: &str) -> Result<Option<Vec<String>>, ApiError> {
    match p.json(key)? {
        None => Ok(None),
        Some(Value::Array(items)) => Ok(Some(
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
        )),
        Some(_) => Err(ApiError::bad(&format!("can't parse {key} JSON array"))),
    }
}

fn set_webhook(sim: &Sim, p: &Params) -> Result<Answer, ApiError> {
    let url = p.str("url").unwrap_or_default();
    if url.is_empty() {
        return Ok(delete_webhook(sim, p));
    }
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(ApiError::bad(
            "bad webhook: An HTTPS URL must be provided for webhook",
        ));
    }
    let secret = p.str("secret_token").filter(|s| !s.is_empty());
    if let Some(s) = &secret {
        let ok = s.len() <= 256
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !ok {
            return Err(ApiError::bad("secret token contains unallowed characters"));
        }
    }
    let max_connections = p.i64("max_connections")?.unwrap_or(40).clamp(1, 100) as u32;
    let allowed = string_list(p, "allowed_updates")?;
    let cancel = CancellationToken::new();
    {
        let mut st = sim.lock();
        if p.bool("drop_pending_updates") {
            st.queue.drop_all();
        }
        if let Some(names) = &allowed {
            st.queue.allowed = queue::allowed_mask(names);
        }
        let old = st.webhook.replace(WebhookConf {
            url: url.clone(),
            max_connections,
            allowed_updates: allowed,
            cancel: cancel.clone(),
            last_error: None,
        });
        if let Some(old) = old {
            old.cancel.cancel();
        }
    }
    sim.inner().wake.notify_waiters();
    tokio::spawn(webhook::deliver(sim.clone(), url, secret, cancel));
    Ok(Answer::Described(json!(true), "Webhook was set"))
}

fn delete_webhook(sim: &Sim, p: &Params) -> Answer {
    let mut st = sim.lock();
    if p.bool("drop_pending_updates") {
        st.queue.drop_all();
    }
    match st.webhook.take() {
        Some(w) => {
            w.cancel.cancel();
            Answer::Described(json!(true), "Webhook was deleted")
        }
        None => Answer::Described(json!(true), "Webhook is already deleted"),
    }
}

fn get_webhook_info(sim: &Sim) -> Answer {
    let st = sim.lock();
    let mut info = json!({
        "url": "",
        "has_custom_certificate": false,
        "pending_update_count": st.queue.len(),
    });
    if let Some(w) = &st.webhook {
        info["url"] = json!(w.url);
        info["max_connections"] = json!(w.max_connections);
        info["ip_address"] = json!("127.0.0.1");
        let allowed = w
            .allowed_updates
            .clone()
            .unwrap_or_else(|| queue::mask_names(st.queue.allowed));
        info["allowed_updates"] = json!(allowed);
        if let Some((date, msg)) = &w.last_error {
            info["last_error_date"] = json!(date);
            info["last_error_message"] = json!(msg);
        }
    }
    Answer::Value(info)
}
