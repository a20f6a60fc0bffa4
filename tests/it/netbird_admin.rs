//! Administering a customer's NetBird through nbmsp, on the real engine with the stand-in,
//! which answers with upstream's shapes, status codes and texts (standin/admin.rs names the
//! upstream handlers): setup keys, devices, users and groups; roles; the audit log; a dead
//! access token and a stopped instance.

use crate::common;

use crate::common::docker::DockerEnv;
use serde_json::Value;

const PASSWORD: &str = "role-password-1";

/// Has the stand-in server report `peers` ("total,connected") devices, through a template
/// override as an operator would make one.
pub(crate) fn with_peers(env: &DockerEnv, peers: &str) {
    with_server_env(env, "STANDIN_PEERS", peers);
}

/// Gives the combined server's container `key=value` in its environment, through a template
/// override as an operator would make one.
pub(crate) fn with_server_env(env: &DockerEnv, key: &str, value: &str) {
    let embedded =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/combined/docker-compose.yml")).unwrap();
    let overridden = embedded.replace(
        "      NB_SETUP_PAT_ENABLED: \"true\"\n",
        &format!("      NB_SETUP_PAT_ENABLED: \"true\"\n      {key}: \"{value}\"\n"),
    );
    assert_ne!(overridden, embedded, "the template still sets NB_SETUP_PAT_ENABLED");
    std::fs::create_dir_all(env.home.path().join("templates/combined")).unwrap();
    std::fs::write(env.home.path().join("templates/combined/docker-compose.yml"), overridden).unwrap();
}

/// A deployed customer whose stand-in reports `peers` ("total,connected") devices.
pub(crate) fn deployed(env: &DockerEnv, tag: &str, peers: &str) -> String {
    with_peers(env, peers);
    let sub = env.subdomain(tag);
    let email = format!("owner@{sub}.example");
    let r = env.home.run(&["customer", "create", "--name", "N", "--subdomain", &sub, "--email", &email, "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    sub
}

pub(crate) fn ok(r: common::Run) -> Value {
    assert_eq!(r.code, 0, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    r.json()
}

pub(crate) fn failed(r: &common::Run) -> String {
    assert_ne!(r.code, 0, "expected a failure, got: {}", r.stdout);
    r.stderr.clone()
}

fn names(list: &Value) -> Vec<String> {
    list["data"].as_array().unwrap().iter().map(|x| x["name"].as_str().unwrap().to_string()).collect()
}

pub(crate) fn add_user(env: &DockerEnv, user: &str, role: &str) {
    let pw = env.home.file(&format!("pw-{user}"), PASSWORD);
    let r = env.home.run(&["user", "add", user, "--role", role, "--new-password-file", pw.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

pub(crate) fn as_user(env: &DockerEnv, user: &str, args: &[&str]) -> common::Run {
    env.home.run_with(&[&["--user", user][..], args].concat(), &[("NBMSP_PASSWORD", PASSWORD)])
}

#[test]
fn a_reusable_key_with_expiry_and_group_is_created_listed_and_revoked_by_role() {
    let Some(env) = DockerEnv::new("a_reusable_key_with_expiry_and_group") else { return };
    let sub = deployed(&env, "keys", "0,0");
    let run = |args: &[&str]| env.home.run(&[&["customer"][..], args].concat());

    ok(run(&["groups", &sub, "create", "laptops", "--json"]));
    let groups = ok(run(&["groups", &sub, "--json"]));
    assert_eq!(names(&groups), ["All", "laptops"]);

    let created = ok(run(&[
        "keys",
        &sub,
        "create",
        "onboarding",
        "--reusable",
        "--expires-days",
        "30",
        "--usage-limit",
        "5",
        "--group",
        "laptops",
        "--json",
    ]));
    let data = &created["data"];
    let secret = data["secret"].as_str().unwrap();
    // NetBird's key is an upper-case UUID (types.GenerateSetupKey).
    assert_eq!(secret.len(), 36, "{secret}");
    assert_eq!(secret, secret.to_uppercase());
    assert_eq!(data["command"], format!("netbird up --management-url https://{sub}.msp.example --setup-key {secret}"));
    assert_eq!(data["key"]["auto_groups"], serde_json::json!(["laptops"]), "group names, not ids");

    let keys = ok(run(&["keys", &sub, "--json"]));
    let key = &keys["data"][0];
    assert_eq!((key["name"].as_str(), key["kind"].as_str()), (Some("onboarding"), Some("reusable")));
    assert_eq!((key["state"].as_str(), key["usage_limit"].as_i64()), (Some("valid"), Some(5)));
    let expires =
        time::OffsetDateTime::parse(key["expires"].as_str().unwrap(), &time::format_description::well_known::Rfc3339)
            .unwrap();
    assert_eq!((expires - time::OffsetDateTime::now_utc()).whole_days(), 29, "30 days, less the seconds since");
    let text = run(&["keys", &sub]);
    assert!(!text.stdout.contains(secret), "a listing never shows the secret:\n{}", text.stdout);

    // NetBird refuses to delete a group a key uses: the text and status come through.
    let err = failed(&run(&["groups", &sub, "delete", "laptops", "--yes"]));
    assert!(err.contains("group has been linked to setup key: onboarding") && err.contains("HTTP 400"), "{err}");

    // Roles: a viewer lists but may not create or revoke; an operator revokes but may not
    // create (a new key's secret is for admins only).
    add_user(&env, "view", "viewer");
    add_user(&env, "ops", "operator");
    let listed = as_user(&env, "view", &["customer", "keys", &sub, "--json"]);
    assert_eq!(listed.json()["data"][0]["name"], "onboarding", "{}{}", listed.stdout, listed.stderr);
    for who in ["view", "ops"] {
        let err = failed(&as_user(&env, who, &["customer", "keys", &sub, "create", "more"]));
        assert!(err.contains("may not create a setup key"), "{who}: {err}");
    }
    let err = failed(&as_user(&env, "view", &["customer", "keys", &sub, "revoke", "onboarding"]));
    assert!(err.contains("may not revoke a setup key"), "{err}");
    let r = as_user(&env, "ops", &["customer", "keys", &sub, "revoke", "onboarding"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let keys = ok(run(&["keys", &sub, "--json"]));
    assert_eq!(
        (keys["data"][0]["state"].as_str(), keys["data"][0]["revoked"].as_bool()),
        (Some("revoked"), Some(true))
    );
    assert_eq!(keys["data"][0]["auto_groups"], serde_json::json!(["laptops"]), "revoking kept the key's groups");

    // Every change is in the customer's audit log, with who did it; a refusal too.
    let audit = ok(run(&["audit", &sub, "--json"]));
    let netbird: Vec<(String, String, String)> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "netbird")
        .map(|e| {
            (
                e["actor"].as_str().unwrap().into(),
                e["status"].as_str().unwrap().into(),
                e["message"].as_str().unwrap().into(),
            )
        })
        .collect();
    let has = |who: &str, status: &str, text: &str| {
        netbird.iter().any(|(a, s, m)| a == who && s == status && m.contains(text))
    };
    assert!(has("ops", "success", "setup key 'onboarding' revoked"), "{netbird:?}");
    assert!(has("admin", "success", "setup key 'onboarding' created (reusable, groups: laptops)"), "{netbird:?}");
    assert!(has("admin", "success", "group 'laptops' created"), "{netbird:?}");
    assert!(has("admin", "error", "group has been linked to setup key"), "{netbird:?}");
    assert!(!netbird.iter().any(|(_, _, m)| m.contains(secret)), "the secret is never logged");
}

#[test]
fn devices_are_listed_renamed_and_deleted_and_users_managed() {
    let Some(env) = DockerEnv::new("devices_are_listed_renamed_and_deleted") else { return };
    let sub = deployed(&env, "peers", "4,2");
    let run = |args: &[&str]| env.home.run(&[&["customer"][..], args].concat());

    let peers = ok(run(&["peers", &sub, "--json"]));
    assert_eq!(names(&peers), ["device-0", "device-1", "device-2", "device-3"]);
    let p1 = &peers["data"][1];
    assert_eq!((p1["connected"].as_bool(), p1["os"].as_str()), (Some(true), Some("darwin")));
    assert_eq!(p1["groups"], serde_json::json!(["All"]));
    assert_eq!(peers["data"][3]["connected"], false);
    assert!(peers["data"][3]["last_seen"].as_str().is_some(), "offline devices say when they were last seen");
    let old = ok(run(&["peers", &sub, "list", "--older-than", "0.70.0", "--json"]));
    assert_eq!(names(&old), ["device-2"], "clients older than a chosen version");
    // The fleet's view counts old clients against the configured minimum.
    assert_eq!(env.home.run(&["settings", "set", "netbird.min_client_version", "0.70.0"]).code, 0);
    let counted = ok(run(&["devices", &sub, "--json"]));
    assert_eq!((counted["total"].as_u64(), counted["outdated"].as_u64()), (Some(4), Some(1)), "{counted}");
    let fleet = ok(env.home.run(&["devices", "--json"]));
    let mine = fleet.as_array().unwrap().iter().find(|l| l["subdomain"] == sub.as_str()).unwrap().clone();
    assert_eq!(
        (mine["devices"].as_u64(), mine["online"].as_u64(), mine["outdated"].as_u64()),
        (Some(4), Some(2), Some(1))
    );
    assert_eq!(mine["over_limit"], false);

    // Renaming sends the whole record back: device-1 (added with SSO) keeps its login expiration.
    ok(run(&["peers", &sub, "rename", "device-1", "ceo-laptop", "--json"]));
    let peers = ok(run(&["peers", &sub, "--json"]));
    let renamed = peers["data"].as_array().unwrap().iter().find(|p| p["name"] == "ceo-laptop").unwrap().clone();
    assert_eq!(renamed["login_expiration_enabled"], true, "a rename must not switch login expiration off");
    // A device added with a setup key cannot have login expiration: NetBird says so (412).
    let err = failed(&run(&["peers", &sub, "login-expiration", "device-0", "on"]));
    assert!(err.contains("hasn't been added with the sso login") && err.contains("HTTP 412"), "{err}");
    ok(run(&["peers", &sub, "login-expiration", "ceo-laptop", "off", "--json"]));

    assert_eq!(run(&["peers", &sub, "delete", "device-3"]).code, 2, "deleting needs --yes");
    ok(run(&["peers", &sub, "delete", "device-3", "--yes", "--json"]));
    let peers = ok(run(&["peers", &sub, "--json"]));
    assert_eq!(names(&peers), ["device-0", "ceo-laptop", "device-2"]);
    let all = ok(run(&["groups", &sub, "--json"]));
    assert_eq!(all["data"][0]["peers_count"], 3, "the group lost the device too");
    let err = failed(&run(&["peers", &sub, "rename", "device-9", "x"]));
    assert!(err.contains("no device 'device-9'"), "{err}");

    // Users: a service user, its role changed, then deleted; a person gets a password once.
    let u = ok(run(&["users", &sub, "create", "ci-bot", "--service", "--json"]));
    assert_eq!((u["data"]["user"]["service"].as_bool(), u["data"]["password"].as_str()), (Some(true), None));
    ok(run(&["users", &sub, "role", "ci-bot", "admin", "--json"]));
    let users = ok(run(&["users", &sub, "--json"]));
    let bot = users["data"].as_array().unwrap().iter().find(|x| x["name"] == "ci-bot").unwrap().clone();
    assert_eq!(bot["role"], "admin");
    let err = failed(&run(&["users", &sub, "role", "ci-bot", "owner"]));
    assert!(err.contains("not a role nbmsp gives"), "{err}");
    ok(run(&["users", &sub, "delete", "ci-bot", "--yes", "--json"]));
    let person = ok(run(&["users", &sub, "create", "Ann", "--email", "ann@example.com", "--json"]));
    assert_eq!(person["data"]["password"].as_str().map(str::len), Some(16), "the embedded IdP's password, once");
    ok(run(&["users", &sub, "block", "ann@example.com", "--json"]));
    let users = ok(run(&["users", &sub, "--json"]));
    let ann = users["data"].as_array().unwrap().iter().find(|x| x["email"] == "ann@example.com").unwrap().clone();
    assert_eq!(ann["blocked"], true);
    let err = failed(&run(&["users", &sub, "delete", &format!("owner@{sub}.example"), "--yes"]));
    assert!(err.contains("self deletion is not allowed") && err.contains("HTTP 422"), "{err}");
}

#[test]
fn a_dead_token_names_the_way_back_and_a_stopped_instance_says_so() {
    let Some(env) = DockerEnv::new("a_dead_token_names_the_way_back") else { return };
    let sub = deployed(&env, "dead", "1,1");
    let pat = |env: &DockerEnv| {
        ok(env.home.run(&["customer", "credentials", &sub, "--yes", "--json"]))["pat"].as_str().unwrap().to_string()
    };
    let show = ok(env.home.run(&["customer", "show", &sub, "--json"]));
    let owner = show["owner_user_id"].as_str().unwrap().to_string();
    let api = |method: &str, path: &str, token: &str, body: Option<&str>| {
        let show = ok(env.home.run(&["customer", "show", &sub, "--json"]));
        let server = show["containers"].as_array().unwrap().iter().find(|c| c["service"] == "server").unwrap().clone();
        let auth = format!("Token {token}");
        let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/json")];
        let ip = server["ip"].as_str().unwrap();
        let (status, text) = common::http::request(&format!("{ip}:80"), method, path, &headers, body).unwrap();
        assert_eq!(status, 200, "{method} {path}: {text}");
        serde_json::from_str::<Value>(&text).unwrap()
    };
    // As someone would in the dashboard: a token of their own, while nbmsp's still works.
    let tokens_path = format!("/api/users/{owner}/tokens");
    let made = api("POST", &tokens_path, &pat(&env), Some(r#"{"name":"by-hand","expires_in":2}"#));
    let by_hand = made["plain_token"].as_str().unwrap().to_string();

    // Time passes: nbmsp's token expires (in NetBird's store and in nbmsp's record of it), and
    // no monitor ran to renew it.
    let yesterday = time::OffsetDateTime::now_utc() - time::Duration::days(1);
    let store_file = env.data_dir().join(&sub).join("data/server/standin-store.txt");
    let mine = pat(&env);
    let text = std::fs::read_to_string(&store_file).unwrap();
    let aged: Vec<String> = text
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            if f.first() == Some(&"token") && f.get(3) == Some(&mine.as_str()) {
                format!("{}\t{}", f[..5].join("\t"), yesterday.unix_timestamp())
            } else {
                l.to_string()
            }
        })
        .collect();
    assert_ne!(aged.join("\n"), text.trim_end(), "nbmsp's token is in NetBird's store");
    std::fs::write(&store_file, aged.join("\n") + "\n").unwrap();
    let db = rusqlite::Connection::open(env.home.path().join("nbmsp.db")).unwrap();
    let when = yesterday.format(&time::format_description::well_known::Rfc3339).unwrap();
    db.execute("UPDATE deployments SET pat_expires_at = ?1", [&when]).unwrap();
    ok(env.home.run(&["customer", "restart", &sub, "--json"]));
    let err = failed(&env.home.run(&["customer", "peers", &sub]));
    assert!(
        err.contains("refused nbmsp's access token") && err.contains(&format!("expired on {}", yesterday.date())),
        "{err}"
    );
    assert!(err.contains(&format!("nbmsp customer set-token {sub} --token-file FILE")), "{err}");
    let err = failed(&env.home.run(&["customer", "renew-token", &sub]));
    assert!(err.contains("rejected"), "a dead token cannot renew itself: {err}");

    let file = env.home.file("token", &format!("{by_hand}\n"));
    let r = env.home.run(&["customer", "set-token", &sub, "--token-file", file.to_str().unwrap(), "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(names(&ok(env.home.run(&["customer", "peers", &sub, "--json"]))), ["device-0"], "working again");
    let stored = pat(&env);
    assert_ne!(stored, by_hand, "nbmsp renewed from it and keeps a token of its own");

    // Someone revokes nbmsp's token in the dashboard.
    for t in api("GET", &tokens_path, &by_hand, None).as_array().unwrap() {
        if t["name"] != "by-hand" {
            api("DELETE", &format!("{tokens_path}/{}", t["id"].as_str().unwrap()), &by_hand, None);
        }
    }
    let err = failed(&env.home.run(&["customer", "peers", &sub]));
    assert!(err.contains("refused nbmsp's access token") && err.contains("was revoked"), "{err}");

    ok(env.home.run(&["customer", "stop", &sub, "--json"]));
    let err = failed(&env.home.run(&["customer", "keys", &sub]));
    assert!(err.contains("is not running") && err.contains(&format!("nbmsp customer start {sub}")), "{err}");
}

/// The full-screen app on the real engine: the NetBird tab lists the customer's devices, a new
/// setup key made from its form shows the `netbird up` line once, and the change is audited.
#[test]
fn the_app_lists_devices_and_creates_a_key_from_its_form() {
    use common::tmux::{log_in, start_with, tmux_missing};
    if tmux_missing() {
        return;
    }
    let Some(env) = DockerEnv::new("the_app_lists_devices_and_creates_a_key") else { return };
    let sub = deployed(&env, "tuinb", "2,1");
    let (t, _exit) = start_with(&env.home, env.home.path(), "netbird", 120, 32, "");
    log_in(&t);
    t.wait_for("Customers (1)");
    t.keys(&["Enter"]);
    t.wait_for("[5 NetBird]");
    t.keys(&["5"]);
    let screen = t.wait_for("device-1");
    assert!(screen.contains("device-0") && screen.contains("● online"), "{screen}");
    t.keys(&["Right"]);
    t.wait_for("no setup keys: n creates one");
    t.keys(&["n"]);
    t.wait_for("New setup key");
    t.keys(&["-l", "front-desk"]);
    t.keys(&["Enter"]);
    let screen = t.wait_for("shown only now");
    let line = screen.lines().find(|l| l.contains("--setup-key")).unwrap_or_else(|| panic!("{screen}"));
    assert!(line.contains(&format!("netbird up --management-url https://{sub}.msp.example")), "{screen}");
    t.wait_for("front-desk  ");
    let keys = ok(env.home.run(&["customer", "keys", &sub, "--json"]));
    assert_eq!(names(&keys), ["front-desk"], "the key exists in NetBird");
    let audit = ok(env.home.run(&["customer", "audit", &sub, "--json"]));
    assert!(audit.as_array().unwrap().iter().any(|e| e["action"] == "netbird" && e["actor"] == "admin"), "{audit}");
    t.keys(&["q"]);
}

/// Upstream's group PUT replaces the group's resources with the request's (a resource's
/// membership lives only in the group): a rename that sends name and peers alone takes the
/// group off every network resource it guarded.
#[test]
fn renaming_a_group_keeps_its_network_resources() {
    let Some(env) = DockerEnv::new("renaming_a_group_keeps_its_network_resources") else { return };
    let sub = deployed(&env, "grp", "1,0");
    let run = |args: &[&str]| env.home.run(&[&["customer"][..], args].concat());
    ok(run(&["groups", &sub, "create", "servers", "--json"]));
    // A network resource joins the group in NetBird (the dashboard's Networks page; the
    // stand-in's store is edited, then reread at a restart).
    let store_file = env.data_dir().join(&sub).join("data/server/standin-store.txt");
    let text = std::fs::read_to_string(&store_file).unwrap();
    let with_resource: Vec<String> = text
        .lines()
        .map(|l| {
            if l.starts_with("group\t") && l.contains(r#""name":"servers""#) {
                l.replace(r#""resources":[]"#, r#""resources":["res-wiki:host"]"#)
            } else {
                l.to_string()
            }
        })
        .collect();
    assert_ne!(with_resource.join("\n"), text.trim_end(), "the group's line has its resources: {text}");
    std::fs::write(&store_file, with_resource.join("\n") + "\n").unwrap();
    ok(env.home.run(&["customer", "restart", &sub, "--json"]));

    ok(run(&["groups", &sub, "rename", "servers", "backends", "--json"]));
    let after = std::fs::read_to_string(&store_file).unwrap();
    let line = after.lines().find(|l| l.starts_with("group\t") && l.contains(r#""name":"backends""#)).unwrap();
    assert!(line.contains("res-wiki:host"), "the resource stays in the renamed group: {line}");
}
