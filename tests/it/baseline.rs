//! Policies and the fleet's baseline on the real engine with the stand-in's policies API
//! (standin/policies.rs names upstream's handler): a new account's Default "All → All" policy
//! is listed as such, turned off by the baseline on three customers — canary first, halting at
//! one made to fail, the others untouched — then `check` is clean; a policy of the customer's
//! own survives; an operator may disable but not enable or delete.

use crate::common;
use crate::common::docker::DockerEnv;
use serde_json::Value;

fn ok(r: common::Run) -> Value {
    assert_eq!(r.code, 0, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    r.json()
}

fn create(env: &DockerEnv, sub: &str) {
    let email = format!("it@{sub}.example");
    ok(env.home.run(&["customer", "create", "--name", sub, "--subdomain", sub, "--email", &email, "--json"]));
}

/// A request to the customer's NetBird as its owner, as someone would in the dashboard.
fn as_owner(env: &DockerEnv, sub: &str, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
    let pat =
        ok(env.home.run(&["customer", "credentials", sub, "--yes", "--json"]))["pat"].as_str().unwrap().to_string();
    let show = ok(env.home.run(&["customer", "show", sub, "--json"]));
    let server = show["containers"].as_array().unwrap().iter().find(|c| c["service"] == "server").unwrap().clone();
    let auth = format!("Token {pat}");
    let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/json")];
    let ip = server["ip"].as_str().unwrap();
    let (status, text) = common::http::request(&format!("{ip}:80"), method, path, &headers, body).unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn policies(env: &DockerEnv, sub: &str) -> Vec<Value> {
    ok(env.home.run(&["customer", "policies", sub, "--json"]))["data"].as_array().unwrap().clone()
}

#[test]
fn the_baseline_turns_all_to_all_off_across_the_fleet_canary_first_and_halts_on_a_failure() {
    let Some(env) = DockerEnv::new("the_baseline_turns_all_to_all_off") else { return };
    // Named so that their order (subdomain order) is a, b, c.
    let tag = env.subdomain("bl");
    let (a, b, c) = (format!("a{tag}"), format!("b{tag}"), format!("c{tag}"));
    for sub in [&a, &b, &c] {
        create(&env, sub);
    }
    // A new account: the Default policy, All → All, flagged.
    let listed = policies(&env, &a);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!((listed[0]["name"].as_str(), listed[0]["all_to_all"].as_bool()), (Some("Default"), Some(true)));
    let table = env.home.run(&["customer", "policies", &a]).stdout;
    assert!(table.contains("ALL→ALL") && table.contains("All ↔ All"), "{table}");

    // c's own policy for its staff group (made in its dashboard): the baseline must not touch it.
    ok(env.home.run(&["customer", "groups", &c, "create", "staff", "--json"]));
    let groups = ok(env.home.run(&["customer", "groups", &c, "--json"]));
    let staff = groups["data"].as_array().unwrap().iter().find(|g| g["name"] == "staff").unwrap()["id"].clone();
    let own = serde_json::json!({"name": "staff-ssh", "enabled": true, "rules": [{"name": "ssh", "enabled": true,
        "action": "accept", "bidirectional": false, "protocol": "tcp", "ports": ["22"],
        "sources": [staff], "destinations": [staff]}]});
    let (status, made) = as_owner(&env, &c, "POST", "/api/policies", Some(&own.to_string()));
    assert_eq!(status, 200, "{made}");

    // No baseline yet: said, not guessed.
    let r = env.home.run(&["baseline", "check"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("baseline.toml"), "{}", r.stderr);
    // c made its own "staff" group above; a and b lack it.
    std::fs::write(env.home.path().join("baseline.toml"), "allow_default_policy = false\ngroups = [\"staff\"]\n")
        .unwrap();
    let r = env.home.run(&["baseline", "check", "--json"]);
    assert_eq!(r.code, 1, "three differ: {}", r.stdout);
    let report = r.json();
    assert_eq!(report["differ"], 3, "{report}");
    // The monitor marks each: degraded, with the way back.
    let status = |sub: &str| {
        let r = ok(env.home.run(&["monitor", "--once", "--json"]));
        let c = r["customers"].as_array().unwrap().iter().find(|c| c["subdomain"] == sub).unwrap().clone();
        (c["status"].as_str().unwrap().to_string(), c["reason"].as_str().unwrap_or("").to_string())
    };
    let (st, why) = status(&a);
    assert_eq!(st, "degraded", "{why}");
    assert!(why.contains("fleet's baseline") && why.contains("All → All"), "{why}");

    // b's NetBird is down when the apply reaches it: a (the canary) is fixed, b fails, c is
    // left as it was.
    let plan = ok(env.home.run(&["baseline", "apply", "--json"]));
    assert_eq!(plan["applied"], false, "no --yes: a plan");
    assert!(policies(&env, &a)[0]["enabled"].as_bool().unwrap(), "the plan changed nothing");
    let docker = |args: &[&str]| assert!(std::process::Command::new("docker").args(args).status().unwrap().success());
    docker(&["stop", "-t", "1", &env.home.container(&b, "server")]);
    let r = env.home.run(&["baseline", "apply", "--yes", "--wave", "1", "--json"]);
    assert_eq!(r.code, 1, "halted: {}", r.stdout);
    let applied = r.json();
    assert_eq!(applied["fixed"][0][0], a.as_str(), "{applied}");
    assert_eq!(applied["failed"][0], b.as_str(), "{applied}");
    assert_eq!(applied["not_started"], serde_json::json!([c]), "{applied}");
    assert!(!policies(&env, &a)[0]["enabled"].as_bool().unwrap());
    let c_default = policies(&env, &c).into_iter().find(|p| p["name"] == "Default").unwrap();
    assert!(c_default["enabled"].as_bool().unwrap(), "c untouched");

    // b back: apply converges; check is clean; c's own policy is as it was.
    docker(&["start", &env.home.container(&b, "server")]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let r = env.home.run(&["baseline", "apply", "--yes", "--json"]);
        if r.code == 0 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "b never came back: {}", r.stdout);
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    assert_eq!(env.home.run(&["baseline", "check"]).code, 0);
    assert_eq!(status(&a).0, "active", "the mark clears when the customer matches");
    for sub in [&a, &b, &c] {
        let groups = ok(env.home.run(&["customer", "groups", sub, "--json"]));
        let staff = groups["data"].as_array().unwrap().iter().filter(|g| g["name"] == "staff").count();
        assert_eq!(staff, 1, "{sub}: the baseline's group, once: {groups}");
    }
    let mine = policies(&env, &c).into_iter().find(|p| p["name"] == "staff-ssh").expect("c's own policy stays");
    assert_eq!((mine["enabled"].as_bool(), mine["all_to_all"].as_bool()), (Some(true), Some(false)));
    assert_eq!(mine["rules"][0]["ports"], serde_json::json!(["22"]));
    // The Default policy was turned off, not deleted, and kept its rule whole.
    let (_, def) = as_owner(&env, &a, "GET", "/api/policies", None);
    let def = def.as_array().unwrap().iter().find(|p| p["name"] == "Default").unwrap().clone();
    assert_eq!((def["enabled"].as_bool(), def["rules"][0]["bidirectional"].as_bool()), (Some(false), Some(true)));
    assert_eq!(def["rules"][0]["sources"][0]["name"], "All");

    // NetBird's own audit trail says the same, newest first: the Default policy updated (by the
    // owner's token nbmsp uses), the account created first of all.
    let events = ok(env.home.run(&["customer", "events", &a, "--json"]))["data"].as_array().unwrap().clone();
    let codes: Vec<&str> = events.iter().map(|e| e["code"].as_str().unwrap()).collect();
    assert_eq!(codes.first(), Some(&"policy.update"), "{codes:?}");
    assert_eq!(codes.last(), Some(&"account.create"), "{codes:?}");
    assert!(events[0]["initiator"].as_str().unwrap().contains('@'), "{}", events[0]);
    let c_events = ok(env.home.run(&["customer", "events", &c, "--search", "added", "--json"]));
    let c_codes: Vec<&str> = c_events["data"].as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap()).collect();
    assert_eq!(c_codes, ["policy.add"], "c's own policy, made in its dashboard");
    let table = env.home.run(&["customer", "events", &c, "--limit", "2"]).stdout;
    assert_eq!(table.lines().count(), 3, "a header and two events: {table}");

    // Roles: an operator may turn a policy off, not on, and may not apply the baseline.
    ok(env.home.run_with(
        &["user", "add", "op", "--role", "operator", "--json"],
        &[("NBMSP_PASSWORD", common::ADMIN_PASSWORD), ("NBMSP_NEW_PASSWORD", "operator-password-1")],
    ));
    let as_op =
        |args: &[&str]| env.home.run_with(args, &[("NBMSP_USER", "op"), ("NBMSP_PASSWORD", "operator-password-1")]);
    assert_eq!(as_op(&["customer", "policies", &c, "disable", "staff-ssh"]).code, 0);
    let r = as_op(&["customer", "policies", &c, "enable", "staff-ssh", "--json"]);
    assert_eq!(r.json()["error"]["kind"], "forbidden", "{}", r.stdout);
    let r = as_op(&["baseline", "apply", "--yes", "--json"]);
    assert_eq!(r.json()["error"]["kind"], "forbidden", "{}", r.stdout);
    // Audited: who turned what off.
    let audit = env.home.run(&["customer", "audit", &a]).stdout;
    assert!(audit.contains("policy 'Default' disabled"), "{audit}");
}

/// Identity providers: the client secret is read from a file, sent to NetBird and kept nowhere
/// else — not in nbmsp's database, WAL, logs, output or audit; NetBird checks what upstream
/// checks (an issuer it cannot reach is refused with its words).
#[test]
fn an_identity_providers_secret_goes_to_netbird_only() {
    let Some(env) = DockerEnv::new("an_identity_providers_secret_goes_to_netbird_only") else { return };
    let sub = env.subdomain("sso");
    create(&env, &sub);
    let secret = "gcs-SECRET-7f3b9c1e";
    let file = env.home.file("client-secret", secret);
    let f = file.to_str().unwrap();
    let r = env.home.run(&[
        "customer",
        "idps",
        &sub,
        "create",
        "google",
        "Google Workspace",
        "--client-id",
        "123.apps",
        "--secret-file",
        f,
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("google-") && !r.stdout.contains(secret), "{}", r.stdout);
    let listed = ok(env.home.run(&["customer", "idps", &sub, "--json"]));
    assert_eq!(listed["data"][0]["name"], "Google Workspace", "{listed}");
    assert!(!listed.to_string().contains(secret));
    // An issuer NetBird cannot reach: refused with upstream's words, nothing kept.
    let r = env.home.run(&[
        "customer",
        "idps",
        &sub,
        "create",
        "okta",
        "Okta",
        "--client-id",
        "x",
        "--secret-file",
        f,
        "--issuer",
        "https://acme.okta.example",
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("identity provider issuer is unreachable"), "{}", r.stderr);
    assert!(!r.stderr.contains(secret));
    let r = env.home.run(&["customer", "idps", &sub, "create", "bogus", "X", "--client-id", "x", "--secret-file", f]);
    assert!(r.stderr.contains("not a type NetBird supports"), "{}", r.stderr);
    // The audit says who added what; NetBird's own trail too; neither holds the secret.
    let audit = env.home.run(&["customer", "audit", &sub]).stdout;
    assert!(audit.contains("identity provider 'Google Workspace' (google) added"), "{audit}");
    let events = ok(env.home.run(&["customer", "events", &sub, "--json"]));
    assert_eq!(events["data"][0]["code"], "identityprovider.create", "{events}");
    assert!(!events.to_string().contains(secret));
    ok(env.home.run(&["customer", "idps", &sub, "delete", "Google Workspace", "--yes", "--json"]));
    assert_eq!(ok(env.home.run(&["customer", "idps", &sub, "--json"]))["data"], serde_json::json!([]));
    // Nowhere on nbmsp's side.
    let mut places = vec![env.home.path().join("nbmsp.db"), env.home.path().join("nbmsp.db-wal")];
    if let Ok(dir) = std::fs::read_dir(env.home.path().join("logs")) {
        places.extend(dir.map(|e| e.unwrap().path()));
    }
    for p in places.iter().filter(|p| p.exists()) {
        let bytes = std::fs::read(p).unwrap();
        assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()), "the secret is in {}", p.display());
    }
}

/// DNS nameserver groups as NetBird checks them: primary or for domains, 1 to 3 resolvers,
/// unique names, no wildcards; a group they use cannot be deleted.
#[test]
fn dns_nameserver_groups_are_checked_as_netbird_checks_them() {
    let Some(env) = DockerEnv::new("dns_nameserver_groups_are_checked") else { return };
    let sub = env.subdomain("dns");
    create(&env, &sub);
    ok(env.home.run(&["customer", "groups", &sub, "create", "staff", "--json"]));
    let made = ok(env.home.run(&[
        "customer",
        "dns",
        &sub,
        "create",
        "quad9",
        "--ns",
        "9.9.9.9",
        "--ns",
        "149.112.112.112",
        "--group",
        "staff",
        "--json",
    ]));
    assert!(made["data"].as_str().unwrap().contains("for every name"), "{made}");
    ok(env.home.run(&[
        "customer",
        "dns",
        &sub,
        "create",
        "corp",
        "--ns",
        "10.0.0.53:5353",
        "--group",
        "staff",
        "--domain",
        "corp.example",
        "--search-domains",
        "--json",
    ]));
    let listed = ok(env.home.run(&["customer", "dns", &sub, "--json"]));
    let groups = listed["data"].as_array().unwrap();
    assert_eq!(groups.len(), 2, "{listed}");
    let corp = groups.iter().find(|g| g["name"] == "corp").unwrap();
    assert_eq!((corp["primary"].as_bool(), corp["servers"][0].as_str()), (Some(false), Some("10.0.0.53:5353")));
    let refused = |args: &[&str], words: &str| {
        let mut all = vec!["customer", "dns", sub.as_str(), "create"];
        all.extend_from_slice(args);
        let r = env.home.run(&all);
        assert_eq!(r.code, 1, "{args:?}: {}", r.stdout);
        assert!(r.stderr.contains(words), "{args:?}: {}", r.stderr);
    };
    refused(&["wild", "--ns", "9.9.9.9", "--group", "staff", "--domain", "*.corp.example"], "wildcards not allowed");
    refused(&["quad9", "--ns", "9.9.9.9", "--group", "staff"], "nameserver group with name quad9 already exist");
    refused(
        &["many", "--ns", "1.1.1.1", "--ns", "1.0.0.1", "--ns", "8.8.8.8", "--ns", "8.8.4.4", "--group", "staff"],
        "should be 1 or 3, got 4",
    );
    refused(&["ghost", "--ns", "9.9.9.9", "--group", "nobody"], "no group 'nobody'");
    let r = env.home.run(&["customer", "groups", &sub, "delete", "staff", "--yes"]);
    assert!(r.stderr.contains("group has been linked to name server groups"), "{}", r.stderr);
    ok(env.home.run(&["customer", "dns", &sub, "delete", "quad9", "--yes", "--json"]));
    let codes: Vec<String> = ok(env.home.run(&["customer", "events", &sub, "--json"]))["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(&codes[..3], ["nameserver.group.delete", "nameserver.group.add", "nameserver.group.add"], "{codes:?}");
}

/// Posture checks: a minimum client version, required by a policy (sent back whole, the rule
/// kept), refused where NetBird refuses (a bad version, a name taken, a check a policy needs);
/// the other kinds (OS versions, ranges, countries) sent as NetBird keys them and read back.
#[test]
fn a_policy_requires_a_posture_check_and_the_check_cannot_go_while_it_does() {
    let Some(env) = DockerEnv::new("a_policy_requires_a_posture_check") else { return };
    let sub = env.subdomain("pst");
    create(&env, &sub);
    let made =
        ok(env.home.run(&["customer", "posture", &sub, "create", "modern", "--min-version", "0.70.0", "--json"]));
    assert!(made["data"].as_str().unwrap().contains("client ≥ 0.70.0"), "{made}");
    let listed = ok(env.home.run(&["customer", "posture", &sub, "--json"]));
    assert_eq!(listed["data"][0]["min_version"], "0.70.0", "{listed}");
    let r = env.home.run(&["customer", "posture", &sub, "create", "bad", "--min-version", "latest"]);
    assert!(r.stderr.contains("latest is not valid"), "{}", r.stderr);
    let r = env.home.run(&["customer", "posture", &sub, "create", "modern", "--min-version", "0.71.0"]);
    assert!(r.stderr.contains("already exists"), "{}", r.stderr);

    // Every kind in one check; country codes go upper case (GeoLite's), so `de` matches.
    let office = [
        "customer",
        "posture",
        &sub,
        "create",
        "office",
        "--os",
        "linux=5.10",
        "--os",
        "macos=14.0",
        "--allow-range",
        "10.0.0.0/8",
        "--allow-country",
        "de",
        "--json",
    ];
    ok(env.home.run(&office));
    let listed_all = ok(env.home.run(&["customer", "posture", &sub, "--json"]));
    let office = listed_all["data"].as_array().unwrap().iter().find(|p| p["name"] == "office").unwrap().clone();
    assert_eq!(
        office["checks"],
        serde_json::json!(["macOS ≥ 14.0", "Linux kernel ≥ 5.10", "ranges allow 10.0.0.0/8", "countries allow DE"]),
        "{office}"
    );
    // NetBird's own words for a kernel version it cannot read; nbmsp's before asking for a
    // country that is not one, or a check with nothing in it.
    let r = env.home.run(&["customer", "posture", &sub, "create", "k", "--os", "windows=ten"]);
    assert!(r.stderr.contains("windows kernel version: ten is not valid"), "{}", r.stderr);
    let r = env.home.run(&["customer", "posture", &sub, "create", "c", "--deny-country", "DEU", "--json"]);
    assert_eq!(r.json()["error"]["kind"], "usage", "{}", r.stdout);
    let r = env.home.run(&["customer", "posture", &sub, "create", "empty"]);
    assert!(r.stderr.contains("at least one check"), "{}", r.stderr);
    // With geolocation off (hosts without access to pkgs.netbird.io), NetBird refuses country
    // checks in its own words; the setting reaches the server at the next redeploy.
    ok(env.home.run(&["settings", "set", "netbird.geolocation", "off", "--json"]));
    ok(env.home.run(&["customer", "redeploy", &sub, "--json"]));
    let r = env.home.run(&["customer", "posture", &sub, "create", "geo", "--allow-country", "DE"]);
    assert!(
        r.stderr.contains("geo location database is not initialized") && r.stderr.contains("HTTP 412"),
        "{}",
        r.stderr
    );
    ok(env.home.run(&["customer", "posture", &sub, "delete", "office", "--yes", "--json"]));

    ok(env.home.run(&["customer", "posture", &sub, "attach", "modern", "--policy", "Default", "--json"]));
    let p = policies(&env, &sub).into_iter().find(|p| p["name"] == "Default").unwrap();
    let id = listed["data"][0]["id"].as_str().unwrap();
    assert_eq!(p["posture_checks"], serde_json::json!([id]), "{p}");
    assert_eq!(
        (p["enabled"].as_bool(), p["rules"][0]["sources"][0].as_str()),
        (Some(true), Some("All")),
        "kept whole: {p}"
    );
    let r = env.home.run(&["customer", "posture", &sub, "delete", "modern", "--yes"]);
    assert!(r.stderr.contains("linked to policy"), "{}", r.stderr);
    ok(env.home.run(&["customer", "posture", &sub, "detach", "modern", "--policy", "Default", "--json"]));
    assert_eq!(policies(&env, &sub)[0]["posture_checks"], serde_json::json!([]));
    ok(env.home.run(&["customer", "posture", &sub, "delete", "modern", "--yes", "--json"]));
    assert_eq!(ok(env.home.run(&["customer", "posture", &sub, "--json"]))["data"], serde_json::json!([]));
    policies_are_created_and_edited_whole(&env, &sub);
}

/// Policies added and changed (on the same deployed customer): groups by name turned into ids,
/// an unknown group refused by nbmsp (NetBird would drop it without a word), NetBird's own words
/// for a rule it refuses, and an edit that keeps what it does not name (`PUT` replaces the whole
/// record).
fn policies_are_created_and_edited_whole(env: &DockerEnv, sub: &str) {
    for g in ["staff", "servers"] {
        ok(env.home.run(&["customer", "groups", sub, "create", g, "--json"]));
    }
    let ssh = [
        "customer",
        "policies",
        sub,
        "create",
        "staff-ssh",
        "--from",
        "staff",
        "--to",
        "servers",
        "--protocol",
        "tcp",
        "--port",
        "22",
        "--one-way",
        "--json",
    ];
    let made = ok(env.home.run(&ssh));
    assert!(made["data"].as_str().unwrap().contains("staff → servers tcp 22 (one way)"), "{made}");
    let p = policies(env, sub).into_iter().find(|p| p["name"] == "staff-ssh").unwrap();
    let rule = &p["rules"][0];
    assert_eq!(
        (rule["sources"][0].as_str(), rule["destinations"][0].as_str(), rule["bidirectional"].as_bool()),
        (Some("staff"), Some("servers"), Some(false)),
        "{p}"
    );
    assert_eq!((p["enabled"].as_bool(), rule["ports"].clone()), (Some(true), serde_json::json!(["22"])));

    let r = env.home.run(&["customer", "policies", sub, "create", "x", "--from", "ghosts", "--to", "servers"]);
    assert!(r.stderr.contains("no group 'ghosts'"), "{}", r.stderr);
    let r = env.home.run(&["customer", "policies", sub, "edit", "staff-ssh", "--protocol", "icmp"]);
    assert!(r.stderr.contains("for all or icmp protocol ports is not allowed"), "NetBird's words: {}", r.stderr);

    // Only the ports change; direction, groups, and the switch stay as they were.
    ok(env.home.run(&["customer", "policies", sub, "edit", "staff-ssh", "--port", "22", "--port", "2222", "--json"]));
    let p = policies(env, sub).into_iter().find(|p| p["name"] == "staff-ssh").unwrap();
    assert_eq!(p["rules"][0]["ports"], serde_json::json!(["22", "2222"]), "{p}");
    assert_eq!((p["rules"][0]["bidirectional"].as_bool(), p["enabled"].as_bool()), (Some(false), Some(true)), "{p}");

    // The Default policy narrowed: All → All no more.
    ok(env.home.run(&["customer", "policies", sub, "edit", "Default", "--to", "staff", "--json"]));
    let d = policies(env, sub).into_iter().find(|p| p["name"] == "Default").unwrap();
    assert_eq!((d["all_to_all"].as_bool(), d["rules"][0]["destinations"][0].as_str()), (Some(false), Some("staff")));
    let r = env.home.run(&["customer", "policies", sub, "edit", "Default", "--json"]);
    assert_eq!(r.json()["error"]["kind"], "usage", "nothing to change: {}", r.stdout);
}

/// The baseline's own objects: a posture check, a policy that requires it and a nameserver group
/// are made where missing, put back when changed, and removed when the baseline drops them —
/// recognised by the marker in their description only: the customer's own policy of the same
/// name is never touched.
#[test]
fn the_baseline_makes_and_keeps_its_policies_posture_and_dns_and_touches_nothing_else() {
    let Some(env) = DockerEnv::new("the_baseline_makes_its_objects") else { return };
    let sub = env.subdomain("blo");
    create(&env, &sub);
    ok(env.home.run(&["customer", "groups", &sub, "create", "staff", "--json"]));
    let own = ["customer", "policies", &sub, "create", "staff-ssh", "--from", "staff", "--to", "staff", "--json"];
    ok(env.home.run(&own));
    // A key that never expires and serves any number of devices: the baseline revokes it.
    let forever = ["customer", "keys", &sub, "create", "forever", "--reusable", "--expires-days", "0", "--json"];
    ok(env.home.run(&forever));
    ok(env.home.run(&["customer", "keys", &sub, "create", "week", "--json"]));
    let base = r#"groups = ["staff", "servers"]
dns_unmanaged_groups = ["servers"]

[setup_keys]
reusable = false
max_days = 30

[[posture]]
name = "modern"
min_version = "0.60.0"
os = { linux = "5.10" }

[[policies]]
name = "staff-ssh"
from = ["staff"]
to = ["servers"]
protocol = "tcp"
ports = ["22"]
bidirectional = false
posture = ["modern"]

[[nameservers]]
name = "msp-dns"
servers = ["10.10.0.53", "10.10.0.54:5353"]
groups = ["All"]
"#;
    let file = env.home.path().join("baseline.toml");
    std::fs::write(&file, base).unwrap();
    let r = env.home.run(&["baseline", "check", "--json"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let whats: Vec<String> = r.json()["customers"][0]["drift"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["what"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        whats,
        [
            "group 'servers' is missing",
            "posture check 'modern' is missing",
            "policy 'staff-ssh' is missing",
            "nameserver group 'msp-dns' is missing",
            "NetBird manages the DNS of group 'servers'",
            "setup key 'forever' is reusable"
        ],
        "the customer's own staff-ssh is not the baseline's"
    );
    ok(env.home.run(&["baseline", "apply", "--yes", "--json"]));
    assert_eq!(env.home.run(&["baseline", "check"]).code, 0, "converged");

    let named = |name: &str| -> Vec<serde_json::Value> {
        policies(&env, &sub).into_iter().filter(|p| p["name"] == name).collect()
    };
    let both = named("staff-ssh");
    assert_eq!(both.len(), 2, "{both:?}");
    let (mine, theirs): (Vec<_>, Vec<_>) = both.into_iter().partition(|p| p["description"] == "");
    assert_eq!(mine[0]["rules"][0]["destinations"], serde_json::json!(["staff"]), "untouched: {mine:?}");
    let ours = &theirs[0];
    assert!(ours["description"].as_str().unwrap().contains("[nbmsp baseline]"), "{ours}");
    assert_eq!(
        (ours["rules"][0]["protocol"].as_str(), ours["rules"][0]["bidirectional"].as_bool()),
        (Some("tcp"), Some(false))
    );
    let checks = ok(env.home.run(&["customer", "posture", &sub, "--json"]))["data"].clone();
    assert_eq!(checks[0]["checks"], serde_json::json!(["client ≥ 0.60.0", "Linux kernel ≥ 5.10"]), "{checks}");
    assert_eq!(ours["posture_checks"], serde_json::json!([checks[0]["id"]]), "{ours}");
    let dns = ok(env.home.run(&["customer", "dns", &sub, "--json"]))["data"].clone();
    assert_eq!(dns[0]["servers"], serde_json::json!(["10.10.0.53:53", "10.10.0.54:5353"]), "{dns}");
    let settings = ok(env.home.run(&["customer", "dns", &sub, "settings", "--json"]))["data"].clone();
    assert_eq!(settings, serde_json::json!(["servers"]), "{settings}");
    let keys = ok(env.home.run(&["customer", "keys", &sub, "--json"]))["data"].clone();
    let state = |name: &str| keys.as_array().unwrap().iter().find(|k| k["name"] == name).unwrap()["state"].clone();
    assert_eq!((state("forever"), state("week")), ("revoked".into(), "valid".into()), "{keys}");
    // Keys made now follow the rules, through either door (the engine asks the baseline).
    let r = env.home.run(&["customer", "keys", &sub, "create", "again", "--reusable", "--json"]);
    assert_eq!(r.json()["error"]["kind"], "usage", "{}", r.stdout);
    assert!(r.stdout.contains("one-off setup keys only"), "{}", r.stdout);

    // Changed in the customer's NetBird: the baseline puts it back.
    let id = ours["id"].as_str().unwrap();
    ok(env.home.run(&["customer", "policies", &sub, "edit", id, "--port", "2222", "--json"]));
    let r = env.home.run(&["baseline", "check", "--json"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stdout.contains("policy 'staff-ssh' differs: ports"), "{}", r.stdout);
    ok(env.home.run(&["baseline", "apply", "--yes", "--json"]));
    let back = named("staff-ssh").into_iter().find(|p| p["id"] == id).unwrap();
    assert_eq!(back["rules"][0]["ports"], serde_json::json!(["22"]), "{back}");

    // Dropped from the baseline: its objects go, the customer's own stays.
    std::fs::write(&file, "groups = [\"staff\", \"servers\"]\ndns_unmanaged_groups = []\n").unwrap();
    ok(env.home.run(&["baseline", "apply", "--yes", "--json"]));
    assert_eq!(env.home.run(&["baseline", "check"]).code, 0);
    let left = named("staff-ssh");
    assert_eq!((left.len(), left[0]["description"].as_str()), (1, Some("")), "{left:?}");
    assert_eq!(ok(env.home.run(&["customer", "posture", &sub, "--json"]))["data"], serde_json::json!([]));
    assert_eq!(ok(env.home.run(&["customer", "dns", &sub, "--json"]))["data"], serde_json::json!([]));
    let settings = ok(env.home.run(&["customer", "dns", &sub, "settings", "--json"]))["data"].clone();
    assert_eq!(settings, serde_json::json!([]), "managed again: {settings}");
}

/// `baseline show|set`: the file as people change it from the CLI — the same use case as the
/// app's `:baseline` — admins only, never to a text that does not parse, the old file kept.
#[test]
fn the_baseline_file_is_set_by_admins_only_and_never_to_a_text_that_does_not_parse() {
    let h = common::Home::initialised();
    let shown = h.run(&["baseline", "show"]);
    assert!(
        shown.stdout.contains("[[policies]]") && shown.stdout.contains("# allow_default_policy"),
        "{}",
        shown.stdout
    );
    let good = h.path().join("good.toml");
    std::fs::write(&good, "allow_default_policy = false\n").unwrap();
    let saved = ok(h.run(&["baseline", "set", good.to_str().unwrap(), "--json"]));
    assert_eq!(saved["requires"], "All → All forbidden; 0 groups, 0 policies, 0 posture checks, 0 nameserver groups");

    let bad = h.path().join("bad.toml");
    std::fs::write(&bad, "[[policies]]\nname = \"x\"\nfrom = [\"ghosts\"]\nto = [\"All\"]\n").unwrap();
    let r = h.run(&["baseline", "set", bad.to_str().unwrap(), "--json"]);
    assert_ne!(r.code, 0);
    assert!(r.json()["error"]["message"].as_str().unwrap().contains("group 'ghosts'"), "{}", r.stdout);
    let file = std::fs::read_to_string(h.path().join("baseline.toml")).unwrap();
    assert_eq!(file, "allow_default_policy = false\n", "the old file stays");

    ok(h.run_with(
        &["user", "add", "op", "--role", "operator", "--json"],
        &[("NBMSP_PASSWORD", common::ADMIN_PASSWORD), ("NBMSP_NEW_PASSWORD", "operator-password-1")],
    ));
    let as_op = |args: &[&str]| h.run_with(args, &[("NBMSP_USER", "op"), ("NBMSP_PASSWORD", "operator-password-1")]);
    let r = as_op(&["baseline", "set", good.to_str().unwrap(), "--json"]);
    assert_eq!(r.json()["error"]["kind"], "forbidden", "{}", r.stdout);
    let shown = as_op(&["baseline", "show", "--json"]);
    assert_eq!((shown.json()["exists"].as_bool(), shown.code), (Some(true), 0), "everyone reads it");
}

/// A customer created while a baseline is in force gets it during its first deploy — after its
/// owner exists, before its domain is published — even when an operator deploys it (the deploy's
/// right covers the baseline's changes, each audited), so `check` finds nothing to do.
#[test]
fn a_new_customer_gets_the_baseline_at_its_first_deploy_even_from_an_operator() {
    let Some(env) = DockerEnv::new("a_new_customer_gets_the_baseline") else { return };
    let base = "allow_default_policy = false\ngroups = [\"staff\"]\n\n[[policies]]\nname = \"staff-web\"\nfrom = [\"staff\"]\nto = [\"staff\"]\nprotocol = \"tcp\"\nports = [\"443\"]\n";
    std::fs::write(env.home.path().join("baseline.toml"), base).unwrap();
    ok(env.home.run_with(
        &["user", "add", "op", "--role", "operator", "--json"],
        &[("NBMSP_PASSWORD", common::ADMIN_PASSWORD), ("NBMSP_NEW_PASSWORD", "operator-password-1")],
    ));
    let sub = env.subdomain("onb");
    let email = format!("it@{sub}.example");
    let r = env.home.run_with(
        &["customer", "create", "--name", &sub, "--subdomain", &sub, "--email", &email],
        &[("NBMSP_USER", "op"), ("NBMSP_PASSWORD", "operator-password-1")],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("fleet baseline") && r.stderr.contains("3 change(s)"), "{}", r.stderr);
    assert_eq!(env.home.run(&["baseline", "check"]).code, 0, "nothing left to do");
    let listed = policies(&env, &sub);
    let default = listed.iter().find(|p| p["name"] == "Default").unwrap();
    assert_eq!(default["enabled"], false, "never public with All → All: {listed:?}");
    assert!(listed.iter().any(|p| p["name"] == "staff-web"), "{listed:?}");
    let audit = env.home.run(&["customer", "audit", &sub]).stdout;
    assert!(audit.contains("policy 'Default' disabled") && audit.contains("op"), "{audit}");
}
