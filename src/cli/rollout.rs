//! `nbmsp rollout`: set new images and upgrade the fleet in waves (canary first), stopping at
//! the first failure with the image settings put back.

use clap::Args;

use super::{CliError, CliResult, GlobalArgs, auth, deploy, output};
use crate::engine::fleet::rollout::{self, RolloutEvent, RolloutPlan};

/// `nbmsp rollout` options.
#[derive(Debug, Args)]
pub struct RolloutArgs {
    /// New image for a service before rolling out, e.g. images.server=netbirdio/netbird-server:0.66.0
    /// (repeatable); without --set, the images already in the settings are rolled out
    #[arg(long = "set", value_name = "KEY=IMAGE")]
    pub set: Vec<String>,
    /// Customer to upgrade first, alone [default: the first that needs it]
    #[arg(long, value_name = "CUSTOMER")]
    pub canary: Option<String>,
    /// Customers upgraded at once after the canary [default: the monitor.concurrency setting]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub batch: Option<u16>,
}

/// Runs a rollout. On a failure the image settings go back to what they were (the failing
/// customer is already restored by its redeploy), so nothing else picks up the bad image.
pub async fn run(g: &GlobalArgs, a: RolloutArgs) -> CliResult {
    let (store, session) = auth::login(g)?;
    let mut changes = Vec::new();
    for s in &a.set {
        let (key, value) = s
            .split_once('=')
            .filter(|(k, _)| k.starts_with("images."))
            .ok_or_else(|| CliError::usage(format!("--set {s}: expected images.<service>=<image>")))?;
        crate::domain::settings::normalise(key, value)?;
        changes.push((key.to_string(), value.to_string()));
    }
    let before = store.settings_map()?;
    for (k, v) in &changes {
        store.set_setting(&session, k, v)?;
    }
    let canary = a.canary.as_deref().map(|c| store.find_customer(c)).transpose()?.map(|c| c.id);
    let batch = a.batch.map_or(store.settings()?.monitor.concurrency, usize::from);
    let on = |e: RolloutEvent| match e {
        RolloutEvent::Wave(n, who) => {
            let what = if n == 1 { "canary".to_string() } else { format!("wave {n}") };
            eprintln!("{what}: {}", who.join(", "));
        }
        RolloutEvent::Step(_, _) => {}
        RolloutEvent::Done(r) => match &r.result {
            Ok(m) => eprintln!("  ok     {}: {m}", r.subdomain),
            Err(e) => eprintln!("  FAILED {}: {e}", r.subdomain),
        },
    };
    let result = deploy::with_ops(g, &store, &session, async |ops| {
        Ok(rollout::run(ops, RolloutPlan { canary, batch }, &on).await?)
    })
    .await;
    let failed = !matches!(&result, Ok(r) if r.failed.is_none());
    if failed {
        // Put the images back: what --set replaced, else what customers ran before.
        let mut restore: Vec<(String, String)> =
            changes.iter().map(|(k, _)| (k.clone(), before.get(k).cloned().unwrap_or_else(|| default_of(k)))).collect();
        if changes.is_empty()
            && let Ok(r) = &result
        {
            restore = r.previous.iter().map(|(svc, img)| (format!("images.{svc}"), img.clone())).collect();
        }
        store.put_back_images(&session, &restore)?;
        for (k, v) in &restore {
            eprintln!("settings: {k} set back to {v}");
        }
    }
    let report = result?;
    if g.json {
        output::json(&report)?;
    } else {
        println!("{}", report.sentence());
        for (who, status) in &report.left_out {
            println!("  left out: {who} ({status}); redeploy it once it runs");
        }
    }
    if report.failed.is_some() {
        return Err(CliError::runtime(""));
    }
    Ok(())
}

fn default_of(key: &str) -> String {
    crate::domain::settings::def(key).map(|d| d.default.to_string()).unwrap_or_default()
}
