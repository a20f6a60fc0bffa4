//! `nbmsp backup`.

use std::path::PathBuf;

use clap::Args;

use super::{CliResult, GlobalArgs, auth, output, show_path};

/// Arguments of `nbmsp backup`.
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// File to write (must not exist yet)
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// Runs `nbmsp backup`.
pub fn run(g: &GlobalArgs, a: BackupArgs) -> CliResult {
    let (store, session) = auth::login(g)?;
    session.require_admin("take backups")?;
    store.backup_to(&a.out)?;
    let size = std::fs::metadata(&a.out).map(|m| m.len()).unwrap_or(0);
    if g.json {
        output::json(&serde_json::json!({ "backup": show_path(&a.out), "bytes": size }))
    } else {
        println!("backup written to {} ({size} bytes); secrets in it stay encrypted", show_path(&a.out));
        Ok(())
    }
}
