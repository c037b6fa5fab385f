//! A chat's retention override on its page: "use the global setting / keep N days / forever",
//! a form with the session's CSRF token, stored through `RetentionRepo::set_chat_retention`.

use super::{message, store_failed};
use crate::domain::{Chat, ChatId};
use crate::web::WebState;
use crate::web::auth::guard::CurrentSession;
use crate::web::auth::routes::{csrf_ok, csrf_rejected};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;

/// Longest override, as for `retention.days`.
pub const MAX_DAYS: u32 = 36_500;

/// What the chat page shows and preselects.
pub struct RetentionView {
    /// "global", "days" or "forever".
    pub mode: &'static str,
    /// The override's days ("" unless `mode` is "days").
    pub days: String,
    /// In words.
    pub summary: String,
}

pub fn view(chat: &Chat) -> RetentionView {
    match chat.retention_days {
        None => RetentionView {
            mode: "global",
            days: String::new(),
            summary: "as the global setting (retention.days) says".into(),
        },
        Some(0) => RetentionView {
            mode: "forever",
            days: String::new(),
            summary: "forever".into(),
        },
        Some(n) => RetentionView {
            mode: "days",
            days: n.to_string(),
            summary: format!("for {n} day{}", if n == 1 { "" } else { "s" }),
        },
    }
}

#[derive(Deserialize)]
pub struct RetentionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    mode: String,
    #[serde(default)]
    days: String,
}

/// The override a form asks for, or what is wrong with it.
fn parse(form: &RetentionForm) -> Result<Option<u32>, &'static str> {
    match form.mode.as_str() {
        "global" => Ok(None),
        "forever" => Ok(Some(0)),
        "days" => match form.days.trim().parse::<u32>() {
            Ok(n) if (1..=MAX_DAYS).contains(&n) => Ok(Some(n)),
            _ => Err("The number of days must be a whole number from 1 to 36500."),
        },
        _ => Err("Choose the global setting, a number of days, or forever."),
    }
}

pub async fn set(
    State(state): State<WebState>,
    Extension(session): Extension<CurrentSession>,
    Path(id): Path<String>,
    Form(form): Form<RetentionForm>,
) -> Response {
    if !csrf_ok(&session, &form.csrf) {
        return csrf_rejected();
    }
    let Ok(id) = id.parse::<i64>() else {
        return message(
            StatusCode::NOT_FOUND,
            "No such chat",
            "A chat id is a number.",
        );
    };
    let days = match parse(&form) {
        Ok(d) => d,
        Err(why) => return message(StatusCode::BAD_REQUEST, "Retention not changed", why),
    };
    let chat = ChatId(id);
    match state
        .blocking(move |s| s.set_chat_retention(chat, days))
        .await
    {
        Some(Ok(true)) => {
            tracing::info!(chat = id, days = ?days, "chat retention changed on the dashboard");
            Redirect::to(&format!("/chats/{id}")).into_response()
        }
        Some(Ok(false)) => message(
            StatusCode::NOT_FOUND,
            "No such chat",
            "No chat has this id.",
        ),
        _ => store_failed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(mode: &str, days: &str) -> RetentionForm {
        RetentionForm {
            csrf: String::new(),
            mode: mode.into(),
            days: days.into(),
        }
    }

    #[test]
    fn parses_the_three_choices() {
        assert_eq!(parse(&form("global", "9")), Ok(None));
        assert_eq!(parse(&form("forever", "")), Ok(Some(0)));
        assert_eq!(parse(&form("days", " 30 ")), Ok(Some(30)));
        for bad in ["0", "-1", "36501", "x", ""] {
            assert!(parse(&form("days", bad)).is_err(), "{bad}");
        }
        assert!(parse(&form("", "")).is_err());
    }
}
