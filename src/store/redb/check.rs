//! `tgbox check`: secondary indexes against primary rows, both ways, in one read transaction;
//! and the repair that rebuilds every derived index from the primary tables.
//!
//! Derived (and therefore rebuilt by repair): `messages_by_user`, `messages_by_time` (from
//! `messages`), `member_chats` (from `members`), `users_by_activity` and `users_by_username`
//! (from `users`), `kv_expiry` (from `kv`). Primary rows are never changed.

use super::RedbStore;
use super::codec;
use super::errors::store_err;
use super::kv::expiry_of;
use super::migrations::backfill_usernames;
use super::tables::{
    KV, KV_EXPIRY, MEMBER_CHATS, MEMBERS, MESSAGES, MESSAGES_BY_TIME, MESSAGES_BY_USER, USERS,
    USERS_BY_ACTIVITY, USERS_BY_USERNAME,
};
use crate::domain::{ChatId, MessageId, UserId, normalize_username};
use crate::store::{CheckItem, CheckRepo, ConsistencyReport, RepairReport, StoreResult};
use redb::{Durability, ReadTransaction, ReadableTable, ReadableTableMetadata};

fn check(txn: &ReadTransaction, ex: usize) -> StoreResult<ConsistencyReport> {
    let messages = txn.open_table(MESSAGES).map_err(store_err)?;
    let by_time = txn.open_table(MESSAGES_BY_TIME).map_err(store_err)?;
    let by_user = txn.open_table(MESSAGES_BY_USER).map_err(store_err)?;
    let users = txn.open_table(USERS).map_err(store_err)?;
    let by_activity = txn.open_table(USERS_BY_ACTIVITY).map_err(store_err)?;
    let by_name = txn.open_table(USERS_BY_USERNAME).map_err(store_err)?;
    let members = txn.open_table(MEMBERS).map_err(store_err)?;
    let member_chats = txn.open_table(MEMBER_CHATS).map_err(store_err)?;

    let mut decode = CheckItem::new("records decode");
    let mut m_time = CheckItem::new("messages -> messages_by_time");
    let mut m_user = CheckItem::new("messages -> messages_by_user");
    for row in messages.iter().map_err(store_err)? {
        let (k, v) = row.map_err(store_err)?;
        let (chat, msg) = k.value();
        let m = match codec::decode_message(ChatId(chat), MessageId(msg), v.value()) {
            Ok(m) => m,
            Err(e) => {
                decode.see(false, ex, || format!("messages ({chat}, {msg}): {e}"));
                continue;
            }
        };
        decode.see(true, ex, String::new);
        let has = by_time.get((m.date.0, chat, msg)).map_err(store_err)?;
        m_time.see(has.is_some(), ex, || {
            format!(
                "message ({chat}, {msg}) dated {} has no messages_by_time row",
                m.date.0
            )
        });
        if let Some(user) = m.user_id {
            let has = by_user
                .get((user.0, m.date.0, chat, msg))
                .map_err(store_err)?;
            m_user.see(has.is_some(), ex, || {
                format!(
                    "message ({chat}, {msg}) of user {} has no messages_by_user row",
                    user.0
                )
            });
        }
    }
    // Index rows pointing at nothing (or at a row whose indexed fields differ).
    let message_date = |chat: i64, msg: i32| -> StoreResult<Option<(i64, Option<u64>)>> {
        match messages.get((chat, msg)).map_err(store_err)? {
            Some(g) => match codec::decode_message(ChatId(chat), MessageId(msg), g.value()) {
                Ok(m) => Ok(Some((m.date.0, m.user_id.map(|u| u.0)))),
                Err(_) => Ok(None),
            },
            None => Ok(None),
        }
    };
    let mut time_m = CheckItem::new("messages_by_time -> messages");
    for row in by_time.iter().map_err(store_err)? {
        let (k, _) = row.map_err(store_err)?;
        let (date, chat, msg) = k.value();
        let ok = message_date(chat, msg)?.is_some_and(|(d, _)| d == date);
        time_m.see(ok, ex, || {
            format!("messages_by_time ({date}, {chat}, {msg}) points at no such message")
        });
    }
    let mut user_m = CheckItem::new("messages_by_user -> messages");
    for row in by_user.iter().map_err(store_err)? {
        let (k, _) = row.map_err(store_err)?;
        let (user, date, chat, msg) = k.value();
        let ok = message_date(chat, msg)?.is_some_and(|(d, u)| d == date && u == Some(user));
        user_m.see(ok, ex, || {
            format!("messages_by_user ({user}, {date}, {chat}, {msg}) points at no such message")
        });
    }

    let mut u_act = CheckItem::new("users -> users_by_activity");
    for row in users.iter().map_err(store_err)? {
        let (k, v) = row.map_err(store_err)?;
        let id = k.value();
        let u = match codec::decode_user(UserId(id), v.value()) {
            Ok(u) => u,
            Err(e) => {
                decode.see(false, ex, || format!("users {id}: {e}"));
                continue;
            }
        };
        decode.see(true, ex, String::new);
        let has = by_activity
            .get((u.last_activity_at.0, id))
            .map_err(store_err)?;
        u_act.see(has.is_some(), ex, || {
            format!("user {id} has no users_by_activity row")
        });
    }
    let user_field = |id: u64| -> StoreResult<Option<(i64, Option<String>)>> {
        match users.get(id).map_err(store_err)? {
            Some(g) => match codec::decode_user(UserId(id), g.value()) {
                Ok(u) => Ok(Some((
                    u.last_activity_at.0,
                    u.username.as_deref().map(normalize_username),
                ))),
                Err(_) => Ok(None),
            },
            None => Ok(None),
        }
    };
    let mut act_u = CheckItem::new("users_by_activity -> users");
    for row in by_activity.iter().map_err(store_err)? {
        let (k, _) = row.map_err(store_err)?;
        let (at, id) = k.value();
        let ok = user_field(id)?.is_some_and(|(a, _)| a == at);
        act_u.see(ok, ex, || {
            format!("users_by_activity ({at}, {id}) points at no such user")
        });
    }
    let mut name_u = CheckItem::new("users_by_username -> users");
    for row in by_name.iter().map_err(store_err)? {
        let (k, v) = row.map_err(store_err)?;
        let (name, id) = (k.value().to_string(), v.value());
        let ok = user_field(id)?.is_some_and(|(_, n)| n.as_deref() == Some(name.as_str()));
        name_u.see(ok, ex, || {
            format!("users_by_username {name} -> {id} points at no user with that name")
        });
    }

    let mut mem_mc = CheckItem::new("members -> member_chats");
    for row in members.iter().map_err(store_err)? {
        let (k, _) = row.map_err(store_err)?;
        let (chat, user) = k.value();
        let has = member_chats.get((user, chat)).map_err(store_err)?;
        mem_mc.see(has.is_some(), ex, || {
            format!("member ({chat}, {user}) has no member_chats row")
        });
    }
    let mut mc_mem = CheckItem::new("member_chats -> members");
    for row in member_chats.iter().map_err(store_err)? {
        let (k, _) = row.map_err(store_err)?;
        let (user, chat) = k.value();
        let has = members.get((chat, user)).map_err(store_err)?;
        mc_mem.see(has.is_some(), ex, || {
            format!("member_chats ({user}, {chat}) points at no member")
        });
    }
    let (kv_exp, exp_kv) = check_kv(txn, ex, &mut decode)?;
    Ok(ConsistencyReport {
        items: vec![
            decode, m_time, m_user, time_m, user_m, u_act, act_u, name_u, mem_mc, mc_mem, kv_exp,
            exp_kv,
        ],
    })
}

/// `kv` against `kv_expiry`: a row has an expiry exactly when the index holds (expiry, key).
fn check_kv(
    txn: &ReadTransaction,
    ex: usize,
    decode: &mut CheckItem,
) -> StoreResult<(CheckItem, CheckItem)> {
    let kv = txn.open_table(KV).map_err(store_err)?;
    let expiry = txn.open_table(KV_EXPIRY).map_err(store_err)?;
    let mut kv_exp = CheckItem::new("kv -> kv_expiry");
    for row in kv.iter().map_err(store_err)? {
        let (k, v) = row.map_err(store_err)?;
        let key = k.value();
        match expiry_of(v.value()) {
            Ok(Some(at)) => {
                let has = expiry.get((at, key)).map_err(store_err)?;
                kv_exp.see(has.is_some(), ex, || {
                    format!("kv key {key:?} expiring at {at} has no kv_expiry row")
                });
            }
            Ok(None) => kv_exp.see(true, ex, String::new),
            Err(e) => decode.see(false, ex, || format!("kv {key:?}: {e}")),
        }
    }
    let mut exp_kv = CheckItem::new("kv_expiry -> kv");
    for row in expiry.iter().map_err(store_err)? {
        let (k, _) = row.map_err(store_err)?;
        let (at, key) = k.value();
        let ok = match kv.get(key).map_err(store_err)? {
            Some(g) => expiry_of(g.value()).is_ok_and(|e| e == Some(at)),
            None => false,
        };
        exp_kv.see(ok, ex, || {
            format!("kv_expiry ({at}, {key:?}) points at no key with that expiry")
        });
    }
    Ok((kv_exp, exp_kv))
}

impl CheckRepo for RedbStore {
    fn check_consistency(&self, examples: usize) -> StoreResult<ConsistencyReport> {
        self.read(|txn| check(txn, examples))
    }

    fn rebuild_indexes(&self) -> StoreResult<RepairReport> {
        self.with_db(|db| {
            let mut txn = db.begin_write().map_err(store_err)?;
            txn.set_durability(Durability::Immediate)
                .map_err(store_err)?;
            txn.delete_table(MESSAGES_BY_TIME).map_err(store_err)?;
            txn.delete_table(MESSAGES_BY_USER).map_err(store_err)?;
            txn.delete_table(USERS_BY_ACTIVITY).map_err(store_err)?;
            txn.delete_table(USERS_BY_USERNAME).map_err(store_err)?;
            txn.delete_table(MEMBER_CHATS).map_err(store_err)?;
            txn.delete_table(KV_EXPIRY).map_err(store_err)?;
            let mut report = RepairReport::default();
            {
                let messages = txn.open_table(MESSAGES).map_err(store_err)?;
                let mut by_time = txn.open_table(MESSAGES_BY_TIME).map_err(store_err)?;
                let mut by_user = txn.open_table(MESSAGES_BY_USER).map_err(store_err)?;
                for row in messages.iter().map_err(store_err)? {
                    let (k, v) = row.map_err(store_err)?;
                    let (chat, msg) = k.value();
                    let m = codec::decode_message(ChatId(chat), MessageId(msg), v.value())?;
                    by_time
                        .insert((m.date.0, chat, msg), ())
                        .map_err(store_err)?;
                    if let Some(u) = m.user_id {
                        by_user
                            .insert((u.0, m.date.0, chat, msg), ())
                            .map_err(store_err)?;
                    }
                }
                report
                    .rebuilt
                    .push(("messages_by_time".into(), by_time.len().map_err(store_err)?));
                report
                    .rebuilt
                    .push(("messages_by_user".into(), by_user.len().map_err(store_err)?));
                let users = txn.open_table(USERS).map_err(store_err)?;
                let mut by_activity = txn.open_table(USERS_BY_ACTIVITY).map_err(store_err)?;
                for row in users.iter().map_err(store_err)? {
                    let (k, v) = row.map_err(store_err)?;
                    let u = codec::decode_user(UserId(k.value()), v.value())?;
                    by_activity
                        .insert((u.last_activity_at.0, u.id.0), ())
                        .map_err(store_err)?;
                }
                report.rebuilt.push((
                    "users_by_activity".into(),
                    by_activity.len().map_err(store_err)?,
                ));
                let members = txn.open_table(MEMBERS).map_err(store_err)?;
                let mut member_chats = txn.open_table(MEMBER_CHATS).map_err(store_err)?;
                for row in members.iter().map_err(store_err)? {
                    let (k, _) = row.map_err(store_err)?;
                    let (chat, user) = k.value();
                    member_chats.insert((user, chat), ()).map_err(store_err)?;
                }
                report.rebuilt.push((
                    "member_chats".into(),
                    member_chats.len().map_err(store_err)?,
                ));
                let kv = txn.open_table(KV).map_err(store_err)?;
                let mut expiry = txn.open_table(KV_EXPIRY).map_err(store_err)?;
                for row in kv.iter().map_err(store_err)? {
                    let (k, v) = row.map_err(store_err)?;
                    if let Some(at) = expiry_of(v.value())? {
                        expiry.insert((at, k.value()), ()).map_err(store_err)?;
                    }
                }
                report
                    .rebuilt
                    .push(("kv_expiry".into(), expiry.len().map_err(store_err)?));
            }
            let names = backfill_usernames(&txn)?;
            report.rebuilt.push(("users_by_username".into(), names));
            txn.commit().map_err(store_err)?;
            tracing::info!(?report.rebuilt, "store indexes rebuilt");
            Ok(report)
        })
    }
}
