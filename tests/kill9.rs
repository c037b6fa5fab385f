//! kill -9 at random moments: the real binary runs against the simulator under generated
//! traffic and is SIGKILLed several times. Afterwards every update the simulator saw confirmed is
//! in the store exactly once, and the counters were not inflated by redelivery.

mod common;

use common::{SimServer, open_store, wait_until};
use rand::{Rng, SeedableRng};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tgbox::sim::{self, CommunitySpec};
use tokio_util::sync::CancellationToken;

fn start_binary(url: &str, data: &Path, token_file: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_tgbox"))
        .args(["run", "--log-level", "warn", "--api-url", url])
        .arg("--data")
        .arg(data)
        .arg("--token-file")
        .arg(token_file)
        .env("TGBOX_TELEGRAM_POLL_TIMEOUT_SECS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start tgbox")
}

fn export(data: &Path) -> Vec<serde_json::Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_tgbox"))
        .args(["export", "--format", "jsonl", "--data"])
        .arg(data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_random_moments_loses_and_duplicates_nothing() {
    let server = SimServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, server.sim.token()).unwrap();

    let seed: u64 = rand::random();
    eprintln!("kill -9 test seed {seed}");
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
    let community = sim::build_community(&server.sim, seed, CommunitySpec::default());
    let stop_traffic = CancellationToken::new();
    let traffic = tokio::spawn(sim::run_traffic(
        server.sim.clone(),
        community,
        1500.0,
        Some(Duration::from_secs(8)),
        seed,
        stop_traffic.clone(),
    ));

    let mut kills = 0;
    let mut child = start_binary(&server.url, &data, &token_file);
    while !traffic.is_finished() && kills < 6 {
        tokio::time::sleep(Duration::from_millis(rng.random_range(150..1200))).await;
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
        child = start_binary(&server.url, &data, &token_file);
    }
    let report = traffic.await.unwrap();
    eprintln!("traffic: {report:?}; kills: {kills}");
    assert!(
        kills >= 3,
        "the test should kill the appliance several times"
    );

    // Let the last instance catch up, then stop it the polite way.
    server.wait_drained(Duration::from_secs(60)).await;
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let exited = wait_until(Duration::from_secs(15), || {
        matches!(child.try_wait(), Ok(Some(_)))
    })
    .await;
    assert!(exited, "tgbox did not stop within 15 s of SIGTERM");
    assert!(child.wait().unwrap().success(), "graceful stop must exit 0");

    // What the simulator saw confirmed, reduced to the final text of each message.
    let delivered = server.sim.delivery_log();
    let ids: HashSet<u32> = delivered.iter().map(|d| d.update_id).collect();
    assert_eq!(ids.len(), delivered.len(), "an update was confirmed twice");
    let mut expected: HashMap<(i64, i32), String> = HashMap::new();
    for d in &delivered {
        if let (Some(chat), Some(msg)) = (d.chat_id, d.message_id)
            && matches!(
                d.kind.as_str(),
                "message" | "edited_message" | "channel_post" | "edited_channel_post"
            )
        {
            expected.insert((chat, msg), d.text.clone().unwrap_or_default());
        }
    }
    let exported = export(&data);
    let mut seen: HashMap<(i64, i32), String> = HashMap::new();
    for line in &exported {
        let key = (
            line["chat_id"].as_i64().unwrap(),
            line["message_id"].as_i64().unwrap() as i32,
        );
        let text = line["text"].as_str().unwrap().to_string();
        assert!(
            seen.insert(key, text).is_none(),
            "message {key:?} exported twice"
        );
    }
    for (key, text) in &expected {
        match seen.get(key) {
            Some(stored) => assert_eq!(stored, text, "message {key:?} has a stale text"),
            None => panic!("confirmed message {key:?} is missing from the store"),
        }
    }
    assert_eq!(
        seen.len(),
        expected.len(),
        "the store holds messages the simulator never confirmed"
    );

    // Counters count each message once, however often it was redelivered.
    let store = open_store(&data);
    let posted: u64 = exported
        .iter()
        .filter(|l| {
            !matches!(
                l["kind"].as_str(),
                Some("members_joined" | "member_left" | "service")
            )
        })
        .count() as u64;
    let chat_total: u64 = store.chats().unwrap().iter().map(|c| c.message_count).sum();
    assert_eq!(chat_total, posted);
    let last = delivered.iter().map(|d| d.update_id).max();
    assert_eq!(store.last_update_id().unwrap().map(|u| u.0), last);
    server.stop().await;
}
