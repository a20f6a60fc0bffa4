//! DNS nameserver groups as upstream answers them (netbirdio/netbird v0.77.1):
//! `management/server/http/handlers/dns/nameservers_handler.go` (routes, `toServerNSList`:
//! a bad address is 422 "invalid NS servers format", `toNameserverGroupResponse`),
//! `management/server/nameserver.go` (`validateNameServerGroup`: primary xor domains, no search
//! domains on a primary, 1 to 3 nameservers, a name of 1 to 40 characters unique in the account,
//! groups that exist — each with upstream's words, InvalidArgument: 422), and
//! `management/server/group.go` (a group a nameserver group uses cannot be deleted).

use crate::account::{Account, Body};
use crate::http::{Response, error, json};
use crate::json::Json;

/// One nameserver group (`nbdns.NameServerGroup`).
pub struct NsGroup {
    pub id: String,
    pub name: String,
    pub description: String,
    /// `ip:port:type` each.
    pub servers: Vec<(String, i64, String)>,
    pub groups: Vec<String>,
    pub primary: bool,
    pub domains: Vec<String>,
    pub enabled: bool,
    pub search_domains: bool,
}

fn fail(status: u16, msg: &str) -> Response {
    error(status, &msg.to_lowercase())
}

/// The paths this module answers.
pub fn known(method: &str, segs: &[&str]) -> bool {
    matches!(
        (method, segs),
        ("GET" | "POST", ["dns", "nameservers"]) | ("GET" | "PUT" | "DELETE", ["dns", "nameservers", _])
    )
}

/// `toNameserverGroupResponse`.
pub fn answer(g: &NsGroup) -> String {
    let q = Json::quote;
    let list = |v: &[String]| format!("[{}]", v.iter().map(|s| q(s)).collect::<Vec<_>>().join(","));
    let servers: Vec<String> = g
        .servers
        .iter()
        .map(|(ip, port, kind)| format!(r#"{{"ip":{},"ns_type":{},"port":{port}}}"#, q(ip), q(kind)))
        .collect();
    format!(
        r#"{{"id":{},"name":{},"description":{},"nameservers":[{}],"enabled":{},"groups":{},"primary":{},"domains":{},"search_domains_enabled":{}}}"#,
        q(&g.id),
        q(&g.name),
        q(&g.description),
        servers.join(","),
        g.enabled,
        list(&g.groups),
        g.primary,
        list(&g.domains),
        g.search_domains
    )
}

/// Answers an authenticated request; `(answer, changed)`.
pub fn route(account: &mut Account, counter: &mut u64, method: &str, segs: &[&str], body: &str) -> (Response, bool) {
    match (method, segs) {
        ("GET", ["dns", "nameservers"]) => {
            let all: Vec<String> = account.nameservers.iter().map(answer).collect();
            (json(200, &format!("[{}]", all.join(","))), false)
        }
        ("GET", ["dns", "nameservers", id]) => match account.nameservers.iter().find(|g| g.id == *id) {
            Some(g) => (json(200, &answer(g)), false),
            None => (fail(404, &format!("nameserver group: {id} not found")), false),
        },
        ("POST", ["dns", "nameservers"]) => match parse(account, None, body) {
            Ok(mut g) => {
                g.id = crate::api::fresh(counter, 20);
                let a = answer(&g);
                account.nameservers.push(g);
                (json(200, &a), true)
            }
            Err(r) => (r, false),
        },
        ("PUT", ["dns", "nameservers", id]) => {
            let Some(pos) = account.nameservers.iter().position(|g| g.id == *id) else {
                return (fail(404, &format!("nameserver group: {id} not found")), false);
            };
            match parse(account, Some(id), body) {
                Ok(mut g) => {
                    g.id = (*id).to_string();
                    let a = answer(&g);
                    account.nameservers[pos] = g;
                    (json(200, &a), true)
                }
                Err(r) => (r, false),
            }
        }
        ("DELETE", ["dns", "nameservers", id]) => {
            let before = account.nameservers.len();
            account.nameservers.retain(|g| g.id != *id);
            if account.nameservers.len() == before {
                return (fail(404, &format!("nameserver group: {id} not found")), false);
            }
            (json(200, "{}"), true)
        }
        _ => (fail(404, "not found"), false),
    }
}

fn parse(account: &Account, id: Option<&str>, body: &str) -> Result<NsGroup, Response> {
    let bad = || error(400, "couldn't parse JSON request");
    let b = Body::parse(body).map_err(|_| bad())?;
    let text = |k: &str| b.string(k).map(Option::unwrap_or_default).map_err(|_| bad());
    let flag = |k: &str| b.boolean(k).map(Option::unwrap_or_default).map_err(|_| bad());
    let list = |k: &str| b.strings(k).map(Option::unwrap_or_default).map_err(|_| bad());
    let servers = b.objects("nameservers").map_err(|_| bad())?.unwrap_or_default();
    let mut parsed = Vec::new();
    for s in &servers {
        let (Ok(ip), Ok(kind), Ok(port)) = (s.string("ip"), s.string("ns_type"), s.int("port")) else {
            return Err(bad());
        };
        let (ip, kind, port) = (ip.unwrap_or_default(), kind.unwrap_or_default(), port.unwrap_or(0));
        let host = ip.trim_start_matches('[').trim_end_matches(']');
        if host.parse::<std::net::IpAddr>().is_err() || kind != "udp" || !(1..=65535).contains(&port) {
            return Err(fail(422, "invalid NS servers format"));
        }
        parsed.push((host.to_string(), port, kind));
    }
    let g = NsGroup {
        id: String::new(),
        name: text("name")?,
        description: text("description")?,
        servers: parsed,
        groups: list("groups")?,
        primary: flag("primary")?,
        domains: list("domains")?,
        enabled: flag("enabled")?,
        search_domains: flag("search_domains_enabled")?,
    };
    let why = if !g.primary && g.domains.is_empty() {
        Some("nameserver group primary status is false and domains are empty, it should be primary or have at least one domain".to_string())
    } else if g.primary && !g.domains.is_empty() {
        Some("nameserver group primary status is true and domains are not empty, you should set either primary or domain".into())
    } else if g.primary && g.search_domains {
        Some("nameserver group primary status is true and search domains is enabled, you should not set search domains for primary nameservers".into())
    } else if let Some(d) = g.domains.iter().find(|d| d.starts_with("*.")) {
        Some(format!("nameserver group got an invalid domain: {d} \"wildcards not allowed\""))
    } else if g.servers.is_empty() || g.servers.len() > 3 {
        Some(format!("the list of nameservers should be 1 or 3, got {}", g.servers.len()))
    } else if g.name.is_empty() || g.name.chars().count() > 40 {
        Some("nameserver group name should be between 1 and 40".into())
    } else if account.nameservers.iter().any(|x| x.name == g.name && Some(x.id.as_str()) != id) {
        Some(format!("nameserver group with name {} already exist", g.name))
    } else if g.groups.is_empty() {
        Some("the list of group IDs should not be empty".into())
    } else {
        g.groups
            .iter()
            .find(|x| !account.groups.iter().any(|y| y.id == **x))
            .map(|x| if x.is_empty() { "group ID should not be empty string".to_string() } else { format!("group id {x} not found") })
    };
    match why {
        Some(w) => Err(fail(422, &w)),
        None => Ok(g),
    }
}
