//! `nbmsp customer ...`.

use clap::{Args, Subcommand};

use super::customer_view::{CustomerView, print_customer};
use super::{CliError, CliResult, GlobalArgs, auth, deploy, output};
use crate::domain::customer::{Customer, CustomerPatch, CustomerStatus, DEFAULT_MAX_DEVICES, Layout, NewCustomer};
use crate::domain::sla::Target;
use crate::engine::worker::protocol::Operation;
use crate::store::Store;
use crate::store::customers::CustomerQuery;

/// Customer commands.
#[derive(Debug, Subcommand)]
pub enum CustomerCommand {
    /// Create a customer and deploy its stack (--no-deploy only records it)
    Create(CreateArgs),
    /// Create many customers from a JSON file and deploy them in parallel; nothing is created
    /// unless every entry is valid
    Import(ImportArgs),
    /// List customers
    List {
        /// Only customers whose name, subdomain, email or company contains this text
        #[arg(long, value_name = "TEXT")]
        search: Option<String>,
        /// Only customers with this status (active, degraded, inactive, stopped, deploying, error)
        #[arg(long, value_name = "STATUS")]
        status: Option<CustomerStatus>,
    },
    /// Show one customer
    Show {
        /// Customer id or subdomain
        customer: String,
    },
    /// The customer's audit log, newest first: who did what, and how it ended
    Audit {
        /// Customer id or subdomain
        customer: String,
        /// How many entries
        #[arg(long, value_name = "N", default_value_t = 50)]
        limit: usize,
    },
    /// Change a customer's fields
    Update(UpdateArgs),
    /// Delete a customer: containers, proxy entry, files, port (a restorable backup is kept unless --purge-data)
    Delete {
        /// Customer id or subdomain
        customer: String,
        /// Confirm the deletion (required)
        #[arg(long)]
        yes: bool,
        /// Keep no backup: the customer's NetBird data goes too
        #[arg(long)]
        purge_data: bool,
    },
    /// Deploy the customer's stack (a redeploy when already deployed)
    Deploy(Targets),
    /// Apply changed settings, images or layout; recreates only what changed
    Redeploy(Targets),
    /// Start the customer's containers and wait for health
    Start(Targets),
    /// Stop the customer's containers
    Stop(Targets),
    /// Restart the customer's containers and wait for health
    Restart(Targets),
    /// Show the merged logs of the customer's containers
    Logs {
        /// Customer id or subdomain
        customer: String,
        /// Keep printing new lines
        #[arg(long, short)]
        follow: bool,
        /// The last N lines of the merged log [default: all; 20 per container with --follow]
        #[arg(long, value_name = "N")]
        tail: Option<usize>,
        /// Only this service (server, dashboard, management, signal, relay)
        #[arg(long, value_name = "SERVICE")]
        service: Option<String>,
    },
    /// Check containers, endpoints and the STUN port (exit 1 when unhealthy)
    Health {
        /// Customer id or subdomain
        customer: String,
    },
    /// CPU, memory and network of the customer's containers
    Stats {
        /// Customer id or subdomain
        customer: String,
    },
    /// Show the NetBird owner account nbmsp created (email, password, access token)
    Credentials {
        /// Customer id or subdomain
        customer: String,
        /// Confirm showing secrets on this terminal (asked for otherwise)
        #[arg(long)]
        yes: bool,
    },
    /// Count the customer's devices through NetBird's API and store the count
    Devices {
        /// Customer id or subdomain
        customer: String,
    },
    /// Replace the NetBird owner's access token with a new one and revoke the old (the monitor
    /// does this `netbird.pat_renew_days` before expiry)
    RenewToken {
        /// Customer id or subdomain
        customer: String,
    },
    /// Try again to get and attach the customer's certificate (proxy = npm)
    RetryCert {
        /// Customer id or subdomain
        customer: String,
    },
    /// Print the nginx server block that routes the customer's domain (for your own proxy)
    ProxyConfig {
        /// Customer id or subdomain
        customer: String,
    },
    /// Write the files a deploy would write into DIR, without touching Docker
    Render {
        /// Customer id or subdomain
        customer: String,
        /// Directory to write into
        #[arg(long, value_name = "DIR")]
        out: std::path::PathBuf,
    },
    #[command(flatten)]
    Data(super::customer_data::DataCommand),
    #[command(flatten)]
    NetBird(super::netbird::NetBirdCommand),
}

/// Which customers an operation runs on: one or more ids/subdomains, or `--all` (optionally
/// only those with `--status`); several run in parallel, each reported, with a summary.
#[derive(Debug, Args)]
pub struct Targets {
    /// Customer ids or subdomains
    #[arg(required_unless_present = "all", value_name = "CUSTOMER")]
    pub customers: Vec<String>,
    /// Every customer (with --status: every customer in that status)
    #[arg(long, conflicts_with = "customers")]
    pub all: bool,
    /// With --all: only customers in this status, e.g. error
    #[arg(long, requires = "all", value_name = "STATUS")]
    pub status: Option<CustomerStatus>,
    /// Customers worked on at once [default: monitor.concurrency at first, more as the engines take them]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallel: Option<u16>,
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
    /// The reference fields (`--contract-id`, ...)
    #[command(flatten)]
    pub refs: super::ref_args::RefArgs,
    /// Uptime promised, in percent (e.g. 99.95) [default: the `sla.target` setting]
    #[arg(long, value_name = "PERCENT", value_parser = parse_target)]
    pub sla_target: Option<Target>,
    /// NetBird layout [default: the `layout` setting]
    #[arg(long)]
    pub layout: Option<Layout>,
    /// Run NetBird's Reverse Proxy beside the server (combined layout): publishes services at
    /// NAME.<customer domain>, reached through the edge
    #[arg(long)]
    pub reverse_proxy: bool,
    /// Only record the customer; do not deploy
    #[arg(long)]
    pub no_deploy: bool,
    /// The Docker host to run on (`local` or a `host list` name) [default: the one with room]
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,
}

/// Arguments of `customer import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// JSON array of customers, their fields named as `customer show --json` names them:
    /// "name", "subdomain" and "email" required, the rest optional ('-' for stdin)
    #[arg(long, value_name = "FILE")]
    pub file: std::path::PathBuf,
    /// Only record the customers; do not deploy
    #[arg(long)]
    pub no_deploy: bool,
    /// Customers deployed at once [default: monitor.concurrency at first, more as the engines take them]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallel: Option<u16>,
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
    /// New reference fields (`--contract-id`, ...; "" clears one)
    #[command(flatten)]
    pub refs: super::ref_args::RefPatchArgs,
    /// New uptime promise in percent ("default": the `sla.target` setting)
    #[arg(long, value_name = "PERCENT|default", value_parser = parse_target_or_default)]
    pub sla_target: Option<TargetOrDefault>,
    /// Turn NetBird's Reverse Proxy on or off (applied on the next redeploy; off revokes its token)
    #[arg(long, value_name = "on|off", value_parser = on_off)]
    pub reverse_proxy: Option<bool>,
    /// New layout (applied on the next redeploy)
    #[arg(long)]
    pub layout: Option<Layout>,
}

/// `on` or `off`.
fn on_off(s: &str) -> Result<bool, String> {
    match s {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(format!("{s:?}: expected on or off")),
    }
}

/// Runs a customer command.
pub async fn run(g: &GlobalArgs, cmd: CustomerCommand) -> CliResult {
    let (store, session) = auth::login(g)?;
    let base_domain = store.settings()?.base_domain;
    match cmd {
        CustomerCommand::Create(a) => {
            let layout = match a.layout {
                Some(l) => l,
                None => store.settings()?.layout,
            };
            let mut new = NewCustomer::new(&a.name, &a.subdomain, &a.email, layout);
            new.company = a.company;
            new.max_devices = a.max_devices;
            new.notes = a.notes;
            new.sla_target = a.sla_target;
            new.reverse_proxy = a.reverse_proxy;
            a.refs.apply(&mut new);
            let mut created =
                crate::engine::usecase::customers::create(&store, &session, &[new], a.host.as_deref()).await?;
            let c = created.remove(0);
            let mut owner = None;
            if !a.no_deploy {
                eprintln!("created customer '{}' (id {}); deploying", c.subdomain, c.id);
                let outcome = deploy::with_ops(g, &store, &session, async |ops| {
                    deploy::deploy_interruptible(ops, c.id, false).await
                })
                .await?;
                owner = outcome.owner;
            }
            let c = store.customer(c.id)?;
            let mut view = CustomerView::load(&store, c, &base_domain)?;
            view.owner = owner;
            if let Some(o) = &view.owner
                && !g.json
            {
                deploy::print_owner(o, Some(&view.customer.subdomain));
            }
            if g.json {
                output::json(&view)
            } else if a.no_deploy {
                println!(
                    "created customer '{}' (id {}) at {}; not deployed",
                    view.customer.subdomain, view.customer.id, view.fqdn
                );
                Ok(())
            } else {
                let port = view.relay_udp_port.map_or("-".into(), |p| p.to_string());
                println!(
                    "customer '{}' (id {}) is up at {} (UDP {port})",
                    view.customer.subdomain, view.customer.id, view.fqdn
                );
                Ok(())
            }
        }
        CustomerCommand::Import(a) => import(g, &store, &session, a).await,
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
                        v.host.clone(),
                        c.email.clone(),
                    ]
                })
                .collect();
            let head = ["ID", "NAME", "SUBDOMAIN", "STATUS", "MAX DEV", "UDP", "HOST", "EMAIL"];
            println!("{}", output::table(&head, &rows));
            Ok(())
        }
        CustomerCommand::Audit { customer, limit } => {
            let c = store.find_customer(&customer)?;
            super::customer_view::print_audit(g, &store.audit_log(Some(c.id), limit)?)
        }
        CustomerCommand::Show { customer } => {
            let c = store.find_customer(&customer)?;
            let deployed = store.deployment(c.id)?.is_some();
            let mut view = CustomerView::load(&store, c, &base_domain)?;
            if deployed {
                match deploy::with_ops(g, &store, &session, async |ops| Ok(ops.containers(&view.customer).await?)).await
                {
                    Ok(list) => view.containers = Some(list),
                    Err(e) => view.containers_error = Some(e.message),
                }
            }
            if g.json {
                return output::json(&view);
            }
            print_customer(&view);
            Ok(())
        }
        CustomerCommand::Update(a) => {
            let c = store.find_customer(&a.customer)?;
            let mut patch = CustomerPatch {
                name: a.name,
                company: a.company,
                email: a.email,
                max_devices: a.max_devices,
                notes: a.notes,
                sla_target: a.sla_target.map(|t| t.0),
                reverse_proxy: a.reverse_proxy,
                layout: a.layout,
                ..CustomerPatch::default()
            };
            a.refs.apply(&mut patch);
            if patch.is_empty() {
                let flags = ["--name", "--company", "--email", "--max-devices", "--notes"].map(String::from);
                let more = ["--sla-target", "--reverse-proxy", "--layout"].map(String::from);
                let all: Vec<String> = flags.into_iter().chain(super::ref_args::flags()).chain(more).collect();
                return Err(CliError::usage(format!("nothing to change: give at least one of {}", all.join(", "))));
            }
            let c = crate::engine::usecase::customers::edit(&store, &session, &c.as_ref(), &patch)?;
            let view = CustomerView::load(&store, c, &base_domain)?;
            if g.json {
                output::json(&view)
            } else {
                println!("updated customer '{}' (id {})", view.customer.subdomain, view.customer.id);
                Ok(())
            }
        }
        CustomerCommand::Delete { customer, yes, purge_data } => {
            let c = store.find_customer(&customer)?;
            if !yes {
                return Err(CliError::usage(format!("refusing to delete customer '{}' without --yes", c.subdomain)));
            }
            deploy::delete(g, &store, &session, &c, purge_data).await
        }
        CustomerCommand::Deploy(t) => match single(&store, &t)? {
            Some(c) => deploy::deploy(g, &store, &session, &c, false).await,
            None => deploy::bulk(g, &store, &session, &t, Operation::Deploy).await,
        },
        CustomerCommand::Redeploy(t) => match single(&store, &t)? {
            Some(c) => deploy::deploy(g, &store, &session, &c, true).await,
            None => deploy::bulk(g, &store, &session, &t, Operation::Redeploy).await,
        },
        CustomerCommand::Start(t) => match single(&store, &t)? {
            Some(c) => deploy::power(g, &store, &session, &c, deploy::Power::Start).await,
            None => deploy::bulk(g, &store, &session, &t, Operation::Start).await,
        },
        CustomerCommand::Stop(t) => match single(&store, &t)? {
            Some(c) => deploy::power(g, &store, &session, &c, deploy::Power::Stop).await,
            None => deploy::bulk(g, &store, &session, &t, Operation::Stop).await,
        },
        CustomerCommand::Restart(t) => match single(&store, &t)? {
            Some(c) => deploy::power(g, &store, &session, &c, deploy::Power::Restart).await,
            None => deploy::bulk(g, &store, &session, &t, Operation::Restart).await,
        },
        CustomerCommand::Logs { customer, follow, tail, service } => {
            deploy::logs(g, &store, &session, &store.find_customer(&customer)?, tail, follow, service).await
        }
        CustomerCommand::Health { customer } => {
            deploy::health(g, &store, &session, &store.find_customer(&customer)?).await
        }
        CustomerCommand::Stats { customer } => {
            deploy::stats(g, &store, &session, &store.find_customer(&customer)?).await
        }
        CustomerCommand::Credentials { customer, yes } => {
            deploy::credentials(g, &store, &session, &store.find_customer(&customer)?, yes).await
        }
        CustomerCommand::Devices { customer } => {
            deploy::devices(g, &store, &session, &store.find_customer(&customer)?).await
        }
        CustomerCommand::RenewToken { customer } => {
            deploy::renew_token(g, &store, &session, &store.find_customer(&customer)?).await
        }
        CustomerCommand::RetryCert { customer } => {
            deploy::retry_cert(g, &store, &session, &store.find_customer(&customer)?).await
        }
        CustomerCommand::Data(c) => super::customer_data::run(g, &store, &session, c).await,
        CustomerCommand::NetBird(c) => super::netbird::run(g, &store, &session, c).await,
        CustomerCommand::ProxyConfig { customer } => deploy::proxy_config(g, &store, &store.find_customer(&customer)?),
        CustomerCommand::Render { customer, out } => {
            let c = store.find_customer(&customer)?;
            let (port, dir) = deploy::render_files(&store, &session, &c, &g.home()?, &out)?;
            if g.json {
                output::json(
                    &serde_json::json!({ "out": out.display().to_string(), "udp_port": port, "instance_dir": dir.display().to_string() }),
                )
            } else {
                println!(
                    "wrote the files for '{}' (UDP {port}, instance dir {}) to {}",
                    c.subdomain,
                    dir.display(),
                    out.display()
                );
                Ok(())
            }
        }
    }
}

/// The one customer named, when exactly one is named (the single-customer output), else `None`.
fn single(store: &Store, t: &Targets) -> CliResult<Option<Customer>> {
    match (t.all, t.customers.as_slice()) {
        (false, [one]) => Ok(Some(store.find_customer(one)?)),
        _ => Ok(None),
    }
}

/// The customers `t` names, each once, in the order given (or by name for `--all`).
pub fn resolve(store: &Store, t: &Targets) -> CliResult<Vec<Customer>> {
    if t.all {
        return Ok(store.customers(&CustomerQuery { search: None, status: t.status })?);
    }
    let mut out: Vec<Customer> = Vec::new();
    for name in &t.customers {
        let c = store.find_customer(name)?;
        if !out.iter().any(|x| x.id == c.id) {
            out.push(c);
        }
    }
    Ok(out)
}

/// `customer import`: validates every entry (fields, duplicates in the file, subdomains taken),
/// creates them all, then deploys them in parallel.
async fn import(g: &GlobalArgs, store: &Store, session: &crate::store::Session, a: ImportArgs) -> CliResult {
    // Said before the file is read: problems in it are no use to someone who may not import.
    session.require(crate::domain::rights::Right::CreateCustomers)?;
    let text = if a.file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).map_err(|e| CliError::usage(format!("cannot read stdin: {e}")))?
    } else {
        std::fs::read_to_string(&a.file)
            .map_err(|e| CliError::usage(format!("cannot read {}: {e}", a.file.display())))?
    };
    // Each entry is a customer's own record (`NewCustomer`, unknown fields refused); only the
    // layout defaults to the setting.
    let layout = store.settings()?.layout;
    let entries: Vec<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_str(&text).map_err(|e| CliError::usage(format!("{}: {e}", a.file.display())))?;
    let mut news = Vec::with_capacity(entries.len());
    for (i, mut e) in entries.into_iter().enumerate() {
        e.entry("layout").or_insert_with(|| serde_json::Value::from(layout.as_str()));
        let mut n: NewCustomer = serde_json::from_value(serde_json::Value::Object(e))
            .map_err(|err| CliError::usage(format!("{}: entry {}: {err}", a.file.display(), i + 1)))?;
        n.subdomain = n.subdomain.trim().to_ascii_lowercase();
        crate::domain::customer_fields::tidy_new(&mut n);
        news.push(n);
    }
    let mut problems = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, n) in news.iter().enumerate() {
        for e in n.validate() {
            problems.push(format!("entry {} ({}): {e}", i + 1, n.subdomain));
        }
        if !seen.insert(n.subdomain.clone()) {
            problems.push(format!("entry {} ({}): subdomain appears twice in the file", i + 1, n.subdomain));
        }
        if store.find_customer(&n.subdomain).is_ok() {
            problems.push(format!("entry {} ({}): subdomain already taken", i + 1, n.subdomain));
        }
    }
    if !problems.is_empty() {
        return Err(CliError::usage(format!("nothing imported; fix these first:\n  {}", problems.join("\n  "))));
    }
    let ids: Vec<i64> =
        crate::engine::usecase::customers::create(store, session, &news, None).await?.iter().map(|c| c.id).collect();
    eprintln!("created {} customers", ids.len());
    if a.no_deploy {
        if g.json {
            return output::json(&serde_json::json!({ "created": ids.len(), "deployed": 0 }));
        }
        println!("created {} customers; not deployed", ids.len());
        return Ok(());
    }
    let targets =
        Targets { customers: ids.iter().map(i64::to_string).collect(), all: false, status: None, parallel: a.parallel };
    deploy::bulk(g, store, session, &targets, Operation::Deploy).await
}

fn parse_target(s: &str) -> Result<Target, String> {
    s.parse()
}

/// A promise, or `default` for the setting's.
#[derive(Debug, Clone, Copy)]
pub struct TargetOrDefault(Option<Target>);

fn parse_target_or_default(s: &str) -> Result<TargetOrDefault, String> {
    if s == "default" { Ok(TargetOrDefault(None)) } else { s.parse().map(|t| TargetOrDefault(Some(t))) }
}
