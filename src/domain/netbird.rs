//! What nbmsp administers inside a customer's NetBird: devices (peers), setup keys, users and
//! groups, the changes an operator may ask for, and who may ask for which. Pure data: the
//! engine turns NetBird's API answers into these at its edge.

use serde::Serialize;

pub use super::netbird_action::AdminAction;

use super::Timestamp;

/// A device in a customer's NetBird.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Peer {
    /// NetBird's id.
    pub id: String,
    /// Name shown in NetBird.
    pub name: String,
    /// NetBird IP.
    pub ip: String,
    /// Connected now.
    pub connected: bool,
    /// Last seen by the management server.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_seen: Option<Timestamp>,
    /// Operating system.
    pub os: String,
    /// NetBird client version.
    pub version: String,
    /// Group names.
    pub groups: Vec<String>,
    /// Waiting for an administrator's approval.
    pub approval_required: bool,
    /// Its login expires (only for devices added with SSO).
    pub login_expiration_enabled: bool,
    /// Added by a user with SSO (login expiration can be changed), not with a setup key.
    pub added_with_sso: bool,
    /// Remote SSH enabled.
    pub ssh_enabled: bool,
    /// Inactivity expiration enabled.
    pub inactivity_expiration_enabled: bool,
}

/// A setup key (its secret is never listed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetupKey {
    /// NetBird's id.
    pub id: String,
    /// Name.
    pub name: String,
    /// `one-off` or `reusable`.
    pub kind: String,
    /// `valid`, `revoked`, `expired` or `overused`.
    pub state: String,
    /// Revoked by someone.
    pub revoked: bool,
    /// Times used.
    pub used_times: i64,
    /// Uses allowed (0: unlimited).
    pub usage_limit: i64,
    /// When it stops working; `None`: never.
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires: Option<Timestamp>,
    /// Group names given to devices that use it.
    pub auto_groups: Vec<String>,
    /// Devices added with it are removed when they go offline.
    pub ephemeral: bool,
}

impl SetupKey {
    /// Uses against the limit, as people read it: `2/5`, `0/∞`.
    pub fn usage(&self) -> String {
        let limit = if self.usage_limit == 0 { "∞".to_string() } else { self.usage_limit.to_string() };
        format!("{}/{limit}", self.used_times)
    }

    /// The day it expires, or `never`.
    pub fn expiry(&self) -> String {
        self.expires.map_or("never".into(), |e| e.date().to_string())
    }
}

/// A user of a customer's NetBird.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NbUser {
    /// NetBird's id.
    pub id: String,
    /// Email (empty for service users).
    pub email: String,
    /// Name.
    pub name: String,
    /// NetBird role: owner, admin, user, auditor, network_admin, billing_admin.
    pub role: String,
    /// NetBird's status text (active, invited, blocked).
    pub status: String,
    /// Blocked from logging in.
    pub blocked: bool,
    /// A service user (API only).
    pub service: bool,
    /// Last dashboard login.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_login: Option<Timestamp>,
}

impl NbUser {
    /// What the user's state reads as: `blocked` wins over NetBird's status.
    pub fn state(&self) -> String {
        if self.blocked { "blocked".into() } else { self.status.clone() }
    }

    /// `service` or `person`.
    pub fn kind(&self) -> &'static str {
        if self.service { "service" } else { "person" }
    }
}

/// A group of devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    /// NetBird's id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Devices in it.
    pub peers_count: i64,
}

/// NetBird user roles nbmsp lets an operator give (owner is transferred in NetBird's own
/// dashboard: it demotes the giver).
pub const NB_ROLES: [&str; 5] = ["admin", "user", "auditor", "network_admin", "billing_admin"];

/// A new setup key as asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewSetupKey {
    /// Name.
    pub name: String,
    /// Usable many times (else once).
    pub reusable: bool,
    /// Days until it expires (0: never).
    pub expires_days: u32,
    /// Uses allowed for a reusable key (0: unlimited).
    pub usage_limit: u32,
    /// Group names or ids given to devices that use it.
    pub auto_groups: Vec<String>,
    /// Devices that use it are removed when they go offline.
    pub ephemeral: bool,
}

/// A new NetBird user as asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewUser {
    /// A service user (API only, no email or login) rather than a person.
    pub service: bool,
    /// Name.
    pub name: String,
    /// Email (people only).
    pub email: String,
    /// NetBird role.
    pub role: String,
}

pub use super::policy::{NewPolicy, PolicyEdit};
pub use super::posture::{NbPosture, NewPosture};

/// A DNS nameserver group to add: which resolvers devices of which groups use, for every name
/// (primary) or for some domains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewNameservers {
    /// Name (1 to 40 characters).
    pub name: String,
    /// Description (the baseline marks the groups it owns here).
    pub description: String,
    /// Resolvers: IP and port (UDP), 1 to 3.
    pub servers: Vec<(String, u16)>,
    /// Device groups (names or ids) that use them.
    pub groups: Vec<String>,
    /// Only for these domains (empty: primary, every name).
    pub domains: Vec<String>,
    /// Let devices add the domains to their search list (not with primary).
    pub search_domains: bool,
}

/// A nameserver group as NetBird lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NbNameservers {
    /// NetBird's id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Resolvers as `ip:port`.
    pub servers: Vec<String>,
    /// Group ids.
    pub groups: Vec<String>,
    /// For every name.
    pub primary: bool,
    /// Only for these.
    pub domains: Vec<String>,
    /// Switched on.
    pub enabled: bool,
}

/// `IP[:PORT]` (IPv6 in brackets when a port follows); port 53 by default.
pub fn parse_resolver(s: &str) -> Result<(String, u16), super::ValidationError> {
    if let Ok(ip) = s.parse::<std::net::IpAddr>() {
        return Ok((ip.to_string(), 53));
    }
    let addr: std::net::SocketAddr = s.parse().map_err(|_| {
        super::ValidationError::new(
            "resolver",
            format!("{s}: give an IP address, optionally with :PORT (e.g. 9.9.9.9 or [2620:fe::fe]:53)"),
        )
    })?;
    Ok((addr.ip().to_string(), addr.port()))
}

/// A resolver as NetBird's list is shown: `ip:port`, `[v6]:port`.
pub fn resolver_text(ip: &str, port: u16) -> String {
    if ip.contains(':') { format!("[{ip}]:{port}") } else { format!("{ip}:{port}") }
}

/// The identity-provider types upstream supports (`types/identity_provider.go`).
pub const IDP_TYPES: [&str; 10] =
    ["oidc", "zitadel", "entra", "google", "okta", "pocketid", "microsoft", "authentik", "keycloak", "adfs"];

/// An identity provider to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIdp {
    /// One of [`IDP_TYPES`].
    pub kind: String,
    /// Its name on the login page.
    pub name: String,
    /// The issuer URL (Google and Microsoft need none).
    pub issuer: String,
    /// The OAuth client id.
    pub client_id: String,
    /// The OAuth client secret: sent to NetBird, kept nowhere else, never shown.
    pub secret: Secret,
}

/// An identity provider as NetBird lists it (without its secret: NetBird never returns it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NbIdp {
    /// NetBird's id (`google-…`, `okta-…`; none for generic OIDC).
    pub id: String,
    /// Its type.
    pub kind: String,
    /// Name.
    pub name: String,
    /// Issuer URL.
    pub issuer: String,
    /// OAuth client id.
    pub client_id: String,
}

/// One of NetBird's audit events (`GET /api/events/audit`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NbEvent {
    /// When.
    #[serde(with = "time::serde::rfc3339::option")]
    pub time: Option<Timestamp>,
    /// What happened, in NetBird's words ("Policy updated").
    pub activity: String,
    /// Its stable code (`policy.update`).
    pub code: String,
    /// Who: email, else name, else id.
    pub initiator: String,
    /// What it was done to (an id).
    pub target: String,
    /// Details NetBird keeps with it.
    pub meta: std::collections::BTreeMap<String, String>,
}

/// An access-control policy as NetBird lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Policy {
    /// NetBird's id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Switched on.
    pub enabled: bool,
    /// Its rules.
    pub rules: Vec<PolicyRule>,
    /// An enabled rule lets every device reach every other (the Default policy of a new
    /// account): the customer's network is flat.
    pub all_to_all: bool,
    /// Posture checks its source devices must pass (ids).
    pub posture_checks: Vec<String>,
}

/// One rule of a [`Policy`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyRule {
    /// Name.
    pub name: String,
    /// Switched on.
    pub enabled: bool,
    /// `accept` or `drop`.
    pub action: String,
    /// `all`, `tcp`, `udp`, `icmp`, `netbird-ssh`.
    pub protocol: String,
    /// Both ways.
    pub bidirectional: bool,
    /// Ports (empty: all).
    pub ports: Vec<String>,
    /// Source groups by name.
    pub sources: Vec<String>,
    /// Destination groups by name.
    pub destinations: Vec<String>,
}

impl PolicyRule {
    /// Every device to every device: accept, all protocols, from the `All` group to it.
    pub fn is_all_to_all(&self) -> bool {
        self.enabled
            && self.action == "accept"
            && self.protocol == "all"
            && self.sources.iter().any(|g| g == "All")
            && self.destinations.iter().any(|g| g == "All")
    }
}

/// A secret typed by the operator (a service's PIN or password): never printed, not even by
/// `Debug`, and never in the audit log.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// How visitors of a service authenticate before the proxy lets them through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceAuth {
    /// Nobody is asked.
    None,
    /// The customer's NetBird login (SSO; upstream's bearer auth).
    Sso,
    /// A PIN.
    Pin(Secret),
    /// A password.
    Password(Secret),
}

/// A service to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewService {
    /// The first label of its domain (`wiki` → `wiki.<customer domain>`).
    pub name: String,
    /// The device or network resource that serves it, and the port there.
    pub target: super::service_target::TargetSpec,
    /// `http` or `https` towards the target.
    pub scheme: String,
    /// Who may pass.
    pub auth: ServiceAuth,
}

/// A published service as the customer's NetBird reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceInfo {
    /// NetBird's id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Where visitors go.
    pub domain: String,
    /// What serves it, and the port there: a device's NetBird address, or a network
    /// resource's type and address.
    pub target: String,
    /// Enabled authentications (`pin`, `password`, `sso`), empty: none.
    pub auth: Vec<String>,
    /// Switched on.
    pub enabled: bool,
    /// The proxy's report: pending, active, tunnel_not_created, certificate_pending,
    /// certificate_failed, error.
    pub status: String,
}

/// A setup key just created: the only time its secret exists outside NetBird.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreatedKey {
    /// What NetBird now lists.
    pub key: SetupKey,
    /// The secret.
    pub secret: String,
    /// Ready to paste on the device.
    pub command: String,
}

/// A user just created; a person's generated password comes back only now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreatedUser {
    /// What NetBird now lists.
    pub user: NbUser,
    /// The embedded IdP's generated password (people only).
    pub password: Option<String>,
}

/// What an [`AdminAction`] gave back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "data")]
pub enum AdminAnswer {
    /// The devices.
    Peers(Vec<Peer>),
    /// The setup keys.
    Keys(Vec<SetupKey>),
    /// The users.
    Users(Vec<NbUser>),
    /// The groups.
    Groups(Vec<Group>),
    /// The published services.
    Services(Vec<ServiceInfo>),
    /// The access-control policies.
    Policies(Vec<Policy>),
    /// NetBird's audit events, newest first.
    Events(Vec<NbEvent>),
    /// The identity providers.
    Idps(Vec<NbIdp>),
    /// The DNS nameserver groups.
    Nameservers(Vec<NbNameservers>),
    /// The posture checks.
    Postures(Vec<NbPosture>),
    /// The networks with their resources and routers.
    Networks(Vec<crate::domain::networks::NbNetwork>),
    /// Legacy routes.
    Routes(Vec<crate::domain::routes::NbRoute>),
    /// Names of the groups whose DNS NetBird does not manage.
    DnsSettings(Vec<String>),
    /// A new key with its secret.
    KeyCreated(CreatedKey),
    /// A new user, with a password for a person.
    UserCreated(CreatedUser),
    /// A change done, in words for the operator and the audit log.
    Done(String),
}

/// The line that joins a device to the customer's NetBird with a setup key.
pub fn join_command(domain: &str, secret: &str) -> String {
    format!("netbird up --management-url https://{domain} --setup-key {secret}")
}

/// Whether client `version` is older than `minimum` (dotted numbers; a part that is not a
/// number counts as 0; an empty or "development" version is never called old).
pub fn older_than(version: &str, minimum: &str) -> bool {
    let parts =
        |v: &str| -> Vec<u64> { v.trim_start_matches('v').split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    if version.is_empty() || version == "development" {
        return false;
    }
    let (a, b) = (parts(version), parts(minimum));
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (a.get(i).copied().unwrap_or(0), b.get(i).copied().unwrap_or(0));
        if x != y {
            return x < y;
        }
    }
    false
}

/// Devices of a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DeviceCount {
    /// Peers registered.
    pub total: u32,
    /// Peers connected now.
    pub connected: u32,
    /// Peers on a client older than the minimum asked for (`None`: none asked for).
    pub outdated: Option<u32>,
    /// People in the account, service users left out (`None`: the list could not be read).
    pub users: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::user::Permission;

    #[test]
    fn versions_compare_numerically() {
        assert!(older_than("0.60.2", "0.77.0"));
        assert!(older_than("0.9.0", "0.10.0"));
        assert!(!older_than("0.77.1", "0.77.0"));
        assert!(!older_than("0.77.0", "0.77"));
        assert!(!older_than("development", "1.0.0"));
        assert!(!older_than("", "1.0.0"));
    }

    #[test]
    fn secrets_and_removals_need_an_admin_and_lists_need_nothing() {
        let key = NewSetupKey {
            name: "k".into(),
            reusable: true,
            expires_days: 1,
            usage_limit: 0,
            auto_groups: vec![],
            ephemeral: false,
        };
        assert_eq!(AdminAction::CreateKey(key).permission(), Permission::Admin);
        assert_eq!(AdminAction::RevokeKey { key: "x".into() }.permission(), Permission::Operate);
        assert_eq!(AdminAction::Keys.permission(), Permission::Read);
        assert!(!AdminAction::Peers.changes());
        assert!(AdminAction::DeletePeer { peer: "p".into() }.changes());
    }

    #[test]
    fn the_join_line_names_the_domain_and_the_key() {
        assert_eq!(
            join_command("acme.example.com", "ABCD-1"),
            "netbird up --management-url https://acme.example.com --setup-key ABCD-1"
        );
    }
}
