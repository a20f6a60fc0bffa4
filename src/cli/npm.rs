//! `nbmsp npm test`: can nbmsp use the configured Nginx Proxy Manager?

use clap::Subcommand;

use super::{CliError, CliResult, GlobalArgs, auth, deploy, output};
use crate::engine::docker::DockerEngine;
use crate::engine::npm::proxy::AnyProxy;

/// NPM commands.
#[derive(Debug, Subcommand)]
pub enum NpmCommand {
    /// Log in to NPM and report its version, its host count and whether it can reach the
    /// customers' Docker network
    Test,
}

/// Runs an NPM command.
pub async fn run(g: &GlobalArgs, cmd: NpmCommand) -> CliResult {
    let NpmCommand::Test = cmd;
    let (store, session) = auth::login(g)?;
    let settings = store.settings()?;
    let AnyProxy::Npm(npm) = deploy::proxy(g, &store, &session)? else {
        return Err(CliError::usage(
            "proxy = none: there is no Nginx Proxy Manager to test (`nbmsp settings set proxy npm`)",
        ));
    };
    let rt = |e: crate::engine::npm::client::NpmError| CliError::runtime(e.to_string());
    let version = npm.client.version().await.map_err(rt)?;
    npm.client.login().await.map_err(rt)?;
    let hosts = npm.client.hosts(None).await.map_err(rt)?;
    let network = network_check(&settings.docker_network).await;
    if g.json {
        return output::json(&serde_json::json!({
            "url": settings.npm_url,
            "version": version,
            "login": "ok",
            "proxy_hosts": hosts.len(),
            "network": { "name": settings.docker_network, "ok": network.0, "detail": network.1 },
        }));
    }
    println!("ok   Nginx Proxy Manager {version} at {}", settings.npm_url);
    println!("ok   logged in as {}", settings.npm_identity);
    println!("ok   {} proxy hosts", hosts.len());
    println!("{} network {}: {}", if network.0 { "ok  " } else { "WARN" }, settings.docker_network, network.1);
    Ok(())
}

/// Is NPM's container (when it runs on this engine) attached to the customers' network?
/// Whether NPM's container is attached to `network` (it reaches customers there by name).
pub(super) async fn network_check(network: &str) -> (bool, String) {
    let docker = match DockerEngine::connect().await {
        Ok(d) => d,
        Err(e) => return (false, format!("cannot tell: {e}")),
    };
    let members = match docker.network_members(network).await {
        Ok(m) => m,
        Err(_) => {
            return (false, "does not exist yet (the first deploy creates it; attach NPM's container to it)".into());
        }
    };
    let npm_containers = docker.names_with_image_containing("nginx-proxy-manager").await.unwrap_or_default();
    match npm_containers.iter().find(|n| members.contains(n)) {
        Some(n) => (true, format!("NPM's container {n} is attached")),
        None if npm_containers.is_empty() => {
            (true, "no NPM container on this engine; make sure NPM can reach the containers by name".into())
        }
        None => (
            false,
            format!(
                "NPM's container {} is not attached: `docker network connect {network} {}`",
                npm_containers[0], npm_containers[0]
            ),
        ),
    }
}
