//! Users: search by name, username or id; sort by last activity or message count; pages; and
//! a detail page. The list works over `users_by_activity` with a bounded scan
//! ([`USER_SCAN`] most recently active users), filtered and sorted in memory; a store-side name
//! index can replace it when communities grow past that.

use super::{Chrome, excerpt, message, render, store_failed, when};
use crate::domain::{ChatId, User, UserId};
use crate::web::WebState;
use crate::web::auth::guard::{CurrentSession, url_encode};
use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

/// Most users a list scans.
pub const USER_SCAN: usize = 20_000;
const PAGE: usize = 50;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    page: Option<usize>,
}

pub struct UserRow {
    pub id: u64,
    pub name: String,
    pub username: String,
    pub messages: u64,
    pub last_active: String,
    pub status: &'static str,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    chrome: Chrome,
    q: String,
    sort: &'static str,
    rows: Vec<UserRow>,
    total: usize,
    page: usize,
    pages: usize,
    prev: Option<String>,
    next: Option<String>,
    truncated: bool,
}

fn row(u: &User) -> UserRow {
    UserRow {
        id: u.id.0,
        name: u.display_name(),
        username: u.username.clone().unwrap_or_default(),
        messages: u.message_count,
        last_active: when(u.last_activity_at),
        status: if u.blocked_bot {
            "blocked the bot"
        } else if u.is_active {
            "active"
        } else {
            "inactive"
        },
    }
}

/// Whether `u` matches a search: id, @username or a piece of the name (case-insensitive).
pub fn matches(u: &User, q: &str) -> bool {
    let q = q.trim().trim_start_matches('@').to_lowercase();
    if q.is_empty() {
        return true;
    }
    if u.id.0.to_string() == q {
        return true;
    }
    u.display_name().to_lowercase().contains(&q)
        || u.username
            .as_deref()
            .is_some_and(|n| n.to_lowercase().contains(&q))
}

pub async fn list(
    State(state): State<WebState>,
    Extension(session): Extension<CurrentSession>,
    Query(query): Query<ListQuery>,
) -> Response {
    let Some(Ok(users)) = state.blocking(|s| s.users_by_activity(USER_SCAN)).await else {
        return store_failed();
    };
    let truncated = users.len() >= USER_SCAN;
    let by_messages = query.sort == "messages";
    let mut found: Vec<User> = users.into_iter().filter(|u| matches(u, &query.q)).collect();
    if by_messages {
        found.sort_by(|a, b| b.message_count.cmp(&a.message_count).then(a.id.cmp(&b.id)));
    }
    let total = found.len();
    let pages = total.div_ceil(PAGE).max(1);
    let page = query.page.unwrap_or(1).clamp(1, pages);
    let rows = found
        .iter()
        .skip((page - 1) * PAGE)
        .take(PAGE)
        .map(row)
        .collect();
    let sort = if by_messages { "messages" } else { "activity" };
    let link = |p: usize| format!("/users?q={}&sort={sort}&page={p}", url_encode(&query.q));
    render(&UsersPage {
        chrome: Chrome::new(&state, &session, "users", "Users".into()),
        q: query.q.clone(),
        sort,
        rows,
        total,
        page,
        pages,
        prev: (page > 1).then(|| link(page - 1)),
        next: (page < pages).then(|| link(page + 1)),
        truncated,
    })
}

pub struct MembershipRow {
    pub chat_id: i64,
    pub title: String,
    pub messages: u64,
    pub status: String,
    pub last_seen: String,
}

pub struct MessageRow {
    pub chat_id: i64,
    pub chat: String,
    pub id: i32,
    pub date: String,
    pub kind: &'static str,
    pub text: String,
}

#[derive(Template)]
#[template(path = "user.html")]
struct UserPage {
    chrome: Chrome,
    user: UserRow,
    language: String,
    since: String,
    chats: Vec<MembershipRow>,
    messages: Vec<MessageRow>,
}

pub fn chat_title(chat: Option<&crate::domain::Chat>, id: ChatId) -> String {
    chat.and_then(|c| c.title.clone().or_else(|| c.username.clone()))
        .unwrap_or_else(|| id.0.to_string())
}

pub async fn detail(
    State(state): State<WebState>,
    Extension(session): Extension<CurrentSession>,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = id.parse::<u64>() else {
        return message(
            StatusCode::NOT_FOUND,
            "No such user",
            "A user id is a number.",
        );
    };
    let id = UserId(id);
    let loaded = state
        .blocking(move |s| -> crate::store::StoreResult<_> {
            let Some(user) = s.user(id)? else {
                return Ok(None);
            };
            let mut chats = Vec::new();
            for chat in s.chats_of_user(id)? {
                let c = s.chat(chat)?;
                let m = s.member(chat, id)?;
                chats.push(MembershipRow {
                    chat_id: chat.0,
                    title: chat_title(c.as_ref(), chat),
                    messages: m.as_ref().map_or(0, |m| m.message_count),
                    status: m
                        .as_ref()
                        .map_or(String::new(), |m| format!("{:?}", m.status)),
                    last_seen: m.as_ref().map_or(String::new(), |m| when(m.last_seen)),
                });
            }
            let titles: std::collections::HashMap<i64, String> =
                chats.iter().map(|c| (c.chat_id, c.title.clone())).collect();
            let messages = s
                .messages_by_user(id, 50)?
                .into_iter()
                .map(|m| MessageRow {
                    chat_id: m.chat_id.0,
                    chat: titles
                        .get(&m.chat_id.0)
                        .cloned()
                        .unwrap_or_else(|| m.chat_id.0.to_string()),
                    id: m.message_id.0,
                    date: when(m.date),
                    kind: m.kind.as_str(),
                    text: excerpt(&m.text, 200),
                })
                .collect();
            Ok(Some((user, chats, messages)))
        })
        .await;
    match loaded {
        Some(Ok(Some((user, chats, messages)))) => render(&UserPage {
            chrome: Chrome::new(&state, &session, "users", user.display_name()),
            language: user.language_code.clone().unwrap_or_default(),
            since: when(user.created_at),
            user: row(&user),
            chats,
            messages,
        }),
        Some(Ok(None)) => message(
            StatusCode::NOT_FOUND,
            "No such user",
            "No user has this id.",
        ),
        _ => store_failed(),
    }
}
