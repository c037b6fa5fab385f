//! The read side (and the two small maintenance writes: `bind_bot`, `prune_outbox`). Every call
//! is one transaction; lists go through range scans of a primary table or an index, never a
//! full scan with a filter.

use super::RedbStore;
use super::codec;
use super::errors::store_err;
use super::meta;
use super::tables::{
    CHATS, MEMBER_CHATS, MEMBERS, MESSAGES, MESSAGES_BY_TIME, MESSAGES_BY_USER, META, QUARANTINE,
    SEARCH_OUTBOX, USERS, USERS_BY_ACTIVITY, USERS_BY_USERNAME,
};
use crate::domain::{
    BotIdentity, Chat, ChatId, Member, MessageId, OutboxEntry, QuarantinedUpdate, StoredMessage,
    Timestamp, UpdateId, User, UserId, normalize_username,
};
use crate::store::{
    ChatRepo, MessageRepo, MetaRepo, OutboxRepo, QuarantineRepo, StoreCounts, StoreError,
    StoreResult, TableStats, UserRepo,
};
use redb::{Durability, ReadableTable, ReadableTableMetadata, TableHandle};
use std::ops::Bound;

fn describe(identity: &BotIdentity) -> String {
    format!("@{} (id {})", identity.username, identity.bot_id)
}

impl MetaRepo for RedbStore {
    fn schema_version(&self) -> StoreResult<u32> {
        self.read(|txn| meta::schema_version(&txn.open_table(META).map_err(store_err)?))
    }

    fn last_update_id(&self) -> StoreResult<Option<UpdateId>> {
        self.read(|txn| meta::last_update_id(&txn.open_table(META).map_err(store_err)?))
    }

    fn bot_identity(&self) -> StoreResult<Option<BotIdentity>> {
        self.read(|txn| meta::bot_identity(&txn.open_table(META).map_err(store_err)?))
    }

    fn bind_bot(&self, identity: &BotIdentity, force: bool) -> StoreResult<()> {
        self.with_db(|db| {
            let mut txn = db.begin_write().map_err(store_err)?;
            txn.set_durability(Durability::Immediate)
                .map_err(store_err)?;
            {
                let mut table = txn.open_table(META).map_err(store_err)?;
                match meta::bot_identity(&table)? {
                    Some(recorded) if recorded == *identity => return Ok(()),
                    Some(recorded) if recorded.bot_id != identity.bot_id && !force => {
                        return Err(StoreError::ForeignBot {
                            recorded: describe(&recorded),
                            actual: describe(identity),
                        });
                    }
                    Some(recorded) if recorded.bot_id != identity.bot_id => {
                        tracing::warn!(
                            recorded = %describe(&recorded),
                            actual = %describe(identity),
                            "taking over a data directory of another bot (forced)"
                        );
                    }
                    _ => {}
                }
                meta::put_bot_identity(&mut table, identity)?;
            }
            txn.commit().map_err(store_err)
        })
    }

    fn counts(&self) -> StoreResult<StoreCounts> {
        self.read(|txn| {
            let len = |n: Result<u64, redb::StorageError>| n.map_err(store_err);
            Ok(StoreCounts {
                users: len(txn.open_table(USERS).map_err(store_err)?.len())?,
                chats: len(txn.open_table(CHATS).map_err(store_err)?.len())?,
                members: len(txn.open_table(MEMBERS).map_err(store_err)?.len())?,
                messages: len(txn.open_table(MESSAGES).map_err(store_err)?.len())?,
                outbox_pending: len(txn.open_table(SEARCH_OUTBOX).map_err(store_err)?.len())?,
                quarantined: len(txn.open_table(QUARANTINE).map_err(store_err)?.len())?,
            })
        })
    }

    fn table_stats(&self) -> StoreResult<Vec<TableStats>> {
        self.read(|txn| {
            let mut out = Vec::new();
            for handle in txn.list_tables().map_err(store_err)? {
                let name = handle.name().to_string();
                let table = txn.open_untyped_table(handle).map_err(store_err)?;
                let stats = table.stats().map_err(store_err)?;
                out.push(TableStats {
                    name,
                    rows: table.len().map_err(store_err)?,
                    stored_bytes: stats.stored_bytes(),
                    metadata_bytes: stats.metadata_bytes(),
                    fragmented_bytes: stats.fragmented_bytes(),
                });
            }
            out.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(out)
        })
    }
}

impl UserRepo for RedbStore {
    fn forget_user(&self, id: UserId) -> StoreResult<crate::store::ForgottenUser> {
        self.forget_user_txn(id)
    }

    fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        self.read(|txn| {
            let users = txn.open_table(USERS).map_err(store_err)?;
            let found = users.get(id.0).map_err(store_err)?;
            found.map(|g| codec::decode_user(id, g.value())).transpose()
        })
    }

    fn users_by_activity(&self, limit: usize) -> StoreResult<Vec<User>> {
        self.read(|txn| {
            let index = txn.open_table(USERS_BY_ACTIVITY).map_err(store_err)?;
            let users = txn.open_table(USERS).map_err(store_err)?;
            let mut out = Vec::with_capacity(limit.min(1024));
            for row in index.iter().map_err(store_err)?.rev() {
                if out.len() >= limit {
                    break;
                }
                let (key, _) = row.map_err(store_err)?;
                let (_, user) = key.value();
                match users.get(user).map_err(store_err)? {
                    Some(g) => out.push(codec::decode_user(UserId(user), g.value())?),
                    None => tracing::warn!(user, "users_by_activity row without a user"),
                }
            }
            Ok(out)
        })
    }

    fn user_by_username(&self, username: &str) -> StoreResult<Option<User>> {
        let key = normalize_username(username);
        if key.is_empty() {
            return Ok(None);
        }
        self.read(|txn| {
            let index = txn.open_table(USERS_BY_USERNAME).map_err(store_err)?;
            let Some(id) = index
                .get(key.as_str())
                .map_err(store_err)?
                .map(|g| g.value())
            else {
                return Ok(None);
            };
            let users = txn.open_table(USERS).map_err(store_err)?;
            let found = users.get(id).map_err(store_err)?;
            found
                .map(|g| codec::decode_user(UserId(id), g.value()))
                .transpose()
        })
    }
}

impl ChatRepo for RedbStore {
    fn chat(&self, id: ChatId) -> StoreResult<Option<Chat>> {
        self.read(|txn| {
            let chats = txn.open_table(CHATS).map_err(store_err)?;
            let found = chats.get(id.0).map_err(store_err)?;
            found.map(|g| codec::decode_chat(id, g.value())).transpose()
        })
    }

    fn chats(&self) -> StoreResult<Vec<Chat>> {
        self.read(|txn| {
            let chats = txn.open_table(CHATS).map_err(store_err)?;
            let mut out = Vec::new();
            for row in chats.iter().map_err(store_err)? {
                let (k, v) = row.map_err(store_err)?;
                out.push(codec::decode_chat(ChatId(k.value()), v.value())?);
            }
            Ok(out)
        })
    }

    fn member(&self, chat: ChatId, user: UserId) -> StoreResult<Option<Member>> {
        self.read(|txn| {
            let members = txn.open_table(MEMBERS).map_err(store_err)?;
            let found = members.get((chat.0, user.0)).map_err(store_err)?;
            found
                .map(|g| codec::decode_member(chat, user, g.value()))
                .transpose()
        })
    }

    fn chats_of_user(&self, user: UserId) -> StoreResult<Vec<ChatId>> {
        self.read(|txn| {
            let index = txn.open_table(MEMBER_CHATS).map_err(store_err)?;
            let mut out = Vec::new();
            for row in index
                .range((user.0, i64::MIN)..=(user.0, i64::MAX))
                .map_err(store_err)?
            {
                let (k, _) = row.map_err(store_err)?;
                out.push(ChatId(k.value().1));
            }
            Ok(out)
        })
    }

    fn members_of(&self, chat: ChatId, limit: usize) -> StoreResult<Vec<Member>> {
        self.read(|txn| {
            let members = txn.open_table(MEMBERS).map_err(store_err)?;
            let mut out = Vec::with_capacity(limit.min(1024));
            for row in members
                .range((chat.0, u64::MIN)..=(chat.0, u64::MAX))
                .map_err(store_err)?
            {
                if out.len() >= limit {
                    break;
                }
                let (k, v) = row.map_err(store_err)?;
                let (_, user) = k.value();
                out.push(codec::decode_member(chat, UserId(user), v.value())?);
            }
            Ok(out)
        })
    }
}

impl MessageRepo for RedbStore {
    fn message(&self, chat: ChatId, id: MessageId) -> StoreResult<Option<StoredMessage>> {
        self.read(|txn| {
            let messages = txn.open_table(MESSAGES).map_err(store_err)?;
            let found = messages.get((chat.0, id.0)).map_err(store_err)?;
            found
                .map(|g| codec::decode_message(chat, id, g.value()))
                .transpose()
        })
    }

    fn messages_page(
        &self,
        chat: Option<ChatId>,
        after: Option<(ChatId, MessageId)>,
        limit: usize,
    ) -> StoreResult<Vec<StoredMessage>> {
        let after = after.map(|(c, m)| (c.0, m.0));
        let (lower, upper) = match chat {
            None => (
                after.map_or(Bound::Unbounded, Bound::Excluded),
                Bound::Unbounded,
            ),
            Some(c) => {
                let first = (c.0, i32::MIN);
                let lower = match after {
                    Some(a) if a >= first => Bound::Excluded(a),
                    _ => Bound::Included(first),
                };
                (lower, Bound::Included((c.0, i32::MAX)))
            }
        };
        if limit == 0 || is_empty_range(&lower, &upper) {
            return Ok(Vec::new());
        }
        self.read(|txn| {
            let messages = txn.open_table(MESSAGES).map_err(store_err)?;
            let mut out = Vec::with_capacity(limit.min(1024));
            for row in messages.range((lower, upper)).map_err(store_err)? {
                if out.len() >= limit {
                    break;
                }
                let (k, v) = row.map_err(store_err)?;
                let (c, m) = k.value();
                out.push(codec::decode_message(ChatId(c), MessageId(m), v.value())?);
            }
            Ok(out)
        })
    }

    fn messages_by_user(&self, user: UserId, limit: usize) -> StoreResult<Vec<StoredMessage>> {
        self.read(|txn| {
            let index = txn.open_table(MESSAGES_BY_USER).map_err(store_err)?;
            let messages = txn.open_table(MESSAGES).map_err(store_err)?;
            let range =
                (user.0, i64::MIN, i64::MIN, i32::MIN)..=(user.0, i64::MAX, i64::MAX, i32::MAX);
            let mut out = Vec::with_capacity(limit.min(1024));
            for row in index.range(range).map_err(store_err)?.rev() {
                if out.len() >= limit {
                    break;
                }
                let (k, _) = row.map_err(store_err)?;
                let (_, _, c, m) = k.value();
                match messages.get((c, m)).map_err(store_err)? {
                    Some(g) => out.push(codec::decode_message(ChatId(c), MessageId(m), g.value())?),
                    None => tracing::warn!(
                        chat = c,
                        message = m,
                        "messages_by_user row without a message"
                    ),
                }
            }
            Ok(out)
        })
    }

    fn recent_messages(&self, chat: ChatId, limit: usize) -> StoreResult<Vec<StoredMessage>> {
        self.read(|txn| {
            let messages = txn.open_table(MESSAGES).map_err(store_err)?;
            let mut out = Vec::with_capacity(limit.min(1024));
            for row in messages
                .range((chat.0, i32::MIN)..=(chat.0, i32::MAX))
                .map_err(store_err)?
                .rev()
            {
                if out.len() >= limit {
                    break;
                }
                let (k, v) = row.map_err(store_err)?;
                let (c, m) = k.value();
                out.push(codec::decode_message(ChatId(c), MessageId(m), v.value())?);
            }
            Ok(out)
        })
    }

    fn messages_older_than(
        &self,
        before: Timestamp,
        limit: usize,
    ) -> StoreResult<Vec<(ChatId, MessageId)>> {
        self.read(|txn| {
            let index = txn.open_table(MESSAGES_BY_TIME).map_err(store_err)?;
            let mut out = Vec::with_capacity(limit.min(1024));
            for row in index
                .range(..(before.0, i64::MIN, i32::MIN))
                .map_err(store_err)?
            {
                if out.len() >= limit {
                    break;
                }
                let (k, _) = row.map_err(store_err)?;
                let (_, c, m) = k.value();
                out.push((ChatId(c), MessageId(m)));
            }
            Ok(out)
        })
    }

    fn delete_messages(&self, keys: &[(ChatId, MessageId)]) -> StoreResult<u64> {
        self.delete_messages_txn(keys)
    }
}

fn is_empty_range<T: PartialOrd>(lower: &Bound<T>, upper: &Bound<T>) -> bool {
    match (lower, upper) {
        (Bound::Included(l), Bound::Included(u)) => l > u,
        (Bound::Included(l) | Bound::Excluded(l), Bound::Excluded(u))
        | (Bound::Excluded(l), Bound::Included(u)) => l >= u,
        _ => false,
    }
}

impl OutboxRepo for RedbStore {
    fn outbox_after(&self, after: u64, limit: usize) -> StoreResult<Vec<OutboxEntry>> {
        self.read(|txn| {
            let outbox = txn.open_table(SEARCH_OUTBOX).map_err(store_err)?;
            let mut out = Vec::with_capacity(limit.min(1024));
            let range: (Bound<u64>, Bound<u64>) = (Bound::Excluded(after), Bound::Unbounded);
            for row in outbox.range(range).map_err(store_err)? {
                if out.len() >= limit {
                    break;
                }
                let (k, v) = row.map_err(store_err)?;
                out.push(codec::decode_outbox(k.value(), v.value())?);
            }
            Ok(out)
        })
    }

    fn prune_outbox(&self, upto: u64) -> StoreResult<u64> {
        self.with_db(|db| {
            let mut txn = db.begin_write().map_err(store_err)?;
            txn.set_durability(Durability::Immediate)
                .map_err(store_err)?;
            let removed = {
                let mut outbox = txn.open_table(SEARCH_OUTBOX).map_err(store_err)?;
                let before = outbox.len().map_err(store_err)?;
                outbox.retain_in(..=upto, |_, _| false).map_err(store_err)?;
                before.saturating_sub(outbox.len().map_err(store_err)?)
            };
            txn.commit().map_err(store_err)?;
            Ok(removed)
        })
    }

    fn outbox_head(&self) -> StoreResult<u64> {
        self.read(|txn| {
            let next = meta::next_outbox_seq(&txn.open_table(META).map_err(store_err)?)?;
            Ok(next.saturating_sub(1))
        })
    }
}

impl QuarantineRepo for RedbStore {
    fn quarantined(&self, limit: usize) -> StoreResult<Vec<QuarantinedUpdate>> {
        self.read(|txn| {
            let table = txn.open_table(QUARANTINE).map_err(store_err)?;
            let mut out = Vec::with_capacity(limit.min(1024));
            for row in table.iter().map_err(store_err)? {
                if out.len() >= limit {
                    break;
                }
                let (k, v) = row.map_err(store_err)?;
                out.push(codec::decode_quarantined(UpdateId(k.value()), v.value())?);
            }
            Ok(out)
        })
    }
}
