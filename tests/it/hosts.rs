//! Several Docker hosts: a second engine on this machine (its own network namespace, dockerd
//! and sshd; see tests/it/common/remote.rs) stands in for a remote host, reached over ssh:// and
//! over tcp:// with TLS.

use crate::common;

use crate::common::docker::DockerEnv;
use crate::common::remote::{IMAGES, RemoteHost, add_ssh_host, add_tls_host, deployed_on, host_of, json, two_hosts};

#[test]
fn hosts_are_added_over_ssh_and_tls_listed_drained_and_placed() {
    let Some(env) = DockerEnv::new("hosts_are_added_over_ssh_and_tls") else { return };
    let remote = RemoteHost::start("hosts_are_added");
    let r = add_ssh_host(&env, &remote, "b");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("host b added: Docker 20.10"), "{}", r.stdout);
    // b's engine again, over TLS this time: one engine under two records would see each
    // other's customers as strays. Refused, nothing recorded.
    let data_dir = remote.data_dir.to_str().unwrap().to_string();
    let r = add_tls_host(&env, &remote, "b-again", remote.tls.1.to_str().unwrap(), &["--data-dir", &data_dir]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stderr.contains("same Docker engine as host b"), "{}", r.stderr);
    // A second machine, over TLS.
    let other = RemoteHost::start("hosts_are_added_c");
    let other_dir = other.data_dir.to_str().unwrap().to_string();
    let tls = |name: &str, cert: &str| add_tls_host(&env, &other, name, cert, &["--data-dir", &other_dir]);
    let r = tls("c", other.tls.1.to_str().unwrap());
    assert_eq!(r.code, 0, "{}", r.stderr);
    // The daemon's own certificate is no client certificate: refused, nothing recorded.
    let r = tls("d", other.dir.join("server.pem").to_str().unwrap());
    assert_eq!(r.code, 1, "{}", r.stdout);
    // Plain tcp:// is refused before anything connects, and says why.
    let r = env.home.run(&["host", "add", "e", "--docker", "tcp://10.0.0.9:2375", "--public-ip", "10.0.0.9"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("TLS"), "{}", r.stderr);
    // A key the host does not know: refused with ssh's reason, nothing recorded.
    let stranger = remote.dir.join("stranger");
    let made = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&stranger)
        .status()
        .unwrap();
    assert!(made.success());
    let r = env.home.run(&[
        "host",
        "add",
        "f",
        "--docker",
        &remote.ssh_uri,
        "--ssh-key",
        stranger.to_str().unwrap(),
        "--public-ip",
        &remote.ip,
    ]);
    assert_eq!(r.code, 1, "{}", r.stdout);

    other.load_images(&IMAGES[2..]);
    let list = json(&env.home.run(&["host", "list", "--json"]));
    let names: Vec<&str> = list.as_array().unwrap().iter().map(|h| h["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["local", "b", "c"]);
    for h in list.as_array().unwrap() {
        assert!(h["version"].as_str().unwrap().starts_with("20.10"), "{h}");
        assert!(h["resources"]["memory_mb"].as_u64().unwrap() > 0, "{h}");
    }
    // Disk: read over SSH for b (df's own "Capacity" for its data dir, within rounding), by a
    // busybox helper for the tcp:// host c.
    let capacity = |dir: &std::path::Path| -> i64 {
        let df = std::process::Command::new("df").args(["-Pk"]).arg(dir).output().unwrap();
        let df = String::from_utf8_lossy(&df.stdout).to_string();
        df.lines().nth(1).unwrap().split_whitespace().nth(4).unwrap().trim_end_matches('%').parse().unwrap()
    };
    let b_disk = list[1]["disk_percent"].as_i64().unwrap_or_else(|| panic!("{}", list[1]));
    let b_df = capacity(&remote.data_dir);
    assert!((b_disk - b_df).abs() <= 1, "b's disk {b_disk}% against df's {b_df}%");
    assert!(list[1]["disk_free_mb"].as_u64().unwrap() > 0);
    assert!(list[0]["disk_percent"].is_u64(), "{}", list[0]);
    let c_disk = list[2]["disk_percent"].as_i64().unwrap_or_else(|| panic!("{}", list[2]));
    let c_df = capacity(&other.data_dir);
    assert!((c_disk - c_df).abs() <= 1, "c's disk {c_disk}% against df's {c_df}%");
    let helpers = other.containers();
    assert!(helpers.iter().all(|c| !c.starts_with("nbmsp-helper")), "helpers are removed: {helpers:?}");
    // Where b's engine is: its own containers, not this machine's.
    remote.load_images(&IMAGES[1..]);
    assert!(remote.docker().args(["create", "--name", "only-on-b", IMAGES[1]]).status().unwrap().success());
    let b = &list[1];
    assert_eq!(b["resources"]["containers"], 0, "listed before the container was made");
    let b = json(&env.home.run(&["host", "show", "b", "--json"]));
    assert_eq!(b["host"]["resources"]["containers"], 1, "{b}");
    // Someone else's container is the engine's, not this installation's.
    assert_eq!(b["host"]["ours"], serde_json::json!([0, 0]), "{b}");
    let text = env.home.run(&["host", "list"]).stdout;
    let line = text.lines().find(|l| l.starts_with("b ")).unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains(" 0/0 "), "CONTAINERS counts ours: {line}");

    // Placement: draining hosts get nothing; --host overrides, but not onto a draining host.
    assert_eq!(env.home.run(&["host", "drain", "c"]).code, 0);
    let create = |sub: &str, host: Option<&str>| {
        let email = format!("it@{sub}.example");
        let mut args = vec!["customer", "create", "--no-deploy", "--name", "N", "--subdomain", sub, "--email", &email];
        if let Some(h) = host {
            args.extend(["--host", h]);
        }
        env.home.run(&args)
    };
    let one = env.subdomain("one");
    let r = create(&one, Some("c"));
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("host c is draining"), "{}", r.stderr);
    let email = format!("it@{one}.example");
    let args = ["customer", "create", "--no-deploy", "--name", "N", "--subdomain", &one, "--email", &email];
    let r = env.home.run(&[&args[..], &["--host", "c", "--json"]].concat());
    assert_eq!(r.json()["error"]["kind"], "conflict", "a draining host is a conflict, not a failure: {}", r.stdout);
    assert_eq!(create(&one, Some("b")).code, 0);
    assert_eq!(host_of(&env, &one), "b");
    // Equal machines (all three run on this one): the host with fewer stacks takes the next.
    let two = env.subdomain("two");
    assert_eq!(create(&two, None).code, 0);
    assert_eq!(host_of(&env, &two), "local");
    // This machine drains too; c, open again, has fewer stacks than b: a tcp:// host takes
    // customers like any other.
    assert_eq!(env.home.run(&["host", "drain", "local"]).code, 0);
    assert_eq!(env.home.run(&["host", "drain", "c", "--off"]).code, 0);
    let three = env.subdomain("three");
    assert_eq!(create(&three, None).code, 0);
    assert_eq!(host_of(&env, &three), "c");
    // Nowhere left: refused with each host's reason, nothing created.
    assert_eq!(env.home.run(&["host", "drain", "b"]).code, 0);
    assert_eq!(env.home.run(&["host", "drain", "c"]).code, 0);
    let four = env.subdomain("four");
    let r = create(&four, None);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("no host has room") && r.stderr.contains("b (draining)"), "{}", r.stderr);
    assert!(r.stderr.contains("c (draining)"), "{}", r.stderr);
    assert_eq!(env.home.run(&["customer", "show", &four]).code, 1, "nothing was created");
    // A host with customers stays.
    let r = env.home.run(&["host", "remove", "b"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains(&one), "{}", r.stderr);
}

#[test]
fn a_customer_on_an_ssh_host_deploys_answers_and_is_removed_there() {
    let Some((env, remote)) = two_hosts("a_customer_on_an_ssh_host_deploys", "a_customer_on_an_ssh_host") else {
        return;
    };
    let sub = deployed_on(&env, "rem", "b");
    // The stack runs on b, its files are on b; nothing of it is on this machine's engine.
    let server = env.home.container(&sub, "server");
    assert!(remote.containers().contains(&server), "{:?}", remote.containers());
    assert!(env.containers().is_empty(), "{:?}", env.containers());
    assert!(remote.data_dir.join(&sub).join("docker-compose.yml").exists());
    assert!(!env.data_dir().join(&sub).join("docker-compose.yml").exists());

    // Health through b: HTTP over the SSH tunnel (b's Docker network is not reachable from
    // here), STUN at b's public IP.
    let before = remote.logins();
    let h = json(&env.home.run(&["customer", "health", &sub, "--json"]));
    assert_eq!(h["healthy"], true, "{h}");
    assert!(remote.logins() - before <= 2, "one login for the API, one for the tunnel");
    let port = json(&env.home.run(&["customer", "show", &sub, "--json"]))["relay_udp_port"].as_u64().unwrap();
    assert_eq!(h["stun"]["target"], format!("{}:{port}", remote.ip), "{h}");
    let logs = env.home.run(&["customer", "logs", &sub, "--tail", "5"]);
    assert_eq!(logs.code, 0, "{}", logs.stderr);
    assert!(logs.stdout.contains("server"), "{}", logs.stdout);

    // A redeploy there reads NetBird's data dir and the previous files over SSH.
    let r = env.home.run(&["customer", "redeploy", &sub]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!env.data_dir().join(&sub).exists(), "the snapshot kept here while it ran is gone");
    // Reconcile reads b's files (one SSH session for the host): all there, then one gone.
    assert!(env.home.run(&["reconcile"]).stdout.starts_with("consistent"));
    let compose = remote.data_dir.join(&sub).join("docker-compose.yml");
    let kept = std::fs::read(&compose).unwrap();
    std::fs::remove_file(&compose).unwrap();
    let report = env.home.run(&["reconcile", "--json"]);
    assert!(report.stdout.contains("\"missing_files\""), "{}", report.stdout);
    std::fs::write(&compose, kept).unwrap();
    // Stop and start act on b's engine.
    assert_eq!(env.home.run(&["customer", "stop", &sub]).code, 0);
    let state = |name: &str| {
        let o = remote.docker().args(["inspect", "-f", "{{.State.Status}}", name]).output().unwrap();
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    assert_eq!(state(&server), "exited");
    let r = env.home.run(&["customer", "start", &sub]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(state(&server), "running");

    // Delete keeps a backup here (fetched from b) and removes everything on b.
    let deleted = json(&env.home.run(&["customer", "delete", &sub, "--yes", "--json"]));
    let kept = std::path::PathBuf::from(deleted["backup_kept_in"].as_str().unwrap());
    assert!(kept.exists(), "{deleted}");
    assert!(!remote.containers().contains(&server));
    assert!(!remote.data_dir.join(&sub).exists());
}

/// A customer on a tcp:// host with TLS, where nbmsp has Docker's API and nothing else: its files
/// are written, read, checked and removed by busybox helpers with the data dir mounted, and the
/// owner setup and health checks reach its containers through `nc` helpers on that host's
/// network (b's Docker network is not reachable from here). No SSH is recorded for the host.
#[test]
fn a_customer_on_a_tls_host_deploys_answers_and_is_removed_there() {
    let Some(env) = DockerEnv::new("a_customer_on_a_tls_host_deploys") else { return };
    let remote = RemoteHost::start("a_customer_on_a_tls_host");
    remote.load_images(&IMAGES);
    let data_dir = remote.data_dir.to_str().unwrap().to_string();
    let r = add_tls_host(&env, &remote, "c", remote.tls.1.to_str().unwrap(), &["--data-dir", &data_dir]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let sub = deployed_on(&env, "tls", "c");
    let server = env.home.container(&sub, "server");
    assert!(remote.containers().contains(&server), "{:?}", remote.containers());
    assert!(env.containers().is_empty(), "{:?}", env.containers());
    let compose = remote.data_dir.join(&sub).join("docker-compose.yml");
    assert!(compose.exists());
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(remote.data_dir.join(&sub)).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o700, "the instance dir is private there too");
    let show = json(&env.home.run(&["customer", "show", &sub, "--json"]));
    assert!(show["owner_user_id"].as_str().is_some_and(|o| !o.is_empty()), "the owner was set up: {show}");

    let h = json(&env.home.run(&["customer", "health", &sub, "--json"]));
    assert_eq!(h["healthy"], true, "{h}");
    assert_eq!(h["stun"]["target"], format!("{}:{}", remote.ip, show["relay_udp_port"]), "{h}");
    let r = env.home.run(&["customer", "redeploy", &sub]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(env.home.run(&["reconcile"]).stdout.starts_with("consistent"));
    let kept = std::fs::read(&compose).unwrap();
    std::fs::remove_file(&compose).unwrap();
    assert!(env.home.run(&["reconcile", "--json"]).stdout.contains("\"missing_files\""));
    std::fs::write(&compose, kept).unwrap();

    let deleted = json(&env.home.run(&["customer", "delete", &sub, "--yes", "--json"]));
    let kept = std::path::PathBuf::from(deleted["backup_kept_in"].as_str().unwrap());
    assert!(kept.exists(), "{deleted}");
    assert!(!remote.data_dir.join(&sub).exists());
    let left = remote.containers();
    assert!(left.is_empty(), "nothing of the customer and no helper is left: {left:?}");
}

/// A host whose engine dies marks its own customers "host unreachable"; the others, and every
/// command on them, go on as before.
#[test]
fn an_unreachable_host_marks_only_its_customers() {
    let Some((env, mut remote)) = two_hosts("an_unreachable_host_marks_only", "an_unreachable_host") else { return };
    let (there, here) = (env.subdomain("there"), env.subdomain("here"));
    for (sub, host) in [(&there, "b"), (&here, "local")] {
        let email = format!("it@{sub}.example");
        let r =
            env.home.run(&["customer", "create", "--name", "N", "--subdomain", sub, "--email", &email, "--host", host]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    remote.stop_engine();
    let round = json(&env.home.run(&["monitor", "--once", "--json"]));
    let of = |sub: &str| round["customers"].as_array().unwrap().iter().find(|c| c["subdomain"] == sub).unwrap().clone();
    let t = of(&there);
    assert_eq!(t["status"], "error", "{round}");
    assert!(t["reason"].as_str().unwrap().contains("host b unreachable"), "{round}");
    assert_eq!(of(&here)["status"], "active", "{round}");
    // The host itself raises one alert (its customers, not judged, raise none).
    let alerts = json(&env.home.run(&["alerts", "list", "--json"]));
    let scopes: Vec<(&str, &str)> = alerts
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["scope"].as_str().unwrap(), a["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(scopes, vec![("host:b", "unreachable")], "{alerts}");
    assert!(alerts[0]["message"].as_str().unwrap().contains("1 customer(s) there unknown"), "{alerts}");
    // The listing says which host is down; this machine's customers still answer.
    let list = json(&env.home.run(&["host", "list", "--json"]));
    assert!(list[1]["error"].is_string(), "{list}");
    assert!(list[0]["error"].is_null(), "{list}");
    assert_eq!(json(&env.home.run(&["customer", "health", &here, "--json"]))["healthy"], true);
    let r = env.home.run(&["customer", "stop", &there]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("host b is unreachable"), "{}", r.stderr);
    assert_eq!(env.home.run(&["customer", "stop", &here]).code, 0);
}

/// `proxy = npm` with several hosts: each host publishes its customers through its own NPM
/// (the remote one listens on that host's loopback only, reached over the SSH connection); a
/// move registers the domain with the target's NPM and removes it from the source's; reconcile
/// compares each host's NPM and touches only entries tagged with this installation.
#[test]
fn each_host_publishes_its_customers_through_its_own_npm() {
    use common::npm_standin::{Behaviour, NpmStandin, Resolve};
    let Some(env) = DockerEnv::new("each_host_publishes_through_its_own_npm") else { return };
    let remote = RemoteHost::start("each_host_npm");
    remote.load_images(&IMAGES);
    let local_npm = NpmStandin::start(Behaviour { resolve: Resolve::DockerContainers, ..Default::default() });
    let there = Behaviour { resolve: Resolve::DockerContainersOn(remote.engine()), ..Default::default() };
    let remote_npm = NpmStandin::start_in_netns(remote.netns(), there);
    common::npm_standin::use_in(&env.home, &local_npm);
    assert_eq!(add_ssh_host(&env, &remote, "b").code, 0);
    let sub = env.subdomain("pxy");
    let domain = format!("{sub}.msp.example");
    let email = format!("it@{sub}.example");
    let create = ["customer", "create", "--name", "P", "--subdomain", &sub, "--email", &email, "--host", "b"];

    // Without an NPM of its own, b takes no customer while proxy = npm: refused before anything runs.
    let r = env.home.run(&create);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("host b: proxy = npm, but it has no NPM of its own"), "{}", r.stderr);
    assert!(remote.containers().is_empty(), "{:?}", remote.containers());
    assert_eq!(env.home.run(&["customer", "delete", &sub, "--yes", "--purge-data"]).code, 0);
    // Placement leaves it out too: the list says why.
    let list = json(&env.home.run(&["host", "list", "--json"]));
    assert_eq!((&list[1]["name"], &list[1]["publishable"]), (&"b".into(), &false.into()), "{list}");
    assert_eq!(list[0]["npm"], local_npm.url.as_str(), "{list}");

    // Its NPM's URL is as b sees it; login and password come from the npm.* settings.
    let r = env.home.run(&["host", "npm", "b", "--npm", &remote_npm.url]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let shown = env.home.run(&["host", "show", "b"]);
    assert!(shown.stdout.contains(&format!("proxy: Nginx Proxy Manager at {}", remote_npm.url)), "{}", shown.stdout);
    let r = env.home.run(&create);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let served = |npm: &NpmStandin| -> Vec<serde_json::Value> {
        npm.hosts().into_iter().filter(|h| h["domain_names"][0] == domain.as_str()).collect()
    };
    let on_b = served(&remote_npm);
    assert_eq!(on_b.len(), 1, "{:?}", remote_npm.hosts());
    assert_eq!(on_b[0]["forward_host"], env.home.container(&sub, "dashboard"));
    assert_eq!(on_b[0]["meta"]["nginx_online"], true, "b's nginx resolved the containers on b: {:?}", on_b[0]);
    assert!(served(&local_npm).is_empty(), "this machine's NPM is not asked");
    let shown = json(&env.home.run(&["customer", "show", &sub, "--json"]));
    assert_eq!(shown["proxy_host_id"], on_b[0]["id"], "{shown}");
    // Its certificate is asked of b's NPM: pending while Let's Encrypt fails there, then issued.
    assert!(shown["proxy_pending"].as_str().is_some_and(|p| p.starts_with("certificate pending")), "{shown}");
    assert_eq!(env.home.run(&["customer", "retry-cert", &sub]).code, 1);
    remote_npm.set_behaviour(|b| b.letsencrypt_ok = true);
    let r = env.home.run(&["customer", "retry-cert", &sub]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(served(&remote_npm)[0]["ssl_forced"], true, "{:?}", remote_npm.hosts());
    assert_eq!(json(&env.home.run(&["customer", "show", &sub, "--json"]))["proxy_pending"], serde_json::Value::Null);
    // The metrics read b's certificate from b's NPM, and b's disk through b's shell.
    {
        let (_daemon, addr) = crate::reports::serve_metrics(&env);
        let cert = format!("nbmsp_customer_certificate_expiry_timestamp_seconds{{subdomain=\"{sub}\",host=\"b\"}} ");
        let disk = "nbmsp_host_disk_used_ratio{host=\"b\"} ";
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let text = loop {
            if let Some(t) = crate::reports::scrape(&addr).filter(|t| t.contains(&cert) && t.contains(disk)) {
                break t;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no expiry or disk for b: {:?}\nthe monitor's log:\n{}",
                crate::reports::scrape(&addr),
                env.home.log_tail(40)
            );
        };
        let value =
            |prefix: &str| -> f64 { text.lines().find_map(|l| l.strip_prefix(prefix)).unwrap().parse().unwrap() };
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
        assert!((89.0..=90.5).contains(&((value(&cert) - now) / 86_400.0)), "b's Let's Encrypt certificate: {text}");
        assert!((0.0..=1.0).contains(&value(disk)), "{text}");
    }

    // A move switches the proxy: registered here, removed there.
    let r = env.home.run(&["customer", "move", &sub, "--to", "local"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(served(&remote_npm).is_empty(), "b's entry went: {:?}", remote_npm.hosts());
    let here = served(&local_npm);
    assert_eq!(here.len(), 1, "{:?}", local_npm.hosts());
    let shown = json(&env.home.run(&["customer", "show", &sub, "--json"]));
    assert_eq!(shown["proxy_host_id"], here[0]["id"], "{shown}");

    // On b: a leftover of ours (tagged) and another admin's host. Only ours is reported and removed.
    let ours = remote_npm.insert_host(&format!("ghost.{}", "msp.example"), "netbird-ghost-dashboard");
    remote_npm.set_meta(ours, here[0]["meta"].clone());
    let theirs = remote_npm.insert_host("other.msp.example", "netbird-other-dashboard");
    let report = env.home.run(&["reconcile", "--json"]).json();
    let findings = report["findings"].as_array().unwrap();
    let orphans: Vec<&serde_json::Value> = findings.iter().filter(|f| f["kind"] == "orphan_proxy_host").collect();
    assert_eq!(orphans.len(), 1, "{report:#}");
    assert_eq!(orphans[0]["subject"], "ghost.msp.example");
    assert!(orphans[0]["detail"].as_str().unwrap().contains("on host b"), "{report:#}");
    assert!(!findings.iter().any(|f| f["kind"] == "missing_proxy_host"), "{report:#}");
    assert_eq!(env.home.run(&["reconcile", "--yes"]).code, 0);
    let ids: Vec<i64> = remote_npm.hosts().iter().map(|h| h["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![theirs], "ours deleted, theirs kept");
    assert_eq!(served(&local_npm).len(), 1, "this machine's entry stays");
}

/// The app: `d` in `:hosts` drains the selected host, `:move HOST` moves the selected customer
/// there (asked first), and the table names its new host.
#[test]
fn the_app_drains_a_host_and_moves_a_customer() {
    use common::tmux::{exit_code, log_in, start_with, tmux_missing};
    if tmux_missing() {
        return;
    }
    let Some((env, mut remote)) = two_hosts("the_app_drains_and_moves", "app_moves") else { return };
    let sub = deployed_on(&env, "app", "local");
    let (t, exit_file) = start_with(&env.home, env.home.path(), "appmove", 120, 30, "");
    log_in(&t);
    t.wait_for("Customers (1)");

    t.keys(&[":"]);
    t.keys(&["-l", "hosts"]);
    t.keys(&["Enter"]);
    t.wait_for("d drains/opens");
    t.wait_gone("asking every engine");
    t.keys(&["j"]);
    t.keys(&["d"]);
    // The notice comes with the key, the list when the engines answered again.
    t.wait_for("host b: draining");
    let drained = t.wait_gone("asking every engine");
    assert!(drained.lines().any(|l| l.contains("│b ") && l.contains(" draining · ")), "{drained}");
    assert!(json(&env.home.run(&["host", "list", "--json"]))[1]["draining"] == true);
    t.keys(&["d"]);
    t.wait_for("host b: open for new customers");
    let open = t.wait_gone("asking every engine");
    assert!(!open.lines().any(|l| l.contains("│b ") && l.contains(" draining · ")), "{open}");
    t.keys(&["Escape"]);
    t.wait_gone("d drains/opens");

    t.keys(&[":"]);
    t.keys(&["-l", "move b"]);
    t.keys(&["Enter"]);
    t.wait_for(&format!("Move {sub} to host b?"));
    t.keys(&["y"]);
    let done = t.wait_for_within("move done", std::time::Duration::from_secs(120));
    assert!(done.contains("now on host b"), "{done}");
    assert_eq!(host_of(&env, &sub), "b");
    assert!(remote.containers().contains(&env.home.container(&sub, "server")));
    t.wait_for("Host ");

    // b's engine dies: what its ssh passes on from `docker system dial-stdio` goes to a log
    // file, not over the screen; the customer says why it is in error.
    remote.stop_engine();
    let down = t.wait_for_within("host b unreachable", std::time::Duration::from_secs(60));
    let aside = env.home.path().join("logs/stderr.log");
    let said = std::fs::read_to_string(&aside).unwrap_or_default();
    assert!(said.contains("dial unix"), "the ssh under the connection wrote its complaint aside: {said:?}");
    let first = said.lines().next().unwrap_or_default();
    assert!(!down.contains(first.get(..20).unwrap_or(first)), "{first:?} reached the screen:\n{down}");
    t.keys(&["q"]);
    assert_eq!(exit_code(&t, &exit_file), "0");
}

/// A rollout over two hosts: each customer is upgraded on its own engine, and a second run
/// finds nothing to do (image ids are compared per host, where each image was built).
#[test]
fn a_rollout_upgrades_customers_on_every_host_each_on_its_own_engine() {
    let Some((env, remote)) = two_hosts("a_rollout_over_two_hosts", "rollout_hosts") else { return };
    let (here, there) = (env.subdomain("rlh"), env.subdomain("rlt"));
    for (sub, host) in [(&here, "local"), (&there, "b")] {
        let email = format!("it@{sub}.example");
        let r =
            env.home.run(&["customer", "create", "--name", "R", "--subdomain", sub, "--email", &email, "--host", host]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    // The "new release" exists on both engines (no registry).
    let tag = "nbmsp-standin/netbird-server:rollout-hosts";
    assert!(std::process::Command::new("docker").args(["tag", IMAGES[0], tag]).status().unwrap().success());
    assert!(remote.docker().args(["tag", IMAGES[0], tag]).status().unwrap().success());
    let r = env.home.run(&["rollout", "--set", &format!("images.server={tag}"), "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report = r.json();
    let mut upgraded: Vec<&str> = report["upgraded"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    upgraded.sort_unstable();
    let mut want = vec![here.as_str(), there.as_str()];
    want.sort_unstable();
    assert_eq!(upgraded, want, "{report}");
    let image = |docker: &mut std::process::Command, sub: &str| {
        let out =
            docker.args(["inspect", "--format", "{{.Config.Image}}", &env.home.container(sub, "server")]).output();
        String::from_utf8_lossy(&out.unwrap().stdout).trim().to_string()
    };
    assert_eq!(image(&mut std::process::Command::new("docker"), &here), tag);
    assert_eq!(image(&mut remote.docker(), &there), tag);
    assert!(remote.containers().iter().all(|c| !c.contains(&here)), "nothing of this machine's customer on b");
    let again = env.home.run(&["rollout", "--json"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(again.json()["already"].as_array().unwrap().len(), 2, "{}", again.stdout);
}
