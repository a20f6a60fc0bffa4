//! The one type every door uses to ask something of a customer's NetBird, with the right each
//! request takes and its words for messages and the audit log.

use super::netbird::*;
use super::rights::Right;
use super::user::Permission;

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
    /// List the services the customer's Reverse Proxy publishes.
    Services,
    /// Publish a service at `NAME.<customer domain>`.
    CreateService(NewService),
    /// Turn a service on or off (its settings and secret are kept).
    ServiceEnabled { service: String, enabled: bool },
    /// Stop publishing a service.
    DeleteService { service: String },
    /// List access-control policies.
    Policies,
    /// Turn a policy on or off (the rest of it is sent back as it is).
    PolicyEnabled { policy: String, enabled: bool },
    /// Delete a policy.
    DeletePolicy { policy: String },
    /// Add a policy (one rule).
    CreatePolicy(NewPolicy),
    /// Change a one-rule policy; the rest of the record is sent back as it is.
    EditPolicy { policy: String, edit: PolicyEdit },
    /// NetBird's own audit events, newest first.
    Events,
    /// The embedded IdP's identity providers (SSO connectors).
    Idps,
    /// Add an identity provider (its client secret goes to NetBird only).
    CreateIdp(NewIdp),
    /// Remove an identity provider.
    DeleteIdp { idp: String },
    /// DNS nameserver groups.
    Nameservers,
    /// Add a nameserver group.
    CreateNameservers(NewNameservers),
    /// Delete a nameserver group.
    DeleteNameservers { group: String },
    /// Posture checks.
    Postures,
    /// Add a posture check (client version, OS versions, ranges, countries).
    CreatePosture(NewPosture),
    /// Replace what a posture check checks (`PUT`: the whole record).
    UpdatePosture { posture: String, new: NewPosture },
    /// Delete a posture check no policy uses.
    DeletePosture { posture: String },
    /// Make a policy require a posture check of its source devices (`attach`), or no longer.
    PolicyPosture { policy: String, posture: String, attach: bool },
    /// Networks, their resources and routers, and the DNS settings.
    Network(crate::domain::networks::NetworkAction),
}

impl AdminAction {
    /// The right it takes (`domain::rights`). Reading is for everyone; what hands out access (a
    /// key's or a user's secret) or removes something is for admins; the day-to-day changes
    /// that only narrow access or rename are for operators too.
    pub fn right(&self) -> Right {
        use AdminAction::*;
        match self {
            Peers | Keys | Users | Groups => Right::NetBirdList,
            RenamePeer { .. } | PeerLoginExpiration { .. } | RevokeKey { .. } | BlockUser { .. } => {
                Right::NetBirdChange
            }
            CreateGroup { .. } | RenameGroup { .. } => Right::NetBirdChange,
            DeletePeer { .. } | CreateKey(_) | DeleteKey { .. } | CreateUser(_) | SetUserRole { .. } => {
                Right::NetBirdGrant
            }
            DeleteUser { .. } | DeleteGroup { .. } => Right::NetBirdGrant,
            Services => Right::ServicesList,
            ServiceEnabled { .. } => Right::ServicesToggle,
            CreateService(_) | DeleteService { .. } => Right::ServicesPublish,
            Policies | Events | Idps | Nameservers | Postures => Right::NetBirdList,
            // A check, and a policy requiring it, only narrow access; removing either widens it.
            CreatePosture(_) | PolicyPosture { attach: true, .. } => Right::NetBirdChange,
            DeletePosture { .. } | PolicyPosture { attach: false, .. } | UpdatePosture { .. } => Right::NetBirdGrant,
            // Where a customer's devices resolve names is a change of what they reach: admins.
            CreateNameservers(_) | DeleteNameservers { .. } => Right::NetBirdGrant,
            CreateIdp(_) | DeleteIdp { .. } => Right::NetBirdGrant,
            // Turning a policy off only narrows access; on (or away) widens or removes.
            PolicyEnabled { enabled: false, .. } => Right::NetBirdChange,
            PolicyEnabled { enabled: true, .. } | DeletePolicy { .. } => Right::NetBirdGrant,
            // Who reaches what: admins.
            CreatePolicy(_) | EditPolicy { .. } => Right::NetBirdGrant,
            Network(n) => n.right(),
        }
    }

    /// What [`Self::right`] needs.
    pub fn permission(&self) -> Permission {
        self.right().needs()
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
            Services => "list services",
            CreateService(_) => "publish a service",
            ServiceEnabled { .. } => "enable or disable a service",
            DeleteService { .. } => "delete a service",
            Policies => "list policies",
            PolicyEnabled { enabled: true, .. } => "enable a policy",
            PolicyEnabled { enabled: false, .. } => "disable a policy",
            DeletePolicy { .. } => "delete a policy",
            CreatePolicy(_) => "add a policy",
            EditPolicy { .. } => "change a policy",
            Events => "list NetBird's audit events",
            Idps => "list identity providers",
            Nameservers => "list DNS nameserver groups",
            Postures => "list posture checks",
            CreatePosture(_) => "add a posture check",
            UpdatePosture { .. } => "change a posture check",
            DeletePosture { .. } => "delete a posture check",
            PolicyPosture { attach: true, .. } => "make a policy require a posture check",
            PolicyPosture { attach: false, .. } => "take a posture check off a policy",
            CreateNameservers(_) => "add a DNS nameserver group",
            DeleteNameservers { .. } => "delete a DNS nameserver group",
            CreateIdp(_) => "add an identity provider",
            DeleteIdp { .. } => "delete an identity provider",
            Network(n) => n.describe(),
        }
    }
}
