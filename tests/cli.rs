//! The real binary from the command line: configuration errors, `config check`, and the
//! `tgbox demo` -> `tgbox stats` -> `tgbox export` path from the README.

use std::process::{Command, Output};

fn tgbox(args: &[&str], cwd: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tgbox"))
        .args(args)
        .current_dir(cwd)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn bad_config_names_the_key_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("tgbox.toml"),
        "[storage]\ncache_mb = \"big\"\n",
    )
    .unwrap();
    let out = tgbox(&["config", "check"], dir.path());
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("storage.cache_mb") && err.contains("big") && err.contains("1 to 65536"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");

    std::fs::write(dir.path().join("tgbox.toml"), "[storage\n").unwrap();
    let out = tgbox(&["config", "check"], dir.path());
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("not valid TOML"),
        "{}",
        text(&out.stderr)
    );

    let out = tgbox(
        &["run", "--data", "x"],
        &tempfile::tempdir().unwrap().keep(),
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no Telegram bot token"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn config_check_redacts_secrets_and_warns_about_unknown_keys() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("tgbox.toml"),
        "[telegram]\ntoken = \"123456:TOP-SECRET\"\n[storage]\ncache_mbs = 5\n",
    )
    .unwrap();
    let out = tgbox(&["config", "check"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(!stdout.contains("TOP-SECRET") && !text(&out.stderr).contains("TOP-SECRET"));
    assert!(stdout.contains("[redacted]"), "{stdout}");
    assert!(stdout.contains("listen = \"127.0.0.1:8080\""), "{stdout}");
    assert!(
        text(&out.stderr).contains("storage.cache_mbs"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn demo_then_stats_then_export() {
    let dir = tempfile::tempdir().unwrap();
    let out = tgbox(
        &[
            "demo",
            "--duration",
            "4",
            "--rate",
            "300",
            "--status-every",
            "1",
            "--data",
            "demo",
            "--report",
            "report.json",
        ],
        dir.path(),
    );
    assert!(
        out.status.success(),
        "demo failed: {}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("data directory"),
        "{}",
        text(&out.stdout)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap())
            .unwrap();
    assert_eq!(
        report["updates_produced"], report["updates_confirmed"],
        "{report}"
    );

    let out = tgbox(&["stats", "--data", "demo", "--json"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stats: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    let messages = stats["messages"].as_u64().unwrap();
    assert!(messages > 300, "{stats}");
    assert!(stats["users"].as_u64().unwrap() > 10, "{stats}");
    assert!(stats["last_update_id"].as_u64().is_some(), "{stats}");

    let out = tgbox(
        &["export", "--data", "demo", "--format", "jsonl"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len() as u64, messages);
    let first = &lines[0];
    for field in [
        "chat_id",
        "message_id",
        "user_id",
        "date",
        "edit_date",
        "kind",
        "text",
    ] {
        assert!(first.get(field).is_some(), "missing {field} in {first}");
    }
    assert!(first["date"].as_str().unwrap().ends_with('Z'));
    let chat = first["chat_id"].as_i64().unwrap().to_string();
    let out = tgbox(&["export", "--data", "demo", "--chat", &chat], dir.path());
    let only: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        !only.is_empty()
            && only
                .iter()
                .all(|l| l["chat_id"].as_i64().unwrap().to_string() == chat)
    );

    // A second demo in the same place replaces the first one's data.
    let out = tgbox(
        &[
            "demo",
            "--duration",
            "1",
            "--rate",
            "50",
            "--status-every",
            "0",
            "--data",
            "demo",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Anything else in the way is refused.
    std::fs::create_dir_all(dir.path().join("other")).unwrap();
    std::fs::write(dir.path().join("other/file"), "x").unwrap();
    let out = tgbox(&["demo", "--duration", "1", "--data", "other"], dir.path());
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("not from a tgbox demo"),
        "{}",
        text(&out.stderr)
    );
}
