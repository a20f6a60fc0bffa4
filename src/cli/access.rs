//! `nbmsp customer policies|posture|dns|idps`: who may reach what in a customer's NetBird, what
//! its devices must run, which resolvers they use, and who signs in how. Parsing only; the
//! engine decides who may and audits (`Ops::netbird`), `netbird.rs` prints the answers.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::netbird::confirmed;
use super::{CliError, CliResult, auth};
use crate::domain::netbird::{AdminAction, Secret};
use crate::domain::networks::NetworkAction;

/// `customer policies`.
#[derive(Debug, Args)]
pub struct PoliciesArgs {
    /// Customer id (#12) or subdomain
    customer: String,
    #[command(subcommand)]
    cmd: Option<PolicyCmd>,
}

/// What to do with policies.
#[derive(Debug, Subcommand)]
enum PolicyCmd {
    /// List policies and their rules; ALL→ALL marks one that lets every device reach every other
    List,
    /// Add a policy of one rule (admins): FROM groups reach TO groups
    Create {
        name: String,
        /// A source group (name or id); repeat for more
        #[arg(long = "from", value_name = "GROUP", required = true)]
        sources: Vec<String>,
        /// A destination group (name or id); repeat for more
        #[arg(long = "to", value_name = "GROUP", required = true)]
        destinations: Vec<String>,
        /// all, tcp, udp, icmp or netbird-ssh
        #[arg(long, default_value = "all")]
        protocol: String,
        /// A port (tcp and udp); repeat for more [default: every port]
        #[arg(long = "port", value_name = "PORT")]
        ports: Vec<String>,
        /// Destinations may not open connections back
        #[arg(long)]
        one_way: bool,
        /// Drop what matches instead of accepting it
        #[arg(long)]
        drop: bool,
        /// Add it switched off
        #[arg(long)]
        disabled: bool,
        /// Description
        #[arg(long, default_value = "")]
        description: String,
        /// A posture check (name or id) its source devices must pass; repeat for more
        #[arg(long = "posture", value_name = "CHECK")]
        posture: Vec<String>,
    },
    /// Change a one-rule policy (admins); what is not given stays as it is
    Edit {
        policy: String,
        /// New name
        #[arg(long)]
        name: Option<String>,
        /// Source groups (replace the current ones); repeat for more
        #[arg(long = "from", value_name = "GROUP")]
        sources: Vec<String>,
        /// Destination groups (replace the current ones); repeat for more
        #[arg(long = "to", value_name = "GROUP")]
        destinations: Vec<String>,
        /// all, tcp, udp, icmp or netbird-ssh
        #[arg(long)]
        protocol: Option<String>,
        /// Ports (replace the current ones); repeat for more
        #[arg(long = "port", value_name = "PORT", conflicts_with = "all_ports")]
        ports: Vec<String>,
        /// Every port again
        #[arg(long)]
        all_ports: bool,
        /// One way (--one-way) or both ways (--both-ways)
        #[arg(long, conflicts_with = "both_ways")]
        one_way: bool,
        /// Both ways
        #[arg(long)]
        both_ways: bool,
        /// accept or drop
        #[arg(long, value_name = "accept|drop")]
        action: Option<String>,
    },
    /// Turn a policy on (POLICY: id or name; admins: it opens access)
    Enable { policy: String },
    /// Turn a policy off (operators too: it only narrows access)
    Disable { policy: String },
    /// Delete a policy (admins)
    Delete {
        policy: String,
        /// Confirm (required)
        #[arg(long)]
        yes: bool,
    },
}

/// `customer posture`.
#[derive(Debug, Args)]
pub struct PostureArgs {
    /// Customer id (#12) or subdomain
    customer: String,
    #[command(subcommand)]
    cmd: Option<PostureCmd>,
}

/// What to do with posture checks.
#[derive(Debug, Subcommand)]
enum PostureCmd {
    /// List posture checks
    List,
    /// Add a check (one kind at least): client version, OS versions, network ranges, countries
    Create {
        name: String,
        /// The least NetBird client version let through (e.g. 0.70.0)
        #[arg(long, value_name = "VERSION")]
        min_version: Option<String>,
        /// The least version of an OS: android, macos, ios, linux (kernel), windows (kernel),
        /// e.g. linux=5.10; repeat for more; an OS left out fails the check
        #[arg(long = "os", value_name = "OS=VERSION")]
        os: Vec<String>,
        /// Only devices with an address in this range (CIDR) pass; repeat for more
        #[arg(long = "allow-range", value_name = "CIDR", conflicts_with = "deny_ranges")]
        allow_ranges: Vec<String>,
        /// Devices with an address in this range (CIDR) fail; repeat for more
        #[arg(long = "deny-range", value_name = "CIDR")]
        deny_ranges: Vec<String>,
        /// Only devices in this country (two letters, e.g. DE) pass; repeat for more
        #[arg(long = "allow-country", value_name = "CC", conflicts_with = "deny_countries")]
        allow_countries: Vec<String>,
        /// Devices in this country fail; repeat for more
        #[arg(long = "deny-country", value_name = "CC")]
        deny_countries: Vec<String>,
    },
    /// Delete a check no policy requires (CHECK: id or name; admins)
    Delete {
        check: String,
        /// Confirm (required)
        #[arg(long)]
        yes: bool,
    },
    /// Make a policy require the check of its source devices
    Attach {
        check: String,
        /// The policy (id or name)
        #[arg(long, value_name = "POLICY")]
        policy: String,
    },
    /// Take the check off a policy (admins: it widens access)
    Detach {
        check: String,
        /// The policy (id or name)
        #[arg(long, value_name = "POLICY")]
        policy: String,
    },
}

/// `customer dns`.
#[derive(Debug, Args)]
pub struct DnsArgs {
    /// Customer id (#12) or subdomain
    customer: String,
    #[command(subcommand)]
    cmd: Option<DnsCmd>,
}

/// What to do with nameserver groups.
#[derive(Debug, Subcommand)]
enum DnsCmd {
    /// List nameserver groups
    List,
    /// Add one (admins): NAME, resolvers and the device groups that use them
    Create {
        name: String,
        /// A resolver, IP[:PORT] (UDP, port 53 by default); 1 to 3
        #[arg(long = "ns", value_name = "IP[:PORT]", required = true)]
        servers: Vec<String>,
        /// A device group (name or id) that uses them; repeat for more
        #[arg(long = "group", value_name = "GROUP", required = true)]
        groups: Vec<String>,
        /// Only for this domain; repeat for more [default: every name]
        #[arg(long = "domain", value_name = "DOMAIN")]
        domains: Vec<String>,
        /// Devices add the domains to their search list
        #[arg(long)]
        search_domains: bool,
    },
    /// Delete one (NSGROUP: id or name; admins)
    Delete {
        group: String,
        /// Confirm (required)
        #[arg(long)]
        yes: bool,
    },
    /// Show the groups whose devices' DNS NetBird does not manage
    Settings,
    /// Let NetBird manage the DNS of a group's devices again (GROUP: name or id; admins)
    Manage { group: String },
    /// Stop NetBird managing the DNS of a group's devices (GROUP: name or id; admins)
    Unmanage { group: String },
}

/// `customer idps`.
#[derive(Debug, Args)]
pub struct IdpsArgs {
    /// Customer id (#12) or subdomain
    customer: String,
    #[command(subcommand)]
    cmd: Option<IdpCmd>,
}

/// What to do with identity providers.
#[derive(Debug, Subcommand)]
enum IdpCmd {
    /// List identity providers (NetBird never returns their secrets)
    List,
    /// Add one (admins); NetBird checks the issuer's discovery document first
    Create {
        /// oidc, zitadel, entra, google, okta, pocketid, microsoft, authentik, keycloak or adfs
        #[arg(value_name = "TYPE")]
        kind: String,
        /// Its name on the login page
        name: String,
        /// The OAuth client id
        #[arg(long, value_name = "ID")]
        client_id: String,
        /// File holding the OAuth client secret (`-` reads stdin); sent to NetBird, kept nowhere else
        #[arg(long, value_name = "FILE")]
        secret_file: PathBuf,
        /// The issuer URL (not for google and microsoft)
        #[arg(long, value_name = "URL", default_value = "")]
        issuer: String,
    },
    /// Delete one (IDP: id or name; admins)
    Delete {
        idp: String,
        /// Confirm (required)
        #[arg(long)]
        yes: bool,
    },
}

/// `customer policies`: the customer and the action asked for.
pub(super) fn policies(a: PoliciesArgs) -> CliResult<(String, AdminAction)> {
    Ok(match a.cmd.unwrap_or(PolicyCmd::List) {
        PolicyCmd::List => (a.customer, AdminAction::Policies),
        PolicyCmd::Create {
            name,
            sources,
            destinations,
            protocol,
            ports,
            one_way,
            drop,
            disabled,
            description,
            posture,
        } => {
            let p = crate::domain::policy::NewPolicy {
                name,
                description,
                enabled: !disabled,
                sources,
                destinations,
                protocol: protocol.to_ascii_lowercase(),
                ports,
                bidirectional: !one_way,
                action: if drop { "drop" } else { "accept" }.into(),
                posture,
            };
            (a.customer, AdminAction::CreatePolicy(p))
        }
        PolicyCmd::Edit {
            policy,
            name,
            sources,
            destinations,
            protocol,
            ports,
            all_ports,
            one_way,
            both_ways,
            action,
        } => {
            let some = |v: Vec<String>| Some(v).filter(|v| !v.is_empty());
            let edit = crate::domain::policy::PolicyEdit {
                name,
                sources: some(sources),
                destinations: some(destinations),
                protocol: protocol.map(|p| p.to_ascii_lowercase()),
                ports: if all_ports { Some(Vec::new()) } else { some(ports) },
                bidirectional: if one_way {
                    Some(false)
                } else if both_ways {
                    Some(true)
                } else {
                    None
                },
                action,
                enabled: None,
                posture: None,
            };
            (a.customer, AdminAction::EditPolicy { policy, edit })
        }
        PolicyCmd::Enable { policy } => (a.customer, AdminAction::PolicyEnabled { policy, enabled: true }),
        PolicyCmd::Disable { policy } => (a.customer, AdminAction::PolicyEnabled { policy, enabled: false }),
        PolicyCmd::Delete { policy, yes } => {
            confirmed(yes, &format!("policy '{policy}'"))?;
            (a.customer, AdminAction::DeletePolicy { policy })
        }
    })
}

/// `customer posture`: the customer and the action asked for.
pub(super) fn posture(a: PostureArgs) -> CliResult<(String, AdminAction)> {
    Ok(match a.cmd.unwrap_or(PostureCmd::List) {
        PostureCmd::List => (a.customer, AdminAction::Postures),
        PostureCmd::Create { name, min_version, os, allow_ranges, deny_ranges, allow_countries, deny_countries } => {
            use crate::domain::posture::{Action, NewPosture, Os, upper};
            let os = os
                .iter()
                .map(|o| {
                    let (k, v) = o.split_once('=').ok_or_else(|| CliError::usage(format!("--os {o}: OS=VERSION")))?;
                    let os = Os::parse(k)
                        .ok_or_else(|| CliError::usage(format!("--os {o}: android, macos, ios, linux or windows")))?;
                    Ok((os, v.to_string()))
                })
                .collect::<CliResult<Vec<_>>>()?;
            let either = |allow: Vec<String>, deny: Vec<String>| match (allow.is_empty(), deny.is_empty()) {
                (true, true) => None,
                (false, _) => Some((Action::Allow, allow)),
                (true, false) => Some((Action::Deny, deny)),
            };
            let p = NewPosture {
                name,
                description: String::new(),
                min_version,
                os,
                ranges: either(allow_ranges, deny_ranges),
                countries: either(upper(allow_countries), upper(deny_countries)),
            };
            // Checked where every door passes: the engine (`NetBirdApi::create_posture`).
            (a.customer, AdminAction::CreatePosture(p))
        }
        PostureCmd::Delete { check, yes } => {
            confirmed(yes, &format!("posture check '{check}'"))?;
            (a.customer, AdminAction::DeletePosture { posture: check })
        }
        PostureCmd::Attach { check, policy } => {
            (a.customer, AdminAction::PolicyPosture { policy, posture: check, attach: true })
        }
        PostureCmd::Detach { check, policy } => {
            (a.customer, AdminAction::PolicyPosture { policy, posture: check, attach: false })
        }
    })
}

/// `customer dns`: the customer and the action asked for.
pub(super) fn dns(a: DnsArgs) -> CliResult<(String, AdminAction)> {
    Ok(match a.cmd.unwrap_or(DnsCmd::List) {
        DnsCmd::List => (a.customer, AdminAction::Nameservers),
        DnsCmd::Create { name, servers, groups, domains, search_domains } => {
            let servers = servers.iter().map(|s| cli_resolver(s)).collect::<CliResult<Vec<_>>>()?;
            let new = crate::domain::netbird::NewNameservers {
                name,
                description: String::new(),
                servers,
                groups,
                domains,
                search_domains,
            };
            (a.customer, AdminAction::CreateNameservers(new))
        }
        DnsCmd::Delete { group, yes } => {
            confirmed(yes, &format!("nameserver group '{group}'"))?;
            (a.customer, AdminAction::DeleteNameservers { group })
        }
        DnsCmd::Settings => (a.customer, AdminAction::Network(NetworkAction::DnsSettings)),
        DnsCmd::Manage { group } => {
            (a.customer, AdminAction::Network(NetworkAction::DnsManagement { group, managed: true }))
        }
        DnsCmd::Unmanage { group } => {
            (a.customer, AdminAction::Network(NetworkAction::DnsManagement { group, managed: false }))
        }
    })
}

/// `customer idps`: the customer and the action asked for.
pub(super) fn idps(a: IdpsArgs) -> CliResult<(String, AdminAction)> {
    Ok(match a.cmd.unwrap_or(IdpCmd::List) {
        IdpCmd::List => (a.customer, AdminAction::Idps),
        IdpCmd::Create { kind, name, client_id, secret_file, issuer } => {
            let value = auth::read_secret_file(&secret_file)?;
            if value.is_empty() {
                return Err(CliError::usage(format!("the client secret in {} is empty", secret_file.display())));
            }
            let new = crate::domain::netbird::NewIdp { kind, name, issuer, client_id, secret: Secret(value) };
            (a.customer, AdminAction::CreateIdp(new))
        }
        IdpCmd::Delete { idp, yes } => {
            confirmed(yes, &format!("identity provider '{idp}'"))?;
            (a.customer, AdminAction::DeleteIdp { idp })
        }
    })
}

/// `--ns IP[:PORT]`, read as the baseline reads it ([`parse_resolver`]).
fn cli_resolver(s: &str) -> CliResult<(String, u16)> {
    crate::domain::netbird::parse_resolver(s).map_err(|e| CliError::usage(format!("--ns {}", e.rule)))
}
