//! `nbmsp customer routes`: NetBird's legacy network routes (accounts from before Networks still
//! use them). Parsing and printing only; the engine checks, resolves names and audits.

use clap::{Args, Subcommand};

use super::output;
use crate::domain::netbird::{AdminAction, AdminAnswer};
use crate::domain::networks::{DEFAULT_METRIC, NetworkAction, RouterVia};
use crate::domain::routes::{NbRoute, NewRoute};

/// `customer routes`.
#[derive(Debug, Args)]
pub struct RoutesArgs {
    /// Customer id (#12) or subdomain
    pub customer: String,
    #[command(subcommand)]
    cmd: Option<RoutesCmd>,
}

/// What to do with routes.
#[derive(Debug, Subcommand)]
enum RoutesCmd {
    /// List routes
    List,
    /// Add a route (admins): a range or domains, routed by a device or the devices of groups,
    /// for the devices of the distribution groups
    Create {
        /// Network identifier (1 to 40 characters; routes sharing one are alternatives)
        network_id: String,
        /// The range routed (10.10.0.0/16)
        #[arg(long, value_name = "CIDR", conflicts_with = "domains", required_unless_present = "domains")]
        network: Option<String>,
        /// A domain routed instead of a range; repeat for more
        #[arg(long = "domain", value_name = "DOMAIN")]
        domains: Vec<String>,
        /// The routing device (name, IP or id)
        #[arg(long, value_name = "DEVICE", conflicts_with = "peer_groups", required_unless_present = "peer_groups")]
        peer: Option<String>,
        /// A group whose devices route it; repeat for more
        #[arg(long = "peer-group", value_name = "GROUP")]
        peer_groups: Vec<String>,
        /// A distribution group (name or id) whose devices get the route; repeat for more
        #[arg(long = "group", value_name = "GROUP", required = true)]
        groups: Vec<String>,
        /// Keep the devices' own addresses (no masquerading)
        #[arg(long)]
        no_masquerade: bool,
        /// Lower wins between routes of one identifier
        #[arg(long, default_value_t = DEFAULT_METRIC, value_parser = clap::value_parser!(u16).range(1..=9999))]
        metric: u16,
        /// Description
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Delete a route (ROUTE: id, or a network identifier only one route has; admins)
    Delete {
        route: String,
        /// Confirm (required)
        #[arg(long)]
        yes: bool,
    },
}

/// The action `customer routes` asks for.
pub fn action(a: RoutesArgs) -> super::CliResult<(String, AdminAction)> {
    let act = match a.cmd.unwrap_or(RoutesCmd::List) {
        RoutesCmd::List => NetworkAction::Routes,
        RoutesCmd::Create {
            network_id,
            network,
            domains,
            peer,
            peer_groups,
            groups,
            no_masquerade,
            metric,
            description,
        } => NetworkAction::CreateRoute(NewRoute {
            network_id,
            description,
            network,
            domains,
            via: match peer {
                Some(p) => RouterVia::Peer(p),
                None => RouterVia::Groups(peer_groups),
            },
            groups,
            masquerade: !no_masquerade,
            metric,
        }),
        RoutesCmd::Delete { route, yes } => {
            super::netbird::confirmed(yes, &format!("route '{route}'"))?;
            NetworkAction::DeleteRoute { route }
        }
    };
    Ok((a.customer, AdminAction::Network(act)))
}

/// Prints a routes answer; `false` for any other.
pub fn print(answer: &AdminAnswer) -> bool {
    let AdminAnswer::Routes(routes) = answer else { return false };
    if routes.is_empty() {
        println!("no routes (networks are NetBird's newer way: nbmsp customer networks)");
        return true;
    }
    let rows: Vec<Vec<String>> = routes.iter().map(row).collect();
    println!("{}", output::table(&["NETWORK ID", "ROUTES", "VIA", "FOR GROUPS", "METRIC", "ID"], &rows));
    true
}

fn row(r: &NbRoute) -> Vec<String> {
    let what = if r.domains.is_empty() { r.network.clone() } else { r.domains.join(",") };
    let via = if r.peer.is_empty() { format!("groups {}", r.peer_groups.join(",")) } else { r.peer.clone() };
    let off = if r.enabled { "" } else { " (off)" };
    vec![format!("{}{off}", r.network_id), what, via, r.groups.join(","), r.metric.to_string(), r.id.clone()]
}
