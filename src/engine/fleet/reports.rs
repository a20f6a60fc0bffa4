//! The month's reports: per customer, the uptime against its promise with the seconds that
//! decided it, and the device figures to bill — from what the monitor recorded, in UTC.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::domain::settings::Settings;
use crate::domain::sla::{self, Month, Target};
use crate::store::history::LedgerEntry;
use crate::store::{Store, StoreError};

/// Which report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    /// Uptime against each customer's SLA, misses first.
    Uptime,
    /// Devices and users per customer.
    Devices,
    /// One line per customer for invoicing: contract, devices, users, uptime, SLA.
    Invoice,
}

impl ReportKind {
    /// The word in commands and file names.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Uptime => "uptime",
            Self::Devices => "devices",
            Self::Invoice => "invoice",
        }
    }
}

/// One customer's month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportRow {
    /// Its subdomain.
    pub subdomain: String,
    /// Its display name.
    pub name: String,
    /// The contract reference.
    pub contract_id: Option<String>,
    /// Available ÷ measured, percent (`None`: nothing was measured).
    pub uptime_pct: Option<f64>,
    /// Seconds every check passed.
    pub up_s: i64,
    /// Seconds down outside maintenance.
    pub downtime_s: i64,
    /// Seconds in maintenance.
    pub maintenance_s: i64,
    /// Seconds nothing was known.
    pub unknown_s: i64,
    /// Seconds serving with something wrong (counted as available).
    pub degraded_s: i64,
    /// The promise.
    pub sla_target: Target,
    /// Kept or missed (`None`: nothing measured).
    pub sla_met: Option<bool>,
    /// Most devices online at once.
    pub devices_peak: Option<u32>,
    /// Devices online on average.
    pub devices_avg: Option<f64>,
    /// Most devices registered.
    pub devices: Option<u32>,
    /// Most users in the account.
    pub users: Option<u32>,
    /// Most peers on an outdated client.
    pub outdated: Option<u32>,
    /// Its device limit.
    pub max_devices: i64,
    /// More devices registered than its limit at some point.
    pub over_limit: bool,
    /// Created or deleted during the month: figures cover part of it.
    pub partial: bool,
    /// Deleted (during or since the month).
    pub deleted: bool,
    /// Downtime seconds by cause.
    pub causes: BTreeMap<String, i64>,
    /// Peak devices online per day of the month (`null`: not counted that day).
    pub devices_daily_peak: Vec<Option<u32>>,
}

/// A month's report for the whole fleet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Which month (`YYYY-MM`).
    pub month: String,
    /// Always "UTC": months, days and times are UTC.
    pub timezone: &'static str,
    /// The month is not over: figures run up to `generated_at`.
    pub in_progress: bool,
    /// Whether maintenance was left out of the measure (`excluded`) or counted against it.
    pub maintenance: &'static str,
    /// When it was computed (RFC 3339, UTC).
    pub generated_at: String,
    /// One row per customer that existed during the month.
    pub rows: Vec<ReportRow>,
}

impl Report {
    /// The fleet's downtime by cause, most first.
    pub fn causes(&self) -> Vec<(String, i64)> {
        let mut all: BTreeMap<&str, i64> = BTreeMap::new();
        for r in &self.rows {
            for (k, v) in &r.causes {
                *all.entry(k).or_default() += v;
            }
        }
        let mut v: Vec<(String, i64)> = all.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v
    }

    /// Rows in the order `kind` shows them: misses first for uptime, by contract for invoices.
    pub fn sorted(&self, kind: ReportKind) -> Vec<&ReportRow> {
        let mut rows: Vec<&ReportRow> = self.rows.iter().collect();
        match kind {
            ReportKind::Uptime => rows.sort_by(|a, b| {
                let key = |r: &ReportRow| (r.sla_met != Some(false), r.sla_met.is_none());
                key(a)
                    .cmp(&key(b))
                    .then_with(|| a.uptime_pct.partial_cmp(&b.uptime_pct).unwrap_or(std::cmp::Ordering::Equal))
                    .then_with(|| a.subdomain.cmp(&b.subdomain))
            }),
            ReportKind::Devices => {
                rows.sort_by(|a, b| b.over_limit.cmp(&a.over_limit).then_with(|| a.subdomain.cmp(&b.subdomain)))
            }
            ReportKind::Invoice => rows.sort_by(|a, b| {
                (a.contract_id.is_none(), &a.contract_id, &a.subdomain).cmp(&(
                    b.contract_id.is_none(),
                    &b.contract_id,
                    &b.subdomain,
                ))
            }),
        }
        rows
    }
}

/// Computes `month`'s report from the history in `store` as of `now` (unix seconds).
pub fn build(store: &Store, settings: &Settings, month: Month, now: i64) -> Result<Report, StoreError> {
    let mut rec = store.month_record(month)?;
    let rows = rec
        .customers
        .iter()
        .map(|c: &LedgerEntry| {
            let spans = rec.spans.remove(&c.customer_id).unwrap_or_default();
            let windows = rec.windows.remove(&c.customer_id).unwrap_or_default();
            let dated = rec.days.remove(&c.customer_id).unwrap_or_default();
            let days: Vec<sla::DeviceDay> = dated.iter().map(|(_, d)| *d).collect();
            let u = sla::uptime(month, c.life, &spans, &windows, now, settings.sla.maintenance_counts);
            let d = sla::devices(&days);
            let mut daily = vec![None; usize::try_from((month.end() - month.start()) / 86_400).unwrap_or(31)];
            for (n, day) in &dated {
                if let Some(slot) = daily.get_mut(usize::from(n.saturating_sub(1))) {
                    *slot = Some(day.online_peak);
                }
            }
            let target = c.sla_target.unwrap_or(settings.sla.target);
            ReportRow {
                subdomain: c.subdomain.clone(),
                name: c.name.clone(),
                contract_id: c.contract_id.clone(),
                uptime_pct: u.uptime_pct,
                up_s: u.up_s,
                downtime_s: u.downtime_s,
                maintenance_s: u.maintenance_s,
                unknown_s: u.unknown_s,
                degraded_s: u.degraded_s,
                sla_target: target,
                sla_met: u.met(target),
                devices_peak: d.peak,
                devices_avg: d.average.map(|a| (a * 10.0).round() / 10.0),
                devices: d.devices,
                users: d.users,
                outdated: d.outdated,
                max_devices: c.max_devices,
                over_limit: d.devices.is_some_and(|n| i64::from(n) > c.max_devices),
                partial: u.partial,
                deleted: c.life.deleted.is_some(),
                causes: u.causes,
                devices_daily_peak: daily,
            }
        })
        .collect();
    let generated = time::OffsetDateTime::from_unix_timestamp(now).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    Ok(Report {
        month: month.to_string(),
        timezone: "UTC",
        in_progress: now < month.end(),
        maintenance: if settings.sla.maintenance_counts { "counted" } else { "excluded" },
        generated_at: crate::store::fmt_time(generated),
        rows,
    })
}

/// The columns of each report, as header and cell.
fn columns(kind: ReportKind) -> &'static [&'static str] {
    match kind {
        ReportKind::Uptime => &[
            "subdomain",
            "contract_id",
            "uptime_pct",
            "sla_target",
            "sla_met",
            "up_s",
            "degraded_s",
            "downtime_s",
            "maintenance_s",
            "unknown_s",
            "partial",
        ],
        ReportKind::Devices => &[
            "subdomain",
            "contract_id",
            "devices_peak",
            "devices_avg",
            "devices",
            "max_devices",
            "users",
            "outdated",
            "partial",
        ],
        ReportKind::Invoice => &[
            "contract_id",
            "subdomain",
            "name",
            "devices_peak",
            "devices_avg",
            "users",
            "uptime_pct",
            "sla_target",
            "sla_met",
            "downtime_s",
            "maintenance_s",
            "unknown_s",
            "partial",
        ],
    }
}

/// One cell as text (empty: not known).
fn cell(r: &ReportRow, column: &str) -> String {
    let opt = |v: Option<u32>| v.map(|n| n.to_string()).unwrap_or_default();
    match column {
        "subdomain" => r.subdomain.clone(),
        "contract_id" => r.contract_id.clone().unwrap_or_default(),
        "name" => r.name.clone(),
        "uptime_pct" => r.uptime_pct.map(|p| format!("{p:.3}")).unwrap_or_default(),
        "sla_target" => r.sla_target.to_string(),
        "sla_met" => r.sla_met.map(|m| if m { "yes" } else { "no" }.to_string()).unwrap_or_default(),
        "up_s" => r.up_s.to_string(),
        "downtime_s" => r.downtime_s.to_string(),
        "maintenance_s" => r.maintenance_s.to_string(),
        "unknown_s" => r.unknown_s.to_string(),
        "degraded_s" => r.degraded_s.to_string(),
        "devices_peak" => opt(r.devices_peak),
        "devices_avg" => r.devices_avg.map(|a| format!("{a:.1}")).unwrap_or_default(),
        "devices" => opt(r.devices),
        "max_devices" => r.max_devices.to_string(),
        "users" => opt(r.users),
        "outdated" => opt(r.outdated),
        "partial" => if r.partial { "yes" } else { "no" }.to_string(),
        _ => String::new(),
    }
}

/// The report as a table's header and rows (text cells, in the report's order).
pub fn table(report: &Report, kind: ReportKind) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let cols = columns(kind);
    let rows = report.sorted(kind).into_iter().map(|r| cols.iter().map(|c| cell(r, c)).collect()).collect();
    (cols.to_vec(), rows)
}

/// The report as CSV (RFC 4180, UTC, a header line). Text a customer or operator typed that a
/// spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) is prefixed with `'`.
pub fn csv(report: &Report, kind: ReportKind) -> String {
    let (cols, rows) = table(report, kind);
    let mut out = cols.join(",");
    out.push_str("\r\n");
    for row in rows {
        let cells: Vec<String> = row.iter().zip(cols.iter()).map(|(v, c)| csv_field(v, is_text(c))).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

fn is_text(column: &str) -> bool {
    matches!(column, "subdomain" | "contract_id" | "name")
}

fn csv_field(v: &str, text: bool) -> String {
    let v = if text && v.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{v}") } else { v.to_string() };
    if v.contains([',', '"', '\n', '\r']) { format!("\"{}\"", v.replace('"', "\"\"")) } else { v }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(sub: &str, met: Option<bool>, pct: Option<f64>) -> ReportRow {
        ReportRow {
            subdomain: sub.into(),
            name: sub.into(),
            contract_id: None,
            uptime_pct: pct,
            up_s: 0,
            downtime_s: 0,
            maintenance_s: 0,
            unknown_s: 0,
            degraded_s: 0,
            sla_target: Target(99_900),
            sla_met: met,
            devices_peak: None,
            devices_avg: None,
            devices: None,
            users: None,
            outdated: None,
            max_devices: 20,
            over_limit: false,
            partial: false,
            deleted: false,
            causes: BTreeMap::new(),
            devices_daily_peak: Vec::new(),
        }
    }

    fn report(rows: Vec<ReportRow>) -> Report {
        Report {
            month: "2026-11".into(),
            timezone: "UTC",
            in_progress: false,
            maintenance: "excluded",
            generated_at: String::new(),
            rows,
        }
    }

    #[test]
    fn misses_come_first_worst_first_then_the_kept_then_the_unmeasured() {
        let r = report(vec![
            row("a", Some(true), Some(100.0)),
            row("b", None, None),
            row("c", Some(false), Some(99.5)),
            row("d", Some(false), Some(98.0)),
        ]);
        let order: Vec<&str> = r.sorted(ReportKind::Uptime).iter().map(|r| r.subdomain.as_str()).collect();
        assert_eq!(order, ["d", "c", "a", "b"]);
    }

    #[test]
    fn csv_quotes_and_defuses_what_a_customer_typed() {
        let mut evil = row("acme", Some(true), Some(100.0));
        evil.name = "=HYPERLINK(\"http://x\",\"a, b\")".into();
        evil.contract_id = Some("-1+1".into());
        let text = csv(&report(vec![evil]), ReportKind::Invoice);
        let line = text.lines().nth(1).unwrap();
        assert!(line.starts_with("'-1+1,acme,\"'=HYPERLINK(\"\"http://x\"\",\"\"a, b\"\")\","), "{line}");
        assert!(text.starts_with("contract_id,subdomain,name,"));
        assert!(text.ends_with("\r\n"));
    }
}
