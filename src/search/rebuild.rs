//! The index from scratch, out of the store.
//!
//! The outbox head (the last sequence ever handed out) is read first, then every stored message
//! is added in key order, and the commit records that head as its payload. Writes that happen
//! during the scan have higher sequences and stay in the outbox (only the indexer prunes it), so
//! the indexer applies them afterwards; since applying reads the current row, it does not matter
//! whether the scan already saw them.

use super::indexer::IndexerConfig;
use super::schema;
use super::{SearchError, SearchIndex, payload};
use crate::domain::{ChatId, MessageId};
use crate::store::Store;
use std::path::Path;
use std::time::Instant;
use tantivy::IndexWriter;

/// What a rebuild did.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RebuildReport {
    pub messages: u64,
    pub seconds: f64,
    /// The outbox sequence the new index holds.
    pub outbox_seq: u64,
    /// Outbox entries removed after the commit.
    pub outbox_pruned: u64,
    pub index_bytes: u64,
}

const PAGE: usize = 2000;

/// Replace everything in `writer`'s index with the store's messages and commit. `progress` gets
/// (messages done, messages in the store).
pub(crate) fn rebuild_with(
    writer: &mut IndexWriter,
    index: &SearchIndex,
    store: &dyn Store,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<RebuildReport, SearchError> {
    let started = Instant::now();
    let head = store.outbox_head()?;
    let total = store.counts()?.messages;
    let f = *index.fields();
    writer.delete_all_documents()?;
    let mut done = 0u64;
    let mut after: Option<(ChatId, MessageId)> = None;
    progress(0, total);
    loop {
        let page = store.messages_page(None, after, PAGE)?;
        for m in &page {
            writer.add_document(schema::document(&f, m))?;
        }
        done += page.len() as u64;
        progress(done, total.max(done));
        match page.last() {
            Some(last) if page.len() == PAGE => after = Some((last.chat_id, last.message_id)),
            _ => break,
        }
    }
    let mut prepared = writer.prepare_commit()?;
    prepared.set_payload(&payload(head));
    prepared.commit()?;
    index.reload()?;
    let pruned = store.prune_outbox(head)?;
    Ok(RebuildReport {
        messages: done,
        seconds: started.elapsed().as_secs_f64(),
        outbox_seq: head,
        outbox_pruned: pruned,
        index_bytes: index.disk_bytes(),
    })
}

/// Rebuild `index` from the store with a writer of its own.
pub fn rebuild(
    index: &SearchIndex,
    store: &dyn Store,
    cfg: &IndexerConfig,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<RebuildReport, SearchError> {
    let mut writer = index.writer(cfg)?;
    let mut report = rebuild_with(&mut writer, index, store, progress)?;
    // Let merges finish so the directory holds just the new index.
    writer.wait_merging_threads()?;
    report.index_bytes = index.disk_bytes();
    Ok(report)
}

/// `tgbox reindex`: remove the index directory `dir` and build it again from the store. The
/// appliance must be stopped (holding the store open is what guarantees it).
pub fn rebuild_dir(
    dir: &Path,
    store: &dyn Store,
    cfg: &IndexerConfig,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<RebuildReport, SearchError> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => {
            return Err(SearchError::Io {
                path: dir.display().to_string(),
                source,
            });
        }
    }
    let index = SearchIndex::open(dir)?;
    rebuild(&index, store, cfg, progress)
}

/// Index `messages` into `index` (which should be empty) with one writer and commit, without a
/// store: benchmarks and load tests. The commit payload is 0, so the appliance's indexer would
/// rebuild such an index from its store.
#[doc(hidden)]
pub fn build_from(
    index: &SearchIndex,
    cfg: &IndexerConfig,
    messages: &mut dyn Iterator<Item = crate::domain::StoredMessage>,
) -> Result<u64, SearchError> {
    let mut writer = index.writer(cfg)?;
    let f = *index.fields();
    let mut n = 0u64;
    for m in messages {
        writer.add_document(schema::document(&f, &m))?;
        n += 1;
    }
    let mut prepared = writer.prepare_commit()?;
    prepared.set_payload(&payload(0));
    prepared.commit()?;
    writer.wait_merging_threads()?;
    index.reload()?;
    Ok(n)
}
