//! Contract cases of the key-value table with expiry (Redis semantics, deterministic clock).

use super::must;
use crate::store::{KvTtl, Store, StoreError};
use std::time::Duration;

const NOW: i64 = 1_700_000_000_000;

fn secs(n: u64) -> Option<Duration> {
    Some(Duration::from_secs(n))
}

pub fn kv_set_get_del_roundtrip(store: &dyn Store) {
    assert_eq!(must(store.kv_get("a", NOW), "get"), None);
    must(store.kv_set("a", b"1", None, NOW), "set");
    must(
        store.kv_set("b", "فارسی\u{200c}".as_bytes(), None, NOW),
        "set",
    );
    must(store.kv_set("", b"empty key", None, NOW), "set");
    must(store.kv_set("bin", &[0, 255, 128, 7], None, NOW), "set");
    assert_eq!(
        must(store.kv_get("a", NOW), "get").as_deref(),
        Some(&b"1"[..])
    );
    assert_eq!(
        must(store.kv_get("bin", NOW), "get").as_deref(),
        Some(&[0u8, 255, 128, 7][..])
    );
    assert_eq!(
        must(store.kv_mget(&["b", "zz", "a", ""], NOW), "mget"),
        vec![
            Some("فارسی\u{200c}".as_bytes().to_vec()),
            None,
            Some(b"1".to_vec()),
            Some(b"empty key".to_vec())
        ]
    );
    // Overwrite replaces the value.
    must(store.kv_set("a", b"2", None, NOW), "set");
    assert_eq!(
        must(store.kv_get("a", NOW), "get").as_deref(),
        Some(&b"2"[..])
    );
    assert_eq!(must(store.kv_len(NOW), "len"), 4);
    assert_eq!(must(store.kv_del(&["a", "nope", "b"], NOW), "del"), 2);
    assert_eq!(must(store.kv_get("a", NOW), "get"), None);
    assert_eq!(must(store.kv_len(NOW), "len"), 2);
    must(
        store.kv_mset(&[("m1", b"x"), ("m2", b"y")], secs(10), NOW),
        "mset",
    );
    assert_eq!(
        must(store.kv_mget(&["m1", "m2"], NOW), "mget"),
        vec![Some(b"x".to_vec()), Some(b"y".to_vec())]
    );
    assert_eq!(
        must(store.kv_ttl("m2", NOW), "ttl"),
        KvTtl::ExpiresIn(Duration::from_secs(10))
    );
}

pub fn kv_expiry_is_immediate_and_swept(store: &dyn Store) {
    must(store.kv_set("short", b"s", secs(5), NOW), "set");
    must(store.kv_set("long", b"l", secs(60), NOW), "set");
    must(store.kv_set("forever", b"f", None, NOW), "set");
    assert_eq!(
        must(store.kv_ttl("short", NOW + 1_000), "ttl"),
        KvTtl::ExpiresIn(Duration::from_secs(4))
    );
    assert_eq!(must(store.kv_ttl("forever", NOW), "ttl"), KvTtl::Persistent);
    assert_eq!(must(store.kv_ttl("nothing", NOW), "ttl"), KvTtl::Missing);
    // At the expiry instant the key is gone, before any sweep.
    let at = NOW + 5_000;
    assert_eq!(
        must(store.kv_get("short", at - 1), "get").as_deref(),
        Some(&b"s"[..])
    );
    assert_eq!(must(store.kv_get("short", at), "get"), None);
    assert_eq!(must(store.kv_ttl("short", at), "ttl"), KvTtl::Missing);
    assert_eq!(must(store.kv_mget(&["short", "long"], at), "mget")[0], None);
    assert!(must(store.kv_scan_prefix("s", at, 10), "scan").is_empty());
    assert_eq!(must(store.kv_len(at), "len"), 2);
    // Deleting an expired key does not count it; expire on it says false.
    assert!(!must(store.kv_expire("short", secs(100), at), "expire"));
    // The sweep removes only what is due, oldest first, bounded by the limit.
    must(store.kv_set("short2", b"t", secs(6), NOW), "set");
    let later = NOW + 10_000;
    assert_eq!(must(store.kv_sweep_expired(later, 1), "sweep"), 1);
    assert_eq!(must(store.kv_sweep_expired(later, 10), "sweep"), 1);
    assert_eq!(must(store.kv_sweep_expired(later, 10), "sweep"), 0);
    assert_eq!(must(store.kv_len(later), "len"), 2);
    assert_eq!(
        must(store.kv_get("long", later), "get").as_deref(),
        Some(&b"l"[..])
    );
    // A key written again after expiring starts fresh.
    must(store.kv_set("long", b"again", None, NOW + 120_000), "set");
    assert_eq!(
        must(store.kv_ttl("long", NOW + 120_000), "ttl"),
        KvTtl::Persistent
    );
    assert_eq!(must(store.kv_sweep_expired(NOW + 999_000, 10), "sweep"), 0);
    assert_eq!(
        must(store.kv_get("long", NOW + 999_000), "get").as_deref(),
        Some(&b"again"[..])
    );
}

pub fn kv_expire_and_persist(store: &dyn Store) {
    must(store.kv_set("k", b"v", None, NOW), "set");
    assert!(must(store.kv_expire("k", secs(3), NOW), "expire"));
    assert_eq!(
        must(store.kv_ttl("k", NOW), "ttl"),
        KvTtl::ExpiresIn(Duration::from_secs(3))
    );
    // Extending moves the expiry: the old index row must not sweep it early.
    assert!(must(store.kv_expire("k", secs(30), NOW), "expire"));
    assert_eq!(must(store.kv_sweep_expired(NOW + 10_000, 10), "sweep"), 0);
    assert_eq!(
        must(store.kv_get("k", NOW + 10_000), "get").as_deref(),
        Some(&b"v"[..])
    );
    // Persist removes the expiry.
    assert!(must(store.kv_expire("k", None, NOW), "persist"));
    assert_eq!(
        must(store.kv_ttl("k", NOW + 60_000), "ttl"),
        KvTtl::Persistent
    );
    assert_eq!(must(store.kv_sweep_expired(NOW + 60_000, 10), "sweep"), 0);
    // Overwriting with set drops an earlier expiry too.
    must(store.kv_set("k2", b"v", secs(1), NOW), "set");
    must(store.kv_set("k2", b"w", None, NOW), "set");
    assert_eq!(must(store.kv_sweep_expired(NOW + 5_000, 10), "sweep"), 0);
    assert_eq!(
        must(store.kv_get("k2", NOW + 5_000), "get").as_deref(),
        Some(&b"w"[..])
    );
    assert!(!must(store.kv_expire("missing", secs(1), NOW), "expire"));
}

pub fn kv_incr_counts_and_keeps_expiry(store: &dyn Store) {
    assert_eq!(must(store.kv_incr("n", 1, secs(60), NOW), "incr"), 1);
    assert_eq!(must(store.kv_incr("n", 5, secs(1), NOW + 1_000), "incr"), 6);
    assert_eq!(must(store.kv_incr("n", -10, None, NOW + 2_000), "incr"), -4);
    assert_eq!(
        must(store.kv_get("n", NOW), "get").as_deref(),
        Some(&b"-4"[..])
    );
    // The expiry set at creation holds; later increments do not move it.
    assert_eq!(
        must(store.kv_ttl("n", NOW + 2_000), "ttl"),
        KvTtl::ExpiresIn(Duration::from_secs(58))
    );
    // After expiry the counter restarts from zero with a fresh TTL.
    assert_eq!(
        must(store.kv_incr("n", 1, secs(10), NOW + 60_000), "incr"),
        1
    );
    assert_eq!(
        must(store.kv_ttl("n", NOW + 60_000), "ttl"),
        KvTtl::ExpiresIn(Duration::from_secs(10))
    );
    // Not an integer, or overflow: an error that changes nothing.
    must(store.kv_set("text", b"abc", None, NOW), "set");
    assert!(matches!(
        store.kv_incr("text", 1, None, NOW),
        Err(StoreError::NotAnInteger { .. })
    ));
    assert_eq!(
        must(store.kv_get("text", NOW), "get").as_deref(),
        Some(&b"abc"[..])
    );
    must(
        store.kv_set("big", i64::MAX.to_string().as_bytes(), None, NOW),
        "set",
    );
    assert!(matches!(
        store.kv_incr("big", 1, None, NOW),
        Err(StoreError::NotAnInteger { .. })
    ));
    assert_eq!(
        must(store.kv_get("big", NOW), "get"),
        Some(i64::MAX.to_string().into_bytes())
    );
}

pub fn kv_scan_prefix_in_key_order(store: &dyn Store) {
    for key in [
        "user:2:b",
        "user:1:a",
        "user:10:x",
        "userz",
        "chat:1",
        "user:3",
    ] {
        must(store.kv_set(key, key.as_bytes(), None, NOW), "set");
    }
    must(store.kv_set("user:0:gone", b"x", secs(1), NOW), "set");
    let keys: Vec<String> = must(store.kv_scan_prefix("user:", NOW + 5_000, 100), "scan")
        .into_iter()
        .map(|(k, v)| {
            assert_eq!(k.as_bytes(), v.as_slice());
            k
        })
        .collect();
    // Byte order: '0' (0x30) sorts before ':' (0x3a).
    assert_eq!(keys, vec!["user:10:x", "user:1:a", "user:2:b", "user:3"]);
    assert_eq!(
        must(store.kv_scan_prefix("user:", NOW + 5_000, 2), "scan").len(),
        2
    );
    assert!(must(store.kv_scan_prefix("nope", NOW, 10), "scan").is_empty());
}
