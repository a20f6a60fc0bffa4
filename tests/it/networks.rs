//! A customer's networks (resources, routers) and DNS settings through nbmsp, on the real
//! engine with the stand-in answering as upstream's handlers do (standin/networks.rs names
//! them): a host answered as IP/32, lists that are `null` when empty, a bad address NetBird
//! would only call "internal server error", groups a resource, a router or the DNS settings
//! hold that cannot be deleted, roles, NetBird's events and nbmsp's audit log.

use crate::common::docker::DockerEnv;
use crate::netbird_admin::{add_user, as_user, deployed, failed, ok};

#[test]
fn a_network_gets_a_resource_and_a_router_and_holds_its_group() {
    let Some(env) = DockerEnv::new("a_network_gets_a_resource_and_a_router") else { return };
    let sub = deployed(&env, "net", "2,1");
    let run = |args: &[&str]| env.home.run(&[&["customer"][..], args].concat());

    let empty = ok(run(&["networks", &sub, "--json"]));
    assert_eq!(empty["data"], serde_json::json!([]), "{empty}");
    ok(run(&["groups", &sub, "create", "office", "--json"]));
    ok(run(&["networks", &sub, "create", "lan", "--description", "the office", "--json"]));

    // An address NetBird cannot type is refused here, with the reason; NetBird itself would
    // answer "internal server error".
    let bad = run(&["networks", &sub, "add-resource", "lan", "nas", "--address", "10.0.0.0/33", "--group", "office"]);
    assert_eq!(bad.code, 2, "a usage error: {}", bad.stderr);
    assert!(bad.stderr.contains("not an IP address, a subnet"), "{}", bad.stderr);

    ok(run(&["networks", &sub, "add-resource", "lan", "nas", "--address", "10.0.0.5", "--group", "office", "--json"]));
    ok(run(&[
        "networks",
        &sub,
        "add-resource",
        "lan",
        "wiki",
        "--address",
        "wiki.acme.example",
        "--group",
        "office",
        "--json",
    ]));
    // Names are unique in the account: NetBird's words come through.
    let err = failed(&run(&[
        "networks",
        &sub,
        "add-resource",
        "lan",
        "nas",
        "--address",
        "10.0.0.0/24",
        "--group",
        "office",
    ]));
    assert!(err.contains("resource with name nas already exists") && err.contains("HTTP 422"), "{err}");
    let err =
        failed(&run(&["networks", &sub, "add-resource", "lan", "x", "--address", "10.0.0.9", "--group", "ghost"]));
    assert!(err.contains("no group 'ghost'"), "{err}");

    let peers = ok(run(&["peers", &sub, "--json"]));
    let router_peer = peers["data"][0]["name"].as_str().unwrap().to_string();
    ok(run(&["networks", &sub, "add-router", "lan", "--peer", &router_peer, "--json"]));
    let err = failed(&run(&["networks", &sub, "add-router", "lan", "--peer", "nobody"]));
    assert!(err.contains("no device 'nobody'"), "{err}");

    let listed = ok(run(&["networks", &sub, "--json"]));
    let net = &listed["data"][0];
    assert_eq!((net["name"].as_str(), net["description"].as_str()), (Some("lan"), Some("the office")), "{listed}");
    let res = net["resources"].as_array().unwrap();
    let nas = res.iter().find(|r| r["name"] == "nas").unwrap();
    assert_eq!((nas["kind"].as_str(), nas["address"].as_str()), (Some("host"), Some("10.0.0.5/32")), "{nas}");
    assert_eq!(nas["groups"], serde_json::json!(["office"]), "{nas}");
    let wiki = res.iter().find(|r| r["name"] == "wiki").unwrap();
    assert_eq!(wiki["kind"], "domain", "{wiki}");
    let router = &net["routers"][0];
    assert_eq!(router["peer"].as_str(), Some(router_peer.as_str()), "{router}");
    assert_eq!((router["metric"].as_u64(), router["masquerade"].as_bool()), (Some(9999), Some(true)), "{router}");
    assert_eq!(net["routing_peers"], 1, "{net}");
    let table = run(&["networks", &sub]);
    assert!(table.stdout.contains("10.0.0.5/32") && table.stdout.contains("metric 9999"), "{}", table.stdout);

    // The group holds the resources: NetBird refuses to delete it, in its words.
    let err = failed(&run(&["groups", &sub, "delete", "office", "--yes"]));
    assert!(err.contains("group has been linked to network resource") && err.contains("HTTP 400"), "{err}");

    // DNS settings: a group taken out of NetBird's DNS management, shown by name.
    ok(run(&["dns", &sub, "unmanage", "office", "--json"]));
    let settings = ok(run(&["dns", &sub, "settings", "--json"]));
    assert_eq!(settings["data"], serde_json::json!(["office"]), "{settings}");
    let again = ok(run(&["dns", &sub, "unmanage", "office", "--json"]));
    assert!(again["data"].as_str().unwrap().contains("already"), "{again}");

    // Roles: a viewer lists; an operator may not add anything that widens what devices reach.
    add_user(&env, "view", "viewer");
    add_user(&env, "ops", "operator");
    let r = as_user(&env, "view", &["customer", "networks", &sub, "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for (who, args) in [
        ("ops", vec!["customer", "networks", &sub, "create", "more"]),
        ("view", vec!["customer", "dns", &sub, "manage", "office"]),
        ("ops", vec!["customer", "networks", &sub, "remove-router", "lan", &router_peer, "--yes"]),
    ] {
        let err = failed(&as_user(&env, who, &args));
        assert!(err.contains("may not"), "{who} {args:?}: {err}");
    }

    // Taking it apart: the router by its device's name, a resource by name, the network.
    let err = failed(&run(&["networks", &sub, "remove-resource", "lan", "wiki"]));
    assert!(err.contains("without --yes"), "{err}");
    ok(run(&["networks", &sub, "remove-router", "lan", &router_peer, "--yes", "--json"]));
    ok(run(&["networks", &sub, "remove-resource", "lan", "wiki", "--yes", "--json"]));
    let gone = ok(run(&["networks", &sub, "delete", "lan", "--yes", "--json"]));
    assert!(gone["data"].as_str().unwrap().contains("with its 1 resource(s) and 0 router(s)"), "{gone}");
    assert_eq!(ok(run(&["networks", &sub, "--json"]))["data"], serde_json::json!([]));
    // The resources left the group with the network; the DNS settings still hold it.
    let err = failed(&run(&["groups", &sub, "delete", "office", "--yes"]));
    assert!(err.contains("group has been linked to disabled DNS management groups: office"), "{err}");
    ok(run(&["dns", &sub, "manage", "office", "--json"]));
    ok(run(&["groups", &sub, "delete", "office", "--yes", "--json"]));

    // NetBird recorded its events; nbmsp's audit log has every change, NetBird's refusals too.
    let events = ok(run(&["events", &sub, "--search", "network", "--json"]));
    let codes: Vec<&str> = events["data"].as_array().unwrap().iter().filter_map(|e| e["code"].as_str()).collect();
    for code in ["network.create", "network.resource.create", "network.router.create", "network.delete"] {
        assert!(codes.contains(&code), "{code} in {codes:?}");
    }
    let audit = ok(run(&["audit", &sub, "--json"]));
    let lines: Vec<(String, String, String)> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "netbird")
        .map(|e| (e["actor"].to_string(), e["status"].to_string(), e["message"].to_string()))
        .collect();
    let has = |who: &str, status: &str, text: &str| {
        lines.iter().any(|(a, s, m)| a.contains(who) && s.contains(status) && m.contains(text))
    };
    assert!(has("admin", "success", "network 'lan' now routed by device"), "{lines:?}");
    assert!(has("admin", "success", "NetBird no longer manages the DNS of group 'office'"), "{lines:?}");
    assert!(has("admin", "error", "resource with name nas already exists"), "{lines:?}");
}

/// Legacy routes as upstream's routes handler answers them (standin/routes.rs): a prefix stored
/// masked, a domain route, a device that already routes the same prefix refused with NetBird's
/// 409 words, a bad prefix with NetBird's 422, a group NetBird would check by id refused by name
/// here, delete by network identifier; NetBird's audit trail names each change.
#[test]
fn legacy_routes_are_listed_added_and_deleted_as_netbird_answers() {
    let Some(env) = DockerEnv::new("legacy_routes") else { return };
    let sub = deployed(&env, "rte", "2,1");
    let run = |args: &[&str]| env.home.run(&[&["customer"][..], args].concat());
    assert_eq!(ok(run(&["routes", &sub, "--json"]))["data"], serde_json::json!([]));
    ok(run(&["groups", &sub, "create", "staff", "--json"]));
    let peers = ok(run(&["peers", &sub, "--json"]));
    let gw = peers["data"][0]["name"].as_str().unwrap().to_string();

    let office =
        ["routes", &sub, "create", "office", "--network", "10.10.3.7/16", "--peer", &gw, "--group", "staff", "--json"];
    let made = ok(run(&office));
    assert!(made["data"].as_str().unwrap().contains("route 'office' (10.10.3.7/16) added"), "{made}");
    let listed = ok(run(&["routes", &sub, "--json"]))["data"].clone();
    assert_eq!(listed[0]["network"], "10.10.0.0/16", "stored masked: {listed}");
    assert_eq!((listed[0]["peer"].as_str(), listed[0]["groups"][0].as_str()), (Some(gw.as_str()), Some("staff")));

    // The same device routing the same prefix again: NetBird's 409.
    let err = failed(&run(&[
        "routes",
        &sub,
        "create",
        "office-2",
        "--network",
        "10.10.0.0/16",
        "--peer",
        &gw,
        "--group",
        "staff",
    ]));
    assert!(err.contains("already has this route") && err.contains("HTTP 409"), "{err}");
    let err = failed(&run(&[
        "routes",
        &sub,
        "create",
        "bad",
        "--network",
        "10.10.0.0/40",
        "--peer",
        &gw,
        "--group",
        "staff",
    ]));
    assert!(err.contains("invalid network 10.10.0.0/40") && err.contains("HTTP 422"), "{err}");
    let err =
        failed(&run(&["routes", &sub, "create", "x", "--network", "10.9.0.0/16", "--peer", &gw, "--group", "ghosts"]));
    assert!(err.contains("no group 'ghosts'"), "{err}");
    let r = run(&[
        "routes",
        &sub,
        "create",
        "x",
        "--domain",
        "wiki.corp",
        "--peer-group",
        "staff",
        "--group",
        "All",
        "--metric",
        "0",
    ]);
    assert_eq!(r.code, 2, "clap refuses a metric out of range: {}", r.stderr);

    ok(run(&[
        "routes",
        &sub,
        "create",
        "intranet",
        "--domain",
        "wiki.corp",
        "--peer-group",
        "staff",
        "--group",
        "All",
        "--json",
    ]));
    let listed = ok(run(&["routes", &sub, "--json"]))["data"].clone();
    let intranet = listed.as_array().unwrap().iter().find(|r| r["network_id"] == "intranet").unwrap().clone();
    assert_eq!(
        (intranet["network"].as_str(), intranet["peer_groups"][0].as_str()),
        (Some(""), Some("staff")),
        "{intranet}"
    );
    let table = run(&["routes", &sub]).stdout;
    assert!(table.contains("wiki.corp") && table.contains("groups staff"), "{table}");

    ok(run(&["routes", &sub, "delete", "office", "--yes", "--json"]));
    let left = ok(run(&["routes", &sub, "--json"]))["data"].clone();
    assert_eq!(left.as_array().unwrap().len(), 1, "{left}");
    let events = ok(run(&["events", &sub, "--search", "route", "--json"]))["data"].clone();
    let codes: Vec<&str> = events.as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["route.delete", "route.add", "route.add"], "{events}");
}
