//! The record of customer backups: where each went, for the Deployment tab, the CLI and the
//! scheduled backups' retention.

use rusqlite::params;

use super::{Result, Store, fmt_time, now};
pub use crate::domain::deployment::BackupRecord;

const COLUMNS: &str = "id, customer_id, subdomain, path, bytes, kind, actor, created_at";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<BackupRecord> {
    Ok(BackupRecord {
        id: r.get(0)?,
        customer_id: r.get(1)?,
        subdomain: r.get(2)?,
        path: r.get(3)?,
        bytes: u64::try_from(r.get::<_, i64>(4)?).unwrap_or(0),
        kind: r.get(5)?,
        actor: r.get(6)?,
        created_at: r.get(7)?,
    })
}

impl Store {
    /// Records a backup written for a customer.
    pub fn record_backup(
        &self,
        customer_id: i64,
        subdomain: &str,
        path: &str,
        bytes: u64,
        kind: &str,
        actor: &str,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT INTO customer_backups (customer_id, subdomain, path, bytes, kind, actor, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                customer_id,
                subdomain,
                path,
                i64::try_from(bytes).unwrap_or(i64::MAX),
                kind,
                actor,
                fmt_time(now())
            ],
        )?;
        Ok(())
    }

    /// A customer's backups, newest first.
    pub fn backups_of(&self, customer_id: i64, limit: usize) -> Result<Vec<BackupRecord>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM customer_backups WHERE customer_id = ?1 ORDER BY id DESC LIMIT ?2"
        ))?;
        Ok(stmt
            .query_map(params![customer_id, i64::try_from(limit).unwrap_or(i64::MAX)], row)?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// Forgets one record (its file was pruned).
    pub fn forget_backup(&self, id: i64) -> Result<()> {
        self.conn.execute("DELETE FROM customer_backups WHERE id = ?1", params![id])?;
        Ok(())
    }
}
