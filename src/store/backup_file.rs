//! The backup file format: streamable, self-checking, backend-neutral framing.
//!
//! ```text
//! magic    "TGBOXBAK"                       8 bytes
//! format   u16 LE (FORMAT_VERSION)
//! header   u32 LE length + postcard(BackupHeader)   schema version, bot, last update id, time
//! records  0x01 table:  u16 LE name length, name
//!          0x02 row:    u32 LE key length, key bytes, u32 LE value length, value bytes
//!          0x03 end of table: u64 LE rows in it
//! trailer  0xFF, u32 LE tables, u64 LE rows, u32 LE CRC-32 of every byte before the CRC
//! ```
//!
//! Keys and values are the backend's own encoding of each table's rows (for redb: the key and
//! value bytes of the table's types, values being the versioned postcard records), so a restore
//! writes them back unchanged. The file is written front to back in one pass (the dashboard
//! streams it while it is produced); a reader checks the structure as it goes and the CRC at the
//! end, and refuses anything after the trailer. A cut-off download therefore never restores.

use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use thiserror::Error;

pub const MAGIC: &[u8; 8] = b"TGBOXBAK";
/// Version of the framing; bump on any change to the layout above.
pub const FORMAT_VERSION: u16 = 1;

const TAG_TABLE: u8 = 0x01;
const TAG_ROW: u8 = 0x02;
const TAG_TABLE_END: u8 = 0x03;
const TAG_END: u8 = 0xFF;

const MAX_HEADER: u32 = 64 * 1024;
const MAX_NAME: u16 = 256;
/// No key or value of ours comes near this; a larger length means a damaged file.
const MAX_FIELD: u32 = 64 << 20;

/// What a backup says about itself, before any row.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupHeader {
    /// The store schema version of the rows.
    pub schema_version: u32,
    /// Backend that wrote the rows ("redb").
    pub backend: String,
    /// Unix seconds when the snapshot was taken.
    pub created_at: i64,
    /// The last update id committed in the snapshot.
    pub last_update_id: Option<u32>,
    /// (bot id, username) the data belongs to.
    pub bot: Option<(u64, String)>,
}

#[derive(Debug, Error)]
pub enum BackupFileError {
    #[error("cannot read or write the backup: {0}")]
    Io(#[source] std::io::Error),
    #[error("this is not a tgbox backup file (wrong magic bytes)")]
    NotABackup,
    #[error("the backup file format version {0} is newer than this tgbox understands (1)")]
    FormatTooNew(u16),
    #[error(
        "the backup file is truncated (it ends before its trailer); it was cut off while written or copied"
    )]
    Truncated,
    #[error("the backup file is damaged: {0}")]
    Damaged(String),
    #[error(
        "the backup file is damaged: its checksum does not match (stored {stored:08x}, computed {computed:08x})"
    )]
    Checksum { stored: u32, computed: u32 },
}

fn io_err(e: std::io::Error) -> BackupFileError {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        BackupFileError::Truncated
    } else {
        BackupFileError::Io(e)
    }
}

/// Writes a backup file front to back.
pub struct BackupWriter<W: Write> {
    out: W,
    crc: crc32fast::Hasher,
    bytes: u64,
    tables: u32,
    rows: u64,
    table_rows: u64,
    in_table: bool,
}

impl<W: Write> BackupWriter<W> {
    pub fn new(out: W, header: &BackupHeader) -> Result<Self, BackupFileError> {
        let mut w = BackupWriter {
            out,
            crc: crc32fast::Hasher::new(),
            bytes: 0,
            tables: 0,
            rows: 0,
            table_rows: 0,
            in_table: false,
        };
        let body = postcard::to_stdvec(header)
            .map_err(|e| BackupFileError::Damaged(format!("cannot encode the header: {e}")))?;
        w.put(MAGIC)?;
        w.put(&FORMAT_VERSION.to_le_bytes())?;
        w.put(&(body.len() as u32).to_le_bytes())?;
        w.put(&body)?;
        Ok(w)
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), BackupFileError> {
        self.crc.update(bytes);
        self.bytes += bytes.len() as u64;
        self.out.write_all(bytes).map_err(BackupFileError::Io)
    }

    pub fn begin_table(&mut self, name: &str) -> Result<(), BackupFileError> {
        if self.in_table {
            self.end_table()?;
        }
        let len = u16::try_from(name.len())
            .ok()
            .filter(|n| *n <= MAX_NAME)
            .ok_or_else(|| BackupFileError::Damaged(format!("table name too long: {name}")))?;
        self.put(&[TAG_TABLE])?;
        self.put(&len.to_le_bytes())?;
        self.put(name.as_bytes())?;
        self.in_table = true;
        self.table_rows = 0;
        self.tables += 1;
        Ok(())
    }

    pub fn row(&mut self, key: &[u8], value: &[u8]) -> Result<(), BackupFileError> {
        let too_big = |n: usize| n > MAX_FIELD as usize;
        if too_big(key.len()) || too_big(value.len()) {
            return Err(BackupFileError::Damaged(
                "a row is larger than 64 MiB".into(),
            ));
        }
        self.put(&[TAG_ROW])?;
        self.put(&(key.len() as u32).to_le_bytes())?;
        self.put(key)?;
        self.put(&(value.len() as u32).to_le_bytes())?;
        self.put(value)?;
        self.table_rows += 1;
        self.rows += 1;
        Ok(())
    }

    pub fn end_table(&mut self) -> Result<(), BackupFileError> {
        if self.in_table {
            self.put(&[TAG_TABLE_END])?;
            self.put(&self.table_rows.to_le_bytes())?;
            self.in_table = false;
        }
        Ok(())
    }

    /// Write the trailer and flush. Returns (tables, rows, bytes).
    pub fn finish(mut self) -> Result<(u32, u64, u64), BackupFileError> {
        self.end_table()?;
        self.put(&[TAG_END])?;
        self.put(&self.tables.to_le_bytes())?;
        self.put(&self.rows.to_le_bytes())?;
        let crc = self.crc.clone().finalize();
        self.out
            .write_all(&crc.to_le_bytes())
            .map_err(BackupFileError::Io)?;
        self.bytes += 4;
        self.out.flush().map_err(BackupFileError::Io)?;
        Ok((self.tables, self.rows, self.bytes))
    }
}

/// One element of a backup file, in order.
#[derive(Debug, PartialEq, Eq)]
pub enum Item {
    Table(String),
    Row(Vec<u8>, Vec<u8>),
    TableEnd,
    /// The trailer, checked: the file is complete and undamaged.
    End {
        tables: u32,
        rows: u64,
    },
}

/// Reads a backup file, checking its structure as it goes and its checksum at the end.
pub struct BackupReader<R: Read> {
    input: R,
    crc: crc32fast::Hasher,
    pub header: BackupHeader,
    tables: u32,
    rows: u64,
    table_rows: u64,
    in_table: bool,
    done: bool,
}

impl<R: Read> BackupReader<R> {
    pub fn open(input: R) -> Result<Self, BackupFileError> {
        let mut r = BackupReader {
            input,
            crc: crc32fast::Hasher::new(),
            header: BackupHeader::default(),
            tables: 0,
            rows: 0,
            table_rows: 0,
            in_table: false,
            done: false,
        };
        let mut magic = [0u8; 8];
        r.take(&mut magic).map_err(|e| match e {
            BackupFileError::Truncated => BackupFileError::NotABackup,
            other => other,
        })?;
        if &magic != MAGIC {
            return Err(BackupFileError::NotABackup);
        }
        let format = u16::from_le_bytes(r.array()?);
        if format != FORMAT_VERSION {
            return Err(BackupFileError::FormatTooNew(format));
        }
        let len = u32::from_le_bytes(r.array()?);
        if len > MAX_HEADER {
            return Err(BackupFileError::Damaged("the header is too large".into()));
        }
        let body = r.vec(len)?;
        r.header = postcard::from_bytes(&body)
            .map_err(|e| BackupFileError::Damaged(format!("unreadable header: {e}")))?;
        Ok(r)
    }

    fn take(&mut self, buf: &mut [u8]) -> Result<(), BackupFileError> {
        self.input.read_exact(buf).map_err(io_err)?;
        self.crc.update(buf);
        Ok(())
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], BackupFileError> {
        let mut b = [0u8; N];
        self.take(&mut b)?;
        Ok(b)
    }

    fn vec(&mut self, len: u32) -> Result<Vec<u8>, BackupFileError> {
        let mut v = vec![0u8; len as usize];
        self.take(&mut v)?;
        Ok(v)
    }

    fn field(&mut self) -> Result<Vec<u8>, BackupFileError> {
        let len = u32::from_le_bytes(self.array()?);
        if len > MAX_FIELD {
            return Err(BackupFileError::Damaged(format!(
                "a row field claims {len} bytes"
            )));
        }
        self.vec(len)
    }

    /// The next element. After [`Item::End`] the file is known complete and intact.
    pub fn next_item(&mut self) -> Result<Item, BackupFileError> {
        if self.done {
            return Err(BackupFileError::Damaged("read past the end".into()));
        }
        let [tag] = self.array::<1>()?;
        match tag {
            TAG_TABLE => {
                if self.in_table {
                    return Err(BackupFileError::Damaged("a table is not closed".into()));
                }
                let len = u16::from_le_bytes(self.array()?);
                if len > MAX_NAME {
                    return Err(BackupFileError::Damaged("a table name is too long".into()));
                }
                let name = String::from_utf8(self.vec(u32::from(len))?)
                    .map_err(|_| BackupFileError::Damaged("a table name is not UTF-8".into()))?;
                self.in_table = true;
                self.table_rows = 0;
                self.tables += 1;
                Ok(Item::Table(name))
            }
            TAG_ROW => {
                if !self.in_table {
                    return Err(BackupFileError::Damaged("a row outside any table".into()));
                }
                let key = self.field()?;
                let value = self.field()?;
                self.table_rows += 1;
                self.rows += 1;
                Ok(Item::Row(key, value))
            }
            TAG_TABLE_END => {
                let n = u64::from_le_bytes(self.array()?);
                if !self.in_table || n != self.table_rows {
                    return Err(BackupFileError::Damaged(format!(
                        "a table ends with {n} rows but {} were read",
                        self.table_rows
                    )));
                }
                self.in_table = false;
                Ok(Item::TableEnd)
            }
            TAG_END => {
                let tables = u32::from_le_bytes(self.array()?);
                let rows = u64::from_le_bytes(self.array()?);
                let computed = self.crc.clone().finalize();
                let mut stored = [0u8; 4];
                self.input.read_exact(&mut stored).map_err(io_err)?;
                let stored = u32::from_le_bytes(stored);
                if stored != computed {
                    return Err(BackupFileError::Checksum { stored, computed });
                }
                if self.in_table || tables != self.tables || rows != self.rows {
                    return Err(BackupFileError::Damaged(
                        "the trailer's counts do not match the file".into(),
                    ));
                }
                let mut extra = [0u8; 1];
                match self.input.read(&mut extra) {
                    Ok(0) => {}
                    Ok(_) => {
                        return Err(BackupFileError::Damaged(
                            "there are bytes after the trailer".into(),
                        ));
                    }
                    Err(e) => return Err(BackupFileError::Io(e)),
                }
                self.done = true;
                Ok(Item::End { tables, rows })
            }
            other => Err(BackupFileError::Damaged(format!(
                "unknown record tag {other:#04x}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let header = BackupHeader {
            schema_version: 3,
            backend: "redb".into(),
            created_at: 1,
            last_update_id: Some(7),
            bot: Some((42, "bot".into())),
        };
        let mut out = Vec::new();
        let mut w = BackupWriter::new(&mut out, &header).unwrap();
        w.begin_table("users").unwrap();
        w.row(b"k1", b"v1").unwrap();
        w.row(b"k2", b"").unwrap();
        w.begin_table("empty").unwrap();
        let (tables, rows, bytes) = w.finish().unwrap();
        assert_eq!((tables, rows), (2, 2));
        assert_eq!(bytes as usize, out.len());
        out
    }

    fn read_all(bytes: &[u8]) -> Result<Vec<Item>, BackupFileError> {
        let mut r = BackupReader::open(bytes)?;
        let mut items = Vec::new();
        loop {
            let item = r.next_item()?;
            let end = matches!(item, Item::End { .. });
            items.push(item);
            if end {
                return Ok(items);
            }
        }
    }

    #[test]
    fn round_trip() {
        let good = sample();
        let header = BackupReader::open(good.as_slice()).unwrap().header;
        assert_eq!(header.last_update_id, Some(7));
        assert_eq!(header.bot, Some((42, "bot".to_string())));
        let items = read_all(&good).unwrap();
        assert_eq!(items[0], Item::Table("users".into()));
        assert_eq!(items[1], Item::Row(b"k1".to_vec(), b"v1".to_vec()));
        assert_eq!(items.last(), Some(&Item::End { tables: 2, rows: 2 }));
    }

    #[test]
    fn every_truncation_and_every_flipped_byte_is_refused() {
        let good = sample();
        for cut in 0..good.len() {
            assert!(read_all(&good[..cut]).is_err(), "cut at {cut} accepted");
        }
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x20;
            assert!(read_all(&bad).is_err(), "flip at {i} accepted");
        }
        let mut longer = good.clone();
        longer.push(0);
        assert!(matches!(
            read_all(&longer),
            Err(BackupFileError::Damaged(_))
        ));
        assert!(matches!(
            read_all(b"not a backup at all"),
            Err(BackupFileError::NotABackup)
        ));
    }
}
