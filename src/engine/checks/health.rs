//! Readiness and health of a customer's stack, judged the way NetBird serves it: container
//! states, the management API, identity provider, signal and relay WebSockets and the dashboard
//! reached on the Docker network from this host (no public DNS needed), and a real STUN
//! exchange on the public UDP port. The app's Health tab, `customer health`, deploys and the
//! fleet monitor all use these checks.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde::Serialize;

use crate::domain::customer::Layout;
use crate::domain::deployment::ContainerInfo;
use crate::engine::EngineError;
use crate::engine::docker::DockerEngine;

/// One HTTP check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EndpointCheck {
    /// What is checked, e.g. `management API` (where: `url`).
    pub name: String,
    /// The URL used.
    pub url: String,
    /// Passed.
    pub ok: bool,
    /// Status or error.
    pub detail: String,
}

/// The STUN test on the customer's public UDP port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StunCheck {
    /// Where the request went.
    pub target: String,
    /// Passed.
    pub ok: bool,
    /// The mapped address, or the error.
    pub detail: String,
}

/// Everything `customer health` reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HealthReport {
    /// Containers of the customer, in layout order (missing ones absent).
    pub containers: Vec<ContainerInfo>,
    /// Services that have no container.
    pub missing: Vec<String>,
    /// HTTP checks.
    pub endpoints: Vec<EndpointCheck>,
    /// STUN test, when asked for.
    pub stun: Option<StunCheck>,
    /// The path users take, through the proxy (a warning at most: DNS or the certificate may
    /// not be in place yet). `None` before the proxy host exists or when its address is unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public: Option<crate::engine::checks::public::PublicCheck>,
    /// All containers up, all checks passed.
    pub healthy: bool,
}

/// How an endpoint proves it is ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Probe {
    /// `GET` answers 200 with NetBird's instance status (`{"setup_required": …}`).
    InstanceApi,
    /// `GET` answers 200.
    Page,
    /// A WebSocket opening handshake is accepted (101).
    WebSocket,
}

/// One readiness check: which service, port and path, how it is judged, and what it stands for.
struct Endpoint {
    service: &'static str,
    port: u16,
    path: &'static str,
    probe: Probe,
    what: &'static str,
}

const fn ep(service: &'static str, path: &'static str, probe: Probe, what: &'static str) -> Endpoint {
    Endpoint { service, port: 80, path, probe, what }
}

/// What "ready" means per layout, as NetBird serves it (netbirdio/netbird v0.77.1). Never the
/// `:9000/health` endpoints: the combined server's is 503 by design (the relay is multiplexed on
/// the management port and has no listener of its own, `combined/cmd/root.go`), and both it and
/// the standalone relay's dial the public `wss://<domain>/relay` (`relay/healthcheck/ws.go`), which
/// exists only after the proxy, its certificate and DNS do. The management API and OIDC discovery
/// come up seconds after the container starts (store migrations, embedded IdP); upstream's own e2e
/// harness waits on them too.
fn endpoints(layout: Layout) -> &'static [Endpoint] {
    const COMBINED: [Endpoint; 5] = [
        ep("server", "/api/instance", Probe::InstanceApi, "management API"),
        ep("server", "/oauth2/.well-known/openid-configuration", Probe::Page, "identity provider"),
        ep("server", "/ws-proxy/signal", Probe::WebSocket, "signal"),
        ep("server", "/relay", Probe::WebSocket, "relay"),
        ep("dashboard", "/", Probe::Page, "dashboard"),
    ];
    const LEGACY: [Endpoint; 5] = [
        ep("management", "/api/instance", Probe::InstanceApi, "management API"),
        ep("management", "/oauth2/.well-known/openid-configuration", Probe::Page, "identity provider"),
        ep("signal", "/ws-proxy/signal", Probe::WebSocket, "signal"),
        ep("relay", "/relay", Probe::WebSocket, "relay"),
        ep("dashboard", "/", Probe::Page, "dashboard"),
    ];
    match layout {
        Layout::Combined => &COMBINED,
        Layout::Legacy => &LEGACY,
    }
}

/// Where the local engine's published ports answer (STUN probes go there): this host, or the
/// host of a tcp:// `DOCKER_HOST`. Recorded hosts use their public IP.
pub fn stun_host() -> String {
    let h = crate::engine::docker::docker_host();
    h.strip_prefix("tcp://")
        .or_else(|| h.strip_prefix("http://"))
        .and_then(|rest| rest.rsplit_once(':').map(|(host, _)| host.to_string()))
        .unwrap_or_else(|| "127.0.0.1".to_string())
}

/// How long each probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Checks the customer's containers once. `stun` names the public UDP port and how long the
/// STUN exchange may take.
pub async fn check(
    docker: &DockerEngine,
    prefix: &str,
    layout: Layout,
    network: &str,
    stun: Option<(u16, Duration)>,
) -> Result<HealthReport, EngineError> {
    let timeout = docker.probe_timeout(PROBE_TIMEOUT).await?;
    let client = docker.http_client(timeout).await?;
    let mut containers = Vec::new();
    let mut missing = Vec::new();
    for svc in crate::engine::stack::render::services(layout) {
        match docker.inspect_owned(&crate::engine::stack::render::container_name(prefix, svc), Some(network)).await? {
            Some(mut c) => {
                c.service = (*svc).to_string();
                containers.push(c);
            }
            None => missing.push((*svc).to_string()),
        }
    }
    let probes = endpoints(layout).iter().map(|e| {
        let ip = containers.iter().find(|c| c.service == e.service).and_then(|c| c.ip.clone());
        let client = &client;
        async move {
            let name = e.what.to_string();
            let Some(ip) = ip else {
                return EndpointCheck {
                    name,
                    url: String::new(),
                    ok: false,
                    detail: "no address on the network".into(),
                };
            };
            let url = format!("http://{ip}:{}{}", e.port, e.path);
            let (ok, detail) = match e.probe {
                Probe::WebSocket => websocket(docker, &ip, e.port, e.path, timeout).await,
                Probe::Page | Probe::InstanceApi => page(client, &url, e.probe, timeout).await,
            };
            EndpointCheck { name, url, ok, detail }
        }
    });
    let checks = futures_util::future::join_all(probes).await;
    let stun = match stun {
        Some((port, timeout)) => Some(stun_check(docker.published_at(), port, timeout).await),
        None => None,
    };
    let healthy = missing.is_empty()
        && containers.iter().all(ContainerInfo::is_up)
        && checks.iter().all(|c| c.ok)
        && stun.as_ref().is_none_or(|s| s.ok);
    Ok(HealthReport { containers, missing, endpoints: checks, stun, public: None, healthy })
}

/// A Binding Request to the customer's public UDP port on the Docker host at `host`.
pub async fn stun_check(host: &str, port: u16, timeout: Duration) -> StunCheck {
    let target = match host.parse::<std::net::IpAddr>() {
        Ok(ip) => SocketAddr::new(ip, port).to_string(),
        Err(_) => format!("{host}:{port}"),
    };
    let result = match target.parse::<SocketAddr>() {
        Ok(addr) => crate::engine::checks::stun::probe(addr, timeout).await.map_err(|e| e.to_string()),
        Err(_) => Err(format!("cannot use {target} as a UDP address")),
    };
    match result {
        Ok(mapped) => StunCheck { target, ok: true, detail: format!("Binding Success, mapped address {mapped}") },
        Err(detail) => StunCheck { target, ok: false, detail },
    }
}

async fn page(client: &reqwest::Client, url: &str, probe: Probe, timeout: Duration) -> (bool, String) {
    #[derive(serde::Deserialize)]
    struct Instance {
        setup_required: bool,
    }
    let resp = match client.get(url).send().await {
        Ok(r) => r,
        Err(e) if e.is_timeout() => return (false, format!("no answer within {} s", timeout.as_secs())),
        Err(_) => return (false, "not answering (still starting?)".into()),
    };
    let status = resp.status();
    if !status.is_success() {
        return (false, status.to_string());
    }
    if probe != Probe::InstanceApi {
        return (true, status.to_string());
    }
    match resp.json::<Instance>().await {
        Ok(i) if i.setup_required => (true, "ready; no owner yet".into()),
        Ok(_) => (true, "ready; owner exists".into()),
        Err(e) => (false, format!("{status} but not NetBird's instance status: {e}")),
    }
}

/// Opens a WebSocket handshake on `ip:port` `path` and reports whether it was accepted (101).
/// Written out by hand: it is a dozen lines of HTTP/1.1 and needs no WebSocket client.
async fn websocket(docker: &DockerEngine, ip: &str, port: u16, path: &str, timeout: Duration) -> (bool, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let attempt = async {
        let mut s = docker.connect_tcp(ip, port).await.map_err(|_| "not answering (still starting?)")?;
        let key = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            crate::store::crypto::random_bytes::<16>().map_err(|_| "no randomness")?,
        );
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: {ip}:{port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\n\r\n"
        );
        s.write_all(req.as_bytes()).await.map_err(|_| "connection closed")?;
        let mut buf = Vec::with_capacity(512);
        let mut chunk = [0u8; 512];
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 8192 {
            let n = s.read(&mut chunk).await.map_err(|_| "connection closed")?;
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let head = String::from_utf8_lossy(&buf);
        let status = head.lines().next().unwrap_or("").split_whitespace().nth(1).unwrap_or("").to_string();
        Ok::<String, &str>(status)
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(Ok(s)) if s == "101" => (true, "WebSocket accepted".into()),
        Ok(Ok(s)) if s.is_empty() => (false, "no HTTP answer".into()),
        Ok(Ok(s)) => (false, format!("answered {s} instead of accepting the WebSocket")),
        Ok(Err(e)) => (false, e.to_string()),
        Err(_) => (false, format!("no answer within {} s", timeout.as_secs())),
    }
}

/// Restart counts of the customer's containers by container id, taken when an operation starts:
/// a container restarted before that (an old crash) is judged against its count then, and a
/// recreated container (a new id) against zero.
pub async fn restart_baseline(
    docker: &DockerEngine,
    prefix: &str,
    layout: Layout,
) -> Result<HashMap<String, i64>, EngineError> {
    let mut out = HashMap::new();
    for svc in crate::engine::stack::render::services(layout) {
        if let Some(c) = docker.inspect_owned(&crate::engine::stack::render::container_name(prefix, svc), None).await? {
            out.insert(c.id, c.restart_count);
        }
    }
    Ok(out)
}

/// Restarts since the operation began that a readiness wait lets pass.
const ONE_RESTART: i64 = 1;

/// Polls until the stack is ready — every endpoint above and, with `stun_port`, a Binding
/// Success on the public UDP port — or `timeout` passes. A container that exits, or restarts
/// more than once since `baseline`, fails at once with its last log lines.
pub async fn wait_ready(
    docker: &DockerEngine,
    prefix: &str,
    layout: Layout,
    network: &str,
    stun_port: Option<u16>,
    baseline: &HashMap<String, i64>,
    timeout: Duration,
) -> Result<HealthReport, EngineError> {
    let start = Instant::now();
    loop {
        let mut report = check(docker, prefix, layout, network, None).await?;
        // STUN only once the HTTP side is ready: upstream serves it from the same start-up.
        if report.healthy
            && let Some(port) = stun_port
        {
            let stun = stun_check(docker.published_at(), port, Duration::from_secs(1)).await;
            report.healthy = stun.ok;
            report.stun = Some(stun);
        }
        if report.healthy {
            return Ok(report);
        }
        // One restart is a start that met a passing condition (a port another socket held for
        // a moment): Docker's policy brought it back, and the wait goes on. A second is a loop.
        let restarts =
            |c: &ContainerInfo| c.restart_count - baseline.get(&c.id).copied().unwrap_or(0).min(c.restart_count);
        if let Some(dead) =
            report.containers.iter().find(|c| c.state == "exited" || c.state == "dead" || restarts(c) > ONE_RESTART)
        {
            let tail = last_lines(docker, &dead.name, 8).await;
            let how = match (dead.exit_code, dead.state.as_str()) {
                // Between two restarts Docker reports the container running with exit code 0.
                (_, "running") => format!("exited and was restarted {} times", dead.restart_count),
                (Some(code), _) if dead.restart_count > 0 => {
                    format!("exited with code {code} and was restarted {} times", dead.restart_count)
                }
                (Some(code), _) => format!("exited with code {code}"),
                (None, state) => format!("is {state}"),
            };
            return Err(EngineError::Unhealthy(format!("container {} {how}; its last log lines:\n{tail}", dead.name)));
        }
        if start.elapsed() >= timeout {
            let failing: Vec<String> = report
                .containers
                .iter()
                .filter(|c| !c.is_up())
                .map(|c| format!("{} is {}", c.name, c.state))
                .chain(report.missing.iter().map(|m| format!("{m} has no container")))
                .chain(
                    report.endpoints.iter().filter(|e| !e.ok).map(|e| format!("{} ({}): {}", e.name, e.url, e.detail)),
                )
                .chain(report.stun.iter().filter(|s| !s.ok).map(|s| format!("STUN on {}: {}", s.target, s.detail)))
                .collect();
            return Err(EngineError::Unhealthy(format!(
                "not ready after {} s (setting health_timeout_s): {}",
                timeout.as_secs(),
                failing.join("; ")
            )));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn last_lines(docker: &DockerEngine, name: &str, n: usize) -> String {
    let lines: Vec<String> = docker
        .logs(name, String::new(), Some(n), false)
        .filter_map(|l| async move { l.ok().map(|l| format!("  {}", l.text)) })
        .collect()
        .await;
    if lines.is_empty() { "  (no output)".into() } else { lines.join("\n") }
}
