//! [`CachedStore`]: the store behind the cache. It implements every store trait by delegating;
//! `user`, `chat`, `member` and `user_settings` are answered from the cache, and every write
//! invalidates what it touched once the store call returns (ingest: the users, chats and members
//! of the batch; settings and retention writes: their row). The app hands this wrapper, not the
//! bare store, to the writer, the bot, search and the dashboard, so all writes pass through it.
//!
//! A store trait added later needs its delegation here (a write also its invalidation);
//! anything not invalidated is still bounded by `cache.ttl_secs`.

use super::{Clock, Limits, PressureValve, SystemClock, TtlLru};
use crate::config::CacheConfig;
use crate::domain::{
    BotIdentity, Chat, ChatId, IncomingUpdate, Member, MessageId, OutboxEntry, QuarantinedUpdate,
    StoredMessage, Timestamp, UpdateContent, UpdateId, User, UserId, UserSettings,
};
use crate::store::{
    BackupRepo, BackupSummary, ChatRepo, CheckRepo, CompactionReport, ConsistencyReport,
    ForgottenUser, IngestOutcome, IngestSink, KvRepo, KvTtl, MaintenanceRepo, MaintenanceRun,
    MessageRepo, MetaRepo, OutboxRepo, QuarantineRepo, RepairReport, RetentionRepo, SettingsRepo,
    SharedStore, Store, StoreCounts, StoreResult, TableStats, UnixMillis, UserRepo,
};
use crate::telemetry::CacheCounters;
use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    User(UserId),
    Chat(ChatId),
    Member(ChatId, UserId),
    Settings(UserId),
    Result(Arc<str>),
}

#[derive(Clone)]
enum Value {
    User(Option<User>),
    Chat(Option<Chat>),
    Member(Option<Member>),
    Settings(Option<UserSettings>),
    Result(Arc<dyn Any + Send + Sync>, usize),
}

/// Bookkeeping per entry beyond the value: the LRU node, the key, the hash slot.
const ENTRY_OVERHEAD: usize = 96;

fn opt_len(s: &Option<String>) -> usize {
    s.as_ref().map_or(0, String::len)
}

fn weigh(key: &Key, value: &Value) -> usize {
    let key_bytes = match key {
        Key::Result(k) => k.len(),
        _ => 0,
    };
    let value_bytes = match value {
        Value::User(u) => {
            std::mem::size_of::<Option<User>>()
                + u.as_ref().map_or(0, |u| {
                    u.first_name.len()
                        + opt_len(&u.last_name)
                        + opt_len(&u.username)
                        + opt_len(&u.language_code)
                })
        }
        Value::Chat(c) => {
            std::mem::size_of::<Option<Chat>>()
                + c.as_ref()
                    .map_or(0, |c| opt_len(&c.title) + opt_len(&c.username))
        }
        Value::Member(_) => std::mem::size_of::<Option<Member>>(),
        Value::Settings(_) => std::mem::size_of::<Option<UserSettings>>(),
        Value::Result(_, bytes) => *bytes,
    };
    std::mem::size_of::<(Key, Value)>() + ENTRY_OVERHEAD + key_bytes + value_bytes
}

/// The app's one cache: bounded by `cache.max_entries` / `cache.max_mb` for all kinds of entry
/// together, counted in the registry's [`CacheCounters`].
pub struct AppCache {
    lru: TtlLru<Key, Value>,
    ttl: Duration,
    valve: PressureValve,
}

impl AppCache {
    pub fn new(config: &CacheConfig, counters: Arc<CacheCounters>) -> Self {
        Self::with_clock(config, counters, Arc::new(SystemClock::default()))
    }

    pub fn with_clock(
        config: &CacheConfig,
        counters: Arc<CacheCounters>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let limits = Limits {
            max_entries: config.max_entries,
            max_bytes: usize::try_from(config.max_mb << 20).unwrap_or(usize::MAX),
            shards: 8,
        };
        AppCache {
            lru: TtlLru::new(limits, clock, counters, weigh),
            ttl: config.ttl,
            valve: PressureValve::new(config.shrink_at_rss_percent),
        }
    }

    /// A short-lived result (statistics, say) under `key`, computed by `compute` on a miss and
    /// kept for `ttl` (never longer than that: nothing invalidates results). Keys share one
    /// namespace: prefix them with the feature (`"stats:chat:-100123:7d"`). `approx_bytes` is
    /// the value's size for the byte bound. Errors are returned and not cached.
    pub fn get_or_insert_with<T, E>(
        &self,
        key: &str,
        ttl: Duration,
        approx_bytes: usize,
        compute: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, E>
    where
        T: Clone + Send + Sync + 'static,
    {
        let k = Key::Result(Arc::from(key));
        if let Some(Value::Result(any, _)) = self.lru.get(&k)
            && let Some(v) = any.downcast_ref::<T>()
        {
            return Ok(v.clone());
        }
        // A different type under the same key is replaced.
        let value = compute()?;
        self.lru
            .insert(k, Value::Result(Arc::new(value.clone()), approx_bytes), ttl);
        Ok(value)
    }

    /// Forget the results whose key starts with `prefix`.
    pub fn invalidate_results(&self, prefix: &str) {
        self.lru
            .invalidate_where(|k| matches!(k, Key::Result(r) if r.starts_with(prefix)));
    }

    /// Feed one memory sample (the dashboard sampler, every 10 s): shrink when RSS is over
    /// `cache.shrink_at_rss_percent` of system memory, grow back once well below.
    pub fn on_memory_sample(&self, rss_bytes: u64, system_total_bytes: u64) -> super::Pressure {
        self.valve.check(&self.lru, rss_bytes, system_total_bytes)
    }

    pub fn len(&self) -> usize {
        self.lru.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lru.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.lru.capacity()
    }

    fn lookup<T>(
        &self,
        key: Key,
        load: impl FnOnce() -> StoreResult<T>,
        wrap: fn(T) -> Value,
        unwrap: fn(Value) -> Option<T>,
    ) -> StoreResult<T>
    where
        T: Clone,
    {
        let value = self
            .lru
            .get_or_insert_with(key, self.ttl, || load().map(wrap))?;
        match unwrap(value) {
            Some(v) => Ok(v),
            // Unreachable: each key kind holds its own value kind. Answer from the store anyway.
            None => Err(crate::store::StoreError::Backend(
                "cache entry of the wrong kind".into(),
            )),
        }
    }

    fn invalidate(&self, keys: &[Key]) {
        self.lru.invalidate(keys);
    }
}

/// The store with the cache in front. See the module documentation.
pub struct CachedStore {
    inner: SharedStore,
    cache: Arc<AppCache>,
}

impl CachedStore {
    /// The wrapped store, for pass-through impls in sibling modules.
    pub(super) fn inner(&self) -> &SharedStore {
        &self.inner
    }

    pub fn new(inner: SharedStore, cache: Arc<AppCache>) -> Self {
        CachedStore { inner, cache }
    }

    pub fn cache(&self) -> &Arc<AppCache> {
        &self.cache
    }
}

/// Every cached row an ingest batch may change.
fn touched_by(batch: &[IncomingUpdate]) -> Vec<Key> {
    let mut keys = std::collections::HashSet::new();
    for u in batch {
        match &u.content {
            UpdateContent::Message(m) | UpdateContent::Edit(m) => {
                let chat = m.chat.id;
                keys.insert(Key::Chat(chat));
                let users = m.from.iter().chain(&m.joined).chain(m.left.iter());
                for p in users {
                    keys.insert(Key::User(p.id));
                    keys.insert(Key::Member(chat, p.id));
                }
            }
            UpdateContent::Interaction { user, chat, .. } => {
                keys.insert(Key::User(user.id));
                if let Some(c) = chat {
                    keys.insert(Key::Chat(c.id));
                    keys.insert(Key::Member(c.id, user.id));
                }
            }
            UpdateContent::Ignored { .. } | UpdateContent::Quarantined { .. } => {}
        }
    }
    keys.into_iter().collect()
}

impl IngestSink for CachedStore {
    fn ingest(&self, batch: &[IncomingUpdate]) -> StoreResult<IngestOutcome> {
        let result = self.inner.ingest(batch);
        // After the commit (or a failure, which changed nothing: harmless).
        self.cache.invalidate(&touched_by(batch));
        result
    }
}

impl MetaRepo for CachedStore {
    fn schema_version(&self) -> StoreResult<u32> {
        self.inner.schema_version()
    }
    fn last_update_id(&self) -> StoreResult<Option<UpdateId>> {
        self.inner.last_update_id()
    }
    fn bot_identity(&self) -> StoreResult<Option<BotIdentity>> {
        self.inner.bot_identity()
    }
    fn bind_bot(&self, identity: &BotIdentity, force: bool) -> StoreResult<()> {
        self.inner.bind_bot(identity, force)
    }
    fn counts(&self) -> StoreResult<StoreCounts> {
        self.inner.counts()
    }
    fn table_stats(&self) -> StoreResult<Vec<TableStats>> {
        self.inner.table_stats()
    }
}

impl UserRepo for CachedStore {
    fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        self.cache.lookup(
            Key::User(id),
            || self.inner.user(id),
            Value::User,
            |v| match v {
                Value::User(u) => Some(u),
                _ => None,
            },
        )
    }
    fn users_by_activity(&self, limit: usize) -> StoreResult<Vec<User>> {
        self.inner.users_by_activity(limit)
    }
    fn user_by_username(&self, username: &str) -> StoreResult<Option<User>> {
        self.inner.user_by_username(username)
    }
    fn forget_user(&self, id: UserId) -> StoreResult<ForgottenUser> {
        let result = self.inner.forget_user(id);
        // The user row, their settings, every membership and the private chat (id = user id).
        let mut keys = vec![Key::User(id), Key::Settings(id)];
        if let Ok(chat) = i64::try_from(id.0) {
            keys.push(Key::Chat(ChatId(chat)));
        }
        self.cache.invalidate(&keys);
        self.cache
            .lru
            .invalidate_where(|k| matches!(k, Key::Member(_, u) if *u == id));
        result
    }
}

impl ChatRepo for CachedStore {
    fn chat(&self, id: ChatId) -> StoreResult<Option<Chat>> {
        self.cache.lookup(
            Key::Chat(id),
            || self.inner.chat(id),
            Value::Chat,
            |v| match v {
                Value::Chat(c) => Some(c),
                _ => None,
            },
        )
    }
    fn chats(&self) -> StoreResult<Vec<Chat>> {
        self.inner.chats()
    }
    fn member(&self, chat: ChatId, user: UserId) -> StoreResult<Option<Member>> {
        self.cache.lookup(
            Key::Member(chat, user),
            || self.inner.member(chat, user),
            Value::Member,
            |v| match v {
                Value::Member(m) => Some(m),
                _ => None,
            },
        )
    }
    fn chats_of_user(&self, user: UserId) -> StoreResult<Vec<ChatId>> {
        self.inner.chats_of_user(user)
    }
    fn members_of(&self, chat: ChatId, limit: usize) -> StoreResult<Vec<Member>> {
        self.inner.members_of(chat, limit)
    }
}

impl MessageRepo for CachedStore {
    fn message(&self, chat: ChatId, id: MessageId) -> StoreResult<Option<StoredMessage>> {
        self.inner.message(chat, id)
    }
    fn messages_page(
        &self,
        chat: Option<ChatId>,
        after: Option<(ChatId, MessageId)>,
        limit: usize,
    ) -> StoreResult<Vec<StoredMessage>> {
        self.inner.messages_page(chat, after, limit)
    }
    fn messages_by_user(&self, user: UserId, limit: usize) -> StoreResult<Vec<StoredMessage>> {
        self.inner.messages_by_user(user, limit)
    }
    fn recent_messages(&self, chat: ChatId, limit: usize) -> StoreResult<Vec<StoredMessage>> {
        self.inner.recent_messages(chat, limit)
    }
    fn messages_older_than(
        &self,
        before: Timestamp,
        limit: usize,
    ) -> StoreResult<Vec<(ChatId, MessageId)>> {
        self.inner.messages_older_than(before, limit)
    }
    fn delete_messages(&self, keys: &[(ChatId, MessageId)]) -> StoreResult<u64> {
        // Counters stay, so no cached user, chat or member changes.
        self.inner.delete_messages(keys)
    }
}

impl OutboxRepo for CachedStore {
    fn outbox_after(&self, after: u64, limit: usize) -> StoreResult<Vec<OutboxEntry>> {
        self.inner.outbox_after(after, limit)
    }
    fn prune_outbox(&self, upto: u64) -> StoreResult<u64> {
        self.inner.prune_outbox(upto)
    }
    fn outbox_head(&self) -> StoreResult<u64> {
        self.inner.outbox_head()
    }
}

impl QuarantineRepo for CachedStore {
    fn quarantined(&self, limit: usize) -> StoreResult<Vec<QuarantinedUpdate>> {
        self.inner.quarantined(limit)
    }
}

impl KvRepo for CachedStore {
    fn kv_get(&self, key: &str, now: UnixMillis) -> StoreResult<Option<Vec<u8>>> {
        self.inner.kv_get(key, now)
    }
    fn kv_mget(&self, keys: &[&str], now: UnixMillis) -> StoreResult<Vec<Option<Vec<u8>>>> {
        self.inner.kv_mget(keys, now)
    }
    fn kv_set(
        &self,
        key: &str,
        value: &[u8],
        ttl: Option<Duration>,
        now: UnixMillis,
    ) -> StoreResult<()> {
        self.inner.kv_set(key, value, ttl, now)
    }
    fn kv_mset(
        &self,
        entries: &[(&str, &[u8])],
        ttl: Option<Duration>,
        now: UnixMillis,
    ) -> StoreResult<()> {
        self.inner.kv_mset(entries, ttl, now)
    }
    fn kv_del(&self, keys: &[&str], now: UnixMillis) -> StoreResult<u64> {
        self.inner.kv_del(keys, now)
    }
    fn kv_incr(
        &self,
        key: &str,
        by: i64,
        ttl_if_created: Option<Duration>,
        now: UnixMillis,
    ) -> StoreResult<i64> {
        self.inner.kv_incr(key, by, ttl_if_created, now)
    }
    fn kv_expire(&self, key: &str, ttl: Option<Duration>, now: UnixMillis) -> StoreResult<bool> {
        self.inner.kv_expire(key, ttl, now)
    }
    fn kv_ttl(&self, key: &str, now: UnixMillis) -> StoreResult<KvTtl> {
        self.inner.kv_ttl(key, now)
    }
    fn kv_scan_prefix(
        &self,
        prefix: &str,
        now: UnixMillis,
        limit: usize,
    ) -> StoreResult<Vec<(String, Vec<u8>)>> {
        self.inner.kv_scan_prefix(prefix, now, limit)
    }
    fn kv_sweep_expired(&self, now: UnixMillis, limit: usize) -> StoreResult<u64> {
        self.inner.kv_sweep_expired(now, limit)
    }
    fn kv_len(&self, now: UnixMillis) -> StoreResult<u64> {
        self.inner.kv_len(now)
    }
}

impl SettingsRepo for CachedStore {
    fn user_settings(&self, user: UserId) -> StoreResult<Option<UserSettings>> {
        self.cache.lookup(
            Key::Settings(user),
            || self.inner.user_settings(user),
            Value::Settings,
            |v| match v {
                Value::Settings(s) => Some(s),
                _ => None,
            },
        )
    }
    fn set_user_settings(&self, user: UserId, settings: &UserSettings) -> StoreResult<()> {
        let result = self.inner.set_user_settings(user, settings);
        self.cache.invalidate(&[Key::Settings(user)]);
        result
    }
    fn delete_user_settings(&self, user: UserId) -> StoreResult<bool> {
        let result = self.inner.delete_user_settings(user);
        self.cache.invalidate(&[Key::Settings(user)]);
        result
    }
    fn users_without_announcements(&self) -> StoreResult<Vec<UserId>> {
        self.inner.users_without_announcements()
    }
}

impl RetentionRepo for CachedStore {
    fn set_chat_retention(&self, chat: ChatId, days: Option<u32>) -> StoreResult<bool> {
        let result = self.inner.set_chat_retention(chat, days);
        self.cache.invalidate(&[Key::Chat(chat)]);
        result
    }
    fn chat_retention_overrides(&self) -> StoreResult<Vec<(ChatId, u32)>> {
        self.inner.chat_retention_overrides()
    }
    fn messages_by_time_after(
        &self,
        before: Timestamp,
        after: Option<(Timestamp, ChatId, MessageId)>,
        limit: usize,
    ) -> StoreResult<Vec<(Timestamp, ChatId, MessageId)>> {
        self.inner.messages_by_time_after(before, after, limit)
    }
}

impl MaintenanceRepo for CachedStore {
    fn compact(&self) -> StoreResult<CompactionReport> {
        // Moves bytes, not rows: nothing cached changes.
        self.inner.compact()
    }
    fn file_bytes(&self) -> Option<u64> {
        self.inner.file_bytes()
    }
    fn last_maintenance(&self) -> StoreResult<Option<MaintenanceRun>> {
        self.inner.last_maintenance()
    }
    fn record_maintenance(&self, run: &MaintenanceRun) -> StoreResult<()> {
        self.inner.record_maintenance(run)
    }
}

impl CheckRepo for CachedStore {
    fn check_consistency(&self, examples: usize) -> StoreResult<ConsistencyReport> {
        self.inner.check_consistency(examples)
    }
    fn rebuild_indexes(&self) -> StoreResult<RepairReport> {
        let result = self.inner.rebuild_indexes();
        // Indexes only, but cheap to be sure: start over.
        self.cache.lru.clear();
        result
    }
}

impl BackupRepo for CachedStore {
    fn backup(&self, out: &mut dyn std::io::Write) -> StoreResult<BackupSummary> {
        self.inner.backup(out)
    }
}

impl Store for CachedStore {
    fn backend_name(&self) -> &'static str {
        self.inner.backend_name()
    }
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
