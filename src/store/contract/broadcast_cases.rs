//! Contract cases about broadcasts: jobs, the recipient snapshot, at-most-once claiming, crash
//! recovery, results and the blocked set.

use super::must;
use crate::domain::{Audience, BroadcastId, JobState, NewBroadcast, RecipientStatus, UserId};
use crate::store::Store;

fn new_job(store: &dyn Store, html: &str) -> crate::domain::BroadcastJob {
    must(
        store.create_broadcast(
            &NewBroadcast {
                html: html.to_string(),
                audience: Audience::ActiveWithin { days: 7 },
            },
            1_000,
        ),
        "create_broadcast",
    )
}

fn users(ids: &[u64]) -> Vec<UserId> {
    ids.iter().map(|&i| UserId(i)).collect()
}

pub fn broadcast_jobs_and_transitions(store: &dyn Store) {
    assert!(must(store.broadcasts(10), "broadcasts").is_empty());
    let a = new_job(store, "<b>one</b>");
    let b = new_job(store, "two");
    assert_eq!((a.id, b.id), (BroadcastId(1), BroadcastId(2)));
    assert_eq!(a.state, JobState::Queued);
    let list = must(store.broadcasts(10), "broadcasts");
    assert_eq!(list.iter().map(|j| j.id.0).collect::<Vec<_>>(), vec![2, 1]);
    assert_eq!(must(store.broadcasts(1), "broadcasts").len(), 1);
    let got = must(store.broadcast(a.id), "broadcast").unwrap();
    assert_eq!(got.html, "<b>one</b>");
    assert_eq!(got.audience, Audience::ActiveWithin { days: 7 });
    assert!(must(store.broadcast(BroadcastId(9)), "broadcast").is_none());
    // Pausing a queued job is refused; cancelling it works, and is final.
    let r = must(
        store.transition_broadcast(a.id, &[JobState::Running], JobState::Paused, 2_000),
        "transition",
    );
    assert_eq!(r, Some(Err(JobState::Queued)));
    let r = must(
        store.transition_broadcast(a.id, &[JobState::Queued], JobState::Cancelled, 2_000),
        "transition",
    )
    .unwrap()
    .unwrap();
    assert_eq!((r.state, r.finished_ms), (JobState::Cancelled, Some(2_000)));
    assert!(
        must(
            store.transition_broadcast(BroadcastId(9), &[JobState::Queued], JobState::Done, 0),
            "transition"
        )
        .is_none()
    );
}

pub fn broadcast_claim_is_at_most_once(store: &dyn Store) {
    let job = new_job(store, "hi");
    let started = must(
        store.start_broadcast(job.id, &users(&[5, 3, 9, 3, 7]), 2_000),
        "start",
    )
    .unwrap()
    .unwrap();
    assert_eq!(started.state, JobState::Running);
    assert_eq!(started.counts.pending, 4);
    assert_eq!(started.started_ms, Some(2_000));
    // A second start is refused.
    assert_eq!(
        must(store.start_broadcast(job.id, &users(&[1]), 2_100), "start"),
        Some(Err(JobState::Running))
    );
    let first = must(store.claim_broadcast_batch(job.id, 2), "claim");
    assert_eq!(first, users(&[3, 5]));
    let second = must(store.claim_broadcast_batch(job.id, 10), "claim");
    assert_eq!(second, users(&[7, 9]));
    assert!(must(store.claim_broadcast_batch(job.id, 10), "claim").is_empty());
    let j = must(store.broadcast(job.id), "broadcast").unwrap();
    assert_eq!((j.counts.pending, j.counts.in_flight), (0, 4));
    // 3 sent, 5 got a 429 (back to pending), 7 blocked, 9 failed.
    let j = must(
        store.record_broadcast_results(
            job.id,
            &[
                (UserId(3), RecipientStatus::Sent),
                (UserId(5), RecipientStatus::Pending),
                (UserId(7), RecipientStatus::Blocked),
                (UserId(9), RecipientStatus::Failed("400: bad".into())),
                (UserId(42), RecipientStatus::Sent), // not a recipient: ignored
            ],
            3_000,
        ),
        "record",
    );
    assert_eq!(
        (
            j.counts.sent,
            j.counts.pending,
            j.counts.blocked,
            j.counts.failed,
            j.counts.in_flight
        ),
        (1, 1, 1, 1, 0)
    );
    assert_eq!(j.active_ms, 1_000);
    // A result for a row that is no longer in flight changes nothing.
    let j = must(
        store.record_broadcast_results(job.id, &[(UserId(3), RecipientStatus::Blocked)], 3_000),
        "record",
    );
    assert_eq!((j.counts.sent, j.counts.blocked), (1, 1));
    assert!(must(store.is_blocked(UserId(7)), "is_blocked"));
    assert!(!must(store.is_blocked(UserId(3)), "is_blocked"));
    assert_eq!(must(store.blocked_count(), "blocked_count"), 1);
    assert_eq!(
        must(store.claim_broadcast_batch(job.id, 10), "claim"),
        users(&[5])
    );
    let all = must(
        store.broadcast_recipients(job.id, None, None, 100),
        "recipients",
    );
    assert_eq!(
        all,
        vec![
            (UserId(3), RecipientStatus::Sent),
            (UserId(5), RecipientStatus::InFlight),
            (UserId(7), RecipientStatus::Blocked),
            (UserId(9), RecipientStatus::Failed("400: bad".into())),
        ]
    );
    let failed = must(
        store.broadcast_recipients(
            job.id,
            None,
            Some(&RecipientStatus::Failed(String::new())),
            100,
        ),
        "recipients",
    );
    assert_eq!(failed.len(), 1);
    let page = must(
        store.broadcast_recipients(job.id, Some(UserId(5)), None, 1),
        "recipients",
    );
    assert_eq!(page, vec![(UserId(7), RecipientStatus::Blocked)]);
    // A later job skips the blocked user.
    let next = new_job(store, "again");
    let next = must(
        store.start_broadcast(next.id, &users(&[7, 8]), 4_000),
        "start",
    )
    .unwrap()
    .unwrap();
    assert_eq!((next.counts.pending, next.counts.skipped_blocked), (1, 1));
}

pub fn broadcast_recovery_marks_in_flight_uncertain(store: &dyn Store) {
    let job = new_job(store, "hi");
    must(
        store.start_broadcast(job.id, &users(&[1, 2, 3, 4]), 0),
        "start",
    );
    must(store.claim_broadcast_batch(job.id, 3), "claim");
    must(
        store.record_broadcast_results(job.id, &[(UserId(1), RecipientStatus::Sent)], 10),
        "record",
    );
    // "Crash": 2 and 3 are in flight.
    assert_eq!(must(store.recover_broadcast(job.id), "recover"), 2);
    assert_eq!(must(store.recover_broadcast(job.id), "recover"), 0);
    let j = must(store.broadcast(job.id), "broadcast").unwrap();
    assert_eq!(
        (
            j.counts.sent,
            j.counts.uncertain,
            j.counts.pending,
            j.counts.in_flight
        ),
        (1, 2, 1, 0)
    );
    // Uncertain recipients are never claimed again.
    assert_eq!(
        must(store.claim_broadcast_batch(job.id, 10), "claim"),
        users(&[4])
    );
    assert!(must(store.claim_broadcast_batch(job.id, 10), "claim").is_empty());
    let uncertain = must(
        store.broadcast_recipients(job.id, None, Some(&RecipientStatus::Uncertain), 10),
        "recipients",
    );
    assert_eq!(
        uncertain.iter().map(|r| r.0).collect::<Vec<_>>(),
        users(&[2, 3])
    );
}
