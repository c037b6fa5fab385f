//! Public data types of the simulator: what the control API takes and returns.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A user to add. `id` is assigned when `None`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NewUser {
    #[serde(default)]
    pub id: Option<u64>,
    pub first_name: String,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub language_code: Option<String>,
}

/// A simulated user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimUser {
    pub id: u64,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub language_code: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SimChatKind {
    Private,
    Group,
    Supergroup,
    Channel,
}

impl SimChatKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SimChatKind::Private => "private",
            SimChatKind::Group => "group",
            SimChatKind::Supergroup => "supergroup",
            SimChatKind::Channel => "channel",
        }
    }
}

/// A chat to add. `id` is assigned when `None`; for a private chat it is the user's id (a user
/// is created from `title` when it is `None`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewChat {
    #[serde(default)]
    pub id: Option<i64>,
    pub kind: SimChatKind,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub is_forum: bool,
}

/// A simulated chat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimChat {
    pub id: i64,
    pub kind: SimChatKind,
    pub title: String,
    pub username: Option<String>,
    pub is_forum: bool,
}

/// Media attached to a user message; the message text becomes its caption.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Media {
    Photo,
    Video,
    Document,
    Voice,
    /// Stickers carry no caption: the text, if any, is used as the sticker's emoji.
    Sticker,
    Animation,
}

impl Media {
    pub fn as_str(self) -> &'static str {
        match self {
            Media::Photo => "photo",
            Media::Video => "video",
            Media::Document => "document",
            Media::Voice => "voice",
            Media::Sticker => "sticker",
            Media::Animation => "animation",
        }
    }
}

/// A message posted by a user (or by the channel itself in a channel chat).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UserMessage {
    pub chat_id: i64,
    /// The author; ignored for channel posts.
    #[serde(default)]
    pub user_id: u64,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub media: Option<Media>,
    #[serde(default)]
    pub reply_to: Option<i32>,
    /// A forum topic id (forum supergroups only).
    #[serde(default)]
    pub thread_id: Option<i32>,
}

/// The result of a user-side action: the update it produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Posted {
    pub update_id: u32,
    pub message_id: Option<i32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BotMessageKind {
    Text,
    Photo,
    Document,
}

/// A message the bot sent, in its current state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BotMessage {
    pub chat_id: i64,
    pub message_id: i32,
    pub kind: BotMessageKind,
    /// The text as the bot sent it (the caption for media), markup included.
    pub text: String,
    pub parse_mode: Option<String>,
    pub reply_markup: Option<serde_json::Value>,
    pub reply_to: Option<i32>,
    pub thread_id: Option<i32>,
    pub edited: bool,
    pub deleted: bool,
    pub date: i64,
}

/// The bot's answer to a callback query.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallbackAnswer {
    pub callback_query_id: String,
    pub chat_id: i64,
    pub message_id: i32,
    pub user_id: u64,
    pub data: Option<String>,
    pub text: Option<String>,
    pub show_alert: bool,
    pub url: Option<String>,
    pub cache_time: Option<u32>,
}

/// An update the bot confirmed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Delivered {
    pub update_id: u32,
    /// The update type: "message", "edited_message", "callback_query", ... ("raw" for text
    /// injected with `inject_raw_text`).
    pub kind: String,
    pub chat_id: Option<i64>,
    pub message_id: Option<i32>,
    /// The text or caption (the data for a callback query).
    pub text: Option<String>,
}

/// Counters of the simulator.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SimStats {
    /// Updates waiting for confirmation.
    pub queued: u64,
    /// Updates confirmed by the bot (the length of the delivery log).
    pub confirmed: u64,
    /// Updates produced in total (including those filtered out or dropped).
    pub produced: u64,
    /// Updates not queued because `allowed_updates` excluded their type.
    pub filtered: u64,
    /// Updates forgotten without confirmation (negative offset, drop_pending_updates).
    pub dropped: u64,
    /// Successful bot requests by method (sendMessage, editMessageText, ...).
    pub bot_sends: BTreeMap<String, u64>,
    /// Every Bot API request, including failed and faulted ones.
    pub api_calls: u64,
    pub get_updates_calls: u64,
    pub faults_injected: u64,
    pub webhook_deliveries: u64,
    pub webhook_failures: u64,
    /// 429s the simulated flood control answered (the bot sent too fast).
    #[serde(default)]
    pub flood_429s: u64,
}

/// Errors of the in-process control API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    #[error("unknown chat {0}")]
    UnknownChat(i64),
    #[error("unknown user {0}")]
    UnknownUser(u64),
    #[error("message {message_id} not found in chat {chat_id}")]
    MessageNotFound { chat_id: i64, message_id: i32 },
    #[error("user {user} is already a member of chat {chat}")]
    AlreadyMember { chat: i64, user: u64 },
    #[error("user {user} is not a member of chat {chat}")]
    NotMember { chat: i64, user: u64 },
    #[error("chat {0} is not a forum supergroup")]
    NotAForum(i64),
    #[error("message text is empty")]
    EmptyText,
    #[error("message text is too long ({0} UTF-16 units, at most 4096)")]
    TooLong(usize),
    #[error("{0}")]
    Unsupported(String),
}

impl SimError {
    /// Whether the error names something that does not exist (HTTP 404 in the control API).
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            SimError::UnknownChat(_) | SimError::UnknownUser(_) | SimError::MessageNotFound { .. }
        )
    }
}
