//! Durable broadcasts: the job runner, backend-neutral (the store through its traits, Telegram
//! through [`BroadcastTransport`]).
//!
//! **At most once per recipient.** The runner claims a batch (Pending -> InFlight, one durable
//! transaction), sends it, then records every outcome (one durable transaction). A crash between
//! the two leaves InFlight rows, which the next start turns into Uncertain: reported, never
//! resent. A 429 means "not delivered", so that recipient goes back to Pending and is retried
//! after `retry_after`, during which the whole job waits. A 403 marks the user blocked (later jobs
//! skip them); other API errors are recorded as Failed; a lost answer (network error, garbled
//! body) is Uncertain, because the message may have gone out.
//!
//! **Batch size** ([`BroadcastSettings::batch`], 8): recipients are claimed and recorded 8 at a
//! time, and the commits run while the previous batch is being sent (pipelined), so a commit
//! never stalls the sender. After a kill at most three batches (24) can be Uncertain: the one
//! being sent, the one claimed next, and the outcomes not yet recorded. At 29 messages/s that is
//! ~7 durable commits/s, far below what the store sustains.
//!
//! **Rate.** [`Pacer`] spaces sends `interval` apart and never lets more than `max_per_window`
//! go out in any sliding second. Replies elsewhere go through teloxide's Throttle; while a job is
//! sending the transport lowers the Throttle's global limit to the reply share (see
//! [`BroadcastTransport::set_sending`]), so broadcast + replies stay within Telegram's 30/s.
//!
//! **One job at a time.** The runner takes the oldest Running job (a resumed one), else starts
//! the oldest Queued one (snapshotting its recipients). The dashboard only writes job states to
//! the store; the runner notices within `idle_poll` (and between batches for pause/cancel).

use super::pacer::{Pacer, PacerLimits};
use crate::domain::{
    Audience, BroadcastId, BroadcastJob, ChatKind, JobState, MemberStatus, RecipientStatus, UserId,
    now_millis,
};
use crate::store::{SharedStore, StoreError};
use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Why a send did not deliver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendFailure {
    /// 429: not delivered; wait this long, then retry.
    RetryAfter(Duration),
    /// 403: the user blocked the bot (or deleted the account).
    Blocked,
    /// Any other refusal, with Telegram's description.
    Other(String),
    /// No usable answer (network error, garbled body): it may or may not have been delivered.
    Unknown(String),
}

pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), SendFailure>> + Send + 'a>>;

/// How the runner reaches Telegram. Implemented with teloxide in `bot/`, by fakes in tests.
pub trait BroadcastTransport: Send + Sync + 'static {
    /// Send `html` (Telegram HTML) to the user's private chat.
    fn send_html<'a>(&'a self, user: UserId, html: &'a str) -> SendFuture<'a>;
    /// Called with `true` before a job starts sending and `false` after it stops, so the
    /// implementation can hand the rest of the global budget to replies.
    fn set_sending(&self, _active: bool) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(async {})
    }
}

#[derive(Clone, Debug)]
pub struct BroadcastSettings {
    pub pacer: PacerLimits,
    /// Recipients claimed per durable transaction (at most this many Uncertain after a crash).
    pub batch: usize,
    /// How often an idle runner looks for work.
    pub idle_poll: Duration,
}

/// Telegram's global limit is 30 messages/s; replies keep 1/s of it while a job sends.
pub const TELEGRAM_PER_SECOND: usize = 30;
pub const REPLY_SHARE_PER_SECOND: usize = 1;

impl Default for BroadcastSettings {
    fn default() -> Self {
        BroadcastSettings {
            pacer: PacerLimits {
                interval: Duration::from_millis(34),
                max_in_window: TELEGRAM_PER_SECOND - REPLY_SHARE_PER_SECOND,
                window: Duration::from_secs(1),
            },
            batch: 8,
            idle_poll: Duration::from_secs(1),
        }
    }
}

/// The recipients of an audience: users with a private chat with the bot (the bot may only
/// write to users who wrote to it first; the store knows them by their private chat, whose id is
/// the user id), filtered by the audience. Announcements skip users who turned them off in
/// `/settings` (the default is on).
pub fn resolve_audience(
    store: &SharedStore,
    audience: &Audience,
    now_secs: i64,
) -> Result<Vec<UserId>, StoreError> {
    let private: BTreeSet<u64> = store
        .chats()?
        .into_iter()
        .filter(|c| c.kind == ChatKind::Private && c.id.0 > 0)
        .map(|c| c.id.0 as u64)
        .collect();
    let mut out = Vec::new();
    match audience {
        Audience::Announcements => {
            let off: BTreeSet<UserId> = store.users_without_announcements()?.into_iter().collect();
            out.extend(private.into_iter().map(UserId).filter(|u| !off.contains(u)));
        }
        Audience::ActiveWithin { days } => {
            let cutoff = now_secs - i64::from(*days) * 86_400;
            for u in store.users_by_activity(private.len().max(1) * 4 + 100_000)? {
                if u.last_activity_at.0 < cutoff {
                    break;
                }
                if private.contains(&u.id.0) {
                    out.push(u.id);
                }
            }
        }
        Audience::MembersOf { chat } => {
            for m in store.members_of(*chat, usize::MAX)? {
                if m.status == MemberStatus::Active && private.contains(&m.user_id.0) {
                    out.push(m.user_id);
                }
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The job runner: a task on the app's tracker (see [`BroadcastRunner::run`]).
pub struct BroadcastRunner {
    store: SharedStore,
    transport: Arc<dyn BroadcastTransport>,
    settings: BroadcastSettings,
}

/// What a runner stopped for.
enum Stop {
    /// The job left Running (paused, cancelled, done).
    Job,
    /// Shutdown.
    Shutdown,
}

impl BroadcastRunner {
    pub fn new(
        store: SharedStore,
        transport: Arc<dyn BroadcastTransport>,
        settings: BroadcastSettings,
    ) -> BroadcastRunner {
        BroadcastRunner {
            store,
            transport,
            settings,
        }
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(SharedStore) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let store = self.store.clone();
        match tokio::task::spawn_blocking(move || f(store)).await {
            Ok(r) => r,
            Err(e) => Err(StoreError::Backend(format!("store task failed: {e}"))),
        }
    }

    /// Turn InFlight rows of every unfinished job into Uncertain (the process died mid-batch).
    pub async fn recover(&self) -> Result<u64, StoreError> {
        self.blocking(|s| {
            let mut total = 0;
            for job in s.broadcasts(usize::MAX)? {
                if !job.state.is_final() && job.counts.in_flight > 0 {
                    let n = s.recover_broadcast(job.id)?;
                    tracing::warn!(job = %job.id, uncertain = n, "broadcast recipients in flight at the last stop are uncertain (not resent)");
                    total += n;
                }
            }
            Ok(total)
        })
        .await
    }

    /// Recover, then run jobs one at a time until `shutdown`. Store errors are logged and
    /// retried after a pause; nothing here panics on bad data.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut backoff = Duration::from_secs(1);
        loop {
            match self.recover().await {
                Ok(_) => break,
                Err(e) => {
                    tracing::error!(error = %e, "broadcast recovery failed; retrying");
                    if sleep_or_stop(backoff, &shutdown).await {
                        return;
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(60));
                }
            }
        }
        while !shutdown.is_cancelled() {
            match self.next_job().await {
                Ok(Some(job)) => {
                    self.transport.set_sending(true).await;
                    let stop = self.drive(job.id, &shutdown).await;
                    self.transport.set_sending(false).await;
                    match stop {
                        Ok(Stop::Shutdown) => return,
                        Ok(Stop::Job) => continue,
                        Err(e) => {
                            tracing::error!(job = %job.id, error = %e, "broadcast stopped on a store error; retrying");
                            if sleep_or_stop(Duration::from_secs(5), &shutdown).await {
                                return;
                            }
                        }
                    }
                }
                Ok(None) => {
                    if sleep_or_stop(self.settings.idle_poll, &shutdown).await {
                        return;
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot read broadcast jobs");
                    if sleep_or_stop(Duration::from_secs(5), &shutdown).await {
                        return;
                    }
                }
            }
        }
    }

    /// The oldest Running job, else the oldest Queued one, started now.
    async fn next_job(&self) -> Result<Option<BroadcastJob>, StoreError> {
        self.blocking(move |s| {
            let jobs = s.broadcasts(usize::MAX)?;
            if let Some(j) = jobs.iter().rev().find(|j| j.state == JobState::Running) {
                return Ok(Some(j.clone()));
            }
            let Some(queued) = jobs.iter().rev().find(|j| j.state == JobState::Queued) else {
                return Ok(None);
            };
            let users = resolve_audience(&s, &queued.audience, now_millis() / 1000)?;
            match s.start_broadcast(queued.id, &users, now_millis())? {
                Some(Ok(job)) => {
                    tracing::info!(job = %job.id, recipients = job.counts.pending, skipped_blocked = job.counts.skipped_blocked, "broadcast started");
                    Ok(Some(job))
                }
                // Cancelled meanwhile: look again next time.
                _ => Ok(None),
            }
        })
        .await
    }

    /// Record `done` (outcomes of the last batch), then, if the job is still Running, claim the
    /// next batch. One blocking call, two durable transactions at most.
    async fn step(
        &self,
        id: BroadcastId,
        done: Vec<(UserId, RecipientStatus)>,
        batch: usize,
    ) -> Result<(Option<BroadcastJob>, Vec<UserId>), StoreError> {
        self.blocking(move |s| {
            let job = if done.is_empty() {
                s.broadcast(id)?
            } else {
                Some(s.record_broadcast_results(id, &done, now_millis())?)
            };
            match job {
                Some(job) if job.state == JobState::Running => {
                    let claimed = s.claim_broadcast_batch(id, batch)?;
                    Ok((Some(job), claimed))
                }
                other => Ok((other, Vec::new())),
            }
        })
        .await
    }

    /// Send a Running job until it is done, leaves Running, or shutdown.
    ///
    /// Pipelined: while batch k is being sent, one blocking call records the outcomes of batch
    /// k-1 and claims batch k+1, so commits never stall the sender. In flight at any moment (and
    /// so Uncertain after a kill): at most three batches.
    async fn drive(
        &self,
        id: BroadcastId,
        shutdown: &CancellationToken,
    ) -> Result<Stop, StoreError> {
        let mut pacer = Pacer::new(self.settings.pacer);
        let html: Arc<str> = match self.blocking(move |s| s.broadcast(id)).await? {
            Some(job) => Arc::from(job.html.as_str()),
            None => return Ok(Stop::Job),
        };
        let batch = self.settings.batch.max(1);
        let (mut job, mut current) = self.step(id, Vec::new(), batch).await?;
        let mut unrecorded: Vec<(UserId, RecipientStatus)> = Vec::new();
        loop {
            let running = job.as_ref().is_some_and(|j| j.state == JobState::Running);
            if !running || shutdown.is_cancelled() {
                self.record(id, std::mem::take(&mut unrecorded)).await?;
                self.release(id, current).await?;
                if let Some(j) = &job {
                    tracing::info!(job = %id, state = j.state.as_str(), "broadcast stopped");
                }
                return Ok(if running { Stop::Shutdown } else { Stop::Job });
            }
            if current.is_empty() {
                if !unrecorded.is_empty() {
                    // Record the last outcomes and look again (a 429 puts recipients back).
                    (job, current) = self
                        .step(id, std::mem::take(&mut unrecorded), batch)
                        .await?;
                    continue;
                }
                // Everything is recorded and nothing is left to claim.
                if job.as_ref().is_some_and(|j| j.counts.pending == 0) {
                    self.finish(id).await?;
                }
                return Ok(Stop::Job);
            }
            let done = std::mem::take(&mut unrecorded);
            let (stepped, (results, stopped)) = tokio::join!(
                self.step(id, done, batch),
                self.send_batch(&mut pacer, &html, &current, shutdown)
            );
            let (next_job, next) = match stepped {
                Ok(r) => r,
                Err(e) => {
                    // Keep what we know before giving up on this round.
                    self.record(id, results).await?;
                    return Err(e);
                }
            };
            if let Some(wait) = pacer.paused_for(Instant::now()) {
                tracing::info!(job = %id, wait = ?wait, "Telegram asked to slow down; broadcast waits");
            }
            unrecorded = results;
            job = next_job;
            current = next;
            if stopped {
                self.record(id, std::mem::take(&mut unrecorded)).await?;
                self.release(id, current).await?;
                return Ok(Stop::Shutdown);
            }
        }
    }

    async fn record(
        &self,
        id: BroadcastId,
        done: Vec<(UserId, RecipientStatus)>,
    ) -> Result<(), StoreError> {
        if !done.is_empty() {
            self.blocking(move |s| s.record_broadcast_results(id, &done, now_millis()))
                .await?;
        }
        Ok(())
    }

    /// Mark the job Done (rows left InFlight by a send task that died become Uncertain).
    async fn finish(&self, id: BroadcastId) -> Result<(), StoreError> {
        let done = self
            .blocking(move |s| {
                s.recover_broadcast(id)?;
                s.transition_broadcast(id, &[JobState::Running], JobState::Done, now_millis())
            })
            .await?;
        if let Some(Ok(d)) = done {
            tracing::info!(job = %id, sent = d.counts.sent, failed = d.counts.failed, blocked = d.counts.blocked, uncertain = d.counts.uncertain, "broadcast done");
        }
        Ok(())
    }

    /// Give claimed but unsent recipients back (they were never sent).
    async fn release(&self, id: BroadcastId, users: Vec<UserId>) -> Result<(), StoreError> {
        if users.is_empty() {
            return Ok(());
        }
        let back: Vec<_> = users
            .into_iter()
            .map(|u| (u, RecipientStatus::Pending))
            .collect();
        self.blocking(move |s| s.record_broadcast_results(id, &back, now_millis()))
            .await?;
        Ok(())
    }

    /// Send to every claimed user (paced, concurrently); returns the outcomes and whether
    /// shutdown interrupted it. After a 429 the rest of the batch goes back to Pending and the
    /// pacer holds every send for `retry_after`.
    async fn send_batch(
        &self,
        pacer: &mut Pacer,
        html: &Arc<str>,
        users: &[UserId],
        shutdown: &CancellationToken,
    ) -> (Vec<(UserId, RecipientStatus)>, bool) {
        let mut out = Vec::with_capacity(users.len());
        let mut tasks: JoinSet<(UserId, Result<(), SendFailure>)> = JoinSet::new();
        let mut throttled = false;
        let mut stopped = false;
        for (i, &user) in users.iter().enumerate() {
            while let Some(joined) = tasks.try_join_next() {
                throttled |= self.take(joined, pacer, &mut out);
            }
            if throttled || stopped {
                out.extend(users[i..].iter().map(|u| (*u, RecipientStatus::Pending)));
                break;
            }
            tokio::select! {
                _ = shutdown.cancelled() => {
                    stopped = true;
                    out.extend(users[i..].iter().map(|u| (*u, RecipientStatus::Pending)));
                    break;
                }
                () = pacer.acquire() => {}
            }
            let (transport, html) = (self.transport.clone(), html.clone());
            tasks.spawn(async move { (user, transport.send_html(user, &html).await) });
        }
        while let Some(joined) = tasks.join_next().await {
            self.take(joined, pacer, &mut out);
        }
        (out, stopped)
    }

    /// Turn one finished send into a status; true when it was a 429.
    fn take(
        &self,
        joined: Result<(UserId, Result<(), SendFailure>), tokio::task::JoinError>,
        pacer: &mut Pacer,
        out: &mut Vec<(UserId, RecipientStatus)>,
    ) -> bool {
        let Ok((user, result)) = joined else {
            // A send task panicked: we cannot know which user; its row stays InFlight and
            // becomes Uncertain at the next start.
            tracing::error!("a broadcast send task failed");
            return false;
        };
        let status = match result {
            Ok(()) => RecipientStatus::Sent,
            Err(SendFailure::RetryAfter(wait)) => {
                pacer.pause_until(Instant::now() + wait);
                out.push((user, RecipientStatus::Pending));
                return true;
            }
            Err(SendFailure::Blocked) => RecipientStatus::Blocked,
            Err(SendFailure::Other(reason)) => RecipientStatus::Failed(reason),
            Err(SendFailure::Unknown(reason)) => {
                tracing::warn!(
                    user = user.0,
                    reason,
                    "broadcast send lost its answer; uncertain"
                );
                RecipientStatus::Uncertain
            }
        };
        out.push((user, status));
        false
    }
}

/// Sleep, or return true at once when `stop` fires.
async fn sleep_or_stop(d: Duration, stop: &CancellationToken) -> bool {
    tokio::select! {
        _ = stop.cancelled() => true,
        _ = tokio::time::sleep(d) => false,
    }
}

#[cfg(test)]
#[path = "broadcast_tests.rs"]
mod tests;
