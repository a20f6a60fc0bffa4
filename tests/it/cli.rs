//! The CLI contract, end to end: the built binary, a private data home, real SQLite.

use crate::common;

use crate::common::{ADMIN_PASSWORD, Home};

#[test]
fn commands_before_init_say_how_to_init() {
    let h = Home::empty();
    let r = h.run(&["customer", "list"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("nbmsp init"), "{}", r.stderr);
    let r = h.run(&["--json", "customer", "list"]);
    assert_eq!(r.json()["error"]["kind"], "not_initialised");
}

#[test]
fn init_validates_and_refuses_twice() {
    let h = Home::empty();
    let r = h.run(&["init", "--admin-email", "ops@msp.example", "--base-domain", "localhost"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("base_domain"), "{}", r.stderr);
    let r = h.run_with(
        &["init", "--admin-email", "ops@msp.example", "--base-domain", "msp.example", "--beside-foreign"],
        &[("NBMSP_PASSWORD", "short")],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("at least 10 characters"), "{}", r.stderr);
    let pw = h.file("pw", &format!("{ADMIN_PASSWORD}\n"));
    let r = h.run_with(
        &[
            "init",
            "--admin-email",
            "ops@msp.example",
            "--base-domain",
            "msp.example",
            "--password-file",
            pw.to_str().unwrap(),
            // The tests are an installation of their own beside any other on this engine
            // (another test's, or a developer's real one, which they must never touch).
            "--beside-foreign",
            "--json",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["admin_user"], "admin");
    let r = h.run(&[
        "init",
        "--admin-email",
        "ops@msp.example",
        "--base-domain",
        "msp.example",
        "--beside-foreign",
        "--json",
    ]);
    assert_eq!(r.code, 1);
    assert_eq!(r.json()["error"]["kind"], "conflict");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(h.path()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "the data home holds the database: owner only");
    }
}

#[test]
fn wrong_or_missing_password() {
    let h = Home::initialised();
    let r = h.run_with(&["customer", "list"], &[("NBMSP_PASSWORD", "not-the-password")]);
    assert_eq!(r.code, 1);
    assert_eq!(r.stderr.trim(), "nbmsp: wrong username or password");
    let r = h.run_with(&["customer", "list"], &[]);
    assert_eq!(r.code, 2, "no password and no terminal is a usage error");
    assert!(r.stderr.contains("--password-file"), "{}", r.stderr);
}

#[test]
fn lockout_is_persisted_across_processes() {
    let h = Home::initialised();
    for _ in 0..5 {
        assert_eq!(h.run_with(&["customer", "list"], &[("NBMSP_PASSWORD", "not-the-password")]).code, 1);
    }
    // A new process, with the right password, is still refused.
    let r = h.run(&["--json", "customer", "list"]);
    assert_eq!(r.code, 1);
    let err = &r.json()["error"];
    assert_eq!(err["kind"], "auth");
    let msg = err["message"].as_str().unwrap();
    assert!(msg.starts_with("too many failed logins: try again in "), "{msg}");
}

#[test]
fn customer_lifecycle_and_json_shapes() {
    let h = Home::initialised();
    let r = h.run(&[
        "customer",
        "create",
        "--no-deploy",
        "--name",
        "ACME Logistics",
        "--subdomain",
        "acme",
        "--email",
        "it@acme.example",
        "--company",
        "ACME GmbH",
        "--max-devices",
        "25",
        "--notes",
        "two sites",
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let c = r.json();
    for key in [
        "id",
        "name",
        "company",
        "subdomain",
        "email",
        "max_devices",
        "notes",
        "layout",
        "status",
        "created_at",
        "fqdn",
        "relay_udp_port",
        "setup_url",
    ] {
        assert!(c.get(key).is_some(), "create --json lacks {key}: {c}");
    }
    assert_eq!(c["status"], "inactive");
    assert_eq!(c["layout"], "combined");
    assert_eq!(c["fqdn"], "acme.msp.example");
    assert_eq!(c["max_devices"], 25);
    let id = c["id"].as_i64().unwrap().to_string();

    let r = h.run(&[
        "customer",
        "create",
        "--no-deploy",
        "--name",
        "B",
        "--subdomain",
        "beta",
        "--email",
        "b@beta.example",
        "--layout",
        "legacy",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);

    let list = h.run(&["customer", "list", "--json"]).json();
    assert_eq!(list.as_array().unwrap().len(), 2);
    let found = h.run(&["customer", "list", "--search", "logist", "--json"]).json();
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert_eq!(found[0]["subdomain"], "acme");
    assert_eq!(h.run(&["customer", "list", "--status", "error", "--json"]).json(), serde_json::json!([]));
    let text = h.run(&["customer", "list"]);
    assert!(text.stdout.starts_with("ID  NAME"), "{}", text.stdout);

    assert_eq!(h.run(&["customer", "show", &id, "--json"]).json()["subdomain"], "acme");
    let shown = h.run(&["customer", "show", "acme"]);
    assert!(shown.stdout.contains("acme.msp.example"), "{}", shown.stdout);

    let r = h.run(&["customer", "update", "acme", "--max-devices", "50", "--email", "noc@acme.example", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let u = r.json();
    assert_eq!((u["max_devices"].as_i64(), u["email"].as_str()), (Some(50), Some("noc@acme.example")));

    let r = h.run(&["customer", "delete", "acme"]);
    assert_eq!(r.code, 2, "delete needs --yes");
    let r = h.run(&["customer", "delete", "acme", "--yes", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["deleted"]["subdomain"], "acme");
    let r = h.run(&["customer", "show", "acme", "--json"]);
    assert_eq!(r.code, 1);
    assert_eq!(r.json()["error"]["kind"], "not_found");
}

#[test]
fn bad_customer_input_exit_codes() {
    let h = Home::initialised();
    let create = |sub: &str, email: &str| {
        h.run(&["customer", "create", "--no-deploy", "--name", "X", "--subdomain", sub, "--email", email, "--json"])
    };
    let r = create("Bad_Sub", "it@x.example");
    assert_eq!(r.code, 2);
    assert_eq!(r.json()["error"]["kind"], "validation");
    assert!(r.json()["error"]["message"].as_str().unwrap().starts_with("subdomain:"));
    assert_eq!(create("ok", "not-an-email").code, 2);
    assert_eq!(create("ok", "it@x.example").code, 0);
    let dup = create("ok", "it@x.example");
    assert_eq!(dup.code, 1);
    assert_eq!(dup.json()["error"]["kind"], "conflict");
    let r = h.run(&[
        "customer",
        "create",
        "--no-deploy",
        "--name",
        "X",
        "--subdomain",
        "y",
        "--email",
        "it@x.example",
        "--max-devices",
        "0",
    ]);
    assert_eq!(r.code, 2);
    let r = h.run(&[
        "customer",
        "create",
        "--no-deploy",
        "--name",
        "X\u{1b}[31m",
        "--subdomain",
        "z",
        "--email",
        "it@x.example",
    ]);
    assert_eq!(r.code, 2, "control characters are refused");
    assert!(r.stderr.contains("name:"), "{}", r.stderr);
    let r = h.run(&[
        "customer",
        "create",
        "--no-deploy",
        "--name",
        "X",
        "--subdomain",
        "y",
        "--email",
        "it@x.example",
        "--layout",
        "k8s",
    ]);
    assert_eq!(r.code, 2, "clap rejects an unknown layout");
    let r = h.run(&["customer", "update", "ok"]);
    assert_eq!(r.code, 2, "an update that changes nothing is a usage error");
    let r = h.run(&["customer", "frobnicate", "--json"]);
    assert_eq!(r.code, 2);
    assert_eq!(r.json()["error"]["kind"], "usage");
}

#[test]
fn settings_show_and_set() {
    let h = Home::initialised();
    let s = h.run(&["settings", "show", "--json"]).json();
    for key in [
        "base_domain",
        "admin_email",
        "data_dir",
        "docker_network",
        "relay_base_port",
        "relay_port_count",
        "layout",
        "proxy",
        "npm.url",
        "npm.identity",
        "npm.secret",
        "npm.certificate_id",
        "images.server",
        "images.dashboard",
        "images.management",
        "images.signal",
        "images.relay",
        "health_timeout_s",
    ] {
        assert!(s.get(key).is_some(), "settings show lacks {key}");
    }
    assert_eq!(s["npm.secret"], "unset");
    assert_eq!(s["base_domain"], "msp.example");

    // Allowed, with a word of caution: those ports are Linux's ephemeral ones.
    let r = h.run(&["settings", "set", "relay_base_port", "40000"]);
    assert_eq!(r.code, 0);
    assert!(r.stderr.contains("caution") && r.stderr.contains("32768-60999"), "{}", r.stderr);
    assert_eq!(h.run(&["settings", "show", "--json"]).json()["relay_base_port"], "40000");

    let r = h.run(&["settings", "set", "npm.password", "x"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("valid keys") && r.stderr.contains("npm.secret"), "{}", r.stderr);
    let r = h.run(&["settings", "set", "relay_base_port", "80"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("between 1024 and 65535"), "{}", r.stderr);
    let r = h.run(&["settings", "set", "relay_port_count", "30000"]);
    assert_eq!(r.code, 2, "40000 + 30000 leaves the port space");
    assert!(r.stderr.contains("65535"), "{}", r.stderr);
    let r = h.run(&["settings", "set", "npm.secret", "on-the-command-line"]);
    assert_eq!(r.code, 2, "secrets stay out of argv");
    let f = h.file("npm-secret", "npm-pass-value\n");
    let r = h.run(&["settings", "set", "npm.secret", "--value-file", f.to_str().unwrap(), "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["value"], "set");
    assert_eq!(h.run(&["settings", "show", "--json"]).json()["npm.secret"], "set");
    let r = h.run(&["settings", "set", "relay_base_port", "3478", "--json"]);
    assert_eq!(r.json()["caution"], serde_json::Value::Null, "below the ephemeral ports: {}", r.stdout);
}

#[test]
fn secret_written_through_the_cli_leaves_no_trace_in_db_or_wal() {
    let h = Home::initialised();
    let marker = "SECRET-MARKER-7f3a9c1e-do-not-store-in-clear";
    let db = h.path().join("nbmsp.db");
    // An open reader in this process keeps the WAL file (and its frames) alive after the CLI
    // exits, so the WAL is really inspected, not checkpointed away first.
    let reader = rusqlite::Connection::open(&db).unwrap();
    reader.execute_batch("BEGIN; SELECT COUNT(*) FROM users;").unwrap();
    let f = h.file("s", marker);
    let r = h.run(&["settings", "set", "npm.secret", "--value-file", f.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    std::fs::remove_file(&f).unwrap();
    let scan = |when: &str| {
        let mut looked = Vec::new();
        for entry in std::fs::read_dir(h.path()).unwrap() {
            let p = entry.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with("nbmsp.db") {
                let bytes = std::fs::read(&p).unwrap();
                for needle in [marker, ADMIN_PASSWORD] {
                    assert!(
                        !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                        "{needle} found in clear in {name} {when}"
                    );
                }
                looked.push((name, bytes.len()));
            }
        }
        looked
    };
    let looked = scan("while the WAL is live");
    assert!(looked.iter().any(|(n, len)| n == "nbmsp.db-wal" && *len > 0), "a non-empty WAL was inspected: {looked:?}");
    reader.execute_batch("COMMIT").unwrap();
    drop(reader);
    scan("after checkpoint");
    assert_eq!(h.run(&["settings", "show", "--json"]).json()["npm.secret"], "set");
}

#[test]
fn users_add_list_passwd_and_roles() {
    let h = Home::initialised();
    let r = h.run_with(
        &["user", "add", "ops", "--json"],
        &[("NBMSP_PASSWORD", ADMIN_PASSWORD), ("NBMSP_NEW_PASSWORD", "ops-password-1")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["role"], "operator");
    let users = h.run(&["user", "list", "--json"]).json();
    assert_eq!(users.as_array().unwrap().len(), 2);

    let as_ops = |args: &[&str]| h.run_with(args, &[("NBMSP_USER", "ops"), ("NBMSP_PASSWORD", "ops-password-1")]);
    assert_eq!(as_ops(&["customer", "list"]).code, 0, "operators manage customers");
    let r = as_ops(&["settings", "set", "layout", "legacy"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("an operator may not change settings (it needs an admin)"), "{}", r.stderr);
    let r = h.run_with(
        &["user", "add", "eve"],
        &[("NBMSP_USER", "ops"), ("NBMSP_PASSWORD", "ops-password-1"), ("NBMSP_NEW_PASSWORD", "eve-password-1")],
    );
    assert_eq!(r.code, 1, "operators cannot add users");

    let r = h.run_with(
        &["user", "passwd"],
        &[("NBMSP_USER", "ops"), ("NBMSP_PASSWORD", "ops-password-1"), ("NBMSP_NEW_PASSWORD", "ops-password-2")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(as_ops(&["customer", "list"]).code, 1, "old password is gone");
    let r = h.run_with(&["customer", "list"], &[("NBMSP_USER", "ops"), ("NBMSP_PASSWORD", "ops-password-2")]);
    assert_eq!(r.code, 0);
}

#[test]
fn backup_is_a_consistent_openable_copy() {
    let h = Home::initialised();
    assert_eq!(
        h.run(&["customer", "create", "--no-deploy", "--name", "A", "--subdomain", "a", "--email", "a@a.example"]).code,
        0
    );
    let out = h.path().join("backup.db");
    let r = h.run(&["backup", "--out", out.to_str().unwrap(), "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.json()["bytes"].as_u64().unwrap() > 0);
    // The copy is a complete nbmsp home: log in to it and find the customer.
    let restored = Home::empty();
    std::fs::copy(&out, restored.path().join("nbmsp.db")).unwrap();
    let list = restored.run(&["customer", "list", "--json"]).json();
    assert_eq!(list[0]["subdomain"], "a");
    let r = h.run(&["backup", "--out", out.to_str().unwrap()]);
    assert_eq!(r.code, 1, "an existing file is not overwritten");
}

#[test]
fn doctor_reports_one_line_per_check() {
    let h = Home::initialised();
    let r = h.run(&["doctor", "--json"]);
    let doc = r.json();
    let names: Vec<&str> = doc["checks"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "database",
            "docker",
            "proxy",
            "data_dir",
            "ports",
            "images",
            "edge",
            "services_dns",
            "geolocation",
            "monitor"
        ]
    );
    assert!(doc["checks"][6]["detail"].as_str().unwrap().starts_with("none (edge.listen is empty"), "{doc}");
    assert_eq!(doc["checks"][7]["detail"], "no deployed customer has a reverse proxy", "{doc}");
    // On, NetBird downloads GeoLite at start: whether pkgs.netbird.io answers is said either way.
    assert!(doc["checks"][8]["detail"].as_str().unwrap().contains("pkgs.netbird.io"), "{doc}");
    assert!(doc["checks"][9]["detail"].as_str().unwrap().contains("no monitor has run yet"), "{doc}");
    let ok = doc["ok"].as_bool().unwrap();
    assert_eq!(r.code, if ok { 0 } else { 1 });
    let text = h.run(&["doctor"]);
    assert_eq!(text.stdout.lines().count(), 10, "{}", text.stdout);
    assert_eq!(h.run(&["settings", "set", "netbird.geolocation", "off"]).code, 0);
    let geo = &h.run(&["doctor", "--json"]).json()["checks"][8];
    assert!(geo["ok"] == true && geo["detail"].as_str().unwrap().starts_with("off"), "{geo}");
    // An image that is neither present nor pullable is named with the setting to change; one
    // too old to be bootstrapped safely is refused.
    assert_eq!(h.run(&["settings", "set", "images.dashboard", "nbmsp-test/absent:never"]).code, 0);
    assert_eq!(h.run(&["settings", "set", "images.server", "netbirdio/netbird-server:0.65.0"]).code, 0);
    let images = &h.run(&["doctor", "--json"]).json()["checks"][5];
    assert_eq!(images["ok"], false, "{images}");
    let detail = images["detail"].as_str().unwrap();
    if std::env::var("CI").as_deref() == Ok("true") || !detail.contains("Docker engine") {
        assert!(detail.contains("images.dashboard = nbmsp-test/absent:never is not on the engine"), "{detail}");
        assert!(detail.contains("older than 0.70.5"), "{detail}");
    }
    // A proxy that is selected but not configured fails its check and the exit code.
    assert_eq!(h.run(&["settings", "set", "proxy", "npm"]).code, 0);
    let r = h.run(&["doctor", "--json"]);
    assert_eq!(r.code, 1);
    let proxy = &r.json()["checks"][2];
    assert_eq!(proxy["ok"], false);
    assert!(proxy["detail"].as_str().unwrap().contains("npm.url"));
}

#[test]
fn help_and_version() {
    let h = Home::empty();
    let r = h.run(&["--help"]);
    assert_eq!(r.code, 0);
    for cmd in ["init", "customer", "settings", "user", "doctor", "backup"] {
        assert!(r.stdout.contains(cmd), "--help lacks {cmd}");
    }
    assert!(h.run(&["--version"]).stdout.starts_with("nbmsp "));
}

#[test]
fn render_writes_the_deploy_files_without_docker() {
    let h = Home::initialised();
    assert_eq!(
        h.run(&["customer", "create", "--no-deploy", "--name", "R", "--subdomain", "r", "--email", "r@r.example"]).code,
        0
    );
    let out = h.path().join("review");
    // An unusable DOCKER_HOST proves render does not touch Docker.
    let r = h.run_with(
        &["customer", "render", "r", "--out", out.to_str().unwrap(), "--json"],
        &[("NBMSP_PASSWORD", ADMIN_PASSWORD), ("DOCKER_HOST", "tcp://127.0.0.1:1")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut files: Vec<String> =
        std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    files.sort();
    assert_eq!(files, ["config.yaml", "dashboard.env", "docker-compose.yml"]);
    let compose = std::fs::read_to_string(out.join("docker-compose.yml")).unwrap();
    assert!(compose.contains(&h.container("r", "server")), "{compose}");
    // Rendering twice gives identical files: the secrets were stored, not regenerated.
    let first = std::fs::read_to_string(out.join("config.yaml")).unwrap();
    std::fs::remove_dir_all(&out).unwrap();
    let r = h.run(&["customer", "render", "r", "--out", out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(out.join("config.yaml")).unwrap(), first);
}

#[test]
fn unreachable_docker_is_a_clear_error_and_loses_nothing() {
    let h = Home::initialised();
    let env = [("NBMSP_PASSWORD", ADMIN_PASSWORD), ("DOCKER_HOST", "tcp://127.0.0.1:1")];
    let r = h
        .run_with(&["customer", "create", "--name", "D", "--subdomain", "d", "--email", "d@d.example", "--json"], &env);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let err = r.json()["error"].clone();
    assert_eq!(err["kind"], "unavailable");
    let msg = err["message"].as_str().unwrap();
    assert!(msg.contains("Docker engine at tcp://127.0.0.1:1 is unreachable"), "{msg}");
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    // The customer row is kept (nothing was deployed), so the operator can deploy once Docker is back.
    let c = h.run(&["customer", "show", "d", "--json"]).json();
    assert_eq!(c["status"], "inactive");
    let r = h.run_with(&["doctor", "--json"], &env);
    assert_eq!(r.code, 1);
    assert_eq!(r.json()["checks"][1]["ok"], false);
}

#[test]
fn proxy_config_prints_a_server_block_for_your_own_proxy() {
    let h = Home::initialised();
    assert_eq!(
        h.run(&[
            "customer",
            "create",
            "--no-deploy",
            "--name",
            "P",
            "--subdomain",
            "p",
            "--email",
            "p@p.example",
            "--layout",
            "legacy"
        ])
        .code,
        0
    );
    let r = h.run(&["customer", "proxy-config", "p"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("server_name p.msp.example;"));
    let signal = format!(r#"set $nb_signal_grpc "{}:10000";"#, h.container("p", "signal"));
    assert!(r.stdout.contains(&signal), "{}", r.stdout);
    assert!(r.stdout.contains("resolver 127.0.0.11"), "names are resolved per request: {}", r.stdout);
    let r = h.run(&["npm", "test"]);
    assert_eq!(r.code, 2, "proxy = none: nothing to test");
}

#[test]
fn completions_and_the_man_page_come_from_the_commands_themselves() {
    let h = Home::empty();
    for shell in ["bash", "zsh", "fish"] {
        let r = h.run(&["completions", shell]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        for word in ["customer", "migrate", "restore", "--purge-data"] {
            assert!(r.stdout.contains(word), "{shell} completions lack {word}");
        }
    }
    let bash = h.run(&["completions", "bash"]);
    let script = h.file("nbmsp.bash", &bash.stdout);
    let check = std::process::Command::new("bash").arg("-n").arg(&script).output().unwrap();
    assert!(check.status.success(), "bash reads it: {}", String::from_utf8_lossy(&check.stderr));
    let man = h.run(&["man"]);
    assert_eq!(man.code, 0);
    assert!(man.stdout.starts_with(".ie") && man.stdout.contains(".TH nbmsp 1"), "{}", &man.stdout[..200]);
    // #29: the pages nbmsp(1) names exist: one per command, printed alone or all into a dir.
    let sub = h.run(&["man", "customer", "create"]);
    assert_eq!(sub.code, 0, "{}", sub.stderr);
    assert!(
        sub.stdout.contains(".TH nbmsp-customer-create 1") && sub.stdout.contains("contract\\-id"),
        "{}",
        sub.stdout
    );
    assert_eq!(h.run(&["man", "customer", "nope"]).code, 2);
    let dir = h.path().join("man1");
    std::fs::create_dir_all(&dir).unwrap();
    assert_eq!(h.run(&["man", "--dir", dir.to_str().unwrap()]).code, 0);
    let named: Vec<&str> = man.stdout.lines().filter(|l| l.starts_with("nbmsp\\-") && l.ends_with("(1)")).collect();
    assert!(named.len() > 10, "{}", man.stdout);
    for line in named {
        let file = dir.join(format!("{}.1", line.trim_end_matches("(1)").replace("\\-", "-")));
        assert!(file.exists(), "nbmsp(1) names {line} but there is no page {}", file.display());
    }
    assert!(dir.join("nbmsp-edge-status.1").exists() && dir.join("nbmsp.1").exists());
}

#[test]
fn the_try_without_a_registry_script_points_every_image_at_a_stand_in() {
    if !common::docker::available("the_try_without_a_registry_script") {
        return;
    }
    let h = Home::initialised();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/try-without-registry.sh");
    let out = std::process::Command::new("bash")
        .arg(script)
        .env("NBMSP_HOME", h.path())
        .env("NBMSP_PASSWORD", ADMIN_PASSWORD)
        .env("NBMSP_BIN", env!("CARGO_BIN_EXE_nbmsp"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let settings = h.run(&["settings", "show", "--json"]).json();
    for svc in ["server", "dashboard", "management", "signal", "relay", "proxy"] {
        let image = settings[format!("images.{svc}")].as_str().unwrap();
        assert!(image.starts_with("nbmsp-standin/"), "images.{svc} = {image}");
        let present = std::process::Command::new("docker").args(["image", "inspect", image]).output().unwrap();
        assert!(present.status.success(), "{image} was built");
    }
}

#[test]
fn the_contract_reference_is_set_cleared_imported_searched_and_checked() {
    let h = Home::initialised();
    let create = |sub: &str, contract: &str| {
        h.run(&[
            "customer",
            "create",
            "--no-deploy",
            "--name",
            "C",
            "--subdomain",
            sub,
            "--email",
            "c@c.example",
            "--contract-id",
            contract,
            "--json",
        ])
    };
    let r = create("contracted", "MSP-2026-0042");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["contract_id"], "MSP-2026-0042");
    assert!(h.run(&["customer", "show", "contracted"]).stdout.contains("MSP-2026-0042"));
    let found = h.run(&["customer", "list", "--search", "2026-0042", "--json"]).json();
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    // One line, at most 64 characters, nothing invisible.
    let r = create("toolong", &"x".repeat(65));
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stdout.contains("contract_id"), "--json puts the error on stdout: {}", r.stdout);
    assert_eq!(create("bidi", "MSP\u{202e}1").code, 2);
    // An empty reference is none, and clears one.
    assert_eq!(create("none", "").json()["contract_id"], serde_json::Value::Null);
    let r = h.run(&["customer", "update", "contracted", "--contract-id", "", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["contract_id"], serde_json::Value::Null);
    // Import takes it; an unknown field is refused with the entry named, and nothing is created.
    let file = h.file(
        "import.json",
        r#"[{"name": "I", "subdomain": "imported", "email": "i@i.example", "contract_id": "MSP-9"}]"#,
    );
    let r = h.run(&["customer", "import", "--file", file.to_str().unwrap(), "--no-deploy"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(h.run(&["customer", "show", "imported", "--json"]).json()["contract_id"], "MSP-9");
    let bad = h.file("bad.json", r#"[{"name": "J", "subdomain": "jj", "email": "j@j.example", "contrat": "x"}]"#);
    let r = h.run(&["customer", "import", "--file", bad.to_str().unwrap(), "--no-deploy"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("entry 1") && r.stderr.contains("contrat"), "{}", r.stderr);
    assert_eq!(h.run(&["customer", "show", "jj"]).code, 1);
}

/// A reference field added through the table alone (`psa_ref`): its flags on create and
/// update, `customer show`, import and the same one-line rule as every reference field.
#[test]
fn the_psa_reference_comes_with_its_flags_show_import_and_rule_from_the_field_table() {
    let h = Home::initialised();
    let base = ["customer", "create", "--no-deploy", "--name", "P", "--subdomain", "psa", "--email", "p@p.example"];
    let r = h.run(&[&base[..], &["--psa-ref", " HALO-4711 ", "--json"]].concat());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["psa_ref"], "HALO-4711", "trimmed");
    assert!(h.run(&["customer", "show", "psa"]).stdout.contains("psa ref      HALO-4711"));
    let r = h.run(&["customer", "update", "psa", "--psa-ref", "bad\u{202e}ref"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("psa_ref"), "{}", r.stderr);
    let r = h.run(&["customer", "update", "psa", "--psa-ref", "", "--json"]);
    assert_eq!(r.json()["psa_ref"], serde_json::Value::Null, "\"\" clears it");
    let r = h.run(&["customer", "update", "psa"]);
    assert!(r.code == 2 && r.stderr.contains("--psa-ref"), "{}", r.stderr);
    let file = h.file("psa.json", r#"[{"name": "Q", "subdomain": "psaq", "email": "q@q.example", "psa_ref": "CW-9"}]"#);
    assert_eq!(h.run(&["customer", "import", "--file", file.to_str().unwrap(), "--no-deploy"]).code, 0);
    assert_eq!(h.run(&["customer", "show", "psaq", "--json"]).json()["psa_ref"], "CW-9");
}

#[test]
fn a_usage_error_with_nbmsp_home_set_does_not_list_home_as_required() {
    // #29: clap listed an argument taken from the environment among the required ones.
    let h = Home::initialised();
    let r = h.run(&["customer", "create", "--name", "X"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--subdomain <SUBDOMAIN>"), "{}", r.stderr);
    assert!(!r.stderr.contains("--home"), "{}", r.stderr);
    // NBMSP_HOME still chooses the home (every test runs that way; this one says so).
    assert_eq!(h.run(&["customer", "list"]).code, 0);
}
