//! Bulk work on the real Docker engine: import many customers and deploy them in parallel,
//! then start/stop/restart several by id list or `--all --status`, with one failing.

use crate::common::docker::DockerEnv;

#[test]
fn import_deploys_in_parallel_and_bulk_operations_report_each_customer() {
    let Some(env) = DockerEnv::new("import_deploys_in_parallel_and_bulk_operations_report_each_customer") else {
        return;
    };
    let subs: Vec<String> = (0..4).map(|i| env.subdomain(&format!("bulk{i}"))).collect();
    let entry =
        |s: &str| serde_json::json!({"name": format!("Bulk {s}"), "subdomain": s, "email": format!("it@{s}.example")});

    // One bad entry: nothing is created, every problem is named.
    let mut bad: Vec<serde_json::Value> = subs.iter().map(|s| entry(s)).collect();
    bad.push(serde_json::json!({"name": "Dup", "subdomain": subs[0], "email": "not-an-email"}));
    let file = env.home.file("bad.json", &serde_json::to_string(&bad).unwrap());
    let r = env.home.run(&["customer", "import", "--file", file.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("entry 5") && r.stderr.contains("appears twice") && r.stderr.contains("email"),
        "{}",
        r.stderr
    );
    assert_eq!(env.home.run(&["customer", "list", "--json"]).json().as_array().unwrap().len(), 0);

    let good: Vec<serde_json::Value> = subs.iter().map(|s| entry(s)).collect();
    let file = env.home.file("good.json", &serde_json::to_string(&good).unwrap());
    let r = env.home.run(&["customer", "import", "--file", file.to_str().unwrap(), "--parallel", "3", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let summary = r.json();
    assert_eq!((summary["ok"].as_u64(), summary["failed"].as_u64()), (Some(4), Some(0)), "{summary}");
    let ports: std::collections::BTreeSet<u64> = env
        .home
        .run(&["customer", "list", "--json"])
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["relay_udp_port"].as_u64().unwrap())
        .collect();
    assert_eq!(ports.len(), 4, "parallel deploys got distinct ports");

    // Stop two by name, then start every stopped one.
    let r = env.home.run(&["customer", "stop", &subs[0], &subs[1], "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["ok"], 2);
    let stopped = env.home.run(&["customer", "list", "--status", "stopped", "--json"]).json();
    assert_eq!(stopped.as_array().unwrap().len(), 2);
    let r = env.home.run(&["customer", "start", "--all", "--status", "stopped"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("start of 2: 2 ok"), "{}", r.stdout);

    // One customer's containers vanish: a bulk restart reports it and carries on with the rest.
    let out = std::process::Command::new("docker")
        .args(["rm", "-f", &env.home.container(&subs[2], "server"), &env.home.container(&subs[2], "dashboard")])
        .output()
        .unwrap();
    assert!(out.status.success());
    let r = env.home.run(&["customer", "restart", "--all", "--parallel", "2", "--json"]);
    assert_eq!(r.code, 1, "a failure makes the exit code 1");
    let s = r.json();
    assert_eq!((s["ok"].as_u64(), s["failed"].as_u64()), (Some(3), Some(1)), "{s}");
    let failed = s["results"].as_array().unwrap().iter().find(|x| x["result"]["ok"] == false).unwrap();
    assert_eq!(failed["subdomain"], subs[2].as_str());
    assert!(failed["result"]["message"].as_str().unwrap().contains("no containers"), "{failed}");
    assert!(r.stderr.contains(&format!("FAILED {}", subs[2])), "{}", r.stderr);

    // Delete is never a bulk operation.
    let r = env.home.run(&["customer", "delete", &subs[0], &subs[1], "--yes"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}
