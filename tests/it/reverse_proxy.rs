//! A customer's NetBird Reverse Proxy on the real Docker engine, against the stand-ins of the
//! combined server and of `netbirdio/reverse-proxy` (`standin/reverse.rs`, `standin/proxy.rs`).

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use crate::common::docker::DockerEnv;
use crate::netbird_admin::with_peers;

fn inspect(name: &str, format: &str) -> String {
    let out = Command::new("docker").args(["inspect", "--format", format, name]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn exists(name: &str) -> bool {
    Command::new("docker").args(["inspect", name]).output().unwrap().status.success()
}

/// The stand-in server's persisted proxy tokens (its data file): what management would list.
fn proxy_tokens(env: &DockerEnv, sub: &str) -> Vec<serde_json::Value> {
    let file = env.data_dir().join(sub).join("data/server/standin-store.txt");
    std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("ptoken\t"))
        .map(|j| serde_json::from_str(j).unwrap())
        .collect()
}

#[test]
fn the_proxy_registers_with_a_sealed_token_and_turning_it_off_revokes_it() {
    let Some(env) = DockerEnv::new("the_proxy_registers_with_a_sealed_token") else { return };
    let sub = env.subdomain("rp");
    let email = format!("it@{sub}.example");
    let r = env.home.run(&[
        "customer",
        "create",
        "--name",
        "RP",
        "--subdomain",
        &sub,
        "--email",
        &email,
        "--reverse-proxy",
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("reverse proxy: ok, token made; registered as "), "{}", r.stderr);
    assert_eq!(r.json()["reverse_proxy"], true);
    let proxy = env.home.container(&sub, "proxy");
    assert_eq!(inspect(&proxy, "{{.State.Status}}"), "running");
    assert_eq!(inspect(&proxy, "{{index .Config.Labels \"nbmsp.installation\"}}"), env.installation);
    // Its token: in a private file for the container, sealed in the database, never in the clear there.
    let env_file = env.data_dir().join(&sub).join("proxy.env");
    assert_eq!(std::fs::metadata(&env_file).unwrap().permissions().mode() & 0o777, 0o600);
    let text = std::fs::read_to_string(&env_file).unwrap();
    let token = text.lines().find_map(|l| l.strip_prefix("NB_PROXY_TOKEN=")).unwrap().to_string();
    assert!(token.starts_with("nbx_"), "{text}");
    assert!(text.contains(&format!("NB_PROXY_DOMAIN={sub}.msp.example")), "{text}");
    let db = std::fs::read(env.home.path().join("nbmsp.db")).unwrap();
    assert!(!db.windows(token.len()).any(|w| w == token.as_bytes()), "the token is in the database in the clear");
    let tokens = proxy_tokens(&env, &sub);
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0]["revoked"], false);
    // Its services need `*.<domain>`, which no resolver here answers for: doctor says so.
    let doctor = env.home.run(&["doctor", "--json"]).json();
    let dns = doctor["checks"].as_array().unwrap().iter().find(|c| c["name"] == "services_dns").unwrap().clone();
    assert_eq!(dns["ok"], false, "{dns}");
    assert!(dns["detail"].as_str().unwrap().contains(&format!("*.{sub}.msp.example")), "{dns}");

    // A redeploy keeps the token and the container.
    let r = env.home.run(&["customer", "redeploy", &sub]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("reverse proxy: ok, registered as "), "{}", r.stderr);
    assert_eq!(proxy_tokens(&env, &sub).len(), 1, "no second token");

    // Off: the container goes, the token is revoked and leaves the disk.
    assert_eq!(env.home.run(&["customer", "update", &sub, "--reverse-proxy", "off"]).code, 0);
    let r = env.home.run(&["customer", "redeploy", &sub]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!exists(&proxy), "the proxy container is gone");
    assert!(!std::fs::read_to_string(&env_file).unwrap().contains(&token));
    assert_eq!(proxy_tokens(&env, &sub)[0]["revoked"], true);
    let audit = env.home.run(&["customer", "audit", &sub]).stdout;
    assert!(audit.contains("reverse proxy token created") && audit.contains("its token revoked"), "{audit}");
    assert_eq!(env.home.run(&["customer", "delete", &sub, "--yes", "--purge-data"]).code, 0);
}

/// A first deploy that fails once its proxy token exists rolls the token back with the rest:
/// the NetBird that made it is gone with the instance, so a token kept sealed would be one no
/// management knows, and every later deploy's proxy would fail to register with it.
#[test]
fn a_first_deploy_that_fails_after_its_proxy_token_forgets_it_and_the_next_one_makes_another() {
    let Some(env) = DockerEnv::new("a_first_deploy_that_fails_after_its_proxy_token") else { return };
    // A "proxy" that never registers: the deploy waits health_timeout_s for it, then fails.
    for (k, v) in [("images.proxy", "nbmsp-standin/dashboard:latest"), ("health_timeout_s", "10")] {
        assert_eq!(env.home.run(&["settings", "set", k, v]).code, 0, "{k}");
    }
    let sub = env.subdomain("rpf");
    let email = format!("it@{sub}.example");
    let r =
        env.home.run(&["customer", "create", "--name", "F", "--subdomain", &sub, "--email", &email, "--reverse-proxy"]);
    assert_ne!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("did not register"), "{}", r.stderr);
    assert!(env.containers().is_empty(), "rolled back: {:?}", env.containers());

    assert_eq!(env.home.run(&["settings", "set", "images.proxy", "nbmsp-standin/reverse-proxy:latest"]).code, 0);
    let r = env.home.run(&["customer", "deploy", &sub]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("reverse proxy: ok, token made; registered as "), "{}", r.stderr);
    assert_eq!(proxy_tokens(&env, &sub).len(), 1, "one token, in the NetBird that runs now");
    assert_eq!(env.home.run(&["customer", "delete", &sub, "--yes", "--purge-data"]).code, 0);
}

#[test]
fn the_legacy_layout_is_refused_with_the_reason() {
    let h = crate::common::Home::initialised();
    let create = |extra: &[&str]| {
        let base = ["customer", "create", "--no-deploy", "--name", "L", "--subdomain", "legacyrp"];
        h.run(&[&base[..], &["--email", "l@l.example", "--layout", "legacy"], extra].concat())
    };
    let r = create(&["--reverse-proxy"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("reverse_proxy") && r.stderr.contains("combined layout"), "{}", r.stderr);
    let r = create(&[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = h.run(&["customer", "update", "legacyrp", "--reverse-proxy", "on"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("combined layout"), "{}", r.stderr);
    // Import takes the switch under the same rule: a legacy entry with it refuses the whole file.
    let entry = |sub: &str, layout: &str| {
        format!(
            r#"{{"name": "I", "subdomain": "{sub}", "email": "i@i.example", "reverse_proxy": true, "layout": "{layout}"}}"#
        )
    };
    let import = |entries: &[String]| {
        let file = h.file("import.json", &format!("[{}]", entries.join(",")));
        h.run(&["customer", "import", "--file", file.to_str().unwrap(), "--no-deploy"])
    };
    let r = import(&[entry("rpone", "combined"), entry("rptwo", "legacy")]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("entry 2 (rptwo)") && r.stderr.contains("combined layout"), "{}", r.stderr);
    assert_eq!(h.run(&["customer", "show", "rpone"]).code, 1, "nothing imported");
    assert_eq!(import(&[entry("rpone", "combined")]).code, 0);
    assert_eq!(h.run(&["customer", "show", "rpone", "--json"]).json()["reverse_proxy"], true);
}

/// What answers a TLS hello for `name` at the edge on this machine: the stand-in proxy's line.
fn visit(port: u16, name: &str) -> String {
    visit_at("127.0.0.1", port, name)
}

/// What answers a TLS hello for `name` at the edge on `ip:port` (waits up to 20 s for an answer).
pub(crate) fn visit_at(ip: &str, port: u16, name: &str) -> String {
    use std::io::{BufRead, BufReader, Write};
    let start = std::time::Instant::now();
    loop {
        if let Ok(mut c) = std::net::TcpStream::connect((ip, port)) {
            c.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
            if c.write_all(&crate::edge::client_hello(name)).is_ok() {
                let mut line = String::new();
                if BufReader::new(c).read_line(&mut line).is_ok() && !line.is_empty() {
                    return line.trim().to_string();
                }
            }
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(20), "nothing answered {name} at the edge");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

#[test]
fn the_edge_brings_a_services_name_to_its_customers_proxy_and_every_other_name_to_npm() {
    let Some(env) = DockerEnv::new("the_edge_brings_a_services_name") else { return };
    // NPM's TLS listener, played by a proxy stand-in that expects no PROXY header, on the
    // network the customers will share with it (their first deploy would create it).
    assert!(Command::new("docker").args(["network", "create", &env.network]).output().unwrap().status.success());
    let npm = env.subdomain("npmfake");
    // Removed at the end even when it could not start (docker run leaves the container then).
    let _npm = crate::common::docker::OnDrop::container(&npm);
    let out = Command::new("docker")
        .args(["run", "-d", "--name", &npm, "--network", &env.network])
        .args(["-e", "NB_PROXY_TOKEN=nbx_fake", "-e", "NB_PROXY_DOMAIN=npm.fake", "-e", "NB_PROXY_ADDRESS=:443"])
        .arg("nbmsp-standin/reverse-proxy:latest")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    for (k, v) in [
        ("edge.listen", format!("127.0.0.1:{port}")),
        ("edge.fallback", format!("{npm}:443")),
        ("images.edge", "nbmsp-standin/nginx:latest".into()),
    ] {
        assert_eq!(env.home.run(&["settings", "set", k, &v]).code, 0, "{k}");
    }
    let edge = format!("nbmsp-{}edge", env.home.name_prefix());
    let _edge = crate::common::docker::OnDrop::container(&edge);
    let (a, b) = (env.subdomain("ea"), env.subdomain("eb"));
    for sub in [&a, &b] {
        let email = format!("it@{sub}.example");
        let r = env.home.run(&[
            "customer",
            "create",
            "--name",
            "E",
            "--subdomain",
            sub,
            "--email",
            &email,
            "--reverse-proxy",
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(r.stderr.contains("; edge "), "the step says what the edge did: {}", r.stderr);
    }
    let edge_ip = inspect(&edge, "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}");
    assert!(!edge_ip.is_empty());
    let proxy_env = std::fs::read_to_string(env.data_dir().join(&b).join("proxy.env")).unwrap();
    assert!(proxy_env.contains(&format!("NB_PROXY_TRUSTED_PROXIES={edge_ip}")), "{proxy_env}");

    // A service of a's: a's proxy, with the visitor's address (the PROXY header), not the edge's.
    let got = visit(port, &format!("wiki.{a}.msp.example"));
    let prefix = format!("standin-proxy {a}.msp.example: wiki.{a}.msp.example from ");
    assert!(got.starts_with(&prefix), "{got}");
    assert_ne!(got.trim_start_matches(&prefix), edge_ip, "the visitor's address arrived: {got}");
    // b's services reach b; a's own management domain and unknown names reach NPM.
    assert!(visit(port, &format!("app.{b}.msp.example")).starts_with(&format!("standin-proxy {b}.msp.example: ")));
    assert_eq!(
        visit(port, &format!("{a}.msp.example")),
        format!("standin-proxy npm.fake: {a}.msp.example from {edge_ip}")
    );
    assert!(visit(port, "other.example").starts_with("standin-proxy npm.fake: other.example"));
    let status = env.home.run(&["edge", "status", "--json"]).json();
    assert_eq!(status[0]["routes"].as_array().unwrap().len(), 2, "{status}");
    let edge_check = |env: &DockerEnv| {
        let doctor = env.home.run(&["doctor", "--json"]).json();
        doctor["checks"].as_array().unwrap().iter().find(|c| c["name"] == "edge").unwrap().clone()
    };
    let e = edge_check(&env);
    assert!(e["ok"] == true && e["detail"].as_str().unwrap().contains("2 customer(s) routed"), "{e}");

    // The edge as a host's part: serving in `host list`; stopped, it is trouble there, an alert
    // of the host's, and a finding reconcile fixes by starting it again.
    let edge_of = |env: &DockerEnv| env.home.run(&["host", "list", "--json"]).json()[0]["edge"].clone();
    assert_eq!(edge_of(&env), serde_json::json!({"state": "serving", "routes": 2}));
    assert!(Command::new("docker").args(["stop", &edge]).output().unwrap().status.success());
    let e = edge_of(&env);
    assert!(e["state"] == "trouble" && e["reason"].as_str().unwrap().starts_with("not running"), "{e}");
    assert_eq!(env.home.run(&["monitor", "--once", "--json"]).code, 0);
    let alerts = env.home.run(&["alerts", "list", "--json"]).json();
    let edge_alert = alerts.as_array().unwrap().iter().find(|a| a["kind"] == "edge").cloned();
    assert!(edge_alert.is_some_and(|a| a["scope"] == "host"), "{alerts}");
    let found = env.home.run(&["reconcile", "--json"]).json();
    assert!(found.to_string().contains("\"kind\":\"edge\""), "{found}");
    // Its container gone (as after a host's reinstall) and its address taken by another: the
    // edge made again comes back at another one, which the customers' proxies do not trust.
    assert!(Command::new("docker").args(["rm", "-f", &edge]).output().unwrap().status.success());
    let holder = env.subdomain("holder");
    let _holder = crate::common::docker::OnDrop::container(&holder);
    let out = Command::new("docker")
        .args(["run", "-d", "--name", &holder, "--network", &env.network])
        .args(["-e", "NB_PROXY_TOKEN=nbx_fake", "-e", "NB_PROXY_DOMAIN=holder.fake"])
        .arg("nbmsp-standin/reverse-proxy:latest")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r = env.home.run(&["reconcile", "--yes"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(inspect(&edge, "{{.State.Status}}"), "running");
    assert_eq!(edge_of(&env), serde_json::json!({"state": "serving", "routes": 2}));
    let moved = inspect(&edge, "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}");
    assert_eq!(inspect(&holder, "{{.State.Status}}"), "running", "the holder keeps its address");
    assert_ne!(moved, edge_ip, "the edge came back elsewhere");
    let got = visit(port, &format!("wiki.{a}.msp.example"));
    assert_eq!(got, format!("{prefix}{moved}"), "an untrusted edge's header is ignored: the visitor is the edge");
    let found = env.home.run(&["reconcile", "--json"]).json();
    let stale: Vec<&str> = found["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "proxy_trust")
        .map(|f| f["subject"].as_str().unwrap())
        .collect();
    assert_eq!(stale.len(), 2, "both proxies trust the old address: {found}");
    let r = env.home.run(&["reconcile", "--yes"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let got = visit(port, &format!("wiki.{a}.msp.example"));
    assert!(got.starts_with(&prefix) && !got.ends_with(&moved), "the visitor's own address again: {got}");
    assert_eq!(env.home.run(&["monitor", "--once", "--json"]).code, 0);
    let alerts = env.home.run(&["alerts", "list", "--json"]).json();
    assert!(!alerts.as_array().unwrap().iter().any(|a| a["kind"] == "edge"), "cleared: {alerts}");

    // A configuration nginx refuses is not taken: the old one serves on, and nginx's words are shown.
    assert_eq!(env.home.run(&["settings", "set", "edge.resolver", "no-such-resolver.invalid"]).code, 0);
    let r = env.home.run(&["edge", "apply"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("local: refused") && r.stdout.contains("resolver"), "{}", r.stdout);
    assert!(visit(port, &format!("wiki.{a}.msp.example")).starts_with(&prefix), "the old configuration serves");
    let status = env.home.run(&["edge", "status"]).stdout;
    assert!(status.contains("last refused"), "{status}");
    let e = edge_check(&env);
    assert!(e["ok"] == false && e["detail"].as_str().unwrap().contains("refused"), "doctor says so too: {e}");
    assert_eq!(env.home.run(&["settings", "set", "edge.resolver", "127.0.0.11"]).code, 0);

    // a's proxy off: its names leave the edge and go to NPM like any other.
    assert_eq!(env.home.run(&["customer", "update", &a, "--reverse-proxy", "off"]).code, 0);
    let r = env.home.run(&["customer", "redeploy", &a]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(visit(port, &format!("wiki.{a}.msp.example")).starts_with("standin-proxy npm.fake: "));
    assert!(visit(port, &format!("app.{b}.msp.example")).starts_with(&format!("standin-proxy {b}.msp.example: ")));

    // b deleted: its names leave the edge and reach NPM.
    assert_eq!(env.home.run(&["customer", "delete", &b, "--yes", "--purge-data"]).code, 0);
    let status = env.home.run(&["edge", "status", "--json"]).json();
    assert_eq!(
        (status[0]["routes"].as_array().unwrap().len(), &status[0]["last"]["routes"]),
        (0, &0.into()),
        "{status}"
    );
    assert!(visit(port, &format!("app.{b}.msp.example")).starts_with("standin-proxy npm.fake: "));

    // No edge wanted any more: the one left running is an orphan, which reconcile removes.
    assert_eq!(env.home.run(&["settings", "set", "edge.listen", ""]).code, 0);
    assert_eq!(env.home.run(&["host", "list", "--json"]).json()[0]["edge"]["state"], "not_wanted");
    let found = env.home.run(&["reconcile", "--json"]).json();
    assert!(found.to_string().contains("\"kind\":\"orphan_edge\""), "{found}");
    assert_eq!(env.home.run(&["reconcile", "--yes"]).code, 0);
    assert!(!exists(&edge), "the orphan edge is removed");
}

#[test]
fn a_pin_protected_service_is_published_toggled_by_an_operator_and_deleted_and_its_pin_stays_secret() {
    let Some(env) = DockerEnv::new("a_pin_protected_service_is_published") else { return };
    // The stand-in server reports two devices, one connected (a template override, as the
    // NetBird administration tests do).
    with_peers(&env, "2,1");
    let sub = env.subdomain("svc");
    let email = format!("it@{sub}.example");
    let r =
        env.home.run(&["customer", "create", "--name", "S", "--subdomain", &sub, "--email", &email, "--reverse-proxy"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let pin = "482913";
    let pin_file = env.home.file("pin", &format!("{pin}\n"));
    let pin_path = pin_file.to_str().unwrap();

    let r = env.home.run(&[
        "customer",
        "services",
        &sub,
        "create",
        "wiki",
        "--target",
        "device-0:8080",
        "--auth",
        "pin",
        "--secret-file",
        pin_path,
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains(&format!("published at https://wiki.{sub}.msp.example")), "{}", r.stdout);
    let listed = env.home.run(&["customer", "services", &sub, "--json"]).json();
    let s = &listed["data"][0];
    assert_eq!(s["domain"], format!("wiki.{sub}.msp.example"), "{listed}");
    assert_eq!(s["auth"], serde_json::json!(["pin"]));
    assert_eq!((s["enabled"].as_bool(), s["status"].as_str()), (Some(true), Some("active")), "{listed}");
    // A device that is not connected: its service has no tunnel (the proxy's report).
    let r = env.home.run(&["customer", "services", &sub, "create", "old", "--target", "device-1"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let listed = env.home.run(&["customer", "services", &sub, "--json"]).json();
    let old = listed["data"].as_array().unwrap().iter().find(|s| s["name"] == "old").unwrap().clone();
    assert_eq!(old["status"], "tunnel_not_created", "{listed}");
    // NetBird's own refusals come through: a name taken, a device it does not know.
    let r = env.home.run(&["customer", "services", &sub, "create", "wiki", "--target", "device-0"]);
    assert!(r.code != 0 && r.stderr.contains("domain already taken"), "{}", r.stderr);
    let r = env.home.run(&["customer", "services", &sub, "create", "x", "--target", "no-such-device"]);
    assert!(r.code != 0 && r.stderr.contains("no-such-device"), "{}", r.stderr);
    // Secrets only from a file; --auth pin without one is refused before anything is sent.
    let r = env.home.run(&["customer", "services", &sub, "create", "y", "--target", "device-0", "--auth", "pin"]);
    assert_eq!(r.code, 2, "{}", r.stderr);

    // Roles: a viewer lists, an operator switches, only an admin publishes and deletes.
    let pw = env.home.file("pw", "role-password-1");
    for (user, role) in [("ops", "operator"), ("view", "viewer")] {
        let r = env.home.run(&["user", "add", user, "--role", role, "--new-password-file", pw.to_str().unwrap()]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let as_user = |user: &str, args: &[&str]| {
        env.home.run_with(&[&["--user", user][..], args].concat(), &[("NBMSP_PASSWORD", "role-password-1")])
    };
    assert_eq!(as_user("view", &["customer", "services", &sub]).code, 0);
    let r = as_user("view", &["customer", "services", &sub, "disable", "wiki"]);
    assert!(r.stderr.contains("a viewer may not enable or disable a service"), "{}", r.stderr);
    let r = as_user("ops", &["customer", "services", &sub, "disable", "wiki"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = as_user("ops", &["customer", "services", &sub, "delete", "wiki", "--yes"]);
    assert!(r.stderr.contains("an operator may not delete a service"), "{}", r.stderr);
    let listed = env.home.run(&["customer", "services", &sub, "--json"]).json();
    assert_eq!(listed["data"][0]["enabled"], false);
    // Switched on again with the whole record sent back: the PIN is kept, not cleared.
    assert_eq!(as_user("ops", &["customer", "services", &sub, "enable", "wiki"]).code, 0);
    let store = std::fs::read_to_string(env.data_dir().join(&sub).join("data/server/standin-store.txt")).unwrap();
    assert!(store.contains(&format!(r#""pin":{{"enabled":true,"value":"{pin}"}}"#)), "the PIN survived the PUT");

    // The PIN is nowhere nbmsp writes: not in the database, its logs, the audit log, or --json.
    let db = std::fs::read(env.home.path().join("nbmsp.db")).unwrap();
    assert!(!db.windows(pin.len()).any(|w| w == pin.as_bytes()), "the PIN is in the database");
    for entry in std::fs::read_dir(env.home.path().join("logs")).unwrap().flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        assert!(!text.contains(pin), "the PIN is in {}", entry.path().display());
    }
    let audit = env.home.run(&["customer", "audit", &sub]).stdout;
    assert!(audit.contains("service 'wiki' published") && !audit.contains(pin), "{audit}");
    assert!(!listed.to_string().contains(pin));

    assert_eq!(env.home.run(&["customer", "services", &sub, "delete", "wiki", "--yes"]).code, 0);
    let listed = env.home.run(&["customer", "services", &sub, "--json"]).json();
    assert_eq!(listed["data"].as_array().unwrap().len(), 1, "{listed}");
}

/// A service in front of a network resource: a host resource by name, a subnet with the
/// address inside it; what NetBird would refuse with a target index (a subnet without an
/// address) and what it cannot mean (an address for a device or a host resource, one outside
/// the subnet) is refused by nbmsp with the resource's name, before anything is sent.
#[test]
fn a_service_reaches_a_network_resource_and_a_subnet_names_the_address_inside_it() {
    let Some(env) = DockerEnv::new("a_service_reaches_a_network_resource") else { return };
    with_peers(&env, "1,1");
    let sub = env.subdomain("svr");
    let email = format!("it@{sub}.example");
    let r =
        env.home.run(&["customer", "create", "--name", "R", "--subdomain", &sub, "--email", &email, "--reverse-proxy"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let run = |args: &[&str]| env.home.run(&[&["customer"][..], args].concat());
    for args in [
        vec!["groups", &sub, "create", "office"],
        vec!["networks", &sub, "create", "lan"],
        vec!["networks", &sub, "add-resource", "lan", "nas", "--address", "10.0.0.5", "--group", "office"],
        vec!["networks", &sub, "add-resource", "lan", "office-lan", "--address", "10.1.0.0/16", "--group", "office"],
    ] {
        let r = run(&args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
    }
    let create = |name: &str, target: &str| run(&["services", &sub, "create", name, "--target", target]);
    for (target, words) in [
        ("office-lan:445", "'office-lan' is the subnet 10.1.0.0/16: name the address inside it"),
        ("office-lan@10.2.0.1:445", "10.2.0.1 is not in 'office-lan' (10.1.0.0/16)"),
        ("nas@10.0.0.5:80", "'nas' is a host resource (10.0.0.5/32): @ADDRESS is for a subnet resource"),
        ("device-0@100.64.0.1", "'device-0' is a device"),
        ("ghost:80", "no device or network resource 'ghost'"),
    ] {
        let r = create("x", target);
        assert_eq!(r.code, if target.starts_with("ghost") { 1 } else { 2 }, "{target}: {}", r.stderr);
        assert!(r.stderr.contains(words), "{target}: {}", r.stderr);
    }
    let r = create("files", "office-lan@10.1.2.3:445");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("to 10.1.2.3 in resource 'office-lan' port 445"), "{}", r.stdout);
    let r = create("nas", "nas:5000");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let listed = run(&["services", &sub, "--json"]).json();
    let target =
        |name: &str| listed["data"].as_array().unwrap().iter().find(|s| s["name"] == name).unwrap()["target"].clone();
    assert_eq!((target("files"), target("nas")), ("subnet 10.1.2.3:445".into(), "host 10.0.0.5:5000".into()));
}

#[test]
fn the_monitor_says_when_a_proxy_is_not_registered_and_clears_it_when_it_is_back() {
    let Some(env) = DockerEnv::new("the_monitor_says_when_a_proxy_is_not_registered") else { return };
    let sub = env.subdomain("mrp");
    let email = format!("it@{sub}.example");
    let r =
        env.home.run(&["customer", "create", "--name", "M", "--subdomain", &sub, "--email", &email, "--reverse-proxy"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let status = |env: &DockerEnv| {
        let r = env.home.run(&["monitor", "--once", "--json"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let j = r.json();
        let c = j["customers"].as_array().unwrap().iter().find(|c| c["subdomain"] == sub).unwrap().clone();
        (c["status"].as_str().unwrap().to_string(), c["reason"].as_str().unwrap_or("").to_string())
    };
    assert_eq!(status(&env).0, "active");
    // The dashboard's Svc column reads what the monitor recorded: no services yet, none in trouble.
    let conn = rusqlite::Connection::open(env.home.path().join("nbmsp.db")).unwrap();
    let counts: (Option<u32>, Option<u32>) = conn
        .query_row("SELECT services_total, services_trouble FROM deployments", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!(counts, (Some(0), Some(0)));
    let proxy = env.home.container(&sub, "proxy");
    assert!(Command::new("docker").args(["stop", &proxy]).output().unwrap().status.success());
    let (s, reason) = status(&env);
    assert_eq!(s, "degraded", "{reason}");
    assert!(reason.contains("reverse proxy is not registered"), "{reason}");
    assert!(Command::new("docker").args(["start", &proxy]).output().unwrap().status.success());
    // It registers again within a heartbeat or two: the monitor's verdict follows.
    let start = std::time::Instant::now();
    while status(&env).0 != "active" {
        assert!(start.elapsed() < std::time::Duration::from_secs(30), "still not active");
    }
}

#[test]
fn backup_delete_restore_brings_the_proxy_its_token_and_the_services_back() {
    let Some(env) = DockerEnv::new("backup_delete_restore_brings_the_proxy") else { return };
    with_peers(&env, "1,1");
    let sub = env.subdomain("rpb");
    let email = format!("it@{sub}.example");
    let r =
        env.home.run(&["customer", "create", "--name", "B", "--subdomain", &sub, "--email", &email, "--reverse-proxy"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = env.home.run(&["customer", "services", &sub, "create", "wiki", "--target", "device-0"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let token = |env: &DockerEnv| {
        let text = std::fs::read_to_string(env.data_dir().join(&sub).join("proxy.env")).unwrap();
        text.lines().find_map(|l| l.strip_prefix("NB_PROXY_TOKEN=")).unwrap_or_default().to_string()
    };
    let before = token(&env);
    let file = env.home.path().join("rp.nbmsp-backup");
    assert_eq!(env.home.run(&["customer", "backup", &sub, "--out", file.to_str().unwrap()]).code, 0);
    assert_eq!(env.home.run(&["customer", "delete", &sub, "--yes", "--purge-data"]).code, 0);
    assert!(!exists(&env.home.container(&sub, "proxy")));
    let r = env.home.run(&["customer", "restore", file.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    // The same token (sealed in the backup), so the proxy registers with its restored management.
    assert_eq!(token(&env), before);
    assert_eq!(inspect(&env.home.container(&sub, "proxy"), "{{.State.Status}}"), "running");
    let listed = env.home.run(&["customer", "services", &sub, "--json"]).json();
    assert_eq!(listed["data"][0]["name"], "wiki", "{listed}");
    assert_eq!(listed["data"][0]["status"], "active", "{listed}");
}

#[test]
fn the_app_lists_a_customers_services_on_its_netbird_tab_at_80x24_and_120x40() {
    use crate::common::tmux::{exit_code, log_in, start_with, tmux_missing};
    if tmux_missing() {
        return;
    }
    let Some(env) = DockerEnv::new("the_app_lists_a_customers_services") else { return };
    with_peers(&env, "1,1");
    let sub = env.subdomain("tsv");
    let email = format!("it@{sub}.example");
    let r =
        env.home.run(&["customer", "create", "--name", "T", "--subdomain", &sub, "--email", &email, "--reverse-proxy"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = env.home.run(&["customer", "services", &sub, "create", "wiki", "--target", "device-0:8080"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for (cols, rows) in [(80, 24), (120, 40)] {
        // With the real engine (`start` points the app at none).
        let (t, exit_file) = start_with(&env.home, env.home.path(), &format!("svc{cols}"), cols, rows, "");
        log_in(&t);
        t.wait_for("Customers (1)");
        t.keys(&["Enter"]);
        t.wait_for(&format!("{sub}.msp.example"));
        t.keys(&["5"]);
        t.wait_for(" Devices ");
        // ← from the devices wraps to the last lists: events, the identity providers, DNS,
        // posture, policies, then the services.
        for list in ["Events", "IdPs", "DNS", "Posture", "Policies"] {
            t.keys(&["Left"]);
            t.wait_for(&format!("┌ {list} "));
        }
        t.keys(&["Left"]);
        let screen = t.wait_for(&format!("wiki.{sub}"));
        assert!(screen.contains("● active") && screen.contains("Services"), "{cols}x{rows}:\n{screen}");
        if cols == 120 {
            // Published from the app with a PIN: the line, then the PIN on a line of its own,
            // drawn as dots; the list then shows it, asking for a PIN.
            t.keys(&["n"]);
            t.wait_for("service: NAME");
            t.keys(&["-l", "pinned device-0:9090 pin"]);
            t.keys(&["Enter"]);
            t.wait_for("its PIN or password");
            t.keys(&["-l", "604182"]);
            let screen = t.wait_for("••••••");
            assert!(!screen.contains("604182"), "the PIN is drawn as dots:\n{screen}");
            t.keys(&["Enter"]);
            t.wait_for(&format!("pinned.{sub}"));
            let listed = env.home.run(&["customer", "services", &sub, "--json"]).json();
            let pinned = listed["data"].as_array().unwrap().iter().find(|s| s["name"] == "pinned").cloned();
            assert!(pinned.is_some_and(|p| p["auth"] == serde_json::json!(["pin"])), "{listed}");
        }
        t.escape_until("Customers (1)", 2);
        t.keys(&["q"]);
        assert_eq!(exit_code(&t, &exit_file), "0");
    }
}
