//! The broadcast's send pacer: evenly spaced sends with a hard cap per sliding window.
//!
//! Pure logic over instants the caller passes in (tests use made-up instants, no sleeping). Two
//! rules decide the earliest moment of the next send:
//! - **Spacing**: slots `interval` apart. After a late send (a commit stalled the sender) the
//!   next slot may come sooner, but never sooner than `interval / 2` after the last send, so a
//!   stall is caught up gradually instead of in a burst.
//! - **Cap**: at most `max_in_window` sends in any `window`, counted at send time. This is the
//!   promise to Telegram ("30 messages per second"), whatever the spacing does.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacerLimits {
    pub interval: Duration,
    pub max_in_window: usize,
    pub window: Duration,
}

#[derive(Debug)]
pub struct Pacer {
    limits: PacerLimits,
    /// Send times inside the window, oldest first.
    sent: VecDeque<Instant>,
    next_slot: Option<Instant>,
    /// No send before this (a 429's retry_after).
    paused_until: Option<Instant>,
}

impl Pacer {
    pub fn new(limits: PacerLimits) -> Pacer {
        Pacer {
            limits,
            sent: VecDeque::new(),
            next_slot: None,
            paused_until: None,
        }
    }

    pub fn limits(&self) -> PacerLimits {
        self.limits
    }

    /// The earliest instant (not before `now`) at which a send is allowed.
    pub fn earliest(&mut self, now: Instant) -> Instant {
        while let Some(first) = self.sent.front() {
            if now.saturating_duration_since(*first) >= self.limits.window {
                self.sent.pop_front();
            } else {
                break;
            }
        }
        let mut at = now;
        if let Some(slot) = self.next_slot {
            at = at.max(slot);
        }
        if let Some(p) = self.paused_until {
            at = at.max(p);
        }
        let max = self.limits.max_in_window.max(1);
        if self.sent.len() >= max {
            // The send that must leave the window first.
            let oldest = self.sent[self.sent.len() - max];
            at = at.max(oldest + self.limits.window);
        }
        at
    }

    /// Record a send made at `at` (which the caller got from [`Pacer::earliest`]).
    pub fn record(&mut self, at: Instant) {
        let slot = self.next_slot.unwrap_or(at);
        let half = self.limits.interval / 2;
        self.next_slot = Some((slot + self.limits.interval).max(at + half));
        self.sent.push_back(at);
    }

    /// No send before `until` (Telegram's retry_after); the spacing restarts after it.
    pub fn pause_until(&mut self, until: Instant) {
        self.paused_until = Some(self.paused_until.map_or(until, |p| p.max(until)));
        self.next_slot = None;
    }

    /// How long from `now` sends are held for a 429, if they are.
    pub fn paused_for(&self, now: Instant) -> Option<Duration> {
        self.paused_until
            .filter(|p| *p > now)
            .map(|p| p.saturating_duration_since(now))
    }

    /// Wait (on the tokio clock) until a send is allowed, then record it.
    pub async fn acquire(&mut self) {
        loop {
            let now = Instant::now();
            let at = self.earliest(now);
            if at <= now {
                self.record(now);
                return;
            }
            tokio::time::sleep(at - now).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> PacerLimits {
        PacerLimits {
            interval: Duration::from_millis(34),
            max_in_window: 29,
            window: Duration::from_secs(1),
        }
    }

    /// Drive the pacer on a fake clock, each send taking `latency`, with `stall` added before
    /// every 16th send (a commit); returns the send times.
    fn simulate(n: usize, stall: Duration) -> Vec<Instant> {
        let mut p = Pacer::new(limits());
        let mut now = Instant::now();
        let mut times = Vec::new();
        for i in 0..n {
            if i % 16 == 0 {
                now += stall;
            }
            let at = p.earliest(now);
            now = now.max(at);
            p.record(now);
            times.push(now);
            now += Duration::from_micros(300);
        }
        times
    }

    fn max_in_any_window(times: &[Instant], window: Duration) -> usize {
        let mut best = 0;
        let mut start = 0;
        for end in 0..times.len() {
            while times[end] - times[start] >= window {
                start += 1;
            }
            best = best.max(end - start + 1);
        }
        best
    }

    #[test]
    fn never_more_than_the_cap_and_close_to_it() {
        for stall in [
            Duration::ZERO,
            Duration::from_millis(15),
            Duration::from_millis(60),
        ] {
            let times = simulate(2_000, stall);
            assert!(max_in_any_window(&times, Duration::from_secs(1)) <= 29);
            let span = (*times.last().unwrap() - times[0]).as_secs_f64();
            let rate = (times.len() - 1) as f64 / span;
            assert!(rate > 28.5 && rate <= 29.01, "stall {stall:?}: rate {rate}");
            // Consecutive sends are never closer than half the interval.
            assert!(
                times
                    .windows(2)
                    .all(|w| w[1] - w[0] >= Duration::from_millis(17))
            );
        }
    }

    #[test]
    fn pause_holds_every_send() {
        let mut p = Pacer::new(limits());
        let now = Instant::now();
        p.record(now);
        p.pause_until(now + Duration::from_secs(3));
        assert_eq!(p.earliest(now), now + Duration::from_secs(3));
        let later = now + Duration::from_secs(4);
        assert_eq!(p.earliest(later), later);
    }
}
