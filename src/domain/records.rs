//! What the store keeps. These are the stored shapes; the codec in each backend adds a version
//! byte in front so that a later schema can still read them.

use super::ids::{ChatId, MessageId, Timestamp, UpdateId, UserId};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub is_bot: bool,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub language_code: Option<String>,
    /// False once the user asked to be forgotten or was seen leaving every chat.
    pub is_active: bool,
    /// Set when a send to this user failed with 403 "bot was blocked by the user".
    pub blocked_bot: bool,
    pub created_at: Timestamp,
    pub last_activity_at: Timestamp,
    pub message_count: u64,
}

/// The form usernames are indexed and looked up in: without a leading `@`, ASCII lower case
/// (Telegram usernames are case-insensitive `[A-Za-z0-9_]`).
pub fn normalize_username(username: &str) -> String {
    username.trim().trim_start_matches('@').to_ascii_lowercase()
}

impl User {
    /// "First Last (@username)", for logs and pages.
    pub fn display_name(&self) -> String {
        let mut name = self.first_name.clone();
        if let Some(last) = &self.last_name {
            name.push(' ');
            name.push_str(last);
        }
        name
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ChatKind {
    Private,
    Group,
    Supergroup,
    Channel,
}

impl ChatKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChatKind::Private => "private",
            ChatKind::Group => "group",
            ChatKind::Supergroup => "supergroup",
            ChatKind::Channel => "channel",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chat {
    pub id: ChatId,
    pub kind: ChatKind,
    /// Group title, or the other person's name for a private chat.
    pub title: Option<String>,
    pub username: Option<String>,
    pub is_forum: bool,
    /// Per-chat retention override in days; `None` follows the global setting.
    pub retention_days: Option<u32>,
    pub created_at: Timestamp,
    pub last_activity_at: Timestamp,
    pub message_count: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MemberStatus {
    Active,
    Left,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub chat_id: ChatId,
    pub user_id: UserId,
    pub status: MemberStatus,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub message_count: u64,
}

/// What a message carries. Stored as one byte in index keys (`as_u8`), so the numbers are
/// part of the on-disk format: never renumber, only append.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum MessageKind {
    Text,
    Photo,
    Video,
    Animation,
    Audio,
    Voice,
    VideoNote,
    Document,
    Sticker,
    Location,
    Contact,
    Poll,
    Dice,
    MembersJoined,
    MemberLeft,
    /// Any other service message (title change, pin, ...).
    Service,
    /// A content type this version does not know; the message is still archived.
    Other,
}

impl MessageKind {
    pub const ALL: [MessageKind; 17] = [
        MessageKind::Text,
        MessageKind::Photo,
        MessageKind::Video,
        MessageKind::Animation,
        MessageKind::Audio,
        MessageKind::Voice,
        MessageKind::VideoNote,
        MessageKind::Document,
        MessageKind::Sticker,
        MessageKind::Location,
        MessageKind::Contact,
        MessageKind::Poll,
        MessageKind::Dice,
        MessageKind::MembersJoined,
        MessageKind::MemberLeft,
        MessageKind::Service,
        MessageKind::Other,
    ];

    pub fn as_u8(self) -> u8 {
        self as u8
    }

    pub fn from_u8(n: u8) -> Option<Self> {
        Self::ALL.get(usize::from(n)).copied()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Text => "text",
            MessageKind::Photo => "photo",
            MessageKind::Video => "video",
            MessageKind::Animation => "animation",
            MessageKind::Audio => "audio",
            MessageKind::Voice => "voice",
            MessageKind::VideoNote => "video_note",
            MessageKind::Document => "document",
            MessageKind::Sticker => "sticker",
            MessageKind::Location => "location",
            MessageKind::Contact => "contact",
            MessageKind::Poll => "poll",
            MessageKind::Dice => "dice",
            MessageKind::MembersJoined => "members_joined",
            MessageKind::MemberLeft => "member_left",
            MessageKind::Service => "service",
            MessageKind::Other => "other",
        }
    }

    /// Service messages are archived but do not count as somebody posting.
    pub fn is_service(self) -> bool {
        matches!(
            self,
            MessageKind::MembersJoined | MessageKind::MemberLeft | MessageKind::Service
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredMessage {
    pub chat_id: ChatId,
    pub message_id: MessageId,
    /// `None` for channel posts and anonymous admins (Telegram sends `sender_chat` instead).
    pub user_id: Option<UserId>,
    pub date: Timestamp,
    pub edit_date: Option<Timestamp>,
    pub kind: MessageKind,
    /// The text, or the caption of a media message; empty when there is neither.
    pub text: String,
    pub reply_to: Option<MessageId>,
    pub thread_id: Option<i32>,
    /// Outbox sequence of the last write of this row (insert or edit).
    pub seq: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OutboxOp {
    Upsert,
    Delete,
}

/// One pending change for the search index, appended in the same transaction as the row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub seq: u64,
    pub chat_id: ChatId,
    pub message_id: MessageId,
    pub op: OutboxOp,
}

/// An update that could not be understood, kept verbatim so nothing acknowledged is lost.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantinedUpdate {
    pub update_id: UpdateId,
    pub received_at: Timestamp,
    pub reason: String,
    pub raw_json: String,
}

/// The bot a data directory belongs to (from getMe).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BotIdentity {
    pub bot_id: u64,
    pub username: String,
}
