//! `forget_user` (`/forget`): everything stored about a user apart from messages and key-value
//! keys, removed in one durable transaction. Messages go first through `delete_messages` (so the
//! search index follows); per-chat counters stay.

use super::RedbStore;
use super::broadcast::{load_job, save_job};
use super::broadcast_codec::decode_status;
use super::codec;
use super::errors::store_err;
use super::tables::{BLOCKED_USERS, BROADCAST_JOBS, BROADCAST_PENDING, BROADCAST_RECIPIENTS};
use super::tables::{
    CHATS, MEMBER_CHATS, MEMBERS, MESSAGES, USER_SETTINGS, USERS, USERS_BY_ACTIVITY,
    USERS_BY_USERNAME, USERS_NO_ANNOUNCEMENTS,
};
use crate::domain::{BroadcastId, ChatId, ChatKind, RecipientStatus, UserId, normalize_username};
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

            // Broadcast rows name the user: remove them. A finished status stays counted in its
            // job (an anonymous total); a Pending recipient leaves the job (never sent); one in
            // flight right now is counted as uncertain (it may have been sent).
            let mut jobs = txn.open_table(BROADCAST_JOBS).map_err(store_err)?;
            let mut recipients = txn.open_table(BROADCAST_RECIPIENTS).map_err(store_err)?;
            let mut pending = txn.open_table(BROADCAST_PENDING).map_err(store_err)?;
            let mut job_ids = Vec::new();
            for row in jobs.iter().map_err(store_err)? {
                job_ids.push(row.map_err(store_err)?.0.value());
            }
            for job_id in job_ids {
                let Some(row) = recipients.remove((job_id, id.0)).map_err(store_err)? else {
                    continue;
                };
                let status = decode_status(row.value())?;
                drop(row);
                out.broadcast_rows += 1;
                pending.remove((job_id, id.0)).map_err(store_err)?;
                let Some(mut job) = load_job(&jobs, BroadcastId(job_id))? else {
                    continue;
                };
                match status {
                    RecipientStatus::Pending => {
                        job.counts.pending = job.counts.pending.saturating_sub(1);
                    }
                    RecipientStatus::InFlight => {
                        job.counts.in_flight = job.counts.in_flight.saturating_sub(1);
                        job.counts.uncertain += 1;
                    }
                    _ => {}
                }
                save_job(&mut jobs, &job)?;
            }
            let mut blocked = txn.open_table(BLOCKED_USERS).map_err(store_err)?;
            out.blocked_mark = blocked.remove(id.0).map_err(store_err)?.is_some();
            // Statistics: the per-day rows name the user; the chats' counters are anonymous and
            // stay.
            super::stats::forget_user_rows(txn, id)?;
            Ok(out)
        })
    }
}
