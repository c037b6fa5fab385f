//! Rendering stored messages as official Bot API `Message` objects.

use serde_json::{Map, Value, json};

use super::json;
use super::state::{Body, BotRec, ChatRec, MsgRec, Sender, State};
use super::types::{BotMessageKind, SimChatKind};

/// The `icon_color` Telegram gives topics created without one (0x6FB9F0).
const TOPIC_ICON_COLOR: u32 = 7_322_096;

impl State {
    fn common(
        &self,
        chat: &ChatRec,
        id: i32,
        date: i64,
        thread_id: Option<i32>,
    ) -> Map<String, Value> {
        let mut o = Map::new();
        o.insert("message_id".into(), json!(id));
        o.insert("date".into(), json!(date));
        o.insert("chat".into(), chat.json.clone());
        if let Some(t) = thread_id {
            o.insert("message_thread_id".into(), json!(t));
            if chat.chat.is_forum {
                o.insert("is_topic_message".into(), json!(true));
            }
        }
        o
    }

    fn user_json(&self, id: u64) -> Value {
        self.users.get(&id).map(|r| r.json.clone()).unwrap_or_else(
            || json!({ "id": id, "is_bot": false, "first_name": "Deleted Account" }),
        )
    }

    /// A user-side message. `with_reply` adds `reply_to_message` (nested messages carry none).
    pub(crate) fn render_user(&self, chat: &ChatRec, m: &MsgRec, with_reply: bool) -> Value {
        let mut o = self.common(chat, m.id, m.date, m.thread_id);
        match m.sender {
            Sender::User(u) => {
                o.insert("from".into(), self.user_json(u));
            }
            Sender::Channel => {
                o.insert("sender_chat".into(), chat.json.clone());
            }
        }
        if let Some(e) = m.edit_date {
            o.insert("edit_date".into(), json!(e));
        }
        match &m.body {
            Body::Text => json::insert_text(&mut o, &m.text, &self.bot_username),
            Body::Media(kind, seq) => {
                json::insert_media(&mut o, *kind, *seq, &m.text, &self.bot_username);
            }
            Body::Joined(u) => {
                let user = self.user_json(*u);
                o.insert("new_chat_participant".into(), user.clone());
                o.insert("new_chat_member".into(), user.clone());
                o.insert("new_chat_members".into(), json!([user]));
            }
            Body::Left(u) => {
                let user = self.user_json(*u);
                o.insert("left_chat_participant".into(), user.clone());
                o.insert("left_chat_member".into(), user);
            }
            Body::TopicCreated => {
                o.insert(
                    "forum_topic_created".into(),
                    json!({ "name": &*m.text, "icon_color": TOPIC_ICON_COLOR }),
                );
            }
        }
        if with_reply {
            if let Some(r) = self.reply_json(chat, m.reply_to, m.thread_id, m.id) {
                o.insert("reply_to_message".into(), r);
            }
        }
        Value::Object(o)
    }

    /// A message the bot sent, in its current state.
    pub(crate) fn render_bot(&self, chat: &ChatRec, b: &BotRec, with_reply: bool) -> Value {
        let msg = &b.msg;
        let mut o = self.common(chat, msg.message_id, msg.date, msg.thread_id);
        if chat.chat.kind == SimChatKind::Channel {
            // Posts in channels are sent on behalf of the channel.
            o.insert("sender_chat".into(), chat.json.clone());
        } else {
            o.insert("from".into(), self.bot_json.clone());
        }
        if let Some(e) = b.edit_date {
            o.insert("edit_date".into(), json!(e));
        }
        match msg.kind {
            BotMessageKind::Text => json::insert_text(&mut o, &b.visible, &self.bot_username),
            BotMessageKind::Photo | BotMessageKind::Document => {
                if msg.kind == BotMessageKind::Photo {
                    o.insert("photo".into(), json::photo_sizes(b.file_seq));
                } else {
                    let name = b.file_name.as_deref().unwrap_or("document");
                    let doc =
                        json::document_json(b.file_seq, name, json::mime_for(name), b.file_size);
                    o.insert("document".into(), doc);
                }
                if !b.visible.is_empty() {
                    o.insert("caption".into(), json!(b.visible));
                    let ents = json::entities(&b.visible, &self.bot_username);
                    if !ents.is_empty() {
                        o.insert("caption_entities".into(), Value::Array(ents));
                    }
                }
            }
        }
        if let Some(markup) = &msg.reply_markup {
            if markup.get("inline_keyboard").is_some() {
                o.insert("reply_markup".into(), markup.clone());
            }
        }
        if with_reply {
            if let Some(r) = self.reply_json(chat, msg.reply_to, msg.thread_id, msg.message_id) {
                o.insert("reply_to_message".into(), r);
            }
        }
        Value::Object(o)
    }

    /// The `reply_to_message` of a message: the replied message or, in a forum topic, the
    /// topic's creation message (Telegram makes every topic message a reply to it).
    fn reply_json(
        &self,
        chat: &ChatRec,
        reply_to: Option<i32>,
        thread_id: Option<i32>,
        own_id: i32,
    ) -> Option<Value> {
        let topic_root = thread_id.filter(|t| chat.chat.is_forum && *t != own_id);
        let target = reply_to.or(topic_root)?;
        if let Some(m) = chat.user_msg(target) {
            return Some(self.render_user(chat, m, false));
        }
        if let Some(b) = chat.bot_msg(target) {
            return Some(self.render_bot(chat, b, false));
        }
        // A topic whose creation message the simulator never saw: synthesize it.
        let t = topic_root.filter(|t| *t == target)?;
        let mut o = self.common(chat, t, 0, Some(t));
        o.insert("date".into(), json!(1_700_000_000));
        o.insert("from".into(), self.bot_json.clone());
        o.insert(
            "forum_topic_created".into(),
            json!({ "name": format!("Topic {t}"), "icon_color": TOPIC_ICON_COLOR }),
        );
        Some(Value::Object(o))
    }
}
