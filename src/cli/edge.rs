//! `nbmsp edge`: the SNI router in front of NPM that brings visitors to customers' reverse proxies.

use clap::Subcommand;

use super::{CliError, CliResult, GlobalArgs, auth, deploy, output};
use crate::domain::edge::stream_block;
use crate::domain::host::LOCAL;
use crate::domain::rights::Right;
use crate::engine::npm::edge;

/// `edge` subcommands.
#[derive(Debug, Subcommand)]
pub enum EdgeCommand {
    /// Print the nginx `stream` block that routes a host's customers (for an nginx of your own
    /// when `edge.listen` is empty, or to read what the edge runs)
    Config {
        /// Host name [default: local]
        #[arg(long, default_value = LOCAL)]
        host: String,
    },
    /// Give every host's edge its configuration again (after changing `edge.*` settings);
    /// nginx tests it first, and a refused one leaves the running edge as it was
    Apply,
    /// Per host: where the edge listens, how many customers it routes, and its last reload
    Status,
}

/// Runs an edge command.
pub async fn run(g: &GlobalArgs, cmd: EdgeCommand) -> CliResult {
    let (store, session) = auth::login(g)?;
    let settings = store.settings()?;
    match cmd {
        EdgeCommand::Config { host } => {
            let key = store.host_id_for(&host)?;
            let plan = edge::plan(&store, &settings, key, false)?;
            let block = stream_block(&plan).map_err(|e| CliError::usage(e.to_string()))?;
            if g.json {
                return output::json(&serde_json::json!({
                    "host": host,
                    "listen": plan.listen,
                    "routes": plan.routes.iter().map(|r| serde_json::json!({"domain": r.domain, "upstream": r.upstream})).collect::<Vec<_>>(),
                    "config": block,
                }));
            }
            if settings.edge.listen.is_none() {
                println!("# edge.listen is empty: nbmsp runs no edge. For your own nginx (stream module, e.g.");
                println!("# Debian's libnginx-mod-stream), in its main context; it must join Docker network");
                println!("# {} and resolve names with Docker's DNS.", settings.docker_network);
            }
            print!("{block}");
            Ok(())
        }
        EdgeCommand::Apply => {
            session.require(Right::Edge)?;
            let hosts: Vec<_> = std::iter::once(None).chain(store.hosts()?.into_iter().map(|h| Some(h.id))).collect();
            let mut out = Vec::new();
            let mut refused = false;
            deploy::with_ops(g, &store, &session, async |ops| {
                for key in &hosts {
                    let name = ops.engines.name(*key);
                    let r = ops.apply_edge(*key).await;
                    let entry = match &r {
                        Ok(None) => serde_json::json!({"host": name, "result": "none", "detail": "edge.listen is empty"}),
                        Ok(Some(rec)) => {
                            refused |= rec.result == "refused";
                            serde_json::json!({"host": name, "result": rec.result, "routes": rec.routes, "detail": rec.detail})
                        }
                        Err(e) => {
                            refused = true;
                            serde_json::json!({"host": name, "result": "failed", "detail": e.to_string()})
                        }
                    };
                    out.push(entry);
                }
                Ok(())
            })
            .await?;
            if g.json {
                output::json(&out)?;
            } else {
                for e in &out {
                    let detail = e["detail"].as_str().map(|d| format!(": {d}")).unwrap_or_default();
                    let routes = e["routes"].as_u64().map(|n| format!(" ({n} route(s))")).unwrap_or_default();
                    println!(
                        "{}: {}{routes}{}",
                        e["host"].as_str().unwrap_or_default(),
                        e["result"].as_str().unwrap_or_default(),
                        crate::domain::sanitize::terminal_safe(&detail)
                    );
                }
            }
            if refused {
                return Err(CliError::new(
                    super::ErrorKind::Runtime,
                    "an edge did not take its new configuration (the running one serves on)",
                ));
            }
            Ok(())
        }
        EdgeCommand::Status => {
            let hosts: Vec<(Option<i64>, String)> = std::iter::once((None, LOCAL.to_string()))
                .chain(store.hosts()?.into_iter().map(|h| (Some(h.id), h.name)))
                .collect();
            let mut out = Vec::new();
            for (key, name) in hosts {
                let routes = edge::routes(&store, &settings, key)?;
                out.push(serde_json::json!({
                    "host": name,
                    "listen": settings.edge.listen,
                    "fallback": settings.edge.fallback,
                    "routes": routes.iter().map(|r| serde_json::json!({"domain": r.domain, "upstream": r.upstream})).collect::<Vec<_>>(),
                    "last": edge::last(&store, key)?,
                }));
            }
            if g.json {
                return output::json(&out);
            }
            for e in &out {
                let last = match &e["last"] {
                    serde_json::Value::Null => "never applied".to_string(),
                    l => format!(
                        "last {} at {}{}",
                        l["result"].as_str().unwrap_or_default(),
                        l["at"].as_str().unwrap_or_default(),
                        l["detail"].as_str().map(|d| format!(": {d}")).unwrap_or_default()
                    ),
                };
                println!(
                    "{}: listen {}, {} customer(s) routed, {}",
                    e["host"].as_str().unwrap_or_default(),
                    e["listen"].as_str().unwrap_or("— (no edge run)"),
                    e["routes"].as_array().map_or(0, Vec::len),
                    crate::domain::sanitize::terminal_safe(&last)
                );
            }
            Ok(())
        }
    }
}
