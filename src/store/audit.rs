//! The audit/deployment log.

use rusqlite::params;

use super::{Result, Store, fmt_time, now, parse_time, parse_word};
use crate::domain::audit::{AuditEntry, AuditStatus, NewAuditEntry};

impl Store {
    /// Appends one entry, stamped now.
    pub fn audit(&self, e: &NewAuditEntry) -> Result<()> {
        self.conn.execute(
            "INSERT INTO audit_log (customer_id, subject, actor, action, status, message, details, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                e.customer_id,
                e.subject,
                e.actor,
                e.action,
                e.status.as_str(),
                crate::domain::sanitize::terminal_safe(&e.message),
                e.details,
                fmt_time(now())
            ],
        )?;
        Ok(())
    }

    /// Appends a successful system-level action (users, settings).
    pub(crate) fn audit_system(&self, actor: &str, action: &str, subject: &str, message: &str) -> Result<()> {
        self.audit(&NewAuditEntry {
            customer_id: None,
            subject: subject.to_string(),
            actor: actor.to_string(),
            action: action.to_string(),
            status: AuditStatus::Success,
            message: message.to_string(),
            details: None,
        })
    }

    /// The newest `limit` entries, newest first; only one customer's when `customer_id` is set.
    pub fn audit_log(&self, customer_id: Option<i64>, limit: usize) -> Result<Vec<AuditEntry>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, customer_id, subject, actor, action, status, message, details, created_at FROM audit_log
             WHERE (?1 IS NULL OR customer_id = ?1) ORDER BY id DESC LIMIT ?2",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt
            .query_map(params![customer_id, limit], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Option<i64>>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, Option<String>>(7)?,
                    r.get::<_, String>(8)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(id, customer_id, subject, actor, action, status, message, details, created)| {
                Ok(AuditEntry {
                    id,
                    customer_id,
                    subject,
                    actor,
                    action,
                    status: parse_word("audit_log", &status)?,
                    message,
                    details,
                    created_at: parse_time("audit_log", &created)?,
                })
            })
            .collect()
    }
}
