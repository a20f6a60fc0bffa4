//! The Reverse Proxy's side of management: proxy tokens
//! (`management/internals/modules/reverseproxy/proxytoken/handler.go`), the clusters the
//! account's proxies form (`service/manager/api.go` getClusters, `sql_store.go`
//! GetProxyClusters) and the proxies' registration.
//!
//! Upstream a proxy registers over a gRPC stream (`management.ProxyService`) authenticated by
//! its token and heartbeats on it; the stand-in proxy posts the same facts (token, cluster
//! address) to one plain HTTP path instead, which only stand-ins use. What nbmsp reads is
//! upstream's: a cluster is listed once a proxy registered, stays listed after it goes away
//! (the reaper removes rows only after an hour), and is `online` while a proxy heartbeated
//! within the last two minutes (`proxyActiveThreshold`) or until its stream closes.

use crate::api::{fresh, iso, now};
use crate::http::{Response, error, json};
use crate::json::Json;

/// Upstream's active window for `online`.
const ACTIVE_S: u64 = 120;

/// A proxy access token (`types/proxy_access_token.go`).
pub struct ProxyToken {
    pub id: String,
    pub name: String,
    pub plain: String,
    pub created: u64,
    /// 0: never expires.
    pub expires: u64,
    pub revoked: bool,
}

/// One registered proxy (a cluster is the proxies of one address).
pub struct Proxy {
    pub id: String,
    pub address: String,
    pub last_seen: u64,
    pub connected: bool,
}

#[derive(Default)]
pub struct Reverse {
    pub tokens: Vec<ProxyToken>,
    pub proxies: Vec<Proxy>,
    pub services: Vec<Service>,
}

fn token_json(t: &ProxyToken, plain: bool) -> String {
    let mut s = format!(
        r#"{{"id":"{}","name":{},"created_at":"{}","revoked":{}"#,
        t.id,
        Json::quote(&t.name),
        iso(t.created),
        t.revoked
    );
    if t.expires > 0 {
        s.push_str(&format!(r#","expires_at":"{}""#, iso(t.expires)));
    }
    if plain {
        s.push_str(&format!(r#","plain_token":{}"#, Json::quote(&t.plain)));
    }
    s.push('}');
    s
}

impl Reverse {
    /// Persisted lines (tokens and services: registrations live as long as the proxies' streams).
    pub fn lines(&self) -> String {
        let services: String = self.services.iter().map(Service::line).collect();
        services
            + &self
                .tokens
            .iter()
            .map(|t| {
                format!(
                    "ptoken\t{{\"id\":{},\"name\":{},\"plain\":{},\"created\":{},\"expires\":{},\"revoked\":{}}}\n",
                    Json::quote(&t.id),
                    Json::quote(&t.name),
                    Json::quote(&t.plain),
                    t.created,
                    t.expires,
                    t.revoked
                )
            })
            .collect::<String>()
    }

    pub fn load_service(&mut self, j: &Json) {
        self.services.push(Service::from_line(j));
    }

    pub fn load_line(&mut self, j: &Json) {
        let s = |k: &str| j.get(k).and_then(Json::as_str).unwrap_or("").to_string();
        let n = |k: &str| j.get(k).and_then(Json::as_i64).unwrap_or(0) as u64;
        self.tokens.push(ProxyToken {
            id: s("id"),
            name: s("name"),
            plain: s("plain"),
            created: n("created"),
            expires: n("expires"),
            revoked: j.get("revoked").and_then(Json::as_bool).unwrap_or(false),
        });
    }

    /// A proxy's heartbeat (or, with `connected` false, its stream closing). Refused unless
    /// the token is known, not revoked and not expired, as upstream's gRPC auth does.
    pub fn heartbeat(&mut self, token: &str, proxy_id: &str, address: &str, connected: bool) -> Result<(), String> {
        let t = self.tokens.iter().find(|t| t.plain == token).ok_or("invalid proxy token")?;
        if t.revoked || (t.expires > 0 && t.expires <= now()) {
            return Err("proxy token revoked or expired".into());
        }
        match self.proxies.iter_mut().find(|p| p.id == proxy_id) {
            Some(p) => {
                p.last_seen = now();
                p.connected = connected;
                p.address = address.to_string();
            }
            None => self.proxies.push(Proxy {
                id: proxy_id.to_string(),
                address: address.to_string(),
                last_seen: now(),
                connected,
            }),
        }
        Ok(())
    }
}

/// The authenticated reverse-proxy paths the stand-in knows.
pub fn known(method: &str, segs: &[&str]) -> bool {
    matches!(
        (method, segs),
        ("GET" | "POST", ["reverse-proxies", "proxy-tokens"])
            | ("DELETE", ["reverse-proxies", "proxy-tokens", _])
            | ("GET", ["reverse-proxies", "clusters"])
            | ("GET" | "POST", ["reverse-proxies", "services"])
            | ("GET" | "PUT" | "DELETE", ["reverse-proxies", "services", _])
    )
}

fn online(r: &Reverse, cluster: &str) -> bool {
    let cutoff = now().saturating_sub(ACTIVE_S);
    r.proxies.iter().any(|p| p.address == cluster && p.connected && p.last_seen > cutoff)
}

/// What of the account a service's targets may name: peers (id, connected, NetBird IP) and
/// network resources (id, type, address as answered).
pub struct Known {
    pub peers: Vec<(String, bool, String)>,
    pub resources: Vec<(String, String, String)>,
}

impl Known {
    /// `replaceHostByLookup`: the address the proxy is sent to — a peer's IP, a host resource's
    /// address, a domain resource's domain, a subnet target's own host; "unknown" for a target
    /// that no longer exists.
    fn host_of(&self, t: &Target) -> String {
        let resource = || self.resources.iter().find(|(id, _, _)| *id == t.id);
        match t.kind.as_str() {
            "peer" => self.peers.iter().find(|(id, _, _)| *id == t.id).map_or("unknown".into(), |p| p.2.clone()),
            "host" => resource().map_or("unknown".into(), |r| r.2.split('/').next().unwrap_or("").to_string()),
            "domain" => resource().map_or("unknown".into(), |r| r.2.clone()),
            _ => t.host.clone(),
        }
    }
}

fn service_json(r: &Reverse, s: &Service, known: &Known) -> String {
    s.json(online(r, &s.cluster), |id| known.peers.iter().any(|(p, c, _)| p == id && *c), |t| known.host_of(t))
}

pub fn route(
    r: &mut Reverse,
    counter: &mut u64,
    known: &Known,
    method: &str,
    segs: &[&str],
    body: &str,
) -> (Response, bool) {
    match (method, segs) {
        ("GET", ["reverse-proxies", "services"]) => {
            // `make([]*api.Service, 0, …)`: `[]` when there is none.
            let list: Vec<String> = r.services.iter().map(|s| service_json(r, s, known)).collect();
            (json(200, &format!("[{}]", list.join(","))), false)
        }
        ("POST", ["reverse-proxies", "services"]) => match service_from(r, body, known, None, counter) {
            Ok(s) => {
                let answer = json(200, &service_json(r, &s, known));
                r.services.push(s);
                (answer, true)
            }
            Err((status, m)) => (error(status, &m), false),
        },
        ("GET", ["reverse-proxies", "services", id]) => match r.services.iter().find(|s| s.id == *id) {
            Some(s) => (json(200, &service_json(r, s, known)), false),
            None => (error(404, &format!("service {id} not found")), false),
        },
        ("PUT", ["reverse-proxies", "services", id]) => {
            let Some(i) = r.services.iter().position(|s| s.id == *id) else {
                return (error(404, &format!("service {id} not found")), false);
            };
            match service_from(r, body, known, Some(&r.services[i]), counter) {
                Ok(s) => {
                    let answer = json(200, &service_json(r, &s, known));
                    r.services[i] = s;
                    (answer, true)
                }
                Err((status, m)) => (error(status, &m), false),
            }
        }
        ("DELETE", ["reverse-proxies", "services", id]) => match r.services.iter().position(|s| s.id == *id) {
            Some(i) => {
                r.services.remove(i);
                (json(200, "{}"), true)
            }
            None => (error(404, &format!("service {id} not found")), false),
        },
        ("POST", ["reverse-proxies", "proxy-tokens"]) => {
            // `json.NewDecoder(r.Body).Decode(&req)`: wrong types are a 400 like bad JSON.
            let Ok(j) = Json::parse(body) else { return (error(400, "couldn't parse JSON request"), false) };
            let name = match j.get("name") {
                None => String::new(),
                Some(v) => match v.as_str() {
                    Some(s) => s.to_string(),
                    None => return (error(400, "couldn't parse JSON request"), false),
                },
            };
            let expires_in = match j.get("expires_in") {
                None => 0,
                Some(v) => match v.as_i64() {
                    Some(n) => n,
                    None => return (error(400, "couldn't parse JSON request"), false),
                },
            };
            if name.is_empty() || name.len() > 255 {
                return (error(400, "name is required and must be at most 255 characters"), false);
            }
            if expires_in < 0 {
                return (error(400, "expires_in must be non-negative"), false);
            }
            let created = now();
            let t = ProxyToken {
                id: fresh(counter, 20),
                name,
                plain: format!("nbx_{}", fresh(counter, 36)),
                created,
                expires: if expires_in > 0 { created + expires_in as u64 } else { 0 },
                revoked: false,
            };
            let answer = json(200, &token_json(&t, true));
            r.tokens.push(t);
            (answer, true)
        }
        ("GET", ["reverse-proxies", "proxy-tokens"]) => {
            // `make([]api.ProxyToken, 0, …)`: an empty list is `[]`, not `null`.
            let list: Vec<String> = r.tokens.iter().map(|t| token_json(t, false)).collect();
            (json(200, &format!("[{}]", list.join(","))), false)
        }
        ("DELETE", ["reverse-proxies", "proxy-tokens", id]) => match r.tokens.iter_mut().find(|t| t.id == *id) {
            // Revoked, not removed: it stays listed with `revoked: true`.
            Some(t) => {
                t.revoked = true;
                (json(200, "{}"), true)
            }
            None => (error(404, "token not found"), false),
        },
        ("GET", ["reverse-proxies", "clusters"]) => {
            let mut addresses: Vec<&str> = r.proxies.iter().map(|p| p.address.as_str()).collect();
            addresses.sort_unstable();
            addresses.dedup();
            let cutoff = now().saturating_sub(ACTIVE_S);
            let list: Vec<String> = addresses
                .iter()
                .map(|a| {
                    let of: Vec<&Proxy> = r.proxies.iter().filter(|p| p.address == *a).collect();
                    let connected = of.iter().filter(|p| p.connected && p.last_seen > cutoff).count();
                    format!(
                        r#"{{"id":"{}","address":{},"type":"account","online":{},"connected_proxies":{connected},"supports_custom_ports":true,"require_subdomain":false,"supports_crowdsec":false,"private":false}}"#,
                        of.iter().map(|p| p.id.as_str()).min().unwrap_or_default(),
                        Json::quote(a),
                        connected > 0
                    )
                })
                .collect();
            (json(200, &format!("[{}]", list.join(","))), false)
        }
        _ => (Response::Body { status: 404, ctype: "text/plain", body: "404 page not found\n".into() }, false),
    }
}

/// One target of a service (`ServiceTarget`): what nbmsp sends and reads back.
#[derive(Clone)]
pub struct Target {
    pub id: String,
    pub kind: String,
    pub protocol: String,
    pub port: i64,
    pub enabled: bool,
    /// As sent: only a subnet target's is kept (the others are looked up).
    pub host: String,
}

/// A published service (`service/service.go`); secrets kept as given (upstream hashes them).
pub struct Service {
    pub id: String,
    pub name: String,
    pub domain: String,
    pub cluster: String,
    pub targets: Vec<Target>,
    pub enabled: bool,
    pub pin: Option<(bool, String)>,
    pub password: Option<(bool, String)>,
    pub bearer: bool,
    pub created: u64,
}

/// Why a request body is not a service: (status, message), upstream's words lower-cased by
/// `util.WriteError` for InvalidArgument (422).
type Refusal = (u16, String);

fn bad_body() -> Refusal {
    (400, "couldn't parse JSON request".into())
}

/// Decodes a `ServiceRequest` as Go's decoder would (wrong types 400, missing fields zero).
fn decode(body: &str) -> Result<(String, String, String, Vec<Target>, bool, Option<(bool, String)>, Option<(bool, String)>, bool), Refusal> {
    let j = Json::parse(body).map_err(|_| bad_body())?;
    let text = |v: Option<&Json>| -> Result<String, Refusal> {
        match v {
            None => Ok(String::new()),
            Some(x) if x.is_null() => Ok(String::new()),
            Some(x) => x.as_str().map(str::to_string).ok_or_else(bad_body),
        }
    };
    let flag = |v: Option<&Json>| -> Result<bool, Refusal> {
        match v {
            None => Ok(false),
            Some(x) => x.as_bool().ok_or_else(bad_body),
        }
    };
    let mut targets = Vec::new();
    if let Some(list) = j.get("targets").filter(|v| !v.is_null()) {
        for t in list.as_array().ok_or_else(bad_body)? {
            targets.push(Target {
                id: text(t.get("target_id"))?,
                kind: text(t.get("target_type"))?,
                protocol: text(t.get("protocol"))?,
                port: t.get("port").map_or(Ok(0), |p| p.as_i64().ok_or_else(bad_body))?,
                enabled: flag(t.get("enabled"))?,
                host: text(t.get("host"))?,
            });
        }
    }
    let secret = |key: &str, field: &str| -> Result<Option<(bool, String)>, Refusal> {
        let Some(a) = j.get("auth").and_then(|a| a.get(key)).filter(|v| !v.is_null()) else { return Ok(None) };
        Ok(Some((flag(a.get("enabled"))?, text(a.get(field))?)))
    };
    let bearer = match j.get("auth").and_then(|a| a.get("bearer_auth")).filter(|v| !v.is_null()) {
        Some(b) => flag(b.get("enabled"))?,
        None => false,
    };
    let mode = text(j.get("mode"))?;
    Ok((
        text(j.get("name"))?,
        text(j.get("domain"))?,
        if mode.is_empty() { "http".into() } else { mode },
        targets,
        flag(j.get("enabled"))?,
        secret("pin_auth", "pin")?,
        secret("password_auth", "password")?,
        bearer,
    ))
}

impl Service {
    /// `ToAPIResponse`: auth says only what is enabled, never a secret. The status is the
    /// proxy's report (`meta.status`): pending until its cluster is online, then active when the
    /// target peer is connected, `tunnel_not_created` when it is not.
    pub fn json(
        &self,
        cluster_online: bool,
        peer_connected: impl Fn(&str) -> bool,
        host_of: impl Fn(&Target) -> String,
    ) -> String {
        let status = if !cluster_online {
            "pending"
        } else if self.targets.iter().all(|t| t.kind != "peer" || peer_connected(&t.id)) {
            "active"
        } else {
            "tunnel_not_created"
        };
        let targets: Vec<String> = self
            .targets
            .iter()
            .map(|t| {
                format!(
                    r#"{{"target_id":{},"target_type":{},"host":{},"protocol":{},"port":{},"enabled":{},"options":{{}}}}"#,
                    Json::quote(&t.id),
                    Json::quote(&t.kind),
                    Json::quote(&host_of(t)),
                    Json::quote(&t.protocol),
                    t.port,
                    t.enabled
                )
            })
            .collect();
        let mut auth = Vec::new();
        if let Some((on, _)) = &self.password {
            auth.push(format!(r#""password_auth":{{"enabled":{on}}}"#));
        }
        if let Some((on, _)) = &self.pin {
            auth.push(format!(r#""pin_auth":{{"enabled":{on}}}"#));
        }
        if self.bearer {
            auth.push(r#""bearer_auth":{"enabled":true,"distribution_groups":[]}"#.to_string());
        }
        format!(
            r#"{{"id":"{}","name":{},"domain":{},"mode":"http","proxy_cluster":{},"targets":[{}],"enabled":{},"terminated":false,"pass_host_header":false,"rewrite_redirects":false,"auth":{{{}}},"meta":{{"created_at":"{}","status":"{status}"}},"private":false}}"#,
            self.id,
            Json::quote(&self.name),
            Json::quote(&self.domain),
            Json::quote(&self.cluster),
            targets.join(","),
            self.enabled,
            auth.join(","),
            iso(self.created)
        )
    }

    pub fn line(&self) -> String {
        let targets: Vec<String> = self
            .targets
            .iter()
            .map(|t| format!("{}|{}|{}|{}|{}|{}", t.id, t.kind, t.protocol, t.port, t.enabled, t.host))
            .collect();
        let secret = |s: &Option<(bool, String)>| match s {
            None => "null".to_string(),
            Some((on, v)) => format!(r#"{{"enabled":{on},"value":{}}}"#, Json::quote(v)),
        };
        format!(
            "service\t{{\"id\":{},\"name\":{},\"domain\":{},\"cluster\":{},\"targets\":{},\"enabled\":{},\"pin\":{},\"password\":{},\"bearer\":{},\"created\":{}}}\n",
            Json::quote(&self.id),
            Json::quote(&self.name),
            Json::quote(&self.domain),
            Json::quote(&self.cluster),
            Json::quote(&targets.join(";")),
            self.enabled,
            secret(&self.pin),
            secret(&self.password),
            self.bearer,
            self.created
        )
    }

    pub fn from_line(j: &Json) -> Service {
        let s = |k: &str| j.get(k).and_then(Json::as_str).unwrap_or("").to_string();
        let secret = |k: &str| {
            j.get(k).filter(|v| !v.is_null()).map(|v| {
                (v.get("enabled").and_then(Json::as_bool).unwrap_or(false), v.get("value").and_then(Json::as_str).unwrap_or("").to_string())
            })
        };
        let targets = s("targets")
            .split(';')
            .filter(|t| !t.is_empty())
            .map(|t| {
                let f: Vec<&str> = t.split('|').collect();
                Target {
                    id: f.first().unwrap_or(&"").to_string(),
                    kind: f.get(1).unwrap_or(&"").to_string(),
                    protocol: f.get(2).unwrap_or(&"").to_string(),
                    port: f.get(3).and_then(|p| p.parse().ok()).unwrap_or(0),
                    enabled: f.get(4) == Some(&"true"),
                    host: f.get(5).unwrap_or(&"").to_string(),
                }
            })
            .collect();
        Service {
            id: s("id"),
            name: s("name"),
            domain: s("domain"),
            cluster: s("cluster"),
            targets,
            enabled: j.get("enabled").and_then(Json::as_bool).unwrap_or(false),
            pin: secret("pin"),
            password: secret("password"),
            bearer: j.get("bearer").and_then(Json::as_bool).unwrap_or(false),
            created: j.get("created").and_then(Json::as_i64).unwrap_or(0) as u64,
        }
    }
}

/// `Validate`, the cluster derivation and the target checks of a create or update, in
/// upstream's order; `existing` is the service being replaced (its secrets are kept when the
/// request enables an auth without one: `preserveExistingAuthSecrets`).
pub fn service_from(
    r: &Reverse,
    body: &str,
    known: &Known,
    existing: Option<&Service>,
    counter: &mut u64,
) -> Result<Service, Refusal> {
    let (name, domain, mode, targets, enabled, mut pin, mut password, bearer) = decode(body)?;
    let invalid = |m: String| (422u16, m.to_lowercase());
    if name.is_empty() {
        return Err(invalid("service name is required".into()));
    }
    if name.len() > 255 {
        return Err(invalid("service name exceeds maximum length of 255 characters".into()));
    }
    if targets.is_empty() {
        return Err(invalid("at least one target is required".into()));
    }
    if mode != "http" {
        return Err(invalid(format!("unsupported mode {mode:?}")));
    }
    if domain.is_empty() {
        return Err(invalid("service domain is required".into()));
    }
    for (i, t) in targets.iter().enumerate() {
        if !["peer", "host", "domain", "subnet", "cluster"].contains(&t.kind.as_str()) {
            return Err(invalid(format!("target {i} has invalid target_type {:?}", t.kind)));
        }
        // `validateHTTPTargets`: a subnet target names the address inside it.
        if t.kind == "subnet" && t.host.is_empty() {
            return Err(invalid(format!("target {i} has empty host but target_type is {:?}", t.kind)));
        }
        if t.id.is_empty() {
            return Err(invalid(format!("target {i} has empty target_id")));
        }
    }
    let cutoff = now().saturating_sub(ACTIVE_S);
    let online: Vec<&str> =
        r.proxies.iter().filter(|p| p.connected && p.last_seen > cutoff).map(|p| p.address.as_str()).collect();
    let cluster = match existing {
        Some(e) if e.domain == domain => e.cluster.clone(),
        _ => {
            if online.is_empty() {
                return Err((412, format!("could not derive cluster from domain {domain}: no proxy clusters available")));
            }
            match online.iter().find(|c| domain == **c || domain.ends_with(&format!(".{c}"))) {
                Some(c) => c.to_string(),
                None => {
                    return Err((
                        412,
                        format!(
                            "could not derive cluster from domain {domain}: domain {domain} does not match any available proxy cluster"
                        ),
                    ));
                }
            }
        }
    };
    // `validateTargetReferences`: peers and network resources must exist, a resource's type
    // must be the target's.
    for t in &targets {
        match t.kind.as_str() {
            "peer" if !known.peers.iter().any(|(id, _, _)| *id == t.id) => {
                return Err(invalid(format!("peer target {:?} not found in account", t.id)));
            }
            "host" | "subnet" | "domain" => match known.resources.iter().find(|(id, _, _)| *id == t.id) {
                None => return Err(invalid(format!("resource target {:?} not found in account", t.id))),
                Some((_, kind, _)) if *kind != t.kind => {
                    return Err(invalid(format!(
                        "target {:?} has target_type {:?} but resource is of type {:?}",
                        t.id, t.kind, kind
                    )));
                }
                Some(_) => {}
            },
            _ => {}
        }
    }
    if r.services.iter().any(|s| s.domain == domain && existing.is_none_or(|e| e.id != s.id)) {
        return Err((409, "domain already taken".into()));
    }
    if let Some(e) = existing {
        if matches!(&pin, Some((true, p)) if p.is_empty()) && matches!(&e.pin, Some((true, _))) {
            pin = e.pin.clone();
        }
        if matches!(&password, Some((true, p)) if p.is_empty()) && matches!(&e.password, Some((true, _))) {
            password = e.password.clone();
        }
    }
    Ok(Service {
        id: existing.map_or_else(|| fresh(counter, 20), |e| e.id.clone()),
        name,
        domain,
        cluster,
        targets,
        enabled,
        pin,
        password,
        bearer,
        created: existing.map_or_else(now, |e| e.created),
    })
}
