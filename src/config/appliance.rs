//! Keys of the appliance: how updates arrive (polling or webhook) and how long a graceful
//! shutdown may take.

use super::builder::Parser;
use super::{Config, ConfigError, toml_str};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// How updates reach tgbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TelegramMode {
    /// tgbox asks with getUpdates (works behind NAT, needs no public address).
    Polling,
    /// Telegram posts each update to a public HTTPS URL served by tgbox.
    Webhook,
}

impl TelegramMode {
    pub fn as_str(self) -> &'static str {
        match self {
            TelegramMode::Polling => "polling",
            TelegramMode::Webhook => "webhook",
        }
    }
}

/// Webhook mode settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookConfig {
    /// The public URL given to Telegram with setWebhook.
    pub url: String,
    /// The path of `url`: where the receiver listens (a reverse proxy passes it through).
    pub path: String,
    /// Own listen address for the receiver; `None`: the web server on `web.listen` serves it.
    pub listen: Option<SocketAddr>,
    /// Where the secret token lives; `None`: `<storage.dir>/webhook-secret`, generated once.
    pub secret_file: Option<PathBuf>,
}

/// Process-level settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppConfig {
    /// From the stop signal to exit, at most this long (systemd's TimeoutStopSec must be larger).
    pub shutdown_timeout: Duration,
}

const URL_EXPECTED: &str = "an http:// or https:// URL with a path (letters, digits, / - _ . ~), \
     such as https://bot.example.com/tgbox/webhook";
const LISTEN_EXPECTED: &str = "an address:port such as 127.0.0.1:8443";

pub(super) fn telegram_mode(
    p: &Parser<'_>,
) -> Result<(TelegramMode, Option<WebhookConfig>), ConfigError> {
    let mode = match p.non_empty("telegram.mode", "polling or webhook")?.as_str() {
        "polling" => TelegramMode::Polling,
        "webhook" => TelegramMode::Webhook,
        other => return Err(p.invalid("telegram.mode", other, "\"polling\" or \"webhook\"")),
    };
    let url = p.opt_string("telegram.webhook_url")?;
    let listen = match p.opt_string("telegram.webhook_listen")? {
        Some(text) => Some(
            text.parse::<SocketAddr>()
                .map_err(|_| p.invalid("telegram.webhook_listen", &text, LISTEN_EXPECTED))?,
        ),
        None => None,
    };
    let secret_file = p
        .opt_string("telegram.webhook_secret_file")?
        .map(PathBuf::from);
    if mode == TelegramMode::Polling {
        return Ok((mode, None));
    }
    let Some(url) = url else {
        return Err(p.invalid(
            "telegram.webhook_url",
            "",
            "a URL, required when telegram.mode = \"webhook\": http(s):// with a path, \
             such as https://bot.example.com/tgbox/webhook",
        ));
    };
    let parsed = reqwest::Url::parse(&url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .filter(|u| usable_path(u.path()))
        .ok_or_else(|| p.invalid("telegram.webhook_url", &url, URL_EXPECTED))?;
    let webhook = WebhookConfig {
        path: parsed.path().to_string(),
        url,
        listen,
        secret_file,
    };
    Ok((mode, Some(webhook)))
}

/// A path the receiver can serve: not the root, not the health check, and only plain characters
/// (no route parameters or wildcards).
fn usable_path(path: &str) -> bool {
    path.len() > 1
        && path != "/healthz"
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/-_.~%".contains(&b))
        && !path.contains("//")
}

pub(super) fn app(p: &Parser<'_>) -> Result<AppConfig, ConfigError> {
    let secs = p.int(
        "app.shutdown_timeout_secs",
        1,
        300,
        "a whole number of seconds from 1 to 300",
    )?;
    Ok(AppConfig {
        shutdown_timeout: Duration::from_secs(secs),
    })
}

/// The keys of this file as `tgbox config check` shows them.
pub(super) fn rendered(c: &Config) -> Vec<(&'static str, String)> {
    let not_set = |v: Option<String>, note: &str| v.unwrap_or_else(|| format!("# {note}"));
    let webhook = c.telegram.webhook.as_ref();
    vec![
        ("telegram.mode", toml_str(c.telegram.mode.as_str())),
        (
            "telegram.webhook_url",
            not_set(webhook.map(|w| toml_str(&w.url)), "not set"),
        ),
        (
            "telegram.webhook_listen",
            not_set(
                webhook
                    .and_then(|w| w.listen)
                    .map(|a| toml_str(&a.to_string())),
                "not set (required in webhook mode while the dashboard is on)",
            ),
        ),
        (
            "telegram.webhook_secret_file",
            not_set(
                webhook
                    .and_then(|w| w.secret_file.as_ref())
                    .map(|f| toml_str(&f.display().to_string())),
                "not set (DIR/webhook-secret, generated on first start)",
            ),
        ),
        (
            "app.shutdown_timeout_secs",
            c.app.shutdown_timeout.as_secs().to_string(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use crate::config::{ConfigBuilder, TelegramMode};
    use std::path::Path;
    use std::time::Duration;

    fn from_toml(text: &str) -> Result<crate::config::Config, crate::config::ConfigError> {
        ConfigBuilder::new()
            .toml_text(text, Path::new("t.toml"))?
            .build()
    }

    #[test]
    fn polling_is_the_default_and_shutdown_is_bounded() {
        let c = from_toml("").unwrap();
        assert_eq!(c.telegram.mode, TelegramMode::Polling);
        assert!(c.telegram.webhook.is_none());
        assert_eq!(c.app.shutdown_timeout, Duration::from_secs(10));
        let err = from_toml("[app]\nshutdown_timeout_secs = 0")
            .unwrap_err()
            .to_string();
        assert!(err.contains("app.shutdown_timeout_secs"), "{err}");
    }

    #[test]
    fn webhook_needs_its_own_listener_while_the_dashboard_is_on() {
        let hook = "[telegram]\nmode = \"webhook\"\nwebhook_url = \"https://b.example/tg\"\n";
        let err = from_toml(hook).unwrap_err().to_string();
        assert!(err.contains("telegram.webhook_listen"), "{err}");
        let c = from_toml(&format!("{hook}[web]\nenabled = false\n")).unwrap();
        assert!(c.telegram.webhook.unwrap().listen.is_none());
    }

    #[test]
    fn webhook_mode_needs_a_url_with_a_path() {
        let err = from_toml("[telegram]\nmode = \"webhook\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("telegram.webhook_url"), "{err}");
        let err = from_toml("[telegram]\nmode = \"webhook\"\nwebhook_url = \"https://x.org/\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("with a path"), "{err}");
        let err = from_toml("[telegram]\nmode = \"hook\"")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("telegram.mode") && err.contains("hook"),
            "{err}"
        );
        let c = from_toml(
            "[telegram]\nmode = \"webhook\"\nwebhook_url = \"https://bot.example.com/tg/hook\"\n\
             webhook_listen = \"127.0.0.1:8443\"",
        )
        .unwrap();
        let w = c.telegram.webhook.unwrap();
        assert_eq!(w.path, "/tg/hook");
        assert_eq!(w.listen.unwrap().port(), 8443);
        let err = from_toml("[telegram]\nwebhook_listen = \"nope\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("telegram.webhook_listen"), "{err}");
    }

    #[test]
    fn rendered_config_groups_sections() {
        let c = from_toml("").unwrap();
        let text = c.render_redacted();
        assert_eq!(text.matches("[telegram]").count(), 1, "{text}");
        assert!(text.contains("mode = \"polling\""), "{text}");
        assert!(text.contains("[app]\nshutdown_timeout_secs = 10"), "{text}");
        assert!(text.parse::<toml::Table>().is_ok(), "{text}");
    }
}
