//! The group-commit writer.
//!
//! One dedicated thread owns all writes. It takes the first waiting request, then everything
//! else already queued (up to `max_batch` updates), optionally waits up to `interval` for more,
//! and applies the lot in one store transaction. Under load the queue fills while a commit is
//! running, so the next transaction carries many producers' updates for the price of one fsync;
//! with no load a lone update is committed at once.
//!
//! Invariant: a request's acknowledgement is sent only after the transaction holding its updates
//! returned `Ok` from the store, which commits with immediate durability.

use crate::domain::{IncomingUpdate, UpdateId};
use crate::store::{IngestOutcome, SharedStore, StoreError};
use crate::telemetry::IngestMetrics;
use std::sync::Arc;
use std::time::{Duration, Instant};
use thiserror::Error;
use tokio::sync::{mpsc, oneshot};

#[derive(Clone, Debug)]
pub struct WriterConfig {
    /// Most updates in one transaction.
    pub max_batch: usize,
    /// Extra time to wait for more requests once the queue is drained (0: commit at once).
    pub interval: Duration,
    /// Requests that may wait in the queue before producers are slowed down.
    pub queue_depth: usize,
    /// Called after each commit that wrote messages (wakes the search indexer).
    pub on_commit: Option<CommitHook>,
}

/// A callback run on the writer thread after a commit that inserted or edited messages. Keep it
/// short: it delays the next commit.
#[derive(Clone)]
pub struct CommitHook(pub Arc<dyn Fn() + Send + Sync>);

impl std::fmt::Debug for CommitHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CommitHook")
    }
}

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig {
            max_batch: 2000,
            interval: Duration::ZERO,
            queue_depth: 1024,
            on_commit: None,
        }
    }
}

/// Why a batch was not committed. Cloneable, because one failed transaction answers every
/// request that was in it.
#[derive(Clone, Debug, Error)]
pub enum IngestError {
    #[error("the disk is full; updates are not confirmed and will be retried")]
    DiskFull,
    #[error("the store failed: {0}")]
    Store(String),
    #[error("the writer has stopped")]
    Stopped,
}

impl IngestError {
    /// Retrying the same batch later may succeed.
    pub fn is_transient(&self) -> bool {
        !matches!(self, IngestError::Stopped)
    }
}

impl From<&StoreError> for IngestError {
    fn from(e: &StoreError) -> Self {
        match e {
            StoreError::DiskFull => IngestError::DiskFull,
            other => IngestError::Store(other.to_string()),
        }
    }
}

struct Request {
    updates: Vec<IncomingUpdate>,
    received_at: Instant,
    ack: oneshot::Sender<Result<IngestOutcome, IngestError>>,
}

/// Submits batches to the writer. Cheap to clone.
#[derive(Clone)]
pub struct WriterHandle {
    tx: mpsc::Sender<Request>,
}

impl WriterHandle {
    /// Queue `updates` (received at `received_at`) and wait until they are committed. The
    /// outcome lists only this request's updates.
    pub async fn commit(
        &self,
        updates: Vec<IncomingUpdate>,
        received_at: Instant,
    ) -> Result<IngestOutcome, IngestError> {
        let (ack, rx) = oneshot::channel();
        self.tx
            .send(Request {
                updates,
                received_at,
                ack,
            })
            .await
            .map_err(|_| IngestError::Stopped)?;
        rx.await.map_err(|_| IngestError::Stopped)?
    }

    /// A request without updates: answered once the writer thread reaches it, without touching
    /// the store. Proves the writer is alive (the systemd watchdog asks this).
    pub async fn ping(&self) -> Result<(), IngestError> {
        self.commit(Vec::new(), Instant::now()).await.map(|_| ())
    }
}

/// The writer thread. Dropping every [`WriterHandle`] lets it finish what is queued and stop;
/// [`Writer::join`] waits for that.
pub struct Writer {
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Writer {
    pub fn start(
        store: SharedStore,
        config: WriterConfig,
        metrics: Arc<IngestMetrics>,
    ) -> std::io::Result<(Writer, WriterHandle)> {
        let (tx, rx) = mpsc::channel(config.queue_depth.max(1));
        let thread = std::thread::Builder::new()
            .name("tgbox-writer".into())
            .spawn(move || run(store, config, metrics, rx))?;
        Ok((
            Writer {
                thread: Some(thread),
            },
            WriterHandle { tx },
        ))
    }

    /// Wait for the thread to drain the queue and exit (all handles must be dropped first).
    pub fn join(mut self) {
        if let Some(t) = self.thread.take()
            && t.join().is_err()
        {
            tracing::error!("the writer thread panicked");
        }
    }
}

fn run(
    store: SharedStore,
    config: WriterConfig,
    metrics: Arc<IngestMetrics>,
    mut rx: mpsc::Receiver<Request>,
) {
    let mut pending: Vec<Request> = Vec::new();
    while let Some(first) = rx.blocking_recv() {
        let mut count = first.updates.len();
        pending.push(first);
        // Take what is already queued.
        while count < config.max_batch {
            match rx.try_recv() {
                Ok(req) => {
                    count += req.updates.len();
                    pending.push(req);
                }
                Err(_) => break,
            }
        }
        // Optionally linger for more (SD cards: fewer, larger commits).
        if !config.interval.is_zero() {
            let deadline = Instant::now() + config.interval;
            while count < config.max_batch {
                let now = Instant::now();
                if now >= deadline {
                    break;
                }
                match recv_timeout(&mut rx, deadline - now) {
                    Some(req) => {
                        count += req.updates.len();
                        pending.push(req);
                    }
                    None => break,
                }
            }
        }
        let wrote = commit_pending(&*store, &metrics, &mut pending);
        if wrote && let Some(hook) = &config.on_commit {
            (hook.0)();
        }
    }
    tracing::debug!("writer queue closed; writer stopping");
}

/// Blocking receive with a timeout on a tokio channel, from a plain thread.
fn recv_timeout(rx: &mut mpsc::Receiver<Request>, timeout: Duration) -> Option<Request> {
    let deadline = Instant::now() + timeout;
    loop {
        match rx.try_recv() {
            Ok(req) => return Some(req),
            Err(mpsc::error::TryRecvError::Disconnected) => return None,
            Err(mpsc::error::TryRecvError::Empty) => {
                if Instant::now() >= deadline {
                    return None;
                }
                std::thread::sleep(Duration::from_micros(200));
            }
        }
    }
}

/// Commit what is pending and answer each request; true when messages were written.
fn commit_pending(
    store: &dyn crate::store::Store,
    metrics: &IngestMetrics,
    pending: &mut Vec<Request>,
) -> bool {
    // Move the updates into one batch; each request keeps its ids to get its share back.
    let mut batch: Vec<IncomingUpdate> =
        Vec::with_capacity(pending.iter().map(|r| r.updates.len()).sum());
    let mut ids_per_request: Vec<Vec<UpdateId>> = Vec::with_capacity(pending.len());
    for req in pending.iter_mut() {
        ids_per_request.push(req.updates.iter().map(|u| u.update_id).collect());
        batch.append(&mut req.updates);
    }
    if batch.is_empty() {
        // Only pings: nothing to write.
        for req in pending.drain(..) {
            let _ = req.ack.send(Ok(IngestOutcome::default()));
        }
        return false;
    }
    // Requests that arrived together (concurrent webhook calls) are applied in update order, so
    // the store's redelivery check (by the last committed id) sees them ascending.
    batch.sort_by_key(|u| u.update_id);
    let started = Instant::now();
    let result = store.ingest(&batch);
    let commit_time = started.elapsed();
    let committed_at = Instant::now();
    match result {
        Ok(outcome) => {
            metrics.record_commit(
                batch.len() as u64,
                outcome.messages_inserted as u64,
                outcome.messages_edited as u64,
                outcome.duplicates as u64,
                outcome.quarantined as u64,
                commit_time,
            );
            for (req, ids) in pending.drain(..).zip(ids_per_request) {
                metrics.record_latency(
                    committed_at.saturating_duration_since(req.received_at),
                    ids.len() as u64,
                );
                let _ = req.ack.send(Ok(split_outcome(&outcome, &ids)));
            }
            outcome.messages_inserted + outcome.messages_edited > 0
        }
        Err(e) => {
            metrics.record_commit_error();
            tracing::error!(error = %e, updates = batch.len(), "commit failed; nothing in this batch is confirmed");
            let err = IngestError::from(&e);
            for req in pending.drain(..) {
                let _ = req.ack.send(Err(err.clone()));
            }
            false
        }
    }
}

/// The part of a shared transaction's outcome that belongs to one request. Counts of inserted
/// and edited messages are not attributed per request; the applied ids are.
fn split_outcome(all: &IngestOutcome, ids: &[UpdateId]) -> IngestOutcome {
    let applied: Vec<UpdateId> = if all.applied.len() == ids.len() && all.applied == ids {
        all.applied.clone()
    } else {
        let mine: std::collections::HashSet<UpdateId> = ids.iter().copied().collect();
        all.applied
            .iter()
            .copied()
            .filter(|id| mine.contains(id))
            .collect()
    };
    IngestOutcome {
        duplicates: ids.len() - applied.len(),
        applied,
        messages_inserted: 0,
        messages_edited: 0,
        quarantined: 0,
        last_update_id: all.last_update_id,
    }
}
