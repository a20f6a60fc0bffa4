//! `nbmsp host`: the Docker hosts customers run on. The local engine is always there (as
//! `local`); others are reached with Docker's own remote access, ssh:// or tcp:// with TLS.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{CliError, CliResult, ErrorKind, GlobalArgs, auth, output};
use crate::domain::host::{NewHost, TlsFiles};
use crate::engine::docker::DockerEngine;
use crate::engine::hosts::{Engines, HostStatus, statuses};

/// `host` subcommands.
#[derive(Debug, Subcommand)]
pub enum HostCommand {
    /// Add a Docker host (its engine must answer)
    Add(AddArgs),
    /// Every host with its engine, customers, containers, memory and UDP ports
    List,
    /// One host in detail, with the customers placed there
    Show {
        /// Host name (`local` is this machine's engine)
        name: String,
    },
    /// Stop placing new customers on a host (`--off` to place there again)
    Drain {
        /// Host name
        name: String,
        /// Open the host for new customers again
        #[arg(long)]
        off: bool,
    },
    /// Forget a host that runs no customers
    Remove {
        /// Host name
        name: String,
    },
}

/// `host add` options.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// Short name: lowercase letters, digits, '-'
    name: String,
    /// The engine: ssh://user@host[:port] (needs the docker CLI there) or tcp://host:2376 (with TLS)
    #[arg(long, value_name = "URI")]
    docker: String,
    /// The address customers' DNS points to; STUN is checked there
    #[arg(long, value_name = "IP")]
    public_ip: String,
    /// CA certificate of the daemon (tcp://)
    #[arg(long, value_name = "FILE", requires_all = ["tls_cert", "tls_key"])]
    tls_ca: Option<PathBuf>,
    /// Client certificate (tcp://)
    #[arg(long, value_name = "FILE", requires_all = ["tls_ca", "tls_key"])]
    tls_cert: Option<PathBuf>,
    /// Client key (tcp://)
    #[arg(long, value_name = "FILE", requires_all = ["tls_ca", "tls_cert"])]
    tls_key: Option<PathBuf>,
    /// SSH private key (ssh://; else your SSH configuration decides)
    #[arg(long, value_name = "FILE")]
    ssh_key: Option<PathBuf>,
    /// Where customers' instance files go on that host [default: the data_dir setting]
    #[arg(long, value_name = "DIR")]
    data_dir: Option<String>,
}

/// Runs a `host` subcommand.
pub async fn run(g: &GlobalArgs, cmd: HostCommand) -> CliResult {
    let (store, session) = auth::login(g)?;
    match cmd {
        HostCommand::Add(a) => add(g, &store, &session, a).await,
        HostCommand::List => {
            let engines = Engines::new(&store)?;
            let list: Vec<HostStatus> = statuses(&store, &engines).await?.into_iter().map(|(_, s)| s).collect();
            if g.json {
                return output::json(&list);
            }
            println!("{}", table(&list));
            Ok(())
        }
        HostCommand::Show { name } => show(g, &store, &name).await,
        HostCommand::Drain { name, off } => {
            store.set_draining(&session, &name, !off)?;
            if g.json {
                return output::json(&serde_json::json!({ "host": name, "draining": !off }));
            }
            if off {
                println!("host {name} takes new customers again");
            } else {
                println!("host {name} is draining: new customers go elsewhere");
            }
            Ok(())
        }
        HostCommand::Remove { name } => {
            store.remove_host(&session, &name)?;
            if g.json {
                return output::json(&serde_json::json!({ "removed": name }));
            }
            println!("host {name} removed");
            Ok(())
        }
    }
}

fn absolute(p: Option<PathBuf>) -> Result<Option<String>, CliError> {
    p.map(|p| {
        std::path::absolute(&p)
            .map(|a| a.to_string_lossy().into_owned())
            .map_err(|e| CliError::new(ErrorKind::Usage, format!("{}: {e}", p.display())))
    })
    .transpose()
}

async fn add(g: &GlobalArgs, store: &crate::store::Store, session: &crate::store::Session, a: AddArgs) -> CliResult {
    session.require(crate::domain::user::Permission::Admin, "add hosts")?;
    let tls = match (absolute(a.tls_ca)?, absolute(a.tls_cert)?, absolute(a.tls_key)?) {
        (Some(ca), Some(cert), Some(key)) => Some(TlsFiles { ca, cert, key }),
        _ => None,
    };
    let new = NewHost {
        name: a.name,
        docker: a.docker,
        tls,
        ssh_key: absolute(a.ssh_key)?,
        public_ip: a.public_ip,
        data_dir: a.data_dir,
    };
    let (docker, public_ip) = new.validate()?;
    // Recorded only once its engine answers: a typo is caught now, not at the first deploy.
    let probe = crate::domain::host::Host {
        id: 0,
        name: new.name.clone(),
        docker,
        tls: new.tls.clone(),
        ssh_key: new.ssh_key.clone(),
        public_ip,
        data_dir: new.data_dir.clone(),
        draining: false,
    };
    let engine = DockerEngine::connect_to(&probe).await?;
    let info = engine.info().await?;
    let host = store.add_host(session, &new)?;
    if g.json {
        return output::json(&serde_json::json!({ "host": host, "engine": info }));
    }
    println!("host {} added: Docker {} (API {}) at {}", host.name, info.version, info.api_version, info.host);
    Ok(())
}

async fn show(g: &GlobalArgs, store: &crate::store::Store, name: &str) -> CliResult {
    let key = store.host_id_for(name)?;
    let engines = Engines::new(store)?;
    let status = statuses(store, &engines)
        .await?
        .into_iter()
        .find(|(k, _)| *k == key)
        .map(|(_, s)| s)
        .ok_or_else(|| CliError::new(ErrorKind::NotFound, format!("no host named '{name}'")))?;
    let customers: Vec<String> =
        store.customers(&Default::default())?.into_iter().filter(|c| c.host_id == key).map(|c| c.subdomain).collect();
    if g.json {
        return output::json(&serde_json::json!({ "host": status, "customers": customers }));
    }
    println!("{}", table(std::slice::from_ref(&status)));
    if let Some(e) = &status.error {
        println!("\nunreachable: {e}");
    }
    println!("\ncustomers: {}", if customers.is_empty() { "none".to_string() } else { customers.join(", ") });
    Ok(())
}

fn table(list: &[HostStatus]) -> String {
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|s| {
            let r = s.resources;
            vec![
                s.name.clone(),
                match (&s.version, s.draining) {
                    (Some(v), false) => v.clone(),
                    (Some(v), true) => format!("{v} (draining)"),
                    (None, _) => "UNREACHABLE".into(),
                },
                s.docker.clone(),
                s.public_ip.clone().unwrap_or_else(|| "-".into()),
                s.customers.to_string(),
                r.map_or("-".into(), |r| format!("{}/{}", r.running, r.containers)),
                r.map_or("-".into(), |r| format!("{} / {} MB", s.committed_mb, r.memory_mb)),
                r.map_or("-".into(), |r| r.cpus.to_string()),
                format!("{}/{}", s.udp_used, s.udp_free),
            ]
        })
        .collect();
    output::table(
        &[
            "HOST",
            "DOCKER",
            "ADDRESS",
            "PUBLIC IP",
            "CUSTOMERS",
            "CONTAINERS",
            "MEMORY (STACKS/HOST)",
            "CPUS",
            "UDP USED/FREE",
        ],
        &rows,
    )
}
