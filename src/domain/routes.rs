//! NetBird's legacy network routes (`/api/routes`, still served by v0.77.1 beside Networks): a
//! prefix or a set of domains, routed by one device or by the devices of groups, handed to the
//! devices of distribution groups. Accounts made before Networks existed still depend on them,
//! so nbmsp lists, adds and deletes them.

use super::ValidationError;

use serde::Serialize;

use super::networks::RouterVia;

/// A route to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRoute {
    /// NetBird's "network identifier" (1 to 40 characters; routes of one id form a group of
    /// alternatives, highest metric loses).
    pub network_id: String,
    /// Description.
    pub description: String,
    /// The prefix routed (`None`: `domains` instead).
    pub network: Option<String>,
    /// Domains routed (empty: `network` instead).
    pub domains: Vec<String>,
    /// The routing device, or the groups whose devices route.
    pub via: RouterVia,
    /// Distribution groups (names or ids): whose devices get the route.
    pub groups: Vec<String>,
    /// Traffic leaves with the router's address.
    pub masquerade: bool,
    /// 1 to 9999; lower wins between routes of one id.
    pub metric: u16,
}

impl NewRoute {
    /// What nbmsp refuses before NetBird sees it: NetBird's own words come for the rest (a
    /// prefix it cannot read, a group it does not know).
    pub fn check(&self) -> Result<(), ValidationError> {
        let why = || -> Result<(), String> {
            if self.network_id.trim().is_empty() || self.network_id.chars().count() > 40 {
                return Err("a route's network id is 1 to 40 characters".into());
            }
            match (&self.network, self.domains.is_empty()) {
                (Some(_), false) => return Err("a route is a network range or domains, not both".into()),
                (None, true) => return Err("a route needs a network range (--network) or domains (--domain)".into()),
                _ => {}
            }
            if self.groups.is_empty() {
                return Err("a route needs distribution groups (--group): whose devices get it".into());
            }
            if !(1..=9999).contains(&self.metric) {
                return Err("a route's metric is 1 to 9999".into());
            }
            Ok(())
        };
        why().map_err(|rule| ValidationError::new("route", rule))
    }
}

/// A route as NetBird lists it, with names where NetBird gives ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NbRoute {
    /// NetBird's id.
    pub id: String,
    /// Network identifier.
    pub network_id: String,
    /// Description.
    pub description: String,
    /// The prefix, or empty for a domain route.
    pub network: String,
    /// Domains (empty for a prefix route).
    pub domains: Vec<String>,
    /// The routing device's name (empty when groups route).
    pub peer: String,
    /// Names of the routing groups.
    pub peer_groups: Vec<String>,
    /// Names of the distribution groups.
    pub groups: Vec<String>,
    /// Masquerading.
    pub masquerade: bool,
    /// Metric.
    pub metric: u32,
    /// Switched on.
    pub enabled: bool,
}

impl NewRoute {
    /// The app's one-line form: `NETWORK-ID RANGE|DOMAIN,… via=DEVICE|via=group:G,… to=G,…
    /// [metric=N] [nomasq]`.
    pub fn parse_line(text: &str) -> Result<NewRoute, ValidationError> {
        let why = || -> Result<NewRoute, String> {
            let words: Vec<&str> = text.split_whitespace().collect();
            let [id, what, rest @ ..] = words.as_slice() else {
                return Err("type: NETWORK-ID RANGE|DOMAIN,… via=DEVICE|via=group:G to=G,…".into());
            };
            let (network, domains) = if what.contains('/') {
                (Some(what.to_string()), Vec::new())
            } else {
                (None, what.split(',').filter(|d| !d.is_empty()).map(String::from).collect())
            };
            let mut r = NewRoute {
                network_id: id.to_string(),
                description: String::new(),
                network,
                domains,
                via: RouterVia::Groups(Vec::new()),
                groups: Vec::new(),
                masquerade: true,
                metric: super::networks::DEFAULT_METRIC,
            };
            let list = |v: &str| v.split(',').filter(|s| !s.is_empty()).map(String::from).collect::<Vec<_>>();
            let mut via = false;
            for w in rest {
                match w.split_once('=') {
                    Some(("via", v)) => {
                        via = true;
                        r.via = match v.strip_prefix("group:") {
                            Some(g) => RouterVia::Groups(list(g)),
                            None => RouterVia::Peer(v.to_string()),
                        }
                    }
                    Some(("to", v)) => r.groups = list(v),
                    Some(("metric", v)) => r.metric = v.parse().map_err(|_| format!("metric {v}: 1 to 9999"))?,
                    None if *w == "nomasq" => r.masquerade = false,
                    _ => return Err(format!("'{w}': via=, to=, metric= or nomasq")),
                }
            }
            if !via || matches!(&r.via, RouterVia::Groups(g) if g.is_empty()) {
                return Err("a route needs a router: via=DEVICE or via=group:GROUP".into());
            }
            r.check().map_err(|e| e.rule)?;
            Ok(r)
        };
        why().map_err(|rule| ValidationError::new("route", rule))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route() -> NewRoute {
        NewRoute {
            network_id: "office".into(),
            description: String::new(),
            network: Some("10.10.0.0/16".into()),
            domains: vec![],
            via: RouterVia::Peer("gw".into()),
            groups: vec!["All".into()],
            masquerade: true,
            metric: 9999,
        }
    }

    #[test]
    fn a_typed_line_is_a_route() {
        let r = NewRoute::parse_line("office 10.10.0.0/16 via=gw to=staff,admins metric=100 nomasq").unwrap();
        assert_eq!(
            (r.network.as_deref(), r.via.clone(), r.groups.len()),
            (Some("10.10.0.0/16"), RouterVia::Peer("gw".into()), 2)
        );
        assert_eq!((r.metric, r.masquerade), (100, false));
        let d = NewRoute::parse_line("intranet wiki.corp,git.corp via=group:routers to=All").unwrap();
        assert_eq!((d.domains.len(), d.via), (2, RouterVia::Groups(vec!["routers".into()])));
        assert!(NewRoute::parse_line("x 10.0.0.0/8 to=All").unwrap_err().rule.contains("via="));
        assert!(NewRoute::parse_line("x 10.0.0.0/8 via=gw").unwrap_err().rule.contains("--group"));
        assert!(NewRoute::parse_line("x").unwrap_err().rule.contains("NETWORK-ID"));
    }

    #[test]
    fn a_route_is_a_range_or_domains_for_named_groups() {
        assert_eq!(route().check(), Ok(()));
        let both = NewRoute { domains: vec!["x.example".into()], ..route() };
        assert!(both.check().unwrap_err().rule.contains("not both"));
        let none = NewRoute { network: None, ..route() };
        assert!(none.check().unwrap_err().rule.contains("--network"));
        assert!(NewRoute { groups: vec![], ..route() }.check().unwrap_err().rule.contains("--group"));
        assert!(NewRoute { metric: 0, ..route() }.check().unwrap_err().rule.contains("1 to 9999"));
        assert!(NewRoute { network_id: "x".repeat(41), ..route() }.check().unwrap_err().rule.contains("1 to 40"));
    }
}
