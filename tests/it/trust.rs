//! Trust, second pass: each hole an attacker's reading found, as a test that failed before its
//! fix. Hostile backup files, a database put back from an older backup, a second installation
//! and a second record of one engine, a stalled lock holder, a viewer, hostile text, an
//! interrupted CLI deploy.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common::docker::DockerEnv;
use crate::common::{ADMIN_PASSWORD, Home, Run};

fn create(env: &DockerEnv, sub: &str, extra: &[&str]) -> serde_json::Value {
    let email = format!("it@{sub}.example");
    let mut args = vec!["customer", "create", "--name", "Trust", "--subdomain", sub, "--email", &email, "--json"];
    args.extend_from_slice(extra);
    let r = env.home.run(&args);
    assert_eq!(r.code, 0, "create {sub}: {}", r.stderr);
    r.json()
}

fn kind(r: &Run) -> String {
    r.json()["error"]["kind"].as_str().unwrap_or_default().to_string()
}

/// Running containers of `sub` (by name) on the engine.
fn running(env: &DockerEnv, sub: &str) -> Vec<String> {
    let out = Command::new("docker")
        .args(["ps", "--format", "{{.Names}}", "--filter", &format!("name=^{}", env.home.container(sub, ""))])
        .output()
        .expect("docker ps");
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect()
}

#[test]
fn start_and_restart_refuse_a_customer_whose_netbird_data_is_missing() {
    let Some(env) = DockerEnv::new("start_and_restart_refuse_missing_data") else { return };
    let sub = env.subdomain("dm");
    create(&env, &sub, &[]);
    assert_eq!(env.home.run(&["customer", "stop", &sub]).code, 0);
    let data = env.data_dir().join(&sub).join("data");
    let away = env.data_dir().join(format!("{sub}-data-away"));
    std::fs::rename(&data, &away).unwrap();

    for verb in ["start", "restart"] {
        let r = env.home.run(&["customer", verb, &sub, "--json"]);
        assert_eq!(r.code, 1, "{verb}: {}{}", r.stdout, r.stderr);
        assert_eq!(kind(&r), "data", "{verb}: {}", r.stdout);
        assert!(r.stdout.contains("missing or empty"), "{}", r.stdout);
        assert!(running(&env, &sub).is_empty(), "{verb} started NetBird without its data: {:?}", running(&env, &sub));
    }
    let report = env.home.run(&["reconcile", "--json"]).json();
    let kinds: Vec<&str> = report["findings"].as_array().unwrap().iter().filter_map(|f| f["kind"].as_str()).collect();
    assert!(kinds.contains(&"data_missing"), "reconcile still sees it: {report}");

    // With its data back it starts as before.
    std::fs::remove_dir_all(&data).ok();
    std::fs::rename(&away, &data).unwrap();
    let r = env.home.run(&["customer", "start", &sub]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// The entries of a customer backup file: (path, type, link target, bytes).
type Entry = (String, tar::EntryType, Option<String>, Vec<u8>);

fn read_archive(file: &Path) -> Vec<Entry> {
    let f = std::fs::File::open(file).unwrap();
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(f));
    let mut out = Vec::new();
    for e in tar.entries().unwrap() {
        let mut e = e.unwrap();
        let path = e.path().unwrap().to_string_lossy().into_owned();
        let kind = e.header().entry_type();
        let link = e.link_name().unwrap().map(|l| l.to_string_lossy().into_owned());
        let mut bytes = Vec::new();
        e.read_to_end(&mut bytes).unwrap();
        out.push((path, kind, link, bytes));
    }
    out
}

fn write_archive(file: &Path, entries: &[Entry]) {
    let f = std::fs::File::create(file).unwrap();
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(f, flate2::Compression::fast()));
    for (path, kind, link, bytes) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(*kind);
        h.set_mode(if kind.is_dir() { 0o700 } else { 0o600 });
        h.set_size(bytes.len() as u64);
        if let Some(l) = link {
            h.set_link_name(l).unwrap();
        }
        h.set_cksum();
        tar.append_data(&mut h, path, &bytes[..]).unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap();
}

#[test]
fn a_hostile_customer_backup_is_refused_before_anything_is_created() {
    let Some(env) = DockerEnv::new("a_hostile_customer_backup_is_refused") else { return };
    let sub = env.subdomain("hb");
    create(&env, &sub, &[]);
    let good = env.home.path().join("good.nbmsp-backup");
    assert_eq!(env.home.run(&["customer", "backup", &sub, "--out", good.to_str().unwrap()]).code, 0);
    let entries = read_archive(&good);

    // No backup holds a rendered file: their secrets travel sealed, and a restore renders them.
    let names: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
    for rendered in ["instance/config.yaml", "instance/docker-compose.yml", "instance/dashboard.env"] {
        assert!(!names.contains(&rendered), "{rendered} in the backup: {names:?}");
    }
    let config = std::fs::read_to_string(env.data_dir().join(&sub).join("config.yaml")).unwrap();
    let secret_line = config.lines().find(|l| l.contains("authSecret")).expect("config has authSecret");
    let secret = secret_line.split(':').nth(1).unwrap().trim().trim_matches('"');
    assert!(secret.len() > 8, "{secret_line}");
    for (path, _, _, bytes) in &entries {
        assert!(!String::from_utf8_lossy(bytes).contains(secret), "{path} carries the relay secret in plain text");
    }

    // A victim file outside everything nbmsp owns.
    let victim = env.home.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    let victim_dir = env.home.path().join("victim-dir");
    std::fs::create_dir(&victim_dir).unwrap();
    let manifest_at = entries.iter().position(|e| e.0 == "manifest.json").unwrap();
    let manifest: serde_json::Value = serde_json::from_slice(&entries[manifest_at].3).unwrap();

    let mut crafted: Vec<(&str, Vec<Entry>)> = Vec::new();
    // 1. Links that lead out of the instance.
    let mut links = entries.clone();
    let link =
        |path: &str, to: &Path| (path.to_string(), tar::EntryType::Symlink, Some(to.display().to_string()), vec![]);
    links.push(link("instance/config.nbmsp-tmp", &victim));
    links.push(link("instance/data/elsewhere", &victim_dir));
    crafted.push(("symlinks", links));
    let mut hard = entries.clone();
    hard.push(("instance/hard".into(), tar::EntryType::Link, Some("manifest.json".into()), vec![]));
    crafted.push(("a hard link", hard));
    // 2. An edited manifest: another subdomain.
    let mut edited = entries.clone();
    let mut m = manifest.clone();
    m["customer"]["subdomain"] = serde_json::Value::from(format!("{sub}x"));
    edited[manifest_at].3 = serde_json::to_vec_pretty(&m).unwrap();
    crafted.push(("an edited manifest", edited));
    // 3. An extra file, listed in a manifest edited to match it.
    let mut extra = entries.clone();
    let body = b"planted".to_vec();
    let digest: String =
        <sha2::Sha256 as sha2::Digest>::digest(&body).iter().map(|b| format!("{b:02x}")).collect::<String>();
    let mut m = manifest.clone();
    m["files"]["instance/data/planted"] = serde_json::json!({ "size": body.len(), "sha256": digest });
    extra[manifest_at].3 = serde_json::to_vec_pretty(&m).unwrap();
    extra.push(("instance/data/planted".into(), tar::EntryType::Regular, None, body));
    crafted.push(("a planted file", extra));

    for (what, entries) in crafted {
        let file = env.home.path().join("crafted.nbmsp-backup");
        write_archive(&file, &entries);
        let other = env.subdomain("hx");
        let r = env.home.run(&["customer", "restore", file.to_str().unwrap(), "--subdomain", &other, "--json"]);
        assert_eq!(r.code, 1, "{what} was accepted: {}{}", r.stdout, r.stderr);
        assert!(r.stdout.contains("not a usable customer backup"), "{what}: {}", r.stdout);
        assert_eq!(env.home.run(&["customer", "show", &other]).code, 1, "{what}: a customer was created");
        assert!(!env.data_dir().join(&other).exists(), "{what}: files were created");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious", "{what}");
        assert_eq!(std::fs::read_dir(&victim_dir).unwrap().count(), 0, "{what}");
    }
    // The untouched file restores, rendering the files it left out.
    assert_eq!(env.home.run(&["customer", "delete", &sub, "--yes", "--purge-data"]).code, 0);
    let r = env.home.run(&["customer", "restore", good.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(std::fs::read_to_string(env.data_dir().join(&sub).join("config.yaml")).unwrap(), config);
    assert_eq!(env.home.run(&["customer", "health", &sub]).code, 0);
}

#[test]
fn ids_are_not_handed_out_again_after_a_database_restore() {
    let Some(env) = DockerEnv::new("ids_are_not_handed_out_again") else { return };
    let db_backup = env.home.path().join("last-week.db");
    assert_eq!(env.home.run(&["backup", "create", "--out", db_backup.to_str().unwrap()]).code, 0);
    let ghost = env.subdomain("gh");
    let ghost_id = create(&env, &ghost, &[])["id"].as_i64().unwrap();
    let r = env.home.run(&["backup", "restore", db_backup.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(env.home.run(&["customer", "show", &ghost]).code, 1, "the older database never knew it");

    let newbie = env.subdomain("nb");
    let r = env.home.run(&[
        "customer",
        "create",
        "--no-deploy",
        "--name",
        "N",
        "--subdomain",
        &newbie,
        "--email",
        "n@n.example",
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let id = r.json()["id"].as_i64().unwrap();
    assert!(id > ghost_id, "id {id} again, while containers of customer {ghost_id} still run");

    // A record that does carry the ghost's id (written behind nbmsp's back) acts on nothing.
    let conn = rusqlite::Connection::open(env.home.path().join("nbmsp.db")).unwrap();
    let stale = env.subdomain("st");
    conn.execute(
        "INSERT INTO customers (id, name, company, subdomain, email, max_devices, notes, layout, status, created_at, updated_at)
         VALUES (?1, 'S', '', ?2, 's@s.example', 10, '', 'combined', 'inactive', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
        rusqlite::params![ghost_id, stale],
    )
    .unwrap();
    for args in [["customer", "logs", stale.as_str()], ["customer", "deploy", stale.as_str()]] {
        let r = env.home.run(&[&args[..], &["--json"]].concat());
        assert_eq!(r.code, 1, "{args:?}: {}{}", r.stdout, r.stderr);
        assert_eq!(kind(&r), "conflict", "{args:?}: {}", r.stdout);
        assert!(r.stdout.contains(&ghost), "{args:?} names the owner: {}", r.stdout);
    }
    assert_eq!(running(&env, &ghost).len(), 2, "the ghost's stack runs on: {:?}", running(&env, &ghost));
}

#[test]
fn two_installations_on_one_engine_each_deploy_acme_and_see_only_their_own() {
    let Some(first) = DockerEnv::new("two_installations_on_one_engine") else { return };
    let Some(second) = DockerEnv::new("two_installations_on_one_engine_2") else { return };
    let sub = first.subdomain("sh");
    create(&first, &sub, &[]);
    // Before the second one deploys its own: health must not report the first one's stack.
    let r = second.home.run(&[
        "customer",
        "create",
        "--no-deploy",
        "--name",
        "S",
        "--subdomain",
        &sub,
        "--email",
        "s@s.example",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = second.home.run(&["customer", "health", &sub, "--json"]);
    assert_ne!(r.code, 0, "the other installation's stack is not this one's: {}", r.stdout);
    assert!(r.json()["containers"].as_array().is_none_or(Vec::is_empty), "{}", r.stdout);
    // Then it deploys the same subdomain beside it: names do not collide.
    let r = second.home.run(&["customer", "deploy", &sub]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for (env, other) in [(&first, &second), (&second, &first)] {
        let r = env.home.run(&["customer", "health", &sub, "--json"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let names: Vec<String> = r.json()["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect();
        assert!(!names.is_empty() && names.iter().all(|n| n.starts_with(&env.home.container(&sub, ""))), "{names:?}");
        assert!(names.iter().all(|n| !n.starts_with(&other.home.container(&sub, ""))), "{names:?}");
    }
    assert_ne!(first.home.container(&sub, "server"), second.home.container(&sub, "server"));
}

#[test]
fn a_viewer_cannot_send_a_test_alert() {
    let h = Home::initialised();
    let pw = h.file("pw", "viewer-password-1");
    assert_eq!(h.run(&["user", "add", "v", "--role", "viewer", "--new-password-file", pw.to_str().unwrap()]).code, 0);
    assert_eq!(h.run(&["settings", "set", "alerts.webhook_url", "http://127.0.0.1:9/hook"]).code, 0);
    let r = h.run_with(&["--user", "v", "--json", "alerts", "test"], &[("NBMSP_PASSWORD", "viewer-password-1")]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(kind(&r), "forbidden", "{}", r.stdout);
    assert!(r.stdout.contains("a viewer may not send a test alert"), "{}", r.stdout);
}

#[test]
fn the_same_engine_cannot_be_recorded_twice() {
    if !crate::common::docker::available("the_same_engine_cannot_be_recorded_twice") {
        return;
    }
    let h = Home::initialised();
    let r = h.run(&[
        "host",
        "add",
        "twin",
        "--docker",
        "unix:///var/run/docker.sock",
        "--public-ip",
        "127.0.0.1",
        "--json",
    ]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert_eq!(kind(&r), "conflict", "{}", r.stdout);
    assert!(r.stdout.contains("same Docker engine as host local"), "{}", r.stdout);
    assert!(!h.run(&["host", "list", "--json"]).stdout.contains("twin"));
}

/// The pid of the process holding the customer's lock, if any.
fn lock_pid(home: &Path, sub: &str) -> Option<u32> {
    let conn = rusqlite::Connection::open(home.join("nbmsp.db")).unwrap();
    conn.query_row(
        "SELECT l.pid FROM operation_locks l JOIN customers c ON c.id = l.customer_id WHERE c.subdomain = ?1",
        [sub],
        |r| r.get(0),
    )
    .ok()
}

#[test]
fn a_lock_holder_that_stalled_and_was_taken_over_stops_before_acting() {
    let Some(env) = DockerEnv::new("a_lock_holder_that_stalled") else { return };
    let sub = env.subdomain("fx");
    create(&env, &sub, &[]);
    assert_eq!(env.home.run(&["customer", "stop", &sub]).code, 0);
    let mut first = env
        .home
        .command()
        .args(["customer", "start", &sub])
        .env("NBMSP_PASSWORD", ADMIN_PASSWORD)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = first.id();
    // Frozen while it waits for NetBird to answer (the stand-in, like NetBird, takes seconds to
    // start): its containers run, it holds the lock, and it has steps left to take.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while lock_pid(env.home.path(), &sub) != Some(pid) || running(&env, &sub).is_empty() {
        assert!(std::time::Instant::now() < deadline, "the start never took its lock and started the stack");
        assert!(first.try_wait().unwrap().is_none(), "the start ended before it could be stopped");
    }
    let kill = |sig: &str| assert!(Command::new("kill").args([sig, &pid.to_string()]).status().unwrap().success());
    kill("-STOP");
    assert_eq!(lock_pid(env.home.path(), &sub), Some(pid), "stopped while holding the lock");
    // Its lease runs out (as 95 s frozen would make it), and another operator stops the customer.
    let conn = rusqlite::Connection::open(env.home.path().join("nbmsp.db")).unwrap();
    conn.execute("UPDATE operation_locks SET heartbeat_at = heartbeat_at - 600", []).unwrap();
    let r = env.home.run(&["customer", "stop", &sub]);
    assert_eq!(r.code, 0, "the stale lock is taken over: {}", r.stderr);
    // The frozen process stays frozen longer than it may go without checking its lock.
    std::thread::sleep(std::time::Duration::from_secs(11));
    kill("-CONT");
    let out = first.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("lost the customer's lock"), "{stderr}");
    assert!(running(&env, &sub).is_empty(), "the resumed start acted after losing its lock: {:?}", running(&env, &sub));
    let shown = env.home.run(&["customer", "show", &sub, "--json"]).json();
    assert_eq!(shown["status"], "stopped", "{shown}");
}

#[test]
fn hostile_text_is_refused_in_names_and_shown_escaped() {
    let h = Home::initialised();
    let r = h.run(&[
        "customer",
        "create",
        "--no-deploy",
        "--name",
        "acme\u{202e}gnp.exe",
        "--subdomain",
        "bidi",
        "--email",
        "b@b.example",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("U+202E"), "{}", r.stderr);
    // A name that got into the database before the rule (or behind nbmsp's back) is shown escaped.
    let r = h.run(&[
        "customer",
        "create",
        "--no-deploy",
        "--name",
        "Plain",
        "--subdomain",
        "bidi",
        "--email",
        "b@b.example",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let conn = rusqlite::Connection::open(h.path().join("nbmsp.db")).unwrap();
    conn.execute("UPDATE customers SET name = 'a\u{2066}b\u{200b}c' WHERE subdomain = 'bidi'", []).unwrap();
    let table = h.run(&["customer", "list"]).stdout;
    assert!(table.contains("a\\u{2066}b\\u{200b}c"), "{table}");
    assert!(!table.contains('\u{2066}') && !table.contains('\u{200b}'), "{table:?}");
    // JSON keeps the value (a script reads the original) but writes it as escapes.
    let json = h.run(&["customer", "list", "--json"]);
    assert!(json.stdout.contains("a\\u2066b\\u200bc"), "{}", json.stdout);
    assert_eq!(json.json()[0]["name"], "a\u{2066}b\u{200b}c");
}

#[test]
fn a_failed_write_to_stdout_is_an_error_not_a_panic() {
    let h = Home::initialised();
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full");
    let out =
        h.command().args(["customer", "list"]).env("NBMSP_PASSWORD", ADMIN_PASSWORD).stdout(full).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(74), "{stderr}");
    assert!(stderr.contains("cannot write the output") && !stderr.contains("panicked"), "{stderr}");
}

#[test]
fn backup_dir_keeps_the_mode_of_a_directory_that_exists() {
    let Some(env) = DockerEnv::new("backup_dir_keeps_the_mode") else { return };
    use std::os::unix::fs::PermissionsExt;
    let shared = env.home.path().join("shared-backups");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    assert_eq!(env.home.run(&["settings", "set", "backup.dir", shared.to_str().unwrap()]).code, 0);
    let sub = env.subdomain("bd");
    create(&env, &sub, &[]);
    let r = env.home.run(&["customer", "delete", &sub, "--yes", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let kept = PathBuf::from(r.json()["backup_kept_in"].as_str().unwrap());
    assert!(kept.starts_with(&shared));
    assert_eq!(std::fs::metadata(&kept).unwrap().permissions().mode() & 0o777, 0o600, "the file is private");
    assert_eq!(
        std::fs::metadata(&shared).unwrap().permissions().mode() & 0o7777,
        0o1777,
        "the directory kept its mode"
    );
}

#[test]
fn an_interrupted_cli_deploy_rolls_back() {
    let Some(env) = DockerEnv::new("an_interrupted_cli_deploy_rolls_back") else { return };
    let sub = env.subdomain("ir");
    let mut child = env
        .home
        .command()
        .args(["customer", "create", "--name", "I", "--subdomain", &sub, "--email", "i@i.example"])
        .env("NBMSP_PASSWORD", ADMIN_PASSWORD)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupted once its containers exist (the step a person waits at).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while running(&env, &sub).is_empty() {
        assert!(std::time::Instant::now() < deadline, "no container was started");
        assert!(child.try_wait().unwrap().is_none(), "the deploy ended before it could be interrupted");
    }
    assert!(Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("rolled back"), "{stderr}");
    assert!(env.containers().iter().all(|n| !n.contains(&sub)), "containers left: {:?}", env.containers());
    let shown = env.home.run(&["customer", "show", &sub, "--json"]).json();
    assert_eq!(shown["status"], "inactive", "{shown}");
    let report = env.home.run(&["reconcile", "--json"]).json();
    assert!(
        report["findings"].as_array().unwrap().iter().all(|f| !f.to_string().contains(&sub)),
        "nothing for reconcile: {report}"
    );
}

#[test]
fn a_role_changed_in_the_database_alone_opens_no_admin_secret() {
    let Some(env) = DockerEnv::new("a_role_changed_in_the_database_alone") else { return };
    let sub = env.subdomain("rc");
    create(&env, &sub, &[]);
    let pw = env.home.file("viewer-pw", "viewer-password-1");
    let r = env.home.run(&["user", "add", "v", "--role", "viewer", "--new-password-file", pw.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let conn = rusqlite::Connection::open(env.home.path().join("nbmsp.db")).unwrap();
    conn.execute("UPDATE users SET role = 'admin' WHERE username = 'v'", []).unwrap();
    let as_v = |args: &[&str]| {
        env.home.run_with(&[&["--user", "v", "--json"][..], args].concat(), &[("NBMSP_PASSWORD", "viewer-password-1")])
    };
    let r = as_v(&["customer", "credentials", &sub, "--yes"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(kind(&r), "auth", "{}", r.stdout);
    assert!(r.stdout.contains("holds no admin key"), "{}", r.stdout);
    // Nor as an operator: the owner's password is sealed for admins, whoever holds the data key.
    conn.execute("UPDATE users SET role = 'operator' WHERE username = 'v'", []).unwrap();
    let backup = env.home.path().join("by-v.nbmsp-backup");
    let r = as_v(&["customer", "backup", &sub, "--out", backup.to_str().unwrap()]);
    assert_eq!(r.code, 0, "an operator backs up: {}", r.stdout);
    let r = as_v(&["customer", "credentials", &sub, "--yes"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    // The admin still reads them, and a restore of that backup keeps them.
    let owner = env.home.run(&["customer", "credentials", &sub, "--yes", "--json"]);
    assert_eq!(owner.code, 0, "{}", owner.stderr);
    assert_eq!(env.home.run(&["customer", "delete", &sub, "--yes", "--purge-data"]).code, 0);
    let r = env.home.run(&["customer", "restore", backup.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(env.home.run(&["customer", "credentials", &sub, "--yes", "--json"]).json(), owner.json());
}

#[test]
fn a_damaged_page_no_command_reads_is_found_and_reported_by_every_command() {
    let Some(env) = DockerEnv::new("a_damaged_page_no_command_reads") else { return };
    let db = env.home.path().join("nbmsp.db");
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        let tx = conn.unchecked_transaction().unwrap();
        for i in 0..2000 {
            tx.execute(
                "INSERT INTO audit_log (actor, action, status, message, created_at)
                 VALUES ('t', 'test', 'info', ?1, '2026-01-01T00:00:00Z')",
                [format!("MARKER-{i:07} {}", "x".repeat(200))],
            )
            .unwrap();
        }
        tx.commit().unwrap();
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);").unwrap();
    }
    // One early leaf page of the audit log (no insert goes there again) gets a bad page type.
    let mut bytes = std::fs::read(&db).unwrap();
    let page_size = usize::from(u16::from_be_bytes([bytes[16], bytes[17]]));
    let at = bytes.windows(14).position(|w| w == b"MARKER-0000100").expect("the marker row is on disk");
    let page = at / page_size * page_size;
    bytes[page] = 0xff;
    std::fs::write(&db, &bytes).unwrap();

    let r = env.home.run(&["customer", "list"]);
    assert_eq!(r.code, 0, "nothing this command reads is damaged: {}", r.stderr);
    let r = env.home.run(&["monitor", "--once"]);
    assert!(r.stderr.contains("the database file is damaged"), "{}", r.stderr);
    let r = env.home.run(&["customer", "list"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("WARNING the database file is damaged") && r.stderr.contains("doctor"), "{}", r.stderr);
}
