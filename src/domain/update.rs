//! An update from Telegram translated into what the store needs to know. The translation from
//! Bot API types lives in `bot::convert`; this side has no Telegram types.

use super::ids::{ChatId, MessageId, Timestamp, UpdateId, UserId};
use super::records::{ChatKind, MessageKind};

/// Texts above this are cut (on a char boundary) before storing. Telegram's own limit is 4096
/// characters for text and 1024 for captions (at most 16 KiB of UTF-8); a larger text can only
/// come from a non-standard Bot API server, and we keep a generous prefix rather than reject the
/// whole update.
pub const MAX_STORED_TEXT_BYTES: usize = 256 * 1024;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserProfile {
    pub id: UserId,
    pub is_bot: bool,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub language_code: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatProfile {
    pub id: ChatId,
    pub kind: ChatKind,
    pub title: Option<String>,
    pub username: Option<String>,
    pub is_forum: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncomingMessage {
    pub chat: ChatProfile,
    pub from: Option<UserProfile>,
    pub message_id: MessageId,
    pub date: Timestamp,
    pub edit_date: Option<Timestamp>,
    pub kind: MessageKind,
    pub text: String,
    pub reply_to: Option<MessageId>,
    pub thread_id: Option<i32>,
    /// Users added by a "new_chat_members" service message.
    pub joined: Vec<UserProfile>,
    /// The user of a "left_chat_member" service message.
    pub left: Option<UserProfile>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UpdateContent {
    /// A new message or channel post.
    Message(IncomingMessage),
    /// An edited message or channel post: its text and edit_date replace the stored ones.
    Edit(IncomingMessage),
    /// A user acted without posting (pressed a button, ...): their profile and activity are
    /// refreshed.
    Interaction {
        user: UserProfile,
        chat: Option<ChatProfile>,
        at: Timestamp,
    },
    /// Understood but not archived (for example a poll answer); only the offset moves.
    Ignored { kind: String },
    /// Not understood: stored verbatim in the quarantine table.
    Quarantined { reason: String, raw_json: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncomingUpdate {
    pub update_id: UpdateId,
    pub received_at: Timestamp,
    pub content: UpdateContent,
}

/// Cut `text` to at most `max` bytes on a char boundary.
pub fn clamp_text(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamp_text_respects_char_boundaries() {
        let s = "ab\u{06CC}\u{06CC}".to_string(); // 2 + 2*2 bytes
        assert_eq!(clamp_text(s.clone(), 3), "ab");
        assert_eq!(clamp_text(s.clone(), 4), "ab\u{06CC}");
        assert_eq!(clamp_text(s.clone(), 100), s);
    }
}
