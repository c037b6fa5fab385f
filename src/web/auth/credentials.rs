//! The admin password: an argon2id hash in `DIR/admin.json`, written atomically with mode 0600.
//! The store schema is untouched; `tgbox admin set-password` and the setup page both write here.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use thiserror::Error;

pub const ADMIN_FILE: &str = "admin.json";
/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;

#[derive(Debug, Error)]
pub enum CredentialsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a valid admin file: {detail}")]
    Invalid { path: PathBuf, detail: String },
    #[error("the password must have at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("cannot hash the password: {0}")]
    Hash(String),
}

#[derive(Serialize, Deserialize)]
struct AdminFile {
    version: u32,
    password_hash: String,
}

fn path_in(dir: &Path) -> PathBuf {
    dir.join(ADMIN_FILE)
}

/// The stored hash, or `None` when no password was ever set.
pub fn load_hash(dir: &Path) -> Result<Option<String>, CredentialsError> {
    let path = path_in(dir);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(CredentialsError::Read { path, source }),
    };
    let file: AdminFile = serde_json::from_str(&text).map_err(|e| CredentialsError::Invalid {
        path: path.clone(),
        detail: e.to_string(),
    })?;
    if PasswordHash::new(&file.password_hash).is_err() {
        return Err(CredentialsError::Invalid {
            path,
            detail: "password_hash is not a PHC string".into(),
        });
    }
    Ok(Some(file.password_hash))
}

/// Hash `password` with argon2id (default parameters: 19 MiB, 2 passes) and a random salt.
pub fn hash_password(password: &str) -> Result<String, CredentialsError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(CredentialsError::TooShort);
    }
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| CredentialsError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| CredentialsError::Hash(e.to_string()))
}

/// Constant-time (inside argon2) check of `password` against a stored hash.
pub fn verify(hash: &str, password: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Hash and store a new password; returns the hash.
pub fn set_password(dir: &Path, password: &str) -> Result<String, CredentialsError> {
    let hash = hash_password(password)?;
    write_hash(dir, &hash)?;
    Ok(hash)
}

/// Write the admin file atomically (temp file, fsync, rename) with mode 0600.
pub fn write_hash(dir: &Path, hash: &str) -> Result<(), CredentialsError> {
    let path = path_in(dir);
    let io = |source| CredentialsError::Write {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let body = serde_json::to_string_pretty(&AdminFile {
        version: 1,
        password_hash: hash.to_string(),
    })
    .map_err(|e| CredentialsError::Hash(e.to_string()))?;
    let tmp = dir.join(format!("{ADMIN_FILE}.tmp"));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp).map_err(io)?;
    file.write_all(body.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    drop(file);
    std::fs::rename(&tmp, &path).map_err(io)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_permissions() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load_hash(dir.path()).unwrap().is_none());
        assert!(matches!(
            set_password(dir.path(), "short"),
            Err(CredentialsError::TooShort)
        ));
        set_password(dir.path(), "correct horse").unwrap();
        let hash = load_hash(dir.path()).unwrap().unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify(&hash, "correct horse"));
        assert!(!verify(&hash, "wrong horse!"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(ADMIN_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(dir.path().join(ADMIN_FILE), "{nonsense").unwrap();
        assert!(load_hash(dir.path()).is_err());
    }
}
