//! The simulator's state and the user-side actions that produce updates.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::SimConfig;
use super::faults::Faults;
use super::json;
use super::queue::UpdateQueue;
use super::types::{
    BotMessage, CallbackAnswer, Delivered, Media, NewChat, NewUser, SimChat, SimChatKind, SimStats,
    SimUser,
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

    pub fn remember(&mut self, m: MsgRec) {
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
    pub callback_seq: u64,
    pub callbacks: HashMap<String, CallbackRec>,
    pub answers: Vec<CallbackAnswer>,
    /// Commands by "scope|language".
    pub commands: BTreeMap<String, Vec<(String, String)>>,
    pub queue: UpdateQueue,
    pub faults: Faults,
    pub webhook: Option<WebhookConf>,
    pub counters: Counters,
    /// Flood control and the send log.
    pub flood: super::flood::Flood,
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
            flood: super::flood::Flood::default(),
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
            flood_429s: self.flood.flood_429s,
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
