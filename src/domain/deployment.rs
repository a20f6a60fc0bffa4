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
    /// Public UDP port for STUN, unique across customers.
    pub relay_udp_port: Option<u16>,
    /// Id of the customer's proxy host in Nginx Proxy Manager.
    pub npm_proxy_id: Option<i64>,
    /// URL the customer's owner opens first.
    pub setup_url: Option<String>,
    /// Current status.
    pub status: DeploymentStatus,
    /// When health was last checked.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_health_check: Option<Timestamp>,
}
