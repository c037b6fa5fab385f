//! Bot API methods that act on chats and messages: sending, editing, deleting, callback
//! answers, commands and `getChat`.

use serde_json::{Value, json};

use super::bot_api::ApiError;
use super::json::{self, unix_now, utf16_len, visible_text};
use super::params::Params;
use super::state::{BotRec, MAX_TEXT_UTF16, State};
use super::types::{BotMessage, BotMessageKind, CallbackAnswer, SimChatKind};

const MAX_CAPTION_UTF16: usize = 1024;
const NOT_MODIFIED: &str = "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message";

/// Button fields that make an inline keyboard button valid besides `callback_data`.
const BUTTON_ACTIONS: [&str; 9] = [
    "url",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "callback_game",
    "pay",
    "web_app",
    "copy_text",
];

impl State {
    /// Runs a synchronous Bot API method.
    pub(crate) fn bot_call(&mut self, method: &str, p: &Params) -> Result<Value, ApiError> {
        match method {
            "sendMessage" => self.send_message(p),
            "editMessageText" => self.edit_message_text(p),
            "editMessageReplyMarkup" => self.edit_reply_markup(p),
            "answerCallbackQuery" => self.answer_callback(p),
            "deleteMessage" => self.delete_message(p),
            "sendPhoto" => self.send_file(p, BotMessageKind::Photo),
            "sendDocument" => self.send_file(p, BotMessageKind::Document),
            "setMyCommands" => self.set_commands(p),
            "getMyCommands" => Ok(self.get_commands(p)),
            "deleteMyCommands" => {
                let key = commands_key(p);
                self.commands.remove(&key);
                Ok(json!(true))
            }
            "getChat" => {
                let id = self.resolve_chat(p)?;
                let chat = &self.chats[&id].chat;
                let user = (chat.kind == SimChatKind::Private)
                    .then(|| self.users.get(&(id as u64)).map(|u| &u.user))
                    .flatten();
                Ok(json::chat_full_info_json(chat, user))
            }
            "sendChatAction" => self.resolve_chat(p).map(|_| json!(true)),
            _ => Err(ApiError::new(404, "Not Found: method not found")),
        }
    }

    /// The chat of `chat_id` (a number or "@username"), which must exist.
    fn resolve_chat(&self, p: &Params) -> Result<i64, ApiError> {
        let id = match p.map.get("chat_id") {
            Some(Value::String(s)) if s.starts_with('@') => self
                .usernames
                .get(&s[1..].to_ascii_lowercase())
                .copied()
                .ok_or_else(|| ApiError::bad("chat not found"))?,
            _ => p
                .i64("chat_id")?
                .ok_or_else(|| ApiError::bad("chat_id is empty"))?,
        };
        if self.chats.contains_key(&id) {
            Ok(id)
        } else if id > 0 && self.users.contains_key(&(id as u64)) {
            Err(ApiError::forbidden(
                "bot can't initiate conversation with a user",
            ))
        } else {
            Err(ApiError::bad("chat not found"))
        }
    }

    fn message_id(p: &Params) -> Result<i32, ApiError> {
        let id = p
            .i64("message_id")?
            .ok_or_else(|| ApiError::bad("message identifier is not specified"))?;
        i32::try_from(id).map_err(|_| ApiError::bad("MESSAGE_ID_INVALID"))
    }

    /// The validated `reply_markup`, if any.
    fn markup(p: &Params) -> Result<Option<Value>, ApiError> {
        let Some(m) = p.json("reply_markup")? else {
            return Ok(None);
        };
        if !m.is_object() {
            return Err(ApiError::bad(
                "can't parse reply keyboard markup JSON object",
            ));
        }
        if let Some(kb) = m.get("inline_keyboard") {
            let rows = kb.as_array().ok_or_else(|| {
                ApiError::bad(
                    "field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array",
                )
            })?;
            for row in rows {
                let buttons = row.as_array().ok_or_else(|| {
                    ApiError::bad("field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array of Arrays")
                })?;
                for b in buttons {
                    validate_button(b)?;
                }
            }
        }
        Ok(Some(m))
    }

    /// `reply_parameters.message_id` or `reply_to_message_id`, checked against the chat.
    fn reply_target(&self, chat: i64, p: &Params) -> Result<Option<i32>, ApiError> {
        let (id, allow_missing) = match p.json("reply_parameters")? {
            Some(rp) => (
                rp.get("message_id").and_then(Value::as_i64),
                rp.get("allow_sending_without_reply")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            ),
            None => (
                p.i64("reply_to_message_id")?,
                p.bool("allow_sending_without_reply"),
            ),
        };
        let Some(id) = id.and_then(|i| i32::try_from(i).ok()) else {
            return Ok(None);
        };
        let rec = &self.chats[&chat];
        if rec.user_msg(id).is_some() || rec.bot_msg(id).is_some() {
            Ok(Some(id))
        } else if allow_missing {
            Ok(None)
        } else {
            Err(ApiError::bad("message to be replied not found"))
        }
    }

    fn thread_of(
        &self,
        chat: i64,
        p: &Params,
        reply_to: Option<i32>,
    ) -> Result<Option<i32>, ApiError> {
        let rec = &self.chats[&chat];
        let given = p
            .i64("message_thread_id")?
            .and_then(|t| i32::try_from(t).ok());
        if given.is_some() && rec.chat.kind != SimChatKind::Supergroup {
            return Err(ApiError::bad("message thread not found"));
        }
        if given.is_some() || !rec.chat.is_forum {
            return Ok(given);
        }
        // A reply in a forum lands in the replied message's topic.
        Ok(reply_to.and_then(|r| {
            rec.user_msg(r)
                .map(|m| m.thread_id)
                .or_else(|| rec.bot_msg(r).map(|b| b.msg.thread_id))
                .flatten()
        }))
    }

    fn store_bot_message(&mut self, chat: i64, mut rec: BotRec) -> Value {
        let Some(c) = self.chats.get_mut(&chat) else {
            return Value::Null;
        };
        rec.msg.message_id = c.alloc_mid();
        c.bot.push(rec);
        let c = &self.chats[&chat];
        match c.bot.last() {
            Some(b) => self.render_bot(c, b, true),
            None => Value::Null,
        }
    }

    fn send_message(&mut self, p: &Params) -> Result<Value, ApiError> {
        let chat = self.resolve_chat(p)?;
        let text = p.str("text").unwrap_or_default();
        let parse_mode = p.str("parse_mode").filter(|s| !s.is_empty());
        let visible = visible_text(&text, parse_mode.as_deref());
        if visible.trim().is_empty() {
            return Err(ApiError::bad("message text is empty"));
        }
        if utf16_len(&visible) > MAX_TEXT_UTF16 {
            return Err(ApiError::bad("message is too long"));
        }
        let reply_markup = Self::markup(p)?;
        let reply_to = self.reply_target(chat, p)?;
        let thread_id = self.thread_of(chat, p, reply_to)?;
        let rec = BotRec {
            msg: BotMessage {
                chat_id: chat,
                message_id: 0,
                kind: BotMessageKind::Text,
                text,
                parse_mode,
                reply_markup,
                reply_to,
                thread_id,
                edited: false,
                deleted: false,
                date: unix_now(),
            },
            visible,
            file_seq: 0,
            file_name: None,
            file_size: None,
            edit_date: None,
        };
        Ok(self.store_bot_message(chat, rec))
    }

    fn send_file(&mut self, p: &Params, kind: BotMessageKind) -> Result<Value, ApiError> {
        let chat = self.resolve_chat(p)?;
        let field = if kind == BotMessageKind::Photo {
            "photo"
        } else {
            "document"
        };
        let (file_name, file_size) = match (p.files.get(field), p.str(field)) {
            (Some(f), _) => (f.file_name.clone(), Some(f.len as u64)),
            (None, Some(s)) if s.starts_with("attach://") => {
                let f = p
                    .files
                    .get(&s["attach://".len()..])
                    .ok_or_else(|| ApiError::bad("wrong HTTP URL specified"))?;
                (f.file_name.clone(), Some(f.len as u64))
            }
            (None, Some(s)) if !s.is_empty() => {
                let name = s.rsplit('/').next().filter(|n| n.contains('.'));
                (name.map(str::to_owned), None)
            }
            _ => {
                return Err(ApiError::bad(&format!(
                    "there is no {field} in the request"
                )));
            }
        };
        let caption = p.str("caption").unwrap_or_default();
        let parse_mode = p.str("parse_mode").filter(|s| !s.is_empty());
        let visible = visible_text(&caption, parse_mode.as_deref());
        if utf16_len(&visible) > MAX_CAPTION_UTF16 {
            return Err(ApiError::bad("message caption is too long"));
        }
        let reply_markup = Self::markup(p)?;
        let reply_to = self.reply_target(chat, p)?;
        let thread_id = self.thread_of(chat, p, reply_to)?;
        let file_seq = self.next_file_seq();
        let rec = BotRec {
            msg: BotMessage {
                chat_id: chat,
                message_id: 0,
                kind,
                text: caption,
                parse_mode,
                reply_markup,
                reply_to,
                thread_id,
                edited: false,
                deleted: false,
                date: unix_now(),
            },
            visible,
            file_seq,
            file_name: file_name.filter(|n| !n.is_empty()),
            file_size,
            edit_date: None,
        };
        Ok(self.store_bot_message(chat, rec))
    }

    /// The bot's own message `message_id` in the chat of `p`, for editing.
    fn editable(&mut self, p: &Params) -> Result<(i64, i32), ApiError> {
        if p.has("inline_message_id") {
            return Err(ApiError::bad("MESSAGE_ID_INVALID"));
        }
        let chat = self.resolve_chat(p)?;
        let id = Self::message_id(p)?;
        let rec = &self.chats[&chat];
        if rec.bot_msg(id).is_some() {
            Ok((chat, id))
        } else if rec.user_msg(id).is_some() {
            Err(ApiError::bad("message can't be edited"))
        } else {
            Err(ApiError::bad("message to edit not found"))
        }
    }

    fn render_edited(&self, chat: i64, id: i32) -> Value {
        let c = &self.chats[&chat];
        c.bot_msg(id)
            .map(|b| self.render_bot(c, b, true))
            .unwrap_or(Value::Null)
    }

    fn edit_message_text(&mut self, p: &Params) -> Result<Value, ApiError> {
        let text = p.str("text").unwrap_or_default();
        let parse_mode = p.str("parse_mode").filter(|s| !s.is_empty());
        let visible = visible_text(&text, parse_mode.as_deref());
        if visible.trim().is_empty() {
            return Err(ApiError::bad("message text is empty"));
        }
        if utf16_len(&visible) > MAX_TEXT_UTF16 {
            return Err(ApiError::bad("MESSAGE_TOO_LONG"));
        }
        let reply_markup = Self::markup(p)?;
        let (chat, id) = self.editable(p)?;
        let Some(b) = self.chats.get_mut(&chat).and_then(|c| c.bot_msg_mut(id)) else {
            return Err(ApiError::bad("message to edit not found"));
        };
        if b.msg.kind != BotMessageKind::Text {
            return Err(ApiError::bad("there is no text in the message to edit"));
        }
        if b.msg.text == text
            && b.msg.parse_mode == parse_mode
            && b.msg.reply_markup == reply_markup
        {
            return Err(ApiError::bad(NOT_MODIFIED));
        }
        b.msg.text = text;
        b.msg.parse_mode = parse_mode;
        b.msg.reply_markup = reply_markup;
        b.msg.edited = true;
        b.visible = visible;
        b.edit_date = Some(unix_now());
        Ok(self.render_edited(chat, id))
    }

    fn edit_reply_markup(&mut self, p: &Params) -> Result<Value, ApiError> {
        let reply_markup = Self::markup(p)?;
        let (chat, id) = self.editable(p)?;
        let Some(b) = self.chats.get_mut(&chat).and_then(|c| c.bot_msg_mut(id)) else {
            return Err(ApiError::bad("message to edit not found"));
        };
        if b.msg.reply_markup == reply_markup {
            return Err(ApiError::bad(NOT_MODIFIED));
        }
        b.msg.reply_markup = reply_markup;
        b.msg.edited = true;
        b.edit_date = Some(unix_now());
        Ok(self.render_edited(chat, id))
    }

    fn delete_message(&mut self, p: &Params) -> Result<Value, ApiError> {
        let chat = self.resolve_chat(p)?;
        let id = Self::message_id(p)?;
        let not_found = || ApiError::bad("message to delete not found");
        let c = self.chats.get_mut(&chat).ok_or_else(not_found)?;
        if let Some(b) = c.bot_msg_mut(id) {
            b.msg.deleted = true;
        } else if let Some(m) = c.user_msg_mut(id) {
            m.deleted = true;
        } else {
            return Err(not_found());
        }
        Ok(json!(true))
    }

    fn answer_callback(&mut self, p: &Params) -> Result<Value, ApiError> {
        let invalid = || {
            ApiError::bad("query is too old and response timeout expired or query id is invalid")
        };
        let id = p.str("callback_query_id").ok_or_else(invalid)?;
        let cb = self.callbacks.get_mut(&id).ok_or_else(invalid)?;
        if cb.answered {
            return Err(invalid());
        }
        cb.answered = true;
        let answer = CallbackAnswer {
            callback_query_id: id,
            chat_id: cb.chat_id,
            message_id: cb.message_id,
            user_id: cb.user_id,
            data: Some(cb.data.clone()),
            text: p.str("text").filter(|t| !t.is_empty()),
            show_alert: p.bool("show_alert"),
            url: p.str("url").filter(|u| !u.is_empty()),
            cache_time: p.i64("cache_time")?.and_then(|c| u32::try_from(c).ok()),
        };
        self.answers.push(answer);
        Ok(json!(true))
    }

    fn set_commands(&mut self, p: &Params) -> Result<Value, ApiError> {
        let list = match p.json("commands")? {
            Some(Value::Array(items)) => items,
            Some(_) => return Err(ApiError::bad("can't parse commands JSON array")),
            None => return Err(ApiError::bad("parameter \"commands\" is required")),
        };
        if list.len() > 100 {
            return Err(ApiError::bad("too much commands specified"));
        }
        let mut commands = Vec::with_capacity(list.len());
        for c in &list {
            let command = c.get("command").and_then(Value::as_str).unwrap_or("");
            let description = c.get("description").and_then(Value::as_str).unwrap_or("");
            let command_ok = (1..=32).contains(&command.len())
                && command
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_');
            if !command_ok {
                return Err(ApiError::bad("BOT_COMMAND_INVALID"));
            }
            if !(1..=256).contains(&description.chars().count()) {
                return Err(ApiError::bad("command description must be non-empty"));
            }
            commands.push((command.to_owned(), description.to_owned()));
        }
        self.commands.insert(commands_key(p), commands);
        Ok(json!(true))
    }

    fn get_commands(&self, p: &Params) -> Value {
        let list = self.commands.get(&commands_key(p));
        let list = list.map(|l| {
            l.iter()
                .map(|(c, d)| json!({ "command": c, "description": d }))
                .collect::<Vec<_>>()
        });
        Value::Array(list.unwrap_or_default())
    }
}

fn validate_button(b: &Value) -> Result<(), ApiError> {
    if b.get("text").and_then(Value::as_str).is_none() {
        return Err(ApiError::bad(
            "can't parse inline keyboard button: Field \"text\" must be of type String",
        ));
    }
    if let Some(data) = b.get("callback_data") {
        let len = data.as_str().map_or(0, str::len);
        if !(1..=64).contains(&len) {
            return Err(ApiError::bad("BUTTON_DATA_INVALID"));
        }
        return Ok(());
    }
    if BUTTON_ACTIONS.iter().any(|k| b.get(*k).is_some()) {
        return Ok(());
    }
    Err(ApiError::bad(
        "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
    ))
}

/// "scope|language" for the command lists (the default scope without language is
/// `DEFAULT_COMMANDS_KEY`).
fn commands_key(p: &Params) -> String {
    let scope = match p.json("scope") {
        Ok(Some(s)) => {
            let kind = s.get("type").and_then(Value::as_str).unwrap_or("default");
            match (s.get("chat_id"), s.get("user_id")) {
                (Some(c), Some(u)) => format!("{kind}:{c}:{u}"),
                (Some(c), None) => format!("{kind}:{c}"),
                _ => kind.to_owned(),
            }
        }
        _ => "default".to_owned(),
    };
    let lang = p.str("language_code").unwrap_or_default();
    format!("{scope}|{lang}")
}
