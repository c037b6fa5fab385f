//! The dashboard over HTTP: every route from the route table with and without a session,
//! CSRF rejection, login throttling, setup, and the pages' content.

mod common;
mod dashboard_support;

use dashboard_support::http::{client, cookie_from, field, get_with, page_html, try_login};
use dashboard_support::{Dash, METRICS_TOKEN, PASSWORD};
use reqwest::StatusCode;
use reqwest::header::{LOCATION, SET_COOKIE};
use std::sync::Arc;
use std::time::Duration;
use tgbox::web::{Access, dashboard_router, route_table, serve_dashboard};

async fn login(c: &reqwest::Client, url: &str) -> String {
    let res = try_login(c, url, PASSWORD, "/users").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()[LOCATION], "/users");
    let set = res
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.starts_with("tgbox_session="))
        .unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    format!(
        "tgbox_session={}",
        cookie_from(res.headers(), "tgbox_session").unwrap()
    )
}

/// A concrete path for a route pattern.
fn concrete(path: &str, user: u64, chat: i64) -> String {
    path.replace("{id}", "ID")
        .replace("{file}", "app.css")
        .replace("/users/ID", &format!("/users/{user}"))
        .replace("/chats/ID", &format!("/chats/{chat}"))
        .replace("/broadcasts/ID", "/broadcasts/1")
}

async fn sample_ids(dash: &Dash) -> (u64, i64) {
    let store = dash.store.clone();
    tokio::task::spawn_blocking(move || {
        let user = store.users_by_activity(1).unwrap()[0].id.0;
        let chat = store
            .chats()
            .unwrap()
            .into_iter()
            .max_by_key(|c| c.message_count)
            .unwrap()
            .id
            .0;
        (user, chat)
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_with_and_without_a_session() {
    let dash = Dash::start(100).await;
    let c = client();
    let (user, chat) = sample_ids(&dash).await;
    let store = dash.store.clone();
    tokio::task::spawn_blocking(move || {
        let new = tgbox::domain::NewBroadcast {
            html: "<b>hello</b>".into(),
            audience: tgbox::domain::Audience::Announcements,
        };
        store.create_broadcast(&new, 0).unwrap()
    })
    .await
    .unwrap();
    let routes = route_table();
    assert!(routes.len() >= 12);
    let session = login(&c, &dash.url).await;
    for r in &routes {
        let path = concrete(r.path, user, chat);
        for method in r.methods {
            let url = format!("{}{path}", dash.url);
            let anon = match *method {
                "GET" => c.get(&url).send().await.unwrap(),
                _ => c.post(&url).send().await.unwrap(),
            };
            let status = anon.status();
            let location = anon
                .headers()
                .get(LOCATION)
                .map(|v| v.to_str().unwrap().to_string());
            for h in [
                "content-security-policy",
                "x-frame-options",
                "referrer-policy",
            ] {
                assert!(anon.headers().contains_key(h), "{method} {path}: no {h}");
            }
            match r.access {
                Access::Public => assert!(
                    status != StatusCode::UNAUTHORIZED
                        && !location.as_deref().unwrap_or("").starts_with("/login"),
                    "{method} {path} is public but answered {status} {location:?}"
                ),
                Access::Session | Access::SessionOrToken => {
                    let to_login = status == StatusCode::SEE_OTHER
                        && location
                            .as_deref()
                            .unwrap_or("")
                            .starts_with("/login?next=");
                    assert!(
                        status == StatusCode::UNAUTHORIZED || to_login,
                        "{method} {path} answered an anonymous request with {status}"
                    );
                    if path.starts_with("/api/") || path == "/metrics" || *method == "POST" {
                        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}");
                    }
                }
            }
            if *method == "GET" {
                let res = c.get(&url).header("cookie", &session).send().await.unwrap();
                let expected = if path == "/setup" {
                    StatusCode::FORBIDDEN // a password is set: the setup link is dead
                } else {
                    StatusCode::OK
                };
                assert_eq!(res.status(), expected, "GET {path} with a session");
                let body = res.text().await.unwrap();
                match path.as_str() {
                    "/" => {
                        assert!(body.contains("<svg class=\"chart\""), "no chart");
                        assert!(body.contains("<polyline"), "no chart line");
                        assert!(body.contains("Messages processed"));
                        assert!(body.contains("id=\"live\""));
                    }
                    "/users" | "/chats" => assert!(body.contains("<tr><td"), "{path} empty"),
                    "/logs" => assert!(body.contains("log-table")),
                    "/broadcasts" => assert!(body.contains("broadcast-history")),
                    "/broadcasts/1" => assert!(body.contains("<b>hello</b>")),
                    "/storage" => {
                        assert!(body.contains("storage-tables") && body.contains("Compact now"))
                    }
                    "/api/metrics" => {
                        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
                        assert!(v["operations"][0]["ok"].as_u64().unwrap() > 0, "{v}");
                        assert!(v["system"]["rss_bytes"].as_u64().is_some());
                    }
                    "/metrics" => {
                        assert!(
                            body.contains("tgbox_operations_total{op=\"update\",result=\"ok\"}")
                        );
                        assert!(body.contains("tgbox_process_resident_bytes"));
                    }
                    p if p.starts_with("/users/") => assert!(body.contains("user-messages")),
                    p if p.starts_with("/chats/") => {
                        assert!(body.contains("chat-members") && body.contains("chat-messages"))
                    }
                    _ => {}
                }
            }
        }
    }
    // Unknown pages and ids.
    for p in [
        "/nope",
        "/users/abc",
        "/users/1",
        "/chats/1",
        "/broadcasts/99",
        "/broadcasts/x",
    ] {
        let res = get_with(&c, &format!("{}{p}", dash.url), &session).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{p}");
    }
    dash.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_token_health_and_user_search() {
    let dash = Dash::start(100).await;
    let c = client();
    let url = &dash.url;
    let res = c
        .get(format!("{url}/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let res = c
        .get(format!("{url}/metrics"))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = c
        .get(format!("{url}/api/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "the token is for /metrics only"
    );

    let health: serde_json::Value = c
        .get(format!("{url}/api/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["store_open"], true);
    assert!(
        health["last_update_age_secs"].as_u64().is_some(),
        "{health}"
    );
    assert!(health["version"].as_str().is_some() && health["uptime_secs"].is_u64());

    // Search by id, by username, by a piece of the name; sort by message count.
    let session = login(&c, url).await;
    let store = dash.store.clone();
    let users = tokio::task::spawn_blocking(move || store.users_by_activity(1000).unwrap())
        .await
        .unwrap();
    let with_name = users.iter().find(|u| u.username.is_some()).unwrap();
    let get = |q: String| {
        let c = c.clone();
        let session = session.clone();
        async move {
            c.get(format!("{url}/users?{q}"))
                .header("cookie", session)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let by_id = get(format!("q={}", with_name.id.0)).await;
    assert!(by_id.contains(&format!("/users/{}\"", with_name.id.0)));
    assert!(by_id.contains("1 users"));
    let uname = with_name.username.clone().unwrap();
    let by_username = get(format!("q=%40{uname}")).await;
    assert!(by_username.contains(&format!("@{uname}")), "{uname}");
    let none = get("q=zzzz-no-such-user".into()).await;
    assert!(none.contains("0 users"));
    let sorted = get("sort=messages".into()).await;
    let top = users.iter().map(|u| u.message_count).max().unwrap();
    let first_row = &sorted[sorted.find("<tbody>").unwrap()..];
    assert!(first_row.contains(&format!("<td class=\"num\">{top}</td>")));
    dash.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csrf_is_required_and_logout_ends_the_session() {
    let dash = Dash::start(10).await;
    let c = client();
    let url = &dash.url;
    // Login without the pre-login cookie (a cross-site form): refused.
    let res = c
        .post(format!("{url}/login"))
        .form(&[("username", "admin"), ("password", PASSWORD), ("csrf", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(cookie_from(res.headers(), "tgbox_session").is_none());

    let session = login(&c, url).await;
    let page = get_with(&c, &format!("{url}/"), &session).await;
    let html = page.text().await.unwrap();
    let csrf = field(&html, "csrf");
    for bad in ["", "0000", &csrf[1..]] {
        let res = c
            .post(format!("{url}/logout"))
            .header("cookie", &session)
            .form(&[("csrf", bad)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "csrf {bad:?}");
    }
    let still = get_with(&c, &format!("{url}/users"), &session).await;
    assert_eq!(still.status(), StatusCode::OK);
    let res = c
        .post(format!("{url}/logout"))
        .header("cookie", &session)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let after = get_with(&c, &format!("{url}/users"), &session).await;
    assert_eq!(after.status(), StatusCode::SEE_OTHER, "the session is gone");
    dash.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_are_throttled_per_address() {
    let dash = Dash::start(10).await;
    let c = client();
    for _ in 0..5 {
        let res = try_login(&c, &dash.url, "wrong password", "/users").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    // Locked: even the right password is not checked now.
    let res = try_login(&c, &dash.url, PASSWORD, "/users").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.text().await.unwrap().contains("Too many failed logins"));
    dash.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_link_sets_the_first_password_once() {
    let dash = Dash::start(10).await;
    let dir = tempfile::tempdir().unwrap();
    let mut state = dash.state.clone();
    let auth = Arc::new(tgbox::web::auth::Auth::new(
        dir.path().to_path_buf(),
        None,
        Duration::from_secs(60),
    ));
    let token = auth.new_setup_token();
    state.auth = auth;
    state.settings = Arc::new(tgbox::web::WebSettings {
        data_dir: dir.path().to_path_buf(),
        ..(*dash.state.settings).clone()
    });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let stop = tokio_util::sync::CancellationToken::new();
    tokio::spawn(serve_dashboard(
        listener,
        dashboard_router(state),
        stop.clone(),
    ));
    let c = client();
    let login_page = c
        .get(format!("{url}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(login_page.contains("No admin password is set yet"));
    let bad = c
        .get(format!("{url}/setup?token=nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::FORBIDDEN);
    let page = c
        .get(format!("{url}/setup?token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let pre = cookie_from(page.headers(), "tgbox_prelogin").unwrap();
    let csrf = field(&page.text().await.unwrap(), "csrf");
    let res = c
        .post(format!("{url}/setup"))
        .header("cookie", format!("tgbox_prelogin={pre}"))
        .form(&[
            ("token", token.as_str()),
            ("csrf", csrf.as_str()),
            ("password", "a new password"),
            ("confirm", "a new password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(cookie_from(res.headers(), "tgbox_session").is_some());
    let hash = tgbox::web::auth::credentials::load_hash(dir.path())
        .unwrap()
        .unwrap();
    assert!(tgbox::web::auth::credentials::verify(
        &hash,
        "a new password"
    ));
    let again = c
        .get(format!("{url}/setup?token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::FORBIDDEN, "the link works once");
    stop.cancel();
    dash.stop().await;
}

/// The broadcast form: CSRF, a clear error for bad HTML (input kept, escaped), a safe preview,
/// start -> the job page, and pause/cancel through its buttons.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcast_form_preview_start_and_controls() {
    let dash = Dash::start(50).await;
    let c = client();
    let session = login(&c, &dash.url).await;
    let url = &dash.url;
    let page = page_html(&c, &format!("{url}/broadcasts"), &session).await;
    let csrf = field(&page, "csrf");
    let post = |form: Vec<(&'static str, String)>| {
        let (c, session) = (c.clone(), session.clone());
        async move {
            c.post(format!("{url}/broadcasts"))
                .header("cookie", session)
                .form(&form)
                .send()
                .await
                .unwrap()
        }
    };
    // Without the CSRF token: refused.
    let res = post(vec![
        ("html", "<b>x</b>".into()),
        ("action", "start".into()),
    ])
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Bad HTML: the error names the problem; the input comes back escaped, never raw.
    let res = post(vec![
        ("csrf", csrf.clone()),
        ("html", "hi <script>alert(1)</script>".into()),
        ("audience", "announcements".into()),
        ("action", "preview".into()),
    ])
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("&#60;script&#62; at character 4 is not allowed"),
        "{body}"
    );
    assert!(!body.contains("<script>alert"), "raw input echoed");
    let res = post(vec![
        ("csrf", csrf.clone()),
        ("html", "<b>x</b>".into()),
        ("audience", "active".into()),
        ("days", "0".into()),
        ("action", "preview".into()),
    ])
    .await;
    assert!(res.text().await.unwrap().contains("from 1 to 3650"));
    // A preview re-emits only allowed markup.
    let res = post(vec![
        ("csrf", csrf.clone()),
        (
            "html",
            "<b>Big</b> &amp; <a href=\"https://e.org/?q=&quot;x\">news</a>".into(),
        ),
        ("audience", "announcements".into()),
        ("action", "preview".into()),
    ])
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.text().await.unwrap();
    assert!(body.contains("id=\"broadcast-preview\""), "{body}");
    assert!(body.contains("<b>Big</b> &amp; <a rel=\"noopener noreferrer nofollow\" href=\"https://e.org/?q=&quot;x\">news</a>"), "{body}");
    assert!(body.contains("Would reach"));
    // Start: a job, and its page.
    let res = post(vec![
        ("csrf", csrf.clone()),
        ("html", "<b>Hello</b> everyone".into()),
        ("audience", "announcements".into()),
        ("action", "start".into()),
    ])
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let job_url = format!("{url}{}", res.headers()[LOCATION].to_str().unwrap());
    let body = c
        .get(&job_url)
        .header("cookie", &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("broadcast-state") && body.contains("<b>Hello</b> everyone"));
    // Cancel it (whatever state it reached), then cancelling again is a conflict.
    let act = |action: &'static str| {
        let (c, session, csrf, job_url) =
            (c.clone(), session.clone(), csrf.clone(), job_url.clone());
        async move {
            c.post(format!("{job_url}/action"))
                .header("cookie", session)
                .form(&[("csrf", csrf.as_str()), ("action", action)])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let first = act("cancel").await;
    if first == StatusCode::CONFLICT {
        // It already finished (few private chats in the community): then it is done.
        let job = dash.store.broadcasts(1).unwrap().remove(0);
        assert_eq!(job.state, tgbox::domain::JobState::Done);
    } else {
        assert_eq!(first, StatusCode::SEE_OTHER);
        assert_eq!(act("cancel").await, StatusCode::CONFLICT);
    }
    assert_eq!(act("explode").await, StatusCode::BAD_REQUEST);
    dash.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_retention_form_needs_csrf_and_valid_days() {
    let dash = Dash::start(30).await;
    let c = client();
    let url = &dash.url;
    let (_, chat) = sample_ids(&dash).await;
    let session = login(&c, url).await;
    let page = |session: String| {
        let c = c.clone();
        let url = format!("{url}/chats/{chat}");
        async move {
            c.get(url)
                .header("cookie", session)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let html = page(session.clone()).await;
    assert!(html.contains("id=\"chat-retention\""));
    assert!(
        html.contains("value=\"global\" checked"),
        "global by default"
    );
    let csrf = field(&html, "csrf");
    let post = |form: Vec<(&'static str, String)>| {
        let c = c.clone();
        let (url, session) = (format!("{url}/chats/{chat}/retention"), session.clone());
        async move {
            c.post(url)
                .header("cookie", session)
                .form(&form)
                .send()
                .await
                .unwrap()
        }
    };
    let wrong = post(vec![("csrf", "nope".into()), ("mode", "forever".into())]).await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    for days in ["0", "abc", "99999"] {
        let bad = post(vec![
            ("csrf", csrf.clone()),
            ("mode", "days".into()),
            ("days", days.into()),
        ])
        .await;
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST, "{days}");
    }
    let ok = post(vec![
        ("csrf", csrf.clone()),
        ("mode", "days".into()),
        ("days", "7".into()),
    ])
    .await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    assert_eq!(ok.headers()[LOCATION], format!("/chats/{chat}"));
    let html = page(session.clone()).await;
    assert!(html.contains("kept for 7 days"), "{html}");
    let store = dash.store.clone();
    let stored = tokio::task::spawn_blocking(move || {
        store
            .chat(tgbox::domain::ChatId(chat))
            .unwrap()
            .unwrap()
            .retention_days
    })
    .await
    .unwrap();
    assert_eq!(stored, Some(7));
    let forever = post(vec![("csrf", csrf.clone()), ("mode", "forever".into())]).await;
    assert_eq!(forever.status(), StatusCode::SEE_OTHER);
    assert!(page(session.clone()).await.contains("kept forever"));
    // Unknown chats are not created.
    let res = c
        .post(format!("{url}/chats/1/retention"))
        .header("cookie", &session)
        .form(&[("csrf", csrf.as_str()), ("mode", "global")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // The cache's figures are on the overview and in the metrics.
    let overview = page_html(&c, &format!("{url}/"), &session).await;
    assert!(overview.contains("Cache hit ratio") && !overview.contains("no cache yet"));
    let metrics: serde_json::Value = get_with(&c, &format!("{url}/api/metrics"), &session)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        metrics["cache"]["capacity"].as_u64().unwrap() > 0,
        "{metrics}"
    );
    let prom = page_html(&c, &format!("{url}/metrics"), &session).await;
    assert!(prom.contains("tgbox_cache_events_total{event=\"hit\"}"));
    dash.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_page_compacts_and_streams_a_backup() {
    let dash = Dash::start(50).await;
    let c = client();
    let url = &dash.url;
    let session = login(&c, url).await;
    let get = |path: &str| {
        c.get(format!("{url}{path}"))
            .header("cookie", &session)
            .send()
    };
    let html = get("/storage").await.unwrap().text().await.unwrap();
    assert!(html.contains("No compaction has run yet"), "{html}");
    assert!(html.contains("The retention sweep has not run yet"));
    assert!(html.contains("messages") && html.contains("fragmented"));
    assert!(html.contains("segments"), "no search index figures");
    let csrf = field(&html, "csrf");
    let post = |path: &str, token: &str| {
        c.post(format!("{url}{path}"))
            .header("cookie", &session)
            .form(&[("csrf", token.to_string())])
            .send()
    };
    for path in ["/storage/compact", "/storage/backup", "/storage/cleanup"] {
        let res = post(path, "wrong").await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
    }
    // The cleanup slot is not wired in this setup: a clear 503, not a crash.
    let res = post("/storage/cleanup", &csrf).await.unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);

    let res = post("/storage/compact", &csrf).await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let m = dash.state.maintenance.clone().unwrap();
    assert!(
        common::wait_until(Duration::from_secs(30), || m.last_run().is_some()).await,
        "the compaction did not finish"
    );
    let html = get("/storage").await.unwrap().text().await.unwrap();
    assert!(
        html.contains("Ingest paused") && html.contains("(dashboard)"),
        "{html}"
    );

    for res in [
        post("/storage/backup", &csrf).await.unwrap(),
        get("/storage/backup").await.unwrap(),
    ] {
        assert_eq!(res.status(), StatusCode::OK);
        let disposition = res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            disposition.starts_with("attachment; filename=\"tgbox-"),
            "{disposition}"
        );
        let body = res.bytes().await.unwrap();
        let report = tgbox::store::redb::verify_backup(&body[..]).unwrap();
        assert!(report.rows > 50, "{report:?}");
    }
    dash.stop().await;
}
