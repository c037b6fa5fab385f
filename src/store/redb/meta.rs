//! Typed access to the `meta` table.

use super::codec;
use super::errors::store_err;
use super::tables::meta_key;
use crate::domain::{BotIdentity, UpdateId};
use crate::store::StoreResult;
use redb::{ReadableTable, Table};

fn get_bytes<T>(table: &T, key: &str) -> StoreResult<Option<Vec<u8>>>
where
    T: ReadableTable<&'static str, &'static [u8]>,
{
    Ok(table
        .get(key)
        .map_err(store_err)?
        .map(|g| g.value().to_vec()))
}

pub(crate) fn schema_version<T>(table: &T) -> StoreResult<u32>
where
    T: ReadableTable<&'static str, &'static [u8]>,
{
    match get_bytes(table, meta_key::SCHEMA_VERSION)? {
        Some(b) => codec::decode_u32(meta_key::SCHEMA_VERSION, &b),
        None => Ok(0),
    }
}

pub(crate) fn last_update_id<T>(table: &T) -> StoreResult<Option<UpdateId>>
where
    T: ReadableTable<&'static str, &'static [u8]>,
{
    get_bytes(table, meta_key::LAST_UPDATE_ID)?
        .map(|b| codec::decode_u32(meta_key::LAST_UPDATE_ID, &b).map(UpdateId))
        .transpose()
}

/// The next outbox sequence number to hand out; sequences start at 1 so that `outbox_after(0)`
/// returns everything.
pub(crate) fn next_outbox_seq<T>(table: &T) -> StoreResult<u64>
where
    T: ReadableTable<&'static str, &'static [u8]>,
{
    match get_bytes(table, meta_key::NEXT_OUTBOX_SEQ)? {
        Some(b) => codec::decode_u64(meta_key::NEXT_OUTBOX_SEQ, &b),
        None => Ok(1),
    }
}

pub(crate) fn bot_identity<T>(table: &T) -> StoreResult<Option<BotIdentity>>
where
    T: ReadableTable<&'static str, &'static [u8]>,
{
    get_bytes(table, meta_key::BOT_IDENTITY)?
        .map(|b| codec::decode_bot_identity(&b))
        .transpose()
}

pub(crate) fn put_schema_version(
    table: &mut Table<'_, &'static str, &'static [u8]>,
    version: u32,
) -> StoreResult<()> {
    let bytes = codec::encode_u32(version);
    table
        .insert(meta_key::SCHEMA_VERSION, bytes.as_slice())
        .map_err(store_err)?;
    Ok(())
}

pub(crate) fn put_last_update_id(
    table: &mut Table<'_, &'static str, &'static [u8]>,
    id: UpdateId,
) -> StoreResult<()> {
    let bytes = codec::encode_u32(id.0);
    table
        .insert(meta_key::LAST_UPDATE_ID, bytes.as_slice())
        .map_err(store_err)?;
    Ok(())
}

pub(crate) fn put_next_outbox_seq(
    table: &mut Table<'_, &'static str, &'static [u8]>,
    seq: u64,
) -> StoreResult<()> {
    let bytes = codec::encode_u64(seq);
    table
        .insert(meta_key::NEXT_OUTBOX_SEQ, bytes.as_slice())
        .map_err(store_err)?;
    Ok(())
}

pub(crate) fn put_bot_identity(
    table: &mut Table<'_, &'static str, &'static [u8]>,
    identity: &BotIdentity,
) -> StoreResult<()> {
    let bytes = codec::encode_bot_identity(identity)?;
    table
        .insert(meta_key::BOT_IDENTITY, bytes.as_slice())
        .map_err(store_err)?;
    Ok(())
}
