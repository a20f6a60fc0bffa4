//! The fleet's NetBird baseline: which customers differ from `baseline.toml` (asked a few at
//! a time), and bringing them to it — one canary first, then waves, halting at the first
//! failure like a rollout. Every change goes through [`Ops::netbird`] (role, audit log), and
//! only what the baseline speaks about is touched.

use std::path::{Path, PathBuf};

use futures_util::StreamExt;
use serde::Serialize;

use crate::domain::baseline::Baseline;
use crate::domain::baseline_drift::{Drift, Observed, drift};
use crate::domain::customer::CustomerStatus;
use crate::domain::netbird::{AdminAction, AdminAnswer};
use crate::domain::rights::Right;
use crate::engine::EngineError;
use crate::engine::npm::proxy::Proxy;
use crate::engine::ops::lifecycle::Ops;
use crate::store::Store;

/// Customers asked at once.
const ASK_AT_ONCE: usize = 4;

/// Where the baseline lives: `baseline.toml` beside the database.
pub fn path(store: &Store) -> PathBuf {
    store.path().and_then(Path::parent).unwrap_or(Path::new(".")).join("baseline.toml")
}

/// The baseline in force (`None`: no file, nothing is required).
pub fn load(store: &Store) -> Result<Option<Baseline>, EngineError> {
    let file = path(store);
    match std::fs::read_to_string(&file) {
        Ok(text) => Ok(Some(Baseline::parse(&text).map_err(crate::store::StoreError::Invalid)?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(EngineError::Files(format!("cannot read {}: {e}", file.display()))),
    }
}

/// One customer against the baseline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomerDrift {
    /// Its id.
    pub id: i64,
    /// Its subdomain.
    pub subdomain: String,
    /// What differs (empty: it matches).
    pub drift: Vec<Drift>,
    /// Why it could not be asked (stopped, not deployed, NetBird refused).
    pub error: Option<String>,
    /// Stopped on purpose: not asked, and not a reason to halt an apply.
    pub stopped: bool,
}

/// Asks every deployed customer (in subdomain order) how it differs.
pub async fn check<P: Proxy>(ops: &Ops<'_, P>, baseline: &Baseline) -> Result<Vec<CustomerDrift>, EngineError> {
    crate::store::auth::require_role(ops.role, Right::NetBirdList)?;
    let mut rows = ops.store.customer_rows()?;
    rows.retain(|r| r.udp_port.is_some());
    rows.sort_by(|a, b| a.customer.subdomain.cmp(&b.customer.subdomain));
    let mut out: Vec<CustomerDrift> = futures_util::stream::iter(rows)
        .map(|r| async move {
            let c = r.customer;
            let stopped = c.status == CustomerStatus::Stopped;
            let asked = if stopped {
                Err("stopped: not asked".to_string())
            } else {
                observe(ops, baseline, c.id).await.map(|seen| drift(baseline, &seen)).map_err(|e| e.to_string())
            };
            let (drift, error) = match asked {
                Ok(d) => (d, None),
                Err(e) => (Vec::new(), Some(e)),
            };
            CustomerDrift { id: c.id, subdomain: c.subdomain, drift, error, stopped }
        })
        .buffer_unordered(ASK_AT_ONCE)
        .collect()
        .await;
    out.sort_by(|a, b| a.subdomain.cmp(&b.subdomain));
    Ok(out)
}

/// What an apply did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ApplyReport {
    /// Customers brought to the baseline, with what was changed.
    pub fixed: Vec<(String, Vec<String>)>,
    /// The customer that failed, and why (nothing after its wave was started).
    pub failed: Option<(String, String)>,
    /// Customers left as they were because the apply halted.
    pub not_started: Vec<String>,
    /// Customers stopped on purpose: not asked, not changed.
    pub skipped: Vec<String>,
}

/// Brings the drifting customers in `drifts` to the baseline: the first alone (the canary),
/// then `wave` at a time; a failure ends the apply after its wave. A customer that could not be
/// asked is a failure in its turn (an apply that cannot see a customer stops and says so), unless
/// it was stopped on purpose. Admins only.
pub async fn apply<P: Proxy>(
    ops: &Ops<'_, P>,
    drifts: &[CustomerDrift],
    wave: usize,
    mut progress: impl FnMut(&str, Result<&[String], &str>),
) -> Result<ApplyReport, EngineError> {
    crate::store::auth::require_role(ops.role, Right::Baseline)?;
    let todo: Vec<&CustomerDrift> =
        drifts.iter().filter(|d| !d.stopped && (!d.drift.is_empty() || d.error.is_some())).collect();
    let mut waves: Vec<Vec<&CustomerDrift>> = Vec::new();
    if let Some((canary, rest)) = todo.split_first() {
        waves.push(vec![*canary]);
        waves.extend(rest.chunks(wave.max(1)).map(<[_]>::to_vec));
    }
    let mut report = ApplyReport {
        skipped: drifts.iter().filter(|d| d.stopped).map(|d| d.subdomain.clone()).collect(),
        ..ApplyReport::default()
    };
    let mut waves = waves.into_iter();
    for batch in waves.by_ref() {
        let done: Vec<(String, Result<Vec<String>, String>)> =
            futures_util::future::join_all(batch.iter().map(|d| async {
                if let Some(e) = &d.error {
                    return (d.subdomain.clone(), Err(format!("not asked: {e}")));
                }
                let mut changed = Vec::new();
                for act in d.drift.iter().flat_map(|item| item.fix.actions()) {
                    let what = act.describe();
                    match ops.netbird(d.id, act).await {
                        Ok(AdminAnswer::Done(m)) => changed.push(m),
                        Ok(_) => changed.push(what.to_string()),
                        Err(e) => return (d.subdomain.clone(), Err(e.to_string())),
                    }
                }
                (d.subdomain.clone(), Ok(changed))
            }))
            .await;
        for (sub, r) in done {
            match r {
                Ok(changed) => {
                    progress(&sub, Ok(&changed));
                    report.fixed.push((sub, changed));
                }
                Err(e) => {
                    progress(&sub, Err(&e));
                    report.failed.get_or_insert((sub, e));
                }
            }
        }
        if report.failed.is_some() {
            break;
        }
    }
    report.not_started.extend(waves.flatten().map(|d| d.subdomain.clone()));
    Ok(report)
}

/// Brings a new customer to the baseline during its first deploy, after its owner exists and
/// before its domain goes public: every fix at once, as part of the deploy (the deploy's right
/// covers it; each change audited). A failure fails the deploy: a customer does not go public
/// with what the baseline forbids. Returns what was done, in words.
pub async fn onboard<P: Proxy>(ops: &Ops<'_, P>, customer_id: i64) -> Result<String, EngineError> {
    let Some(base) = load(ops.store)? else { return Ok("no baseline.toml".into()) };
    let seen = observe_with(ops, customer_id, true).await?;
    let fixes = drift(&base, &seen);
    if fixes.is_empty() {
        return Ok("matches the baseline".into());
    }
    for act in fixes.iter().flat_map(|d| d.fix.actions()) {
        ops.netbird_within(customer_id, act, Right::Deploy).await?;
    }
    Ok(format!("{} change(s): {}", fixes.len(), fixes.iter().map(|d| d.what.as_str()).collect::<Vec<_>>().join("; ")))
}

/// What a customer's NetBird holds of what a baseline speaks about: its policies, groups,
/// posture checks and nameserver groups (all four, whatever the baseline lists: an object the
/// baseline owned and no longer lists is found only by looking).
pub async fn observe<P: Proxy>(ops: &Ops<'_, P>, _baseline: &Baseline, id: i64) -> Result<Observed, EngineError> {
    observe_with(ops, id, false).await
}

/// [`observe`]; `within_deploy`: as a step of a deploy (its right covers the reads).
async fn observe_with<P: Proxy>(ops: &Ops<'_, P>, id: i64, within_deploy: bool) -> Result<Observed, EngineError> {
    let mut seen = Observed { at_unix: crate::store::now().unix_timestamp(), ..Observed::default() };
    let lists = [
        AdminAction::Policies,
        AdminAction::Groups,
        AdminAction::Postures,
        AdminAction::Nameservers,
        AdminAction::Network(crate::domain::networks::NetworkAction::DnsSettings),
        AdminAction::Keys,
    ];
    for list in lists {
        let answer = if within_deploy {
            ops.netbird_within(id, list, Right::Deploy).await?
        } else {
            ops.netbird(id, list).await?
        };
        match answer {
            AdminAnswer::Policies(p) => seen.policies = p,
            AdminAnswer::Groups(g) => seen.groups = g.into_iter().map(|g| (g.id, g.name)).collect(),
            AdminAnswer::Postures(p) => seen.postures = p,
            AdminAnswer::Nameservers(n) => seen.nameservers = n,
            AdminAnswer::DnsSettings(d) => seen.dns_unmanaged = d,
            AdminAnswer::Keys(k) => seen.keys = k,
            _ => {}
        }
    }
    Ok(seen)
}
