//! The simulated Telegram Bot API.
//!
//! A [`Sim`] is an in-memory Telegram: users, chats, an update queue and a record of everything
//! the bot sent. [`Sim::router`] serves the Bot API (`/bot<token>/<method>`, official JSON, so an
//! unmodified teloxide client works against it) next to a control API (`/control/...`) through
//! which tests and the demo act as users. Faults can be injected into Bot API answers
//! ([`FaultPlan`]) and [`traffic`] generates a believable community. See `docs/SIMULATOR.md`.

mod actions;
mod bot_api;
mod bot_send;
mod control;
#[cfg(test)]
mod control_tests;
mod faults;
mod flood;
#[cfg(test)]
mod http_tests;
mod json;
mod params;
mod queue;
mod render;
mod standalone;
mod state;
pub mod text;
pub mod traffic;
#[cfg(test)]
mod traffic_tests;
mod types;
mod webhook;

use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub use faults::{Fault, FaultPlan, FaultRule};
pub use flood::{FloodLimits, SendOutcome, SendRecord, max_per_second};
pub use standalone::{StandaloneOptions, run_standalone};
pub use traffic::{Community, CommunitySpec, TrafficReport, build_community, run_traffic};
pub use types::{
    BotMessage, BotMessageKind, CallbackAnswer, Delivered, Media, NewChat, NewUser, Posted,
    SimChat, SimChatKind, SimError, SimStats, SimUser, UserMessage,
};

use state::State;

/// Identity of the simulated bot.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct SimConfig {
    /// The bot token; the numeric prefix before `:` is the bot's user id.
    pub token: String,
    pub bot_username: String,
    pub bot_first_name: String,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            token: "7000000001:SIMULATED-token-for-tests".to_owned(),
            bot_username: "tgbox_sim_bot".to_owned(),
            bot_first_name: "tgbox".to_owned(),
        }
    }
}

/// A simulated Telegram. Cheap to clone: all clones share one state.
#[derive(Clone)]
pub struct Sim {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    config: SimConfig,
    bot_id: u64,
    state: Mutex<State>,
    /// Woken whenever an update is queued, a poller is superseded or the webhook changes.
    wake: Notify,
    /// Cancelled when a `serve` shuts down: long polls answer at once, webhook delivery stops.
    stopping: CancellationToken,
    http: OnceLock<reqwest::Client>,
}

impl Sim {
    /// A new, empty simulated Telegram for the bot described by `config`.
    pub fn new(config: SimConfig) -> Sim {
        let bot_id = bot_id_from_token(&config.token);
        let state = State::new(bot_id, &config);
        Sim {
            inner: Arc::new(Inner {
                config,
                bot_id,
                state: Mutex::new(state),
                wake: Notify::new(),
                stopping: CancellationToken::new(),
                http: OnceLock::new(),
            }),
        }
    }

    /// The bot's user id: the numeric prefix of the token.
    pub fn bot_id(&self) -> u64 {
        self.inner.bot_id
    }

    pub fn token(&self) -> &str {
        &self.inner.config.token
    }

    pub fn config(&self) -> &SimConfig {
        &self.inner.config
    }

    /// The Bot API (`/bot<token>/<method>`) and the control API (`/control/...`).
    pub fn router(&self) -> axum::Router {
        control::routes()
            .fallback(bot_api::handle)
            .layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024))
            .with_state(self.clone())
    }

    /// Serves [`Sim::router`] on `listener` until `shutdown` is cancelled. Pending long polls
    /// answer immediately on shutdown and webhook delivery stops; the sim is then stopped.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: CancellationToken,
    ) -> std::io::Result<()> {
        let stopping = self.inner.stopping.clone();
        let watcher = shutdown.clone();
        tokio::spawn(async move {
            watcher.cancelled().await;
            stopping.cancel();
        });
        if let Ok(addr) = listener.local_addr() {
            tracing::info!(%addr, "simulated Telegram listening");
        }
        axum::serve(listener, self.router())
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await
    }

    /// Adds a user. The id is assigned when `None`.
    pub fn add_user(&self, u: NewUser) -> SimUser {
        self.lock().add_user(u)
    }

    /// Adds a chat. Ids are assigned when `None` (supergroups and channels look like
    /// `-100xxxxxxxxxx`); a private chat's id is its user's id.
    pub fn add_chat(&self, c: NewChat) -> SimChat {
        self.lock().add_chat(c)
    }

    /// `user` joins `chat`: a `new_chat_members` service message.
    pub fn join(&self, chat: i64, user: u64) -> Result<Posted, SimError> {
        self.with_update(|st| st.join(chat, user))
    }

    /// `user` leaves `chat`: a `left_chat_member` service message.
    pub fn leave(&self, chat: i64, user: u64) -> Result<Posted, SimError> {
        self.with_update(|st| st.leave(chat, user))
    }

    /// A user (or, in a channel, the channel itself) posts a message.
    pub fn send(&self, msg: UserMessage) -> Result<Posted, SimError> {
        self.with_update(|st| st.send(msg))
    }

    /// The author of a message edits its text (or caption): `edited_message` or
    /// `edited_channel_post`.
    pub fn edit(&self, chat: i64, message_id: i32, new_text: String) -> Result<Posted, SimError> {
        self.with_update(|st| st.edit(chat, message_id, new_text))
    }

    /// Creates a forum topic (a `forum_topic_created` service message); its id is the thread id.
    pub fn create_topic(&self, chat: i64, user: u64, name: String) -> Result<Posted, SimError> {
        self.with_update(|st| st.create_topic(chat, user, name))
    }

    /// `user` presses an inline button carrying `data` on a message the bot sent.
    pub fn press_button(
        &self,
        chat: i64,
        bot_message_id: i32,
        user: u64,
        data: String,
    ) -> Result<Posted, SimError> {
        self.with_update(|st| st.press_button(chat, bot_message_id, user, data))
    }

    /// Queues an arbitrary JSON object as an update; `update_id` is set (or overwritten).
    pub fn inject_raw(&self, update_body: serde_json::Value) -> u32 {
        let id = self.lock().inject_raw(update_body);
        self.inner.wake.notify_waiters();
        id
    }

    /// Queues a raw JSON text fragment, spliced verbatim into the `getUpdates` array. Every
    /// `{update_id}` in it is replaced by the assigned update id.
    pub fn inject_raw_text(&self, raw: String) -> u32 {
        let id = self.lock().inject_raw_text(raw);
        self.inner.wake.notify_waiters();
        id
    }

    /// What the bot sent to `chat`, in its current state (edits applied, deletions flagged).
    pub fn sent_to(&self, chat: i64) -> Vec<BotMessage> {
        self.lock().sent_to(chat)
    }

    pub fn callback_answers(&self) -> Vec<CallbackAnswer> {
        self.lock().callback_answers()
    }

    /// Every update the bot confirmed, in order, each once.
    pub fn delivery_log(&self) -> Vec<Delivered> {
        self.lock().delivery_log(0, usize::MAX)
    }

    /// A window of the delivery log: at most `limit` entries starting at index `start`.
    pub fn delivery_log_window(&self, start: usize, limit: usize) -> Vec<Delivered> {
        self.lock().delivery_log(start, limit)
    }

    pub fn stats(&self) -> SimStats {
        self.lock().stats()
    }

    /// Replaces the fault plan.
    pub fn set_faults(&self, f: FaultPlan) {
        self.lock().faults.set(f);
    }

    pub fn clear_faults(&self) {
        self.lock().faults.set(FaultPlan::default());
    }

    /// Turns Telegram's flood control on (`Some`) or off (`None`, the default).
    pub fn set_flood_control(&self, limits: Option<FloodLimits>) {
        self.lock().flood.set_limits(limits);
    }

    /// The flood control in force, if any.
    pub fn flood_control(&self) -> Option<FloodLimits> {
        self.lock().flood.limits()
    }

    /// Every message send attempt, in order, with its time and outcome.
    pub fn send_log(&self) -> Vec<SendRecord> {
        self.lock().flood.log.clone()
    }

    /// The commands of the last `setMyCommands` for the default scope and language.
    pub fn commands(&self) -> Vec<(String, String)> {
        self.lock().commands()
    }

    /// The commands of the last `setMyCommands` for the default scope and this `language_code`.
    pub fn commands_for_language(&self, language_code: &str) -> Vec<(String, String)> {
        self.lock()
            .commands
            .get(&format!("default|{language_code}"))
            .cloned()
            .unwrap_or_default()
    }

    pub fn users(&self) -> Vec<SimUser> {
        self.lock().users()
    }

    pub fn chats(&self) -> Vec<SimChat> {
        self.lock().chats()
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves consistent-enough state for a simulator.
        self.inner
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn with_update(
        &self,
        f: impl FnOnce(&mut State) -> Result<Posted, SimError>,
    ) -> Result<Posted, SimError> {
        let posted = f(&mut self.lock())?;
        self.inner.wake.notify_waiters();
        Ok(posted)
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim")
            .field("bot_id", &self.inner.bot_id)
            .field("bot_username", &self.inner.config.bot_username)
            .finish_non_exhaustive()
    }
}

fn bot_id_from_token(token: &str) -> u64 {
    token
        .split(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bot_id_is_token_prefix() {
        assert_eq!(bot_id_from_token("123456:ABC"), 123456);
        let sim = Sim::new(SimConfig::default());
        assert_eq!(sim.bot_id(), 7_000_000_001);
        assert_eq!(sim.token(), "7000000001:SIMULATED-token-for-tests");
    }
}
