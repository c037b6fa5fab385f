//! [`BroadcastRepo`] through the cache: broadcast rows are not cached (the runner and the page
//! read live progress), so every call passes straight through. Recording a 403 marks a user
//! blocked, which is not a field the cache holds.

use super::store::CachedStore;
use crate::domain::{
    BroadcastId, BroadcastJob, JobState, NewBroadcast, RecipientStatus, UnixMillis, UserId,
};
use crate::store::{BroadcastRepo, StoreResult};

impl BroadcastRepo for CachedStore {
    fn create_broadcast(&self, new: &NewBroadcast, now: UnixMillis) -> StoreResult<BroadcastJob> {
        self.inner().create_broadcast(new, now)
    }
    fn broadcast(&self, id: BroadcastId) -> StoreResult<Option<BroadcastJob>> {
        self.inner().broadcast(id)
    }
    fn broadcasts(&self, limit: usize) -> StoreResult<Vec<BroadcastJob>> {
        self.inner().broadcasts(limit)
    }
    fn transition_broadcast(
        &self,
        id: BroadcastId,
        from: &[JobState],
        to: JobState,
        now: UnixMillis,
    ) -> StoreResult<Option<Result<BroadcastJob, JobState>>> {
        self.inner().transition_broadcast(id, from, to, now)
    }
    fn start_broadcast(
        &self,
        id: BroadcastId,
        users: &[UserId],
        now: UnixMillis,
    ) -> StoreResult<Option<Result<BroadcastJob, JobState>>> {
        self.inner().start_broadcast(id, users, now)
    }
    fn recover_broadcast(&self, id: BroadcastId) -> StoreResult<u64> {
        self.inner().recover_broadcast(id)
    }
    fn claim_broadcast_batch(&self, id: BroadcastId, limit: usize) -> StoreResult<Vec<UserId>> {
        self.inner().claim_broadcast_batch(id, limit)
    }
    fn record_broadcast_results(
        &self,
        id: BroadcastId,
        results: &[(UserId, RecipientStatus)],
        now: UnixMillis,
    ) -> StoreResult<BroadcastJob> {
        self.inner().record_broadcast_results(id, results, now)
    }
    fn broadcast_recipients(
        &self,
        id: BroadcastId,
        after: Option<UserId>,
        status: Option<&RecipientStatus>,
        limit: usize,
    ) -> StoreResult<Vec<(UserId, RecipientStatus)>> {
        self.inner().broadcast_recipients(id, after, status, limit)
    }
    fn is_blocked(&self, user: UserId) -> StoreResult<bool> {
        self.inner().is_blocked(user)
    }
    fn blocked_count(&self) -> StoreResult<u64> {
        self.inner().blocked_count()
    }
}
