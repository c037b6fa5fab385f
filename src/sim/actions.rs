//! User-side actions: joins, leaves, messages, edits, topics, button presses and raw
//! updates. Each stores what Telegram would store and queues the update the bot receives.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::json::{unix_now, utf16_len};
use super::queue::{self, Meta};
use super::state::{
    Body, CallbackRec, ChatRec, MAX_TEXT_UTF16, MsgRec, Sender, State, chat_instance,
};
use super::types::{Media, NewChat, Posted, SimChatKind, SimError, UserMessage};

impl State {
    fn chat_for_user_message(&mut self, id: i64) -> Result<&mut ChatRec, SimError> {
        if !self.chats.contains_key(&id) && id > 0 && self.users.contains_key(&(id as u64)) {
            self.add_chat(NewChat {
                id: Some(id),
                kind: SimChatKind::Private,
                title: String::new(),
                username: None,
                is_forum: false,
            });
        }
        self.chats.get_mut(&id).ok_or(SimError::UnknownChat(id))
    }

    fn group_and_user(&mut self, chat: i64, user: u64) -> Result<(), SimError> {
        if !self.users.contains_key(&user) {
            return Err(SimError::UnknownUser(user));
        }
        let rec = self.chats.get(&chat).ok_or(SimError::UnknownChat(chat))?;
        match rec.chat.kind {
            SimChatKind::Group | SimChatKind::Supergroup => Ok(()),
            _ => Err(SimError::Unsupported(
                "joins and leaves are simulated in groups and supergroups only".into(),
            )),
        }
    }

    pub fn join(&mut self, chat: i64, user: u64) -> Result<Posted, SimError> {
        self.group_and_user(chat, user)?;
        let rec = self
            .chats
            .get_mut(&chat)
            .ok_or(SimError::UnknownChat(chat))?;
        if !rec.members.insert(user) {
            return Err(SimError::AlreadyMember { chat, user });
        }
        self.post_user_msg(chat, Sender::User(user), Body::Joined(user), "", None, None)
    }

    pub fn leave(&mut self, chat: i64, user: u64) -> Result<Posted, SimError> {
        self.group_and_user(chat, user)?;
        let rec = self
            .chats
            .get_mut(&chat)
            .ok_or(SimError::UnknownChat(chat))?;
        if !rec.members.remove(&user) {
            return Err(SimError::NotMember { chat, user });
        }
        self.post_user_msg(chat, Sender::User(user), Body::Left(user), "", None, None)
    }

    pub fn send(&mut self, msg: UserMessage) -> Result<Posted, SimError> {
        if msg.media.is_none() && msg.text.trim().is_empty() {
            return Err(SimError::EmptyText);
        }
        let len = utf16_len(&msg.text);
        if len > MAX_TEXT_UTF16 {
            return Err(SimError::TooLong(len));
        }
        let kind = self.chat_for_user_message(msg.chat_id)?.chat.kind;
        let sender = if kind == SimChatKind::Channel {
            Sender::Channel
        } else {
            if !self.users.contains_key(&msg.user_id) {
                return Err(SimError::UnknownUser(msg.user_id));
            }
            if kind == SimChatKind::Private && msg.chat_id != msg.user_id as i64 {
                return Err(SimError::Unsupported(
                    "only its user writes in a private chat with the bot".into(),
                ));
            }
            Sender::User(msg.user_id)
        };
        let file = msg.media.map(|m| (m, self.next_file_seq()));
        let rec = self.chat_for_user_message(msg.chat_id)?;
        if let Sender::User(u) = sender {
            if rec.chat.kind != SimChatKind::Private {
                rec.members.insert(u);
            }
        }
        let mut thread_id = msg.thread_id;
        if thread_id.is_some() && !rec.chat.is_forum {
            return Err(SimError::NotAForum(msg.chat_id));
        }
        if let Some(r) = msg.reply_to {
            let target_thread = match (rec.user_msg(r), rec.bot_msg(r)) {
                (Some(m), _) => m.thread_id,
                (None, Some(b)) => b.msg.thread_id,
                (None, None) => {
                    return Err(SimError::MessageNotFound {
                        chat_id: msg.chat_id,
                        message_id: r,
                    });
                }
            };
            if rec.chat.is_forum && thread_id.is_none() {
                thread_id = target_thread;
            }
        }
        let body = match file {
            Some((m, seq)) => Body::Media(m, seq),
            None => Body::Text,
        };
        // What the update will carry as text: a sticker has only its emoji.
        let text = match msg.media {
            Some(Media::Sticker) => super::json::sticker_emoji(&msg.text),
            _ => msg.text.as_str(),
        };
        self.post_user_msg(msg.chat_id, sender, body, text, msg.reply_to, thread_id)
    }

    pub fn create_topic(&mut self, chat: i64, user: u64, name: String) -> Result<Posted, SimError> {
        if !self.users.contains_key(&user) {
            return Err(SimError::UnknownUser(user));
        }
        let rec = self
            .chats
            .get_mut(&chat)
            .ok_or(SimError::UnknownChat(chat))?;
        if !rec.chat.is_forum {
            return Err(SimError::NotAForum(chat));
        }
        let thread = rec.next_mid;
        self.post_user_msg(
            chat,
            Sender::User(user),
            Body::TopicCreated,
            &name,
            None,
            Some(thread),
        )
    }

    /// Stores a new user-side message and queues its update.
    fn post_user_msg(
        &mut self,
        chat: i64,
        sender: Sender,
        body: Body,
        text: &str,
        reply_to: Option<i32>,
        thread_id: Option<i32>,
    ) -> Result<Posted, SimError> {
        let rec = self
            .chats
            .get_mut(&chat)
            .ok_or(SimError::UnknownChat(chat))?;
        let kind = if rec.chat.kind == SimChatKind::Channel {
            queue::CHANNEL_POST
        } else {
            queue::MESSAGE
        };
        let id = rec.alloc_mid();
        let text: Arc<str> = Arc::from(text);
        rec.remember(MsgRec {
            id,
            date: unix_now(),
            sender,
            text: text.clone(),
            body,
            thread_id,
            reply_to,
            edit_date: None,
            deleted: false,
        });
        self.queue_user_msg(chat, id, kind, (!text.is_empty()).then_some(text))
    }

    fn queue_user_msg(
        &mut self,
        chat: i64,
        id: i32,
        kind: u16,
        text: Option<Arc<str>>,
    ) -> Result<Posted, SimError> {
        let rec = self.chats.get(&chat).ok_or(SimError::UnknownChat(chat))?;
        let m = rec.user_msg(id).ok_or(SimError::MessageNotFound {
            chat_id: chat,
            message_id: id,
        })?;
        let body = self.render_user(rec, m, true);
        let meta = Meta {
            kind,
            message_id: id,
            chat_id: chat,
            text,
        };
        let update_id = self.queue.push_object(kind, &body, meta);
        Ok(Posted {
            update_id,
            message_id: Some(id),
        })
    }

    pub fn edit(
        &mut self,
        chat: i64,
        message_id: i32,
        new_text: String,
    ) -> Result<Posted, SimError> {
        let not_found = SimError::MessageNotFound {
            chat_id: chat,
            message_id,
        };
        let len = utf16_len(&new_text);
        if len > MAX_TEXT_UTF16 {
            return Err(SimError::TooLong(len));
        }
        let rec = self
            .chats
            .get_mut(&chat)
            .ok_or(SimError::UnknownChat(chat))?;
        let kind = if rec.chat.kind == SimChatKind::Channel {
            queue::EDITED_CHANNEL_POST
        } else {
            queue::EDITED_MESSAGE
        };
        let m = rec.user_msg_mut(message_id).ok_or(not_found.clone())?;
        match m.body {
            Body::Text if new_text.trim().is_empty() => return Err(SimError::EmptyText),
            // Like Telegram: "there is no caption in the message to edit".
            Body::Media(Media::Sticker, _) => {
                return Err(SimError::Unsupported(
                    "a sticker has no text or caption to edit".into(),
                ));
            }
            Body::Text | Body::Media(..) => {}
            _ => return Err(not_found),
        }
        m.text = Arc::from(new_text);
        m.edit_date = Some(unix_now().max(m.date));
        let text = (!m.text.is_empty()).then(|| m.text.clone());
        self.queue_user_msg(chat, message_id, kind, text)
    }

    pub fn press_button(
        &mut self,
        chat: i64,
        bot_message_id: i32,
        user: u64,
        data: String,
    ) -> Result<Posted, SimError> {
        let from = self
            .users
            .get(&user)
            .ok_or(SimError::UnknownUser(user))?
            .json
            .clone();
        let rec = self.chats.get(&chat).ok_or(SimError::UnknownChat(chat))?;
        let b = rec
            .bot_msg(bot_message_id)
            .ok_or(SimError::MessageNotFound {
                chat_id: chat,
                message_id: bot_message_id,
            })?;
        let message = self.render_bot(rec, b, true);
        let seq = self.callback_seq;
        self.callback_seq += 1;
        let id = format!("{}{:07}", user % 1_000_000_000, seq);
        let body = json!({
            "id": id,
            "from": from,
            "message": message,
            "chat_instance": chat_instance(chat),
            "data": data,
        });
        let meta = Meta {
            kind: queue::CALLBACK_QUERY,
            message_id: bot_message_id,
            chat_id: chat,
            text: Some(Arc::from(data.as_str())),
        };
        self.callbacks.insert(
            id,
            CallbackRec {
                chat_id: chat,
                message_id: bot_message_id,
                user_id: user,
                data,
                answered: false,
            },
        );
        let update_id = self.queue.push_object(queue::CALLBACK_QUERY, &body, meta);
        Ok(Posted {
            update_id,
            message_id: Some(bot_message_id),
        })
    }

    pub fn inject_raw(&mut self, value: Value) -> u32 {
        let mut obj = match value {
            Value::Object(m) => m,
            other => {
                let mut m = Map::new();
                m.insert("unknown_update".into(), other);
                m
            }
        };
        obj.remove("update_id");
        let name = obj
            .keys()
            .find(|k| queue::UPDATE_TYPES.contains(&k.as_str()))
            .or_else(|| obj.keys().next())
            .cloned()
            .unwrap_or_else(|| "raw".to_owned());
        let kind = self.queue.kind_of(&name);
        let inner = obj.get(&name);
        let msg = inner.and_then(|v| v.get("message")).or(inner);
        let field = |k: &str| msg.and_then(|m| m.get(k));
        let meta = Meta {
            kind,
            message_id: field("message_id")
                .and_then(Value::as_i64)
                .and_then(|v| i32::try_from(v).ok())
                .unwrap_or(0),
            chat_id: field("chat")
                .and_then(|c| c.get("id"))
                .and_then(Value::as_i64)
                .unwrap_or(0),
            text: inner
                .and_then(|v| v.get("data"))
                .or_else(|| field("text"))
                .or_else(|| field("caption"))
                .and_then(Value::as_str)
                .map(Arc::from),
        };
        let id = self.queue.next_id();
        obj.insert("update_id".into(), json!(id));
        self.queue.push(id, Value::Object(obj).to_string(), meta);
        id
    }

    pub fn inject_raw_text(&mut self, raw: String) -> u32 {
        let id = self.queue.next_id();
        let json = raw.replace("{update_id}", &id.to_string());
        let meta = Meta {
            kind: queue::RAW_TEXT,
            message_id: 0,
            chat_id: 0,
            text: None,
        };
        self.queue.push(id, json, meta);
        id
    }
}
