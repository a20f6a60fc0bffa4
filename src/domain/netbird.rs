//! What nbmsp administers inside a customer's NetBird: devices (peers), setup keys, users and
//! groups, the changes an operator may ask for, and who may ask for which. Pure data: the
//! engine turns NetBird's API answers into these at its edge.

use serde::Serialize;

use super::Timestamp;
use super::user::Permission;

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

/// One thing an operator asks of a customer's NetBird. Targets are NetBird ids, or names the
/// engine resolves against a fresh list (an ambiguous name is refused).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminAction {
    /// List devices.
    Peers,
    /// Rename a device.
    RenamePeer { peer: String, name: String },
    /// Turn a device's login expiration on or off.
    PeerLoginExpiration { peer: String, enabled: bool },
    /// Remove a device.
    DeletePeer { peer: String },
    /// List setup keys.
    Keys,
    /// Create a setup key (its secret is shown once).
    CreateKey(NewSetupKey),
    /// Revoke a setup key (cannot be undone).
    RevokeKey { key: String },
    /// Delete a setup key.
    DeleteKey { key: String },
    /// List users.
    Users,
    /// Create a service user, or a person (the embedded IdP returns a password once).
    CreateUser(NewUser),
    /// Change a user's role.
    SetUserRole { user: String, role: String },
    /// Block or unblock a user.
    BlockUser { user: String, blocked: bool },
    /// Remove a user (a person's devices go with them).
    DeleteUser { user: String },
    /// List groups.
    Groups,
    /// Create a group.
    CreateGroup { name: String },
    /// Rename a group (its devices stay).
    RenameGroup { group: String, name: String },
    /// Delete a group nothing uses.
    DeleteGroup { group: String },
}

impl AdminAction {
    /// What the acting nbmsp user needs. Reading is for everyone; what hands out access (a
    /// key's or a user's secret) or removes something is for admins; the day-to-day changes
    /// that only narrow access or rename are for operators too.
    pub fn permission(&self) -> Permission {
        use AdminAction::*;
        match self {
            Peers | Keys | Users | Groups => Permission::Read,
            RenamePeer { .. } | PeerLoginExpiration { .. } | RevokeKey { .. } | BlockUser { .. } => Permission::Operate,
            CreateGroup { .. } | RenameGroup { .. } => Permission::Operate,
            DeletePeer { .. } | CreateKey(_) | DeleteKey { .. } | CreateUser(_) | SetUserRole { .. } => {
                Permission::Admin
            }
            DeleteUser { .. } | DeleteGroup { .. } => Permission::Admin,
        }
    }

    /// Whether it changes the instance (and is written to the audit log).
    pub fn changes(&self) -> bool {
        self.permission() != Permission::Read
    }

    /// Short words for messages: "list peers", "revoke setup key".
    pub fn describe(&self) -> &'static str {
        use AdminAction::*;
        match self {
            Peers => "list devices",
            RenamePeer { .. } => "rename a device",
            PeerLoginExpiration { .. } => "change a device's login expiration",
            DeletePeer { .. } => "delete a device",
            Keys => "list setup keys",
            CreateKey(_) => "create a setup key",
            RevokeKey { .. } => "revoke a setup key",
            DeleteKey { .. } => "delete a setup key",
            Users => "list users",
            CreateUser(_) => "create a user",
            SetUserRole { .. } => "change a user's role",
            BlockUser { .. } => "block or unblock a user",
            DeleteUser { .. } => "delete a user",
            Groups => "list groups",
            CreateGroup { .. } => "create a group",
            RenameGroup { .. } => "rename a group",
            DeleteGroup { .. } => "delete a group",
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
