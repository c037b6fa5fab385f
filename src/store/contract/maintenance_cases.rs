//! Contract cases of maintenance: compaction keeps every row, the consistency check is clean on
//! anything the store wrote itself, index rebuilds change nothing visible, the last maintenance
//! run round-trips, and a backup stream is a complete, checkable file of the same moment.

use super::fixtures::{group, new_message, person, text};
use super::must;
use crate::domain::{ChatId, MessageId, UserId};
use crate::store::backup_file::{BackupReader, Item};
use crate::store::{MaintenanceRun, Store};

fn populate(store: &dyn Store) {
    let chat = group(-100, "g");
    let mut ann = person(1, "Ann");
    ann.username = Some("ann".into());
    let bob = person(2, "Bob");
    let batch: Vec<_> = (1..=40)
        .map(|i| {
            let from = if i % 2 == 0 { &ann } else { &bob };
            new_message(i as u32, text(&chat, Some(from), i, i.into(), "some words"))
        })
        .collect();
    must(store.ingest(&batch), "ingest");
    let doomed: Vec<_> = (1..=30).map(|i| (ChatId(-100), MessageId(i))).collect();
    must(store.delete_messages(&doomed), "delete");
    let ttl = Some(std::time::Duration::from_secs(60));
    must(store.kv_set("session:1", b"a", ttl, 1_000), "kv set");
    must(store.kv_set("plain", b"b", None, 1_000), "kv set");
}

pub fn compaction_keeps_every_row(store: &dyn Store) {
    populate(store);
    let before = must(store.messages_page(None, None, 100), "page");
    let counts = must(store.counts(), "counts");
    let report = must(store.compact(), "compact");
    assert!(report.bytes_after <= report.bytes_before.max(report.bytes_after));
    assert_eq!(must(store.messages_page(None, None, 100), "page"), before);
    assert_eq!(must(store.counts(), "counts"), counts);
    assert_eq!(
        must(store.user_by_username("ann"), "by name").map(|u| u.id),
        Some(UserId(1))
    );
    // Writes go on after a compaction.
    let chat = group(-100, "g");
    let m = text(&chat, Some(&person(2, "Bob")), 99, 99, "after");
    must(store.ingest(&[new_message(99, m)]), "ingest after");
    assert!(must(store.message(ChatId(-100), MessageId(99)), "get").is_some());
}

pub fn consistency_check_clean_and_rebuild_is_invisible(store: &dyn Store) {
    populate(store);
    let report = must(store.check_consistency(5), "check");
    assert!(report.is_clean(), "{}", report.to_text());
    assert!(report.items.iter().any(|i| i.checked > 0));
    assert!(
        report
            .items
            .iter()
            .any(|i| i.name.contains("kv") && i.checked > 0),
        "{}",
        report.to_text()
    );
    let by_user = must(store.messages_by_user(UserId(1), 100), "by user");
    let active = must(store.users_by_activity(10), "active");
    let chats = must(store.chats_of_user(UserId(2)), "chats of user");
    must(store.rebuild_indexes(), "rebuild");
    assert!(must(store.check_consistency(5), "check").is_clean());
    assert_eq!(
        must(store.messages_by_user(UserId(1), 100), "by user"),
        by_user
    );
    assert_eq!(must(store.users_by_activity(10), "active"), active);
    assert_eq!(must(store.chats_of_user(UserId(2)), "chats of user"), chats);
}

pub fn last_maintenance_round_trips(store: &dyn Store) {
    assert_eq!(must(store.last_maintenance(), "last"), None);
    let run = MaintenanceRun {
        finished_at: 1_700_000_000,
        trigger: "test".into(),
        store: Some(crate::store::CompactionReport {
            bytes_before: 10,
            bytes_after: 5,
            compacted: true,
            wait_ms: 1,
            pause_ms: 2,
            duration_ms: 3,
        }),
        index: None,
        error: Some("search index: unavailable".into()),
    };
    must(store.record_maintenance(&run), "record");
    assert_eq!(must(store.last_maintenance(), "last"), Some(run));
}

pub fn backup_stream_is_complete(store: &dyn Store) {
    populate(store);
    let mut out = Vec::new();
    let summary = must(store.backup(&mut out), "backup");
    assert_eq!(summary.bytes, out.len() as u64);
    assert_eq!(summary.last_update_id, Some(40));
    let mut reader = match BackupReader::open(out.as_slice()) {
        Ok(r) => r,
        Err(e) => panic!("the backup does not open: {e}"),
    };
    assert_eq!(reader.header.last_update_id, Some(40));
    assert_eq!(reader.header.schema_version, crate::store::SCHEMA_VERSION);
    let mut tables = Vec::new();
    loop {
        match reader.next_item() {
            Ok(Item::Table(name)) => tables.push(name),
            Ok(Item::End { rows, .. }) => {
                assert_eq!(rows, summary.rows);
                break;
            }
            Ok(_) => {}
            Err(e) => panic!("the backup does not read back: {e}"),
        }
    }
    for t in ["users", "chats", "messages", "meta"] {
        assert!(tables.iter().any(|n| n == t), "no {t} in {tables:?}");
    }
}
