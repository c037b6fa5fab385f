//! `tgbox backup` and `tgbox restore`, and the control socket through which a running appliance
//! serves backups.
//!
//! The running appliance holds redb's exclusive lock, so another process cannot read the file.
//! It therefore listens on `DIR/control.sock` (a Unix socket, mode 0600, created at start and
//! removed at stop). The protocol is one request line, `backup\n`; the answer is `ok\n` followed
//! by the backup stream, or `error <sentence>\n`. A backup that fails halfway simply ends the
//! stream: the file's missing trailer makes it fail verification. When nobody holds the store,
//! the CLI opens it directly. Either way the CLI writes to a temporary name next to the target,
//! fsyncs, verifies the whole file, and only then renames it into place.

use super::AppError;
use super::search::{index_dir, indexer_config};
use crate::config::Config;
use crate::search;
use crate::store::redb::{self as redb_store, RestoreReport};
use crate::store::{OpenError, SharedStore};
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The control socket inside the data directory.
pub const CONTROL_SOCKET: &str = "control.sock";

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> AppError + '_ {
    move |source| AppError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Stream a backup of `store` into `out`, via the control socket when the appliance runs.
fn write_backup(config: &Config, out: &mut dyn Write) -> Result<(), AppError> {
    let dir = &config.storage.dir;
    let file = dir.join(redb_store::FILE_NAME);
    if !file.exists() {
        return Err(AppError::Refused(format!(
            "there is no tgbox store at {}",
            file.display()
        )));
    }
    match super::open_store(&config.storage) {
        Ok(store) => {
            store.backup(out)?;
            Ok(())
        }
        Err(OpenError::Locked { .. }) => request_backup(&dir.join(CONTROL_SOCKET), out),
        Err(e) => Err(e.into()),
    }
}

#[cfg(unix)]
fn request_backup(socket: &Path, out: &mut dyn Write) -> Result<(), AppError> {
    use std::os::unix::net::UnixStream;
    let mut stream = UnixStream::connect(socket).map_err(|e| {
        AppError::Refused(format!(
            "the store is in use, but the running tgbox does not answer on {}: {e}",
            socket.display()
        ))
    })?;
    stream.write_all(b"backup\n").map_err(io_err(socket))?;
    let mut reader = std::io::BufReader::with_capacity(256 * 1024, stream);
    let mut line = String::new();
    reader.read_line(&mut line).map_err(io_err(socket))?;
    match line.trim_end() {
        "ok" => {}
        other => {
            return Err(AppError::Refused(format!(
                "the running tgbox refused the backup: {}",
                other.strip_prefix("error ").unwrap_or(other)
            )));
        }
    }
    std::io::copy(&mut reader, out).map_err(io_err(socket))?;
    Ok(())
}

#[cfg(not(unix))]
fn request_backup(socket: &Path, _out: &mut dyn Write) -> Result<(), AppError> {
    Err(AppError::Refused(format!(
        "the store is in use; backups of a running tgbox need the Unix socket {}",
        socket.display()
    )))
}

/// `tgbox backup --out FILE`: a consistent backup, written atomically and verified.
pub fn backup_to_file(config: &Config, target: &Path) -> Result<RestoreReport, AppError> {
    let name = target
        .file_name()
        .ok_or_else(|| AppError::Refused(format!("{} is not a file name", target.display())))?;
    let tmp: PathBuf = target.with_file_name(format!(
        ".{}.partial-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let file = std::fs::File::create(&tmp).map_err(io_err(&tmp))?;
        let mut w = std::io::BufWriter::with_capacity(256 * 1024, file);
        write_backup(config, &mut w)?;
        let file = w.into_inner().map_err(|e| io_err(&tmp)(e.into_error()))?;
        file.sync_all().map_err(io_err(&tmp))?;
        drop(file);
        let reader = std::fs::File::open(&tmp).map_err(io_err(&tmp))?;
        let report = redb_store::verify_backup(std::io::BufReader::new(reader))?;
        std::fs::rename(&tmp, target).map_err(io_err(target))?;
        if let Some(parent) = target.parent()
            && let Ok(d) = std::fs::File::open(if parent.as_os_str().is_empty() {
                Path::new(".")
            } else {
                parent
            })
        {
            let _ = d.sync_all();
        }
        Ok(report)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// What `tgbox restore` did.
#[derive(Debug, serde::Serialize)]
pub struct RestoreOutcome {
    pub restored: RestoreReport,
    pub indexed_messages: u64,
}

/// `tgbox restore FILE`: verify, write the store, rebuild the search index.
pub fn restore(config: &Config, file: &Path, force: bool) -> Result<RestoreOutcome, AppError> {
    let dir = &config.storage.dir;
    let non_empty = std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some());
    if non_empty && !force {
        return Err(AppError::Refused(format!(
            "{} is not empty; restore into an empty directory, or pass --force to replace the \
             store there",
            dir.display()
        )));
    }
    if dir.join(redb_store::FILE_NAME).exists() {
        // Refuse to replace the store under a running appliance.
        match super::open_store(&config.storage) {
            Ok(store) => drop(store),
            Err(OpenError::Locked { .. }) => {
                return Err(AppError::Refused(format!(
                    "tgbox is running on {}; stop it before restoring",
                    dir.display()
                )));
            }
            Err(_) => {} // a damaged store is what a restore replaces
        }
    }
    let restored = redb_store::restore_into(file, dir)?;
    let store: SharedStore = super::open_store(&config.storage)?;
    let report = search::rebuild_dir(
        &index_dir(dir),
        &*store,
        &indexer_config(&config.search),
        &mut |_, _| {},
    )?;
    Ok(RestoreOutcome {
        restored,
        indexed_messages: report.messages,
    })
}

/// Serve backups on `DIR/control.sock` until `stop` (Unix only; elsewhere a no-op).
#[cfg(unix)]
pub fn serve_control(
    dir: &Path,
    store: SharedStore,
    stop: CancellationToken,
) -> Result<JoinHandle<()>, AppError> {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(CONTROL_SOCKET);
    // We hold the store's lock, so a socket file left here is stale (a killed predecessor).
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io_err(&path)(e)),
        _ => {}
    }
    let listener = tokio::net::UnixListener::bind(&path).map_err(io_err(&path))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
        .map_err(io_err(&path))?;
    Ok(tokio::spawn(async move {
        loop {
            let conn = tokio::select! {
                _ = stop.cancelled() => break,
                c = listener.accept() => c,
            };
            match conn {
                Ok((stream, _)) => {
                    tokio::spawn(serve_one(stream, store.clone()));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "control socket accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
            }
        }
        let _ = std::fs::remove_file(&path);
    }))
}

#[cfg(unix)]
async fn serve_one(stream: tokio::net::UnixStream, store: SharedStore) {
    use tokio::io::AsyncBufReadExt;
    let mut reader = tokio::io::BufReader::new(stream);
    let mut line = String::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        reader.read_line(&mut line),
    )
    .await;
    if !matches!(read, Ok(Ok(_))) {
        return;
    }
    let stream = reader.into_inner();
    let request = line.trim().to_string();
    let Ok(std_stream) = stream.into_std() else {
        return;
    };
    let _ = tokio::task::spawn_blocking(move || {
        if std_stream.set_nonblocking(false).is_err() {
            return;
        }
        let mut out = std::io::BufWriter::with_capacity(256 * 1024, std_stream);
        if request != "backup" {
            let _ = out.write_all(b"error unknown request; the only one is \"backup\"\n");
            return;
        }
        if out.write_all(b"ok\n").is_err() {
            return;
        }
        match store.backup(&mut out) {
            Ok(summary) => tracing::info!(
                rows = summary.rows,
                bytes = summary.bytes,
                "backup served on the control socket"
            ),
            Err(e) => tracing::warn!(error = %e, "backup on the control socket failed"),
        }
        let _ = out.flush();
    })
    .await;
}

#[cfg(not(unix))]
pub fn serve_control(
    _dir: &Path,
    _store: SharedStore,
    stop: CancellationToken,
) -> Result<JoinHandle<()>, AppError> {
    Ok(tokio::spawn(async move { stop.cancelled().await }))
}

/// Read a whole backup file to check it, without restoring (`tgbox restore --verify-only`).
pub fn verify_file(file: &Path) -> Result<RestoreReport, AppError> {
    let f = std::fs::File::open(file).map_err(io_err(file))?;
    Ok(redb_store::verify_backup(
        std::io::BufReader::new(f).take(u64::MAX),
    )?)
}
