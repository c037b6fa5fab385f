//! The broadcast runner's transport: `sendMessage` with HTML through the unthrottled client (the
//! runner paces itself), and the reply share of the global budget while a job sends.

use super::TgBot;
use crate::domain::UserId;
use crate::service::broadcast::{
    BroadcastTransport, REPLY_SHARE_PER_SECOND, SendFailure, SendFuture, TELEGRAM_PER_SECOND,
};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use teloxide::adaptors::throttle::Limits;
use teloxide::prelude::*;
use teloxide::types::ParseMode;
use teloxide::{ApiError, RequestError};

/// Sends broadcasts with the plain client behind `bot` (the Throttle would batch them in bursts
/// of 30 every second); replies keep using the Throttle, whose global limit drops to the reply
/// share while a job sends, so the two together stay within Telegram's 30/s.
pub struct TelegramBroadcast {
    bot: TgBot,
    /// Whether a job is sending; a task applies it to the Throttle.
    sending: tokio::sync::watch::Sender<bool>,
}

impl TelegramBroadcast {
    /// Must be called inside the runtime: it spawns the task that adjusts the Throttle.
    pub fn new(bot: TgBot) -> TelegramBroadcast {
        let (sending, mut rx) = tokio::sync::watch::channel(false);
        let throttle = bot.clone();
        // The Throttle's worker reads limit changes only between requests, so `set_limits` can
        // wait until the next reply: apply changes here, in order, without holding up the runner.
        tokio::spawn(async move {
            while rx.changed().await.is_ok() {
                let active = *rx.borrow_and_update();
                let overall = if active {
                    REPLY_SHARE_PER_SECOND
                } else {
                    TELEGRAM_PER_SECOND
                };
                throttle
                    .set_limits(Limits {
                        messages_per_sec_overall: overall as u32,
                        ..Limits::default()
                    })
                    .await;
            }
        });
        TelegramBroadcast { bot, sending }
    }
}

/// How a Bot API error counts for a broadcast.
pub fn classify(err: &RequestError) -> SendFailure {
    match err {
        RequestError::RetryAfter(s) => {
            SendFailure::RetryAfter(s.duration().max(Duration::from_secs(1)))
        }
        RequestError::Api(ApiError::BotBlocked | ApiError::UserDeactivated) => SendFailure::Blocked,
        RequestError::Api(e) => SendFailure::Other(e.to_string()),
        RequestError::MigrateToChatId(_) => SendFailure::Other(err.to_string()),
        // No answer, or one we cannot read: it may have been delivered.
        RequestError::Network(e) => SendFailure::Unknown(e.without_url_ref()),
        other => SendFailure::Unknown(other.to_string()),
    }
}

trait WithoutUrl {
    fn without_url_ref(&self) -> String;
}

impl WithoutUrl for std::sync::Arc<reqwest::Error> {
    /// The error text without the request URL (it holds the token).
    fn without_url_ref(&self) -> String {
        let mut s = self.to_string();
        if let Some(url) = self.url() {
            s = s.replace(url.as_str(), "<api url>");
        }
        s
    }
}

impl BroadcastTransport for TelegramBroadcast {
    fn send_html<'a>(&'a self, user: UserId, html: &'a str) -> SendFuture<'a> {
        Box::pin(async move {
            let chat = teloxide::types::ChatId(user.0 as i64);
            self.bot
                .inner()
                .send_message(chat, html)
                .parse_mode(ParseMode::Html)
                .await
                .map(|_| ())
                .map_err(|e| classify(&e))
        })
    }

    fn set_sending(&self, active: bool) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        self.sending.send_replace(active);
        Box::pin(async {})
    }
}
