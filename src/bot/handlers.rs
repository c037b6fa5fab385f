//! Command handlers. They run after the update that triggered them is committed, so they may
//! read the store and see it; a crash between commit and reply loses the reply, never the update.

use super::TgBot;
use crate::store::SharedStore;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use teloxide::prelude::*;
use teloxide::types::{ParseMode, ReplyParameters, UpdateKind};
use teloxide::utils::html;

/// The command menu published with setMyCommands: (command, description).
pub const COMMANDS: &[(&str, &str)] = &[
    ("start", "register and get a welcome"),
    ("help", "what this bot can do"),
    (
        "search",
        "search messages: words, \"phrase\", -word, from:@user, after:, before:",
    ),
    ("stats", "group statistics (in private: your groups)"),
    ("me", "your messages, rank, first and last seen"),
    ("top", "most active members: /top 7d, /top 30d or /top all"),
];

#[derive(Clone)]
pub struct Handlers {
    inner: Arc<Inner>,
}

/// Most replies that may wait for the send throttle at once. Telegram allows ~30 messages/s;
/// a flood of commands beyond that would otherwise queue without bound. Replies are
/// at-most-once, so the ones over the bound are skipped (and counted in the log).
const MAX_PENDING_REPLIES: usize = 512;

struct Inner {
    bot: TgBot,
    bot_username: String,
    store: SharedStore,
    slots: Arc<tokio::sync::Semaphore>,
    skipped: AtomicU64,
    /// Where send latencies go (`telegram_send`), if anywhere.
    registry: Option<Arc<crate::telemetry::Registry>>,
    search: Option<Arc<crate::service::SearchService>>,
}

/// A command addressed to us: `/name` or `/name@our_bot`, case-insensitive, with arguments.
#[derive(Debug, PartialEq, Eq)]
pub struct ParsedCommand<'a> {
    pub name: String,
    pub args: &'a str,
}

/// Parse a leading bot command. Commands addressed to another bot (`/start@other_bot`) are not ours.
pub fn parse_command<'a>(text: &'a str, bot_username: &str) -> Option<ParsedCommand<'a>> {
    let rest = text.strip_prefix('/')?;
    let (head, args) = match rest.find(char::is_whitespace) {
        Some(i) => (&rest[..i], rest[i..].trim()),
        None => (rest, ""),
    };
    let (name, target) = match head.split_once('@') {
        Some((n, t)) => (n, Some(t)),
        None => (head, None),
    };
    if name.is_empty() || name.len() > 32 {
        return None;
    }
    if let Some(target) = target
        && !target.eq_ignore_ascii_case(bot_username)
    {
        return None;
    }
    Some(ParsedCommand {
        name: name.to_ascii_lowercase(),
        args,
    })
}

impl Handlers {
    pub fn new(bot: TgBot, bot_username: String, store: SharedStore) -> Self {
        Self::with_registry(bot, bot_username, store, None)
    }

    /// Like [`Handlers::new`], recording every send (throttle wait included) in `registry`.
    pub fn with_registry(
        bot: TgBot,
        bot_username: String,
        store: SharedStore,
        registry: Option<Arc<crate::telemetry::Registry>>,
    ) -> Self {
        Handlers {
            inner: Arc::new(Inner {
                bot,
                bot_username,
                store,
                slots: Arc::new(tokio::sync::Semaphore::new(MAX_PENDING_REPLIES)),
                skipped: AtomicU64::new(0),
                registry,
                search: None,
            }),
        }
    }

    /// Run the handler for a committed update on `tracker`. Handlers that do not reply return at
    /// once; the ones that reply are bounded by [`MAX_PENDING_REPLIES`].
    pub fn dispatch(&self, tracker: &tokio_util::task::TaskTracker, update: Update) {
        let handlers = self.clone();
        tracker.spawn(async move { handlers.handle(update).await });
    }

    /// A slot for one reply waiting for the throttle, or `None` (logged) when all are taken.
    fn reply_slot(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        match self.inner.slots.clone().try_acquire_owned() {
            Ok(permit) => Some(permit),
            Err(_) => {
                let skipped = self.inner.skipped.fetch_add(1, Ordering::Relaxed) + 1;
                if skipped.is_power_of_two() {
                    tracing::warn!(
                        skipped,
                        "too many replies waiting for the send throttle; skipping some"
                    );
                }
                None
            }
        }
    }

    /// Answer `/search` with this service (without one, `/search` says it is unavailable).
    pub fn with_search(self, service: Arc<crate::service::SearchService>) -> Self {
        let inner = Inner {
            bot: self.inner.bot.clone(),
            bot_username: self.inner.bot_username.clone(),
            store: self.inner.store.clone(),
            slots: self.inner.slots.clone(),
            skipped: AtomicU64::new(self.inner.skipped.load(Ordering::Relaxed)),
            registry: self.inner.registry.clone(),
            search: Some(service),
        };
        Handlers {
            inner: Arc::new(inner),
        }
    }

    pub(super) fn bot(&self) -> &TgBot {
        &self.inner.bot
    }

    pub(super) fn bot_username(&self) -> &str {
        &self.inner.bot_username
    }

    pub(super) fn store(&self) -> &SharedStore {
        &self.inner.store
    }

    pub(super) fn search_service(&self) -> Option<Arc<crate::service::SearchService>> {
        self.inner.search.clone()
    }

    pub async fn handle(&self, update: Update) {
        let msg = match &update.kind {
            UpdateKind::Message(msg) => msg,
            UpdateKind::CallbackQuery(q) => {
                let Some(_slot) = self.reply_slot() else {
                    return;
                };
                return self.search_callback(q).await;
            }
            _ => return,
        };
        let Some(text) = msg.text() else { return };
        let Some(cmd) = parse_command(text, &self.inner.bot_username) else {
            return;
        };
        let private = msg.chat.is_private();
        let reply = match cmd.name.as_str() {
            "search" => {
                let Some(_slot) = self.reply_slot() else {
                    return;
                };
                return self.search_command(msg, cmd.args).await;
            }
            "stats" | "me" | "top" => {
                let Some(_slot) = self.reply_slot() else {
                    return;
                };
                return self.stats_command(msg, &cmd.name, cmd.args).await;
            }
            "start" => self.start_text(msg).await,
            "help" => help_text(),
            _ if private => format!(
                "I don't know the command /{}. Send /help to see what I can do.",
                html::escape(&cmd.name)
            ),
            // In groups, other bots' commands and typos are not ours to answer.
            _ => return,
        };
        let Some(_slot) = self.reply_slot() else {
            return;
        };
        let started = std::time::Instant::now();
        let sent = self
            .inner
            .bot
            .send_message(msg.chat.id, reply)
            .parse_mode(ParseMode::Html)
            .reply_parameters(ReplyParameters::new(msg.id).allow_sending_without_reply())
            .await;
        if let Some(r) = &self.inner.registry {
            match &sent {
                Ok(_) => r.record(crate::telemetry::Op::TelegramSend, started.elapsed(), 1),
                Err(_) => r.record_error(crate::telemetry::Op::TelegramSend),
            }
        }
        if let Err(e) = sent {
            tracing::warn!(error = %e, chat = msg.chat.id.0, command = %cmd.name, "reply failed");
        }
    }

    async fn start_text(&self, msg: &Message) -> String {
        let name = msg
            .from
            .as_ref()
            .map(|u| u.first_name.clone())
            .unwrap_or_default();
        let store = self.inner.store.clone();
        let user_id = msg.from.as_ref().map(|u| crate::domain::UserId(u.id.0));
        // The store read is blocking I/O: keep it off the async workers.
        let count = match user_id {
            Some(id) => tokio::task::spawn_blocking(move || store.user(id))
                .await
                .ok()
                .and_then(|r| r.ok())
                .flatten()
                .map(|u| u.message_count),
            None => None,
        };
        let mut text = format!(
            "Hello, <b>{}</b>! I keep this community's message archive.\n",
            html::escape(&name)
        );
        if let Some(count) = count {
            text.push_str(&format!(
                "You are registered; I have seen {count} messages from you.\n"
            ));
        }
        text.push_str("Send /help to see what I can do.");
        text
    }
}

fn help_text() -> String {
    let mut text = String::from("<b>Commands</b>\n");
    for (name, help) in COMMANDS {
        text.push_str(&format!("/{name} — {}\n", html::escape(help)));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_parsed() {
        let c = parse_command("/start", "tgbox_bot").unwrap();
        assert_eq!((c.name.as_str(), c.args), ("start", ""));
        let c = parse_command("/Help@TGBOX_bot  please ", "tgbox_bot").unwrap();
        assert_eq!((c.name.as_str(), c.args), ("help", "please"));
        assert!(parse_command("/start@other_bot", "tgbox_bot").is_none());
        assert!(parse_command("start", "tgbox_bot").is_none());
        assert!(parse_command("/", "tgbox_bot").is_none());
        assert!(parse_command("/@x", "tgbox_bot").is_none());
        let c = parse_command("/جستجو سلام", "tgbox_bot").unwrap();
        assert_eq!(c.args, "سلام");
    }
}
