//! Record encoding: one leading version byte, then postcard.
//!
//! The stored shapes (`*V1`) are private to this module and separate from the domain types, so a
//! change to a domain type cannot silently change the file format. Key fields are not repeated in
//! the value: decoders take the key. To evolve a record, add a `*V2` shape, write it from the
//! encoder, and add a `2 =>` arm to the decoder (keeping the `1 =>` arm). Unknown versions and
//! garbage decode to [`StoreError::Corrupt`], never a panic.

use crate::domain::{
    BotIdentity, Chat, ChatId, ChatKind, Member, MemberStatus, MessageId, MessageKind, OutboxEntry,
    OutboxOp, QuarantinedUpdate, StoredMessage, Timestamp, UpdateId, User, UserId,
};
use crate::store::{StoreError, StoreResult};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub(super) const V1: u8 = 1;

pub(super) fn encode<T: Serialize>(
    table: &'static str,
    version: u8,
    record: &T,
) -> StoreResult<Vec<u8>> {
    postcard::to_extend(record, vec![version]).map_err(|e| StoreError::Corrupt {
        table,
        detail: format!("cannot encode record: {e}"),
    })
}

/// Split off the version byte.
pub(super) fn split<'a>(table: &'static str, bytes: &'a [u8]) -> StoreResult<(u8, &'a [u8])> {
    match bytes.split_first() {
        Some((version, body)) => Ok((*version, body)),
        None => Err(StoreError::Corrupt {
            table,
            detail: "empty record".to_string(),
        }),
    }
}

/// Decode a body; trailing bytes count as corruption.
pub(super) fn body<T: DeserializeOwned>(table: &'static str, body: &[u8]) -> StoreResult<T> {
    match postcard::take_from_bytes::<T>(body) {
        Ok((value, [])) => Ok(value),
        Ok((_, rest)) => Err(StoreError::Corrupt {
            table,
            detail: format!("{} trailing bytes after the record", rest.len()),
        }),
        Err(e) => Err(StoreError::Corrupt {
            table,
            detail: format!("cannot decode record: {e}"),
        }),
    }
}

pub(super) fn unknown_version(table: &'static str, version: u8) -> StoreError {
    StoreError::Corrupt {
        table,
        detail: format!("unknown record version {version}"),
    }
}

pub(super) fn bad_enum(table: &'static str, what: &str, n: u8) -> StoreError {
    StoreError::Corrupt {
        table,
        detail: format!("unknown {what} {n}"),
    }
}

// ---- users ----------------------------------------------------------------------------------

#[derive(Serialize, Deserialize)]
struct UserV1 {
    is_bot: bool,
    first_name: String,
    last_name: Option<String>,
    username: Option<String>,
    language_code: Option<String>,
    is_active: bool,
    blocked_bot: bool,
    created_at: i64,
    last_activity_at: i64,
    message_count: u64,
}

pub(crate) fn encode_user(u: &User) -> StoreResult<Vec<u8>> {
    let rec = UserV1 {
        is_bot: u.is_bot,
        first_name: u.first_name.clone(),
        last_name: u.last_name.clone(),
        username: u.username.clone(),
        language_code: u.language_code.clone(),
        is_active: u.is_active,
        blocked_bot: u.blocked_bot,
        created_at: u.created_at.0,
        last_activity_at: u.last_activity_at.0,
        message_count: u.message_count,
    };
    encode("users", V1, &rec)
}

pub(crate) fn decode_user(id: UserId, bytes: &[u8]) -> StoreResult<User> {
    const T: &str = "users";
    let (version, rest) = split(T, bytes)?;
    match version {
        V1 => {
            let r: UserV1 = body(T, rest)?;
            Ok(User {
                id,
                is_bot: r.is_bot,
                first_name: r.first_name,
                last_name: r.last_name,
                username: r.username,
                language_code: r.language_code,
                is_active: r.is_active,
                blocked_bot: r.blocked_bot,
                created_at: Timestamp(r.created_at),
                last_activity_at: Timestamp(r.last_activity_at),
                message_count: r.message_count,
            })
        }
        v => Err(unknown_version(T, v)),
    }
}

// ---- chats ----------------------------------------------------------------------------------

#[derive(Serialize, Deserialize)]
struct ChatV1 {
    kind: u8,
    title: Option<String>,
    username: Option<String>,
    is_forum: bool,
    retention_days: Option<u32>,
    created_at: i64,
    last_activity_at: i64,
    message_count: u64,
}

fn chat_kind_to_u8(kind: ChatKind) -> u8 {
    match kind {
        ChatKind::Private => 0,
        ChatKind::Group => 1,
        ChatKind::Supergroup => 2,
        ChatKind::Channel => 3,
    }
}

fn chat_kind_from_u8(n: u8) -> Option<ChatKind> {
    match n {
        0 => Some(ChatKind::Private),
        1 => Some(ChatKind::Group),
        2 => Some(ChatKind::Supergroup),
        3 => Some(ChatKind::Channel),
        _ => None,
    }
}

pub(crate) fn encode_chat(c: &Chat) -> StoreResult<Vec<u8>> {
    let rec = ChatV1 {
        kind: chat_kind_to_u8(c.kind),
        title: c.title.clone(),
        username: c.username.clone(),
        is_forum: c.is_forum,
        retention_days: c.retention_days,
        created_at: c.created_at.0,
        last_activity_at: c.last_activity_at.0,
        message_count: c.message_count,
    };
    encode("chats", V1, &rec)
}

pub(crate) fn decode_chat(id: ChatId, bytes: &[u8]) -> StoreResult<Chat> {
    const T: &str = "chats";
    let (version, rest) = split(T, bytes)?;
    match version {
        V1 => {
            let r: ChatV1 = body(T, rest)?;
            Ok(Chat {
                id,
                kind: chat_kind_from_u8(r.kind).ok_or_else(|| bad_enum(T, "chat kind", r.kind))?,
                title: r.title,
                username: r.username,
                is_forum: r.is_forum,
                retention_days: r.retention_days,
                created_at: Timestamp(r.created_at),
                last_activity_at: Timestamp(r.last_activity_at),
                message_count: r.message_count,
            })
        }
        v => Err(unknown_version(T, v)),
    }
}

// ---- members --------------------------------------------------------------------------------

#[derive(Serialize, Deserialize)]
struct MemberV1 {
    status: u8,
    first_seen: i64,
    last_seen: i64,
    message_count: u64,
}

pub(crate) fn encode_member(m: &Member) -> StoreResult<Vec<u8>> {
    let rec = MemberV1 {
        status: match m.status {
            MemberStatus::Active => 0,
            MemberStatus::Left => 1,
        },
        first_seen: m.first_seen.0,
        last_seen: m.last_seen.0,
        message_count: m.message_count,
    };
    encode("members", V1, &rec)
}

pub(crate) fn decode_member(chat: ChatId, user: UserId, bytes: &[u8]) -> StoreResult<Member> {
    const T: &str = "members";
    let (version, rest) = split(T, bytes)?;
    match version {
        V1 => {
            let r: MemberV1 = body(T, rest)?;
            let status = match r.status {
                0 => MemberStatus::Active,
                1 => MemberStatus::Left,
                n => return Err(bad_enum(T, "member status", n)),
            };
            Ok(Member {
                chat_id: chat,
                user_id: user,
                status,
                first_seen: Timestamp(r.first_seen),
                last_seen: Timestamp(r.last_seen),
                message_count: r.message_count,
            })
        }
        v => Err(unknown_version(T, v)),
    }
}

// ---- messages -------------------------------------------------------------------------------

#[derive(Serialize, Deserialize)]
struct MessageV1 {
    user_id: Option<u64>,
    date: i64,
    edit_date: Option<i64>,
    kind: u8,
    text: String,
    reply_to: Option<i32>,
    thread_id: Option<i32>,
    seq: u64,
}

pub(crate) fn encode_message(m: &StoredMessage) -> StoreResult<Vec<u8>> {
    let rec = MessageV1 {
        user_id: m.user_id.map(|u| u.0),
        date: m.date.0,
        edit_date: m.edit_date.map(|t| t.0),
        kind: m.kind.as_u8(),
        text: m.text.clone(),
        reply_to: m.reply_to.map(|r| r.0),
        thread_id: m.thread_id,
        seq: m.seq,
    };
    encode("messages", V1, &rec)
}

pub(crate) fn decode_message(
    chat: ChatId,
    id: MessageId,
    bytes: &[u8],
) -> StoreResult<StoredMessage> {
    const T: &str = "messages";
    let (version, rest) = split(T, bytes)?;
    match version {
        V1 => {
            let r: MessageV1 = body(T, rest)?;
            Ok(StoredMessage {
                chat_id: chat,
                message_id: id,
                user_id: r.user_id.map(UserId),
                date: Timestamp(r.date),
                edit_date: r.edit_date.map(Timestamp),
                kind: MessageKind::from_u8(r.kind)
                    .ok_or_else(|| bad_enum(T, "message kind", r.kind))?,
                text: r.text,
                reply_to: r.reply_to.map(MessageId),
                thread_id: r.thread_id,
                seq: r.seq,
            })
        }
        v => Err(unknown_version(T, v)),
    }
}

// ---- search outbox --------------------------------------------------------------------------

#[derive(Serialize, Deserialize)]
struct OutboxV1 {
    chat_id: i64,
    message_id: i32,
    op: u8,
}

pub(crate) fn encode_outbox(e: &OutboxEntry) -> StoreResult<Vec<u8>> {
    let rec = OutboxV1 {
        chat_id: e.chat_id.0,
        message_id: e.message_id.0,
        op: match e.op {
            OutboxOp::Upsert => 0,
            OutboxOp::Delete => 1,
        },
    };
    encode("search_outbox", V1, &rec)
}

pub(crate) fn decode_outbox(seq: u64, bytes: &[u8]) -> StoreResult<OutboxEntry> {
    const T: &str = "search_outbox";
    let (version, rest) = split(T, bytes)?;
    match version {
        V1 => {
            let r: OutboxV1 = body(T, rest)?;
            let op = match r.op {
                0 => OutboxOp::Upsert,
                1 => OutboxOp::Delete,
                n => return Err(bad_enum(T, "outbox op", n)),
            };
            Ok(OutboxEntry {
                seq,
                chat_id: ChatId(r.chat_id),
                message_id: MessageId(r.message_id),
                op,
            })
        }
        v => Err(unknown_version(T, v)),
    }
}

// ---- quarantine -----------------------------------------------------------------------------

#[derive(Serialize, Deserialize)]
struct QuarantineV1 {
    received_at: i64,
    reason: String,
    raw_json: String,
}

pub(crate) fn encode_quarantined(q: &QuarantinedUpdate) -> StoreResult<Vec<u8>> {
    let rec = QuarantineV1 {
        received_at: q.received_at.0,
        reason: q.reason.clone(),
        raw_json: q.raw_json.clone(),
    };
    encode("quarantine", V1, &rec)
}

pub(crate) fn decode_quarantined(id: UpdateId, bytes: &[u8]) -> StoreResult<QuarantinedUpdate> {
    const T: &str = "quarantine";
    let (version, rest) = split(T, bytes)?;
    match version {
        V1 => {
            let r: QuarantineV1 = body(T, rest)?;
            Ok(QuarantinedUpdate {
                update_id: id,
                received_at: Timestamp(r.received_at),
                reason: r.reason,
                raw_json: r.raw_json,
            })
        }
        v => Err(unknown_version(T, v)),
    }
}

// ---- meta values ----------------------------------------------------------------------------

#[derive(Serialize, Deserialize)]
struct BotIdentityV1 {
    bot_id: u64,
    username: String,
}

pub(crate) fn encode_bot_identity(b: &BotIdentity) -> StoreResult<Vec<u8>> {
    let rec = BotIdentityV1 {
        bot_id: b.bot_id,
        username: b.username.clone(),
    };
    encode("meta", V1, &rec)
}

pub(crate) fn decode_bot_identity(bytes: &[u8]) -> StoreResult<BotIdentity> {
    const T: &str = "meta";
    let (version, rest) = split(T, bytes)?;
    match version {
        V1 => {
            let r: BotIdentityV1 = body(T, rest)?;
            Ok(BotIdentity {
                bot_id: r.bot_id,
                username: r.username,
            })
        }
        v => Err(unknown_version(T, v)),
    }
}

/// Plain little-endian integers in `meta` (fixed width, no version byte: their meaning is fixed
/// by the key).
pub(crate) fn encode_u32(n: u32) -> [u8; 4] {
    n.to_le_bytes()
}

pub(crate) fn decode_u32(key: &str, bytes: &[u8]) -> StoreResult<u32> {
    <[u8; 4]>::try_from(bytes)
        .map(u32::from_le_bytes)
        .map_err(|_| StoreError::Corrupt {
            table: "meta",
            detail: format!("{key}: expected 4 bytes, found {}", bytes.len()),
        })
}

pub(crate) fn encode_u64(n: u64) -> [u8; 8] {
    n.to_le_bytes()
}

pub(crate) fn decode_u64(key: &str, bytes: &[u8]) -> StoreResult<u64> {
    <[u8; 8]>::try_from(bytes)
        .map(u64::from_le_bytes)
        .map_err(|_| StoreError::Corrupt {
            table: "meta",
            detail: format!("{key}: expected 8 bytes, found {}", bytes.len()),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_message() -> StoredMessage {
        StoredMessage {
            chat_id: ChatId(-100_123),
            message_id: MessageId(42),
            user_id: Some(UserId(7)),
            date: Timestamp(1_700_000_000),
            edit_date: Some(Timestamp(1_700_000_100)),
            kind: MessageKind::Photo,
            text: "سلام\u{200C}دنیا \0 👩‍👩‍👧".to_string(),
            reply_to: Some(MessageId(41)),
            thread_id: Some(3),
            seq: 99,
        }
    }

    #[test]
    fn message_roundtrip() {
        let m = sample_message();
        let bytes = encode_message(&m).unwrap();
        assert_eq!(bytes[0], V1);
        assert_eq!(decode_message(m.chat_id, m.message_id, &bytes).unwrap(), m);
    }

    #[test]
    fn garbage_and_unknown_versions_are_corrupt() {
        let m = sample_message();
        let mut bytes = encode_message(&m).unwrap();
        let check = |b: &[u8]| {
            assert!(matches!(
                decode_message(m.chat_id, m.message_id, b),
                Err(StoreError::Corrupt {
                    table: "messages",
                    ..
                })
            ));
        };
        check(&[]);
        check(&[V1]);
        check(&bytes[..bytes.len() - 1]);
        let mut longer = bytes.clone();
        longer.push(0);
        check(&longer);
        bytes[0] = 200;
        check(&bytes);
        check(&[V1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        assert!(decode_u32("x", &[1, 2, 3]).is_err());
        assert!(decode_u64("x", &[1, 2, 3]).is_err());
    }

    #[test]
    fn bad_enum_values_are_corrupt() {
        let bytes = postcard::to_extend(
            &OutboxV1 {
                chat_id: 1,
                message_id: 2,
                op: 9,
            },
            vec![V1],
        )
        .unwrap();
        assert!(matches!(
            decode_outbox(1, &bytes),
            Err(StoreError::Corrupt { .. })
        ));
    }
}
