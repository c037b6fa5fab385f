//! The dashboard in a real browser: Debian's chromium driven through chromedriver (WebDriver,
//! plain JSON over HTTP with reqwest). Logs in, visits every page, checks that charts and
//! tables rendered and that the console shows no errors, and saves screenshots (to
//! docs/screenshots/ with TGBOX_UPDATE_SCREENSHOTS=1, else target/browser-screenshots/). Skips (with a message) where chromium or chromedriver is not installed;
//! `.ci/run` installs both.

mod common;
mod dashboard_support;

use base64::Engine;
use dashboard_support::{Dash, PASSWORD};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn find_binary(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in names {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

struct Driver {
    child: Child,
    base: String,
    http: reqwest::Client,
    session: String,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    async fn start(chromium: &Path, chromedriver: &Path) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = http.get(format!("{base}/status")).send().await
                && r.status().is_success()
            {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {
                "binary": chromium.display().to_string(),
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--disable-dev-shm-usage", "--hide-scrollbars",
                    format!("--user-data-dir={}", profile.path().display()),
                    "--window-size=1280,900", "--lang=en-US"
                ]
            }
        }}});
        let mut driver = Driver {
            child,
            base,
            http,
            session: String::new(),
            _profile: profile,
        };
        let v = driver.call("POST", "/session", caps).await;
        driver.session = v["sessionId"].as_str().expect("session id").to_string();
        driver
    }

    async fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let url = if path == "/session" {
            format!("{}{path}", self.base)
        } else {
            format!("{}/session/{}{path}", self.base, self.session)
        };
        let req = match method {
            "GET" => self.http.get(&url),
            "DELETE" => self.http.delete(&url),
            _ => self.http.post(&url).json(&body),
        };
        let res = req.send().await.unwrap();
        let status = res.status();
        let v: Value = res.json().await.unwrap();
        assert!(status.is_success(), "{method} {path}: {status} {v}");
        v["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.call("POST", "/url", json!({ "url": url })).await;
    }

    async fn find(&self, css: &str) -> String {
        let v = self
            .call(
                "POST",
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .await;
        v[ELEMENT].as_str().unwrap().to_string()
    }

    async fn script(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            json!({"script": script, "args": []}),
        )
        .await
    }

    async fn screenshot(&self, path: &Path) {
        let v = self.call("GET", "/screenshot", Value::Null).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap())
            .unwrap();
        std::fs::write(path, png).unwrap();
    }

    /// Console entries at SEVERE level since the last call.
    async fn console_errors(&self) -> Vec<String> {
        let v = self
            .call("POST", "/se/log", json!({"type": "browser"}))
            .await;
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter(|e| e["level"] == "SEVERE" || e["level"] == "WARNING")
                    .map(|e| e["message"].to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    async fn resize(&self, width: u32, height: u32) {
        self.call(
            "POST",
            "/window/rect",
            json!({"width": width, "height": height}),
        )
        .await;
    }
}

async fn count(d: &Driver, css: &str) -> u64 {
    d.script(&format!(
        "return document.querySelectorAll({css:?}).length;"
    ))
    .await
    .as_u64()
    .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_in_chromium() {
    let (Some(chromium), Some(chromedriver)) = (
        find_binary(&["chromium", "chromium-browser", "google-chrome"]),
        find_binary(&["chromedriver"]),
    ) else {
        println!(
            "SKIPPED dashboard_in_chromium: chromium and chromedriver are not installed \
             (apt-get install chromium chromium-driver; .ci/run does this)"
        );
        return;
    };
    // The committed screenshots are refreshed with TGBOX_UPDATE_SCREENSHOTS=1; ordinary runs
    // write under target/ so a test run leaves the work tree clean.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shots = if std::env::var_os("TGBOX_UPDATE_SCREENSHOTS").is_some() {
        root.join("docs/screenshots")
    } else {
        root.join("target/browser-screenshots")
    };
    std::fs::create_dir_all(&shots).unwrap();
    let dash = Dash::start_with(1500, true).await;
    let d = Driver::start(&chromium, &chromedriver).await;
    let url = dash.url.clone();

    // Anonymous: redirected to the login page.
    d.goto(&format!("{url}/chats")).await;
    let here = d.script("return location.pathname;").await;
    assert_eq!(here, "/login");
    d.screenshot(&shots.join("login.png")).await;
    let pw = d.find("input[name=password]").await;
    d.call(
        "POST",
        &format!("/element/{pw}/value"),
        json!({"text": PASSWORD}),
    )
    .await;
    let button = d.find("#login-form button").await;
    d.call("POST", &format!("/element/{button}/click"), json!({}))
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(d.script("return location.pathname;").await, "/chats");
    assert!(d.console_errors().await.is_empty());

    // Let a few live samples accumulate so the charts have lines.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let (user, chat) = {
        let store = dash.store.clone();
        tokio::task::spawn_blocking(move || {
            let users = store.users_by_activity(1000).unwrap();
            // Prefer a right-to-left name for the detail screenshot.
            let user = users
                .iter()
                .find(|u| {
                    u.first_name
                        .chars()
                        .any(|c| ('\u{0600}'..='\u{06ff}').contains(&c))
                })
                .unwrap_or(&users[0])
                .id
                .0;
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
    };
    let job = {
        let store = dash.store.clone();
        tokio::task::spawn_blocking(move || {
            let new = tgbox::domain::NewBroadcast {
                html: "<b>Welcome</b> to the <i>group</i> · <tg-spoiler>surprise</tg-spoiler>"
                    .into(),
                audience: tgbox::domain::Audience::Announcements,
            };
            store
                .create_broadcast(&new, tgbox::domain::now_millis())
                .unwrap()
                .id
                .0
        })
        .await
        .unwrap()
    };
    type Expect = Vec<(&'static str, u64)>;
    let pages: Vec<(String, &str, Expect)> = vec![
        (
            "/".into(),
            "overview",
            vec![(".card", 8), ("svg.chart polyline", 3)],
        ),
        ("/users".into(), "users", vec![("#users-table tbody tr", 5)]),
        (
            format!("/users/{user}"),
            "user",
            vec![("#user-messages tbody tr", 1)],
        ),
        ("/chats".into(), "chats", vec![("#chats-table tbody tr", 3)]),
        (
            format!("/chats/{chat}"),
            "chat",
            vec![
                ("#chat-members tbody tr", 2),
                ("#chat-messages tbody tr", 5),
            ],
        ),
        ("/logs".into(), "logs", vec![("#log-table tbody tr", 1)]),
        (
            "/broadcasts".into(),
            "broadcasts",
            vec![
                ("form.broadcast-form textarea", 1),
                ("#broadcast-history tbody tr", 1),
            ],
        ),
        (
            format!("/broadcasts/{job}"),
            "broadcast",
            vec![(".card", 8), ("#broadcast-preview b", 1)],
        ),
        (
            "/storage".into(),
            "storage",
            vec![("#storage-tables tbody tr", 5), ("#compact-now", 1)],
        ),
    ];
    for (path, name, expectations) in &pages {
        d.goto(&format!("{url}{path}")).await;
        assert_eq!(d.script("return location.pathname;").await, path.as_str());
        for (css, min) in expectations {
            let n = count(&d, css).await;
            assert!(n >= *min, "{path}: {n} of {css}, expected at least {min}");
        }
        d.screenshot(&shots.join(format!("{name}.png"))).await;
        let errors = d.console_errors().await;
        assert!(errors.is_empty(), "{path}: console: {errors:?}");
    }

    // The overview refreshes in place (app.js replaces #live) without errors.
    d.goto(&format!("{url}/")).await;
    d.script("document.getElementById('live').setAttribute('data-marker', 'old'); return 1;")
        .await;
    tokio::time::sleep(Duration::from_secs(7)).await;
    let marker = d
        .script("return document.getElementById('live').getAttribute('data-marker');")
        .await;
    assert!(marker.is_null(), "the live part was not refreshed");
    assert!(count(&d, "svg.chart polyline").await >= 3);
    assert!(
        d.script("return document.getElementById('refreshed').textContent;")
            .await
            != "at load"
    );

    // On a phone.
    d.resize(390, 844).await;
    d.goto(&format!("{url}/")).await;
    let overflow = d
        .script("return document.documentElement.scrollWidth > window.innerWidth + 1;")
        .await;
    assert_eq!(overflow, false, "the overview scrolls sideways on a phone");
    d.screenshot(&shots.join("overview-phone.png")).await;
    let errors = d.console_errors().await;
    assert!(errors.is_empty(), "console: {errors:?}");

    // Logging out leads back to the login page.
    d.resize(1280, 900).await;
    let logout = d.find("form.logout button").await;
    d.call("POST", &format!("/element/{logout}/click"), json!({}))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    d.goto(&format!("{url}/users")).await;
    assert_eq!(d.script("return location.pathname;").await, "/login");

    let _ = d.call("DELETE", "", Value::Null).await;
    drop(d);
    dash.stop().await;
}
