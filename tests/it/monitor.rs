//! The fleet monitor on the real Docker engine: verdicts from one list call, alerts to a local
//! webhook and a Gotify stand-in, deduplicated across monitor runs, recovery notices.

use crate::common;

use std::process::Command;

use crate::common::docker::DockerEnv;
use crate::common::receiver::Receiver;

fn create(env: &DockerEnv, sub: &str) {
    let email = format!("it@{sub}.example");
    let r = env.home.run(&["customer", "create", "--name", "Mon", "--subdomain", sub, "--email", &email, "--json"]);
    assert_eq!(r.code, 0, "create {sub}: {}", r.stderr);
}

fn once(env: &DockerEnv) -> serde_json::Value {
    let r = env.home.run(&["monitor", "--once", "--json"]);
    assert_eq!(r.code, 0, "monitor --once: {}\n{}", r.stderr, r.stdout);
    r.json()
}

fn status_of<'a>(report: &'a serde_json::Value, sub: &str) -> (&'a str, &'a str) {
    let c = report["customers"].as_array().unwrap().iter().find(|c| c["subdomain"] == sub).expect("customer listed");
    (c["status"].as_str().unwrap(), c["reason"].as_str().unwrap_or(""))
}

fn set_token(env: &DockerEnv, token: &str) {
    let file = env.home.file("gotify-token", token);
    let r = env.home.run(&["settings", "set", "alerts.gotify_token", "--value-file", file.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

fn docker(args: &[&str]) {
    let out = Command::new("docker").args(args).output().expect("docker");
    assert!(out.status.success(), "docker {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn monitor_judges_the_fleet_and_alerts_once_with_recovery() {
    let Some(env) = DockerEnv::new("monitor_judges_the_fleet_and_alerts_once_with_recovery") else { return };
    let hook = Receiver::webhook();
    let gotify = Receiver::gotify("app-token-1");
    for (k, v) in [("alerts.webhook_url", hook.url.as_str()), ("alerts.gotify_url", gotify.url.as_str())] {
        assert_eq!(env.home.run(&["settings", "set", k, v]).code, 0);
    }
    set_token(&env, "app-token-1");
    let (a, b) = (env.subdomain("mona"), env.subdomain("monb"));
    create(&env, &a);
    create(&env, &b);

    let r = once(&env);
    assert_eq!(status_of(&r, &a), ("active", ""));
    assert_eq!(r["round"]["customers"], 2);
    assert_eq!(r["round"]["containers"], 4);
    // One list call (plus, at most, the host's container count), whatever the fleet size.
    assert!(r["round"]["docker_calls"].as_u64().unwrap() <= 2, "{}", r["round"]);
    assert!(r["notices"].as_array().unwrap().is_empty(), "{r}");

    // A core container dies behind nbmsp's back: error, with the reason, and one alert per channel.
    docker(&["stop", "-t", "1", &env.home.container(&a, "server")]);
    let r = once(&env);
    assert_eq!(status_of(&r, &a), ("error", "server container is down"));
    assert_eq!(status_of(&r, &b).0, "active");
    let hooks = hook.received();
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    let body = &hooks[0].body;
    assert_eq!((body["state"].as_str(), body["scope"].as_str()), (Some("firing"), Some(a.as_str())));
    assert_eq!(body["kind"], "down:server");
    assert_eq!(body["source"], "nbmsp");
    assert!(body["time"].as_str().unwrap().ends_with('Z'));
    let pushes = gotify.received();
    assert_eq!(pushes.len(), 1);
    assert_eq!(pushes[0].body["priority"], 8);
    assert!(pushes[0].body["title"].as_str().unwrap().contains(&a));

    // Another monitor process: still down, nothing sent again.
    let r = once(&env);
    assert_eq!(status_of(&r, &a).0, "error");
    assert_eq!(hook.received().len(), 1, "deduplicated across runs");
    let firing = env.home.run(&["alerts", "list", "--json"]).json();
    assert_eq!(firing.as_array().unwrap().len(), 1, "{firing}");

    // Back up: active again and one recovery notice.
    docker(&["start", &env.home.container(&a, "server")]);
    // NetBird's management API takes seconds to come back after a start: wait until it answers.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while env.home.run(&["customer", "health", &a]).code != 0 {
        assert!(std::time::Instant::now() < deadline, "{a} did not come back");
    }
    let r = once(&env);
    assert_eq!(status_of(&r, &a).0, "active", "{r}");
    let hooks = hook.received();
    assert_eq!(hooks.len(), 2, "{:#?}", hooks.iter().map(|h| &h.body).collect::<Vec<_>>());
    assert_eq!(hooks[1].body["state"], "resolved");
    assert_eq!(gotify.received()[1].body["priority"], 4);
    let log = env.home.run(&["customer", "show", &a, "--json"]);
    assert_eq!(log.code, 0);

    // Stopped on purpose is not an outage.
    assert_eq!(env.home.run(&["customer", "stop", &b]).code, 0);
    let r = once(&env);
    assert_eq!(status_of(&r, &b), ("stopped", ""));
    assert_eq!(hook.received().len(), 2, "no alert for a deliberate stop");

    // The test notification reaches both; a wrong token is reported with Gotify's words.
    let t = env.home.run(&["alerts", "test"]);
    assert_eq!(t.code, 0, "{}", t.stderr);
    assert!(t.stdout.contains("webhook, Gotify"), "{}", t.stdout);
    assert_eq!(hook.received().last().unwrap().body["state"], "test");
    set_token(&env, "wrong");
    let t = env.home.run(&["alerts", "test"]);
    assert_eq!(t.code, 1);
    assert!(t.stderr.contains("HTTP 401") && t.stderr.contains("valid access token"), "{}", t.stderr);
}

#[test]
fn after_a_docker_outage_the_monitor_reports_what_needs_reconciling() {
    let Some(env) = DockerEnv::new("after_a_docker_outage_the_monitor_reports") else { return };
    let hook = Receiver::webhook();
    assert_eq!(env.home.run(&["settings", "set", "alerts.webhook_url", &hook.url]).code, 0);
    assert_eq!(env.home.run(&["settings", "set", "monitor.containers_s", "2"]).code, 0);
    let sub = env.subdomain("out");
    create(&env, &sub);
    let link = common::docker::DockerLink::start();
    let mut monitor = env
        .home
        .command()
        .args(["monitor"])
        .env("NBMSP_PASSWORD", common::ADMIN_PASSWORD)
        .env("DOCKER_HOST", &link.host)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(4));
    link.cut();
    std::thread::sleep(std::time::Duration::from_secs(5));
    // While the monitor cannot see the engine, something is left behind.
    let orphan = env.create_orphan("left");
    link.restore();
    let start = std::time::Instant::now();
    let drift = loop {
        if let Some(h) = hook.received().into_iter().find(|h| h.body["kind"] == "drift") {
            break h;
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(30), "no drift notice: {:?}", hook.received());
        std::thread::sleep(std::time::Duration::from_millis(250));
    };
    let _ = monitor.kill();
    let _ = monitor.wait();
    let msg = drift.body["message"].as_str().unwrap();
    assert!(msg.contains(&orphan) && msg.contains("nbmsp reconcile --yes"), "{msg}");
    assert_eq!(drift.body["scope"], "host");
}
