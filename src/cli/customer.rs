//! `nbmsp customer ...`.

use clap::{Args, Subcommand};
use serde::Serialize;

use super::{CliError, CliResult, GlobalArgs, auth, output};
use crate::domain::customer::{Customer, CustomerPatch, CustomerStatus, DEFAULT_MAX_DEVICES, Layout, NewCustomer};
use crate::domain::deployment::Deployment;
use crate::store::Store;
use crate::store::customers::CustomerQuery;

/// Customer commands.
#[derive(Debug, Subcommand)]
pub enum CustomerCommand {
    /// Create a customer (deployment arrives with the engine; until then this is --no-deploy)
    Create(CreateArgs),
    /// List customers
    List {
        /// Only customers whose name, subdomain, email or company contains this text
        #[arg(long, value_name = "TEXT")]
        search: Option<String>,
        /// Only customers with this status (active, inactive, deploying, error)
        #[arg(long, value_name = "STATUS")]
        status: Option<CustomerStatus>,
    },
    /// Show one customer
    Show {
        /// Customer id or subdomain
        customer: String,
    },
    /// Change a customer's fields
    Update(UpdateArgs),
    /// Delete a customer
    Delete {
        /// Customer id or subdomain
        customer: String,
        /// Confirm the deletion (required)
        #[arg(long)]
        yes: bool,
    },
}

/// Arguments of `customer create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Display name
    #[arg(long)]
    pub name: String,
    /// DNS label under the base domain (a-z, 0-9, hyphen)
    #[arg(long)]
    pub subdomain: String,
    /// Contact address; becomes the NetBird owner's login
    #[arg(long)]
    pub email: String,
    /// Company name
    #[arg(long, default_value = "")]
    pub company: String,
    /// Devices the customer may connect
    #[arg(long, default_value_t = DEFAULT_MAX_DEVICES)]
    pub max_devices: i64,
    /// Notes for the MSP's staff
    #[arg(long, default_value = "")]
    pub notes: String,
    /// NetBird layout [default: the `layout` setting]
    #[arg(long)]
    pub layout: Option<Layout>,
    /// Only record the customer; do not deploy
    #[arg(long)]
    pub no_deploy: bool,
}

/// Arguments of `customer update`.
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// Customer id or subdomain
    pub customer: String,
    /// New display name
    #[arg(long)]
    pub name: Option<String>,
    /// New company
    #[arg(long)]
    pub company: Option<String>,
    /// New contact address
    #[arg(long)]
    pub email: Option<String>,
    /// New device limit
    #[arg(long)]
    pub max_devices: Option<i64>,
    /// New notes
    #[arg(long)]
    pub notes: Option<String>,
    /// New layout (applied on the next redeploy)
    #[arg(long)]
    pub layout: Option<Layout>,
}

/// A customer as printed by `--json`: the stored fields plus its deployment's.
#[derive(Debug, Serialize)]
pub struct CustomerView {
    #[serde(flatten)]
    customer: Customer,
    fqdn: String,
    relay_udp_port: Option<u16>,
    setup_url: Option<String>,
    deployment_status: Option<String>,
}

impl CustomerView {
    fn new(customer: Customer, deployment: Option<Deployment>, base_domain: &str) -> Self {
        Self {
            fqdn: customer.fqdn(base_domain),
            relay_udp_port: deployment.as_ref().and_then(|d| d.relay_udp_port),
            setup_url: deployment.as_ref().and_then(|d| d.setup_url.clone()),
            deployment_status: deployment.map(|d| d.status.to_string()),
            customer,
        }
    }

    fn load(store: &Store, customer: Customer, base_domain: &str) -> CliResult<Self> {
        let d = store.deployment(customer.id)?;
        Ok(Self::new(customer, d, base_domain))
    }
}

/// Runs a customer command.
pub fn run(g: &GlobalArgs, cmd: CustomerCommand) -> CliResult {
    let (mut store, session) = auth::login(g)?;
    let actor = session.user.username.clone();
    let base_domain = store.settings()?.base_domain;
    match cmd {
        CustomerCommand::Create(a) => {
            let layout = match a.layout {
                Some(l) => l,
                None => store.settings()?.layout,
            };
            let new = NewCustomer {
                name: a.name,
                company: a.company,
                subdomain: a.subdomain,
                email: a.email,
                max_devices: a.max_devices,
                notes: a.notes,
                layout,
            };
            let c = store.create_customer(&actor, &new)?;
            let view = CustomerView::load(&store, c, &base_domain)?;
            if g.json {
                output::json(&view)
            } else {
                println!(
                    "created customer '{}' (id {}) at {}; not deployed",
                    view.customer.subdomain, view.customer.id, view.fqdn
                );
                Ok(())
            }
        }
        CustomerCommand::List { search, status } => {
            let list = store.customers(&CustomerQuery { search, status })?;
            let views =
                list.into_iter().map(|c| CustomerView::load(&store, c, &base_domain)).collect::<CliResult<Vec<_>>>()?;
            if g.json {
                return output::json(&views);
            }
            let rows: Vec<Vec<String>> = views
                .iter()
                .map(|v| {
                    let c = &v.customer;
                    vec![
                        c.id.to_string(),
                        c.name.clone(),
                        c.subdomain.clone(),
                        c.status.to_string(),
                        c.max_devices.to_string(),
                        v.relay_udp_port.map_or("-".into(), |p| p.to_string()),
                        c.email.clone(),
                    ]
                })
                .collect();
            println!("{}", output::table(&["ID", "NAME", "SUBDOMAIN", "STATUS", "MAX DEV", "UDP", "EMAIL"], &rows));
            Ok(())
        }
        CustomerCommand::Show { customer } => {
            let c = store.find_customer(&customer)?;
            let view = CustomerView::load(&store, c, &base_domain)?;
            if g.json {
                return output::json(&view);
            }
            print_customer(&view);
            Ok(())
        }
        CustomerCommand::Update(a) => {
            let c = store.find_customer(&a.customer)?;
            let patch = CustomerPatch {
                name: a.name,
                company: a.company,
                email: a.email,
                max_devices: a.max_devices,
                notes: a.notes,
                layout: a.layout,
            };
            if patch.is_empty() {
                return Err(CliError::usage(
                    "nothing to change: give at least one of --name, --company, --email, --max-devices, --notes, --layout",
                ));
            }
            let c = store.update_customer(&actor, c.id, &patch)?;
            let view = CustomerView::load(&store, c, &base_domain)?;
            if g.json {
                output::json(&view)
            } else {
                println!("updated customer '{}' (id {})", view.customer.subdomain, view.customer.id);
                Ok(())
            }
        }
        CustomerCommand::Delete { customer, yes } => {
            let c = store.find_customer(&customer)?;
            if !yes {
                return Err(CliError::usage(format!("refusing to delete customer '{}' without --yes", c.subdomain)));
            }
            let c = store.delete_customer(&actor, c.id)?;
            if g.json {
                output::json(&serde_json::json!({ "deleted": { "id": c.id, "subdomain": c.subdomain } }))
            } else {
                println!("deleted customer '{}' (id {})", c.subdomain, c.id);
                Ok(())
            }
        }
    }
}

fn print_customer(v: &CustomerView) {
    let c = &v.customer;
    let dash = |s: &str| {
        if s.is_empty() { "-".to_string() } else { s.to_string() }
    };
    let fields = [
        ("id", c.id.to_string()),
        ("name", c.name.clone()),
        ("company", dash(&c.company)),
        ("subdomain", c.subdomain.clone()),
        ("domain", v.fqdn.clone()),
        ("email", c.email.clone()),
        (
            "status",
            match &c.status_reason {
                Some(r) => format!("{} ({r})", c.status),
                None => c.status.to_string(),
            },
        ),
        ("layout", c.layout.to_string()),
        ("max devices", c.max_devices.to_string()),
        ("udp port", v.relay_udp_port.map_or("-".into(), |p| p.to_string())),
        ("setup url", v.setup_url.clone().unwrap_or_else(|| "-".into())),
        ("created", crate::store::fmt_time(c.created_at)),
        ("updated", crate::store::fmt_time(c.updated_at)),
    ];
    for (k, val) in fields {
        println!("{k:<12} {val}");
    }
    if !c.notes.is_empty() {
        println!("notes");
        for line in c.notes.lines() {
            println!("  {line}");
        }
    }
}
