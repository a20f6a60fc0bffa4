//! nbmsp's stand-in for NetBird's container images, for tests on a Docker engine without a
//! registry. One std-only static binary plays each role where nbmsp's engine looks: it reads the
//! config the real image reads (and exits non-zero when it is missing or invalid), serves the
//! health endpoints, answers STUN binding requests, and logs a line every second.
//!
//! Roles (first argument): server, dashboard, management, signal, relay.
//! Built by scripts/standin-images.sh with `rustc -C target-feature=+crt-static`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use std::{env, fs, process, thread};

static REQUESTS: AtomicU64 = AtomicU64::new(0);

extern "C" {
    fn signal(signum: i32, handler: extern "C" fn(i32)) -> usize;
    fn _exit(code: i32) -> !;
}

extern "C" fn on_term(_: i32) {
    // PID 1 ignores SIGTERM unless it installs a handler; without this `docker stop` waits 10 s.
    unsafe { _exit(0) }
}

fn main() {
    unsafe {
        signal(15, on_term);
        signal(2, on_term);
    }
    let args: Vec<String> = env::args().collect();
    let role = args.get(1).cloned().unwrap_or_default();
    let rest = &args[args.len().min(2)..];
    let result = match role.as_str() {
        "server" => server(rest),
        "dashboard" => dashboard(),
        "management" => management(rest),
        "signal" => signal_role(),
        "relay" => relay(),
        other => Err(format!("unknown role {other:?}; expected server, dashboard, management, signal or relay")),
    };
    if let Err(e) = result {
        log(&role, "FATAL", &e);
        process::exit(1);
    }
    // STANDIN_LOG_RATE=N adds N log lines per second (for benchmarks of chatty containers).
    if let Some(rate) = env::var("STANDIN_LOG_RATE").ok().and_then(|r| r.parse::<u64>().ok()).filter(|r| *r > 0) {
        let role = role.clone();
        thread::spawn(move || {
            let mut i = 0u64;
            loop {
                let out = std::io::stdout();
                let mut lock = out.lock();
                for _ in 0..rate / 10 {
                    i += 1;
                    let _ = writeln!(lock, "INFO {role}: relay: new connection from 203.0.113.{} n={i}", i % 250);
                }
                drop(lock);
                thread::sleep(Duration::from_millis(100));
            }
        });
    }
    // Serving threads run forever; the main thread logs a heartbeat.
    let mut n = 0u64;
    loop {
        n += 1;
        log(&role, "INFO", &format!("heartbeat n={n} requests={}", REQUESTS.load(Ordering::Relaxed)));
        thread::sleep(Duration::from_secs(1));
    }
}

fn log(role: &str, level: &str, msg: &str) {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let (h, m, s) = ((secs / 3600) % 24, (secs / 60) % 60, secs % 60);
    println!("{h:02}:{m:02}:{s:02} {level} {role}: {msg}");
}

fn arg_value(args: &[String], flag: &str) -> Option<String> {
    let eq = format!("{flag}=");
    args.iter().enumerate().find_map(|(i, a)| {
        if a == flag {
            args.get(i + 1).cloned()
        } else {
            a.strip_prefix(&eq).map(str::to_string)
        }
    })
}

fn port_of(addr: &str) -> Result<u16, String> {
    addr.rsplit(':').next().and_then(|p| p.parse().ok()).ok_or(format!("bad listen address {addr:?}"))
}

fn env_required(key: &str) -> Result<String, String> {
    env::var(key).ok().filter(|v| !v.is_empty()).ok_or(format!("environment variable {key} is missing or empty"))
}

// ---------------------------------------------------------------------------------------------
// Roles

fn server(args: &[String]) -> Result<(), String> {
    let path = arg_value(args, "--config").unwrap_or_else(|| "/etc/netbird/config.yaml".into());
    let text = fs::read_to_string(&path).map_err(|e| format!("cannot read config {path}: {e}"))?;
    let cfg = yaml_scalars(&text);
    let get = |k: &str| cfg.get(k).cloned().filter(|v| !v.is_empty()).ok_or(format!("config {path}: {k} is required"));
    let exposed = get("server.exposedAddress")?;
    if !exposed.starts_with("https://") {
        return Err(format!("config {path}: exposedAddress must be https://host:port, got {exposed:?}"));
    }
    get("server.authSecret")?;
    let key = get("server.store.encryptionKey")?;
    if key.len() != 44 || !key.ends_with('=') {
        return Err("store.encryptionKey must be base64 of 32 bytes".into());
    }
    let data_dir = get("server.dataDir")?;
    let listen = cfg.get("server.listenAddress").cloned().unwrap_or(":80".into());
    let health = cfg.get("server.healthcheckAddress").cloned().unwrap_or(":9000".into());
    let stun_ports = yaml_int_list(&text, "stunPorts");
    if stun_ports.is_empty() {
        return Err(format!("config {path}: stunPorts must list at least one port"));
    }
    check_data_key(&data_dir, &key)?;
    log("server", "INFO", &format!("exposed at {exposed}, STUN on {stun_ports:?}, data in {data_dir}"));
    let state = Arc::new(Mutex::new(ApiState::load(&data_dir)));
    for p in stun_ports {
        stun(p)?;
    }
    serve(port_of(&health)?, "server", Arc::new(|_req: &Request| Some(json(200, r#"{"status":"ok"}"#))))?;
    serve(port_of(&listen)?, "server", Arc::new(move |req: &Request| Some(netbird_api(&state, req))))?;
    Ok(())
}

fn dashboard() -> Result<(), String> {
    let api = env_required("NETBIRD_MGMT_API_ENDPOINT")?;
    env_required("AUTH_AUTHORITY")?;
    log("dashboard", "INFO", &format!("management API at {api}"));
    serve(80, "dashboard", Arc::new(|_req: &Request| Some((200, "text/html", "<html><body>NetBird dashboard stand-in</body></html>".into()))))
}

fn management(args: &[String]) -> Result<(), String> {
    let path = arg_value(args, "--config").unwrap_or_else(|| "/etc/netbird/management.json".into());
    let text = fs::read_to_string(&path).map_err(|e| format!("cannot read config {path}: {e}"))?;
    let doc = Json::parse(&text).map_err(|e| format!("config {path} is not valid JSON: {e}"))?;
    let stun_uri = doc.get("Stuns").and_then(|s| s.index(0)).and_then(|s| s.get("URI")).and_then(Json::as_str);
    let stun_uri = stun_uri.filter(|u| u.starts_with("stun:")).ok_or("config: Stuns[0].URI must be stun:host:port")?;
    let key = doc.get("DataStoreEncryptionKey").and_then(Json::as_str).filter(|k| k.len() == 44).ok_or("config: DataStoreEncryptionKey must be base64 of 32 bytes")?;
    doc.get("Relay").and_then(|r| r.get("Secret")).and_then(Json::as_str).filter(|s| !s.is_empty()).ok_or("config: Relay.Secret is required")?;
    let data_dir = doc.get("Datadir").and_then(Json::as_str).filter(|d| !d.is_empty()).unwrap_or("/var/lib/netbird").to_string();
    check_data_key(&data_dir, key)?;
    let port = arg_value(args, "--port").map(|p| p.parse::<u16>().map_err(|_| format!("bad --port {p}"))).transpose()?.unwrap_or(80);
    log("management", "INFO", &format!("advertising {stun_uri}, data in {data_dir}"));
    let state = Arc::new(Mutex::new(ApiState::load(&data_dir)));
    serve(port, "management", Arc::new(move |req: &Request| Some(netbird_api(&state, req))))
}

fn signal_role() -> Result<(), String> {
    serve(80, "signal", Arc::new(|_req: &Request| Some(json(200, r#"{"signal":"ok"}"#))))?;
    serve(10000, "signal", Arc::new(|_req: &Request| Some(json(200, r#"{"signal":"ok"}"#))))
}

fn relay() -> Result<(), String> {
    let listen = env_required("NB_LISTEN_ADDRESS")?;
    let exposed = env_required("NB_EXPOSED_ADDRESS")?;
    if !exposed.starts_with("rels://") && !exposed.starts_with("rel://") {
        return Err(format!("NB_EXPOSED_ADDRESS must be rels://host:port, got {exposed:?}"));
    }
    env_required("NB_AUTH_SECRET")?;
    if env::var("NB_ENABLE_STUN").as_deref() == Ok("true") {
        for p in env_required("NB_STUN_PORTS")?.split(',') {
            stun(p.trim().parse().map_err(|_| format!("bad NB_STUN_PORTS entry {p:?}"))?)?;
        }
    }
    serve(9000, "relay", Arc::new(|_req: &Request| Some(json(200, r#"{"status":"ok","listeners":["ws"]}"#))))?;
    serve(port_of(&listen)?, "relay", Arc::new(|_req: &Request| Some(json(200, r#"{"relay":"ok"}"#))))
}

/// The real servers refuse to start when the store key changed (old data would be unreadable);
/// the stand-in records the key's fingerprint in the data dir and does the same.
fn check_data_key(data_dir: &str, key: &str) -> Result<(), String> {
    fs::create_dir_all(data_dir).map_err(|e| format!("cannot create data dir {data_dir}: {e}"))?;
    let marker = format!("{data_dir}/store-key.fingerprint");
    let fingerprint = format!("{:016x}", fnv(key.as_bytes()));
    match fs::read_to_string(&marker) {
        Ok(old) if old.trim() != fingerprint => Err("the store encryption key changed: existing data cannot be decrypted".into()),
        Ok(_) => Ok(()),
        Err(_) => fs::write(&marker, &fingerprint).map_err(|e| format!("cannot write {marker}: {e}")),
    }?;
    let boots = fs::read_to_string(format!("{data_dir}/boots")).ok().and_then(|s| s.trim().parse::<u64>().ok()).unwrap_or(0);
    fs::write(format!("{data_dir}/boots"), format!("{}\n", boots + 1)).map_err(|e| format!("cannot write to {data_dir}: {e}"))
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100000001b3))
}

// ---------------------------------------------------------------------------------------------
// NetBird management API subset: instance status, one-time setup, peers (token checked).

struct ApiState {
    owner_file: String,
    owner: Option<(String, String)>,
}

impl ApiState {
    fn load(data_dir: &str) -> Self {
        let owner_file = format!("{data_dir}/owner");
        let owner = fs::read_to_string(&owner_file).ok().and_then(|s| {
            let mut l = s.lines();
            Some((l.next()?.to_string(), l.next()?.to_string()))
        });
        ApiState { owner_file, owner }
    }
}

fn netbird_api(state: &Mutex<ApiState>, req: &Request) -> (u16, &'static str, String) {
    let mut st = match state.lock() {
        Ok(s) => s,
        Err(p) => p.into_inner(),
    };
    match (req.method.as_str(), req.path.split('?').next().unwrap_or("")) {
        ("GET", "/api/instance") => json(200, &format!(r#"{{"setup_required":{}}}"#, st.owner.is_none())),
        ("POST", "/api/setup") => {
            if st.owner.is_some() {
                return json(412, r#"{"message":"setup already completed","code":412}"#);
            }
            let Ok(body) = Json::parse(&req.body) else { return json(400, r#"{"message":"invalid JSON","code":400}"#) };
            let email = body.get("email").and_then(Json::as_str).unwrap_or("");
            let password = body.get("password").and_then(Json::as_str).unwrap_or("");
            if !email.contains('@') || password.len() < 8 {
                return json(422, r#"{"message":"email and a password of at least 8 characters are required","code":422}"#);
            }
            let pat = format!("nbp_standin{:030x}", fnv(format!("{email}{password}{:?}", SystemTime::now()).as_bytes()));
            let _ = fs::write(&st.owner_file, format!("{email}\n{pat}\n"));
            st.owner = Some((email.to_string(), pat.clone()));
            let pat_part = if body.get("create_pat").map(|v| matches!(v, Json::Bool(true))).unwrap_or(false) {
                format!(r#","personal_access_token":"{pat}""#)
            } else {
                String::new()
            };
            json(200, &format!(r#"{{"user_id":"owner-1","email":{}{pat_part}}}"#, Json::quote(email)))
        }
        ("GET", "/api/peers") => {
            let token = req.headers.get("authorization").cloned().unwrap_or_default();
            match &st.owner {
                Some((_, pat)) if token == format!("Token {pat}") => json(200, &peers_json()),
                _ => json(401, r#"{"message":"token invalid","code":401}"#),
            }
        }
        ("GET", "/oauth2/.well-known/openid-configuration") => json(200, r#"{"issuer":"stand-in"}"#),
        _ => json(200, r#"{"netbird":"stand-in"}"#),
    }
}

/// Peers for metering tests: STANDIN_PEERS="total,connected" (default 0,0).
fn peers_json() -> String {
    let spec = env::var("STANDIN_PEERS").unwrap_or_default();
    let mut it = spec.split(',').map(|n| n.trim().parse::<usize>().unwrap_or(0));
    let (total, connected) = (it.next().unwrap_or(0), it.next().unwrap_or(0));
    let peers: Vec<String> = (0..total)
        .map(|i| format!(r#"{{"id":"peer-{i}","name":"device-{i}","connected":{},"last_seen":"2026-11-23T10:00:00Z","os":"linux","version":"0.77.1"}}"#, i < connected))
        .collect();
    format!("[{}]", peers.join(","))
}

// ---------------------------------------------------------------------------------------------
// HTTP/1.1, just enough: one request per connection.

struct Request {
    method: String,
    path: String,
    headers: BTreeMap<String, String>,
    body: String,
}

type Handler = Arc<dyn Fn(&Request) -> Option<(u16, &'static str, String)> + Send + Sync>;

fn json(status: u16, body: &str) -> (u16, &'static str, String) {
    (status, "application/json", body.to_string())
}

fn serve(port: u16, role: &'static str, handler: Handler) -> Result<(), String> {
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
    let (method, path) = (parts.next().unwrap_or("").to_string(), parts.next().unwrap_or("/").to_string());
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
    let req = Request { method, path, headers, body: String::from_utf8_lossy(&body).into_owned() };
    REQUESTS.fetch_add(1, Ordering::Relaxed);
    let (status, ctype, body) = handler(&req).unwrap_or((404, "text/plain", "not found".into()));
    log(role, "INFO", &format!("{} {} {status}", req.method, req.path));
    let mut out = stream;
    write!(out, "HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())?;
    out.flush()
}

// ---------------------------------------------------------------------------------------------
// STUN (RFC 5389): Binding Request -> Binding Success Response with XOR-MAPPED-ADDRESS.

const MAGIC: u32 = 0x2112_A442;

fn stun(port: u16) -> Result<(), String> {
    let sock = UdpSocket::bind(("0.0.0.0", port)).map_err(|e| format!("cannot listen on udp {port}: {e}"))?;
    log("stun", "INFO", &format!("STUN on udp :{port}"));
    thread::spawn(move || {
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
            REQUESTS.fetch_add(1, Ordering::Relaxed);
        }
    });
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Config readers.

/// Flattens `key: value` lines of a block-style YAML file into dotted paths (values unquoted).
fn yaml_scalars(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack: Vec<(usize, String)> = Vec::new();
    for raw in text.lines() {
        let trimmed = raw.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('-') {
            continue;
        }
        let indent = raw.len() - trimmed.len();
        let Some((key, value)) = trimmed.split_once(':') else { continue };
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            stack.pop();
        }
        let path: Vec<&str> = stack.iter().map(|(_, k)| k.as_str()).chain([key.trim()]).collect();
        let value = value.trim();
        if value.is_empty() {
            stack.push((indent, key.trim().to_string()));
        } else {
            out.insert(path.join("."), unquote(value));
        }
    }
    out
}

fn unquote(v: &str) -> String {
    if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
        Json::parse(v).ok().and_then(|j| j.as_str().map(str::to_string)).unwrap_or_default()
    } else {
        v.split(" #").next().unwrap_or(v).trim().to_string()
    }
}

/// The integers of `key: [a, b]` or of a block list under `key:`.
fn yaml_int_list(text: &str, key: &str) -> Vec<u16> {
    let mut lines = text.lines().skip_while(|l| l.trim_start().split(':').next() != Some(key));
    let Some(first) = lines.next() else { return Vec::new() };
    let inline = first.split_once(':').map(|(_, v)| v.trim()).unwrap_or("");
    if let Some(list) = inline.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
        return list.split(',').filter_map(|p| p.trim().parse().ok()).collect();
    }
    lines.map(str::trim).take_while(|l| l.starts_with('-')).filter_map(|l| l[1..].trim().parse().ok()).collect()
}

#[derive(Debug)]
enum Json {
    Null,
    Bool(bool),
    Num,
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    fn parse(s: &str) -> Result<Json, String> {
        let mut p = JsonParser { b: s.as_bytes(), i: 0 };
        let v = p.value()?;
        p.ws();
        if p.i != p.b.len() {
            return Err(format!("trailing data at byte {}", p.i));
        }
        Ok(v)
    }
    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    fn index(&self, i: usize) -> Option<&Json> {
        match self {
            Json::Arr(a) => a.get(i),
            _ => None,
        }
    }
    fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }
    fn quote(s: &str) -> String {
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }
}

struct JsonParser<'a> {
    b: &'a [u8],
    i: usize,
}

impl JsonParser<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && self.b[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn eat(&mut self, c: u8) -> Result<(), String> {
        self.ws();
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!("expected '{}' at byte {}", c as char, self.i))
        }
    }
    fn value(&mut self) -> Result<Json, String> {
        self.ws();
        match self.b.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                let mut m = Vec::new();
                self.ws();
                if self.b.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(Json::Obj(m));
                }
                loop {
                    self.ws();
                    let k = self.string()?;
                    self.eat(b':')?;
                    m.push((k, self.value()?));
                    self.ws();
                    match self.b.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Json::Obj(m));
                        }
                        _ => return Err(format!("expected ',' or '}}' at byte {}", self.i)),
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut a = Vec::new();
                self.ws();
                if self.b.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(Json::Arr(a));
                }
                loop {
                    a.push(self.value()?);
                    self.ws();
                    match self.b.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Json::Arr(a));
                        }
                        _ => return Err(format!("expected ',' or ']' at byte {}", self.i)),
                    }
                }
            }
            Some(b'"') => Ok(Json::Str(self.string()?)),
            Some(b't') => self.word("true", Json::Bool(true)),
            Some(b'f') => self.word("false", Json::Bool(false)),
            Some(b'n') => self.word("null", Json::Null),
            Some(c) if *c == b'-' || c.is_ascii_digit() => {
                let start = self.i;
                while self.i < self.b.len() && (self.b[self.i].is_ascii_digit() || b"+-.eE".contains(&self.b[self.i])) {
                    self.i += 1;
                }
                let s = std::str::from_utf8(&self.b[start..self.i]).map_err(|e| e.to_string())?;
                s.parse::<f64>().map(|_| Json::Num).map_err(|_| format!("bad number {s:?}"))
            }
            _ => Err(format!("unexpected input at byte {}", self.i)),
        }
    }
    fn word(&mut self, w: &str, v: Json) -> Result<Json, String> {
        if self.b[self.i..].starts_with(w.as_bytes()) {
            self.i += w.len();
            Ok(v)
        } else {
            Err(format!("bad literal at byte {}", self.i))
        }
    }
    fn string(&mut self) -> Result<String, String> {
        if self.b.get(self.i) != Some(&b'"') {
            return Err(format!("expected string at byte {}", self.i));
        }
        self.i += 1;
        let mut out = Vec::new();
        while let Some(&c) = self.b.get(self.i) {
            self.i += 1;
            match c {
                b'"' => return String::from_utf8(out).map_err(|e| e.to_string()),
                b'\\' => {
                    let e = *self.b.get(self.i).ok_or("unterminated escape")?;
                    self.i += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'u' => {
                            let hex = std::str::from_utf8(self.b.get(self.i..self.i + 4).ok_or("short \\u")?).map_err(|e| e.to_string())?;
                            let cp = u32::from_str_radix(hex, 16).map_err(|e| e.to_string())?;
                            self.i += 4;
                            let ch = char::from_u32(cp).unwrap_or('\u{fffd}');
                            out.extend_from_slice(ch.to_string().as_bytes());
                        }
                        other => out.push(other),
                    }
                }
                c if c < 0x20 => return Err("control character in string".into()),
                c => out.push(c),
            }
        }
        Err("unterminated string".into())
    }
}

