//! Legacy network routes as upstream answers them (netbirdio/netbird v0.77.1):
//! `management/server/http/handlers/routes/routes_handler.go` (routes; `validateRouteCommon`:
//! network xor domains, peer xor peer groups, a network id of 1 to 40 characters;
//! `toRouteResponse`: `peer` always a string, `domains` always a list, `peer_groups` and
//! `access_control_groups` only when not empty), `route/route.go` (`ParseNetwork`: the prefix
//! is stored masked; `MinMetric` 1, `MaxMetric` 9999; a domain route's network is the
//! placeholder 192.0.2.0/32 from `management/server/route.go` `getPlaceholderIP`), and
//! `management/server/route.go` (`validateRoute`, `validateRouteGroups` with
//! `nameserver.go` `validateGroups`' words, `checkRoutePrefixOrDomainsExistForPeers`: a peer
//! that does not exist is 422, one that already routes the same prefix is 409).
//! Not modelled: domain punycode conversion (a domain is kept as sent), a peer group's peers
//! clashing with another route's single peer. An unknown id is 404 "route: ID not found"
//! (`shared/management/status/error.go` `NewRouteNotFoundError`).

use crate::account::{Account, Body};
use crate::http::{Response, error, json};
use crate::json::Json;

/// One route (`route.Route`).
pub struct Route {
    pub id: String,
    pub network_id: String,
    pub description: String,
    pub enabled: bool,
    /// The routing peer's id ("" when peer groups route it).
    pub peer: String,
    pub peer_groups: Vec<String>,
    /// The masked prefix (the placeholder for a domain route).
    pub network: String,
    pub domains: Vec<String>,
    /// `IPv4`, `IPv6` or `Domain`.
    pub network_type: String,
    pub masquerade: bool,
    pub metric: i64,
    /// Distribution groups: whose devices get the route.
    pub groups: Vec<String>,
    pub access_control_groups: Vec<String>,
    pub keep_route: bool,
    pub skip_auto_apply: bool,
}

fn fail(status: u16, msg: &str) -> Response {
    error(status, &msg.to_lowercase())
}

/// The paths this module answers.
pub fn known(method: &str, segs: &[&str]) -> bool {
    matches!((method, segs), ("GET" | "POST", ["routes"]) | ("GET" | "PUT" | "DELETE", ["routes", _]))
}

fn list(v: &[String]) -> String {
    format!("[{}]", v.iter().map(|s| Json::quote(s)).collect::<Vec<_>>().join(","))
}

/// `toRouteResponse`.
pub fn answer(r: &Route) -> String {
    let q = Json::quote;
    let mut extra = String::new();
    if !r.peer_groups.is_empty() {
        extra.push_str(&format!(r#","peer_groups":{}"#, list(&r.peer_groups)));
    }
    if !r.access_control_groups.is_empty() {
        extra.push_str(&format!(r#","access_control_groups":{}"#, list(&r.access_control_groups)));
    }
    format!(
        r#"{{"id":{},"description":{},"network_id":{},"enabled":{},"peer":{},"network":{},"domains":{},"network_type":{},"masquerade":{},"metric":{},"groups":{},"keep_route":{},"skip_auto_apply":{}{extra}}}"#,
        q(&r.id),
        q(&r.description),
        q(&r.network_id),
        r.enabled,
        q(&r.peer),
        q(&r.network),
        list(&r.domains),
        q(&r.network_type),
        r.masquerade,
        r.metric,
        list(&r.groups),
        r.keep_route,
        r.skip_auto_apply
    )
}

/// Answers an authenticated request; `(answer, changed)`.
pub fn route(account: &mut Account, counter: &mut u64, method: &str, segs: &[&str], body: &str) -> (Response, bool) {
    let missing = |id: &str| fail(404, &format!("route: {id} not found"));
    match (method, segs) {
        ("GET", ["routes"]) => {
            let all: Vec<String> = account.routes.iter().map(answer).collect();
            (json(200, &format!("[{}]", all.join(","))), false)
        }
        ("GET", ["routes", id]) => match account.routes.iter().find(|r| r.id == *id) {
            Some(r) => (json(200, &answer(r)), false),
            None => (missing(id), false),
        },
        ("POST", ["routes"]) => {
            let id = crate::api::fresh(counter, 20);
            match parse(account, &id, body) {
                Ok(r) => {
                    let a = answer(&r);
                    account.routes.push(r);
                    (json(200, &a), true)
                }
                Err(e) => (e, false),
            }
        }
        ("PUT", ["routes", id]) => {
            let Some(pos) = account.routes.iter().position(|r| r.id == *id) else { return (missing(id), false) };
            match parse(account, id, body) {
                Ok(r) => {
                    let a = answer(&r);
                    account.routes[pos] = r;
                    (json(200, &a), true)
                }
                Err(e) => (e, false),
            }
        }
        ("DELETE", ["routes", id]) => {
            let before = account.routes.len();
            account.routes.retain(|r| r.id != *id);
            if account.routes.len() == before {
                return (missing(id), false);
            }
            (json(200, "{}"), true)
        }
        _ => (fail(404, "not found"), false),
    }
}

/// The handler's checks, then the account manager's, in upstream's order.
fn parse(account: &Account, id: &str, body: &str) -> Result<Route, Response> {
    let bad = || error(400, "couldn't parse JSON request");
    let b = Body::parse(body).map_err(|_| bad())?;
    let network = b.string("network").map_err(|_| bad())?;
    let domains = b.strings("domains").map_err(|_| bad())?;
    let peer = b.string("peer").map_err(|_| bad())?;
    let peer_groups = b.strings("peer_groups").map_err(|_| bad())?;
    let network_id = b.string("network_id").map_err(|_| bad())?.unwrap_or_default();
    let (Ok(description), Ok(enabled), Ok(masquerade), Ok(metric), Ok(groups), Ok(acl), Ok(keep), Ok(skip)) = (
        b.string("description"),
        b.boolean("enabled"),
        b.boolean("masquerade"),
        b.int("metric"),
        b.strings("groups"),
        b.strings("access_control_groups"),
        b.boolean("keep_route"),
        b.boolean("skip_auto_apply"),
    ) else {
        return Err(bad());
    };
    let invalid = |w: String| Err(fail(422, &w));
    match (&network, &domains) {
        (Some(_), Some(_)) => return invalid("only one of 'network' or 'domains' should be provided".into()),
        (None, None) => return invalid("either 'network' or 'domains' should be provided".into()),
        _ => {}
    }
    match (&peer, &peer_groups) {
        (None, None) => return invalid("either 'peer' or 'peer_groups' should be provided".into()),
        (Some(_), Some(_)) => return invalid("only one of 'peer' or 'peer_groups' should be provided".into()),
        _ => {}
    }
    if network_id.is_empty() || network_id.chars().count() > 40 {
        return invalid("identifier should be between 1 and 40 characters".into());
    }
    let (prefix, network_type, domains) = match (network, domains) {
        (_, Some(d)) => {
            if d.is_empty() || d.len() > 32 || d.iter().any(|x| x.is_empty() || x.contains(' ')) {
                return invalid(format!("invalid domains: invalid domain list {d:?}"));
            }
            ("192.0.2.0/32".to_string(), "Domain", d)
        }
        (Some(n), None) => match masked(&n) {
            Some((p, v6)) => (p, if v6 { "IPv6" } else { "IPv4" }, Vec::new()),
            None => return invalid(format!("invalid network {n}")),
        },
        (None, None) => unreachable!("refused above"),
    };
    let r = Route {
        id: id.to_string(),
        network_id,
        description: description.unwrap_or_default(),
        enabled: enabled.unwrap_or(false),
        peer: peer.unwrap_or_default(),
        peer_groups: peer_groups.unwrap_or_default(),
        network: prefix,
        domains,
        network_type: network_type.into(),
        masquerade: masquerade.unwrap_or(false),
        metric: metric.unwrap_or(0),
        groups: groups.unwrap_or_default(),
        access_control_groups: acl.unwrap_or_default(),
        keep_route: keep.unwrap_or(false),
        skip_auto_apply: skip.unwrap_or(false),
    };
    // `validateRoute`.
    if !(1..=9999).contains(&r.metric) {
        return invalid("metric should be between 1 and 9999".into());
    }
    let unknown = |list: &[String]| -> Option<String> {
        if list.is_empty() {
            return Some("the list of group IDs should not be empty".into());
        }
        list.iter().find(|g| !account.groups.iter().any(|x| x.id == **g)).map(|g| {
            if g.is_empty() { "group ID should not be empty string".to_string() } else { format!("group id {g} not found") }
        })
    };
    for (l, always) in [(&r.peer_groups, false), (&r.access_control_groups, false), (&r.groups, true)] {
        if always || !l.is_empty() {
            if let Some(w) = unknown(l) {
                return invalid(w);
            }
        }
    }
    // `checkRoutePrefixOrDomainsExistForPeers`.
    let descriptor = if r.network_type == "Domain" {
        format!("domains [{}]", r.domains.join(", "))
    } else {
        format!("prefix {}", r.network)
    };
    let same = account
        .routes
        .iter()
        .filter(|x| x.id != r.id && x.network == r.network && x.domains == r.domains)
        .collect::<Vec<_>>();
    if !r.peer.is_empty() {
        if !account.peers.iter().any(|p| p.id == r.peer) {
            return invalid(format!("peer with ID {} not found", r.peer));
        }
        if same.iter().any(|x| x.peer == r.peer) {
            return Err(fail(409, &format!("failed to add route with {descriptor} - peer {} already has this route", r.peer)));
        }
    }
    for g in &r.peer_groups {
        if same.iter().any(|x| x.peer_groups.contains(g)) {
            let name = account.groups.iter().find(|x| x.id == *g).map_or(g.as_str(), |x| x.name.as_str());
            return Err(fail(409, &format!("failed to add route with {descriptor} - peer group {name} already has this route")));
        }
    }
    Ok(r)
}

/// `netip.ParsePrefix` then `Masked`: the prefix with host bits cleared, and whether it is IPv6.
fn masked(p: &str) -> Option<(String, bool)> {
    let (ip, len) = p.split_once('/')?;
    let len: u32 = len.parse().ok()?;
    match ip.parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(a) if len <= 32 => {
            let bits = u32::from(a) & if len == 0 { 0 } else { u32::MAX << (32 - len) };
            Some((format!("{}/{len}", std::net::Ipv4Addr::from(bits)), false))
        }
        std::net::IpAddr::V6(a) if len <= 128 => {
            let bits = u128::from(a) & if len == 0 { 0 } else { u128::MAX << (128 - len) };
            Some((format!("{}/{len}", std::net::Ipv6Addr::from(bits)), true))
        }
        _ => None,
    }
}
