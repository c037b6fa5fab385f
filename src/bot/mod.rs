//! Everything that speaks the Bot API: the client setup, the polling loop that feeds ingest,
//! the translation of updates into domain records, and the command handlers.

mod broadcast;
pub mod convert;
pub mod dialogue;
mod forget;
mod handlers;
mod polling;
mod search;
mod search_render;
mod settings;
mod stats;
mod stats_text;
mod webhook;

pub use broadcast::{TelegramBroadcast, classify as classify_send_error};
pub use handlers::Handlers;
pub use polling::{PollError, PollingConfig, run_polling};
pub use webhook::{COMMIT_PATIENCE, WebhookIntake, set_webhook};

use crate::config::Secret;
use crate::domain::BotIdentity;
use crate::i18n::{Lang, Tr};
use std::time::Duration;
use teloxide::adaptors::Throttle;
use teloxide::adaptors::throttle::Limits;
use teloxide::prelude::*;
use teloxide::types::BotCommand;
use thiserror::Error;

/// Sends go through the Throttle adaptor: 30 msg/s overall, 1 msg/s per chat, 20/min per group.
pub type TgBot = Throttle<Bot>;

#[derive(Debug, Error)]
pub enum BotError {
    #[error("telegram.api_url {0:?} is not a usable URL")]
    BadApiUrl(String),
    #[error("Telegram rejected the bot token (401 Unauthorized); check telegram.token")]
    Unauthorized,
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    #[error("stopped before Telegram answered")]
    Cancelled,
    #[error(
        "Telegram refused the webhook: {0} (check telegram.webhook_url: a public https URL on \
         port 443, 80, 88 or 8443)"
    )]
    Webhook(String),
}

/// A connected bot: the throttled sender, the raw client for getUpdates, and who we are.
#[derive(Clone)]
pub struct Telegram {
    pub bot: TgBot,
    pub identity: BotIdentity,
    raw: reqwest::Client,
    api_base: reqwest::Url,
    token: Secret,
}

impl Telegram {
    /// The URL of a Bot API method. Holds the token: never log it.
    fn method_url(&self, method: &str) -> reqwest::Url {
        let mut url = self.api_base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty();
            segments.push(&format!("bot{}", self.token.expose()));
            segments.push(method);
        }
        url
    }
}

/// Build the client and learn our identity with getMe, retrying transient failures until
/// `cancel` fires. A rejected token is fatal.
pub async fn connect(
    token: Secret,
    api_url: &str,
    cancel: &tokio_util::sync::CancellationToken,
) -> Result<Telegram, BotError> {
    let api_base =
        reqwest::Url::parse(api_url).map_err(|_| BotError::BadApiUrl(api_url.to_string()))?;
    if api_base.cannot_be_a_base() {
        return Err(BotError::BadApiUrl(api_url.to_string()));
    }
    let raw = teloxide::net::default_reqwest_settings()
        .build()
        .map_err(|e| BotError::Client(e.without_url().to_string()))?;
    let plain = Bot::with_client(token.expose(), raw.clone()).set_api_url(api_base.clone());
    let mut backoff = Duration::from_millis(500);
    let me = loop {
        let attempt = tokio::select! {
            _ = cancel.cancelled() => return Err(BotError::Cancelled),
            r = plain.get_me() => r,
        };
        match attempt {
            Ok(me) => break me,
            Err(teloxide::RequestError::Api(teloxide::ApiError::InvalidToken)) => {
                return Err(BotError::Unauthorized);
            }
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?backoff, "getMe failed; retrying");
                tokio::select! {
                    _ = cancel.cancelled() => return Err(BotError::Cancelled),
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        }
    };
    let identity = BotIdentity {
        bot_id: me.id.0,
        username: me.username.clone().unwrap_or_default(),
    };
    tracing::info!(bot = %identity.username, id = identity.bot_id, "connected to Telegram");
    let bot = plain.throttle(Limits::default());
    Ok(Telegram {
        bot,
        identity,
        raw,
        api_base,
        token,
    })
}

/// Startup chores that may fail on a Bot API server that lacks them: publish the command list,
/// remove a stale webhook (polling and a webhook cannot coexist). Failures are warnings.
pub async fn prepare_polling(tg: &Telegram) {
    publish_commands(tg).await;
    match tg.bot.get_webhook_info().await {
        Ok(info) if info.url.is_some() => {
            tracing::warn!("a webhook is set; removing it to use polling");
            if let Err(e) = tg.bot.delete_webhook().await {
                tracing::warn!(error = %e, "deleteWebhook failed");
            }
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "getWebhookInfo failed; assuming no webhook"),
    }
}

/// The command menu in one language.
pub fn command_menu(lang: Lang) -> Vec<BotCommand> {
    let tr = Tr::new(lang);
    handlers::COMMANDS
        .iter()
        .map(|(name, help)| BotCommand::new(*name, tr.t(*help)))
        .collect()
}

/// Publish the command menu (setMyCommands): English for everyone, Persian for clients set to
/// Persian (`language_code = "fa"`). A failure is a warning.
pub async fn publish_commands(tg: &Telegram) {
    if let Err(e) = tg.bot.set_my_commands(command_menu(Lang::En)).await {
        tracing::warn!(error = %e, "setMyCommands failed; the command menu is not updated");
    }
    for lang in Lang::ALL.into_iter().filter(|l| *l != Lang::En) {
        let request = tg
            .bot
            .set_my_commands(command_menu(lang))
            .language_code(lang.code());
        if let Err(e) = request.await {
            tracing::warn!(error = %e, lang = lang.code(), "setMyCommands failed for a language");
        }
    }
}
