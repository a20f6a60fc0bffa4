//! What a shell user expects of a command, and what reaches their terminal: a closed pipe ends
//! the command quietly, bad arguments are usage errors, secret files are bounded, and text from
//! outside (a request path in a container's log, a stored reason) never drives the terminal.

use crate::common;

use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::process::Stdio;

use crate::common::Home;
use crate::common::docker::DockerEnv;

/// True when `bytes` holds a control character a terminal would act on (ESC, BEL, C1 CSI...);
/// newlines and tabs are layout.
fn has_terminal_controls(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    text.chars().any(|c| c.is_control() && c != '\n' && c != '\t')
}

#[test]
fn a_reader_that_goes_away_ends_the_command_quietly() {
    let h = Home::initialised();
    // More output than a pipe buffers, so the writer meets the closed pipe for sure.
    let entries: Vec<serde_json::Value> = (0..1500)
        .map(|i| serde_json::json!({ "name": format!("Customer {i}"), "subdomain": format!("c{i}"), "email": format!("it@c{i}.example") }))
        .collect();
    let file = h.file("many.json", &serde_json::to_string(&entries).unwrap());
    let r = h.run(&["customer", "import", "--no-deploy", "--file", file.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for args in [&["customer", "list"][..], &["customer", "list", "--json"][..]] {
        let mut c = h.command();
        c.args(args).env("NBMSP_PASSWORD", common::ADMIN_PASSWORD).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        let mut first = [0u8; 64];
        child.stdout.as_mut().unwrap().read_exact(&mut first).unwrap();
        drop(child.stdout.take()); // like `| head -c 64`
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(141), "{args:?}: as a SIGPIPE death, like coreutils");
        assert!(out.stderr.is_empty(), "{args:?}: quiet: {}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn bad_arguments_and_unbounded_secret_files_are_usage_errors() {
    let h = Home::initialised();
    let mut c = h.command();
    c.args(["customer", "show"]).arg(std::ffi::OsStr::from_bytes(b"caf\xe9"));
    let out = c.env("NBMSP_PASSWORD", common::ADMIN_PASSWORD).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("UTF-8"));
    let r = h.run_with(&["customer", "list", "--password-file", "/dev/zero"], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("not a password file"), "{}", r.stderr);
    let r = h.run_with(&["customer", "list"], &[("NBMSP_PASSWORD", "")]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("the password is empty"), "{}", r.stderr);
}

#[test]
fn escapes_sent_by_anyone_on_the_internet_never_reach_the_operators_terminal() {
    let Some(env) = DockerEnv::new("escapes_sent_by_anyone") else { return };
    let sub = env.subdomain("esc");
    let email = format!("it@{sub}.example");
    let r = env.home.run(&["customer", "create", "--name", "E", "--subdomain", &sub, "--email", &email]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // A request to the customer's dashboard whose path sets the clipboard (OSC 52) and rings.
    let ip = std::process::Command::new("docker")
        .args(["inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}"])
        .arg(env.home.container(&sub, "dashboard"))
        .output()
        .unwrap();
    let ip = String::from_utf8_lossy(&ip.stdout).trim().to_string();
    let hostile = "/\u{1b}]52;c;cm0gLXJmIH4K\u{7}\u{1b}[2J\u{9b}31m";
    let answered = common::http::request(&format!("{ip}:80"), "GET", hostile, &[], None);
    assert!(answered.is_ok(), "the dashboard answered: {answered:?}");
    let r = env.home.run(&["customer", "logs", &sub, "--service", "dashboard"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("\\x1b]52;c;cm0gLXJmIH4K\\x07"), "shown, readable: {}", r.stdout);
    assert!(!has_terminal_controls(r.stdout.as_bytes()), "{:?}", r.stdout);
    let r = env.home.run(&["customer", "logs", &sub, "--json"]);
    assert!(!has_terminal_controls(r.stdout.as_bytes()), "JSON too: {:?}", r.stdout);

    // A reason stored raw (by an older nbmsp, or by hand) is shown escaped all the same.
    let conn = rusqlite::Connection::open(env.home.path().join("nbmsp.db")).unwrap();
    conn.execute("UPDATE customers SET status_reason = ?1 WHERE subdomain = ?2", rusqlite::params![hostile, sub])
        .unwrap();
    for args in [&["customer", "show", &sub][..], &["customer", "list"][..], &["customer", "show", &sub, "--json"][..]]
    {
        let r = env.home.run(args);
        assert!(!has_terminal_controls(r.stdout.as_bytes()), "{args:?}: {:?}", r.stdout);
        assert!(!has_terminal_controls(r.stderr.as_bytes()), "{args:?}: {:?}", r.stderr);
    }
}

/// The app's engine gives each piece of work its own database connection and thread: a write
/// waiting on a lock another process holds stalls only its own job. With one connection on one
/// runtime (before), the table below could not load until the write had given up.
#[tokio::test]
async fn a_write_waiting_on_another_process_lock_stalls_only_its_own_job() {
    use nbmsp::engine::worker::protocol::{Command, Event};
    let h = Home::initialised();
    let (tx, mut rx) = common::worker::logged_in(&h).await;
    common::worker::next(&mut rx, "the first table", |e| matches!(e, Event::Customers(_)).then_some(())).await;
    let conn = rusqlite::Connection::open(h.path().join("nbmsp.db")).unwrap();
    conn.execute_batch("BEGIN IMMEDIATE; UPDATE settings SET value = value WHERE key = 'base_domain';").unwrap();
    tx.send(Command::SetSetting { key: "refresh_interval_s".into(), value: "17".into(), expected: None }).unwrap();
    tx.send(Command::LoadCustomers).unwrap();
    let mut settings_answered = false;
    common::worker::next(&mut rx, "the table while the write waits", |e| match e {
        Event::Customers(_) => Some(()),
        Event::Settings { .. } | Event::SettingFailed { .. } => {
            settings_answered = true;
            None
        }
        _ => None,
    })
    .await;
    assert!(!settings_answered, "the write ended before the table loaded: it did not wait on the lock");
    conn.execute_batch("ROLLBACK").unwrap();
    let failed = common::worker::next(&mut rx, "the write after the lock went", |e| match e {
        Event::Settings { .. } => Some(None),
        Event::SettingFailed { message, .. } => Some(Some(message)),
        _ => None,
    })
    .await;
    assert_eq!(failed, None, "the write should go through once the lock is released");
    let stored: String =
        conn.query_row("SELECT value FROM settings WHERE key = 'refresh_interval_s'", [], |r| r.get(0)).unwrap();
    assert_eq!(stored, "17");
}
