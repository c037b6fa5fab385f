//! Test hooks: write raw values to simulate files from a newer tgbox or damaged records. Hidden
//! from the docs; nothing in the application calls them.

use super::RedbStore;
use super::errors::store_err;
use super::meta;
use super::tables::{
    CHATS, MEMBER_CHATS, MESSAGES, MESSAGES_BY_TIME, MESSAGES_BY_USER, META, USERS,
    USERS_BY_ACTIVITY, USERS_BY_USERNAME,
};
use super::tables::{KV, KV_EXPIRY, USER_SETTINGS, USERS_NO_ANNOUNCEMENTS};
use crate::domain::{ChatId, MessageId, UserId};
use crate::store::StoreResult;

/// Which stored value to overwrite with raw bytes.
#[doc(hidden)]
#[derive(Clone, Debug)]
pub enum RawKey {
    User(UserId),
    Chat(ChatId),
    Message(ChatId, MessageId),
    Meta(String),
}

/// One secondary-index row, to remove or add behind the store's back (`tgbox check` tests).
#[doc(hidden)]
#[derive(Clone, Debug)]
pub enum IndexRow {
    /// (date, chat, message)
    MessagesByTime(i64, ChatId, MessageId),
    /// (user, date, chat, message)
    MessagesByUser(UserId, i64, ChatId, MessageId),
    /// (user, chat)
    MemberChats(UserId, ChatId),
    /// (last activity, user)
    UsersByActivity(i64, UserId),
    /// (lowercased username, user)
    UsersByUsername(String, UserId),
}

impl RedbStore {
    /// Insert (`present`) or remove one index row without touching its primary row: an
    /// inconsistency for `tgbox check` to find.
    #[doc(hidden)]
    pub fn set_index_row_for_test(&self, row: IndexRow, present: bool) -> StoreResult<()> {
        self.with_db(|db| {
            let txn = db.begin_write().map_err(store_err)?;
            match &row {
                IndexRow::MessagesByTime(d, c, m) => {
                    let mut t = txn.open_table(MESSAGES_BY_TIME).map_err(store_err)?;
                    let k = (*d, c.0, m.0);
                    if present {
                        t.insert(k, ()).map(|_| ())
                    } else {
                        t.remove(k).map(|_| ())
                    }
                    .map_err(store_err)?;
                }
                IndexRow::MessagesByUser(u, d, c, m) => {
                    let mut t = txn.open_table(MESSAGES_BY_USER).map_err(store_err)?;
                    let k = (u.0, *d, c.0, m.0);
                    if present {
                        t.insert(k, ()).map(|_| ())
                    } else {
                        t.remove(k).map(|_| ())
                    }
                    .map_err(store_err)?;
                }
                IndexRow::MemberChats(u, c) => {
                    let mut t = txn.open_table(MEMBER_CHATS).map_err(store_err)?;
                    let k = (u.0, c.0);
                    if present {
                        t.insert(k, ()).map(|_| ())
                    } else {
                        t.remove(k).map(|_| ())
                    }
                    .map_err(store_err)?;
                }
                IndexRow::UsersByActivity(at, u) => {
                    let mut t = txn.open_table(USERS_BY_ACTIVITY).map_err(store_err)?;
                    let k = (*at, u.0);
                    if present {
                        t.insert(k, ()).map(|_| ())
                    } else {
                        t.remove(k).map(|_| ())
                    }
                    .map_err(store_err)?;
                }
                IndexRow::UsersByUsername(name, u) => {
                    let mut t = txn.open_table(USERS_BY_USERNAME).map_err(store_err)?;
                    if present {
                        t.insert(name.as_str(), u.0).map(|_| ())
                    } else {
                        t.remove(name.as_str()).map(|_| ())
                    }
                    .map_err(store_err)?;
                }
            }
            txn.commit().map_err(store_err)
        })
    }

    /// Record `version` as the schema version (to test that a newer file is refused on open).
    #[doc(hidden)]
    pub fn set_schema_version_for_test(&self, version: u32) -> StoreResult<()> {
        self.with_db(|db| {
            let txn = db.begin_write().map_err(store_err)?;
            {
                let mut table = txn.open_table(META).map_err(store_err)?;
                meta::put_schema_version(&mut table, version)?;
            }
            txn.commit().map_err(store_err)
        })
    }

    /// Overwrite one stored value with `bytes` (to test that damaged records are reported).
    #[doc(hidden)]
    pub fn overwrite_raw_for_test(&self, key: RawKey, bytes: &[u8]) -> StoreResult<()> {
        self.with_db(|db| {
            let txn = db.begin_write().map_err(store_err)?;
            match &key {
                RawKey::User(id) => {
                    let mut t = txn.open_table(USERS).map_err(store_err)?;
                    t.insert(id.0, bytes).map_err(store_err)?;
                }
                RawKey::Chat(id) => {
                    let mut t = txn.open_table(CHATS).map_err(store_err)?;
                    t.insert(id.0, bytes).map_err(store_err)?;
                }
                RawKey::Message(chat, msg) => {
                    let mut t = txn.open_table(MESSAGES).map_err(store_err)?;
                    t.insert((chat.0, msg.0), bytes).map_err(store_err)?;
                }
                RawKey::Meta(name) => {
                    let mut t = txn.open_table(META).map_err(store_err)?;
                    t.insert(name.as_str(), bytes).map_err(store_err)?;
                }
            }
            txn.commit().map_err(store_err)
        })
    }

    /// Turn this file back into a schema v1 file: drop the tables v2 added and record version
    /// 1 (to test the v1 -> v2 migration on data written by this build).
    #[doc(hidden)]
    pub fn downgrade_to_v1_for_test(&self) -> StoreResult<()> {
        self.with_db(|db| {
            let txn = db.begin_write().map_err(store_err)?;
            txn.delete_table(USERS_BY_USERNAME).map_err(store_err)?;
            // And every table of later versions.
            txn.delete_table(KV).map_err(store_err)?;
            txn.delete_table(KV_EXPIRY).map_err(store_err)?;
            txn.delete_table(USER_SETTINGS).map_err(store_err)?;
            txn.delete_table(USERS_NO_ANNOUNCEMENTS)
                .map_err(store_err)?;
            {
                let mut table = txn.open_table(META).map_err(store_err)?;
                meta::put_schema_version(&mut table, 1)?;
            }
            txn.commit().map_err(store_err)
        })
    }
}

/// Whether the database in `dir` would need a repair on open, i.e. it was not closed cleanly.
/// A needed repair is aborted, so the file is left as it was. For shutdown tests.
#[doc(hidden)]
pub fn needs_repair_for_test(dir: &std::path::Path) -> Result<bool, String> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let called = Arc::new(AtomicBool::new(false));
    let seen = called.clone();
    let mut builder = redb::Database::builder();
    builder.set_repair_callback(move |session| {
        seen.store(true, Ordering::SeqCst);
        session.abort();
    });
    match builder.open(dir.join(super::FILE_NAME)) {
        Ok(db) => {
            drop(db);
            Ok(called.load(Ordering::SeqCst))
        }
        Err(redb::DatabaseError::RepairAborted) => Ok(true),
        Err(e) => Err(e.to_string()),
    }
}
