//! `nbmsp host`: the Docker hosts customers run on. The local engine is always there (as
//! `local`); others are reached with Docker's own remote access, ssh:// or tcp:// with TLS.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{CliError, CliResult, ErrorKind, GlobalArgs, auth, output};
use crate::domain::host::{HostNpm, NewHost, TlsFiles};
use crate::engine::docker::DockerEngine;
use crate::engine::hosts::{Engines, HostStatus, statuses};

/// `host` subcommands.
#[derive(Debug, Subcommand)]
pub enum HostCommand {
    /// Add a Docker host (its engine must answer)
    Add(AddArgs),
    /// Every host with its engine, customers, containers, memory, disk and UDP ports
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
    /// Give a host its own Nginx Proxy Manager (`--off`: none); with `proxy = npm` each host needs one
    Npm {
        /// Host name
        name: String,
        /// The host has no NPM of its own any more
        #[arg(long, conflicts_with = "npm")]
        off: bool,
        #[command(flatten)]
        npm: NpmArgs,
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
    #[command(flatten)]
    npm: NpmArgs,
}

/// A host's own Nginx Proxy Manager.
#[derive(Debug, Args)]
pub struct NpmArgs {
    /// Its API as the host sees it, reached through the host's tunnel (SSH, or helpers on tcp://): http://127.0.0.1:81
    #[arg(long, value_name = "URL")]
    npm: Option<String>,
    /// Its login [default: the npm.identity setting]
    #[arg(long, value_name = "EMAIL", requires = "npm")]
    npm_identity: Option<String>,
    /// A file holding its password ('-': stdin) [default: the npm.secret setting]
    #[arg(long, value_name = "FILE", requires = "npm")]
    npm_secret_file: Option<PathBuf>,
    /// A wildcard certificate there to attach instead of one per customer
    #[arg(long, value_name = "ID", requires = "npm")]
    npm_certificate: Option<i64>,
    /// Where it serves HTTPS, for the public-path check [default: the public IP on 443]
    #[arg(long, value_name = "HOST:PORT", requires = "npm")]
    https_address: Option<String>,
}

impl NpmArgs {
    /// The record and the password file, when `--npm` was given.
    fn record(self) -> CliResult<Option<(HostNpm, Option<String>)>> {
        let Some(url) = self.npm else { return Ok(None) };
        let secret = self.npm_secret_file.as_deref().map(auth::read_secret_file).transpose()?;
        let npm = HostNpm {
            url,
            identity: self.npm_identity,
            certificate_id: self.npm_certificate,
            https_address: self.https_address,
        };
        Ok(Some((npm.validate()?, secret)))
    }
}

/// Runs a `host` subcommand.
pub async fn run(g: &GlobalArgs, cmd: HostCommand) -> CliResult {
    let (store, session) = auth::login(g)?;
    match cmd {
        HostCommand::Add(a) => add(g, &store, &session, a).await,
        HostCommand::List => {
            let engines = Engines::new(&store)?;
            let list: Vec<HostStatus> = crate::engine::npm::edge::statuses_with_edges(&store, &engines).await?;
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
        HostCommand::Npm { name, off, npm } => {
            let record = npm.record()?;
            if !off && record.is_none() {
                return Err(CliError::usage("give the host's NPM with --npm URL, or --off to take it away"));
            }
            set_npm(g, &store, &session, &name, record)
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
    session.require(crate::domain::rights::Right::AddHosts)?;
    let tls = match (absolute(a.tls_ca)?, absolute(a.tls_cert)?, absolute(a.tls_key)?) {
        (Some(ca), Some(cert), Some(key)) => Some(TlsFiles { ca, cert, key }),
        _ => None,
    };
    let npm = a.npm.record()?;
    let new = NewHost {
        npm: npm.as_ref().map(|(n, _)| n.clone()),
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
        npm: new.npm.clone(),
    };
    let engine = DockerEngine::connect_to(&probe, &store.settings()?.helper_image).await?;
    let info = engine.info().await?;
    // Two records of one engine would each see the other's customers as strays (reconcile
    // would propose removing them) and a move between them would remove what it just started.
    let recorded = Engines::new(store)?;
    if let Some(key) = recorded.already_recorded(&engine).await? {
        let known = recorded.name(key);
        return Err(CliError::new(
            ErrorKind::Conflict,
            format!(
                "{} reaches the same Docker engine as host {known} (a volume made through one is seen through the other); it is recorded already",
                probe.docker.uri()
            ),
        ));
    }
    let host = store.add_host(session, &new)?;
    if let Some(secret) = npm.and_then(|(_, s)| s) {
        store.put_secret(&session.vault, &crate::store::vault::host_scope(host.id), "npm.secret", &secret)?;
    }
    if g.json {
        return output::json(&serde_json::json!({ "host": host, "engine": info }));
    }
    println!("host {} added: Docker {} (API {}) at {}", host.name, info.version, info.api_version, info.host);
    Ok(())
}

fn set_npm(
    g: &GlobalArgs,
    store: &crate::store::Store,
    session: &crate::store::Session,
    name: &str,
    npm: Option<(HostNpm, Option<String>)>,
) -> CliResult {
    let host = store.set_host_npm(session, name, npm.as_ref().map(|(n, _)| n))?;
    let scope = crate::store::vault::host_scope(host.id);
    // A new password replaces the host's own; changing only the URL or login keeps it;
    // --off forgets it with the rest.
    match &npm {
        Some((_, Some(secret))) => store.put_secret(&session.vault, &scope, "npm.secret", secret)?,
        Some((_, None)) => {}
        None => store.delete_secret(&scope, "npm.secret")?,
    }
    if g.json {
        return output::json(&serde_json::json!({ "host": host }));
    }
    match &host.npm {
        Some(n) => println!("host {name} publishes its customers through NPM at {} (redeploy them to register)", n.url),
        None => println!("host {name} has no NPM of its own"),
    }
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
    match (&status.npm, status.publishable) {
        (Some(url), _) => println!("\nproxy: Nginx Proxy Manager at {url}"),
        (None, false) => {
            println!("\nproxy: none; with proxy = npm it takes no customers (`nbmsp host npm {name} --npm URL`)")
        }
        (None, true) => {}
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
                // This installation's containers, not the engine's (its other owners are not ours).
                s.ours.map_or("-".into(), |(running, all)| format!("{running}/{all}")),
                r.map_or("-".into(), |r| format!("{} / {} MB", s.committed_mb, r.memory_mb)),
                r.map_or("-".into(), |r| r.cpus.to_string()),
                match (s.disk_percent, s.disk_free_mb) {
                    (Some(p), Some(free)) => format!("{p}% ({:.1} GB free)", free as f64 / 1024.0),
                    _ => "-".into(),
                },
                format!("{}/{}", s.udp_used, s.udp_free),
                s.edge.short(),
            ]
        })
        .collect();
    let mut out = output::table(
        &[
            "HOST",
            "DOCKER",
            "ADDRESS",
            "PUBLIC IP",
            "CUSTOMERS",
            "CONTAINERS",
            "MEMORY (STACKS/HOST)",
            "CPUS",
            "DISK",
            "UDP USED/FREE",
            "EDGE",
        ],
        &rows,
    );
    // A table cell has no room for the reason: each troubled edge gets a line of its own.
    for s in list {
        if let crate::domain::edge::EdgeHealth::Trouble { reason } = &s.edge {
            out.push_str(&format!("\nedge on {}: {reason}", s.name));
        }
    }
    out
}
