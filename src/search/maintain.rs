//! Index maintenance: merging segments and collecting garbage files (compaction), reading the
//! set of indexed message keys (`tgbox check`), and a test hook that damages the index.
//!
//! The running appliance compacts through the indexer thread (it owns the only writer; see
//! [`IndexerWake::compact`](super::IndexerWake::compact)); a stopped data directory is compacted
//! with [`compact_offline`].

use super::indexer::IndexerConfig;
use super::schema;
use super::{SearchError, SearchIndex, payload};
use crate::domain::{ChatId, MessageId};
use crate::store::IndexCompactionFigures;
use std::time::Instant;
use tantivy::{IndexWriter, Term};

impl SearchIndex {
    /// Searchable segments of the last commit, and documents deleted but still in them.
    pub fn segment_figures(&self) -> Result<(u64, u64), SearchError> {
        let metas = self.index.searchable_segment_metas()?;
        let deleted = metas.iter().map(|m| u64::from(m.num_deleted_docs())).sum();
        Ok((metas.len() as u64, deleted))
    }

    /// Every (chat, message) key the index holds as of its last commit, in index order (a key
    /// held twice appears twice).
    pub fn message_keys(&self) -> Result<Vec<(ChatId, MessageId)>, SearchError> {
        self.reload()?;
        let searcher = self.reader.searcher();
        let mut keys = Vec::with_capacity(searcher.num_docs() as usize);
        let bad = |what: &str| SearchError::Index(format!("a document without {what}"));
        for segment in searcher.segment_readers() {
            let ff = segment.fast_fields();
            let chats = ff.i64(schema::CHAT)?;
            let msgs = ff.i64(schema::MSG)?;
            for doc in segment.doc_ids_alive() {
                let chat = chats.first(doc).ok_or_else(|| bad("chat"))?;
                let msg = msgs.first(doc).ok_or_else(|| bad("message id"))?;
                let msg = i32::try_from(msg).map_err(|_| bad("a valid message id"))?;
                keys.push((ChatId(chat), MessageId(msg)));
            }
        }
        Ok(keys)
    }

    /// Remove one message's document and commit, keeping the payload: the index then disagrees
    /// with the store (for `tgbox check` tests). Needs the writer: not while an indexer runs.
    #[doc(hidden)]
    pub fn drop_document_for_test(&self, chat: ChatId, msg: MessageId) -> Result<(), SearchError> {
        let mut writer = self.writer(&IndexerConfig::default())?;
        let seq = self.committed_seq()?;
        let key = Term::from_field_bytes(self.fields().key, &schema::key_bytes(chat, msg));
        writer.delete_term(key);
        let mut prepared = writer.prepare_commit()?;
        prepared.set_payload(&payload(seq));
        prepared.commit()?;
        writer.wait_merging_threads()?;
        self.reload()
    }
}

/// Merge every searchable segment into one (dropping deleted documents) and delete the files
/// no commit needs any more. The writer must have nothing uncommitted worth keeping in the
/// merge (the indexer commits first).
pub(crate) fn compact_with(
    writer: &mut IndexWriter,
    index: &SearchIndex,
) -> Result<IndexCompactionFigures, SearchError> {
    let started = Instant::now();
    let bytes_before = index.disk_bytes();
    let (segments_before, deleted_docs_before) = index.segment_figures()?;
    let ids = index.index.searchable_segment_ids()?;
    if ids.len() > 1 || (ids.len() == 1 && deleted_docs_before > 0) {
        writer.merge(&ids).wait()?;
    }
    writer.garbage_collect_files().wait()?;
    index.reload()?;
    let (segments_after, _) = index.segment_figures()?;
    let figures = IndexCompactionFigures {
        bytes_before,
        bytes_after: index.disk_bytes(),
        segments_before,
        segments_after,
        deleted_docs_before,
        duration_ms: started.elapsed().as_millis() as u64,
    };
    tracing::info!(?figures, "search index compacted");
    Ok(figures)
}

/// Compact an index nobody else writes to (`tgbox compact` on a stopped data directory).
pub fn compact_offline(
    index: &SearchIndex,
    cfg: &IndexerConfig,
) -> Result<IndexCompactionFigures, SearchError> {
    let mut writer = index.writer(cfg)?;
    let mut figures = compact_with(&mut writer, index)?;
    writer.wait_merging_threads()?;
    figures.bytes_after = index.disk_bytes();
    Ok(figures)
}
