//! Consistent online backups through SQLite's backup API.

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
        std::fs::rename(&tmp, out).map_err(io(format!("cannot move the backup to {}", out.display())))?;
        Ok(())
    }
}
