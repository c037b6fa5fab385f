//! `/forget`: erase what tgbox stores about one user, backend-neutral, on the store traits.
//!
//! What goes, in this order (so a crash part-way leaves the user row, and running it again
//! finishes the job):
//! 1. their messages, in pages of [`PAGE`] through `messages_by_user` + `delete_messages`, which
//!    also queues their removal from the search index (outbox `Delete`);
//! 2. their key-value keys: the dialogue of their private chat (`dialogue:<id>`) and everything
//!    under `user:<id>:` (see [`super::keys`]);
//! 3. `forget_user`: the user row with its activity and username index rows, every membership
//!    (member rows, `member_chats`), the private chat with the bot, the settings, the user's
//!    broadcast recipient rows (a finished send stays counted in its job's totals) and the
//!    blocked-bot mark.
//!
//! What stays: anonymous per-chat counters (a group's message count and daily totals). Messages
//! other people wrote (even replies to this user's messages) stay.

use super::keys;
use crate::domain::UserId;
use crate::store::{SharedStore, StoreError, UnixMillis};

/// Messages removed per transaction.
pub const PAGE: usize = 500;
/// Keys under the user's prefix deleted per scan.
const KEY_PAGE: usize = 1000;

/// What one `/forget` removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ForgetReport {
    pub messages: u64,
    pub memberships: u64,
    /// Key-value keys (dialogue, per-user keys).
    pub keys: u64,
    pub user_row: bool,
    pub private_chat: bool,
    pub settings: bool,
    /// Broadcast recipient rows (and the blocked-bot mark) naming the user.
    pub broadcast_rows: u64,
}

/// Most stored messages counted for the confirmation question.
pub const PREVIEW_CAP: usize = 10_000;

/// What the confirmation question shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ForgetPreview {
    /// The user's stored messages (joins and other service messages included), at most
    /// [`PREVIEW_CAP`].
    pub messages: u64,
    /// There are more than [`PREVIEW_CAP`].
    pub more: bool,
    /// Chats the user is or was a member of (the private chat with the bot included).
    pub chats: u64,
}

#[derive(Clone)]
pub struct ForgetService {
    store: SharedStore,
}

impl ForgetService {
    pub fn new(store: SharedStore) -> Self {
        ForgetService { store }
    }

    pub fn preview(&self, user: UserId) -> Result<ForgetPreview, StoreError> {
        let stored = self.store.messages_by_user(user, PREVIEW_CAP + 1)?.len();
        let chats = self.store.chats_of_user(user)?.len() as u64;
        Ok(ForgetPreview {
            messages: stored.min(PREVIEW_CAP) as u64,
            more: stored > PREVIEW_CAP,
            chats,
        })
    }

    /// Erase the user (see the module documentation). `now` is the key-value clock.
    pub fn forget(&self, user: UserId, now: UnixMillis) -> Result<ForgetReport, StoreError> {
        let mut report = ForgetReport::default();
        loop {
            let page = self.store.messages_by_user(user, PAGE)?;
            if page.is_empty() {
                break;
            }
            let keys: Vec<_> = page.iter().map(|m| (m.chat_id, m.message_id)).collect();
            let removed = self.store.delete_messages(&keys)?;
            report.messages += removed;
            if removed == 0 {
                // Listed but not removable: never loop on it.
                tracing::warn!(
                    user = user.0,
                    "messages listed for /forget were not removed"
                );
                break;
            }
        }

        if let Some(key) = keys::private_dialogue_key(user) {
            report.keys += self.store.kv_del(&[key.as_str()], now)?;
        }
        let prefix = keys::user_prefix(user);
        loop {
            let found = self.store.kv_scan_prefix(&prefix, now, KEY_PAGE)?;
            if found.is_empty() {
                break;
            }
            let names: Vec<&str> = found.iter().map(|(k, _)| k.as_str()).collect();
            let removed = self.store.kv_del(&names, now)?;
            report.keys += removed;
            if removed == 0 {
                break;
            }
        }

        let gone = self.store.forget_user(user)?;
        report.memberships = gone.memberships;
        report.user_row = gone.user_row;
        report.private_chat = gone.private_chat;
        report.settings = gone.settings;
        report.broadcast_rows = gone.broadcast_rows;
        tracing::info!(
            user = user.0,
            messages = report.messages,
            memberships = report.memberships,
            keys = report.keys,
            "user forgotten"
        );
        Ok(report)
    }
}
