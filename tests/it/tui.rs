//! The real binary in a real terminal (tmux): log in, find a customer with `/`, open it, switch
//! tabs, open help, quit with exit code 0.

use crate::common;

use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::tmux::{Tmux, exit_code, log_in, start, start_with, tmux_missing};
use crate::common::{ADMIN_PASSWORD, Home};

#[test]
fn log_in_find_a_customer_open_it_switch_tabs_get_help_and_quit() {
    if tmux_missing() {
        return;
    }
    let h = Home::initialised();
    for (name, sub) in [("ACME Logistics", "acme"), ("Bakery Berger", "bakery"), ("Zeta Systems", "zeta")] {
        let email = format!("it@{sub}.example");
        assert_eq!(
            h.run(&["customer", "create", "--no-deploy", "--name", name, "--subdomain", sub, "--email", &email]).code,
            0
        );
    }
    assert_eq!(h.run(&["settings", "set", "refresh_interval_s", "2"]).code, 0);
    // A rebinding from keys.toml: quit is Q instead of q (and the footer says so).
    std::fs::write(h.path().join("keys.toml"), "[dashboard]\nquit = \"Q\"\n").unwrap();
    let (t, exit_file) = start(&h, h.path(), "e2e", 100, 30);

    let login = t.wait_for("log in");
    assert!(login.contains("User      admin"), "{login}");
    t.keys(&["-l", "not-the-password"]);
    t.keys(&["Enter"]);
    t.wait_for("wrong username or password");
    t.keys(&["-l", ADMIN_PASSWORD]);
    t.keys(&["Enter"]);
    let dash = t.wait_for("Customers (3)");
    assert!(dash.contains("docker ✗ unreachable"), "Docker down is shown, the DB views work: {dash}");
    assert!(!dash.contains(ADMIN_PASSWORD), "the password is never drawn");
    // A customer created elsewhere (the CLI) appears at the next refresh.
    assert_eq!(
        h.run(&[
            "customer",
            "create",
            "--no-deploy",
            "--name",
            "Delta",
            "--subdomain",
            "delta",
            "--email",
            "d@d.example"
        ])
        .code,
        0
    );
    t.wait_for("Customers (4)");

    t.keys(&["/"]);
    t.keys(&["-l", "bak"]);
    let filtered = t.wait_for("/bak");
    assert!(filtered.contains("bakery") && !filtered.contains("zeta"), "{filtered}");
    t.keys(&["Enter"]);
    t.keys(&["Enter"]);
    let info = t.wait_for("it@bakery.example");
    assert!(info.contains("Bakery Berger · bakery.msp.example"), "{info}");
    t.keys(&["Tab"]);
    t.wait_for("Not deployed. Press D to deploy.");
    t.keys(&["4"]);
    t.wait_for("Health · last check never");
    t.keys(&["?"]);
    let help = t.wait_for(" Keys ");
    assert!(help.contains("check health") && help.contains("next tab"), "help comes from the detail keymap: {help}");
    t.keys(&["Escape"]);
    t.wait_gone(" Keys ");
    t.keys(&["Escape"]);
    t.wait_for("Customers (4)");

    // Settings: change an image on the NetBird tab; the CLI sees the new value.
    t.keys(&["C"]);
    t.wait_for("[3 NetBird]");
    t.keys(&["3"]);
    t.wait_for("images.server ");
    t.keys(&["Enter"]);
    t.wait_for("0.77.1▏");
    t.keys(&["BSpace", "BSpace", "BSpace", "BSpace", "BSpace", "BSpace"]);
    t.keys(&["-l", "0.77.0"]);
    t.keys(&["Enter"]);
    t.wait_for("netbirdio/netbird-server:0.77.0");
    t.keys(&["Escape"]);
    t.wait_for("Customers (4)");
    let shown = h.run(&["settings", "show", "--json"]).json();
    assert_eq!(shown["images.server"], "netbirdio/netbird-server:0.77.0");

    // A new customer through the form: saved, then its deploy fails clearly (no Docker here).
    t.keys(&["n"]);
    t.wait_for("New customer");
    t.keys(&["-l", "Gamma Corp"]);
    t.keys(&["Tab", "Tab"]);
    t.keys(&["-l", "gamma"]);
    t.wait_for("gamma.msp.example ✓");
    t.keys(&["Tab"]);
    t.keys(&["-l", "it@gamma.example"]);
    t.keys(&["Enter"]);
    let failed = t.wait_for("deploy failed");
    assert!(failed.contains("unreachable"), "{failed}");
    assert!(failed.contains("Error (any key closes)"), "a long error gets its panel: {failed}");
    // The first Escape closes the error panel and does nothing else; the second leaves.
    t.keys(&["Escape"]);
    let closed = t.wait_gone("any key closes");
    assert!(closed.contains("[2 Deployment]"), "closing the panel did nothing else: {closed}");
    t.keys(&["Escape"]);
    t.wait_for("Customers (5)");
    // The footer shows the rebound key (awaited, not read from the first capture: tmux can
    // capture a frame the app is still writing).
    t.wait_for(" Q quit");
    t.keys(&["q"]);
    std::thread::sleep(Duration::from_millis(300));
    assert!(!exit_file.exists(), "q no longer quits");
    t.keys(&["Q"]);
    assert_eq!(exit_code(&t, &exit_file), "0");
    let after = t.screen();
    assert!(!after.contains("Customers ("), "the terminal was restored (alternate screen left): {after}");
}

#[test]
fn the_first_run_offers_setup_then_login() {
    if tmux_missing() {
        return;
    }
    let h = Home::empty();
    let home = h.path().join("fresh");
    // Another installation's container on the engine: the wizard warns once, then goes ahead.
    let _foreign = common::docker::available("the_first_run_offers_setup").then(foreign_container);
    let docker = if _foreign.is_some() { "" } else { "DOCKER_HOST=tcp://127.0.0.1:1" };
    let (t, exit_file) = start_with(&h, &home, "setup", 110, 32, docker);
    t.wait_for("first-run setup");
    t.keys(&["-l", ADMIN_PASSWORD]);
    t.keys(&["Tab"]);
    t.keys(&["-l", ADMIN_PASSWORD]);
    t.keys(&["Tab"]);
    t.keys(&["-l", "msp.example"]);
    t.keys(&["Tab"]);
    t.keys(&["-l", "ops@msp.example"]);
    t.keys(&["Enter"]);
    if _foreign.is_some() {
        t.wait_for("another nbmsp installation");
        t.keys(&["Enter"]);
    }
    let login = t.wait_for("log in");
    assert!(login.contains("User      admin"), "{login}");
    t.keys(&["-l", ADMIN_PASSWORD]);
    t.keys(&["Enter"]);
    t.wait_for("No customers yet");
    t.keys(&["q"]);
    assert_eq!(exit_code(&t, &exit_file), "0");
    // The wizard wrote a real installation: the CLI can use it.
    let r = h.run_with(
        &["settings", "show", "--json"],
        &[("NBMSP_HOME", home.to_str().unwrap()), ("NBMSP_PASSWORD", ADMIN_PASSWORD)],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["base_domain"], "msp.example");
}

#[test]
fn live_status_from_the_monitor_and_a_bulk_restart_of_marked_customers() {
    if tmux_missing() {
        return;
    }
    let Some(env) = common::docker::DockerEnv::new("live_status_from_the_monitor_and_a_bulk_restart") else { return };
    let subs: Vec<String> = (0..2).map(|i| env.subdomain(&format!("tui{i}"))).collect();
    for s in &subs {
        let email = format!("it@{s}.example");
        assert_eq!(env.home.run(&["customer", "create", "--name", s, "--subdomain", s, "--email", &email]).code, 0);
    }
    let (t, exit_file) = start_with(&env.home, env.home.path(), "live", 120, 30, "");
    log_in(&t);
    let dash = t.wait_for("Customers (2)");
    assert_eq!(dash.matches("● active").count(), 2, "{dash}");
    // A container dies behind the app's back: Docker's event makes the monitor judge at once.
    let out =
        Command::new("docker").args(["stop", "-t", "1", &env.home.container(&subs[0], "server")]).output().unwrap();
    assert!(out.status.success());
    let dash = t.wait_for("✗ error");
    assert!(dash.contains("✗ 1"), "the error card counts it: {dash}");
    // Mark both, restart them in one go.
    t.keys(&["Space", "Space"]);
    t.wait_for("✓ 2 marked");
    t.keys(&["r"]);
    t.wait_for("Restart 2 marked customers?");
    t.keys(&["y"]);
    t.wait_for("restart of 2: 2 ok");
    let dash = t.wait_for("● 2");
    assert!(!dash.contains("✗ error"), "{dash}");
    t.keys(&["q"]);
    assert_eq!(exit_code(&t, &exit_file), "0");
}

#[test]
fn a_deploy_is_cancelled_from_its_progress_view_and_rolled_back() {
    if tmux_missing() {
        return;
    }
    let Some(env) = common::docker::DockerEnv::new("a_deploy_is_cancelled_from_its_progress_view") else { return };
    // A server that runs but never becomes ready (the signal stand-in answers 404 on /api): the deploy waits.
    assert_eq!(env.home.run(&["settings", "set", "images.server", "nbmsp-standin/signal:latest"]).code, 0);
    let sub = env.subdomain("cancel");
    let email = format!("it@{sub}.example");
    let r = env.home.run(&[
        "customer",
        "create",
        "--no-deploy",
        "--name",
        "Cancel Me",
        "--subdomain",
        &sub,
        "--email",
        &email,
    ]);
    assert_eq!(r.code, 0);
    let (t, exit_file) = start_with(&env.home, env.home.path(), "cancel", 120, 30, "");
    log_in(&t);
    t.wait_for("Customers (1)");
    t.keys(&["Enter"]);
    t.wait_for(&format!("{sub}.msp.example"));
    t.keys(&["D"]);
    let progress = t.wait_for("wait until ready");
    assert!(progress.contains("X cancel (rolls back)"), "{progress}");
    t.keys(&["X"]);
    t.wait_for("rolled back");
    let c = env.home.run(&["customer", "show", &sub, "--json"]).json();
    assert_eq!(c["status"], "inactive", "{c}");
    assert!(c["status_reason"].as_str().unwrap().contains("cancelled"), "{c}");
    assert_eq!(c["relay_udp_port"], serde_json::Value::Null, "port freed");
    assert!(env.containers().is_empty(), "no containers left: {:?}", env.containers());
    assert!(env.home.run(&["reconcile"]).stdout.starts_with("consistent"));
    // A long error shows in a panel whose closing key does nothing else: Escape closes it,
    // then Escape goes back (harmless on the table when the notice was short). One key at a
    // time: two ESC bytes in one read are one Alt+Esc to the terminal's parser.
    t.keys(&["Escape"]);
    t.wait_gone("any key closes");
    t.keys(&["Escape"]);
    t.wait_for("Customers (1)");
    t.keys(&["q"]);
    assert_eq!(exit_code(&t, &exit_file), "0");
}

#[test]
fn a_redeploy_is_cancelled_and_the_previous_version_comes_back() {
    if tmux_missing() {
        return;
    }
    let Some(env) = common::docker::DockerEnv::new("a_redeploy_is_cancelled_and_the_previous") else { return };
    let sub = env.subdomain("cancr");
    let email = format!("it@{sub}.example");
    assert_eq!(env.home.run(&["customer", "create", "--name", "R", "--subdomain", &sub, "--email", &email]).code, 0);
    // The new server image never gets healthy, so the redeploy waits.
    assert_eq!(env.home.run(&["settings", "set", "images.server", "nbmsp-standin/signal:latest"]).code, 0);
    let (t, exit_file) = start_with(&env.home, env.home.path(), "cancr", 120, 30, "");
    log_in(&t);
    t.wait_for("Customers (1)");
    t.keys(&["Enter"]);
    t.wait_for(&format!("{sub}.msp.example"));
    t.keys(&["U"]);
    t.wait_for("Redeploy");
    t.keys(&["y"]);
    t.wait_for("wait until ready");
    t.keys(&["X"]);
    t.wait_for("redeploy cancelled by admin");
    let c = env.home.run(&["customer", "show", &sub, "--json"]).json();
    assert_eq!(c["status"], "active", "{c}");
    let server = c["containers"].as_array().unwrap().iter().find(|x| x["service"] == "server").unwrap().clone();
    assert_eq!(server["image"], "nbmsp-standin/netbird-server:latest", "{c}");
    assert_eq!(server["state"], "running");
    assert!(env.home.run(&["reconcile"]).stdout.starts_with("consistent"));
    // A long error shows in a panel whose closing key does nothing else, a short one in the
    // status line: one or two Escapes, each after the last has been drawn.
    t.escape_until("Customers (1)", 2);
    t.keys(&["q"]);
    assert_eq!(exit_code(&t, &exit_file), "0");
}

/// A container labelled as another installation's, removed when dropped.
fn foreign_container() -> common::docker::OnDrop {
    common::docker::standin_images();
    let name = format!("netbird-tuiforeign{}-server", std::process::id());
    let out = Command::new("docker")
        .args(["create", "--name", &name, "--label", "nbmsp.installation=feedfacefeedface"])
        .args(["nbmsp-standin/dashboard:latest"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    common::docker::OnDrop::container(&name)
}

/// The pid of the nbmsp process in the session (the child of the pane's shell).
fn app_pid(t: &Tmux) -> String {
    let pane = Command::new("tmux").args(["display", "-p", "-t", &t.session, "#{pane_pid}"]).output().unwrap();
    let shell = String::from_utf8_lossy(&pane.stdout).trim().to_string();
    let child = Command::new("pgrep").args(["-P", &shell]).output().unwrap();
    let pid = String::from_utf8_lossy(&child.stdout).lines().next().unwrap_or_default().to_string();
    assert!(!pid.is_empty(), "no nbmsp under the pane's shell {shell}");
    pid
}

#[test]
fn sigterm_and_sighup_during_a_deploy_restore_the_terminal_and_let_it_finish() {
    if tmux_missing() {
        return;
    }
    let Some(env) = common::docker::DockerEnv::new("sigterm_and_sighup_during_a_deploy") else { return };
    let subs: Vec<String> = ["sigt", "sigh"].iter().map(|t| env.subdomain(t)).collect();
    for sub in &subs {
        let email = format!("it@{sub}.example");
        let r =
            env.home.run(&["customer", "create", "--no-deploy", "--name", sub, "--subdomain", sub, "--email", &email]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let deploy_then = |tag: &str, sub: &str, signal: &str| {
        let (t, exit_file) = start_with(&env.home, env.home.path(), tag, 120, 30, "");
        log_in(&t);
        t.wait_for("Customers (2)");
        t.keys(&["/"]);
        t.keys(&["-l", sub]);
        t.keys(&["Enter"]);
        t.keys(&["Enter"]);
        t.wait_for(&format!("{sub}.msp.example"));
        t.keys(&["D"]);
        t.wait_for("wait until ready");
        let killed = Command::new("kill").args([signal, &app_pid(&t)]).status().unwrap();
        assert!(killed.success());
        // The process stays until the deploy has ended, then exits on its own.
        let start = Instant::now();
        while !exit_file.exists() {
            assert!(start.elapsed() < Duration::from_secs(60), "nbmsp did not exit; screen:\n{}", t.screen());
            std::thread::sleep(Duration::from_millis(100));
        }
        let code = exit_code(&t, &exit_file);
        (t, code)
    };
    // Ended by a signal, it says so in its status as a shell would (128 + the signal).
    let (t, code) = deploy_then("sigterm", &subs[0], "-TERM");
    assert_eq!(code, "143", "SIGTERM");
    let screen = t.screen();
    assert!(screen.contains(&format!("waiting for {} (deploy)", subs[0])), "{screen}");
    assert!(screen.contains("deploy done"), "the ending was told: {screen}");
    assert!(!screen.contains("Customers ("), "the terminal was restored (alternate screen left): {screen}");
    drop(t);

    let (t, code) = deploy_then("sighup", &subs[1], "-HUP");
    assert_eq!(code, "129", "SIGHUP");
    drop(t);
    for sub in &subs {
        let c = env.home.run(&["customer", "show", sub, "--json"]).json();
        assert_eq!(c["status"], "active", "the deploy finished after the signal: {c}");
    }
    // The next start tells what finished after the screen was gone.
    let (t, exit_file) = start_with(&env.home, env.home.path(), "after", 160, 30, "");
    log_in(&t);
    let screen = t.wait_for("Customers (2)");
    assert!(screen.contains(&format!("after the last session closed: {}: deploy done", subs[1])), "{screen}");
    t.keys(&["q"]);
    assert_eq!(exit_code(&t, &exit_file), "0");
}

#[test]
fn keys_answer_at_once_while_another_process_holds_the_database_write_lock() {
    if tmux_missing() {
        return;
    }
    let h = Home::initialised();
    let entries: Vec<serde_json::Value> = (0..30)
        .map(|i| serde_json::json!({ "name": format!("Customer {i:02}"), "subdomain": format!("c{i:02}"), "email": format!("it@c{i}.example") }))
        .collect();
    let file = h.file("many.json", &serde_json::to_string(&entries).unwrap());
    assert_eq!(h.run(&["customer", "import", "--no-deploy", "--file", file.to_str().unwrap()]).code, 0);
    let (t, exit_file) = start(&h, h.path(), "locked", 120, 30);
    log_in(&t);
    t.wait_for("Customers (30)");
    // Another nbmsp (a restore, a long migration) holds the write lock: the app's engine waits
    // on it for up to 10 s per write, the screen must not.
    let conn = rusqlite::Connection::open(h.path().join("nbmsp.db")).unwrap();
    conn.execute_batch("BEGIN IMMEDIATE; UPDATE settings SET value = value WHERE key = 'base_domain';").unwrap();
    for key in ["j", "j", "k", "G", "g"] {
        let before = t.screen();
        let sent = Instant::now();
        t.keys(&[key]);
        while t.screen() == before {
            assert!(sent.elapsed() < Duration::from_millis(1500), "key {key} not drawn while the database is locked");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    conn.execute_batch("ROLLBACK").unwrap();
    t.keys(&["q"]);
    assert_eq!(exit_code(&t, &exit_file), "0");
}

/// Deleting a customer with a large data dir (its backup is packed, then the dir removed) runs
/// on a blocking thread: the app answers a key while that work is still going on.
#[test]
fn keys_answer_while_a_delete_packs_and_removes_a_large_data_dir() {
    if tmux_missing() {
        return;
    }
    let Some(env) = common::docker::DockerEnv::new("keys_answer_while_a_delete_packs") else { return };
    let sub = env.subdomain("big");
    let email = format!("it@{sub}.example");
    assert_eq!(env.home.run(&["customer", "create", "--name", "Big", "--subdomain", &sub, "--email", &email]).code, 0);
    // A NetBird store that grew large: 20,000 files of 4 KiB under the customer's data dir.
    let bulk = env.data_dir().join(&sub).join("data/server/bulk");
    for d in 0..100 {
        let dir = bulk.join(format!("{d:03}"));
        std::fs::create_dir_all(&dir).unwrap();
        for f in 0..200 {
            std::fs::write(dir.join(format!("{f:03}")), [d as u8; 4096]).unwrap();
        }
    }
    let (t, exit_file) = start_with(&env.home, env.home.path(), "bigdel", 120, 30, "");
    log_in(&t);
    t.wait_for("Customers (1)");
    t.keys(&["d"]);
    t.wait_for("Type the subdomain to confirm");
    t.keys(&["-l", &sub]);
    t.keys(&["Enter"]);
    t.keys(&["?"]);
    t.wait_for("Keys");
    assert!(bulk.exists(), "the help was drawn while the delete was still at work on the data dir");
    t.keys(&["Escape"]);
    // Packing and removing 20,000 files takes what this machine's disk takes.
    t.wait_for_within("No customers yet", Duration::from_secs(90));
    // The row goes first; the operation ends when its work on the files is done.
    let start = Instant::now();
    while t.screen().contains("running") {
        assert!(start.elapsed() < Duration::from_secs(60), "the delete did not end:\n{}", t.screen());
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!bulk.exists(), "and the delete then finished");
    t.keys(&["q"]);
    assert_eq!(exit_code(&t, &exit_file), "0");
}

#[test]
fn the_help_scrolls_to_its_last_command_by_keys_at_80x24() {
    if tmux_missing() {
        return;
    }
    let h = Home::initialised();
    let (t, exit_file) = start(&h, h.path(), "help80", 80, 24);
    log_in(&t);
    t.wait_for("No customers yet");
    t.keys(&["?"]);
    let first = t.wait_for(" Keys ");
    assert!(!first.contains(":q  quit"), "the end is below the first page: {first}");
    t.keys(&["End"]);
    let end = t.wait_for(":q  quit");
    let total = end.split(" of ").nth(1).and_then(|s| s.split_whitespace().next()).expect("a line count in the title");
    assert!(end.contains(&format!("-{total} of {total}")), "the last line is shown: {end}");
    t.keys(&["Home"]);
    t.wait_gone(":q  quit");
    for _ in 0..8 {
        t.keys(&["PageDown"]);
    }
    t.wait_for(":q  quit");
    t.keys(&["Escape"]);
    t.wait_gone(" Keys ");
    t.keys(&["q"]);
    assert_eq!(exit_code(&t, &exit_file), "0");
}

/// `:baseline` hands the screen to the operator's editor and takes it back: the first text does
/// not parse and is refused with the reason, nothing saved; opened again, it comes back as it was
/// written with the reason on top; the second is saved (0600), audited with its text, and the
/// app answers keys afterwards (the input reader was stopped for the editor and started again).
#[test]
fn baseline_is_edited_in_the_operators_editor_and_a_refused_text_is_not_lost() {
    if tmux_missing() {
        return;
    }
    let h = Home::initialised();
    let dir = h.path().join("editor-runs");
    std::fs::create_dir_all(&dir).unwrap();
    let script = h.path().join("editor.sh");
    let body = format!(
        "#!/bin/sh\nn=$(cat '{d}/count' 2>/dev/null || echo 0); n=$((n+1)); echo $n > '{d}/count'\ncp \"$1\" '{d}/seen-'$n\nif [ $n = 1 ]; then printf 'dns = []\\n' > \"$1\"; else printf 'allow_default_policy = false\\ngroups = [\"staff\"]\\n' > \"$1\"; fi\n",
        d = dir.display()
    );
    std::fs::write(&script, body).unwrap();
    let env = format!("DOCKER_HOST=tcp://127.0.0.1:1 VISUAL='sh {}'", script.display());
    let (t, exit_file) = start_with(&h, h.path(), "baseline-edit", 100, 30, &env);
    log_in(&t);
    t.wait_for("No customers yet");
    t.keys(&["-l", ":baseline"]);
    t.keys(&["Enter"]);
    t.wait_for("baseline not saved");
    let first = std::fs::read_to_string(dir.join("seen-1")).unwrap();
    assert!(first.contains("The fleet's NetBird baseline") && first.contains("[[policies]]"), "the template: {first}");
    assert!(!h.path().join("baseline.toml").exists(), "a refused text writes nothing");
    // The error panel closes with any key, and that key does nothing else.
    t.keys(&["Escape"]);
    t.wait_gone("baseline not saved");

    t.keys(&["-l", ":baseline"]);
    t.keys(&["Enter"]);
    t.wait_for("baseline saved: All → All forbidden; 1 group");
    let second = std::fs::read_to_string(dir.join("seen-2")).unwrap();
    assert!(
        second.starts_with("# not saved: ") && second.contains("dns") && second.ends_with("dns = []\n"),
        "{second}"
    );
    let file = h.path().join("baseline.toml");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "allow_default_policy = false\ngroups = [\"staff\"]\n");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    assert!(!h.path().join("edit").join("baseline.toml").exists(), "the editor's copy is removed");
    let db = rusqlite::Connection::open(h.path().join("nbmsp.db")).unwrap();
    let (actor, message, details): (String, String, String) = db
        .query_row("SELECT actor, message, details FROM audit_log WHERE action = 'baseline-edit'", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!((actor.as_str(), details.contains("groups = [\"staff\"]")), ("admin", true), "{message}");

    // Keys still reach the app.
    t.keys(&["?"]);
    t.wait_for(" Keys ");
    t.keys(&["Escape"]);
    t.wait_gone(" Keys ");
    t.keys(&["q"]);
    assert_eq!(exit_code(&t, &exit_file), "0");
}
