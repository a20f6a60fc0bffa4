//! ssh:// engines: Docker API connections carried as channels of a few shared SSH logins.
//!
//! bollard's own ssh:// transport logs in afresh (a whole `ssh -M` master) for every HTTP
//! connection its pool opens, so a deploy or a move on a remote host made dozens of SSH logins,
//! several at once. sshd throttles concurrent logins that have not yet authenticated
//! (`MaxStartups`, by default 10:30:100: past ten it drops new ones at random), and a dropped one
//! reached the operator as "the Docker engine stopped answering" in the middle of a move. Each
//! login also costs several round trips on a slow link. Here one login (a control master) serves
//! up to [`CHANNELS_PER_LOGIN`] connections, each a `docker system dial-stdio` session on it (as
//! the docker CLI does with `ControlMaster`); logins are made one at a time, and a login that
//! fails for a reason a retry can cure is tried again.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::rt::TokioIo;

use crate::engine::hosts::shell::{LOGIN_ATTEMPTS, login_pause};

/// How long a login without sessions stays up (seconds).
const MASTER_IDLE: std::num::NonZeroUsize = std::num::NonZeroUsize::new(60).unwrap();

/// Sessions one login carries at most: sshd refuses a connection's 11th session by default
/// (`MaxSessions 10`), and a refused session would look like a connection that closed at once.
pub const CHANNELS_PER_LOGIN: usize = 8;

/// The logins to one host, shared by every connection the HTTP pool opens to it.
#[derive(Clone)]
pub(super) struct Connector {
    logins: Arc<Logins>,
}

struct Logins {
    /// Login, host name or address, port.
    user: String,
    host: String,
    port: u16,
    /// The key the host was recorded with (`host add --ssh-key`), else ssh's own choice.
    key: Option<String>,
    /// Live logins; the lock also makes logins happen one at a time.
    masters: tokio::sync::Mutex<Vec<Arc<Master>>>,
}

struct Master {
    session: Arc<openssh::Session>,
    channels: AtomicUsize,
}

impl Connector {
    /// A connector for `user` on `host`:`port`, logging in with `key` when given.
    pub(super) fn new(user: &str, host: &str, port: u16, key: Option<String>) -> Self {
        let (user, host) = (user.to_string(), host.to_string());
        let logins = Logins { user, host, port, key, masters: Default::default() };
        Self { logins: Arc::new(logins) }
    }
}

impl Logins {
    /// A login with room for one more session: a live one, or a new one.
    async fn lease(&self) -> Result<Lease, openssh::Error> {
        let mut masters = self.masters.lock().await;
        let has_room = |m: &Arc<Master>| m.channels.load(Ordering::Relaxed) < CHANNELS_PER_LOGIN;
        let master = loop {
            let Some(i) = masters.iter().position(has_room) else {
                let m = Arc::new(self.login().await?);
                masters.push(m.clone());
                break m;
            };
            // Only the login about to be used is asked whether it is alive; one whose ssh has
            // gone (the network dropped, sshd restarted) is forgotten.
            if masters[i].session.check().await.is_ok() {
                break masters[i].clone();
            }
            masters.remove(i);
        };
        master.channels.fetch_add(1, Ordering::Relaxed);
        Ok(Lease(master))
    }

    async fn login(&self) -> Result<Master, openssh::Error> {
        let mut builder = openssh::SessionBuilder::default();
        builder
            .known_hosts_check(openssh::KnownHosts::Add)
            .connect_timeout(Duration::from_secs(10))
            .server_alive_interval(Duration::from_secs(15))
            // A master outlives nbmsp only briefly when nbmsp is killed (it runs in the
            // background): without a session for a minute it ends; a live one always has one.
            .control_persist(openssh::ControlPersist::IdleFor(MASTER_IDLE))
            .user(self.user.clone())
            .port(self.port);
        if let Some(key) = &self.key {
            builder.keyfile(key);
        }
        let mut attempt = 1;
        loop {
            match builder.launch_master(&self.host).await {
                Ok(dir) => {
                    let session = Arc::new(openssh::Session::new_process_mux(dir));
                    return Ok(Master { session, channels: AtomicUsize::new(0) });
                }
                Err(e) if attempt < LOGIN_ATTEMPTS && retryable(&e) => {
                    tracing::debug!(host = %self.host, attempt, error = %e, "ssh login failed; trying again");
                    tokio::time::sleep(login_pause(attempt)).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// Whether a failed login may succeed when tried again: ssh's words decide, as for every other
/// SSH login nbmsp makes ([`crate::engine::hosts::shell::login_may_pass`]).
fn retryable(e: &openssh::Error) -> bool {
    match e {
        openssh::Error::Connect(io) => crate::engine::hosts::shell::login_may_pass(&io.to_string()),
        _ => false,
    }
}

/// One session's claim on a login, given back when the connection closes.
struct Lease(Arc<Master>);

impl Drop for Lease {
    fn drop(&mut self) {
        self.0.channels.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One Docker API connection: `docker system dial-stdio` on a shared login.
pub(super) struct Channel {
    stdin: Option<TokioIo<openssh::ChildStdin>>,
    stdout: TokioIo<openssh::ChildStdout>,
    // Dropped after the pipes: the remote process, then the claim on its login.
    _child: openssh::Child<Arc<openssh::Session>>,
    _lease: Lease,
}

impl tower_service::Service<hyper::Uri> for Connector {
    type Response = Channel;
    type Error = openssh::Error;
    type Future = Pin<Box<dyn std::future::Future<Output = Result<Channel, openssh::Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: hyper::Uri) -> Self::Future {
        let logins = self.logins.clone();
        Box::pin(async move {
            let lease = logins.lease().await?;
            let mut child = lease
                .0
                .session
                .clone()
                .arc_command("docker")
                .args(["system", "dial-stdio"])
                .stdin(openssh::Stdio::piped())
                .stdout(openssh::Stdio::piped())
                .spawn()
                .await?;
            let (Some(stdin), Some(stdout)) = (child.stdin().take(), child.stdout().take()) else {
                return Err(openssh::Error::ChildIo(io::Error::other("dial-stdio has no pipes")));
            };
            Ok(Channel { stdin: Some(TokioIo::new(stdin)), stdout: TokioIo::new(stdout), _child: child, _lease: lease })
        })
    }
}

impl Channel {
    fn stdin(&mut self) -> io::Result<Pin<&mut TokioIo<openssh::ChildStdin>>> {
        self.stdin.as_mut().map(Pin::new).ok_or_else(|| io::ErrorKind::BrokenPipe.into())
    }
}

impl hyper::rt::Read for Channel {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stdout).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for Channel {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.get_mut().stdin()?.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().stdin()?.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // A pipe has no half-close of its own: the write side ends when stdin is closed, which
        // is what tells dial-stdio (and the daemon behind it) that the request is complete.
        let this = self.get_mut();
        std::task::ready!(this.stdin()?.poll_shutdown(cx))?;
        this.stdin = None;
        Poll::Ready(Ok(()))
    }
}

impl hyper_util::client::legacy::connect::Connection for Channel {
    fn connected(&self) -> hyper_util::client::legacy::connect::Connected {
        hyper_util::client::legacy::connect::Connected::new()
    }
}

/// A bollard client over `connector`: requests go through hyper's pool of channels.
pub(super) fn docker(
    connector: Connector,
    uri: &str,
    timeout_s: u64,
    version: &bollard::ClientVersion,
) -> Result<bollard::Docker, bollard::errors::Error> {
    let client =
        Arc::new(hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector));
    bollard::Docker::connect_with_custom_transport(
        move |req: bollard::BollardRequest| {
            let client = client.clone();
            async move { client.request(req).await.map_err(bollard::errors::Error::from) }
        },
        Some(uri),
        timeout_s,
        version,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_failures_a_retry_can_cure_are_retried() {
        let connect = |kind, text: &str| openssh::Error::Connect(io::Error::new(kind, text.to_string()));
        let denied = connect(io::ErrorKind::PermissionDenied, "root@h: Permission denied (publickey).");
        assert!(!retryable(&denied));
        assert!(!retryable(&connect(io::ErrorKind::Other, "Could not resolve hostname h")));
        assert!(retryable(&connect(io::ErrorKind::ConnectionAborted, "kex_exchange_identification: read: reset")));
        let refused = connect(io::ErrorKind::ConnectionRefused, "connect to host h port 22: Connection refused");
        assert!(!retryable(&refused), "nobody listens: once is enough");
        assert!(!retryable(&openssh::Error::Master(io::Error::from(io::ErrorKind::PermissionDenied))));
    }
}
