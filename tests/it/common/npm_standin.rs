//! An HTTP stand-in for Nginx Proxy Manager 2.15's API that behaves like the recorded real one
//! (../shared/reference/npm): strict bodies (`additionalProperties: false` and the real AJV
//! messages), tokens with expiry, auth failures as 404/500/400 (never 401), 201 before nginx is
//! "configured" with the verdict in a later GET's `meta`, soft delete, duplicate domains,
//! certificate failures as 500 with certbot's words in `debug.stack`. Plus switches for the
//! failure modes nbmsp must survive.
//!
//! nginx is modelled as NPM drives it (`backend/internal/nginx.js`, `configure`, at
//! NginxProxyManager/nginx-proxy-manager a62c2a6d): `nginx -t` covers the WHOLE config (every
//! host whose file is on disk), once before a host's file is written and once after. A failing
//! first test aborts the request with a 500 and keeps whatever row was already stored; a failing
//! second test marks this host offline and removes its file. Literal upstream names in
//! `proxy_pass`/`grpc_pass` are resolved at test time (nginx's rule); names in variables are
//! not. With `Resolve::DockerContainers` a name resolves while a running container has it, as
//! on Docker's DNS, so a stopped customer's literal names break every later test.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

/// How the stand-in's "nginx -t" decides whether upstream names resolve.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolve {
    /// Nothing resolves (NPM not on the containers' network).
    Nothing,
    /// Everything resolves.
    Everything,
    /// A name resolves when a Docker container of that name exists (as on a shared network).
    DockerContainers,
    /// The same on another engine (`docker -H` this address): an NPM on another host.
    DockerContainersOn(String),
}

/// Failure modes.
#[derive(Clone, Debug)]
pub struct Behaviour {
    pub resolve: Resolve,
    /// Let's Encrypt requests succeed.
    pub letsencrypt_ok: bool,
    /// Every proxy-host POST answers this status with "Internal Error".
    pub fail_create: Option<u16>,
    /// Each request is delayed this long (a slow NPM).
    pub delay: Duration,
    /// Every proxy-host PUT answers this status with "Internal Error".
    pub fail_update: Option<u16>,
    /// On each proxy-host POST, ask the customer's NetBird management (found from the dashboard
    /// container's name) for `/api/instance` and keep the answer: proof of what was public when.
    pub observe_instance: bool,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self {
            resolve: Resolve::Everything,
            letsencrypt_ok: false,
            fail_create: None,
            delay: Duration::ZERO,
            fail_update: None,
            observe_instance: false,
        }
    }
}

#[derive(Default)]
struct State {
    tokens: BTreeMap<String, u64>,
    hosts: BTreeMap<i64, (Map<String, Value>, bool)>,
    /// The nginx files on disk: host id → the `advanced_config` they were generated from (NPM
    /// writes a file when it configures a host; a row changed since still has the old file).
    files: BTreeMap<i64, String>,
    certs: BTreeMap<i64, (Value, bool)>,
    next_host: i64,
    next_cert: i64,
    next_token: u64,
    /// Every request: (method, path, status).
    pub log: Vec<(String, String, u16)>,
    /// What `/api/instance` answered when each proxy host was created (`observe_instance`).
    pub observed: Vec<String>,
}

/// A running stand-in; stops serving when dropped (the listener thread ends with the process).
pub struct NpmStandin {
    pub url: String,
    state: Arc<Mutex<State>>,
    behaviour: Arc<Mutex<Behaviour>>,
}

pub const IDENTITY: &str = "admin@example.com";
pub const SECRET: &str = "changeme";

fn now_s() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn iso(secs: u64) -> String {
    time::OffsetDateTime::from_unix_timestamp(i64::try_from(secs).unwrap_or(0))
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// NPM's database time as its API writes it for certificates ("2026-11-23 10:38:56", UTC, no
/// zone: the recorded `certificates_list_after`).
fn db_time(secs: u64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(i64::try_from(secs).unwrap_or(0)).unwrap();
    t.format(time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]")).unwrap()
}

/// The fields every certificate row has (`certificate-object.json` requires them): an
/// uploaded ("other") one expires when it was made until a file is uploaded (as recorded); a
/// Let's Encrypt one when its certificate does, 90 days on (`internal/certificate.js` reads
/// `expires_on` from the issued file).
fn cert_row(id: i64, provider: &str, nice_name: Value, domains: Value, valid_s: u64) -> Value {
    let now = now_s();
    json!({"id": id, "created_on": db_time(now), "modified_on": db_time(now), "owner_user_id": 1,
           "provider": provider, "nice_name": nice_name, "domain_names": domains,
           "expires_on": db_time(now + valid_s), "meta": {}})
}

fn err(status: u16, message: &str) -> (u16, Value) {
    (status, json!({"error": {"code": status, "message": message}}))
}

fn err_debug(status: u16, message: &str, stack: &[&str]) -> (u16, Value) {
    (status, json!({"error": {"code": status, "message": message}, "debug": {"stack": stack}}))
}

const DOMAIN_PATTERN: &str = r#"^[^&| @!#%^();:/\\}{=+?<>,~`'"]+$"#;
const HOST_FIELDS: &[&str] = &[
    "domain_names",
    "forward_scheme",
    "forward_host",
    "forward_port",
    "certificate_id",
    "ssl_forced",
    "hsts_enabled",
    "hsts_subdomains",
    "trust_forwarded_proto",
    "http2_support",
    "block_exploits",
    "caching_enabled",
    "allow_websocket_upgrade",
    "access_list_id",
    "advanced_config",
    "enabled",
    "meta",
    "locations",
];
const KNOWN_DIRECTIVES: &[&str] = &[
    "location",
    "proxy_pass",
    "grpc_pass",
    "proxy_set_header",
    "proxy_http_version",
    "proxy_read_timeout",
    "proxy_send_timeout",
    "grpc_read_timeout",
    "grpc_send_timeout",
    "grpc_socket_keepalive",
    "client_header_timeout",
    "client_body_timeout",
    "client_max_body_size",
    "add_header",
    "return",
    "rewrite",
    "set",
    "if",
    "}",
    "proxy_buffering",
    "proxy_request_buffering",
    "grpc_set_header",
    "access_log",
    "error_log",
];

impl NpmStandin {
    pub fn start(behaviour: Behaviour) -> Self {
        Self::serve(TcpListener::bind("127.0.0.1:0").expect("bind"), behaviour)
    }

    /// Starts one inside network namespace `netns` (as `ip netns` names it), listening on that
    /// namespace's 127.0.0.1: an NPM on another host whose admin port is not public. Its `url`
    /// is as that host sees it (nothing answers there in this test's own namespace).
    pub fn start_in_netns(netns: &str, behaviour: Behaviour) -> Self {
        let path = format!("/var/run/netns/{netns}");
        // setns moves only the calling thread; the socket it binds stays in that namespace.
        let listener = std::thread::spawn(move || {
            let ns = std::fs::File::open(&path).expect("netns");
            let rc = unsafe { libc::setns(std::os::fd::AsRawFd::as_raw_fd(&ns), libc::CLONE_NEWNET) };
            assert_eq!(rc, 0, "setns {path}: {}", std::io::Error::last_os_error());
            TcpListener::bind("127.0.0.1:0").expect("bind")
        })
        .join()
        .unwrap();
        Self::serve(listener, behaviour)
    }

    fn serve(listener: TcpListener, behaviour: Behaviour) -> Self {
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State { next_host: 1, next_cert: 1, ..Default::default() }));
        let behaviour = Arc::new(Mutex::new(behaviour));
        let (s, b) = (state.clone(), behaviour.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (s, b) = (s.clone(), b.clone());
                std::thread::spawn(move || {
                    let _ = serve(stream, &s, &b);
                });
            }
        });
        Self { url, state, behaviour }
    }

    pub fn set_behaviour(&self, f: impl FnOnce(&mut Behaviour)) {
        f(&mut self.behaviour.lock().unwrap());
    }

    /// Live (not deleted) proxy hosts.
    pub fn hosts(&self) -> Vec<Value> {
        self.state
            .lock()
            .unwrap()
            .hosts
            .values()
            .filter(|(_, deleted)| !deleted)
            .map(|(h, _)| Value::Object(h.clone()))
            .collect()
    }

    /// Adds a host as another admin would in NPM's UI (for reconcile tests); returns its id.
    pub fn insert_host(&self, domain: &str, forward_host: &str) -> i64 {
        let mut st = self.state.lock().unwrap();
        let id = st.next_host;
        st.next_host += 1;
        let h = json!({
            "id": id, "domain_names": [domain], "forward_scheme": "http", "forward_host": forward_host,
            "forward_port": 80, "access_list_id": 0, "certificate_id": 0, "ssl_forced": false,
            "caching_enabled": false, "block_exploits": false, "advanced_config": "",
            "meta": {"nginx_online": true, "nginx_err": null}, "allow_websocket_upgrade": false,
            "http2_support": false, "enabled": true, "locations": null, "hsts_enabled": false,
            "hsts_subdomains": false, "trust_forwarded_proto": false,
        });
        st.hosts.insert(id, (h.as_object().unwrap().clone(), false));
        st.files.insert(id, String::new());
        id
    }

    /// Adds an enabled, online host whose `advanced_config` is `advanced` (what an older nbmsp,
    /// or another admin, left in NPM); returns its id.
    pub fn insert_host_with(&self, domain: &str, forward_host: &str, advanced: &str) -> i64 {
        let id = self.insert_host(domain, forward_host);
        let mut st = self.state.lock().unwrap();
        st.hosts.get_mut(&id).unwrap().0.insert("advanced_config".into(), json!(advanced));
        st.files.insert(id, advanced.to_string());
        id
    }

    /// What `/api/instance` answered at each proxy-host creation (see `observe_instance`).
    pub fn observed(&self) -> Vec<String> {
        self.state.lock().unwrap().observed.clone()
    }

    /// Deletes a host behind nbmsp's back.
    /// Replaces a host's `meta` (e.g. with an nbmsp installation's tag).
    pub fn set_meta(&self, id: i64, meta: Value) {
        self.state.lock().unwrap().hosts.get_mut(&id).unwrap().0.insert("meta".into(), meta);
    }

    pub fn remove_host(&self, id: i64) {
        let mut st = self.state.lock().unwrap();
        if let Some(h) = st.hosts.get_mut(&id) {
            h.1 = true;
        }
        st.files.remove(&id);
    }

    /// Live certificates.
    pub fn certificates(&self) -> Vec<Value> {
        self.state.lock().unwrap().certs.values().filter(|(_, d)| !d).map(|(c, _)| c.clone()).collect()
    }

    /// A valid token that expires in `secs`.
    pub fn token(&self, secs: u64) -> String {
        let mut st = self.state.lock().unwrap();
        new_token(&mut st, secs)
    }

    /// Forgets every token, as a restarted NPM does.
    pub fn forget_tokens(&self) {
        self.state.lock().unwrap().tokens.clear();
    }

    pub fn request_log(&self) -> Vec<(String, String, u16)> {
        self.state.lock().unwrap().log.clone()
    }

    /// Restarts NPM: nginx starts only if the whole config passes `nginx -t`, then every enabled
    /// host is configured again. Returns nginx's verdict on start.
    pub fn restart(&self) -> Result<(), String> {
        let b = self.behaviour.lock().unwrap().clone();
        let mut st = self.state.lock().unwrap();
        st.tokens.clear();
        let start = fleet_test(&st, &b.resolve);
        let ids: Vec<i64> =
            st.hosts.iter().filter(|(_, (h, d))| !d && h["enabled"] == json!(true)).map(|(id, _)| *id).collect();
        for id in ids {
            configure(&mut st, id, &b).map_err(|e| format!("host #{id}: {e}"))?;
        }
        start
    }

    /// Whether `nginx -t` over the whole config passes now.
    pub fn whole_config_test(&self) -> Result<(), String> {
        let b = self.behaviour.lock().unwrap().clone();
        fleet_test(&self.state.lock().unwrap(), &b.resolve)
    }
}

fn new_token(st: &mut State, secs: u64) -> String {
    st.next_token += 1;
    let t = format!("standin.{}.{}", st.next_token, now_s());
    st.tokens.insert(t.clone(), now_s() + secs);
    t
}

struct Req {
    method: String,
    path: String,
    query: BTreeMap<String, String>,
    auth: Option<String>,
    body: Option<String>,
}

fn serve(stream: TcpStream, state: &Mutex<State>, behaviour: &Mutex<Behaviour>) -> std::io::Result<()> {
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
    let len: usize = headers.get("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body)?;
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (
            p.to_string(),
            q.split('&')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), v.replace("%20", " ")))
                .collect(),
        ),
        None => (target.clone(), BTreeMap::new()),
    };
    let req = Req {
        method,
        path,
        query,
        auth: headers.get("authorization").cloned(),
        body: (len > 0).then(|| String::from_utf8_lossy(&body).into_owned()),
    };
    let b = behaviour.lock().unwrap().clone();
    std::thread::sleep(b.delay);
    let (status, value) = route(&req, state, &b);
    state.lock().unwrap().log.push((req.method.clone(), target, status));
    let mut out = stream;
    let text = if status == 204 || status == 302 { String::new() } else { value.to_string() };
    let extra = if status == 302 { "Location: /api/\r\n" } else { "" };
    write!(
        out,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json; charset=utf-8\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    )?;
    out.flush()
}

enum Auth {
    Ok,
    Missing,
    Expired,
}

fn auth(req: &Req, st: &State) -> Auth {
    let Some(token) = req.auth.as_deref().and_then(|a| a.strip_prefix("Bearer ")) else { return Auth::Missing };
    match st.tokens.get(token) {
        Some(exp) if *exp > now_s() => Auth::Ok,
        Some(_) => Auth::Expired,
        None => Auth::Missing,
    }
}

fn parse_body(req: &Req) -> Result<Value, (u16, Value)> {
    let Some(b) = &req.body else { return Err(err(400, "Payload is undefined")) };
    serde_json::from_str(b).map_err(|_| err(400, "Internal Error"))
}

fn route(req: &Req, state: &Mutex<State>, b: &Behaviour) -> (u16, Value) {
    let p = req.path.trim_end_matches('/');
    if req.method == "OPTIONS" {
        return (204, Value::Null);
    }
    match (req.method.as_str(), p) {
        ("GET", "/api") if req.path == "/api" => return (302, Value::Null),
        ("GET", "/api") => {
            return (200, json!({"status": "OK", "setup": true, "version": {"major": 2, "minor": 15, "revision": 1}}));
        }
        ("GET", "/api/schema") => return (200, json!({"openapi": "3.1.0"})),
        ("POST", "/api/tokens") => return post_token(req, state),
        _ => {}
    }
    let mut st = state.lock().unwrap();
    let write = matches!(req.method.as_str(), "POST" | "PUT");
    match auth(req, &st) {
        Auth::Ok => {}
        Auth::Expired => return err(400, "Token has expired"),
        Auth::Missing if p == "/api/tokens" || write => return err(500, "Internal Error"),
        Auth::Missing => return err(404, &format!("Not Found - {}", req.path.trim_start_matches("/api"))),
    }
    let segs: Vec<&str> = p.trim_start_matches("/api/").split('/').collect();
    match (req.method.as_str(), segs.as_slice()) {
        ("GET", ["tokens"]) => {
            let secs = match req.query.get("expiry").map(String::as_str) {
                Some(e) if e.ends_with('s') => e.trim_end_matches('s').parse().unwrap_or(86_400),
                _ => 86_400,
            };
            let t = new_token(&mut st, secs);
            (200, json!({"token": t, "expires": iso(now_s() + secs)}))
        }
        ("GET", ["users", "me"]) => (200, json!({"id": 1, "email": IDENTITY, "roles": ["admin"]})),
        ("GET", ["users"]) | ("GET", ["settings"]) => (200, json!([])),
        ("GET", ["reports", "hosts"]) => (200, json!({"proxy": st.hosts.values().filter(|h| !h.1).count()})),
        ("GET", ["nginx", "proxy-hosts"]) => {
            if let Some(e) = req.query.get("expand")
                && !e.split(',').all(|x| ["owner", "certificate", "access_list"].contains(&x))
            {
                return err(500, "Internal Error");
            }
            let q = req.query.get("query").map(|q| q.to_lowercase());
            let list: Vec<Value> = st
                .hosts
                .values()
                .filter(|(_, d)| !d)
                .filter(|(h, _)| q.as_ref().is_none_or(|q| h["domain_names"].to_string().to_lowercase().contains(q)))
                .map(|(h, _)| Value::Object(h.clone()))
                .collect();
            (200, Value::Array(list))
        }
        ("POST", ["nginx", "proxy-hosts"]) => {
            if let Some(status) = b.fail_create {
                return err(status, "Internal Error");
            }
            if b.observe_instance {
                let seen = observe_instance(req);
                st.observed.push(seen);
            }
            create_host(req, &mut st, b)
        }
        (m, ["nginx", "proxy-hosts", id, rest @ ..]) => {
            let Ok(id) = id.parse::<i64>() else {
                return if m == "DELETE" { err(404, "Not Found") } else { err(400, "Internal Error") };
            };
            let live = st.hosts.get(&id).is_some_and(|(_, d)| !d);
            if !live {
                return err(404, &format!("Not Found - {id}"));
            }
            match (m, rest) {
                ("GET", []) => (200, Value::Object(st.hosts[&id].0.clone())),
                ("PUT", []) if b.fail_update.is_some() => err(b.fail_update.unwrap_or(500), "Internal Error"),
                ("PUT", []) => update_host(req, &mut st, id, b),
                ("DELETE", []) => {
                    st.hosts.get_mut(&id).unwrap().1 = true;
                    st.files.remove(&id);
                    match reload(&st, b) {
                        Ok(()) => (200, json!(true)),
                        Err(_) => err(500, "Internal Error"),
                    }
                }
                ("POST", ["disable"]) | ("POST", ["enable"]) => {
                    let want = rest == ["enable"];
                    let h = &mut st.hosts.get_mut(&id).unwrap().0;
                    if h["enabled"] == json!(want) && !want {
                        return err(400, "Host is already disabled");
                    }
                    h.insert("enabled".into(), json!(want));
                    let verdict = if want {
                        configure(&mut st, id, b).map(|_| ())
                    } else {
                        st.files.remove(&id);
                        reload(&st, b)
                    };
                    match verdict {
                        Ok(()) => (200, json!(true)),
                        Err(_) => err(500, "Internal Error"),
                    }
                }
                _ => err(404, &format!("Not Found - {}", req.path.trim_start_matches("/api"))),
            }
        }
        ("GET", ["nginx", "certificates"]) => {
            (200, Value::Array(st.certs.values().filter(|c| !c.1).map(|c| c.0.clone()).collect()))
        }
        ("POST", ["nginx", "certificates"]) => post_certificate(req, &mut st, b),
        ("DELETE", ["nginx", "certificates", id]) => match id.parse::<i64>().ok().and_then(|i| st.certs.get_mut(&i)) {
            Some(c) if !c.1 => {
                c.1 = true;
                (200, json!(true))
            }
            _ => err_debug(404, &format!("Not Found - {id}"), &["Error: Not Found"]),
        },
        _ => err(404, &format!("Not Found - {}", req.path.trim_start_matches("/api"))),
    }
}

fn post_token(req: &Req, state: &Mutex<State>) -> (u16, Value) {
    let body = match parse_body(req) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let Some(o) = body.as_object() else { return err(400, "data must be object") };
    if o.keys().any(|k| !["identity", "secret", "scope"].contains(&k.as_str())) {
        return err(400, "data must NOT have additional properties");
    }
    for k in ["identity", "secret"] {
        if !o.contains_key(k) {
            return err(400, &format!("data must have required property '{k}'"));
        }
    }
    for k in ["identity", "secret"] {
        if o[k].as_str().is_some_and(str::is_empty) {
            return err(400, &format!("data/{k} must NOT have fewer than 1 characters"));
        }
    }
    if let Some(s) = o.get("scope")
        && s != "user"
    {
        return err(400, "data/scope must be equal to one of the allowed values");
    }
    if o["identity"] != IDENTITY || o["secret"] != SECRET {
        return err(400, "Invalid email or password");
    }
    let mut st = state.lock().unwrap();
    let t = new_token(&mut st, 86_400);
    (200, json!({"token": t, "expires": iso(now_s() + 86_400)}))
}

/// The AJV checks NPM runs on a proxy-host body; `partial` for PUT.
fn validate_host(body: &Value, partial: bool) -> Result<Map<String, Value>, (u16, Value)> {
    let Some(o) = body.as_object() else { return Err(err(400, "data must be object")) };
    if o.keys().any(|k| !HOST_FIELDS.contains(&k.as_str())) {
        return Err(err(400, "data must NOT have additional properties"));
    }
    if partial && o.is_empty() {
        return Err(err(400, "data must NOT have fewer than 1 properties"));
    }
    if !partial {
        for k in ["domain_names", "forward_scheme", "forward_host", "forward_port"] {
            if !o.contains_key(k) {
                return Err(err(400, &format!("data must have required property '{k}'")));
            }
        }
    }
    let mut o = o.clone();
    if let Some(d) = o.get("domain_names") {
        let list = d.as_array().cloned().unwrap_or_default();
        if list.is_empty() {
            return Err(err(400, "data/domain_names must NOT have fewer than 1 items"));
        }
        for (i, name) in list.iter().enumerate() {
            let s = name.as_str().unwrap_or("");
            if s.is_empty() || s.chars().any(|c| "&| @!#%^();:/\\}{=+?<>,~`'\"".contains(c)) {
                return Err(err(400, &format!("data/domain_names/{i} must match pattern \"{DOMAIN_PATTERN}\"")));
            }
        }
    }
    if let Some(s) = o.get("forward_scheme")
        && s != "http"
        && s != "https"
    {
        return Err(err(400, "data/forward_scheme must be equal to one of the allowed values"));
    }
    if let Some(p) = o.get("forward_port").cloned() {
        // NPM coerces types: "80" is 80.
        let n = p.as_i64().or_else(|| p.as_str().and_then(|s| s.parse().ok()));
        match n {
            Some(n) if n > 65_535 => return Err(err(400, "data/forward_port must be <= 65535")),
            Some(n) if n < 1 => return Err(err(400, "data/forward_port must be >= 1")),
            Some(n) => {
                o.insert("forward_port".into(), json!(n));
            }
            None => return Err(err(400, "data/forward_port must be integer")),
        }
    }
    Ok(o)
}

fn domain_taken(st: &State, domains: &Value, except: Option<i64>) -> Option<String> {
    let names: Vec<String> = domains.as_array()?.iter().filter_map(|d| d.as_str().map(str::to_string)).collect();
    for (id, (h, deleted)) in &st.hosts {
        if *deleted || Some(*id) == except {
            continue;
        }
        for n in &names {
            let taken = h["domain_names"]
                .as_array()
                .is_some_and(|l| l.iter().any(|d| d.as_str().is_some_and(|d| d.eq_ignore_ascii_case(n))));
            if taken {
                return Some(n.clone());
            }
        }
    }
    None
}

/// The stand-in's `nginx -t` of one host's `advanced_config`: unknown directives and literal
/// upstream hosts that do not resolve fail it.
fn nginx_test(advanced: &str, resolve: &Resolve) -> Result<(), String> {
    for stmt in advanced.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let word = stmt.split_whitespace().next().unwrap_or("");
        if !KNOWN_DIRECTIVES.contains(&word) {
            return Err(format!("nginx: [emerg] unknown directive \"{word}\" in /data/nginx/proxy_host/1.conf"));
        }
        if word == "grpc_pass" || word == "proxy_pass" {
            let host = stmt.split("://").nth(1).unwrap_or("").split([':', ';', '/']).next().unwrap_or("");
            // A variable is resolved per request, through the resolver (NPM's resolvers.conf).
            if host.starts_with('$') {
                continue;
            }
            let ok = match resolve {
                Resolve::Everything => true,
                Resolve::Nothing => false,
                Resolve::DockerContainers | Resolve::DockerContainersOn(_) => {
                    let mut docker = std::process::Command::new("docker");
                    if let Resolve::DockerContainersOn(engine) = resolve {
                        docker.args(["-H", engine]);
                    }
                    docker
                        .args(["inspect", "--type", "container", "--format", "{{.State.Running}}", host])
                        .output()
                        .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).trim() == "true")
                }
            };
            if !ok {
                return Err(format!(
                    "nginx: [emerg] host not found in upstream \"{host}\" in /data/nginx/proxy_host/1.conf"
                ));
            }
        }
    }
    Ok(())
}

/// `nginx -t` over every host file on disk.
fn fleet_test(st: &State, resolve: &Resolve) -> Result<(), String> {
    st.files.values().try_for_each(|advanced| nginx_test(advanced, resolve))
}

/// NPM's `internalNginx.configure`: test, write this host's file, test again, record the verdict
/// in the host's meta (removing the file when it failed). `Err` when the first test fails: NPM
/// then answers the request with a 500.
fn configure(st: &mut State, id: i64, b: &Behaviour) -> Result<Value, String> {
    fleet_test(st, &b.resolve)?;
    let advanced = st.hosts[&id].0.get("advanced_config").and_then(Value::as_str).unwrap_or("").to_string();
    st.files.insert(id, advanced);
    let verdict = fleet_test(st, &b.resolve);
    if verdict.is_err() {
        st.files.remove(&id);
    }
    let h = &mut st.hosts.get_mut(&id).expect("configured host exists").0;
    let meta = h.entry("meta").or_insert_with(|| json!({}));
    if let Some(m) = meta.as_object_mut() {
        m.insert("nginx_online".into(), json!(verdict.is_ok()));
        m.insert("nginx_err".into(), verdict.err().map_or(Value::Null, Value::String));
    }
    Ok(Value::Object(h.clone()))
}

/// NPM's `reload` after removing a host's file: `nginx -t` of what is left.
fn reload(st: &State, b: &Behaviour) -> Result<(), String> {
    fleet_test(st, &b.resolve)
}

fn create_host(req: &Req, st: &mut State, b: &Behaviour) -> (u16, Value) {
    let body = match parse_body(req).and_then(|v| validate_host(&v, false)) {
        Ok(b) => b,
        Err(e) => return e,
    };
    if let Some(d) = domain_taken(st, &body["domain_names"], None) {
        return err(400, &format!("{d} is already in use"));
    }
    let id = st.next_host;
    st.next_host += 1;
    let mut h = Map::new();
    h.insert("id".into(), json!(id));
    for (k, v) in [
        ("access_list_id", json!(0)),
        ("certificate_id", json!(0)),
        ("ssl_forced", json!(false)),
        ("caching_enabled", json!(false)),
        ("block_exploits", json!(false)),
        ("advanced_config", json!("")),
        ("meta", json!({})),
        ("allow_websocket_upgrade", json!(false)),
        ("http2_support", json!(false)),
        ("enabled", json!(true)),
        ("locations", Value::Null),
        ("hsts_enabled", json!(false)),
        ("hsts_subdomains", json!(false)),
        ("trust_forwarded_proto", json!(false)),
    ] {
        h.insert(k.into(), v);
    }
    for (k, v) in body {
        h.insert(k, v);
    }
    let wants_new_cert = h["certificate_id"] == "new";
    if wants_new_cert {
        h.insert("certificate_id".into(), json!(0));
    }
    let answer = Value::Object(h.clone());
    if wants_new_cert && !b.letsencrypt_ok {
        // The real NPM keeps the host row but configures nothing, and answers 500.
        st.hosts.insert(id, (h, false));
        return err(500, "Internal Error");
    }
    st.hosts.insert(id, (h, false));
    if configure(st, id, b).is_err() {
        return err(500, "Internal Error");
    }
    // The POST answer shows meta as sent: nginx is configured after the row is read.
    (201, answer)
}

fn update_host(req: &Req, st: &mut State, id: i64, b: &Behaviour) -> (u16, Value) {
    let body = match parse_body(req).and_then(|v| validate_host(&v, true)) {
        Ok(b) => b,
        Err(e) => return e,
    };
    if let Some(d) = body.get("domain_names").and_then(|d| domain_taken(st, d, Some(id))) {
        return err(400, &format!("{d} is already in use"));
    }
    let h = &mut st.hosts.get_mut(&id).unwrap().0;
    for (k, v) in body {
        if k == "meta" {
            let mut m = v.as_object().cloned().unwrap_or_default();
            m.remove("nginx_online");
            m.remove("nginx_err");
            h.insert(k, Value::Object(m));
        } else {
            h.insert(k, v);
        }
    }
    match configure(st, id, b) {
        Ok(v) => (200, v),
        Err(_) => err(500, "Internal Error"),
    }
}

fn post_certificate(req: &Req, st: &mut State, b: &Behaviour) -> (u16, Value) {
    let body = match parse_body(req) {
        Ok(b) => b,
        Err((s, v)) => return (s, json!({"error": v["error"], "debug": {"stack": ["Error"]}})),
    };
    let o = body.as_object().cloned().unwrap_or_default();
    if o.keys().any(|k| !["provider", "nice_name", "domain_names", "meta"].contains(&k.as_str())) {
        return err_debug(
            400,
            "data must NOT have additional properties",
            &["Error: data must NOT have additional properties"],
        );
    }
    let meta_keys = [
        "certificate",
        "certificate_key",
        "dns_challenge",
        "dns_provider_credentials",
        "dns_provider",
        "letsencrypt_certificate",
        "propagation_seconds",
        "key_type",
    ];
    let extra = o
        .get("meta")
        .and_then(Value::as_object)
        .map_or(0, |m| m.keys().filter(|k| !meta_keys.contains(&k.as_str())).count());
    if extra > 0 {
        let msg = vec!["data/meta must NOT have additional properties"; extra].join(", ");
        return err_debug(400, &msg, &[&format!("Error: {msg}")]);
    }
    let Some(provider) = o.get("provider").and_then(Value::as_str) else {
        return err_debug(
            400,
            "data must have required property 'provider'",
            &["Error: data must have required property 'provider'"],
        );
    };
    let id = st.next_cert;
    match provider {
        "letsencrypt" => {
            let Some(domains) = o.get("domain_names").cloned() else {
                return err_debug(
                    500,
                    "Internal Error",
                    &["TypeError: Cannot read properties of undefined (reading 'join')"],
                );
            };
            if body.pointer("/meta/dns_challenge") == Some(&json!(true)) && body.pointer("/meta/dns_provider").is_none()
            {
                return err_debug(404, "Not Found", &["Error: Not Found"]);
            }
            if !b.letsencrypt_ok {
                return err_debug(
                    500,
                    "Internal Error",
                    &[
                        "Error: Saving debug log to /data/logs/letsencrypt.log",
                        "An unexpected error occurred:",
                        "requests.exceptions.ConnectionError: Failed to resolve 'acme-v02.api.letsencrypt.org' ([Errno -2] Name or service not known)",
                    ],
                );
            }
            st.next_cert += 1;
            let c = cert_row(id, "letsencrypt", domains[0].clone(), domains, 90 * 86_400);
            st.certs.insert(id, (c.clone(), false));
            (201, c)
        }
        "other" => {
            st.next_cert += 1;
            let c = cert_row(id, "other", o.get("nice_name").cloned().unwrap_or(json!("")), json!([]), 0);
            st.certs.insert(id, (c.clone(), false));
            (201, c)
        }
        _ => err_debug(400, "data/provider must be equal to one of the allowed values", &["Error"]),
    }
}

/// Asks the NetBird management behind a proxy-host body (its `forward_host` is the customer's
/// dashboard container) for `/api/instance`, over the Docker network from this host.
fn observe_instance(req: &Req) -> String {
    let body: Value = req.body.as_deref().and_then(|b| serde_json::from_str(b).ok()).unwrap_or(Value::Null);
    let dashboard = body["forward_host"].as_str().unwrap_or("").to_string();
    for svc in ["-server", "-management"] {
        let name = dashboard.replace("-dashboard", svc);
        let out = std::process::Command::new("docker")
            .args(["inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", &name])
            .output();
        let Some(ip) =
            out.ok().and_then(|o| String::from_utf8_lossy(&o.stdout).split_whitespace().next().map(str::to_string))
        else {
            continue;
        };
        let Ok(mut s) = TcpStream::connect(format!("{ip}:80")) else { continue };
        let _ = write!(s, "GET /api/instance HTTP/1.1\r\nHost: {ip}\r\nConnection: close\r\n\r\n");
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        return out.split_once("\r\n\r\n").map(|(_, b)| b.trim().to_string()).unwrap_or(out);
    }
    format!("no management container next to {dashboard}")
}

/// Points the data home of `home` at `standin` as its Nginx Proxy Manager.
pub fn use_in(home: &super::Home, standin: &NpmStandin) {
    let secret = home.file("npm-secret", SECRET);
    for args in [
        vec!["settings", "set", "proxy", "npm"],
        vec!["settings", "set", "npm.url", &standin.url],
        vec!["settings", "set", "npm.identity", IDENTITY],
        vec!["settings", "set", "npm.secret", "--value-file", secret.to_str().unwrap()],
    ] {
        let r = home.run(&args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
    }
}
