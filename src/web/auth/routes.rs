//! Login, logout and first-time setup. Forms before login carry a double-submit CSRF token
//! (cookie + field); forms after login carry the session's CSRF token.

use super::credentials;
use super::guard::{
    CurrentSession, PRELOGIN_COOKIE, SESSION_COOKIE, client_ip, cookie, set_cookie,
};
use super::{Throttled, ct_eq, random_token};
use crate::web::WebState;
use crate::web::pages::render;
use askama::Template;
use axum::Form;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

/// The only account name.
pub const ADMIN_USER: &str = "admin";
const PRELOGIN_SECS: u64 = 3600;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    next: String,
    error: Option<String>,
    has_password: bool,
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    csrf: String,
    token: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
}

/// Only same-site paths: "/x", not "//host" or "https://...".
fn safe_next(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next.to_string()
    } else {
        "/".to_string()
    }
}

fn with_prelogin(state: &WebState, status: StatusCode, page: Response, token: &str) -> Response {
    let cookie = set_cookie(
        PRELOGIN_COOKIE,
        token,
        PRELOGIN_SECS,
        state.settings.secure_cookies,
    );
    (status, [(header::SET_COOKIE, cookie)], page).into_response()
}

fn login_response(
    state: &WebState,
    status: StatusCode,
    next: &str,
    error: Option<String>,
) -> Response {
    let csrf = random_token();
    let page = render(&LoginPage {
        csrf: csrf.clone(),
        next: safe_next(next),
        error,
        has_password: state.auth.has_password(),
    });
    with_prelogin(state, status, page, &csrf)
}

pub async fn login_page(State(state): State<WebState>, Query(q): Query<NextQuery>) -> Response {
    login_response(
        &state,
        StatusCode::OK,
        q.next.as_deref().unwrap_or("/"),
        None,
    )
}

fn prelogin_ok(headers: &HeaderMap, field: &str) -> bool {
    matches!(cookie(headers, PRELOGIN_COOKIE), Some(c) if !field.is_empty() && ct_eq(&c, field))
}

pub async fn login_submit(State(state): State<WebState>, req: Request) -> Response {
    let ip = client_ip(req.extensions());
    let headers = req.headers().clone();
    let form =
        match <Form<LoginForm> as axum::extract::FromRequest<()>>::from_request(req, &()).await {
            Ok(f) => f,
            Err(_) => return (StatusCode::BAD_REQUEST, "bad form\n").into_response(),
        };
    let form = form.0;
    if !prelogin_ok(&headers, &form.csrf) {
        return login_response(
            &state,
            StatusCode::FORBIDDEN,
            &form.next,
            Some("The form expired; please try again.".into()),
        );
    }
    if let Err(Throttled::RetryAfter(wait)) = state.auth.check_throttle(ip) {
        return login_response(
            &state,
            StatusCode::TOO_MANY_REQUESTS,
            &form.next,
            Some(format!(
                "Too many failed logins; try again in {} s.",
                wait.as_secs().max(1)
            )),
        );
    }
    // Re-read the file so `tgbox admin set-password` takes effect without a restart.
    let dir = state.settings.data_dir.clone();
    let fallback = state.auth.password_hash();
    let (username, password) = (form.username, form.password);
    let checked = tokio::task::spawn_blocking(move || {
        let hash = credentials::load_hash(&dir).ok().flatten().or(fallback);
        let ok = match &hash {
            Some(h) => credentials::verify(h, &password),
            None => false,
        };
        (ok && username == ADMIN_USER, hash)
    })
    .await;
    let (ok, hash) = checked.unwrap_or((false, None));
    if let Some(h) = hash {
        state.auth.set_hash(h);
    }
    if !ok {
        state.auth.record_failure(ip);
        tracing::info!(%ip, "dashboard login failed");
        return login_response(
            &state,
            StatusCode::UNAUTHORIZED,
            &form.next,
            Some("Wrong user name or password.".into()),
        );
    }
    state.auth.record_success(ip);
    tracing::info!(%ip, "dashboard login");
    logged_in(&state, &safe_next(&form.next))
}

fn logged_in(state: &WebState, to: &str) -> Response {
    let token = state.auth.create_session();
    let secs = state.settings.session_ttl.as_secs();
    let secure = state.settings.secure_cookies;
    let mut res = Redirect::to(to).into_response();
    let h = res.headers_mut();
    for c in [
        set_cookie(SESSION_COOKIE, &token, secs, secure),
        set_cookie(PRELOGIN_COOKIE, "", 0, secure),
    ] {
        if let Ok(v) = c.parse() {
            h.append(header::SET_COOKIE, v);
        }
    }
    res
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

impl CsrfForm {
    /// The submitted token (check it with [`csrf_ok`]).
    pub fn token(&self) -> &str {
        &self.csrf
    }
}

/// Check a session form's CSRF token.
pub fn csrf_ok(session: &CurrentSession, field: &str) -> bool {
    !field.is_empty() && ct_eq(&session.csrf, field)
}

/// The answer to a form whose CSRF token is missing or wrong.
pub fn csrf_rejected() -> Response {
    (StatusCode::FORBIDDEN, "invalid CSRF token\n").into_response()
}

pub async fn logout(
    State(state): State<WebState>,
    axum::Extension(session): axum::Extension<CurrentSession>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !csrf_ok(&session, &form.csrf) {
        return csrf_rejected();
    }
    state.auth.end_session(&session.token);
    let clear = set_cookie(SESSION_COOKIE, "", 0, state.settings.secure_cookies);
    ([(header::SET_COOKIE, clear)], Redirect::to("/login")).into_response()
}

#[derive(Deserialize)]
pub struct SetupQuery {
    #[serde(default)]
    token: String,
}

#[derive(Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

fn setup_response(
    state: &WebState,
    status: StatusCode,
    token: &str,
    error: Option<String>,
) -> Response {
    let csrf = random_token();
    let page = render(&SetupPage {
        csrf: csrf.clone(),
        token: token.to_string(),
        error,
    });
    with_prelogin(state, status, page, &csrf)
}

pub async fn setup_page(State(state): State<WebState>, Query(q): Query<SetupQuery>) -> Response {
    if state.auth.has_password() || !state.auth.setup_token_valid(&q.token) {
        return (
            StatusCode::FORBIDDEN,
            "This setup link is not valid (expired, used, or a password is already set). \
             Use `tgbox admin set-password` on the server.\n",
        )
            .into_response();
    }
    setup_response(&state, StatusCode::OK, &q.token, None)
}

pub async fn setup_submit(
    State(state): State<WebState>,
    headers: HeaderMap,
    Form(form): Form<SetupForm>,
) -> Response {
    if !prelogin_ok(&headers, &form.csrf) {
        return csrf_rejected();
    }
    if state.auth.has_password() || !state.auth.setup_token_valid(&form.token) {
        return (StatusCode::FORBIDDEN, "This setup link is not valid.\n").into_response();
    }
    if form.password != form.confirm {
        let e = Some("The two passwords differ.".to_string());
        return setup_response(&state, StatusCode::BAD_REQUEST, &form.token, e);
    }
    let dir = state.settings.data_dir.clone();
    let password = form.password;
    let result = tokio::task::spawn_blocking(move || credentials::set_password(&dir, &password))
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r.map_err(|e| e.to_string()));
    match result {
        Ok(hash) => {
            state.auth.take_setup_token(&form.token);
            state.auth.set_hash(hash);
            tracing::info!("dashboard admin password set through the setup link");
            logged_in(&state, "/")
        }
        Err(e) => setup_response(&state, StatusCode::BAD_REQUEST, &form.token, Some(e)),
    }
}
