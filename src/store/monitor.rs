//! What the fleet monitor reads and writes: per-customer check results, status verdicts (only
//! when they change, and never under a running operation), and the firing alert set.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::{OptionalExtension, params};

use super::{Result, Store, fmt_time, now, parse_time};
use crate::domain::Timestamp;
use crate::domain::alerts::ActiveAlert;
use crate::domain::audit::AuditStatus;
use crate::domain::customer::{Customer, CustomerStatus};
use crate::domain::fleet::ProbeSeen;

/// What the monitor keeps per deployed customer beside the customer row.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetExtras {
    /// Since when the certificate is pending.
    pub pending_since: Option<Timestamp>,
    /// The last health probe.
    pub probe: Option<ProbeSeen>,
    /// When it ran.
    pub probe_at: Option<Timestamp>,
    /// CPU percent (all containers) at the last sample.
    pub cpu_percent: Option<f64>,
    /// Memory bytes (all containers) at the last sample.
    pub memory_bytes: Option<u64>,
    /// When that sample was taken.
    pub stats_at: Option<Timestamp>,
}

type ExtrasRow = (
    i64,
    Option<String>,
    Option<bool>,
    Option<bool>,
    Option<bool>,
    Option<String>,
    Option<String>,
    Option<f64>,
    Option<i64>,
    Option<String>,
    Option<String>,
);

impl Store {
    /// Monitor data of every deployed customer, keyed by customer id, in one query.
    pub fn fleet_extras(&self) -> Result<BTreeMap<i64, FleetExtras>> {
        let mut stmt = self.conn.prepare(
            "SELECT d.customer_id, d.proxy_pending_since, k.health_ok, k.stun_ok, k.dashboard_ok, k.health_reason, k.health_checked_at,
                    k.cpu_percent, k.memory_bytes, k.stats_at, k.public_reason
             FROM deployments d LEFT JOIN customer_checks k ON k.customer_id = d.customer_id",
        )?;
        let rows: Vec<ExtrasRow> = stmt
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                    r.get(10)?,
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let time = |s: Option<String>| s.map(|s| parse_time("customer_checks", &s)).transpose();
        rows.into_iter()
            .map(|(id, since, ok, stun_ok, dashboard_ok, reason, at, cpu, mem, stats_at, public)| {
                let probe = ok.map(|http_ok| ProbeSeen {
                    http_ok,
                    dashboard_ok: dashboard_ok.unwrap_or(true),
                    stun_ok,
                    reason: reason.clone(),
                    public,
                });
                Ok((
                    id,
                    FleetExtras {
                        pending_since: time(since)?,
                        probe,
                        probe_at: time(at)?,
                        cpu_percent: cpu,
                        memory_bytes: mem.and_then(|m| u64::try_from(m).ok()),
                        stats_at: time(stats_at)?,
                    },
                ))
            })
            .collect()
    }

    /// Customers an operation is running on now (a live, non-stale lock).
    pub fn busy_customers(&self) -> Result<BTreeSet<i64>> {
        let ids: Vec<i64> = self
            .conn
            .prepare("SELECT customer_id FROM operation_locks")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let now_s = now().unix_timestamp();
        let mut busy = BTreeSet::new();
        for id in ids {
            if self.lock_holder(id)?.is_some_and(|h| !h.is_stale(now_s)) {
                busy.insert(id);
            }
        }
        Ok(busy)
    }

    fn ensure_check_row(&self, customer_id: i64) -> Result<()> {
        self.conn.execute(
            "INSERT INTO customer_checks (customer_id, checked_at, containers_up, containers_total)
             SELECT ?1, ?2, 0, 0 WHERE EXISTS (SELECT 1 FROM customers WHERE id = ?1)
             ON CONFLICT (customer_id) DO NOTHING",
            params![customer_id, fmt_time(now())],
        )?;
        Ok(())
    }

    /// Records the container counts seen for a customer.
    pub fn record_containers(&self, customer_id: i64, up: usize, total: usize) -> Result<()> {
        self.ensure_check_row(customer_id)?;
        self.conn.execute(
            "UPDATE customer_checks SET checked_at = ?1, containers_up = ?2, containers_total = ?3 WHERE customer_id = ?4",
            params![fmt_time(now()), up as i64, total as i64, customer_id],
        )?;
        Ok(())
    }

    /// Records a health probe (`reason` says what failed).
    pub fn record_probe(&self, customer_id: i64, probe: &ProbeSeen) -> Result<()> {
        self.ensure_check_row(customer_id)?;
        self.conn.execute(
            "UPDATE customer_checks SET health_ok = ?1, stun_ok = ?2, dashboard_ok = ?3, health_reason = ?4,
                    health_checked_at = ?5, public_reason = ?6 WHERE customer_id = ?7",
            params![
                probe.http_ok,
                probe.stun_ok,
                probe.dashboard_ok,
                probe.reason,
                fmt_time(now()),
                probe.public,
                customer_id
            ],
        )?;
        Ok(())
    }

    /// Forgets the last probe (the containers changed: it says nothing about the new ones).
    pub fn clear_probe(&self, customer_id: i64) -> Result<()> {
        self.conn.execute(
            "UPDATE customer_checks SET health_ok = NULL, stun_ok = NULL, dashboard_ok = NULL, health_reason = NULL,
                    public_reason = NULL WHERE customer_id = ?1",
            params![customer_id],
        )?;
        Ok(())
    }

    /// Records a resource sample summed over the customer's containers.
    pub fn record_stats(&self, customer_id: i64, cpu_percent: f64, memory_bytes: u64) -> Result<()> {
        self.ensure_check_row(customer_id)?;
        self.conn.execute(
            "UPDATE customer_checks SET cpu_percent = ?1, memory_bytes = ?2, stats_at = ?3 WHERE customer_id = ?4",
            params![cpu_percent, i64::try_from(memory_bytes).unwrap_or(i64::MAX), fmt_time(now()), customer_id],
        )?;
        Ok(())
    }

    /// Stores the monitor's verdict when it differs from the stored status, unless an operation
    /// took the customer meanwhile (checked in the same statement, so a deploy that starts
    /// between the monitor's read and this write keeps its `deploying`). Returns whether it
    /// changed; a change goes to the audit log as the `monitor`'s.
    pub fn apply_verdict(&self, c: &Customer, status: CustomerStatus, reason: Option<&str>) -> Result<bool> {
        let changed = self.conn.execute(
            "UPDATE customers SET status = ?1, status_reason = ?2
             WHERE id = ?3 AND status = ?4 AND status != 'deploying'
               AND (status != ?1 OR status_reason IS NOT ?2)
               AND NOT EXISTS (SELECT 1 FROM operation_locks WHERE customer_id = ?3)",
            params![status.as_str(), reason.map(crate::domain::sanitize::terminal_safe), c.id, c.status.as_str()],
        )? > 0;
        if changed && status != c.status {
            let level = match status {
                CustomerStatus::Active => AuditStatus::Success,
                CustomerStatus::Error => AuditStatus::Error,
                _ => AuditStatus::Info,
            };
            let why = reason.map(|r| format!(": {r}")).unwrap_or_default();
            self.log_customer("monitor", c, "monitor", level, &format!("{} → {status}{why}", c.status))?;
        }
        Ok(changed)
    }

    /// The firing alerts a previous monitor run left.
    pub fn active_alerts(&self) -> Result<Vec<ActiveAlert>> {
        let mut stmt =
            self.conn.prepare("SELECT key, scope, kind, message, since, notified FROM alert_state ORDER BY key")?;
        let rows = stmt
            .query_map([], |r| {
                let since: String = r.get(4)?;
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, since, r.get(5)?))
            })?
            .collect::<rusqlite::Result<Vec<(String, String, String, String, String, bool)>>>()?;
        rows.into_iter()
            .map(|(key, scope, kind, message, since, notified)| {
                let since = parse_time("alert_state", &since)?.unix_timestamp();
                Ok(ActiveAlert { key, scope, kind, message, since, notified })
            })
            .collect()
    }

    /// Replaces the stored firing set.
    pub fn save_alerts<'a>(&self, alerts: impl IntoIterator<Item = &'a ActiveAlert>) -> Result<()> {
        let alerts: Vec<&ActiveAlert> = alerts.into_iter().collect();
        self.immediate(|conn| {
            conn.execute("DELETE FROM alert_state", [])?;
            let mut stmt = conn.prepare(
                "INSERT INTO alert_state (key, scope, kind, message, since, notified) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for a in alerts {
                let since = time::OffsetDateTime::from_unix_timestamp(a.since).unwrap_or_else(|_| now());
                stmt.execute(params![a.key, a.scope, a.kind, a.message, fmt_time(since), a.notified])?;
            }
            Ok(())
        })
    }

    /// Takes or renews the right to send alerts for `ttl_s` seconds. Several monitors (the
    /// headless one, open apps) may run on one database; only the holder sends, so nothing
    /// is announced twice. True when `holder` has it.
    pub fn claim_alert_lease(&self, holder: &str, now_s: i64, ttl_s: i64) -> Result<bool> {
        self.immediate(|conn| {
            let current: Option<String> =
                conn.query_row("SELECT value FROM meta WHERE key = 'alert_lease'", [], |r| r.get(0)).optional()?;
            let free = current.as_deref().is_none_or(|v| {
                let (who, until) = v.rsplit_once('|').unwrap_or((v, "0"));
                who == holder || until.parse::<i64>().unwrap_or(0) < now_s
            });
            if free {
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('alert_lease', ?1)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    params![format!("{holder}|{}", now_s + ttl_s)],
                )?;
            }
            Ok(free)
        })
    }

    /// Gives the alert lease up (a monitor that stops), so another may take it at once.
    pub fn release_alert_lease(&self, holder: &str) -> Result<()> {
        self.conn.execute("DELETE FROM meta WHERE key = 'alert_lease' AND value LIKE ?1 || '|%'", params![holder])?;
        Ok(())
    }

    /// Stores a small fact in `meta` (e.g. when the monitor last judged the fleet).
    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    /// A fact from `meta`.
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self.conn.query_row("SELECT value FROM meta WHERE key = ?1", params![key], |r| r.get(0)).optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::customer::{Layout, NewCustomer};

    fn store_with_customer() -> (Store, Customer) {
        let s = Store::open_in_memory().unwrap();
        let c = s
            .create_customer(
                "admin",
                &NewCustomer {
                    name: "ACME".into(),
                    company: String::new(),
                    subdomain: "acme".into(),
                    email: "it@acme.example".into(),
                    max_devices: 20,
                    notes: String::new(),
                    contract_id: None,
                    psa_ref: None,
                    sla_target: None,
                    reverse_proxy: false,
                    layout: Layout::Combined,
                },
            )
            .unwrap();
        (s, c)
    }

    #[test]
    fn verdicts_change_once_and_are_audited() {
        let (s, c) = store_with_customer();
        assert!(s.apply_verdict(&c, CustomerStatus::Error, Some("server container is down")).unwrap());
        // The same verdict again from a stale read: nothing happens (status no longer matches).
        assert!(!s.apply_verdict(&c, CustomerStatus::Error, Some("server container is down")).unwrap());
        let c = s.customer(c.id).unwrap();
        assert_eq!((c.status, c.status_reason.as_deref()), (CustomerStatus::Error, Some("server container is down")));
        let log = s.audit_log(Some(c.id), 10).unwrap();
        assert!(log.iter().any(|e| e.actor == "monitor" && e.message == "inactive → error: server container is down"));
        assert!(s.apply_verdict(&c, CustomerStatus::Degraded, Some("STUN")).unwrap());
    }

    #[test]
    fn verdicts_never_override_a_running_operation() {
        let (s, c) = store_with_customer();
        s.set_customer_status(c.id, CustomerStatus::Deploying, None).unwrap();
        let c = s.customer(c.id).unwrap();
        assert!(!s.apply_verdict(&c, CustomerStatus::Error, Some("x")).unwrap());
        s.set_customer_status(c.id, CustomerStatus::Active, None).unwrap();
        let c = s.customer(c.id).unwrap();
        s.acquire_lock(c.id, "restart", "admin", std::process::id(), now().unix_timestamp()).unwrap();
        assert!(!s.apply_verdict(&c, CustomerStatus::Error, Some("x")).unwrap());
        assert_eq!(s.busy_customers().unwrap().into_iter().collect::<Vec<_>>(), [c.id]);
    }

    #[test]
    fn one_alert_sender_at_a_time() {
        let (s, _) = store_with_customer();
        assert!(s.claim_alert_lease("host:1", 100, 60).unwrap());
        assert!(!s.claim_alert_lease("host:2", 120, 60).unwrap(), "held by host:1");
        assert!(s.claim_alert_lease("host:1", 150, 60).unwrap(), "renewed");
        assert!(s.claim_alert_lease("host:2", 211, 60).unwrap(), "expired, taken over");
        s.release_alert_lease("host:2").unwrap();
        assert!(s.claim_alert_lease("host:1", 212, 60).unwrap(), "released");
    }

    #[test]
    fn alerts_round_trip() {
        let (s, _) = store_with_customer();
        let a = ActiveAlert {
            key: "acme/stun".into(),
            scope: "acme".into(),
            kind: "stun".into(),
            message: "STUN does not answer".into(),
            since: 1_700_000_000,
            notified: true,
        };
        s.save_alerts([&a]).unwrap();
        assert_eq!(s.active_alerts().unwrap(), [a]);
        s.save_alerts([]).unwrap();
        assert!(s.active_alerts().unwrap().is_empty());
    }

    #[test]
    fn checks_are_recorded_and_read_back() {
        let (s, c) = store_with_customer();
        s.allocate_deployment(c.id, "nb-acme", 3478, 10, |_| true).unwrap();
        s.record_containers(c.id, 2, 2).unwrap();
        let probe = ProbeSeen {
            http_ok: true,
            dashboard_ok: true,
            stun_ok: Some(false),
            reason: Some("STUN: no answer".into()),
            public: Some("DNS: acme.msp.example does not resolve yet".into()),
        };
        s.record_probe(c.id, &probe).unwrap();
        s.record_stats(c.id, 12.5, 1 << 20).unwrap();
        let x = &s.fleet_extras().unwrap()[&c.id];
        assert_eq!(x.probe.as_ref().map(|p| (p.http_ok, p.stun_ok)), Some((true, Some(false))));
        assert_eq!((x.cpu_percent, x.memory_bytes), (Some(12.5), Some(1 << 20)));
        s.set_proxy_state(c.id, Some(1), None, false, Some("DNS")).unwrap();
        let since = s.fleet_extras().unwrap()[&c.id].pending_since;
        assert!(since.is_some());
        s.set_proxy_state(c.id, Some(1), None, false, Some("DNS again")).unwrap();
        assert_eq!(s.fleet_extras().unwrap()[&c.id].pending_since, since, "the first time is kept");
        s.set_proxy_state(c.id, Some(1), None, false, None).unwrap();
        assert_eq!(s.fleet_extras().unwrap()[&c.id].pending_since, None);
    }
}
