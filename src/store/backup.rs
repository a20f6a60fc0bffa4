//! Consistent online backups of the whole database through SQLite's backup API, and putting
//! one back in place of a damaged or lost database.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, backup::Backup};

use super::{Result, Store, StoreError};

impl Store {
    /// Copies the whole database to `out` while other processes keep using it. The copy is
    /// written beside `out` and renamed into place, so `out` is either complete or absent.
    /// Secrets stay encrypted in the copy.
    pub fn backup_to(&self, out: &Path) -> Result<()> {
        let io = |context: String| move |source| StoreError::Io { context, source };
        if out.exists() {
            return Err(StoreError::Conflict(format!(
                "{} already exists; choose another file or remove it first",
                out.display()
            )));
        }
        let tmp = out.with_extension("partial");
        let _ = std::fs::remove_file(&tmp);
        {
            let mut dst = Connection::open(&tmp)?;
            let backup = Backup::new(&self.conn, &mut dst)?;
            // Small steps with pauses let writers in other processes proceed during a long copy.
            backup.run_to_completion(256, Duration::from_millis(5), None)?;
        }
        let check = Connection::open(&tmp)?;
        let ok: String = check.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
        drop(check);
        if ok != "ok" {
            let _ = std::fs::remove_file(&tmp);
            return Err(StoreError::Corrupt { table: "backup", detail: ok });
        }
        // It holds password hashes and the wrapped data key: readable by the owner only.
        set_private(&tmp)?;
        std::fs::rename(&tmp, out).map_err(io(format!("cannot move the backup to {}", out.display())))?;
        Ok(())
    }
}

fn set_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|source| StoreError::Io { context: format!("cannot restrict {}", path.display()), source })
}

/// What a database backup holds, as checked before it is put in place.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BackupInfo {
    /// Its schema version (older ones are migrated when opened).
    pub schema_version: usize,
    /// The installation its containers are labelled with.
    pub installation_id: String,
    /// Customers in it.
    pub customers: i64,
    /// Users in it.
    pub users: i64,
}

/// Checks that `file` is a whole nbmsp database this build can open: an SQLite file that passes
/// SQLite's integrity check, at a schema version this build knows, with an installation id and
/// an admin.
pub fn check_backup(file: &Path) -> Result<BackupInfo> {
    let bad = |detail: String| StoreError::Damaged { path: file.to_path_buf(), detail };
    super::check_file(file)?;
    // Checked on a private copy: opening the file itself could create -wal/-shm beside it.
    let dir = tempfile::tempdir()
        .map_err(|source| StoreError::Io { context: "cannot create a temporary directory".into(), source })?;
    let copy = dir.path().join("check.db");
    std::fs::copy(file, &copy)
        .map_err(|source| StoreError::Io { context: format!("cannot read {}", file.display()), source })?;
    let conn = Connection::open(&copy)?;
    let ok: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0)).map_err(|e| bad(e.to_string()))?;
    if ok != "ok" {
        return Err(bad(format!("SQLite's check failed: {ok}")));
    }
    let version = super::migrations::version(&conn)?;
    if version == 0 {
        return Err(bad("it holds no nbmsp schema".into()));
    }
    if version > super::migrations::LATEST {
        return Err(StoreError::TooNew { found: version, known: super::migrations::LATEST });
    }
    let one = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).map_err(|e| bad(e.to_string()));
    let installation_id: String = conn
        .query_row("SELECT value FROM meta WHERE key = 'installation_id'", [], |r| r.get(0))
        .map_err(|e| bad(format!("no installation id: {e}")))?;
    let info = BackupInfo {
        schema_version: version,
        installation_id,
        customers: one("SELECT count(*) FROM customers")?,
        users: one("SELECT count(*) FROM users")?,
    };
    if one("SELECT count(*) FROM users WHERE role = 'admin'")? == 0 {
        return Err(bad("it has no admin user".into()));
    }
    Ok(info)
}

/// Puts the database backup `file` in place at `db` after [`check_backup`]. What was at `db`
/// (with its WAL files) is moved aside, never deleted, and its new name returned.
pub fn restore_database(file: &Path, db: &Path) -> Result<(BackupInfo, Option<std::path::PathBuf>)> {
    let info = check_backup(file)?;
    let io = |context: String| move |source| StoreError::Io { context, source };
    let incoming = db.with_extension("db.restoring");
    std::fs::copy(file, &incoming).map_err(io(format!("cannot copy {} beside the database", file.display())))?;
    std::fs::File::open(&incoming)
        .and_then(|f| f.sync_all())
        .map_err(io(format!("cannot sync {}", incoming.display())))?;
    set_private(&incoming)?;
    let mut aside = None;
    if db.exists() {
        let stamp = time::OffsetDateTime::now_utc().unix_timestamp();
        let name = |suffix: &str| {
            let mut n = db.as_os_str().to_owned();
            n.push(suffix);
            std::path::PathBuf::from(n)
        };
        let moved = name(&format!(".replaced-{stamp}"));
        std::fs::rename(db, &moved).map_err(io(format!("cannot move {} aside", db.display())))?;
        // A WAL belongs to the file it was written for: left beside the new one it would be
        // read as part of it.
        for suffix in ["-wal", "-shm"] {
            let (from, to) = (name(suffix), name(&format!(".replaced-{stamp}{suffix}")));
            if from.exists() {
                std::fs::rename(&from, &to).map_err(io(format!("cannot move {} aside", from.display())))?;
            }
        }
        aside = Some(moved);
    }
    std::fs::rename(&incoming, db).map_err(io(format!("cannot move the backup to {}", db.display())))?;
    Ok((info, aside))
}
