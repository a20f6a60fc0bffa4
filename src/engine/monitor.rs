//! The fleet monitor, shared by the app and the headless `nbmsp monitor`.
//!
//! Cost model (what keeps 100+ customers cheap): container state comes from ONE list call per
//! round, filtered by this installation's label, and rounds are triggered by Docker's event
//! stream plus a slow timer; health probes, resource samples and device counts each run on
//! their own interval, spread over it per customer, with bounded concurrency. Verdicts are
//! written only when they change; alerts go out from one monitor at a time (a DB lease).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures_util::{StreamExt, stream};

use super::EngineError;
use super::docker::{DockerEngine, FleetContainer};
use super::host::{self, CpuHistory};
use super::notify::Notifier;
use crate::domain::alerts::{AlertBook, HOST_SCOPE, Judged, Notice};
use crate::domain::customer::CustomerStatus;
use crate::domain::deployment::ContainerStats;
use crate::domain::fleet::{self, Condition, ContainerSeen, HostStats, Observation, ProbeSeen, RoundReport};
use crate::domain::settings::Settings;
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
        stats: Result<Vec<ContainerStats>, String>,
    },
    /// A notice was sent (or failed to be).
    Notice {
        /// The notice.
        notice: Notice,
        /// Delivery outcome.
        delivered: Result<(), String>,
    },
    /// Something failed; the monitor carries on.
    Error(String),
}

/// The monitor's state between rounds.
pub struct Monitor<'a> {
    store: &'a Store,
    docker: &'a DockerEngine,
    vault: &'a Vault,
    installation: String,
    holder: String,
    alerting: bool,
    book: AlertBook,
    notifier: Option<Notifier>,
    notifier_key: Option<(String, String)>,
    pending: Vec<Notice>,
    seen: HashMap<i64, Vec<ContainerSeen>>,
    next_probe: HashMap<i64, Instant>,
    next_stats: HashMap<i64, Instant>,
    next_devices: HashMap<i64, Instant>,
    focus: Option<i64>,
    cpu: CpuHistory,
    host: HostStats,
    reported: HostStats,
    next_host: Instant,
    next_count: Instant,
}

impl<'a> Monitor<'a> {
    /// A monitor over `store` and `docker`; `vault` unlocks device tokens and the Gotify token.
    pub fn new(store: &'a Store, docker: &'a DockerEngine, vault: &'a Vault) -> Result<Self, EngineError> {
        Ok(Self {
            store,
            docker,
            vault,
            installation: store.installation_id()?,
            holder: format!("{}:{}", crate::store::locks::host_name(), std::process::id()),
            alerting: false,
            book: AlertBook::default(),
            notifier: None,
            notifier_key: None,
            pending: Vec::new(),
            seen: HashMap::new(),
            next_probe: HashMap::new(),
            next_stats: HashMap::new(),
            next_devices: HashMap::new(),
            focus: None,
            cpu: CpuHistory::default(),
            host: HostStats::default(),
            reported: HostStats::default(),
            next_host: Instant::now(),
            next_count: Instant::now(),
        })
    }

    /// Sets the customer on screen: it gets resource samples every few seconds.
    pub fn set_focus(&mut self, customer_id: Option<i64>) {
        self.focus = customer_id;
        if let Some(id) = customer_id {
            self.next_stats.insert(id, Instant::now());
        }
    }

    /// Makes every customer due for a health probe now and probes them all (`monitor --once`).
    pub async fn probe_all(&mut self) -> Result<(), EngineError> {
        let n = self.store.customer_rows()?.len();
        for row in self.store.customer_rows()? {
            self.next_probe.insert(row.customer.id, Instant::now());
        }
        // probe_due works in bounded batches; repeat until everyone had a turn.
        for _ in 0..=n {
            self.probe_due().await?;
            if self.next_probe.values().all(|t| *t > Instant::now()) {
                break;
            }
        }
        Ok(())
    }

    /// Whether this monitor currently sends the alerts.
    pub fn is_alerting(&self) -> bool {
        self.alerting
    }

    /// One round: list the fleet's containers once, judge every customer, store what changed,
    /// raise and resolve alerts. Docker being unreachable is an error for the round, never a
    /// verdict: customers keep their status rather than all turning `error`.
    pub async fn round(&mut self, sink: &mut impl FnMut(MonitorEvent)) -> Result<RoundReport, EngineError> {
        let t0 = Instant::now();
        let calls0 = self.docker.api_calls();
        let settings = self.store.settings()?;
        let containers = self.docker.list_fleet(&self.installation).await?;
        let rows = self.store.customer_rows()?;
        let extras = self.store.fleet_extras()?;
        let busy = self.store.busy_customers()?;
        let mut by_customer: BTreeMap<i64, Vec<FleetContainer>> = BTreeMap::new();
        let total_containers = containers.len();
        for c in containers {
            by_customer.entry(c.customer_id).or_default().push(c);
        }
        let now = crate::store::now();
        let cert_limit = settings.alerts.cert_pending_min * 60;
        let mut judged: Vec<Judged> = Vec::with_capacity(rows.len() + 1);
        let mut changed = 0;
        for row in &rows {
            let c = &row.customer;
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
            if !o.busy && o.stored != CustomerStatus::Deploying {
                judged.push((c.subdomain.clone(), v.conditions.iter().map(|k| (k.key(), k.describe())).collect()));
            }
            self.seen.insert(c.id, seen);
        }
        self.seen.retain(|id, _| rows.iter().any(|r| r.customer.id == *id));
        self.store.set_meta("monitor_round_at", &crate::store::fmt_time(now))?;
        self.host_sample(&settings, sink).await;
        let disk = self
            .host
            .disk_percent
            .filter(|p| *p >= f64::from(settings.alerts.disk_percent))
            .map(|p| Condition::DiskFull { percent: p.round().clamp(0.0, 100.0) as u8 });
        judged.push((HOST_SCOPE.to_string(), disk.iter().map(|k| (k.key(), k.describe())).collect()));
        self.alerts(&settings, &rows, &judged, sink).await;
        Ok(RoundReport {
            at: now,
            customers: rows.len(),
            containers: total_containers,
            changed,
            docker_calls: self.docker.api_calls() - calls0,
            millis: u64::try_from(t0.elapsed().as_millis()).unwrap_or(u64::MAX),
        })
    }

    async fn host_sample(&mut self, settings: &Settings, sink: &mut impl FnMut(MonitorEvent)) {
        if Instant::now() < self.next_host {
            return;
        }
        self.next_host = Instant::now() + HOST_EVERY;
        let before = self.reported;
        let mut h = host::sample(&PathBuf::from(&settings.data_dir), &mut self.cpu);
        // The container count costs an API call: once a minute is plenty.
        h.containers = self.host.containers;
        if Instant::now() >= self.next_count {
            self.next_count = Instant::now() + Duration::from_secs(60);
            h.containers = self.docker.container_count().await.ok();
        }
        self.host = h;
        if moved_enough(&before, &h) {
            self.reported = h;
            sink(MonitorEvent::Host(h));
        }
    }

    async fn alerts(
        &mut self,
        settings: &Settings,
        rows: &[CustomerRow],
        judged: &[Judged],
        sink: &mut impl FnMut(MonitorEvent),
    ) {
        let now_s = crate::store::now().unix_timestamp();
        let ttl = i64::try_from(settings.monitor.containers_s.max(20) * 4).unwrap_or(120);
        let holds = match self.store.claim_alert_lease(&self.holder, now_s, ttl) {
            Ok(h) => h,
            Err(e) => {
                sink(MonitorEvent::Error(format!("alert lease: {e}")));
                false
            }
        };
        if holds && !self.alerting {
            // Taking over: continue from the stored firing set so nothing is announced twice.
            match self.store.active_alerts() {
                Ok(active) => self.book = AlertBook::new(settings.alerts.per_hour, active),
                Err(e) => sink(MonitorEvent::Error(format!("alerts: {e}"))),
            }
        }
        self.alerting = holds;
        if !holds {
            return;
        }
        self.book.set_limit(settings.alerts.per_hour);
        for a in self.book.active().map(|a| a.scope.clone()).collect::<Vec<_>>() {
            if a != HOST_SCOPE && !rows.iter().any(|r| r.customer.subdomain == a) {
                self.book.forget(&a);
            }
        }
        let notices = self.book.update(now_s, judged);
        if let Err(e) = self.store.save_alerts(self.book.active()) {
            sink(MonitorEvent::Error(format!("alerts: {e}")));
        }
        self.pending.extend(notices);
        if self.pending.len() > PENDING_MAX {
            let drop = self.pending.len() - PENDING_MAX;
            tracing::warn!(dropped = drop, "undelivered alert notices dropped");
            self.pending.drain(..drop);
        }
        self.deliver(settings, sink).await;
    }

    async fn deliver(&mut self, settings: &Settings, sink: &mut impl FnMut(MonitorEvent)) {
        if self.pending.is_empty() {
            return;
        }
        let key = (settings.alerts.webhook_url.clone(), settings.alerts.gotify_url.clone());
        if self.notifier_key.as_ref() != Some(&key) || self.notifier.is_none() {
            match Notifier::from_settings(self.store, self.vault) {
                Ok(n) => {
                    self.notifier = n;
                    self.notifier_key = Some(key);
                }
                Err(e) => {
                    sink(MonitorEvent::Error(format!("alerts: {e}")));
                    return;
                }
            }
        }
        let Some(notifier) = &self.notifier else {
            // No channel configured: notices are logged only.
            for n in self.pending.drain(..) {
                tracing::warn!(scope = %n.scope, kind = %n.kind, "{}: {}", n.title, n.message);
                sink(MonitorEvent::Notice { notice: n, delivered: Err("no alert channel configured".into()) });
            }
            return;
        };
        let mut failed = Vec::new();
        for n in std::mem::take(&mut self.pending) {
            let r = notifier.send(&n).await.map_err(|e| e.to_string());
            match &r {
                Ok(()) => tracing::info!(scope = %n.scope, kind = %n.kind, "notice sent: {}", n.title),
                Err(e) => tracing::warn!(scope = %n.scope, "notice not sent, retrying next round: {e}"),
            }
            if r.is_err() {
                failed.push(n.clone());
            }
            sink(MonitorEvent::Notice { notice: n, delivered: r });
        }
        self.pending = failed;
    }

    /// Probes (HTTP + STUN) the customers whose turn it is, at most `concurrency` at a time;
    /// each customer's first turn is spread over the interval so probes do not come in bursts.
    /// True when a result differs from the stored one (a round should judge again).
    pub async fn probe_due(&mut self) -> Result<bool, EngineError> {
        let settings = self.store.settings()?;
        let every = Duration::from_secs(settings.monitor.health_s);
        let now = Instant::now();
        let extras = self.store.fleet_extras()?;
        let rows = self.store.customer_rows()?;
        let mut due = Vec::new();
        for row in &rows {
            let c = &row.customer;
            let watch = matches!(c.status, CustomerStatus::Active | CustomerStatus::Degraded | CustomerStatus::Error);
            // Down containers are already judged from the list; probing them adds nothing.
            let down = self.seen.get(&c.id).is_some_and(|s| s.is_empty() || s.iter().any(|x| !x.is_up()));
            if !watch || down || !extras.contains_key(&c.id) {
                continue;
            }
            let next = *self.next_probe.entry(c.id).or_insert_with(|| now + spread(c.id, every));
            if next <= now {
                due.push(row.clone());
            }
        }
        // A bounded batch per call keeps the caller's loop responsive to Docker events.
        due.truncate(settings.monitor.concurrency * 4);
        let network = settings.docker_network.clone();
        let docker = self.docker;
        let results: Vec<(i64, Result<ProbeSeen, EngineError>)> = stream::iter(due)
            .map(|row| {
                let network = network.clone();
                async move {
                    let c = &row.customer;
                    let r = super::health::check(docker, &super::render::prefix(c), c.layout, &network, row.udp_port)
                        .await
                        .map(|rep| probe_of(&rep));
                    (c.id, r)
                }
            })
            .buffer_unordered(settings.monitor.concurrency)
            .collect()
            .await;
        let mut differs = false;
        for (id, r) in results {
            self.next_probe.insert(id, Instant::now() + every);
            match r {
                Ok(p) => {
                    differs |= extras.get(&id).and_then(|x| x.probe.as_ref()) != Some(&p);
                    self.store.record_probe(id, &p)?;
                }
                Err(e) => tracing::warn!(customer = id, "health probe failed: {e}"),
            }
        }
        Ok(differs)
    }

    /// Samples CPU and memory of the focused customer (every few seconds) and of the others
    /// (every `monitor.stats_s`, spread), at most `concurrency` at a time.
    pub async fn stats_due(&mut self, sink: &mut impl FnMut(MonitorEvent)) -> Result<(), EngineError> {
        let settings = self.store.settings()?;
        let every = Duration::from_secs(settings.monitor.stats_s);
        let now = Instant::now();
        let mut due = Vec::new();
        for (id, seen) in &self.seen {
            if !seen.iter().any(|s| s.state == "running") {
                continue;
            }
            let next = *self.next_stats.entry(*id).or_insert_with(|| now + spread(*id, every));
            if next <= now {
                due.push(*id);
            }
        }
        due.truncate(settings.monitor.concurrency * 2);
        let docker = self.docker;
        let store = self.store;
        let results: Vec<(i64, Result<Vec<ContainerStats>, EngineError>)> = stream::iter(due)
            .map(|id| async move {
                let r = async {
                    let c = store.customer(id)?;
                    let prefix = super::render::prefix(&c);
                    let mut out = Vec::new();
                    for svc in super::render::services(c.layout) {
                        let name = super::render::container_name(&prefix, svc);
                        if let Ok(s) = docker.stats(&name, svc).await {
                            out.push(s);
                        }
                    }
                    Ok(out)
                }
                .await;
                (id, r)
            })
            .buffer_unordered(settings.monitor.concurrency)
            .collect()
            .await;
        for (id, r) in results {
            let focused = self.focus == Some(id);
            self.next_stats.insert(id, Instant::now() + if focused { FOCUS_STATS } else { every });
            if let Ok(samples) = &r {
                let cpu = samples.iter().map(|s| s.cpu_percent).sum();
                let mem = samples.iter().map(|s| s.memory_bytes).sum();
                self.store.record_stats(id, cpu, mem)?;
            }
            if focused {
                sink(MonitorEvent::Stats { customer_id: id, stats: r.map_err(|e| e.to_string()) });
            }
        }
        Ok(())
    }

    /// Counts devices through each NetBird API whose turn it is (combined layout with the
    /// owner's token), at most `concurrency` at a time. True when a count changed.
    pub async fn devices_due(&mut self) -> Result<bool, EngineError> {
        let settings = self.store.settings()?;
        let every = Duration::from_secs(settings.monitor.devices_s);
        let now = Instant::now();
        let rows = self.store.customer_rows()?;
        let mut due = Vec::new();
        for row in rows {
            if !matches!(row.customer.status, CustomerStatus::Active | CustomerStatus::Degraded) {
                continue;
            }
            let id = row.customer.id;
            let next = *self.next_devices.entry(id).or_insert_with(|| now + spread(id, every));
            if next <= now {
                due.push(row);
            }
        }
        due.truncate(settings.monitor.concurrency * 2);
        let ops = super::lifecycle::Ops {
            store: self.store,
            vault: self.vault,
            actor: "monitor",
            docker: self.docker,
            proxy: &super::proxy::NoProxy,
            template_dir: None,
        };
        let ids: Vec<(i64, Option<u32>)> = due.iter().map(|r| (r.customer.id, r.devices)).collect();
        let results: Vec<(i64, Option<u32>, Result<u32, EngineError>)> = stream::iter(ids)
            .map(|(id, before)| {
                let ops = &ops;
                async move { (id, before, ops.devices(id).await.map(|u| u.count.total)) }
            })
            .buffer_unordered(settings.monitor.concurrency)
            .collect()
            .await;
        let mut changed = false;
        for (id, before, r) in results {
            self.next_devices.insert(id, Instant::now() + every);
            match r {
                Ok(n) => changed |= before != Some(n),
                Err(e) => tracing::debug!(customer = id, "devices not counted: {e}"),
            }
        }
        Ok(changed)
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
        let mut events = Box::pin(self.docker.fleet_events(&self.installation));
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
                events = Box::pin(self.docker.fleet_events(&self.installation));
                events_ok = true;
                // Events missed while unsubscribed: look now.
                next_round = Instant::now();
            }
            let containers_s = self.store.settings().map(|s| s.monitor.containers_s).unwrap_or(15);
            if Instant::now() >= next_round {
                next_round = Instant::now() + Duration::from_secs(containers_s);
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
            match self.probe_due().await {
                Ok(true) => next_round = Instant::now(),
                Ok(false) => {}
                Err(e) => emit(MonitorEvent::Error(e.to_string())),
            }
            if let Err(e) = self.stats_due(&mut emit).await {
                emit(MonitorEvent::Error(e.to_string()));
            }
            match self.devices_due().await {
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

    /// Docker is back after an outage: finish or undo operations a crash interrupted, and tell
    /// the MSP what else an outage may have left (operations that failed half-way while the
    /// engine was gone) — fixing that stays a person's call (`nbmsp reconcile --yes`).
    async fn after_outage(&mut self, sink: &mut impl FnMut(MonitorEvent)) {
        let templates = self.store.path().and_then(|p| p.parent()).map(|h| h.join("templates"));
        let proxy = match super::proxy::from_settings(self.store, self.vault, templates.clone()) {
            Ok(p) => p,
            Err(e) => return sink(MonitorEvent::Error(format!("after the Docker outage: {e}"))),
        };
        let ops = super::lifecycle::Ops {
            store: self.store,
            vault: self.vault,
            actor: "monitor",
            docker: self.docker,
            proxy: &proxy,
            template_dir: templates,
        };
        let recovered = match super::reconcile::interrupted(self.store) {
            Ok(found) => super::reconcile::apply(&ops, &found).await,
            Err(e) => return sink(MonitorEvent::Error(format!("after the Docker outage: {e}"))),
        };
        let findings = match super::reconcile::check(&ops, &[]).await {
            Ok(f) => f,
            Err(e) => return sink(MonitorEvent::Error(format!("after the Docker outage: {e}"))),
        };
        if recovered.is_empty() && findings.is_empty() {
            return;
        }
        let mut lines: Vec<String> =
            recovered.iter().map(|a| format!("recovered {}: {}", a.subject, a.message)).collect();
        lines.extend(findings.iter().map(|f| format!("{} {}: {}", f.kind.replace('_', " "), f.subject, f.detail)));
        let notice = Notice {
            state: crate::domain::alerts::NoticeState::Firing,
            scope: HOST_SCOPE.to_string(),
            kind: "drift".into(),
            title: format!("nbmsp: {} problem(s) after a Docker outage", findings.len()),
            message: format!("{}; `nbmsp reconcile --yes` applies the safe fixes", lines.join("; ")),
            at: crate::store::now().unix_timestamp(),
        };
        tracing::warn!("{}: {}", notice.title, notice.message);
        if self.alerting {
            self.pending.push(notice);
            if let Ok(settings) = self.store.settings() {
                self.deliver(&settings, sink).await;
            }
        } else {
            sink(MonitorEvent::Notice { notice, delivered: Err("another monitor sends the alerts".into()) });
        }
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

/// A customer's fixed offset into an interval, so first probes spread evenly (jitter without
/// randomness: the same customer keeps its slot).
fn spread(id: i64, every: Duration) -> Duration {
    let slots = every.as_millis().max(1) as u64;
    let h = (id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11;
    Duration::from_millis(h % slots)
}

fn probe_of(r: &super::health::HealthReport) -> ProbeSeen {
    let failing: Vec<String> =
        r.endpoints.iter().filter(|e| !e.ok).map(|e| format!("{}: {}", e.name, e.detail)).collect();
    let core_ok = r.endpoints.iter().filter(|e| !e.name.starts_with("dashboard")).all(|e| e.ok);
    let dashboard_ok = r.endpoints.iter().filter(|e| e.name.starts_with("dashboard")).all(|e| e.ok);
    let mut reasons = failing;
    if let Some(s) = r.stun.as_ref().filter(|s| !s.ok) {
        reasons.push(format!("STUN {}: {}", s.target, s.detail));
    }
    ProbeSeen {
        http_ok: core_ok,
        dashboard_ok,
        stun_ok: r.stun.as_ref().map(|s| s.ok),
        reason: Some(reasons.join("; ")).filter(|s| !s.is_empty()),
    }
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
    fn spread_stays_inside_the_interval_and_differs_per_customer() {
        let every = Duration::from_secs(120);
        let slots: Vec<Duration> = (1..=100).map(|id| spread(id, every)).collect();
        assert!(slots.iter().all(|d| *d < every));
        let mut distinct = slots.clone();
        distinct.sort();
        distinct.dedup();
        assert!(distinct.len() > 90, "customers get their own slots");
        assert_eq!(spread(7, every), spread(7, every));
    }

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
