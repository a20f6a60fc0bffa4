//! Docker hosts: one connection per engine, made on first use and kept for the command; what
//! each host has room for; where a new customer goes.
//!
//! A host that does not answer costs one connection attempt (bounded at 10 s) per command, and
//! only the work on its customers fails: everything else goes on.

pub mod files;
pub mod local;
pub mod process;
pub mod shell;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::EngineError;
use super::docker::{DockerEngine, EngineResources, FleetContainer};
use crate::domain::customer::Customer;
use crate::domain::host::{self, Host, LOCAL, Room};
use crate::store::Store;

/// How long a host that did not answer is taken as down before it is tried again.
pub const RETRY_AFTER: Duration = Duration::from_secs(30);

/// Where a customer runs: `None` is the local engine.
pub type HostKey = Option<i64>;

/// A connection made, or why not and when that was found.
type Connection = Result<DockerEngine, (String, Instant)>;

/// The engines of this installation, connected on demand.
pub struct Engines {
    hosts: BTreeMap<i64, Host>,
    /// This installation's id: every connection handed out acts for it.
    installation: String,
    /// Connections made (or refused) so far; a refusal is kept for [`RETRY_AFTER`], so a dead
    /// host costs one attempt per command and a long-lived monitor notices it come back.
    connected: RefCell<HashMap<HostKey, Connection>>,
    /// `images.helper`, for tcp:// hosts.
    helper_image: String,
}

impl Engines {
    /// The engines the database knows, none connected yet.
    pub fn new(store: &Store) -> Result<Self, EngineError> {
        let hosts = store.hosts()?.into_iter().map(|h| (h.id, h)).collect();
        Ok(Self {
            hosts,
            installation: store.installation_id()?,
            connected: RefCell::default(),
            helper_image: store.settings()?.helper_image,
        })
    }

    /// The engines for an operation. With no remote host recorded the local engine is connected
    /// at once, so an unreachable engine fails the command before it changes anything (as
    /// nbmsp of one host always did); remote hosts connect when first needed.
    pub async fn connect(store: &Store) -> Result<Self, EngineError> {
        let engines = Self::new(store)?;
        if !engines.has_remote() {
            engines.of(None).await?;
        }
        Ok(engines)
    }

    /// Every host: the local engine first, then the records by name.
    pub fn keys(&self) -> Vec<HostKey> {
        std::iter::once(None).chain(self.hosts.keys().map(|id| Some(*id))).collect()
    }

    /// Whether any host besides the local engine is recorded.
    pub fn has_remote(&self) -> bool {
        !self.hosts.is_empty()
    }

    /// The record of a remote host.
    pub fn host(&self, key: HostKey) -> Option<&Host> {
        key.and_then(|id| self.hosts.get(&id))
    }

    /// How full the disk that holds a host's customer data is: percent used and bytes free
    /// (this machine's read directly, a remote one's through its shell or a helper container;
    /// `None` when it cannot be read).
    pub async fn disk(&self, key: HostKey, data_dir: &str) -> Option<(f64, u64)> {
        disk_of(self.host(key), data_dir, &self.helper_image).await
    }

    /// A host's name for people.
    pub fn name(&self, key: HostKey) -> String {
        self.host(key).map_or_else(|| LOCAL.to_string(), |h| h.name.clone())
    }

    /// The engine of `key`, connecting on first use.
    pub async fn of(&self, key: HostKey) -> Result<DockerEngine, EngineError> {
        match self.connected.borrow().get(&key) {
            Some(Ok(d)) => return Ok(d.clone()),
            Some(Err((detail, at))) if at.elapsed() < RETRY_AFTER => return Err(self.unreachable(key, detail.clone())),
            _ => {}
        }
        let made = match key {
            None => DockerEngine::connect().await,
            Some(id) => match self.hosts.get(&id) {
                Some(h) => DockerEngine::connect_to(h, &self.helper_image).await,
                None => Err(EngineError::Docker(format!("host #{id} is not recorded (removed meanwhile?)"))),
            },
        }
        .map(|d| d.for_installation(&self.installation));
        let kept = made.as_ref().map(Clone::clone).map_err(|e| (e.to_string(), Instant::now()));
        self.connected.borrow_mut().insert(key, kept);
        // A remote engine's failure names the host, so the operator knows which one is down.
        made.map_err(|e| if key.is_some() { self.unreachable(key, e.to_string()) } else { e })
    }

    /// Whether hosts `a` and `b` are one Docker engine reached by two records (see
    /// [`DockerEngine::same_engine_as`]; a host that does not answer is not the same as any).
    /// The one answer `host add`, `move` and reconcile rely on: containers seen through both
    /// are one set, not two.
    pub async fn same_engine(&self, a: HostKey, b: HostKey) -> bool {
        if a == b {
            return true;
        }
        match (self.of(a).await, self.of(b).await) {
            (Ok(x), Ok(y)) => x.same_engine_as(&y).await.unwrap_or(false),
            _ => false,
        }
    }

    /// The recorded host (or the local engine) that `engine` already is, if any.
    pub async fn already_recorded(&self, engine: &DockerEngine) -> Result<Option<HostKey>, EngineError> {
        for key in self.keys() {
            if let Ok(d) = self.of(key).await
                && engine.same_engine_as(&d).await?
            {
                return Ok(Some(key));
            }
        }
        Ok(None)
    }

    /// The engine the customer's containers run on.
    pub async fn for_customer(&self, c: &Customer) -> Result<DockerEngine, EngineError> {
        self.of(c.host_id).await
    }

    /// Docker API requests made through every connection so far.
    pub fn api_calls(&self) -> u64 {
        self.connected.borrow().values().filter_map(|c| c.as_ref().ok()).map(DockerEngine::api_calls).sum()
    }

    /// Container events of this installation from every host that answers, merged.
    pub async fn fleet_events(
        &self,
        installation: &str,
    ) -> impl futures_util::Stream<Item = Result<String, EngineError>> + 'static {
        let mut streams = Vec::new();
        for key in self.keys() {
            if let Ok(d) = self.of(key).await {
                streams.push(Box::pin(d.fleet_events(installation)));
            }
        }
        futures_util::stream::select_all(streams)
    }

    /// Every container of this installation on every host (one list call per host, all at
    /// once), each with its host; hosts that did not answer come back apart with the reason.
    pub async fn list_fleet(&self, installation: &str) -> (Vec<(HostKey, FleetContainer)>, Vec<(HostKey, String)>) {
        let asks = self.keys().into_iter().map(|key| async move {
            let listed = match self.of(key).await {
                Ok(d) => d.list_fleet(installation).await,
                Err(e) => Err(e),
            };
            (key, listed)
        });
        let mut found = Vec::new();
        let mut down = Vec::new();
        for (key, listed) in futures_util::future::join_all(asks).await {
            match listed {
                Ok(list) => found.extend(list.into_iter().map(|c| (key, c))),
                Err(e) => down.push((key, e.to_string())),
            }
        }
        (found, down)
    }

    /// Like [`Self::list_fleet`], but an installation of one host fails as before when its
    /// engine does not answer, and a dead remote host is only logged (its customers are left
    /// out of the answer; the monitor marks them).
    pub async fn list_fleet_or_fail(&self, installation: &str) -> Result<Vec<(HostKey, FleetContainer)>, EngineError> {
        let (found, down) = self.list_fleet(installation).await;
        self.sole_engine_down(&down)?;
        for (key, e) in down {
            tracing::warn!("host {}: {e}", self.name(key));
        }
        Ok(found)
    }

    /// The rule for a fleet-wide listing whose hosts did not all answer: it fails as a whole only
    /// when the engine down is the only one (an installation of one host, as before); otherwise
    /// the caller goes on and marks that host's customers.
    pub fn sole_engine_down(&self, down: &[(HostKey, String)]) -> Result<(), EngineError> {
        match down.iter().find(|(key, _)| key.is_none() && !self.has_remote()) {
            Some((_, e)) => Err(EngineError::Docker(e.clone())),
            None => Ok(()),
        }
    }

    fn unreachable(&self, key: HostKey, detail: String) -> EngineError {
        match key {
            None => EngineError::Docker(detail),
            Some(_) => EngineError::Docker(format!("host {} is unreachable: {detail}", self.name(key))),
        }
    }
}

/// One host as `host list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostStatus {
    /// Name (`local` for this machine's engine).
    pub name: String,
    /// How nbmsp reaches it.
    pub docker: String,
    /// Public address (`None` for local: whatever this machine's is).
    pub public_ip: Option<String>,
    /// New customers go elsewhere.
    pub draining: bool,
    /// Engine release, when it answered.
    pub version: Option<String>,
    /// Why it did not answer.
    pub error: Option<String>,
    /// CPUs, memory and containers (all of the engine's), when it answered.
    pub resources: Option<EngineResources>,
    /// This installation's containers there: running, all (`None`: it did not answer).
    pub ours: Option<(u64, u64)>,
    /// Percent used of the disk holding its instance files (this machine's, or over SSH;
    /// `None` for a tcp:// host, or when it could not be read).
    pub disk_percent: Option<u8>,
    /// What is left there for instance files (MB).
    pub disk_free_mb: Option<u64>,
    /// Customers placed there.
    pub customers: usize,
    /// UDP ports of the range in use there.
    pub udp_used: usize,
    /// UDP ports of the range still free there.
    pub udp_free: usize,
    /// Memory its stacks take by layout (MB).
    pub committed_mb: u64,
    /// The NPM that publishes its customers (`None`: none; with `proxy = npm` a remote host
    /// without one takes no customers).
    pub npm: Option<String>,
    /// Whether its customers can be published: with `proxy = npm` a remote host needs its own NPM.
    pub publishable: bool,
    /// Its edge (filled by `npm::edge::statuses_with_edges`; `NotWanted` from `statuses`).
    pub edge: crate::domain::edge::EdgeHealth,
}

impl HostStatus {
    /// As placement sees it.
    pub fn room(&self, key: HostKey) -> Room {
        Room {
            host_id: key,
            name: self.name.clone(),
            draining: self.draining,
            reachable: self.error.is_none(),
            customers: self.customers,
            udp_free: self.udp_free,
            memory_mb: self.resources.map(|r| r.memory_mb),
            committed_mb: self.committed_mb,
            unusable: (!self.publishable).then(|| "no NPM of its own".into()),
        }
    }
}

/// The one rule for a draining host: nothing new goes there, neither a new customer placed on
/// it by name nor a customer moved to it.
pub fn open_for_new(store: &Store, key: HostKey, name: &str) -> Result<(), EngineError> {
    if store.host_draining(key)? {
        return Err(EngineError::Conflict(format!(
            "host {name} is draining: nothing new goes there (`nbmsp host drain {name} --off` opens it again)"
        )));
    }
    Ok(())
}

/// Asks every engine about itself, all at once (a dead host costs its own 10 s, not the
/// others'), and counts what the database places on each.
pub async fn statuses(store: &Store, engines: &Engines) -> Result<Vec<(HostKey, HostStatus)>, EngineError> {
    let settings = store.settings()?;
    let range = u32::from(settings.relay_port_count);
    let placed = store.customers_by_host()?;
    let local_draining = store.host_draining(None)?;
    let npm_wanted = settings.proxy == crate::domain::settings::ProxyKind::Npm;
    let npm_here = Some(settings.npm_url.clone()).filter(|u| npm_wanted && !u.is_empty());
    let data_dir = settings.data_dir.clone();
    let installation = store.installation_id()?;
    let installation = installation.as_str();
    let asks = engines.keys().into_iter().map(|key| async move {
        let answer = match engines.of(key).await {
            Ok(d) => match (d.info().await, d.resources().await, d.list_fleet(installation).await) {
                (Ok(i), Ok(r), Ok(list)) => {
                    let running = list.iter().filter(|c| c.seen.is_up()).count() as u64;
                    Ok((i.version, r, (running, list.len() as u64)))
                }
                (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => Err(e.to_string()),
            },
            Err(e) => Err(e.to_string()),
        };
        (key, answer)
    });
    let answers = futures_util::future::join_all(asks).await;
    // Disks after every count: a tcp:// host's disk is read by a helper container, which must
    // not show up in any host's container figure (two records may name one engine).
    // A remote host that did not answer is not asked again (this machine's disk is read here).
    let disks = futures_util::future::join_all(answers.iter().map(|(key, answer)| async {
        if answer.is_ok() || key.is_none() {
            disk_of(engines.host(*key), &data_dir, &engines.helper_image).await
        } else {
            None
        }
    }))
    .await;
    Ok(answers
        .into_iter()
        .zip(disks)
        .map(|((key, answer), disk)| {
            let here: Vec<_> = placed.iter().filter(|(h, _, _)| *h == key).collect();
            let ports: BTreeSet<u16> = here.iter().filter_map(|(_, _, p)| *p).collect();
            let udp_used = ports.len();
            let record = engines.host(key);
            let (version, resources, ours, error) = match answer {
                Ok((v, r, o)) => (Some(crate::domain::sanitize::terminal_safe(&v)), Some(r), Some(o), None),
                Err(e) => (None, None, None, Some(crate::domain::sanitize::terminal_safe(&e))),
            };
            let status = HostStatus {
                name: engines.name(key),
                docker: record.map_or_else(super::docker::docker_host, |h| h.docker.uri()),
                public_ip: record.map(|h| h.public_ip.to_string()),
                draining: record.map_or(local_draining, |h| h.draining),
                version,
                error,
                resources,
                ours,
                disk_percent: disk.map(|(p, _)| p.round().clamp(0.0, 100.0) as u8),
                disk_free_mb: disk.map(|(_, free)| free / 1_048_576),
                customers: here.len(),
                udp_used,
                // Ports are unique per host: what another host holds is free here.
                udp_free: usize::try_from(range).unwrap_or(usize::MAX).saturating_sub(udp_used),
                committed_mb: here.iter().map(|(_, layout, _)| host::stack_memory_mb(*layout)).sum(),
                npm: match record {
                    None => npm_here.clone(),
                    Some(h) => h.npm.as_ref().map(|n| n.url.clone()),
                },
                publishable: !npm_wanted || record.is_none_or(|h| h.npm.is_some()),
                edge: crate::domain::edge::EdgeHealth::NotWanted,
            };
            (key, status)
        })
        .collect())
}

/// The disk holding a host's instance files: measured here for this machine, on the host for
/// a remote one (its data dir, else the setting's; over SSH, or by a helper on a tcp:// host).
async fn disk_of(host: Option<&Host>, data_dir: &str, helper_image: &str) -> Option<(f64, u64)> {
    match host {
        None => {
            let dir = std::path::PathBuf::from(data_dir);
            crate::engine::blocking(move || Ok(local::disk_usage(&dir))).await.ok().flatten()
        }
        Some(h) if matches!(h.docker, host::DockerAddress::Unix { .. }) => None,
        Some(h) => {
            let dir = h.data_dir.clone().unwrap_or_else(|| data_dir.to_string());
            let sh = shell::Shell { host: h.clone(), data_dir: dir.clone(), helper_image: helper_image.to_string() };
            shell::disk_usage(&sh, std::path::Path::new(&dir))
                .await
                .map_err(|e| tracing::debug!("host {}: no disk figure: {e}", h.name))
                .ok()
        }
    }
}

/// Where new customers go: `wanted` (a host name, `local` included) when given — refused while
/// that host drains — else, one by one, the host with room (each placed customer counts for
/// the next). Without any recorded host it is the local engine, with no engine asked (an
/// installation of one host works as before).
pub async fn place(
    store: &Store,
    wanted: Option<&str>,
    layouts: &[crate::domain::customer::Layout],
) -> Result<Vec<HostKey>, EngineError> {
    if let Some(name) = wanted {
        let key = store.host_id_for(name)?;
        open_for_new(store, key, name)?;
        return Ok(vec![key; layouts.len()]);
    }
    let engines = Engines::new(store)?;
    if !engines.has_remote() && !store.host_draining(None)? {
        return Ok(vec![None; layouts.len()]);
    }
    let mut rooms: Vec<Room> = statuses(store, &engines).await?.iter().map(|(key, s)| s.room(*key)).collect();
    let mut out = Vec::with_capacity(layouts.len());
    for layout in layouts {
        let need = host::stack_memory_mb(*layout);
        let chosen = host::place(&rooms, need).map_err(|e| EngineError::Docker(e.to_string()))?.host_id;
        if let Some(r) = rooms.iter_mut().find(|r| r.host_id == chosen) {
            r.customers += 1;
            r.committed_mb += need;
            r.udp_free = r.udp_free.saturating_sub(1);
        }
        out.push(chosen);
    }
    Ok(out)
}
