//! `nbmsp customer networks` and `customer dns settings|manage|unmanage`: what a customer's
//! devices reach beyond each other, and whose DNS NetBird manages. Parsing and printing only;
//! the engine decides who may and audits (`Ops::netbird`).

use clap::{Args, Subcommand};

use super::output;
use crate::domain::netbird::{AdminAction, AdminAnswer};
use crate::domain::networks::{DEFAULT_METRIC, NbNetwork, NetworkAction, RouterVia};

/// `customer networks`.
#[derive(Debug, Args)]
pub struct NetworksArgs {
    /// Customer id (#12) or subdomain
    pub customer: String,
    #[command(subcommand)]
    cmd: Option<NetworksCmd>,
}

/// What to do with networks.
#[derive(Debug, Subcommand)]
enum NetworksCmd {
    /// List networks with their resources and routers
    List,
    /// Add a network (admins); then give it a resource and a router
    Create {
        name: String,
        /// What it is for
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Delete a network with its resources and routers (NETWORK: id or name; admins)
    Delete {
        network: String,
        /// Confirm (required)
        #[arg(long)]
        yes: bool,
    },
    /// Add a resource to a network (admins): an IP, a subnet or a domain that devices of the
    /// groups' policies reach
    AddResource {
        network: String,
        /// A name unique in the customer's NetBird
        name: String,
        /// IP (10.0.0.5), subnet (10.0.0.0/24) or domain (db.acme.example, *.acme.example)
        #[arg(long, value_name = "ADDRESS")]
        address: String,
        /// A group (name or id) it belongs to; repeat for more
        #[arg(long = "group", value_name = "GROUP", required = true)]
        groups: Vec<String>,
    },
    /// Remove a resource (RESOURCE: id or name; admins)
    RemoveResource {
        network: String,
        resource: String,
        /// Confirm (required)
        #[arg(long)]
        yes: bool,
    },
    /// Add a router (admins): one device, or every device of some groups, routes the network
    AddRouter {
        network: String,
        /// The routing device (name, IP or id)
        #[arg(long, value_name = "DEVICE", conflicts_with = "groups", required_unless_present = "groups")]
        peer: Option<String>,
        /// A group (name or id) whose devices route it; repeat for more
        #[arg(long = "group", value_name = "GROUP")]
        groups: Vec<String>,
        /// Keep the devices' own addresses (no masquerading); the LAN must route back to them
        #[arg(long)]
        no_masquerade: bool,
        /// Lower wins between routers
        #[arg(long, default_value_t = DEFAULT_METRIC, value_parser = clap::value_parser!(u16).range(1..=9999))]
        metric: u16,
    },
    /// Remove a router (ROUTER: id, or its device's name; admins)
    RemoveRouter {
        network: String,
        router: String,
        /// Confirm (required)
        #[arg(long)]
        yes: bool,
    },
}

/// The action `customer networks` asks for.
pub fn action(a: NetworksArgs) -> super::CliResult<(String, AdminAction)> {
    use NetworksCmd::*;
    let act = match a.cmd.unwrap_or(List) {
        List => NetworkAction::List,
        Create { name, description } => NetworkAction::Create { name, description },
        Delete { network, yes } => {
            super::netbird::confirmed(yes, &format!("network '{network}' with its resources and routers"))?;
            NetworkAction::Delete { network }
        }
        AddResource { network, name, address, groups } => NetworkAction::AddResource { network, name, address, groups },
        RemoveResource { network, resource, yes } => {
            super::netbird::confirmed(yes, &format!("resource '{resource}'"))?;
            NetworkAction::RemoveResource { network, resource }
        }
        AddRouter { network, peer, groups, no_masquerade, metric } => {
            let via = match peer {
                Some(p) => RouterVia::Peer(p),
                None => RouterVia::Groups(groups),
            };
            NetworkAction::AddRouter { network, via, masquerade: !no_masquerade, metric }
        }
        RemoveRouter { network, router, yes } => {
            super::netbird::confirmed(yes, &format!("router '{router}'"))?;
            NetworkAction::RemoveRouter { network, router }
        }
    };
    Ok((a.customer, AdminAction::Network(act)))
}

/// Prints a networks or DNS-settings answer; `false` when `answer` is neither.
pub fn print(answer: &AdminAnswer) -> bool {
    match answer {
        AdminAnswer::Networks(nets) => print_networks(nets),
        AdminAnswer::DnsSettings(unmanaged) if unmanaged.is_empty() => {
            println!("NetBird manages the DNS of every group's devices")
        }
        AdminAnswer::DnsSettings(unmanaged) => {
            println!("NetBird does not manage the DNS of these groups' devices: {}", unmanaged.join(", "))
        }
        _ => return false,
    }
    true
}

fn print_networks(nets: &[NbNetwork]) {
    if nets.is_empty() {
        println!("no networks (add one: nbmsp customer networks CUSTOMER create NAME)");
        return;
    }
    let mut rows = Vec::new();
    for n in nets {
        rows.push(vec![n.name.clone(), "network".into(), n.description.clone(), String::new(), n.id.clone()]);
        for r in &n.resources {
            let state = if r.enabled { "" } else { " (off)" };
            rows.push(vec![
                format!("  {}", r.name),
                format!("{} resource{state}", r.kind),
                r.address.clone(),
                r.groups.join(","),
                r.id.clone(),
            ]);
        }
        for r in &n.routers {
            let who = if r.peer.is_empty() { format!("groups {}", r.peer_groups.join(",")) } else { r.peer.clone() };
            let how = if r.masquerade { "masquerade" } else { "own addresses" };
            rows.push(vec![
                format!("  {who}"),
                format!("router{}", if r.enabled { "" } else { " (off)" }),
                format!("metric {} · {how}", r.metric),
                String::new(),
                r.id.clone(),
            ]);
        }
        if n.routers.is_empty() {
            rows.push(vec![
                "  ⚠ no router".into(),
                String::new(),
                "its resources are not reachable".into(),
                String::new(),
                String::new(),
            ]);
        }
    }
    println!("{}", output::table(&["NAME", "KIND", "ADDRESS", "GROUPS", "ID"], &rows));
}
