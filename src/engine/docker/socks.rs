//! A SOCKS5 proxy on this machine's loopback whose connections come out on a tcp:// Docker host:
//! each CONNECT becomes an `nc` helper there ([`super::helper::NcStream`]). It stands where an
//! ssh:// host has `ssh -D`, so the checks, the owner setup and the host's NPM are reached the
//! same way on both (reqwest's `socks5h://`, the name resolved on the far side).
//!
//! Only the parts of RFC 1928 a client on loopback needs: CONNECT to IPv4, IPv6 and domain
//! addresses. Every client must log in (RFC 1929) with this process's random password, so
//! another user of this machine cannot ride the listener into the host's networks. A helper
//! costs a container per connection (a few hundred ms), so it suits checks, not bulk traffic.

use std::net::SocketAddr;

use bollard::container::LogOutput;
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::DockerEngine;
use super::helper::NcStream;
use crate::engine::EngineError;

/// The proxy; it stops when dropped.
#[derive(Debug)]
pub struct HelperTunnel {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The password a client logs in with (user [`USER`]).
    pub password: String,
    task: tokio::task::JoinHandle<()>,
}

/// The user name clients log in with.
pub const USER: &str = "nbmsp";

impl Drop for HelperTunnel {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl HelperTunnel {
    /// Listens on a free loopback port; connections go out through `image` helpers on `engine`
    /// (a connection without the tunnel itself, so neither keeps the other alive).
    pub async fn open(engine: DockerEngine, image: String) -> Result<Self, EngineError> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| EngineError::Docker(format!("no local port for the helper tunnel: {e}")))?;
        let addr = listener.local_addr().map_err(|e| EngineError::Docker(e.to_string()))?;
        let b = crate::store::crypto::random_bytes::<16>()
            .map_err(|e| EngineError::Docker(format!("no randomness for the tunnel: {e}")))?;
        let password: String = b.iter().map(|x| format!("{x:02x}")).collect();
        let secret = password.clone();
        // Connections that have not logged in yet are few and short-lived: a local process that
        // opens many and says nothing cannot hold the monitor's descriptors.
        let unauthenticated = std::sync::Arc::new(tokio::sync::Semaphore::new(LOGIN_SLOTS));
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let Ok(slot) = unauthenticated.clone().try_acquire_owned() else {
                    tracing::debug!("helper tunnel: {LOGIN_SLOTS} connections are logging in already; one refused");
                    continue;
                };
                let (engine, image, secret) = (engine.clone(), image.clone(), secret.clone());
                tokio::spawn(async move {
                    if let Err(e) = serve(socket, &engine, &image, &secret, slot).await {
                        tracing::debug!("helper tunnel connection: {e}");
                    }
                });
            }
        });
        Ok(Self { addr, password, task })
    }
}

/// Reply codes of RFC 1928 section 6.
const SUCCEEDED: u8 = 0;
const GENERAL_FAILURE: u8 = 1;
const COMMAND_NOT_SUPPORTED: u8 = 7;
const ADDRESS_NOT_SUPPORTED: u8 = 8;

async fn reply(socket: &mut TcpStream, code: u8) -> std::io::Result<()> {
    socket.write_all(&[5, code, 0, 1, 0, 0, 0, 0, 0, 0]).await
}

/// Reads one length-prefixed field of the RFC 1929 login.
async fn field(socket: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let len = socket.read_u8().await?;
    let mut v = vec![0u8; usize::from(len)];
    socket.read_exact(&mut v).await?;
    Ok(v)
}

/// The requested destination, or the reply code that refuses it, once the client has logged
/// in with `password`.
async fn request(socket: &mut TcpStream, password: &str) -> std::io::Result<Result<(String, u16), u8>> {
    let mut head = [0u8; 2];
    socket.read_exact(&mut head).await?;
    if head[0] != 5 {
        return Err(std::io::Error::other("not SOCKS5"));
    }
    let mut methods = vec![0u8; usize::from(head[1])];
    socket.read_exact(&mut methods).await?;
    if !methods.contains(&2) {
        socket.write_all(&[5, 0xff]).await?;
        return Err(std::io::Error::other("the client offers no login"));
    }
    socket.write_all(&[5, 2]).await?;
    let version = socket.read_u8().await?;
    let (user, given) = (field(socket).await?, field(socket).await?);
    if version != 1 || user != USER.as_bytes() || given != password.as_bytes() {
        socket.write_all(&[1, 1]).await?;
        return Err(std::io::Error::other("a wrong login"));
    }
    socket.write_all(&[1, 0]).await?;
    let mut req = [0u8; 4];
    socket.read_exact(&mut req).await?;
    let host = match req[3] {
        1 => {
            let mut a = [0u8; 4];
            socket.read_exact(&mut a).await?;
            std::net::Ipv4Addr::from(a).to_string()
        }
        4 => {
            let mut a = [0u8; 16];
            socket.read_exact(&mut a).await?;
            std::net::Ipv6Addr::from(a).to_string()
        }
        3 => {
            let len = socket.read_u8().await?;
            let mut name = vec![0u8; usize::from(len)];
            socket.read_exact(&mut name).await?;
            String::from_utf8(name).map_err(|_| std::io::Error::other("a name that is not UTF-8"))?
        }
        _ => return Ok(Err(ADDRESS_NOT_SUPPORTED)),
    };
    let port = socket.read_u16().await?;
    if req[1] != 1 {
        return Ok(Err(COMMAND_NOT_SUPPORTED));
    }
    // What reaches `nc`'s command line is an address or a DNS name, nothing else.
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_');
    if host.is_empty() || host.starts_with('-') || !host.chars().all(plain) {
        return Ok(Err(ADDRESS_NOT_SUPPORTED));
    }
    Ok(Ok((host, port)))
}

/// Connections allowed to be logging in at once.
const LOGIN_SLOTS: usize = 32;
/// How long a connection may take to log in and name its target.
const LOGIN_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);

/// [`request`], given [`LOGIN_WITHIN`]: a connection that says nothing is dropped.
async fn login_within(socket: &mut TcpStream, password: &str) -> std::io::Result<Result<(String, u16), u8>> {
    tokio::time::timeout(LOGIN_WITHIN, request(socket, password))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "no login within 5 s"))?
}

async fn serve(
    mut socket: TcpStream,
    engine: &DockerEngine,
    image: &str,
    password: &str,
    login_slot: tokio::sync::OwnedSemaphorePermit,
) -> std::io::Result<()> {
    let asked = login_within(&mut socket, password).await;
    drop(login_slot);
    let (host, port) = match asked? {
        Ok(target) => target,
        Err(code) => return reply(&mut socket, code).await,
    };
    let stream = match NcStream::open(engine, image, &host, port).await {
        Ok(s) => s,
        Err(e) => {
            reply(&mut socket, GENERAL_FAILURE).await?;
            return Err(std::io::Error::other(e.to_string()));
        }
    };
    reply(&mut socket, SUCCEEDED).await?;
    let NcStream { name, io } = stream;
    let bollard::container::AttachContainerResults { mut output, mut input } = io;
    let (mut from_client, mut to_client) = socket.into_split();
    let up = async {
        let copied = tokio::io::copy(&mut from_client, &mut input).await;
        // Closing nc's stdin only tells it the client is done; if that fails the helper is gone
        // and the other direction ends by itself.
        if let Err(e) = input.shutdown().await {
            tracing::debug!("helper tunnel: closing nc's stdin: {e}");
        }
        copied.map(|_| ())
    };
    let down = async {
        while let Some(frame) = output.next().await {
            match frame {
                Ok(LogOutput::StdOut { message } | LogOutput::Console { message }) => {
                    to_client.write_all(&message).await?;
                }
                Ok(_) => {}
                Err(e) => return Err(std::io::Error::other(e.to_string())),
            }
        }
        to_client.shutdown().await
    };
    // The peer's side decides the end: once `nc` stops, whatever the client still sends is
    // moot. A client that is done sending gets a bounded wait for the rest of the answer.
    tokio::pin!(up, down);
    let ended = tokio::select! {
        r = &mut down => r,
        _ = &mut up => tokio::time::timeout(std::time::Duration::from_secs(30), &mut down)
            .await
            .unwrap_or(Ok(())),
    };
    super::helper::discard(engine, &name).await;
    ended
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Logs in with `password` (the server's is "right"), sends a CONNECT for `name`; the
    /// request as parsed, or the server's refusal.
    async fn ask_as(password: &str, name: &[u8]) -> std::io::Result<Result<(String, u16), u8>> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut client = TcpStream::connect(addr).await.unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        let mut req = vec![5, 1, 2, 1, 5];
        req.extend_from_slice(b"nbmsp");
        req.push(u8::try_from(password.len()).unwrap());
        req.extend_from_slice(password.as_bytes());
        req.extend_from_slice(&[5, 1, 0, 3, u8::try_from(name.len()).unwrap()]);
        req.extend_from_slice(name);
        req.extend_from_slice(&8080u16.to_be_bytes());
        client.write_all(&req).await.unwrap();
        request(&mut server, "right").await
    }

    async fn ask(name: &[u8]) -> Result<(String, u16), u8> {
        ask_as("right", name).await.unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_that_never_logs_in_is_dropped() {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let _silent = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        let err = login_within(&mut server, "right").await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{err}");
    }

    #[tokio::test]
    async fn a_client_without_the_password_gets_nowhere() {
        let wrong = ask_as("wrong", b"netbird-acme-server").await;
        assert!(wrong.unwrap_err().to_string().contains("wrong login"));
        // One that offers no login at all is turned away at the greeting.
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        client.write_all(&[5, 1, 0]).await.unwrap();
        assert!(request(&mut server, "right").await.is_err());
        let mut answer = [0u8; 2];
        client.read_exact(&mut answer).await.unwrap();
        assert_eq!(answer, [5, 0xff], "no acceptable method");
    }

    #[tokio::test]
    async fn names_reach_nc_only_as_plain_addresses() {
        assert_eq!(ask(b"netbird-acme-server").await, Ok(("netbird-acme-server".into(), 8080)));
        assert_eq!(ask(b"127.0.0.1").await, Ok(("127.0.0.1".into(), 8080)));
        for bad in [&b"-e/bin/sh"[..], b"a b", b"x;rm", b"$(id)", b""] {
            assert_eq!(ask(bad).await, Err(ADDRESS_NOT_SUPPORTED), "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
