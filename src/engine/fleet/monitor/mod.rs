//! The fleet monitor, shared by the app and the headless `nbmsp monitor`.
//!
//! Cost model (what keeps 100+ customers cheap): container state comes from ONE list call per
//! round, filtered by this installation's label, and rounds are triggered by Docker's event
//! stream plus a slow timer; health probes, resource samples and device counts each run on
//! their own interval, spread over it per customer, with bounded concurrency. Verdicts are
//! written only when they change; alerts go out from one monitor at a time (a DB lease).

use std::collections::{BTreeMap, HashMap};

mod alerting;
mod backups;
mod history;
pub use history::{reports_dir, write_reports};
mod integrity;
mod samplers;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures_util::StreamExt;

use crate::domain::alerts::{AlertBook, HOST_SCOPE, Judged, Notice};
use crate::domain::customer::CustomerStatus;
use crate::domain::deployment::ContainerStats;
use crate::domain::fleet::{self, Condition, ContainerSeen, HostStats, Observation, ProbeSeen, RoundReport};
use crate::domain::settings::Settings;
use crate::domain::sla::{self, Served};
use crate::engine::EngineError;
use crate::engine::docker::FleetContainer;
use crate::engine::fleet::notify::Notifier;
use crate::engine::hosts::Engines;
use crate::engine::hosts::local::{self, CpuHistory};
use crate::store::customers::CustomerRow;
use crate::store::{Store, Vault};

/// How often the customer on screen gets a resource sample.
const FOCUS_STATS: Duration = Duration::from_secs(5);
/// How often the host gauges are read.
const HOST_EVERY: Duration = Duration::from_secs(10);
/// A gauge change smaller than this (percentage points) is not reported: a resting dashboard
/// must not redraw because the CPU went from 3% to 4%.
const HOST_STEP: f64 = 5.0;
/// Undelivered notices kept for a retry (the oldest go first when full).
const PENDING_MAX: usize = 200;

/// What the monitor reports as it works.
#[derive(Debug, Clone, PartialEq)]
pub enum MonitorEvent {
    /// A round judged the fleet.
    Round(RoundReport),
    /// Host gauges.
    Host(HostStats),
    /// Resource samples of one customer (always for the focused one).
    Stats {
        /// Which customer.
        customer_id: i64,
        /// The samples or why not.
        stats: Result<Vec<ContainerStats>, crate::domain::error::Failure>,
    },
    /// A notice was sent (or failed to be).
    Notice {
        /// The notice.
        notice: Notice,
        /// Delivery outcome.
        delivered: Result<(), crate::domain::error::Failure>,
    },
    /// Something failed; the monitor carries on.
    Error(String),
}

/// The monitor's state between rounds.
pub struct Monitor<'a> {
    store: &'a Store,
    engines: &'a Engines,
    vault: &'a Vault,
    installation: String,
    holder: String,
    alerting: bool,
    book: AlertBook,
    notifier: Option<Notifier>,
    notifier_key: Option<(String, String)>,
    pending: Vec<Notice>,
    seen: HashMap<i64, Vec<ContainerSeen>>,
    /// The customer rows the last round read: the samplers schedule from these instead of
    /// querying the database every tick.
    rows: Vec<CustomerRow>,
    /// The last probe of every deployed customer (`None`: none since its containers changed).
    probes: HashMap<i64, Option<ProbeSeen>>,
    next_probe: HashMap<i64, Instant>,
    next_stats: HashMap<i64, Instant>,
    next_devices: HashMap<i64, Instant>,
    /// Customers whose last probe failed for the first time: recorded only if the next fails too.
    unconfirmed: std::collections::HashSet<i64>,
    /// Why the owner's token of a customer could not be renewed, while that lasts.
    token_failures: HashMap<i64, String>,
    /// Each reverse proxy and its services as last asked (on the devices schedule).
    pub(super) reverse_seen: HashMap<i64, crate::domain::fleet::ReverseSeen>,
    /// How each customer differs from the fleet's baseline, as last asked (on the devices
    /// schedule; absent: it matches, or there is no baseline).
    pub(super) baseline_seen: HashMap<i64, String>,
    /// Why the last scheduled backup of a customer failed, until one succeeds.
    backup_failures: HashMap<i64, String>,
    next_backup_check: Instant,
    next_integrity_check: Instant,
    /// When history is next pruned (unix seconds).
    next_prune: i64,
    /// Where each round's metrics go (`nbmsp monitor --metrics`).
    metrics: Option<tokio::sync::watch::Sender<std::sync::Arc<crate::engine::fleet::metrics::Snapshot>>>,
    /// When each certificate in this machine's proxy expires, as last read (for the metrics).
    certificates: HashMap<(crate::engine::hosts::HostKey, i64), i64>,
    /// How full each remote host's data disk is, as last read (hourly, with the certificates;
    /// this machine's is read every round).
    remote_disks: HashMap<crate::engine::hosts::HostKey, f64>,
    /// When the proxy's certificates are read next (hourly, while metrics are served).
    next_certificates: Option<Instant>,
    /// False in a viewer's app: it watches and alerts, but renews, backs up and recovers nothing.
    acting: bool,
    focus: Option<i64>,
    cpu: CpuHistory,
    host: HostStats,
    reported: HostStats,
    next_host: Instant,
    /// This installation's containers at the last round.
    ours: Option<u64>,
}

impl<'a> Monitor<'a> {
    /// A monitor over `store` and the `engines` of its hosts; `vault` unlocks device tokens and
    /// the Gotify token.
    pub fn new(store: &'a Store, engines: &'a Engines, vault: &'a Vault) -> Result<Self, EngineError> {
        Ok(Self {
            store,
            engines,
            vault,
            installation: store.installation_id()?,
            holder: format!("{}:{}", crate::store::locks::host_name(), std::process::id()),
            alerting: false,
            book: AlertBook::default(),
            notifier: None,
            notifier_key: None,
            pending: Vec::new(),
            seen: HashMap::new(),
            rows: Vec::new(),
            probes: HashMap::new(),
            next_probe: HashMap::new(),
            next_stats: HashMap::new(),
            next_devices: HashMap::new(),
            unconfirmed: Default::default(),
            token_failures: HashMap::new(),
            reverse_seen: HashMap::new(),
            baseline_seen: HashMap::new(),
            backup_failures: HashMap::new(),
            next_backup_check: Instant::now(),
            next_integrity_check: Instant::now(),
            next_prune: 0,
            metrics: None,
            certificates: HashMap::new(),
            remote_disks: HashMap::new(),
            next_certificates: None,
            acting: true,
            focus: None,
            cpu: CpuHistory::default(),
            host: HostStats::default(),
            reported: HostStats::default(),
            next_host: Instant::now(),
            ours: None,
        })
    }

    /// Hands every round's figures to a metrics listener.
    pub fn publish_metrics(
        &mut self,
        tx: tokio::sync::watch::Sender<std::sync::Arc<crate::engine::fleet::metrics::Snapshot>>,
    ) {
        self.metrics = Some(tx);
    }

    /// Watches only: no token renewals, backups or recoveries (the app of a viewer).
    pub fn observe_only(&mut self) {
        self.acting = false;
    }

    /// Sets the customer on screen: it gets resource samples every few seconds.
    pub fn set_focus(&mut self, customer_id: Option<i64>) {
        self.focus = customer_id;
        if let Some(id) = customer_id {
            self.next_stats.insert(id, Instant::now());
        }
    }

    /// One round: list the fleet's containers once, judge every customer, store what changed,
    /// raise and resolve alerts. Docker being unreachable is an error for the round, never a
    /// verdict: customers keep their status rather than all turning `error`.
    pub async fn round(&mut self, sink: &mut impl FnMut(MonitorEvent)) -> Result<RoundReport, EngineError> {
        let t0 = Instant::now();
        let calls0 = self.engines.api_calls();
        let settings = self.store.settings()?;
        // One list call per host, all at once. A host that does not answer fails the round only
        // when it is the only one; otherwise its customers are marked and the rest go on.
        let (containers, down) = self.engines.list_fleet(&self.installation).await;
        self.engines.sole_engine_down(&down)?;
        let down: HashMap<crate::engine::hosts::HostKey, String> = down.into_iter().collect();
        let containers: Vec<FleetContainer> = containers.into_iter().map(|(_, c)| c).collect();
        let rows = self.store.customer_rows()?;
        let extras = self.store.fleet_extras()?;
        let busy = self.store.busy_customers()?;
        let mut by_customer: BTreeMap<i64, Vec<FleetContainer>> = BTreeMap::new();
        let total_containers = containers.len();
        if self.ours.replace(total_containers as u64) != Some(total_containers as u64) {
            // A changed count is shown at once, not at the next gauge sample.
            self.next_host = Instant::now();
        }
        for c in containers {
            by_customer.entry(c.customer_id).or_default().push(c);
        }
        let now = crate::store::now();
        let cert_limit = settings.alerts.cert_pending_min * 60;
        let mut judged: Vec<Judged> = Vec::with_capacity(rows.len() + 1);
        let mut probes = HashMap::new();
        let mut changed = 0;
        let mut served: Vec<(i64, Served, Option<String>)> = Vec::with_capacity(rows.len());
        for row in &rows {
            let c = &row.customer;
            if let Some(e) = down.get(&c.host_id) {
                served.push((c.id, Served::Unknown, Some("unreachable".into())));
                // Nothing is known of its containers: said as such, never judged as down.
                let reason = format!("host {} unreachable: {e}", self.engines.name(c.host_id));
                if c.status_reason.as_deref() != Some(reason.as_str())
                    && self.store.apply_verdict(c, CustomerStatus::Error, Some(&reason))?
                {
                    changed += 1;
                }
                continue;
            }
            let seen: Vec<ContainerSeen> =
                by_customer.remove(&c.id).unwrap_or_default().into_iter().map(|f| f.seen).collect();
            let x = extras.get(&c.id);
            // A probe of other containers than these says nothing, nor does one of a stack
            // that is (partly) down: forget it and probe soon after it is up again.
            let moved = self.seen.get(&c.id).is_some_and(|before| *before != seen);
            let down = seen.iter().any(|s| !s.is_up()) || seen.is_empty();
            let mut probe = x.and_then(|x| x.probe.clone());
            if (moved || down) && probe.is_some() {
                self.store.clear_probe(c.id)?;
                probe = None;
                self.next_probe.insert(c.id, Instant::now() + Duration::from_secs(3));
            }
            if x.is_some() {
                probes.insert(c.id, probe.clone());
            }
            let pending = row.proxy_pending.as_deref().map(|p| {
                let since = x.and_then(|x| x.pending_since).unwrap_or(now);
                (p, (now - since).whole_seconds())
            });
            let o = Observation {
                stored: c.status,
                stored_reason: c.status_reason.as_deref(),
                deployed: x.is_some(),
                busy: busy.contains(&c.id),
                layout: c.layout,
                containers: &seen,
                probe: probe.as_ref(),
                cert_pending: pending,
                devices: row.devices.map(|d| (d, c.max_devices)),
                token_renewal_failed: self.token_failures.get(&c.id).map(String::as_str),
                backup_failed: self.backup_failures.get(&c.id).map(String::as_str),
                reverse: self.reverse_seen.get(&c.id).filter(|_| c.reverse_proxy),
                baseline: self.baseline_seen.get(&c.id).map(String::as_str),
            };
            let v = fleet::judge(&o, cert_limit);
            // Counts are written when they change: a steady fleet costs no writes per round.
            if x.is_some() && !o.busy && (moved || !self.seen.contains_key(&c.id)) {
                let up = seen.iter().filter(|s| s.is_up()).count();
                self.store.record_containers(c.id, up, seen.len())?;
            }
            if (v.status != c.status || v.reason.as_deref() != c.status_reason.as_deref())
                && self.store.apply_verdict(c, v.status, v.reason.as_deref())?
            {
                changed += 1;
            }
            if let Some((state, cause)) = sla::served(v.status, x.is_some(), &v.conditions).filter(|_| !o.busy) {
                served.push((c.id, state, cause));
            }
            if !o.busy && o.stored != CustomerStatus::Deploying {
                judged.push((c.subdomain.clone(), v.conditions.iter().map(|k| (k.key(), k.describe())).collect()));
            }
            self.seen.insert(c.id, seen);
        }
        self.seen.retain(|id, _| rows.iter().any(|r| r.customer.id == *id));
        self.probes = probes;
        self.store.set_meta("monitor_round_at", &crate::store::fmt_time(now))?;
        self.record_history(&settings, &served, now.unix_timestamp())?;
        self.host_sample(&settings, sink).await;
        let disk = self
            .host
            .disk_percent
            .filter(|p| *p >= f64::from(settings.alerts.disk_percent))
            .map(|p| Condition::DiskFull { percent: p.round().clamp(0.0, 100.0) as u8 });
        let mut edges = self.edge_conditions(&settings, &rows, &down).await;
        let here = disk.into_iter().chain(edges.remove(&None));
        judged.push((HOST_SCOPE.to_string(), here.map(|k| (k.key(), k.describe())).collect()));
        // A remote host that stops answering is one alert of its own (its customers are not
        // judged meanwhile, so they raise none), and one when it answers again.
        for key in self.engines.keys().into_iter().filter(Option::is_some) {
            let gone = down.get(&key).map(|e| Condition::HostUnreachable {
                customers: rows.iter().filter(|r| r.customer.host_id == key).count(),
                reason: e.clone(),
            });
            let scope = crate::domain::alerts::host_scope(&self.engines.name(key));
            let there = gone.into_iter().chain(edges.remove(&key));
            judged.push((scope, there.map(|k| (k.key(), k.describe())).collect()));
        }
        self.alerts(&settings, &rows, &judged, sink).await;
        let customers = rows.len();
        let report = RoundReport {
            at: now,
            customers,
            containers: total_containers,
            changed,
            docker_calls: self.engines.api_calls() - calls0,
            millis: u64::try_from(t0.elapsed().as_millis()).unwrap_or(u64::MAX),
        };
        if self.metrics.is_some() {
            self.read_hourly(&settings.data_dir, &down).await;
            let snapshot = self.metrics_snapshot(&settings, &rows, &extras, &served, &down, &report)?;
            if let Some(tx) = &self.metrics {
                tx.send_replace(std::sync::Arc::new(snapshot));
            }
        }
        self.rows = rows;
        Ok(report)
    }

    /// Each answering host's edge in trouble, when nbmsp runs edges (`edge.listen`): one look
    /// at its container per host and round; the routes wanted are counted from `rows`.
    async fn edge_conditions(
        &self,
        settings: &Settings,
        rows: &[crate::store::customers::CustomerRow],
        down: &HashMap<crate::engine::hosts::HostKey, String>,
    ) -> HashMap<crate::engine::hosts::HostKey, Condition> {
        let mut out = HashMap::new();
        if settings.edge.listen.is_none() {
            return out;
        }
        for key in self.engines.keys().into_iter().filter(|k| !down.contains_key(k)) {
            let wanted = rows.iter().filter(|r| crate::engine::npm::edge::is_routed(r, key)).count();
            match crate::engine::npm::edge::health_given(self.store, self.engines, settings, key, wanted).await {
                Ok(crate::domain::edge::EdgeHealth::Trouble { reason }) => {
                    out.insert(key, Condition::EdgeTrouble { reason });
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("edge of host {}: {e}", self.engines.name(key)),
            }
        }
        out
    }

    async fn host_sample(&mut self, settings: &Settings, sink: &mut impl FnMut(MonitorEvent)) {
        if Instant::now() < self.next_host {
            return;
        }
        self.next_host = Instant::now() + HOST_EVERY;
        let before = self.reported;
        let mut h = local::sample(&PathBuf::from(&settings.data_dir), &mut self.cpu);
        // This installation's containers on every host, as the round just listed them (not the
        // engine's count: other owners' containers are not ours to report).
        h.containers = self.ours;
        self.host = h;
        if moved_enough(&before, &h) {
            self.reported = h;
            sink(MonitorEvent::Host(h));
        }
    }

    /// Runs until `sink` is closed (returns false) or `stop` resolves: a round at start, on
    /// Docker events (debounced) and every `monitor.containers_s`; probes, samples and counts
    /// as they fall due. `focus` carries the customer on screen (the app's detail view).
    pub async fn run(
        &mut self,
        mut focus: tokio::sync::watch::Receiver<Option<i64>>,
        stop: impl std::future::Future<Output = ()>,
        mut sink: impl FnMut(MonitorEvent) -> bool,
    ) {
        let open = std::cell::Cell::new(true);
        let mut emit = |e: MonitorEvent| {
            if !sink(e) {
                open.set(false);
            }
        };
        tokio::pin!(stop);
        let mut events = Box::pin(self.engines.fleet_events(&self.installation).await);
        let mut events_ok = true;
        let mut next_round = Instant::now();
        let mut next_events_retry = Instant::now();
        let mut backoff = Duration::from_secs(1);
        let mut docker_was_down = false;
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = &mut stop => break,
                ev = events.next(), if events_ok => match ev {
                    Some(Ok(action)) => {
                        if relevant(&action) {
                            // Debounced: a deploy's burst of events makes one round.
                            next_round = next_round.min(Instant::now() + Duration::from_millis(300));
                        }
                    }
                    Some(Err(_)) | None => {
                        events_ok = false;
                        next_events_retry = Instant::now() + backoff;
                        backoff = (backoff * 2).min(Duration::from_secs(30));
                    }
                },
                r = focus.changed() => {
                    if r.is_err() { break; }
                    let f = *focus.borrow_and_update();
                    self.set_focus(f);
                }
                _ = tick.tick() => {}
            }
            if !events_ok && Instant::now() >= next_events_retry {
                events = Box::pin(self.engines.fleet_events(&self.installation).await);
                events_ok = true;
                // Events missed while unsubscribed: look now.
                next_round = Instant::now();
            }
            // Read once per tick and handed to every step (settings may change while it runs).
            let settings = match self.store.settings() {
                Ok(s) => s,
                Err(e) => {
                    emit(MonitorEvent::Error(e.to_string()));
                    continue;
                }
            };
            if Instant::now() >= next_round {
                next_round = Instant::now() + Duration::from_secs(settings.monitor.containers_s);
                match self.round(&mut emit).await {
                    Ok(r) => {
                        backoff = Duration::from_secs(1);
                        emit(MonitorEvent::Round(r));
                        if std::mem::take(&mut docker_was_down) {
                            self.after_outage(&mut emit).await;
                        }
                    }
                    Err(e) => {
                        docker_was_down |= matches!(e, EngineError::Docker(_) | EngineError::DockerUnreachable { .. });
                        emit(MonitorEvent::Error(e.to_string()));
                    }
                }
            }
            match self.probe_due(&settings).await {
                Ok(true) => next_round = Instant::now(),
                Ok(false) => {}
                Err(e) => emit(MonitorEvent::Error(e.to_string())),
            }
            if let Err(e) = self.stats_due(&settings, &mut emit).await {
                emit(MonitorEvent::Error(e.to_string()));
            }
            match self.devices_due(&settings).await {
                Ok(true) => next_round = Instant::now(),
                Ok(false) => {}
                Err(e) => emit(MonitorEvent::Error(e.to_string())),
            }
            if let Err(e) = self.integrity_due(false, &mut emit).await {
                emit(MonitorEvent::Error(e.to_string()));
            }
            match self.backups_due(&settings, false).await {
                Ok(true) => next_round = Instant::now(),
                Ok(false) => {}
                Err(e) => emit(MonitorEvent::Error(e.to_string())),
            }
            if !open.get() {
                break;
            }
        }
        self.finish();
    }

    /// Gives up the alert lease, so the next monitor (another `--once`, the daemon) sends at once.
    pub fn finish(&mut self) {
        if self.alerting {
            let _ = self.store.release_alert_lease(&self.holder);
            self.alerting = false;
        }
    }
}

/// Docker event actions that can change a verdict.
fn relevant(action: &str) -> bool {
    ["start", "die", "stop", "kill", "restart", "destroy", "create", "oom", "pause", "unpause"].contains(&action)
        || action.starts_with("health_status")
}

/// True when a gauge appeared or moved by [`HOST_STEP`] points since it was last reported.
fn moved_enough(before: &HostStats, now: &HostStats) -> bool {
    let moved = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() >= HOST_STEP,
        (a, b) => a.is_some() != b.is_some(),
    };
    moved(before.cpu_percent, now.cpu_percent)
        || moved(before.memory_percent, now.memory_percent)
        || moved(before.disk_percent, now.disk_percent)
        || before.containers != now.containers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_gauge_wobble_is_not_reported() {
        let a = HostStats { cpu_percent: Some(3.0), memory_percent: Some(40.0), ..HostStats::default() };
        let b = HostStats { cpu_percent: Some(6.9), ..a };
        assert!(!moved_enough(&a, &b));
        assert!(moved_enough(&a, &HostStats { cpu_percent: Some(8.0), ..a }));
        assert!(moved_enough(&HostStats::default(), &a), "first reading");
        assert!(moved_enough(&a, &HostStats { containers: Some(3), ..a }));
    }

    #[test]
    fn only_state_changing_events_trigger_a_round() {
        assert!(relevant("die") && relevant("health_status: unhealthy") && relevant("start"));
        assert!(!relevant("exec_start: sh") && !relevant("attach") && !relevant("top"));
    }
}
