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
    BotIdentity, Chat, ChatId, Member, MessageId, OutboxEntry, QuarantinedUpdate, StoredMessage,
    Timestamp, UpdateId, User, UserId,
};
use std::sync::Arc;

pub type StoreResult<T> = Result<T, StoreError>;

/// The schema version this build writes. Older data is migrated on open; newer is refused.
pub const SCHEMA_VERSION: u32 = 2;

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

pub trait QuarantineRepo {
    fn quarantined(&self, limit: usize) -> StoreResult<Vec<QuarantinedUpdate>>;
}

/// Compaction and the record of the last maintenance run.
pub trait MaintenanceRepo {
    /// Give free space inside the file back to the file system. Needs the store to itself:
    /// it waits for store calls in flight, and every other call (ingest included) waits until it
    /// is done; the report says for how long.
    fn compact(&self) -> StoreResult<CompactionReport>;
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
    + MaintenanceRepo
    + CheckRepo
    + BackupRepo
    + Send
    + Sync
{
    /// Short backend name for logs and pages ("redb", "postgres").
    fn backend_name(&self) -> &'static str;
}

pub type SharedStore = Arc<dyn Store>;
