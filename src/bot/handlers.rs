//! Command handlers. They run after the update that triggered them is committed, so they may
//! read the store and see it; a crash between commit and reply loses the reply, never the update.

use super::TgBot;
use super::dialogue::KvDialogueStorage;
use crate::domain::{UserId, UserSettings};
use crate::i18n::{Lang, Msg, Tr};
use crate::service::ForgetService;
use crate::store::SharedStore;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use teloxide::prelude::*;
use teloxide::types::{InlineKeyboardMarkup, ParseMode, ReplyParameters, UpdateKind};
use teloxide::utils::html;

/// The command menu published with setMyCommands: the command and its description's text.
pub const COMMANDS: &[(&str, Msg)] = &[
    ("start", Msg::CommandStart),
    ("help", Msg::CommandHelp),
    ("search", Msg::CommandSearch),
    ("settings", Msg::CommandSettings),
    ("forget", Msg::CommandForget),
    ("stats", Msg::CommandStats),
    ("me", Msg::CommandMe),
    ("top", Msg::CommandTop),
];

/// How long an unfinished dialogue is kept unless configured (`bot.dialogue_ttl_minutes`).
pub const DEFAULT_DIALOGUE_TTL: Duration = Duration::from_secs(30 * 60);

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
    dialogues: Arc<KvDialogueStorage>,
    forget: ForgetService,
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
                slots: Arc::new(tokio::sync::Semaphore::new(MAX_PENDING_REPLIES)),
                skipped: AtomicU64::new(0),
                registry,
                search: None,
                dialogues: KvDialogueStorage::new(store.clone(), DEFAULT_DIALOGUE_TTL),
                forget: ForgetService::new(store.clone()),
                store,
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

    /// A copy of the handlers with some parts replaced (the builder methods below).
    fn rebuild(self, change: impl FnOnce(&mut Inner)) -> Self {
        let mut inner = Inner {
            bot: self.inner.bot.clone(),
            bot_username: self.inner.bot_username.clone(),
            store: self.inner.store.clone(),
            slots: self.inner.slots.clone(),
            skipped: AtomicU64::new(self.inner.skipped.load(Ordering::Relaxed)),
            registry: self.inner.registry.clone(),
            search: self.inner.search.clone(),
            dialogues: self.inner.dialogues.clone(),
            forget: self.inner.forget.clone(),
        };
        change(&mut inner);
        Handlers {
            inner: Arc::new(inner),
        }
    }

    /// Answer `/search` with this service (without one, `/search` says it is unavailable).
    pub fn with_search(self, service: Arc<crate::service::SearchService>) -> Self {
        self.rebuild(|inner| inner.search = Some(service))
    }

    /// Keep unfinished dialogues this long (`bot.dialogue_ttl_minutes`).
    pub fn with_dialogue_ttl(self, ttl: Duration) -> Self {
        self.rebuild(|inner| {
            inner.dialogues = KvDialogueStorage::new(inner.store.clone(), ttl);
        })
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

    pub(super) fn dialogues(&self) -> Arc<KvDialogueStorage> {
        self.inner.dialogues.clone()
    }

    pub(super) fn forget_service(&self) -> ForgetService {
        self.inner.forget.clone()
    }

    /// A user's settings, the default when none are stored or the store cannot answer. Every
    /// settings read goes through here (the place to put a cache).
    pub(super) async fn user_settings(&self, user: UserId) -> UserSettings {
        let store = self.inner.store.clone();
        match tokio::task::spawn_blocking(move || store.user_settings(user)).await {
            Ok(Ok(found)) => found.unwrap_or_default(),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, user = user.0, "settings read failed; using defaults");
                UserSettings::default()
            }
            Err(e) => {
                tracing::warn!(error = %e, "settings read task failed; using defaults");
                UserSettings::default()
            }
        }
    }

    /// Store a user's settings; `false` (logged) when the store refused. Every settings write
    /// goes through here (the place to invalidate a cache).
    pub(super) async fn save_user_settings(&self, user: UserId, settings: UserSettings) -> bool {
        let store = self.inner.store.clone();
        match tokio::task::spawn_blocking(move || store.set_user_settings(user, &settings)).await {
            Ok(Ok(())) => true,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, user = user.0, "settings write failed");
                false
            }
            Err(e) => {
                tracing::warn!(error = %e, "settings write task failed");
                false
            }
        }
    }

    /// The language to answer this Telegram user in: their setting, else their Telegram
    /// language, else English.
    pub(super) async fn tr_for(&self, user: Option<&teloxide::types::User>) -> Tr {
        let Some(user) = user else {
            return Tr::new(Lang::En);
        };
        let settings = self.user_settings(UserId(user.id.0)).await;
        Tr::new(Lang::resolve(
            settings.language,
            user.language_code.as_deref(),
        ))
    }

    /// Send `text` (Telegram HTML) to `chat`, as a reply to `reply_to` when given, recording the
    /// send in the registry. A failure is logged; the message sent is returned.
    pub(super) async fn send_html(
        &self,
        chat: ChatId,
        reply_to: Option<teloxide::types::MessageId>,
        text: String,
        markup: Option<InlineKeyboardMarkup>,
    ) -> Option<Message> {
        let started = std::time::Instant::now();
        let mut request = self
            .inner
            .bot
            .send_message(chat, text)
            .parse_mode(ParseMode::Html);
        if let Some(id) = reply_to {
            request =
                request.reply_parameters(ReplyParameters::new(id).allow_sending_without_reply());
        }
        if let Some(markup) = markup {
            request = request.reply_markup(markup);
        }
        let sent = request.await;
        if let Some(r) = &self.inner.registry {
            match &sent {
                Ok(_) => r.record(crate::telemetry::Op::TelegramSend, started.elapsed(), 1),
                Err(_) => r.record_error(crate::telemetry::Op::TelegramSend),
            }
        }
        match sent {
            Ok(m) => Some(m),
            Err(e) => {
                tracing::warn!(error = %e, chat = chat.0, "reply failed");
                None
            }
        }
    }

    pub async fn handle(&self, update: Update) {
        let msg = match &update.kind {
            UpdateKind::Message(msg) => msg,
            UpdateKind::CallbackQuery(q) => {
                let Some(_slot) = self.reply_slot() else {
                    return;
                };
                return self.callback(q).await;
            }
            _ => return,
        };
        let Some(text) = msg.text() else { return };
        let private = msg.chat.is_private();
        let Some(cmd) = parse_command(text, &self.inner.bot_username) else {
            if private {
                let Some(_slot) = self.reply_slot() else {
                    return;
                };
                self.dialogue_text(msg, text).await;
            }
            return;
        };
        let known = COMMANDS.iter().any(|(name, _)| *name == cmd.name);
        if !private && !known {
            // In groups, other bots' commands and typos are not ours to answer.
            return;
        }
        let Some(_slot) = self.reply_slot() else {
            return;
        };
        let tr = self.tr_for(msg.from.as_ref()).await;
        let reply = match cmd.name.as_str() {
            "search" => return self.search_command(msg, cmd.args, tr).await,
            "settings" => return self.settings_command(msg, tr).await,
            "forget" => return self.forget_command(msg, tr).await,
            "stats" | "me" | "top" => {
                return self.stats_command(msg, &cmd.name, cmd.args, tr).await;
            }
            "start" => self.start_text(msg, tr).await,
            "help" => help_text(tr),
            _ => tr.f(
                Msg::UnknownCommand,
                &[("command", &format!("/{}", html::escape(&cmd.name)))],
            ),
        };
        self.send_html(msg.chat.id, Some(msg.id), reply, None).await;
    }

    /// A button press: the prefix of its data says whose it is.
    async fn callback(&self, q: &teloxide::types::CallbackQuery) {
        let data = q.data.as_deref().unwrap_or("");
        if data.starts_with(super::search_render::PAGE_PREFIX) {
            self.search_callback(q).await
        } else if data.starts_with(super::settings::PREFIX) {
            self.settings_callback(q).await
        } else if data.starts_with(super::forget::PREFIX) {
            self.forget_callback(q).await
        } else {
            let tr = self.tr_for(Some(&q.from)).await;
            self.answer(q, Some(tr.t(Msg::CallbackInvalid))).await;
        }
    }

    async fn start_text(&self, msg: &Message, tr: Tr) -> String {
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
        let mut text = tr.f(Msg::StartHello, &[("name", &html::escape(&name))]);
        text.push('\n');
        if let Some(count) = count {
            text.push_str(&tr.f(Msg::StartRegistered, &[("count", &tr.num(count))]));
            text.push('\n');
        }
        text.push_str(tr.t(Msg::StartHelpHint));
        text
    }
}

pub(super) fn help_text(tr: Tr) -> String {
    let mut text = String::from(tr.t(Msg::HelpTitle));
    text.push('\n');
    for (name, help) in COMMANDS {
        text.push_str(&tr.f(
            Msg::HelpLine,
            &[
                ("command", &format!("/{name}")),
                ("description", &html::escape(tr.t(*help))),
            ],
        ));
        text.push('\n');
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

    #[test]
    fn help_reads_right_to_left_in_persian() {
        let fa = help_text(Tr::new(Lang::Fa));
        assert!(
            crate::i18n::rtl_problems(&fa).is_empty(),
            "{:?}",
            crate::i18n::rtl_problems(&fa)
        );
        assert!(fa.contains("\u{2068}/forget\u{2069} — پاک کردن"), "{fa}");
        let en = help_text(Tr::new(Lang::En));
        assert!(en.contains("/search — search messages"), "{en}");
    }
}
