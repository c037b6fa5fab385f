//! [`BroadcastRepo`] on redb: jobs, per-recipient status (with a Pending index, so a batch is a
//! range scan) and the blocked set. Every write is one durable transaction that also updates the
//! job's counters, so the counters always equal the rows.

use super::RedbStore;
use super::broadcast_codec::{decode_job, decode_status, encode_job, encode_status};
use super::errors::store_err;
use super::tables::{BLOCKED_USERS, BROADCAST_JOBS, BROADCAST_PENDING, BROADCAST_RECIPIENTS};
use crate::domain::{
    BroadcastCounts, BroadcastId, BroadcastJob, JobState, NewBroadcast, RecipientStatus,
    UnixMillis, UserId,
};
use crate::store::{BroadcastRepo, StoreError, StoreResult};
use redb::{Durability, ReadableTable, ReadableTableMetadata, Table, WriteTransaction};
use std::collections::BTreeSet;

impl RedbStore {
    /// One durable write transaction.
    fn write_durable<T>(
        &self,
        f: impl FnOnce(&WriteTransaction) -> StoreResult<T>,
    ) -> StoreResult<T> {
        self.with_db(|db| {
            let mut txn = db.begin_write().map_err(store_err)?;
            txn.set_durability(Durability::Immediate)
                .map_err(store_err)?;
            let out = f(&txn)?;
            txn.commit().map_err(store_err)?;
            Ok(out)
        })
    }
}

pub(super) fn load_job(
    jobs: &impl ReadableTable<u64, &'static [u8]>,
    id: BroadcastId,
) -> StoreResult<Option<BroadcastJob>> {
    match jobs.get(id.0).map_err(store_err)? {
        Some(v) => Ok(Some(decode_job(id.0, v.value())?)),
        None => Ok(None),
    }
}

pub(super) fn save_job(
    jobs: &mut Table<u64, &'static [u8]>,
    job: &BroadcastJob,
) -> StoreResult<()> {
    let bytes = encode_job(job)?;
    jobs.insert(job.id.0, bytes.as_slice()).map_err(store_err)?;
    Ok(())
}

/// Account the running time up to `now` (the rate ignores paused spans).
fn tick(job: &mut BroadcastJob, now: UnixMillis) {
    if let Some(since) = job.running_since_ms {
        job.active_ms += now.saturating_sub(since).max(0) as u64;
        job.running_since_ms = Some(now);
    }
}

fn set_state(job: &mut BroadcastJob, to: JobState, now: UnixMillis) {
    tick(job, now);
    job.running_since_ms = (to == JobState::Running).then_some(now);
    if to.is_final() && job.finished_ms.is_none() {
        job.finished_ms = Some(now);
    }
    job.state = to;
}

fn missing_job(id: BroadcastId) -> StoreError {
    StoreError::Backend(format!("broadcast {id} does not exist"))
}

fn same_kind(a: &RecipientStatus, b: &RecipientStatus) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

impl BroadcastRepo for RedbStore {
    fn create_broadcast(&self, new: &NewBroadcast, now: UnixMillis) -> StoreResult<BroadcastJob> {
        self.write_durable(|txn| {
            let mut jobs = txn.open_table(BROADCAST_JOBS).map_err(store_err)?;
            let next = match jobs.last().map_err(store_err)? {
                Some((k, _)) => k.value() + 1,
                None => 1,
            };
            let job = BroadcastJob {
                id: BroadcastId(next),
                html: new.html.clone(),
                audience: new.audience.clone(),
                state: JobState::Queued,
                created_ms: now,
                started_ms: None,
                finished_ms: None,
                active_ms: 0,
                running_since_ms: None,
                counts: BroadcastCounts::default(),
            };
            save_job(&mut jobs, &job)?;
            Ok(job)
        })
    }

    fn broadcast(&self, id: BroadcastId) -> StoreResult<Option<BroadcastJob>> {
        self.read(|txn| load_job(&txn.open_table(BROADCAST_JOBS).map_err(store_err)?, id))
    }

    fn broadcasts(&self, limit: usize) -> StoreResult<Vec<BroadcastJob>> {
        self.read(|txn| {
            let jobs = txn.open_table(BROADCAST_JOBS).map_err(store_err)?;
            let mut out = Vec::new();
            for row in jobs.iter().map_err(store_err)?.rev().take(limit) {
                let (k, v) = row.map_err(store_err)?;
                out.push(decode_job(k.value(), v.value())?);
            }
            Ok(out)
        })
    }

    fn transition_broadcast(
        &self,
        id: BroadcastId,
        from: &[JobState],
        to: JobState,
        now: UnixMillis,
    ) -> StoreResult<Option<Result<BroadcastJob, JobState>>> {
        self.write_durable(|txn| {
            let mut jobs = txn.open_table(BROADCAST_JOBS).map_err(store_err)?;
            let Some(mut job) = load_job(&jobs, id)? else {
                return Ok(None);
            };
            if !from.contains(&job.state) {
                return Ok(Some(Err(job.state)));
            }
            set_state(&mut job, to, now);
            save_job(&mut jobs, &job)?;
            Ok(Some(Ok(job)))
        })
    }

    fn start_broadcast(
        &self,
        id: BroadcastId,
        users: &[UserId],
        now: UnixMillis,
    ) -> StoreResult<Option<Result<BroadcastJob, JobState>>> {
        self.write_durable(|txn| {
            let mut jobs = txn.open_table(BROADCAST_JOBS).map_err(store_err)?;
            let Some(mut job) = load_job(&jobs, id)? else {
                return Ok(None);
            };
            if job.state != JobState::Queued {
                return Ok(Some(Err(job.state)));
            }
            let blocked = txn.open_table(BLOCKED_USERS).map_err(store_err)?;
            let mut recipients = txn.open_table(BROADCAST_RECIPIENTS).map_err(store_err)?;
            let mut pending = txn.open_table(BROADCAST_PENDING).map_err(store_err)?;
            let pending_bytes = encode_status(&RecipientStatus::Pending)?;
            let unique: BTreeSet<u64> = users.iter().map(|u| u.0).collect();
            for user in unique {
                if blocked.get(user).map_err(store_err)?.is_some() {
                    job.counts.skipped_blocked += 1;
                    continue;
                }
                recipients
                    .insert((id.0, user), pending_bytes.as_slice())
                    .map_err(store_err)?;
                pending.insert((id.0, user), ()).map_err(store_err)?;
                job.counts.pending += 1;
            }
            job.started_ms = Some(now);
            set_state(&mut job, JobState::Running, now);
            save_job(&mut jobs, &job)?;
            Ok(Some(Ok(job)))
        })
    }

    fn recover_broadcast(&self, id: BroadcastId) -> StoreResult<u64> {
        self.write_durable(|txn| {
            let mut jobs = txn.open_table(BROADCAST_JOBS).map_err(store_err)?;
            let Some(mut job) = load_job(&jobs, id)? else {
                return Err(missing_job(id));
            };
            if job.counts.in_flight == 0 {
                return Ok(0);
            }
            let mut recipients = txn.open_table(BROADCAST_RECIPIENTS).map_err(store_err)?;
            let mut stuck = Vec::new();
            for row in recipients
                .range((id.0, 0)..=(id.0, u64::MAX))
                .map_err(store_err)?
            {
                let (k, v) = row.map_err(store_err)?;
                if decode_status(v.value())? == RecipientStatus::InFlight {
                    stuck.push(k.value().1);
                }
            }
            let uncertain = encode_status(&RecipientStatus::Uncertain)?;
            for user in &stuck {
                recipients
                    .insert((id.0, *user), uncertain.as_slice())
                    .map_err(store_err)?;
                job.counts
                    .shift(&RecipientStatus::InFlight, &RecipientStatus::Uncertain);
            }
            save_job(&mut jobs, &job)?;
            Ok(stuck.len() as u64)
        })
    }

    fn claim_broadcast_batch(&self, id: BroadcastId, limit: usize) -> StoreResult<Vec<UserId>> {
        self.write_durable(|txn| {
            let mut jobs = txn.open_table(BROADCAST_JOBS).map_err(store_err)?;
            let Some(mut job) = load_job(&jobs, id)? else {
                return Err(missing_job(id));
            };
            let mut pending = txn.open_table(BROADCAST_PENDING).map_err(store_err)?;
            let mut claimed = Vec::new();
            for row in pending
                .range((id.0, 0)..=(id.0, u64::MAX))
                .map_err(store_err)?
                .take(limit)
            {
                let (k, _) = row.map_err(store_err)?;
                claimed.push(k.value().1);
            }
            let mut recipients = txn.open_table(BROADCAST_RECIPIENTS).map_err(store_err)?;
            let in_flight = encode_status(&RecipientStatus::InFlight)?;
            for user in &claimed {
                pending.remove((id.0, *user)).map_err(store_err)?;
                recipients
                    .insert((id.0, *user), in_flight.as_slice())
                    .map_err(store_err)?;
                job.counts
                    .shift(&RecipientStatus::Pending, &RecipientStatus::InFlight);
            }
            if !claimed.is_empty() {
                save_job(&mut jobs, &job)?;
            }
            Ok(claimed.into_iter().map(UserId).collect())
        })
    }

    fn record_broadcast_results(
        &self,
        id: BroadcastId,
        results: &[(UserId, RecipientStatus)],
        now: UnixMillis,
    ) -> StoreResult<BroadcastJob> {
        self.write_durable(|txn| {
            let mut jobs = txn.open_table(BROADCAST_JOBS).map_err(store_err)?;
            let Some(mut job) = load_job(&jobs, id)? else {
                return Err(missing_job(id));
            };
            let mut recipients = txn.open_table(BROADCAST_RECIPIENTS).map_err(store_err)?;
            let mut pending = txn.open_table(BROADCAST_PENDING).map_err(store_err)?;
            let mut blocked = txn.open_table(BLOCKED_USERS).map_err(store_err)?;
            for (user, status) in results {
                let key = (id.0, user.0);
                let current = match recipients.get(key).map_err(store_err)? {
                    Some(v) => decode_status(v.value())?,
                    None => continue,
                };
                if current != RecipientStatus::InFlight || *status == RecipientStatus::InFlight {
                    continue;
                }
                let bytes = encode_status(status)?;
                recipients
                    .insert(key, bytes.as_slice())
                    .map_err(store_err)?;
                match status {
                    RecipientStatus::Pending => {
                        pending.insert(key, ()).map_err(store_err)?;
                    }
                    RecipientStatus::Blocked => {
                        blocked.insert(user.0, now).map_err(store_err)?;
                    }
                    _ => {}
                }
                job.counts.shift(&current, status);
            }
            tick(&mut job, now);
            save_job(&mut jobs, &job)?;
            Ok(job)
        })
    }

    fn broadcast_recipients(
        &self,
        id: BroadcastId,
        after: Option<UserId>,
        status: Option<&RecipientStatus>,
        limit: usize,
    ) -> StoreResult<Vec<(UserId, RecipientStatus)>> {
        self.read(|txn| {
            let recipients = txn.open_table(BROADCAST_RECIPIENTS).map_err(store_err)?;
            let start = match after {
                Some(u) if u.0 == u64::MAX => return Ok(Vec::new()),
                Some(u) => u.0 + 1,
                None => 0,
            };
            let mut out = Vec::new();
            for row in recipients
                .range((id.0, start)..=(id.0, u64::MAX))
                .map_err(store_err)?
            {
                if out.len() >= limit {
                    break;
                }
                let (k, v) = row.map_err(store_err)?;
                let s = decode_status(v.value())?;
                if status.is_none_or(|want| same_kind(want, &s)) {
                    out.push((UserId(k.value().1), s));
                }
            }
            Ok(out)
        })
    }

    fn is_blocked(&self, user: UserId) -> StoreResult<bool> {
        self.read(|txn| {
            let t = txn.open_table(BLOCKED_USERS).map_err(store_err)?;
            Ok(t.get(user.0).map_err(store_err)?.is_some())
        })
    }

    fn blocked_count(&self) -> StoreResult<u64> {
        self.read(|txn| {
            let t = txn.open_table(BLOCKED_USERS).map_err(store_err)?;
            t.len().map_err(store_err)
        })
    }
}
