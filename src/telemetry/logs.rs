//! A ring buffer of the last few thousand log lines, filled by a tracing layer, for the
//! dashboard's Logs page.

use serde::Serialize;
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

/// Lines kept.
pub const LOG_CAPACITY: usize = 5000;

#[derive(Clone, Debug, Serialize)]
pub struct LogLine {
    /// Unix seconds.
    pub time: i64,
    pub level: &'static str,
    pub target: String,
    pub message: String,
}

/// Shared handle to the ring.
#[derive(Clone)]
pub struct LogRing {
    inner: Arc<Mutex<VecDeque<LogLine>>>,
    capacity: usize,
}

impl Default for LogRing {
    fn default() -> Self {
        Self::new(LOG_CAPACITY)
    }
}

/// Severity rank: error 0 .. trace 4.
pub fn level_rank(level: &str) -> u8 {
    match level {
        "ERROR" => 0,
        "WARN" => 1,
        "INFO" => 2,
        "DEBUG" => 3,
        _ => 4,
    }
}

impl LogRing {
    pub fn new(capacity: usize) -> Self {
        LogRing {
            inner: Arc::new(Mutex::new(VecDeque::with_capacity(capacity.min(1024)))),
            capacity: capacity.max(1),
        }
    }

    pub fn push(&self, line: LogLine) {
        if let Ok(mut q) = self.inner.lock() {
            if q.len() >= self.capacity {
                q.pop_front();
            }
            q.push_back(line);
        }
    }

    /// The newest lines first, at most `limit`, at `max_rank` severity or worse.
    pub fn recent(&self, max_rank: u8, limit: usize) -> Vec<LogLine> {
        match self.inner.lock() {
            Ok(q) => q
                .iter()
                .rev()
                .filter(|l| level_rank(l.level) <= max_rank)
                .take(limit)
                .cloned()
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    /// The tracing layer that feeds this ring.
    pub fn layer(&self) -> RingLayer {
        RingLayer { ring: self.clone() }
    }
}

pub struct RingLayer {
    ring: LogRing,
}

struct Fields {
    message: String,
    rest: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.rest, " {}={}", field.name(), value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.rest, " {}={:?}", field.name(), value);
        }
    }
}

impl<S: Subscriber> Layer<S> for RingLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        let mut fields = Fields {
            message: String::new(),
            rest: String::new(),
        };
        event.record(&mut fields);
        let level = match *meta.level() {
            Level::ERROR => "ERROR",
            Level::WARN => "WARN",
            Level::INFO => "INFO",
            Level::DEBUG => "DEBUG",
            Level::TRACE => "TRACE",
        };
        self.ring.push(LogLine {
            time: chrono::Utc::now().timestamp(),
            level,
            target: meta.target().to_string(),
            message: fields.message + &fields.rest,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_keeps_newest_and_filters() {
        let ring = LogRing::new(3);
        for (i, level) in ["INFO", "ERROR", "DEBUG", "WARN"].iter().enumerate() {
            ring.push(LogLine {
                time: i as i64,
                level,
                target: "t".into(),
                message: format!("m{i}"),
            });
        }
        let all = ring.recent(4, 10);
        assert_eq!(all.len(), 3);
        assert_eq!(all[0].message, "m3");
        let warn: Vec<_> = ring.recent(1, 10).into_iter().map(|l| l.message).collect();
        assert_eq!(warn, vec!["m3", "m1"]);
    }
}
