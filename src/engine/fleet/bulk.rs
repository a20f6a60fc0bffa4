//! One operation over many customers with bounded parallelism: bulk start, stop, restart,
//! deploy and redeploy from the app's marked rows or the CLI's id list / `--all --status`.
//! Each customer's outcome is reported as it ends; one failing does not stop the others.

use crate::domain::error::Failure;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use serde::Serialize;

use super::window::Window;
use crate::domain::error::ErrorKind;
use crate::engine::EngineError;
use crate::engine::npm::proxy::Proxy;
use crate::engine::ops::lifecycle::{Ops, Progress};
use crate::engine::worker::protocol::Operation;

/// One customer's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BulkResult {
    /// Which customer.
    pub customer_id: i64,
    /// Its subdomain.
    pub subdomain: String,
    /// What happened, in one sentence, or why it failed (with the kind of failure: a
    /// customer another operation holds is a conflict, not a failure of its stack).
    #[serde(serialize_with = "ser_result")]
    pub result: Result<String, Failure>,
}

fn ser_result<S: serde::Serializer>(r: &Result<String, Failure>, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeStruct;
    let mut st = s.serialize_struct("Result", 3)?;
    st.serialize_field("ok", &r.is_ok())?;
    let message = match r {
        Ok(m) => m,
        Err(e) => &e.message,
    };
    st.serialize_field("message", message)?;
    st.serialize_field("kind", &r.as_ref().err().map(|e| e.kind))?;
    st.end()
}

/// The whole run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BulkSummary {
    /// The operation.
    pub operation: &'static str,
    /// Customers that succeeded.
    pub ok: usize,
    /// Customers that failed.
    pub failed: usize,
    /// Every outcome, in the order they ended.
    pub results: Vec<BulkResult>,
}

impl BulkSummary {
    /// "restart of 8: 7 ok, 1 failed (acme: …)".
    pub fn sentence(&self) -> String {
        let total = self.ok + self.failed;
        let mut s = format!("{} of {total}: {} ok", self.operation, self.ok);
        if self.failed > 0 {
            let first: Vec<String> = self
                .results
                .iter()
                .filter_map(|r| r.result.as_ref().err().map(|e| format!("{}: {e}", r.subdomain)))
                .take(3)
                .collect();
            s.push_str(&format!(", {} failed ({})", self.failed, first.join("; ")));
        }
        s
    }
}

/// Whether `op` may run in bulk (delete never does: it is confirmed customer by customer).
pub fn allowed(op: Operation) -> bool {
    matches!(
        op,
        Operation::Deploy
            | Operation::Redeploy
            | Operation::Start
            | Operation::Stop
            | Operation::Restart
            | Operation::Backup
    )
}

/// A manual backup of one customer into the backup dir; says where it went.
pub async fn backup<P: Proxy>(ops: &Ops<'_, P>, id: i64) -> Result<String, EngineError> {
    let settings = ops.store.settings()?;
    let customer = ops.store.customer(id)?;
    let out = crate::engine::data::customer_backup::backup_file(ops.store, &settings, &customer, "manual")?;
    let s = ops.backup(id, &out, None, "manual").await?;
    Ok(format!("backup written to {} ({} bytes)", s.path.display(), s.bytes))
}

/// The window for a bulk action on `ids`: `given` as is, else starting at `start` and growing
/// up to what the CPUs of the engines they are on take (each engine asked once).
pub async fn window<P: Proxy>(ops: &Ops<'_, P>, ids: &[i64], given: Option<usize>, start: usize) -> Window {
    if let Some(n) = given {
        return Window::fixed(n);
    }
    let hosts: std::collections::BTreeSet<_> =
        ids.iter().filter_map(|id| ops.store.customer(*id).ok()).map(|c| c.host_id).collect();
    let mut cpus = 0;
    for host in hosts {
        // An engine that does not answer adds nothing: the window stays where it starts.
        if let Ok(engine) = ops.engines.of(host).await
            && let Ok(r) = engine.resources().await
        {
            cpus += r.cpus as usize;
        }
    }
    Window::adaptive(start, cpus)
}

/// Runs `op` on every customer in `ids`, as many at a time as `window` says (it learns from each
/// outcome), calling `progress` with each customer's steps and `done` as each ends.
pub async fn run<P: Proxy>(
    ops: &Ops<'_, P>,
    ids: &[i64],
    op: Operation,
    mut window: Window,
    progress: &dyn Fn(i64, Progress),
    done: &mut dyn FnMut(&BulkResult),
) -> Result<BulkSummary, EngineError> {
    if !allowed(op) {
        return Err(EngineError::Usage(format!("{} works on one customer at a time", op.verb())));
    }
    let one_customer = |id: i64| async move {
        let subdomain = ops.store.customer(id).map(|c| c.subdomain).unwrap_or_else(|_| format!("#{id}"));
        let mut p = |step: Progress| progress(id, step);
        let result = one(ops, id, op, &mut p).await.map_err(Failure::from);
        BulkResult { customer_id: id, subdomain, result }
    };
    let mut results = Vec::with_capacity(ids.len());
    let mut waiting = ids.iter().copied();
    let mut running = FuturesUnordered::new();
    loop {
        while running.len() < window.size() {
            let Some(id) = waiting.next() else { break };
            running.push(one_customer(id));
        }
        let Some(r) = running.next().await else { break };
        match &r.result {
            Ok(_) => window.succeeded(),
            // A step that failed or an engine that did not answer may be the engine at its limit;
            // a lock, a rule or missing data says nothing about what it takes.
            Err(f) if matches!(f.kind, ErrorKind::Runtime | ErrorKind::Unavailable) => window.failed(),
            Err(_) => {}
        }
        done(&r);
        results.push(r);
    }
    let ok = results.iter().filter(|r| r.result.is_ok()).count();
    Ok(BulkSummary { operation: op.verb(), ok, failed: results.len() - ok, results })
}

/// One operation on one customer, reported in the same words by every door (the app's
/// worker, bulk runs, the CLI's bulk output).
pub async fn one<P: Proxy>(
    ops: &Ops<'_, P>,
    id: i64,
    op: Operation,
    progress: &mut dyn FnMut(Progress),
) -> Result<String, EngineError> {
    Ok(match op {
        Operation::Deploy => format!("up on UDP {}", ops.deploy(id, progress).await?.udp_port),
        Operation::Redeploy => {
            let o = ops.redeploy(id, progress).await?;
            let changed = o.changes.iter().filter(|(_, what)| what != "kept").count();
            format!("redeployed, {changed} container(s) changed")
        }
        Operation::Start => {
            ops.start(id).await?;
            "started, healthy".into()
        }
        Operation::Stop => {
            ops.stop(id).await?;
            "stopped".into()
        }
        Operation::Restart => {
            ops.restart(id).await?;
            "restarted, healthy".into()
        }
        Operation::Backup => backup(ops, id).await?,
        Operation::Delete => match ops.delete(id, false).await? {
            Some(p) => format!("deleted; backup kept in {}", p.display()),
            None => "deleted".to_string(),
        },
        Operation::RetryCert => ops.retry_certificate(id).await?.detail,
        Operation::Move | Operation::Rollout | Operation::Reconcile => {
            return Err(EngineError::Usage(format!("{} is not an operation on one customer", op.verb())));
        }
    })
}
