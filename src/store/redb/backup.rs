//! Backup and restore of the redb store in the [`backup_file`] format.
//!
//! A backup is one read transaction: every table of [`visit_all`] with its rows as redb's own
//! key and value bytes, so the snapshot is consistent (the same moment for every table) while
//! ingest goes on. A table in the file that [`visit_all`] does not know makes the backup fail
//! rather than silently leave data out.
//!
//! A restore first reads the whole file to verify it (structure, checksum, versions, every row's
//! key and value shape), writing nothing; only then writes a new file under a temporary name,
//! committing in chunks, and renames it into place. The caller rebuilds the search index.

use super::errors::{from_io, store_err};
use super::tables::{TableVisitor, visit_all};
use super::{FILE_NAME, RedbStore, meta};
use crate::store::backup_file::{BackupFileError, BackupHeader, BackupReader, BackupWriter, Item};
use crate::store::{BackupRepo, BackupSummary, SCHEMA_VERSION, StoreError, StoreResult};
use redb::{
    Database, Durability, Key, MultimapTableHandle, ReadTransaction, ReadableTable,
    TableDefinition, TableError, TableHandle, Value,
};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use thiserror::Error;

fn file_err(e: BackupFileError) -> StoreError {
    match e {
        BackupFileError::Io(io) => from_io(io),
        other => StoreError::Backend(other.to_string()),
    }
}

struct Dump<'a, W: Write> {
    txn: &'a ReadTransaction,
    out: &'a mut BackupWriter<W>,
}

impl<W: Write> TableVisitor for Dump<'_, W> {
    fn visit<K: Key + 'static, V: Value + 'static>(
        &mut self,
        def: TableDefinition<'static, K, V>,
    ) -> StoreResult<()> {
        let name = def.name().to_string();
        let table = match self.txn.open_table(def) {
            Ok(t) => t,
            Err(TableError::TableDoesNotExist(_)) => return Ok(()),
            Err(e) => return Err(store_err(e)),
        };
        self.out.begin_table(&name).map_err(file_err)?;
        for row in table.iter().map_err(store_err)? {
            let (k, v) = row.map_err(store_err)?;
            let (kv, vv) = (k.value(), v.value());
            self.out
                .row(K::as_bytes(&kv).as_ref(), V::as_bytes(&vv).as_ref())
                .map_err(file_err)?;
        }
        self.out.end_table().map_err(file_err)
    }
}

/// Collects the names [`visit_all`] visits.
struct Names(Vec<String>);

impl TableVisitor for Names {
    fn visit<K: Key + 'static, V: Value + 'static>(
        &mut self,
        def: TableDefinition<'static, K, V>,
    ) -> StoreResult<()> {
        self.0.push(def.name().to_string());
        Ok(())
    }
}

/// Every table name [`visit_all`] visits.
fn known_names() -> StoreResult<Vec<String>> {
    let mut names = Names(Vec::new());
    visit_all(&mut names)?;
    Ok(names.0)
}

fn header(txn: &ReadTransaction) -> StoreResult<BackupHeader> {
    let table = txn.open_table(super::tables::META).map_err(store_err)?;
    Ok(BackupHeader {
        schema_version: meta::schema_version(&table)?,
        backend: "redb".into(),
        created_at: chrono::Utc::now().timestamp(),
        last_update_id: meta::last_update_id(&table)?.map(|u| u.0),
        bot: meta::bot_identity(&table)?.map(|b| (b.bot_id, b.username)),
    })
}

impl BackupRepo for RedbStore {
    fn backup(&self, out: &mut dyn Write) -> StoreResult<BackupSummary> {
        self.read(|txn| {
            let head = header(txn)?;
            let known: BTreeSet<String> = known_names()?.into_iter().collect();
            for handle in txn.list_tables().map_err(store_err)? {
                if !known.contains(handle.name()) {
                    return Err(StoreError::Backend(format!(
                        "table {} is not covered by backup (add it to tables::visit_all)",
                        handle.name()
                    )));
                }
            }
            if let Some(t) = txn.list_multimap_tables().map_err(store_err)?.next() {
                return Err(StoreError::Backend(format!(
                    "multimap table {} is not covered by backup",
                    t.name()
                )));
            }
            let mut writer = BackupWriter::new(out, &head).map_err(file_err)?;
            let mut dump = Dump {
                txn,
                out: &mut writer,
            };
            visit_all(&mut dump)?;
            let (tables, rows, bytes) = writer.finish().map_err(file_err)?;
            Ok(BackupSummary {
                schema_version: head.schema_version,
                last_update_id: head.last_update_id,
                tables,
                rows,
                bytes,
            })
        })
    }
}

#[derive(Debug, Error)]
pub enum RestoreError {
    #[error(transparent)]
    File(#[from] BackupFileError),
    #[error(
        "the backup holds store schema {found}, newer than this tgbox understands ({supported}); \
         restore it with a newer tgbox"
    )]
    SchemaTooNew { found: u32, supported: u32 },
    #[error("the backup was written by the {0} backend; this restore writes redb")]
    Backend(String),
    #[error("the backup holds table {0}, which this tgbox does not know")]
    UnknownTable(String),
    #[error("the backup holds a malformed row in table {table} (row {row})")]
    BadRow { table: String, row: u64 },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a restore wrote (or, for [`verify_backup`], would write).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RestoreReport {
    pub header: BackupHeader,
    pub tables: u32,
    pub rows: u64,
}

/// Whether `bytes` can be the key or value bytes of type `T` (`from_bytes` may panic
/// otherwise). Knows every variable-width type the tables use; any other one is refused, so a
/// new table with a new shape needs a line here (the round-trip test shows it).
fn fits<T: Value>(bytes: &[u8]) -> bool {
    let name = T::type_name();
    let utf8 = |b: &[u8]| std::str::from_utf8(b).is_ok();
    match T::fixed_width() {
        Some(w) => bytes.len() == w,
        None if name == <&str as Value>::type_name() => utf8(bytes),
        None if name == <&[u8] as Value>::type_name() => true,
        // A tuple stores its fixed-width head as is and its last element as the rest.
        None if name == <(i64, &str) as Value>::type_name() => {
            bytes.len() >= 8 && utf8(&bytes[8..])
        }
        None => false,
    }
}

/// Checks (and with a database, writes) the rows of one table section.
struct Load<'a, R: Read> {
    reader: &'a mut BackupReader<R>,
    name: String,
    db: Option<&'a Database>,
    matched: bool,
    rows: u64,
    /// A problem of the file itself, kept as it is (the visitor can only return `StoreError`).
    file_error: Option<BackupFileError>,
}

const CHUNK_ROWS: usize = 50_000;

impl<R: Read> TableVisitor for Load<'_, R> {
    fn visit<K: Key + 'static, V: Value + 'static>(
        &mut self,
        def: TableDefinition<'static, K, V>,
    ) -> StoreResult<()> {
        if self.matched || def.name() != self.name {
            return Ok(());
        }
        self.matched = true;
        let mut chunk: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        loop {
            let item = match self.reader.next_item() {
                Ok(item) => item,
                Err(e) => {
                    let shown = StoreError::Backend(e.to_string());
                    self.file_error = Some(e);
                    return Err(shown);
                }
            };
            let end = match item {
                Item::Row(k, v) => {
                    self.rows += 1;
                    if !fits::<K>(&k) || !fits::<V>(&v) {
                        return Err(StoreError::Corrupt {
                            table: "(backup file)",
                            detail: format!("malformed row {} in table {}", self.rows, self.name),
                        });
                    }
                    if self.db.is_some() {
                        chunk.push((k, v));
                    }
                    false
                }
                Item::TableEnd => true,
                _ => {
                    let e = BackupFileError::Damaged("a table is not closed".into());
                    let shown = StoreError::Backend(e.to_string());
                    self.file_error = Some(e);
                    return Err(shown);
                }
            };
            if let Some(db) = self.db
                && (end || chunk.len() >= CHUNK_ROWS)
            {
                let mut txn = db.begin_write().map_err(store_err)?;
                txn.set_durability(Durability::None).map_err(store_err)?;
                {
                    let mut table = txn.open_table(def).map_err(store_err)?;
                    for (k, v) in chunk.drain(..) {
                        table
                            .insert(K::from_bytes(&k), V::from_bytes(&v))
                            .map_err(store_err)?;
                    }
                }
                txn.commit().map_err(store_err)?;
            }
            if end {
                return Ok(());
            }
        }
    }
}

/// Read a backup from start to end: structure, checksum, versions and every row's shape. The
/// same pass [`restore_into`] makes before it writes anything.
pub fn verify_backup(input: impl Read) -> Result<RestoreReport, RestoreError> {
    load(input, None)
}

fn load(input: impl Read, db: Option<&Database>) -> Result<RestoreReport, RestoreError> {
    let mut reader = BackupReader::open(input)?;
    let header = reader.header.clone();
    if header.schema_version > SCHEMA_VERSION {
        return Err(RestoreError::SchemaTooNew {
            found: header.schema_version,
            supported: SCHEMA_VERSION,
        });
    }
    if header.backend != "redb" {
        return Err(RestoreError::Backend(header.backend));
    }
    loop {
        match reader.next_item()? {
            Item::Table(name) => {
                let mut load = Load {
                    reader: &mut reader,
                    name: name.clone(),
                    db,
                    matched: false,
                    rows: 0,
                    file_error: None,
                };
                let result = visit_all(&mut load);
                if let Some(e) = load.file_error {
                    return Err(RestoreError::File(e));
                }
                match result {
                    Ok(()) if load.matched => {}
                    Ok(()) => return Err(RestoreError::UnknownTable(name)),
                    Err(StoreError::Corrupt { detail, .. }) if detail.starts_with("malformed") => {
                        return Err(RestoreError::BadRow {
                            table: name,
                            row: load.rows,
                        });
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            Item::End { tables, rows } => {
                return Ok(RestoreReport {
                    header,
                    tables,
                    rows,
                });
            }
            _ => {
                return Err(BackupFileError::Damaged("a row outside any table".into()).into());
            }
        }
    }
}

/// Restore the backup at `file` into `dir` as `dir/tgbox.redb`: verify the whole file first
/// (nothing is written if it is bad), then write `tgbox.redb.restoring`, make it durable and
/// rename it into place. An existing store file is replaced (the caller decides whether that is
/// allowed). The restored file is at the backup's schema version; opening it migrates it.
pub fn restore_into(file: &Path, dir: &Path) -> Result<RestoreReport, RestoreError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| RestoreError::Io { path, source }
    };
    let open = || {
        std::fs::File::open(file)
            .map(std::io::BufReader::new)
            .map_err(io(file))
    };
    let report = load(open()?, None)?;
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let tmp: PathBuf = dir.join(format!("{FILE_NAME}.restoring"));
    match std::fs::remove_file(&tmp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(&tmp)(e)),
        _ => {}
    }
    let result = (|| {
        let db = Database::create(&tmp).map_err(store_err)?;
        let written = load(open()?, Some(&db))?;
        // One durable commit makes every chunk before it durable too.
        let mut txn = db.begin_write().map_err(store_err)?;
        txn.set_durability(Durability::Immediate)
            .map_err(store_err)?;
        txn.commit().map_err(store_err)?;
        drop(db);
        Ok::<_, RestoreError>(written)
    })();
    let written = match result {
        Ok(w) => w,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    };
    debug_assert_eq!(written.rows, report.rows);
    let target = dir.join(FILE_NAME);
    std::fs::rename(&tmp, &target).map_err(io(&target))?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    tracing::info!(rows = report.rows, file = %target.display(), "store restored");
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_of_a_fresh_file_is_backed_up() {
        let dir = tempfile::tempdir().unwrap();
        let store = RedbStore::open(dir.path(), &Default::default()).unwrap();
        let mut in_file: Vec<String> = store
            .read(|txn| {
                Ok(txn
                    .list_tables()
                    .map_err(store_err)?
                    .map(|h| h.name().to_string())
                    .collect())
            })
            .unwrap();
        in_file.sort();
        let mut known = known_names().unwrap();
        known.sort();
        assert_eq!(in_file, known, "a table is missing from tables::visit_all");
    }
}
