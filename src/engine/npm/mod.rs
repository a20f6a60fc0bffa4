//! What stands in front of customers: Nginx Proxy Manager ([`client`], the proxy trait in
//! [`proxy`], and this file's reachability probe) and the edge that routes TLS by name in front
//! of it to customers' reverse proxies ([`edge`]).

use std::time::Duration;

use serde::Deserialize;

pub mod client;
pub mod edge;
pub mod proxy;

use super::EngineError;

/// What `GET /api/` reports.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NpmStatus {
    /// `major.minor.revision`.
    pub version: String,
    /// NPM's own "set up" flag.
    pub setup: bool,
}

#[derive(Deserialize)]
struct ApiRoot {
    status: String,
    #[serde(default)]
    setup: bool,
    version: Option<ApiVersion>,
}

#[derive(Deserialize)]
struct ApiVersion {
    major: u32,
    minor: u32,
    revision: u32,
}

/// An HTTP client with nbmsp's timeouts: proxies must answer quickly or be reported as down.
pub fn http_client() -> Result<reqwest::Client, EngineError> {
    http_client_with(Duration::from_secs(30))
}

/// [`http_client`] with another per-request timeout (`npm.timeout_s`).
pub fn http_client_with(timeout: Duration) -> Result<reqwest::Client, EngineError> {
    crate::engine::install_crypto_provider();
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5).min(timeout))
        .timeout(timeout)
        .user_agent(concat!("nbmsp/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| EngineError::Npm { url: String::new(), detail: format!("cannot build an HTTP client: {e}") })
}

/// [`http_client_with`] whose requests go through the proxy at `proxy` (e.g. `socks5h://…`).
pub fn http_client_via(timeout: Duration, proxy: &str) -> Result<reqwest::Client, EngineError> {
    crate::engine::install_crypto_provider();
    let err = |e: reqwest::Error| EngineError::Npm {
        url: String::new(),
        detail: format!("cannot build an HTTP client: {e}"),
    };
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5).min(timeout))
        .timeout(timeout)
        .user_agent(concat!("nbmsp/", env!("CARGO_PKG_VERSION")))
        .proxy(reqwest::Proxy::all(proxy).map_err(err)?)
        .build()
        .map_err(err)
}

/// A client for probes of containers (through `proxy` when given) that keeps no connection
/// between requests: one client serves every probe of a fleet, and idle connections kept to
/// each container would add up to hundreds of open sockets in a long-running monitor.
pub fn probe_client(timeout: Duration, proxy: Option<&str>) -> Result<reqwest::Client, EngineError> {
    crate::engine::install_crypto_provider();
    let err = |e: reqwest::Error| EngineError::Npm {
        url: String::new(),
        detail: format!("cannot build an HTTP client: {e}"),
    };
    let mut builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5).min(timeout))
        .timeout(timeout)
        .pool_max_idle_per_host(0)
        .user_agent(concat!("nbmsp/", env!("CARGO_PKG_VERSION")));
    if let Some(p) = proxy {
        builder = builder.proxy(reqwest::Proxy::all(p).map_err(err)?);
    }
    builder.build().map_err(err)
}

/// Asks NPM at `url` (the admin URL, e.g. `http://127.0.0.1:81`) whether it is up.
pub async fn probe(client: &reqwest::Client, url: &str) -> Result<NpmStatus, EngineError> {
    let err = |detail: String| EngineError::Npm { url: url.to_string(), detail };
    let resp = client.get(format!("{}/api/", url.trim_end_matches('/'))).send().await.map_err(|e| {
        err(if e.is_timeout() {
            "no answer in time (npm.timeout_s); NPM is overloaded or hung".to_string()
        } else {
            format!("cannot connect: {}", crate::engine::root_cause(&e))
        })
    })?;
    let status = resp.status();
    let body: ApiRoot = resp
        .json()
        .await
        .map_err(|e| err(format!("answered {status} without NPM's status document ({e}); is this NPM's admin URL?")))?;
    if body.status != "OK" {
        return Err(err(format!("reports status {:?}", body.status)));
    }
    let version =
        body.version.map(|v| format!("{}.{}.{}", v.major, v.minor, v.revision)).unwrap_or_else(|| "unknown".into());
    Ok(NpmStatus { version, setup: body.setup })
}
