//! Image upgrades across the fleet in waves: one canary customer first, then batches; each
//! customer is redeployed and must come back healthy (a failed redeploy restores that
//! customer's previous stack by itself). The rollout stops at the first failure and says who
//! is upgraded, who failed and who was not touched; the caller puts the image settings back.

use crate::domain::rights::Right;
use std::collections::BTreeMap;

use serde::Serialize;

use crate::engine::EngineError;
use futures_util::{StreamExt, stream};

use crate::domain::audit::AuditStatus;
use crate::domain::customer::CustomerStatus;
use crate::engine::fleet::bulk::BulkResult;
use crate::engine::npm::proxy::Proxy;
use crate::engine::ops::lifecycle::{Ops, Progress};
use crate::engine::stack::render;

/// How to roll out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RolloutPlan {
    /// The customer to go first, alone (else the first one that needs the upgrade).
    pub canary: Option<i64>,
    /// Customers redeployed at once after the canary.
    pub batch: usize,
}

/// What a rollout did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RolloutReport {
    /// Service → image the settings name (the target).
    pub target: BTreeMap<String, String>,
    /// Service → image customers ran before (read off the first customer upgraded).
    pub previous: BTreeMap<String, String>,
    /// Customers now on the target images.
    pub upgraded: Vec<String>,
    /// Customers that already were.
    pub already: Vec<String>,
    /// The customer that failed and why (its previous stack was restored by the redeploy).
    pub failed: Option<(String, String)>,
    /// Other customers of the failing wave that failed too (each restored like the first).
    pub also_failed: Vec<(String, String)>,
    /// Customers not reached because the rollout stopped.
    pub not_started: Vec<String>,
    /// Customers left out, with their status (stopped, error, ...): redeploy them yourself.
    pub left_out: Vec<(String, String)>,
}

impl RolloutReport {
    /// One paragraph for people.
    pub fn sentence(&self) -> String {
        let mut s = format!(
            "rollout: {} upgraded, {} already on the images, {} left out",
            self.upgraded.len(),
            self.already.len(),
            self.left_out.len()
        );
        if let Some((who, why)) = &self.failed {
            s.push_str(&format!(
                "; STOPPED at {who} ({why}); {} not started; {who} runs its previous images again",
                self.not_started.len()
            ));
        }
        s
    }
}

/// Progress of a rollout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RolloutEvent {
    /// A wave starts: its number (1 is the canary) and customers.
    Wave(usize, Vec<String>),
    /// A customer's step.
    Step(i64, Progress),
    /// A customer ended.
    Done(BulkResult),
}

/// The id of the image `image` names now; under `images.pull = always` it is pulled first, so a
/// tag re-pointed upstream is seen.
async fn target_image_id<P: Proxy>(
    ops: &Ops<'_, P>,
    host: crate::engine::hosts::HostKey,
    settings: &crate::domain::settings::Settings,
    image: &str,
) -> Result<Option<String>, EngineError> {
    // Each host has its own image store: the same tag may name another image there.
    let docker = ops.engines.of(host).await?;
    if settings.images_pull == crate::domain::settings::ImagePull::Always
        && let Err(e) = docker.pull(image, |_| {}).await
    {
        tracing::warn!("rollout: pulling {image} failed ({e}); comparing with the local image");
    }
    docker.image_id(image).await
}

/// Rolls the images in the settings out to every running customer not yet on them.
pub async fn run<P: Proxy>(
    ops: &Ops<'_, P>,
    plan: RolloutPlan,
    on: &dyn Fn(RolloutEvent),
) -> Result<RolloutReport, EngineError> {
    let settings = ops.store.settings()?;
    let installation = ops.store.installation_id()?;
    let containers = ops.engines.list_fleet_or_fail(&installation).await?;
    // Compare image ids, not names: a tag re-pointed upstream names another image. Each target
    // is looked up once, and only when a customer's layout uses it.
    let mut target_ids: std::collections::BTreeMap<(crate::engine::hosts::HostKey, String), Option<String>> =
        std::collections::BTreeMap::new();
    let mut report = RolloutReport::default();
    let mut pending = Vec::new();
    for c in ops.store.customers(&Default::default())? {
        if ops.store.deployment(c.id)?.is_none() {
            continue;
        }
        if !matches!(c.status, CustomerStatus::Active | CustomerStatus::Degraded) {
            report.left_out.push((c.subdomain.clone(), c.status.to_string()));
            continue;
        }
        let mut behind = false;
        for svc in render::services(c.layout) {
            let want = settings.images.get(*svc).cloned().unwrap_or_default();
            report.target.insert((*svc).to_string(), want.clone());
            let running = containers
                .iter()
                .find(|(h, x)| *h == c.host_id && x.customer_id == c.id && x.seen.service == *svc)
                .map(|(_, x)| x);
            let key = (c.host_id, want.clone());
            if !target_ids.contains_key(&key) {
                let id = target_image_id(ops, c.host_id, &settings, &want).await?;
                target_ids.insert(key.clone(), id);
            }
            let want_id = target_ids[&key].clone();
            let differs = |x: &&crate::engine::docker::FleetContainer| {
                x.seen.image != want || want_id.as_ref().is_some_and(|id| !x.image_id.is_empty() && x.image_id != *id)
            };
            if running.is_none_or(|x| differs(&x)) {
                behind = true;
                if let Some(x) = running
                    && !report.previous.contains_key(*svc)
                {
                    report.previous.insert((*svc).to_string(), x.seen.image.clone());
                }
            }
        }
        if behind { pending.push((c.id, c.subdomain)) } else { report.already.push(c.subdomain) }
    }
    // The canary first, alone; then batches.
    if let Some(pos) = plan.canary.and_then(|id| pending.iter().position(|(x, _)| *x == id)) {
        let canary = pending.remove(pos);
        pending.insert(0, canary);
    }
    let mut waves: Vec<Vec<(i64, String)>> = Vec::new();
    if !pending.is_empty() {
        waves.push(vec![pending.remove(0)]);
    }
    waves.extend(pending.chunks(plan.batch.max(1)).map(<[_]>::to_vec));
    let mut waves = waves.into_iter().enumerate();
    for (n, wave) in waves.by_ref() {
        on(RolloutEvent::Wave(n + 1, wave.iter().map(|(_, s)| s.clone()).collect()));
        let mut results = Vec::new();
        let mut runs = stream::iter(wave)
            .map(|(id, subdomain)| async move {
                let mut p = |step: Progress| on(RolloutEvent::Step(id, step));
                let result = upgrade_one(ops, id, &mut p).await.map_err(crate::domain::error::Failure::from);
                BulkResult { customer_id: id, subdomain, result }
            })
            .buffer_unordered(plan.batch.max(1));
        while let Some(r) = runs.next().await {
            on(RolloutEvent::Done(r.clone()));
            results.push(r);
        }
        for r in results {
            match r.result {
                Ok(_) => report.upgraded.push(r.subdomain),
                Err(e) if report.failed.is_none() => report.failed = Some((r.subdomain, e.message)),
                Err(e) => report.also_failed.push((r.subdomain, e.message)),
            }
        }
        if report.failed.is_some() {
            break;
        }
    }
    report.not_started.extend(waves.flat_map(|(_, w)| w.into_iter().map(|(_, s)| s)));
    Ok(report)
}

/// Upgrades one customer under one hold of its lock, so no other operation slips in between
/// the steps: redeploy (which waits for containers and HTTP endpoints and restores the previous
/// version itself when that fails), then a full health check including STUN on the public
/// port; a customer the new images leave unhealthy goes back to its previous files and
/// containers.
async fn upgrade_one<P: Proxy>(
    ops: &Ops<'_, P>,
    id: i64,
    progress: &mut dyn FnMut(Progress),
) -> Result<String, EngineError> {
    ops.locked(id, Right::Rollout, upgrade_locked(ops, id, progress)).await
}

async fn upgrade_locked<P: Proxy>(
    ops: &Ops<'_, P>,
    id: i64,
    progress: &mut dyn FnMut(Progress),
) -> Result<String, EngineError> {
    let c = ops.store.customer(id)?;
    let (dir, files) = crate::engine::hosts::files::instance_of(ops.store, &c)?;
    let saved = files.read(&dir, &render::all_file_names()).await?;
    ops.redeploy_now(id, progress).await?;
    let report = ops.health(id).await?;
    if report.healthy {
        return Ok("upgraded; healthy, STUN answers".into());
    }
    let mut why: Vec<String> =
        report.endpoints.iter().filter(|e| !e.ok).map(|e| format!("{}: {}", e.name, e.detail)).collect();
    if let Some(s) = report.stun.as_ref().filter(|s| !s.ok) {
        why.push(format!("STUN {}: {}", s.target, s.detail));
    }
    if why.is_empty() {
        why.push("a container is not up".into());
    }
    let restored = ops.restore_previous(&c, &dir, &saved).await;
    let reason = match &restored {
        Ok(()) => {
            format!("rollout: unhealthy on the new images ({}); the previous version was restored", why.join("; "))
        }
        Err(e) => format!("rollout: unhealthy on the new images ({}); restoring failed too: {e}", why.join("; ")),
    };
    let status = if restored.is_ok() { CustomerStatus::Active } else { CustomerStatus::Error };
    ops.store.set_customer_status(id, status, Some(&reason))?;
    ops.store.log_customer(ops.actor, &c, "rollout", AuditStatus::Error, &reason)?;
    Err(EngineError::Unhealthy(reason))
}
