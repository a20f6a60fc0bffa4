//! The fleet monitor's rules: from what Docker, the health probes and NetBird last said about a
//! customer to its status, its reason and the conditions alerts are raised for. No IO: the
//! engine gathers observations, these functions judge them.

use serde::Serialize;

use super::Timestamp;
use super::customer::{Customer, CustomerStatus, Layout};

/// One container as the monitor's single list call saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerSeen {
    /// Compose service (`server`, `dashboard`, ...).
    pub service: String,
    /// Docker's state word (`running`, `restarting`, `exited`, ...).
    pub state: String,
    /// Docker's health word when the container has a health check (`healthy`, `unhealthy`, `starting`).
    pub health: Option<String>,
    /// The image it runs.
    pub image: String,
}

impl ContainerSeen {
    /// Running and not reported unhealthy by Docker.
    pub fn is_up(&self) -> bool {
        self.state == "running" && self.health.as_deref() != Some("unhealthy")
    }
}

/// The last health probe of a customer (HTTP endpoints and STUN).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeSeen {
    /// The core HTTP endpoints (management/server, relay) answered.
    pub http_ok: bool,
    /// The dashboard answered.
    pub dashboard_ok: bool,
    /// The STUN binding request on the public port was answered (`None`: not tested).
    pub stun_ok: Option<bool>,
    /// What failed, in words.
    pub reason: Option<String>,
    /// What stands between users and the instance on the public path through the proxy (DNS,
    /// certificate, proxy), when it was checked and something did.
    pub public: Option<String>,
}

impl ProbeSeen {
    /// Something the probe checks did not answer.
    pub fn failing(&self) -> bool {
        !self.http_ok || !self.dashboard_ok || self.stun_ok == Some(false) || self.public.is_some()
    }
}

/// Whether a scheduled probe's result is recorded now, or checked again first: a failure that
/// starts is recorded only when the following probe fails too (NetBird answers nothing for
/// seconds after a restart, which a container list between two rounds may never show).
/// `rechecking`: this probe is already the check again.
pub fn record_probe_now(previous: Option<&ProbeSeen>, now: &ProbeSeen, rechecking: bool) -> bool {
    !now.failing() || previous.is_some_and(ProbeSeen::failing) || rechecking
}

/// Everything the monitor knows about one customer at a moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation<'a> {
    /// Status as stored (set by operations and by earlier monitor rounds).
    pub stored: CustomerStatus,
    /// Reason as stored.
    pub stored_reason: Option<&'a str>,
    /// True when the customer has a deployment record (it was deployed and not deleted).
    pub deployed: bool,
    /// True while an operation holds the customer's lock: the operation owns the status then.
    pub busy: bool,
    /// Layout: says which services must exist.
    pub layout: Layout,
    /// Its containers as listed now.
    pub containers: &'a [ContainerSeen],
    /// The last health probe, if one ran since the containers last changed.
    pub probe: Option<&'a ProbeSeen>,
    /// Why the certificate is pending, with how long it has been, in seconds.
    pub cert_pending: Option<(&'a str, i64)>,
    /// Devices at the last count and the customer's limit.
    pub devices: Option<(u32, i64)>,
    /// Why the last renewal of the owner's access token failed, while it keeps failing.
    pub token_renewal_failed: Option<&'a str>,
    /// Why the last scheduled backup failed, until one succeeds.
    pub backup_failed: Option<&'a str>,
    /// The customer's Reverse Proxy as its NetBird last reported it (customers with it on).
    pub reverse: Option<&'a ReverseSeen>,
    /// How its NetBird differs from the fleet's baseline, as last checked (`None`: it matches,
    /// or there is no baseline).
    pub baseline: Option<&'a str>,
}

/// A customer's Reverse Proxy as its management reports it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ReverseSeen {
    /// Its cluster is listed online (a proxy heartbeated within upstream's active window).
    pub registered: bool,
    /// Services published.
    pub services: u32,
    /// Enabled services whose status means visitors do not get through: (name, status).
    pub troubled: Vec<(String, String)>,
}

/// Service statuses that raise an alert (`meta.status`): the certificate could not be had, or
/// the proxy has no tunnel to the device. `pending` and `certificate_pending` are on their way.
pub const SERVICE_TROUBLE: [&str; 3] = ["certificate_failed", "tunnel_not_created", "error"];

/// Something wrong that an alert is raised for while it lasts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Condition {
    /// A service's container is missing or not running.
    ContainerDown {
        /// The service.
        service: String,
    },
    /// Docker keeps restarting a container.
    Restarting {
        /// The service.
        service: String,
    },
    /// An HTTP health endpoint fails.
    HealthFailing {
        /// What failed.
        reason: String,
    },
    /// The dashboard container runs but its web page fails.
    DashboardFailing,
    /// The public STUN port does not answer.
    StunFailing,
    /// The certificate has been pending longer than allowed.
    CertPending {
        /// Why it is pending.
        reason: String,
        /// Minutes pending.
        minutes: i64,
    },
    /// More devices than the customer's limit.
    DevicesOver {
        /// Devices counted.
        devices: u32,
        /// The limit.
        max: i64,
    },
    /// Users cannot reach the instance through the proxy yet, or no longer (DNS, certificate, proxy).
    PublicPath {
        /// What the public-path check found.
        reason: String,
    },
    /// The owner's access token could not be renewed (device counts stop when it expires).
    TokenRenewalFailed {
        /// What went wrong.
        reason: String,
    },
    /// The customer's Reverse Proxy is not registered with its management (no service works).
    ProxyUnregistered,
    /// A published service does not get visitors through.
    ServiceTrouble {
        /// The service's name.
        service: String,
        /// Its status (`certificate_failed`, `tunnel_not_created`, `error`).
        status: String,
    },
    /// The scheduled backup failed (the customer has no fresh backup to restore from).
    BackupFailed {
        /// What went wrong.
        reason: String,
    },
    /// The customer's NetBird differs from the fleet's baseline (`baseline.toml`).
    BaselineDrift {
        /// What differs, in words.
        what: String,
    },
    /// The data dir's disk is nearly full (a host condition, not a customer's).
    DiskFull {
        /// Percent used.
        percent: u8,
    },
    /// A host's edge does not serve as the database asks (a host condition).
    EdgeTrouble {
        /// Why, and what fixes it.
        reason: String,
    },
    /// A remote Docker host's engine does not answer (its customers cannot be judged).
    HostUnreachable {
        /// Its customers.
        customers: usize,
        /// Why.
        reason: String,
    },
}

impl Condition {
    /// A stable key: one alert per key while the condition lasts (dedupe).
    pub fn key(&self) -> String {
        match self {
            Condition::ContainerDown { service } => format!("down:{service}"),
            Condition::Restarting { service } => format!("restarting:{service}"),
            Condition::HealthFailing { .. } => "health".into(),
            Condition::DashboardFailing => "dashboard".into(),
            Condition::StunFailing => "stun".into(),
            Condition::CertPending { .. } => "cert".into(),
            Condition::DevicesOver { .. } => "devices".into(),
            Condition::PublicPath { .. } => "public".into(),
            Condition::TokenRenewalFailed { .. } => "token".into(),
            Condition::BackupFailed { .. } => "backup".into(),
            Condition::ProxyUnregistered => "proxy".into(),
            Condition::ServiceTrouble { service, status } => format!("service:{service}:{status}"),
            Condition::BaselineDrift { .. } => "baseline".into(),
            Condition::DiskFull { .. } => "disk".into(),
            Condition::HostUnreachable { .. } => "unreachable".into(),
            Condition::EdgeTrouble { .. } => "edge".into(),
        }
    }

    /// One sentence for people.
    pub fn describe(&self) -> String {
        match self {
            Condition::ContainerDown { service } => format!("{service} container is down"),
            Condition::Restarting { service } => format!("{service} container keeps restarting"),
            Condition::HealthFailing { reason } => format!("health check failing: {reason}"),
            Condition::DashboardFailing => "dashboard web page fails".into(),
            Condition::StunFailing => "STUN does not answer on the public UDP port".into(),
            Condition::CertPending { reason, minutes } => {
                format!("certificate pending for {minutes} min: {reason}")
            }
            Condition::DevicesOver { devices, max } => format!("{devices} devices, over the limit of {max}"),
            Condition::PublicPath { reason } => reason.clone(),
            Condition::TokenRenewalFailed { reason } => format!("NetBird access token renewal failed: {reason}"),
            Condition::BackupFailed { reason } => format!("scheduled backup failed: {reason}"),
            Condition::ProxyUnregistered => "the reverse proxy is not registered with NetBird: no service works".into(),
            Condition::ServiceTrouble { service, status } => format!("service {service}: {status}"),
            Condition::BaselineDrift { what } => {
                format!("differs from the fleet's baseline: {what} (`nbmsp baseline apply`)")
            }
            Condition::DiskFull { percent } => format!("data disk {percent}% full"),
            Condition::EdgeTrouble { reason } => format!("edge: {reason}"),
            Condition::HostUnreachable { customers, reason } => {
                format!("Docker engine unreachable, {customers} customer(s) there unknown: {reason}")
            }
        }
    }

    /// True when the customer's VPN cannot work while this lasts (its status becomes `error`);
    /// otherwise it still works but needs attention (`degraded`).
    pub fn is_outage(&self) -> bool {
        match self {
            Condition::ContainerDown { service } | Condition::Restarting { service } => service != "dashboard",
            Condition::HealthFailing { .. } => true,
            _ => false,
        }
    }
}

/// What the monitor concludes about a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The status to store.
    pub status: CustomerStatus,
    /// Its reason (`None` when all is well).
    pub reason: Option<String>,
    /// What is wrong, for alerts.
    pub conditions: Vec<Condition>,
}

/// The services a layout runs.
pub fn services(layout: Layout) -> &'static [&'static str] {
    match layout {
        Layout::Combined => &["server", "dashboard"],
        Layout::Legacy => &["management", "signal", "relay", "dashboard"],
    }
}

/// Judges one customer. Operations own the status while they run (`busy`, `deploying`); a
/// customer never deployed stays `inactive`; one stopped on purpose stays `stopped` while its
/// containers are down. A failed operation's `error` is kept (with its reason) until the
/// containers run again.
pub fn judge(o: &Observation<'_>, cert_pending_limit_s: i64) -> Verdict {
    let keep = |conditions| Verdict { status: o.stored, reason: o.stored_reason.map(str::to_string), conditions };
    if o.busy || o.stored == CustomerStatus::Deploying || !o.deployed {
        return keep(Vec::new());
    }
    let any_running = o.containers.iter().any(|c| c.state == "running" || c.state == "restarting");
    if o.stored == CustomerStatus::Stopped && !any_running {
        return keep(Vec::new());
    }
    if o.stored == CustomerStatus::Error && o.containers.is_empty() {
        let down = services(o.layout).iter().map(|s| Condition::ContainerDown { service: (*s).to_string() });
        return keep(down.collect());
    }
    let mut conditions = Vec::new();
    for service in services(o.layout) {
        let seen = o.containers.iter().find(|c| c.service == *service);
        match seen {
            Some(c) if c.state == "restarting" => {
                conditions.push(Condition::Restarting { service: (*service).to_string() });
            }
            Some(c) if c.is_up() => {}
            _ => conditions.push(Condition::ContainerDown { service: (*service).to_string() }),
        }
    }
    // A probe only says something about containers that run; otherwise it is stale.
    if let Some(p) = o.probe.filter(|_| conditions.is_empty()) {
        if !p.http_ok {
            conditions
                .push(Condition::HealthFailing { reason: p.reason.clone().unwrap_or_else(|| "no answer".to_string()) });
        }
        if !p.dashboard_ok {
            conditions.push(Condition::DashboardFailing);
        }
        if p.stun_ok == Some(false) {
            conditions.push(Condition::StunFailing);
        }
        if let Some(reason) = &p.public {
            conditions.push(Condition::PublicPath { reason: reason.clone() });
        }
    }
    if let Some((reason, secs)) = o.cert_pending
        && secs >= cert_pending_limit_s
    {
        conditions.push(Condition::CertPending { reason: reason.to_string(), minutes: secs / 60 });
    }
    if let Some((devices, max)) = o.devices
        && i64::from(devices) > max
    {
        conditions.push(Condition::DevicesOver { devices, max });
    }
    if let Some(reason) = o.token_renewal_failed {
        conditions.push(Condition::TokenRenewalFailed { reason: reason.to_string() });
    }
    if let Some(reason) = o.backup_failed {
        conditions.push(Condition::BackupFailed { reason: reason.to_string() });
    }
    if let Some(r) = o.reverse {
        if !r.registered {
            conditions.push(Condition::ProxyUnregistered);
        }
        for (service, status) in &r.troubled {
            conditions.push(Condition::ServiceTrouble { service: service.clone(), status: status.clone() });
        }
    }
    if let Some(what) = o.baseline {
        conditions.push(Condition::BaselineDrift { what: what.to_string() });
    }
    let status = if conditions.iter().any(Condition::is_outage) {
        CustomerStatus::Error
    } else if !conditions.is_empty() {
        CustomerStatus::Degraded
    } else {
        CustomerStatus::Active
    };
    let mut reason = conditions.iter().map(Condition::describe).collect::<Vec<_>>().join("; ");
    // A pending certificate below the alert threshold is still worth showing as the reason.
    if reason.is_empty()
        && let Some((pending, _)) = o.cert_pending
    {
        reason = format!("certificate pending: {pending}");
    }
    Verdict { status, reason: Some(reason).filter(|r| !r.is_empty()), conditions }
}

/// Host resources for the dashboard header and the disk alert.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct HostStats {
    /// CPU busy since the previous sample, percent of all cores.
    pub cpu_percent: Option<f64>,
    /// Memory in use, percent (MemAvailable based).
    pub memory_percent: Option<f64>,
    /// Disk of the data dir used, percent.
    pub disk_percent: Option<f64>,
    /// Bytes free on the data dir's disk.
    pub disk_free_bytes: Option<u64>,
    /// Containers Docker has (all states).
    pub containers: Option<u64>,
}

impl HostStats {
    /// The figures as a person reads them in the header, settled against what is shown now:
    /// CPU in steps of 10 points, memory of 5, disk of 1; a figure stays as shown until the
    /// measure moves most of a step away, so a gauge hovering at a boundary does not flicker
    /// (and an idle screen writes nothing over a slow link). Free bytes are not shown.
    pub fn as_read(&self, shown: Option<&HostStats>) -> HostStats {
        let settle = |prev: Option<f64>, raw: Option<f64>, step: f64| -> Option<f64> {
            let raw = raw?;
            match prev {
                Some(p) if (raw - p).abs() < step * 0.75 => Some(p),
                _ => Some((raw / step).round() * step),
            }
        };
        HostStats {
            cpu_percent: settle(shown.and_then(|s| s.cpu_percent), self.cpu_percent, 10.0),
            memory_percent: settle(shown.and_then(|s| s.memory_percent), self.memory_percent, 5.0),
            disk_percent: settle(shown.and_then(|s| s.disk_percent), self.disk_percent, 1.0),
            disk_free_bytes: None,
            containers: self.containers,
        }
    }
}

/// One monitor round's summary, for `nbmsp monitor --once --json` and benchmarks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoundReport {
    /// When it ran.
    #[serde(with = "time::serde::rfc3339")]
    pub at: Timestamp,
    /// Customers judged.
    pub customers: usize,
    /// Containers seen.
    pub containers: usize,
    /// Customers whose status changed.
    pub changed: usize,
    /// Docker API calls the round made.
    pub docker_calls: u64,
    /// Milliseconds the round took.
    pub millis: u64,
}

/// One dashboard row: a customer with the deployment figures the table shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerRow {
    /// The customer.
    pub customer: Customer,
    /// Its public UDP port, when deployed.
    pub udp_port: Option<u16>,
    /// Devices at the last count.
    pub devices: Option<u32>,
    /// Of those, connected at the last count.
    pub online: Option<u32>,
    /// Of those, on a client older than `netbird.min_client_version` (`None`: not checked).
    pub outdated: Option<u32>,
    /// Why the certificate is pending, if it is.
    pub proxy_pending: Option<String>,
    /// A proxy host was registered for it (its public path can be checked).
    pub proxied: bool,
    /// The Docker host it runs on by name (`None`: this machine's engine).
    pub host: Option<String>,
    /// Services its reverse proxy publishes and how many are in trouble, as last asked.
    pub services: Option<(u32, u32)>,
}

/// Customers ordered for the fleet's devices view and `nbmsp devices`: those over their limit
/// first, then by how full they are (most first), then by name.
pub fn by_device_use(rows: &[CustomerRow]) -> Vec<&CustomerRow> {
    let mut out: Vec<_> = rows.iter().collect();
    let fill = |r: &CustomerRow| {
        let used = i64::from(r.devices.unwrap_or(0));
        (used > r.customer.max_devices, used * 1000 / r.customer.max_devices.max(1))
    };
    out.sort_by(|a, b| fill(b).cmp(&fill(a)).then_with(|| a.customer.name.cmp(&b.customer.name)));
    out
}

#[cfg(test)]
#[path = "fleet_tests.rs"]
mod tests;
