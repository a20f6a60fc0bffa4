//! Crash recovery: what to do about an operation the journal shows as interrupted (its
//! process is gone), decided once as a [`Plan`] that the dry run describes and the recovery
//! carries out; and undoing an operation this process cancelled.

use crate::domain::audit::AuditStatus;
use crate::domain::customer::{Customer, CustomerStatus};
use crate::domain::rights::Right;
use crate::engine::EngineError;
use crate::engine::npm::proxy::Proxy;
use crate::engine::ops::lifecycle::{Ops, Progress};
use crate::store::journal::JournalEntry;

/// What recovering an interrupted entry will do: decided once, for the dry run's text and for
/// the recovery itself, so a report never promises what `--yes` would not do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// The customer row is gone: the delete had finished; the entry is closed.
    Gone,
    /// The id now names another customer (created after the entry): nothing is done.
    NotThisCustomer(String),
    /// The deploy had recorded success before it stopped: its status is set, nothing undone.
    DeployFinished,
    /// The deploy stopped part-way: containers, proxy host, files and port are removed.
    UndoDeploy,
    /// The redeploy is run again (the previous version comes back if it fails).
    FinishRedeploy,
    /// The move had switched hosts: the source's leftovers are removed.
    FinishMove,
    /// The move had not switched: the target's part is removed, the source starts again.
    UndoMove,
    /// The delete is finished (`purge`: data deleted, as asked; else a backup is kept).
    FinishDelete {
        /// Whether the data goes too.
        purge: bool,
    },
}

impl Plan {
    /// The fix as the dry run says it.
    pub fn describe(&self) -> String {
        match self {
            Plan::Gone => "nothing to undo: the customer is gone (the delete had finished); close the entry".into(),
            Plan::NotThisCustomer(why) => format!("nothing: {why}; close the entry"),
            Plan::DeployFinished => "nothing to undo: the deploy had finished; mark the customer active".into(),
            Plan::UndoDeploy => "undo the deploy (containers, proxy host, files, port), status error".into(),
            Plan::FinishRedeploy => "finish the redeploy (the previous version comes back if it fails)".into(),
            Plan::FinishMove => "finish the move: remove what is left on the source host".into(),
            Plan::UndoMove => "undo the move: remove the target's part, start it on the source host again".into(),
            Plan::FinishDelete { purge: true } => "finish the delete (data deleted, as asked)".into(),
            Plan::FinishDelete { purge: false } => "finish the delete (a restorable backup is kept)".into(),
        }
    }
}

/// The plan for entry `e` as things stand now.
pub fn plan(store: &crate::store::Store, e: &JournalEntry) -> Result<Plan, EngineError> {
    let Ok(c) = store.customer(e.customer_id) else { return Ok(Plan::Gone) };
    // An entry acts only on the customer instance it was written for.
    if c.subdomain != e.subdomain || crate::store::fmt_time(c.created_at) > e.started_at {
        return Ok(Plan::NotThisCustomer(format!(
            "written for '{}', but #{} is now '{}' (created {})",
            e.subdomain,
            c.id,
            c.subdomain,
            crate::store::fmt_time(c.created_at)
        )));
    }
    Ok(match e.operation.as_str() {
        "deploy" => {
            let recorded = store
                .deployment(c.id)?
                .is_some_and(|d| d.status == crate::domain::deployment::DeploymentStatus::Running);
            if recorded { Plan::DeployFinished } else { Plan::UndoDeploy }
        }
        "redeploy" => Plan::FinishRedeploy,
        "move" => match e.moving {
            // The host switches only once the target's stack is applied: before that, undo.
            Some((_, to)) if c.host_id == to && e.step == "remove source" => Plan::FinishMove,
            _ => Plan::UndoMove,
        },
        _ => Plan::FinishDelete { purge: e.purge_data },
    })
}

/// Finishes or undoes an operation a crash interrupted, under the customer's lock (which the
/// dead process's stale lock gives up to us), as [`plan`] says.
pub async fn recover<P: Proxy>(ops: &Ops<'_, P>, e: &JournalEntry) -> Result<String, EngineError> {
    let planned = plan(ops.store, e)?;
    let customer = match &planned {
        Plan::Gone => {
            let msg = "the customer is gone: the delete had finished".to_string();
            ops.store.journal_end(e.id, "recovered", &msg)?;
            return Ok(msg);
        }
        Plan::NotThisCustomer(why) => {
            let msg = format!("{why}: nothing done");
            ops.store.journal_end(e.id, "recovered", &msg)?;
            return Ok(msg);
        }
        _ => ops.store.customer(e.customer_id)?,
    };
    let result = ops.locked(customer.id, Right::Recover, recover_unlocked(ops, e, &customer, &planned)).await;
    let outcome = match &result {
        Ok(m) => m.clone(),
        Err(err) => format!("recovery failed: {err}"),
    };
    ops.store.journal_end(e.id, "recovered", &outcome)?;
    ops.store.log_customer(
        ops.actor,
        &customer,
        "recover",
        if result.is_ok() { AuditStatus::Success } else { AuditStatus::Error },
        &format!("{} interrupted at '{}': {outcome}", e.operation, e.step),
    )?;
    result
}

async fn recover_unlocked<P: Proxy>(
    ops: &Ops<'_, P>,
    e: &JournalEntry,
    c: &Customer,
    planned: &Plan,
) -> Result<String, EngineError> {
    let mut quiet = |_: Progress| {};
    match planned {
        Plan::Gone | Plan::NotThisCustomer(_) => Ok(planned.describe()),
        Plan::DeployFinished => {
            ops.store.set_customer_status(c.id, CustomerStatus::Active, None)?;
            Ok("the deploy had finished".into())
        }
        Plan::UndoDeploy => {
            ops.undo_first_deploy(c, &mut quiet).await;
            let reason = format!("deploy interrupted at '{}' (nbmsp was stopped) and undone; deploy again", e.step);
            ops.store.set_customer_status(c.id, CustomerStatus::Error, Some(&reason))?;
            Ok("deploy undone: no containers, files or port left".into())
        }
        Plan::FinishRedeploy => {
            ops.redeploy_now(c.id, &mut quiet).await?;
            Ok("redeploy finished".into())
        }
        Plan::FinishMove | Plan::UndoMove => {
            let Some((from, to)) = e.moving else {
                return Err(EngineError::Damaged("a move entry without its hosts: look at both by hand".into()));
            };
            if *planned == Plan::FinishMove {
                ops.finish_move(c, from).await?;
                Ok(format!("move to host {} finished: the source's leftovers removed", ops.engines.name(to)))
            } else {
                // From "start on target" on, what the proxy holds is the target's.
                let proxy = if e.step == "start on target" {
                    crate::engine::ops::moving::ProxyBack::OnTarget(None)
                } else {
                    crate::engine::ops::moving::ProxyBack::Untouched
                };
                ops.undo_move(c, from, to, proxy, e.move_port).await?;
                Ok(format!("move undone: '{}' runs on host {} again", c.subdomain, ops.engines.name(from)))
            }
        }
        Plan::FinishDelete { purge } => {
            let archived = ops.delete_now(c.id, *purge).await?;
            Ok(match archived {
                Some(p) => format!("delete finished; backup kept in {}", p.display()),
                None => "delete finished".into(),
            })
        }
    }
}

/// Undoes a deploy or redeploy of this process that was cancelled (its task dropped mid-step):
/// a first deploy is rolled back, a redeploy goes back to the files and containers it replaced.
/// The dropped task could not release its lock or close its journal entry; this does both.
pub async fn undo_cancelled<P: Proxy>(ops: &Ops<'_, P>, customer_id: i64) -> Result<String, EngineError> {
    let me = std::process::id();
    let entry = ops
        .store
        .journal_running()?
        .into_iter()
        .rev()
        .find(|e| e.customer_id == customer_id && e.pid == me && e.host == crate::store::locks::host_name());
    let Some(e) = entry else {
        ops.store.release_cancelled_lock(customer_id, me)?;
        return Ok("nothing to undo: the operation had not started a step".into());
    };
    let c = ops.store.customer(customer_id)?;
    let mut quiet = |_: Progress| {};
    let result = match e.operation.as_str() {
        "deploy" => {
            ops.undo_first_deploy(&c, &mut quiet).await;
            // A Docker request the dropped task had in flight may land just after: look again.
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            let docker = ops.engines.for_customer(&c).await?;
            for name in ops.container_names(&c).await? {
                docker.remove(&name).await?;
            }
            let reason = format!("deploy cancelled by {} at '{}' and rolled back", ops.actor, e.step);
            ops.store.set_customer_status(c.id, CustomerStatus::Inactive, Some(&reason))?;
            Ok(reason)
        }
        _ => {
            ops.restore_interrupted_redeploy(&c).await?;
            let reason =
                format!("redeploy cancelled by {} at '{}'; the previous version was restored", ops.actor, e.step);
            ops.store.set_customer_status(c.id, CustomerStatus::Active, Some(&reason))?;
            Ok(reason)
        }
    };
    let outcome = match &result {
        Ok(m) => m.clone(),
        Err(err) => format!("cancelled; undoing failed: {err} (nbmsp reconcile --yes finishes it)"),
    };
    ops.store.journal_end(e.id, "failed", &outcome)?;
    ops.store.log_customer(ops.actor, &c, &e.operation, AuditStatus::Error, &outcome)?;
    ops.store.release_cancelled_lock(customer_id, me)?;
    result
}

#[cfg(test)]
mod plan_tests {
    use super::{Plan, plan};
    use crate::domain::customer::{Layout, NewCustomer};
    use crate::domain::deployment::DeploymentStatus;
    use crate::store::Store;

    fn customer(s: &Store, sub: &str) -> i64 {
        let new = NewCustomer {
            name: "P".into(),
            company: String::new(),
            subdomain: sub.into(),
            email: "p@p.example".into(),
            max_devices: 10,
            notes: String::new(),
            contract_id: None,
            psa_ref: None,
            sla_target: None,
            reverse_proxy: false,
            layout: Layout::Combined,
        };
        s.create_customer("t", &new).unwrap().id
    }

    #[test]
    fn the_dry_run_says_what_the_recovery_does() {
        let s = Store::open_in_memory().unwrap();
        let id = customer(&s, "acme");
        s.journal_begin(id, "acme", "deploy", "t").unwrap();
        let entry = || s.journal_running().unwrap().pop().unwrap();
        assert_eq!(plan(&s, &entry()).unwrap(), Plan::UndoDeploy);
        // The deploy got as far as recording success before it was stopped: nothing to undo.
        s.allocate_deployment(id, "acme", 40000, 10, |_| true).unwrap();
        s.set_deployment_status(id, DeploymentStatus::Running, None).unwrap();
        let p = plan(&s, &entry()).unwrap();
        assert_eq!(p, Plan::DeployFinished);
        assert!(p.describe().starts_with("nothing to undo"), "{}", p.describe());

        // A move is described as a move (it once read as a delete).
        let other = customer(&s, "beta");
        s.journal_begin_move(other, "beta", "t", None, Some(7), 40001).unwrap();
        let moving = s.journal_running().unwrap().into_iter().find(|e| e.customer_id == other).unwrap();
        let p = plan(&s, &moving).unwrap();
        assert_eq!(p, Plan::UndoMove);
        assert!(p.describe().starts_with("undo the move"), "{}", p.describe());
    }
}
