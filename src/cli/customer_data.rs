//! `nbmsp customer backup|restore|backups`: one customer's config, data and secrets as a file,
//! and the customer recreated from it (here or on another installation).

use std::path::{Path, PathBuf};

use clap::Subcommand;

use super::{CliResult, GlobalArgs, auth, deploy, output, show_path};
use crate::store::{Session, Store};

/// Customer backup commands.
#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Write a consistent backup of one customer: its record, NetBird's data (copied with the
    /// stack paused), config, and secrets sealed with a passphrase or this installation's key
    Backup {
        /// Customer id (#12) or subdomain
        customer: String,
        /// File to write (must not exist yet)
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Seal the secrets with the passphrase in FILE (needed to restore on another
        /// installation); without it, only this installation can open them
        #[arg(long, value_name = "FILE")]
        passphrase_file: Option<PathBuf>,
    },
    /// Recreate a customer and its stack from a backup: same owner, access token and data, the
    /// same UDP port when it is free
    Restore {
        /// A file `customer backup` (or `customer delete`) wrote
        file: PathBuf,
        /// Restore under this subdomain instead of the one in the backup
        #[arg(long, value_name = "SUBDOMAIN")]
        subdomain: Option<String>,
        /// The passphrase the backup's secrets were sealed with
        #[arg(long, value_name = "FILE")]
        passphrase_file: Option<PathBuf>,
        /// The Docker host to restore onto (`local` or a `host list` name) [default: local]
        #[arg(long, value_name = "NAME")]
        host: Option<String>,
    },
    /// Move a deployed customer to another Docker host: backup here, copy, start and check
    /// there, then remove the source (kept until the target answers); its DNS must follow
    Move {
        /// Customer id (#12) or subdomain
        customer: String,
        /// The host to move to (`local` or a `host list` name)
        #[arg(long, value_name = "NAME")]
        to: String,
    },
    /// List the backups nbmsp wrote for a customer, newest first
    Backups {
        /// Customer id (#12) or subdomain
        customer: String,
    },
}

fn passphrase(file: Option<&Path>) -> CliResult<Option<zeroize::Zeroizing<String>>> {
    file.map(|f| auth::read_secret_file(f).map(zeroize::Zeroizing::new)).transpose()
}

/// Runs a customer backup command.
pub async fn run(g: &GlobalArgs, store: &Store, session: &Session, c: DataCommand) -> CliResult {
    match c {
        DataCommand::Backup { customer, out, passphrase_file } => {
            let c = store.find_customer(&customer)?;
            let pass = passphrase(passphrase_file.as_deref())?;
            let s = deploy::with_ops(g, store, session, async |ops| {
                Ok(ops.backup(c.id, &out, pass.as_deref().map(String::as_str), "manual").await?)
            })
            .await?;
            if g.json {
                return output::json(&s);
            }
            println!(
                "backup of '{}' written to {} ({} bytes, {} files; secrets sealed with the {})",
                c.subdomain,
                show_path(&s.path),
                s.bytes,
                s.files,
                if s.sealed_with == "passphrase" { "passphrase" } else { "installation's key" }
            );
            Ok(())
        }
        DataCommand::Restore { file, subdomain, passphrase_file, host } => {
            let pass = passphrase(passphrase_file.as_deref())?;
            let host = host.map(|h| store.host_id_for(&h)).transpose()?.flatten();
            let json = g.json;
            let s = deploy::with_ops(g, store, session, async |ops| {
                let mut progress = |p| {
                    if !json {
                        deploy::print_progress(p);
                    }
                };
                let pass = pass.as_deref().map(String::as_str);
                Ok(ops.restore_on(&file, subdomain.as_deref(), pass, host, &mut progress).await?)
            })
            .await?;
            if g.json {
                return output::json(&s);
            }
            match s.udp_port {
                Some(p) => println!("restored '{}' as customer #{} on UDP {p}", s.subdomain, s.customer_id),
                None => println!("restored '{}' as customer #{} (it was not deployed)", s.subdomain, s.customer_id),
            }
            if let Some(old) = s.port_changed_from {
                println!(
                    "WARN its old UDP port {old} was taken: tell the customer's firewall about UDP {:?}",
                    s.udp_port
                );
            }
            Ok(())
        }
        DataCommand::Move { customer, to } => {
            let c = store.find_customer(&customer)?;
            let to = store.host_id_for(&to)?;
            let json = g.json;
            let m = deploy::with_ops(g, store, session, async |ops| {
                let mut progress = |p| {
                    if !json {
                        deploy::print_progress(p);
                    }
                };
                Ok(ops.move_to(c.id, to, &mut progress).await?)
            })
            .await?;
            if g.json {
                return output::json(&m);
            }
            println!("moved '{}' from host {} to {} (UDP {})", c.subdomain, m.from, m.to, m.udp_port);
            if let Some(old) = m.port_changed_from {
                println!("WARN UDP {old} was taken there: tell the customer's firewall about UDP {}", m.udp_port);
            }
            match (&m.dns_hook, &m.public_ip) {
                (Some(Ok(said)), _) => println!("DNS: hooks.dns ran: {said}"),
                (Some(Err(e)), _) => {
                    println!("WARN DNS: hooks.dns failed ({e}); point {} at the new address", m.domain)
                }
                (None, Some(ip)) => println!("DNS: point {} at {ip}", m.domain),
                (None, None) => println!("DNS: point {} at this machine's public address", m.domain),
            }
            Ok(())
        }
        DataCommand::Backups { customer } => {
            let c = store.find_customer(&customer)?;
            let list = store.backups_of(c.id, 100)?;
            if g.json {
                return output::json(&list);
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|b| vec![b.created_at.clone(), b.kind.clone(), b.bytes.to_string(), b.path.clone()])
                .collect();
            println!("{}", output::table(&["WHEN", "KIND", "BYTES", "FILE"], &rows));
            Ok(())
        }
    }
}
