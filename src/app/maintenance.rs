//! Maintenance wiring: the compaction service and its scheduler in the running appliance, and
//! the offline tools `tgbox compact` and `tgbox check [--repair]`.

use super::AppError;
use super::search::{index_dir, indexer_config};
use crate::config::Config;
use crate::domain::{ChatId, MessageId};
use crate::search::{self, SearchIndex};
use crate::service::{MaintenanceSchedule, MaintenanceService};
use crate::store::redb::{RedbOptions, RedbStore};
use crate::store::{
    CheckItem, CompactionReport, ConsistencyReport, IndexCompactionFigures, MaintenanceRun,
    OpenError, SharedStore, Store,
};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Offending keys shown per check item.
const EXAMPLES: usize = 5;

pub fn schedule(config: &Config) -> MaintenanceSchedule {
    let m = &config.maintenance;
    MaintenanceSchedule {
        daily_at: m.compact_at,
        fragmented_bytes: (m.compact_fragmented_mb > 0).then_some(m.compact_fragmented_mb << 20),
    }
}

/// Look once a minute whether a compaction is due, until `stop`.
pub fn spawn_scheduler(
    service: Arc<MaintenanceService>,
    stop: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = tick.tick() => {}
            }
            let s = service.clone();
            let now = chrono::Utc::now().timestamp();
            let _ = tokio::task::spawn_blocking(move || s.run_if_due(now)).await;
        }
    })
}

/// Open the redb store of a stopped data directory, refusing to create one. `while_running`
/// tells what to do instead when the appliance holds it.
fn open_existing(config: &Config, while_running: &str) -> Result<RedbStore, AppError> {
    let file = config.storage.dir.join(crate::store::redb::FILE_NAME);
    if !file.exists() {
        return Err(AppError::Refused(format!(
            "there is no tgbox store at {}",
            file.display()
        )));
    }
    let options = RedbOptions {
        cache_bytes: (config.storage.cache_mb as usize) << 20,
    };
    RedbStore::open(&config.storage.dir, &options).map_err(|e| match e {
        OpenError::Locked { path } => AppError::Refused(format!(
            "the store at {path} is in use: tgbox is running on this data directory. Stop it \
             first{while_running}"
        )),
        other => other.into(),
    })
}

/// What `tgbox compact` did.
#[derive(Debug, Serialize)]
pub struct CompactOutcome {
    pub store: CompactionReport,
    pub index: Option<IndexCompactionFigures>,
}

/// `tgbox compact`: compact the store and the search index of a stopped data directory.
pub fn compact_offline(config: &Config) -> Result<CompactOutcome, AppError> {
    let store: SharedStore = Arc::new(open_existing(
        config,
        ", or use the dashboard's Storage page (Compact now) while it runs",
    )?);
    let report = store.compact()?;
    let dir = index_dir(&config.storage.dir);
    let index = if dir.exists() {
        let index = SearchIndex::open(&dir)?;
        Some(search::compact_offline(
            &index,
            &indexer_config(&config.search),
        )?)
    } else {
        None
    };
    let run = MaintenanceRun {
        finished_at: chrono::Utc::now().timestamp(),
        trigger: "cli".into(),
        store: Some(report.clone()),
        index: index.clone(),
        error: None,
    };
    store.record_maintenance(&run)?;
    Ok(CompactOutcome {
        store: report,
        index,
    })
}

/// What `tgbox check` found (and, with `--repair`, what it did).
#[derive(Debug, Serialize)]
pub struct CheckOutcome {
    /// redb's page checksums and allocator state; false: the file needed a repair (done on open).
    pub integrity_ok: bool,
    pub store: ConsistencyReport,
    pub search: ConsistencyReport,
    /// What `--repair` rebuilt (empty without it or when nothing was wrong).
    pub repaired: Vec<String>,
}

impl CheckOutcome {
    pub fn is_clean(&self) -> bool {
        self.integrity_ok && self.store.is_clean() && self.search.is_clean()
    }

    pub fn to_text(&self) -> String {
        let mut out = format!(
            "{:9} {}\n",
            if self.integrity_ok { "ok" } else { "REPAIRED" },
            "store file integrity (page checksums, allocator state)"
        );
        out.push_str(&self.store.to_text());
        out.push_str(&self.search.to_text());
        for r in &self.repaired {
            out.push_str(&format!("repaired  {r}\n"));
        }
        out
    }
}

/// The search index against the store: the same set of message keys, once each, except keys
/// with outbox entries the index has not committed yet (they are on their way).
pub fn check_search(
    store: &dyn Store,
    index: &SearchIndex,
    examples: usize,
) -> Result<ConsistencyReport, AppError> {
    let committed = index.committed_seq()?;
    let mut pending: HashSet<(ChatId, MessageId)> = HashSet::new();
    let mut after = committed;
    loop {
        let page = store.outbox_after(after, 10_000)?;
        pending.extend(page.iter().map(|e| (e.chat_id, e.message_id)));
        match page.last() {
            Some(last) => after = last.seq,
            None => break,
        }
    }
    let mut indexed: HashMap<(ChatId, MessageId), u32> = HashMap::new();
    for key in index.message_keys()? {
        *indexed.entry(key).or_default() += 1;
    }
    let mut missing = CheckItem::new("messages -> search index");
    let mut stored: HashSet<(ChatId, MessageId)> = HashSet::new();
    let mut page_after = None;
    loop {
        let page = store.messages_page(None, page_after, 5000)?;
        for m in &page {
            let key = (m.chat_id, m.message_id);
            stored.insert(key);
            if pending.contains(&key) {
                continue;
            }
            missing.see(indexed.contains_key(&key), examples, || {
                format!(
                    "message ({}, {}) is not in the search index",
                    key.0.0, key.1.0
                )
            });
        }
        match page.last() {
            Some(last) if page.len() == 5000 => page_after = Some((last.chat_id, last.message_id)),
            _ => break,
        }
    }
    let mut extra = CheckItem::new("search index -> messages");
    let mut keys: Vec<_> = indexed.into_iter().collect();
    keys.sort();
    for (key, n) in keys {
        if pending.contains(&key) {
            continue;
        }
        let ok = n == 1 && stored.contains(&key);
        extra.see(ok, examples, || {
            if n > 1 {
                format!("message ({}, {}) is indexed {n} times", key.0.0, key.1.0)
            } else {
                format!(
                    "search index holds ({}, {}), which is not stored",
                    key.0.0, key.1.0
                )
            }
        });
    }
    Ok(ConsistencyReport {
        items: vec![missing, extra],
    })
}

fn check_once(
    store: &dyn Store,
    config: &Config,
) -> Result<(ConsistencyReport, ConsistencyReport), AppError> {
    let report = store.check_consistency(EXAMPLES)?;
    let index = SearchIndex::open(&index_dir(&config.storage.dir))?;
    let search = check_search(store, &index, EXAMPLES)?;
    Ok((report, search))
}

/// `tgbox check [--repair]` on a stopped data directory.
pub fn check(config: &Config, repair: bool) -> Result<CheckOutcome, AppError> {
    let mut redb = open_existing(config, "")?;
    let integrity_ok = redb.check_integrity()?;
    let store: SharedStore = Arc::new(redb);
    let (report, search) = check_once(&*store, config)?;
    let mut outcome = CheckOutcome {
        integrity_ok,
        store: report,
        search,
        repaired: Vec::new(),
    };
    if !repair || outcome.is_clean() {
        return Ok(outcome);
    }
    if !outcome.store.is_clean() {
        let r = store.rebuild_indexes()?;
        for (table, rows) in r.rebuilt {
            outcome
                .repaired
                .push(format!("{table}: rebuilt, {rows} rows"));
        }
    }
    if !outcome.search.is_clean() {
        let r = search::rebuild_dir(
            &index_dir(&config.storage.dir),
            &*store,
            &indexer_config(&config.search),
            &mut |_, _| {},
        )?;
        outcome
            .repaired
            .push(format!("search index: rebuilt, {} messages", r.messages));
    }
    // Check again: the outcome reports the repaired state.
    let (report, search) = check_once(&*store, config)?;
    outcome.store = report;
    outcome.search = search;
    outcome.integrity_ok = true;
    Ok(outcome)
}
