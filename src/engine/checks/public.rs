//! The public path to a customer's NetBird, checked through the proxy as a client would use it:
//! HTTPS to the proxy with the customer's domain as SNI and Host, NetBird's `/api/instance`
//! behind it, and the relay's WebSocket on `/relay`. Only meaningful once the proxy host exists.
//! What this cannot fix by itself — DNS not pointing at the proxy yet, a certificate still
//! pending — is a warning: the instance works, its users cannot reach it yet.

use std::net::{IpAddr, SocketAddr};
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

/// Whether the customer's reverse proxy publishes services at `NAME.<domain>`, and where their
/// visitors should arrive: the edge's own address when `edge.listen` names one, else (the edge
/// listens on every address, in front of NPM, or it is the operator's own nginx) the proxy's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Services {
    /// No reverse proxy: no wildcard record is needed.
    None,
    /// A reverse proxy: `*.<domain>` must resolve, to this address when known.
    Edge(Option<IpAddr>),
}

impl Services {
    /// What a customer with or without a reverse proxy needs under the current settings.
    pub fn of(settings: &crate::domain::settings::Settings, reverse_proxy: bool) -> Self {
        if !reverse_proxy {
            return Self::None;
        }
        let ip = settings.edge.listen.as_deref().and_then(|l| {
            let (host, _) = l.rsplit_once(':')?;
            host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().ok()
        });
        Self::Edge(ip.filter(|ip| !ip.is_unspecified()))
    }
}

/// What a DNS lookup gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// These addresses.
    Found(Vec<IpAddr>),
    /// The name does not exist (or has no address).
    NoRecord,
    /// No answer in time.
    NoAnswer,
}

async fn lookup(name: &str) -> Lookup {
    match tokio::time::timeout(Duration::from_secs(2), tokio::net::lookup_host((name, 443))).await {
        Ok(Ok(a)) => Lookup::Found(a.map(|a| a.ip()).collect()),
        Ok(Err(_)) => Lookup::NoRecord,
        Err(_) => Lookup::NoAnswer,
    }
}

/// Loopback, private and link-local addresses sit behind a NAT or a port forward: a public
/// record cannot be expected to name them.
fn behind_nat(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => v6.is_loopback(),
    }
}

/// The verdict on the wildcard record `*.<domain>` from what a name under it (`probe`, one no
/// one would create by hand) resolved to; `None` when visitors of the services will arrive.
pub fn wildcard_verdict(domain: &str, found: &Lookup, edge: Option<IpAddr>) -> Option<String> {
    let need = format!("services need the DNS record *.{domain}");
    match found {
        Lookup::NoRecord => Some(format!("DNS: {need} (pointing at the edge); a name under {domain} does not resolve")),
        Lookup::NoAnswer => Some(format!("DNS: no answer within 2 s for a name under {domain} ({need})")),
        Lookup::Found(ips) => {
            let edge = edge.filter(|ip| !behind_nat(*ip))?;
            (!ips.contains(&edge)).then(|| {
                let list: Vec<String> = ips.iter().map(ToString::to_string).collect();
                format!("DNS: names under {domain} resolve to {}, not to the edge at {edge} ({need})", list.join(", "))
            })
        }
    }
}

/// Checks the wildcard record a customer's services need by resolving a name under `domain`
/// that nothing but a wildcard answers for; `None` when it resolves where it should.
pub async fn wildcard_note(domain: &str, edge: Option<IpAddr>) -> Option<String> {
    let label = crate::store::crypto::random_bytes::<4>()
        .map(|b| b.iter().map(|x| format!("{x:02x}")).collect::<String>())
        .unwrap_or_else(|_| "0".into());
    let probe = format!("nbmsp-probe-{label}.{domain}");
    wildcard_verdict(domain, &lookup(&probe).await, edge)
}

/// Checks `https://<domain>/api/instance` and `wss://<domain>/relay` through the proxy at
/// `target` (`host:port`), whatever DNS says, and whether DNS already points there — and, for
/// a customer with a reverse proxy, the wildcard record its services need.
pub async fn check(domain: &str, target: &str, services: Services) -> PublicCheck {
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
    if let Services::Edge(edge) = services
        && let Some(note) = wildcard_note(domain, edge.or(Some(addr.ip()))).await
    {
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
    let found = match lookup(domain).await {
        Lookup::Found(ips) => ips,
        Lookup::NoRecord => return Some(format!("DNS: {domain} does not resolve yet; point it at the proxy")),
        Lookup::NoAnswer => return Some(format!("DNS: no answer for {domain} within 2 s")),
    };
    let ip = proxy.ip();
    (!behind_nat(ip) && !found.contains(&ip)).then(|| {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_wildcard_record_is_judged_by_where_a_name_under_the_domain_goes() {
        let d = "acme.msp.example";
        let none = wildcard_verdict(d, &Lookup::NoRecord, Some(ip("203.0.113.10"))).unwrap();
        assert!(none.contains("*.acme.msp.example") && none.contains("does not resolve"), "{none}");
        assert!(wildcard_verdict(d, &Lookup::NoAnswer, None).unwrap().contains("no answer"));
        let at_edge = Lookup::Found(vec![ip("203.0.113.10")]);
        assert_eq!(wildcard_verdict(d, &at_edge, Some(ip("203.0.113.10"))), None);
        let elsewhere = wildcard_verdict(d, &at_edge, Some(ip("203.0.113.11"))).unwrap();
        assert!(elsewhere.contains("203.0.113.10, not to the edge at 203.0.113.11"), "{elsewhere}");
        // An edge behind a NAT: any address will do, nothing can be concluded from it.
        assert_eq!(wildcard_verdict(d, &at_edge, Some(ip("10.0.0.5"))), None);
        assert_eq!(wildcard_verdict(d, &at_edge, None), None);
    }

    #[test]
    fn the_edge_address_comes_from_edge_listen_when_it_names_one() {
        let mut s = crate::domain::settings::Settings::from_map(&Default::default()).unwrap();
        assert_eq!(Services::of(&s, false), Services::None);
        assert_eq!(Services::of(&s, true), Services::Edge(None));
        s.edge.listen = Some("203.0.113.11:443".into());
        assert_eq!(Services::of(&s, true), Services::Edge(Some(ip("203.0.113.11"))));
        s.edge.listen = Some("0.0.0.0:443".into());
        assert_eq!(Services::of(&s, true), Services::Edge(None), "every address: the proxy's is the one");
        s.edge.listen = Some("[2001:db8::1]:443".into());
        assert_eq!(Services::of(&s, true), Services::Edge(Some(ip("2001:db8::1"))));
    }

    #[tokio::test]
    async fn a_name_under_a_domain_nobody_holds_is_reported_missing() {
        // `.invalid` never resolves (RFC 6761): the probe must say the record is missing.
        let note = wildcard_note("acme.invalid", None).await.unwrap();
        assert!(note.contains("*.acme.invalid"), "{note}");
    }
}
