//! The deployment engine on the real Docker engine, through the real binary, with stand-in images.

use crate::common;

use std::net::UdpSocket;
use std::process::Command;

use crate::common::docker::DockerEnv;

fn create(env: &DockerEnv, sub: &str, extra: &[&str]) -> common::Run {
    let email = format!("it@{sub}.example");
    let mut args =
        vec!["customer", "create", "--name", "Test Customer", "--subdomain", sub, "--email", &email, "--json"];
    args.extend_from_slice(extra);
    env.home.run(&args)
}

#[test]
fn combined_stack_full_lifecycle() {
    let Some(env) = DockerEnv::new("combined_stack_full_lifecycle") else { return };
    let sub = env.subdomain("comb");
    let r = create(&env, &sub, &[]);
    assert_eq!(r.code, 0, "create failed:\n{}", r.stderr);
    let c = r.json();
    assert_eq!(c["status"], "active", "{c}");
    let port = c["relay_udp_port"].as_u64().unwrap();
    assert_eq!(port, u64::from(env.base_port));
    assert_eq!(c["setup_url"], format!("https://{sub}.msp.example"));

    let show = env.home.run(&["customer", "show", &sub, "--json"]).json();
    let containers = show["containers"].as_array().unwrap();
    assert_eq!(containers.len(), 2);
    assert!(containers.iter().all(|x| x["state"] == "running"), "{show}");
    assert_eq!(containers[0]["name"], env.home.container(&sub, "server"));

    // Healthy, with a real STUN Binding Success on the public port.
    let h = env.home.run(&["customer", "health", &sub, "--json"]);
    assert_eq!(h.code, 0, "{}", h.stdout);
    let h = h.json();
    assert_eq!(h["healthy"], true);
    assert_eq!(h["stun"]["ok"], true, "{h}");
    assert_eq!(h["stun"]["target"], format!("127.0.0.1:{port}"));

    // Logs stream from both containers, prefixed with their service.
    std::thread::sleep(std::time::Duration::from_millis(1200));
    let logs = env.home.run(&["customer", "logs", &sub]);
    assert_eq!(logs.code, 0, "{}", logs.stderr);
    assert!(logs.stdout.lines().any(|l| l.starts_with("server    | ") && l.contains("heartbeat")), "{}", logs.stdout);
    assert!(logs.stdout.lines().any(|l| l.starts_with("dashboard | ") && l.contains("heartbeat")), "{}", logs.stdout);
    // --tail N is the last N lines of the merged log, not N per service.
    let all = logs.stdout.lines().count();
    assert!(all > 3, "{}", logs.stdout);
    let tail = env.home.run(&["customer", "logs", &sub, "--tail", "3"]);
    assert_eq!(tail.stdout.lines().count(), 3, "{}", tail.stdout);

    // docker-compose sees the stack as its own project.
    let dir = env.data_dir().join(&sub);
    let ps = Command::new("docker-compose")
        .args(["-p", &format!("nbmsp-{}{sub}", env.home.name_prefix()), "ps", "-q"])
        .current_dir(&dir)
        .output();
    if let Ok(ps) = ps {
        assert_eq!(
            String::from_utf8_lossy(&ps.stdout).lines().count(),
            2,
            "docker-compose ps: {}",
            String::from_utf8_lossy(&ps.stderr)
        );
    }

    for (cmd, status) in [("stop", "stopped"), ("start", "running"), ("restart", "running")] {
        let r = env.home.run(&["customer", cmd, &sub]);
        assert_eq!(r.code, 0, "{cmd}: {}", r.stderr);
        assert_eq!(
            env.home.run(&["customer", "show", &sub, "--json"]).json()["deployment_status"],
            status,
            "after {cmd}"
        );
    }

    // Redeploy keeps the secrets and the data: the stand-in refuses to start with a changed
    // store key, and its boot counter lives in the data dir.
    let config = std::fs::read_to_string(dir.join("config.yaml")).unwrap();
    let boots = || std::fs::read_to_string(dir.join("data/server/boots")).unwrap().trim().parse::<u32>().unwrap();
    let boots_before = boots();
    assert_eq!(env.home.run(&["settings", "set", "health_timeout_s", "31"]).code, 0);
    let r = env.home.run(&["customer", "redeploy", &sub, "--json"]);
    assert_eq!(r.code, 0, "redeploy: {}", r.stderr);
    assert_eq!(std::fs::read_to_string(dir.join("config.yaml")).unwrap(), config, "same secrets, same file");
    assert_eq!(r.json()["changes"], serde_json::json!([["server", "kept"], ["dashboard", "kept"]]), "nothing changed");
    assert_eq!(boots(), boots_before, "kept containers were not restarted");
    // A real change (the image) recreates, and the data survives.
    assert_eq!(env.home.run(&["settings", "set", "images.dashboard", "nbmsp-standin/dashboard"]).code, 0);
    let r = env.home.run(&["customer", "redeploy", &sub, "--json"]);
    assert_eq!(r.code, 0, "redeploy: {}", r.stderr);
    assert_eq!(r.json()["changes"], serde_json::json!([["server", "kept"], ["dashboard", "recreated"]]));

    let stats = env.home.run(&["customer", "stats", &sub, "--json"]);
    assert_eq!(stats.code, 0, "{}", stats.stderr);
    assert_eq!(stats.json().as_array().unwrap().len(), 2);

    let r = env.home.run(&["customer", "delete", &sub, "--yes", "--purge-data"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(env.containers().is_empty(), "no container left: {:?}", env.containers());
    assert!(env.network_members().is_empty(), "no network membership left");
    assert!(!dir.exists(), "no instance dir left");
    // The port is free again: the next customer gets it.
    let next = create(&env, &env.subdomain("next"), &["--no-deploy"]);
    assert_eq!(next.code, 0);
    let r = env.home.run(&["customer", "deploy", next.json()["subdomain"].as_str().unwrap(), "--json"]);
    assert_eq!(r.json()["udp_port"].as_u64(), Some(port), "{}", r.stderr);
}

#[test]
fn legacy_stack_is_healthy_and_answers_stun() {
    let Some(env) = DockerEnv::new("legacy_stack_is_healthy_and_answers_stun") else { return };
    let sub = env.subdomain("leg");
    let r = create(&env, &sub, &["--layout", "legacy"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let h = env.home.run(&["customer", "health", &sub, "--json"]).json();
    assert_eq!(h["healthy"], true, "{h}");
    let services: Vec<&str> =
        h["containers"].as_array().unwrap().iter().map(|c| c["service"].as_str().unwrap()).collect();
    assert_eq!(services, ["management", "signal", "relay", "dashboard"]);
    assert_eq!(h["stun"]["ok"], true);
    // Legacy management with the embedded IdP is bootstrapped like the combined server.
    let r = env.home.run(&["customer", "credentials", &sub, "--yes", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.json()["pat"].as_str().is_some_and(|p| p.starts_with("nbp_")), "{}", r.stdout);
    let compose = std::fs::read_to_string(env.data_dir().join(&sub).join("docker-compose.yml")).unwrap();
    assert!(!compose.contains("--dns-domain"), "peers resolve under upstream's default netbird.selfhosted");
    // A restart waits until NetBird answers again (seconds after its containers start).
    let r = env.home.run(&["customer", "restart", &sub, "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(env.home.run(&["customer", "health", &sub]).code, 0, "ready right after the restart");
    let r = env.home.run(&["customer", "delete", &sub, "--yes"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(env.containers().is_empty());
    assert!(r.stdout.contains("nbmsp customer restore"), "a backup is kept unless purged: {}", r.stdout);
}

/// A server whose first start fails (a STUN port another socket held for a moment, as Docker's
/// embedded DNS can) is brought back by Docker's restart policy, and the deploy waits for it;
/// one that fails start after start is a crash loop and fails the deploy with its last words.
#[test]
fn one_failed_start_is_waited_out_and_a_crash_loop_fails_the_deploy() {
    let Some(env) = DockerEnv::new("one_failed_start_is_waited_out") else { return };
    crate::netbird_admin::with_server_env(&env, "STANDIN_FAIL_BOOTS", "1");
    let sub = env.subdomain("boot");
    let r = create(&env, &sub, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let boots = std::fs::read_to_string(env.data_dir().join(&sub).join("data/server/boots")).unwrap();
    assert_eq!(boots.trim(), "2", "started twice: the failed start and the one that came up");
    assert_eq!(env.home.run(&["customer", "delete", &sub, "--yes", "--purge-data"]).code, 0);

    crate::netbird_admin::with_server_env(&env, "STANDIN_FAIL_BOOTS", "100");
    let sub = env.subdomain("loop");
    let r = create(&env, &sub, &[]);
    let said = format!("{}{}", r.stdout, r.stderr);
    assert_ne!(r.code, 0, "{said}");
    assert!(said.contains("was restarted"), "{said}");
    assert!(said.contains("address already in use"), "its last words: {said}");
    assert!(env.containers().is_empty(), "rolled back: {:?}", env.containers());
}

#[test]
fn failing_image_rolls_back_everything() {
    let Some(env) = DockerEnv::new("failing_image_rolls_back_everything") else { return };
    // The relay stand-in exits at once without its environment: a server that dies on start.
    assert_eq!(env.home.run(&["settings", "set", "images.server", "nbmsp-standin/relay:latest"]).code, 0);
    let sub = env.subdomain("bad");
    let r = create(&env, &sub, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("-server exited"), "{}", r.stderr);
    assert!(r.stderr.contains("exposed address is required"), "the container's own error is shown: {}", r.stderr);
    let c = env.home.run(&["customer", "show", &sub, "--json"]).json();
    assert_eq!(c["status"], "error");
    assert!(c["status_reason"].as_str().unwrap().contains("wait until ready"), "{c}");
    assert_eq!(c["relay_udp_port"], serde_json::Value::Null, "port freed");
    assert!(env.containers().is_empty(), "no containers left: {:?}", env.containers());
    assert!(!env.data_dir().join(&sub).exists(), "no files left");
}

#[test]
fn host_bound_port_is_skipped_and_concurrent_creates_get_different_ports() {
    let Some(env) = DockerEnv::new("host_bound_port_is_skipped_and_concurrent_creates") else { return };
    let _held = UdpSocket::bind(("0.0.0.0", env.base_port)).expect("hold the first port");
    let (a, b) = (env.subdomain("pa"), env.subdomain("pb"));
    let spawn = |sub: &str| {
        let email = format!("it@{sub}.example");
        let mut c = env.home.command();
        c.args(["customer", "create", "--name", "P", "--subdomain", sub, "--email", &email, "--json"])
            .env("NBMSP_PASSWORD", common::ADMIN_PASSWORD)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        c.spawn().expect("spawn")
    };
    let (ca, cb) = (spawn(&a), spawn(&b));
    let (ra, rb): (common::Run, common::Run) =
        (ca.wait_with_output().unwrap().into(), cb.wait_with_output().unwrap().into());
    assert_eq!(ra.code, 0, "{}", ra.stderr);
    assert_eq!(rb.code, 0, "{}", rb.stderr);
    let (pa, pb) = (ra.json()["relay_udp_port"].as_u64().unwrap(), rb.json()["relay_udp_port"].as_u64().unwrap());
    assert_ne!(pa, pb, "two concurrent creates never share a port");
    let base = u64::from(env.base_port);
    assert!(pa != base && pb != base, "the port held by another program is skipped");
}

#[test]
fn hostile_names_deploy_and_docker_compose_reads_the_files() {
    let Some(env) = DockerEnv::new("hostile_names_deploy_and_docker_compose_reads") else { return };
    let sub = env.subdomain("hos");
    let name = "ACME \"quoted\" #hash {{ x }} ${HOME} ${X:?boom} $$ &a *a !!tag: 'q' 🚀 line\u{2028}sep";
    let email = format!("it@{sub}.example");
    let r = env.home.run(&["customer", "create", "--name", name, "--subdomain", &sub, "--email", &email, "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let label = Command::new("docker")
        .args([
            "inspect",
            "--format",
            "{{ index .Config.Labels \"nbmsp.customer.name\" }}",
            &env.home.container(&sub, "server"),
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&label.stdout).trim_end(), name, "the name reached Docker unchanged");
    // docker-compose v1 (the tool operators use on these files) must read the same values: its
    // `config` prints the file after interpolation, which must leave every `$` of the name alone.
    let dir = env.data_dir().join(&sub);
    let out =
        Command::new("docker-compose").arg("config").current_dir(&dir).output().expect("docker-compose is installed");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // `config` writes its output escaped again (`$$`), so that the output is a valid file too.
    let check = "import sys, yaml; d = yaml.safe_load(sys.stdin); \
                 sys.stdout.write(d['services']['server']['labels']['nbmsp.customer.name'].replace('$$', '$'))";
    let mut py = Command::new("/usr/bin/python3")
        .args(["-c", check])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 with PyYAML (docker-compose's own YAML reader)");
    std::io::Write::write_all(py.stdin.as_mut().unwrap(), &out.stdout).unwrap();
    let seen = py.wait_with_output().unwrap();
    assert!(seen.status.success(), "{}", String::from_utf8_lossy(&seen.stderr));
    assert_eq!(String::from_utf8_lossy(&seen.stdout), name, "docker-compose config reads the name byte for byte");
}

#[test]
fn a_missing_image_names_the_image_and_the_registry_answer() {
    let Some(env) = DockerEnv::new("a_missing_image_names_the_image") else { return };
    assert_eq!(env.home.run(&["settings", "set", "images.dashboard", "nbmsp-standin/absent:1"]).code, 0);
    let sub = env.subdomain("pull");
    let r = create(&env, &sub, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let msg = r.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(msg.contains("cannot pull image nbmsp-standin/absent:1: "), "{msg}");
    assert!(
        msg.len() > "cannot pull image nbmsp-standin/absent:1: ".len() + 10,
        "the registry's answer follows: {msg}"
    );
    assert!(env.containers().is_empty());
    assert_eq!(env.home.run(&["customer", "show", &sub, "--json"]).json()["status"], "error");
}

#[test]
fn a_failed_redeploy_restores_the_previous_stack_and_keeps_data() {
    let Some(env) = DockerEnv::new("a_failed_redeploy_restores_the_previous") else { return };
    let sub = env.subdomain("rest");
    assert_eq!(create(&env, &sub, &[]).code, 0);
    let dir = env.data_dir().join(&sub);
    let config = std::fs::read_to_string(dir.join("config.yaml")).unwrap();
    // A new server image that dies at once.
    assert_eq!(env.home.run(&["settings", "set", "images.server", "nbmsp-standin/relay:latest"]).code, 0);
    let r = env.home.run(&["customer", "redeploy", &sub]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("the previous version was restored"), "{}", r.stderr);
    let c = env.home.run(&["customer", "show", &sub, "--json"]).json();
    assert_eq!(c["status"], "active", "{c}");
    assert!(c["status_reason"].as_str().unwrap().contains("redeploy failed"));
    let server = c["containers"].as_array().unwrap().iter().find(|x| x["service"] == "server").unwrap().clone();
    assert_eq!(server["image"], "nbmsp-standin/netbird-server:latest", "the previous image runs again");
    assert_eq!(std::fs::read_to_string(dir.join("config.yaml")).unwrap(), config, "previous files back");
    assert!(dir.join("data/server/store-key.fingerprint").exists(), "data untouched");
    let h = env.home.run(&["customer", "health", &sub, "--json"]);
    assert_eq!(h.code, 0, "{}", h.stdout);
}

#[test]
fn logs_follow_streams_every_service() {
    let Some(env) = DockerEnv::new("logs_follow_streams_every_service") else { return };
    let sub = env.subdomain("logf");
    assert_eq!(create(&env, &sub, &[]).code, 0);
    let mut child = env
        .home
        .command()
        .args(["customer", "logs", &sub, "--follow", "--tail", "0"])
        .env("NBMSP_PASSWORD", common::ADMIN_PASSWORD)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn logs --follow");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = std::collections::BTreeSet::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while seen.len() < 2 && std::time::Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(std::time::Duration::from_secs(1))
            && line.contains("heartbeat")
        {
            seen.insert(line.split(" | ").next().unwrap_or("").trim().to_string());
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        ["dashboard", "server"],
        "new lines from both containers arrive live"
    );
}

#[test]
fn combined_deploy_creates_the_netbird_owner_once_and_counts_devices() {
    let Some(env) = DockerEnv::new("combined_deploy_creates_the_netbird_owner") else { return };
    // A template override (as an operator would write one) makes the stand-in report 3 peers, 2 online.
    let embedded =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/combined/docker-compose.yml")).unwrap();
    let overridden = embedded.replace(
        "      NB_SETUP_PAT_ENABLED: \"true\"\n",
        "      NB_SETUP_PAT_ENABLED: \"true\"\n      STANDIN_PEERS: \"3,2\"\n",
    );
    assert_ne!(overridden, embedded);
    std::fs::create_dir_all(env.home.path().join("templates/combined")).unwrap();
    std::fs::write(env.home.path().join("templates/combined/docker-compose.yml"), overridden).unwrap();

    let sub = env.subdomain("own");
    let r = create(&env, &sub, &["--max-devices", "2"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let owner = r.json()["owner"].clone();
    assert_eq!(owner["email"], format!("it@{sub}.example"));
    assert_eq!(owner["password"].as_str().unwrap().len(), 24);
    assert!(owner["pat"].as_str().unwrap().starts_with("nbp_"), "{owner}");

    let r = env.home.run(&["customer", "credentials", &sub]);
    assert_eq!(r.code, 2, "secrets need a confirmation");
    let creds = env.home.run(&["customer", "credentials", &sub, "--yes", "--json"]).json();
    assert_eq!(creds, owner, "the stored credentials are the ones shown at deploy");

    let d = env.home.run(&["customer", "devices", &sub, "--json"]);
    assert_eq!(d.code, 0, "{}", d.stderr);
    let d = d.json();
    assert_eq!((d["total"].as_u64(), d["connected"].as_u64()), (Some(3), Some(2)));
    assert_eq!(d["over_limit"], true, "3 devices against a limit of 2");
    assert_eq!(env.home.run(&["customer", "show", &sub, "--json"]).json()["devices_total"], 3);

    // A redeploy finds the owner in place and creates nothing new.
    let r = env.home.run(&["customer", "redeploy", &sub, "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.json().get("owner").is_none());
    assert_eq!(env.home.run(&["customer", "credentials", &sub, "--yes", "--json"]).json(), owner);
}

#[test]
fn a_second_operation_on_a_busy_customer_is_refused_across_processes() {
    let Some(env) = DockerEnv::new("a_second_operation_on_a_busy_customer") else { return };
    let sub = env.subdomain("lock");
    let r = create(&env, &sub, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let id = r.json()["id"].as_i64().unwrap();
    // This test process plays another nbmsp in the middle of a deploy.
    let store = nbmsp::store::Store::open(&env.home.path().join("nbmsp.db"), false).unwrap();
    let now = || time::OffsetDateTime::now_utc().unix_timestamp();
    let token = store.acquire_lock(id, "deploy", "tester", std::process::id(), now()).unwrap();
    let r = env.home.run(&["customer", "restart", &sub]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("busy: deploy by tester since "), "{}", r.stderr);
    // A script tells busy from broken by the kind, alone and in a bulk run.
    let r = env.home.run(&["customer", "restart", &sub, "--json"]);
    assert_eq!(r.json()["error"]["kind"], "conflict", "{}", r.stdout);
    let r = env.home.run(&["customer", "restart", "--all", "--json"]);
    assert_eq!(r.json()["results"][0]["result"]["kind"], "conflict", "{}", r.stdout);
    store.release_lock(id, &token).unwrap();
    assert_eq!(env.home.run(&["customer", "restart", &sub]).code, 0, "free again");
    // A lock left by a process that died is taken over.
    store.acquire_lock(id, "deploy", "crashed", u32::MAX - 3, now()).unwrap();
    let r = env.home.run(&["customer", "stop", &sub]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(store.lock_holder(id).unwrap().is_none(), "released after the operation");
}

#[test]
fn a_full_disk_during_a_redeploy_fails_cleanly_and_keeps_the_running_stack() {
    let Some(env) = DockerEnv::new("a_full_disk_during_a_redeploy") else { return };
    let sub = env.subdomain("full");
    assert_eq!(create(&env, &sub, &[]).code, 0);
    let dir = env.data_dir().join(&sub);
    let before = std::fs::read_to_string(dir.join("docker-compose.yml")).unwrap();
    // A change to apply, and a disk that is full for the compose file's temp copy.
    assert_eq!(env.home.run(&["settings", "set", "health_timeout_s", "33"]).code, 0);
    assert_eq!(env.home.run(&["settings", "set", "images.dashboard", "nbmsp-standin/dashboard"]).code, 0);
    // The redeploy first keeps a copy of the current files (one page each on a tmpfs): the
    // disk fills up with that copy, so writing the new files fails.
    let pages: u64 = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| e.metadata().unwrap().len().div_ceil(4096).max(1))
        .sum();
    let Some(full) = common::FullDisk::leaving(&dir, "a_full_disk_during_a_redeploy", pages) else { return };
    let r = env.home.run(&["customer", "redeploy", &sub]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("No space left on device"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(dir.join("docker-compose.yml")).unwrap(), before, "previous file intact");
    let c = env.home.run(&["customer", "show", &sub, "--json"]).json();
    assert_eq!(c["status"], "active", "{c}");
    assert!(c["containers"].as_array().unwrap().iter().all(|x| x["state"] == "running"));
    assert!(c["status_reason"].as_str().unwrap().contains("previous version was restored"), "{c}");
    // Space again: the redeploy goes through.
    drop(full);
    assert_eq!(env.home.run(&["customer", "redeploy", &sub]).code, 0);
}

#[test]
fn a_foreign_container_with_a_customers_name_is_never_removed() {
    let Some(env) = DockerEnv::new("a_foreign_container_with_a_customers_name") else { return };
    let sub = env.subdomain("for");
    let name = env.home.container(&sub, "server");
    let out = Command::new("docker")
        .args(["create", "--name", &name, "--label", "owner=someone-else", "nbmsp-standin/dashboard:latest"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let r = create(&env, &sub, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("nbmsp did not create for this customer"), "{}", r.stderr);
    let still = Command::new("docker")
        .args(["inspect", "--format", "{{ index .Config.Labels \"owner\" }}", &name])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&still.stdout).trim(), "someone-else", "left alone");
    let _ = Command::new("docker").args(["rm", "-f", &name]).output();
    // Gone: the customer deploys.
    assert_eq!(env.home.run(&["customer", "deploy", &sub]).code, 0);
}
