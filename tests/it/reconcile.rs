//! Reconcile on the real Docker engine and the NPM stand-in: every kind of drift is reported
//! with its fix, `--yes` applies the safe fixes, and a directory that may hold data is only
//! deleted when named.

use crate::common;

use std::collections::BTreeSet;
use std::process::Command;

use crate::common::npm_standin::{Behaviour, NpmStandin, Resolve};

fn docker(args: &[&str]) -> String {
    let out = Command::new("docker").args(args).output().expect("docker");
    assert!(out.status.success(), "docker {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn kinds(report: &serde_json::Value) -> BTreeSet<String> {
    report["findings"].as_array().unwrap().iter().map(|f| f["kind"].as_str().unwrap().to_string()).collect()
}

#[test]
fn reconcile_reports_every_drift_and_fixes_the_safe_ones() {
    let Some(env) = common::docker::DockerEnv::new("reconcile_reports_every_drift") else { return };
    let standin = NpmStandin::start(Behaviour { resolve: Resolve::DockerContainers, ..Default::default() });
    common::npm_standin::use_in(&env.home, &standin);
    assert_eq!(env.home.run(&["settings", "set", "npm.certificate_id", "1"]).code, 0);
    let subs: Vec<String> = (0..3).map(|i| env.subdomain(&format!("rc{i}"))).collect();
    for s in &subs {
        let email = format!("it@{s}.example");
        let r = env.home.run(&["customer", "create", "--name", "R", "--subdomain", s, "--email", &email]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let r = env.home.run(&["reconcile"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.starts_with("consistent"), "{}", r.stdout);

    // Drift, behind nbmsp's back.
    docker(&["stop", "-t", "1", &env.home.container(&subs[0], "server")]);
    docker(&["rm", "-f", &env.home.container(&subs[1], "dashboard")]);
    let orphan = env.create_orphan("ghost");
    let leftover = env.data_dir().join("leftover");
    std::fs::create_dir_all(leftover.join("data")).unwrap();
    std::fs::write(leftover.join("data/store.db"), "precious").unwrap();
    // A proxy host of ours no customer owns (tagged like every host nbmsp creates), and one of
    // another admin's that reconcile must never touch.
    let ghost = standin.insert_host("ghost.msp.example", "netbird-ghost-dashboard");
    standin.set_meta(ghost, standin.hosts()[0]["meta"].clone());
    standin.insert_host("theirs.msp.example", "netbird-theirs-dashboard");
    let host_of_2 = env.home.run(&["customer", "show", &subs[2], "--json"]).json()["proxy_host_id"].as_i64().unwrap();
    standin.remove_host(host_of_2);

    let r = env.home.run(&["reconcile", "--json"]);
    assert_eq!(r.code, 1, "problems found: exit 1");
    let report = r.json();
    let want: BTreeSet<String> = [
        "stopped_containers",
        "missing_containers",
        "orphan_container",
        "orphan_dir",
        "orphan_proxy_host",
        "missing_proxy_host",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(kinds(&report), want, "{report:#}");
    assert!(report["applied"].as_array().unwrap().is_empty(), "nothing changes without --yes");
    let text = env.home.run(&["reconcile"]);
    assert!(text.stdout.contains("nbmsp reconcile --purge-dir leftover") && text.stdout.contains("[needs you]"));

    let r = env.home.run(&["reconcile", "--yes", "--json"]);
    assert_eq!(r.code, 1, "the orphan dir is left: {}", r.stdout);
    let report = r.json();
    assert!(report["applied"].as_array().unwrap().iter().all(|a| a["ok"] == true), "{report:#}");
    assert_eq!(report["left"], 1);
    assert!(leftover.join("data/store.db").exists(), "data is never deleted without being named");
    let after = env.home.run(&["reconcile", "--json"]).json();
    assert_eq!(kinds(&after), BTreeSet::from(["orphan_dir".to_string()]), "{after:#}");
    assert!(!env.containers().contains(&orphan));
    let served: BTreeSet<String> =
        standin.hosts().iter().map(|h| h["domain_names"][0].as_str().unwrap().to_string()).collect();
    let mut want: BTreeSet<String> = subs.iter().map(|s| format!("{s}.msp.example")).collect();
    want.insert("theirs.msp.example".into());
    assert_eq!(served, want, "ghost host gone, customer 2's host back, theirs kept");

    let r = env.home.run(&["reconcile", "--yes", "--purge-dir", "leftover"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(!leftover.exists());
    assert!(env.home.run(&["reconcile"]).stdout.starts_with("consistent"));
}
