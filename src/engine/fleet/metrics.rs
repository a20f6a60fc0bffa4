//! `nbmsp monitor --metrics ADDR`: the fleet in Prometheus' text format (version 0.0.4).
//!
//! The monitor hands a [`Snapshot`] to the listener after every round (a watch channel: no
//! lock shared with the round); a scrape renders the newest one, with ages computed at the
//! scrape. Label values are subdomains and host names only — never text a person typed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::domain::sla::Served;
use crate::engine::EngineError;

/// One customer as the last round saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerFacts {
    /// Its subdomain (a DNS label: safe as a label value).
    pub subdomain: String,
    /// Its host's name ([`crate::domain::host::LOCAL`] for this machine's engine).
    pub host: String,
    /// Its state (`None`: an operation holds it).
    pub state: Option<Served>,
    /// The kind of condition that decided it (`down`, `health`, `stun`…).
    pub condition: Option<String>,
    /// Devices connected at the last count.
    pub online: Option<u32>,
    /// Devices registered at the last count.
    pub devices: Option<u32>,
    /// When its owner's access token expires (unix seconds).
    pub token_expires: Option<i64>,
    /// When its HTTPS certificate in the proxy expires (unix seconds; none without one).
    pub certificate_expires: Option<i64>,
    /// When its last backup was written (unix seconds).
    pub last_backup: Option<i64>,
    /// When its last health probe ran (unix seconds).
    pub last_check: Option<i64>,
}

/// One Docker host.
#[derive(Debug, Clone, PartialEq)]
pub struct HostFacts {
    /// Its name ([`crate::domain::host::LOCAL`] for this machine's engine).
    pub name: String,
    /// Its engine answered the last round.
    pub up: bool,
    /// Public UDP ports its customers use.
    pub ports_used: u32,
    /// Ports of the range still free.
    pub ports_free: u32,
    /// Percent of the data disk used (this machine's each round, a remote host's hourly).
    pub disk_percent: Option<f64>,
}

/// What one round hands the listener.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// Unix seconds of the round.
    pub at: i64,
    /// How long it took.
    pub round_ms: u64,
    /// Its customers, in subdomain order.
    pub customers: Vec<CustomerFacts>,
    /// Its hosts.
    pub hosts: Vec<HostFacts>,
}

/// Escapes a label value the way the text format requires.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// The snapshot in the text exposition format, ages as of `now` (unix seconds).
pub fn render(s: &Snapshot, now: i64) -> String {
    let mut out = String::with_capacity(256 + s.customers.len() * 900);
    let mut family = |name: &str, help: &str, samples: Vec<(String, f64)>| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for (labels, v) in samples {
            let _ = writeln!(out, "{name}{{{labels}}} {v}");
        }
    };
    let who = |c: &CustomerFacts| format!("subdomain=\"{}\",host=\"{}\"", label(&c.subdomain), label(&c.host));
    let per = |f: &dyn Fn(&CustomerFacts) -> Option<f64>| -> Vec<(String, f64)> {
        s.customers.iter().filter_map(|c| f(c).map(|v| (who(c), v))).collect()
    };
    let states = [Served::Up, Served::Degraded, Served::Down, Served::Unknown, Served::Stopped, Served::Off];
    let mut state_samples = Vec::new();
    for c in &s.customers {
        for st in states {
            let v = if c.state == Some(st) { 1.0 } else { 0.0 };
            state_samples.push((format!("{},state=\"{}\"", who(c), st.as_str()), v));
        }
    }
    family(
        "nbmsp_customer_up",
        "1 when the customer's NetBird serves (up or degraded), 0 when it does not; absent while unknown",
        per(&|c| match c.state {
            Some(Served::Up | Served::Degraded) => Some(1.0),
            Some(Served::Down | Served::Stopped | Served::Off) => Some(0.0),
            _ => None,
        }),
    );
    family(
        "nbmsp_customer_state",
        "The customer's state as the monitor judged it: 1 for the current state, 0 for the others",
        state_samples,
    );
    family(
        "nbmsp_customer_condition",
        "1 for the kind of condition behind a degraded or down state",
        s.customers
            .iter()
            .filter_map(|c| c.condition.as_ref().map(|k| (format!("{},condition=\"{}\"", who(c), label(k)), 1.0)))
            .collect(),
    );
    family("nbmsp_customer_devices_online", "Devices connected at the last count", per(&|c| c.online.map(f64::from)));
    family("nbmsp_customer_devices", "Devices registered at the last count", per(&|c| c.devices.map(f64::from)));
    family(
        "nbmsp_customer_owner_token_expiry_timestamp_seconds",
        "When the owner's NetBird access token that nbmsp uses expires",
        per(&|c| c.token_expires.map(|t| t as f64)),
    );
    family(
        "nbmsp_customer_certificate_expiry_timestamp_seconds",
        "When the customer's HTTPS certificate in the proxy expires (read from the proxy hourly)",
        per(&|c| c.certificate_expires.map(|t| t as f64)),
    );
    family(
        "nbmsp_customer_last_backup_age_seconds",
        "Seconds since the customer's last backup",
        per(&|c| c.last_backup.map(|t| (now - t).max(0) as f64)),
    );
    family(
        "nbmsp_customer_last_check_age_seconds",
        "Seconds since the customer's last health probe",
        per(&|c| c.last_check.map(|t| (now - t).max(0) as f64)),
    );
    let host = |h: &HostFacts| format!("host=\"{}\"", label(&h.name));
    family(
        "nbmsp_host_up",
        "1 when the host's Docker engine answered the last round",
        s.hosts.iter().map(|h| (host(h), if h.up { 1.0 } else { 0.0 })).collect(),
    );
    family(
        "nbmsp_host_disk_used_ratio",
        "Share of the data disk that holds customer data used, per host",
        s.hosts.iter().filter_map(|h| h.disk_percent.map(|p| (host(h), p / 100.0))).collect(),
    );
    family(
        "nbmsp_host_udp_ports_used",
        "Public UDP ports of the range in use on the host",
        s.hosts.iter().map(|h| (host(h), f64::from(h.ports_used))).collect(),
    );
    family(
        "nbmsp_host_udp_ports_free",
        "Public UDP ports of the range still free on the host",
        s.hosts.iter().map(|h| (host(h), f64::from(h.ports_free))).collect(),
    );
    let round = s.round_ms as f64 / 1000.0;
    let _ = writeln!(
        out,
        "# HELP nbmsp_monitor_round_duration_seconds How long the monitor's last round took\n\
         # TYPE nbmsp_monitor_round_duration_seconds gauge\nnbmsp_monitor_round_duration_seconds {round}\n\
         # HELP nbmsp_monitor_last_round_timestamp_seconds When the monitor's last round ran\n\
         # TYPE nbmsp_monitor_last_round_timestamp_seconds gauge\nnbmsp_monitor_last_round_timestamp_seconds {}",
        s.at
    );
    out
}

/// Where `--metrics` listens: `PORT` alone is loopback; anything else is taken as written.
pub fn parse_addr(s: &str) -> Result<std::net::SocketAddr, crate::domain::ValidationError> {
    if let Ok(port) = s.parse::<u16>() {
        return Ok(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
    }
    s.parse().map_err(|_| {
        crate::domain::ValidationError::new(
            "metrics",
            format!("{s:?} is not an address: give PORT (loopback) or IP:PORT, e.g. 127.0.0.1:9464"),
        )
    })
}

/// Binds the listener (so a taken port is an error before the monitor starts).
pub async fn bind(addr: std::net::SocketAddr) -> Result<TcpListener, EngineError> {
    TcpListener::bind(addr).await.map_err(|e| EngineError::Usage(format!("cannot listen on {addr} for metrics: {e}")))
}

/// Serves `GET /metrics` from the newest snapshot until the channel closes.
pub async fn serve(listener: TcpListener, snapshots: watch::Receiver<Arc<Snapshot>>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let snap = snapshots.borrow().clone();
        if snapshots.has_changed().is_err() {
            return;
        }
        tokio::spawn(async move {
            if let Err(e) = answer(stream, &snap).await {
                tracing::debug!("metrics scrape: {e}");
            }
        });
    }
}

/// One request: its head only (bodies are not read), one answer, then the connection closes.
async fn answer(mut stream: TcpStream, snap: &Snapshot) -> std::io::Result<()> {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 512];
    let read = async {
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 8192 {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        Ok::<_, std::io::Error>(())
    };
    // A client that never finishes its request is dropped, not waited for.
    if tokio::time::timeout(Duration::from_secs(5), read).await.is_err() {
        return Ok(());
    }
    let line = String::from_utf8_lossy(&head);
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    let (status, kind, body) = match (method, path) {
        ("GET" | "HEAD", "/metrics") => {
            let now = crate::store::now().unix_timestamp();
            ("200 OK", "text/plain; version=0.0.4; charset=utf-8", render(snap, now))
        }
        ("GET" | "HEAD", _) => ("404 Not Found", "text/plain", "not found: scrape /metrics\n".to_string()),
        _ => ("405 Method Not Allowed", "text/plain", "only GET\n".to_string()),
    };
    let mut reply = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if method != "HEAD" {
        reply.push_str(&body);
    }
    stream.write_all(reply.as_bytes()).await?;
    stream.shutdown().await
}

/// Hosts by name from the round's customers and engines.
pub fn hosts(
    names: &[(String, bool)],
    customers: &[(String, Option<u16>)],
    port_count: u16,
    disks: &std::collections::HashMap<String, f64>,
) -> Vec<HostFacts> {
    let mut used: BTreeMap<&str, u32> = BTreeMap::new();
    for (host, port) in customers {
        if port.is_some() {
            *used.entry(host.as_str()).or_default() += 1;
        }
    }
    names
        .iter()
        .map(|(name, up)| {
            let n = used.get(name.as_str()).copied().unwrap_or(0);
            HostFacts {
                name: name.clone(),
                up: *up,
                ports_used: n,
                ports_free: u32::from(port_count).saturating_sub(n),
                disk_percent: disks.get(name).copied(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped_and_ages_are_computed_at_the_scrape() {
        let s = Snapshot {
            at: 1000,
            round_ms: 1500,
            customers: vec![CustomerFacts {
                subdomain: "acme".into(),
                host: "a\"b".into(),
                state: Some(Served::Down),
                condition: Some("down".into()),
                online: Some(3),
                devices: None,
                token_expires: Some(5000),
                certificate_expires: Some(7_776_000),
                last_backup: Some(400),
                last_check: None,
            }],
            hosts: vec![],
        };
        let text = render(&s, 1000);
        assert!(text.contains("nbmsp_customer_up{subdomain=\"acme\",host=\"a\\\"b\"} 0\n"), "{text}");
        assert!(text.contains("nbmsp_customer_state{subdomain=\"acme\",host=\"a\\\"b\",state=\"down\"} 1\n"));
        assert!(text.contains("nbmsp_customer_last_backup_age_seconds{subdomain=\"acme\",host=\"a\\\"b\"} 600\n"));
        assert!(!text.contains("nbmsp_customer_devices{"), "an unknown count is absent, not 0");
        assert!(text.contains(
            "nbmsp_customer_certificate_expiry_timestamp_seconds{subdomain=\"acme\",host=\"a\\\"b\"} 7776000\n"
        ));
        assert!(text.contains("nbmsp_monitor_round_duration_seconds 1.5\n"));
        assert!(render(&s, 1600).contains("last_backup_age_seconds{subdomain=\"acme\",host=\"a\\\"b\"} 1200\n"));
    }

    #[test]
    fn a_port_alone_listens_on_loopback() {
        assert_eq!(parse_addr("9464").unwrap().to_string(), "127.0.0.1:9464");
        assert_eq!(parse_addr("0.0.0.0:9464").unwrap().to_string(), "0.0.0.0:9464");
        assert!(parse_addr("localhost").is_err());
    }
}
