//! Small builders for the contract cases.

use crate::domain::{
    ChatId, ChatKind, ChatProfile, IncomingMessage, IncomingUpdate, MessageId, MessageKind,
    Timestamp, UpdateContent, UpdateId, UserId, UserProfile,
};

/// A fixed instant the cases count from.
pub const T0: i64 = 1_700_000_000;

pub fn ts(offset: i64) -> Timestamp {
    Timestamp(T0 + offset)
}

pub fn group(id: i64, title: &str) -> ChatProfile {
    ChatProfile {
        id: ChatId(id),
        kind: ChatKind::Supergroup,
        title: Some(title.to_string()),
        username: None,
        is_forum: false,
    }
}

pub fn person(id: u64, first_name: &str) -> UserProfile {
    UserProfile {
        id: UserId(id),
        is_bot: false,
        first_name: first_name.to_string(),
        last_name: None,
        username: None,
        language_code: None,
    }
}

/// A plain text message.
pub fn text(
    chat: &ChatProfile,
    from: Option<&UserProfile>,
    id: i32,
    date: i64,
    body: &str,
) -> IncomingMessage {
    IncomingMessage {
        chat: chat.clone(),
        from: from.cloned(),
        message_id: MessageId(id),
        date: ts(date),
        edit_date: None,
        kind: MessageKind::Text,
        text: body.to_string(),
        reply_to: None,
        thread_id: None,
        joined: Vec::new(),
        left: None,
    }
}

pub fn update(id: u32, content: UpdateContent) -> IncomingUpdate {
    IncomingUpdate {
        update_id: UpdateId(id),
        received_at: ts(id.into()),
        content,
    }
}

pub fn new_message(id: u32, m: IncomingMessage) -> IncomingUpdate {
    update(id, UpdateContent::Message(m))
}

pub fn edit(id: u32, m: IncomingMessage) -> IncomingUpdate {
    update(id, UpdateContent::Edit(m))
}
