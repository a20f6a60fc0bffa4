//! `nbmsp migrate data-dir|network NEW`: the only way to change where deployed customers keep
//! their data or which Docker network they are on (a plain `settings set` is refused then).

use clap::Subcommand;

use super::{CliResult, GlobalArgs, auth, deploy, output};
use crate::engine::data::migrate;

/// What to migrate.
#[derive(Debug, Subcommand)]
pub enum MigrateCommand {
    /// Move every customer's instance dir (config and NetBird data) to a new data_dir: each
    /// stack is stopped, moved (copied and compared across filesystems), started, then
    /// redeployed with the new paths and checked ready. Run it again to resume.
    DataDir {
        /// The new data dir (absolute path)
        new: String,
    },
    /// Put every customer's stack on another Docker network (created when missing): each is
    /// redeployed there and checked ready. Attach NPM's container to it as well.
    Network {
        /// The new network's name
        new: String,
    },
}

/// Runs `nbmsp migrate`.
pub async fn run(g: &GlobalArgs, c: MigrateCommand) -> CliResult {
    let (store, session) = auth::login(g)?;
    session.require(crate::domain::rights::Right::Migrate)?;
    let (what, new) = match &c {
        MigrateCommand::DataDir { new } => ("data-dir", new.clone()),
        MigrateCommand::Network { new } => ("network", new.clone()),
    };
    let key = migrate::key_of(what).unwrap_or("data_dir");
    let json = g.json;
    let report = deploy::with_ops(g, &store, &session, async |ops| {
        let mut say = |line: String| {
            if !json {
                eprintln!("{line}");
            }
        };
        Ok(migrate::run(ops, key, &new, &mut say).await?)
    })
    .await?;
    let npm_note = if key == "docker_network" && store.settings()?.proxy == crate::domain::settings::ProxyKind::Npm {
        let (ok, detail) = super::npm::network_check(&report.to).await;
        (!ok).then(|| format!("NPM on {}: {detail}", report.to))
    } else {
        None
    };
    if g.json {
        return output::json(&serde_json::json!({ "migration": report, "warning": npm_note }));
    }
    if report.customers.is_empty() && !report.resumed && report.from == report.to {
        println!("{key} is already {}: nothing to move", report.to);
    } else {
        println!("{key} is now {}; {} customer(s) moved and checked", report.to, report.customers.len());
    }
    if let Some(n) = npm_note {
        println!("WARN {n}");
    }
    Ok(())
}
