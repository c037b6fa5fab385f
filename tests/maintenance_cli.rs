//! The maintenance commands on the real binary: `tgbox backup` of a running appliance (through
//! its control socket) restores with `tgbox restore` to a store that passes `tgbox check` and
//! holds exactly the updates up to the backup's last update id; damaged backups are refused;
//! `tgbox compact` refuses a running store; `tgbox check` finds injected damage in the store's
//! indexes and the search index, and `--repair` fixes it.

mod common;

use common::{SimServer, spawn_run, start_traffic, stop_gracefully};
use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;
use tgbox::domain::{ChatId, MessageId, UserId};
use tgbox::search::SearchIndex;
use tgbox::store::contract::fixtures::{group, new_message, person, text};
use tgbox::store::redb::{IndexRow, RedbStore};
use tgbox::store::{IngestSink, MessageRepo};

fn tgbox(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tgbox"))
        .args(args)
        .env("TGBOX_LOG_LEVEL", "warn")
        .output()
        .unwrap()
}

fn show(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_under_live_ingest_restores_to_that_moment() {
    let server = SimServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, server.sim.token()).unwrap();
    let child = spawn_run(&server.url, &data, &token_file, &[]);
    let traffic = start_traffic(&server, 11, 300.0, 6);
    // Wait until the appliance is up and has archived something.
    let sim = server.sim.clone();
    assert!(
        common::wait_until(Duration::from_secs(30), || sim.delivery_log().len() > 200).await,
        "the appliance did not start"
    );
    assert!(data.join("control.sock").exists(), "no control socket");
    let socket_mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(data.join("control.sock"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(socket_mode & 0o777, 0o600);

    // Compaction of a running store is refused with a clear sentence.
    let out = tgbox(&["compact", "--data", p(&data)]);
    assert!(!out.status.success(), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is in use"),
        "{}",
        show(&out)
    );

    // The backup while traffic flows.
    let backup = dir.path().join("snapshot.tgbox-backup");
    let out = tgbox(&["backup", "--out", p(&backup), "--data", p(&data)]);
    assert!(out.status.success(), "{}", show(&out));
    println!("{}", String::from_utf8_lossy(&out.stdout).trim());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("partial"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "a temporary file was left: {leftovers:?}"
    );

    traffic.await.unwrap();
    server.wait_drained(Duration::from_secs(60)).await;
    stop_gracefully(child).await;
    assert!(
        !data.join("control.sock").exists(),
        "the socket outlived the appliance"
    );

    // Restore into a fresh directory; it passes check.
    let restored = dir.path().join("restored");
    let out = tgbox(&["restore", p(&backup), "--data", p(&restored)]);
    assert!(out.status.success(), "{}", show(&out));
    let out = tgbox(&["check", "--data", p(&restored)]);
    assert!(out.status.success(), "{}", show(&out));

    // The restored archive is exactly the updates up to the backup's last update id.
    let stats = tgbox(&["stats", "--json", "--data", p(&restored)]);
    assert!(stats.status.success(), "{}", show(&stats));
    let stats: serde_json::Value = serde_json::from_slice(&stats.stdout).unwrap();
    let last = stats["last_update_id"].as_u64().unwrap() as u32;
    let delivered = server.sim.delivery_log();
    let total = delivered.iter().map(|d| d.update_id).max().unwrap();
    assert!(
        last < total,
        "the backup should be taken mid-traffic ({last} of {total})"
    );
    let mut expected: HashMap<(i64, i32), String> = HashMap::new();
    for d in delivered.iter().filter(|d| d.update_id <= last) {
        if let (Some(chat), Some(msg)) = (d.chat_id, d.message_id)
            && matches!(
                d.kind.as_str(),
                "message" | "edited_message" | "channel_post" | "edited_channel_post"
            )
        {
            expected.insert((chat, msg), d.text.clone().unwrap_or_default());
        }
    }
    let exported: HashMap<(i64, i32), String> = common::export(&restored)
        .iter()
        .map(|l| {
            (
                (
                    l["chat_id"].as_i64().unwrap(),
                    l["message_id"].as_i64().unwrap() as i32,
                ),
                l["text"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    println!(
        "backup at update {last} of {total}: {} messages restored",
        exported.len()
    );
    assert_eq!(
        exported, expected,
        "the restore is not the state at update {last}"
    );

    // A non-empty directory needs --force.
    let out = tgbox(&["restore", p(&backup), "--data", p(&restored)]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--force"),
        "{}",
        show(&out)
    );
    let out = tgbox(&["restore", p(&backup), "--data", p(&restored), "--force"]);
    assert!(out.status.success(), "{}", show(&out));

    // Damaged copies are refused and leave the target untouched.
    let bytes = std::fs::read(&backup).unwrap();
    for (what, damaged) in [
        ("truncated", bytes[..bytes.len() * 2 / 3].to_vec()),
        ("corrupted", {
            let mut b = bytes.clone();
            let i = b.len() / 3;
            b[i] = b[i].wrapping_add(1);
            b
        }),
    ] {
        let file = dir.path().join(what);
        std::fs::write(&file, damaged).unwrap();
        let target = dir.path().join(format!("target-{what}"));
        let out = tgbox(&["restore", p(&file), "--data", p(&target)]);
        assert!(!out.status.success(), "{what}: {}", show(&out));
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(err.contains("backup file"), "{what}: {err}");
        let left = std::fs::read_dir(&target).map(|d| d.count()).unwrap_or(0);
        assert_eq!(left, 0, "{what}: the restore wrote into the target");
        let out = tgbox(&["restore", "--verify-only", p(&file)]);
        assert!(!out.status.success(), "{what}: {}", show(&out));
    }
    server.stop().await;
}

#[test]
fn check_reports_injected_damage_and_repair_fixes_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    {
        let store = RedbStore::open(data, &Default::default()).unwrap();
        let chat = group(-5001, "g");
        let mut bob = person(8, "Bob");
        bob.username = Some("bob".into());
        let batch: Vec<_> = (1..=50)
            .map(|i| {
                new_message(
                    i as u32,
                    text(&chat, Some(&bob), i, i.into(), "hello there"),
                )
            })
            .collect();
        store.ingest(&batch).unwrap();
        let m = store.message(ChatId(-5001), MessageId(7)).unwrap().unwrap();
        store
            .set_index_row_for_test(
                IndexRow::MessagesByUser(UserId(8), m.date.0, ChatId(-5001), MessageId(7)),
                false,
            )
            .unwrap();
        store
            .set_index_row_for_test(IndexRow::UsersByActivity(12345, UserId(77)), true)
            .unwrap();
        store.close().unwrap();
    }
    // A search index that is in step, then loses one document.
    let out = tgbox(&["reindex", "--data", p(data)]);
    assert!(out.status.success(), "{}", show(&out));
    {
        let index = SearchIndex::open(&data.join("search")).unwrap();
        index
            .drop_document_for_test(ChatId(-5001), MessageId(9))
            .unwrap();
    }

    let out = tgbox(&["check", "--data", p(data)]);
    let report = String::from_utf8_lossy(&out.stdout).to_string();
    println!("{report}");
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    for expected in [
        "MISMATCH  messages -> messages_by_user",
        "message (-5001, 7) of user 8 has no messages_by_user row",
        "MISMATCH  users_by_activity -> users",
        "users_by_activity (12345, 77)",
        "MISMATCH  messages -> search index",
        "message (-5001, 9) is not in the search index",
    ] {
        assert!(report.contains(expected), "no {expected:?} in\n{report}");
    }
    assert!(String::from_utf8_lossy(&out.stderr).contains("--repair"));

    let out = tgbox(&["check", "--repair", "--data", p(data)]);
    assert!(out.status.success(), "{}", show(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("repaired  messages_by_user") && text.contains("repaired  search index"));

    let out = tgbox(&["check", "--json", "--data", p(data)]);
    assert!(out.status.success(), "{}", show(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["integrity_ok"], true);

    // And compaction of the stopped store works.
    let out = tgbox(&["compact", "--json", "--data", p(data)]);
    assert!(out.status.success(), "{}", show(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json["store"]["bytes_after"].as_u64().unwrap() > 0);
    assert!(json["index"]["segments_after"].as_u64().unwrap() <= 1);
}
