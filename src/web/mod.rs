//! The HTTP side: the only code outside `sim/` that names axum and askama types.
//!
//! The dashboard lives in sub-modules (`auth`, `api`, `pages`, `charts`, `assets`); this file
//! declares them, builds the dashboard router from the route table, and serves it. The update
//! intake (health check and webhook receiver, `health`, `webhook`) has its own small router.

pub mod api;
pub mod assets;
pub mod auth;
pub mod charts;
pub mod pages;
pub mod state;

pub use state::{WebSettings, WebState};

use axum::Router;
use axum::routing::{MethodRouter, get, post};
use tokio_util::sync::CancellationToken;

/// Who may call a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone: health, login, setup, static assets.
    Public,
    /// A logged-in admin; anonymous requests get 401 (APIs) or a redirect to /login (pages).
    Session,
    /// A session, or the configured bearer token (Prometheus scrapers).
    SessionOrToken,
}

/// One row of the route table. Tests walk [`route_table`] so no route escapes the auth checks.
#[derive(Clone, Copy, Debug)]
pub struct RouteInfo {
    pub path: &'static str,
    pub methods: &'static [&'static str],
    pub access: Access,
}

type Route = (RouteInfo, MethodRouter<WebState>);

fn route(
    path: &'static str,
    methods: &'static [&'static str],
    access: Access,
    handler: MethodRouter<WebState>,
) -> Route {
    (
        RouteInfo {
            path,
            methods,
            access,
        },
        handler,
    )
}

fn routes() -> Vec<Route> {
    use Access::{Public, Session, SessionOrToken};
    const GET: &[&str] = &["GET"];
    const GET_POST: &[&str] = &["GET", "POST"];
    const POST: &[&str] = &["POST"];
    vec![
        route("/api/health", GET, Public, get(api::health)),
        route("/api/metrics", GET, Session, get(api::metrics_json)),
        route("/metrics", GET, SessionOrToken, get(api::prometheus)),
        route(
            "/login",
            GET_POST,
            Public,
            get(auth::routes::login_page).post(auth::routes::login_submit),
        ),
        route(
            "/setup",
            GET_POST,
            Public,
            get(auth::routes::setup_page).post(auth::routes::setup_submit),
        ),
        route("/logout", POST, Session, post(auth::routes::logout)),
        route("/static/{file}", GET, Public, get(assets::serve)),
        route("/", GET, Session, get(pages::overview::page)),
        route("/users", GET, Session, get(pages::users::list)),
        route("/users/{id}", GET, Session, get(pages::users::detail)),
        route("/chats", GET, Session, get(pages::chats::list)),
        route("/chats/{id}", GET, Session, get(pages::chats::detail)),
        route(
            "/chats/{id}/retention",
            POST,
            Session,
            post(pages::chat_retention::set),
        ),
        route("/logs", GET, Session, get(pages::logs::page)),
        route(
            "/broadcasts",
            GET_POST,
            Session,
            get(pages::broadcasts::list).post(pages::broadcasts::submit),
        ),
        route(
            "/broadcasts/{id}",
            GET,
            Session,
            get(pages::broadcasts::detail),
        ),
        route(
            "/broadcasts/{id}/action",
            POST,
            Session,
            post(pages::broadcasts::action),
        ),
        route("/storage", GET, Session, get(pages::storage::page)),
        route(
            "/storage/compact",
            POST,
            Session,
            post(pages::storage::compact),
        ),
        route(
            "/storage/cleanup",
            POST,
            Session,
            post(pages::storage::cleanup),
        ),
        route(
            "/storage/backup",
            GET_POST,
            Session,
            get(pages::storage::backup_get).post(pages::storage::backup_post),
        ),
    ]
}

/// Every dashboard route with its methods and access rule.
pub fn route_table() -> Vec<RouteInfo> {
    routes().into_iter().map(|(info, _)| info).collect()
}

/// The dashboard: every route behind its access guard, security headers on every response.
pub fn dashboard_router(state: WebState) -> Router {
    let mut router = Router::new();
    for (info, handler) in routes() {
        let handler = match info.access {
            Access::Public => handler,
            Access::Session => handler.route_layer(axum::middleware::from_fn_with_state(
                state.clone(),
                auth::guard::require_session,
            )),
            Access::SessionOrToken => handler.route_layer(axum::middleware::from_fn_with_state(
                state.clone(),
                auth::guard::require_session_or_token,
            )),
        };
        router = router.route(info.path, handler);
    }
    router
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::guard::security_headers,
        ))
        .with_state(state)
}

/// Serve `router` on `listener` until `shutdown` fires. Client addresses are passed on for the
/// login throttle.
pub async fn serve_dashboard(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move { shutdown.cancelled().await })
    .await
}

mod health;
pub mod webhook;

pub use webhook::{AcceptFn, WebhookAnswer, WebhookRoute};

/// The routes of the update intake: the health check, and the Telegram webhook receiver in
/// webhook mode. Served on their own listener (`telegram.webhook_listen`).
#[derive(Clone, Default)]
pub struct IntakeRoutes {
    pub webhook: Option<WebhookRoute>,
}

/// The intake router: health plus the webhook receiver, if any.
pub fn intake_router(routes: IntakeRoutes) -> Router {
    let mut router = health::routes();
    if let Some(route) = routes.webhook {
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
