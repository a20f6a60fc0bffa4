//! Image rollout in waves on the real Docker engine: canary first, batches after, stop at the
//! first failure with that customer restored and the image settings put back.

use crate::common;

use std::process::Command;

use crate::common::docker::DockerEnv;

fn server_images(env: &DockerEnv) -> Vec<String> {
    let list = env.home.run(&["customer", "list", "--json"]).json();
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let show = env.home.run(&["customer", "show", c["subdomain"].as_str().unwrap(), "--json"]).json();
            let server = show["containers"].as_array().unwrap().iter().find(|x| x["service"] == "server").cloned();
            server.map_or("-".into(), |s| s["image"].as_str().unwrap().to_string())
        })
        .collect()
}

#[test]
fn rollout_goes_canary_first_then_batches_and_stops_at_the_first_failure() {
    let Some(env) = DockerEnv::new("rollout_goes_canary_first_then_batches") else { return };
    // A "new release": the same stand-in under another tag.
    let tag = "nbmsp-standin/netbird-server:rollout-test";
    let out = Command::new("docker").args(["tag", "nbmsp-standin/netbird-server:latest", tag]).output().unwrap();
    assert!(out.status.success());
    let subs: Vec<String> = (0..4).map(|i| env.subdomain(&format!("roll{i}"))).collect();
    let entries: Vec<_> = subs
        .iter()
        .map(|s| serde_json::json!({"name": s, "subdomain": s, "email": format!("it@{s}.example")}))
        .collect();
    let file = env.home.file("c.json", &serde_json::to_string(&entries).unwrap());
    assert_eq!(env.home.run(&["customer", "import", "--file", file.to_str().unwrap()]).code, 0);

    let set = format!("images.server={tag}");
    let r = env.home.run(&["rollout", "--set", &set, "--canary", &subs[2], "--batch", "2", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report = r.json();
    assert_eq!(report["upgraded"].as_array().unwrap().len(), 4, "{report}");
    assert_eq!(report["upgraded"][0], subs[2].as_str(), "the canary goes first");
    let first_line = r.stderr.lines().next().unwrap();
    assert_eq!(first_line, format!("canary: {}", subs[2]));
    assert!(r.stderr.contains("wave 2: ") && r.stderr.contains("wave 3: "), "{}", r.stderr);
    assert!(server_images(&env).iter().all(|i| i == tag));

    // Nothing left to do: a second run touches nobody.
    let r = env.home.run(&["rollout", "--json"]);
    assert_eq!(r.code, 0);
    assert_eq!(r.json()["already"].as_array().unwrap().len(), 4);

    // A stopped customer is left out; a broken image stops the rollout at the canary.
    assert_eq!(env.home.run(&["customer", "stop", &subs[3]]).code, 0);
    let r = env.home.run(&["rollout", "--set", "images.server=nbmsp-standin/relay:latest", "--json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let report = r.json();
    let failed = report["failed"][0].as_str().unwrap().to_string();
    assert!(
        report["failed"][1].as_str().unwrap().contains("exposed address is required"),
        "the container's words: {report}"
    );
    assert_eq!(report["upgraded"].as_array().unwrap().len(), 0);
    assert_eq!(report["not_started"].as_array().unwrap().len(), 2, "{report}");
    assert_eq!(report["left_out"][0][0], subs[3].as_str());
    assert!(r.stderr.contains(&format!("settings: images.server set back to {tag}")), "{}", r.stderr);
    let settings = env.home.run(&["settings", "show"]);
    assert!(settings.stdout.lines().any(|l| l.starts_with("images.server") && l.contains(tag)), "{}", settings.stdout);
    let show = env.home.run(&["customer", "show", &failed, "--json"]).json();
    assert!(show["status_reason"].as_str().unwrap().contains("previous version was restored"), "{show}");
    let server = show["containers"].as_array().unwrap().iter().find(|x| x["service"] == "server").unwrap().clone();
    assert_eq!(server["image"], tag, "the failed canary runs its previous image again");
    assert_eq!(server["state"], "running");
}

#[test]
fn a_canary_whose_stun_port_stays_silent_is_rolled_back() {
    let Some(env) = DockerEnv::new("a_canary_whose_stun_port_stays_silent") else { return };
    let tag = "nbmsp-standin/netbird-server:rollout-stun";
    let out = Command::new("docker").args(["tag", "nbmsp-standin/netbird-server:latest", tag]).output().unwrap();
    assert!(out.status.success());
    let sub = env.subdomain("stun");
    let email = format!("it@{sub}.example");
    assert_eq!(env.home.run(&["customer", "create", "--name", "S", "--subdomain", &sub, "--email", &email]).code, 0);
    let config = env.data_dir().join(&sub).join("config.yaml");
    let before = std::fs::read_to_string(&config).unwrap();
    // The "new release" listens for STUN on the wrong port: HTTP health passes, STUN does not.
    let tpl = env.home.path().join("templates/combined");
    std::fs::create_dir_all(&tpl).unwrap();
    let original =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/combined/config.yaml")).unwrap();
    let broken = original.replace("stunPorts: [{{ udp_port }}]", "stunPorts: [{{ udp_port + 1 }}]");
    assert_ne!(broken, original, "the template still names stunPorts this way");
    std::fs::write(tpl.join("config.yaml"), broken).unwrap();
    let r = env.home.run(&["rollout", "--set", &format!("images.server={tag}"), "--json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let report = r.json();
    assert_eq!(report["failed"][0], sub.as_str());
    assert!(report["failed"][1].as_str().unwrap().contains("STUN"), "{report}");
    let show = env.home.run(&["customer", "show", &sub, "--json"]).json();
    let server = show["containers"].as_array().unwrap().iter().find(|x| x["service"] == "server").unwrap().clone();
    assert_eq!(server["image"], "nbmsp-standin/netbird-server:latest", "the previous image runs again: {show}");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), before, "the previous files are back");
    assert!(show["status_reason"].as_str().unwrap().contains("previous version was restored"), "{show}");
    assert_eq!(env.home.run(&["customer", "health", &sub]).code, 0, "healthy again, STUN included");
}

/// A tag re-pointed to another image (what `:latest` or a moved release tag does) is a new
/// version: rollout compares image ids, not names.
#[test]
fn a_re_pointed_tag_is_rolled_out() {
    let Some(env) = DockerEnv::new("a_re_pointed_tag_is_rolled_out") else { return };
    let tag = format!("nbmsp-standin/netbird-server:{}", env.subdomain("moving"));
    let build = |label: &str| {
        let mut child = Command::new("docker")
            .args(["build", "-q", "-t", &tag, "-"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        write!(child.stdin.take().unwrap(), "FROM nbmsp-standin/netbird-server:latest\nLABEL nbmsp.test={label}\n")
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let first = build("one");
    assert_eq!(env.home.run(&["settings", "set", "images.server", &tag]).code, 0);
    let sub = env.subdomain("mv");
    let email = format!("it@{sub}.example");
    assert_eq!(env.home.run(&["customer", "create", "--name", "M", "--subdomain", &sub, "--email", &email]).code, 0);
    let r = env.home.run(&["rollout", "--json"]);
    assert_eq!(r.json()["already"].as_array().unwrap().len(), 1, "same tag, same image: {}", r.stdout);
    let second = build("two");
    assert_ne!(first, second);
    let r = env.home.run(&["rollout", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["upgraded"], serde_json::json!([sub]), "{}", r.stdout);
    let show = env.home.run(&["customer", "show", &sub, "--json"]).json();
    let server = show["containers"].as_array().unwrap().iter().find(|x| x["service"] == "server").unwrap().clone();
    assert_eq!(server["image_id"], second, "{show}");
    let _ = Command::new("docker").args(["rmi", "-f", &tag]).output();
}

#[tokio::test]
async fn a_stop_during_a_rollouts_redeploy_in_the_same_app_is_refused_as_busy() {
    use nbmsp::domain::customer::CustomerRef;
    use nbmsp::engine::worker::protocol::{Command as Cmd, Event, Operation, RolloutUpdate};
    let Some(env) = DockerEnv::new("a_stop_during_a_rollouts_redeploy") else { return };
    let tag = "nbmsp-standin/netbird-server:rollout-busy";
    let out = Command::new("docker").args(["tag", "nbmsp-standin/netbird-server:latest", tag]).output().unwrap();
    assert!(out.status.success());
    let sub = env.subdomain("rbusy");
    let email = format!("it@{sub}.example");
    let created =
        env.home.run(&["customer", "create", "--name", "B", "--subdomain", &sub, "--email", &email, "--json"]);
    assert_eq!(created.code, 0, "{}", created.stderr);
    let id = created.json()["id"].as_i64().unwrap();
    assert_eq!(env.home.run(&["settings", "set", "images.server", tag]).code, 0);
    let (tx, mut rx) = common::worker::logged_in(&env.home).await;
    tx.send(Cmd::Rollout).unwrap();
    common::worker::next(&mut rx, "the canary wave", |e| match e {
        Event::Rollout(u) if matches!(*u, RolloutUpdate::Wave(1, _)) => Some(()),
        _ => None,
    })
    .await;
    // A step of the canary's redeploy: the rollout holds the customer's lock from its first step
    // to its end, and the new image's start (the stand-in's late API) keeps it seconds longer.
    // (The wave's announcement comes before the lock is taken.)
    common::worker::next(&mut rx, "a step of the canary's redeploy", |e| match e {
        Event::Progress { customer_id, .. } if customer_id == id => Some(()),
        _ => None,
    })
    .await;
    // Same process, same database connection: the lock is the rollout's, not the process's.
    tx.send(Cmd::Operate { target: CustomerRef::new(id, sub.clone()), op: Operation::Stop }).unwrap();
    let stop = common::worker::next(&mut rx, "the stop's answer", |e| match e {
        Event::Finished { customer_id, op: Operation::Stop, result } if customer_id == id => Some(result),
        _ => None,
    })
    .await;
    let e = stop.expect_err("refused while the rollout holds the customer");
    assert!(e.message.starts_with("busy: rollout by admin"), "{e}");
    assert_eq!(e.kind, nbmsp::domain::error::ErrorKind::Conflict, "busy, not broken: {e}");
    let done = common::worker::next(&mut rx, "the rollout's end", |e| match e {
        Event::Rollout(u) => match *u {
            RolloutUpdate::Finished(r) => Some(r),
            _ => None,
        },
        _ => None,
    })
    .await;
    assert!(done.is_ok(), "{done:?}");
    let show = env.home.run(&["customer", "show", &sub, "--json"]).json();
    assert_eq!(show["status"], "active", "the rollout was not disturbed: {show}");
}

#[test]
fn an_operators_failing_rollout_puts_the_images_back() {
    let Some(env) = DockerEnv::new("an_operators_failing_rollout_puts") else { return };
    let sub = env.subdomain("op");
    let email = format!("it@{sub}.example");
    assert_eq!(env.home.run(&["customer", "create", "--name", "O", "--subdomain", &sub, "--email", &email]).code, 0);
    let pw = env.home.file("ops-pw", "operator-password-1");
    let r = env.home.run(&["user", "add", "ops", "--role", "operator", "--new-password-file", pw.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // An admin points the fleet at a broken release; an operator rolls it out.
    assert_eq!(env.home.run(&["settings", "set", "images.server", "nbmsp-standin/relay:latest"]).code, 0);
    let r = env.home.run_with(&["--user", "ops", "rollout", "--json"], &[("NBMSP_PASSWORD", "operator-password-1")]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("settings: images.server set back to nbmsp-standin/netbird-server:latest"),
        "the operator's rollout puts back what it rolled out: {}",
        r.stderr
    );
    let settings = env.home.run(&["settings", "show"]);
    assert!(
        settings
            .stdout
            .lines()
            .any(|l| l.starts_with("images.server") && l.contains("nbmsp-standin/netbird-server:latest")),
        "{}",
        settings.stdout
    );
}
