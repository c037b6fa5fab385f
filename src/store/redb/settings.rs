//! [`SettingsRepo`] for redb: `user_settings` holds the users who changed their settings, and
//! `users_no_announcements` indexes those who turned announcements off (written together).

use super::RedbStore;
use super::codec::{self, V1};
use super::errors::store_err;
use super::tables::{USER_SETTINGS, USERS_NO_ANNOUNCEMENTS};
use crate::domain::{LanguagePref, UserId, UserSettings};
use crate::store::{SettingsRepo, StoreResult};
use redb::ReadableTable;
use serde::{Deserialize, Serialize};

const TABLE: &str = "user_settings";

#[derive(Serialize, Deserialize)]
struct SettingsV1 {
    /// 0 auto, 1 English, 2 Persian.
    language: u8,
    announcements: bool,
}

fn encode(s: &UserSettings) -> StoreResult<Vec<u8>> {
    let language = match s.language {
        LanguagePref::Auto => 0,
        LanguagePref::English => 1,
        LanguagePref::Persian => 2,
    };
    codec::encode(
        TABLE,
        V1,
        &SettingsV1 {
            language,
            announcements: s.announcements,
        },
    )
}

fn decode(bytes: &[u8]) -> StoreResult<UserSettings> {
    let (version, rest) = codec::split(TABLE, bytes)?;
    match version {
        V1 => {
            let r: SettingsV1 = codec::body(TABLE, rest)?;
            let language = match r.language {
                0 => LanguagePref::Auto,
                1 => LanguagePref::English,
                2 => LanguagePref::Persian,
                n => return Err(codec::bad_enum(TABLE, "language", n)),
            };
            Ok(UserSettings {
                language,
                announcements: r.announcements,
            })
        }
        v => Err(codec::unknown_version(TABLE, v)),
    }
}

impl SettingsRepo for RedbStore {
    fn user_settings(&self, user: UserId) -> StoreResult<Option<UserSettings>> {
        self.read(|txn| {
            let table = txn.open_table(USER_SETTINGS).map_err(store_err)?;
            let found = table.get(user.0).map_err(store_err)?;
            found.map(|g| decode(g.value())).transpose()
        })
    }

    fn set_user_settings(&self, user: UserId, settings: &UserSettings) -> StoreResult<()> {
        self.write(|txn| {
            let mut table = txn.open_table(USER_SETTINGS).map_err(store_err)?;
            let mut muted = txn.open_table(USERS_NO_ANNOUNCEMENTS).map_err(store_err)?;
            table
                .insert(user.0, encode(settings)?.as_slice())
                .map_err(store_err)?;
            if settings.announcements {
                muted.remove(user.0).map_err(store_err)?;
            } else {
                muted.insert(user.0, ()).map_err(store_err)?;
            }
            Ok(())
        })
    }

    fn delete_user_settings(&self, user: UserId) -> StoreResult<bool> {
        self.write(|txn| {
            let mut table = txn.open_table(USER_SETTINGS).map_err(store_err)?;
            let mut muted = txn.open_table(USERS_NO_ANNOUNCEMENTS).map_err(store_err)?;
            muted.remove(user.0).map_err(store_err)?;
            Ok(table.remove(user.0).map_err(store_err)?.is_some())
        })
    }

    fn users_without_announcements(&self) -> StoreResult<Vec<UserId>> {
        self.read(|txn| {
            let muted = txn.open_table(USERS_NO_ANNOUNCEMENTS).map_err(store_err)?;
            let mut out = Vec::new();
            for row in muted.iter().map_err(store_err)? {
                let (k, _) = row.map_err(store_err)?;
                out.push(UserId(k.value()));
            }
            Ok(out)
        })
    }
}
