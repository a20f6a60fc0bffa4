//! HTTP/1.1, just enough for the stand-in: one request per connection, and the server half of a
//! WebSocket opening handshake (RFC 6455 section 4.2.2), because NetBird's relay and its gRPC
//! WebSocket proxies answer `101 Switching Protocols` where an engine looks for them.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crate::{REQUESTS, log};

/// One parsed request.
pub struct Request {
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// The query (after `?`, not decoded; empty when none).
    pub query: String,
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

impl Request {
    /// The first value of query parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.split('&').filter_map(|kv| kv.split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// A WebSocket opening request: `Connection: Upgrade`, `Upgrade: websocket` and a key.
    pub fn websocket_key(&self) -> Option<&str> {
        let has = |h: &str, token: &str| {
            self.header(h).is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        };
        if has("connection", "upgrade") && has("upgrade", "websocket") {
            self.header("sec-websocket-key")
        } else {
            None
        }
    }
}

/// What a handler answers.
pub enum Response {
    Body { status: u16, ctype: &'static str, body: String },
    /// Accept the WebSocket (101 with the computed accept key); the connection is then closed.
    Upgrade { key: String },
}

pub fn json(status: u16, body: &str) -> Response {
    Response::Body { status, ctype: "application/json", body: body.to_string() }
}

/// NetBird's error body (`shared/management/http/util/util.go`, `WriteErrorResponse`).
pub fn error(status: u16, message: &str) -> Response {
    json(status, &format!(r#"{{"message":{},"code":{status}}}"#, crate::json::Json::quote(message)))
}

/// Answers a path that must be a WebSocket: 101 for a proper opening request, 426 otherwise
/// (what `coder/websocket`'s Accept does for a plain GET).
pub fn websocket(req: &Request) -> Response {
    match req.websocket_key() {
        Some(key) => Response::Upgrade { key: key.to_string() },
        None => Response::Body { status: 426, ctype: "text/plain", body: "WebSocket protocol violation\n".into() },
    }
}

pub type Handler = Arc<dyn Fn(&Request) -> Response + Send + Sync>;

/// Binds `port` now and serves it on a thread.
pub fn serve(port: u16, role: &'static str, handler: Handler) -> Result<(), String> {
    let listener = TcpListener::bind(("0.0.0.0", port)).map_err(|e| format!("cannot listen on tcp {port}: {e}"))?;
    log(role, "INFO", &format!("listening on tcp :{port}"));
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let handler = handler.clone();
            thread::spawn(move || {
                let _ = handle(stream, role, &handler);
            });
        }
    });
    Ok(())
}

fn handle(stream: TcpStream, role: &str, handler: &Handler) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("/").to_string();
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let len = headers.get("content-length").and_then(|l| l.parse::<usize>().ok()).unwrap_or(0).min(1 << 20);
    let mut body = vec![0; len];
    reader.read_exact(&mut body)?;
    let (path, query) = target.split_once('?').unwrap_or((target.as_str(), ""));
    let (path, query) = (path.to_string(), query.to_string());
    let req = Request { method, path, query, headers, body: String::from_utf8_lossy(&body).into_owned() };
    REQUESTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut out = stream;
    match handler(&req) {
        Response::Body { status, ctype, body } => {
            log(role, "INFO", &format!("{} {} {status}", req.method, req.path));
            write!(
                out,
                "HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )?;
        }
        Response::Upgrade { key } => {
            log(role, "INFO", &format!("{} {} 101 (websocket)", req.method, req.path));
            write!(
                out,
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
                accept_key(&key)
            )?;
        }
    }
    out.flush()
}

/// `base64(sha1(key + GUID))`, RFC 6455 section 4.2.2.
pub fn accept_key(key: &str) -> String {
    let digest = sha1(format!("{key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11").as_bytes());
    base64(&digest)
}

fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for chunk in msg.chunks(64) {
        let mut w = [0u32; 80];
        for i in 0..16 {
            w[i] = u32::from_be_bytes([chunk[4 * i], chunk[4 * i + 1], chunk[4 * i + 2], chunk[4 * i + 3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A827999),
                20..=39 => (b ^ c ^ d, 0x6ED9EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1BBCDC),
                _ => (b ^ c ^ d, 0xCA62C1D6),
            };
            let t = a.rotate_left(5).wrapping_add(f).wrapping_add(e).wrapping_add(k).wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 20];
    for (i, v) in h.iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&v.to_be_bytes());
    }
    out
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16) | (u32::from(*c.get(1).unwrap_or(&0)) << 8) | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
