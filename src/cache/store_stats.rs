//! [`StatsRepo`] through the cache: statistics are read from the store's counters each time
//! (they change with every ingested message and are cheap range scans), so every call passes
//! straight through.

use super::store::CachedStore;
use crate::domain::{
    ChatDay, ChatId, Day, MessageKind, PosterCount, PosterRank, StatsPeriod, UserId,
};
use crate::store::{StatsRepo, StoreResult};

impl StatsRepo for CachedStore {
    fn chat_days(&self, chat: ChatId, from: Day, to: Day) -> StoreResult<Vec<ChatDay>> {
        self.inner().chat_days(chat, from, to)
    }
    fn chat_hours(&self, chat: ChatId) -> StoreResult<Vec<u64>> {
        self.inner().chat_hours(chat)
    }
    fn chat_kinds(&self, chat: ChatId) -> StoreResult<Vec<(MessageKind, u64)>> {
        self.inner().chat_kinds(chat)
    }
    fn active_members(&self, chat: ChatId, period: StatsPeriod) -> StoreResult<u64> {
        self.inner().active_members(chat, period)
    }
    fn top_posters(
        &self,
        chat: ChatId,
        period: StatsPeriod,
        limit: usize,
    ) -> StoreResult<Vec<PosterCount>> {
        self.inner().top_posters(chat, period, limit)
    }
    fn poster_rank(
        &self,
        chat: ChatId,
        user: UserId,
        period: StatsPeriod,
    ) -> StoreResult<Option<PosterRank>> {
        self.inner().poster_rank(chat, user, period)
    }
    fn forget_user_stats(&self, user: UserId) -> StoreResult<u64> {
        self.inner().forget_user_stats(user)
    }
}
