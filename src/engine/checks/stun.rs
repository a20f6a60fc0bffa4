//! A minimal STUN client (RFC 5389 Binding Request) to prove a customer's public UDP port answers.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::net::UdpSocket;

const MAGIC: u32 = 0x2112_A442;
const BINDING_REQUEST: u16 = 0x0001;
const BINDING_SUCCESS: u16 = 0x0101;
const XOR_MAPPED_ADDRESS: u16 = 0x0020;

/// Why an answer is not the Binding Success asked for, or why none came.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StunError {
    /// The bytes are not a Binding Success to this request.
    #[error("{0}")]
    Malformed(String),
    /// Nothing (usable) came back after every try.
    #[error("STUN to {server}: {last}")]
    NoAnswer {
        /// Where the requests went.
        server: SocketAddr,
        /// What the last try saw.
        last: String,
    },
    /// This machine could not send.
    #[error("{0}")]
    Local(String),
}

/// A Binding Request with transaction id `txid`.
pub fn binding_request(txid: [u8; 12]) -> [u8; 20] {
    let mut m = [0u8; 20];
    m[0..2].copy_from_slice(&BINDING_REQUEST.to_be_bytes());
    // Length 0: no attributes.
    m[4..8].copy_from_slice(&MAGIC.to_be_bytes());
    m[8..20].copy_from_slice(&txid);
    m
}

/// The XOR-MAPPED-ADDRESS of a Binding Success Response to `txid`.
pub fn parse_binding_success(msg: &[u8], txid: [u8; 12]) -> Result<SocketAddr, StunError> {
    parse(msg, txid).map_err(StunError::Malformed)
}

fn parse(msg: &[u8], txid: [u8; 12]) -> Result<SocketAddr, String> {
    if msg.len() < 20 {
        return Err("answer shorter than a STUN header".into());
    }
    let kind = u16::from_be_bytes([msg[0], msg[1]]);
    if kind != BINDING_SUCCESS {
        return Err(format!("answer is STUN message type {kind:#06x}, not a Binding Success"));
    }
    if msg[4..8] != MAGIC.to_be_bytes() || msg[8..20] != txid {
        return Err("answer belongs to another transaction".into());
    }
    let len = usize::from(u16::from_be_bytes([msg[2], msg[3]]));
    let body = msg.get(20..20 + len).ok_or("answer is truncated")?;
    let mut i = 0;
    while i + 4 <= body.len() {
        let attr = u16::from_be_bytes([body[i], body[i + 1]]);
        let alen = usize::from(u16::from_be_bytes([body[i + 2], body[i + 3]]));
        let value = body.get(i + 4..i + 4 + alen).ok_or("attribute is truncated")?;
        if attr == XOR_MAPPED_ADDRESS && value.len() >= 8 {
            let port = u16::from_be_bytes([value[2], value[3]]) ^ (MAGIC >> 16) as u16;
            let ip = match value[1] {
                1 => {
                    let m = MAGIC.to_be_bytes();
                    IpAddr::V4(Ipv4Addr::new(value[4] ^ m[0], value[5] ^ m[1], value[6] ^ m[2], value[7] ^ m[3]))
                }
                2 if value.len() >= 20 => {
                    let mut mask = [0u8; 16];
                    mask[..4].copy_from_slice(&MAGIC.to_be_bytes());
                    mask[4..].copy_from_slice(&txid);
                    let mut o = [0u8; 16];
                    for (k, b) in o.iter_mut().enumerate() {
                        *b = value[4 + k] ^ mask[k];
                    }
                    IpAddr::V6(Ipv6Addr::from(o))
                }
                f => return Err(format!("unknown address family {f}")),
            };
            return Ok(SocketAddr::new(ip, port));
        }
        // Attributes are padded to 4 bytes.
        i += 4 + alen.div_ceil(4) * 4;
    }
    Err("Binding Success without XOR-MAPPED-ADDRESS".into())
}

/// Sends Binding Requests to `server` (3 tries within `timeout`) and returns the mapped address.
pub async fn probe(server: SocketAddr, timeout: Duration) -> Result<SocketAddr, StunError> {
    let bind: SocketAddr =
        if server.is_ipv4() { (Ipv4Addr::UNSPECIFIED, 0).into() } else { (Ipv6Addr::UNSPECIFIED, 0).into() };
    let local = |what: String| StunError::Local(what);
    let sock = UdpSocket::bind(bind).await.map_err(|e| local(format!("cannot open a UDP socket: {e}")))?;
    let txid = crate::store::crypto::random_bytes::<12>().map_err(|e| local(e.to_string()))?;
    let req = binding_request(txid);
    let per_try = timeout / 3;
    let mut buf = [0u8; 1024];
    let mut last = String::from("no answer");
    for _ in 0..3 {
        sock.send_to(&req, server).await.map_err(|e| local(format!("cannot send to {server}: {e}")))?;
        match tokio::time::timeout(per_try, sock.recv_from(&mut buf)).await {
            Ok(Ok((n, _))) => match parse(&buf[..n], txid) {
                Ok(addr) => return Ok(addr),
                Err(e) => last = e,
            },
            Ok(Err(e)) => last = e.to_string(),
            Err(_) => last = format!("no answer within {} ms", per_try.as_millis()),
        }
    }
    Err(StunError::NoAnswer { server, last })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn success(txid: [u8; 12], addr: SocketAddr) -> Vec<u8> {
        let mut m = vec![0x01, 0x01, 0, 12];
        m.extend_from_slice(&MAGIC.to_be_bytes());
        m.extend_from_slice(&txid);
        m.extend_from_slice(&[0x00, 0x20, 0, 8, 0, 1]);
        m.extend_from_slice(&(addr.port() ^ 0x2112).to_be_bytes());
        let IpAddr::V4(ip) = addr.ip() else { unreachable!() };
        m.extend(ip.octets().iter().zip(MAGIC.to_be_bytes()).map(|(a, b)| a ^ b));
        m
    }

    #[test]
    fn decodes_xor_mapped_address() {
        let txid = [7; 12];
        let addr: SocketAddr = "203.0.113.7:54321".parse().unwrap();
        assert_eq!(parse_binding_success(&success(txid, addr), txid), Ok(addr));
        assert!(parse_binding_success(&success(txid, addr), [8; 12]).is_err(), "wrong transaction");
        assert!(parse_binding_success(&success(txid, addr)[..24], txid).is_err(), "truncated");
        assert_eq!(binding_request(txid)[0..2], [0, 1]);
    }
}
