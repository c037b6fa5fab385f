//! Wiring of search: the index in `<data dir>/search`, the indexer thread woken by the ingest
//! writer, the search service for the bot, and the offline `tgbox reindex`.

use super::AppError;
use crate::config::{Config, SearchConfig};
use crate::ingest::CommitHook;
use crate::search::{self, Indexer, IndexerConfig, RebuildReport, SearchError, SearchIndex};
use crate::service::{SearchService, SearchServiceConfig};
use crate::store::SharedStore;
use crate::telemetry::{Op, Registry};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The index directory of a data directory.
pub fn index_dir(data_dir: &Path) -> PathBuf {
    data_dir.join(search::DIR_NAME)
}

pub fn indexer_config(c: &SearchConfig) -> IndexerConfig {
    IndexerConfig {
        memory_bytes: (c.writer_memory_mb as usize) << 20,
        threads: c.threads,
        commit_interval: c.commit_interval,
        commit_max_docs: c.commit_max_docs,
        ..IndexerConfig::default()
    }
}

pub fn service_config(c: &SearchConfig) -> SearchServiceConfig {
    SearchServiceConfig {
        rate_per_minute: c.rate_per_minute,
        ..SearchServiceConfig::default()
    }
}

/// The running search side of the appliance.
pub struct SearchRuntime {
    pub index: Arc<SearchIndex>,
    pub service: Arc<SearchService>,
    indexer: Indexer,
}

impl SearchRuntime {
    /// Open the index and start the indexer (blocking: call through `app::blocking`).
    /// Open the index, start the indexer, build the service; both record into `registry`.
    pub fn start(
        config: &Config,
        store: SharedStore,
        registry: Arc<Registry>,
    ) -> Result<SearchRuntime, AppError> {
        let index = Arc::new(SearchIndex::open(&index_dir(&config.storage.dir))?);
        let commits = registry.clone();
        let indexer_config = IndexerConfig {
            on_commit: Some(Arc::new(move |took, docs| {
                commits.record(Op::IndexCommit, took, docs.max(1))
            })),
            ..indexer_config(&config.search)
        };
        let indexer = Indexer::start(index.clone(), store.clone(), indexer_config)
            .map_err(AppError::Thread)?;
        let service = Arc::new(
            SearchService::new(store, index.clone(), service_config(&config.search))
                .with_registry(registry),
        );
        Ok(SearchRuntime {
            index,
            service,
            indexer,
        })
    }

    /// For the ingest writer: wake the indexer after each commit that wrote messages.
    pub fn commit_hook(&self) -> CommitHook {
        let wake = self.indexer.wake_handle();
        CommitHook(Arc::new(move || wake.wake()))
    }

    /// For the maintenance service: compact the index through the indexer thread.
    pub fn index_compactor(&self) -> crate::service::IndexCompactor {
        let wake = self.indexer.wake_handle();
        Arc::new(move || wake.compact().map_err(|e| e.to_string()))
    }

    /// Index what is left in the outbox, commit, and stop (blocking). Stop ingest first.
    pub fn stop(self) {
        self.indexer.stop();
        tracing::info!(docs = self.index.num_docs(), "search index flushed");
    }
}

/// `tgbox reindex`: rebuild `<data dir>/search` from the store. The appliance must be stopped
/// (the store's lock enforces it). `progress` gets (done, total).
pub fn reindex(
    config: &Config,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<RebuildReport, AppError> {
    let store = super::open_store(&config.storage)?;
    let report = search::rebuild_dir(
        &index_dir(&config.storage.dir),
        &*store,
        &indexer_config(&config.search),
        progress,
    )?;
    Ok(report)
}

impl From<SearchError> for AppError {
    fn from(e: SearchError) -> Self {
        AppError::Search(e.to_string())
    }
}
