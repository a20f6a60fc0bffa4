//! Health of a customer's stack: container states, HTTP endpoints reached on the Docker network
//! from this host (no public DNS needed), and a real STUN exchange on the public UDP port.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde::Serialize;

use super::EngineError;
use super::docker::DockerEngine;
use crate::domain::customer::Layout;
use crate::domain::deployment::ContainerInfo;

/// One HTTP check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EndpointCheck {
    /// What is checked, e.g. `server /health`.
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
    /// All containers up, all checks passed.
    pub healthy: bool,
}

/// The HTTP checks of a layout: (service, port, path, any answer is enough).
fn endpoints(layout: Layout) -> &'static [(&'static str, u16, &'static str, bool)] {
    match layout {
        Layout::Combined => &[("server", 9000, "/health", false), ("dashboard", 80, "/", false)],
        Layout::Legacy => &[
            ("relay", 9000, "/health", false),
            ("management", 80, "/api/instance", true),
            ("dashboard", 80, "/", false),
        ],
    }
}

/// Where STUN probes go: this host, or the host of a tcp:// `DOCKER_HOST`.
pub fn stun_host() -> String {
    let h = super::docker::docker_host();
    h.strip_prefix("tcp://")
        .or_else(|| h.strip_prefix("http://"))
        .and_then(|rest| rest.rsplit_once(':').map(|(host, _)| host.to_string()))
        .unwrap_or_else(|| "127.0.0.1".to_string())
}

/// Checks the customer's containers once.
pub async fn check(
    docker: &DockerEngine,
    prefix: &str,
    layout: Layout,
    network: &str,
    stun_port: Option<u16>,
) -> Result<HealthReport, EngineError> {
    let client = super::npm::http_client()?;
    let mut containers = Vec::new();
    let mut missing = Vec::new();
    for svc in super::render::services(layout) {
        match docker.inspect(&super::render::container_name(prefix, svc), Some(network)).await? {
            Some(mut c) => {
                c.service = (*svc).to_string();
                containers.push(c);
            }
            None => missing.push((*svc).to_string()),
        }
    }
    let mut checks = Vec::new();
    for (svc, port, path, any_answer) in endpoints(layout) {
        let Some(c) = containers.iter().find(|c| c.service == *svc) else { continue };
        let Some(ip) = &c.ip else {
            checks.push(EndpointCheck {
                name: format!("{svc} {path}"),
                url: String::new(),
                ok: false,
                detail: "no address on the network".into(),
            });
            continue;
        };
        let url = format!("http://{ip}:{port}{path}");
        let (ok, detail) = match client.get(&url).timeout(Duration::from_secs(2)).send().await {
            Ok(r) if r.status().is_success() || (*any_answer && r.status().as_u16() < 500) => {
                (true, r.status().to_string())
            }
            Ok(r) => (false, r.status().to_string()),
            Err(e) => (false, if e.is_timeout() { "no answer within 2 s".into() } else { "not answering".into() }),
        };
        checks.push(EndpointCheck { name: format!("{svc} {path}"), url, ok, detail });
    }
    let stun = match stun_port {
        Some(port) => {
            let target = format!("{}:{port}", stun_host());
            let result = match target.parse::<SocketAddr>() {
                Ok(addr) => super::stun::probe(addr, Duration::from_secs(3)).await,
                Err(_) => Err(format!("cannot use {target} as a UDP address")),
            };
            Some(match result {
                Ok(mapped) => {
                    StunCheck { target, ok: true, detail: format!("Binding Success, mapped address {mapped}") }
                }
                Err(e) => StunCheck { target, ok: false, detail: e },
            })
        }
        None => None,
    };
    let healthy = missing.is_empty()
        && containers.iter().all(ContainerInfo::is_up)
        && checks.iter().all(|c| c.ok)
        && stun.as_ref().is_none_or(|s| s.ok);
    Ok(HealthReport { containers, missing, endpoints: checks, stun, healthy })
}

/// Polls until the stack is healthy or `timeout` passes. A container that exits or restarts
/// fails at once, with its last log lines, instead of waiting out the timeout.
pub async fn wait_healthy(
    docker: &DockerEngine,
    prefix: &str,
    layout: Layout,
    network: &str,
    timeout: Duration,
) -> Result<HealthReport, EngineError> {
    let start = Instant::now();
    loop {
        let report = check(docker, prefix, layout, network, None).await?;
        if report.healthy {
            return Ok(report);
        }
        if let Some(dead) =
            report.containers.iter().find(|c| c.state == "exited" || c.state == "dead" || c.restart_count > 0)
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
                .collect();
            return Err(EngineError::Unhealthy(format!(
                "not healthy after {} s (setting health_timeout_s): {}",
                timeout.as_secs(),
                failing.join("; ")
            )));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
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
