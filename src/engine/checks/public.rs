//! The public path to a customer's NetBird, checked through the proxy as a client would use it:
//! HTTPS to the proxy with the customer's domain as SNI and Host, NetBird's `/api/instance`
//! behind it, and the relay's WebSocket on `/relay`. Only meaningful once the proxy host exists.
//! What this cannot fix by itself — DNS not pointing at the proxy yet, a certificate still
//! pending — is a warning: the instance works, its users cannot reach it yet.

use std::net::SocketAddr;
use std::time::Duration;

use serde::Serialize;

/// The result of the public-path check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublicCheck {
    /// The proxy's HTTPS address the requests went to.
    pub target: String,
    /// `/api/instance` answered NetBird's instance status through the proxy.
    pub api_ok: bool,
    /// `/relay` accepted a WebSocket through the proxy.
    pub relay_ok: bool,
    /// What the checks said, and what stands between users and the instance.
    pub notes: Vec<String>,
}

impl PublicCheck {
    /// Both paths work.
    pub fn ok(&self) -> bool {
        self.api_ok && self.relay_ok
    }

    /// One line for status reasons and alerts (`None` when all is well).
    pub fn warning(&self) -> Option<String> {
        (!self.ok() || !self.notes.is_empty())
            .then(|| format!("public path via {}: {}", self.target, self.notes.join("; ")))
    }
}

const TIMEOUT: Duration = Duration::from_secs(5);

/// Where users reach a customer on `host` (`None`: this machine's engine) over HTTPS: the
/// `proxy.https_address` setting here; on a remote host with a proxy of its own, that proxy's
/// address (its public IP on 443 unless its record says otherwise). `None`: nothing to check.
pub fn target(
    settings: &crate::domain::settings::Settings,
    host: Option<&crate::domain::host::Host>,
) -> Option<String> {
    match host {
        None => settings.https_address.clone(),
        Some(h) => h.npm.as_ref().map(|_| h.https_address()),
    }
}

/// Checks `https://<domain>/api/instance` and `wss://<domain>/relay` through the proxy at
/// `target` (`host:port`), whatever DNS says, and whether DNS already points there.
pub async fn check(domain: &str, target: &str) -> PublicCheck {
    let mut out = PublicCheck { target: target.to_string(), api_ok: false, relay_ok: false, notes: Vec::new() };
    let lookup = tokio::time::timeout(Duration::from_secs(2), tokio::net::lookup_host(target)).await;
    let addr = match lookup.ok().and_then(Result::ok).and_then(|mut a| a.next()) {
        Some(a) => a,
        None => {
            out.notes.push(format!("cannot resolve the proxy address {target} (setting proxy.https_address)"));
            return out;
        }
    };
    if let Some(note) = dns_note(domain, addr).await {
        out.notes.push(note);
    }
    // A trusted certificate first; when only an untrusted one works, say so (pending, self-signed).
    let (api, trusted) = match get_instance(domain, addr, false).await {
        Ok(v) => (Ok(v), true),
        Err(e) if e.contains("certificate") || e.contains("TLS") || e.contains("tls") => {
            (get_instance(domain, addr, true).await, false)
        }
        Err(e) => (Err(e), true),
    };
    match api {
        Ok(detail) => {
            out.api_ok = true;
            if !trusted {
                out.notes.push(format!("the certificate for {domain} is not trusted yet (pending, or self-signed)"));
            }
            if !detail.is_empty() {
                out.notes.push(detail);
            }
        }
        Err(e) => out.notes.push(format!("https://{domain}/api/instance: {e}")),
    }
    match relay(domain, addr, !trusted).await {
        Ok(()) => out.relay_ok = true,
        Err(e) => out.notes.push(format!("wss://{domain}/relay: {e}")),
    }
    out
}

/// Where `domain` resolves, if not to the proxy. A proxy on a loopback or private address is
/// behind a NAT or port forward: nothing can be concluded from a public address then.
async fn dns_note(domain: &str, proxy: SocketAddr) -> Option<String> {
    let lookup = tokio::time::timeout(Duration::from_secs(2), tokio::net::lookup_host((domain, 443))).await;
    let found: Vec<std::net::IpAddr> = match lookup {
        Ok(Ok(a)) => a.map(|a| a.ip()).collect(),
        Ok(Err(_)) => return Some(format!("DNS: {domain} does not resolve yet; point it at the proxy")),
        Err(_) => return Some(format!("DNS: no answer for {domain} within 2 s")),
    };
    let ip = proxy.ip();
    let private = match ip {
        std::net::IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        std::net::IpAddr::V6(v6) => v6.is_loopback(),
    };
    (!private && !found.contains(&ip)).then(|| {
        let list: Vec<String> = found.iter().map(ToString::to_string).collect();
        format!("DNS: {domain} resolves to {}, not to the proxy at {ip}", list.join(", "))
    })
}

fn client(domain: &str, addr: SocketAddr, accept_any_cert: bool) -> Result<reqwest::Client, String> {
    crate::engine::install_crypto_provider();
    reqwest::Client::builder()
        .resolve(domain, addr)
        .timeout(TIMEOUT)
        .danger_accept_invalid_certs(accept_any_cert)
        .http1_only()
        .build()
        .map_err(|e| e.to_string())
}

async fn get_instance(domain: &str, addr: SocketAddr, accept_any_cert: bool) -> Result<String, String> {
    #[derive(serde::Deserialize)]
    struct Instance {
        setup_required: bool,
    }
    let url = format!("https://{domain}:{}/api/instance", addr.port());
    let resp =
        client(domain, addr, accept_any_cert)?.get(&url).send().await.map_err(|e| crate::engine::error_chain(&e))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(format!("the proxy answered {status}"));
    }
    match resp.json::<Instance>().await {
        Ok(i) if i.setup_required => Ok("NetBird answers but has no owner yet".into()),
        Ok(_) => Ok(String::new()),
        Err(_) => Err(format!("{status}, but not from NetBird (another site is served for this domain)")),
    }
}

async fn relay(domain: &str, addr: SocketAddr, accept_any_cert: bool) -> Result<(), String> {
    let key = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        crate::store::crypto::random_bytes::<16>().map_err(|e| e.to_string())?,
    );
    let resp = client(domain, addr, accept_any_cert)?
        .get(format!("https://{domain}:{}/relay", addr.port()))
        .header("Connection", "Upgrade")
        .header("Upgrade", "websocket")
        .header("Sec-WebSocket-Version", "13")
        .header("Sec-WebSocket-Key", key)
        .send()
        .await
        .map_err(|e| crate::engine::error_chain(&e))?;
    match resp.status().as_u16() {
        101 => Ok(()),
        s => Err(format!("answered {s} instead of accepting the WebSocket")),
    }
}
