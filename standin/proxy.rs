//! `netbirdio/reverse-proxy` (`proxy/cmd/proxy/cmd/root.go`, `proxy/server.go`), where nbmsp
//! and its tests look: the environment is validated as `runServer` does (the token is required
//! and comes only from `NB_PROXY_TOKEN`; `--forwarded-proto` is auto|http|https; the domain must
//! be a valid one; trusted proxies parse as IPs or CIDRs), the proxy registers its cluster
//! address with management and heartbeats, and its TCP listener, with `NB_PROXY_PROXY_PROTOCOL`,
//! *requires* a PROXY header (v1 or v2) from a trusted proxy and ignores one from anyone else
//! (`wrapProxyProtocol`, `proxyProtocolPolicy`, 5 s to read it).
//!
//! Not modelled: TLS and the services behind it. After the header the stand-in reads the TLS
//! ClientHello and answers in plain text, `standin-proxy <its domain>: <name asked for> from
//! <visitor>`, so a test can see where the edge sent a visitor and with which address.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, TcpListener, TcpStream};
use std::time::Duration;
use std::{env, thread};

use crate::log;

fn env_or(key: &str, default: &str) -> String {
    env::var(key).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_string())
}

/// An IP or CIDR list as `trustedproxy.Parse` takes it (comma-separated, blanks ignored).
fn trusted(list: &str) -> Result<Vec<(IpAddr, u8)>, String> {
    let mut out = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (ip, bits) = match item.split_once('/') {
            Some((ip, bits)) => (ip, Some(bits)),
            None => (item, None),
        };
        let ip: IpAddr = ip.parse().map_err(|_| format!("invalid IP address or CIDR {item:?}"))?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let bits = match bits {
            None => max,
            Some(b) => b.parse::<u8>().ok().filter(|b| *b <= max).ok_or(format!("invalid CIDR {item:?}"))?,
        };
        out.push((ip, bits));
    }
    Ok(out)
}

fn contains(list: &[(IpAddr, u8)], ip: IpAddr) -> bool {
    list.iter().any(|(net, bits)| match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let mask = if *bits == 0 { 0 } else { u32::MAX << (32 - u32::from(*bits)) };
            u32::from(*n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let mask = if *bits == 0 { 0 } else { u128::MAX << (128 - u32::from(*bits)) };
            u128::from(*n) & mask == u128::from(a) & mask
        }
        _ => false,
    })
}

pub fn run() -> Result<(), String> {
    let token = env::var("NB_PROXY_TOKEN").unwrap_or_default();
    if token.is_empty() {
        return Err("proxy token is required: set NB_PROXY_TOKEN environment variable".into());
    }
    let proto = env_or("NB_PROXY_FORWARDED_PROTO", "auto");
    if !["auto", "http", "https"].contains(&proto.as_str()) {
        return Err(format!("invalid --forwarded-proto value {proto:?}: must be auto, http, or https"));
    }
    let domain = env_or("NB_PROXY_DOMAIN", "");
    if !crate::valid_domain(&domain) {
        return Err(format!("invalid domain value {domain:?}: invalid domain format: {domain}"));
    }
    let trusted = trusted(&env_or("NB_PROXY_TRUSTED_PROXIES", "")).map_err(|e| format!("invalid --trusted-proxies: {e}"))?;
    let proxy_protocol = env_or("NB_PROXY_PROXY_PROTOCOL", "false") == "true";
    let addr = env_or("NB_PROXY_ADDRESS", ":443");
    let mgmt = env_or("NB_PROXY_MANAGEMENT_ADDRESS", "https://api.netbird.io:443");
    let port = crate::port_of(&addr)?;
    let listener = TcpListener::bind(("0.0.0.0", port)).map_err(|e| format!("listen {addr}: {e}"))?;
    if proxy_protocol && trusted.is_empty() {
        log("proxy", "WARN", "PROXY protocol enabled without trusted proxies; any source may send PROXY headers");
    }
    log("proxy", "INFO", &format!("reverse proxy listening on {addr}, cluster {domain}"));
    let proxy_id = format!("standin-{}", crate::fnv(format!("{domain}{}", std::process::id()).as_bytes()));
    let cluster = domain.clone();
    crate::GRACEFUL.store(true, std::sync::atomic::Ordering::Relaxed);
    thread::spawn(move || register(&mgmt, &token, &proxy_id, &domain));
    for conn in listener.incoming() {
        let Ok(conn) = conn else { continue };
        let trusted = trusted.clone();
        let cluster = cluster.clone();
        thread::spawn(move || {
            if let Err(e) = serve(conn, proxy_protocol, &trusted, &cluster) {
                log("proxy", "DEBUG", &format!("connection: {e}"));
            }
        });
    }
    Ok(())
}

/// Registers and heartbeats every 2 s; a refused token is logged and tried again (upstream
/// reconnects with backoff). On SIGTERM the stream closes: management hears it at once
/// (`connected: false`), then the process ends.
fn register(mgmt: &str, token: &str, proxy_id: &str, domain: &str) {
    let host = mgmt.trim_start_matches("http://").trim_start_matches("https://").trim_end_matches('/').to_string();
    let host = if host.contains(':') { host } else { format!("{host}:80") };
    let body = format!(
        r#"{{"token":{},"proxy_id":{},"address":{},"connected":true}}"#,
        crate::json::Json::quote(token),
        crate::json::Json::quote(proxy_id),
        crate::json::Json::quote(domain)
    );
    let mut registered = false;
    loop {
        let status = post(&host, "/management.ProxyService/StandinHeartbeat", &body);
        match status {
            Ok(200) if !registered => {
                registered = true;
                log("proxy", "INFO", &format!("registered with management at {mgmt} as cluster {domain}"));
            }
            Ok(200) => {}
            Ok(code) => {
                registered = false;
                log("proxy", "ERROR", &format!("management refused the proxy token ({code})"));
            }
            Err(e) => {
                registered = false;
                log("proxy", "WARN", &format!("management at {mgmt} unreachable: {e}"));
            }
        }
        for _ in 0..20 {
            if crate::STOPPING.load(std::sync::atomic::Ordering::Relaxed) {
                let bye = body.replace(r#""connected":true"#, r#""connected":false"#);
                let _ = post(&host, "/management.ProxyService/StandinHeartbeat", &bye);
                log("proxy", "INFO", "stopping: stream to management closed");
                std::process::exit(0);
            }
            thread::sleep(Duration::from_millis(100));
        }
    }
}

fn post(host: &str, path: &str, body: &str) -> Result<u16, String> {
    let addr = crate::dns::resolve(host)?;
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(5))).map_err(|e| e.to_string())?;
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .map_err(|e| e.to_string())?;
    let mut line = String::new();
    BufReader::new(s).read_line(&mut line).map_err(|e| e.to_string())?;
    line.split_whitespace().nth(1).and_then(|c| c.parse().ok()).ok_or(format!("bad answer {line:?}"))
}

const V2_SIGNATURE: [u8; 12] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

/// One visitor: the PROXY header as the policy says, then the ClientHello's name.
fn serve(mut conn: TcpStream, proxy_protocol: bool, trusted: &[(IpAddr, u8)], cluster: &str) -> Result<(), String> {
    conn.set_read_timeout(Some(Duration::from_secs(5))).map_err(|e| e.to_string())?;
    let peer = conn.peer_addr().map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(conn.try_clone().map_err(|e| e.to_string())?);
    let mut visitor = peer.ip().to_string();
    if proxy_protocol {
        let from_trusted = trusted.is_empty() || contains(trusted, peer.ip());
        let head = reader.fill_buf().map_err(|e| format!("no PROXY header within 5 s: {e}"))?.to_vec();
        let has_v1 = head.starts_with(b"PROXY ");
        let has_v2 = head.starts_with(&V2_SIGNATURE);
        if from_trusted && !trusted.is_empty() && !has_v1 && !has_v2 {
            return Err(format!("{peer}: PROXY header required from a trusted proxy"));
        }
        if has_v1 {
            let mut line = String::new();
            reader.read_line(&mut line).map_err(|e| e.to_string())?;
            if from_trusted {
                visitor = line.split_whitespace().nth(2).ok_or(format!("{peer}: malformed PROXY header {line:?}"))?.to_string();
            }
        } else if has_v2 {
            let mut fixed = [0u8; 16];
            reader.read_exact(&mut fixed).map_err(|e| e.to_string())?;
            let len = usize::from(u16::from_be_bytes([fixed[14], fixed[15]]));
            let mut rest = vec![0u8; len];
            reader.read_exact(&mut rest).map_err(|e| e.to_string())?;
            if from_trusted && fixed[13] >> 4 == 1 && rest.len() >= 4 {
                visitor = IpAddr::from([rest[0], rest[1], rest[2], rest[3]]).to_string();
            }
        }
    }
    let mut hello = [0u8; 2048];
    let n = reader.read(&mut hello).map_err(|e| e.to_string())?;
    let name = sni(&hello[..n]).unwrap_or_default();
    writeln!(conn, "standin-proxy {cluster}: {name} from {visitor}").map_err(|e| e.to_string())
}

/// The server name of a TLS ClientHello (record → handshake → extensions → server_name).
fn sni(b: &[u8]) -> Option<String> {
    let get = |i: usize| b.get(i).copied().map(usize::from);
    let mut i = 5 + 4 + 2 + 32; // record header, handshake header, version, random
    i += 1 + get(i)?; // session id
    i += 2 + (get(i)? << 8 | get(i + 1)?); // cipher suites
    i += 1 + get(i)?; // compression methods
    let end = i + 2 + (get(i)? << 8 | get(i + 1)?);
    i += 2;
    while i + 4 <= end.min(b.len()) {
        let (kind, len) = (get(i)? << 8 | get(i + 1)?, get(i + 2)? << 8 | get(i + 3)?);
        if kind == 0 {
            let name_len = get(i + 7)? << 8 | get(i + 8)?;
            return b.get(i + 9..i + 9 + name_len).map(|n| String::from_utf8_lossy(n).into_owned());
        }
        i += 4 + len;
    }
    None
}
