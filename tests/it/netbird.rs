//! The NetBird owner nbmsp creates, on the real engine with the upstream-faithful stand-ins: an
//! instance someone else already set up fails the first deploy, and the owner's access token is
//! renewed (new token first, then the old one revoked) by hand and by the monitor.

use crate::common;

use crate::common::docker::DockerEnv;

fn create(env: &DockerEnv, sub: &str, extra: &[&str]) -> common::Run {
    let email = format!("it@{sub}.example");
    let mut args = vec!["customer", "create", "--name", "N", "--subdomain", sub, "--email", &email, "--json"];
    args.extend_from_slice(extra);
    env.home.run(&args)
}

/// `GET /api/peers` on the customer's management container with `pat`; returns the status.
fn peers_status(env: &DockerEnv, sub: &str, pat: &str) -> u16 {
    let c = env.home.run(&["customer", "show", sub, "--json"]).json();
    let server = c["containers"].as_array().unwrap().iter().find(|x| x["service"] == "server").unwrap().clone();
    let ip = server["ip"].as_str().unwrap();
    let auth = format!("Token {pat}");
    common::http::request(&format!("{ip}:80"), "GET", "/api/peers", &[("Authorization", &auth)], None).unwrap().0
}

#[test]
fn an_instance_that_already_has_an_owner_fails_the_first_deploy() {
    let Some(env) = DockerEnv::new("an_instance_that_already_has_an_owner") else { return };
    let sub = env.subdomain("claimed");
    assert_eq!(create(&env, &sub, &["--no-deploy"]).code, 0);
    // The data dir holds an instance someone already set up (the stand-in keeps its accounts there).
    let data = env.data_dir().join(&sub).join("data/server");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("standin-store.txt"), "owner\tu-thief\tthief@elsewhere.example\n").unwrap();
    let r = env.home.run(&["customer", "deploy", &sub, "--json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let msg = r.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(msg.contains("already has an owner that nbmsp did not create"), "{msg}");
    assert!(env.containers().is_empty(), "rolled back");
    let c = env.home.run(&["customer", "show", &sub, "--json"]).json();
    assert_eq!(c["status"], "error");
    let r = env.home.run(&["customer", "credentials", &sub, "--yes"]);
    assert_eq!(r.code, 1, "no credentials were stored");
}

#[test]
fn the_owner_token_is_renewed_and_the_old_one_revoked() {
    let Some(env) = DockerEnv::new("the_owner_token_is_renewed") else { return };
    assert_eq!(env.home.run(&["settings", "set", "netbird.pat_days", "1"]).code, 0);
    let sub = env.subdomain("pat");
    let r = create(&env, &sub, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let pat = |env: &DockerEnv| {
        env.home.run(&["customer", "credentials", &sub, "--yes", "--json"]).json()["pat"].as_str().unwrap().to_string()
    };
    let expires = |env: &DockerEnv| {
        let c = env.home.run(&["customer", "show", &sub, "--json"]).json();
        let t = c["pat_expires_at"].as_str().unwrap_or_else(|| panic!("no expiry shown: {c}")).to_string();
        let t = time::OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339).unwrap();
        (t - time::OffsetDateTime::now_utc()).whole_days()
    };
    let first = pat(&env);
    assert_eq!(expires(&env), 0, "a one-day token");
    assert_eq!(peers_status(&env, &sub, &first), 200);
    assert_eq!(env.home.run(&["settings", "set", "netbird.pat_days", "365"]).code, 0);
    let r = env.home.run(&["customer", "renew-token", &sub, "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["revoked"], 1, "the setup token was revoked");
    let second = pat(&env);
    assert_ne!(second, first);
    // A revoked token is one the store no longer has: NetBird answers 404, not 401.
    assert_eq!(peers_status(&env, &sub, &first), 404, "the old token no longer works");
    assert_eq!(peers_status(&env, &sub, &second), 200);
    assert!(expires(&env) >= 364);
    assert_eq!(env.home.run(&["customer", "devices", &sub]).code, 0, "nbmsp works with the new token");
    // The monitor renews a token inside `netbird.pat_renew_days` (30) of its expiry: make the
    // current one a one-day token again, then let the monitor look.
    assert_eq!(env.home.run(&["settings", "set", "netbird.pat_days", "1"]).code, 0);
    assert_eq!(env.home.run(&["customer", "renew-token", &sub]).code, 0);
    let second = pat(&env);
    assert_eq!(env.home.run(&["settings", "set", "netbird.pat_days", "365"]).code, 0);
    let r = env.home.run(&["monitor", "--once", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let third = pat(&env);
    assert_ne!(third, second, "renewed by the monitor");
    assert_eq!(peers_status(&env, &sub, &second), 404);
    assert_eq!(peers_status(&env, &sub, &third), 200);
    let store = nbmsp::store::Store::open(&env.home.path().join("nbmsp.db"), false).unwrap();
    let renewals: Vec<String> = store
        .audit_log(None, 50)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "renew-token")
        .map(|e| format!("{} {}", e.actor, e.message))
        .collect();
    assert_eq!(renewals.len(), 3, "{renewals:?}");
    assert!(renewals[0].starts_with("monitor access token renewed"), "{renewals:?}");
}
