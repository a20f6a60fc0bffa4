//! The MSP's month on the real Docker engine: three customers, one stopped by an operator
//! (maintenance), one whose server container stops behind nbmsp's back (downtime), one left
//! alone. The reports say exactly that, CSV and JSON agree, the invoice carries contract ids
//! and the stand-in's devices; the metrics endpoint follows a customer going down and passes a
//! real Prometheus `promtool check metrics`.

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common;
use crate::common::docker::DockerEnv;
use serde_json::Value;

/// A `nbmsp monitor` running in the background, stopped however the test ends.
pub(crate) struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn ok(r: common::Run) -> Value {
    assert_eq!(r.code, 0, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    r.json()
}

fn docker(args: &[&str]) {
    let out = Command::new("docker").args(args).output().expect("docker");
    assert!(out.status.success(), "docker {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// `customer create` of `sub` with `extra` options.
fn create(env: &DockerEnv, sub: &str, extra: &[&str]) {
    let email = format!("it@{sub}.example");
    let mut args = vec!["customer", "create", "--name", sub, "--subdomain", sub, "--email", &email, "--json"];
    args.extend_from_slice(extra);
    ok(env.home.run(&args));
}

/// Every customer deployed from here reports 4 devices, 2 of them connected.
fn with_peers(env: &DockerEnv) {
    let embedded =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/combined/docker-compose.yml")).unwrap();
    let overridden = embedded.replace(
        "      NB_SETUP_PAT_ENABLED: \"true\"\n",
        "      NB_SETUP_PAT_ENABLED: \"true\"\n      STANDIN_PEERS: \"4,2\"\n",
    );
    assert_ne!(overridden, embedded, "the template still sets NB_SETUP_PAT_ENABLED");
    std::fs::create_dir_all(env.home.path().join("templates/combined")).unwrap();
    std::fs::write(env.home.path().join("templates/combined/docker-compose.yml"), overridden).unwrap();
}

fn row<'a>(report: &'a Value, sub: &str) -> &'a Value {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["subdomain"] == sub)
        .unwrap_or_else(|| panic!("{sub} in {report}"))
}

/// Parses the CSV the report prints (no quoted commas in what these tests put there).
fn csv_rows(text: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines.map(|l| header.iter().map(|h| h.to_string()).zip(l.split(',').map(str::to_string)).collect()).collect()
}

/// One scrape; `None` until the listener answers. Polled with a pause so a waiting test does
/// not keep a core busy (the condition, not the pause, ends the wait).
pub(crate) fn scrape(addr: &str) -> Option<String> {
    match common::http::request(addr, "GET", "/metrics", &[], None) {
        Ok((200, body)) => Some(body),
        _ => {
            std::thread::sleep(Duration::from_millis(200));
            None
        }
    }
}

/// `nbmsp monitor --metrics` on a free loopback port of `env`'s home; stopped when dropped.
pub(crate) fn serve_metrics(env: &DockerEnv) -> (Daemon, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    let mut cmd = env.home.command();
    cmd.args(["monitor", "--metrics", &addr])
        .env("NBMSP_PASSWORD", common::ADMIN_PASSWORD)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    (Daemon(cmd.spawn().expect("nbmsp monitor")), addr)
}

/// Runs Prometheus' `promtool` with `args`, `input` on its stdin; fails the test with its words.
fn promtool(args: &[&str], input: &str) {
    let mut child = Command::new("promtool")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (Debian's prometheus package; .ci/run installs it)");
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool {args:?}: {}{}\n{input}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_month_of_three_customers_adds_up_to_what_happened_and_the_metrics_follow() {
    let Some(env) = DockerEnv::new("a_month_of_three_customers_adds_up_to_what_happened") else { return };
    with_peers(&env);
    let (kept, paused, broken) = (env.subdomain("kept"), env.subdomain("paused"), env.subdomain("broken"));
    for (sub, contract) in [(&kept, "C-KEPT"), (&paused, "C-PAUSED"), (&broken, "C-BROKEN")] {
        create(&env, sub, &["--contract-id", contract]);
    }
    ok(env.home.run(&["customer", "update", &kept, "--sla-target", "99.5", "--json"]));
    // Rounds until each has been seen up for a second on the clock the spans are kept in.
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        ok(env.home.run(&["monitor", "--once", "--json"]));
        let r = ok(env.home.run(&["report", "uptime", "--json"]));
        if [&kept, &paused, &broken].iter().all(|s| row(&r, s)["up_s"].as_i64() > Some(0)) {
            break;
        }
        assert!(Instant::now() < deadline, "never seen up: {r:#}");
    }
    // Device counts, through the door an operator uses: each lands in the day's figures.
    for sub in [&kept, &paused, &broken] {
        ok(env.home.run(&["customer", "devices", sub, "--json"]));
    }

    // An operator stops one (maintenance); another's server stops behind nbmsp's back (downtime).
    ok(env.home.run(&["customer", "stop", &paused, "--json"]));
    docker(&["stop", "-t", "1", &env.home.container(&broken, "server")]);
    // Rounds until both have lasted a second on the clock the spans are kept in.
    let deadline = Instant::now() + Duration::from_secs(90);
    let report = loop {
        ok(env.home.run(&["monitor", "--once", "--json"]));
        let r = ok(env.home.run(&["report", "uptime", "--json"]));
        if row(&r, &broken)["downtime_s"].as_i64() > Some(0) && row(&r, &paused)["maintenance_s"].as_i64() > Some(0) {
            break r;
        }
        assert!(Instant::now() < deadline, "no downtime or maintenance recorded: {r:#}");
    };
    assert_eq!(report["timezone"], "UTC");
    assert!(report["month"].as_str().unwrap().len() == 7, "{report}");
    assert_eq!(report["in_progress"], true);
    let (k, p, b) = (row(&report, &kept), row(&report, &paused), row(&report, &broken));
    assert_eq!((k["downtime_s"].as_i64(), k["sla_met"].as_bool()), (Some(0), Some(true)), "{k}");
    assert_eq!(k["sla_target"], "99.5");
    assert_eq!(p["downtime_s"], 0, "a deliberate stop is not downtime: {p}");
    assert_eq!((p["uptime_pct"].as_f64(), p["sla_met"].as_bool()), (Some(100.0), Some(true)), "{p}");
    assert_eq!(b["sla_met"], false, "{b}");
    assert_eq!(b["sla_target"], "99.9");
    assert!(b["uptime_pct"].as_f64().unwrap() < 100.0, "{b}");
    assert_eq!(b["causes"]["down"], b["downtime_s"], "the server container being down is the cause: {b}");
    assert_eq!(report["rows"][0]["subdomain"], broken.as_str(), "misses first");
    // The table says the same in words, and the month in UTC.
    let table = env.home.run(&["report", "uptime"]);
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(table.stdout.contains("(UTC, in progress") && table.stdout.contains("1 of 3 missed"), "{}", table.stdout);

    // CSV and JSON agree (the numbers of the same moment: no round in between).
    let json = ok(env.home.run(&["report", "uptime", "--json"]));
    let csv = env.home.run(&["report", "uptime", "--csv"]);
    assert_eq!(csv.code, 0, "{}", csv.stderr);
    let rows = csv_rows(&csv.stdout);
    assert_eq!(rows.len(), 3, "{}", csv.stdout);
    for (i, line) in rows.iter().enumerate() {
        let j = &json["rows"][i];
        assert_eq!(line["subdomain"], j["subdomain"].as_str().unwrap());
        assert_eq!(line["up_s"], j["up_s"].to_string());
        assert_eq!(line["downtime_s"], j["downtime_s"].to_string());
        assert_eq!(line["maintenance_s"], j["maintenance_s"].to_string());
        assert_eq!(line["unknown_s"], j["unknown_s"].to_string());
        assert_eq!(line["uptime_pct"], format!("{:.3}", j["uptime_pct"].as_f64().unwrap()));
        assert_eq!(line["sla_met"], if j["sla_met"] == true { "yes" } else { "no" });
    }

    // The invoice: contract ids and the stand-in's devices (4 registered, 2 online).
    let invoice = ok(env.home.run(&["report", "invoice", "--json"]));
    let contracts: Vec<&str> =
        invoice["rows"].as_array().unwrap().iter().map(|r| r["contract_id"].as_str().unwrap()).collect();
    assert_eq!(contracts, ["C-BROKEN", "C-KEPT", "C-PAUSED"], "by contract");
    for sub in [&kept, &paused, &broken] {
        let r = row(&invoice, sub);
        assert_eq!((r["devices_peak"].as_u64(), r["devices"].as_u64()), (Some(2), Some(4)), "{r}");
        assert_eq!(r["devices_avg"], 2.0);
        assert!(r["users"].as_u64() >= Some(1), "the owner at least: {r}");
    }
    let file = env.home.path().join("invoice.csv");
    ok(env.home.run(&["report", "invoice", "--output", file.to_str().unwrap(), "--json"]));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    assert!(std::fs::read_to_string(&file).unwrap().starts_with("contract_id,subdomain,name,"));
    assert!(env.home.run(&["report", "invoice", "--month", "2026-13"]).stderr.contains("YYYY-MM"));

    // The metrics endpoint of a running monitor: the broken one is down; started again, up
    // within a round; and what it serves is valid to Prometheus' own checker.
    docker(&["start", &env.home.container(&broken, "server")]);
    let (_daemon, addr) = serve_metrics(&env);
    let up = |sub: &str| format!("nbmsp_customer_up{{subdomain=\"{sub}\",host=\"local\"}} 1");
    let deadline = Instant::now() + Duration::from_secs(60);
    let text = loop {
        if let Some(t) = scrape(&addr).filter(|t| t.contains(&up(&broken))) {
            break t;
        }
        std::thread::sleep(Duration::from_millis(200));
        assert!(Instant::now() < deadline, "{broken} never up in the metrics: {:?}", scrape(&addr));
    };
    promtool(&["check", "metrics"], &text);
    assert!(
        text.contains(&format!("nbmsp_customer_state{{subdomain=\"{paused}\",host=\"local\",state=\"stopped\"}} 1"))
    );
    assert!(text.contains(&format!("nbmsp_customer_devices{{subdomain=\"{kept}\",host=\"local\"}} 4")), "{text}");
    assert!(text.contains("nbmsp_host_up{host=\"local\"} 1"));
    docker(&["stop", "-t", "1", &env.home.container(&kept, "server")]);
    let deadline = Instant::now() + Duration::from_secs(60);
    let down = format!("nbmsp_customer_up{{subdomain=\"{kept}\",host=\"local\"}} 0");
    let text = loop {
        if let Some(t) = scrape(&addr).filter(|t| t.contains(&down)) {
            break t;
        }
        std::thread::sleep(Duration::from_millis(200));
        assert!(Instant::now() < deadline, "{kept} never down in the metrics");
    };
    assert!(
        text.contains(&format!("nbmsp_customer_condition{{subdomain=\"{kept}\",host=\"local\",condition=\"down\"}} 1"))
    );
    promtool(&["check", "metrics"], &text);
    let (status, _) = common::http::request(&addr, "GET", "/other", &[], None).unwrap();
    assert_eq!(status, 404);

    // The Reports view of the app, by keys, at 80x24: the miss first; Tab to last month (no
    // customer existed then); x writes this month's files to reports.dir.
    use common::tmux::{log_in, start_with, tmux_missing};
    if tmux_missing() {
        return;
    }
    let (t, _exit) = start_with(&env.home, env.home.path(), "reports", 80, 24, "");
    log_in(&t);
    t.wait_for("Customers (3)");
    // The app's check at login finds kept's stopped server (stopped above): its panel takes
    // the first key.
    t.wait_for("stopped containers");
    t.keys(&["Escape"]);
    t.wait_gone("any key closes");
    t.keys(&[":"]);
    t.keys(&["-l", "reports"]);
    t.wait_for(":reports");
    t.keys(&["Enter"]);
    let screen = t.wait_for("missed their SLA");
    let first = screen.lines().find(|l| l.starts_with('│') && !l.contains("Customer")).unwrap();
    assert!(first.contains(&broken[..8]) && first.contains("missed"), "misses first:\n{screen}");
    t.keys(&["Tab"]);
    t.wait_for("0 of 0 missed");
    t.keys(&["Tab"]);
    // This month again (kept is down by now too: how many missed is not the point here).
    t.wait_for(&format!("{} (UTC, up to now)", report["month"].as_str().unwrap()));
    t.keys(&["x"]);
    t.wait_for("reports of");
    let dir = env.home.path().join("reports");
    let month = report["month"].as_str().unwrap();
    let invoice = dir.join(format!("nbmsp-{month}-invoice.csv"));
    assert_eq!(std::fs::metadata(&invoice).unwrap().permissions().mode() & 0o777, 0o600, "{invoice:?}");
    t.escape_until("Customers (3)", 3);
}

/// The README's scrape config and alert rules, as written there, pass Prometheus' own checks.
#[test]
fn the_readmes_scrape_config_and_alert_rules_pass_promtool() {
    let readme = include_str!("../../README.md");
    let blocks: Vec<&str> = readme.split("```yaml\n").skip(1).map(|b| b.split("```").next().unwrap()).collect();
    let pick = |key: &str| *blocks.iter().find(|b| b.starts_with(key)).unwrap_or_else(|| panic!("no {key} block"));
    let dir = tempfile::tempdir().unwrap();
    for (key, check) in [("scrape_configs:", "config"), ("groups:", "rules")] {
        let file = dir.path().join(format!("{check}.yml"));
        std::fs::write(&file, pick(key)).unwrap();
        promtool(&["check", check, file.to_str().unwrap()], "");
    }
}

/// Month-end: the first monitor round after a month ends (holding the alert lease) writes its
/// reports to `reports.dir` once, 0600, and sends one summary naming who missed the SLA; a month
/// closed keeps its numbers when a customer is deleted afterwards.
#[test]
fn a_closed_month_is_written_once_and_announced_and_keeps_its_numbers_after_a_delete() {
    let Some(env) = DockerEnv::new("a_closed_month_is_written_once_and_announced") else { return };
    let hook = common::receiver::Receiver::webhook();
    let reports = env.home.path().join("month-end");
    for (k, v) in [("alerts.webhook_url", hook.url.as_str()), ("reports.dir", reports.to_str().unwrap())] {
        assert_eq!(env.home.run(&["settings", "set", k, v]).code, 0);
    }
    let (good, bad) = (env.subdomain("good"), env.subdomain("bad"));
    for sub in [&good, &bad] {
        create(&env, sub, &["--no-deploy"]);
    }
    // Last month as a monitor would have recorded it: both in the books since before it began,
    // bad down for a day, good up throughout (written straight into the database file).
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let last = nbmsp::domain::sla::Month::of(now).previous();
    let db = rusqlite::Connection::open(env.home.path().join("nbmsp.db")).unwrap();
    let id = |sub: &str| -> i64 {
        db.query_row("SELECT id FROM customers WHERE subdomain = ?1", [sub], |r| r.get(0)).unwrap()
    };
    let (g, b) = (id(&good), id(&bad));
    db.execute("UPDATE customer_ledger SET created_s = ?1", [last.start() - 86_400]).unwrap();
    let span = |cid: i64, state: &str, from: i64, to: i64| {
        db.execute(
            "INSERT INTO sla_spans (customer_id, state, cause, start_s, end_s, latest) VALUES (?1, ?2, ?3, ?4, ?5, 0)",
            rusqlite::params![cid, state, (state == "down").then_some("down"), from, to],
        )
        .unwrap();
    };
    span(g, "up", last.start(), last.end());
    span(b, "up", last.start(), last.start() + 10 * 86_400);
    span(b, "down", last.start() + 10 * 86_400, last.start() + 11 * 86_400);
    span(b, "up", last.start() + 11 * 86_400, last.end());
    drop(db);
    let month = last.to_string();
    let before = ok(env.home.run(&["report", "uptime", "--month", &month, "--json"]));

    // Two runs: the second round of the first holds the lease and closes the month; the second
    // run finds it closed.
    ok(env.home.run(&["monitor", "--once", "--json"]));
    ok(env.home.run(&["monitor", "--once", "--json"]));
    let summaries: Vec<Value> =
        hook.received().into_iter().map(|r| r.body).filter(|b| b["state"] == "report").collect();
    assert_eq!(summaries.len(), 1, "announced once: {summaries:#?}");
    let text = summaries[0]["message"].as_str().unwrap();
    assert!(text.contains(&format!("Missed: {bad}")) && text.contains("1 of 2"), "{text}");
    use std::os::unix::fs::PermissionsExt;
    for kind in ["uptime", "devices", "invoice"] {
        let file = reports.join(format!("nbmsp-{month}-{kind}.csv"));
        let meta = std::fs::metadata(&file).unwrap_or_else(|e| panic!("{file:?}: {e}"));
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{file:?}");
    }
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join(format!("nbmsp-{month}.json"))).unwrap()).unwrap();
    assert_eq!(row(&written, &bad)["downtime_s"], 86_400);
    assert_eq!(row(&written, &bad)["sla_met"], false);

    // Deleting a customer now changes nothing about the month it was in.
    ok(env.home.run(&["customer", "delete", &bad, "--yes", "--purge-data", "--json"]));
    let mut after = ok(env.home.run(&["report", "uptime", "--month", &month, "--json"]));
    assert_eq!(row(&after, &bad)["deleted"], true, "marked as deleted since");
    for r in after["rows"].as_array_mut().unwrap() {
        r["deleted"] = false.into();
    }
    assert_eq!(before["rows"], after["rows"], "a closed month keeps its numbers");
}

/// #28: the metrics carry when each customer's certificate expires, as NPM says (its
/// `expires_on`, read from the proxy, never stored: NPM renews certificates itself).
#[test]
fn the_metrics_carry_each_customers_certificate_expiry_from_the_proxy() {
    use common::npm_standin::{Behaviour, NpmStandin, Resolve};
    let Some(env) = DockerEnv::new("metrics_certificate_expiry") else { return };
    let standin =
        NpmStandin::start(Behaviour { resolve: Resolve::DockerContainers, letsencrypt_ok: true, ..Default::default() });
    common::npm_standin::use_in(&env.home, &standin);
    let sub = env.subdomain("certexp");
    let email = format!("it@{sub}.example");
    let r = env.home.run(&["customer", "create", "--name", "Cert", "--subdomain", &sub, "--email", &email]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (_daemon, addr) = serve_metrics(&env);
    let family = "nbmsp_customer_certificate_expiry_timestamp_seconds";
    let sample = format!("{family}{{subdomain=\"{sub}\",host=\"local\"}} ");
    let deadline = Instant::now() + Duration::from_secs(60);
    let text = loop {
        if let Some(t) = scrape(&addr).filter(|t| t.contains(&sample)) {
            break t;
        }
        assert!(Instant::now() < deadline, "no certificate expiry for {sub}: {:?}", scrape(&addr));
    };
    promtool(&["check", "metrics"], &text);
    let line = text.lines().find(|l| l.starts_with(&sample)).unwrap();
    let expires: f64 = line[sample.len()..].parse().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    let days = (expires - now) / 86_400.0;
    assert!((89.0..=90.5).contains(&days), "the stand-in's Let's Encrypt certificate lasts 90 days: {days}");
}
