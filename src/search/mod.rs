//! Full-text search: the only module that names tantivy types.
//!
//! - `analyzer`: Persian/Arabic-aware word analysis shared by indexing, queries and snippets.
//! - `query`: the query language (`words "phrase" -excluded from:@user after: before: in:`).
//! - `schema`: one document per stored message; nothing stored, fast fields for results.
//! - `exec`: a parsed query plus resolved scope -> tantivy query -> hits, total, highlighter.
//! - `indexer`: the task that owns the single `IndexWriter` and applies the store's
//!   `search_outbox` in order, committing in batches with the last applied sequence as payload.
//! - `rebuild`: the index from scratch out of the store (`tgbox reindex`, or a detected gap).
//! - `maintain`: segment merge + garbage collection (compaction), the indexed key set (check).
//! - `corpus`: a synthetic English/Persian message generator for benchmarks.
//!
//! Invariant: the index is never ahead of the store. Its commit payload is the last outbox
//! sequence whose effect it holds; the outbox is pruned only up to a committed payload; on start
//! the indexer replays the outbox after the payload.

mod analyzer;
pub mod corpus;
mod exec;
mod indexer;
mod maintain;
pub mod query;
mod rebuild;
mod schema;

pub use analyzer::{query_terms, tokens as analyze};
pub use exec::{Highlighter, IndexHit, IndexResults, SearchRequest, Snippet, SortOrder};
pub use indexer::{Indexer, IndexerConfig, IndexerWake, catch_up};
pub use maintain::compact_offline;
pub use query::{ChatRef, Clause, ParsedQuery, QueryError, UserRef};
pub use rebuild::{RebuildReport, build_from, rebuild, rebuild_dir};

use schema::Fields;
use std::path::{Path, PathBuf};
use tantivy::directory::MmapDirectory;
use tantivy::{Index, IndexReader, ReloadPolicy};
use thiserror::Error;

/// The index directory inside the data directory.
pub const DIR_NAME: &str = "search";

#[derive(Debug, Error)]
pub enum SearchError {
    #[error("the search index at {path} cannot be opened: {detail}")]
    Open { path: String, detail: String },
    #[error(
        "the search index is locked by another process (is tgbox already running on this data \
         directory?)"
    )]
    Locked,
    #[error("search index error: {0}")]
    Index(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("search index I/O failed at {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl From<tantivy::TantivyError> for SearchError {
    fn from(e: tantivy::TantivyError) -> Self {
        match e {
            tantivy::TantivyError::LockFailure(..) => SearchError::Locked,
            other => SearchError::Index(other.to_string()),
        }
    }
}

/// The tantivy index and a reader over its last commit. Shared (`Arc`) by the indexer, which
/// owns the only writer, and the searchers.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    dir: Option<PathBuf>,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl SearchIndex {
    /// Open the index in `dir`, creating it if missing. An index that cannot be opened (damaged,
    /// or written by a tgbox with another schema) is removed and created empty: it is derived
    /// data, and the indexer notices it is behind the store and rebuilds it.
    pub fn open(dir: &Path) -> Result<SearchIndex, SearchError> {
        let io = |source| SearchError::Io {
            path: dir.display().to_string(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let index = match open_or_create(dir) {
            Ok(index) => index,
            Err(e) => {
                tracing::warn!(dir = %dir.display(), error = %e, "search index unusable; recreating it empty (it is rebuilt from the store)");
                std::fs::remove_dir_all(dir).map_err(io)?;
                std::fs::create_dir_all(dir).map_err(io)?;
                open_or_create(dir).map_err(|e| SearchError::Open {
                    path: dir.display().to_string(),
                    detail: e.to_string(),
                })?
            }
        };
        Self::from_index(index, Some(dir.to_path_buf()))
    }

    /// An index in memory (tests and benchmarks).
    pub fn in_memory() -> Result<SearchIndex, SearchError> {
        let (schema, _) = schema::build();
        Self::from_index(Index::create_in_ram(schema), None)
    }

    fn from_index(index: Index, dir: Option<PathBuf>) -> Result<SearchIndex, SearchError> {
        index
            .tokenizers()
            .register(analyzer::ANALYZER_NAME, analyzer::text_analyzer());
        let (_, fields) = schema::build();
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(SearchIndex {
            index,
            reader,
            fields,
            dir,
        })
    }

    /// The outbox sequence recorded with the last commit (0 for a new index).
    pub fn committed_seq(&self) -> Result<u64, SearchError> {
        let metas = self.index.load_metas()?;
        Ok(metas
            .payload
            .as_deref()
            .and_then(parse_payload)
            .unwrap_or(0))
    }

    /// Documents (messages) visible to searches, as of the last reload.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Make the last commit visible to searches.
    pub fn reload(&self) -> Result<(), SearchError> {
        self.reader.reload().map_err(SearchError::from)
    }

    /// Bytes of the index files on disk (0 in memory).
    pub fn disk_bytes(&self) -> u64 {
        self.dir.as_deref().map_or(0, dir_bytes)
    }

    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }
}

fn open_or_create(dir: &Path) -> Result<Index, tantivy::TantivyError> {
    let (schema, _) = schema::build();
    let directory = MmapDirectory::open(dir)?;
    Index::open_or_create(directory, schema)
}

const PAYLOAD_PREFIX: &str = "tgbox-outbox-seq:";

pub(crate) fn payload(seq: u64) -> String {
    format!("{PAYLOAD_PREFIX}{seq}")
}

fn parse_payload(p: &str) -> Option<u64> {
    p.strip_prefix(PAYLOAD_PREFIX)?.parse().ok()
}

/// Total size of the files under `dir`.
pub fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_round_trips() {
        assert_eq!(parse_payload(&payload(42)), Some(42));
        assert_eq!(parse_payload("garbage"), None);
        assert_eq!(parse_payload("tgbox-outbox-seq:x"), None);
    }

    #[test]
    fn damaged_index_is_recreated_empty() {
        let dir = tempfile::tempdir().unwrap();
        drop(SearchIndex::open(dir.path()).unwrap());
        std::fs::write(dir.path().join("meta.json"), b"{ not json").unwrap();
        let index = SearchIndex::open(dir.path()).unwrap();
        assert_eq!(index.num_docs(), 0);
        assert_eq!(index.committed_seq().unwrap(), 0);
    }
}
