//! The simulator's state and the user-side actions that produce updates.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;

use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;

use super::SimConfig;
use super::faults::Faults;
use super::json::{self, unix_now, utf16_len};
use super::queue::{self, Meta, UpdateQueue};
use super::types::{
    BotMessage, CallbackAnswer, Delivered, Media, NewChat, NewUser, Posted, SimChat, SimChatKind,
    SimError, SimStats, SimUser, UserMessage,
};

/// How many user messages per chat are kept for replies, edits and deletions.
pub(crate) const RECENT_PER_CHAT: usize = 20_000;
pub(crate) const MAX_TEXT_UTF16: usize = 4096;

pub(crate) struct UserRec {
    pub user: SimUser,
    pub json: Value,
}

pub(crate) enum Sender {
    User(u64),
    /// A channel post: `sender_chat` is the channel.
    Channel,
}

pub(crate) enum Body {
    Text,
    Media(Media, u64),
    Joined(u64),
    Left(u64),
    /// `text` holds the topic name.
    TopicCreated,
}

/// A message of a user (or channel, or a service message) kept for replies and edits.
pub(crate) struct MsgRec {
    pub id: i32,
    pub date: i64,
    pub sender: Sender,
    pub text: Arc<str>,
    pub body: Body,
    pub thread_id: Option<i32>,
    pub reply_to: Option<i32>,
    pub edit_date: Option<i64>,
    pub deleted: bool,
}

/// A message the bot sent.
pub(crate) struct BotRec {
    pub msg: BotMessage,
    /// The text as displayed (HTML markup stripped).
    pub visible: String,
    pub file_seq: u64,
    pub file_name: Option<String>,
    pub file_size: Option<u64>,
    pub edit_date: Option<i64>,
}

pub(crate) struct ChatRec {
    pub chat: SimChat,
    pub json: Value,
    pub next_mid: i32,
    pub members: HashSet<u64>,
    pub msgs: VecDeque<MsgRec>,
    pub bot: Vec<BotRec>,
}

impl ChatRec {
    pub fn alloc_mid(&mut self) -> i32 {
        let id = self.next_mid;
        self.next_mid += 1;
        id
    }

    pub fn user_msg(&self, id: i32) -> Option<&MsgRec> {
        let i = self.msgs.binary_search_by_key(&id, |m| m.id).ok()?;
        self.msgs.get(i).filter(|m| !m.deleted)
    }

    pub fn user_msg_mut(&mut self, id: i32) -> Option<&mut MsgRec> {
        let i = self.msgs.binary_search_by_key(&id, |m| m.id).ok()?;
        self.msgs.get_mut(i).filter(|m| !m.deleted)
    }

    pub fn bot_msg(&self, id: i32) -> Option<&BotRec> {
        let i = self
            .bot
            .binary_search_by_key(&id, |b| b.msg.message_id)
            .ok()?;
        self.bot.get(i).filter(|b| !b.msg.deleted)
    }

    pub fn bot_msg_mut(&mut self, id: i32) -> Option<&mut BotRec> {
        let i = self
            .bot
            .binary_search_by_key(&id, |b| b.msg.message_id)
            .ok()?;
        self.bot.get_mut(i).filter(|b| !b.msg.deleted)
    }

    fn remember(&mut self, m: MsgRec) {
        self.msgs.push_back(m);
        if self.msgs.len() > RECENT_PER_CHAT {
            self.msgs.pop_front();
        }
    }
}

pub(crate) struct CallbackRec {
    pub chat_id: i64,
    pub message_id: i32,
    pub user_id: u64,
    pub data: String,
    pub answered: bool,
}

pub(crate) struct WebhookConf {
    pub url: String,
    pub max_connections: u32,
    pub allowed_updates: Option<Vec<String>>,
    pub cancel: CancellationToken,
    pub last_error: Option<(i64, String)>,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub bot_sends: BTreeMap<&'static str, u64>,
    pub api_calls: u64,
    pub get_updates_calls: u64,
    pub faults_injected: u64,
    pub webhook_deliveries: u64,
    pub webhook_failures: u64,
}

pub(crate) struct State {
    pub bot_username: String,
    pub bot_json: Value,
    pub users: HashMap<u64, UserRec>,
    pub chats: HashMap<i64, ChatRec>,
    chat_order: Vec<i64>,
    user_order: Vec<u64>,
    /// Lower-case public usernames of chats, for `chat_id` = "@name".
    pub usernames: HashMap<String, i64>,
    next_user_id: u64,
    next_chat_seq: i64,
    pub file_seq: u64,
    callback_seq: u64,
    pub callbacks: HashMap<String, CallbackRec>,
    pub answers: Vec<CallbackAnswer>,
    /// Commands by "scope|language".
    pub commands: BTreeMap<String, Vec<(String, String)>>,
    pub queue: UpdateQueue,
    pub faults: Faults,
    pub webhook: Option<WebhookConf>,
    pub counters: Counters,
    /// Incremented by every getUpdates; a waiting poll that sees it change was superseded.
    pub poll_gen: u64,
}

impl State {
    pub fn new(bot_id: u64, config: &SimConfig) -> State {
        State {
            bot_username: config.bot_username.clone(),
            bot_json: json::bot_user_json(bot_id, &config.bot_first_name, &config.bot_username),
            users: HashMap::new(),
            chats: HashMap::new(),
            chat_order: Vec::new(),
            user_order: Vec::new(),
            usernames: HashMap::new(),
            next_user_id: 1_000_000_001,
            next_chat_seq: 1,
            file_seq: 1,
            callback_seq: 1,
            callbacks: HashMap::new(),
            answers: Vec::new(),
            commands: BTreeMap::new(),
            queue: UpdateQueue::new(),
            faults: Faults::default(),
            webhook: None,
            counters: Counters::default(),
            poll_gen: 0,
        }
    }

    pub fn next_file_seq(&mut self) -> u64 {
        self.file_seq += 1;
        self.file_seq
    }

    pub fn add_user(&mut self, u: NewUser) -> SimUser {
        let id = match u.id {
            Some(id) => id,
            None => {
                while self.users.contains_key(&self.next_user_id) {
                    self.next_user_id += 1;
                }
                self.next_user_id
            }
        };
        let user = SimUser {
            id,
            first_name: u.first_name,
            last_name: u.last_name,
            username: u.username,
            language_code: u.language_code,
        };
        let rec = UserRec {
            json: json::user_json(&user),
            user: user.clone(),
        };
        if self.users.insert(id, rec).is_none() {
            self.user_order.push(id);
        }
        // Keep an existing private chat's names in sync.
        if let Some(chat) = self.chats.get_mut(&(id as i64)) {
            chat.chat.title = user.first_name.clone();
            chat.chat.username = user.username.clone();
            chat.json = json::chat_json(&chat.chat, Some(&user));
        }
        user
    }

    pub fn add_chat(&mut self, c: NewChat) -> SimChat {
        let chat = match c.kind {
            SimChatKind::Private => {
                let user = match c.id.and_then(|id| self.users.get(&(id as u64))) {
                    Some(rec) => rec.user.clone(),
                    None => self.add_user(NewUser {
                        id: c.id.map(|id| id as u64),
                        first_name: if c.title.is_empty() {
                            "User".into()
                        } else {
                            c.title
                        },
                        ..NewUser::default()
                    }),
                };
                SimChat {
                    id: user.id as i64,
                    kind: SimChatKind::Private,
                    title: user.first_name,
                    username: user.username,
                    is_forum: false,
                }
            }
            kind => {
                let id = c.id.unwrap_or_else(|| {
                    let seq = self.next_chat_seq;
                    self.next_chat_seq += 1;
                    match kind {
                        SimChatKind::Group => -(4_100_000_000 + seq),
                        _ => -(1_000_000_000_000 + 2_100_000_000 + seq),
                    }
                });
                SimChat {
                    id,
                    kind,
                    title: c.title,
                    username: c.username,
                    is_forum: c.is_forum && kind == SimChatKind::Supergroup,
                }
            }
        };
        self.insert_chat(chat.clone());
        chat
    }

    fn insert_chat(&mut self, chat: SimChat) {
        let private_user = (chat.kind == SimChatKind::Private)
            .then(|| self.users.get(&(chat.id as u64)).map(|r| &r.user))
            .flatten();
        let chat_json = json::chat_json(&chat, private_user);
        if let Some(name) = &chat.username {
            if chat.kind != SimChatKind::Private {
                self.usernames.insert(name.to_ascii_lowercase(), chat.id);
            }
        }
        match self.chats.get_mut(&chat.id) {
            Some(rec) => {
                rec.chat = chat;
                rec.json = chat_json;
            }
            None => {
                self.chat_order.push(chat.id);
                self.chats.insert(
                    chat.id,
                    ChatRec {
                        chat,
                        json: chat_json,
                        next_mid: 1,
                        members: HashSet::new(),
                        msgs: VecDeque::new(),
                        bot: Vec::new(),
                    },
                );
            }
        }
    }

    /// The chat `id`, creating the private chat of a known user on first contact.
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
        let is_channel = {
            let rec = self.chat_for_user_message(msg.chat_id)?;
            rec.chat.kind == SimChatKind::Channel
        };
        let sender = if is_channel {
            Sender::Channel
        } else {
            if !self.users.contains_key(&msg.user_id) {
                return Err(SimError::UnknownUser(msg.user_id));
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
        self.post_user_msg(
            msg.chat_id,
            sender,
            body,
            &msg.text,
            msg.reply_to,
            thread_id,
        )
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

    pub fn sent_to(&self, chat: i64) -> Vec<BotMessage> {
        self.chats
            .get(&chat)
            .map(|c| c.bot.iter().map(|b| b.msg.clone()).collect())
            .unwrap_or_default()
    }

    pub fn callback_answers(&self) -> Vec<CallbackAnswer> {
        self.answers.clone()
    }

    pub fn delivery_log(&self, start: usize, limit: usize) -> Vec<Delivered> {
        self.queue.delivered(start, limit)
    }

    pub fn stats(&self) -> SimStats {
        let c = &self.counters;
        SimStats {
            queued: self.queue.len() as u64,
            confirmed: self.queue.confirmed() as u64,
            produced: self.queue.produced,
            filtered: self.queue.filtered,
            dropped: self.queue.dropped,
            bot_sends: c
                .bot_sends
                .iter()
                .map(|(k, v)| ((*k).to_owned(), *v))
                .collect(),
            api_calls: c.api_calls,
            get_updates_calls: c.get_updates_calls,
            faults_injected: c.faults_injected,
            webhook_deliveries: c.webhook_deliveries,
            webhook_failures: c.webhook_failures,
        }
    }

    pub fn commands(&self) -> Vec<(String, String)> {
        self.commands
            .get(DEFAULT_COMMANDS_KEY)
            .cloned()
            .unwrap_or_default()
    }

    pub fn users(&self) -> Vec<SimUser> {
        let users = self.user_order.iter().filter_map(|id| self.users.get(id));
        users.map(|r| r.user.clone()).collect()
    }

    pub fn chats(&self) -> Vec<SimChat> {
        let chats = self.chat_order.iter().filter_map(|id| self.chats.get(id));
        chats.map(|r| r.chat.clone()).collect()
    }
}

pub(crate) const DEFAULT_COMMANDS_KEY: &str = "default|";

/// A stable per-chat `chat_instance` string.
pub(crate) fn chat_instance(chat: i64) -> String {
    let h = (chat as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 1;
    format!("-{h}")
}
