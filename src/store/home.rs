//! Where nbmsp keeps its database, logs and instance files.

use std::path::{Path, PathBuf};

use super::{Result, StoreError};

/// The data home: `--home`/`NBMSP_HOME` when given, else the platform's data directory
/// (`~/.local/share/nbmsp` on Linux).
pub fn resolve(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    directories::ProjectDirs::from("", "", "nbmsp").map(|d| d.data_dir().to_path_buf()).ok_or_else(|| StoreError::Io {
        context: "cannot find a home directory for nbmsp's data; pass --home DIR or set NBMSP_HOME".into(),
        source: std::io::Error::from(std::io::ErrorKind::NotFound),
    })
}

/// Creates `dir` (and parents) readable only by the owner: it holds the database and secrets.
pub fn ensure_private_dir(dir: &Path) -> Result<()> {
    let io = |source| StoreError::Io { context: format!("cannot create {}", dir.display()), source };
    std::fs::create_dir_all(dir).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
    }
    Ok(())
}

/// Creates `dir` owner-only (0700) when it does not exist; an existing directory keeps its mode.
/// For directories an operator may point nbmsp at (`backup.dir`, `data_dir`): a shared 1777
/// directory must stay usable by the others, and what nbmsp writes inside is private anyway.
pub fn private_dir_if_new(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    ensure_private_dir(dir)
}

/// The database file inside `home`.
pub fn db_path(home: &Path) -> PathBuf {
    home.join(super::DB_FILE)
}

/// The log directory inside `home`.
pub fn log_dir(home: &Path) -> PathBuf {
    home.join("logs")
}

/// The default `data_dir` setting for a new installation.
pub fn default_data_dir(home: &Path) -> PathBuf {
    home.join("instances")
}
