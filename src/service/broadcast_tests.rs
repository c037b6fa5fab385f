//! The runner against a real redb store and a scripted fake transport.

use super::*;
use crate::domain::{ChatId, ChatKind, ChatProfile, NewBroadcast};
use crate::store::contract::fixtures::{group, new_message, person, text};
use crate::store::redb::{RedbOptions, RedbStore};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

/// Private chats for users 1..=n (all active now), and a group with users 1..=3.
fn store_with_users(n: u64) -> (SharedStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store: SharedStore =
        Arc::new(RedbStore::open(dir.path(), &RedbOptions::default()).unwrap());
    let now = now_millis() / 1000 - crate::store::contract::fixtures::T0;
    let mut updates = Vec::new();
    let mut seq = 1;
    for id in 1..=n {
        let chat = ChatProfile {
            id: ChatId(id as i64),
            kind: ChatKind::Private,
            title: None,
            username: None,
            is_forum: false,
        };
        let u = person(id, "u");
        updates.push(new_message(seq, text(&chat, Some(&u), 1, now, "/start")));
        seq += 1;
    }
    let g = group(-50, "g");
    for id in 1..=3 {
        updates.push(new_message(
            seq,
            text(&g, Some(&person(id, "u")), seq as i32, now, "hi"),
        ));
        seq += 1;
    }
    // A group member who never wrote to the bot in private: never a recipient.
    updates.push(new_message(
        seq,
        text(&g, Some(&person(999, "x")), seq as i32, now, "hi"),
    ));
    store.ingest(&updates).unwrap();
    (store, dir)
}

#[derive(Default)]
struct Fake {
    delivered: Mutex<HashMap<u64, u32>>,
    attempts: AtomicU32,
    blocked: Vec<u64>,
    failing: Vec<u64>,
    /// Every Nth attempt answers 429.
    throttle_every: u32,
    sending: Mutex<Vec<bool>>,
}

impl BroadcastTransport for Fake {
    fn send_html<'a>(&'a self, user: UserId, html: &'a str) -> SendFuture<'a> {
        Box::pin(async move {
            assert_eq!(html, "<b>news</b>");
            let n = self.attempts.fetch_add(1, Ordering::SeqCst) + 1;
            tokio::task::yield_now().await;
            if self.throttle_every > 0 && n % self.throttle_every == 0 {
                return Err(SendFailure::RetryAfter(Duration::from_millis(30)));
            }
            if self.blocked.contains(&user.0) {
                return Err(SendFailure::Blocked);
            }
            if self.failing.contains(&user.0) {
                return Err(SendFailure::Other("400: chat not found".into()));
            }
            *self.delivered.lock().unwrap().entry(user.0).or_default() += 1;
            Ok(())
        })
    }

    fn set_sending(&self, active: bool) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        self.sending.lock().unwrap().push(active);
        Box::pin(async {})
    }
}

fn fast() -> BroadcastSettings {
    BroadcastSettings {
        pacer: PacerLimits {
            interval: Duration::from_micros(200),
            max_in_window: 1_000,
            window: Duration::from_secs(1),
        },
        batch: 7,
        idle_poll: Duration::from_millis(10),
    }
}

async fn wait_for(store: &SharedStore, id: BroadcastId, state: JobState) -> BroadcastJob {
    for _ in 0..2_000 {
        let job = store.broadcast(id).unwrap().unwrap();
        if job.state == state {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("job {id} never reached {state:?}");
}

fn create(store: &SharedStore, audience: Audience) -> BroadcastId {
    store
        .create_broadcast(
            &NewBroadcast {
                html: "<b>news</b>".into(),
                audience,
            },
            now_millis(),
        )
        .unwrap()
        .id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_recipient_once_with_429s_403s_and_failures() {
    let (store, _dir) = store_with_users(100);
    let fake = Arc::new(Fake {
        blocked: vec![10, 20],
        failing: vec![30],
        throttle_every: 9,
        ..Fake::default()
    });
    // User 40 turned announcements off.
    store
        .set_user_settings(
            UserId(40),
            &crate::domain::UserSettings {
                announcements: false,
                ..Default::default()
            },
        )
        .unwrap();
    let stop = CancellationToken::new();
    let runner = BroadcastRunner::new(store.clone(), fake.clone(), fast());
    let task = tokio::spawn(runner.run(stop.clone()));
    let id = create(&store, Audience::Announcements);
    let job = wait_for(&store, id, JobState::Done).await;
    assert_eq!(job.counts.total(), 99);
    assert_eq!(
        (
            job.counts.sent,
            job.counts.blocked,
            job.counts.failed,
            job.counts.uncertain
        ),
        (96, 2, 1, 0)
    );
    let delivered = fake.delivered.lock().unwrap().clone();
    assert_eq!(delivered.len(), 96);
    assert!(!delivered.contains_key(&40));
    assert!(
        delivered.values().all(|n| *n == 1),
        "a second copy was sent"
    );
    assert!(store.is_blocked(UserId(10)).unwrap());
    let failed = store
        .broadcast_recipients(id, None, Some(&RecipientStatus::Failed(String::new())), 10)
        .unwrap();
    assert_eq!(
        failed,
        vec![(
            UserId(30),
            RecipientStatus::Failed("400: chat not found".into())
        )]
    );

    // The next job skips the blocked users, and only private-chat members of the group count.
    let next = create(&store, Audience::MembersOf { chat: ChatId(-50) });
    let job = wait_for(&store, next, JobState::Done).await;
    assert_eq!((job.counts.total(), job.counts.skipped_blocked), (3, 0));
    let active = create(&store, Audience::ActiveWithin { days: 1 });
    let job = wait_for(&store, active, JobState::Done).await;
    assert_eq!((job.counts.total(), job.counts.skipped_blocked), (98, 2));
    stop.cancel();
    task.await.unwrap();
    let sending = fake.sending.lock().unwrap().clone();
    assert_eq!(sending, vec![true, false, true, false, true, false]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_resume_cancel_and_crash_recovery() {
    let (store, _dir) = store_with_users(300);
    let fake = Arc::new(Fake::default());
    let slow = BroadcastSettings {
        pacer: PacerLimits {
            interval: Duration::from_millis(2),
            max_in_window: 1_000,
            window: Duration::from_secs(1),
        },
        ..fast()
    };
    let stop = CancellationToken::new();
    let task = tokio::spawn(
        BroadcastRunner::new(store.clone(), fake.clone(), slow.clone()).run(stop.clone()),
    );
    let id = create(&store, Audience::Announcements);
    wait_for(&store, id, JobState::Running).await;
    tokio::time::sleep(Duration::from_millis(60)).await;
    store
        .transition_broadcast(id, &[JobState::Running], JobState::Paused, now_millis())
        .unwrap()
        .unwrap()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let paused = store.broadcast(id).unwrap().unwrap();
    assert_eq!(
        paused.counts.in_flight, 0,
        "a paused job has nothing in flight"
    );
    let sent_while_paused = fake.attempts.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(fake.attempts.load(Ordering::SeqCst), sent_while_paused);
    assert!(paused.counts.sent > 0 && paused.counts.pending > 0);
    store
        .transition_broadcast(id, &[JobState::Paused], JobState::Running, now_millis())
        .unwrap()
        .unwrap()
        .unwrap();
    // Shutdown mid-job: claimed but unsent recipients go back to Pending.
    tokio::time::sleep(Duration::from_millis(40)).await;
    stop.cancel();
    task.await.unwrap();
    let stopped = store.broadcast(id).unwrap().unwrap();
    assert_eq!(stopped.state, JobState::Running);
    assert_eq!(stopped.counts.in_flight, 0);
    // Simulate a crash: claim a batch and "die" before recording it.
    let lost = store.claim_broadcast_batch(id, 5).unwrap();
    assert_eq!(lost.len(), 5);
    let stop = CancellationToken::new();
    let task =
        tokio::spawn(BroadcastRunner::new(store.clone(), fake.clone(), slow).run(stop.clone()));
    let done = wait_for(&store, id, JobState::Done).await;
    assert_eq!((done.counts.uncertain, done.counts.sent), (5, 295));
    let delivered = fake.delivered.lock().unwrap().clone();
    assert_eq!(delivered.len(), 295);
    assert!(delivered.values().all(|n| *n == 1));
    assert!(lost.iter().all(|u| !delivered.contains_key(&u.0)));
    // Cancel a queued job before it starts: nothing is sent.
    let before = fake.attempts.load(Ordering::SeqCst);
    store
        .transition_broadcast(id, &[JobState::Done], JobState::Done, now_millis())
        .unwrap();
    let other = store
        .create_broadcast(
            &NewBroadcast {
                html: "<b>news</b>".into(),
                audience: Audience::Announcements,
            },
            now_millis(),
        )
        .unwrap();
    store
        .transition_broadcast(
            other.id,
            &[JobState::Queued],
            JobState::Cancelled,
            now_millis(),
        )
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(fake.attempts.load(Ordering::SeqCst), before);
    stop.cancel();
    task.await.unwrap();
}
