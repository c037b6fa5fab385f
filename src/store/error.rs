use thiserror::Error;

/// Errors of store operations. Backends map their own errors into these so that callers can
/// act on the kind (stop ingest on a full disk, refuse a foreign data directory, ...).
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("the disk holding the data directory is full; free some space and ingest resumes")]
    DiskFull,
    #[error("storage I/O failed: {0}")]
    Io(#[source] std::io::Error),
    #[error("stored record in {table} is unreadable: {detail}")]
    Corrupt { table: &'static str, detail: String },
    #[error(
        "this data directory belongs to bot {recorded} but the token is for bot {actual}; \
         use another --data directory, or --force to take it over"
    )]
    ForeignBot { recorded: String, actual: String },
    #[error("the value at key {key:?} is not an integer (or the result would overflow)")]
    NotAnInteger { key: String },
    #[error("the store is closed")]
    Closed,
    #[error("storage backend error: {0}")]
    Backend(String),
}

impl StoreError {
    /// True when retrying later may succeed without anyone changing the data (disk full, I/O).
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::DiskFull | StoreError::Io(_))
    }
}

/// Errors of opening a data directory.
#[derive(Debug, Error)]
pub enum OpenError {
    #[error("cannot create data directory {path}: {source}")]
    CreateDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the store at {path} is locked by another process (is tgbox already running on this \
         data directory?)"
    )]
    Locked { path: String },
    #[error(
        "the store at {path} has schema version {found}, newer than this tgbox understands \
         ({supported}); upgrade tgbox"
    )]
    SchemaTooNew {
        path: String,
        found: u32,
        supported: u32,
    },
    #[error("migrating the store at {path} from schema {from} failed: {detail}")]
    Migration {
        path: String,
        from: u32,
        detail: String,
    },
    #[error("the store at {path} cannot be opened: {detail}")]
    Unreadable { path: String, detail: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}
