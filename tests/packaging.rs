//! The packaging files: the systemd unit verifies and asks for what the app implements, the
//! installer installs (into a scratch root) and has a dry run, the example config is complete.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn unit_text() -> String {
    std::fs::read_to_string(repo().join("packaging/tgbox.service")).unwrap()
}

fn directive(unit: &str, key: &str) -> Vec<String> {
    unit.lines()
        .filter_map(|l| l.strip_prefix(&format!("{key}=")))
        .map(str::to_string)
        .collect()
}

fn seconds(value: &str) -> u64 {
    let v = value.trim();
    if let Some(m) = v.strip_suffix("min") {
        m.parse::<u64>().unwrap() * 60
    } else {
        v.trim_end_matches('s').parse().unwrap()
    }
}

#[test]
fn unit_asks_for_notify_watchdog_credentials_and_hardening() {
    let unit = unit_text();
    for (key, value) in [
        ("Type", "notify"),
        ("Restart", "on-failure"),
        ("DynamicUser", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("PrivateDevices", "yes"),
        ("NoNewPrivileges", "yes"),
        ("MemoryDenyWriteExecute", "yes"),
        ("StateDirectory", "tgbox"),
        ("ConfigurationDirectory", "tgbox"),
        ("RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6"),
    ] {
        assert_eq!(directive(&unit, key), vec![value.to_string()], "{key}");
    }
    assert!(directive(&unit, "SystemCallFilter").contains(&"@system-service".to_string()));
    // The credential name is the one Config::resolve_token reads.
    let cred = directive(&unit, "LoadCredential");
    assert_eq!(cred.len(), 1);
    assert!(cred[0].starts_with("telegram-token:"), "{cred:?}");
    assert!(seconds(&directive(&unit, "WatchdogSec")[0]) >= 10);
    // systemd must wait longer than tgbox's own bound on a graceful stop.
    let stop = seconds(&directive(&unit, "TimeoutStopSec")[0]);
    let defaults = tgbox::config::ConfigBuilder::new().build().unwrap();
    assert!(stop > defaults.app.shutdown_timeout.as_secs() + 5, "{stop}");
}

#[test]
fn systemd_analyze_verify_passes() {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("systemd-analyze is not installed; skipping the unit verification");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // verify checks that ExecStart exists: point it at the binary under test.
    let unit = unit_text().replace("/usr/local/bin/tgbox", env!("CARGO_BIN_EXE_tgbox"));
    let path = dir.path().join("tgbox.service");
    std::fs::write(&path, unit).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let complaints: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("tgbox.service"))
        .collect();
    assert!(complaints.is_empty(), "{stderr}");
}

fn install(args: &[&str]) -> std::process::Output {
    Command::new("bash")
        .arg(repo().join("packaging/install.sh"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn installer_dry_run_changes_nothing_and_root_install_lays_out_files() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "123:abc\n").unwrap();
    let bin = env!("CARGO_BIN_EXE_tgbox");
    let token_arg = token.display().to_string();

    let out = install(&["--dry-run", "--binary", bin, "--token-file", &token_arg]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("/usr/local/bin/tgbox"), "{stdout}");
    assert!(
        stdout.contains("/etc/tgbox/credentials/telegram-token"),
        "{stdout}"
    );
    assert!(
        stdout.contains("systemctl enable --now tgbox.service"),
        "{stdout}"
    );

    let dry_root = dir.path().join("dry");
    let dry_arg = dry_root.display().to_string();
    let out = install(&["--dry-run", "--root", &dry_arg, "--binary", bin]);
    assert!(out.status.success());
    assert!(!dry_root.exists(), "a dry run created files");

    let root = dir.path().join("root");
    let root_arg = root.display().to_string();
    let out = install(&[
        "--root",
        &root_arg,
        "--binary",
        bin,
        "--token-file",
        &token_arg,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let at = |p: &str| -> PathBuf { root.join(p) };
    for file in [
        "usr/local/bin/tgbox",
        "etc/systemd/system/tgbox.service",
        "etc/tgbox/tgbox.toml",
        "usr/local/share/doc/tgbox/DEPLOY.md",
    ] {
        assert!(at(file).is_file(), "{file} not installed");
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &str| std::fs::metadata(at(p)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("etc/tgbox/credentials/telegram-token"), 0o600);
    assert_eq!(mode("etc/tgbox/credentials"), 0o700);
    assert_eq!(mode("usr/local/bin/tgbox"), 0o755);
    // A second install keeps the operator's config.
    std::fs::write(at("etc/tgbox/tgbox.toml"), "[log]\nlevel = \"debug\"\n").unwrap();
    let out = install(&["--root", &root_arg, "--binary", bin]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        std::fs::read_to_string(at("etc/tgbox/tgbox.toml"))
            .unwrap()
            .contains("debug")
    );
    assert!(at("etc/tgbox/tgbox.toml.example").is_file());
}
