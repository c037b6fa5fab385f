//! Backend-neutral results of the maintenance operations: compaction, the consistency check,
//! index repair and backup. The backends fill them in; `service::maintenance`, the CLI and the
//! dashboard show them.

use serde::{Deserialize, Serialize};

/// What one store compaction did.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CompactionReport {
    /// Size of the store file before and after.
    pub bytes_before: u64,
    pub bytes_after: u64,
    /// Whether the backend could move anything (false: the file was already tight).
    pub compacted: bool,
    /// Waiting for in-flight store calls to finish before the exclusive window began.
    pub wait_ms: u64,
    /// How long every other store call was held back (the exclusive window; ingest pauses).
    pub pause_ms: u64,
    /// The whole call, wait included.
    pub duration_ms: u64,
}

impl CompactionReport {
    pub fn reclaimed_bytes(&self) -> u64 {
        self.bytes_before.saturating_sub(self.bytes_after)
    }
}

/// One kind of consistency check: how many rows it looked at and what was wrong.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckItem {
    /// A short name, e.g. `messages -> messages_by_time`.
    pub name: String,
    pub checked: u64,
    pub bad: u64,
    /// The first few offending keys, readable.
    pub examples: Vec<String>,
}

impl CheckItem {
    pub fn new(name: &str) -> Self {
        CheckItem {
            name: name.to_string(),
            ..CheckItem::default()
        }
    }

    /// Count a row; `ok == false` records it as bad with `key()` as an example.
    pub fn see(&mut self, ok: bool, examples: usize, key: impl FnOnce() -> String) {
        self.checked += 1;
        if !ok {
            self.bad += 1;
            if self.examples.len() < examples {
                self.examples.push(key());
            }
        }
    }
}

/// The result of a consistency check: every item, in a fixed order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsistencyReport {
    pub items: Vec<CheckItem>,
}

impl ConsistencyReport {
    pub fn problems(&self) -> u64 {
        self.items.iter().map(|i| i.bad).sum()
    }

    pub fn is_clean(&self) -> bool {
        self.problems() == 0
    }

    /// One line per item, then the examples of the bad ones.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for i in &self.items {
            let verdict = if i.bad == 0 { "ok" } else { "MISMATCH" };
            out.push_str(&format!(
                "{verdict:9} {:44} {:>10} checked {:>8} bad\n",
                i.name, i.checked, i.bad
            ));
            for e in &i.examples {
                out.push_str(&format!("          - {e}\n"));
            }
        }
        out
    }
}

/// What rebuilding the derived indexes wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepairReport {
    /// (index table, rows written).
    pub rebuilt: Vec<(String, u64)>,
}

/// What a backup wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupSummary {
    pub schema_version: u32,
    pub last_update_id: Option<u32>,
    pub tables: u32,
    pub rows: u64,
    pub bytes: u64,
}

/// The last maintenance run, kept by the store so the dashboard shows it after a restart.
/// Plain figures; the store keeps it opaque (version byte + postcard, like every record).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MaintenanceRun {
    /// Unix seconds when the run finished.
    pub finished_at: i64,
    /// "schedule", "fragmentation", "dashboard", "cli".
    pub trigger: String,
    pub store: Option<CompactionReport>,
    pub index: Option<IndexCompactionFigures>,
    /// Set when a part failed; the other part's figures are still kept.
    pub error: Option<String>,
}

/// What merging the search index and collecting its garbage did.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IndexCompactionFigures {
    pub bytes_before: u64,
    pub bytes_after: u64,
    pub segments_before: u64,
    pub segments_after: u64,
    /// Documents deleted but still on disk before the merge.
    pub deleted_docs_before: u64,
    pub duration_ms: u64,
}
