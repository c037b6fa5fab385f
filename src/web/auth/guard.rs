//! Middleware: the session and token guards, and the security headers every response carries.

use super::ct_eq;
use crate::telemetry::Op;
use crate::web::WebState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant;

pub const SESSION_COOKIE: &str = "tgbox_session";
pub const PRELOGIN_COOKIE: &str = "tgbox_prelogin";

/// The logged-in session, put into request extensions by [`require_session`].
#[derive(Clone, Debug)]
pub struct CurrentSession {
    pub token: String,
    pub csrf: String,
}

/// A cookie's value from the request headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, Path=/, Secure when configured.
pub fn set_cookie(name: &str, value: &str, max_age_secs: u64, secure: bool) -> String {
    format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The client address (from the connection), for the login throttle.
pub fn client_ip(req_ext: &axum::http::Extensions) -> IpAddr {
    req_ext
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

fn session_of(state: &WebState, headers: &HeaderMap) -> Option<CurrentSession> {
    let token = cookie(headers, SESSION_COOKIE)?;
    let s = state.auth.session(&token)?;
    Some(CurrentSession {
        token,
        csrf: s.csrf,
    })
}

fn wants_json(path: &str) -> bool {
    path.starts_with("/api/") || path == "/metrics"
}

/// Anonymous: 401 for APIs and non-GET requests, a redirect to the login page for pages.
fn anonymous(req: &Request) -> Response {
    let path = req.uri().path();
    if wants_json(path) || req.method() != Method::GET {
        return (StatusCode::UNAUTHORIZED, "login required\n").into_response();
    }
    let target = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let next: String = url_encode(target);
    Redirect::to(&format!("/login?next={next}")).into_response()
}

/// Percent-encode everything but unreserved characters.
pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub async fn require_session(
    State(state): State<WebState>,
    mut req: Request,
    next: Next,
) -> Response {
    match session_of(&state, req.headers()) {
        Some(s) => {
            req.extensions_mut().insert(s);
            next.run(req).await
        }
        None => anonymous(&req),
    }
}

pub async fn require_session_or_token(
    State(state): State<WebState>,
    mut req: Request,
    next: Next,
) -> Response {
    if let Some(s) = session_of(&state, req.headers()) {
        req.extensions_mut().insert(s);
        return next.run(req).await;
    }
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match (&state.settings.metrics_token, bearer) {
        (Some(expected), Some(given)) if ct_eq(expected.expose(), given.trim()) => {
            next.run(req).await
        }
        _ => anonymous(&req),
    }
}

/// CSP without inline scripts or styles, no framing, no referrer, no sniffing; pages are not
/// cached. Also times every HTML response into the registry (`page_render`).
pub async fn security_headers(State(state): State<WebState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let is_static = req.uri().path().starts_with("/static/");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if !is_static {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    let html = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if html && res.status().is_success() {
        state.registry.record(Op::PageRender, started.elapsed(), 1);
    }
    res
}
