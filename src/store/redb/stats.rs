//! [`StatsRepo`] for redb: range scans over the counter tables that ingest keeps (see
//! `counters.rs`), one read transaction per call. A period of days reads `chat_user_daily` for
//! those days only (O(member-days)); all-time rankings read the chat's `members` rows
//! (O(members)). Nothing here reads messages.

use super::RedbStore;
use super::codec;
use super::counters::decode_day;
use super::errors::store_err;
use super::tables::{CHAT_DAILY, CHAT_HOURLY, CHAT_KINDS, CHAT_USER_DAILY, MEMBERS};
use crate::domain::{
    ChatDay, ChatId, Day, HOURS_PER_WEEK, MessageKind, PosterCount, PosterRank, StatsPeriod, UserId,
};
use crate::store::{StatsRepo, StoreError, StoreResult};
use redb::{ReadTransaction, ReadableTable, TableDefinition, TableError, WriteTransaction};
use std::collections::BTreeMap;

/// Open a table for reading; `None` when it does not exist yet (a file written before the
/// statistics tables, whose counters are then simply empty).
fn open<K: redb::Key + 'static, V: redb::Value + 'static>(
    txn: &ReadTransaction,
    def: TableDefinition<K, V>,
) -> StoreResult<Option<redb::ReadOnlyTable<K, V>>> {
    match txn.open_table(def) {
        Ok(t) => Ok(Some(t)),
        Err(TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(store_err(e)),
    }
}

fn corrupt(table: &'static str, detail: String) -> StoreError {
    StoreError::Corrupt { table, detail }
}

/// Messages per member of `chat` in `period`, members with none left out.
fn tally(
    txn: &ReadTransaction,
    chat: ChatId,
    period: StatsPeriod,
) -> StoreResult<BTreeMap<UserId, u64>> {
    let mut out: BTreeMap<UserId, u64> = BTreeMap::new();
    match period {
        StatsPeriod::Days { from, to } => {
            if from > to {
                return Ok(out);
            }
            let Some(table) = open(txn, CHAT_USER_DAILY)? else {
                return Ok(out);
            };
            let range = (chat.0, from.0, 0)..=(chat.0, to.0, u64::MAX);
            for row in table.range(range).map_err(store_err)? {
                let (k, v) = row.map_err(store_err)?;
                let (_, _, user) = k.value();
                let n = out.entry(UserId(user)).or_default();
                *n = n.saturating_add(v.value());
            }
        }
        StatsPeriod::AllTime => {
            let members = txn.open_table(MEMBERS).map_err(store_err)?;
            for row in members
                .range((chat.0, 0)..=(chat.0, u64::MAX))
                .map_err(store_err)?
            {
                let (k, v) = row.map_err(store_err)?;
                let (_, user) = k.value();
                let m = codec::decode_member(chat, UserId(user), v.value())?;
                if m.message_count > 0 {
                    out.insert(m.user_id, m.message_count);
                }
            }
        }
    }
    Ok(out)
}

impl StatsRepo for RedbStore {
    fn chat_days(&self, chat: ChatId, from: Day, to: Day) -> StoreResult<Vec<ChatDay>> {
        if from > to {
            return Ok(Vec::new());
        }
        self.read(|txn| {
            let Some(table) = open(txn, CHAT_DAILY)? else {
                return Ok(Vec::new());
            };
            let mut out = Vec::new();
            for row in table
                .range((chat.0, from.0)..=(chat.0, to.0))
                .map_err(store_err)?
            {
                let (k, v) = row.map_err(store_err)?;
                out.push(decode_day(Day(k.value().1), v.value())?);
            }
            Ok(out)
        })
    }

    fn chat_hours(&self, chat: ChatId) -> StoreResult<Vec<u64>> {
        self.read(|txn| {
            let mut out = vec![0u64; HOURS_PER_WEEK];
            let Some(table) = open(txn, CHAT_HOURLY)? else {
                return Ok(out);
            };
            for row in table
                .range((chat.0, 0)..=(chat.0, u8::MAX))
                .map_err(store_err)?
            {
                let (k, v) = row.map_err(store_err)?;
                let hour = k.value().1;
                let slot = out.get_mut(usize::from(hour)).ok_or_else(|| {
                    corrupt("chat_hourly", format!("hour of week {hour} out of range"))
                })?;
                *slot = v.value();
            }
            Ok(out)
        })
    }

    fn chat_kinds(&self, chat: ChatId) -> StoreResult<Vec<(MessageKind, u64)>> {
        self.read(|txn| {
            let mut out = Vec::new();
            let Some(table) = open(txn, CHAT_KINDS)? else {
                return Ok(out);
            };
            for row in table
                .range((chat.0, 0)..=(chat.0, u8::MAX))
                .map_err(store_err)?
            {
                let (k, v) = row.map_err(store_err)?;
                let n = k.value().1;
                let kind = MessageKind::from_u8(n)
                    .ok_or_else(|| corrupt("chat_kinds", format!("unknown message kind {n}")))?;
                if v.value() > 0 {
                    out.push((kind, v.value()));
                }
            }
            Ok(out)
        })
    }

    fn active_members(&self, chat: ChatId, period: StatsPeriod) -> StoreResult<u64> {
        self.read(|txn| Ok(tally(txn, chat, period)?.len() as u64))
    }

    fn top_posters(
        &self,
        chat: ChatId,
        period: StatsPeriod,
        limit: usize,
    ) -> StoreResult<Vec<PosterCount>> {
        self.read(|txn| {
            let mut all: Vec<PosterCount> = tally(txn, chat, period)?
                .into_iter()
                .map(|(user, messages)| PosterCount { user, messages })
                .collect();
            all.sort_by(|a, b| b.messages.cmp(&a.messages).then(a.user.cmp(&b.user)));
            all.truncate(limit);
            Ok(all)
        })
    }

    fn poster_rank(
        &self,
        chat: ChatId,
        user: UserId,
        period: StatsPeriod,
    ) -> StoreResult<Option<PosterRank>> {
        self.read(|txn| {
            let counts = tally(txn, chat, period)?;
            let Some(&messages) = counts.get(&user) else {
                return Ok(None);
            };
            let ahead = counts.values().filter(|&&n| n > messages).count() as u64;
            Ok(Some(PosterRank {
                rank: ahead + 1,
                of: counts.len() as u64,
                messages,
            }))
        })
    }

    fn forget_user_stats(&self, user: UserId) -> StoreResult<u64> {
        self.write(|txn| forget_user_rows(txn, user))
    }
}

/// Remove `user`'s `chat_user_daily` rows in `txn` (also part of `UserRepo::forget_user`):
/// one point removal per (chat, day) with anything counted, so no index by user is needed.
pub(super) fn forget_user_rows(txn: &WriteTransaction, user: UserId) -> StoreResult<u64> {
    // Every (chat, day) with anything counted; the user's row, if any, is keyed by it.
    let mut days = Vec::new();
    {
        let daily = txn.open_table(CHAT_DAILY).map_err(store_err)?;
        for row in daily.iter().map_err(store_err)? {
            let (k, _) = row.map_err(store_err)?;
            days.push(k.value());
        }
    }
    let mut user_daily = txn.open_table(CHAT_USER_DAILY).map_err(store_err)?;
    let mut removed = 0u64;
    for (chat, day) in days {
        if user_daily
            .remove((chat, day, user.0))
            .map_err(store_err)?
            .is_some()
        {
            removed += 1;
        }
    }
    Ok(removed)
}
