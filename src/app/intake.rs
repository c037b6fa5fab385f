//! How updates come in, once the bot is connected: the polling loop, or the webhook receiver on
//! the web server. Either way: tell systemd we are ready, keep the watchdog fed while the ingest
//! path is alive, and on shutdown stop taking updates before the writer is flushed.

use super::supervise::{Notifier, run_watchdog};
use super::{AppError, blocking};
use crate::bot::{self, Handlers, PollingConfig, Telegram, WebhookIntake};
use crate::config::{Config, Secret, TelegramMode, WebhookConfig};
use crate::domain::UpdateId;
use crate::ingest::{Heartbeat, WriterHandle};
use crate::web::{self, AcceptFn, IntakeRoutes, WebhookAnswer, WebhookRoute};
use rand::Rng;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The file in the data directory that keeps the generated webhook secret.
pub const SECRET_FILE: &str = "webhook-secret";

/// What the intake needs from the wiring.
pub(super) struct Intake<'a> {
    pub config: &'a Config,
    pub tg: Telegram,
    pub start_after: Option<UpdateId>,
    pub writer: WriterHandle,
    pub handlers: Handlers,
    pub tracker: TaskTracker,
    pub notifier: &'a Notifier,
    pub shutdown: CancellationToken,
}

/// Take updates until `shutdown` fires (or a fatal error). Returns once intake has stopped:
/// nothing is being received any more, and every answered update is committed.
pub(super) async fn run(intake: Intake<'_>) -> Result<(), AppError> {
    match intake.config.telegram.mode {
        TelegramMode::Polling => run_polling(intake).await,
        TelegramMode::Webhook => run_webhook(intake).await,
    }
}

async fn run_polling(i: Intake<'_>) -> Result<(), AppError> {
    bot::prepare_polling(&i.tg).await;
    let heartbeat = Heartbeat::new();
    let polling = PollingConfig {
        timeout: i.config.telegram.poll_timeout,
        heartbeat: heartbeat.clone(),
        ..PollingConfig::default()
    };
    // One long poll, its request timeout, and a backoff step, with room to spare.
    let stale_after = i.config.telegram.poll_timeout + Duration::from_secs(60);
    let writer = i.writer.clone();
    i.notifier.ready("polling Telegram for updates");
    let watchdog = Watchdog::start(i.notifier, move || {
        let (writer, age) = (writer.clone(), heartbeat.age());
        async move {
            if age > stale_after {
                return Err(format!("the polling loop has not run for {age:?}"));
            }
            writer.ping().await.map_err(|e| e.to_string())
        }
    });
    let result = bot::run_polling(
        i.tg,
        i.start_after,
        i.writer,
        i.handlers,
        polling,
        i.tracker,
        i.shutdown,
    )
    .await;
    watchdog.stop().await;
    result.map_err(AppError::from)
}

async fn run_webhook(i: Intake<'_>) -> Result<(), AppError> {
    let webhook = i.config.telegram.webhook.clone().ok_or_else(|| {
        AppError::Webhook("telegram.mode is webhook but no webhook_url is set".into())
    })?;
    let secret_path = secret_path(&webhook, &i.config.storage.dir);
    let secret = blocking(move || load_or_create_secret(&secret_path)).await??;
    bot::publish_commands(&i.tg).await;

    let heartbeat = Heartbeat::new();
    let intake = WebhookIntake::new(
        i.writer.clone(),
        i.handlers,
        i.tracker,
        heartbeat,
        i.shutdown.clone(),
    );
    let accept: AcceptFn = Arc::new(move |body: String| {
        let intake = intake.clone();
        Box::pin(async move {
            match intake.accept(&body).await {
                Ok(()) => WebhookAnswer::Committed,
                Err(e) => WebhookAnswer::Retry(e.to_string()),
            }
        })
    });
    let route = WebhookRoute {
        path: webhook.path.clone(),
        secret: secret.clone(),
        accept,
    };
    // The receiver's own address; config validation requires one while the dashboard owns
    // web.listen, so web.listen is used only with the dashboard off.
    let addr = webhook.listen.unwrap_or(i.config.web.listen);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| AppError::Listen { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| AppError::Listen { addr, source })?;
    tracing::info!(listen = %local, path = %webhook.path, "webhook receiver listening");
    let server_stop = CancellationToken::new();
    let router = web::intake_router(IntakeRoutes {
        webhook: Some(route),
    });
    let mut server: JoinHandle<std::io::Result<()>> =
        tokio::spawn(web::serve(listener, router, server_stop.clone()));

    let registered = bot::set_webhook(&i.tg, &webhook.url, &secret, &i.shutdown).await;
    let result = match registered {
        Ok(()) => {
            let writer = i.writer.clone();
            let probe = HealthProbe::new(local);
            i.notifier
                .ready(&format!("receiving updates by webhook on {local}"));
            let watchdog = Watchdog::start(i.notifier, move || {
                let (writer, probe) = (writer.clone(), probe.clone());
                async move {
                    probe.check().await?;
                    writer.ping().await.map_err(|e| e.to_string())
                }
            });
            let ended = tokio::select! {
                _ = i.shutdown.cancelled() => None,
                r = &mut server => Some(r),
            };
            watchdog.stop().await;
            match ended {
                None => Ok(()),
                Some(Ok(Ok(()))) => Err(AppError::Webhook("the web server stopped".into())),
                Some(Ok(Err(e))) => Err(AppError::Webhook(format!("the web server failed: {e}"))),
                Some(Err(e)) => Err(AppError::Join(e.to_string())),
            }
        }
        Err(bot::BotError::Cancelled) => Ok(()),
        Err(e) => Err(e.into()),
    };
    // Stop accepting; requests in flight finish (their updates are committed and answered).
    server_stop.cancel();
    if !server.is_finished() {
        match server.await {
            Ok(Err(e)) => tracing::warn!(error = %e, "the web server stopped with an error"),
            Err(e) => tracing::warn!(error = %e, "the web server task failed"),
            Ok(Ok(())) => {}
        }
    }
    tracing::info!("webhook receiver stopped");
    result
}

/// The watchdog task, when systemd asked for one.
struct Watchdog {
    stop: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl Watchdog {
    fn start<P, F>(notifier: &Notifier, probe: P) -> Watchdog
    where
        P: Fn() -> F + Send + 'static,
        F: Future<Output = Result<(), String>> + Send + 'static,
    {
        let stop = CancellationToken::new();
        let task = notifier.watchdog().map(|interval| {
            tracing::info!(?interval, "systemd watchdog enabled");
            tokio::spawn(run_watchdog(
                notifier.clone(),
                interval,
                probe,
                stop.clone(),
            ))
        });
        Watchdog { stop, task }
    }

    async fn stop(self) {
        self.stop.cancel();
        if let Some(task) = self.task {
            let _ = task.await;
        }
    }
}

/// `GET /healthz` on our own listener: proves the receiver accepts and answers.
#[derive(Clone)]
struct HealthProbe {
    client: reqwest::Client,
    url: String,
}

impl HealthProbe {
    fn new(listen: SocketAddr) -> HealthProbe {
        let ip = match listen.ip() {
            IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap_or_default();
        HealthProbe {
            client,
            url: format!("http://{}/healthz", SocketAddr::new(ip, listen.port())),
        }
    }

    async fn check(&self) -> Result<(), String> {
        match self.client.get(&self.url).send().await {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => Err(format!("the health check answered {}", r.status())),
            Err(e) => Err(format!("the health check failed: {e}")),
        }
    }
}

fn secret_path(webhook: &WebhookConfig, data_dir: &Path) -> PathBuf {
    webhook
        .secret_file
        .clone()
        .unwrap_or_else(|| data_dir.join(SECRET_FILE))
}

/// Telegram allows 1-256 characters of A-Z, a-z, 0-9, `_` and `-`.
fn valid_secret(s: &str) -> bool {
    (1..=256).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Read the webhook secret from `path`, or generate one (48 random characters) and store it
/// there (mode 0600, written to a temporary file and renamed, so a crash leaves no half file).
pub fn load_or_create_secret(path: &Path) -> Result<Secret, AppError> {
    let io = |source| AppError::SecretFile {
        path: path.to_path_buf(),
        source,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let secret = text.lines().next().unwrap_or("").trim();
            if !valid_secret(secret) {
                return Err(AppError::Webhook(format!(
                    "the webhook secret in {} is not 1-256 characters of A-Z a-z 0-9 _ -",
                    path.display()
                )));
            }
            Ok(Secret::new(secret))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            const ALPHABET: &[u8] =
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
            let mut rng = rand::rng();
            let secret: String = (0..48)
                .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
                .collect();
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(io)?;
            }
            let tmp = path.with_extension("tmp");
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&tmp).map_err(io)?;
            writeln!(file, "{secret}").map_err(io)?;
            file.sync_all().map_err(io)?;
            std::fs::rename(&tmp, path).map_err(io)?;
            tracing::info!(path = %path.display(), "generated the webhook secret");
            Ok(Secret::new(secret))
        }
        Err(e) => Err(io(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_is_generated_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join(SECRET_FILE);
        let first = load_or_create_secret(&path).unwrap();
        assert!(valid_secret(first.expose()));
        assert_eq!(first.expose().len(), 48);
        let again = load_or_create_secret(&path).unwrap();
        assert_eq!(first, again);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "not valid!\n").unwrap();
        let err = load_or_create_secret(&path).unwrap_err().to_string();
        assert!(err.contains("webhook secret"), "{err}");
    }
}
