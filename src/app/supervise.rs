//! Telling the service manager how we are: systemd's notify protocol (`READY=1` once the store
//! is open and the listeners run, `WATCHDOG=1` while the ingest path is alive, `STOPPING=1` at
//! shutdown, `STATUS=` lines for `systemctl status`).
//!
//! The watchdog interval comes from systemd (`WATCHDOG_USEC`, set by `WatchdogSec=`). Pings go
//! out at half of it, and only when the liveness probe passes: the ingest producer beat recently
//! and the writer thread answered a ping. A stuck loop or writer therefore stops the pings and
//! systemd restarts the service.

use sd_notify::NotifyState;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Where notifications go.
#[derive(Clone, Debug, Default)]
pub enum Notifier {
    /// Not under a service manager (no `NOTIFY_SOCKET`).
    #[default]
    Disabled,
    /// systemd: datagrams to `$NOTIFY_SOCKET` through the sd-notify crate.
    Systemd { watchdog: Option<Duration> },
    /// Kept in memory (tests and embedders): each message as it would be sent.
    Record {
        sent: Arc<Mutex<Vec<String>>>,
        watchdog: Option<Duration>,
    },
}

impl Notifier {
    /// systemd's if `NOTIFY_SOCKET` is set, with the watchdog interval from `WATCHDOG_USEC`
    /// (when `WATCHDOG_PID`, if set, is ours).
    pub fn from_env() -> Notifier {
        if std::env::var_os("NOTIFY_SOCKET").is_none() {
            return Notifier::Disabled;
        }
        Notifier::Systemd {
            watchdog: sd_notify::watchdog_enabled().filter(|d| !d.is_zero()),
        }
    }

    /// A recording notifier and the list it records into.
    pub fn record(watchdog: Option<Duration>) -> (Notifier, Arc<Mutex<Vec<String>>>) {
        let sent = Arc::new(Mutex::new(Vec::new()));
        (
            Notifier::Record {
                sent: sent.clone(),
                watchdog,
            },
            sent,
        )
    }

    /// The interval systemd expects pings within, if the watchdog is on.
    pub fn watchdog(&self) -> Option<Duration> {
        match self {
            Notifier::Disabled => None,
            Notifier::Systemd { watchdog } | Notifier::Record { watchdog, .. } => *watchdog,
        }
    }

    fn send(&self, states: &[NotifyState<'_>]) {
        match self {
            Notifier::Disabled => {}
            Notifier::Systemd { .. } => {
                if let Err(e) = sd_notify::notify(states) {
                    tracing::warn!(error = %e, "cannot notify systemd");
                }
            }
            Notifier::Record { sent, .. } => {
                let text: String = states.iter().map(|s| format!("{s}\n")).collect();
                if let Ok(mut sent) = sent.lock() {
                    sent.push(text);
                }
            }
        }
    }

    /// Startup is finished: the store is open, the listeners run, updates flow.
    pub fn ready(&self, status: &str) {
        self.send(&[NotifyState::Ready, NotifyState::Status(status)]);
    }

    /// Shutdown has begun.
    pub fn stopping(&self) {
        self.send(&[NotifyState::Stopping, NotifyState::Status("stopping")]);
    }

    pub fn status(&self, status: &str) {
        self.send(&[NotifyState::Status(status)]);
    }

    fn ping(&self) {
        self.send(&[NotifyState::Watchdog]);
    }
}

/// Ping the watchdog every `interval / 2` while `probe` says the ingest path is alive, until
/// `cancel` fires. A probe gets at most `interval / 2` to answer.
pub async fn run_watchdog<P, F>(
    notifier: Notifier,
    interval: Duration,
    probe: P,
    cancel: CancellationToken,
) where
    P: Fn() -> F,
    F: Future<Output = Result<(), String>>,
{
    let period = (interval / 2).max(Duration::from_millis(10));
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = ticker.tick() => {}
        }
        let verdict = tokio::select! {
            _ = cancel.cancelled() => return,
            r = tokio::time::timeout(period, probe()) => r,
        };
        match verdict {
            Ok(Ok(())) => {
                if failing {
                    tracing::info!("ingest is alive again; watchdog pings resume");
                    failing = false;
                }
                notifier.ping();
            }
            Ok(Err(why)) => {
                if !failing {
                    tracing::error!(%why, "ingest looks stuck; not pinging the watchdog");
                    failing = true;
                }
            }
            Err(_) => {
                if !failing {
                    tracing::error!("the liveness probe timed out; not pinging the watchdog");
                    failing = true;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[tokio::test]
    async fn pings_only_while_the_probe_passes() {
        let (notifier, sent) = Notifier::record(Some(Duration::from_millis(100)));
        let alive = Arc::new(AtomicBool::new(true));
        let cancel = CancellationToken::new();
        let probe_alive = alive.clone();
        let task = tokio::spawn(run_watchdog(
            notifier.clone(),
            Duration::from_millis(100),
            move || {
                let alive = probe_alive.load(Ordering::SeqCst);
                async move {
                    if alive {
                        Ok(())
                    } else {
                        Err("stuck".to_string())
                    }
                }
            },
            cancel.clone(),
        ));
        tokio::time::sleep(Duration::from_millis(400)).await;
        let while_alive = sent.lock().unwrap().len();
        assert!(
            while_alive >= 3,
            "{while_alive} pings in 400 ms at a 50 ms period"
        );
        alive.store(false, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(60)).await;
        let at_stall = sent.lock().unwrap().len();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(sent.lock().unwrap().len(), at_stall, "pinged while stuck");
        alive.store(true, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            sent.lock().unwrap().len() > at_stall,
            "no pings after recovery"
        );
        cancel.cancel();
        task.await.unwrap();
        assert!(sent.lock().unwrap().iter().all(|m| m == "WATCHDOG=1\n"));
    }

    #[test]
    fn messages_follow_the_protocol() {
        let (notifier, sent) = Notifier::record(None);
        notifier.ready("polling");
        notifier.stopping();
        let sent = sent.lock().unwrap();
        assert_eq!(sent[0], "READY=1\nSTATUS=polling\n");
        assert_eq!(sent[1], "STOPPING=1\nSTATUS=stopping\n");
    }
}
