//! A sliding-window histogram: log-linear buckets (8 per power of two, about 9 % wide) kept in
//! two rings of time slots, 10-second slots for the last 5 minutes and 1-minute slots for the
//! last hour. Recording is a few array increments under a short mutex hold; memory is fixed.

use serde::Serialize;

const SUB: u32 = 8;
const OCTAVES: u32 = 40;
/// Number of buckets: values 0..8 exactly, then 8 buckets per power of two.
pub const BUCKETS: usize = (SUB * OCTAVES) as usize;

const FINE_SECS: u64 = 10;
const FINE_SLOTS: usize = 30;
const COARSE_SECS: u64 = 60;
const COARSE_SLOTS: usize = 60;

/// Which bucket holds `v`.
fn bucket(v: u64) -> usize {
    if v < u64::from(SUB) {
        return v as usize;
    }
    let octave = 63 - v.leading_zeros(); // >= 3
    let shift = octave - 3;
    let sub = ((v >> shift) & u64::from(SUB - 1)) as u32;
    let idx = (octave - 2) * SUB + sub;
    (idx as usize).min(BUCKETS - 1)
}

/// The middle of bucket `i` (what a percentile reports).
fn bucket_value(i: usize) -> f64 {
    let i = i as u64;
    if i < u64::from(SUB) {
        return i as f64;
    }
    let octave = i / u64::from(SUB) + 2;
    let sub = i % u64::from(SUB);
    let shift = octave - 3;
    let low = (u64::from(SUB) + sub) << shift;
    low as f64 + ((1u64 << shift) as f64 - 1.0) / 2.0
}

#[derive(Clone)]
struct Slot {
    epoch: u64,
    count: u64,
    sum: u64,
    max: u64,
    buckets: Box<[u32]>,
}

impl Slot {
    fn new() -> Self {
        Slot {
            epoch: u64::MAX,
            count: 0,
            sum: 0,
            max: 0,
            buckets: vec![0; BUCKETS].into_boxed_slice(),
        }
    }

    fn record(&mut self, epoch: u64, v: u64, n: u64) {
        if self.epoch != epoch {
            self.epoch = epoch;
            self.count = 0;
            self.sum = 0;
            self.max = 0;
            self.buckets.iter_mut().for_each(|b| *b = 0);
        }
        self.count += n;
        self.sum = self.sum.saturating_add(v.saturating_mul(n));
        self.max = self.max.max(v);
        let b = &mut self.buckets[bucket(v)];
        *b = b.saturating_add(n.min(u64::from(u32::MAX)) as u32);
    }
}

struct Ring {
    secs: u64,
    slots: Vec<Slot>,
}

impl Ring {
    fn new(secs: u64, n: usize) -> Self {
        Ring {
            secs,
            slots: vec![Slot::new(); n],
        }
    }

    fn record(&mut self, now_secs: u64, v: u64, n: u64) {
        let epoch = now_secs / self.secs;
        let len = self.slots.len() as u64;
        self.slots[(epoch % len) as usize].record(epoch, v, n);
    }

    /// Merge the slots covering the last `window` seconds (whole slots, current one included).
    fn merge(&self, now_secs: u64, window: u64, into: &mut Merged) {
        let now = now_secs / self.secs;
        let span = window.div_ceil(self.secs).max(1);
        for slot in &self.slots {
            if slot.epoch != u64::MAX && slot.epoch <= now && now - slot.epoch < span {
                into.count += slot.count;
                into.sum = into.sum.saturating_add(slot.sum);
                into.max = into.max.max(slot.max);
                for (a, b) in into.buckets.iter_mut().zip(slot.buckets.iter()) {
                    *a += u64::from(*b);
                }
            }
        }
    }
}

struct Merged {
    count: u64,
    sum: u64,
    max: u64,
    buckets: Vec<u64>,
}

/// Summary of one window. Values are in the unit recorded (microseconds for latencies).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct WindowStats {
    pub count: u64,
    pub mean: f64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

pub struct WindowedHistogram {
    fine: Ring,
    coarse: Ring,
}

impl Default for WindowedHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl WindowedHistogram {
    pub fn new() -> Self {
        WindowedHistogram {
            fine: Ring::new(FINE_SECS, FINE_SLOTS),
            coarse: Ring::new(COARSE_SECS, COARSE_SLOTS),
        }
    }

    /// Record `n` observations of `v` at `now_secs` (seconds on any monotonic scale).
    pub fn record(&mut self, now_secs: u64, v: u64, n: u64) {
        if n == 0 {
            return;
        }
        self.fine.record(now_secs, v, n);
        self.coarse.record(now_secs, v, n);
    }

    /// Stats over the last `window` seconds: up to 5 minutes from 10-second slots, longer
    /// windows (up to an hour) from 1-minute slots.
    pub fn stats(&self, now_secs: u64, window: u64) -> WindowStats {
        let mut m = Merged {
            count: 0,
            sum: 0,
            max: 0,
            buckets: vec![0; BUCKETS],
        };
        if window <= FINE_SECS * FINE_SLOTS as u64 {
            self.fine.merge(now_secs, window, &mut m);
        } else {
            self.coarse.merge(now_secs, window, &mut m);
        }
        if m.count == 0 {
            return WindowStats::default();
        }
        let q = |q: f64| -> f64 {
            let rank = ((q * m.count as f64).ceil() as u64).max(1);
            let mut seen = 0;
            for (i, c) in m.buckets.iter().enumerate() {
                seen += c;
                if seen >= rank {
                    return bucket_value(i).min(m.max as f64);
                }
            }
            m.max as f64
        };
        WindowStats {
            count: m.count,
            mean: m.sum as f64 / m.count as f64,
            p50: q(0.50),
            p95: q(0.95),
            p99: q(0.99),
            max: m.max as f64,
        }
    }

    /// Observations in the fine slot containing `now_secs` and the one before it, with the
    /// seconds they cover: the basis of a "now" rate.
    pub fn recent_count(&self, now_secs: u64) -> (u64, f64) {
        let now = now_secs / FINE_SECS;
        let mut count = 0;
        for slot in &self.fine.slots {
            if slot.epoch != u64::MAX && slot.epoch <= now && now - slot.epoch < 2 {
                count += slot.count;
            }
        }
        let covered = FINE_SECS as f64 + (now_secs % FINE_SECS) as f64;
        (count, covered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_close() {
        let mut last = 0;
        for v in [
            0u64,
            1,
            7,
            8,
            9,
            15,
            16,
            100,
            1000,
            12345,
            1 << 30,
            u64::MAX / 2,
        ] {
            let b = bucket(v);
            assert!(b >= last, "{v}");
            last = b;
            if v > 0 && v < 1 << 40 {
                let mid = bucket_value(b);
                assert!((mid - v as f64).abs() / (v as f64) < 0.1, "{v} -> {mid}");
            }
        }
    }

    #[test]
    fn windows_forget_old_slots() {
        let mut h = WindowedHistogram::new();
        for i in 0..100 {
            h.record(1000, i * 10, 1);
        }
        let s = h.stats(1000, 60);
        assert_eq!(s.count, 100);
        assert!((s.p50 - 490.0).abs() < 50.0, "{s:?}");
        assert!(s.p99 >= 900.0 && s.p99 <= 990.0, "{s:?}");
        assert_eq!(s.max, 990.0);
        // Two minutes later the 1-minute window is empty, the 5-minute one is not.
        assert_eq!(h.stats(1120, 60).count, 0);
        assert_eq!(h.stats(1120, 300).count, 100);
        assert_eq!(h.stats(1120, 3600).count, 100);
        assert_eq!(h.stats(1000 + 3700, 3600).count, 0);
        h.record(1125, 5, 3);
        assert_eq!(h.recent_count(1125).0, 3);
    }
}
