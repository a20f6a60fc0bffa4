//! STUN (RFC 5389): Binding Request -> Binding Success Response with XOR-MAPPED-ADDRESS,
//! as `stun/server.go` upstream answers on each configured UDP port.

use std::net::UdpSocket;
use std::thread;
use std::time::Instant;

use crate::{REQUESTS, log};

const MAGIC: u32 = 0x2112_A442;

/// Binds UDP `port` now (as upstream creates its STUN listeners before anything else) and answers
/// Binding Requests from `serve_from` on: requests that arrive earlier wait in the socket.
pub fn stun(port: u16, serve_from: Instant) -> Result<(), String> {
    let sock = UdpSocket::bind(("0.0.0.0", port)).map_err(|e| format!("failed to create STUN listener on port {port}: listen udp :{port}: {e}"))?;
    thread::spawn(move || {
        thread::sleep(serve_from.saturating_duration_since(Instant::now()));
        log("stun", "INFO", &format!("STUN server listening on UDP port {port}"));
        let mut buf = [0u8; 1500];
        while let Ok((n, from)) = sock.recv_from(&mut buf) {
            if n < 20 || buf[0..2] != [0x00, 0x01] || buf[4..8] != MAGIC.to_be_bytes() {
                continue;
            }
            let mut resp = Vec::with_capacity(32);
            resp.extend_from_slice(&[0x01, 0x01]);
            let (family, addr): (u8, Vec<u8>) = match from.ip() {
                std::net::IpAddr::V4(ip) => (1, ip.octets().iter().zip(MAGIC.to_be_bytes()).map(|(a, m)| a ^ m).collect()),
                std::net::IpAddr::V6(ip) => {
                    let mut mask = MAGIC.to_be_bytes().to_vec();
                    mask.extend_from_slice(&buf[8..20]);
                    (2, ip.octets().iter().zip(mask).map(|(a, m)| a ^ m).collect())
                }
            };
            let attr_len = 4 + addr.len() as u16;
            resp.extend_from_slice(&(4 + attr_len).to_be_bytes());
            resp.extend_from_slice(&buf[4..20]);
            resp.extend_from_slice(&0x0020u16.to_be_bytes());
            resp.extend_from_slice(&attr_len.to_be_bytes());
            resp.extend_from_slice(&[0, family]);
            resp.extend_from_slice(&(from.port() ^ (MAGIC >> 16) as u16).to_be_bytes());
            resp.extend_from_slice(&addr);
            let _ = sock.send_to(&resp, from);
            REQUESTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    });
    Ok(())
}
