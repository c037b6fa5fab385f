//! Broadcasts: the history and the "New broadcast" form (`/broadcasts`), a job's live progress
//! with pause/resume/cancel (`/broadcasts/{id}`). The page only writes job states to the store;
//! the runner (`service::broadcast`) notices them. Texts are checked against Telegram's HTML
//! subset and previewed from what the checker accepted (`service::html`), never echoed raw.

use super::{Chrome, message, render, store_failed, when};
use crate::domain::{
    Audience, BroadcastId, BroadcastJob, ChatId, ChatKind, JobState, NewBroadcast, RecipientStatus,
    Timestamp, now_millis,
};
use crate::service::broadcast::resolve_audience;
use crate::service::html;
use crate::web::WebState;
use crate::web::auth::guard::CurrentSession;
use crate::web::auth::routes::{csrf_ok, csrf_rejected};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;

const HISTORY: usize = 100;
const LISTED: usize = 200;

pub struct JobRow {
    pub id: u64,
    pub created: String,
    pub state: &'static str,
    pub audience: String,
    pub recipients: u64,
    pub sent: u64,
    pub failed: u64,
    pub blocked: u64,
    pub uncertain: u64,
    pub remaining: u64,
}

fn row(j: &BroadcastJob) -> JobRow {
    let c = &j.counts;
    JobRow {
        id: j.id.0,
        created: when(Timestamp(j.created_ms / 1000)),
        state: j.state.as_str(),
        audience: j.audience.describe(),
        recipients: c.total(),
        sent: c.sent,
        failed: c.failed,
        blocked: c.blocked,
        uncertain: c.uncertain,
        remaining: c.pending + c.in_flight,
    }
}

pub struct ChatChoice {
    pub id: i64,
    pub title: String,
    pub selected: bool,
}

/// What the form holds (kept across a preview or an error).
#[derive(Default, Deserialize)]
pub struct NewForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    html: String,
    #[serde(default)]
    audience: String,
    #[serde(default)]
    days: String,
    #[serde(default)]
    chat: String,
    #[serde(default)]
    action: String,
}

#[derive(Template)]
#[template(path = "broadcasts.html")]
struct ListPage {
    chrome: Chrome,
    jobs: Vec<JobRow>,
    chats: Vec<ChatChoice>,
    html: String,
    audience: String,
    days: String,
    error: Option<String>,
    preview: Option<String>,
    reach: Option<usize>,
}

async fn list_page(
    state: &WebState,
    session: &CurrentSession,
    form: NewForm,
    error: Option<String>,
    preview: Option<(String, usize)>,
) -> Response {
    let Some(Ok((jobs, chats))) = state
        .blocking(|s| -> crate::store::StoreResult<_> { Ok((s.broadcasts(HISTORY)?, s.chats()?)) })
        .await
    else {
        return store_failed();
    };
    let mut groups: Vec<ChatChoice> = chats
        .iter()
        .filter(|c| c.kind != ChatKind::Private)
        .map(|c| ChatChoice {
            id: c.id.0,
            title: super::users::chat_title(Some(c), c.id),
            selected: form.chat == c.id.0.to_string(),
        })
        .collect();
    groups.sort_by(|a, b| a.title.cmp(&b.title));
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let (preview, reach) = match preview {
        Some((p, n)) => (Some(p), Some(n)),
        None => (None, None),
    };
    let page = ListPage {
        chrome: Chrome::new(state, session, "broadcasts", "Broadcasts".into()),
        jobs: jobs.iter().map(row).collect(),
        chats: groups,
        html: form.html,
        audience: if form.audience.is_empty() {
            "announcements".into()
        } else {
            form.audience
        },
        days: if form.days.is_empty() {
            "30".into()
        } else {
            form.days
        },
        error,
        preview,
        reach,
    };
    (status, render(&page)).into_response()
}

pub async fn list(
    State(state): State<WebState>,
    Extension(session): Extension<CurrentSession>,
) -> Response {
    list_page(&state, &session, NewForm::default(), None, None).await
}

/// The audience the form describes, or a sentence saying what is wrong.
fn audience_of(form: &NewForm) -> Result<Audience, String> {
    match form.audience.as_str() {
        "announcements" | "" => Ok(Audience::Announcements),
        "active" => match form.days.trim().parse::<u32>() {
            Ok(days) if (1..=3650).contains(&days) => Ok(Audience::ActiveWithin { days }),
            _ => Err("Active in the last N days: N must be a whole number from 1 to 3650.".into()),
        },
        "members" => match form.chat.trim().parse::<i64>() {
            Ok(chat) => Ok(Audience::MembersOf { chat: ChatId(chat) }),
            Err(_) => Err("Members of a chat: pick a chat.".into()),
        },
        other => Err(format!("Unknown audience {other:?}.")),
    }
}

/// `POST /broadcasts`: preview, or create a job (state Queued) and go to its page.
pub async fn submit(
    State(state): State<WebState>,
    Extension(session): Extension<CurrentSession>,
    Form(form): Form<NewForm>,
) -> Response {
    if !csrf_ok(&session, &form.csrf) {
        return csrf_rejected();
    }
    let checked = match html::check(&form.html) {
        Ok(c) => c,
        Err(e) => {
            let msg = format!("The message is not valid Telegram HTML: {e}.");
            return list_page(&state, &session, form, Some(msg), None).await;
        }
    };
    let audience = match audience_of(&form) {
        Ok(a) => a,
        Err(msg) => return list_page(&state, &session, form, Some(msg), None).await,
    };
    if form.action == "start" {
        let new = NewBroadcast {
            html: form.html.clone(),
            audience,
        };
        return match state
            .blocking(move |s| s.create_broadcast(&new, now_millis()))
            .await
        {
            Some(Ok(job)) => {
                tracing::info!(job = %job.id, audience = %job.audience.describe(), "broadcast queued from the dashboard");
                Redirect::to(&format!("/broadcasts/{}", job.id)).into_response()
            }
            _ => store_failed(),
        };
    }
    let reach = state
        .blocking(move |s| resolve_audience(&s, &audience, now_millis() / 1000).map(|u| u.len()))
        .await;
    match reach {
        Some(Ok(n)) => list_page(&state, &session, form, None, Some((checked.preview, n))).await,
        _ => store_failed(),
    }
}

pub struct RecipientRow {
    pub user_id: u64,
    pub status: &'static str,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "broadcast.html")]
struct DetailPage {
    chrome: Chrome,
    job: JobRow,
    preview: String,
    started: String,
    finished: String,
    skipped: u64,
    percent: u64,
    rate: String,
    eta: String,
    can_pause: bool,
    can_resume: bool,
    can_cancel: bool,
    live: bool,
    problems: Vec<RecipientRow>,
}

fn parse_id(id: &str) -> Option<BroadcastId> {
    id.parse::<u64>().ok().map(BroadcastId)
}

fn not_found() -> Response {
    message(
        StatusCode::NOT_FOUND,
        "No such broadcast",
        "No broadcast has this id.",
    )
}

pub async fn detail(
    State(state): State<WebState>,
    Extension(session): Extension<CurrentSession>,
    Path(id): Path<String>,
) -> Response {
    let Some(id) = parse_id(&id) else {
        return not_found();
    };
    let loaded = state
        .blocking(move |s| -> crate::store::StoreResult<_> {
            let Some(job) = s.broadcast(id)? else {
                return Ok(None);
            };
            let mut problems = Vec::new();
            let c = &job.counts;
            for (want, n) in [
                (RecipientStatus::Uncertain, c.uncertain),
                (RecipientStatus::Failed(String::new()), c.failed),
                (RecipientStatus::Blocked, c.blocked),
            ] {
                // The counters say whether a scan would find anything.
                if n > 0 && problems.len() < LISTED {
                    problems.extend(s.broadcast_recipients(
                        id,
                        None,
                        Some(&want),
                        LISTED - problems.len(),
                    )?);
                }
            }
            Ok(Some((job, problems)))
        })
        .await;
    let (job, problems) = match loaded {
        Some(Ok(Some(found))) => found,
        Some(Ok(None)) => return not_found(),
        _ => return store_failed(),
    };
    let c = &job.counts;
    let now = now_millis();
    let active_ms = job.active_ms
        + job
            .running_since_ms
            .map_or(0, |s| now.saturating_sub(s).max(0) as u64);
    let done = c.done();
    let remaining = c.pending + c.in_flight;
    let rate = if active_ms >= 1_000 && done > 0 {
        Some(done as f64 * 1000.0 / active_ms as f64)
    } else {
        None
    };
    let eta = match (job.state, rate) {
        (JobState::Running, Some(r)) if remaining > 0 => {
            super::duration((remaining as f64 / r).ceil() as u64)
        }
        (JobState::Running, _) if remaining > 0 => "estimating…".to_string(),
        (JobState::Queued, _) => "waiting for its turn".to_string(),
        (JobState::Paused, _) => "paused".to_string(),
        _ => "—".to_string(),
    };
    let preview = html::check(&job.html)
        .map(|c| c.preview)
        .unwrap_or_else(|e| {
            crate::web::charts::escape(&format!(
                "(the stored text no longer passes the check: {e})"
            ))
        });
    let total = c.total();
    let page = DetailPage {
        chrome: Chrome::new(
            &state,
            &session,
            "broadcasts",
            format!("Broadcast {}", job.id),
        ),
        percent: (done * 100)
            .checked_div(total)
            .unwrap_or(if job.state.is_final() { 100 } else { 0 }),
        rate: rate.map_or_else(|| "—".to_string(), |r| format!("{r:.1}/s")),
        eta,
        started: job
            .started_ms
            .map_or_else(|| "—".to_string(), |t| when(Timestamp(t / 1000))),
        finished: job
            .finished_ms
            .map_or_else(|| "—".to_string(), |t| when(Timestamp(t / 1000))),
        skipped: c.skipped_blocked,
        can_pause: job.state == JobState::Running,
        can_resume: job.state == JobState::Paused,
        can_cancel: !job.state.is_final(),
        live: !job.state.is_final(),
        problems: problems
            .into_iter()
            .map(|(u, s)| RecipientRow {
                user_id: u.0,
                status: s.label(),
                reason: match s {
                    RecipientStatus::Failed(r) => r,
                    RecipientStatus::Uncertain => {
                        "may have been sent before a crash; not resent".into()
                    }
                    _ => String::new(),
                },
            })
            .collect(),
        preview,
        job: row(&job),
    };
    render(&page)
}

#[derive(Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
}

/// `POST /broadcasts/{id}/action`: pause, resume or cancel.
pub async fn action(
    State(state): State<WebState>,
    Extension(session): Extension<CurrentSession>,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Response {
    if !csrf_ok(&session, &form.csrf) {
        return csrf_rejected();
    }
    let Some(id) = parse_id(&id) else {
        return not_found();
    };
    let (from, to): (&'static [JobState], JobState) = match form.action.as_str() {
        "pause" => (&[JobState::Running], JobState::Paused),
        "resume" => (&[JobState::Paused], JobState::Running),
        "cancel" => (
            &[JobState::Queued, JobState::Running, JobState::Paused],
            JobState::Cancelled,
        ),
        _ => {
            return message(
                StatusCode::BAD_REQUEST,
                "Unknown action",
                "A broadcast can be paused, resumed or cancelled.",
            );
        }
    };
    match state
        .blocking(move |s| s.transition_broadcast(id, from, to, now_millis()))
        .await
    {
        Some(Ok(Some(Ok(job)))) => {
            tracing::info!(job = %job.id, state = job.state.as_str(), "broadcast changed from the dashboard");
            Redirect::to(&format!("/broadcasts/{id}")).into_response()
        }
        Some(Ok(Some(Err(current)))) => message(
            StatusCode::CONFLICT,
            "Not possible now",
            &format!(
                "This broadcast is {}; it cannot be {}d.",
                current.as_str(),
                form.action
            ),
        ),
        Some(Ok(None)) => not_found(),
        _ => store_failed(),
    }
}
