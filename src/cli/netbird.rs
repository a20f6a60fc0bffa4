//! `nbmsp customer peers|keys|users|groups|set-token`: a customer's NetBird administered from
//! the shell, as its owner, every change in nbmsp's audit log.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{CliError, CliResult, GlobalArgs, auth, deploy, output};
use crate::domain::netbird::{
    AdminAction, AdminAnswer, NewService, NewSetupKey, NewUser, Secret, ServiceAuth, older_than,
};
use crate::store::{Session, Store};

/// NetBird administration commands.
#[derive(Debug, Subcommand)]
pub enum NetBirdCommand {
    /// The customer's devices: list (default), rename, login-expiration, delete
    Peers(PeersArgs),
    /// The customer's setup keys: list (default), create, revoke, delete
    Keys(KeysArgs),
    /// The customer's NetBird users: list (default), create, role, block, unblock, delete
    Users(UsersArgs),
    /// The customer's groups: list (default), create, rename, delete
    Groups(GroupsArgs),
    /// Services the customer's NetBird Reverse Proxy publishes at NAME.<customer domain>:
    /// list (default), create, enable, disable, delete
    Services(ServicesArgs),
    /// The customer's access-control policies: list (default; the flat All → All one marked),
    /// create, edit, enable, disable, delete
    Policies(super::access::PoliciesArgs),
    /// Identity providers the customer's staff sign in with (the embedded IdP's SSO
    /// connectors): list (default), create, delete
    Idps(super::access::IdpsArgs),
    /// DNS nameserver groups: which resolvers the customer's devices use, for every name or for
    /// some domains: list (default), create, delete; and whose DNS NetBird manages: settings,
    /// manage, unmanage
    Dns(super::access::DnsArgs),
    /// Networks: what the customer's devices reach beyond each other (an office LAN, a server,
    /// a domain) through routing devices: list (default), create, delete, add-resource,
    /// remove-resource, add-router, remove-router
    Networks(super::networks::NetworksArgs),
    /// Legacy routes (accounts from before Networks): list (default), create, delete
    Routes(super::routes::RoutesArgs),
    /// Posture checks (client and OS versions, network ranges, countries) and the policies that
    /// require them: list (default), create, delete, attach, detach
    Posture(super::access::PostureArgs),
    /// NetBird's own audit events of the customer, newest first (who changed what in its NetBird,
    /// whether through nbmsp or its dashboard)
    Events {
        /// Customer id (#12) or subdomain
        customer: String,
        /// Only events whose activity, code, initiator or target contains TEXT
        #[arg(long, value_name = "TEXT")]
        search: Option<String>,
        /// At most N events
        #[arg(long, value_name = "N", default_value_t = 50)]
        limit: usize,
    },
    /// Store an access token made in the customer's NetBird dashboard when nbmsp's own expired
    /// or was revoked; nbmsp then renews from it
    SetToken {
        /// Customer id (#12) or subdomain
        customer: String,
        /// File holding the token (`-` reads stdin)
        #[arg(long, value_name = "FILE")]
        token_file: PathBuf,
    },
}

/// `customer peers`.
#[derive(Debug, Args)]
pub struct PeersArgs {
    /// Customer id (#12) or subdomain
    customer: String,
    #[command(subcommand)]
    cmd: Option<PeerCmd>,
}

/// What to do with devices.
#[derive(Debug, Subcommand)]
enum PeerCmd {
    /// List devices
    List {
        /// Only devices whose name, IP, OS or group contains TEXT
        #[arg(long, value_name = "TEXT")]
        search: Option<String>,
        /// Only devices whose client is older than VERSION (e.g. 0.70.0)
        #[arg(long, value_name = "VERSION")]
        older_than: Option<String>,
    },
    /// Rename a device (PEER: id or name)
    Rename { peer: String, name: String },
    /// Turn a device's login expiration on or off (devices added with SSO only)
    LoginExpiration {
        peer: String,
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
    /// Remove a device from the customer's network
    Delete {
        peer: String,
        /// Confirm (required)
        #[arg(long)]
        yes: bool,
    },
}

/// `customer keys`.
#[derive(Debug, Args)]
pub struct KeysArgs {
    /// Customer id (#12) or subdomain
    customer: String,
    #[command(subcommand)]
    cmd: Option<KeyCmd>,
}

/// What to do with setup keys.
#[derive(Debug, Subcommand)]
enum KeyCmd {
    /// List setup keys
    List,
    /// Create a setup key; its secret and the `netbird up` line are shown once (admins only)
    Create {
        /// Name of the key
        name: String,
        /// Usable for many devices (default: once)
        #[arg(long)]
        reusable: bool,
        /// Days until it expires (0: never)
        #[arg(long, value_name = "DAYS", default_value_t = 7)]
        expires_days: u32,
        /// Uses allowed for a reusable key (0: unlimited)
        #[arg(long, value_name = "N", default_value_t = 0, requires = "reusable")]
        usage_limit: u32,
        /// Group given to devices that join with it (name or id; repeat for more)
        #[arg(long = "group", value_name = "GROUP")]
        groups: Vec<String>,
        /// Devices that join with it are removed when they go offline
        #[arg(long)]
        ephemeral: bool,
    },
    /// Revoke a setup key (KEY: id or name; cannot be undone)
    Revoke { key: String },
    /// Delete a setup key
    Delete {
        key: String,
        /// Confirm (required)
        #[arg(long)]
        yes: bool,
    },
}

/// `customer users`.
#[derive(Debug, Args)]
pub struct UsersArgs {
    /// Customer id (#12) or subdomain
    customer: String,
    #[command(subcommand)]
    cmd: Option<UserCmd>,
}

/// What to do with NetBird users.
#[derive(Debug, Subcommand)]
enum UserCmd {
    /// List users
    List,
    /// Create a person (with --email; NetBird's embedded login makes a password, shown once)
    /// or a service user (--service)
    Create {
        /// Name
        name: String,
        /// Email of a person who logs in
        #[arg(long, value_name = "EMAIL", required_unless_present = "service")]
        email: Option<String>,
        /// A service user: API access only, no login
        #[arg(long, conflicts_with = "email")]
        service: bool,
        /// NetBird role: admin, user, auditor, network_admin, billing_admin
        #[arg(long, default_value = "user")]
        role: String,
    },
    /// Change a user's role (USER: id, email or name)
    Role {
        // Not `user`: that id is the global --user (who logs in to nbmsp).
        #[arg(value_name = "USER")]
        target: String,
        role: String,
    },
    /// Block a user from logging in
    Block {
        #[arg(value_name = "USER")]
        target: String,
    },
    /// Let a blocked user log in again
    Unblock {
        #[arg(value_name = "USER")]
        target: String,
    },
    /// Delete a user (a person's devices go with them)
    Delete {
        #[arg(value_name = "USER")]
        target: String,
        /// Confirm (required)
        #[arg(long)]
        yes: bool,
    },
}

/// `customer groups`.
#[derive(Debug, Args)]
pub struct GroupsArgs {
    /// Customer id (#12) or subdomain
    customer: String,
    #[command(subcommand)]
    cmd: Option<GroupCmd>,
}

/// What to do with groups.
#[derive(Debug, Subcommand)]
enum GroupCmd {
    /// List groups with their device counts
    List,
    /// Create a group
    Create { name: String },
    /// Rename a group (its devices stay in it)
    Rename { group: String, name: String },
    /// Delete a group nothing uses
    Delete {
        group: String,
        /// Confirm (required)
        #[arg(long)]
        yes: bool,
    },
}

/// `customer services`.
#[derive(Debug, Args)]
pub struct ServicesArgs {
    /// Customer id (#12) or subdomain
    customer: String,
    #[command(subcommand)]
    cmd: Option<ServiceCmd>,
}

/// Who a service asks before letting a visitor through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum AuthKind {
    /// Nobody is asked
    None,
    /// The customer's NetBird login
    Sso,
    /// A PIN (from --secret-file)
    Pin,
    /// A password (from --secret-file)
    Password,
}

/// What to do with services.
#[derive(Debug, Subcommand)]
enum ServiceCmd {
    /// List services with their status (pending, active, tunnel_not_created, certificate_*, error)
    List,
    /// Publish NAME.<customer domain> for a device's or a network resource's port
    Create {
        /// The first label of its domain
        name: String,
        /// What serves it: a device or a network resource (id or name), with :PORT [default: 80,
        /// or 443 for https]; a subnet resource names the address inside it: LAN@10.1.2.3:8080
        #[arg(long, value_name = "TARGET[@ADDRESS][:PORT]")]
        target: String,
        /// How the proxy talks to the device
        #[arg(long, value_parser = ["http", "https"], default_value = "http")]
        scheme: String,
        /// Who is asked before a visitor gets through
        #[arg(long, value_enum, default_value = "none")]
        auth: AuthKind,
        /// File holding the PIN or password (`-` reads stdin); never on the command line
        #[arg(long, value_name = "FILE")]
        secret_file: Option<PathBuf>,
    },
    /// Switch a service on (SERVICE: id, name or domain)
    Enable { service: String },
    /// Switch a service off; its settings and secret stay
    Disable { service: String },
    /// Stop publishing a service
    Delete {
        service: String,
        /// Confirm (required)
        #[arg(long)]
        yes: bool,
    },
}

pub(super) fn confirmed(yes: bool, what: &str) -> CliResult {
    if yes { Ok(()) } else { Err(CliError::usage(format!("refusing to delete {what} without --yes"))) }
}

/// The customer and the action a command asks for, plus a filter for device lists.
fn action(cmd: NetBirdCommand) -> CliResult<(String, AdminAction, Option<Filter>)> {
    Ok(match cmd {
        NetBirdCommand::Peers(a) => match a.cmd.unwrap_or(PeerCmd::List { search: None, older_than: None }) {
            PeerCmd::List { search, older_than } => {
                (a.customer, AdminAction::Peers, Some(Filter::Peers(PeerFilter { search, older_than })))
            }
            PeerCmd::Rename { peer, name } => (a.customer, AdminAction::RenamePeer { peer, name }, None),
            PeerCmd::LoginExpiration { peer, state } => {
                (a.customer, AdminAction::PeerLoginExpiration { peer, enabled: state == "on" }, None)
            }
            PeerCmd::Delete { peer, yes } => {
                confirmed(yes, &format!("device '{peer}'"))?;
                (a.customer, AdminAction::DeletePeer { peer }, None)
            }
        },
        NetBirdCommand::Keys(a) => match a.cmd.unwrap_or(KeyCmd::List) {
            KeyCmd::List => (a.customer, AdminAction::Keys, None),
            KeyCmd::Create { name, reusable, expires_days, usage_limit, groups, ephemeral } => {
                let key = NewSetupKey { name, reusable, expires_days, usage_limit, auto_groups: groups, ephemeral };
                (a.customer, AdminAction::CreateKey(key), None)
            }
            KeyCmd::Revoke { key } => (a.customer, AdminAction::RevokeKey { key }, None),
            KeyCmd::Delete { key, yes } => {
                confirmed(yes, &format!("setup key '{key}'"))?;
                (a.customer, AdminAction::DeleteKey { key }, None)
            }
        },
        NetBirdCommand::Users(a) => match a.cmd.unwrap_or(UserCmd::List) {
            UserCmd::List => (a.customer, AdminAction::Users, None),
            UserCmd::Create { name, email, service, role } => {
                let user = NewUser { service, name, email: email.unwrap_or_default(), role };
                (a.customer, AdminAction::CreateUser(user), None)
            }
            UserCmd::Role { target, role } => (a.customer, AdminAction::SetUserRole { user: target, role }, None),
            UserCmd::Block { target } => (a.customer, AdminAction::BlockUser { user: target, blocked: true }, None),
            UserCmd::Unblock { target } => (a.customer, AdminAction::BlockUser { user: target, blocked: false }, None),
            UserCmd::Delete { target, yes } => {
                confirmed(yes, &format!("user '{target}'"))?;
                (a.customer, AdminAction::DeleteUser { user: target }, None)
            }
        },
        NetBirdCommand::Groups(a) => match a.cmd.unwrap_or(GroupCmd::List) {
            GroupCmd::List => (a.customer, AdminAction::Groups, None),
            GroupCmd::Create { name } => (a.customer, AdminAction::CreateGroup { name }, None),
            GroupCmd::Rename { group, name } => (a.customer, AdminAction::RenameGroup { group, name }, None),
            GroupCmd::Delete { group, yes } => {
                confirmed(yes, &format!("group '{group}'"))?;
                (a.customer, AdminAction::DeleteGroup { group }, None)
            }
        },
        NetBirdCommand::Services(a) => match a.cmd.unwrap_or(ServiceCmd::List) {
            ServiceCmd::List => (a.customer, AdminAction::Services, None),
            ServiceCmd::Create { name, target, scheme, auth: kind, secret_file } => {
                let target = crate::domain::service_target::TargetSpec::parse(&target, &scheme)?;
                let secret = |what: &str| -> CliResult<Secret> {
                    let file = secret_file
                        .as_ref()
                        .ok_or_else(|| CliError::usage(format!("--auth {what} needs --secret-file with the {what}")))?;
                    let value = auth::read_secret_file(file)?;
                    if value.is_empty() {
                        return Err(CliError::usage(format!("the {what} in {} is empty", file.display())));
                    }
                    Ok(Secret(value))
                };
                let auth = match kind {
                    AuthKind::None => ServiceAuth::None,
                    AuthKind::Sso => ServiceAuth::Sso,
                    AuthKind::Pin => ServiceAuth::Pin(secret("PIN")?),
                    AuthKind::Password => ServiceAuth::Password(secret("password")?),
                };
                if secret_file.is_some() && matches!(kind, AuthKind::None | AuthKind::Sso) {
                    return Err(CliError::usage("--secret-file goes with --auth pin or --auth password"));
                }
                (a.customer, AdminAction::CreateService(NewService { name, target, scheme, auth }), None)
            }
            ServiceCmd::Enable { service } => {
                (a.customer, AdminAction::ServiceEnabled { service, enabled: true }, None)
            }
            ServiceCmd::Disable { service } => {
                (a.customer, AdminAction::ServiceEnabled { service, enabled: false }, None)
            }
            ServiceCmd::Delete { service, yes } => {
                confirmed(yes, &format!("service '{service}'"))?;
                (a.customer, AdminAction::DeleteService { service }, None)
            }
        },
        NetBirdCommand::Policies(a) => no_filter(super::access::policies(a)?),
        NetBirdCommand::Posture(a) => no_filter(super::access::posture(a)?),
        NetBirdCommand::Dns(a) => no_filter(super::access::dns(a)?),
        NetBirdCommand::Networks(a) => {
            let (customer, act) = super::networks::action(a)?;
            (customer, act, None)
        }
        NetBirdCommand::Idps(a) => no_filter(super::access::idps(a)?),
        NetBirdCommand::Routes(a) => no_filter(super::routes::action(a)?),
        NetBirdCommand::Events { customer, search, limit } => {
            (customer, AdminAction::Events, Some(Filter::Events { search, limit }))
        }
        NetBirdCommand::SetToken { .. } => return Err(CliError::usage("set-token takes no action")),
    })
}

/// An action whose answer is printed whole.
fn no_filter((customer, action): (String, AdminAction)) -> (String, AdminAction, Option<Filter>) {
    (customer, action, None)
}

/// Which devices a list shows.
/// What a list shows of what NetBird sent.
enum Filter {
    /// Devices.
    Peers(PeerFilter),
    /// Audit events: a search and a limit.
    Events { search: Option<String>, limit: usize },
}

struct PeerFilter {
    search: Option<String>,
    older_than: Option<String>,
}

impl PeerFilter {
    fn keeps(&self, p: &crate::domain::netbird::Peer) -> bool {
        let text = self.search.as_ref().is_none_or(|s| {
            let s = s.to_lowercase();
            [&p.name, &p.ip, &p.os].iter().any(|f| f.to_lowercase().contains(&s))
                || p.groups.iter().any(|g| g.to_lowercase().contains(&s))
        });
        text && self.older_than.as_ref().is_none_or(|v| older_than(&p.version, v))
    }
}

/// Runs a NetBird administration command.
pub async fn run(g: &GlobalArgs, store: &Store, session: &Session, cmd: NetBirdCommand) -> CliResult {
    if let NetBirdCommand::SetToken { customer, token_file } = cmd {
        let c = store.find_customer(&customer)?;
        let token = zeroize::Zeroizing::new(auth::read_secret_file(&token_file)?);
        let r = deploy::with_ops(g, store, session, async |ops| Ok(ops.set_token(c.id, &token).await?)).await?;
        return if g.json {
            output::json(&serde_json::json!({"customer": c.subdomain, "expires_at": r.expires_at}))
        } else {
            println!(
                "{}: token accepted; nbmsp's own token is valid until {} (the one you made can be deleted in the dashboard)",
                c.subdomain,
                r.expires_at.date()
            );
            Ok(())
        };
    }
    let (customer, act, filter) = action(cmd)?;
    let c = store.find_customer(&customer)?;
    let answer = deploy::with_ops(g, store, session, async |ops| Ok(ops.netbird(c.id, act).await?)).await?;
    let answer = match (answer, filter) {
        (AdminAnswer::Peers(p), Some(Filter::Peers(f))) => {
            AdminAnswer::Peers(p.into_iter().filter(|p| f.keeps(p)).collect())
        }
        (AdminAnswer::Events(e), Some(Filter::Events { search, limit })) => {
            let q = search.unwrap_or_default().to_lowercase();
            let hit = |e: &crate::domain::netbird::NbEvent| {
                q.is_empty()
                    || [&e.activity, &e.code, &e.initiator, &e.target].iter().any(|f| f.to_lowercase().contains(&q))
            };
            AdminAnswer::Events(e.into_iter().filter(hit).take(limit).collect())
        }
        (a, _) => a,
    };
    if g.json {
        return output::json(&answer);
    }
    super::netbird_view::print_answer(&answer);
    Ok(())
}
