//! The MSP's month, as recorded: the states the monitor saw (spans), the maintenance windows
//! operators' operations opened, per-day device figures, and the ledger of customers (kept by
//! triggers, see migration 22). Times are unix seconds; days are UTC dates.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, params};

use super::{Result, Store};
use crate::domain::sla::{DeviceDay, Lifetime, Month, Served, Span, Target, Window};

/// One customer as the ledger keeps it: what a report names, even after a delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    /// The customer's id.
    pub customer_id: i64,
    /// Its subdomain.
    pub subdomain: String,
    /// Its display name.
    pub name: String,
    /// The contract reference.
    pub contract_id: Option<String>,
    /// Its own uptime promise (`None`: the setting's).
    pub sla_target: Option<Target>,
    /// Its device limit.
    pub max_devices: i64,
    /// When it was created and deleted.
    pub life: Lifetime,
}

/// When a customer's owner token expires and when its last backup was written (unix seconds),
/// and the id of its certificate in the proxy (whose expiry the proxy knows).
pub type TokenAndBackup = (Option<i64>, Option<i64>, Option<i64>);

/// Everything recorded about one month, by customer.
#[derive(Debug, Clone, Default)]
pub struct MonthRecord {
    /// Customers that existed during the month, by id.
    pub customers: Vec<LedgerEntry>,
    /// Their spans.
    pub spans: HashMap<i64, Vec<Span>>,
    /// Their maintenance windows.
    pub windows: HashMap<i64, Vec<Window>>,
    /// Their device days, with the day of the month (1 to 31).
    pub days: HashMap<i64, Vec<(u8, DeviceDay)>>,
}

/// A day's UTC date as stored (`YYYY-MM-DD`).
pub fn day_of(t: i64) -> String {
    let d = time::OffsetDateTime::from_unix_timestamp(t).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

impl Store {
    /// Records what one monitor round saw. A customer whose state and cause are unchanged has
    /// its newest span extended to `now`; a change closes it and opens a new one. After a gap
    /// longer than `gap_s` (no monitor ran) a new span starts: the gap stays unknown. Several
    /// monitors on one database agree: each compares with what is stored, not with its own
    /// memory. Returns the spans opened.
    pub fn record_states(&self, seen: &[(i64, Served, Option<String>)], now: i64, gap_s: i64) -> Result<usize> {
        self.immediate(|conn| {
            let mut latest = conn.prepare_cached(
                "SELECT id, state, cause, end_s FROM sla_spans WHERE customer_id = ?1 AND latest = 1",
            )?;
            let mut extend = conn.prepare_cached("UPDATE sla_spans SET end_s = ?1 WHERE id = ?2 AND end_s < ?1")?;
            let mut retire =
                conn.prepare_cached("UPDATE sla_spans SET latest = 0, end_s = max(end_s, ?1) WHERE id = ?2")?;
            let mut open = conn.prepare_cached(
                "INSERT INTO sla_spans (customer_id, state, cause, start_s, end_s) VALUES (?1, ?2, ?3, ?4, ?4)",
            )?;
            let mut opened = 0;
            for (id, state, cause) in seen {
                let current: Option<(i64, String, Option<String>, i64)> =
                    latest.query_row(params![id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).optional()?;
                let fresh = |end: i64| now - end <= gap_s;
                match current {
                    Some((span, s, c, end)) if s == state.as_str() && c == *cause && fresh(end) => {
                        extend.execute(params![now, span])?;
                    }
                    Some((span, _, _, end)) => {
                        // A change ends the old span now; after a gap it ends where it was last seen.
                        retire.execute(params![if fresh(end) { now } else { end }, span])?;
                        open.execute(params![id, state.as_str(), cause, now])?;
                        opened += 1;
                    }
                    None => {
                        open.execute(params![id, state.as_str(), cause, now])?;
                        opened += 1;
                    }
                }
            }
            Ok(opened)
        })
    }

    /// Opens a maintenance window for an operation `who` started on a customer, closing any
    /// window left open before it (a stop's, which lasts until the customer runs again).
    pub fn open_maintenance(&self, customer_id: i64, operation: &str, who: &str, now: i64) -> Result<i64> {
        self.immediate(|conn| {
            conn.execute(
                "UPDATE sla_maintenance SET end_s = max(start_s, ?2) WHERE customer_id = ?1 AND end_s IS NULL",
                params![customer_id, now],
            )?;
            conn.execute(
                "INSERT INTO sla_maintenance (customer_id, operation, who, start_s) VALUES (?1, ?2, ?3, ?4)",
                params![customer_id, operation, who, now],
            )?;
            Ok(conn.last_insert_rowid())
        })
    }

    /// Closes a window at `now` (a stop that succeeded keeps its own open instead).
    pub fn close_maintenance(&self, window: i64, now: i64) -> Result<()> {
        self.conn.execute(
            "UPDATE sla_maintenance SET end_s = max(start_s, ?2) WHERE id = ?1 AND end_s IS NULL",
            params![window, now],
        )?;
        Ok(())
    }

    /// Closes windows whose process died mid-operation (kill -9 leaves them open): any open
    /// window but a stop's, on a customer no operation holds now.
    pub fn close_abandoned_maintenance(&self, now: i64) -> Result<usize> {
        Ok(self.conn.execute(
            "UPDATE sla_maintenance SET end_s = max(start_s, ?1)
             WHERE end_s IS NULL AND operation <> 'stop'
               AND customer_id NOT IN (SELECT customer_id FROM operation_locks)",
            params![now],
        )?)
    }

    /// Folds one device sample into the customer's day.
    pub fn record_device_sample(
        &self,
        customer_id: i64,
        now: i64,
        online: u32,
        devices: u32,
        users: Option<u32>,
        outdated: Option<u32>,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT INTO device_days (customer_id, day, online_peak, online_sum, samples, devices, users, outdated)
             VALUES (?1, ?2, ?3, ?3, 1, ?4, ?5, ?6)
             ON CONFLICT (customer_id, day) DO UPDATE SET
                 online_peak = max(online_peak, excluded.online_peak),
                 online_sum = online_sum + excluded.online_sum,
                 samples = samples + 1,
                 devices = max(devices, excluded.devices),
                 users = CASE WHEN users IS NULL THEN excluded.users ELSE max(users, coalesce(excluded.users, users)) END,
                 outdated = CASE WHEN outdated IS NULL THEN excluded.outdated ELSE max(outdated, coalesce(excluded.outdated, outdated)) END",
            params![customer_id, day_of(now), online, devices, users, outdated],
        )?;
        Ok(())
    }

    /// Everything recorded that touches `month`, for its reports.
    pub fn month_record(&self, month: Month) -> Result<MonthRecord> {
        let (from, to) = (month.start(), month.end());
        let mut rec = MonthRecord::default();
        let mut stmt = self.conn.prepare(
            "SELECT customer_id, subdomain, name, contract_id, sla_target, max_devices, created_s, deleted_s
             FROM customer_ledger WHERE created_s < ?2 AND (deleted_s IS NULL OR deleted_s > ?1) ORDER BY subdomain",
        )?;
        rec.customers = stmt
            .query_map(params![from, to], |r| {
                Ok(LedgerEntry {
                    customer_id: r.get(0)?,
                    subdomain: r.get(1)?,
                    name: r.get(2)?,
                    contract_id: r.get(3)?,
                    sla_target: r.get::<_, Option<u32>>(4)?.map(Target),
                    max_devices: r.get(5)?,
                    life: Lifetime { created: r.get(6)?, deleted: r.get(7)? },
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut stmt = self.conn.prepare(
            "SELECT customer_id, state, cause, start_s, end_s FROM sla_spans WHERE end_s > ?1 AND start_s < ?2",
        )?;
        let spans = stmt.query_map(params![from, to], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?;
        for s in spans {
            let (id, state, cause, start, end) = s?;
            let state = super::parse_word::<Served>("sla_spans", &state)?;
            rec.spans.entry(id).or_default().push(Span { start, end, state, cause });
        }
        let mut stmt = self.conn.prepare(
            "SELECT customer_id, start_s, end_s FROM sla_maintenance WHERE start_s < ?2 AND (end_s IS NULL OR end_s > ?1)",
        )?;
        let windows = stmt.query_map(params![from, to], |r| Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?)))?;
        for w in windows {
            let (id, start, end) = w?;
            rec.windows.entry(id).or_default().push(Window { start, end });
        }
        let mut stmt = self.conn.prepare(
            "SELECT customer_id, online_peak, online_sum, samples, devices, users, outdated, day FROM device_days
             WHERE day >= ?1 AND day < ?2",
        )?;
        let days = stmt.query_map(params![day_of(from), day_of(to)], |r| {
            let day: String = r.get(7)?;
            Ok((
                r.get::<_, i64>(0)?,
                day.get(8..10).and_then(|d| d.parse::<u8>().ok()).unwrap_or(1),
                DeviceDay {
                    online_peak: r.get(1)?,
                    online_sum: r.get::<_, i64>(2)?.try_into().unwrap_or(0),
                    samples: r.get(3)?,
                    devices: r.get(4)?,
                    users: r.get(5)?,
                    outdated: r.get(6)?,
                },
            ))
        })?;
        for d in days {
            let (id, n, day) = d?;
            rec.days.entry(id).or_default().push((n, day));
        }
        Ok(rec)
    }

    /// Per deployed customer: when its owner's token expires, when its last backup was written
    /// (unix seconds) and its certificate's id in the proxy, for the metrics endpoint.
    pub fn token_and_backup_times(&self) -> Result<HashMap<i64, TokenAndBackup>> {
        let mut stmt = self.conn.prepare(
            "SELECT d.customer_id, CAST(strftime('%s', d.pat_expires_at) AS INTEGER),
                    (SELECT CAST(strftime('%s', max(b.created_at)) AS INTEGER) FROM customer_backups b WHERE b.customer_id = d.customer_id),
                    d.npm_certificate_id
             FROM deployments d",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, (r.get(1)?, r.get(2)?, r.get(3)?))))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Forgets history that ended before `before` (unix seconds): spans, closed windows, device
    /// days and deleted customers' ledger entries. Returns the rows removed.
    pub fn prune_history(&self, before: i64) -> Result<usize> {
        self.immediate(|conn| {
            let mut n = conn.execute("DELETE FROM sla_spans WHERE end_s < ?1 AND latest = 0", params![before])?;
            n += conn.execute("DELETE FROM sla_maintenance WHERE end_s IS NOT NULL AND end_s < ?1", params![before])?;
            n += conn.execute("DELETE FROM device_days WHERE day < ?1", params![day_of(before)])?;
            n += conn.execute(
                "DELETE FROM customer_ledger WHERE deleted_s IS NOT NULL AND deleted_s < ?1",
                params![before],
            )?;
            Ok(n)
        })
    }

    /// Rows and bytes the history takes (for the benchmark and `doctor`).
    pub fn history_size(&self) -> Result<(i64, i64)> {
        let rows: i64 = self.conn.query_row(
            "SELECT (SELECT count(*) FROM sla_spans) + (SELECT count(*) FROM sla_maintenance)
                  + (SELECT count(*) FROM device_days) + (SELECT count(*) FROM customer_ledger)",
            [],
            |r| r.get(0),
        )?;
        // dbstat is not in every build; the page count of the whole file is.
        let bytes: i64 = self
            .conn
            .query_row(
                "SELECT sum(pgsize) FROM dbstat WHERE name IN ('sla_spans', 'sla_maintenance', 'device_days', 'customer_ledger',
                     'sla_spans_time', 'sla_spans_latest', 'sla_maintenance_customer')",
                [],
                |r| r.get::<_, Option<i64>>(0),
            )
            .optional()
            .ok()
            .flatten()
            .flatten()
            .unwrap_or(-1);
        Ok((rows, bytes))
    }
}

#[cfg(test)]
#[path = "history_tests.rs"]
mod tests;
