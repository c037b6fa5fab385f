//! Talking to the dashboard over HTTP like a browser: cookies, hidden form fields, login.

use reqwest::header::{HeaderMap, SET_COOKIE};
use std::time::Duration;

/// A client that does not follow redirects (tests look at them).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// The value of a cookie set by a response, if it sets a non-empty one.
pub fn cookie_from(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, v)| *k == name && !v.is_empty())
        .map(|(_, v)| v.to_string())
}

/// The value of the hidden form field `name` (e.g. the CSRF token) in a page.
pub fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap() + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_string()
}

/// GET /login, then POST it with `password`, asking to go to `next`; returns the response.
pub async fn try_login(
    c: &reqwest::Client,
    url: &str,
    password: &str,
    next: &str,
) -> reqwest::Response {
    let page = c.get(format!("{url}/login")).send().await.unwrap();
    let pre = cookie_from(page.headers(), "tgbox_prelogin").unwrap();
    let html = page.text().await.unwrap();
    let csrf = field(&html, "csrf");
    c.post(format!("{url}/login"))
        .header("cookie", format!("tgbox_prelogin={pre}"))
        .form(&[
            ("username", "admin"),
            ("password", password),
            ("csrf", csrf.as_str()),
            ("next", next),
        ])
        .send()
        .await
        .unwrap()
}

/// The `tgbox_session=...` cookie header of a successful login response.
pub fn session_of(res: &reqwest::Response) -> String {
    format!(
        "tgbox_session={}",
        cookie_from(res.headers(), "tgbox_session").unwrap()
    )
}

/// GET `url` with the session cookie.
pub async fn get_with(c: &reqwest::Client, url: &str, session: &str) -> reqwest::Response {
    c.get(url).header("cookie", session).send().await.unwrap()
}

/// The body of the page at `url`, fetched with the session cookie.
pub async fn page_html(c: &reqwest::Client, url: &str, session: &str) -> String {
    get_with(c, url, session).await.text().await.unwrap()
}
