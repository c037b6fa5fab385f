//! The indexer: one thread that owns the only `IndexWriter` and keeps the index in step with the
//! store by applying its `search_outbox`.
//!
//! Applying an entry makes the document of its (chat, message) equal to the store's current row,
//! or removes it when the row is gone: `Upsert` reads the row, deletes the key term and adds the
//! row again; `Delete` deletes the key term. Applying is therefore idempotent, and replaying
//! entries that were already applied is harmless.
//!
//! Commits happen in batches — after `commit_max_docs` entries or `commit_interval` after the
//! first uncommitted one, never per message — with the last applied outbox sequence as the commit
//! payload; then the outbox is pruned up to that sequence. So the index is never ahead of the
//! store, and after a crash the indexer replays the outbox after the payload. If entries it never
//! applied are missing (pruned by another index, or the index directory was lost or replaced),
//! or the payload is ahead of the store (a restored store), it rebuilds the index from the store.

use super::schema::{self, Fields};
use super::{SearchError, SearchIndex, maintain, payload, rebuild};
use crate::domain::{OutboxEntry, OutboxOp};
use crate::store::IndexCompactionFigures;
use crate::store::Store;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tantivy::indexer::IndexWriterOptions;
use tantivy::{IndexWriter, Term};

/// tantivy's least memory budget per indexing thread.
const MIN_BYTES_PER_THREAD: usize = 15_000_000;

/// Called after every index commit with its duration and the outbox entries it covered (the
/// app records these as the `index_commit` metric; `search` itself knows no telemetry).
pub type CommitObserver = std::sync::Arc<dyn Fn(Duration, u64) + Send + Sync>;

#[derive(Clone)]
pub struct IndexerConfig {
    /// Memory budget of the writer, all threads together.
    pub memory_bytes: usize,
    /// Indexing threads (1 on a Pi).
    pub threads: usize,
    /// Commit at the latest this long after the first uncommitted change.
    pub commit_interval: Duration,
    /// Commit at the latest after this many applied outbox entries.
    pub commit_max_docs: usize,
    /// Look at the outbox this often even when nobody wakes the indexer.
    pub poll_interval: Duration,
    /// Outbox entries read per step.
    pub batch: usize,
    pub on_commit: Option<CommitObserver>,
}

impl std::fmt::Debug for IndexerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexerConfig")
            .field("memory_bytes", &self.memory_bytes)
            .field("threads", &self.threads)
            .field("commit_interval", &self.commit_interval)
            .field("commit_max_docs", &self.commit_max_docs)
            .field("poll_interval", &self.poll_interval)
            .field("batch", &self.batch)
            .finish_non_exhaustive()
    }
}

impl Default for IndexerConfig {
    fn default() -> Self {
        IndexerConfig {
            memory_bytes: 16 << 20,
            threads: 1,
            commit_interval: Duration::from_secs(1),
            commit_max_docs: 10_000,
            poll_interval: Duration::from_secs(2),
            batch: 1000,
            on_commit: None,
        }
    }
}

impl SearchIndex {
    /// The single writer (fails with [`SearchError::Locked`] if another one is open).
    pub(crate) fn writer(&self, cfg: &IndexerConfig) -> Result<IndexWriter, SearchError> {
        let threads = cfg.threads.clamp(1, 8);
        let per_thread = (cfg.memory_bytes / threads).max(MIN_BYTES_PER_THREAD);
        let options = IndexWriterOptions::builder()
            .num_worker_threads(threads)
            .memory_budget_per_thread(per_thread)
            .num_merge_threads(1)
            .build();
        Ok(self.index.writer_with_options(options)?)
    }

    pub(crate) fn fields(&self) -> &Fields {
        &self.fields
    }
}

type CompactReply = std::sync::mpsc::Sender<Result<IndexCompactionFigures, String>>;

#[derive(Default)]
struct WakeState {
    woken: bool,
    stop: bool,
    /// Compaction requests waiting for the indexer thread (it owns the writer).
    compact: Vec<CompactReply>,
}

/// Wakes the indexer (call [`IndexerWake::wake`] after an ingest commit). Cheap to clone.
#[derive(Clone, Default)]
pub struct IndexerWake {
    inner: Arc<(Mutex<WakeState>, Condvar)>,
}

impl IndexerWake {
    pub fn wake(&self) {
        let (lock, cv) = &*self.inner;
        lock.lock().unwrap_or_else(PoisonError::into_inner).woken = true;
        cv.notify_all();
    }

    /// Ask the indexer thread to commit what it has, merge every segment and collect garbage
    /// files, and wait for its answer (blocking; it takes as long as the merge).
    pub fn compact(&self) -> Result<IndexCompactionFigures, SearchError> {
        let (tx, rx) = std::sync::mpsc::channel();
        {
            let (lock, cv) = &*self.inner;
            let mut state = lock.lock().unwrap_or_else(PoisonError::into_inner);
            if state.stop {
                return Err(SearchError::Index("the search indexer is stopping".into()));
            }
            state.compact.push(tx);
            state.woken = true;
            cv.notify_all();
        }
        match rx.recv() {
            Ok(result) => result.map_err(SearchError::Index),
            Err(_) => Err(SearchError::Index(
                "the search indexer stopped before it compacted the index".into(),
            )),
        }
    }

    fn take_compact_requests(&self) -> Vec<CompactReply> {
        let (lock, _) = &*self.inner;
        std::mem::take(&mut lock.lock().unwrap_or_else(PoisonError::into_inner).compact)
    }

    fn stop(&self) {
        let (lock, cv) = &*self.inner;
        lock.lock().unwrap_or_else(PoisonError::into_inner).stop = true;
        cv.notify_all();
    }

    fn stopping(&self) -> bool {
        let (lock, _) = &*self.inner;
        lock.lock().unwrap_or_else(PoisonError::into_inner).stop
    }

    /// Wait until woken, stopped, or `timeout` passed.
    fn wait(&self, timeout: Duration) {
        let (lock, cv) = &*self.inner;
        let guard = lock.lock().unwrap_or_else(PoisonError::into_inner);
        let (mut guard, _) = cv
            .wait_timeout_while(guard, timeout, |s| !s.woken && !s.stop)
            .unwrap_or_else(PoisonError::into_inner);
        guard.woken = false;
    }
}

/// The running indexer thread. [`Indexer::stop`] applies what is left in the outbox, commits
/// and waits; dropping it does the same.
pub struct Indexer {
    thread: Option<JoinHandle<()>>,
    wake: IndexerWake,
}

impl Indexer {
    pub fn start(
        index: Arc<SearchIndex>,
        store: Arc<dyn Store>,
        config: IndexerConfig,
    ) -> std::io::Result<Indexer> {
        let wake = IndexerWake::default();
        let w = wake.clone();
        let thread = std::thread::Builder::new()
            .name("tgbox-indexer".into())
            .spawn(move || run(&index, &*store, &config, &w))?;
        Ok(Indexer {
            thread: Some(thread),
            wake,
        })
    }

    pub fn wake_handle(&self) -> IndexerWake {
        self.wake.clone()
    }

    /// Apply the rest of the outbox, commit, and wait for the thread to end (blocking). Stop
    /// ingest first so that the rest is final.
    pub fn stop(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        self.wake.stop();
        if let Some(t) = self.thread.take()
            && t.join().is_err()
        {
            tracing::error!("the search indexer thread panicked");
        }
    }
}

impl Drop for Indexer {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

fn run(index: &SearchIndex, store: &dyn Store, cfg: &IndexerConfig, wake: &IndexerWake) {
    let mut backoff = Duration::from_millis(500);
    loop {
        let result = Session::open(index, store, cfg).and_then(|mut s| s.run(wake));
        match result {
            Ok(()) => break,
            Err(e) => {
                // Uncommitted work is dropped with the writer; the next session replays it.
                tracing::error!(error = %e, retry_in = ?backoff, "search indexer failed; the index lags behind until it recovers");
                if wake.stopping() {
                    break;
                }
                wake.wait(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        }
    }
    // Nobody will answer these any more: dropping them tells the waiters.
    drop(wake.take_compact_requests());
    tracing::debug!("search indexer stopped");
}

/// Bring the index fully up to date once, in the calling thread: replay the outbox (or rebuild
/// on a gap), commit and prune. Returns the outbox sequence the index now holds. For tests,
/// tools and benchmarks; the appliance runs [`Indexer`].
pub fn catch_up(
    index: &SearchIndex,
    store: &dyn Store,
    cfg: &IndexerConfig,
) -> Result<u64, SearchError> {
    let mut s = Session::open(index, store, cfg)?;
    while s.step()? >= cfg.batch {
        if s.pending_docs >= cfg.commit_max_docs {
            s.commit()?;
        }
    }
    if s.pending_docs > 0 {
        s.commit()?;
    }
    Ok(s.committed)
}

struct Session<'a> {
    index: &'a SearchIndex,
    store: &'a dyn Store,
    cfg: &'a IndexerConfig,
    writer: IndexWriter,
    /// Last outbox sequence applied to the writer.
    applied: u64,
    /// Last outbox sequence committed to the index.
    committed: u64,
    pending_docs: usize,
    pending_since: Option<Instant>,
}

impl<'a> Session<'a> {
    fn open(
        index: &'a SearchIndex,
        store: &'a dyn Store,
        cfg: &'a IndexerConfig,
    ) -> Result<Self, SearchError> {
        let writer = index.writer(cfg)?;
        let committed = index.committed_seq()?;
        let mut s = Session {
            index,
            store,
            cfg,
            writer,
            applied: committed,
            committed,
            pending_docs: 0,
            pending_since: None,
        };
        if let Some(why) = s.gap()? {
            tracing::warn!(
                reason = why,
                "search index is not in step with the store; rebuilding it"
            );
            let report = rebuild::rebuild_with(&mut s.writer, index, store, &mut |_, _| {})?;
            s.applied = report.outbox_seq;
            s.committed = report.outbox_seq;
            tracing::info!(
                messages = report.messages,
                seconds = report.seconds,
                "search index rebuilt"
            );
        } else {
            tracing::info!(
                outbox_seq = committed,
                docs = index.num_docs(),
                "search index open"
            );
        }
        Ok(s)
    }

    /// Why the outbox after the committed payload cannot bring the index up to date, if so.
    fn gap(&self) -> Result<Option<&'static str>, SearchError> {
        let head = self.store.outbox_head()?;
        if self.committed > head {
            return Ok(Some("the index is ahead of the store"));
        }
        if self.committed == head {
            return Ok(None);
        }
        let next = self.store.outbox_after(self.committed, 1)?;
        Ok(match next.first() {
            Some(e) if e.seq == self.committed + 1 => None,
            _ => Some("outbox entries the index never applied were pruned"),
        })
    }

    /// Apply one batch of outbox entries; returns how many.
    fn step(&mut self) -> Result<usize, SearchError> {
        let entries = self.store.outbox_after(self.applied, self.cfg.batch)?;
        for e in &entries {
            self.apply(e)?;
        }
        if let Some(last) = entries.last() {
            self.applied = last.seq;
            self.pending_docs += entries.len();
            self.pending_since.get_or_insert_with(Instant::now);
        }
        Ok(entries.len())
    }

    fn apply(&mut self, e: &OutboxEntry) -> Result<(), SearchError> {
        let f = self.index.fields();
        let key = Term::from_field_bytes(f.key, &schema::key_bytes(e.chat_id, e.message_id));
        self.writer.delete_term(key);
        if e.op == OutboxOp::Upsert
            && let Some(m) = self.store.message(e.chat_id, e.message_id)?
        {
            self.writer.add_document(schema::document(f, &m))?;
        }
        Ok(())
    }

    fn commit(&mut self) -> Result<(), SearchError> {
        let started = Instant::now();
        let mut prepared = self.writer.prepare_commit()?;
        prepared.set_payload(&payload(self.applied));
        prepared.commit()?;
        self.index.reload()?;
        let took = started.elapsed();
        tracing::debug!(
            outbox_seq = self.applied,
            docs = self.pending_docs,
            took_ms = took.as_millis() as u64,
            "search index committed"
        );
        if let Some(observe) = &self.cfg.on_commit {
            observe(took, self.pending_docs as u64);
        }
        self.committed = self.applied;
        self.pending_docs = 0;
        self.pending_since = None;
        // Only what the index has committed may leave the outbox. A failure here is harmless:
        // the entries are pruned after the next commit.
        if let Err(e) = self.store.prune_outbox(self.committed) {
            tracing::warn!(error = %e, "cannot prune the search outbox; will retry");
        }
        Ok(())
    }

    /// Answer compaction requests: apply the outbox and commit, then merge and collect garbage.
    fn serve_compaction(&mut self, wake: &IndexerWake) -> Result<(), SearchError> {
        let requests = wake.take_compact_requests();
        if requests.is_empty() {
            return Ok(());
        }
        // Catch up with the outbox first, so the merge drops what was deleted up to now.
        while self.step()? >= self.cfg.batch {}
        if self.pending_docs > 0 {
            self.commit()?;
        }
        // A failed merge (say, segments a background merge holds) is the requester's answer,
        // not a reason to drop the writer: indexing goes on.
        let answer = maintain::compact_with(&mut self.writer, self.index).map_err(|e| {
            tracing::warn!(error = %e, "search index compaction failed");
            e.to_string()
        });
        for r in requests {
            let _ = r.send(answer.clone());
        }
        Ok(())
    }

    fn run(&mut self, wake: &IndexerWake) -> Result<(), SearchError> {
        loop {
            self.serve_compaction(wake)?;
            let stopping = wake.stopping();
            let n = self.step()?;
            let more = n >= self.cfg.batch;
            let overdue = self
                .pending_since
                .is_some_and(|t| t.elapsed() >= self.cfg.commit_interval);
            if self.pending_docs > 0
                && (self.pending_docs >= self.cfg.commit_max_docs || overdue || (stopping && !more))
            {
                self.commit()?;
            }
            if stopping && !more {
                return Ok(());
            }
            if more {
                continue;
            }
            let timeout = match self.pending_since {
                Some(t) => self.cfg.commit_interval.saturating_sub(t.elapsed()),
                None => self.cfg.poll_interval,
            };
            wake.wait(timeout.max(Duration::from_millis(1)));
        }
    }
}
