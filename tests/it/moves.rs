//! Moving a customer between Docker hosts (`customer move`), and what reconcile does with a move
//! a crash interrupted before or after the switch. The second host is tests/it/common/remote.rs.

use crate::common;

use crate::common::docker::DockerEnv;
use crate::common::remote::{deployed_on, host_of, json, two_hosts};

/// `customer move`: the stack leaves this machine for b with its owner, access token and
/// NetBird data (a setup key made before is still there, read with the same token), and comes
/// back the same way. Ports are per host: b's own customer holds the same UDP port, so the
/// moved one gets another there (and STUN answers on it), and keeps that one on the way back.
#[test]
fn a_customer_moves_to_another_host_with_its_owner_token_and_data() {
    let Some((env, remote)) = two_hosts("a_customer_moves_to_another_host", "a_customer_moves") else { return };
    let sub = deployed_on(&env, "mov", "local");
    let r = env.home.run(&["customer", "keys", &sub, "create", "before-move", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let before = json(&env.home.run(&["customer", "show", &sub, "--json"]));
    let theirs = deployed_on(&env, "blk", "b");
    let port = |s: &str| json(&env.home.run(&["customer", "show", s, "--json"]))["relay_udp_port"].as_u64().unwrap();
    assert_eq!(port(&theirs), port(&sub), "two hosts, one port each");
    let key_names = |env: &DockerEnv| -> Vec<String> {
        let keys = json(&env.home.run(&["customer", "keys", &sub, "--json"]));
        keys["data"].as_array().unwrap().iter().map(|k| k["name"].as_str().unwrap().to_string()).collect()
    };

    // A DNS hook that records what it was told, and its whole environment.
    let told = env.home.path().join("dns-told");
    let hook_env = env.home.path().join("dns-env");
    let hook = env.home.file(
        "dns-hook",
        &format!(
            "#!/bin/sh\necho \"$NBMSP_DOMAIN $NBMSP_PUBLIC_IP $NBMSP_SUBDOMAIN\" > {}\nenv > {}\necho record updated\n",
            told.display(),
            hook_env.display()
        ),
    );
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    assert_eq!(env.home.run(&["settings", "set", "hooks.dns", hook.to_str().unwrap()]).code, 0);

    let moved = json(&env.home.run(&["customer", "move", &sub, "--to", "b", "--json"]));
    assert_eq!(moved["dns_hook"]["Ok"], "record updated", "{moved}");
    let seen = std::fs::read_to_string(&hook_env).unwrap();
    assert!(
        seen.contains("NBMSP_DOMAIN=") && !seen.contains("NBMSP_PASSWORD"),
        "the hook saw the login password:\n{seen}"
    );
    let told = std::fs::read_to_string(&told).unwrap();
    assert_eq!(told.trim(), format!("{sub}.msp.example {} {sub}", remote.ip));
    assert_eq!((moved["from"].as_str(), moved["to"].as_str()), (Some("local"), Some("b")), "{moved}");
    assert_eq!(moved["public_ip"], remote.ip.as_str());
    assert!(env.containers().is_empty(), "the source is removed: {:?}", env.containers());
    assert!(remote.containers().contains(&env.home.container(&sub, "server")));
    assert!(!env.data_dir().join(&sub).exists(), "the source dir is removed");
    let after = json(&env.home.run(&["customer", "show", &sub, "--json"]));
    assert_eq!(after["host"], "b");
    assert_eq!(after["owner_user_id"], before["owner_user_id"]);
    assert_eq!(moved["port_changed_from"], before["relay_udp_port"], "{moved}");
    assert_ne!(after["relay_udp_port"], before["relay_udp_port"]);
    assert_eq!(after["relay_udp_port"], moved["udp_port"]);
    let published = remote.docker().args(["port", &env.home.container(&sub, "server")]).output().unwrap();
    let published = String::from_utf8_lossy(&published.stdout).to_string();
    assert!(published.contains(&format!("-> 0.0.0.0:{}", moved["udp_port"])), "{published}");
    assert!(key_names(&env).contains(&"before-move".to_string()), "NetBird's data came along");
    let h = json(&env.home.run(&["customer", "health", &sub, "--json"]));
    assert_eq!(h["healthy"], true, "{h}");

    let back = env.home.run(&["customer", "move", &sub, "--to", "local"]);
    assert_eq!(back.code, 0, "{}", back.stderr);
    assert!(back.stdout.contains("DNS: hooks.dns ran: record updated"), "{}", back.stdout);
    assert!(back.stdout.contains(&format!("(UDP {})", moved["udp_port"])), "free here: kept: {}", back.stdout);
    assert!(!remote.containers().contains(&env.home.container(&sub, "server")));
    assert!(!remote.data_dir.join(&sub).exists());
    assert!(key_names(&env).contains(&"before-move".to_string()));
    let audit = env.home.run(&["customer", "audit", &sub]);
    assert!(audit.stdout.contains("moved from host local to b"), "{}", audit.stdout);
}

/// A move killed (SIGKILL) while the target's stack is being applied is undone by reconcile:
/// the customer runs on its source again with its own UDP port (the target had given it
/// another: b's customer holds the same one), nothing of it is left on the target.
#[test]
fn a_move_killed_midway_is_undone_by_reconcile() {
    let Some((env, remote)) = two_hosts("a_move_killed_midway", "a_move_killed") else { return };
    let sub = deployed_on(&env, "kil", "local");
    let theirs = deployed_on(&env, "blk", "b");
    let port = |s: &str| json(&env.home.run(&["customer", "show", s, "--json"]))["relay_udp_port"].as_u64().unwrap();
    let before = port(&sub);
    assert_eq!(port(&theirs), before);
    let mut mover = env.home.command();
    mover
        .args(["customer", "move", &sub, "--to", "b"])
        .env("NBMSP_PASSWORD", common::ADMIN_PASSWORD)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = mover.spawn().unwrap();
    // Killed once the journal says the target's stack is being started (files copied there).
    let db = rusqlite::Connection::open(env.home.path().join("nbmsp.db")).unwrap();
    let start = std::time::Instant::now();
    loop {
        let step: Option<String> = db
            .query_row("SELECT step FROM journal WHERE operation = 'move' AND state = 'running'", [], |r| r.get(0))
            .ok();
        if step.as_deref() == Some("start on target") {
            break;
        }
        assert!(child.try_wait().unwrap().is_none(), "the move ended before it reached the target (step {step:?})");
        assert!(start.elapsed() < std::time::Duration::from_secs(60), "no 'start on target' step within 60 s");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(remote.data_dir.join(&sub).exists(), "killed after the copy");

    let r = env.home.run(&["reconcile", "--yes", "--json"]);
    let applied = json(&r)["applied"].to_string();
    assert!(applied.contains("move undone"), "{applied}");
    let show = json(&env.home.run(&["customer", "show", &sub, "--json"]));
    assert_eq!(show["host"], "local", "{show}");
    assert_eq!(show["relay_udp_port"], before, "the port its files publish");
    assert!(show["containers"].as_array().unwrap().iter().all(|c| c["state"] == "running"), "{show}");
    assert!(remote.containers().iter().all(|c| !c.contains(&sub)), "{:?}", remote.containers());
    assert!(!remote.data_dir.join(&sub).exists(), "the target's copy is removed");
    assert_eq!(json(&env.home.run(&["customer", "health", &sub, "--json"]))["healthy"], true);
}

/// A move killed after the switch — the customer runs on the target, the source's removal had
/// begun — is finished by reconcile: the source's leftovers go, the customer stays where it is.
/// The kill is made deterministic with an `ssh` on the mover's PATH that holds the source's
/// `rm -rf` until the test has killed the mover.
#[test]
fn a_move_killed_after_the_switch_is_finished_by_reconcile() {
    let Some((env, remote)) = two_hosts("a_move_killed_after_the_switch", "a_move_after_switch") else { return };
    let sub = deployed_on(&env, "fin", "b");
    let real_ssh =
        String::from_utf8(std::process::Command::new("sh").args(["-c", "command -v ssh"]).output().unwrap().stdout)
            .unwrap()
            .trim()
            .to_string();
    let bin = env.home.path().join("slow-ssh");
    std::fs::create_dir_all(&bin).unwrap();
    let held = env.home.path().join("rm-held");
    let wrapper = env.home.file(
        "slow-ssh/ssh",
        &format!(
            "#!/bin/sh\nfor a in \"$@\"; do last=\"$a\"; done\ncase \"$last\" in \"rm -rf -- \"*) echo $$ > {}; exec sleep 300;; esac\nexec {real_ssh} \"$@\"\n",
            held.display()
        ),
    );
    std::fs::set_permissions(&wrapper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let mut child = env
        .home
        .command()
        .args(["customer", "move", &sub, "--to", "local"])
        .env("NBMSP_PASSWORD", common::ADMIN_PASSWORD)
        .env("PATH", path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while !held.exists() || std::fs::read_to_string(&held).unwrap().trim().is_empty() {
        assert!(child.try_wait().unwrap().is_none(), "the move ended before removing the source");
        assert!(start.elapsed() < std::time::Duration::from_secs(120), "no removal of the source within 120 s");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let sleeper = std::fs::read_to_string(&held).unwrap().trim().to_string();
    let _ = std::process::Command::new("kill").arg(&sleeper).status();
    assert!(remote.data_dir.join(&sub).exists(), "killed before the source's dir went");
    assert!(env.containers().iter().any(|c| c.contains(&sub)), "the target runs");

    let r = env.home.run(&["reconcile", "--yes", "--json"]);
    let applied = json(&r)["applied"].to_string();
    assert!(applied.contains("move to host local finished"), "{applied}");
    assert!(!remote.data_dir.join(&sub).exists(), "the source's leftovers are gone");
    assert!(remote.containers().iter().all(|c| !c.contains(&sub)), "{:?}", remote.containers());
    assert_eq!(host_of(&env, &sub), "local");
    assert_eq!(json(&env.home.run(&["customer", "health", &sub, "--json"]))["healthy"], true);
    assert!(env.home.run(&["reconcile"]).stdout.starts_with("consistent"));
}

/// A move onto a tcp://+TLS host, where nbmsp has no SSH: the tree is unpacked there by a
/// busybox helper, the stack checked through `nc` helpers; owner and NetBird data come along.
#[test]
fn a_customer_moves_onto_a_tls_host() {
    let Some(env) = DockerEnv::new("a_customer_moves_onto_a_tls_host") else { return };
    let remote = common::remote::RemoteHost::start("a_customer_moves_tls");
    remote.load_images(&common::remote::IMAGES);
    let data_dir = remote.data_dir.to_str().unwrap().to_string();
    let cert = remote.tls.1.to_str().unwrap().to_string();
    let r = common::remote::add_tls_host(&env, &remote, "c", &cert, &["--data-dir", &data_dir]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let sub = deployed_on(&env, "mvt", "local");
    assert_eq!(env.home.run(&["customer", "keys", &sub, "create", "before-move", "--json"]).code, 0);
    let before = json(&env.home.run(&["customer", "show", &sub, "--json"]));

    let moved = json(&env.home.run(&["customer", "move", &sub, "--to", "c", "--json"]));
    assert_eq!(moved["to"], "c", "{moved}");
    assert!(env.containers().is_empty(), "{:?}", env.containers());
    assert!(remote.data_dir.join(&sub).join("docker-compose.yml").exists());
    let after = json(&env.home.run(&["customer", "show", &sub, "--json"]));
    assert_eq!((after["host"].as_str(), &after["owner_user_id"]), (Some("c"), &before["owner_user_id"]));
    let keys = json(&env.home.run(&["customer", "keys", &sub, "--json"])).to_string();
    assert!(keys.contains("before-move"), "NetBird's data came along: {keys}");
    assert_eq!(json(&env.home.run(&["customer", "health", &sub, "--json"]))["healthy"], true);
    assert_eq!(env.home.run(&["customer", "delete", &sub, "--yes"]).code, 0);
    assert!(remote.containers().is_empty(), "{:?}", remote.containers());
}

/// A customer with a reverse proxy moves with its proxy's token and certificates: the token
/// made on this machine is the one the proxy on b registers with (not revoked, no second one),
/// its services' names leave this machine's edge and are served by b's edge (whose address the
/// proxy on b trusts PROXY headers from).
#[test]
fn a_customer_with_a_reverse_proxy_moves_with_its_token_and_its_edge_routes() {
    let Some((env, remote)) = two_hosts("a_customer_with_a_reverse_proxy_moves", "a_rp_moves") else { return };
    remote.load_images(&["nbmsp-standin/reverse-proxy:latest", "nbmsp-standin/nginx:latest"]);
    let port = std::net::TcpListener::bind("0.0.0.0:0").unwrap().local_addr().unwrap().port();
    for (k, v) in [("edge.listen", format!("0.0.0.0:{port}")), ("images.edge", "nbmsp-standin/nginx:latest".into())] {
        assert_eq!(env.home.run(&["settings", "set", k, &v]).code, 0, "{k}");
    }
    let edge = format!("nbmsp-{}edge", env.home.name_prefix());
    let _edge = common::docker::OnDrop::container(&edge);
    let sub = env.subdomain("mrp");
    let email = format!("it@{sub}.example");
    let r = env.home.run(&[
        "customer",
        "create",
        "--name",
        "M",
        "--subdomain",
        &sub,
        "--email",
        &email,
        "--host",
        "local",
        "--reverse-proxy",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let token_in = |dir: &std::path::Path| {
        let text = std::fs::read_to_string(dir.join(&sub).join("proxy.env")).unwrap();
        text.lines().find_map(|l| l.strip_prefix("NB_PROXY_TOKEN=")).unwrap_or_default().to_string()
    };
    let token = token_in(&env.data_dir());
    assert!(token.starts_with("nbx_"), "{token}");
    let name = format!("wiki.{sub}.msp.example");
    assert!(
        crate::reverse_proxy::visit_at("127.0.0.1", port, &name)
            .starts_with(&format!("standin-proxy {sub}.msp.example: ")),
        "served here before the move"
    );

    let before = remote.logins();
    let moved = json(&env.home.run(&["customer", "move", &sub, "--to", "b", "--json"]));
    assert_eq!(moved["to"], "b", "{moved}");
    // Its Docker API connections (dozens, many at once) share SSH logins: 18 logins when each
    // was its own, which sshd's MaxStartups throttle dropped at random under load (the move
    // then failed with "the Docker engine stopped answering"); now the API's few, the file
    // transfers' and the tunnel's.
    let logins = remote.logins() - before;
    assert!(logins <= 10, "the move made {logins} SSH logins");
    assert!(!env.containers().contains(&env.home.container(&sub, "proxy")), "{:?}", env.containers());
    assert!(remote.containers().contains(&env.home.container(&sub, "proxy")), "{:?}", remote.containers());
    assert_eq!(token_in(&remote.data_dir), token, "the same token, carried along");
    let store = std::fs::read_to_string(remote.data_dir.join(&sub).join("data/server/standin-store.txt")).unwrap();
    let tokens: Vec<&str> = store.lines().filter(|l| l.starts_with("ptoken\t")).collect();
    assert_eq!(tokens.len(), 1, "no second token: {tokens:?}");
    assert!(tokens[0].contains("\"revoked\":false"), "{tokens:?}");

    // b's edge brings the name to the proxy there; this machine's edge routes nothing of it.
    let got = crate::reverse_proxy::visit_at(&remote.ip, port, &name);
    assert!(got.starts_with(&format!("standin-proxy {sub}.msp.example: {name} from ")), "{got}");
    let status = env.home.run(&["edge", "status", "--json"]).json();
    // Routes wanted, and routes in the configuration each edge last took.
    let routes = |host: &str| {
        let h = status.as_array().unwrap().iter().find(|h| h["host"] == host).unwrap_or_else(|| panic!("{status}"));
        (h["routes"].as_array().unwrap().len(), h["last"]["routes"].as_u64().unwrap())
    };
    assert_eq!((routes("local"), routes("b")), ((0, 0), (1, 1)), "{status}");
    let proxy_env = std::fs::read_to_string(remote.data_dir.join(&sub).join("proxy.env")).unwrap();
    let edge_ip = remote
        .docker()
        .args(["inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", &edge])
        .output()
        .unwrap();
    let edge_ip = String::from_utf8_lossy(&edge_ip.stdout).trim().to_string();
    assert!(!edge_ip.is_empty() && proxy_env.contains(&format!("NB_PROXY_TRUSTED_PROXIES={edge_ip}")), "{proxy_env}");
    assert_eq!(json(&env.home.run(&["customer", "health", &sub, "--json"]))["healthy"], true);
    assert_eq!(env.home.run(&["customer", "delete", &sub, "--yes"]).code, 0);
}
