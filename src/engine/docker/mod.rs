//! The Docker engine through bollard. Everything leaves this module as domain types.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use bollard::Docker;
use bollard::models::{
    ContainerCreateBody, EndpointSettings, HealthConfig, HostConfig, NetworkingConfig, PortBinding, RestartPolicy,
    RestartPolicyNameEnum,
};
use bollard::query_parameters::{
    CreateContainerOptions, ListContainersOptions, RemoveContainerOptions, StopContainerOptions,
};
use futures_util::{Stream, StreamExt};

mod connect;
pub mod edge;
pub mod helper;
mod identity;
mod images;
pub mod socks;
mod ssh_link;
mod streams;

use connect::Remote;
pub use connect::docker_host;
pub use images::split_image;

use super::EngineError;
use crate::domain::deployment::ContainerInfo;

/// Where bollard connects when `DOCKER_HOST` is not set.
pub const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";
/// Label with the hash of the definition a container was created from.
pub const LABEL_CONFIG_HASH: &str = "nbmsp.config-hash";
/// Compose's project label.
pub const LABEL_PROJECT: &str = "com.docker.compose.project";
/// Compose's service label.
pub const LABEL_SERVICE: &str = "com.docker.compose.service";

/// A connection to the Docker engine with the API version agreed with it.
#[derive(Debug, Clone)]
pub struct DockerEngine {
    docker: Docker,
    host: String,
    /// Where ports this engine publishes answer: this machine, or the remote host's public IP.
    published_at: String,
    /// For a recorded host: the record, and (for ssh://) the tunnel its containers are reached
    /// through, opened on first use and shared by clones.
    remote: Option<std::sync::Arc<Remote>>,
    /// API requests made through this connection (shared by clones), for the monitor's figures.
    calls: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// The installation whose containers this connection acts for, when known: lookups by name
    /// ([`DockerEngine::inspect_owned`]) see only containers carrying its label, never a
    /// same-named container of another installation on a shared engine.
    installation: Option<std::sync::Arc<str>>,
    /// HTTP clients into this engine's networks, by timeout and proxy (see
    /// [`DockerEngine::http_client`]); shared by clones.
    clients: std::sync::Arc<std::sync::Mutex<Vec<HttpClientKind>>>,
}

/// A kept HTTP client: (timeout, SOCKS proxy) and the client.
type HttpClientKind = ((Duration, Option<String>), reqwest::Client);

/// One container of the fleet as a single list call reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetContainer {
    /// The customer id from its label.
    pub customer_id: i64,
    /// Container name.
    pub name: String,
    /// State, health, service and image.
    pub seen: crate::domain::fleet::ContainerSeen,
    /// UDP ports it publishes on the host (while it runs).
    pub public_udp: Vec<u16>,
    /// The id of the image it runs (`sha256:…`).
    pub image_id: String,
}

/// What the engine says about itself.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EngineInfo {
    /// Where nbmsp connected.
    pub host: String,
    /// Engine release, e.g. `20.10.24`.
    pub version: String,
    /// The engine's API version, e.g. `1.41`.
    pub api_version: String,
    /// The API version nbmsp speaks with it (the lower of both sides).
    pub negotiated_api_version: String,
}

/// What an engine's machine has and runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct EngineResources {
    /// CPUs.
    pub cpus: u32,
    /// Memory in MiB.
    pub memory_mb: u64,
    /// Containers, all states.
    pub containers: u64,
    /// Containers running.
    pub running: u64,
}

/// A container to create: the engine-neutral form of a compose service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerSpec {
    /// Container name.
    pub name: String,
    /// Image.
    pub image: String,
    /// Arguments after the entrypoint.
    pub command: Option<Vec<String>>,
    /// `KEY=VALUE` pairs.
    pub env: Vec<String>,
    /// `host:container[:ro]` binds.
    pub binds: Vec<String>,
    /// Published ports: (container key like `3478/udp`, host port).
    pub ports: Vec<(String, u16)>,
    /// Network to join, with these aliases.
    pub network: Option<(String, Vec<String>)>,
    /// Restart policy word.
    pub restart: Option<String>,
    /// Labels.
    pub labels: HashMap<String, String>,
    /// Docker health check: test command, interval, timeout (nanoseconds), retries.
    pub healthcheck: Option<(Vec<String>, i64, i64, i64)>,
}

fn api(e: bollard::errors::Error) -> EngineError {
    EngineError::Docker(api_text(e))
}

/// A Docker error as a sentence; a lost connection says so (a restarting daemon looks like
/// this) and what to do once the engine is back.
fn api_text(e: bollard::errors::Error) -> String {
    use bollard::errors::Error as E;
    match e {
        E::DockerResponseServerError { status_code, message } => format!("{message} (HTTP {status_code})"),
        // The whole chain: for an ssh:// host the reason (ssh's own words) is a few sources down.
        E::HyperLegacyError { .. } | E::IOError { .. } | E::RequestTimeoutError => format!(
            "the Docker engine stopped answering ({}); is it restarting? Once it is back, \
             `nbmsp reconcile --yes` removes what this operation left",
            super::error_chain(&e)
        ),
        other => other.to_string(),
    }
}

fn is_not_found(e: &bollard::errors::Error) -> bool {
    matches!(e, bollard::errors::Error::DockerResponseServerError { status_code: 404, .. })
}

impl DockerEngine {
    /// UDP ports any container on this engine publishes (ours or not): on a remote host, the
    /// ports taken as far as nbmsp can see without a program of its own there.
    pub async fn published_udp_ports(&self) -> Result<std::collections::BTreeSet<u16>, EngineError> {
        self.count();
        let opts = ListContainersOptions { all: true, ..Default::default() };
        let list = self.docker.list_containers(Some(opts)).await.map_err(api)?;
        Ok(list
            .into_iter()
            .flat_map(|c| c.ports.unwrap_or_default())
            .filter(|p| p.typ.is_some_and(|t| t.to_string() == "udp"))
            .filter_map(|p| p.public_port)
            .collect())
    }

    /// API requests made through this connection so far (list, inspect, stats, info, events).
    pub fn api_calls(&self) -> u64 {
        self.calls.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn count(&self) {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Every container of this installation (all states) in ONE list call, so the cost of a
    /// fleet refresh does not grow with the number of customers.
    pub async fn list_fleet(&self, installation: &str) -> Result<Vec<FleetContainer>, EngineError> {
        use super::stack::render::{LABEL_CUSTOMER, LABEL_INSTALLATION};
        self.count();
        let filters = HashMap::from([("label".to_string(), vec![format!("{LABEL_INSTALLATION}={installation}")])]);
        let opts = ListContainersOptions { all: true, filters: Some(filters), ..Default::default() };
        let list = self.docker.list_containers(Some(opts)).await.map_err(api)?;
        Ok(list
            .into_iter()
            .filter_map(|c| {
                let labels = c.labels.unwrap_or_default();
                let customer_id = labels.get(LABEL_CUSTOMER)?.parse().ok()?;
                // The list reports health only inside the status text: "Up 5 minutes (unhealthy)".
                let status = c.status.unwrap_or_default();
                let health = ["unhealthy", "healthy", "health: starting"]
                    .into_iter()
                    .find(|h| status.contains(&format!("({h})")))
                    .map(|h| h.trim_start_matches("health: ").to_string());
                let public_udp = c
                    .ports
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|p| p.typ.is_some_and(|t| t.to_string() == "udp"))
                    .filter_map(|p| p.public_port)
                    .collect::<std::collections::BTreeSet<u16>>()
                    .into_iter()
                    .collect();
                Some(FleetContainer {
                    customer_id,
                    public_udp,
                    image_id: c.image_id.clone().unwrap_or_default(),
                    name: c.names?.into_iter().next()?.trim_start_matches('/').to_string(),
                    seen: crate::domain::fleet::ContainerSeen {
                        service: labels.get(LABEL_SERVICE).cloned().unwrap_or_default(),
                        state: c.state.map(|s| s.to_string()).unwrap_or_default(),
                        health,
                        image: c.image.unwrap_or_default(),
                    },
                })
            })
            .collect())
    }

    /// Container lifecycle events of this installation (start, die, health changes, ...): the
    /// monitor re-lists when one arrives instead of polling fast. Yields the action words.
    pub fn fleet_events(&self, installation: &str) -> impl Stream<Item = Result<String, EngineError>> + use<> {
        self.count();
        let filters = HashMap::from([
            ("type".to_string(), vec!["container".to_string()]),
            ("label".to_string(), vec![format!("{}={installation}", super::stack::render::LABEL_INSTALLATION)]),
        ]);
        let opts = bollard::query_parameters::EventsOptions { filters: Some(filters), ..Default::default() };
        self.docker.events(Some(opts)).map(|e| e.map(|m| m.action.unwrap_or_default()).map_err(api))
    }

    /// How many containers the engine has (all states, all owners).
    pub async fn container_count(&self) -> Result<u64, EngineError> {
        self.count();
        let info = self.docker.info().await.map_err(api)?;
        Ok(info.containers.and_then(|n| u64::try_from(n).ok()).unwrap_or(0))
    }

    /// What the engine's machine has and runs: CPUs, memory, containers.
    pub async fn resources(&self) -> Result<EngineResources, EngineError> {
        self.count();
        let info = self.docker.info().await.map_err(api)?;
        Ok(EngineResources {
            cpus: info.ncpu.and_then(|n| u32::try_from(n).ok()).unwrap_or(0),
            memory_mb: info.mem_total.and_then(|m| u64::try_from(m).ok()).unwrap_or(0) / (1024 * 1024),
            containers: info.containers.and_then(|n| u64::try_from(n).ok()).unwrap_or(0),
            running: info.containers_running.and_then(|n| u64::try_from(n).ok()).unwrap_or(0),
        })
    }

    /// Engine release and API versions.
    pub async fn info(&self) -> Result<EngineInfo, EngineError> {
        self.count();
        let v = self.docker.version().await.map_err(api)?;
        let negotiated = self.docker.client_version();
        Ok(EngineInfo {
            host: self.host.clone(),
            version: v.version.unwrap_or_default(),
            api_version: v.api_version.unwrap_or_default(),
            negotiated_api_version: format!("{}.{}", negotiated.major_version, negotiated.minor_version),
        })
    }

    /// Creates and starts a container from `spec`.
    pub async fn create_and_start(&self, spec: &ContainerSpec) -> Result<(), EngineError> {
        let port_bindings: HashMap<String, Option<Vec<PortBinding>>> = spec
            .ports
            .iter()
            .map(|(key, host)| {
                (key.clone(), Some(vec![PortBinding { host_ip: None, host_port: Some(host.to_string()) }]))
            })
            .collect();
        let restart = spec.restart.as_deref().map(|r| RestartPolicy {
            name: Some(match r {
                "always" => RestartPolicyNameEnum::ALWAYS,
                "unless-stopped" => RestartPolicyNameEnum::UNLESS_STOPPED,
                "on-failure" => RestartPolicyNameEnum::ON_FAILURE,
                _ => RestartPolicyNameEnum::NO,
            }),
            maximum_retry_count: None,
        });
        let networking = spec.network.as_ref().map(|(net, aliases)| NetworkingConfig {
            endpoints_config: Some(HashMap::from([(
                net.clone(),
                EndpointSettings { aliases: Some(aliases.clone()), ..Default::default() },
            )])),
        });
        let body = ContainerCreateBody {
            image: Some(spec.image.clone()),
            cmd: spec.command.clone(),
            env: Some(spec.env.clone()),
            labels: Some(spec.labels.clone()),
            exposed_ports: Some(spec.ports.iter().map(|(k, _)| k.clone()).collect()),
            host_config: Some(HostConfig {
                binds: Some(spec.binds.clone()),
                port_bindings: Some(port_bindings),
                restart_policy: restart,
                network_mode: spec.network.as_ref().map(|(n, _)| n.clone()),
                ..Default::default()
            }),
            networking_config: networking,
            healthcheck: spec.healthcheck.as_ref().map(|(test, interval, timeout, retries)| HealthConfig {
                test: Some(test.clone()),
                interval: Some(*interval),
                timeout: Some(*timeout),
                retries: Some(*retries),
                ..Default::default()
            }),
            ..Default::default()
        };
        let opts = CreateContainerOptions { name: Some(spec.name.clone()), ..Default::default() };
        let mut attempt = 0;
        loop {
            match self.docker.create_container(Some(opts.clone()), body.clone()).await {
                Ok(_) => break,
                // The name is taken. When the holder is ours for the same customer (a create or
                // remove that a killed process had in flight landed after it died), it is debris:
                // replace it, waiting out a removal already in progress.
                Err(bollard::errors::Error::DockerResponseServerError { status_code: 409, .. })
                    if attempt < 10 && self.same_owner(&spec.name, &spec.labels).await? != Some(false) =>
                {
                    attempt += 1;
                    self.remove(&spec.name).await?;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => {
                    return Err(EngineError::Docker(format!("cannot create container {}: {}", spec.name, api_text(e))));
                }
            }
        }
        self.docker
            .start_container(&spec.name, None::<bollard::query_parameters::StartContainerOptions>)
            .await
            .map_err(|e| EngineError::Docker(format!("cannot start container {}: {}", spec.name, api_text(e))))
    }

    /// Whether container `name` carries the same installation and customer labels as `labels`;
    /// `None` when it does not exist (any more: a killed process's remove may land late).
    pub(crate) async fn same_owner(
        &self,
        name: &str,
        labels: &HashMap<String, String>,
    ) -> Result<Option<bool>, EngineError> {
        use super::stack::render::{LABEL_CUSTOMER, LABEL_INSTALLATION};
        self.count();
        let Some(c) = self.inspect_raw(name).await? else { return Ok(None) };
        let theirs = c.config.and_then(|cfg| cfg.labels).unwrap_or_default();
        Ok(Some(
            [LABEL_INSTALLATION, LABEL_CUSTOMER, super::stack::render::LABEL_SUBDOMAIN]
                .iter()
                .all(|k| labels.get(*k).is_some_and(|v| theirs.get(*k) == Some(v))),
        ))
    }

    /// Starts an existing container (already running is fine).
    pub async fn start(&self, name: &str) -> Result<(), EngineError> {
        match self.docker.start_container(name, None::<bollard::query_parameters::StartContainerOptions>).await {
            Ok(()) => Ok(()),
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 304, .. }) => Ok(()),
            Err(e) => Err(EngineError::Docker(format!("cannot start {name}: {}", api_text(e)))),
        }
    }

    /// Stops a container, giving it `grace` to exit (already stopped is fine).
    pub async fn stop(&self, name: &str, grace: Duration) -> Result<(), EngineError> {
        let t = i32::try_from(grace.as_secs()).unwrap_or(10);
        match self.docker.stop_container(name, Some(StopContainerOptions { t: Some(t), signal: None })).await {
            Ok(()) => Ok(()),
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 304, .. }) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(EngineError::Docker(format!("cannot stop {name}: {}", api_text(e)))),
        }
    }

    /// Freezes (`true`) or thaws (`false`) a running container's processes: files stay still
    /// while a backup copies them, and no connection is dropped.
    pub async fn set_paused(&self, name: &str, paused: bool) -> Result<(), EngineError> {
        let r =
            if paused { self.docker.pause_container(name).await } else { self.docker.unpause_container(name).await };
        r.map_err(|e| {
            EngineError::Docker(format!("cannot {} {name}: {}", if paused { "pause" } else { "unpause" }, api_text(e)))
        })
    }

    /// Removes a container, running or not; missing is fine.
    pub async fn remove(&self, name: &str) -> Result<(), EngineError> {
        let opts = RemoveContainerOptions { force: true, v: false, link: false };
        match self.docker.remove_container(name, Some(opts)).await {
            Ok(()) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            // Docker is already removing it (a concurrent delete).
            Err(e) if e.to_string().contains("already in progress") => Ok(()),
            Err(e) => Err(EngineError::Docker(format!("cannot remove {name}: {}", api_text(e)))),
        }
    }

    /// Docker's own view of container `name`, or `None` when there is no such container.
    pub(super) async fn inspect_raw(
        &self,
        name: &str,
    ) -> Result<Option<bollard::models::ContainerInspectResponse>, EngineError> {
        match self.docker.inspect_container(name, None::<bollard::query_parameters::InspectContainerOptions>).await {
            Ok(c) => Ok(Some(c)),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(api(e)),
        }
    }

    /// The container called `name`, if it exists.
    /// This connection, acting for `installation` (see [`DockerEngine::inspect_owned`]).
    pub fn for_installation(mut self, installation: &str) -> Self {
        self.installation = Some(installation.into());
        self
    }

    /// Like [`DockerEngine::inspect`], but a container of another installation (by its label)
    /// is reported as absent when this connection acts for an installation.
    pub async fn inspect_owned(&self, name: &str, network: Option<&str>) -> Result<Option<ContainerInfo>, EngineError> {
        let found = self.inspect(name, network).await?;
        Ok(match (&self.installation, found) {
            (Some(ours), Some(c)) if c.installation != **ours => None,
            (_, found) => found,
        })
    }

    pub async fn inspect(&self, name: &str, network: Option<&str>) -> Result<Option<ContainerInfo>, EngineError> {
        self.count();
        let Some(c) = self.inspect_raw(name).await? else { return Ok(None) };
        let labels = c.config.as_ref().and_then(|cfg| cfg.labels.clone()).unwrap_or_default();
        let state = c.state.as_ref();
        let ip = c.network_settings.as_ref().and_then(|n| n.networks.as_ref()).and_then(|nets| {
            network.and_then(|net| nets.get(net)).or_else(|| nets.values().next()).and_then(|e| e.ip_address.clone())
        });
        Ok(Some(ContainerInfo {
            id: c.id.clone().unwrap_or_default(),
            name: c.name.unwrap_or_default().trim_start_matches('/').to_string(),
            service: labels.get(LABEL_SERVICE).cloned().unwrap_or_default(),
            image: c.config.as_ref().and_then(|cfg| cfg.image.clone()).unwrap_or_default(),
            image_id: c.image.clone().unwrap_or_default(),
            state: state.and_then(|s| s.status).map(|s| s.to_string()).unwrap_or_default(),
            started_at: state.and_then(|s| s.started_at.as_deref()).and_then(parse_docker_time),
            restart_count: c.restart_count.unwrap_or(0),
            exit_code: state.and_then(|s| s.exit_code),
            ip: ip.filter(|i| !i.is_empty()),
            health: state
                .and_then(|s| s.health.as_ref())
                .and_then(|h| h.status)
                .map(|h| h.to_string())
                .filter(|h| h != "none"),
            config_hash: labels.get(LABEL_CONFIG_HASH).cloned(),
            installation: labels.get(super::stack::render::LABEL_INSTALLATION).cloned().unwrap_or_default(),
            networks: c
                .network_settings
                .as_ref()
                .and_then(|n| n.networks.as_ref())
                .map(|nets| nets.keys().cloned().collect())
                .unwrap_or_default(),
        }))
    }

    /// Names of every container (running or not) carrying all `labels`.
    pub async fn names_with_labels(&self, labels: &[(&str, &str)]) -> Result<Vec<String>, EngineError> {
        Ok(self.labelled(labels).await?.into_iter().map(|(name, _)| name).collect())
    }

    /// Containers (any state) carrying every label of `labels`: each name with all its labels.
    pub async fn labelled(
        &self,
        labels: &[(&str, &str)],
    ) -> Result<Vec<(String, HashMap<String, String>)>, EngineError> {
        self.count();
        let filters =
            HashMap::from([("label".to_string(), labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>())]);
        let opts = ListContainersOptions { all: true, filters: Some(filters), ..Default::default() };
        let list = self.docker.list_containers(Some(opts)).await.map_err(api)?;
        Ok(list
            .into_iter()
            .filter_map(|c| {
                let name = c.names.and_then(|n| n.into_iter().next())?;
                Some((name.trim_start_matches('/').to_string(), c.labels.unwrap_or_default()))
            })
            .collect())
    }

    /// Containers (any state) carrying label `key`, by the label's value.
    pub async fn by_label_value(&self, key: &str) -> Result<BTreeMap<String, Vec<String>>, EngineError> {
        let filters = HashMap::from([("label".to_string(), vec![key.to_string()])]);
        let opts = ListContainersOptions { all: true, filters: Some(filters), ..Default::default() };
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for c in self.docker.list_containers(Some(opts)).await.map_err(api)? {
            let value = c.labels.as_ref().and_then(|l| l.get(key)).cloned().unwrap_or_default();
            let name = c.names.and_then(|n| n.into_iter().next()).unwrap_or_default();
            out.entry(value).or_default().push(name.trim_start_matches('/').to_string());
        }
        Ok(out)
    }

    /// Names of running containers whose image name contains `needle`.
    pub async fn names_with_image_containing(&self, needle: &str) -> Result<Vec<String>, EngineError> {
        let list = self.docker.list_containers(Some(ListContainersOptions::default())).await.map_err(api)?;
        Ok(list
            .into_iter()
            .filter(|c| c.image.as_deref().is_some_and(|i| i.contains(needle)))
            .filter_map(|c| c.names.and_then(|n| n.into_iter().next()))
            .map(|n| n.trim_start_matches('/').to_string())
            .collect())
    }
}

fn parse_docker_time(s: &str) -> Option<time::OffsetDateTime> {
    if s.starts_with("0001-") {
        return None;
    }
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}
