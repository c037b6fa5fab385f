//! The store contract: what every backend (redb now, PostgreSQL behind a feature later) must do.
//!
//! Services hold an `Arc<dyn Store>` and never see a backend type. The contract is small traits
//! per aggregate (the Conduit way) plus one write entry point, [`IngestSink::ingest`], which
//! applies a batch of updates in one durable transaction. The behaviour every backend must show
//! is pinned by the shared suite in [`contract`], run against each backend by `tests/`.

pub mod backup_file;
pub mod contract;
mod error;
pub mod maintenance;
pub mod redb;

pub use error::{OpenError, StoreError};
pub use maintenance::{
    BackupSummary, CheckItem, CompactionReport, ConsistencyReport, IndexCompactionFigures,
    MaintenanceRun, RepairReport,
};

use crate::domain::{
    BotIdentity, Chat, ChatDay, ChatId, Day, Member, MessageId, MessageKind, OutboxEntry,
    PosterCount, PosterRank, QuarantinedUpdate, StatsPeriod, StoredMessage, Timestamp, UpdateId,
    User, UserId, UserSettings,
};
use crate::domain::{BroadcastId, BroadcastJob, JobState, NewBroadcast, RecipientStatus};
use std::sync::Arc;
use std::time::Duration;

pub type StoreResult<T> = Result<T, StoreError>;

/// The schema version this build writes. Older data is migrated on open; newer is refused.
pub const SCHEMA_VERSION: u32 = 3;

/// How far below the last committed update id an id still counts as a redelivery. Telegram
/// only redelivers unconfirmed updates, which are always just above the confirmed offset, but it
/// may restart ids at a random value after a week of silence; a bounded window keeps such a
/// restart from being mistaken for old updates.
pub const REDELIVERY_WINDOW: u32 = 1 << 20;

/// Whether an update with `id` was already committed, given the last committed id.
pub fn is_redelivery(id: UpdateId, last_committed: Option<UpdateId>) -> bool {
    match last_committed {
        Some(last) => id <= last && last.0 - id.0 < REDELIVERY_WINDOW,
        None => false,
    }
}

/// What one `ingest` call did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IngestOutcome {
    /// Updates applied for the first time; handlers (replies) run only for these.
    pub applied: Vec<UpdateId>,
    /// Updates skipped because they were committed before (redelivered).
    pub duplicates: usize,
    pub messages_inserted: usize,
    pub messages_edited: usize,
    pub quarantined: usize,
    /// The last committed update id after this transaction.
    pub last_update_id: Option<UpdateId>,
}

/// Row counts, as `tgbox stats` prints them.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct StoreCounts {
    pub users: u64,
    pub chats: u64,
    pub members: u64,
    pub messages: u64,
    pub outbox_pending: u64,
    pub quarantined: u64,
}

/// Space one table takes, as the backend reports it (the dashboard's storage figures).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct TableStats {
    pub name: String,
    pub rows: u64,
    /// Bytes of keys and values.
    pub stored_bytes: u64,
    /// Bytes of the table's own structure (tree pages beyond the data).
    pub metadata_bytes: u64,
    /// Bytes allocated to the table but unused (reclaimed by compaction).
    pub fragmented_bytes: u64,
}

/// Writes. One call is one transaction committed with immediate durability: when it returns
/// `Ok`, every update in the batch is on disk together with the new last update id.
pub trait IngestSink {
    fn ingest(&self, batch: &[crate::domain::IncomingUpdate]) -> StoreResult<IngestOutcome>;
}

pub trait MetaRepo {
    fn schema_version(&self) -> StoreResult<u32>;
    fn last_update_id(&self) -> StoreResult<Option<UpdateId>>;
    fn bot_identity(&self) -> StoreResult<Option<BotIdentity>>;
    /// Record which bot this data belongs to. Refuses with [`StoreError::ForeignBot`] when a
    /// different bot is already recorded, unless `force`.
    fn bind_bot(&self, identity: &BotIdentity, force: bool) -> StoreResult<()>;
    fn counts(&self) -> StoreResult<StoreCounts>;
    /// Space per table, in name order.
    fn table_stats(&self) -> StoreResult<Vec<TableStats>>;
}

pub trait UserRepo {
    fn user(&self, id: UserId) -> StoreResult<Option<User>>;
    /// Users by last activity, newest first, at most `limit`.
    fn users_by_activity(&self, limit: usize) -> StoreResult<Vec<User>>;
    /// The user last seen with this username: case-insensitive, a leading `@` is ignored.
    fn user_by_username(&self, username: &str) -> StoreResult<Option<User>>;
    /// Remove what is stored about a user apart from their messages (remove those first, with
    /// [`MessageRepo::delete_messages`]) and their key-value keys: the user row with its
    /// `users_by_activity` and username index rows, every membership (member rows and their
    /// `member_chats` index), the private chat with the bot once no message is left in it, and
    /// the settings, and the user's per-day statistics rows (`StatsRepo::forget_user_stats`); in
    /// one durable transaction. Per-chat counters stay (anonymous totals).
    /// Idempotent: forgetting an unknown user removes nothing.
    fn forget_user(&self, id: UserId) -> StoreResult<ForgottenUser>;
}

/// What [`UserRepo::forget_user`] removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ForgottenUser {
    pub user_row: bool,
    /// Member rows removed (one per chat the user was, or had been, a member of).
    pub memberships: u64,
    /// The private chat with the bot.
    pub private_chat: bool,
    pub settings: bool,
    /// Broadcast recipient rows removed (one per job that included the user).
    pub broadcast_rows: u64,
    /// Whether the user was marked as having blocked the bot.
    pub blocked_mark: bool,
}

pub trait ChatRepo {
    fn chat(&self, id: ChatId) -> StoreResult<Option<Chat>>;
    fn chats(&self) -> StoreResult<Vec<Chat>>;
    fn member(&self, chat: ChatId, user: UserId) -> StoreResult<Option<Member>>;
    /// Chats the user is (or was) a member of, ascending by chat id.
    fn chats_of_user(&self, user: UserId) -> StoreResult<Vec<ChatId>>;
    /// Members of a chat (any status), ascending by user id, at most `limit` (dashboard).
    fn members_of(&self, chat: ChatId, limit: usize) -> StoreResult<Vec<Member>>;
}

pub trait MessageRepo {
    fn message(&self, chat: ChatId, id: MessageId) -> StoreResult<Option<StoredMessage>>;
    /// Messages in key order (chat, message id), optionally one chat only, starting after
    /// `after` (exclusive), at most `limit`. Page through with the last key returned.
    fn messages_page(
        &self,
        chat: Option<ChatId>,
        after: Option<(ChatId, MessageId)>,
        limit: usize,
    ) -> StoreResult<Vec<StoredMessage>>;
    /// A user's messages, newest first, at most `limit`.
    fn messages_by_user(&self, user: UserId, limit: usize) -> StoreResult<Vec<StoredMessage>>;
    /// A chat's messages, highest message id (newest) first, at most `limit` (dashboard).
    fn recent_messages(&self, chat: ChatId, limit: usize) -> StoreResult<Vec<StoredMessage>>;
    /// Keys of messages dated before `before`, oldest first, at most `limit` (retention).
    fn messages_older_than(
        &self,
        before: Timestamp,
        limit: usize,
    ) -> StoreResult<Vec<(ChatId, MessageId)>>;
    /// Remove these messages with every index row, and queue their removal from the search index
    /// (an outbox `Delete` each), in one durable transaction. Counters (per user, member, chat)
    /// are kept: they count what was said, not what is still stored. Unknown keys are ignored;
    /// returns how many messages were removed.
    fn delete_messages(&self, keys: &[(ChatId, MessageId)]) -> StoreResult<u64>;
}

pub trait OutboxRepo {
    /// Entries with `seq > after`, ascending, at most `limit`.
    fn outbox_after(&self, after: u64, limit: usize) -> StoreResult<Vec<OutboxEntry>>;
    /// Remove entries with `seq <= upto`; returns how many were removed.
    fn prune_outbox(&self, upto: u64) -> StoreResult<u64>;
    /// The sequence of the last entry ever appended (0 if none). Pruning does not lower it, so a
    /// reader that applied everything up to it has seen every write so far.
    fn outbox_head(&self) -> StoreResult<u64>;
}

/// The key-value table's clock (milliseconds since the Unix epoch), defined with the domain types.
pub use crate::domain::{UnixMillis, now_millis};

/// What `kv_ttl` reports about a key (Redis `TTL`: -2 missing, -1 no expiry).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KvTtl {
    /// No such key, or it has expired.
    Missing,
    /// The key never expires.
    Persistent,
    /// Time left until the key expires (never zero: a key at its expiry instant is gone).
    ExpiresIn(Duration),
}

/// The key-value table with expiry (what Redis was for: rate limits, short-lived state,
/// dialogues). Every call takes `now` explicitly so behaviour is deterministic; services pass
/// [`now_millis`]. A key whose expiry is at or before `now` is invisible to every call at once,
/// and its row is removed later by [`KvRepo::kv_sweep_expired`] (or when it is written again).
/// Each write is one durable transaction.
pub trait KvRepo {
    fn kv_get(&self, key: &str, now: UnixMillis) -> StoreResult<Option<Vec<u8>>>;
    /// Values of `keys`, in order (`None` for missing or expired keys).
    fn kv_mget(&self, keys: &[&str], now: UnixMillis) -> StoreResult<Vec<Option<Vec<u8>>>>;
    /// Set a value; `ttl = None` keeps it until deleted. Replaces any earlier value and expiry.
    fn kv_set(
        &self,
        key: &str,
        value: &[u8],
        ttl: Option<Duration>,
        now: UnixMillis,
    ) -> StoreResult<()>;
    /// Set several values, all with the same `ttl`, in one transaction.
    fn kv_mset(
        &self,
        entries: &[(&str, &[u8])],
        ttl: Option<Duration>,
        now: UnixMillis,
    ) -> StoreResult<()>;
    /// Delete keys; returns how many of them existed (and had not expired).
    fn kv_del(&self, keys: &[&str], now: UnixMillis) -> StoreResult<u64>;
    /// Add `by` to the integer stored at `key` (decimal text, as Redis stores it) and return the
    /// new value. A missing or expired key counts as 0 and, when created here, gets
    /// `ttl_if_created`; an existing key keeps its expiry. A value that is not an integer, or an
    /// overflow, is [`StoreError::NotAnInteger`] and changes nothing.
    fn kv_incr(
        &self,
        key: &str,
        by: i64,
        ttl_if_created: Option<Duration>,
        now: UnixMillis,
    ) -> StoreResult<i64>;
    /// Set (`Some`) or remove (`None`) a key's expiry; `false` if the key does not exist.
    fn kv_expire(&self, key: &str, ttl: Option<Duration>, now: UnixMillis) -> StoreResult<bool>;
    fn kv_ttl(&self, key: &str, now: UnixMillis) -> StoreResult<KvTtl>;
    /// Live keys starting with `prefix`, in key order, at most `limit`.
    fn kv_scan_prefix(
        &self,
        prefix: &str,
        now: UnixMillis,
        limit: usize,
    ) -> StoreResult<Vec<(String, Vec<u8>)>>;
    /// Remove up to `limit` expired rows (expiry at or before `now`), oldest expiry first, in one
    /// transaction; returns how many were removed. Call until it returns less than `limit`.
    fn kv_sweep_expired(&self, now: UnixMillis, limit: usize) -> StoreResult<u64>;
    /// Live keys (not counting expired rows not yet swept).
    fn kv_len(&self, now: UnixMillis) -> StoreResult<u64>;
}

pub trait SettingsRepo {
    /// The stored settings, `None` when the user never changed them (use the default).
    fn user_settings(&self, user: UserId) -> StoreResult<Option<UserSettings>>;
    fn set_user_settings(&self, user: UserId, settings: &UserSettings) -> StoreResult<()>;
    /// Returns whether anything was stored.
    fn delete_user_settings(&self, user: UserId) -> StoreResult<bool>;
    /// Users who turned announcements off, ascending (broadcast audiences skip them).
    fn users_without_announcements(&self) -> StoreResult<Vec<UserId>>;
}

/// Statistics, from counters kept by `ingest` in the same transaction as the messages: every
/// answer costs O(days) or O(members), never O(messages), and counts what was said (retention
/// and [`MessageRepo::delete_messages`] do not lower it). Service messages are not posts; edits
/// do not count again. Days and hours are UTC. A period of days covers per-day rows; `AllTime`
/// rankings use the members' own counters.
pub trait StatsRepo {
    /// A chat's per-day counters for the days `from..=to`, ascending; days with nothing counted
    /// are left out.
    fn chat_days(&self, chat: ChatId, from: Day, to: Day) -> StoreResult<Vec<ChatDay>>;
    /// A chat's messages per UTC hour of the week: 168 buckets, Monday 00:00-01:00 first.
    fn chat_hours(&self, chat: ChatId) -> StoreResult<Vec<u64>>;
    /// A chat's messages per kind, in kind order, kinds never seen left out.
    fn chat_kinds(&self, chat: ChatId) -> StoreResult<Vec<(MessageKind, u64)>>;
    /// How many distinct members posted in the chat in the period.
    fn active_members(&self, chat: ChatId, period: StatsPeriod) -> StoreResult<u64>;
    /// The `limit` members who posted most in the period, most first; equal counts by user id.
    fn top_posters(
        &self,
        chat: ChatId,
        period: StatsPeriod,
        limit: usize,
    ) -> StoreResult<Vec<PosterCount>>;
    /// A member's messages and rank in the period; `None` if they posted nothing in it.
    fn poster_rank(
        &self,
        chat: ChatId,
        user: UserId,
        period: StatsPeriod,
    ) -> StoreResult<Option<PosterRank>>;
    /// Remove a user's per-day rows in every chat (`/forget`). The chat's own counters (per day,
    /// hour and kind) stay: they are anonymous. Returns how many rows were removed.
    fn forget_user_stats(&self, user: UserId) -> StoreResult<u64>;
}

/// Per-chat retention overrides (kept on the chat row, `Chat::retention_days`): `None` follows
/// the global `retention.days`, `Some(0)` keeps the chat's messages forever, `Some(n)` keeps
/// them `n` days. Ingest never changes an override.
pub trait RetentionRepo {
    /// Set or clear a chat's override; `false` (and nothing stored) if the chat is unknown.
    fn set_chat_retention(&self, chat: ChatId, days: Option<u32>) -> StoreResult<bool>;
    /// Chats that have an override, ascending by chat id.
    fn chat_retention_overrides(&self) -> StoreResult<Vec<(ChatId, u32)>>;
    /// Positions `(date, chat, message)` of messages dated before `before`, oldest first,
    /// strictly after `after` (a position returned earlier), at most `limit`: a cursor over the
    /// time index, so a walk can step past messages it keeps.
    fn messages_by_time_after(
        &self,
        before: Timestamp,
        after: Option<(Timestamp, ChatId, MessageId)>,
        limit: usize,
    ) -> StoreResult<Vec<(Timestamp, ChatId, MessageId)>>;
}

pub trait QuarantineRepo {
    fn quarantined(&self, limit: usize) -> StoreResult<Vec<QuarantinedUpdate>>;
}

/// Broadcast jobs, their per-recipient status and the users who blocked the bot. Every write is
/// one transaction with immediate durability: a status written here survives a crash.
pub trait BroadcastRepo {
    /// Create a job in state Queued (recipients are chosen when it starts).
    fn create_broadcast(&self, new: &NewBroadcast, now: UnixMillis) -> StoreResult<BroadcastJob>;
    fn broadcast(&self, id: BroadcastId) -> StoreResult<Option<BroadcastJob>>;
    /// Jobs, newest first, at most `limit`.
    fn broadcasts(&self, limit: usize) -> StoreResult<Vec<BroadcastJob>>;
    /// Move a job to `to` if its state is one of `from`; `Ok(Err(current))` when it is not (or
    /// `None` in the outer option when there is no such job).
    fn transition_broadcast(
        &self,
        id: BroadcastId,
        from: &[JobState],
        to: JobState,
        now: UnixMillis,
    ) -> StoreResult<Option<Result<BroadcastJob, JobState>>>;
    /// Snapshot the recipients of a Queued job and make it Running: users who blocked the bot
    /// are left out (counted in `skipped_blocked`), the rest become Pending. Duplicates in
    /// `users` count once. Refused (`Ok(Err(state))`) unless the job is Queued.
    fn start_broadcast(
        &self,
        id: BroadcastId,
        users: &[crate::domain::UserId],
        now: UnixMillis,
    ) -> StoreResult<Option<Result<BroadcastJob, JobState>>>;
    /// After a restart: every InFlight recipient of the job becomes Uncertain (it may have been
    /// sent). Returns how many.
    fn recover_broadcast(&self, id: BroadcastId) -> StoreResult<u64>;
    /// Mark up to `limit` Pending recipients InFlight (durably) and return them, ascending.
    fn claim_broadcast_batch(
        &self,
        id: BroadcastId,
        limit: usize,
    ) -> StoreResult<Vec<crate::domain::UserId>>;
    /// Record what happened to InFlight recipients: a final status, or `Pending` again (a 429:
    /// not delivered, so it can be retried). `Blocked` also adds the user to the blocked set.
    /// Rows that are not InFlight are left alone.
    fn record_broadcast_results(
        &self,
        id: BroadcastId,
        results: &[(crate::domain::UserId, RecipientStatus)],
        now: UnixMillis,
    ) -> StoreResult<BroadcastJob>;
    /// Recipients in user id order after `after`, at most `limit`, optionally one status only
    /// (compared by kind: any `Failed` matches `Failed`).
    fn broadcast_recipients(
        &self,
        id: BroadcastId,
        after: Option<crate::domain::UserId>,
        status: Option<&RecipientStatus>,
        limit: usize,
    ) -> StoreResult<Vec<(crate::domain::UserId, RecipientStatus)>>;
    /// Whether a send to this user ever answered 403 (blocked).
    fn is_blocked(&self, user: crate::domain::UserId) -> StoreResult<bool>;
    /// How many users are marked blocked.
    fn blocked_count(&self) -> StoreResult<u64>;
}

/// Compaction and the record of the last maintenance run.
pub trait MaintenanceRepo {
    /// Give free space inside the file back to the file system. Needs the store to itself:
    /// it waits for store calls in flight, and every other call (ingest included) waits until it
    /// is done; the report says for how long.
    fn compact(&self) -> StoreResult<CompactionReport>;
    /// Size of the store's file(s) on disk, if the backend has them (what a compaction can
    /// shrink: the file minus the bytes the tables use).
    fn file_bytes(&self) -> Option<u64>;
    /// The last maintenance run recorded with [`MaintenanceRepo::record_maintenance`].
    fn last_maintenance(&self) -> StoreResult<Option<MaintenanceRun>>;
    fn record_maintenance(&self, run: &MaintenanceRun) -> StoreResult<()>;
}

/// `tgbox check`: the store's own consistency (indexes against primary rows) and repair.
pub trait CheckRepo {
    /// Every secondary-index row against its primary row and the reverse, in one read
    /// transaction; each item keeps at most `examples` offending keys.
    fn check_consistency(&self, examples: usize) -> StoreResult<ConsistencyReport>;
    /// Rebuild every index that derives from the primary tables, in one durable transaction.
    fn rebuild_indexes(&self) -> StoreResult<RepairReport>;
}

/// `tgbox backup`: one read transaction streamed as a backup file (see [`backup_file`]).
pub trait BackupRepo {
    fn backup(&self, out: &mut dyn std::io::Write) -> StoreResult<BackupSummary>;
}

/// Everything a backend provides. Services take `Arc<dyn Store>`.
pub trait Store:
    IngestSink
    + MetaRepo
    + UserRepo
    + ChatRepo
    + MessageRepo
    + OutboxRepo
    + QuarantineRepo
    + KvRepo
    + SettingsRepo
    + BroadcastRepo
    + RetentionRepo
    + MaintenanceRepo
    + CheckRepo
    + BackupRepo
    + StatsRepo
    + Send
    + Sync
{
    /// Short backend name for logs and pages ("redb", "postgres").
    fn backend_name(&self) -> &'static str;
}

pub type SharedStore = Arc<dyn Store>;
