//! The monitor's samplers: health probes, resource samples and device counts, each on its own
//! interval, each customer at a fixed slot inside it, a few at a time.

use std::time::{Duration, Instant};

use futures_util::{StreamExt, stream};

use super::{FOCUS_STATS, Monitor, MonitorEvent};
use crate::domain::customer::CustomerStatus;
use crate::domain::deployment::ContainerStats;
use crate::domain::fleet::ProbeSeen;
use crate::domain::settings::Settings;
use crate::engine::EngineError;

impl Monitor<'_> {
    /// Probes (HTTP + STUN) the customers whose turn it is, at most `concurrency` at a time;
    /// each customer's first turn is spread over the interval so probes do not come in bursts.
    /// True when a result differs from the stored one (a round should judge again).
    pub async fn probe_due(&mut self, settings: &Settings) -> Result<bool, EngineError> {
        let confirm = Duration::from_secs(settings.health_timeout_s);
        self.probe_batch(settings, Some(confirm)).await.map(|(_, differs)| differs)
    }

    /// One bounded batch of due probes: (how many ran, whether a result differs). With
    /// `confirm_after`, a probe that starts failing is only recorded when a second probe that
    /// much later fails too: NetBird answers nothing for seconds after a (re)start, and a
    /// restart between two container lists looks like no change at all.
    async fn probe_batch(
        &mut self,
        settings: &Settings,
        confirm_after: Option<Duration>,
    ) -> Result<(usize, bool), EngineError> {
        let every = Duration::from_secs(settings.monitor.health_s);
        let now = Instant::now();
        let mut due = Vec::new();
        for row in &self.rows {
            let c = &row.customer;
            let watch = matches!(c.status, CustomerStatus::Active | CustomerStatus::Degraded | CustomerStatus::Error);
            // Down containers are already judged from the list; probing them adds nothing.
            let down = self.seen.get(&c.id).is_some_and(|s| s.is_empty() || s.iter().any(|x| !x.is_up()));
            if !watch || down || !self.probes.contains_key(&c.id) {
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
        let engines = self.engines;
        let proxy_none = settings.proxy == crate::domain::settings::ProxyKind::None;
        let results: Vec<(i64, Result<ProbeSeen, EngineError>)> = stream::iter(due)
            .map(|row| {
                let network = network.clone();
                // The path users take, once there is one (the same rule as `customer health`).
                let public = crate::engine::checks::public::target(settings, engines.host(row.customer.host_id))
                    .filter(|_| row.proxied || (proxy_none && row.udp_port.is_some()))
                    .map(|target| (row.customer.fqdn(&settings.base_domain), target));
                let services = crate::engine::checks::public::Services::of(settings, row.customer.reverse_proxy);
                async move {
                    let c = &row.customer;
                    let docker = match engines.for_customer(c).await {
                        Ok(d) => d,
                        Err(e) => return (c.id, Err(e)),
                    };
                    let mut r = crate::engine::checks::health::check(
                        &docker,
                        &crate::engine::stack::render::prefix(settings, c),
                        c.layout,
                        &network,
                        row.udp_port.map(|p| (p, std::time::Duration::from_secs(3))),
                    )
                    .await;
                    if let (Ok(rep), Some((domain, target))) = (&mut r, public) {
                        rep.public = Some(crate::engine::checks::public::check(&domain, &target, services).await);
                    }
                    (c.id, r.map(|rep| probe_of(&rep)))
                }
            })
            .buffer_unordered(settings.monitor.concurrency)
            .collect()
            .await;
        let ran = results.len();
        let mut differs = false;
        for (id, r) in results {
            self.next_probe.insert(id, Instant::now() + every);
            match r {
                Ok(p) => {
                    let previous = self.probes.get(&id).and_then(Option::as_ref);
                    let rechecking = self.unconfirmed.remove(&id);
                    if let Some(wait) = confirm_after
                        && !crate::domain::fleet::record_probe_now(previous, &p, rechecking)
                    {
                        self.unconfirmed.insert(id);
                        self.next_probe.insert(id, Instant::now() + wait);
                        continue;
                    }
                    differs |= self.probes.get(&id).and_then(Option::as_ref) != Some(&p);
                    self.store.record_probe(id, &p)?;
                    self.probes.insert(id, Some(p));
                }
                Err(e) => tracing::warn!(customer = id, "health probe failed: {e}"),
            }
        }
        Ok((ran, differs))
    }

    /// Makes every watched customer due for a health probe now and probes them all, batch by
    /// batch (`monitor --once`, asked for a verdict now: failures count at once; a round must
    /// have run first).
    pub async fn probe_all(&mut self, settings: &Settings) -> Result<(), EngineError> {
        for row in &self.rows {
            self.next_probe.insert(row.customer.id, Instant::now());
        }
        while self.probe_batch(settings, None).await?.0 > 0 {}
        Ok(())
    }

    /// Asks every running customer's reverse proxy (those with one) now, for `monitor --once`;
    /// the daemon asks on the devices schedule.
    pub async fn reverse_all(&mut self) -> Result<(), EngineError> {
        let ops = self.ops();
        let mut seen = Vec::new();
        for row in &self.rows {
            let c = &row.customer;
            if c.reverse_proxy && matches!(c.status, CustomerStatus::Active | CustomerStatus::Degraded) {
                match ops.reverse_proxy_seen(c).await {
                    Ok(s) => seen.push((c.id, s)),
                    Err(e) => tracing::debug!(customer = c.id, "reverse proxy not asked: {e}"),
                }
            }
        }
        for (id, s) in &seen {
            let counts = (s.services, u32::try_from(s.troubled.len()).unwrap_or(u32::MAX));
            self.store.set_services(*id, Some(counts))?;
        }
        self.reverse_seen.extend(seen);
        Ok(())
    }

    /// Asks every serving customer how it differs from the fleet's baseline (`monitor --once`).
    pub async fn baseline_all(&mut self) -> Result<(), EngineError> {
        let Some(base) = crate::engine::fleet::baseline::load(self.store)? else {
            self.baseline_seen.clear();
            return Ok(());
        };
        let ops = self.ops();
        let mut seen = Vec::new();
        for row in &self.rows {
            let c = &row.customer;
            if matches!(c.status, CustomerStatus::Active | CustomerStatus::Degraded) {
                seen.push((c.id, baseline_drift(&ops, &base, c.id).await));
            }
        }
        for (id, d) in seen {
            self.note_baseline(id, d);
        }
        Ok(())
    }

    /// Records what a baseline check found; true when it changed what the monitor knew.
    pub(super) fn note_baseline(&mut self, id: i64, found: Result<Option<String>, EngineError>) -> bool {
        match found {
            Ok(Some(what)) => self.baseline_seen.insert(id, what.clone()) != Some(what),
            Ok(None) => self.baseline_seen.remove(&id).is_some(),
            // Not asked (NetBird down, a dead token): what was known stays.
            Err(e) => {
                tracing::debug!(customer = id, "baseline not checked: {e}");
                false
            }
        }
    }

    /// Samples CPU and memory of the focused customer (every few seconds) and of the others
    /// (every `monitor.stats_s`, spread), at most `concurrency` at a time.
    pub async fn stats_due(
        &mut self,
        settings: &Settings,
        sink: &mut impl FnMut(MonitorEvent),
    ) -> Result<(), EngineError> {
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
        let engines = self.engines;
        let due: Vec<&crate::domain::customer::Customer> =
            self.rows.iter().map(|r| &r.customer).filter(|c| due.contains(&c.id)).collect();
        let results: Vec<(i64, Result<Vec<ContainerStats>, EngineError>)> = stream::iter(due)
            .map(|c| async move {
                let prefix = crate::engine::stack::render::prefix(settings, c);
                let mut out = Vec::new();
                let docker = match engines.for_customer(c).await {
                    Ok(d) => d,
                    Err(e) => return (c.id, Err(e)),
                };
                for svc in crate::engine::stack::render::services(c.layout) {
                    let name = crate::engine::stack::render::container_name(&prefix, svc);
                    if let Ok(s) = docker.stats(&name, svc).await {
                        out.push(s);
                    }
                }
                (c.id, Ok(out))
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
                sink(MonitorEvent::Stats { customer_id: id, stats: r.map_err(crate::domain::error::Failure::from) });
            }
        }
        Ok(())
    }

    /// Counts devices through each NetBird API whose turn it is (combined layout with the
    /// owner's token), at most `concurrency` at a time. True when a count changed.
    pub async fn devices_due(&mut self, settings: &Settings) -> Result<bool, EngineError> {
        let every = Duration::from_secs(settings.monitor.devices_s);
        let now = Instant::now();
        let mut due = Vec::new();
        for row in &self.rows {
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
        let ops = self.ops();
        // The baseline is asked on the same schedule (its file read once per round of counts).
        let base = match crate::engine::fleet::baseline::load(self.store) {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!("baseline: {e}");
                None
            }
        };
        let base = &base;
        let ids: Vec<(i64, Figures)> = due.iter().map(|r| (r.customer.id, (r.devices, r.online, r.outdated))).collect();
        let renew_days = settings.pat_renew_days;
        let acting = self.acting;
        let results: Vec<DeviceRound> = stream::iter(ids)
            .map(|(id, before)| {
                let ops = &ops;
                async move {
                    // The token is renewed on the devices schedule, which uses it anyway.
                    let renewal = (acting && renewal_due(ops, id, renew_days)).then_some(());
                    let renewed = match renewal {
                        Some(()) => Some(ops.renew_token(id).await.map(|_| ())),
                        None => None,
                    };
                    let counted =
                        ops.devices(id).await.map(|u| (Some(u.count.total), Some(u.count.connected), u.count.outdated));
                    // Its reverse proxy too, when it has one: registered, services in trouble.
                    let reverse = match ops.store.customer(id) {
                        Ok(c) if c.reverse_proxy => Some(ops.reverse_proxy_seen(&c).await),
                        _ => None,
                    };
                    let baseline = match base {
                        Some(b) => Some(baseline_drift(ops, b, id).await),
                        None => None,
                    };
                    (id, before, renewed, counted, reverse, baseline)
                }
            })
            .buffer_unordered(settings.monitor.concurrency)
            .collect()
            .await;
        let mut changed = false;
        if base.is_none() {
            changed |= !self.baseline_seen.is_empty();
            self.baseline_seen.clear();
        }
        for (id, before, renewed, r, reverse, baseline) in results {
            if let Some(found) = baseline {
                changed |= self.note_baseline(id, found);
            }
            self.next_devices.insert(id, Instant::now() + every);
            match reverse {
                Some(Ok(seen)) => {
                    let counts = (seen.services, u32::try_from(seen.troubled.len()).unwrap_or(u32::MAX));
                    if let Err(e) = self.store.set_services(id, Some(counts)) {
                        tracing::warn!(customer = id, "services not recorded: {e}");
                    }
                    changed |= self.reverse_seen.insert(id, seen.clone()) != Some(seen);
                }
                Some(Err(e)) => tracing::debug!(customer = id, "reverse proxy not asked: {e}"),
                None => changed |= self.reverse_seen.remove(&id).is_some(),
            }
            if let Some(result) = renewed {
                changed |= self.note_renewal(id, result);
            }
            match r {
                // Online and outdated counts are on the dashboard too: any change redraws it.
                Ok(now) => changed |= before != now,
                Err(e) => tracing::debug!(customer = id, "devices not counted: {e}"),
            }
        }
        Ok(changed)
    }
}

/// A customer's devices: registered, connected, on an outdated client.
type Figures = (Option<u32>, Option<u32>, Option<u32>);

/// One customer's device turn: id, the figures before, how a due token renewal went, the new
/// figures, its reverse proxy as asked (customers with one), and how it differs from the
/// baseline (when there is one).
type DeviceRound = (
    i64,
    Figures,
    Option<Result<(), EngineError>>,
    Result<Figures, EngineError>,
    Option<Result<crate::domain::fleet::ReverseSeen, EngineError>>,
    Option<Result<Option<String>, EngineError>>,
);

impl<'a> Monitor<'a> {
    /// Operations as the monitor runs them (audited as `monitor`; it never touches the proxy).
    pub(super) fn ops(&self) -> crate::engine::ops::lifecycle::Ops<'a, crate::engine::npm::proxy::NoProxy> {
        crate::engine::ops::lifecycle::Ops {
            store: self.store,
            vault: self.vault,
            actor: "monitor",
            // The monitor renews tokens, takes backups and finishes interrupted work: an
            // operator's share, whoever started it.
            role: crate::domain::user::Role::Operator,
            engines: self.engines,
            proxy: &crate::engine::npm::proxy::NoProxy,
            template_dir: None,
        }
    }

    /// Renews every owner token that is due now (for `nbmsp monitor --once`; the running monitor
    /// does this on the device-count schedule). True when a failure started or ended.
    pub async fn renew_due_tokens(&mut self, settings: &Settings) -> Result<bool, EngineError> {
        if !self.acting {
            return Ok(false);
        }
        let ops = self.ops();
        let ids: Vec<i64> = self.rows.iter().map(|r| r.customer.id).collect();
        let mut changed = false;
        for id in ids {
            if renewal_due(&ops, id, settings.pat_renew_days) {
                let result = ops.renew_token(id).await.map(|_| ());
                changed |= self.note_renewal(id, result);
            }
        }
        Ok(changed)
    }

    /// Remembers how a renewal went (a busy customer is tried again later, not a failure).
    fn note_renewal(&mut self, id: i64, result: Result<(), EngineError>) -> bool {
        match result {
            Ok(()) => self.token_failures.remove(&id).is_some(),
            Err(EngineError::Store(crate::store::StoreError::Conflict(m))) if m.starts_with("busy:") => false,
            Err(e) => self.token_failures.insert(id, e.to_string()).is_none(),
        }
    }
}

/// Whether the customer's owner token expires within `renew_days` (read from the database, only
/// for the few customers whose device count is due).
fn renewal_due<P: crate::engine::npm::proxy::Proxy>(
    ops: &crate::engine::ops::lifecycle::Ops<'_, P>,
    id: i64,
    renew_days: u32,
) -> bool {
    let expires = ops.store.deployment(id).ok().flatten().and_then(|d| d.pat_expires_at);
    crate::engine::netbird::owner::renewal_due(expires, renew_days, crate::store::now())
}

/// A customer's fixed offset into an interval, so first probes spread evenly (jitter without
/// randomness: the same customer keeps its slot).
fn spread(id: i64, every: Duration) -> Duration {
    let slots = every.as_millis().max(1) as u64;
    let h = (id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11;
    Duration::from_millis(h % slots)
}

fn probe_of(r: &crate::engine::checks::health::HealthReport) -> ProbeSeen {
    let failing: Vec<String> =
        r.endpoints.iter().filter(|e| !e.ok).map(|e| format!("{}: {}", e.name, e.detail)).collect();
    let core_ok = r.endpoints.iter().filter(|e| e.name != "dashboard").all(|e| e.ok);
    let dashboard_ok = r.endpoints.iter().filter(|e| e.name == "dashboard").all(|e| e.ok);
    let mut reasons = failing;
    if let Some(s) = r.stun.as_ref().filter(|s| !s.ok) {
        reasons.push(format!("STUN {}: {}", s.target, s.detail));
    }
    ProbeSeen {
        http_ok: core_ok,
        dashboard_ok,
        stun_ok: r.stun.as_ref().map(|s| s.ok),
        reason: Some(reasons.join("; ")).filter(|s| !s.is_empty()),
        public: r.public.as_ref().and_then(crate::engine::checks::public::PublicCheck::warning),
    }
}

/// How a customer's NetBird differs from `base`, in words (`None`: it matches).
async fn baseline_drift<P: crate::engine::npm::proxy::Proxy>(
    ops: &crate::engine::ops::lifecycle::Ops<'_, P>,
    base: &crate::domain::baseline::Baseline,
    id: i64,
) -> Result<Option<String>, EngineError> {
    let seen = crate::engine::fleet::baseline::observe(ops, base, id).await?;
    let d = crate::domain::baseline_drift::drift(base, &seen);
    Ok((!d.is_empty()).then(|| d.iter().map(|x| x.what.clone()).collect::<Vec<_>>().join("; ")))
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
}
