//! The monitor's record of the month: states every round, abandoned maintenance windows closed,
//! history pruned once a day, and the closed month's reports written and announced once.

use std::path::{Path, PathBuf};

use super::Monitor;
use crate::domain::alerts::{HOST_SCOPE, Notice, NoticeState};
use crate::domain::settings::Settings;
use crate::domain::sla::{Month, Served};
use crate::engine::EngineError;
use crate::engine::fleet::metrics;
use crate::engine::fleet::reports::{self, Report, ReportKind};

/// Seconds between prunes.
const PRUNE_EVERY_S: i64 = 86_400;

impl Monitor<'_> {
    /// Records this round's states (and what follows from the clock).
    pub(super) fn record_history(
        &mut self,
        settings: &Settings,
        served: &[(i64, Served, Option<String>)],
        now: i64,
    ) -> Result<(), EngineError> {
        // A round that does not come within three intervals means the monitor was away: the
        // time between is unknown, not what was seen before it.
        let gap = i64::try_from(settings.monitor.containers_s.saturating_mul(3)).unwrap_or(i64::MAX).max(120);
        self.store.record_states(served, now, gap)?;
        self.store.close_abandoned_maintenance(now)?;
        if now >= self.next_prune {
            self.next_prune = now + PRUNE_EVERY_S;
            let keep = Month::of(now);
            let mut oldest = keep;
            for _ in 0..settings.sla.retention_months {
                oldest = oldest.previous();
            }
            let removed = self.store.prune_history(oldest.start())?;
            if removed > 0 {
                tracing::info!(removed, before = %oldest, "history pruned");
            }
        }
        if self.acting && self.alerting {
            self.close_month(settings, now)?;
        }
        Ok(())
    }

    /// Once a month (the first round after it ended that holds the alert lease): writes the
    /// closed month's reports to `reports.dir` and queues a summary for the alert channels.
    fn close_month(&mut self, settings: &Settings, now: i64) -> Result<(), EngineError> {
        let closed = Month::of(now).previous();
        let done = self.store.meta("reports_closed")?;
        if done.as_deref().is_some_and(|d| d >= closed.to_string().as_str()) {
            return Ok(());
        }
        // Nothing of that month was recorded (a new installation): nothing to close.
        let report = reports::build(self.store, settings, closed, now)?;
        let dir = reports_dir(self.store, settings);
        if !report.rows.is_empty() {
            write_reports(&dir, &report)?;
            self.pending.push(summary(&report, &dir, now));
        }
        self.store.set_meta("reports_closed", &closed.to_string())?;
        Ok(())
    }
}

/// Where month-end reports go.
pub fn reports_dir(store: &crate::store::Store, settings: &Settings) -> PathBuf {
    if settings.sla.reports_dir.is_empty() {
        store.path().and_then(Path::parent).unwrap_or(Path::new(".")).join("reports")
    } else {
        PathBuf::from(&settings.sla.reports_dir)
    }
}

/// Writes the three CSV reports and the JSON of a month into `dir` (0700), each file 0600.
pub fn write_reports(dir: &Path, report: &Report) -> Result<Vec<PathBuf>, EngineError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| EngineError::Files(format!("cannot create {}: {e}", dir.display())))?;
    let mut written = Vec::new();
    for kind in [ReportKind::Uptime, ReportKind::Devices, ReportKind::Invoice] {
        let path = dir.join(format!("nbmsp-{}-{}.csv", report.month, kind.as_str()));
        crate::engine::stack::instance::write_atomic(&path, reports::csv(report, kind).as_bytes(), 0o600)?;
        written.push(path);
    }
    let path = dir.join(format!("nbmsp-{}.json", report.month));
    let json = serde_json::to_vec_pretty(report).map_err(|e| EngineError::Files(e.to_string()))?;
    crate::engine::stack::instance::write_atomic(&path, &json, 0o600)?;
    written.push(path);
    Ok(written)
}

/// The month-end notice: who missed the promise, who is over the device limit, where the files are.
fn summary(report: &Report, dir: &Path, now: i64) -> Notice {
    let missed: Vec<&str> =
        report.rows.iter().filter(|r| r.sla_met == Some(false)).map(|r| r.subdomain.as_str()).collect();
    let over: Vec<&str> = report.rows.iter().filter(|r| r.over_limit).map(|r| r.subdomain.as_str()).collect();
    let kept = report.rows.iter().filter(|r| r.sla_met == Some(true)).count();
    let list = |v: &[&str]| if v.is_empty() { "none".to_string() } else { v.join(", ") };
    Notice {
        state: NoticeState::Report,
        scope: HOST_SCOPE.to_string(),
        kind: "report".into(),
        title: format!("{} closed: {} missed their SLA", report.month, missed.len()),
        message: format!(
            "{} (UTC): {kept} of {} customers kept their SLA. Missed: {}. Over their device limit: {}. Reports in {}",
            report.month,
            report.rows.len(),
            list(&missed),
            list(&over),
            dir.display()
        ),
        at: now,
    }
}

impl Monitor<'_> {
    /// The round's figures for the metrics endpoint.
    /// Reads, at most hourly, when each host's proxy certificates expire and how full each
    /// remote host's disk is: one list call per NPM, one disk read per remote host, skipped for
    /// hosts that did not answer this round. NPM renews certificates itself, so the answer is
    /// never stored; what does not answer keeps the last read.
    pub(super) async fn read_hourly(
        &mut self,
        data_dir: &str,
        down: &std::collections::HashMap<crate::engine::hosts::HostKey, String>,
    ) {
        let now = std::time::Instant::now();
        if self.next_certificates.is_some_and(|t| now < t) {
            return;
        }
        self.next_certificates = Some(now + std::time::Duration::from_secs(3600));
        for key in self.engines.keys().into_iter().filter(|k| !down.contains_key(k)) {
            let read = match self.engines.host(key) {
                None => match crate::engine::npm::proxy::from_settings(self.store, self.vault, None) {
                    Ok(proxy) => proxy.certificate_expiries().await,
                    Err(e) => Err(e),
                },
                // A host without an NPM of its own publishes nothing: nothing to read.
                Some(h) if h.npm.is_none() => Ok(Default::default()),
                Some(h) => {
                    let h = h.clone();
                    match self.engines.of(key).await {
                        Ok(docker) => {
                            match crate::engine::npm::proxy::for_host(self.store, self.vault, &h, &docker, None).await {
                                Ok(proxy) => proxy.certificate_expiries().await,
                                Err(e) => Err(e),
                            }
                        }
                        Err(e) => Err(e),
                    }
                }
            };
            match read {
                Ok(c) => {
                    self.certificates.retain(|(k, _), _| *k != key);
                    self.certificates.extend(c.into_iter().map(|(id, t)| ((key, id), t)));
                }
                Err(e) => tracing::warn!("certificate expiries not read from {}'s proxy: {e}", self.engines.name(key)),
            }
            if key.is_some()
                && let Some((percent, _)) = self.engines.disk(key, data_dir).await
            {
                self.remote_disks.insert(key, percent);
            }
        }
    }

    pub(super) fn metrics_snapshot(
        &self,
        settings: &Settings,
        rows: &[crate::store::customers::CustomerRow],
        extras: &std::collections::BTreeMap<i64, crate::store::monitor::FleetExtras>,
        served: &[(i64, Served, Option<String>)],
        down: &std::collections::HashMap<crate::engine::hosts::HostKey, String>,
        report: &crate::domain::fleet::RoundReport,
    ) -> Result<metrics::Snapshot, EngineError> {
        let times = self.store.token_and_backup_times()?;
        let state: std::collections::HashMap<i64, (Served, Option<String>)> =
            served.iter().map(|(id, s, c)| (*id, (*s, c.clone()))).collect();
        let host_of = |r: &crate::store::customers::CustomerRow| {
            r.host.clone().unwrap_or_else(|| crate::domain::host::LOCAL.to_string())
        };
        let customers = rows
            .iter()
            .map(|r| {
                let id = r.customer.id;
                let (token, backup, certificate) = times.get(&id).copied().unwrap_or_default();
                metrics::CustomerFacts {
                    subdomain: r.customer.subdomain.clone(),
                    host: host_of(r),
                    state: state.get(&id).map(|s| s.0),
                    condition: state.get(&id).and_then(|s| s.1.clone()),
                    online: r.online,
                    devices: r.devices,
                    token_expires: token,
                    certificate_expires: certificate
                        .and_then(|c| self.certificates.get(&(r.customer.host_id, c)).copied()),
                    last_backup: backup,
                    last_check: extras.get(&id).and_then(|x| x.probe_at).map(|t| t.unix_timestamp()),
                }
            })
            .collect();
        let names: Vec<(String, bool)> =
            self.engines.keys().into_iter().map(|k| (self.engines.name(k), !down.contains_key(&k))).collect();
        let ports: Vec<(String, Option<u16>)> = rows.iter().map(|r| (host_of(r), r.udp_port)).collect();
        let mut disks: std::collections::HashMap<String, f64> =
            self.remote_disks.iter().map(|(k, p)| (self.engines.name(*k), *p)).collect();
        if let Some(p) = self.host.disk_percent {
            disks.insert(crate::domain::host::LOCAL.to_string(), p);
        }
        Ok(metrics::Snapshot {
            at: report.at.unix_timestamp(),
            round_ms: report.millis,
            customers,
            hosts: metrics::hosts(&names, &ports, settings.relay_port_count, &disks),
        })
    }
}
