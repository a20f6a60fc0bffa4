//! nbmsp's stand-in for NetBird's container images, for tests on a Docker engine without a
//! registry. One std-only static binary plays each role the way the upstream image behaves where
//! an engine looks, inconvenient parts included: the combined server's `/health` is 503 by
//! design, the management API comes up seconds after the container starts, `/api/setup` works
//! once, and config is validated as upstream validates it. `standin/README.md` names, for each
//! behaviour, the upstream file (netbirdio/netbird v0.77.1, netbirdio/dashboard v2.90.9) it mirrors.
//!
//! Roles (first argument): server, dashboard, management, signal, relay, reverse-proxy.
//! Built by scripts/standin-images.sh with `rustc -C target-feature=+crt-static`.
//!
//! Knobs for tests (environment): STANDIN_STARTUP_DELAY_MS (default 5000: how long the
//! management API takes to come up), STANDIN_PEERS ("total,connected"), STANDIN_LOG_RATE,
//! STANDIN_FAIL_BOOTS (the combined server's first N starts fail as a STUN port another socket
//! holds makes upstream fail; Docker's restart policy brings it up again).

mod account;
mod admin;
mod api;
mod dns;
mod events;
mod http;
mod idps;
mod json;
mod nameservers;
mod networks;
mod policies;
mod posture;
mod routes;
mod proxy;
mod reverse;
mod stun;
mod yaml;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use std::{env, fs, process, thread};

use http::{Request, Response, json as json_response};
use json::Json;

pub static REQUESTS: AtomicU64 = AtomicU64::new(0);
/// Set by a role that ends its work itself on SIGTERM (the reverse proxy closes its stream).
pub static GRACEFUL: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
/// Set by the SIGTERM handler for such a role.
pub static STOPPING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

extern "C" {
    fn signal(signum: i32, handler: extern "C" fn(i32)) -> usize;
    fn _exit(code: i32) -> !;
}

extern "C" fn on_term(_: i32) {
    // PID 1 ignores SIGTERM unless it installs a handler; without this `docker stop` waits 10 s.
    // An atomic store is all a handler may do besides _exit.
    if GRACEFUL.load(Ordering::Relaxed) {
        STOPPING.store(true, Ordering::Relaxed);
    } else {
        unsafe { _exit(0) }
    }
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
        "signal" => signal_role(rest),
        "relay" => relay(),
        "reverse-proxy" => proxy::run(),
        other => Err(format!(
            "unknown role {other:?}; expected server, dashboard, management, signal, relay or reverse-proxy"
        )),
    };
    if let Err(e) = result {
        log(&role, "FATAL", &e);
        process::exit(1);
    }
    // STANDIN_LOG_RATE=N adds N log lines per second (for benchmarks of chatty containers).
    if let Some(rate) = env::var("STANDIN_LOG_RATE").ok().and_then(|r| r.parse::<u64>().ok()).filter(|r| *r > 0) {
        let role = role.clone();
        thread::spawn(move || {
            use std::io::Write;
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

pub fn log(role: &str, level: &str, msg: &str) {
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


/// When the management API (and what starts with it) is up: store migrations and the embedded
/// IdP take seconds upstream before `mgmtSrv.Start` opens the HTTP listener.
fn ready_at() -> Instant {
    let ms = env::var("STANDIN_STARTUP_DELAY_MS").ok().and_then(|v| v.parse::<u64>().ok()).unwrap_or(5000);
    Instant::now() + Duration::from_millis(ms)
}

/// Runs `start` on a thread once `at` has come: the listener does not exist before that, so a
/// client sees "connection refused" exactly as with the real server while it starts up.
fn later(at: Instant, role: &'static str, start: impl FnOnce() -> Result<(), String> + Send + 'static) {
    thread::spawn(move || {
        thread::sleep(at.saturating_duration_since(Instant::now()));
        if let Err(e) = start() {
            log(role, "FATAL", &e);
            process::exit(1);
        }
    });
}

/// The relay's `/health` answer (`relay/healthcheck/healthcheck.go`): 200 only with listeners and
/// a successful WebSocket dial of the public exposed address.
fn relay_health(listeners: bool, exposed_reachable: bool) -> Response {
    let healthy = listeners && exposed_reachable;
    let body = format!(
        r#"{{"status":"{}","timestamp":"{}","listeners":{},"certificate_valid":{healthy}}}"#,
        if healthy { "healthy" } else { "unhealthy" },
        SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
        if listeners { r#"["ws"]"# } else { "null" },
    );
    json_response(if healthy { 200 } else { 503 }, &body)
}

/// The WebSocket paths a NetBird HTTP port multiplexes (`combined/cmd/root.go`
/// createCombinedHandler; `util/wsproxy`).
fn websocket_paths(req: &Request, paths: &[&str]) -> Option<Response> {
    paths.contains(&req.path.as_str()).then(|| http::websocket(req))
}

// ---------------------------------------------------------------------------------------------
// Roles

/// `netbird-server` (`combined/cmd/root.go`, `combined/cmd/config.go`).
fn server(args: &[String]) -> Result<(), String> {
    let path = arg_value(args, "--config").or_else(|| arg_value(args, "-c")).ok_or("required flag(s) \"config\" not set")?;
    let text = fs::read_to_string(&path).map_err(|e| format!("failed to load config: failed to read config file: {e}"))?;
    let cfg = yaml::yaml_scalars(&text);
    let get = |k: &str| cfg.get(k).cloned().unwrap_or_default();
    let invalid = |m: &str| format!("invalid config: {m}");
    // CombinedConfig.Validate, in its order; the defaults are DefaultConfig's.
    let exposed = get("server.exposedAddress");
    if exposed.is_empty() {
        return Err(invalid("server.exposedAddress is required"));
    }
    let data_dir = cfg.get("server.dataDir").cloned().unwrap_or_else(|| "/var/lib/netbird/".into());
    if data_dir.is_empty() {
        return Err(invalid("server.dataDir is required"));
    }
    let mut stun_ports = yaml::yaml_int_list(&text, "stunPorts");
    if stun_ports.is_empty() {
        stun_ports.push(3478);
    }
    let mut seen = Vec::new();
    for p in &stun_ports {
        if *p <= 0 || *p > 65535 {
            return Err(invalid(&format!("invalid server.stunPorts value {p}: must be between 1 and 65535")));
        }
        if seen.contains(p) {
            return Err(invalid(&format!("duplicate STUN port {p} in server.stunPorts")));
        }
        seen.push(*p);
    }
    if get("server.authSecret").is_empty() {
        return Err(invalid("server.authSecret is required when running local relay"));
    }
    let listen = cfg.get("server.listenAddress").cloned().unwrap_or(":443".into());
    let health = cfg.get("server.healthcheckAddress").cloned().unwrap_or(":9000".into());
    let host = exposed.trim_start_matches("https://").trim_start_matches("http://").to_string();
    let issuer = cfg.get("server.auth.issuer").cloned().unwrap_or_else(|| format!("https://{host}/oauth2"));
    let mut key = get("server.store.encryptionKey");
    if key.is_empty() {
        // Upstream generates a key for this run only: data encrypted earlier becomes unreadable.
        log("server", "WARN", "store.encryptionKey is not set: generating one that is not saved");
        key = format!("{:?}", SystemTime::now());
    }
    check_data_key(&data_dir, &key)?;
    // Upstream binds its STUN ports at start and stops on an error (`createSTUNListeners`);
    // a port some other socket holds for a moment (Docker's embedded DNS takes ephemeral ones in
    // the container) fails one start, and the restart policy brings the server up.
    let fail_boots = env::var("STANDIN_FAIL_BOOTS").ok().and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    if boots(&data_dir) <= fail_boots {
        let p = stun_ports[0];
        return Err(format!("failed to create STUN listener on port {p}: listen udp :{p}: bind: address already in use"));
    }
    log("server", "INFO", "Starting combined NetBird server");
    log("server", "INFO", &format!("Relay server instance URL: rels://{host}"));
    let ready = ready_at();
    // STUN sockets are created before anything else; they are served once the rest starts.
    for p in stun_ports {
        stun::stun(p as u16, ready)?;
    }
    let store = Arc::new(Mutex::new(api::Store::load(&data_dir, true, &issuer)));
    let (listen_port, health_port) = (port_of(&listen)?, port_of(&health)?);
    later(ready, "server", move || {
        log("server", "INFO", "Relay WebSocket multiplexed on management port (no separate relay listener)");
        let api = store.clone();
        http::serve(
            listen_port,
            "server",
            Arc::new(move |req: &Request| {
                websocket_paths(req, &["/relay", "/ws-proxy/signal", "/ws-proxy/management"])
                    .or_else(|| api::route(&api, req))
                    .unwrap_or_else(|| http::error(404, "not found"))
            }),
        )?;
        // The relay has no listener of its own in combined mode: unhealthy, always.
        http::serve(health_port, "server", Arc::new(|_req: &Request| relay_health(false, false)))?;
        http::serve(9090, "server", Arc::new(|_req: &Request| http::json(200, "{}")))
    });
    Ok(())
}

/// `netbirdio/dashboard` (`docker/init_react_envs.sh`, then nginx on 80).
fn dashboard() -> Result<(), String> {
    for (key, alt) in [
        ("AUTH_AUTHORITY", Some("AUTH0_DOMAIN")),
        ("AUTH_CLIENT_ID", Some("AUTH0_CLIENT_ID")),
        ("AUTH_AUDIENCE", Some("AUTH0_AUDIENCE")),
        ("AUTH_SUPPORTED_SCOPES", Some("AUTH0_DOMAIN")),
        ("USE_AUTH0", Some("AUTH0_DOMAIN")),
        ("NETBIRD_MGMT_API_ENDPOINT", None),
    ] {
        let set = |k: &str| env::var(k).is_ok_and(|v| !v.is_empty());
        if !set(key) && !alt.is_some_and(set) {
            return Err(match alt {
                Some(a) if a != "AUTH0_DOMAIN" || key == "AUTH_AUTHORITY" => {
                    format!("{key} or {a} environment variable must be set")
                }
                _ => format!("{key} environment variable must be set"),
            });
        }
    }
    http::serve(
        80,
        "dashboard",
        Arc::new(|req: &Request| Response::Body {
            status: 200,
            ctype: "text/html",
            body: format!("<html><body>NetBird dashboard stand-in {}</body></html>", req.path.len()),
        }),
    )
}

/// Legacy `management` (`management/cmd/management.go`, `management/cmd/root.go`).
fn management(args: &[String]) -> Result<(), String> {
    let path = "/etc/netbird/management.json";
    let text = fs::read_to_string(path)
        .map_err(|e| format!("failed reading provided config file: {path}: {e}"))?;
    let doc = Json::parse(&text).map_err(|e| format!("failed reading provided config file: {path}: {e}"))?;
    let dns_domain = arg_value(args, "--dns-domain").unwrap_or_else(|| "netbird.selfhosted".into());
    if !valid_domain(&dns_domain) {
        return Err(format!("invalid dns-domain: {dns_domain}"));
    }
    let port = arg_value(args, "--port").map(|p| p.parse::<u16>().map_err(|_| format!("invalid argument {p:?} for \"--port\" flag"))).transpose()?.unwrap_or(80);
    let text_at = |keys: &[&str]| {
        keys.iter().try_fold(&doc, |d, k| d.get(k)).and_then(Json::as_str).unwrap_or("").to_string()
    };
    let data_dir = Some(text_at(&["Datadir"])).filter(|d| !d.is_empty()).unwrap_or("/var/lib/netbird".into());
    let embedded = doc.get("EmbeddedIdP").and_then(|e| e.get("Enabled")).and_then(Json::as_bool).unwrap_or(false);
    let issuer = text_at(&["EmbeddedIdP", "Issuer"]);
    let mut key = text_at(&["DataStoreEncryptionKey"]);
    if key.is_empty() {
        // EnsureEncryptionKey generates one and writes it back: the file must be writable.
        key = format!("{:0>43}=", format!("{:x}", fnv(format!("{:?}", SystemTime::now()).as_bytes())));
        let updated = text.replacen("\"DataStoreEncryptionKey\": \"\"", &format!("\"DataStoreEncryptionKey\": \"{key}\""), 1);
        fs::write(path, updated).map_err(|e| format!("failed to save config with new encryption key: {e}"))?;
        log("management", "INFO", "DataStoreEncryptionKey generated and saved to config");
    }
    check_data_key(&data_dir, &key)?;
    if embedded {
        cookie_key(&text_at(&["EmbeddedIdP", "SessionCookieEncryptionKey"]))?;
    }
    log("management", "INFO", &format!("dns domain for peers: {dns_domain}, data in {data_dir}"));
    let store = Arc::new(Mutex::new(api::Store::load(&data_dir, embedded, &issuer)));
    later(ready_at(), "management", move || {
        http::serve(
            port,
            "management",
            Arc::new(move |req: &Request| {
                websocket_paths(req, &["/ws-proxy/management"])
                    .or_else(|| api::route(&store, req))
                    .unwrap_or_else(|| http::error(404, "not found"))
            }),
        )
    });
    Ok(())
}

/// The embedded IdP's session cookie key (`management/server/idp/embedded.go`,
/// `resolveSessionCookieEncryptionKey`): optional (then made per start, so sessions die with a
/// restart), else 16, 24 or 32 bytes raw or base64 of that.
fn cookie_key(key: &str) -> Result<(), String> {
    let key = key.trim();
    let ok = |n: usize| matches!(n, 16 | 24 | 32);
    if key.is_empty() {
        log("management", "WARN", "no session cookie encryption key: dashboard sessions end with every restart");
        return Ok(());
    }
    if ok(key.len()) || base64_len(key).is_some_and(ok) {
        return Ok(());
    }
    Err(format!(
        "invalid embedded IdP session cookie encryption key:NB_IDP_SESSION_COOKIE_ENCRYPTION_KEY (or sessionCookieEncryptionKey) must be 16, 24, or 32 bytes as a raw string or base64-encoded to one of those lengths; got {} raw bytes",
        key.len()
    ))
}

/// The decoded length of `s` when it is base64 (standard or URL alphabet, padded or not).
fn base64_len(s: &str) -> Option<usize> {
    let body = s.trim_end_matches('=');
    if body.is_empty() || s.len() - body.len() > 2 {
        return None;
    }
    body.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/-_".contains(&b)).then_some(body.len() * 3 / 4)
}

/// Legacy `signal` (`signal/cmd/run.go`): HTTP with the WebSocket proxy on --port (80), plus the
/// old gRPC port 10000 for older agents.
fn signal_role(args: &[String]) -> Result<(), String> {
    let port = arg_value(args, "--port").and_then(|p| p.parse().ok()).unwrap_or(80);
    let handler: http::Handler = Arc::new(|req: &Request| {
        websocket_paths(req, &["/ws-proxy/signal"]).unwrap_or_else(|| http::error(404, "not found"))
    });
    http::serve(port, "signal", handler.clone())?;
    if port != 10000 {
        http::serve(10000, "signal", handler)?;
    }
    Ok(())
}

/// Legacy `relay` (`relay/cmd/root.go`, `relay/healthcheck/healthcheck.go` + `ws.go`): `/health`
/// is 503 until a WebSocket dial of the public exposed address works, i.e. until the proxy and
/// its certificate exist and DNS points at them.
fn relay() -> Result<(), String> {
    let var = |k: &str| env::var(k).unwrap_or_default();
    let listen = Some(var("NB_LISTEN_ADDRESS")).filter(|v| !v.is_empty()).unwrap_or(":443".into());
    let exposed = var("NB_EXPOSED_ADDRESS");
    if exposed.is_empty() {
        return Err("invalid config: exposed address is required".into());
    }
    if var("NB_AUTH_SECRET").is_empty() {
        return Err("invalid config: auth secret is required".into());
    }
    if var("NB_ENABLE_STUN") == "true" {
        let ports = Some(var("NB_STUN_PORTS")).filter(|v| !v.is_empty()).unwrap_or("3478".into());
        let mut seen = Vec::new();
        for p in ports.split(',') {
            let n: i64 = p.trim().parse().map_err(|_| format!("invalid argument {p:?} for \"--stun-ports\" flag"))?;
            if n <= 0 || n > 65535 {
                return Err(format!("invalid config: invalid STUN port {n}: must be between 1 and 65535"));
            }
            if seen.contains(&n) {
                return Err(format!("invalid config: duplicate STUN port {n}"));
            }
            seen.push(n);
            stun::stun(n as u16, Instant::now())?;
        }
    }
    let public = exposed.split("://").last().unwrap_or("").to_string();
    let cache: Arc<Mutex<Option<(Instant, bool)>>> = Arc::new(Mutex::new(None));
    http::serve(
        9000,
        "relay",
        Arc::new(move |_req: &Request| {
            let mut c = cache.lock().unwrap_or_else(|p| p.into_inner());
            // Upstream caches the verdict for 3 s.
            let ok = match *c {
                Some((at, ok)) if at.elapsed() < Duration::from_secs(3) => ok,
                _ => {
                    let ok = reachable(&public);
                    *c = Some((Instant::now(), ok));
                    ok
                }
            };
            relay_health(true, ok)
        }),
    )?;
    http::serve(
        port_of(&listen)?,
        "relay",
        Arc::new(|req: &Request| websocket_paths(req, &["/relay"]).unwrap_or_else(|| http::error(404, "not found"))),
    )
}

/// Whether `host:port` takes a TCP connection within 2 s. (Upstream also completes TLS and a
/// WebSocket handshake there; a std-only binary stops at TCP, which already fails wherever the
/// public name does not resolve or nothing listens, the case that matters before the proxy.)
fn reachable(host_port: &str) -> bool {
    use std::net::{TcpStream, ToSocketAddrs};
    host_port
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .is_some_and(|addr| TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok())
}

/// `nbdomain.IsValidDomainNoWildcard`, roughly: dot-separated labels of letters, digits and '-'.
fn valid_domain(d: &str) -> bool {
    !d.is_empty()
        && d.len() <= 192
        && d.split('.').all(|l| {
            !l.is_empty() && l.len() <= 63 && !l.starts_with('-') && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
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
    fs::write(format!("{data_dir}/boots"), format!("{}\n", boots(data_dir) + 1)).map_err(|e| format!("cannot write to {data_dir}: {e}"))
}

/// How many times a server started on this data dir (this start included, once counted).
fn boots(data_dir: &str) -> u64 {
    fs::read_to_string(format!("{data_dir}/boots")).ok().and_then(|s| s.trim().parse::<u64>().ok()).unwrap_or(0)
}

pub fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100000001b3))
}


