//! `nbmsp migrate data-dir|network`: moving every deployed stack to a new data dir or Docker
//! network. A plain settings edit would leave each stack's next redeploy pointing at an empty
//! data dir (NetBird starts empty, its owner claimable) or a network the proxy cannot reach.
//!
//! The plan is stored before the first step, each stack is moved under its customer's lock,
//! and running the same command again resumes where an interrupted run stopped. While a data
//! dir migration runs, each moved instance dir leaves a symlink at its old place, so the
//! containers (still created with the old paths) keep their data until they are redeployed.

use crate::domain::rights::Right;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::tree;
use crate::domain::customer::Customer;
use crate::domain::deployment::DeploymentStatus;
use crate::domain::settings;
use crate::engine::EngineError;
use crate::engine::npm::proxy::Proxy;
use crate::engine::ops::lifecycle::{Ops, Progress};
use crate::store::meta::MigrationPlan;

/// What a migration did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MigrationReport {
    /// The setting moved.
    pub key: String,
    /// Its old value.
    pub from: String,
    /// Its new value.
    pub to: String,
    /// An interrupted run was resumed.
    pub resumed: bool,
    /// The customers moved, by subdomain.
    pub customers: Vec<String>,
}

/// Which setting a `nbmsp migrate` subcommand moves.
pub fn key_of(what: &str) -> Option<&'static str> {
    match what {
        "data-dir" => Some("data_dir"),
        "network" => Some("docker_network"),
        _ => None,
    }
}

/// Moves every deployed customer to `to` for setting `key` (`data_dir` or `docker_network`),
/// telling `say` about each step.
pub async fn run<P: Proxy>(
    ops: &Ops<'_, P>,
    key: &str,
    to: &str,
    say: &mut dyn FnMut(String),
) -> Result<MigrationReport, EngineError> {
    crate::store::auth::require_role(ops.role, Right::Migrate)?;
    let Some(command) = crate::store::settings::moves_data(key) else {
        return Err(EngineError::Usage(format!("{key} is not a setting that migrates")));
    };
    let to = settings::normalise(key, to).map_err(crate::store::StoreError::from)?;
    let current = ops.store.settings_map()?.get(key).cloned().unwrap_or_else(|| default_of(key));
    let (plan, resumed) = match ops.store.migration_plan()? {
        Some(p) if p.key == key && p.to == to => (p, true),
        Some(p) => {
            let other = crate::store::settings::moves_data(&p.key).unwrap_or("data-dir");
            return Err(EngineError::Conflict(format!(
                "a migration of {} from {} to {} (started by {}) is not finished; run `nbmsp migrate {other} {}` \
                 to finish it first",
                p.key, p.from, p.to, p.actor, p.to
            )));
        }
        None if current == to => {
            return Ok(MigrationReport { key: key.into(), from: current, to, resumed: false, customers: Vec::new() });
        }
        None => {
            if key == "data_dir" {
                check_target_dir(Path::new(&current), Path::new(&to))?;
            }
            let p = MigrationPlan { key: key.into(), from: current.clone(), to: to.clone(), actor: ops.actor.into() };
            ops.store.begin_migration(&p)?;
            (p, false)
        }
    };
    let deployed = deployed_customers(ops)?;
    say(format!(
        "{} {} {} -> {} for {} deployed customer(s) (`nbmsp migrate {command} {}` resumes it if interrupted)",
        if resumed { "resuming:" } else { "migrating" },
        key,
        plan.from,
        plan.to,
        deployed.len(),
        plan.to
    ));
    let switched = current == plan.to;
    if !switched {
        if key == "data_dir" {
            for c in &deployed {
                ops.locked(c.id, Right::Migrate, move_stack(ops, c, &plan)).await?;
                say(format!("{}: moved to {}", c.subdomain, Path::new(&plan.to).join(&c.subdomain).display()));
            }
            move_archive(Path::new(&plan.from), Path::new(&plan.to))?;
        } else {
            // Every host's engine needs the network its customers will join.
            for key in ops.engines.keys() {
                ops.engines.of(key).await?.ensure_network(&plan.to).await?;
            }
        }
        ops.store.apply_migrated_setting(&plan)?;
    }
    // Every stack is rendered again against the new setting and checked ready.
    let mut quiet = |_: Progress| {};
    for c in &deployed {
        let was_stopped = ops.store.deployment(c.id)?.is_some_and(|d| d.status == DeploymentStatus::Stopped);
        ops.redeploy(c.id, &mut quiet).await?;
        if was_stopped {
            ops.stop(c.id).await?;
        }
        if key == "data_dir" {
            drop_old_link(&Path::new(&plan.from).join(&c.subdomain))?;
        }
        say(format!("{}: redeployed and ready{}", c.subdomain, if was_stopped { " (stopped again)" } else { "" }));
    }
    ops.store.end_migration(&plan)?;
    Ok(MigrationReport {
        key: key.into(),
        from: plan.from,
        to: plan.to,
        resumed,
        customers: deployed.into_iter().map(|c| c.subdomain).collect(),
    })
}

fn default_of(key: &str) -> String {
    settings::def(key).map(|d| d.default.to_string()).unwrap_or_default()
}

fn deployed_customers<P: Proxy>(ops: &Ops<'_, P>) -> Result<Vec<Customer>, EngineError> {
    let mut out = Vec::new();
    for c in ops.store.customers(&Default::default())? {
        if ops.store.deployment(c.id)?.is_some() {
            out.push(c);
        }
    }
    out.sort_by_key(|c| c.id);
    Ok(out)
}

/// The new data dir may not sit inside the old one or hold instance dirs already.
fn check_target_dir(from: &Path, to: &Path) -> Result<(), EngineError> {
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    if canon(to).starts_with(canon(from)) || canon(from).starts_with(canon(to)) {
        return Err(EngineError::Usage(format!(
            "{} and {} contain one another; choose a directory outside the current data dir",
            to.display(),
            from.display()
        )));
    }
    Ok(())
}

/// Stops the stack, moves its instance dir (data included), leaves a link at the old place and
/// starts the containers again: they run on their data until the redeploy re-points them.
async fn move_stack<P: Proxy>(ops: &Ops<'_, P>, c: &Customer, plan: &MigrationPlan) -> Result<(), EngineError> {
    let src = Path::new(&plan.from).join(&c.subdomain);
    let dst = Path::new(&plan.to).join(&c.subdomain);
    if src.is_symlink() {
        return Ok(()); // moved by an earlier run
    }
    if !src.exists() {
        if dst.exists() {
            link_back(&src, &dst)?;
            return Ok(());
        }
        return Err(EngineError::DataMissing(format!(
            "'{}' is deployed but neither {} nor {} exists; find its data before migrating",
            c.subdomain,
            src.display(),
            dst.display()
        )));
    }
    let names = ops.container_names(c).await?;
    let running = ops.store.deployment(c.id)?.is_some_and(|d| d.status == DeploymentStatus::Running);
    let docker = ops.engines.for_customer(c).await?;
    for name in &names {
        docker.stop(name, Duration::from_secs(10)).await?;
    }
    let (from, into) = (src.clone(), dst.clone());
    crate::engine::blocking(move || tree::move_dir(&from, &into)).await?;
    link_back(&src, &dst)?;
    if running {
        for name in ops.ordered(c, names) {
            docker.start(&name).await?;
        }
    }
    Ok(())
}

fn link_back(src: &Path, dst: &Path) -> Result<(), EngineError> {
    std::os::unix::fs::symlink(dst, src)
        .map_err(|e| EngineError::Files(format!("cannot link {} to {}: {e}", src.display(), dst.display())))
}

fn drop_old_link(src: &Path) -> Result<(), EngineError> {
    if src.is_symlink() {
        std::fs::remove_file(src).map_err(|e| EngineError::Files(format!("cannot remove {}: {e}", src.display())))?;
    }
    Ok(())
}

/// The archived data of deleted customers moves along.
fn move_archive(from: &Path, to: &Path) -> Result<(), EngineError> {
    let src = from.join(".archive");
    if !src.is_dir() {
        return Ok(());
    }
    let dst = to.join(".archive");
    if !dst.exists() {
        return tree::move_dir(&src, &dst);
    }
    let entries: Vec<PathBuf> = std::fs::read_dir(&src)
        .map_err(|e| EngineError::Files(format!("cannot list {}: {e}", src.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    for e in entries {
        if let Some(name) = e.file_name() {
            tree::move_dir(&e, &dst.join(name))?;
        }
    }
    Ok(())
}
