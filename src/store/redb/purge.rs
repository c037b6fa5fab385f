//! Removing stored messages (retention, `/forget`): the rows, their index rows, and an outbox
//! `Delete` per message so the search index follows, all in one durable transaction. Counters
//! on users, members and chats are left as they are.

use super::RedbStore;
use super::codec;
use super::errors::store_err;
use super::meta;
use super::tables::{MESSAGES, MESSAGES_BY_TIME, MESSAGES_BY_USER, META, SEARCH_OUTBOX};
use crate::domain::{ChatId, MessageId, OutboxEntry, OutboxOp};
use crate::store::StoreResult;

impl RedbStore {
    pub(super) fn delete_messages_txn(&self, keys: &[(ChatId, MessageId)]) -> StoreResult<u64> {
        if keys.is_empty() {
            return Ok(0);
        }
        self.write(|txn| {
            let mut messages = txn.open_table(MESSAGES).map_err(store_err)?;
            let mut by_time = txn.open_table(MESSAGES_BY_TIME).map_err(store_err)?;
            let mut by_user = txn.open_table(MESSAGES_BY_USER).map_err(store_err)?;
            let mut outbox = txn.open_table(SEARCH_OUTBOX).map_err(store_err)?;
            let mut meta_table = txn.open_table(META).map_err(store_err)?;
            let mut seq = meta::next_outbox_seq(&meta_table)?;
            let mut removed = 0u64;
            for &(chat, msg) in keys {
                let Some(row) = messages.remove((chat.0, msg.0)).map_err(store_err)? else {
                    continue;
                };
                let stored = codec::decode_message(chat, msg, row.value())?;
                drop(row);
                let date = stored.date.0;
                by_time.remove((date, chat.0, msg.0)).map_err(store_err)?;
                if let Some(user) = stored.user_id {
                    by_user
                        .remove((user.0, date, chat.0, msg.0))
                        .map_err(store_err)?;
                }
                let entry = OutboxEntry {
                    seq,
                    chat_id: chat,
                    message_id: msg,
                    op: OutboxOp::Delete,
                };
                outbox
                    .insert(seq, codec::encode_outbox(&entry)?.as_slice())
                    .map_err(store_err)?;
                seq += 1;
                removed += 1;
            }
            meta::put_next_outbox_seq(&mut meta_table, seq)?;
            Ok(removed)
        })
    }
}
