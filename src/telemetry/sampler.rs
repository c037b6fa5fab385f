//! The system sampler (sysinfo): process RSS, virtual memory, CPU %, threads, system available
//! memory, free disk on the data directory, plus storage figures handed in by the caller. Every
//! sample also becomes a point of a 24-hour history ring at 10-second resolution for charts.

use super::registry::{Op, Registry};
use serde::Serialize;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use sysinfo::{Disks, Pid, ProcessRefreshKind, ProcessesToUpdate, System};

/// Seconds between samples (and history points).
pub const SAMPLE_SECS: u64 = 10;
/// 24 hours of points.
pub const HISTORY_POINTS: usize = 24 * 3600 / SAMPLE_SECS as usize;

/// Storage figures the app computes for the sampler (telemetry knows no store).
#[derive(Clone, Debug, Default, Serialize)]
pub struct StorageFigures {
    /// Bytes of the store file(s).
    pub store_bytes: u64,
    /// Bytes of the search index, if there is one.
    pub index_bytes: u64,
    /// Rows per table.
    pub rows: Vec<(String, u64)>,
    /// Users active in the last 24 hours.
    pub active_users_24h: u64,
    /// Space per store table, as the backend reports it.
    pub tables: Vec<TableFigure>,
}

/// One store table's size (a copy of the store's figures; telemetry knows no store).
#[derive(Clone, Debug, Default, Serialize)]
pub struct TableFigure {
    pub name: String,
    pub rows: u64,
    pub stored_bytes: u64,
    pub metadata_bytes: u64,
    pub fragmented_bytes: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Sample {
    /// Unix seconds.
    pub time: i64,
    pub rss_bytes: u64,
    pub virtual_bytes: u64,
    pub cpu_percent: f32,
    pub threads: u64,
    pub system_total_bytes: u64,
    pub system_available_bytes: u64,
    pub disk_free_bytes: Option<u64>,
    pub storage: StorageFigures,
}

#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct HistoryPoint {
    pub time: i64,
    pub messages_per_sec: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub rss_bytes: u64,
    pub cpu_percent: f32,
}

/// Reads the figures; owned by the sampling task.
pub struct Sampler {
    /// `None` where sysinfo cannot read the system (the figures stay zero).
    system: Option<System>,
    pid: Option<Pid>,
    data_dir: PathBuf,
}

impl Sampler {
    pub fn new(data_dir: &Path) -> Self {
        Sampler {
            system: System::new().ok(),
            pid: sysinfo::get_current_pid().ok(),
            data_dir: data_dir.to_path_buf(),
        }
    }

    /// One sample (blocking: reads /proc and the mount table).
    pub fn sample(&mut self, storage: StorageFigures) -> Sample {
        let mut s = Sample {
            time: chrono::Utc::now().timestamp(),
            disk_free_bytes: disk_free(&self.data_dir),
            storage,
            ..Sample::default()
        };
        let Some(system) = self.system.as_mut() else {
            return s;
        };
        system.refresh_memory();
        s.system_total_bytes = system.total_memory();
        s.system_available_bytes = system.available_memory();
        if let Some(pid) = self.pid {
            system.refresh_processes_specifics(
                ProcessesToUpdate::Some(&[pid]),
                true,
                ProcessRefreshKind::nothing()
                    .with_memory()
                    .with_cpu()
                    .with_tasks(),
            );
            if let Some(p) = system.process(pid) {
                s.rss_bytes = p.memory();
                s.virtual_bytes = p.virtual_memory();
                s.cpu_percent = p.cpu_usage();
                s.threads = p.tasks().map_or(0, |t| t.len() as u64);
            }
        }
        s
    }
}

/// Free bytes on the file system holding `dir` (the longest matching mount point).
fn disk_free(dir: &Path) -> Option<u64> {
    let dir = std::fs::canonicalize(dir).ok()?;
    let disks = Disks::new_with_refreshed_list().ok()?;
    disks
        .iter()
        .filter(|d| dir.starts_with(d.mount_point()))
        .max_by_key(|d| d.mount_point().as_os_str().len())
        .map(|d| d.available_space())
}

/// What the dashboard reads: the latest sample, the history, the memory warning.
pub struct Monitor {
    rss_warn_percent: u8,
    state: Mutex<MonitorState>,
}

#[derive(Default)]
struct MonitorState {
    latest: Option<Sample>,
    history: VecDeque<HistoryPoint>,
    last_update_count: Option<(u64, i64)>,
    warning: Option<String>,
}

impl Monitor {
    /// `rss_warn_percent`: warn when RSS passes this share of system memory (0 = never).
    pub fn new(rss_warn_percent: u8) -> Self {
        Monitor {
            rss_warn_percent,
            state: Mutex::new(MonitorState::default()),
        }
    }

    /// Take a sample: keep it, append a history point, check the memory threshold.
    pub fn push(&self, sample: Sample, registry: &Registry) {
        let Ok(mut st) = self.state.lock() else {
            return;
        };
        let (count, _) = registry.count(Op::Update);
        let rate = match st.last_update_count {
            Some((before, t)) if sample.time > t => {
                count.saturating_sub(before) as f64 / (sample.time - t) as f64
            }
            _ => registry.rates(Op::Update).now,
        };
        st.last_update_count = Some((count, sample.time));
        let lat = registry.stats(Op::Update, 60);
        let point = HistoryPoint {
            time: sample.time,
            messages_per_sec: rate,
            p50_ms: lat.p50 / 1000.0,
            p95_ms: lat.p95 / 1000.0,
            p99_ms: lat.p99 / 1000.0,
            rss_bytes: sample.rss_bytes,
            cpu_percent: sample.cpu_percent,
        };
        if st.history.len() >= HISTORY_POINTS {
            st.history.pop_front();
        }
        st.history.push_back(point);
        let limit = sample.system_total_bytes / 100 * u64::from(self.rss_warn_percent);
        let over = self.rss_warn_percent > 0 && limit > 0 && sample.rss_bytes > limit;
        match (over, st.warning.is_some()) {
            (true, false) => {
                let text = format!(
                    "memory: the process uses {} MiB, more than {} % of the system's {} MiB",
                    sample.rss_bytes >> 20,
                    self.rss_warn_percent,
                    sample.system_total_bytes >> 20
                );
                tracing::warn!("{text}");
                st.warning = Some(text);
            }
            (false, true) => {
                tracing::info!("memory use is back under the warning threshold");
                st.warning = None;
            }
            _ => {}
        }
        st.latest = Some(sample);
    }

    pub fn latest(&self) -> Option<Sample> {
        self.state.lock().ok().and_then(|s| s.latest.clone())
    }

    pub fn warning(&self) -> Option<String> {
        self.state.lock().ok().and_then(|s| s.warning.clone())
    }

    /// History points newer than `since_secs` ago, oldest first, at most `max_points`
    /// (evenly thinned).
    pub fn history(&self, since_secs: i64, max_points: usize) -> Vec<HistoryPoint> {
        let Ok(st) = self.state.lock() else {
            return Vec::new();
        };
        let cutoff = st.latest.as_ref().map_or(0, |s| s.time) - since_secs;
        let points: Vec<HistoryPoint> = st
            .history
            .iter()
            .filter(|p| p.time > cutoff)
            .copied()
            .collect();
        let step = points.len().div_ceil(max_points.max(1)).max(1);
        points.into_iter().step_by(step).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_this_process_and_warns() {
        let dir = tempfile::tempdir().unwrap();
        let mut sampler = Sampler::new(dir.path());
        let s = sampler.sample(StorageFigures::default());
        if cfg!(target_os = "linux") {
            assert!(s.rss_bytes > 0 && s.system_total_bytes > 0, "{s:?}");
            assert!(s.disk_free_bytes.is_some());
        }
        let registry = Registry::new();
        let monitor = Monitor::new(1);
        let mut big = s.clone();
        big.system_total_bytes = 1000 << 20;
        big.rss_bytes = 500 << 20;
        monitor.push(big.clone(), &registry);
        assert!(monitor.warning().is_some());
        big.rss_bytes = 1 << 20;
        big.time += 10;
        monitor.push(big, &registry);
        assert!(monitor.warning().is_none());
        assert_eq!(monitor.history(3600, 100).len(), 2);
        assert!(monitor.latest().is_some());
    }
}
