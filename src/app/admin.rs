//! `tgbox admin ...`: dashboard administration from the terminal.

use crate::config::Config;
pub use crate::web::auth::credentials::{CredentialsError, MIN_PASSWORD_CHARS};
use std::path::PathBuf;

/// Hash `password` (argon2id) into `DIR/admin.json`; a running appliance picks it up at the
/// next login. Returns the file written.
pub fn set_password(config: &Config, password: &str) -> Result<PathBuf, CredentialsError> {
    let dir = &config.storage.dir;
    crate::web::auth::credentials::set_password(dir, password)?;
    Ok(dir.join(crate::web::auth::credentials::ADMIN_FILE))
}
