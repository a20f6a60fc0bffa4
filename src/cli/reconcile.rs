//! `nbmsp reconcile`: what differs between the database and Docker, the instance dirs and NPM,
//! with the fix for each; `--yes` applies the safe fixes.

use clap::Args;

use super::{CliError, CliResult, GlobalArgs, auth, deploy, output};
use crate::domain::rights::Right;
use crate::engine::fleet::reconcile;

/// `nbmsp reconcile` options.
#[derive(Debug, Args)]
pub struct ReconcileArgs {
    /// Apply the safe fixes (finish or undo interrupted operations, remove orphan containers and
    /// proxy hosts, start or redeploy customers that should run)
    #[arg(long)]
    pub yes: bool,
    /// Also delete this directory under data_dir that belongs to no customer, with its data
    /// (repeatable; only with --yes)
    #[arg(long, value_name = "NAME", requires = "yes")]
    pub purge_dir: Vec<String>,
}

/// Reports, and with `--yes` fixes. Exit 0 when nothing is (left) wrong, 1 otherwise.
pub async fn run(g: &GlobalArgs, a: ReconcileArgs) -> CliResult {
    let (store, session) = auth::login(g)?;
    if !a.purge_dir.is_empty() {
        session.require(Right::PurgeDirs)?;
    } else if a.yes {
        session.require(Right::Reconcile)?;
    }
    let (findings, applied) = deploy::with_ops(g, &store, &session, async |ops| {
        let findings = reconcile::check(ops, &a.purge_dir).await?;
        let applied = if a.yes { reconcile::apply(ops, &findings).await } else { Vec::new() };
        Ok((findings, applied))
    })
    .await?;
    let fixed = |f: &reconcile::Finding| applied.iter().any(|x| x.subject == f.subject && x.kind == f.kind && x.ok);
    let left = findings.iter().filter(|f| !fixed(f)).count();
    if g.json {
        output::json(&serde_json::json!({ "findings": findings, "applied": applied, "left": left }))?;
    } else if findings.is_empty() {
        println!("consistent: the database, Docker, the instance dirs and the proxy agree");
    } else {
        for f in &findings {
            let how = if f.safe { "" } else { " [needs you]" };
            println!("{:<19} {}: {}\n{:<19} fix: {}{how}", f.kind, f.subject, f.detail, "", f.fix);
        }
        for x in &applied {
            println!("{} {} {}: {}", if x.ok { "fixed " } else { "FAILED" }, x.kind, x.subject, x.message);
        }
        if !a.yes && findings.iter().any(|f| f.safe) {
            println!("run `nbmsp reconcile --yes` to apply the safe fixes");
        }
    }
    if left > 0 {
        return Err(CliError::runtime(""));
    }
    Ok(())
}
