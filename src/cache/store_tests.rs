//! `CachedStore` against a real redb store: hits, invalidation by ingest, settings, retention
//! and forget writes, the TTL bound, short-lived results, shrinking.

use super::*;
use crate::cache::ManualClock;
use crate::domain::LanguagePref;
use crate::store::contract::fixtures::{group, new_message, person, text};
use crate::store::redb::{RedbOptions, RedbStore};

fn cached(ttl_secs: u64) -> (CachedStore, Arc<ManualClock>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let inner: SharedStore =
        Arc::new(RedbStore::open(dir.path(), &RedbOptions::default()).unwrap());
    let clock = Arc::new(ManualClock::default());
    let config = CacheConfig {
        max_entries: 1000,
        max_mb: 1,
        ttl: Duration::from_secs(ttl_secs),
        shrink_at_rss_percent: 50,
    };
    let cache = Arc::new(AppCache::with_clock(&config, Arc::default(), clock.clone()));
    (CachedStore::new(inner, cache), clock, dir)
}

fn snapshot(s: &CachedStore) -> crate::telemetry::CacheSnapshot {
    s.cache.lru.counters.snapshot()
}

#[test]
fn lookups_hit_and_ingest_invalidates_what_it_touched() {
    let (store, _, _dir) = cached(60);
    let (g, a, b) = (group(-1, "g"), person(1, "Ann"), person(2, "Bob"));
    store
        .ingest(&[
            new_message(1, text(&g, Some(&a), 1, 10, "hi")),
            new_message(2, text(&g, Some(&b), 2, 11, "yo")),
        ])
        .unwrap();
    assert_eq!(store.user(UserId(1)).unwrap().unwrap().message_count, 1);
    assert_eq!(store.user(UserId(1)).unwrap().unwrap().message_count, 1);
    store.user(UserId(2)).unwrap();
    store.chat(ChatId(-1)).unwrap();
    assert_eq!(
        store.user(UserId(99)).unwrap(),
        None,
        "absence is cached too"
    );
    store.user(UserId(99)).unwrap();
    let s = snapshot(&store);
    assert_eq!((s.hits, s.misses), (2, 4));
    // Ann writes again: her row, the chat and her membership are dropped; Bob's stays.
    store
        .ingest(&[new_message(3, text(&g, Some(&a), 3, 12, "again"))])
        .unwrap();
    assert_eq!(store.user(UserId(1)).unwrap().unwrap().message_count, 2);
    assert_eq!(store.chat(ChatId(-1)).unwrap().unwrap().message_count, 3);
    let before = snapshot(&store).hits;
    store.user(UserId(2)).unwrap();
    assert_eq!(snapshot(&store).hits, before + 1, "Bob still cached");
    assert!(snapshot(&store).invalidations >= 2);
}

#[test]
fn settings_writes_invalidate_and_ttl_bounds_the_rest() {
    let (store, clock, _dir) = cached(60);
    let u = UserId(7);
    assert_eq!(store.user_settings(u).unwrap(), None);
    let fa = UserSettings {
        language: LanguagePref::Persian,
        announcements: false,
    };
    store.set_user_settings(u, &fa).unwrap();
    assert_eq!(store.user_settings(u).unwrap(), Some(fa));
    assert!(store.delete_user_settings(u).unwrap());
    assert_eq!(store.user_settings(u).unwrap(), None);
    // A write that bypasses the cache (straight to the store) shows after the TTL.
    store.inner.set_user_settings(u, &fa).unwrap();
    assert_eq!(
        store.user_settings(u).unwrap(),
        None,
        "stale within the TTL"
    );
    clock.advance(Duration::from_secs(60));
    assert_eq!(store.user_settings(u).unwrap(), Some(fa));
    // The retention override is on the chat row.
    let (g, a) = (group(-5, "g"), person(1, "a"));
    store
        .ingest(&[new_message(1, text(&g, Some(&a), 1, 10, "x"))])
        .unwrap();
    assert_eq!(
        store.chat(ChatId(-5)).unwrap().unwrap().retention_days,
        None
    );
    store.set_chat_retention(ChatId(-5), Some(3)).unwrap();
    assert_eq!(
        store.chat(ChatId(-5)).unwrap().unwrap().retention_days,
        Some(3)
    );
}

#[test]
fn forget_user_drops_every_cached_row_of_the_user() {
    let (store, _, _dir) = cached(60);
    let (g, a, b) = (group(-1, "g"), person(1, "Ann"), person(2, "Bob"));
    store
        .ingest(&[
            new_message(1, text(&g, Some(&a), 1, 10, "hi")),
            new_message(2, text(&g, Some(&b), 2, 11, "yo")),
        ])
        .unwrap();
    store
        .set_user_settings(UserId(1), &UserSettings::default())
        .unwrap();
    assert!(store.user(UserId(1)).unwrap().is_some());
    assert!(store.member(ChatId(-1), UserId(1)).unwrap().is_some());
    assert!(store.user_settings(UserId(1)).unwrap().is_some());
    store.user(UserId(2)).unwrap();
    let keys: Vec<_> = store
        .messages_by_user(UserId(1), 10)
        .unwrap()
        .iter()
        .map(|m| (m.chat_id, m.message_id))
        .collect();
    store.delete_messages(&keys).unwrap();
    store.forget_user(UserId(1)).unwrap();
    assert_eq!(store.user(UserId(1)).unwrap(), None);
    assert_eq!(store.member(ChatId(-1), UserId(1)).unwrap(), None);
    assert_eq!(store.user_settings(UserId(1)).unwrap(), None);
    let hits = snapshot(&store).hits;
    assert!(store.user(UserId(2)).unwrap().is_some());
    assert_eq!(snapshot(&store).hits, hits + 1, "others stay cached");
}

#[test]
fn results_cache_for_their_ttl() {
    let (store, clock, _dir) = cached(60);
    let cache = store.cache().clone();
    let mut computed = 0;
    for _ in 0..3 {
        let v: Result<Vec<u64>, ()> =
            cache.get_or_insert_with("stats:x", Duration::from_secs(5), 64, || {
                computed += 1;
                Ok(vec![1, 2, 3])
            });
        assert_eq!(v.unwrap(), vec![1, 2, 3]);
    }
    assert_eq!(computed, 1);
    clock.advance(Duration::from_secs(5));
    let v: Result<Vec<u64>, ()> =
        cache.get_or_insert_with("stats:x", Duration::from_secs(5), 64, || Ok(vec![4]));
    assert_eq!(v.unwrap(), vec![4], "recomputed after the TTL");
    cache.invalidate_results("stats:");
    let v: Result<u32, ()> =
        cache.get_or_insert_with("stats:x", Duration::from_secs(5), 8, || Ok(9));
    assert_eq!(v.unwrap(), 9, "a different type under a key is recomputed");
    assert_eq!(snapshot(&store).expirations, 1);
}

#[test]
fn memory_pressure_shrinks_the_app_cache() {
    let (store, _, _dir) = cached(60);
    for i in 0..200 {
        store.user(UserId(i)).unwrap();
    }
    assert_eq!(store.cache().len(), 200);
    let gib = 1u64 << 30;
    assert_eq!(
        store.cache().on_memory_sample(gib, gib),
        crate::cache::Pressure::Shrunk
    );
    assert!(store.cache().capacity() <= 500 && store.cache().len() <= 200);
    assert_eq!(snapshot(&store).shrinks, 1);
    assert_eq!(
        store.cache().on_memory_sample(gib / 10, gib),
        crate::cache::Pressure::Restored
    );
    assert_eq!(store.cache().capacity(), 1000);
}
