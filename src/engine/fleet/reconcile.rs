//! Reconcile: compare what the database says with what Docker, the instance dirs and NPM hold,
//! report every difference with its fix, and apply the safe fixes on request. Also the crash
//! recovery of operations the journal shows as interrupted (their process is gone).
//!
//! "Safe" fixes restore the state the database describes (remove containers nobody owns, start
//! or redeploy a customer that should run, finish or undo an interrupted operation). Deleting a
//! directory that may hold a customer's data is never safe: it needs the directory named.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::Serialize;

use crate::domain::customer::{Customer, CustomerStatus};
use crate::domain::fleet;
use crate::engine::EngineError;
use crate::engine::hosts::HostKey;
use crate::engine::npm::proxy::{AnyProxy, HostProxy};
use crate::engine::ops::lifecycle::{Ops, Progress};
use crate::engine::stack::render;
use crate::store::journal::JournalEntry;

pub use super::recovery::{Plan, plan, recover, undo_cancelled};

/// One difference between the database and the world.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// What kind (`interrupted`, `orphan_container`, `missing_containers`, ...).
    pub kind: &'static str,
    /// What it is about: a subdomain, container, directory or proxy host.
    pub subject: String,
    /// What is wrong.
    pub detail: String,
    /// The fix, in words.
    pub fix: String,
    /// Whether `--yes` applies it.
    pub safe: bool,
    /// The fix as something to run.
    #[serde(skip)]
    pub action: Option<Fix>,
}

/// A fix reconcile can apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fix {
    /// Finish or undo an interrupted operation.
    Recover(Box<JournalEntry>),
    /// Remove a container (on that host).
    RemoveContainer(HostKey, String),
    /// Start the customer's containers.
    Start(i64),
    /// Redeploy the customer (recreates what is missing, re-registers the proxy host).
    Redeploy(i64),
    /// Set the status from what runs (a status left `deploying` by a crash).
    ResetStatus(i64),
    /// Delete an NPM proxy host no customer owns (in that host's NPM).
    DeleteProxyHost(HostKey, i64),
    /// Delete a directory (and the data in it); only when the user named it.
    PurgeDir(PathBuf),
    /// Give a host's edge its configuration again (starting it when it is not running).
    ApplyEdge(HostKey),
}

/// What applying a fix did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Applied {
    /// The finding's subject.
    pub subject: String,
    /// Its kind.
    pub kind: &'static str,
    /// Whether it worked.
    pub ok: bool,
    /// What happened.
    pub message: String,
}

fn finding(kind: &'static str, subject: impl Into<String>, detail: String, fix: &str, action: Fix) -> Finding {
    let safe = !matches!(action, Fix::PurgeDir(_));
    Finding { kind, subject: subject.into(), detail, fix: fix.to_string(), safe, action: Some(action) }
}

/// Operations the journal shows as interrupted: still `running` with their process gone.
pub fn interrupted(store: &crate::store::Store) -> Result<Vec<Finding>, EngineError> {
    let now_s = crate::store::now().unix_timestamp();
    let mut out = Vec::new();
    for e in store.journal_running()? {
        let lock = store.lock_holder(e.customer_id)?;
        if !e.is_abandoned(lock.as_ref(), now_s) {
            continue;
        }
        // The dry run says what `--yes` will really do: the same plan decides both.
        let fix = plan(store, &e)?.describe();
        let detail = format!(
            "{} by {} (pid {} on {}) stopped at '{}' since {}",
            e.operation, e.actor, e.pid, e.host, e.step, e.updated_at
        );
        out.push(finding("interrupted", e.subdomain.clone(), detail, &fix, Fix::Recover(Box::new(e))));
    }
    Ok(out)
}

/// Every difference, with its fix. `purge` names directories the user allows deleting.
pub async fn check(ops: &Ops<'_, AnyProxy>, purge: &[String]) -> Result<Vec<Finding>, EngineError> {
    let store = ops.store;
    let settings = store.settings()?;
    let mut out = interrupted(store)?;
    let recovering: BTreeSet<i64> = out
        .iter()
        .filter_map(|f| match &f.action {
            Some(Fix::Recover(e)) => Some(e.customer_id),
            _ => None,
        })
        .collect();
    // Operations under way elsewhere are left alone.
    let busy = store.busy_customers()?;
    let under_way: BTreeSet<i64> = store.journal_running()?.iter().map(|e| e.customer_id).collect();
    let skip = |id: i64| recovering.contains(&id) || busy.contains(&id) || under_way.contains(&id);

    let customers: BTreeMap<i64, Customer> =
        store.customers(&Default::default())?.into_iter().map(|c| (c.id, c)).collect();
    let (containers, down) = ops.engines.list_fleet(&store.installation_id()?).await;
    ops.engines.sole_engine_down(&down)?;
    // Customers of a host that did not answer are neither orphans nor missing: left alone.
    let unreachable: BTreeSet<HostKey> = down.iter().map(|(key, _)| *key).collect();
    let mut by_customer: BTreeMap<i64, Vec<(HostKey, crate::engine::docker::FleetContainer)>> = BTreeMap::new();
    for (host, c) in containers {
        by_customer.entry(c.customer_id).or_default().push((host, c));
    }
    for (id, list) in &by_customer {
        if skip(*id) {
            continue;
        }
        let owner = customers.get(id);
        let deployed = owner.is_some() && store.deployment(*id)?.is_some();
        if !deployed {
            let why = match owner {
                None => format!("customer #{id} does not exist"),
                Some(c) => format!("customer '{}' is not deployed", c.subdomain),
            };
            for (host, c) in list {
                out.push(finding(
                    "orphan_container",
                    c.name.clone(),
                    format!("{why}; the container is {}", c.seen.state),
                    "remove the container",
                    Fix::RemoveContainer(*host, c.name.clone()),
                ));
            }
        } else if let Some(placed) = owner {
            // Left behind on another host (an interrupted move): not the customer's stack.
            let mut elsewhere = Vec::new();
            for (host, c) in list.iter().filter(|(host, _)| *host != placed.host_id) {
                // The same engine under a second record: these are the customer's own containers.
                if !ops.engines.same_engine(*host, placed.host_id).await {
                    elsewhere.push((host, c));
                }
            }
            for (host, c) in elsewhere {
                out.push(finding(
                    "orphan_container",
                    c.name.clone(),
                    format!(
                        "'{}' runs on host {}, this container is on host {}",
                        placed.subdomain,
                        ops.engines.name(placed.host_id),
                        ops.engines.name(*host)
                    ),
                    "remove the container",
                    Fix::RemoveContainer(*host, c.name.clone()),
                ));
            }
        }
    }
    let on_disk = files_present(store, &customers, &unreachable).await?;
    for c in customers.values() {
        if skip(c.id) || unreachable.contains(&c.host_id) {
            continue;
        }
        // No operation runs (skip() above), so a `deploying` status is a leftover.
        if c.status == CustomerStatus::Deploying {
            out.push(finding(
                "stuck_status",
                c.subdomain.clone(),
                "status 'deploying' but no operation runs".into(),
                "set the status from what runs",
                Fix::ResetStatus(c.id),
            ));
            continue;
        }
        let Some(d) = store.deployment(c.id)? else { continue };
        let list: Vec<&crate::engine::docker::FleetContainer> = by_customer
            .get(&c.id)
            .map(|l| l.iter().filter(|(host, _)| *host == c.host_id).map(|(_, x)| x).collect())
            .unwrap_or_default();
        // Its files are where its containers run (another host's data_dir for a remote one).
        let (here, files) = crate::engine::hosts::files::settings_for(store, c)?;
        let dir = render::instance_dir(&here, c);
        let missing: Vec<&str> =
            fleet::services(c.layout).iter().copied().filter(|s| !list.iter().any(|x| x.seen.service == *s)).collect();
        let store_dir = render::store_dir(&here, c);
        let (has_data, has_compose) = on_disk.get(&c.id).copied().unwrap_or((false, false));
        if d.status != crate::domain::deployment::DeploymentStatus::Pending && !has_data {
            // A redeploy here would start NetBird empty (its owner claimable by anyone) and
            // bury the real data wherever it went: never offered, whatever else is wrong.
            out.push(Finding {
                kind: "data_missing",
                subject: c.subdomain.clone(),
                detail: format!("deployed, but NetBird's data at {} is missing or empty", files.describe(&store_dir)),
                fix: format!(
                    "find the data: if data_dir ({}) was changed by hand, set it back and use `nbmsp migrate data-dir`; \
                     if it is lost, `nbmsp customer restore FILE` from a backup",
                    settings.data_dir
                ),
                safe: false,
                action: None,
            });
            continue;
        }
        if !has_compose {
            out.push(finding(
                "missing_files",
                c.subdomain.clone(),
                format!("{} has no docker-compose.yml", dir.display()),
                "redeploy (renders the files again; data is kept)",
                Fix::Redeploy(c.id),
            ));
        } else if !missing.is_empty() {
            out.push(finding(
                "missing_containers",
                c.subdomain.clone(),
                format!("no container for {}", missing.join(", ")),
                "redeploy (recreates them; data is kept)",
                Fix::Redeploy(c.id),
            ));
        } else if c.status != CustomerStatus::Stopped && list.iter().any(|x| x.seen.state != "running") {
            let down: Vec<String> = list
                .iter()
                .filter(|x| x.seen.state != "running")
                .map(|x| format!("{} {}", x.seen.service, x.seen.state))
                .collect();
            out.push(finding(
                "stopped_containers",
                c.subdomain.clone(),
                format!("{} while the customer is {}", down.join(", "), c.status),
                "start them",
                Fix::Start(c.id),
            ));
        } else if let Some(port) = d.relay_udp_port {
            let published: BTreeSet<u16> = list.iter().flat_map(|x| x.public_udp.iter().copied()).collect();
            let running = list.iter().all(|x| x.seen.state == "running");
            if running && (!published.contains(&port) || published.len() > 1) {
                let shown: Vec<String> = published.iter().map(u16::to_string).collect();
                out.push(finding(
                    "port_mismatch",
                    c.subdomain.clone(),
                    format!("the database gives UDP {port}, the containers publish [{}]", shown.join(", ")),
                    "redeploy (publishes the recorded port)",
                    Fix::Redeploy(c.id),
                ));
            }
        }
    }
    // Instance dirs nobody owns (the data of a customer deleted outside nbmsp, a restore, ...).
    let known: BTreeSet<PathBuf> = customers.values().map(|c| render::instance_dir(&settings, c)).collect();
    if let Ok(entries) = std::fs::read_dir(&settings.data_dir) {
        for e in entries.flatten() {
            let path = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !path.is_dir() || known.contains(&path) {
                continue;
            }
            let named = purge.contains(&name);
            out.push(Finding {
                kind: "orphan_dir",
                subject: name.clone(),
                detail: format!("{} belongs to no customer (it may hold a customer's data)", path.display()),
                fix: if named {
                    "delete it with its data (named by --purge-dir)".into()
                } else {
                    format!("look inside; delete it only by naming it: nbmsp reconcile --purge-dir {name}")
                },
                safe: named,
                action: Some(Fix::PurgeDir(path)),
            });
        }
    }
    out.extend(edge_findings(ops, &settings, &unreachable).await?);
    let installation = store.installation_id()?;
    for host in ops.engines.keys() {
        // A host that did not answer, or has no NPM of its own, has nothing to compare.
        if unreachable.contains(&host) || ops.engines.host(host).is_some_and(|h| h.npm.is_none()) {
            continue;
        }
        let proxy = ops.proxy_on(host).await?;
        let (HostProxy::Here(AnyProxy::Npm(npm)) | HostProxy::There(AnyProxy::Npm(npm))) = &proxy else { continue };
        let seen = ProxySide { host, name: ops.engines.name(host), client: &npm.client, installation: &installation };
        out.extend(seen.findings(store, &customers, &settings.base_domain, &skip).await?);
    }
    Ok(out)
}

/// Each reachable host's edge: one in trouble is given its configuration again; one left
/// running while `edge.listen` is empty is an orphan.
async fn edge_findings(
    ops: &Ops<'_, AnyProxy>,
    settings: &crate::domain::settings::Settings,
    unreachable: &BTreeSet<HostKey>,
) -> Result<Vec<Finding>, EngineError> {
    let mut out = Vec::new();
    let name = crate::engine::npm::edge::container(settings);
    for host in ops.engines.keys().into_iter().filter(|h| !unreachable.contains(h)) {
        let subject = format!("edge on {}", ops.engines.name(host));
        if settings.edge.listen.is_some() {
            let health = crate::engine::npm::edge::health(ops.store, ops.engines, host).await?;
            if let crate::domain::edge::EdgeHealth::Trouble { reason } = health {
                let fix = "give the edge its configuration again (nginx tests it first)";
                out.push(finding("edge", subject, reason, fix, Fix::ApplyEdge(host)));
            }
            out.extend(stale_trust(ops, settings, host, &name).await?);
        } else if ops.engines.of(host).await?.inspect(&name, None).await?.is_some() {
            out.push(finding(
                "orphan_edge",
                subject,
                format!("{name} is there while edge.listen is empty"),
                "remove the container",
                Fix::RemoveContainer(host, name.clone()),
            ));
        }
    }
    Ok(out)
}

/// The reverse proxies on `host` that trust PROXY headers from another address than the
/// edge's (`NB_PROXY_TRUSTED_PROXIES`, rendered when the proxy was): an edge that was made again
/// (a host's restart, a stopped one started) can come back elsewhere on the network; the proxy
/// then ignores its headers (upstream's policy for an untrusted source), and every visitor
/// arrives as the edge's address — access rules by address and logs go wrong — until the proxy
/// is rendered again: a redeploy.
async fn stale_trust(
    ops: &Ops<'_, AnyProxy>,
    settings: &crate::domain::settings::Settings,
    host: HostKey,
    edge: &str,
) -> Result<Vec<Finding>, EngineError> {
    let docker = ops.engines.of(host).await?;
    // A stopped edge has no address: what its proxies trust is judged once it runs again.
    let at = docker.address_on(edge, &settings.docker_network).await?.filter(|ip| !ip.is_empty());
    let Some(at) = at else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for row in ops.store.customer_rows()?.iter().filter(|r| crate::engine::npm::edge::is_routed(r, host)) {
        let c = &row.customer;
        let proxy = render::container_name(&render::prefix(settings, c), "proxy");
        match docker.env_value(&proxy, "NB_PROXY_TRUSTED_PROXIES").await? {
            Some(trusted) if trusted != at => out.push(finding(
                "proxy_trust",
                c.subdomain.clone(),
                format!(
                    "its reverse proxy trusts the edge at {trusted}, which is at {at} now: visitors arrive as the \
                     edge's address, their own dropped"
                ),
                "redeploy (the proxy learns the edge's address)",
                Fix::Redeploy(c.id),
            )),
            _ => {}
        }
    }
    Ok(out)
}

/// Per customer on a reachable host: whether NetBird's data dir holds something and whether its
/// compose file is there. Asked once per host: on a remote host one SSH session answers for all
/// its customers rather than two per customer.
async fn files_present(
    store: &crate::store::Store,
    customers: &BTreeMap<i64, Customer>,
    unreachable: &BTreeSet<HostKey>,
) -> Result<std::collections::HashMap<i64, (bool, bool)>, EngineError> {
    use crate::engine::hosts::shell::Probe;
    let mut by_host: BTreeMap<HostKey, Vec<&Customer>> = BTreeMap::new();
    for c in customers.values().filter(|c| !unreachable.contains(&c.host_id)) {
        by_host.entry(c.host_id).or_default().push(c);
    }
    let mut out = std::collections::HashMap::new();
    for (host, list) in by_host {
        let (here, files) = crate::engine::hosts::files::settings_on(store, host)?;
        let paths: Vec<(PathBuf, PathBuf)> = list
            .iter()
            .map(|c| (render::store_dir(&here, c), render::instance_dir(&here, c).join("docker-compose.yml")))
            .collect();
        let checks: Vec<(Probe, &std::path::Path)> =
            paths.iter().flat_map(|(d, f)| [(Probe::HasFiles, d.as_path()), (Probe::Exists, f.as_path())]).collect();
        let answers = files.probe(&checks).await?;
        for (c, pair) in list.iter().zip(answers.chunks(2)) {
            out.insert(c.id, (pair[0], pair[1]));
        }
    }
    Ok(out)
}

/// One host's NPM as reconcile compares it with the database.
struct ProxySide<'a> {
    host: HostKey,
    name: String,
    client: &'a crate::engine::npm::client::NpmClient,
    installation: &'a str,
}

impl ProxySide<'_> {
    /// Proxy hosts tagged with this installation that no customer placed here owns, and
    /// customers placed here whose recorded proxy host is gone. Untagged hosts (another admin's,
    /// another installation's) are never touched.
    async fn findings(
        &self,
        store: &crate::store::Store,
        customers: &BTreeMap<i64, Customer>,
        base_domain: &str,
        skip: &dyn Fn(i64) -> bool,
    ) -> Result<Vec<Finding>, EngineError> {
        let npm = |e: crate::engine::npm::client::NpmError| EngineError::Proxy(e.to_string());
        let hosts = self.client.hosts(None).await.map_err(npm)?;
        let here: BTreeMap<String, &Customer> =
            customers.values().filter(|c| c.host_id == self.host).map(|c| (c.fqdn(base_domain), c)).collect();
        let mut out = Vec::new();
        for h in &hosts {
            if h.meta.get("nbmsp_installation").and_then(serde_json::Value::as_str) != Some(self.installation) {
                continue;
            }
            let owner = h.domain_names.iter().find_map(|d| here.get(d));
            if owner.is_some_and(|c| skip(c.id)) {
                continue;
            }
            let recorded = match owner {
                Some(c) => store.deployment(c.id)?.and_then(|d| d.npm_proxy_id) == Some(h.id),
                None => false,
            };
            // A customer being registered right now is skipped above; any other unrecorded
            // host of ours is a leftover (a deleted customer's, a moved one's old host's).
            if !recorded {
                out.push(finding(
                    "orphan_proxy_host",
                    h.domain_names.join(", "),
                    format!(
                        "NPM proxy host {} on host {} routes to {} but no customer there owns it",
                        h.id, self.name, h.forward_host
                    ),
                    "delete the proxy host",
                    Fix::DeleteProxyHost(self.host, h.id),
                ));
            }
        }
        for c in here.values() {
            if skip(c.id) {
                continue;
            }
            let Some(d) = store.deployment(c.id)? else { continue };
            let present = d.npm_proxy_id.is_some_and(|id| hosts.iter().any(|h| h.id == id));
            if !present {
                out.push(finding(
                    "missing_proxy_host",
                    c.subdomain.clone(),
                    format!("{} has no proxy host in the NPM of host {}", c.fqdn(base_domain), self.name),
                    "redeploy (registers it again)",
                    Fix::Redeploy(c.id),
                ));
            }
        }
        Ok(out)
    }
}

/// Applies the fixes of `findings` (only the safe ones unless named), in a safe order:
/// recoveries first, then removals, then starts and redeploys.
pub async fn apply(ops: &Ops<'_, AnyProxy>, findings: &[Finding]) -> Vec<Applied> {
    let rank = |f: &Finding| match f.action {
        Some(Fix::Recover(_)) => 0,
        Some(Fix::RemoveContainer(..) | Fix::DeleteProxyHost(..)) => 1,
        Some(Fix::ResetStatus(_)) => 2,
        // After the redeploys, which change what the edges route.
        Some(Fix::ApplyEdge(_)) => 4,
        _ => 3,
    };
    let mut todo: Vec<&Finding> = findings.iter().filter(|f| f.safe && f.action.is_some()).collect();
    todo.sort_by_key(|f| rank(f));
    let mut redeployed = BTreeSet::new();
    let mut out = Vec::new();
    for f in todo {
        let Some(action) = &f.action else { continue };
        if let Fix::Redeploy(id) = action
            && !redeployed.insert(*id)
        {
            continue;
        }
        let r = run_fix(ops, action).await;
        out.push(Applied {
            subject: f.subject.clone(),
            kind: f.kind,
            ok: r.is_ok(),
            message: r.unwrap_or_else(|e| e.to_string()),
        });
    }
    out
}

async fn run_fix(ops: &Ops<'_, AnyProxy>, fix: &Fix) -> Result<String, EngineError> {
    let mut quiet = |_: Progress| {};
    match fix {
        Fix::Recover(e) => recover(ops, e).await,
        Fix::RemoveContainer(host, name) => {
            ops.engines.of(*host).await?.remove(name).await.map(|()| "removed".to_string())
        }
        Fix::Start(id) => ops.start(*id).await.map(|_| "started, healthy".to_string()),
        Fix::Redeploy(id) => ops.redeploy(*id, &mut quiet).await.map(|_| "redeployed".to_string()),
        Fix::ResetStatus(id) => reset_status(ops, *id).await,
        Fix::DeleteProxyHost(host, id) => match &ops.proxy_on(*host).await? {
            HostProxy::Here(AnyProxy::Npm(npm)) | HostProxy::There(AnyProxy::Npm(npm)) => {
                npm.client.delete_host(*id).await.map_err(|e| EngineError::Proxy(e.to_string()))?;
                Ok(format!("proxy host {id} deleted"))
            }
            _ => Err(EngineError::Proxy("proxy = none".into())),
        },
        Fix::ApplyEdge(host) => match ops.apply_edge(*host).await? {
            None => Ok("no edge is wanted".into()),
            Some(r) if r.result == "refused" => Err(EngineError::Unhealthy(format!(
                "nginx refused the configuration: {}",
                r.detail.unwrap_or_default()
            ))),
            Some(r) => Ok(format!("{} ({} route(s))", r.result, r.routes)),
        },
        Fix::PurgeDir(path) => std::fs::remove_dir_all(path)
            .map(|()| format!("{} deleted", path.display()))
            .map_err(|e| EngineError::Files(format!("cannot delete {}: {e}", path.display()))),
    }
}

async fn reset_status(ops: &Ops<'_, AnyProxy>, id: i64) -> Result<String, EngineError> {
    let c = ops.store.customer(id)?;
    let containers = ops.container_names(&c).await?;
    let (status, reason) = if ops.store.deployment(id)?.is_none() {
        (CustomerStatus::Inactive, None)
    } else if containers.is_empty() {
        (CustomerStatus::Error, Some("an operation was interrupted; redeploy"))
    } else {
        // The monitor refines this on its next round.
        (CustomerStatus::Active, None)
    };
    ops.store.set_customer_status(id, status, reason)?;
    Ok(format!("status set to {status}"))
}
