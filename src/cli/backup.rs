//! `nbmsp backup`: a consistent copy of the whole database, and putting one back.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{CliError, CliResult, GlobalArgs, auth, output, show_path};
use crate::store::{self, StoreError};

/// Arguments of `nbmsp backup` (`nbmsp backup --out FILE` is `backup create`).
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BackupArgs {
    /// File to write (must not exist yet)
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// What to do
    #[command(subcommand)]
    pub command: Option<BackupCommand>,
}

/// `nbmsp backup` subcommands.
#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Write a consistent copy of the database (safe while nbmsp runs; secrets stay encrypted)
    Create {
        /// File to write (must not exist yet)
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Replace the database with a backup after checking it (the file it replaces is moved
    /// aside, never deleted). Stop the app and the monitor first.
    Restore {
        /// A file `nbmsp backup create` wrote
        file: PathBuf,
    },
}

/// Runs `nbmsp backup`.
pub fn run(g: &GlobalArgs, a: BackupArgs) -> CliResult {
    match (a.command, a.out) {
        (Some(BackupCommand::Create { out }), _) | (None, Some(out)) => create(g, &out),
        (Some(BackupCommand::Restore { file }), _) => restore(g, &file),
        (None, None) => Err(CliError::usage("give --out FILE, or a subcommand: create, restore")),
    }
}

fn create(g: &GlobalArgs, out: &std::path::Path) -> CliResult {
    let (store, session) = auth::login(g)?;
    session.require(crate::domain::rights::Right::DatabaseBackup)?;
    store.backup_to(out)?;
    let size = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    if g.json {
        output::json(&serde_json::json!({ "backup": show_path(out), "bytes": size }))
    } else {
        println!("backup written to {} ({size} bytes); secrets in it stay encrypted", show_path(out));
        Ok(())
    }
}

fn restore(g: &GlobalArgs, file: &std::path::Path) -> CliResult {
    let db = store::home::db_path(&g.home()?);
    // A database that still opens is replaced only by one of its admins, and not under a
    // running operation; a damaged or missing one has no users left to ask (the home's file
    // permissions are the boundary then).
    match g.open_store() {
        Ok(_) => {
            let (store, session) = auth::login(g)?;
            session.require(crate::domain::rights::Right::DatabaseBackup)?;
            let busy = store.busy_customers()?;
            if !busy.is_empty() {
                return Err(CliError::runtime(format!(
                    "{} customer operation(s) are running on this database; wait for them (and stop the app and \
                     the monitor) before restoring",
                    busy.len()
                )));
            }
        }
        Err(CliError {
            kind: super::error::ErrorKind::DamagedDatabase | super::error::ErrorKind::NotInitialised,
            ..
        }) => {}
        Err(e) => return Err(e),
    }
    let (info, aside) = store::backup::restore_database(file, &db)?;
    // Opening it applies the migrations an older backup needs, and proves it opens.
    let reopened = store::Store::open(&db, false).map_err(|e: StoreError| CliError::from(e))?;
    let version = reopened.schema_version()?;
    if g.json {
        return output::json(&serde_json::json!({
            "restored": show_path(file),
            "database": show_path(&db),
            "replaced": aside.as_deref().map(show_path),
            "customers": info.customers,
            "users": info.users,
            "installation_id": info.installation_id,
            "schema_version": version,
        }));
    }
    println!(
        "database restored from {}: {} customer(s), {} user(s), installation {}",
        show_path(file),
        info.customers,
        info.users,
        info.installation_id
    );
    if let Some(a) = aside {
        println!("the database it replaced was kept as {}", show_path(&a));
    }
    println!("next: `nbmsp reconcile` compares it with what runs on Docker");
    Ok(())
}
