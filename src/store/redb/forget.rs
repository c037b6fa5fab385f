//! `forget_user` (`/forget`): everything stored about a user apart from messages and key-value
//! keys, removed in one durable transaction. Messages go first through `delete_messages` (so the
//! search index follows); per-chat counters stay.

use super::RedbStore;
use super::codec;
use super::errors::store_err;
use super::tables::{
    CHATS, MEMBER_CHATS, MEMBERS, MESSAGES, USER_SETTINGS, USERS, USERS_BY_ACTIVITY,
    USERS_BY_USERNAME, USERS_NO_ANNOUNCEMENTS,
};
use crate::domain::{ChatId, ChatKind, UserId, normalize_username};
use crate::store::{ForgottenUser, StoreResult};
use redb::ReadableTable;

impl RedbStore {
    pub(super) fn forget_user_txn(&self, id: UserId) -> StoreResult<ForgottenUser> {
        self.write(|txn| {
            let mut out = ForgottenUser::default();
            let mut users = txn.open_table(USERS).map_err(store_err)?;
            let mut by_activity = txn.open_table(USERS_BY_ACTIVITY).map_err(store_err)?;
            let mut by_username = txn.open_table(USERS_BY_USERNAME).map_err(store_err)?;
            let removed = users.remove(id.0).map_err(store_err)?;
            if let Some(row) = removed {
                let user = codec::decode_user(id, row.value())?;
                drop(row);
                out.user_row = true;
                by_activity
                    .remove((user.last_activity_at.0, id.0))
                    .map_err(store_err)?;
                if let Some(name) = user.username.as_deref().map(normalize_username)
                    && !name.is_empty()
                {
                    let points_here = by_username
                        .get(name.as_str())
                        .map_err(store_err)?
                        .map(|g| g.value())
                        == Some(id.0);
                    if points_here {
                        by_username.remove(name.as_str()).map_err(store_err)?;
                    }
                }
            }

            let mut members = txn.open_table(MEMBERS).map_err(store_err)?;
            let mut member_chats = txn.open_table(MEMBER_CHATS).map_err(store_err)?;
            let mut chats = Vec::new();
            for row in member_chats
                .range((id.0, i64::MIN)..=(id.0, i64::MAX))
                .map_err(store_err)?
            {
                let (key, _) = row.map_err(store_err)?;
                chats.push(key.value().1);
            }
            for chat in chats {
                member_chats.remove((id.0, chat)).map_err(store_err)?;
                if members.remove((chat, id.0)).map_err(store_err)?.is_some() {
                    out.memberships += 1;
                }
            }

            // The private chat with the bot has the user's id and carries their name.
            let private = i64::try_from(id.0).ok();
            if let Some(chat_id) = private {
                let mut chat_table = txn.open_table(CHATS).map_err(store_err)?;
                let messages = txn.open_table(MESSAGES).map_err(store_err)?;
                let is_private = match chat_table.get(chat_id).map_err(store_err)? {
                    Some(g) => {
                        codec::decode_chat(ChatId(chat_id), g.value())?.kind == ChatKind::Private
                    }
                    None => false,
                };
                let empty = messages
                    .range((chat_id, i32::MIN)..=(chat_id, i32::MAX))
                    .map_err(store_err)?
                    .next()
                    .is_none();
                if is_private && empty {
                    chat_table.remove(chat_id).map_err(store_err)?;
                    out.private_chat = true;
                }
            }

            let mut settings = txn.open_table(USER_SETTINGS).map_err(store_err)?;
            let mut muted = txn.open_table(USERS_NO_ANNOUNCEMENTS).map_err(store_err)?;
            muted.remove(id.0).map_err(store_err)?;
            out.settings = settings.remove(id.0).map_err(store_err)?.is_some();
            Ok(out)
        })
    }
}
