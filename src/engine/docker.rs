//! Connecting to the Docker engine.

use std::time::Duration;

use bollard::Docker;

use super::EngineError;

/// Where bollard connects when `DOCKER_HOST` is not set.
pub const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

/// A connection to the Docker engine with the API version agreed with it.
#[derive(Debug, Clone)]
pub struct DockerEngine {
    docker: Docker,
    host: String,
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

/// The address nbmsp will use: `DOCKER_HOST` or the default socket.
pub fn docker_host() -> String {
    std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty()).unwrap_or_else(|| DEFAULT_HOST.to_string())
}

impl DockerEngine {
    /// Connects to `DOCKER_HOST` (unix socket or tcp) and negotiates the API version, so an
    /// older engine (Debian's speaks 1.41) is spoken to in its own version.
    pub async fn connect() -> Result<Self, EngineError> {
        let host = docker_host();
        let unreachable = |detail: String| EngineError::DockerUnreachable { host: host.clone(), detail };
        let docker = Docker::connect_with_host(&host)
            .map_err(|e| unreachable(e.to_string()))?
            .with_timeout(Duration::from_secs(30));
        // negotiate_version asks the engine, so it also proves the engine answers; bound it so a
        // dead tcp host does not hang the caller for the full request timeout.
        let docker = tokio::time::timeout(Duration::from_secs(10), docker.negotiate_version())
            .await
            .map_err(|_| unreachable("no answer within 10 s".into()))?
            .map_err(|e| unreachable(e.to_string()))?;
        Ok(Self { docker, host })
    }

    /// Engine release and API versions.
    pub async fn info(&self) -> Result<EngineInfo, EngineError> {
        let v = self.docker.version().await.map_err(|e| EngineError::Docker(e.to_string()))?;
        let negotiated = self.docker.client_version();
        Ok(EngineInfo {
            host: self.host.clone(),
            version: v.version.unwrap_or_default(),
            api_version: v.api_version.unwrap_or_default(),
            negotiated_api_version: format!("{}.{}", negotiated.major_version, negotiated.minor_version),
        })
    }
}
