//! Dialogue state on the store: teloxide's dialogue [`Storage`] implemented over the key-value
//! table, so multi-step flows (`/forget`) survive restarts and abandoned ones expire.
//!
//! One key per chat, `dialogue:<chat id>` (see `service::keys`), holding the state as JSON, with
//! a TTL of `bot.dialogue_ttl_minutes` renewed on every update. tgbox runs its own dispatch, so
//! handlers call `get_dialogue` / `update_dialogue` / `remove_dialogue` directly.
//!
//! Differences from teloxide's `InMemStorage`: removing a dialogue that does not exist is not an
//! error, and a stored state that no longer decodes (written by another version) is dropped with
//! a warning and reads as no dialogue, so a user is never stuck in a state the bot cannot read.

use crate::domain::ChatId as DomainChatId;
use crate::service::keys::dialogue_key;
use crate::store::{SharedStore, StoreError, UnixMillis, now_millis};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use teloxide::dispatching::dialogue::Storage;
use teloxide::types::ChatId;
use thiserror::Error;

/// The clock of the key-value table (tests pass their own).
pub type Clock = Arc<dyn Fn() -> UnixMillis + Send + Sync>;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

#[derive(Debug, Error)]
pub enum DialogueError {
    #[error("dialogue storage: {0}")]
    Store(#[from] StoreError),
    #[error("dialogue state does not serialize: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("dialogue storage task failed: {0}")]
    Task(String),
}

/// What a chat is in the middle of. Stored as JSON; add variants, never change their fields'
/// meaning (an undecodable state is dropped).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum BotDialogue {
    /// `/forget` asked for confirmation in the private chat; `prompt` is the message with the
    /// buttons (edited when the user answers by typing).
    ForgetConfirm { user: u64, prompt: Option<i32> },
}

/// teloxide's dialogue `Storage` on the store's key-value table.
pub struct KvDialogueStorage {
    store: SharedStore,
    ttl: Duration,
    clock: Clock,
}

impl KvDialogueStorage {
    pub fn new(store: SharedStore, ttl: Duration) -> Arc<Self> {
        Self::with_clock(store, ttl, Arc::new(now_millis))
    }

    pub fn with_clock(store: SharedStore, ttl: Duration, clock: Clock) -> Arc<Self> {
        Arc::new(KvDialogueStorage { store, ttl, clock })
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Run a store call off the async workers.
    async fn blocking<T: Send + 'static>(
        self: Arc<Self>,
        f: impl FnOnce(&KvDialogueStorage, UnixMillis) -> Result<T, DialogueError> + Send + 'static,
    ) -> Result<T, DialogueError> {
        tokio::task::spawn_blocking(move || {
            let now = (self.clock)();
            f(&self, now)
        })
        .await
        .map_err(|e| DialogueError::Task(e.to_string()))?
    }
}

fn key(chat: ChatId) -> String {
    dialogue_key(DomainChatId(chat.0))
}

impl<D> Storage<D> for KvDialogueStorage
where
    D: Serialize + DeserializeOwned + Send + 'static,
{
    type Error = DialogueError;

    fn remove_dialogue(self: Arc<Self>, chat_id: ChatId) -> BoxFuture<Result<(), Self::Error>>
    where
        D: Send + 'static,
    {
        Box::pin(self.blocking(move |s, now| {
            s.store.kv_del(&[key(chat_id).as_str()], now)?;
            Ok(())
        }))
    }

    fn update_dialogue(
        self: Arc<Self>,
        chat_id: ChatId,
        dialogue: D,
    ) -> BoxFuture<Result<(), Self::Error>>
    where
        D: Send + 'static,
    {
        Box::pin(async move {
            let bytes = serde_json::to_vec(&dialogue)?;
            self.blocking(move |s, now| {
                s.store
                    .kv_set(&key(chat_id), &bytes, Some(s.ttl), now)
                    .map_err(DialogueError::from)
            })
            .await
        })
    }

    fn get_dialogue(self: Arc<Self>, chat_id: ChatId) -> BoxFuture<Result<Option<D>, Self::Error>> {
        Box::pin(self.blocking(move |s, now| {
            let key = key(chat_id);
            let Some(bytes) = s.store.kv_get(&key, now)? else {
                return Ok(None);
            };
            match serde_json::from_slice::<D>(&bytes) {
                Ok(d) => Ok(Some(d)),
                Err(e) => {
                    tracing::warn!(chat = chat_id.0, error = %e, "dropping a dialogue state that does not decode");
                    s.store.kv_del(&[key.as_str()], now)?;
                    Ok(None)
                }
            }
        }))
    }
}

/// The dialogue of `chat`, `None` when there is none, it expired, or the store cannot answer
/// (logged): a flow that cannot read its state starts again.
pub async fn load(storage: &Arc<KvDialogueStorage>, chat: ChatId) -> Option<BotDialogue> {
    match Storage::<BotDialogue>::get_dialogue(storage.clone(), chat).await {
        Ok(state) => state,
        Err(e) => {
            tracing::warn!(error = %e, chat = chat.0, "dialogue read failed");
            None
        }
    }
}

/// Store the dialogue of `chat` (TTL renewed); `false` (logged) when the store refused.
pub async fn save(storage: &Arc<KvDialogueStorage>, chat: ChatId, state: BotDialogue) -> bool {
    match Storage::<BotDialogue>::update_dialogue(storage.clone(), chat, state).await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = %e, chat = chat.0, "dialogue write failed");
            false
        }
    }
}

/// End the dialogue of `chat` (a failure is logged; the TTL ends it anyway).
pub async fn clear(storage: &Arc<KvDialogueStorage>, chat: ChatId) {
    if let Err(e) = Storage::<BotDialogue>::remove_dialogue(storage.clone(), chat).await {
        tracing::warn!(error = %e, chat = chat.0, "dialogue removal failed");
    }
}
