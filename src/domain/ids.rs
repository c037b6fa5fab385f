//! Identifiers and time as plain values. Telegram's own widths are kept: chat ids are signed
//! 64-bit (supergroups are `-100...`), user ids fit in 52 bits, message ids and update ids are
//! 32-bit.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct UserId(pub u64);

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ChatId(pub i64);

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MessageId(pub i32);

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct UpdateId(pub u32);

/// Milliseconds since the Unix epoch: the clock of the key-value table and of broadcast jobs.
pub type UnixMillis = i64;

/// The current time as [`UnixMillis`].
pub fn now_millis() -> UnixMillis {
    chrono::Utc::now().timestamp_millis()
}

/// Seconds since the Unix epoch, UTC. Telegram dates have one-second resolution.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn now() -> Self {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Timestamp(secs)
    }

    /// RFC 3339 in UTC, e.g. `2026-11-26T12:00:00Z`; out-of-range values fall back to the raw
    /// number so that a corrupt date never stops an export.
    pub fn to_rfc3339(self) -> String {
        match chrono::DateTime::from_timestamp(self.0, 0) {
            Some(dt) => dt.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            None => self.0.to_string(),
        }
    }
}

macro_rules! display_inner {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    )*};
}
display_inner!(UserId, ChatId, MessageId, UpdateId, Timestamp);
