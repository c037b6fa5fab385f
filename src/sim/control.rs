//! The control API (`/control/...`): JSON in and out, mirroring the in-process methods of
//! [`Sim`]. No authentication: the simulator listens on loopback only.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::faults::{FaultPlan, FaultRule};
use super::types::{NewChat, NewUser, SimError, UserMessage};
use super::{Sim, params};

/// An error answer: `{"error": "..."}` with a 4xx status.
struct ControlError(StatusCode, String);

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        (self.0, axum::Json(json!({ "error": self.1 }))).into_response()
    }
}

impl From<SimError> for ControlError {
    fn from(e: SimError) -> Self {
        let status = if e.is_not_found() {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::BAD_REQUEST
        };
        ControlError(status, e.to_string())
    }
}

type Result<T> = std::result::Result<T, ControlError>;

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T> {
    serde_json::from_slice(body)
        .map_err(|e| ControlError(StatusCode::BAD_REQUEST, format!("invalid JSON body: {e}")))
}

fn chat_id(s: &str) -> Result<i64> {
    s.parse()
        .map_err(|_| ControlError(StatusCode::BAD_REQUEST, format!("not a chat id: {s}")))
}

/// Unknown `/control/...` paths and methods answer in the control API's error format.
pub(crate) fn unknown(path: &str) -> Response {
    ControlError(StatusCode::NOT_FOUND, format!("no control endpoint {path}")).into_response()
}

async fn method_not_allowed() -> Response {
    ControlError(StatusCode::METHOD_NOT_ALLOWED, "method not allowed".into()).into_response()
}

fn ok<T: serde::Serialize>(v: T) -> Response {
    axum::Json(v).into_response()
}

pub(crate) fn routes() -> Router<Sim> {
    Router::new()
        .route("/control/users", post(add_user).get(users))
        .route("/control/chats", post(add_chat).get(chats))
        .route("/control/chats/{id}/join", post(join))
        .route("/control/chats/{id}/leave", post(leave))
        .route("/control/chats/{id}/topics", post(create_topic))
        .route("/control/chats/{id}/sent", get(sent))
        .route("/control/messages", post(send))
        .route("/control/edit", post(edit))
        .route("/control/press", post(press))
        .route("/control/raw", post(raw))
        .route("/control/raw_text", post(raw_text))
        .route("/control/delivery_log", get(delivery_log))
        .route("/control/callback_answers", get(callback_answers))
        .route("/control/stats", get(stats))
        .route("/control/faults", post(set_faults).delete(clear_faults))
        .route("/control/commands", get(commands))
        .route(
            "/control/flood",
            post(set_flood).delete(clear_flood).get(get_flood),
        )
        .route("/control/send_log", get(send_log))
        .method_not_allowed_fallback(method_not_allowed)
}

async fn add_user(State(sim): State<Sim>, body: Bytes) -> Result<Response> {
    Ok(ok(sim.add_user(parse::<NewUser>(&body)?)))
}

async fn users(State(sim): State<Sim>) -> Response {
    ok(sim.users())
}

async fn add_chat(State(sim): State<Sim>, body: Bytes) -> Result<Response> {
    Ok(ok(sim.add_chat(parse::<NewChat>(&body)?)))
}

async fn chats(State(sim): State<Sim>) -> Response {
    ok(sim.chats())
}

#[derive(Deserialize)]
struct UserRef {
    user_id: u64,
}

async fn join(State(sim): State<Sim>, Path(id): Path<String>, body: Bytes) -> Result<Response> {
    let r: UserRef = parse(&body)?;
    Ok(ok(sim.join(chat_id(&id)?, r.user_id)?))
}

async fn leave(State(sim): State<Sim>, Path(id): Path<String>, body: Bytes) -> Result<Response> {
    let r: UserRef = parse(&body)?;
    Ok(ok(sim.leave(chat_id(&id)?, r.user_id)?))
}

#[derive(Deserialize)]
struct NewTopic {
    user_id: u64,
    name: String,
}

async fn create_topic(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response> {
    let t: NewTopic = parse(&body)?;
    Ok(ok(sim.create_topic(chat_id(&id)?, t.user_id, t.name)?))
}

async fn sent(State(sim): State<Sim>, Path(id): Path<String>) -> Result<Response> {
    Ok(ok(sim.sent_to(chat_id(&id)?)))
}

async fn send(State(sim): State<Sim>, body: Bytes) -> Result<Response> {
    Ok(ok(sim.send(parse::<UserMessage>(&body)?)?))
}

#[derive(Deserialize)]
struct EditReq {
    chat_id: i64,
    message_id: i32,
    text: String,
}

async fn edit(State(sim): State<Sim>, body: Bytes) -> Result<Response> {
    let e: EditReq = parse(&body)?;
    Ok(ok(sim.edit(e.chat_id, e.message_id, e.text)?))
}

#[derive(Deserialize)]
struct PressReq {
    chat_id: i64,
    message_id: i32,
    user_id: u64,
    data: String,
}

async fn press(State(sim): State<Sim>, body: Bytes) -> Result<Response> {
    let p: PressReq = parse(&body)?;
    Ok(ok(sim.press_button(
        p.chat_id,
        p.message_id,
        p.user_id,
        p.data,
    )?))
}

async fn raw(State(sim): State<Sim>, body: Bytes) -> Result<Response> {
    let v: serde_json::Value = parse(&body)?;
    Ok(ok(json!({ "update_id": sim.inject_raw(v) })))
}

async fn raw_text(State(sim): State<Sim>, body: Bytes) -> Result<Response> {
    let text = String::from_utf8(body.to_vec())
        .map_err(|_| ControlError(StatusCode::BAD_REQUEST, "body is not UTF-8".into()))?;
    Ok(ok(json!({ "update_id": sim.inject_raw_text(text) })))
}

/// `GET /control/delivery_log?start=N&limit=M`: a window of the log (all of it by default).
async fn delivery_log(State(sim): State<Sim>, uri: Uri) -> Result<Response> {
    let mut start = 0usize;
    let mut limit = usize::MAX;
    for (k, v) in params::parse_urlencoded(uri.query().unwrap_or("").as_bytes()) {
        let n = v
            .parse()
            .map_err(|_| ControlError(StatusCode::BAD_REQUEST, format!("not a number: {v}")))?;
        match k.as_str() {
            "start" => start = n,
            "limit" => limit = n,
            _ => {}
        }
    }
    Ok(ok(sim.delivery_log_window(start, limit)))
}

async fn callback_answers(State(sim): State<Sim>) -> Response {
    ok(sim.callback_answers())
}

async fn stats(State(sim): State<Sim>) -> Response {
    ok(sim.stats())
}

async fn set_faults(State(sim): State<Sim>, body: Bytes) -> Result<Response> {
    // Either {"rules": [...]} or a bare array of rules.
    let plan = match parse::<FaultPlan>(&body) {
        Ok(plan) => plan,
        Err(e) => match serde_json::from_slice::<Vec<FaultRule>>(&body) {
            Ok(rules) => FaultPlan { rules },
            Err(_) => return Err(e),
        },
    };
    let n = plan.rules.len();
    sim.set_faults(plan);
    Ok(ok(json!({ "rules": n })))
}

/// `POST /control/flood` with `FloodLimits` (every field optional, Telegram's by default).
async fn set_flood(State(sim): State<Sim>, body: Bytes) -> Result<Response> {
    let limits: crate::sim::FloodLimits = if body.is_empty() {
        crate::sim::FloodLimits::default()
    } else {
        parse(&body)?
    };
    sim.set_flood_control(Some(limits));
    Ok(ok(limits))
}

async fn clear_flood(State(sim): State<Sim>) -> Response {
    sim.set_flood_control(None);
    ok(serde_json::Value::Null)
}

async fn get_flood(State(sim): State<Sim>) -> Response {
    ok(sim.flood_control())
}

/// `GET /control/send_log`: every send attempt, with the largest count of accepted sends in any
/// sliding second.
async fn send_log(State(sim): State<Sim>) -> Response {
    let log = sim.send_log();
    ok(json!({ "max_per_second": crate::sim::max_per_second(&log), "sends": log }))
}

async fn clear_faults(State(sim): State<Sim>) -> Response {
    sim.clear_faults();
    ok(json!({ "rules": 0 }))
}

async fn commands(State(sim): State<Sim>) -> Response {
    let list: Vec<_> = sim
        .commands()
        .into_iter()
        .map(|(command, description)| json!({ "command": command, "description": description }))
        .collect();
    ok(list)
}
