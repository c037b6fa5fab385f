//! Appliance figures for docs/PERFORMANCE.md: start-to-ready and shutdown time of the real
//! binary on a store of N messages, and its idle RSS.
//!
//! ```sh
//! packaging/build-release.sh --target x86_64 --no-smoke
//! cargo run --release --example appliance_measure -- \
//!     --binary dist/tgbox-0.1.0-x86_64-unknown-linux-musl --messages 1000000
//! ```
//!
//! The store is generated once through `Store::ingest` (batches of 10,000 updates) in
//! `--data` (default `target/measure-store-<N>`) and reused. Each run starts the binary with
//! `NOTIFY_SOCKET` pointing at a socket of ours against an in-process simulator, times
//! spawn -> `READY=1`, waits (idle, or under `--load-rate` generated messages/s), reads
//! `VmRSS`, then times SIGTERM -> exit. `--cold` drops the page cache before each start (root).

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tgbox::domain::{
    ChatId, ChatKind, ChatProfile, IncomingMessage, IncomingUpdate, MessageId, MessageKind,
    Timestamp, UpdateContent, UpdateId, UserId, UserProfile,
};
use tgbox::sim::text::{Lang, message_text};
use tgbox::sim::{Sim, SimConfig};
use tgbox::store::redb::{RedbOptions, RedbStore};
use tgbox::store::{IngestSink, MetaRepo};

struct Args {
    binary: PathBuf,
    messages: u64,
    data: Option<PathBuf>,
    runs: usize,
    idle_secs: u64,
    cold: bool,
    load_rate: f64,
}

fn args() -> Args {
    let mut a = Args {
        binary: PathBuf::from("target/release/tgbox"),
        messages: 1_000_000,
        data: None,
        runs: 3,
        idle_secs: 10,
        cold: false,
        load_rate: 0.0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--cold" {
            a.cold = true;
            continue;
        }
        let value = it.next().unwrap_or_default();
        match flag.as_str() {
            "--binary" => a.binary = PathBuf::from(value),
            "--messages" => a.messages = value.parse().expect("--messages N"),
            "--data" => a.data = Some(PathBuf::from(value)),
            "--runs" => a.runs = value.parse().expect("--runs N"),
            "--idle-secs" => a.idle_secs = value.parse().expect("--idle-secs N"),
            "--load-rate" => a.load_rate = value.parse().expect("--load-rate N"),
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

fn generate(dir: &Path, messages: u64) {
    let store = RedbStore::open(dir, &RedbOptions::default()).expect("open store");
    let have = store.counts().expect("counts").messages;
    if have >= messages {
        println!("store {} already holds {have} messages", dir.display());
        return;
    }
    assert_eq!(
        have,
        0,
        "{} holds a partial store; remove it",
        dir.display()
    );
    let mut rng = SmallRng::seed_from_u64(42);
    let chats: Vec<ChatProfile> = (0..20)
        .map(|i| ChatProfile {
            id: ChatId(-1_002_000_000_000 - i),
            kind: ChatKind::Supergroup,
            title: Some(format!("Group {i}")),
            username: None,
            is_forum: false,
        })
        .collect();
    let users: Vec<UserProfile> = (0..2000u64)
        .map(|i| UserProfile {
            id: UserId(1_000_000 + i),
            is_bot: false,
            first_name: format!("User{i}"),
            last_name: None,
            username: Some(format!("user_{i}")),
            language_code: Some("en".into()),
        })
        .collect();
    let started = Instant::now();
    let mut next_msg = vec![1i32; chats.len()];
    let mut id = 0u64;
    while id < messages {
        let batch: Vec<IncomingUpdate> = (0..10_000.min(messages - id))
            .map(|_| {
                id += 1;
                let c = rng.random_range(0..chats.len());
                let lang = if rng.random_bool(0.3) {
                    Lang::Fa
                } else {
                    Lang::En
                };
                let message_id = next_msg[c];
                next_msg[c] += 1;
                let date = Timestamp(1_700_000_000 + id as i64 * 3);
                IncomingUpdate {
                    update_id: UpdateId(id as u32),
                    received_at: date,
                    content: UpdateContent::Message(IncomingMessage {
                        chat: chats[c].clone(),
                        from: Some(users[rng.random_range(0..users.len())].clone()),
                        message_id: MessageId(message_id),
                        date,
                        edit_date: None,
                        kind: MessageKind::Text,
                        text: message_text(&mut rng, lang),
                        reply_to: None,
                        thread_id: None,
                        joined: Vec::new(),
                        left: None,
                    }),
                }
            })
            .collect();
        store.ingest(&batch).expect("ingest");
        if id % 100_000 == 0 {
            println!("  {id} messages ({:.0} s)", started.elapsed().as_secs_f64());
        }
    }
    store.close().expect("close");
    println!(
        "generated {messages} messages in {:.0} s",
        started.elapsed().as_secs_f64()
    );
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

struct RunFigures {
    ready: Duration,
    idle_rss_kib: u64,
    stop: Duration,
}

fn run_once(args: &Args, data: &Path, api_url: &str, token: &str) -> RunFigures {
    let scratch = tempfile::tempdir().expect("tempdir");
    let socket_path = scratch.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).expect("bind notify socket");
    socket.set_read_timeout(Some(Duration::from_secs(120))).ok();
    let token_file = scratch.path().join("token");
    std::fs::write(&token_file, token).expect("token");
    if args.cold {
        let _ = Command::new("sync").status();
        std::fs::write("/proc/sys/vm/drop_caches", "3").expect("drop caches (needs root)");
    }
    let started = Instant::now();
    let mut child = Command::new(&args.binary)
        .args(["run", "--log-level", "warn", "--api-url", api_url])
        // The dashboard takes an ephemeral port: tests run side by side.
        .env("TGBOX_WEB_LISTEN", "127.0.0.1:0")
        .arg("--data")
        .arg(data)
        .arg("--token-file")
        .arg(&token_file)
        .env("NOTIFY_SOCKET", &socket_path)
        .stdout(Stdio::null())
        .spawn()
        .expect("start the binary");
    let mut buf = [0u8; 4096];
    let ready = loop {
        let n = socket.recv(&mut buf).expect("no READY=1 within 120 s");
        if String::from_utf8_lossy(&buf[..n]).contains("READY=1") {
            break started.elapsed();
        }
    };
    std::thread::sleep(Duration::from_secs(args.idle_secs));
    let idle_rss_kib = rss_kib(child.id()).unwrap_or(0);
    let asked = Instant::now();
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    let status = child.wait().expect("wait");
    let stop = asked.elapsed();
    assert!(status.success(), "tgbox exited with {status}");
    RunFigures {
        ready,
        idle_rss_kib,
        stop,
    }
}

fn main() {
    let args = args();
    let data = args
        .data
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("target/measure-store-{}", args.messages)));
    generate(&data, args.messages);
    let size = std::fs::metadata(data.join("tgbox.redb"))
        .map(|m| m.len())
        .unwrap_or(0);
    println!("store file: {:.1} MiB", size as f64 / 1048576.0);

    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let sim = Sim::new(SimConfig::default());
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind sim");
    let api_url = format!("http://{}", listener.local_addr().expect("addr"));
    let stop = tokio_util::sync::CancellationToken::new();
    rt.spawn(sim.clone().serve(listener, stop.clone()));

    let empty = tempfile::tempdir().expect("tempdir");
    let traffic_stop = tokio_util::sync::CancellationToken::new();
    let load = if args.load_rate > 0.0 {
        let community = tgbox::sim::build_community(&sim, 3, Default::default());
        rt.spawn(tgbox::sim::run_traffic(
            sim.clone(),
            community,
            args.load_rate,
            None,
            3,
            traffic_stop.clone(),
        ));
        format!("under {} msg/s", args.load_rate)
    } else {
        "idle".to_string()
    };
    println!(
        "| store | run | start-to-READY | RSS after {} s {load} | SIGTERM-to-exit |",
        args.idle_secs
    );
    println!("|---|---|---|---|---|");
    let full = format!("{} messages", args.messages);
    let stores: Vec<(&str, &Path)> = if args.load_rate > 0.0 {
        vec![(full.as_str(), data.as_path())]
    } else {
        vec![("empty", empty.path()), (full.as_str(), data.as_path())]
    };
    for (label, dir) in stores {
        for run in 1..=args.runs {
            let f = run_once(&args, dir, &api_url, sim.token());
            println!(
                "| {label} | {run} | {:.0} ms | {:.1} MiB | {:.0} ms |",
                f.ready.as_secs_f64() * 1000.0,
                f.idle_rss_kib as f64 / 1024.0,
                f.stop.as_secs_f64() * 1000.0
            );
        }
    }
    traffic_stop.cancel();
    stop.cancel();
}
