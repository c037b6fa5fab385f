//! Every table of the redb store, in one place. Names are part of the on-disk format: never
//! rename a table, add a new one in a migration instead.
//!
//! Primary tables hold versioned postcard records (see `codec`); secondary-index tables hold
//! `key -> ()` and are always written in the same write transaction as their rows.

use redb::TableDefinition;

/// `user_id -> User`
pub(crate) const USERS: TableDefinition<u64, &[u8]> = TableDefinition::new("users");
/// `chat_id -> Chat`
pub(crate) const CHATS: TableDefinition<i64, &[u8]> = TableDefinition::new("chats");
/// `(chat_id, user_id) -> Member`
pub(crate) const MEMBERS: TableDefinition<(i64, u64), &[u8]> = TableDefinition::new("members");
/// `(chat_id, message_id) -> StoredMessage`
pub(crate) const MESSAGES: TableDefinition<(i64, i32), &[u8]> = TableDefinition::new("messages");
/// `key -> bytes`: schema version, last committed update id, bot identity, next outbox seq.
pub(crate) const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// `update_id -> QuarantinedUpdate`
pub(crate) const QUARANTINE: TableDefinition<u32, &[u8]> = TableDefinition::new("quarantine");
/// `seq -> (chat_id, message_id, op)`: pending changes for the search index.
pub(crate) const SEARCH_OUTBOX: TableDefinition<u64, &[u8]> = TableDefinition::new("search_outbox");

/// Index `(user_id, date, chat_id, message_id)`: a user's messages by time.
pub(crate) const MESSAGES_BY_USER: TableDefinition<(u64, i64, i64, i32), ()> =
    TableDefinition::new("messages_by_user");
/// Index `(date, chat_id, message_id)`: messages by time (retention).
pub(crate) const MESSAGES_BY_TIME: TableDefinition<(i64, i64, i32), ()> =
    TableDefinition::new("messages_by_time");
/// Index `(last_activity_at, user_id)`: users by activity (newest last in key order).
pub(crate) const USERS_BY_ACTIVITY: TableDefinition<(i64, u64), ()> =
    TableDefinition::new("users_by_activity");
/// Index `(user_id, chat_id)`: the chats a user is (or was) a member of.
pub(crate) const MEMBER_CHATS: TableDefinition<(u64, i64), ()> =
    TableDefinition::new("member_chats");

/// Index `lowercased username -> user_id` (schema v2): the user last seen with a username.
pub(crate) const USERS_BY_USERNAME: TableDefinition<&str, u64> =
    TableDefinition::new("users_by_username");

/// Keys of the `meta` table.
pub(crate) mod meta_key {
    pub(crate) const SCHEMA_VERSION: &str = "schema_version";
    pub(crate) const LAST_UPDATE_ID: &str = "last_update_id";
    pub(crate) const BOT_IDENTITY: &str = "bot_identity";
    pub(crate) const NEXT_OUTBOX_SEQ: &str = "next_outbox_seq";
    /// The last compaction run (`store::MaintenanceRun`), for the dashboard after a restart.
    pub(crate) const LAST_MAINTENANCE: &str = "last_maintenance";
}

/// Something done to every table with its real key and value types (backup, restore).
pub(crate) trait TableVisitor {
    fn visit<K: redb::Key + 'static, V: redb::Value + 'static>(
        &mut self,
        def: TableDefinition<'static, K, V>,
    ) -> crate::store::StoreResult<()>;
}

/// Every table of the current schema, in backup order. A table added to the schema must be
/// added here too: a backup refuses a file that holds a table this list does not know (rather
/// than silently leaving it out), and a test checks the list against a fresh file.
pub(crate) fn visit_all(v: &mut impl TableVisitor) -> crate::store::StoreResult<()> {
    v.visit(META)?;
    v.visit(USERS)?;
    v.visit(CHATS)?;
    v.visit(MEMBERS)?;
    v.visit(MESSAGES)?;
    v.visit(QUARANTINE)?;
    v.visit(SEARCH_OUTBOX)?;
    v.visit(MESSAGES_BY_USER)?;
    v.visit(MESSAGES_BY_TIME)?;
    v.visit(USERS_BY_ACTIVITY)?;
    v.visit(MEMBER_CHATS)?;
    v.visit(USERS_BY_USERNAME)?;
    v.visit(KV)?;
    v.visit(KV_EXPIRY)?;
    v.visit(USER_SETTINGS)?;
    v.visit(USERS_NO_ANNOUNCEMENTS)?;
    v.visit(BROADCAST_JOBS)?;
    v.visit(BROADCAST_RECIPIENTS)?;
    v.visit(BROADCAST_PENDING)?;
    v.visit(BLOCKED_USERS)?;
    v.visit(CHAT_DAILY)?;
    v.visit(CHAT_USER_DAILY)?;
    v.visit(CHAT_HOURLY)?;
    v.visit(CHAT_KINDS)?;
    Ok(())
}

/// `key -> KvEntry` (schema v3): the key-value table with expiry (see `kv.rs`).
pub(crate) const KV: TableDefinition<&str, &[u8]> = TableDefinition::new("kv");
/// Index `(expires_at_ms, key)` (schema v3): keys by expiry, for the sweep.
pub(crate) const KV_EXPIRY: TableDefinition<(i64, &str), ()> = TableDefinition::new("kv_expiry");
/// `user_id -> UserSettings` (schema v3): only users who changed their settings.
pub(crate) const USER_SETTINGS: TableDefinition<u64, &[u8]> = TableDefinition::new("user_settings");
/// Index `user_id` (schema v3): users who turned announcements off.
pub(crate) const USERS_NO_ANNOUNCEMENTS: TableDefinition<u64, ()> =
    TableDefinition::new("users_no_announcements");
/// `job_id -> BroadcastJob` (schema v3).
pub(crate) const BROADCAST_JOBS: TableDefinition<u64, &[u8]> =
    TableDefinition::new("broadcast_jobs");
/// `(job_id, user_id) -> RecipientStatus` (schema v3): one row per recipient of a job.
pub(crate) const BROADCAST_RECIPIENTS: TableDefinition<(u64, u64), &[u8]> =
    TableDefinition::new("broadcast_recipients");
/// Index `(job_id, user_id)` of the Pending recipients (schema v3): the next batch is a range
/// scan.
pub(crate) const BROADCAST_PENDING: TableDefinition<(u64, u64), ()> =
    TableDefinition::new("broadcast_pending");
/// `user_id -> millis` (schema v3): users whose send answered 403 (blocked the bot), and when.
pub(crate) const BLOCKED_USERS: TableDefinition<u64, i64> = TableDefinition::new("blocked_users");

/// `(chat_id, day) -> ChatDay` (schema v3): messages, distinct posters, joins and leaves per
/// UTC day (days since the epoch). Counters: never lowered by retention or removal.
pub(crate) const CHAT_DAILY: TableDefinition<(i64, i64), &[u8]> =
    TableDefinition::new("chat_daily");
/// `(chat_id, day, user_id) -> messages` (schema v3): what each member posted each UTC day.
/// A row's existence is the member's presence that day (distinct active members, top posters
/// of a period).
pub(crate) const CHAT_USER_DAILY: TableDefinition<(i64, i64, u64), u64> =
    TableDefinition::new("chat_user_daily");
/// `(chat_id, hour_of_week) -> messages` (schema v3): 168 UTC buckets, Monday 00:00 = 0.
pub(crate) const CHAT_HOURLY: TableDefinition<(i64, u8), u64> = TableDefinition::new("chat_hourly");
/// `(chat_id, kind) -> messages` (schema v3): messages per `MessageKind::as_u8`.
pub(crate) const CHAT_KINDS: TableDefinition<(i64, u8), u64> = TableDefinition::new("chat_kinds");
