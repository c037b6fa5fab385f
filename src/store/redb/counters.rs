//! Statistics counters, kept in the ingest transaction.
//!
//! A batch accumulates its counts in memory ([`Counters`]) and [`Counters::flush`] writes each
//! touched counter row once at the end, like users, chats and members. Four tables (see
//! `tables.rs`): `chat_daily` (per chat and UTC day: messages, distinct posters, joins, leaves),
//! `chat_user_daily` (per chat, day and member: messages; a new row is a new distinct poster of
//! that day), `chat_hourly` (per chat and UTC hour of the week) and `chat_kinds` (per chat and
//! message kind). Service messages are not counted as posts; edits never reach here. Nothing
//! lowers a counter: retention and `delete_messages` leave them alone.
//!
//! [`backfill`] fills the counters from the stored messages when the tables are created by the
//! v2 -> v3 migration (messages already removed by retention cannot be counted then).

use super::codec::{self, V1};
use super::errors::store_err;
use super::tables::{CHAT_DAILY, CHAT_HOURLY, CHAT_KINDS, CHAT_USER_DAILY, MESSAGES};
use crate::domain::{ChatDay, ChatId, Day, MessageId, MessageKind, StoredMessage, hour_of_week};
use crate::store::StoreResult;
use redb::{ReadableTable, Table, WriteTransaction};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const DAILY: &str = "chat_daily";

#[derive(Serialize, Deserialize)]
struct ChatDayV1 {
    messages: u64,
    active_members: u64,
    joins: u64,
    leaves: u64,
}

pub(crate) fn encode_day(d: &ChatDay) -> StoreResult<Vec<u8>> {
    codec::encode(
        DAILY,
        V1,
        &ChatDayV1 {
            messages: d.messages,
            active_members: d.active_members,
            joins: d.joins,
            leaves: d.leaves,
        },
    )
}

pub(crate) fn decode_day(day: Day, bytes: &[u8]) -> StoreResult<ChatDay> {
    let (version, rest) = codec::split(DAILY, bytes)?;
    match version {
        V1 => {
            let r: ChatDayV1 = codec::body(DAILY, rest)?;
            Ok(ChatDay {
                day,
                messages: r.messages,
                active_members: r.active_members,
                joins: r.joins,
                leaves: r.leaves,
            })
        }
        v => Err(codec::unknown_version(DAILY, v)),
    }
}

type Bytes = &'static [u8];

/// The counter tables, open in the ingest transaction.
pub(crate) struct CounterTables<'txn> {
    daily: Table<'txn, (i64, i64), Bytes>,
    user_daily: Table<'txn, (i64, i64, u64), u64>,
    hourly: Table<'txn, (i64, u8), u64>,
    kinds: Table<'txn, (i64, u8), u64>,
}

impl<'txn> CounterTables<'txn> {
    pub(crate) fn open(txn: &'txn WriteTransaction) -> StoreResult<Self> {
        Ok(CounterTables {
            daily: txn.open_table(CHAT_DAILY).map_err(store_err)?,
            user_daily: txn.open_table(CHAT_USER_DAILY).map_err(store_err)?,
            hourly: txn.open_table(CHAT_HOURLY).map_err(store_err)?,
            kinds: txn.open_table(CHAT_KINDS).map_err(store_err)?,
        })
    }
}

/// Increments of one chat-day.
#[derive(Default)]
struct DayDelta {
    messages: u64,
    joins: u64,
    leaves: u64,
}

/// What a batch adds to the counters, coalesced by row.
#[derive(Default)]
pub(crate) struct Counters {
    daily: BTreeMap<(i64, i64), DayDelta>,
    user_daily: BTreeMap<(i64, i64, u64), u64>,
    hourly: BTreeMap<(i64, u8), u64>,
    kinds: BTreeMap<(i64, u8), u64>,
}

impl Counters {
    /// A message stored for the first time. Service messages count only as joins or leaves.
    pub(crate) fn message(&mut self, m: &StoredMessage, joined: usize) {
        let chat = m.chat_id.0;
        let day = Day::of(m.date).0;
        match m.kind {
            MessageKind::MembersJoined => {
                // A join message lists the members who joined (at least one).
                self.daily.entry((chat, day)).or_default().joins += joined.max(1) as u64;
                return;
            }
            MessageKind::MemberLeft => {
                self.daily.entry((chat, day)).or_default().leaves += 1;
                return;
            }
            kind if kind.is_service() => return,
            _ => {}
        }
        self.daily.entry((chat, day)).or_default().messages += 1;
        if let Some(user) = m.user_id {
            *self.user_daily.entry((chat, day, user.0)).or_default() += 1;
        }
        *self.hourly.entry((chat, hour_of_week(m.date))).or_default() += 1;
        *self.kinds.entry((chat, m.kind.as_u8())).or_default() += 1;
    }

    /// Add everything to the tables, one read and one write per touched row. A member's first
    /// row of a day also counts them as a distinct poster of that day.
    pub(crate) fn flush(self, t: &mut CounterTables<'_>) -> StoreResult<()> {
        let Counters {
            mut daily,
            user_daily,
            hourly,
            kinds,
        } = self;
        let mut new_posters: BTreeMap<(i64, i64), u64> = BTreeMap::new();
        for ((chat, day, user), n) in user_daily {
            let old = t
                .user_daily
                .get((chat, day, user))
                .map_err(store_err)?
                .map(|g| g.value());
            if old.is_none() {
                *new_posters.entry((chat, day)).or_default() += 1;
                daily.entry((chat, day)).or_default();
            }
            t.user_daily
                .insert((chat, day, user), old.unwrap_or(0).saturating_add(n))
                .map_err(store_err)?;
        }
        for ((chat, day), delta) in daily {
            let mut row = match t.daily.get((chat, day)).map_err(store_err)? {
                Some(g) => decode_day(Day(day), g.value())?,
                None => ChatDay {
                    day: Day(day),
                    ..ChatDay::default()
                },
            };
            row.messages = row.messages.saturating_add(delta.messages);
            row.joins = row.joins.saturating_add(delta.joins);
            row.leaves = row.leaves.saturating_add(delta.leaves);
            let posters = new_posters.get(&(chat, day)).copied().unwrap_or(0);
            row.active_members = row.active_members.saturating_add(posters);
            t.daily
                .insert((chat, day), encode_day(&row)?.as_slice())
                .map_err(store_err)?;
        }
        add_all(&mut t.hourly, hourly)?;
        add_all(&mut t.kinds, kinds)
    }
}

fn add_all(
    table: &mut Table<'_, (i64, u8), u64>,
    deltas: BTreeMap<(i64, u8), u64>,
) -> StoreResult<()> {
    for (key, n) in deltas {
        let old = table.get(key).map_err(store_err)?.map(|g| g.value());
        table
            .insert(key, old.unwrap_or(0).saturating_add(n))
            .map_err(store_err)?;
    }
    Ok(())
}

/// Messages counted per flush during the backfill, to bound its memory.
const BACKFILL_CHUNK: usize = 100_000;

/// Count every stored message into the (empty) counter tables, in the migration's transaction.
/// Joins are counted one per join message (the stored message does not say how many joined).
/// Returns how many messages were read.
pub(crate) fn backfill(txn: &WriteTransaction) -> StoreResult<u64> {
    let mut tables = CounterTables::open(txn)?;
    let messages = txn.open_table(MESSAGES).map_err(store_err)?;
    let mut counters = Counters::default();
    let (mut read, mut pending) = (0u64, 0usize);
    for row in messages.iter().map_err(store_err)? {
        let (k, v) = row.map_err(store_err)?;
        let (chat, msg) = k.value();
        let m = codec::decode_message(ChatId(chat), MessageId(msg), v.value())?;
        counters.message(&m, 1);
        read += 1;
        pending += 1;
        if pending >= BACKFILL_CHUNK {
            std::mem::take(&mut counters).flush(&mut tables)?;
            pending = 0;
        }
    }
    counters.flush(&mut tables)?;
    Ok(read)
}
