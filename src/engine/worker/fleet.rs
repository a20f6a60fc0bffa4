//! Commands on many customers or on running operations: operate (cancellable), cancel, bulk,
//! reconcile and rollout.

use crate::domain::error::Failure;
use tokio::sync::mpsc::UnboundedSender;

use super::{Ctx, Dispatch, Event, Operation, send_customers, with_ops};
use crate::domain::customer::CustomerRef;
use crate::engine::ops::lifecycle::Progress;

/// Runs one operation; deploys and redeploys are remembered so they can be cancelled.
pub(super) fn operate_command(d: &mut Dispatch, target: CustomerRef, op: Operation) {
    let customer_id = target.id;
    let work = {
        let tx = d.tx.clone();
        move |c: std::rc::Rc<Ctx>| async move {
            let result = match c.store.expect_customer(&target) {
                Ok(_) => operate(&c, customer_id, op, &tx).await,
                Err(e) => Err(Failure::from(e)),
            };
            let _ = tx.send(Event::Finished { customer_id, op, result });
            send_customers(&c, &tx);
        }
    };
    // Cancelling drops the operation where it stands (like a crash of this process), then the
    // journal says what to undo.
    let undo = {
        let tx = d.tx.clone();
        move |c: std::rc::Rc<Ctx>| async move {
            let result = with_ops(&c, async |ops| {
                crate::engine::fleet::reconcile::undo_cancelled(ops, customer_id).await.map_err(Failure::from)
            })
            .await
            .and_then(|m| Err(Failure::new(crate::domain::error::ErrorKind::Interrupted, m)));
            let _ = tx.send(Event::Finished { customer_id, op, result });
            send_customers(&c, &tx);
        }
    };
    let cancel = super::jobs::spawn_cancellable(&d.shared, &d.tx, op.verb(), work, undo);
    // Entries of operations that have ended go as new ones come.
    d.tasks.retain(|_, (_, tx)| !tx.is_closed());
    if matches!(op, Operation::Deploy | Operation::Redeploy) {
        d.tasks.insert(customer_id, (op, cancel));
    }
}

/// Cancels a running deploy or redeploy.
pub(super) fn cancel(d: &mut Dispatch, customer_id: i64) {
    let sent = d.tasks.remove(&customer_id).is_some_and(|(_, cancel)| cancel.send(()).is_ok());
    if !sent {
        let _ = d.tx.send(Event::Error("nothing to cancel: the operation already ended".into()));
    }
}

/// Runs an operation over several customers, a few at a time, each reported as it ends.
pub(super) fn bulk(d: &Dispatch, targets: Vec<CustomerRef>, op: Operation) {
    d.job("bulk", move |c, tx| async move {
        let mut customer_ids = Vec::new();
        for t in targets {
            match c.store.expect_customer(&t) {
                Ok(_) => customer_ids.push(t.id),
                Err(e) => {
                    let _ = tx.send(Event::Finished { customer_id: t.id, op, result: Err(Failure::from(e)) });
                }
            }
        }
        let start = c.store.settings().map(|s| s.monitor.concurrency).unwrap_or(4);
        let progress = |customer_id: i64, p: Progress| {
            let _ = tx.send(Event::Progress { customer_id, progress: p });
        };
        let mut done = |r: &crate::engine::fleet::bulk::BulkResult| {
            let _ = tx.send(Event::Finished { customer_id: r.customer_id, op, result: r.result.clone() });
        };
        let summary = with_ops(&c, async |ops| {
            let window = crate::engine::fleet::bulk::window(ops, &customer_ids, None, start).await;
            crate::engine::fleet::bulk::run(ops, &customer_ids, op, window, &progress, &mut done)
                .await
                .map_err(Failure::from)
        })
        .await;
        match summary {
            Ok(s) => {
                let _ = tx.send(Event::BulkDone(s));
            }
            Err(e) => {
                // Nothing ran (Docker or the proxy could not be set up): end each one.
                for customer_id in customer_ids {
                    let _ = tx.send(Event::Finished { customer_id, op, result: Err(e.clone()) });
                }
            }
        }
        send_customers(&c, &tx);
    });
}

/// Applies reconcile's safe fixes and reports what is left.
pub(super) fn reconcile(d: &Dispatch) {
    d.job("reconcile", |c, tx| async move {
        let r = with_ops(&c, async |ops| {
            let findings = crate::engine::fleet::reconcile::check(ops, &[]).await.map_err(Failure::from)?;
            let applied = crate::engine::fleet::reconcile::apply(ops, &findings).await;
            let left = crate::engine::fleet::reconcile::check(ops, &[]).await.map_err(Failure::from)?;
            Ok((applied, left))
        })
        .await;
        let _ = tx.send(match r {
            Ok((applied, findings)) => Event::Reconciled { applied, findings },
            Err(e) => Event::Error(format!("reconcile: {e}")),
        });
        send_customers(&c, &tx);
    });
}

/// Moves a customer to another host, its steps shown as progress like a deploy's.
pub(super) fn move_command(d: &Dispatch, target: CustomerRef, to: String) {
    d.job("move", move |c, tx| async move {
        let customer_id = target.id;
        let result = match c.store.expect_customer(&target) {
            Ok(_) => {
                with_ops(&c, async |ops| {
                    let key = ops.store.host_id_for(&to).map_err(Failure::from)?;
                    let mut progress = |p: Progress| {
                        let _ = tx.send(Event::Progress { customer_id, progress: p });
                    };
                    let m = ops.move_to(customer_id, key, &mut progress).await.map_err(Failure::from)?;
                    let dns = match (&m.dns_hook, &m.public_ip) {
                        (Some(Ok(said)), _) => format!("hooks.dns: {said}"),
                        (Some(Err(e)), _) => format!("hooks.dns failed ({e}): point {} at the new address", m.domain),
                        (_, Some(ip)) => format!("point {} at {ip}", m.domain),
                        (_, None) => format!("point {} at this machine", m.domain),
                    };
                    let port = match m.port_changed_from {
                        Some(old) => format!("; UDP {old} was taken there: now UDP {}", m.udp_port),
                        None => String::new(),
                    };
                    Ok(format!("now on host {}; {dns}{port}", m.to))
                })
                .await
            }
            Err(e) => Err(Failure::from(e)),
        };
        let _ = tx.send(Event::Finished { customer_id, op: Operation::Move, result });
        send_customers(&c, &tx);
    });
}

/// Asks every engine about itself for the hosts view, after draining (or opening) a host
/// when `drain` says which.
pub(super) fn hosts_command(d: &Dispatch, drain: Option<(String, bool)>) {
    d.job("hosts", move |c, tx| async move {
        if let Some((host, draining)) = drain
            && let Err(e) = c.store.set_draining(&c.session, &host, draining)
        {
            let _ = tx.send(Event::Error(e.to_string()));
        }
        let list = async {
            let engines = crate::engine::hosts::Engines::new(&c.store)?;
            crate::engine::npm::edge::statuses_with_edges(&c.store, &engines).await
        }
        .await
        .map_err(|e: crate::engine::EngineError| Failure::from(e));
        let _ = tx.send(Event::Hosts(list));
    });
}

/// Rolls the images in settings out to the fleet.
pub(super) fn rollout_command(d: &Dispatch) {
    d.job("rollout", |c, tx| async move {
        let r = rollout(&c, &tx).await;
        let _ = tx.send(Event::Rollout(Box::new(crate::engine::worker::protocol::RolloutUpdate::Finished(r))));
        send_customers(&c, &tx);
    });
}

async fn operate(c: &Ctx, customer_id: i64, op: Operation, tx: &UnboundedSender<Event>) -> Result<String, Failure> {
    with_ops(c, async |ops| {
        let mut progress = |p: Progress| {
            let _ = tx.send(Event::Progress { customer_id, progress: p });
        };
        let r = crate::engine::fleet::bulk::one(ops, customer_id, op, &mut progress).await;
        r.map_err(Failure::from)
    })
    .await
}

/// A rollout from the app: waves as configured, and on a failure the image settings go back to
/// what customers ran before, so nothing else picks the failing image up.
async fn rollout(
    c: &Ctx,
    tx: &UnboundedSender<Event>,
) -> Result<(crate::engine::fleet::rollout::RolloutReport, Option<String>), Failure> {
    use crate::engine::fleet::rollout::RolloutEvent;
    use crate::engine::worker::protocol::RolloutUpdate;
    let batch = c.store.settings().map(|s| s.monitor.concurrency).unwrap_or(4);
    let on = |e: RolloutEvent| {
        let u = match e {
            RolloutEvent::Wave(n, who) => RolloutUpdate::Wave(n, who),
            RolloutEvent::Done(r) => RolloutUpdate::Customer(r),
            // A customer's steps as for any operation on it (the app shows them where it runs one).
            RolloutEvent::Step(customer_id, progress) => {
                let _ = tx.send(Event::Progress { customer_id, progress });
                return;
            }
        };
        let _ = tx.send(Event::Rollout(Box::new(u)));
    };
    let report = with_ops(c, async |ops| {
        crate::engine::fleet::rollout::run(ops, crate::engine::fleet::rollout::RolloutPlan { canary: None, batch }, &on)
            .await
            .map_err(Failure::from)
    })
    .await?;
    let mut reverted = None;
    if report.failed.is_some() && !report.previous.is_empty() {
        let back: Vec<(String, String)> =
            report.previous.iter().map(|(svc, image)| (format!("images.{svc}"), image.clone())).collect();
        c.store.put_back_images(&c.session, &back).map_err(Failure::from)?;
        let done: Vec<String> = back.iter().map(|(k, v)| format!("{k} = {v}")).collect();
        reverted = Some(format!("settings put back: {}", done.join(", ")));
    }
    Ok((report, reverted))
}
