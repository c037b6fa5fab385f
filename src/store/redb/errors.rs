//! Mapping redb's errors into the store's. The kinds matter to callers: a full disk stops ingest
//! until space is freed, a lock means another tgbox runs on the same directory.

use crate::store::{OpenError, StoreError};
use std::io;

/// ENOSPC on Linux and macOS.
const ENOSPC: i32 = 28;
/// EDQUOT on Linux (quota exceeded: the same "free some space" remedy).
const EDQUOT: i32 = 122;

pub(crate) fn is_disk_full(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
    ) || matches!(err.raw_os_error(), Some(ENOSPC) | Some(EDQUOT))
}

pub(crate) fn from_io(err: io::Error) -> StoreError {
    if is_disk_full(&err) {
        StoreError::DiskFull
    } else {
        StoreError::Io(err)
    }
}

/// Any redb error (storage, table, transaction, commit, ...) as a [`StoreError`].
pub(crate) fn store_err(err: impl Into<redb::Error>) -> StoreError {
    match err.into() {
        redb::Error::Io(e) => from_io(e),
        redb::Error::PreviousIo => StoreError::Io(io::Error::other(
            "an earlier write to the store failed; the store is reopened on the next call",
        )),
        redb::Error::Corrupted(detail) => StoreError::Corrupt {
            table: "(database file)",
            detail,
        },
        redb::Error::DatabaseClosed => StoreError::Closed,
        other => StoreError::Backend(other.to_string()),
    }
}

/// Errors of opening the database file.
pub(crate) fn open_err(label: &str, err: redb::DatabaseError) -> OpenError {
    match err {
        redb::DatabaseError::DatabaseAlreadyOpen | redb::DatabaseError::LockProtocolMismatch => {
            OpenError::Locked {
                path: label.to_string(),
            }
        }
        redb::DatabaseError::Storage(redb::StorageError::Io(e)) if is_disk_full(&e) => {
            OpenError::Store(StoreError::DiskFull)
        }
        other => OpenError::Unreadable {
            path: label.to_string(),
            detail: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disk_full_is_recognised_by_kind_and_errno() {
        assert!(matches!(
            from_io(io::Error::from_raw_os_error(ENOSPC)),
            StoreError::DiskFull
        ));
        assert!(matches!(
            from_io(io::Error::from(io::ErrorKind::StorageFull)),
            StoreError::DiskFull
        ));
        assert!(matches!(
            store_err(redb::StorageError::Io(io::Error::from_raw_os_error(ENOSPC))),
            StoreError::DiskFull
        ));
        assert!(matches!(
            from_io(io::Error::from(io::ErrorKind::PermissionDenied)),
            StoreError::Io(_)
        ));
    }
}
