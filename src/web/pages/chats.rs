//! Chats: the list (most messages first) and a detail page with members and recent messages.

use super::users::{MessageRow, chat_title};
use super::{Chrome, excerpt, message, render, store_failed, when};
use crate::domain::{Chat, ChatId};
use crate::web::WebState;
use crate::web::auth::guard::CurrentSession;
use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

const MEMBERS: usize = 200;
const RECENT: usize = 50;

pub struct ChatRow {
    pub id: i64,
    pub title: String,
    pub kind: &'static str,
    pub username: String,
    pub messages: u64,
    pub last_active: String,
}

fn row(c: &Chat) -> ChatRow {
    ChatRow {
        id: c.id.0,
        title: chat_title(Some(c), c.id),
        kind: c.kind.as_str(),
        username: c.username.clone().unwrap_or_default(),
        messages: c.message_count,
        last_active: when(c.last_activity_at),
    }
}

#[derive(Template)]
#[template(path = "chats.html")]
struct ChatsPage {
    chrome: Chrome,
    rows: Vec<ChatRow>,
}

pub async fn list(
    State(state): State<WebState>,
    Extension(session): Extension<CurrentSession>,
) -> Response {
    let Some(Ok(mut chats)) = state.blocking(|s| s.chats()).await else {
        return store_failed();
    };
    chats.sort_by(|a, b| b.message_count.cmp(&a.message_count).then(a.id.cmp(&b.id)));
    render(&ChatsPage {
        chrome: Chrome::new(&state, &session, "chats", "Chats".into()),
        rows: chats.iter().map(row).collect(),
    })
}

pub struct MemberRow {
    pub user_id: u64,
    pub name: String,
    pub username: String,
    pub status: String,
    pub messages: u64,
    pub last_seen: String,
}

#[derive(Template)]
#[template(path = "chat.html")]
struct ChatPage {
    chrome: Chrome,
    chat: ChatRow,
    members: Vec<MemberRow>,
    members_capped: bool,
    /// `chat` holds the author's name here.
    messages: Vec<MessageRow>,
    retention: super::chat_retention::RetentionView,
}

pub async fn detail(
    State(state): State<WebState>,
    Extension(session): Extension<CurrentSession>,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return message(
            StatusCode::NOT_FOUND,
            "No such chat",
            "A chat id is a number.",
        );
    };
    let id = ChatId(id);
    let loaded = state
        .blocking(move |s| -> crate::store::StoreResult<_> {
            let Some(chat) = s.chat(id)? else {
                return Ok(None);
            };
            let mut members = Vec::new();
            let mut names = std::collections::HashMap::new();
            for m in s.members_of(id, MEMBERS)? {
                let u = s.user(m.user_id)?;
                let name = u
                    .as_ref()
                    .map_or_else(|| m.user_id.0.to_string(), |u| u.display_name());
                names.insert(m.user_id, name.clone());
                members.push(MemberRow {
                    user_id: m.user_id.0,
                    name,
                    username: u.and_then(|u| u.username).unwrap_or_default(),
                    status: format!("{:?}", m.status),
                    messages: m.message_count,
                    last_seen: when(m.last_seen),
                });
            }
            members.sort_by_key(|m| std::cmp::Reverse(m.messages));
            let mut messages = Vec::new();
            for m in s.recent_messages(id, RECENT)? {
                let author = match m.user_id {
                    Some(u) => match names.get(&u) {
                        Some(n) => n.clone(),
                        None => s
                            .user(u)?
                            .map_or_else(|| u.0.to_string(), |u| u.display_name()),
                    },
                    None => String::new(),
                };
                messages.push(MessageRow {
                    chat_id: m.chat_id.0,
                    chat: author,
                    id: m.message_id.0,
                    date: when(m.date),
                    kind: m.kind.as_str(),
                    text: excerpt(&m.text, 200),
                });
            }
            Ok(Some((chat, members, messages)))
        })
        .await;
    match loaded {
        Some(Ok(Some((chat, members, messages)))) => render(&ChatPage {
            chrome: Chrome::new(&state, &session, "chats", chat_title(Some(&chat), chat.id)),
            chat: row(&chat),
            retention: super::chat_retention::view(&chat),
            members_capped: members.len() >= MEMBERS,
            members,
            messages,
        }),
        Some(Ok(None)) => message(
            StatusCode::NOT_FOUND,
            "No such chat",
            "No chat has this id.",
        ),
        _ => store_failed(),
    }
}
