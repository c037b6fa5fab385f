//! A full disk and crashes: after either, the store opens and holds exactly the batches whose
//! `ingest` returned `Ok` (plus, atomically, at most the batch in flight), and ingest resumes.

use crate::backends::{DiskControl, FullDisk, PowerCut};
use crate::options;
use std::path::Path;
use std::sync::Arc;
use tgbox::domain::{
    Chat, IncomingUpdate, MessageKind, OutboxEntry, StoredMessage, UpdateContent, UpdateId, User,
};
use tgbox::store::contract::fixtures::{edit, group, new_message, person, text, update};
use tgbox::store::redb::{FILE_NAME, RedbStore};
use tgbox::store::{
    ChatRepo, IngestSink, MessageRepo, MetaRepo, OutboxRepo, StoreCounts, StoreError, UserRepo,
};

/// Everything observable, to compare a recovered store with a reference.
#[derive(Debug, PartialEq)]
struct Snapshot {
    counts: StoreCounts,
    last_update_id: Option<UpdateId>,
    messages: Vec<StoredMessage>,
    users: Vec<User>,
    chats: Vec<Chat>,
    outbox: Vec<OutboxEntry>,
}

fn snapshot(store: &RedbStore) -> Snapshot {
    Snapshot {
        counts: store.counts().expect("counts"),
        last_update_id: store.last_update_id().expect("last_update_id"),
        messages: store.messages_page(None, None, 100_000).expect("messages"),
        users: store.users_by_activity(100_000).expect("users"),
        chats: store.chats().expect("chats"),
        outbox: store.outbox_after(0, 100_000).expect("outbox"),
    }
}

/// Six batches: several users and chats, edits, joins, a quarantined update, and a batch big
/// enough to grow the file.
fn workload() -> Vec<Vec<IncomingUpdate>> {
    let chats = [group(-1001, "one"), group(-1002, "two")];
    let users: Vec<_> = (1..=8).map(|i| person(i, &format!("user {i}"))).collect();
    let mut batches = Vec::new();
    let mut update_id = 500;
    let mut next = || {
        update_id += 1;
        update_id
    };
    for b in 0..6_i32 {
        let mut batch = Vec::new();
        let size = if b == 3 { 120 } else { 15 };
        for i in 0..size {
            let chat = &chats[(i % 2) as usize];
            let user = &users[((b + i) % 8) as usize];
            let id = b * 1000 + i;
            let body = if b == 3 && i % 10 == 0 {
                format!("big {id} {}", "ط".repeat(8000))
            } else {
                format!("message {id} from {}", user.first_name)
            };
            batch.push(new_message(
                next(),
                text(chat, Some(user), id, i64::from(id), &body),
            ));
        }
        if b > 0 {
            let mut changed = text(&chats[0], Some(&users[0]), (b - 1) * 1000, 0, "edited");
            changed.edit_date = Some(tgbox::store::contract::fixtures::ts(i64::from(b)));
            batch.push(edit(next(), changed));
        }
        if b == 2 {
            let mut joined = text(&chats[1], Some(&users[7]), 2999, 2999, "");
            joined.kind = MessageKind::MembersJoined;
            joined.joined = vec![person(100, "newcomer")];
            batch.push(new_message(next(), joined));
            batch.push(update(
                next(),
                UpdateContent::Quarantined {
                    reason: "test".into(),
                    raw_json: "{\"x\":1}".into(),
                },
            ));
        }
        batches.push(batch);
    }
    batches
}

/// `refs[k]`: the snapshot after the first `k` batches, from a store that never failed.
fn reference_snapshots(batches: &[Vec<IncomingUpdate>]) -> Vec<Snapshot> {
    let dir = tempfile::tempdir().unwrap();
    let store = RedbStore::open(dir.path(), &options()).unwrap();
    let mut refs = vec![snapshot(&store)];
    for batch in batches {
        store.ingest(batch).unwrap();
        refs.push(snapshot(&store));
    }
    refs
}

/// The recovered state is the acknowledged batches, or those plus the whole batch in flight.
fn assert_acknowledged(snap: &Snapshot, refs: &[Snapshot], acked: usize, context: &str) {
    let ok = *snap == refs[acked] || refs.get(acked + 1).is_some_and(|r| snap == r);
    if !ok {
        panic!(
            "{context}: recovered state is neither the {acked} acknowledged batches nor those \
             plus the one in flight (counts {:?}, last update {:?}; expected counts {:?})",
            snap.counts, snap.last_update_id, refs[acked].counts
        );
    }
}

/// Feed every batch again (redeliveries are skipped) and check the final state, also after a
/// clean reopen through the ordinary file path.
fn finish_and_verify(
    store: RedbStore,
    dir: &Path,
    batches: &[Vec<IncomingUpdate>],
    refs: &[Snapshot],
) {
    for batch in batches {
        store.ingest(batch).expect("ingest after recovery");
    }
    let last = refs.last().unwrap();
    assert_eq!(snapshot(&store), *last);
    store.close().expect("close");
    let mut store = RedbStore::open(dir, &options()).expect("reopen");
    assert_eq!(snapshot(&store), *last);
    assert!(store.check_integrity().expect("check_integrity"));
}

#[test]
fn full_disk_fails_the_batch_and_ingest_resumes_when_space_is_freed() {
    let batches = workload();
    let refs = reference_snapshots(&batches);
    let open = |dir: &Path, control: &Arc<DiskControl>| {
        let path = dir.join(FILE_NAME);
        let control = control.clone();
        RedbStore::open_with_backend_factory(
            move || FullDisk::open(&path, control.clone()),
            &options(),
        )
        .expect("open on FullDisk")
    };

    // How many bytes does committing batch 3 (the big one) write?
    let probe_dir = tempfile::tempdir().unwrap();
    let probe = Arc::new(DiskControl::default());
    let store = open(probe_dir.path(), &probe);
    for batch in &batches[..3] {
        store.ingest(batch).unwrap();
    }
    let before = probe.written();
    store.ingest(&batches[3]).unwrap();
    let batch_bytes = probe.written() - before;
    drop(store);
    assert!(batch_bytes > 0);

    let mut budgets: Vec<u64> = vec![0, 1, 100];
    budgets.extend((1..=8).map(|i| batch_bytes * i / 8));
    budgets.push(batch_bytes * 4);
    let mut saw_full = 0;
    for budget in budgets {
        let dir = tempfile::tempdir().unwrap();
        let control = Arc::new(DiskControl::default());
        let store = open(dir.path(), &control);
        for batch in &batches[..3] {
            store.ingest(batch).unwrap();
        }
        control.fill_after(budget);
        let context = format!("disk full after {budget} of {batch_bytes} bytes");
        let acked = match store.ingest(&batches[3]) {
            Ok(_) => 4,
            Err(StoreError::DiskFull) => {
                saw_full += 1;
                assert!(
                    control.failures() > 0,
                    "{context}: DiskFull without a failed write"
                );
                // While the disk stays full, calls keep failing with the same clear error.
                match store.ingest(&batches[3]) {
                    Err(StoreError::DiskFull) => {}
                    other => panic!("{context}: second try gave {other:?}"),
                }
                3
            }
            Err(other) => panic!("{context}: expected DiskFull, got {other}"),
        };
        control.free_space();
        let snap = snapshot(&store);
        assert_acknowledged(&snap, &refs, acked, &context);
        finish_and_verify(store, dir.path(), &batches, &refs);
    }
    assert!(
        saw_full >= 3,
        "the budgets should make several commits fail"
    );
}

#[test]
fn crash_at_any_point_keeps_exactly_the_acknowledged_batches() {
    let batches = workload();
    let refs = reference_snapshots(&batches);

    let probe = PowerCut::default();
    let store = RedbStore::open_with_backend(probe.clone(), &options()).unwrap();
    probe.arm(None);
    for batch in &batches {
        store.ingest(batch).unwrap();
    }
    let total = probe.ops();
    drop(store);
    let step = (total / 150).max(1);
    let points: Vec<u64> = (0..total)
        .step_by(step as usize)
        .chain([total - 1])
        .collect();

    for crash_at in points {
        let disk = PowerCut::default();
        let store = RedbStore::open_with_backend(disk.clone(), &options()).unwrap();
        disk.arm(Some(crash_at));
        let mut acked = 0;
        for batch in &batches {
            match store.ingest(batch) {
                Ok(_) => acked += 1,
                Err(_) => break,
            }
        }
        assert!(
            disk.crashed(),
            "crash point {crash_at} of {total} was not reached"
        );
        drop(store);

        for (kind, image) in [
            ("process killed", disk.process_image()),
            ("power lost", disk.power_image()),
        ] {
            let context = format!("{kind} at operation {crash_at} of {total}");
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join(FILE_NAME), &image).unwrap();
            let store = RedbStore::open(dir.path(), &options())
                .unwrap_or_else(|e| panic!("{context}: the store does not open: {e}"));
            assert_acknowledged(&snapshot(&store), &refs, acked, &context);
            finish_and_verify(store, dir.path(), &batches, &refs);
        }
    }
}
