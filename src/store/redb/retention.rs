//! [`RetentionRepo`] for redb: the override is a field of the chat row (`Chat::retention_days`),
//! which ingest carries over when it rewrites a chat. Listing the overrides reads the `chats`
//! table, which holds one row per chat the bot is in (hundreds, not millions).

use super::RedbStore;
use super::codec;
use super::errors::store_err;
use super::tables::{CHATS, MESSAGES_BY_TIME};
use crate::domain::{ChatId, MessageId, Timestamp};
use crate::store::{RetentionRepo, StoreResult};
use redb::ReadableTable;
use std::ops::Bound;

impl RetentionRepo for RedbStore {
    fn set_chat_retention(&self, chat: ChatId, days: Option<u32>) -> StoreResult<bool> {
        self.write(|txn| {
            let mut chats = txn.open_table(CHATS).map_err(store_err)?;
            let stored = match chats.get(chat.0).map_err(store_err)? {
                Some(g) => Some(codec::decode_chat(chat, g.value())?),
                None => None,
            };
            let Some(mut c) = stored else {
                return Ok(false);
            };
            c.retention_days = days;
            chats
                .insert(chat.0, codec::encode_chat(&c)?.as_slice())
                .map_err(store_err)?;
            Ok(true)
        })
    }

    fn chat_retention_overrides(&self) -> StoreResult<Vec<(ChatId, u32)>> {
        self.read(|txn| {
            let chats = txn.open_table(CHATS).map_err(store_err)?;
            let mut out = Vec::new();
            for row in chats.iter().map_err(store_err)? {
                let (k, v) = row.map_err(store_err)?;
                let id = ChatId(k.value());
                if let Some(days) = codec::decode_chat(id, v.value())?.retention_days {
                    out.push((id, days));
                }
            }
            Ok(out)
        })
    }

    fn messages_by_time_after(
        &self,
        before: Timestamp,
        after: Option<(Timestamp, ChatId, MessageId)>,
        limit: usize,
    ) -> StoreResult<Vec<(Timestamp, ChatId, MessageId)>> {
        self.read(|txn| {
            let index = txn.open_table(MESSAGES_BY_TIME).map_err(store_err)?;
            let start = match after {
                Some((d, c, m)) => Bound::Excluded((d.0, c.0, m.0)),
                None => Bound::Unbounded,
            };
            let end = Bound::Excluded((before.0, i64::MIN, i32::MIN));
            let mut out = Vec::with_capacity(limit.min(1024));
            if after.is_some_and(|(d, _, _)| d >= before) {
                return Ok(out);
            }
            for row in index
                .range::<(i64, i64, i32)>((start, end))
                .map_err(store_err)?
            {
                if out.len() >= limit {
                    break;
                }
                let (k, _) = row.map_err(store_err)?;
                let (d, c, m) = k.value();
                out.push((Timestamp(d), ChatId(c), MessageId(m)));
            }
            Ok(out)
        })
    }
}
