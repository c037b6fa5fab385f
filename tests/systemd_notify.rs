//! The sd_notify protocol as systemd sees it: the real binary runs with `NOTIFY_SOCKET` pointing
//! at a test datagram socket and `WATCHDOG_USEC` set. It must send `READY=1` once it is up,
//! `WATCHDOG=1` at about half the interval while ingest is alive, and `STOPPING=1` on SIGTERM,
//! then exit cleanly.

mod common;

use common::{SimServer, free_port, sigterm, wait_until};
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tgbox::sim::UserMessage;

/// Datagrams received, with when they arrived.
type Received = Arc<Mutex<Vec<(Instant, String)>>>;

fn listen(path: &Path) -> Received {
    let socket = UnixDatagram::bind(path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let received: Received = Arc::default();
    let sink = received.clone();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 4096];
        loop {
            match socket.recv(&mut buf) {
                Ok(n) => sink.lock().unwrap().push((
                    Instant::now(),
                    String::from_utf8_lossy(&buf[..n]).into_owned(),
                )),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(_) => return,
            }
            if Arc::strong_count(&sink) == 1 {
                return;
            }
        }
    });
    received
}

fn start(server: &SimServer, dir: &Path, socket: &Path, extra: &[(&str, String)]) -> Child {
    let token_file = dir.join("token");
    std::fs::write(&token_file, server.sim.token()).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tgbox"));
    cmd.args(["run", "--log-level", "warn", "--api-url", &server.url])
        // The dashboard takes an ephemeral port: tests run side by side.
        .env("TGBOX_WEB_LISTEN", "127.0.0.1:0")
        .arg("--data")
        .arg(dir.join("data"))
        .arg("--token-file")
        .arg(&token_file)
        .env("NOTIFY_SOCKET", socket)
        .env("WATCHDOG_USEC", "1000000")
        .env("TGBOX_TELEGRAM_POLL_TIMEOUT_SECS", "1")
        .env_remove("WATCHDOG_PID")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

fn messages(received: &Received) -> Vec<(Instant, String)> {
    received.lock().unwrap().clone()
}

async fn check_protocol(server: &SimServer, extra: &[(&str, String)]) {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("notify.sock");
    let received = listen(&socket);
    let mut child = start(server, dir.path(), &socket, extra);

    let ready = {
        let r = received.clone();
        wait_until(Duration::from_secs(20), move || {
            r.lock().unwrap().iter().any(|(_, m)| m.contains("READY=1"))
        })
        .await
    };
    assert!(ready, "no READY=1: {:?}", messages(&received));
    // Ingest works while we watch the pings.
    let user = server.user("Wanda", None);
    let group = server.group("Watched");
    for i in 0..5 {
        server
            .sim
            .send(UserMessage {
                chat_id: group.id,
                user_id: user.id,
                text: format!("watchdog {i}"),
                ..UserMessage::default()
            })
            .unwrap();
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    server.wait_drained(Duration::from_secs(20)).await;

    sigterm(&child);
    let exited = wait_until(Duration::from_secs(15), || {
        matches!(child.try_wait(), Ok(Some(_)))
    })
    .await;
    assert!(exited, "tgbox did not stop after SIGTERM");
    assert!(child.wait().unwrap().success());

    let all = messages(&received);
    let texts: Vec<&str> = all.iter().map(|(_, m)| m.as_str()).collect();
    let ready_at = texts.iter().position(|m| m.contains("READY=1")).unwrap();
    let stopping_at = texts
        .iter()
        .position(|m| m.contains("STOPPING=1"))
        .unwrap_or_else(|| panic!("no STOPPING=1: {texts:?}"));
    assert!(ready_at < stopping_at, "{texts:?}");
    assert!(
        texts[..ready_at].iter().all(|m| !m.contains("WATCHDOG=1")),
        "watchdog pings before READY: {texts:?}"
    );
    // WATCHDOG_USEC=1s: a ping every 0.5 s while running (3 s and more of it).
    let pings: Vec<Instant> = all[ready_at..stopping_at]
        .iter()
        .filter(|(_, m)| m.trim() == "WATCHDOG=1")
        .map(|(t, _)| *t)
        .collect();
    assert!(
        (4..=14).contains(&pings.len()),
        "{} pings in about 3 s: {texts:?}",
        pings.len()
    );
    let gaps: Vec<Duration> = pings.windows(2).map(|w| w[1] - w[0]).collect();
    let mean = gaps.iter().sum::<Duration>() / gaps.len() as u32;
    assert!(
        mean >= Duration::from_millis(300) && mean <= Duration::from_millis(800),
        "mean ping period {mean:?} for a 1 s watchdog"
    );
    assert!(
        texts[stopping_at..].iter().all(|m| !m.contains("READY=1")),
        "{texts:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sd_notify_ready_watchdog_stopping_in_polling_mode() {
    let server = SimServer::start().await;
    check_protocol(&server, &[]).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sd_notify_ready_watchdog_stopping_in_webhook_mode() {
    let server = SimServer::start().await;
    let port = free_port();
    check_protocol(
        &server,
        &[
            ("TGBOX_TELEGRAM_MODE", "webhook".to_string()),
            (
                "TGBOX_TELEGRAM_WEBHOOK_URL",
                format!("http://127.0.0.1:{port}/tgbox/webhook"),
            ),
            ("TGBOX_TELEGRAM_WEBHOOK_LISTEN", format!("127.0.0.1:{port}")),
        ],
    )
    .await;
    server.stop().await;
}
