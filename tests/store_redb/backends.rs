//! Storage backends for fault injection: a file backend whose disk can fill up, and an in-memory
//! backend that can "lose power" at any write or sync.

use redb::backends::FileBackend;
use redb::{BackendError, StorageBackend};
use std::io;
use std::ops::Bound;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

const ENOSPC: i32 = 28;

fn no_space() -> io::Error {
    io::Error::from_raw_os_error(ENOSPC)
}

/// Shared control of a [`FullDisk`]: how many more bytes the "disk" takes.
#[derive(Debug, Default)]
pub struct DiskControl {
    /// `None`: unlimited.
    budget: Mutex<Option<u64>>,
    written: AtomicU64,
    failures: AtomicU64,
}

impl DiskControl {
    pub fn fill_after(&self, bytes: u64) {
        *self.budget.lock().unwrap() = Some(bytes);
    }

    pub fn free_space(&self) {
        *self.budget.lock().unwrap() = None;
    }

    pub fn written(&self) -> u64 {
        self.written.load(Ordering::SeqCst)
    }

    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::SeqCst)
    }

    /// Take `n` bytes from the budget, or fail with ENOSPC.
    fn take(&self, n: u64) -> io::Result<()> {
        let mut budget = self.budget.lock().unwrap();
        if let Some(left) = budget.as_mut() {
            if n > *left {
                self.failures.fetch_add(1, Ordering::SeqCst);
                return Err(no_space());
            }
            *left -= n;
        }
        self.written.fetch_add(n, Ordering::SeqCst);
        Ok(())
    }
}

/// The real file backend, except that writes and growth fail with ENOSPC once the budget set
/// through [`DiskControl`] is used up.
#[derive(Debug)]
pub struct FullDisk {
    inner: FileBackend,
    control: Arc<DiskControl>,
}

impl FullDisk {
    pub fn open(path: &Path, control: Arc<DiskControl>) -> io::Result<FullDisk> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let inner = FileBackend::new(file).map_err(io::Error::other)?;
        Ok(FullDisk { inner, control })
    }
}

impl StorageBackend for FullDisk {
    fn len(&self) -> Result<u64, io::Error> {
        self.inner.len()
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), io::Error> {
        self.inner.read(offset, out)
    }

    fn set_len(&self, len: u64) -> Result<(), io::Error> {
        let current = self.inner.len()?;
        self.control.take(len.saturating_sub(current))?;
        self.inner.set_len(len)
    }

    fn sync_data(&self) -> Result<(), io::Error> {
        self.inner.sync_data()
    }

    fn write(&self, offset: u64, data: &[u8]) -> Result<(), io::Error> {
        self.control.take(data.len() as u64)?;
        self.inner.write(offset, data)
    }

    fn close(&self) -> Result<(), io::Error> {
        self.inner.close()
    }

    fn try_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.inner.try_lock_range(start, end)
    }

    fn try_lock_shared_range(
        &self,
        start: Bound<u64>,
        end: Bound<u64>,
    ) -> Result<bool, BackendError> {
        self.inner.try_lock_shared_range(start, end)
    }

    fn lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.inner.lock_range(start, end)
    }

    fn lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.inner.lock_shared_range(start, end)
    }

    fn unlock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.inner.unlock_range(start, end)
    }

    fn query_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.inner.query_lock_range(start, end)
    }
}

#[derive(Debug, Default)]
struct PowerState {
    /// What the process sees (every write applied).
    live: Vec<u8>,
    /// What survives a power cut: the contents at the last completed sync.
    durable: Vec<u8>,
    /// Operations (write, set_len, sync) performed since `arm`.
    ops: u64,
    /// Once armed, the operation with this index and every later one fail: the machine is gone.
    crash_at: Option<u64>,
    crashed: bool,
}

/// An in-memory disk that can die at a chosen operation. Afterwards [`PowerCut::process_image`]
/// is what the disk holds if only the process died (every completed write is there) and
/// [`PowerCut::power_image`] what it holds if the machine lost power (only synced data).
#[derive(Clone, Debug, Default)]
pub struct PowerCut {
    state: Arc<Mutex<PowerState>>,
}

impl PowerCut {
    /// Start counting operations; crash at operation `crash_at` (never if `None`).
    pub fn arm(&self, crash_at: Option<u64>) {
        let mut s = self.state.lock().unwrap();
        s.ops = 0;
        s.crash_at = crash_at;
    }

    pub fn ops(&self) -> u64 {
        self.state.lock().unwrap().ops
    }

    pub fn crashed(&self) -> bool {
        self.state.lock().unwrap().crashed
    }

    pub fn process_image(&self) -> Vec<u8> {
        self.state.lock().unwrap().live.clone()
    }

    pub fn power_image(&self) -> Vec<u8> {
        self.state.lock().unwrap().durable.clone()
    }

    /// Count one mutating operation; fail it if the machine is (now) dead.
    fn step(s: &mut PowerState) -> io::Result<()> {
        if s.crashed {
            return Err(io::Error::other("simulated crash: the machine is off"));
        }
        if s.crash_at == Some(s.ops) {
            s.crashed = true;
            return Err(io::Error::other("simulated crash"));
        }
        s.ops += 1;
        Ok(())
    }
}

impl StorageBackend for PowerCut {
    fn len(&self) -> Result<u64, io::Error> {
        Ok(self.state.lock().unwrap().live.len() as u64)
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), io::Error> {
        let s = self.state.lock().unwrap();
        let start = usize::try_from(offset).map_err(io::Error::other)?;
        let end = start + out.len();
        if end > s.live.len() {
            return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
        }
        out.copy_from_slice(&s.live[start..end]);
        Ok(())
    }

    fn set_len(&self, len: u64) -> Result<(), io::Error> {
        let mut s = self.state.lock().unwrap();
        PowerCut::step(&mut s)?;
        let len = usize::try_from(len).map_err(io::Error::other)?;
        s.live.resize(len, 0);
        Ok(())
    }

    fn sync_data(&self) -> Result<(), io::Error> {
        let mut s = self.state.lock().unwrap();
        PowerCut::step(&mut s)?;
        s.durable = s.live.clone();
        Ok(())
    }

    fn write(&self, offset: u64, data: &[u8]) -> Result<(), io::Error> {
        let mut s = self.state.lock().unwrap();
        PowerCut::step(&mut s)?;
        let start = usize::try_from(offset).map_err(io::Error::other)?;
        let end = start + data.len();
        if end > s.live.len() {
            s.live.resize(end, 0);
        }
        s.live[start..end].copy_from_slice(data);
        Ok(())
    }
}
