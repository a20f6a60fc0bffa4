//! Making a connection: to this machine's engine (`DOCKER_HOST` or the default socket) or to a
//! recorded host's (ssh://, tcp:// with TLS, unix://), the API version agreed with it; and how
//! a remote host's containers are reached for checks (its SSH tunnel).

use std::time::Duration;

use bollard::Docker;

use super::{DEFAULT_HOST, DockerEngine};
use crate::engine::EngineError;

/// A recorded host behind a connection.
#[derive(Debug)]
pub(super) struct Remote {
    host: crate::domain::host::Host,
    /// `images.helper`: what carries a tcp:// host's tunnel.
    helper_image: String,
    /// The way into its Docker networks; it lives as long as the connection.
    tunnel: tokio::sync::OnceCell<Result<Tunnel, String>>,
}

/// A SOCKS proxy here whose connections come out on the remote host.
#[derive(Debug)]
enum Tunnel {
    /// `ssh -D` (ssh:// hosts).
    Ssh(crate::engine::hosts::shell::Tunnel),
    /// `nc` helpers through the Docker API (tcp:// hosts).
    Helper(super::socks::HelperTunnel),
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
        let docker = Docker::connect_with_host(&host)
            .map_err(|e| EngineError::DockerUnreachable { host: host.clone(), detail: e.to_string() })?;
        Self::negotiate(docker, host, crate::engine::checks::health::stun_host(), None).await
    }

    /// Connects to a recorded host's engine: `ssh://` through the system's OpenSSH (which runs
    /// `docker system dial-stdio` there, as the docker CLI does, on a few shared logins:
    /// [`super::ssh_link`]), `tcp://` with the host's TLS
    /// client certificate, `unix://` directly. `helper_image` (`images.helper`) carries the
    /// checks into a tcp:// host's networks.
    pub async fn connect_to(target: &crate::domain::host::Host, helper_image: &str) -> Result<Self, EngineError> {
        use crate::domain::host::DockerAddress;
        let uri = target.docker.uri();
        let unreachable = |detail: String| EngineError::DockerUnreachable { host: uri.clone(), detail };
        let version = bollard::API_DEFAULT_VERSION;
        let docker = match (&target.docker, &target.tls) {
            (DockerAddress::Ssh { user, host, port }, _) => {
                let connector = super::ssh_link::Connector::new(user, host, *port, target.ssh_key.clone());
                super::ssh_link::docker(connector, &uri, 120, version)
            }
            (DockerAddress::Tcp { .. }, Some(tls)) => Docker::connect_with_ssl(
                &uri,
                std::path::Path::new(&tls.key),
                std::path::Path::new(&tls.cert),
                std::path::Path::new(&tls.ca),
                120,
                version,
            ),
            (DockerAddress::Tcp { .. }, None) => {
                return Err(unreachable("a tcp:// engine needs its TLS files (host add --tls-ca ...)".into()));
            }
            (DockerAddress::Unix { .. }, _) => Docker::connect_with_unix(&uri, 120, version),
        }
        .map_err(|e| unreachable(e.to_string()))?;
        let remote =
            Remote { host: target.clone(), helper_image: helper_image.to_string(), tunnel: Default::default() };
        Self::negotiate(docker, uri.clone(), target.public_ip.to_string(), Some(std::sync::Arc::new(remote))).await
    }

    async fn negotiate(
        docker: Docker,
        host: String,
        published_at: String,
        remote: Option<std::sync::Arc<Remote>>,
    ) -> Result<Self, EngineError> {
        let unreachable = |detail: String| EngineError::DockerUnreachable { host: host.clone(), detail };
        let docker = docker.with_timeout(Duration::from_secs(120));
        // negotiate_version asks the engine, so it also proves the engine answers; bound it so a
        // dead tcp host does not hang the caller for the full request timeout. An SSH login
        // (key exchange, then `docker system dial-stdio`) fits in it too.
        let docker = tokio::time::timeout(Duration::from_secs(10), docker.negotiate_version())
            .await
            .map_err(|_| unreachable("no answer within 10 s".into()))?
            .map_err(|e| unreachable(crate::engine::error_chain(&e)))?;
        let clients = Default::default();
        Ok(Self { docker, host, published_at, remote, calls: Default::default(), installation: None, clients })
    }

    /// The SOCKS tunnel to a remote host's Docker networks (`None` for the local engine, whose
    /// networks this machine reaches directly). Opened on first use.
    async fn tunnel(&self) -> Result<Option<(std::net::SocketAddr, Option<&str>)>, EngineError> {
        let Some(r) = &self.remote else { return Ok(None) };
        let opened = r
            .tunnel
            .get_or_init(|| async {
                match r.host.docker {
                    crate::domain::host::DockerAddress::Tcp { .. } => {
                        let bare = DockerEngine { remote: None, ..self.clone() };
                        super::socks::HelperTunnel::open(bare, r.helper_image.clone()).await.map(Tunnel::Helper)
                    }
                    _ => crate::engine::hosts::shell::Tunnel::open(&r.host).await.map(Tunnel::Ssh),
                }
                .map_err(|e| e.to_string())
            })
            .await;
        match opened {
            Ok(Tunnel::Ssh(t)) => Ok(Some((t.addr, None))),
            Ok(Tunnel::Helper(t)) => Ok(Some((t.addr, Some(t.password.as_str())))),
            Err(e) => Err(EngineError::Unavailable(e.clone())),
        }
    }

    /// An HTTP client that reaches this engine's containers by their addresses on its Docker
    /// networks: directly here, through the SSH tunnel on a remote host.
    ///
    /// Made once per timeout and way in, then shared by this connection's clones: building a
    /// client reads the system's root certificates (5–20 ms of CPU), and a readiness wait asks
    /// for one four times a second per customer in flight.
    pub async fn http_client(&self, timeout: Duration) -> Result<reqwest::Client, EngineError> {
        let proxy = match self.tunnel().await? {
            None => None,
            Some((addr, None)) => Some(format!("socks5h://{addr}")),
            Some((addr, Some(password))) => Some(format!("socks5h://{}:{password}@{addr}", super::socks::USER)),
        };
        let key = (timeout, proxy);
        let mut kept = self.clients.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, c)) = kept.iter().find(|(k, _)| *k == key) {
            return Ok(c.clone());
        }
        let client = crate::engine::npm::probe_client(timeout, key.1.as_deref())?;
        kept.push((key, client.clone()));
        Ok(client)
    }

    /// How long a probe of a container may take through this engine: `direct` here or over
    /// SSH; three times that on a tcp:// host, where every connection starts a helper container
    /// first (its start is what a busy engine makes slow, not the answer).
    pub async fn probe_timeout(&self, direct: Duration) -> Result<Duration, EngineError> {
        Ok(match self.tunnel().await? {
            Some((_, Some(_))) => direct * 3,
            _ => direct,
        })
    }

    /// A TCP connection to `ip:port` on this engine's Docker networks (see [`Self::http_client`]).
    pub async fn connect_tcp(&self, ip: &str, port: u16) -> std::io::Result<tokio::net::TcpStream> {
        match self.tunnel().await.map_err(std::io::Error::other)? {
            None => tokio::net::TcpStream::connect((ip, port)).await,
            Some((proxy, None)) => tokio_socks::tcp::Socks5Stream::connect(proxy, (ip, port))
                .await
                .map(tokio_socks::tcp::Socks5Stream::into_inner)
                .map_err(std::io::Error::other),
            Some((proxy, Some(password))) => {
                tokio_socks::tcp::Socks5Stream::connect_with_password(proxy, (ip, port), super::socks::USER, password)
                    .await
                    .map(tokio_socks::tcp::Socks5Stream::into_inner)
                    .map_err(std::io::Error::other)
            }
        }
    }

    /// The address its published ports (the customers' UDP ports) answer at.
    pub fn published_at(&self) -> &str {
        &self.published_at
    }
}
