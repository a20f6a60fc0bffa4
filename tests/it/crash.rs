//! Crash safety on the real Docker engine: the real binary is killed with SIGKILL at spread-out
//! moments of real deploys, redeploys and deletes; then `nbmsp reconcile --yes` must leave a
//! truthful, consistent fleet: no orphan containers, no port twice, no customer stuck in
//! `deploying`, active customers running, and an intact database.

use crate::common;

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::docker::DockerEnv;
use crate::common::{ADMIN_PASSWORD, Home};

/// Starts `nbmsp args` and kills it with SIGKILL `after` its operation began (its journal
/// entry appeared): measured from there, the moments spread over the operation itself however
/// long the process took to start and log in on a loaded machine.
fn kill_after(home: &Home, args: &[&str], after: Duration) {
    let mut c = home.command();
    c.args(args).env("NBMSP_PASSWORD", ADMIN_PASSWORD).stdout(Stdio::null()).stderr(Stdio::null());
    let mut child = c.spawn().expect("spawn nbmsp");
    let pid = child.id();
    let db = home.path().join("nbmsp.db");
    let begun = || {
        rusqlite::Connection::open(&db)
            .and_then(|c| {
                c.query_row("SELECT count(*) FROM journal WHERE pid = ?1 AND state = 'running'", [pid], |r| {
                    r.get::<_, i64>(0)
                })
            })
            .is_ok_and(|n| n > 0)
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !begun() && child.try_wait().ok().flatten().is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(after);
    let _ = child.kill(); // SIGKILL: no cleanup of any kind runs
    let _ = child.wait();
}

/// Runs `reconcile --yes` until it finds nothing (a Docker request the killed process had in
/// flight may land a moment later), then checks the invariants. Returns the kinds of the
/// fixes applied.
fn reconcile_and_check(env: &DockerEnv, context: &str) -> Vec<String> {
    let mut last = String::new();
    let mut clean = false;
    let mut applied = Vec::new();
    for _ in 0..4 {
        let r = env.home.run(&["reconcile", "--yes", "--json"]);
        let j = r.json();
        last = j.to_string();
        applied.extend(j["applied"].as_array().unwrap().iter().map(|a| a["kind"].as_str().unwrap().to_string()));
        if j["findings"].as_array().is_some_and(Vec::is_empty) {
            clean = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(clean, "{context}: reconcile did not converge: {last}");
    let list = env.home.run(&["customer", "list", "--json"]).json();
    let customers = list.as_array().unwrap();
    let mut ports = BTreeSet::new();
    let mut deployed = BTreeSet::new();
    for c in customers {
        let sub = c["subdomain"].as_str().unwrap();
        assert_ne!(c["status"], "deploying", "{context}: {sub} stuck: {c}");
        if let Some(p) = c["relay_udp_port"].as_u64() {
            assert!(ports.insert(p), "{context}: port {p} twice");
            deployed.insert(sub.to_string());
        }
        if c["status"] == "active" {
            let show = env.home.run(&["customer", "show", sub, "--json"]).json();
            let cs = show["containers"].as_array().unwrap();
            assert!(!cs.is_empty() && cs.iter().all(|x| x["state"] == "running"), "{context}: {sub} active: {show}");
        }
    }
    for name in env.containers() {
        let ours = format!("netbird-{}", env.home.name_prefix());
        let owner = name.trim_start_matches(&ours).rsplit_once('-').map(|(s, _)| s.to_string()).unwrap();
        assert!(deployed.contains(&owner), "{context}: orphan container {name} (deployed: {deployed:?})");
    }
    let doctor = env.home.run(&["doctor", "--json"]).json();
    assert_eq!(doctor["checks"][0]["ok"], true, "{context}: database: {doctor}");
    applied
}

/// Kill points after an operation's journal entry appeared, spread over a stand-in operation
/// (about half a second, longer while it waits for NetBird), plus one jittered per run.
fn delays() -> Vec<Duration> {
    let jitter = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_millis() % 500;
    eprintln!("crash test jitter: {jitter} ms");
    [60, 130, 190, 250, 320, 400, 500, 650, 100 + jitter]
        .into_iter()
        .map(|ms| Duration::from_millis(u64::from(ms)))
        .collect()
}

#[test]
fn kill_9_during_deploys_then_reconcile_leaves_a_consistent_fleet() {
    let Some(env) = DockerEnv::new("kill_9_during_deploys_then_reconcile") else { return };
    let mut recovered = 0;
    for (i, d) in delays().into_iter().enumerate() {
        let sub = env.subdomain(&format!("cr{i}"));
        let email = format!("it@{sub}.example");
        kill_after(&env.home, &["customer", "create", "--name", "Crash", "--subdomain", &sub, "--email", &email], d);
        let applied = reconcile_and_check(&env, &format!("deploy killed after {d:?}"));
        recovered += applied.iter().filter(|k| *k == "interrupted").count();
        // Whatever state it was left in, the customer can be deployed now.
        let r = env.home.run(&["customer", "deploy", &sub, "--json"]);
        if r.code != 0 {
            // Not created at all (killed before the row was written) is the one other outcome.
            assert!(r.stdout.contains("no customer"), "deploy after crash {d:?}: {}{}", r.stdout, r.stderr);
        }
    }
    reconcile_and_check(&env, "after redeploying everything");
    assert!(recovered >= 2, "the kills must land inside deploys, not only before or after: {recovered}");
}

#[test]
fn kill_9_during_redeploys_and_deletes_then_reconcile_finishes_them() {
    let Some(env) = DockerEnv::new("kill_9_during_redeploys_and_deletes") else { return };
    let out = Command::new("docker")
        .args(["tag", "nbmsp-standin/dashboard:latest", "nbmsp-standin/dashboard:crash-test"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let images = ["nbmsp-standin/dashboard:crash-test", "nbmsp-standin/dashboard:latest"];
    let mut recovered = 0;
    let sub = env.subdomain("crr");
    let email = format!("it@{sub}.example");
    assert_eq!(env.home.run(&["customer", "create", "--name", "R", "--subdomain", &sub, "--email", &email]).code, 0);
    for (i, d) in delays().into_iter().enumerate() {
        // Each round changes the dashboard image, so the redeploy really recreates a container.
        let image = images[i % 2];
        assert_eq!(env.home.run(&["settings", "set", "images.dashboard", image]).code, 0);
        kill_after(&env.home, &["customer", "redeploy", &sub], d);
        let applied = reconcile_and_check(&env, &format!("redeploy killed after {d:?}"));
        let show = env.home.run(&["customer", "show", &sub, "--json"]).json();
        assert_eq!(show["status"], "active", "{show}");
        let dash = show["containers"].as_array().unwrap().iter().find(|x| x["service"] == "dashboard").unwrap().clone();
        if applied.iter().any(|k| k == "interrupted") {
            recovered += 1;
            assert_eq!(dash["image"], image, "the interrupted redeploy was finished: {show}");
        }
        // Interrupted or not, the next redeploy brings it to the settings.
        assert_eq!(env.home.run(&["customer", "redeploy", &sub]).code, 0);
    }
    assert!(recovered >= 2, "the kills must land inside redeploys: {recovered}");
    for (i, d) in delays().into_iter().enumerate().take(5) {
        let del = env.subdomain(&format!("crd{i}"));
        let email = format!("it@{del}.example");
        assert_eq!(
            env.home.run(&["customer", "create", "--name", "D", "--subdomain", &del, "--email", &email]).code,
            0
        );
        kill_after(&env.home, &["customer", "delete", &del, "--yes"], d / 2);
        reconcile_and_check(&env, &format!("delete killed after {:?}", d / 2));
        let show = env.home.run(&["customer", "show", &del, "--json"]);
        if show.code == 0 {
            // Killed before the delete began: the customer is whole and can be deleted now.
            assert_eq!(show.json()["status"], "active");
            assert_eq!(env.home.run(&["customer", "delete", &del, "--yes"]).code, 0);
        }
        assert!(!env.containers().iter().any(|n| n.contains(&del)), "no container of {del} left");
    }
}

#[test]
fn docker_going_away_mid_deploy_fails_clearly_and_reconcile_cleans_up_when_it_is_back() {
    let Some(env) = DockerEnv::new("docker_going_away_mid_deploy") else { return };
    let link = common::docker::DockerLink::start();
    let mut failed_inside = 0;
    for (i, d) in delays().into_iter().enumerate() {
        let sub = env.subdomain(&format!("dl{i}"));
        let email = format!("it@{sub}.example");
        let mut c = env.home.command();
        c.args(["customer", "create", "--name", "L", "--subdomain", &sub, "--email", &email, "--json"])
            .env("NBMSP_PASSWORD", ADMIN_PASSWORD)
            .env("DOCKER_HOST", &link.host)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let child = c.spawn().unwrap();
        std::thread::sleep(d);
        link.cut();
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            failed_inside += 1;
            let j: serde_json::Value = serde_json::from_str(&stdout).expect("a JSON error");
            let msg = j["error"]["message"].as_str().unwrap();
            eprintln!("cut after {d:?}: {msg}");
            assert!(msg.contains("Docker"), "the error names Docker: {msg}");
            assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
            let show = env.home.run(&["customer", "show", &sub, "--json"]).json();
            assert_ne!(show["status"], "deploying", "a truthful status right away: {show}");
        }
        link.restore();
        reconcile_and_check(&env, &format!("Docker cut after {d:?}"));
    }
    assert!(failed_inside >= 2, "the cuts must land inside deploys: {failed_inside}");
}
