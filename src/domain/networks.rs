//! A customer's NetBird networks (what its devices reach beyond each other: an office LAN, a
//! server, a domain, through routing devices) and its DNS settings, as nbmsp asks for them.
//! No IO: the engine sends these to the customer's management API
//! (`engine::netbird::networks`).

use super::ValidationError;

use std::net::IpAddr;

use serde::Serialize;

use crate::domain::rights::Right;

/// One thing asked of a customer's networks or DNS settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkAction {
    /// Every network with its resources and routers.
    List,
    /// Add a network (empty until it gets resources and a router).
    Create { name: String, description: String },
    /// Delete a network with its resources and routers.
    Delete { network: String },
    /// Add a resource to a network: what devices of `groups`' policies may reach.
    AddResource { network: String, name: String, address: String, groups: Vec<String> },
    /// Remove a resource (by id or name).
    RemoveResource { network: String, resource: String },
    /// Add a routing device, or a group of them, to a network.
    AddRouter { network: String, via: RouterVia, masquerade: bool, metric: u16 },
    /// Remove a router (by id, or by its device's name).
    RemoveRouter { network: String, router: String },
    /// The groups whose devices' DNS NetBird does not manage.
    DnsSettings,
    /// Let NetBird manage a group's DNS again (`managed`), or stop it.
    DnsManagement { group: String, managed: bool },
    /// Every legacy route.
    Routes,
    /// Add a legacy route.
    CreateRoute(crate::domain::routes::NewRoute),
    /// Delete a legacy route (by id, or a network identifier only one route has).
    DeleteRoute { route: String },
}

/// Which devices route a network's traffic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouterVia {
    /// One device (name, IP or id).
    Peer(String),
    /// Every device of these groups (names or ids).
    Groups(Vec<String>),
}

/// The routing metric upstream's dashboard proposes (lower wins between routers).
pub const DEFAULT_METRIC: u16 = 9999;

impl NetworkAction {
    /// The right it takes: reading is for everyone; everything else decides what a customer's
    /// devices reach (or how they resolve names), so it is for admins.
    pub fn right(&self) -> Right {
        match self {
            Self::List | Self::DnsSettings | Self::Routes => Right::NetBirdList,
            _ => Right::NetBirdGrant,
        }
    }

    /// Short words for messages and the audit log.
    pub fn describe(&self) -> &'static str {
        match self {
            Self::List => "list networks",
            Self::Create { .. } => "add a network",
            Self::Delete { .. } => "delete a network",
            Self::AddResource { .. } => "add a network resource",
            Self::RemoveResource { .. } => "remove a network resource",
            Self::AddRouter { .. } => "add a network router",
            Self::RemoveRouter { .. } => "remove a network router",
            Self::DnsSettings => "show the DNS settings",
            Self::DnsManagement { managed: true, .. } => "let NetBird manage a group's DNS",
            Self::DnsManagement { managed: false, .. } => "stop NetBird managing a group's DNS",
            Self::Routes => "list routes",
            Self::CreateRoute(_) => "add a route",
            Self::DeleteRoute { .. } => "delete a route",
        }
    }
}

/// What a resource address is, as NetBird decides it (`resources/types/resource.go`
/// `GetResourceType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ResourceKind {
    /// One address (a bare IP, or a /32 or /128).
    Host,
    /// A range.
    Subnet,
    /// A name (`*.` allowed).
    Domain,
}

impl ResourceKind {
    /// NetBird's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Host => "host",
            Self::Subnet => "subnet",
            Self::Domain => "domain",
        }
    }
}

/// Checks a resource address before NetBird sees it: NetBird answers a bad one with a bare
/// "internal server error" (its error is not a status error), so the reason has to come from
/// here.
pub fn resource_kind(address: &str) -> Result<ResourceKind, ValidationError> {
    let why = || -> Result<ResourceKind, String> {
        let why =
            || format!("'{address}' is not an IP address, a subnet (10.0.0.0/24) or a domain name (db.example.com)");
        if let Some((ip, bits)) = address.split_once('/') {
            let ip: IpAddr = ip.parse().map_err(|_| why())?;
            let bits: u8 = bits.parse().map_err(|_| why())?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            return match bits {
                b if b > max => Err(why()),
                b if b == max => Ok(ResourceKind::Host),
                _ => Ok(ResourceKind::Subnet),
            };
        }
        if address.parse::<IpAddr>().is_ok() {
            return Ok(ResourceKind::Host);
        }
        let host = address.strip_prefix("*.").unwrap_or(address);
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                && l.chars().last().is_some_and(|c| c.is_ascii_alphanumeric())
                && !l.starts_with('-')
        };
        let labels: Vec<&str> = host.split('.').collect();
        if host.len() <= 253 && labels.iter().all(|l| label_ok(l)) && !labels.last().is_some_and(|l| l.starts_with('_'))
        {
            Ok(ResourceKind::Domain)
        } else {
            Err(why())
        }
    };
    why().map_err(|rule| ValidationError::new("address", rule))
}

/// A network as NetBird lists it, with its resources and routers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NbNetwork {
    /// NetBird's id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// What its routers lead to.
    pub resources: Vec<NbResource>,
    /// The devices that route to them.
    pub routers: Vec<NbRouter>,
    /// How many devices route it (NetBird's count).
    pub routing_peers: u32,
}

/// A network resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NbResource {
    /// NetBird's id.
    pub id: String,
    /// Name (unique in the account).
    pub name: String,
    /// `host`, `subnet` or `domain`.
    pub kind: String,
    /// As NetBird answers it (a host as `IP/32`).
    pub address: String,
    /// Names of the groups it belongs to.
    pub groups: Vec<String>,
    /// Switched on.
    pub enabled: bool,
}

/// A network router.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NbRouter {
    /// NetBird's id.
    pub id: String,
    /// The routing device's name (empty when groups route).
    pub peer: String,
    /// Names of the routing groups (empty when one device routes).
    pub peer_groups: Vec<String>,
    /// Traffic leaves with the router's address.
    pub masquerade: bool,
    /// Lower wins between routers.
    pub metric: u32,
    /// Switched on.
    pub enabled: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_typed_as_netbird_types_them() {
        assert_eq!(resource_kind("10.0.0.5"), Ok(ResourceKind::Host));
        assert_eq!(resource_kind("10.0.0.5/32"), Ok(ResourceKind::Host));
        assert_eq!(resource_kind("fd00::1"), Ok(ResourceKind::Host));
        assert_eq!(resource_kind("10.0.0.0/24"), Ok(ResourceKind::Subnet));
        assert_eq!(resource_kind("db.acme.example"), Ok(ResourceKind::Domain));
        assert_eq!(resource_kind("*.acme.example"), Ok(ResourceKind::Domain));
        assert_eq!(resource_kind("_sip.acme.example"), Ok(ResourceKind::Domain));
        for bad in ["", "10.0.0.0/33", "a b", "-x.example", "x-.example", "x.example/8", "x.._y", "db.acme.example."] {
            let err = resource_kind(bad).unwrap_err();
            assert!(err.rule.contains("not an IP address"), "{bad}: {err}");
        }
    }

    #[test]
    fn reading_is_for_everyone_the_rest_for_admins() {
        assert_eq!(NetworkAction::List.right(), Right::NetBirdList);
        assert_eq!(NetworkAction::DnsSettings.right(), Right::NetBirdList);
        let grant = NetworkAction::AddRouter {
            network: "n".into(),
            via: RouterVia::Peer("p".into()),
            masquerade: true,
            metric: DEFAULT_METRIC,
        };
        assert_eq!(grant.right(), Right::NetBirdGrant);
        assert_eq!(NetworkAction::DnsManagement { group: "g".into(), managed: true }.right(), Right::NetBirdGrant);
    }
}
