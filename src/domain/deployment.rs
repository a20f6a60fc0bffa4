//! A customer's deployment record: where its stack lives and how it was last seen.

use serde::Serialize;

use super::{Timestamp, word_enum};

word_enum! {
    /// Lifecycle of a customer's stack on the Docker engine.
    pub enum DeploymentStatus {
        /// Recorded, not yet (fully) applied.
        Pending = "pending",
        /// Containers up.
        Running = "running",
        /// Containers stopped on purpose.
        Stopped = "stopped",
        /// The last apply failed.
        Failed = "failed",
    }
}

/// A stored deployment; one per customer at most.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deployment {
    /// The customer this belongs to.
    pub customer_id: i64,
    /// Prefix of container names, instance dir and compose project.
    pub container_prefix: String,
    /// Public UDP port for STUN, unique among the customers of one host.
    pub relay_udp_port: Option<u16>,
    /// Id of the customer's proxy host in Nginx Proxy Manager.
    pub npm_proxy_id: Option<i64>,
    /// Certificate attached to that host.
    pub npm_certificate_id: Option<i64>,
    /// nbmsp requested that certificate (and removes it with the customer).
    pub npm_certificate_owned: bool,
    /// Why the certificate is not in place yet (the domain serves HTTP only meanwhile).
    pub proxy_pending: Option<String>,
    /// URL the customer's owner opens first.
    pub setup_url: Option<String>,
    /// Current status.
    pub status: DeploymentStatus,
    /// Devices registered at the last count.
    pub devices_total: Option<u32>,
    /// Devices connected at the last count.
    pub devices_connected: Option<u32>,
    /// When devices were last counted.
    #[serde(with = "time::serde::rfc3339::option")]
    pub devices_checked_at: Option<Timestamp>,
    /// When health was last checked.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_health_check: Option<Timestamp>,
    /// The NetBird owner's user id, when nbmsp created the owner.
    pub owner_user_id: Option<String>,
    /// When the owner's stored access token expires (renewed before then).
    #[serde(with = "time::serde::rfc3339::option")]
    pub pat_expires_at: Option<Timestamp>,
    /// The image id each service ran at the last deploy or redeploy (service → `sha256:…`).
    pub image_ids: std::collections::BTreeMap<String, String>,
}

/// One of a customer's containers as the engine last saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContainerInfo {
    /// Docker's container id (changes when the container is recreated).
    #[serde(skip)]
    pub id: String,
    /// Container name.
    pub name: String,
    /// Compose service (`server`, `dashboard`, ...).
    pub service: String,
    /// Image reference it was created from.
    pub image: String,
    /// The id of the image it runs (`sha256:…`): what a re-pointed tag changes.
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub image_id: String,
    /// Docker's state word: `running`, `exited`, `restarting`, `created`, ...
    pub state: String,
    /// When it last started, if it ever did.
    #[serde(with = "time::serde::rfc3339::option")]
    pub started_at: Option<Timestamp>,
    /// How often Docker restarted it.
    pub restart_count: i64,
    /// Exit code of the last run (when not running).
    pub exit_code: Option<i64>,
    /// Its address on the shared network, when it has one.
    pub ip: Option<String>,
    /// Docker's health status (`starting`, `healthy`, `unhealthy`) when the image or compose
    /// file defines a health check.
    pub health: Option<String>,
    /// Hash of the definition it was created from (for redeploys).
    #[serde(skip)]
    pub config_hash: Option<String>,
    /// The nbmsp installation its label names (empty: none).
    #[serde(skip)]
    pub installation: String,
    /// Docker networks it is attached to (the compose file's network is defined outside the
    /// service, so a change of it shows here, not in the hash).
    #[serde(skip)]
    pub networks: Vec<String>,
}

impl ContainerInfo {
    /// Running, and healthy when Docker checks its health.
    pub fn is_up(&self) -> bool {
        self.state == "running" && self.health.as_deref().is_none_or(|h| h == "healthy")
    }
}

/// One log line of a customer's container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogLine {
    /// Compose service it came from.
    pub service: String,
    /// Docker's RFC 3339 timestamp, when asked for.
    pub timestamp: Option<String>,
    /// The text, without the trailing newline.
    pub text: String,
}

/// A one-shot resource sample of a container.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContainerStats {
    /// Container name.
    pub name: String,
    /// Compose service.
    pub service: String,
    /// CPU use in percent of one core.
    pub cpu_percent: f64,
    /// Memory in use (without page cache), bytes.
    pub memory_bytes: u64,
    /// Memory limit, bytes.
    pub memory_limit_bytes: u64,
    /// Bytes received over all interfaces.
    pub net_rx_bytes: u64,
    /// Bytes sent over all interfaces.
    pub net_tx_bytes: u64,
}

/// One customer backup file nbmsp wrote.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BackupRecord {
    /// Row id.
    pub id: i64,
    /// The customer (its row may be gone).
    pub customer_id: i64,
    /// Its subdomain then.
    pub subdomain: String,
    /// The file.
    pub path: String,
    /// Its size.
    pub bytes: u64,
    /// `manual`, `delete` or `scheduled`.
    pub kind: String,
    /// Who wrote it.
    pub actor: String,
    /// When (RFC 3339).
    pub created_at: String,
}
