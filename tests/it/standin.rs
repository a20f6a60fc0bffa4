//! The NetBird stand-in images must answer what upstream (netbirdio/netbird v0.77.1) answers,
//! inconvenient parts included: these tests run each image on the real engine and hold it to
//! the behaviours listed in `standin/README.md`. A stand-in that answered what nbmsp hopes for
//! (a 200 health, an API up at once, a setup that works twice) fails here.

use crate::common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

/// A container removed when the test ends, however it ends.
struct Container(String);

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rm", "-f", &self.0]).output();
    }
}

fn unique(tag: &str) -> String {
    let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("nbmsp-standin-{tag}-{:x}{n:x}", std::process::id())
}

/// `docker run -d` of a stand-in image; returns the guard and the container's bridge address.
fn run(image: &str, tag: &str, args: &[&str], cmd: &[&str]) -> (Container, String) {
    let name = unique(tag);
    let out = Command::new("docker")
        .args(["run", "-d", "--name", &name])
        .args(args)
        .arg(format!("nbmsp-standin/{image}:latest"))
        .args(cmd)
        .output()
        .unwrap();
    assert!(out.status.success(), "docker run: {}", String::from_utf8_lossy(&out.stderr));
    let guard = Container(name.clone());
    let ip = ip_of(&name);
    (guard, ip)
}

fn ip_of(name: &str) -> String {
    let ip = Command::new("docker")
        .args(["inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", name])
        .output()
        .unwrap();
    String::from_utf8_lossy(&ip.stdout).trim().to_string()
}

/// Waits for the container to exit and returns its exit code and logs.
fn exited(c: &Container) -> (i64, String) {
    let out = Command::new("docker").args(["wait", &c.0]).output().unwrap();
    let code = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    let logs = Command::new("docker").args(["logs", &c.0]).output().unwrap();
    (code, String::from_utf8_lossy(&logs.stdout).into_owned() + &String::from_utf8_lossy(&logs.stderr))
}

/// One request to the container at `ip`; `Err` when nothing listens.
fn http(
    ip: &str,
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<(u16, String)> {
    common::http::request(&format!("{ip}:{port}"), method, path, headers, Some(body).filter(|b| !b.is_empty()))
}

/// Polls `f` until it returns `Some` or `limit` passes (the stand-in's start-up is the event).
fn until<T>(limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let end = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < end, "condition not reached within {limit:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn config(dir: &std::path::Path, body: &str) -> String {
    let path = dir.join("config.yaml");
    std::fs::write(&path, body).unwrap();
    format!("{}:/etc/netbird/config.yaml:ro", path.display())
}

const COMBINED: &str = "server:\n  listenAddress: \":80\"\n  exposedAddress: \"https://nb.example:443\"\n  stunPorts: [3478]\n  authSecret: \"s3cret\"\n  dataDir: \"/var/lib/netbird\"\n  store:\n    encryptionKey: \"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\"\n";

#[test]
fn combined_server_comes_up_late_reports_503_health_and_sets_up_once() {
    if !common::docker::available("combined_server_standin") {
        return;
    }
    common::docker::standin_images();
    let dir = tempfile::tempdir().unwrap();
    let vol = config(dir.path(), COMBINED);
    let (c, ip) = run(
        "netbird-server",
        "late",
        &["-v", &vol, "-e", "NB_SETUP_PAT_ENABLED=true", "-e", "STANDIN_STARTUP_DELAY_MS=4000"],
        &[],
    );
    // The management API is not there while the server starts (store migrations, embedded IdP).
    assert!(http(&ip, 80, "GET", "/api/instance", &[], "").is_err(), "the API answered before its start-up delay");
    let (status, body) = until(Duration::from_secs(20), || http(&ip, 80, "GET", "/api/instance", &[], "").ok());
    assert_eq!((status, body.trim()), (200, r#"{"setup_required":true}"#));
    // Health is 503 by design in combined mode: the relay has no listener of its own.
    let (status, body) = http(&ip, 9000, "GET", "/health", &[], "").unwrap();
    assert_eq!(status, 503, "{body}");
    assert!(body.contains(r#""status":"unhealthy""#), "{body}");
    // Setup validates like upstream and works once.
    let (status, body) =
        http(&ip, 80, "POST", "/api/setup", &[], r#"{"email":"a@b.example","password":"longenough"}"#).unwrap();
    assert_eq!((status, body.trim()), (422, r#"{"message":"name is required","code":422}"#));
    let setup = r#"{"email":"a@b.example","password":"longenough","name":"A","create_pat":true,"pat_expire_in":1}"#;
    let (status, body) = http(&ip, 80, "POST", "/api/setup", &[], setup).unwrap();
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    let pat = answer["personal_access_token"].as_str().unwrap().to_string();
    assert!(pat.starts_with("nbp_") && answer["user_id"].as_str().is_some_and(|u| !u.is_empty()), "{body}");
    let (status, body) = http(&ip, 80, "POST", "/api/setup", &[], setup).unwrap();
    assert_eq!((status, body.trim()), (412, r#"{"message":"setup already completed","code":412}"#));
    // Tokens: `Token` scheme only; anything else is 401.
    let auth = format!("Token {pat}");
    assert_eq!(http(&ip, 80, "GET", "/api/peers", &[("Authorization", &auth)], "").unwrap().0, 200);
    let (status, body) = http(&ip, 80, "GET", "/api/peers", &[("Authorization", "Token nbp_nope")], "").unwrap();
    assert_eq!((status, body.trim()), (401, r#"{"message":"token invalid","code":401}"#));
    // A well-formed token this instance does not have (revoked, or another instance's) is a
    // 404 with the store's "not found", as upstream's middleware passes it through.
    let foreign = format!("Token nbp_{}", "a".repeat(36));
    let (status, body) = http(&ip, 80, "GET", "/api/peers", &[("Authorization", &foreign)], "").unwrap();
    assert_eq!(status, 404, "{body}");
    assert!(body.contains(r#""message":"invalid token: pat: "#) && body.contains(r#"not found","code":404"#), "{body}");
    assert!(!body.contains(&"a".repeat(36)), "the token itself is not echoed: {body}");
    assert_eq!(http(&ip, 80, "GET", "/api/peers", &[], "").unwrap().0, 401);
    // The relay is a WebSocket on the management port: a plain GET is refused, a handshake accepted.
    assert_eq!(http(&ip, 80, "GET", "/relay", &[], "").unwrap().0, 426);
    let ws = [
        ("Connection", "Upgrade"),
        ("Upgrade", "websocket"),
        ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];
    let mut s = TcpStream::connect(format!("{ip}:80")).unwrap();
    let extra: String = ws.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
    write!(s, "GET /relay HTTP/1.1\r\nHost: x\r\n{extra}\r\n").unwrap();
    let mut head = Vec::new();
    let mut buf = [0u8; 256];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "connection closed before the headers ended");
        head.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(head.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "RFC 6455's example key: {head}");
    // The owner survives a restart (it lives in the data dir).
    assert!(Command::new("docker").args(["restart", "-t", "1", &c.0]).status().unwrap().success());
    let ip = ip_of(&c.0);
    let (_, body) = until(Duration::from_secs(20), || http(&ip, 80, "GET", "/api/instance", &[], "").ok());
    assert_eq!(body.trim(), r#"{"setup_required":false}"#);
}

#[test]
fn setup_issues_no_token_without_nb_setup_pat_enabled() {
    if !common::docker::available("setup_without_pat") {
        return;
    }
    common::docker::standin_images();
    let dir = tempfile::tempdir().unwrap();
    let vol = config(dir.path(), COMBINED);
    let (_c, ip) = run("netbird-server", "nopat", &["-v", &vol, "-e", "STANDIN_STARTUP_DELAY_MS=500"], &[]);
    until(Duration::from_secs(20), || http(&ip, 80, "GET", "/api/instance", &[], "").ok());
    let setup = r#"{"email":"a@b.example","password":"longenough","name":"A","create_pat":true,"pat_expire_in":30}"#;
    let (status, body) = http(&ip, 80, "POST", "/api/setup", &[], setup).unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(!body.contains("personal_access_token"), "upstream ignores create_pat unless enabled: {body}");
}

#[test]
fn invalid_configs_stop_the_containers_with_upstreams_words() {
    if !common::docker::available("invalid_configs") {
        return;
    }
    common::docker::standin_images();
    let dir = tempfile::tempdir().unwrap();
    let no_secret = COMBINED.replace("  authSecret: \"s3cret\"\n", "");
    let vol = config(dir.path(), &no_secret);
    let (c, _) = run("netbird-server", "nosecret", &["-v", &vol], &[]);
    let (code, logs) = exited(&c);
    assert_eq!(code, 1);
    assert!(logs.contains("invalid config: server.authSecret is required when running local relay"), "{logs}");
    let dir2 = tempfile::tempdir().unwrap();
    let dup = COMBINED.replace("stunPorts: [3478]", "stunPorts: [3478, 3478]");
    let vol = config(dir2.path(), &dup);
    let (c, _) = run("netbird-server", "dup", &["-v", &vol], &[]);
    let (code, logs) = exited(&c);
    assert_eq!(code, 1);
    assert!(logs.contains("duplicate STUN port 3478 in server.stunPorts"), "{logs}");
    let (c, _) = run("netbird-server", "noflag", &[], &["--log-level", "info"]);
    assert!(exited(&c).1.contains("required flag(s) \"config\" not set"));
    let (c, _) = run("dashboard", "noauth", &["-e", "NETBIRD_MGMT_API_ENDPOINT=https://x"], &[]);
    let (code, logs) = exited(&c);
    assert_eq!(code, 1);
    assert!(logs.contains("AUTH_AUTHORITY or AUTH0_DOMAIN environment variable must be set"), "{logs}");
}

#[test]
fn legacy_relay_health_is_503_until_its_public_address_answers() {
    if !common::docker::available("legacy_relay_health") {
        return;
    }
    common::docker::standin_images();
    let env = [
        "-e",
        "NB_LISTEN_ADDRESS=:80",
        "-e",
        "NB_EXPOSED_ADDRESS=rels://nb-nowhere.invalid:443",
        "-e",
        "NB_AUTH_SECRET=s",
    ];
    let (_c, ip) = run("relay", "health", &env, &[]);
    let (status, body) = until(Duration::from_secs(10), || http(&ip, 9000, "GET", "/health", &[], "").ok());
    assert_eq!(status, 503, "{body}");
    assert!(body.contains(r#""listeners":["ws"]"#) && body.contains(r#""certificate_valid":false"#), "{body}");
    let (c, _) = run("relay", "noexposed", &["-e", "NB_AUTH_SECRET=s"], &[]);
    assert!(exited(&c).1.contains("invalid config: exposed address is required"));
}

/// The administration endpoints replace whole records and refuse what upstream refuses
/// (standin/admin.rs names the handlers): a client that sends only the field it changes loses
/// the others, exactly as against a real NetBird.
#[test]
fn admin_endpoints_replace_whole_records_and_refuse_like_upstream() {
    if !common::docker::available("admin_endpoints_standin") {
        return;
    }
    common::docker::standin_images();
    let dir = tempfile::tempdir().unwrap();
    let vol = config(dir.path(), COMBINED);
    let env = [
        "-v",
        &vol,
        "-e",
        "NB_SETUP_PAT_ENABLED=true",
        "-e",
        "STANDIN_STARTUP_DELAY_MS=300",
        "-e",
        "STANDIN_PEERS=2,1",
    ];
    let (_c, ip) = run("netbird-server", "admin", &env, &[]);
    until(Duration::from_secs(20), || http(&ip, 80, "GET", "/api/instance", &[], "").ok());
    // A body Go cannot decode into the request type is a 400 before anything is checked
    // (instance_handler.go), not a validation error of a field read as empty.
    let wrong = r#"{"email":"a@b.example","password":12345678,"name":"A"}"#;
    assert_eq!(
        http(&ip, 80, "POST", "/api/setup", &[], wrong).unwrap(),
        (400, r#"{"message":"invalid request body","code":400}"#.to_string())
    );
    let setup = r#"{"email":"a@b.example","password":"longenough","name":"A","create_pat":true,"pat_expire_in":1}"#;
    let (_, body) = http(&ip, 80, "POST", "/api/setup", &[], setup).unwrap();
    let pat = serde_json::from_str::<serde_json::Value>(&body).unwrap()["personal_access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let auth = format!("Token {pat}");
    let call = |method: &str, path: &str, body: &str| {
        let (status, text) = http(&ip, 80, method, path, &[("Authorization", &auth)], body).unwrap();
        (status, serde_json::from_str::<serde_json::Value>(&text).unwrap_or(serde_json::Value::String(text)))
    };

    // A routed path with a method it has no route for: 405 from the router, no body (gorilla/mux).
    assert_eq!(call("DELETE", "/api/peers", "").0, 405);
    assert_eq!(http(&ip, 80, "DELETE", "/api/peers", &[], "").unwrap().0, 405, "before any token is asked for");
    assert_eq!(call("GET", "/api/no-such-thing", "").0, 404);
    // A token request with a wrong type fails the decode (pat_handler.go): 400, not 422.
    let uid = call("GET", "/api/users/current", "").1["id"].as_str().unwrap().to_string();
    let (status, _) = call("POST", &format!("/api/users/{uid}/tokens"), r#"{"name":"x","expires_in":"30"}"#);
    assert_eq!(status, 400);

    // Peers: device-1 was added with SSO and has login expiration on; a PUT with only a name
    // switches it off (PeerRequest's bools are not optional).
    let (_, peers) = call("GET", "/api/peers", "");
    let sso = peers.as_array().unwrap().iter().find(|p| p["name"] == "device-1").unwrap().clone();
    assert_eq!(sso["login_expiration_enabled"], true);
    let id = sso["id"].as_str().unwrap();
    let (status, renamed) = call("PUT", &format!("/api/peers/{id}"), r#"{"name":"renamed"}"#);
    assert_eq!((status, renamed["login_expiration_enabled"].as_bool()), (200, Some(false)), "{renamed}");
    let key_peer =
        peers.as_array().unwrap().iter().find(|p| p["name"] == "device-0").unwrap()["id"].as_str().unwrap().to_string();
    let (status, err) =
        call("PUT", &format!("/api/peers/{key_peer}"), r#"{"name":"x","login_expiration_enabled":true}"#);
    assert_eq!(status, 412, "{err}");
    assert_eq!(
        err["message"],
        "this peer hasn't been added with the sso login, therefore the login expiration can't be updated"
    );
    assert_eq!(call("DELETE", "/api/peers/nope", "").1["message"], "peer nope account not found");

    // Groups: a group without peers lists `peers: null`; a PUT without `peers` empties it.
    let (status, g) = call("POST", "/api/groups", &format!(r#"{{"name":"ops","peers":["{key_peer}"]}}"#));
    assert_eq!((status, g["peers_count"].as_i64()), (200, Some(1)), "{g}");
    let gid = g["id"].as_str().unwrap().to_string();
    assert_eq!(call("POST", "/api/groups", r#"{"name":"ops"}"#).0, 409);
    let (_, g) = call("PUT", &format!("/api/groups/{gid}"), r#"{"name":"ops2"}"#);
    assert_eq!((g["peers_count"].as_i64(), g["peers"].is_null()), (Some(0), true), "{g}");
    let (_, groups) = call("GET", "/api/groups", "");
    let all =
        groups.as_array().unwrap().iter().find(|g| g["name"] == "All").unwrap()["id"].as_str().unwrap().to_string();
    let (status, err) = call("DELETE", &format!("/api/groups/{all}"), "");
    assert_eq!(
        (status, err["message"].as_str()),
        (400, Some("deleting group ALL is not allowed")),
        "raw, not lower-cased"
    );

    // Setup keys: the secret only in the create answer; one-off keys take no limit above 1;
    // PUT needs auto_groups; no un-revoking.
    let one_off = r#"{"name":"k","type":"one-off","expires_in":3600,"auto_groups":[],"usage_limit":2}"#;
    assert_eq!(call("POST", "/api/setup-keys", one_off).0, 422);
    let (status, k) = call(
        "POST",
        "/api/setup-keys",
        &format!(
            r#"{{"name":"k","type":"reusable","expires_in":3600,"auto_groups":["{gid}"],"usage_limit":0,"unknown_field":1}}"#
        ),
    );
    assert_eq!(status, 200, "unknown fields are ignored by Go's decoder: {k}");
    let plain = k["key"].as_str().unwrap().to_string();
    let kid = k["id"].as_str().unwrap().to_string();
    let (_, listed) = call("GET", &format!("/api/setup-keys/{kid}"), "");
    assert_eq!(listed["key"], format!("{}****", &plain[..5]));
    let (status, err) = call("PUT", &format!("/api/setup-keys/{kid}"), r#"{"revoked":true}"#);
    assert_eq!((status, err["message"].as_str()), (422, Some("setup key autogroups field is invalid")));
    let revoke = format!(r#"{{"auto_groups":["{gid}"],"revoked":true}}"#);
    assert_eq!(call("PUT", &format!("/api/setup-keys/{kid}"), &revoke).1["state"], "revoked");
    let unrevoke = format!(r#"{{"auto_groups":["{gid}"],"revoked":false}}"#);
    assert_eq!(call("PUT", &format!("/api/setup-keys/{kid}"), &unrevoke).0, 422);
    let (status, err) = call("DELETE", &format!("/api/groups/{gid}"), "");
    assert_eq!((status, err["message"].as_str()), (400, Some("group has been linked to setup key: k")));

    // Users: PUT needs auto_groups; the owner cannot block itself.
    let (_, me) = call("GET", "/api/users/current", "");
    let me = me["id"].as_str().unwrap().to_string();
    let (status, err) = call("PUT", &format!("/api/users/{me}"), r#"{"role":"owner","is_blocked":false}"#);
    assert_eq!((status, err["message"].as_str()), (400, Some("auto_groups field can't be absent")));
    let (status, err) =
        call("PUT", &format!("/api/users/{me}"), r#"{"role":"owner","is_blocked":true,"auto_groups":[]}"#);
    assert_eq!((status, err["message"].as_str()), (403, Some("admins can't block or unblock themselves")));
    assert_eq!(call("POST", "/api/users", r#"{"name":"bot","role":"owner","is_service_user":true}"#).0, 422);
    // A blocked user's status says so (users_handler.go toUserResponse).
    let (status, bot) =
        call("POST", "/api/users", r#"{"name":"bot","role":"user","is_service_user":true,"auto_groups":[]}"#);
    assert_eq!(status, 200, "{bot}");
    let bid = bot["id"].as_str().unwrap().to_string();
    let (_, blocked) =
        call("PUT", &format!("/api/users/{bid}"), r#"{"role":"user","is_blocked":true,"auto_groups":[]}"#);
    assert_eq!(
        (blocked["is_blocked"].as_bool(), blocked["status"].as_str()),
        (Some(true), Some("blocked")),
        "{blocked}"
    );
    // The list filters by `service_user` as strconv.ParseBool reads it; anything else is
    // InvalidArgument, 422 (users_handler.go getAllUsers).
    let count = |q: &str| call("GET", &format!("/api/users{q}"), "").1.as_array().map(Vec::len);
    let all = count("").unwrap();
    assert_eq!(count("?service_user=true"), Some(1), "the bot");
    assert_eq!(count("?service_user=0"), Some(all - 1), "people only");
    let (status, err) = call("GET", "/api/users?service_user=maybe", "");
    assert_eq!((status, err["message"].as_str()), (422, Some("invalid service_user query parameter")));

    // Services: a subnet target without the address inside it fails `Validate`
    // (service.go validateHTTPTargets) before a proxy cluster is looked for; with one, the
    // missing cluster is the answer (no proxy registered with this server).
    let service = |host: &str| {
        format!(
            r#"{{"name":"files","domain":"files.x.example","mode":"http","enabled":true,"auth":{{}},"targets":[{{"target_id":"r1","target_type":"subnet","protocol":"http","port":445,"enabled":true{host}}}]}}"#
        )
    };
    let (status, err) = call("POST", "/api/reverse-proxies/services", &service(""));
    assert_eq!((status, err["message"].as_str()), (422, Some("target 0 has empty host but target_type is \"subnet\"")));
    let (status, err) = call("POST", "/api/reverse-proxies/services", &service(r#","host":"10.1.2.3""#));
    assert_eq!(status, 412, "{err}");
    assert!(err["message"].as_str().unwrap().contains("no proxy clusters available"), "{err}");
}

#[test]
fn a_bad_session_cookie_key_stops_legacy_management_and_the_proxy_needs_its_token() {
    if !common::docker::available("a_bad_session_cookie_key") {
        return;
    }
    common::docker::standin_images();
    // management.json with the embedded IdP and a cookie key of the wrong length (embedded.go).
    let dir = tempfile::tempdir().unwrap();
    let json = r#"{"Stuns":[{"Proto":"udp","URI":"stun:a.example:3478"}],"DataStoreEncryptionKey":"k",
        "EmbeddedIdP":{"Enabled":true,"Issuer":"https://a.example/oauth2","SessionCookieEncryptionKey":"short"}}"#;
    std::fs::write(dir.path().join("management.json"), json).unwrap();
    let vol = format!("{}:/etc/netbird", dir.path().display());
    let (c, _) = run("management", "cookie", &["-v", &vol], &[]);
    let (code, logs) = exited(&c);
    assert_eq!(code, 1);
    assert!(
        logs.contains("invalid embedded IdP session cookie encryption key") && logs.contains("got 5 raw bytes"),
        "{logs}"
    );
    // The reverse proxy reads its token from the environment only, and needs one (root.go).
    let (c, _) = run("reverse-proxy", "notoken", &["-e", "NB_PROXY_DOMAIN=a.example"], &[]);
    let (code, logs) = exited(&c);
    assert_eq!(code, 1);
    assert!(logs.contains("proxy token is required: set NB_PROXY_TOKEN environment variable"), "{logs}");
}
