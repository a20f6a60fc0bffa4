//! Networks, their resources and routers, and the account's DNS settings, as upstream answers
//! them (netbirdio/netbird v0.77.1):
//! - `management/server/http/handlers/networks/handler.go`: a network is `{id, name,
//!   description, routers, routing_peers_count, resources, policies}`; the list answers
//!   `routers: []` but `resources: null` for a network without any, a single network answers
//!   `null` for both, a new one `[]` for both. No field is validated (an empty name is taken).
//!   Deleting a network deletes its resources and routers.
//! - `handlers/networks/resources_handler.go`, `networks/resources/manager.go` and
//!   `resources/types/resource.go` (`GetResourceType`): the address decides the type — a prefix
//!   of /32 or /128, or a bare IP, is a `host` answered as `IP/32`, another prefix a `subnet`, a
//!   name matching `domain/validate.go`'s pattern a `domain`. An address that is none of them
//!   fails with a plain Go error, which `util.WriteError` answers **500 "internal server
//!   error"**. Names are unique in the account (422 "… resource with name X already exists").
//!   Membership lives in `group.Resources`; an unknown group is 404 "… group: ID not found" and
//!   nothing is created. A network's resource list is `null` when empty, and is not checked
//!   against the network (an unknown one lists `null` too).
//! - `handlers/networks/routers_handler.go` and `routers/types/router.go`: a router names a
//!   `peer` or `peer_groups`, never both (400, raw message); creating one makes it enabled
//!   whatever was asked; peer and groups are not checked; `peer_groups` is `null` when unset.
//! - `handlers/dns/dns_settings_handler.go` and `server/dns.go`: `{disabled_management_groups}`
//!   (an empty list for a new account), a PUT replaces it; an unknown group is 422 "group id X
//!   not found".
//!
//! Every not-found is 404 with the wrapping upstream adds ("failed to get network: network: X
//! not found").

use crate::account::{Account, Body};
use crate::http::{Response, error, json};
use crate::json::Json;

/// `networks/types/network.go`.
pub struct Network {
    pub id: String,
    pub name: String,
    pub description: String,
}

/// `resources/types/resource.go`; `address` as answered (`prefix.String()` or the domain).
pub struct Resource {
    pub id: String,
    pub network: String,
    pub name: String,
    pub description: String,
    pub kind: String,
    pub address: String,
    pub enabled: bool,
}

/// `routers/types/router.go`.
pub struct Router {
    pub id: String,
    pub network: String,
    pub peer: String,
    pub peer_groups: Option<Vec<String>>,
    pub masquerade: bool,
    pub metric: i64,
    pub enabled: bool,
}

fn q(s: &str) -> String {
    Json::quote(s)
}

fn list(v: &[String]) -> String {
    format!("[{}]", v.iter().map(|s| q(s)).collect::<Vec<_>>().join(","))
}

fn fail(status: u16, msg: &str) -> Response {
    error(status, &msg.to_lowercase())
}

fn bad() -> Response {
    error(400, "couldn't parse JSON request")
}

/// The paths this module answers.
pub fn known(method: &str, segs: &[&str]) -> bool {
    matches!(
        (method, segs),
        ("GET" | "POST", ["networks"])
            | ("GET", ["networks", "resources" | "routers"])
            | ("GET" | "PUT" | "DELETE", ["networks", _])
            | ("GET" | "POST", ["networks", _, "resources" | "routers"])
            | ("GET" | "DELETE", ["networks", _, "resources" | "routers", _])
            | ("GET" | "PUT", ["dns", "settings"])
    )
}

/// `GetResourceType`: `(type, address as answered)`, or `None` when it is none of them.
pub fn resource_type(address: &str) -> Option<(&'static str, String)> {
    if let Some((ip, bits)) = address.split_once('/') {
        let ip: std::net::IpAddr = ip.parse().ok()?;
        let bits: u8 = bits.parse().ok()?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        if bits > max {
            return None;
        }
        // netip.Prefix.String keeps the address as written (host bits too).
        let kind = if bits == max { "host" } else { "subnet" };
        return Some((kind, format!("{ip}/{bits}")));
    }
    if let Ok(ip) = address.parse::<std::net::IpAddr>() {
        return Some(("host", format!("{ip}/{}", if ip.is_ipv4() { 32 } else { 128 })));
    }
    valid_domain(address).then(|| ("domain", address.to_string()))
}

/// `domain/validate.go`'s pattern: an optional `*.`, labels of letters, digits, `-` and `_`
/// (not at either end, `_` allowed first except in the last label), each at most 63 long.
/// Upstream converts unicode to punycode first; the stand-in takes ASCII only.
fn valid_domain(d: &str) -> bool {
    let d = d.to_ascii_lowercase();
    let d = d.strip_prefix("*.").unwrap_or(&d);
    if d.is_empty() || !d.is_ascii() {
        return false;
    }
    let labels: Vec<&str> = d.split('.').collect();
    labels.iter().enumerate().all(|(i, l)| {
        let body = l.strip_prefix("xn--").unwrap_or(l);
        let b = body.as_bytes();
        let ok_mid = |c: &u8| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_';
        let last = i + 1 == labels.len();
        !b.is_empty()
            && b.len() <= 63
            && (b[0].is_ascii_alphanumeric() || (b[0] == b'_' && !last))
            && b[b.len() - 1].is_ascii_alphanumeric()
            && b.iter().all(ok_mid)
    })
}

impl Account {
    fn network_json(&self, n: &Network, routers: Option<Vec<String>>, resources: Option<Vec<String>>) -> String {
        let count: usize = self
            .routers
            .iter()
            .filter(|r| r.network == n.id)
            .map(|r| {
                let in_groups: usize = r
                    .peer_groups
                    .iter()
                    .flatten()
                    .filter_map(|g| self.groups.iter().find(|x| &x.id == g))
                    .map(|g| g.peers.len())
                    .sum();
                usize::from(!r.peer.is_empty()) + in_groups
            })
            .sum();
        let opt = |v: Option<Vec<String>>| v.map_or("null".to_string(), |v| list(&v));
        format!(
            r#"{{"id":{},"name":{},"description":{},"routers":{},"routing_peers_count":{count},"resources":{},"policies":[]}}"#,
            q(&n.id),
            q(&n.name),
            q(&n.description),
            opt(routers),
            opt(resources)
        )
    }

    fn ids_in(&self, network: &str) -> (Vec<String>, Vec<String>) {
        let routers = self.routers.iter().filter(|r| r.network == network).map(|r| r.id.clone()).collect();
        let resources = self.resources.iter().filter(|r| r.network == network).map(|r| r.id.clone()).collect();
        (routers, resources)
    }

    /// `ToAPIResponse` with `ToGroupsInfoMap`: the groups holding it as `GroupMinimum`.
    fn resource_json(&self, r: &Resource) -> String {
        let groups: Vec<String> = self
            .groups
            .iter()
            .filter(|g| g.resources.iter().any(|x| x.split(':').next() == Some(r.id.as_str())))
            .map(|g| {
                format!(
                    r#"{{"id":{},"name":{},"peers_count":{},"resources_count":{}}}"#,
                    q(&g.id),
                    q(&g.name),
                    g.peers.len(),
                    g.resources.len()
                )
            })
            .collect();
        let groups = if groups.is_empty() { "null".to_string() } else { format!("[{}]", groups.join(",")) };
        format!(
            r#"{{"id":{},"type":{},"name":{},"description":{},"address":{},"groups":{groups},"enabled":{}}}"#,
            q(&r.id),
            q(&r.kind),
            q(&r.name),
            q(&r.description),
            q(&r.address),
            r.enabled
        )
    }

    fn router_json(r: &Router) -> String {
        format!(
            r#"{{"id":{},"peer":{},"peer_groups":{},"masquerade":{},"metric":{},"enabled":{}}}"#,
            q(&r.id),
            q(&r.peer),
            r.peer_groups.as_ref().map_or("null".to_string(), |g| list(g)),
            r.masquerade,
            r.metric,
            r.enabled
        )
    }

    /// Takes a resource out of every group (`RemoveResourceFromGroupInTransaction`).
    fn ungroup(&mut self, resource: &str) {
        for g in &mut self.groups {
            g.resources.retain(|x| x.split(':').next() != Some(resource));
        }
    }

    /// The records as store-file lines.
    pub fn network_lines(&self) -> String {
        let mut out = String::new();
        for n in &self.networks {
            out.push_str(&format!(
                "network\t{{\"id\":{},\"name\":{},\"description\":{}}}\n",
                q(&n.id),
                q(&n.name),
                q(&n.description)
            ));
        }
        for r in &self.resources {
            out.push_str(&format!(
                "resource\t{{\"id\":{},\"network\":{},\"name\":{},\"description\":{},\"type\":{},\"address\":{},\"enabled\":{}}}\n",
                q(&r.id), q(&r.network), q(&r.name), q(&r.description), q(&r.kind), q(&r.address), r.enabled
            ));
        }
        for r in &self.routers {
            out.push_str(&format!(
                "router\t{{\"id\":{},\"network\":{},\"peer\":{},\"groups\":{},\"masquerade\":{},\"metric\":{},\"enabled\":{}}}\n",
                q(&r.id), q(&r.network), q(&r.peer), r.peer_groups.as_ref().map_or("null".to_string(), |g| list(g)),
                r.masquerade, r.metric, r.enabled
            ));
        }
        out.push_str(&format!("dnssettings\t{{\"disabled\":{}}}\n", list(&self.dns_disabled)));
        out
    }

    /// Reads one store-file line of this module back; `false` when it is not one.
    pub fn load_network_line(&mut self, kind: &str, j: &Json) -> bool {
        let s = |k: &str| j.get(k).and_then(Json::as_str).unwrap_or("").to_string();
        let b = |k: &str| j.get(k).and_then(Json::as_bool).unwrap_or(false);
        let strings = |k: &str| -> Option<Vec<String>> {
            j.get(k).and_then(Json::as_array).map(|a| a.iter().filter_map(Json::as_str).map(String::from).collect())
        };
        match kind {
            "network" => self.networks.push(Network { id: s("id"), name: s("name"), description: s("description") }),
            "resource" => self.resources.push(Resource {
                id: s("id"),
                network: s("network"),
                name: s("name"),
                description: s("description"),
                kind: s("type"),
                address: s("address"),
                enabled: b("enabled"),
            }),
            "router" => self.routers.push(Router {
                id: s("id"),
                network: s("network"),
                peer: s("peer"),
                peer_groups: strings("groups"),
                masquerade: b("masquerade"),
                metric: j.get("metric").and_then(Json::as_i64).unwrap_or(0),
                enabled: b("enabled"),
            }),
            "dnssettings" => self.dns_disabled = strings("disabled").unwrap_or_default(),
            _ => return false,
        }
        true
    }
}

/// Answers an authenticated request; `(answer, changed)`.
pub fn route(a: &mut Account, counter: &mut u64, method: &str, segs: &[&str], body: &str) -> (Response, bool) {
    let none = |r: Response| (r, false);
    match (method, segs) {
        ("GET", ["dns", "settings"]) => none(json(200, &format!(r#"{{"disabled_management_groups":{}}}"#, list(&a.dns_disabled)))),
        ("PUT", ["dns", "settings"]) => put_dns_settings(a, body),
        ("GET", ["networks"]) => {
            let all: Vec<String> = a
                .networks
                .iter()
                .map(|n| {
                    let (routers, resources) = a.ids_in(&n.id);
                    a.network_json(n, Some(routers), (!resources.is_empty()).then_some(resources))
                })
                .collect();
            none(json(200, &format!("[{}]", all.join(","))))
        }
        ("GET", ["networks", "resources"]) => {
            let all: Vec<String> = a.resources.iter().map(|r| a.resource_json(r)).collect();
            none(json(200, &format!("[{}]", all.join(","))))
        }
        ("GET", ["networks", "routers"]) => {
            let all: Vec<String> = a.routers.iter().map(Account::router_json).collect();
            none(json(200, &format!("[{}]", all.join(","))))
        }
        ("POST", ["networks"]) => {
            let Ok(b) = Body::parse(body) else { return none(bad()) };
            let (Ok(name), Ok(description)) = (b.string("name"), b.string("description")) else { return none(bad()) };
            let n = Network {
                id: crate::api::fresh(counter, 20),
                name: name.unwrap_or_default(),
                description: description.unwrap_or_default(),
            };
            let answer = a.network_json(&n, Some(vec![]), Some(vec![]));
            a.networks.push(n);
            (json(200, &answer), true)
        }
        ("GET", ["networks", id]) => match a.networks.iter().find(|n| n.id == *id) {
            Some(n) => {
                let (routers, resources) = a.ids_in(id);
                let nil = |v: Vec<String>| (!v.is_empty()).then_some(v);
                none(json(200, &a.network_json(n, nil(routers), nil(resources))))
            }
            None => none(fail(404, &format!("network: {id} not found"))),
        },
        ("PUT", ["networks", id]) => {
            let Ok(b) = Body::parse(body) else { return none(bad()) };
            let (Ok(name), Ok(description)) = (b.string("name"), b.string("description")) else { return none(bad()) };
            let Some(pos) = a.networks.iter().position(|n| n.id == *id) else {
                return none(fail(404, &format!("failed to get network: network: {id} not found")));
            };
            a.networks[pos].name = name.unwrap_or_default();
            a.networks[pos].description = description.unwrap_or_default();
            let (routers, resources) = a.ids_in(id);
            let nil = |v: Vec<String>| (!v.is_empty()).then_some(v);
            (json(200, &a.network_json(&a.networks[pos], nil(routers), nil(resources))), true)
        }
        ("DELETE", ["networks", id]) => {
            if !a.networks.iter().any(|n| n.id == *id) {
                return none(fail(404, &format!("failed to get network: network: {id} not found")));
            }
            let gone: Vec<String> = a.resources.iter().filter(|r| r.network == *id).map(|r| r.id.clone()).collect();
            for r in &gone {
                a.ungroup(r);
            }
            a.resources.retain(|r| r.network != *id);
            a.routers.retain(|r| r.network != *id);
            a.networks.retain(|n| n.id != *id);
            (json(200, "{}"), true)
        }
        ("GET", ["networks", net, "resources"]) => {
            let mine: Vec<String> = a.resources.iter().filter(|r| r.network == *net).map(|r| a.resource_json(r)).collect();
            none(json(200, &list_raw_or_null(&mine)))
        }
        ("POST", ["networks", net, "resources"]) => create_resource(a, counter, net, body),
        ("GET", ["networks", net, "resources", id]) => match a.resources.iter().find(|r| r.id == *id) {
            Some(r) if r.network == *net => none(json(200, &a.resource_json(r))),
            // `GetResource`: a plain Go error, so 500.
            Some(_) => none(error(500, "internal server error")),
            None => none(fail(404, &format!("failed to get network resource: network resource: {id} not found"))),
        },
        ("DELETE", ["networks", net, "resources", id]) => match a.resources.iter().find(|r| r.id == *id) {
            Some(r) if r.network == *net => {
                a.ungroup(id);
                a.resources.retain(|r| r.id != *id);
                (json(200, "{}"), true)
            }
            Some(_) => none(error(500, "internal server error")),
            None => none(fail(
                404,
                &format!("failed to delete network resource: failed to get network resource: network resource: {id} not found"),
            )),
        },
        ("GET", ["networks", net, "routers"]) => {
            let mine: Vec<String> = a.routers.iter().filter(|r| r.network == *net).map(Account::router_json).collect();
            none(json(200, &format!("[{}]", mine.join(","))))
        }
        ("POST", ["networks", net, "routers"]) => create_router(a, counter, net, body),
        ("GET", ["networks", net, "routers", id]) => match a.routers.iter().find(|r| r.id == *id) {
            Some(r) if r.network == *net => none(json(200, &Account::router_json(r))),
            Some(_) => none(error(500, "internal server error")),
            None => none(fail(404, &format!("failed to get network router: network router: {id} not found"))),
        },
        ("DELETE", ["networks", net, "routers", id]) => match a.routers.iter().find(|r| r.id == *id) {
            Some(r) if r.network == *net => {
                a.routers.retain(|r| r.id != *id);
                (json(200, "{}"), true)
            }
            Some(_) => none(error(500, "internal server error")),
            None => none(fail(404, &format!("failed to get network router: network router: {id} not found"))),
        },
        _ => none(fail(405, "method not allowed")),
    }
}

fn list_raw_or_null(items: &[String]) -> String {
    if items.is_empty() { "null".into() } else { format!("[{}]", items.join(",")) }
}

fn create_resource(a: &mut Account, counter: &mut u64, net: &str, body: &str) -> (Response, bool) {
    let Ok(b) = Body::parse(body) else { return (bad(), false) };
    let (Ok(name), Ok(description), Ok(address), Ok(groups), Ok(enabled)) =
        (b.string("name"), b.string("description"), b.string("address"), b.strings("groups"), b.boolean("enabled"))
    else {
        return (bad(), false);
    };
    let (name, address) = (name.unwrap_or_default(), address.unwrap_or_default());
    let Some((kind, answered)) = resource_type(&address) else {
        // "failed to create new network resource: invalid address: …" is no status error.
        return (error(500, "internal server error"), false);
    };
    let wrap = "failed to create network resource";
    if a.resources.iter().any(|r| r.name == name) {
        return (fail(422, &format!("{wrap}: resource with name {name} already exists")), false);
    }
    if !a.networks.iter().any(|n| n.id == net) {
        return (fail(404, &format!("{wrap}: failed to get network: network: {net} not found")), false);
    }
    let groups = groups.unwrap_or_default();
    if let Some(g) = groups.iter().find(|g| !a.groups.iter().any(|x| &x.id == *g)) {
        // The transaction rolls back: nothing is kept.
        return (
            fail(404, &format!("{wrap}: failed to add resource to group: error adding resource to group: group: {g} not found")),
            false,
        );
    }
    let r = Resource {
        id: crate::api::fresh(counter, 20),
        network: net.to_string(),
        name,
        description: description.unwrap_or_default(),
        kind: kind.to_string(),
        address: answered,
        enabled: enabled.unwrap_or_default(),
    };
    for g in a.groups.iter_mut().filter(|g| groups.contains(&g.id)) {
        g.resources.push(format!("{}:{kind}", r.id));
    }
    let answer = a.resource_json(&r);
    a.resources.push(r);
    (json(200, &answer), true)
}

fn create_router(a: &mut Account, counter: &mut u64, net: &str, body: &str) -> (Response, bool) {
    let Ok(b) = Body::parse(body) else { return (bad(), false) };
    let (Ok(peer), Ok(groups), Ok(masquerade), Ok(metric)) =
        (b.string("peer"), b.strings("peer_groups"), b.boolean("masquerade"), b.int("metric"))
    else {
        return (bad(), false);
    };
    let peer = peer.unwrap_or_default();
    let has_groups = groups.as_ref().is_some_and(|g| !g.is_empty());
    if !peer.is_empty() && has_groups {
        return (error(400, "peer and peer_groups cannot be set at the same time"), false);
    }
    if peer.is_empty() && !has_groups {
        return (error(400, "either peer or peer_groups must be provided"), false);
    }
    if !a.networks.iter().any(|n| n.id == net) {
        return (fail(404, &format!("failed to get network: network: {net} not found")), false);
    }
    let r = Router {
        id: crate::api::fresh(counter, 20),
        network: net.to_string(),
        peer,
        peer_groups: groups,
        masquerade: masquerade.unwrap_or_default(),
        metric: metric.unwrap_or_default(),
        // The handler sets it whatever the request said.
        enabled: true,
    };
    let answer = Account::router_json(&r);
    a.routers.push(r);
    (json(200, &answer), true)
}

fn put_dns_settings(a: &mut Account, body: &str) -> (Response, bool) {
    let Ok(b) = Body::parse(body) else { return (bad(), false) };
    let Ok(groups) = b.strings("disabled_management_groups") else { return (bad(), false) };
    let groups = groups.unwrap_or_default();
    // `validateDNSSettings` → `validateGroups` (only when the list is not empty).
    if let Some(g) = groups.iter().find(|g| !a.groups.iter().any(|x| &x.id == *g)) {
        let why = if g.is_empty() { "group ID should not be empty string".to_string() } else { format!("group id {g} not found") };
        return (fail(422, &why), false);
    }
    a.dns_disabled = groups;
    (json(200, &format!(r#"{{"disabled_management_groups":{}}}"#, list(&a.dns_disabled))), true)
}
