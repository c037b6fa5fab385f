//! Telegram's flood control, simulated, and the log of every message the bot tried to send.
//!
//! When enabled ([`FloodLimits`]), a send (`sendMessage`, `sendPhoto`, `sendDocument`) that would
//! make more than `per_second` sends in the last second overall, or a second send to one chat
//! within `per_chat_ms`, answers 429 with `retry_after`, like Telegram. Such 429s are the bot's
//! own doing and are counted in [`SimStats::flood_429s`](super::SimStats). The send log records
//! every send attempt with its time (microseconds since the simulator started), chat and outcome,
//! flood control on or off, so tests can check "never more than 30 in any second".

use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::time::Instant;

/// The methods that send a message.
pub(crate) const SEND_METHODS: [&str; 3] = ["sendMessage", "sendPhoto", "sendDocument"];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FloodLimits {
    /// Sends allowed in any sliding second, all chats together (Telegram: 30).
    pub per_second: u32,
    /// Minimum spacing of two sends to one chat, in ms (Telegram: about 1 s).
    pub per_chat_ms: u64,
    /// The `retry_after` of a flood 429, in seconds.
    pub retry_after: u32,
}

impl Default for FloodLimits {
    fn default() -> Self {
        FloodLimits {
            per_second: 30,
            per_chat_ms: 1_000,
            retry_after: 1,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SendOutcome {
    /// Accepted and stored.
    Ok,
    /// Refused by the simulated flood control (the bot went too fast).
    Flood,
    /// Refused by an injected fault (`FaultPlan`).
    Fault,
    /// Refused by the method itself (bad request, unknown chat, ...), with the error code.
    Error(u16),
}

/// One send attempt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendRecord {
    /// Microseconds since the simulator started.
    pub at_us: u64,
    pub method: String,
    pub chat_id: Option<i64>,
    pub outcome: SendOutcome,
}

pub(crate) struct Flood {
    start: Instant,
    limits: Option<FloodLimits>,
    /// Times of sends that passed flood control, within the last second.
    window: VecDeque<u64>,
    last_per_chat: HashMap<i64, u64>,
    pub log: Vec<SendRecord>,
    pub flood_429s: u64,
}

impl Default for Flood {
    fn default() -> Self {
        Flood {
            start: Instant::now(),
            limits: None,
            window: VecDeque::new(),
            last_per_chat: HashMap::new(),
            log: Vec::new(),
            flood_429s: 0,
        }
    }
}

impl Flood {
    pub fn set_limits(&mut self, limits: Option<FloodLimits>) {
        self.limits = limits;
        self.window.clear();
        self.last_per_chat.clear();
    }

    pub fn limits(&self) -> Option<FloodLimits> {
        self.limits
    }

    pub fn now_us(&self) -> u64 {
        self.start.elapsed().as_micros() as u64
    }

    /// Log an attempt that did not reach flood control (a fault).
    pub fn log(&mut self, at_us: u64, method: &str, chat_id: Option<i64>, outcome: SendOutcome) {
        self.log.push(SendRecord {
            at_us,
            method: method.to_string(),
            chat_id,
            outcome,
        });
    }

    /// Whether a send at `now` may go; `Err(retry_after)` when it breaks a limit (logged and
    /// counted). A send that passes counts against the limits from now on.
    pub fn admit(&mut self, now: u64, method: &str, chat_id: Option<i64>) -> Result<(), u32> {
        let Some(limits) = self.limits else {
            return Ok(());
        };
        while self
            .window
            .front()
            .is_some_and(|t| now.saturating_sub(*t) >= 1_000_000)
        {
            self.window.pop_front();
        }
        let too_fast_overall = self.window.len() >= limits.per_second as usize;
        let too_fast_chat = chat_id
            .and_then(|c| self.last_per_chat.get(&c))
            .is_some_and(|t| now.saturating_sub(*t) < limits.per_chat_ms * 1_000);
        if too_fast_overall || too_fast_chat {
            self.flood_429s += 1;
            self.log(now, method, chat_id, SendOutcome::Flood);
            return Err(limits.retry_after);
        }
        self.window.push_back(now);
        if let Some(c) = chat_id {
            self.last_per_chat.insert(c, now);
        }
        Ok(())
    }
}

/// The largest number of `Ok` sends in any sliding second of `log`.
pub fn max_per_second(log: &[SendRecord]) -> usize {
    let mut times: Vec<u64> = log
        .iter()
        .filter(|r| r.outcome == SendOutcome::Ok)
        .map(|r| r.at_us)
        .collect();
    times.sort_unstable();
    let (mut best, mut start) = (0, 0);
    for end in 0..times.len() {
        while times[end] - times[start] >= 1_000_000 {
            start += 1;
        }
        best = best.max(end - start + 1);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_overall_and_per_chat() {
        let mut f = Flood::default();
        assert!(f.admit(0, "sendMessage", Some(1)).is_ok()); // off: anything goes
        f.set_limits(Some(FloodLimits::default()));
        for i in 0..30 {
            assert!(
                f.admit(i * 1_000, "sendMessage", Some(i as i64 + 10))
                    .is_ok()
            );
        }
        assert_eq!(f.admit(40_000, "sendMessage", Some(99)), Err(1));
        // One second after the first, there is room again.
        assert!(f.admit(1_000_000, "sendMessage", Some(99)).is_ok());
        // Same chat within a second: refused.
        assert_eq!(f.admit(1_500_000, "sendMessage", Some(99)), Err(1));
        assert_eq!(f.flood_429s, 2);
        assert_eq!(f.log.len(), 2);
        let log: Vec<SendRecord> = [0u64, 10, 999_999, 1_000_000, 1_000_001]
            .iter()
            .map(|t| SendRecord {
                at_us: *t,
                method: "sendMessage".into(),
                chat_id: None,
                outcome: SendOutcome::Ok,
            })
            .collect();
        assert_eq!(max_per_second(&log), 4); // 10, 999_999, 1_000_000, 1_000_001
    }
}
