//! Talking to the bot through the simulator: a user's message, the bot's buttons, and "send this
//! and wait for the bot's answer in that chat".

use super::{SimServer, wait_until};
use std::time::Duration;
use tgbox::sim::{BotMessage, UserMessage};

/// How long to wait for the bot's answer.
pub const REPLY_WAIT: Duration = Duration::from_secs(20);

/// A plain text message from `user_id` in `chat_id`.
pub fn say(chat_id: i64, user_id: u64, text: &str) -> UserMessage {
    UserMessage {
        chat_id,
        user_id,
        text: text.into(),
        ..UserMessage::default()
    }
}

/// The inline buttons of a bot message as (label, callback data), row by row.
pub fn buttons(m: &BotMessage) -> Vec<(String, String)> {
    let Some(markup) = &m.reply_markup else {
        return Vec::new();
    };
    markup["inline_keyboard"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row.as_array().cloned().unwrap_or_default())
        .map(|b| {
            (
                b["text"].as_str().unwrap_or("").to_string(),
                b["callback_data"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// The callback data of the button whose label contains `label`.
pub fn button(m: &BotMessage, label: &str) -> String {
    buttons(m)
        .into_iter()
        .find(|(t, _)| t.contains(label))
        .unwrap_or_else(|| panic!("no {label:?} button on {:?}", buttons(m)))
        .1
}

/// Send `text` as `user` in `chat` and wait for the bot's next message there.
pub async fn ask_bot(server: &SimServer, chat: i64, user: u64, text: &str) -> BotMessage {
    let sim = &server.sim;
    let before = sim.sent_to(chat).len();
    sim.send(say(chat, user, text)).unwrap();
    assert!(
        wait_until(REPLY_WAIT, || sim.sent_to(chat).len() > before).await,
        "no reply to {text:?}"
    );
    sim.sent_to(chat).pop().unwrap()
}
