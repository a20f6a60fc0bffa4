//! `nbmsp baseline check|apply|show|set`: every customer's NetBird against
//! `$NBMSP_HOME/baseline.toml`, and the file itself (changed through the use case both doors
//! share: `engine::usecase::baseline`).

use clap::{Args, Subcommand};

use super::{CliError, CliResult, GlobalArgs, auth, deploy, output};
use crate::engine::fleet::baseline::{self, CustomerDrift};
use crate::store::{Session, Store};

/// `nbmsp baseline` commands.
#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Which customers differ from baseline.toml, and how; exit 1 when any does
    Check,
    /// Bring the differing customers to the baseline: a canary first, then waves; stops at the
    /// first failure. Without --yes it shows what it would change
    Apply(ApplyArgs),
    /// Print baseline.toml (a commented template when there is none yet)
    Show,
    /// Replace baseline.toml with FILE (admins; refused unless it parses; audited)
    Set {
        /// The new baseline (`-`: standard input)
        file: std::path::PathBuf,
    },
}

/// `baseline apply` options.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Only these customers (ids or subdomains) [default: every deployed one]
    customers: Vec<String>,
    /// Change them (without it, only the plan is shown)
    #[arg(long)]
    yes: bool,
    /// Customers changed at once after the canary
    #[arg(long, value_name = "N", default_value_t = 5)]
    wave: usize,
}

/// Runs a baseline command.
pub async fn run(g: &GlobalArgs, c: BaselineCommand) -> CliResult {
    let (store, session) = auth::login(g)?;
    match c {
        BaselineCommand::Show => show(g, &store, &session),
        BaselineCommand::Set { file } => set(g, &store, &session, &file),
        BaselineCommand::Check => against(g, &store, &session, None).await,
        BaselineCommand::Apply(a) => against(g, &store, &session, Some(a)).await,
    }
}

fn show(g: &GlobalArgs, store: &Store, session: &Session) -> CliResult {
    let b = crate::engine::usecase::baseline::read(store, session)?;
    if g.json {
        return output::json(&serde_json::json!({ "text": b.text, "exists": b.exists }));
    }
    print!("{}", b.text);
    Ok(())
}

fn set(g: &GlobalArgs, store: &Store, session: &Session, file: &std::path::Path) -> CliResult {
    let text =
        if file.as_os_str() == "-" { std::io::read_to_string(std::io::stdin()) } else { std::fs::read_to_string(file) }
            .map_err(|e| CliError::usage(format!("cannot read {}: {e}", super::show_path(file))))?;
    let summary = crate::engine::usecase::baseline::save(store, session, &text)?;
    if g.json {
        return output::json(&serde_json::json!({ "saved": true, "requires": summary }));
    }
    println!("baseline saved: {summary} (nbmsp baseline check shows who differs)");
    Ok(())
}

/// `check` (no apply arguments) or `apply`: every deployed customer against the file.
async fn against(g: &GlobalArgs, store: &Store, session: &Session, apply: Option<ApplyArgs>) -> CliResult {
    let Some(base) = baseline::load(store)? else {
        let file = baseline::path(store);
        return Err(CliError::usage(format!(
            "no baseline: write {} (e.g. `allow_default_policy = false`)",
            super::show_path(&file)
        )));
    };
    let drifts = deploy::with_ops(g, store, session, async |ops| Ok(baseline::check(ops, &base).await?)).await?;
    match apply {
        None => {
            let differ = drifts.iter().filter(|d| !d.drift.is_empty() || (d.error.is_some() && !d.stopped)).count();
            if g.json {
                output::json(&serde_json::json!({ "customers": drifts, "differ": differ }))?;
            } else {
                print_drifts(&drifts);
            }
            if differ > 0 { Err(CliError::silent_failure()) } else { Ok(()) }
        }
        Some(a) => {
            let mut chosen = drifts;
            if !a.customers.is_empty() {
                let ids: Vec<i64> =
                    a.customers.iter().map(|n| store.find_customer(n).map(|c| c.id)).collect::<Result<_, _>>()?;
                chosen.retain(|d| ids.contains(&d.id));
            }
            if !a.yes {
                if g.json {
                    return output::json(&serde_json::json!({ "plan": chosen, "applied": false }));
                }
                print_drifts(&chosen);
                println!("nothing changed: run again with --yes to apply (canary first, then {} at a time)", a.wave);
                return Ok(());
            }
            let json = g.json;
            let report = deploy::with_ops(g, store, session, async |ops| {
                Ok(baseline::apply(ops, &chosen, a.wave, |sub, r| {
                    if !json {
                        match r {
                            Ok(changed) => println!("✓ {sub}: {}", changed.join("; ")),
                            Err(e) => println!("✗ {sub}: {e}"),
                        }
                    }
                })
                .await?)
            })
            .await?;
            if json {
                output::json(&report)?;
            } else if let Some((sub, _)) = &report.failed {
                println!(
                    "halted at {sub}: {} customer(s) fixed, {} not started",
                    report.fixed.len(),
                    report.not_started.len()
                );
            } else {
                println!("{} customer(s) brought to the baseline", report.fixed.len());
            }
            if report.failed.is_some() { Err(CliError::silent_failure()) } else { Ok(()) }
        }
    }
}

fn print_drifts(drifts: &[CustomerDrift]) {
    let rows: Vec<Vec<String>> = drifts
        .iter()
        .map(|d| {
            let state = match (&d.error, d.drift.is_empty()) {
                (Some(e), _) => format!("NOT ASKED: {e}"),
                (None, true) => "matches".into(),
                (None, false) => d.drift.iter().map(|x| x.what.clone()).collect::<Vec<_>>().join("; "),
            };
            vec![d.subdomain.clone(), state]
        })
        .collect();
    println!("{}", output::table(&["CUSTOMER", "AGAINST THE BASELINE"], &rows));
}
