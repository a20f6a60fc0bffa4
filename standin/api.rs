//! The part of NetBird's management HTTP API nbmsp touches, with upstream's status codes and
//! error texts (netbirdio/netbird v0.77.1):
//!
//! - `GET /api/instance`, `POST /api/setup`: `management/server/http/handlers/instance/instance_handler.go`,
//!   `management/server/instance/manager.go` (validation, "setup already completed" as 412) and
//!   `setup_service.go` (a PAT only with `NB_SETUP_PAT_ENABLED=true`, `pat_expire_in` 1..365, default 1).
//! - Token auth: `management/server/http/middleware/auth_middleware.go` (`Authorization: Token …`;
//!   a malformed or expired token is 401 "token invalid"; a well-formed token the store does not
//!   have (revoked, or another instance's) is **404** "invalid token: pat: <hash> not found":
//!   `auth/manager.go` `extractPATFromToken` passes `sql_store.go`'s `NewPATNotFoundError` through,
//!   `status/error.go` maps NotFound to 404; no header is 401 "no valid authentication provided").
//!   "Well-formed" is modelled as upstream's prefix and length (`nbp_`, 40 characters); its
//!   CRC32 checksum is not checked here (a bad one is a 401, as a malformed token).
//! - `/api/users/{id}/tokens`: `management/server/http/handlers/users/pat_handler.go`.
//! - Errors: `shared/management/http/util/util.go` (`{"message","code"}`, messages lower-cased).
//!
//! State lives in the data dir, so it survives restarts and follows the volume like the real store.

use std::fs;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::account::Account;
use crate::http::{Request, Response, error, json};
use crate::json::Json;

const DAY: u64 = 86_400;

struct Token {
    id: String,
    name: String,
    plain: String,
    created: u64,
    expires: u64,
}

/// One instance's accounts as the stand-in keeps them.
pub struct Store {
    file: String,
    /// Whether the embedded IdP is on (setup works only then).
    embedded_idp: bool,
    /// `NB_SETUP_PAT_ENABLED=true` in the environment.
    setup_pat: bool,
    issuer: String,
    /// The owner's user id and email.
    pub owner: Option<(String, String)>,
    tokens: Vec<Token>,
    pub counter: u64,
    /// Peers, setup keys, users and groups (`account.rs`).
    pub account: Account,
    /// Proxy tokens and registered proxies (`reverse.rs`).
    pub reverse: crate::reverse::Reverse,
}

pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// A random-looking id from the clock, the pid and a counter (no RNG in std).
pub fn fresh(counter: &mut u64, len: usize) -> String {
    *counter += 1;
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let mut out = String::new();
    let mut seed = crate::fnv(format!("{nanos}{}{counter}", std::process::id()).as_bytes());
    while out.len() < len {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        out.push_str(&format!("{:016x}", seed));
    }
    out.truncate(len);
    out
}

pub fn iso(secs: u64) -> String {
    // Civil-from-days (Howard Hinnant's algorithm), so RFC 3339 needs no crate.
    let days = (secs / DAY) as i64;
    let rem = secs % DAY;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, (rem / 60) % 60, rem % 60)
}

impl Store {
    pub fn load(data_dir: &str, embedded_idp: bool, issuer: &str) -> Store {
        let file = format!("{data_dir}/standin-store.txt");
        let mut s = Store {
            file,
            embedded_idp,
            setup_pat: std::env::var("NB_SETUP_PAT_ENABLED").as_deref() == Ok("true"),
            issuer: issuer.to_string(),
            owner: None,
            tokens: Vec::new(),
            counter: 0,
            account: Account::default(),
            reverse: Default::default(),
        };
        for line in fs::read_to_string(&s.file).unwrap_or_default().lines() {
            let f: Vec<&str> = line.split('\t').collect();
            match f.as_slice() {
                ["owner", id, email] => s.owner = Some((id.to_string(), email.to_string())),
                ["token", id, name, plain, created, expires] => s.tokens.push(Token {
                    id: id.to_string(),
                    name: name.to_string(),
                    plain: plain.to_string(),
                    created: created.parse().unwrap_or(0),
                    expires: expires.parse().unwrap_or(0),
                }),
                ["service", rest] => {
                    if let Ok(j) = Json::parse(rest) {
                        s.reverse.load_service(&j);
                    }
                }
                ["ptoken", rest] => {
                    if let Ok(j) = Json::parse(rest) {
                        s.reverse.load_line(&j);
                    }
                }
                [kind, rest] => {
                    s.account.load_line(kind, rest);
                }
                _ => {}
            }
        }
        // A data dir from before accounts were kept: give the owner the account setup makes.
        if let (Some((id, email)), None) = (s.owner.clone(), s.account.all_group()) {
            crate::admin::seed(&mut s.account, &id, &email, "", &mut s.counter);
            s.save();
        }
        s
    }

    pub fn save(&self) {
        let mut out = String::new();
        if let Some((id, email)) = &self.owner {
            out.push_str(&format!("owner\t{id}\t{email}\n"));
        }
        for t in &self.tokens {
            out.push_str(&format!("token\t{}\t{}\t{}\t{}\t{}\n", t.id, t.name, t.plain, t.created, t.expires));
        }
        out.push_str(&self.account.lines());
        out.push_str(&self.reverse.lines());
        if let Err(e) = fs::write(&self.file, out) {
            crate::log("management", "ERROR", &format!("cannot write {}: {e}", self.file));
        }
    }

    fn setup_required(&self) -> bool {
        self.embedded_idp && self.owner.is_none()
    }

    fn new_token(&mut self, name: &str, days: u64) -> &Token {
        let created = now();
        let plain = format!("nbp_{}", fresh(&mut self.counter, 36));
        let id = fresh(&mut self.counter, 20);
        self.tokens.push(Token { id, name: name.to_string(), plain, created, expires: created + days * DAY });
        self.save();
        self.tokens.last().expect("just pushed")
    }

    fn token_json(t: &Token, owner: &str) -> String {
        format!(
            r#"{{"id":"{}","name":{},"expiration_date":"{}","created_by":"{owner}","created_at":"{}"}}"#,
            t.id,
            Json::quote(&t.name),
            iso(t.expires),
            iso(t.created)
        )
    }
}

/// Routes a request to the management API; `None` for paths the API does not own.
pub fn route(store: &Mutex<Store>, req: &Request) -> Option<Response> {
    let mut st = match store.lock() {
        Ok(s) => s,
        Err(p) => p.into_inner(),
    };
    let path = req.path.as_str();
    let answer = match (req.method.as_str(), path) {
        ("GET", "/api/instance") => json(200, &format!(r#"{{"setup_required":{}}}"#, st.setup_required())),
        ("POST", "/api/setup") => setup(&mut st, req),
        ("GET", "/oauth2/.well-known/openid-configuration") => json(
            200,
            &format!(
                r#"{{"issuer":{0},"authorization_endpoint":{1},"token_endpoint":{2},"jwks_uri":{3}}}"#,
                Json::quote(&st.issuer),
                Json::quote(&format!("{}/auth", st.issuer)),
                Json::quote(&format!("{}/token", st.issuer)),
                Json::quote(&format!("{}/keys", st.issuer)),
            ),
        ),
        (_, p) if p.starts_with("/api/") => authenticated(&mut st, req)?,
        // The stand-in proxy's registration and heartbeat (upstream: a gRPC stream).
        ("POST", "/management.ProxyService/StandinHeartbeat") => {
            let Ok(b) = Json::parse(&req.body) else { return Some(error(400, "bad heartbeat")) };
            let s = |k: &str| b.get(k).and_then(Json::as_str).unwrap_or("").to_string();
            let connected = b.get("connected").and_then(Json::as_bool).unwrap_or(true);
            match st.reverse.heartbeat(&s("token"), &s("proxy_id"), &s("address"), connected) {
                Ok(()) => json(200, "{}"),
                Err(e) => error(401, &e),
            }
        }
        _ => return None,
    };
    Some(answer)
}

/// Whether every field of `body` named in `fields` has the JSON type Go's decoder needs
/// (`s` string, `b` bool, `n` number); a missing or null field is fine (a zero value).
fn typed(body: &Json, fields: &[(&str, char)]) -> bool {
    fields.iter().all(|(k, t)| match body.get(k) {
        None => true,
        Some(v) if v.is_null() => true,
        Some(v) => match t {
            's' => v.as_str().is_some(),
            'b' => v.as_bool().is_some(),
            _ => v.as_i64().is_some(),
        },
    })
}

fn setup(st: &mut Store, req: &Request) -> Response {
    let Ok(body) = Json::parse(&req.body) else { return error(400, "invalid request body") };
    // `instance_handler.go`: a body Go cannot decode into SetupRequest (a wrong type) is the same 400.
    if !typed(&body, &[("email", 's'), ("password", 's'), ("name", 's'), ("create_pat", 'b'), ("pat_expire_in", 'n')]) {
        return error(400, "invalid request body");
    }
    let text = |k: &str| body.get(k).and_then(Json::as_str).unwrap_or("").to_string();
    let (email, password, name) = (text("email"), text("password"), text("name"));
    let create_pat = body.get("create_pat").and_then(Json::as_bool).unwrap_or(false) && st.setup_pat;
    let expire_in = body.get("pat_expire_in").filter(|v| !v.is_null()).map(|v| v.as_i64().unwrap_or(0));
    if create_pat && expire_in.is_some_and(|d| !(1..=365).contains(&d)) {
        return error(422, "pat_expire_in must be between 1 and 365");
    }
    if !st.embedded_idp {
        return error(500, "internal server error");
    }
    let invalid = if email.is_empty() {
        Some("email is required")
    } else if !valid_email(&email) {
        Some("invalid email format")
    } else if name.is_empty() {
        Some("name is required")
    } else if password.is_empty() {
        Some("password is required")
    } else if password.len() < 8 {
        Some("password must be at least 8 characters")
    } else if password.len() > 72 {
        Some("password must be at most 72 characters")
    } else {
        None
    };
    if let Some(msg) = invalid {
        return error(422, msg);
    }
    if !st.setup_required() {
        return error(412, "setup already completed");
    }
    let user_id = fresh(&mut st.counter, 24);
    st.owner = Some((user_id.clone(), email.clone()));
    crate::admin::seed(&mut st.account, &user_id, &email, &name, &mut st.counter);
    st.account.push_event("account.create", "Account created", &user_id, &user_id, Vec::new());
    st.save();
    let pat = if create_pat {
        let days = expire_in.unwrap_or(1) as u64;
        format!(r#","personal_access_token":{}"#, Json::quote(&st.new_token("setup-token", days).plain.clone()))
    } else {
        String::new()
    };
    crate::log("management", "INFO", &format!("instance setup completed: created user {email}"));
    json(200, &format!(r#"{{"user_id":"{user_id}","email":{}{pat}}}"#, Json::quote(&email)))
}

/// Roughly Go's `mail.ParseAddress` for plain addresses: one `@`, both sides present, no spaces.
fn valid_email(e: &str) -> bool {
    let mut parts = e.split('@');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(l), Some(d), None) => !l.is_empty() && !d.is_empty() && !e.contains(char::is_whitespace),
        _ => false,
    }
}

/// The authenticated paths the stand-in knows (a subset of upstream's router).
fn known(method: &str, segs: &[&str]) -> bool {
    matches!(
        (method, segs),
        ("GET", ["users", "current"])
            | ("GET" | "POST", ["users", _, "tokens"])
            | ("DELETE", ["users", _, "tokens", _])
    )
}

/// Which paths a module of the account answers.
type Known = fn(&str, &[&str]) -> bool;
/// A module's answer to an authenticated request, and whether the account changed.
type Route = fn(&mut crate::account::Account, &mut u64, &str, &[&str], &str) -> (Response, bool);

/// The account's modules that answer on their own (each saved when it changed something).
const ACCOUNT_ROUTES: [(Known, Route); 6] = [
    (crate::routes::known, crate::routes::route),
    (crate::networks::known, crate::networks::route),
    (crate::posture::known, crate::posture::route),
    (crate::nameservers::known, crate::nameservers::route),
    (crate::idps::known, crate::idps::route),
    (crate::policies::known, crate::policies::route),
];

/// An authenticated request, answered, and recorded as an audit event when it changed something
/// upstream records (`events.rs`).
fn authenticated(st: &mut Store, req: &Request) -> Option<Response> {
    let segs: Vec<&str> = req.path.trim_start_matches("/api/").split('/').collect();
    let answer = routed(st, req)?;
    if let Response::Body { status, body, .. } = &answer {
        let owner = st.owner.as_ref().map(|o| o.0.clone()).unwrap_or_default();
        let before = st.account.events.len();
        crate::events::record(&mut st.account, &owner, &req.method, &segs, &req.body, body, (200..300).contains(status));
        if st.account.events.len() != before {
            st.save();
        }
    }
    Some(answer)
}

fn routed(st: &mut Store, req: &Request) -> Option<Response> {
    // gorilla/mux runs the auth middleware only for a matched route: an unknown path is a 404
    // whatever the token.
    let segs: Vec<&str> = req.path.trim_start_matches("/api/").split('/').collect();
    let matches = |m: &str| {
        known(m, &segs)
            || crate::admin::known(m, &segs)
            || crate::reverse::known(m, &segs)
            || crate::events::known(m, &segs)
            || ACCOUNT_ROUTES.iter().any(|(k, _)| k(m, &segs))
    };
    if !matches(&req.method) && ["GET", "POST", "PUT", "DELETE"].iter().any(|m| matches(m)) {
        // gorilla/mux: the path is routed but not for this method, before any middleware.
        return Some(Response::Body { status: 405, ctype: "text/plain", body: String::new() });
    }
    if !matches(&req.method) {
        return Some(Response::Body { status: 404, ctype: "text/plain", body: "404 page not found\n".into() });
    }
    let Some(auth) = req.header("authorization") else {
        return Some(error(401, "no valid authentication provided"));
    };
    let pat = auth.strip_prefix("Token ").map(str::trim).unwrap_or_default();
    if !(pat.starts_with("nbp_") && pat.len() == 40) {
        return Some(error(401, "token invalid"));
    }
    match st.tokens.iter().find(|t| t.plain == pat) {
        None => return Some(error(404, &format!("invalid token: pat: {} not found", hashed(pat)))),
        Some(t) if t.expires <= now() => return Some(error(401, "token invalid")),
        Some(_) => {}
    }
    let owner_id = st.owner.as_ref().map(|o| o.0.clone()).unwrap_or_default();
    if crate::reverse::known(&req.method, &segs) {
        let known = crate::reverse::Known {
            peers: st.account.peers.iter().map(|p| (p.id.clone(), p.connected, p.ip.clone())).collect(),
            resources: st.account.resources.iter().map(|r| (r.id.clone(), r.kind.clone(), r.address.clone())).collect(),
        };
        let (answer, changed) =
            crate::reverse::route(&mut st.reverse, &mut st.counter, &known, &req.method, &segs, &req.body);
        if changed {
            st.save();
        }
        return Some(answer);
    }
    if crate::events::known(&req.method, &segs) {
        return Some(json(200, &crate::events::list(&st.account)));
    }
    for (known, route) in ACCOUNT_ROUTES {
        if known(&req.method, &segs) {
            let (answer, changed) = route(&mut st.account, &mut st.counter, &req.method, &segs, &req.body);
            if changed {
                st.save();
            }
            return Some(answer);
        }
    }
    if !known(&req.method, &segs) {
        return crate::admin::route(st, &req.method, &segs, &req.body, req.param("service_user"));
    }
    let answer = match (req.method.as_str(), segs.as_slice()) {
        ("GET", ["users", "current"]) => {
            let email = st.owner.as_ref().map(|o| o.1.clone()).unwrap_or_default();
            json(
                200,
                &format!(
                    r#"{{"id":"{owner_id}","email":{},"name":"","role":"owner","status":"active","auto_groups":[],"is_service_user":false,"is_blocked":false}}"#,
                    Json::quote(&email)
                ),
            )
        }
        (_, ["users", uid, "tokens", ..]) if *uid != owner_id => error(404, &format!("user: {uid} not found")),
        ("GET", ["users", _, "tokens"]) => {
            // `pat_handler.go` `getAllTokens`: a user without tokens is Go's nil slice, `null`.
            let list: Vec<String> = st.tokens.iter().map(|t| Store::token_json(t, &owner_id)).collect();
            json(200, &if list.is_empty() { "null".to_string() } else { format!("[{}]", list.join(",")) })
        }
        ("POST", ["users", _, "tokens"]) => {
            let Ok(body) = Json::parse(&req.body) else { return Some(error(400, "couldn't parse JSON request")) };
            // `pat_handler.go`: a wrong type fails the decode like bad JSON.
            if !typed(&body, &[("name", 's'), ("expires_in", 'n')]) {
                return Some(error(400, "couldn't parse JSON request"));
            }
            let name = body.get("name").and_then(Json::as_str).unwrap_or("").to_string();
            let days = body.get("expires_in").and_then(Json::as_i64).unwrap_or(0);
            if name.is_empty() {
                error(422, "token name can't be empty")
            } else if !(1..=365).contains(&days) {
                error(422, "expiration has to be between 1 and 365")
            } else {
                let t = st.new_token(&name, days as u64);
                let generated = format!(
                    r#"{{"plain_token":{},"personal_access_token":{}}}"#,
                    Json::quote(&t.plain),
                    Store::token_json(t, &owner_id)
                );
                json(200, &generated)
            }
        }
        ("DELETE", ["users", _, "tokens", tid]) => match st.tokens.iter().position(|t| t.id == *tid) {
            Some(i) => {
                st.tokens.remove(i);
                st.save();
                json(200, "{}")
            }
            None => error(404, &format!("pat: {tid} not found")),
        },
        _ => Response::Body { status: 404, ctype: "text/plain", body: "404 page not found\n".into() },
    };
    Some(answer)
}

/// What upstream puts in its "not found" message in place of a token: its hash (SHA-256,
/// base64, as the store keeps it). A stand-in stand-in: FNV-1a in hex, the point being that the
/// token itself never appears.
fn hashed(pat: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in pat.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}
