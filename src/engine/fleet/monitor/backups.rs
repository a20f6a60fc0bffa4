//! Scheduled backups: every `backup.schedule_h` hours each deployed customer is backed up into
//! `backup.dir`, the newest `backup.keep` scheduled backups are kept, and a failure raises the
//! customer's `backup` alert until a backup succeeds.

use std::time::{Duration, Instant};

use super::Monitor;
use crate::domain::settings::Settings;
use crate::engine::EngineError;
use crate::engine::data::customer_backup;

/// How often the monitor looks whether a backup is due (one database read per customer).
const CHECK_EVERY: Duration = Duration::from_secs(60);

impl Monitor<'_> {
    /// Backs up the customers whose scheduled backup is due, one at a time (a backup pauses a
    /// stack and copies its data: not something to run 100 of at once). Only the monitor that
    /// holds the alert lease does this, so two monitors do not both write backups. True when a
    /// failure started or ended.
    pub async fn backups_due(&mut self, settings: &Settings, force: bool) -> Result<bool, EngineError> {
        let Some(hours) = settings.backup_schedule_h else { return Ok(false) };
        if !self.acting || !self.alerting || (!force && Instant::now() < self.next_backup_check) {
            return Ok(false);
        }
        self.next_backup_check = Instant::now() + CHECK_EVERY;
        let every = time::Duration::hours(i64::try_from(hours).unwrap_or(i64::MAX / 3600));
        let now = crate::store::now();
        let deployed: Vec<(i64, String)> = self
            .rows
            .iter()
            .filter(|r| r.udp_port.is_some())
            .map(|r| (r.customer.id, r.customer.subdomain.clone()))
            .collect();
        let mut changed = false;
        for (id, _) in deployed {
            let scheduled: Vec<_> =
                self.store.backups_of(id, 10_000)?.into_iter().filter(|b| b.kind == "scheduled").collect();
            let last = scheduled.first().and_then(|b| crate::store::parse_time("customer_backups", &b.created_at).ok());
            if last.is_some_and(|t| now - t < every) {
                continue;
            }
            let result = self.backup_one(id, settings).await;
            changed |= match result {
                Ok(()) => {
                    self.prune(id, settings.backup_keep)?;
                    self.backup_failures.remove(&id).is_some()
                }
                // Busy with another operation: tried again at the next check.
                Err(EngineError::Store(crate::store::StoreError::Conflict(m))) if m.starts_with("busy:") => false,
                Err(e) => self.backup_failures.insert(id, e.to_string()).is_none(),
            };
        }
        Ok(changed)
    }

    async fn backup_one(&self, id: i64, settings: &Settings) -> Result<(), EngineError> {
        let customer = self.store.customer(id)?;
        let out = customer_backup::backup_file(self.store, settings, &customer, "scheduled")?;
        self.ops().backup(id, &out, None, "scheduled").await.map(|_| ())
    }

    /// Deletes the customer's scheduled backups beyond the newest `keep` (files and records).
    fn prune(&self, id: i64, keep: usize) -> Result<(), EngineError> {
        let scheduled: Vec<_> =
            self.store.backups_of(id, 10_000)?.into_iter().filter(|b| b.kind == "scheduled").collect();
        for old in scheduled.into_iter().skip(keep) {
            match std::fs::remove_file(&old.path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(EngineError::Files(format!("cannot delete the old backup {}: {e}", old.path))),
            }
            self.store.forget_backup(old.id)?;
        }
        Ok(())
    }
}
