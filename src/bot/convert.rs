//! Bot API updates -> domain updates. Everything Telegram-shaped stops here.
//!
//! An update is decoded from its raw JSON text so that one teloxide cannot parse is kept
//! verbatim in quarantine instead of vanishing: teloxide turns such an update into an empty
//! `UpdateKind::Error`, which would lose the original.

use crate::domain::{
    ChatId, ChatKind, ChatProfile, IncomingMessage, IncomingUpdate, MAX_STORED_TEXT_BYTES,
    MessageId, MessageKind, Timestamp, UpdateContent, UpdateId, UserId, UserProfile, clamp_text,
};
use serde::Deserialize;
use teloxide::types::{
    Chat, ChatKind as TgChatKind, MediaKind, Message, MessageKind as TgMessageKind, PublicChatKind,
    Update, UpdateKind, User,
};

/// Update kinds we ask Telegram for (`allowed_updates`).
pub const ALLOWED_UPDATES: &[&str] = &[
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "callback_query",
    "my_chat_member",
    "chat_member",
];

/// Keys of update kinds whose payload teloxide knows; used to tell "malformed" from "unknown".
const KNOWN_KINDS: &[&str] = &[
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "message_reaction",
    "message_reaction_count",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "purchased_paid_media",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
];

/// Quarantined JSON is cut to this many bytes; a larger update is not a real Telegram update.
const MAX_QUARANTINE_JSON: usize = 256 * 1024;

/// A decoded update: what the store gets, and the teloxide value the handlers get.
pub struct Decoded {
    pub incoming: IncomingUpdate,
    pub update: Option<Update>,
}

/// Decoding failed so badly that not even `update_id` could be read.
#[derive(Debug, thiserror::Error)]
#[error("update without a readable update_id: {0}")]
pub struct NoUpdateId(String);

#[derive(Deserialize)]
struct IdOnly {
    update_id: u32,
}

pub fn decode(raw: &str, received_at: Timestamp) -> Result<Decoded, NoUpdateId> {
    match serde_json::from_str::<Update>(raw) {
        Ok(update) => {
            let update_id = UpdateId(update.id.0);
            let content = match &update.kind {
                UpdateKind::Error(_) => quarantine(raw),
                _ => content_of(&update, received_at),
            };
            let usable = !matches!(update.kind, UpdateKind::Error(_));
            Ok(Decoded {
                incoming: IncomingUpdate {
                    update_id,
                    received_at,
                    content,
                },
                update: usable.then_some(update),
            })
        }
        Err(e) => {
            let id: IdOnly = serde_json::from_str(raw).map_err(|_| NoUpdateId(e.to_string()))?;
            Ok(Decoded {
                incoming: IncomingUpdate {
                    update_id: UpdateId(id.update_id),
                    received_at,
                    content: UpdateContent::Quarantined {
                        reason: format!("not a valid update: {e}"),
                        raw_json: clamp_text(raw.to_string(), MAX_QUARANTINE_JSON),
                    },
                },
                update: None,
            })
        }
    }
}

/// Why teloxide could not read this update, as precisely as we can tell.
fn quarantine(raw: &str) -> UpdateContent {
    let value: serde_json::Value = serde_json::from_str(raw).unwrap_or(serde_json::Value::Null);
    let kind = value
        .as_object()
        .and_then(|o| o.keys().find(|k| k.as_str() != "update_id").cloned())
        .unwrap_or_else(|| "nothing".to_string());
    let reason = if KNOWN_KINDS.contains(&kind.as_str()) {
        let detail = value
            .get(&kind)
            .and_then(|inner| match kind.as_str() {
                "message" | "edited_message" | "channel_post" | "edited_channel_post" => {
                    serde_json::from_value::<Message>(inner.clone())
                        .err()
                        .map(|e| e.to_string())
                }
                _ => None,
            })
            .unwrap_or_else(|| "fields of the wrong type".to_string());
        format!("malformed {kind} update: {detail}")
    } else {
        format!("unsupported update type {kind:?}")
    };
    UpdateContent::Quarantined {
        reason,
        raw_json: clamp_text(raw.to_string(), MAX_QUARANTINE_JSON),
    }
}

fn content_of(update: &Update, received_at: Timestamp) -> UpdateContent {
    match &update.kind {
        UpdateKind::Message(m) | UpdateKind::ChannelPost(m) => UpdateContent::Message(message(m)),
        UpdateKind::EditedMessage(m) | UpdateKind::EditedChannelPost(m) => {
            UpdateContent::Edit(message(m))
        }
        UpdateKind::CallbackQuery(q) => UpdateContent::Interaction {
            user: user(&q.from),
            chat: q.message.as_ref().map(|m| chat(m.chat())),
            at: received_at,
        },
        UpdateKind::ChatMember(c) | UpdateKind::MyChatMember(c) => UpdateContent::Interaction {
            user: user(&c.from),
            chat: Some(chat(&c.chat)),
            at: Timestamp(c.date.timestamp()),
        },
        UpdateKind::Error(_) => UpdateContent::Ignored {
            kind: "error".into(),
        },
        other => UpdateContent::Ignored {
            kind: kind_name(other).to_string(),
        },
    }
}

fn kind_name(kind: &UpdateKind) -> &'static str {
    match kind {
        UpdateKind::InlineQuery(_) => "inline_query",
        UpdateKind::ChosenInlineResult(_) => "chosen_inline_result",
        UpdateKind::Poll(_) => "poll",
        UpdateKind::PollAnswer(_) => "poll_answer",
        UpdateKind::MessageReaction(_) => "message_reaction",
        UpdateKind::MessageReactionCount(_) => "message_reaction_count",
        UpdateKind::ChatJoinRequest(_) => "chat_join_request",
        _ => "other",
    }
}

pub fn user(u: &User) -> UserProfile {
    UserProfile {
        id: UserId(u.id.0),
        is_bot: u.is_bot,
        first_name: u.first_name.clone(),
        last_name: u.last_name.clone(),
        username: u.username.clone(),
        language_code: u.language_code.clone(),
    }
}

pub fn chat(c: &Chat) -> ChatProfile {
    let (kind, is_forum) = match &c.kind {
        TgChatKind::Private(_) => (ChatKind::Private, false),
        TgChatKind::Public(p) => match &p.kind {
            PublicChatKind::Group => (ChatKind::Group, false),
            PublicChatKind::Supergroup(s) => (ChatKind::Supergroup, s.is_forum),
            PublicChatKind::Channel(_) => (ChatKind::Channel, false),
        },
    };
    let title = match kind {
        ChatKind::Private => {
            let first = c.first_name().unwrap_or("");
            match c.last_name() {
                Some(last) => Some(format!("{first} {last}")),
                None => Some(first.to_string()),
            }
        }
        _ => c.title().map(str::to_string),
    };
    ChatProfile {
        id: ChatId(c.id.0),
        kind,
        title,
        username: c.username().map(str::to_string),
        is_forum,
    }
}

fn message(m: &Message) -> IncomingMessage {
    let (kind, text) = kind_and_text(m);
    IncomingMessage {
        chat: chat(&m.chat),
        from: m.from.as_ref().map(user),
        message_id: MessageId(m.id.0),
        date: Timestamp(m.date.timestamp()),
        edit_date: m.edit_date().map(|d| Timestamp(d.timestamp())),
        kind,
        text: clamp_text(text, MAX_STORED_TEXT_BYTES),
        reply_to: m.reply_to_message().map(|r| MessageId(r.id.0)),
        thread_id: m.thread_id.map(|t| t.0.0),
        joined: m
            .new_chat_members()
            .map(|us| us.iter().map(user).collect())
            .unwrap_or_default(),
        left: m.left_chat_member().map(user),
    }
}

fn kind_and_text(m: &Message) -> (MessageKind, String) {
    let caption = || m.caption().unwrap_or("").to_string();
    match &m.kind {
        TgMessageKind::Common(common) => match &common.media_kind {
            MediaKind::Text(t) => (MessageKind::Text, t.text.clone()),
            MediaKind::Photo(_) => (MessageKind::Photo, caption()),
            MediaKind::Video(_) => (MessageKind::Video, caption()),
            MediaKind::Animation(_) => (MessageKind::Animation, caption()),
            MediaKind::Audio(_) => (MessageKind::Audio, caption()),
            MediaKind::Voice(_) => (MessageKind::Voice, caption()),
            MediaKind::VideoNote(_) => (MessageKind::VideoNote, String::new()),
            MediaKind::Document(_) => (MessageKind::Document, caption()),
            MediaKind::Sticker(s) => (
                MessageKind::Sticker,
                s.sticker.emoji.clone().unwrap_or_default(),
            ),
            MediaKind::Location(_) | MediaKind::Venue(_) => (MessageKind::Location, String::new()),
            MediaKind::Contact(_) => (MessageKind::Contact, String::new()),
            MediaKind::Poll(p) => (MessageKind::Poll, p.poll.question.clone()),
            _ => (MessageKind::Other, caption()),
        },
        TgMessageKind::NewChatMembers(_) => (MessageKind::MembersJoined, String::new()),
        // Service messages whose words are worth keeping (and later finding).
        TgMessageKind::ForumTopicCreated(t) => {
            (MessageKind::Service, t.forum_topic_created.name.clone())
        }
        TgMessageKind::ForumTopicEdited(t) => (
            MessageKind::Service,
            t.forum_topic_edited.name.clone().unwrap_or_default(),
        ),
        TgMessageKind::NewChatTitle(t) => (MessageKind::Service, t.new_chat_title.clone()),
        TgMessageKind::LeftChatMember(_) => (MessageKind::MemberLeft, String::new()),
        TgMessageKind::Dice(d) => (
            MessageKind::Dice,
            serde_json::to_value(d.dice.emoji)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
        ),
        _ => (MessageKind::Service, String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_str(s: &str) -> Decoded {
        decode(s, Timestamp(1)).unwrap()
    }

    const GROUP_MESSAGE: &str = r#"{"update_id":10,"message":{"message_id":5,"date":1700000000,
        "chat":{"id":-1001234567890,"type":"supergroup","title":"Rust fa","is_forum":true},
        "from":{"id":42,"is_bot":false,"first_name":"Sara","username":"sara","language_code":"fa"},
        "message_thread_id":3,"is_topic_message":true,
        "text":"سلام دنیا","reply_to_message":{"message_id":4,"date":1699999999,
        "chat":{"id":-1001234567890,"type":"supergroup","title":"Rust fa","is_forum":true},"text":"hi"}}}"#;

    #[test]
    fn group_message_is_translated() {
        let d = decode_str(GROUP_MESSAGE);
        assert_eq!(d.incoming.update_id, UpdateId(10));
        let UpdateContent::Message(m) = d.incoming.content else {
            panic!("not a message")
        };
        assert_eq!(m.chat.id, ChatId(-1001234567890));
        assert_eq!(m.chat.kind, ChatKind::Supergroup);
        assert!(m.chat.is_forum);
        assert_eq!(m.from.as_ref().map(|u| u.id), Some(UserId(42)));
        assert_eq!(m.text, "سلام دنیا");
        assert_eq!(m.reply_to, Some(MessageId(4)));
        assert_eq!(m.thread_id, Some(3));
        assert!(d.update.is_some());
    }

    #[test]
    fn malformed_message_is_quarantined_verbatim() {
        let raw = r#"{"update_id":11,"message":{"message_id":"five","date":1}}"#;
        let d = decode_str(raw);
        assert_eq!(d.incoming.update_id, UpdateId(11));
        match d.incoming.content {
            UpdateContent::Quarantined { reason, raw_json } => {
                assert!(reason.contains("malformed message"), "{reason}");
                assert_eq!(raw_json, raw);
            }
            other => panic!("{other:?}"),
        }
        assert!(d.update.is_none());
    }

    #[test]
    fn unknown_kind_is_quarantined() {
        let d = decode_str(r#"{"update_id":12,"brand_new_thing":{"x":1}}"#);
        match d.incoming.content {
            UpdateContent::Quarantined { reason, .. } => {
                assert!(reason.contains("unsupported update type"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_update_id_is_an_error_not_a_panic() {
        assert!(decode(r#"{"update_id":"x"}"#, Timestamp(0)).is_err());
        assert!(decode("not json", Timestamp(0)).is_err());
        assert!(decode(r#"{"update_id":-5,"message":{}}"#, Timestamp(0)).is_err());
        // update_id readable, the rest garbage
        let d = decode(r#"{"update_id":7,"message":[1,2,3]}"#, Timestamp(0)).unwrap();
        assert!(matches!(
            d.incoming.content,
            UpdateContent::Quarantined { .. }
        ));
    }

    #[test]
    fn huge_text_is_clamped() {
        let text = "ب".repeat(200_000); // 400 KB, over the limit
        let raw = format!(
            r#"{{"update_id":1,"message":{{"message_id":1,"date":1,"chat":{{"id":5,"type":"private","first_name":"A"}},"from":{{"id":5,"is_bot":false,"first_name":"A"}},"text":"{text}"}}}}"#
        );
        let d = decode_str(&raw);
        let UpdateContent::Message(m) = d.incoming.content else {
            panic!()
        };
        assert!(m.text.len() <= MAX_STORED_TEXT_BYTES);
        assert!(m.text.chars().all(|c| c == 'ب'));
        assert_eq!(m.chat.title.as_deref(), Some("A"));
    }
}
