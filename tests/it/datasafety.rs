//! Data safety on the real Docker engine with the stand-in images: journals that cannot be
//! replayed against the wrong customer, settings that move data only by migration, and
//! reconcile that never offers to start a customer's NetBird empty.

use crate::common;

use std::path::Path;
use std::process::Command;

use crate::common::docker::DockerEnv;

fn create(env: &DockerEnv, sub: &str, extra: &[&str]) -> serde_json::Value {
    let email = format!("it@{sub}.example");
    let mut args =
        vec!["customer", "create", "--name", "Data Customer", "--subdomain", sub, "--email", &email, "--json"];
    args.extend_from_slice(extra);
    let r = env.home.run(&args);
    assert_eq!(r.code, 0, "create {sub}: {}", r.stderr);
    r.json()
}

fn kinds(report: &serde_json::Value) -> Vec<String> {
    report["findings"].as_array().unwrap().iter().map(|f| f["kind"].as_str().unwrap().to_string()).collect()
}

/// What NetBird keeps and a migration or restore must not change: the stand-in's store and the
/// fingerprint of the key it was first started with (the `boots` counter changes on every start).
fn netbird_state(store_dir: &Path) -> (String, String) {
    let read =
        |n: &str| std::fs::read_to_string(store_dir.join(n)).unwrap_or_else(|e| panic!("{n} in {store_dir:?}: {e}"));
    (read("standin-store.txt"), read("store-key.fingerprint"))
}

#[test]
fn a_redeploy_that_cannot_start_leaves_nothing_to_replay_on_a_later_customer() {
    let Some(env) = DockerEnv::new("a_redeploy_that_cannot_start_leaves") else { return };
    let sub = env.subdomain("jr");
    let first = create(&env, &sub, &[]);
    // The disk is full for the copy of the previous files the redeploy keeps before it starts.
    let keep = env.data_dir().join(&sub).join(".nbmsp-previous");
    let Some(full) = common::FullDisk::at(&keep, "a_redeploy_that_cannot_start_leaves") else { return };
    let r = env.home.run(&["customer", "redeploy", &sub]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stderr.contains("No space left on device"), "{}", r.stderr);
    drop(full);
    let store = nbmsp::store::Store::open(&env.home.path().join("nbmsp.db"), false).unwrap();
    assert!(store.journal_running().unwrap().is_empty(), "the failed redeploy closed its entry");
    assert!(!kinds(&env.home.run(&["reconcile", "--json"]).json()).contains(&"interrupted".to_string()));

    assert_eq!(env.home.run(&["customer", "delete", &sub, "--yes"]).code, 0);
    let again = create(&env, &sub, &["--no-deploy"]);
    assert_ne!(again["id"], first["id"], "a new customer, a new id");
    let report = env.home.run(&["reconcile", "--json"]).json();
    assert!(kinds(&report).is_empty(), "nothing to replay: {report:#}");
    let shown = env.home.run(&["customer", "show", &sub, "--json"]).json();
    assert_eq!((shown["status"].as_str(), shown["status_reason"].as_str()), (Some("inactive"), None), "{shown}");
}

#[test]
fn moving_data_dir_and_network_is_a_migration_that_keeps_owner_pat_and_data() {
    let Some(env) = DockerEnv::new("moving_data_dir_and_network_is_a_migration") else { return };
    let (c, l) = (env.subdomain("mc"), env.subdomain("ml"));
    create(&env, &c, &[]);
    create(&env, &l, &["--layout", "legacy"]);
    let creds = |s: &str| env.home.run(&["customer", "credentials", s, "--yes", "--json"]).json();
    let owners = (creds(&c), creds(&l));
    let before_c = netbird_state(&env.data_dir().join(&c).join("data/server"));
    let before_l = netbird_state(&env.data_dir().join(&l).join("data/management"));

    // Another filesystem, so the stacks are copied and compared, not renamed.
    let new_dir = tempfile::tempdir_in("/dev/shm").unwrap();
    let target = new_dir.path().join("instances");
    let r = env.home.run(&["settings", "set", "data_dir", target.to_str().unwrap()]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("nbmsp migrate data-dir"), "{}", r.stderr);
    let r = env.home.run(&["settings", "set", "docker_network", "elsewhere"]);
    assert!(r.stderr.contains("nbmsp migrate network"), "{}", r.stderr);

    let r = env.home.run(&["migrate", "data-dir", target.to_str().unwrap(), "--json"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.json()["migration"]["customers"].as_array().unwrap().len(), 2, "{}", r.stdout);
    let settings = env.home.run(&["settings", "show", "--json"]).json();
    assert_eq!(settings["data_dir"].as_str(), target.to_str());
    assert!(!env.data_dir().join(&c).exists() && !env.data_dir().join(&l).exists(), "no links left behind");
    assert_eq!(netbird_state(&target.join(&c).join("data/server")), before_c);
    assert_eq!(netbird_state(&target.join(&l).join("data/management")), before_l);
    let migrated = |s: &str| {
        assert_eq!(env.home.run(&["customer", "health", s]).code, 0, "{s} healthy");
        // The owner's token still opens the instance's API: its store came along.
        let d = env.home.run(&["customer", "devices", s, "--json"]);
        assert_eq!(d.code, 0, "{s}: {}", d.stderr);
        assert_eq!(creds(s), if s == c { owners.0.clone() } else { owners.1.clone() });
    };
    migrated(&c);
    migrated(&l);
    let again = env.home.run(&["migrate", "data-dir", target.to_str().unwrap()]);
    assert!(again.stdout.contains("nothing to move"), "{}", again.stdout);

    let net = format!("{}-b", env.network);
    let _cleanup = common::docker::OnDrop::network(&net);
    let r = env.home.run(&["migrate", "network", &net, "--json"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let out = Command::new("docker")
        .args(["network", "inspect", &net, "--format", "{{range .Containers}}{{.Name}} {{end}}"])
        .output()
        .unwrap();
    let members = String::from_utf8_lossy(&out.stdout).to_string();
    for name in
        [env.home.container(&c, "server"), env.home.container(&l, "management"), env.home.container(&l, "dashboard")]
    {
        assert!(members.contains(&name), "{name} on {net}: {members}");
    }
    migrated(&c);
    migrated(&l);
    assert_eq!(netbird_state(&target.join(&c).join("data/server")), before_c);
    // Leave no containers holding the /dev/shm dir when the env is dropped.
    for s in [&c, &l] {
        assert_eq!(env.home.run(&["customer", "delete", s, "--yes", "--purge-data"]).code, 0);
    }
}

#[test]
fn reconcile_never_offers_to_start_a_customer_without_its_data() {
    let Some(env) = DockerEnv::new("reconcile_never_offers_to_start") else { return };
    let sub = env.subdomain("dm");
    create(&env, &sub, &[]);
    // The data went somewhere (a hand-edited data_dir, a wrong mount), and the containers too.
    let store_dir = env.data_dir().join(&sub).join("data/server");
    let elsewhere = env.home.path().join("moved-away");
    std::fs::rename(&store_dir, &elsewhere).unwrap();
    let names: Vec<String> = ["server", "dashboard"].iter().map(|s| env.home.container(&sub, s)).collect();
    let out = Command::new("docker").args(["rm", "-f"]).args(&names).output().unwrap();
    assert!(out.status.success());

    let r = env.home.run(&["reconcile", "--json"]);
    let report = r.json();
    assert_eq!(kinds(&report), ["data_missing"], "no redeploy is offered: {report:#}");
    let f = &report["findings"][0];
    assert_eq!(f["safe"], false);
    assert!(f["detail"].as_str().unwrap().contains(store_dir.to_str().unwrap()), "{f}");
    let r = env.home.run(&["reconcile", "--yes", "--json"]);
    assert_eq!(r.code, 1, "left for the operator");
    assert!(r.json()["applied"].as_array().unwrap().is_empty());
    let r = env.home.run(&["customer", "redeploy", &sub]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("refusing to start it empty"), "{}", r.stderr);
    let left = Command::new("docker")
        .args(["ps", "-aq", "--filter", &format!("name={}", env.home.container(&sub, ""))])
        .output()
        .unwrap();
    assert!(left.stdout.is_empty(), "nothing was started empty");
    // Back where it belongs, reconcile offers the redeploy again.
    std::fs::rename(&elsewhere, &store_dir).unwrap();
    assert_eq!(kinds(&env.home.run(&["reconcile", "--json"]).json()), ["missing_containers"]);
}

/// Every file under `dir` with its content, except the stand-in's start counter (it counts the
/// start a restore does, as NetBird's own logs would).
fn data_files(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if e.file_name() != "boots" {
                out.insert(p.strip_prefix(dir).unwrap().display().to_string(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

#[test]
fn backup_delete_restore_brings_back_the_same_instance_on_both_layouts() {
    let Some(env) = DockerEnv::new("backup_delete_restore_brings_back") else { return };
    let pass = env.home.file("passphrase", "correct horse battery staple\n");
    for (tag, layout, store) in [("bc", "combined", "data/server"), ("bl", "legacy", "data/management")] {
        let sub = env.subdomain(tag);
        // Every field of the customer's own record set to something other than its default.
        let record_fields = ["--company", "Record GmbH", "--notes", "two\nlines", "--max-devices", "33"];
        let mut extra = vec!["--layout", layout, "--contract-id", "MSP-2026-0042", "--sla-target", "99.95"];
        extra.extend_from_slice(&record_fields);
        let created = create(&env, &sub, &extra);
        let port = created["relay_udp_port"].as_u64().unwrap_or_else(|| panic!("port in {created}"));
        let record = |v: serde_json::Value| {
            ["name", "company", "subdomain", "email", "max_devices", "notes", "contract_id", "layout", "sla_target"]
                .map(|k| (k, v[k].clone()))
        };
        let before = record(env.home.run(&["customer", "show", &sub, "--json"]).json());
        assert_eq!(before[6].1, "MSP-2026-0042", "{before:?}");
        assert_eq!(before[8].1, "99.95", "{before:?}");
        let owner = env.home.run(&["customer", "credentials", &sub, "--yes", "--json"]).json();
        let data = data_files(&env.data_dir().join(&sub).join("data"));
        assert!(data.keys().any(|k| k.starts_with(store.trim_start_matches("data/"))), "{:?}", data.keys());

        let file = env.home.path().join(format!("{sub}.nbmsp-backup"));
        let r = env.home.run(&[
            "customer",
            "backup",
            &sub,
            "--out",
            file.to_str().unwrap(),
            "--passphrase-file",
            pass.to_str().unwrap(),
            "--json",
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(r.json()["sealed_with"], "passphrase");
        assert_eq!(env.home.run(&["customer", "health", &sub]).code, 0, "the paused stack runs on");
        let listed = env.home.run(&["customer", "backups", &sub, "--json"]).json();
        assert_eq!(listed[0]["path"].as_str(), file.to_str(), "{listed}");

        let r = env.home.run(&["customer", "delete", &sub, "--yes", "--json"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let kept = std::path::PathBuf::from(r.json()["backup_kept_in"].as_str().expect("delete keeps a backup"));
        assert!(kept.exists());

        let r = env.home.run(&["customer", "restore", file.to_str().unwrap()]);
        assert_eq!(r.code, 2, "the passphrase is needed: a usage error");
        assert!(r.stderr.contains("--passphrase-file"), "{}", r.stderr);
        // A wrong one is refused as such (kind auth), nothing restored.
        let wrong = env.home.file("wrong-pass", "not the passphrase at all");
        let args = ["customer", "restore", file.to_str().unwrap(), "--passphrase-file", wrong.to_str().unwrap()];
        let r = env.home.run(&[&args[..], &["--json"]].concat());
        assert_eq!((r.code, r.json()["error"]["kind"].as_str()), (1, Some("auth")), "{}", r.stdout);
        assert!(r.stdout.contains("wrong passphrase"), "{}", r.stdout);
        let r = env.home.run(&[
            "customer",
            "restore",
            file.to_str().unwrap(),
            "--passphrase-file",
            pass.to_str().unwrap(),
            "--json",
        ]);
        assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
        assert_eq!(r.json()["udp_port"].as_u64(), Some(port), "the same port, it was free");
        let after = record(env.home.run(&["customer", "show", &sub, "--json"]).json());
        assert_eq!(after, before, "every field of the record comes back");
        assert_eq!(env.home.run(&["customer", "health", &sub]).code, 0, "{layout}: healthy after the restore");
        assert_eq!(env.home.run(&["customer", "credentials", &sub, "--yes", "--json"]).json(), owner);
        let d = env.home.run(&["customer", "devices", &sub, "--json"]);
        assert_eq!(d.code, 0, "{layout}: the restored token opens the restored instance: {}", d.stderr);
        assert_eq!(data_files(&env.data_dir().join(&sub).join("data")), data, "{layout}: the same data");

        // The backup kept at delete restores too (sealed with this installation's key).
        assert_eq!(env.home.run(&["customer", "delete", &sub, "--yes", "--purge-data"]).code, 0);
        let r = env.home.run(&["customer", "restore", kept.to_str().unwrap()]);
        assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
        assert_eq!(env.home.run(&["customer", "devices", &sub]).code, 0);
        assert_eq!(env.home.run(&["customer", "delete", &sub, "--yes", "--purge-data"]).code, 0);
    }
}

#[test]
fn a_damaged_customer_backup_is_refused_before_anything_is_created() {
    let Some(env) = DockerEnv::new("a_damaged_customer_backup_is_refused") else { return };
    let sub = env.subdomain("bt");
    create(&env, &sub, &[]);
    let file = env.home.path().join("good.nbmsp-backup");
    assert_eq!(env.home.run(&["customer", "backup", &sub, "--out", file.to_str().unwrap()]).code, 0);
    let r = env.home.run(&["customer", "restore", file.to_str().unwrap()]);
    assert_eq!(r.code, 1, "the subdomain is taken");
    assert!(r.stderr.contains("already taken"), "{}", r.stderr);
    let mut bytes = std::fs::read(&file).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x40;
    let bad = env.home.path().join("bad.nbmsp-backup");
    std::fs::write(&bad, bytes).unwrap();
    let other = env.subdomain("bt2");
    let r = env.home.run(&["customer", "restore", bad.to_str().unwrap(), "--subdomain", &other]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("not a usable customer backup"), "{}", r.stderr);
    assert_eq!(env.home.run(&["customer", "show", &other]).code, 1, "no customer was created");
    assert!(!env.data_dir().join(&other).exists());
    let leftovers: Vec<_> = std::fs::read_dir(env.data_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".restore"))
        .collect();
    assert!(leftovers.is_empty(), "no scratch left: {leftovers:?}");
}

#[test]
fn the_monitor_backs_up_on_schedule_keeps_the_newest_and_alerts_on_failure() {
    let Some(env) = DockerEnv::new("the_monitor_backs_up_on_schedule") else { return };
    let sub = env.subdomain("sb");
    create(&env, &sub, &[]);
    let dir = env.home.path().join("scheduled");
    for (k, v) in [("backup.dir", dir.to_str().unwrap()), ("backup.schedule_h", "24"), ("backup.keep", "1")] {
        assert_eq!(env.home.run(&["settings", "set", k, v]).code, 0);
    }
    let once = || {
        let r = env.home.run(&["monitor", "--once", "--json"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.json()
    };
    let backups = || env.home.run(&["customer", "backups", &sub, "--json"]).json().as_array().unwrap().clone();
    once();
    let first = backups();
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(first[0]["kind"], "scheduled");
    let first_file = std::path::PathBuf::from(first[0]["path"].as_str().unwrap());
    assert!(first_file.starts_with(&dir) && first_file.exists());
    once();
    assert_eq!(backups().len(), 1, "not due again within 24 h");

    // A day later the next one is written and the first, beyond backup.keep, goes.
    backdate(&env);
    once();
    let second = backups();
    assert_eq!(second.len(), 1, "{second:?}");
    assert_ne!(second[0]["path"], first[0]["path"]);
    assert!(!first_file.exists(), "pruned");

    // A backup that cannot be written is an alert on the customer, until one works again.
    std::fs::write(env.home.path().join("not-a-dir"), "").unwrap();
    let blocked = env.home.path().join("not-a-dir").join("sub");
    assert_eq!(env.home.run(&["settings", "set", "backup.dir", blocked.to_str().unwrap()]).code, 0);
    backdate(&env);
    let report = once();
    let c = report["customers"].as_array().unwrap().iter().find(|c| c["subdomain"] == sub.as_str()).unwrap().clone();
    assert_eq!(c["status"], "degraded", "{report:#}");
    assert!(c["reason"].as_str().unwrap().contains("scheduled backup failed"), "{c}");
}

/// Makes every recorded backup look years old (the test's stand-in for time passing).
fn backdate(env: &DockerEnv) {
    let conn = rusqlite::Connection::open(env.home.path().join("nbmsp.db")).unwrap();
    conn.execute("UPDATE customer_backups SET created_at = '2020-01-01T00:00:00Z'", []).unwrap();
}
