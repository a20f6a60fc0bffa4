//! Name lookup for a static binary in a FROM-scratch image: glibc's `getaddrinfo` needs its NSS
//! libraries at run time, which the image does not have. Docker answers container names on the
//! resolver in `/etc/resolv.conf` (127.0.0.11); one A query over UDP is all the stand-ins need.

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::time::Duration;

/// `host:port` to an address: a literal IP, `/etc/hosts`, then the resolver.
pub fn resolve(host_port: &str) -> Result<SocketAddr, String> {
    let (host, port) = host_port.rsplit_once(':').ok_or(format!("{host_port:?} has no port"))?;
    let port: u16 = port.parse().map_err(|_| format!("bad port in {host_port:?}"))?;
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return Ok(SocketAddr::from((ip, port)));
    }
    let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    for line in hosts.lines() {
        let mut f = line.split_whitespace();
        if let Some(Ok(ip)) = f.next().map(str::parse::<Ipv4Addr>) {
            if f.any(|n| n == host) {
                return Ok(SocketAddr::from((ip, port)));
            }
        }
    }
    let conf = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let server = conf
        .lines()
        .find_map(|l| l.strip_prefix("nameserver").map(str::trim))
        .and_then(|s| s.parse::<Ipv4Addr>().ok())
        .ok_or("no IPv4 nameserver in /etc/resolv.conf")?;
    let ip = query(server, host).ok_or(format!("cannot resolve {host}"))?;
    Ok(SocketAddr::from((ip, port)))
}

fn query(server: Ipv4Addr, host: &str) -> Option<Ipv4Addr> {
    let sock = UdpSocket::bind("0.0.0.0:0").ok()?;
    sock.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let id = (std::process::id() & 0xffff) as u16;
    let mut q = Vec::new();
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]); // recursion desired, one question
    for label in host.trim_end_matches('.').split('.') {
        q.push(u8::try_from(label.len()).ok()?);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, 1, 0, 1]); // root, type A, class IN
    sock.send_to(&q, (server, 53)).ok()?;
    let mut buf = [0u8; 512];
    let n = sock.recv(&mut buf).ok()?;
    let b = &buf[..n];
    let answers = u16::from_be_bytes([*b.get(6)?, *b.get(7)?]);
    let mut i = q.len(); // the question is echoed back
    for _ in 0..answers {
        // A name is a pointer (two bytes) or labels ending in zero.
        if *b.get(i)? & 0xc0 == 0xc0 {
            i += 2;
        } else {
            while *b.get(i)? != 0 {
                i += 1 + usize::from(*b.get(i)?);
            }
            i += 1;
        }
        let kind = u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?]);
        let len = usize::from(u16::from_be_bytes([*b.get(i + 8)?, *b.get(i + 9)?]));
        if kind == 1 && len == 4 {
            return Some(Ipv4Addr::new(*b.get(i + 10)?, *b.get(i + 11)?, *b.get(i + 12)?, *b.get(i + 13)?));
        }
        i += 10 + len;
    }
    None
}
