//! [`IngestSink`] for redb: a whole batch in one write transaction committed with
//! `Durability::Immediate`.
//!
//! Users, chats and members touched by the batch are kept in per-batch maps and written once at
//! the end (a user who posts fifty times in a batch is encoded and indexed once). Messages,
//! their index rows and outbox entries are written as they come, so a later update in the same
//! batch sees them (natural-key idempotence).

use super::RedbStore;
use super::codec;
use super::counters::{CounterTables, Counters};
use super::errors::store_err;
use super::meta;
use super::tables::{
    CHATS, MEMBER_CHATS, MEMBERS, MESSAGES, MESSAGES_BY_TIME, MESSAGES_BY_USER, META, QUARANTINE,
    SEARCH_OUTBOX, USERS, USERS_BY_ACTIVITY, USERS_BY_USERNAME,
};
use crate::domain::{
    Chat, ChatId, ChatProfile, IncomingMessage, IncomingUpdate, MAX_STORED_TEXT_BYTES, Member,
    MemberStatus, MessageId, OutboxEntry, OutboxOp, QuarantinedUpdate, StoredMessage, Timestamp,
    UpdateContent, UpdateId, User, UserId, UserProfile, clamp_text, normalize_username,
};
use crate::store::{IngestOutcome, IngestSink, StoreResult, is_redelivery};
use redb::{Database, Durability, ReadableTable, Table, WriteTransaction};
use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

impl IngestSink for RedbStore {
    fn ingest(&self, batch: &[IncomingUpdate]) -> StoreResult<IngestOutcome> {
        self.with_db(|db| ingest(db, batch))
    }
}

fn ingest(db: &Database, batch: &[IncomingUpdate]) -> StoreResult<IngestOutcome> {
    let mut txn = db.begin_write().map_err(store_err)?;
    txn.set_durability(Durability::Immediate)
        .map_err(store_err)?;
    let outcome = {
        let mut tables = Tables::open(&txn)?;
        let mut b = Batch::start(&mut tables)?;
        for update in batch {
            b.apply(update)?;
        }
        b.finish()?
    };
    txn.commit().map_err(store_err)?;
    tracing::debug!(
        updates = batch.len(),
        applied = outcome.applied.len(),
        duplicates = outcome.duplicates,
        inserted = outcome.messages_inserted,
        edited = outcome.messages_edited,
        "ingest batch committed"
    );
    Ok(outcome)
}

type Bytes = &'static [u8];

/// Every table a batch writes, open for the transaction.
struct Tables<'txn> {
    users: Table<'txn, u64, Bytes>,
    chats: Table<'txn, i64, Bytes>,
    members: Table<'txn, (i64, u64), Bytes>,
    messages: Table<'txn, (i64, i32), Bytes>,
    meta: Table<'txn, &'static str, Bytes>,
    quarantine: Table<'txn, u32, Bytes>,
    outbox: Table<'txn, u64, Bytes>,
    by_user: Table<'txn, (u64, i64, i64, i32), ()>,
    by_time: Table<'txn, (i64, i64, i32), ()>,
    by_activity: Table<'txn, (i64, u64), ()>,
    member_chats: Table<'txn, (u64, i64), ()>,
    by_username: Table<'txn, &'static str, u64>,
    counters: CounterTables<'txn>,
}

impl<'txn> Tables<'txn> {
    fn open(txn: &'txn WriteTransaction) -> StoreResult<Self> {
        Ok(Tables {
            users: txn.open_table(USERS).map_err(store_err)?,
            chats: txn.open_table(CHATS).map_err(store_err)?,
            members: txn.open_table(MEMBERS).map_err(store_err)?,
            messages: txn.open_table(MESSAGES).map_err(store_err)?,
            meta: txn.open_table(META).map_err(store_err)?,
            quarantine: txn.open_table(QUARANTINE).map_err(store_err)?,
            outbox: txn.open_table(SEARCH_OUTBOX).map_err(store_err)?,
            by_user: txn.open_table(MESSAGES_BY_USER).map_err(store_err)?,
            by_time: txn.open_table(MESSAGES_BY_TIME).map_err(store_err)?,
            by_activity: txn.open_table(USERS_BY_ACTIVITY).map_err(store_err)?,
            member_chats: txn.open_table(MEMBER_CHATS).map_err(store_err)?,
            by_username: txn.open_table(USERS_BY_USERNAME).map_err(store_err)?,
            counters: CounterTables::open(txn)?,
        })
    }
}

/// A user touched by this batch, with the activity its index row has on disk.
struct PendingUser {
    indexed_activity: Option<Timestamp>,
    /// The username on disk (its `users_by_username` row points here, unless taken over).
    indexed_username: Option<String>,
    user: User,
}

struct Batch<'a, 'txn> {
    t: &'a mut Tables<'txn>,
    last: Option<UpdateId>,
    next_seq: u64,
    users: BTreeMap<UserId, PendingUser>,
    chats: BTreeMap<ChatId, Chat>,
    members: BTreeMap<(ChatId, UserId), Member>,
    counters: Counters,
    outcome: IngestOutcome,
}

impl<'a, 'txn> Batch<'a, 'txn> {
    fn start(t: &'a mut Tables<'txn>) -> StoreResult<Self> {
        let last = meta::last_update_id(&t.meta)?;
        let next_seq = meta::next_outbox_seq(&t.meta)?;
        Ok(Batch {
            t,
            last,
            next_seq,
            users: BTreeMap::new(),
            chats: BTreeMap::new(),
            members: BTreeMap::new(),
            counters: Counters::default(),
            outcome: IngestOutcome::default(),
        })
    }

    fn apply(&mut self, update: &IncomingUpdate) -> StoreResult<()> {
        let id = update.update_id;
        if is_redelivery(id, self.last) {
            self.outcome.duplicates += 1;
            return Ok(());
        }
        match &update.content {
            UpdateContent::Message(m) => self.message(m, false)?,
            UpdateContent::Edit(m) => self.message(m, true)?,
            UpdateContent::Interaction { user, at, .. } => self.touch_user(user, *at, true)?,
            UpdateContent::Ignored { .. } => {}
            UpdateContent::Quarantined { reason, raw_json } => {
                let record = QuarantinedUpdate {
                    update_id: id,
                    received_at: update.received_at,
                    reason: reason.clone(),
                    raw_json: raw_json.clone(),
                };
                let bytes = codec::encode_quarantined(&record)?;
                self.t
                    .quarantine
                    .insert(id.0, bytes.as_slice())
                    .map_err(store_err)?;
                self.outcome.quarantined += 1;
            }
        }
        // An applied id is either above the last one or far below it (Telegram restarted its
        // sequence): either way it is the new reference for spotting redeliveries.
        self.last = Some(id);
        self.outcome.applied.push(id);
        Ok(())
    }

    /// A new message (`edit == false`) or an edit. A message already stored under the same key
    /// is updated in place without counting it again; an edit of an unknown message is stored
    /// as new.
    fn message(&mut self, m: &IncomingMessage, edit: bool) -> StoreResult<()> {
        let chat_id = m.chat.id;
        let at = if edit {
            m.edit_date.unwrap_or(m.date)
        } else {
            m.date
        };
        self.touch_chat(&m.chat, at)?;
        if let Some(from) = &m.from {
            self.touch_user(from, at, true)?;
            self.touch_member(chat_id, from.id, at, Some(MemberStatus::Active))?;
        }
        for joined in &m.joined {
            self.touch_user(joined, m.date, true)?;
            self.touch_member(chat_id, joined.id, m.date, Some(MemberStatus::Active))?;
        }
        if let Some(left) = &m.left {
            self.touch_user(left, m.date, false)?;
            self.touch_member(chat_id, left.id, m.date, Some(MemberStatus::Left))?;
        }

        let key = (chat_id.0, m.message_id.0);
        let text = clamp_text(m.text.clone(), MAX_STORED_TEXT_BYTES);
        let existing = match self.t.messages.get(key).map_err(store_err)? {
            Some(g) => Some(codec::decode_message(chat_id, m.message_id, g.value())?),
            None => None,
        };
        let seq = self.next_seq;
        self.next_seq += 1;
        match existing {
            Some(mut stored) => {
                stored.text = text;
                stored.kind = m.kind;
                stored.edit_date = m.edit_date.or(stored.edit_date);
                stored.seq = seq;
                let bytes = codec::encode_message(&stored)?;
                self.t
                    .messages
                    .insert(key, bytes.as_slice())
                    .map_err(store_err)?;
                self.outcome.messages_edited += 1;
            }
            None => {
                let stored = StoredMessage {
                    chat_id,
                    message_id: m.message_id,
                    user_id: m.from.as_ref().map(|u| u.id),
                    date: m.date,
                    edit_date: m.edit_date,
                    kind: m.kind,
                    text,
                    reply_to: m.reply_to,
                    thread_id: m.thread_id,
                    seq,
                };
                self.insert_message(&stored)?;
                self.counters.message(&stored, m.joined.len());
                self.outcome.messages_inserted += 1;
            }
        }
        self.append_outbox(seq, chat_id, m.message_id, OutboxOp::Upsert)
    }

    fn insert_message(&mut self, m: &StoredMessage) -> StoreResult<()> {
        let (chat, msg, date) = (m.chat_id.0, m.message_id.0, m.date.0);
        let bytes = codec::encode_message(m)?;
        self.t
            .messages
            .insert((chat, msg), bytes.as_slice())
            .map_err(store_err)?;
        self.t
            .by_time
            .insert((date, chat, msg), ())
            .map_err(store_err)?;
        if let Some(user) = m.user_id {
            self.t
                .by_user
                .insert((user.0, date, chat, msg), ())
                .map_err(store_err)?;
        }
        if m.kind.is_service() {
            return Ok(());
        }
        if let Some(chat) = self.chats.get_mut(&m.chat_id) {
            chat.message_count += 1;
        }
        if let Some(user) = m.user_id {
            if let Some(p) = self.users.get_mut(&user) {
                p.user.message_count += 1;
            }
            if let Some(member) = self.members.get_mut(&(m.chat_id, user)) {
                member.message_count += 1;
            }
        }
        Ok(())
    }

    fn append_outbox(
        &mut self,
        seq: u64,
        chat_id: ChatId,
        message_id: MessageId,
        op: OutboxOp,
    ) -> StoreResult<()> {
        let entry = OutboxEntry {
            seq,
            chat_id,
            message_id,
            op,
        };
        let bytes = codec::encode_outbox(&entry)?;
        self.t
            .outbox
            .insert(seq, bytes.as_slice())
            .map_err(store_err)?;
        Ok(())
    }

    /// Refresh a user's profile from an update seen at `at`; `activity` also moves their last
    /// activity forward (and marks them active).
    fn touch_user(&mut self, p: &UserProfile, at: Timestamp, activity: bool) -> StoreResult<()> {
        let pending = match self.users.entry(p.id) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                let stored = match self.t.users.get(p.id.0).map_err(store_err)? {
                    Some(g) => Some(codec::decode_user(p.id, g.value())?),
                    None => None,
                };
                let pending = match stored {
                    Some(user) => PendingUser {
                        indexed_activity: Some(user.last_activity_at),
                        indexed_username: user.username.clone(),
                        user,
                    },
                    None => PendingUser {
                        indexed_activity: None,
                        indexed_username: None,
                        user: User {
                            id: p.id,
                            is_bot: p.is_bot,
                            first_name: String::new(),
                            last_name: None,
                            username: None,
                            language_code: None,
                            is_active: true,
                            blocked_bot: false,
                            created_at: at,
                            last_activity_at: at,
                            message_count: 0,
                        },
                    },
                };
                e.insert(pending)
            }
        };
        let user = &mut pending.user;
        user.is_bot = p.is_bot;
        user.first_name = p.first_name.clone();
        user.last_name = p.last_name.clone();
        user.username = p.username.clone();
        if p.language_code.is_some() {
            user.language_code = p.language_code.clone();
        }
        if activity {
            user.is_active = true;
            user.last_activity_at = user.last_activity_at.max(at);
        }
        Ok(())
    }

    fn touch_chat(&mut self, p: &ChatProfile, at: Timestamp) -> StoreResult<()> {
        let chat = match self.chats.entry(p.id) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                let stored = match self.t.chats.get(p.id.0).map_err(store_err)? {
                    Some(g) => Some(codec::decode_chat(p.id, g.value())?),
                    None => None,
                };
                e.insert(stored.unwrap_or(Chat {
                    id: p.id,
                    kind: p.kind,
                    title: None,
                    username: None,
                    is_forum: false,
                    retention_days: None,
                    created_at: at,
                    last_activity_at: at,
                    message_count: 0,
                }))
            }
        };
        chat.kind = p.kind;
        chat.title = p.title.clone();
        chat.username = p.username.clone();
        chat.is_forum = p.is_forum;
        chat.last_activity_at = chat.last_activity_at.max(at);
        Ok(())
    }

    fn touch_member(
        &mut self,
        chat: ChatId,
        user: UserId,
        at: Timestamp,
        status: Option<MemberStatus>,
    ) -> StoreResult<()> {
        let member = match self.members.entry((chat, user)) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                let stored = match self.t.members.get((chat.0, user.0)).map_err(store_err)? {
                    Some(g) => Some(codec::decode_member(chat, user, g.value())?),
                    None => None,
                };
                e.insert(stored.unwrap_or(Member {
                    chat_id: chat,
                    user_id: user,
                    status: MemberStatus::Active,
                    first_seen: at,
                    last_seen: at,
                    message_count: 0,
                }))
            }
        };
        member.last_seen = member.last_seen.max(at);
        if let Some(status) = status {
            member.status = status;
        }
        Ok(())
    }

    /// Write the pending users, chats and members with their index rows, and the meta values.
    fn finish(self) -> StoreResult<IngestOutcome> {
        let Batch {
            t,
            last,
            next_seq,
            users,
            chats,
            members,
            counters,
            mut outcome,
        } = self;
        counters.flush(&mut t.counters)?;
        for (id, p) in users {
            let bytes = codec::encode_user(&p.user)?;
            t.users.insert(id.0, bytes.as_slice()).map_err(store_err)?;
            let now = p.user.last_activity_at;
            if p.indexed_activity != Some(now) {
                if let Some(old) = p.indexed_activity {
                    t.by_activity.remove((old.0, id.0)).map_err(store_err)?;
                }
                t.by_activity.insert((now.0, id.0), ()).map_err(store_err)?;
            }
            index_username(&mut t.by_username, id, p.indexed_username, &p.user.username)?;
        }
        for (id, chat) in chats {
            let bytes = codec::encode_chat(&chat)?;
            t.chats.insert(id.0, bytes.as_slice()).map_err(store_err)?;
        }
        for ((chat, user), member) in members {
            let bytes = codec::encode_member(&member)?;
            t.members
                .insert((chat.0, user.0), bytes.as_slice())
                .map_err(store_err)?;
            t.member_chats
                .insert((user.0, chat.0), ())
                .map_err(store_err)?;
        }
        if let Some(last) = last {
            meta::put_last_update_id(&mut t.meta, last)?;
        }
        meta::put_next_outbox_seq(&mut t.meta, next_seq)?;
        outcome.last_update_id = last;
        Ok(outcome)
    }
}

/// Keep `users_by_username` pointing at the user last seen with each username: a new name points
/// here (taking it over from whoever had it), an old one is removed if it still points here.
fn index_username(
    table: &mut Table<'_, &'static str, u64>,
    id: UserId,
    old: Option<String>,
    new: &Option<String>,
) -> StoreResult<()> {
    let old = old.as_deref().map(normalize_username);
    let new = new.as_deref().map(normalize_username);
    if let Some(old) = old
        .as_deref()
        .filter(|o| new.as_deref() != Some(*o) && !o.is_empty())
    {
        let points_here = table.get(old).map_err(store_err)?.map(|g| g.value()) == Some(id.0);
        if points_here {
            table.remove(old).map_err(store_err)?;
        }
    }
    if let Some(new) = new.as_deref().filter(|n| !n.is_empty()) {
        let current = table.get(new).map_err(store_err)?.map(|g| g.value());
        if current != Some(id.0) {
            table.insert(new, id.0).map_err(store_err)?;
        }
    }
    Ok(())
}
