//! The customer on screen: its detail, and its containers' logs streamed while it is shown.

use crate::domain::error::Failure;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc::UnboundedSender;

use super::{Ctx, Detail, Dispatch, Event, rate, with_ops};

/// Starts streaming `customer_id`'s logs, ending the stream shown before.
pub(super) fn follow(d: &mut Dispatch, customer_id: i64) {
    let tx = d.tx.clone();
    let work = move |c: std::rc::Rc<Ctx>| async move {
        if let Err(e) = follow_logs(&c, customer_id, &tx).await {
            let _ = tx.send(Event::Error(format!("logs: {e}")));
        }
    };
    stop(d);
    d.logs = Some(super::jobs::spawn_cancellable(&d.shared, &d.tx, "logs", work, |_| async {}));
}

/// Ends the log stream, if one runs.
pub(super) fn stop(d: &mut Dispatch) {
    if let Some(cancel) = d.logs.take() {
        // It may have ended by itself already: nothing left to stop then.
        let _ = cancel.send(());
    }
}

/// Loads the customer's detail for the screen.
pub(super) fn load(d: &Dispatch, customer_id: i64) {
    d.job("detail", move |c, tx| async move {
        let ev = match load_detail(&c, customer_id).await {
            Ok(d) => Event::Detail(Box::new(d)),
            Err(e) => Event::Error(e.to_string()),
        };
        let _ = tx.send(ev);
    });
}

async fn load_detail(c: &Ctx, customer_id: i64) -> Result<Detail, Failure> {
    let customer = c.store.customer(customer_id).map_err(Failure::from)?;
    let settings = c.store.settings().map_err(Failure::from)?;
    let fqdn = customer.fqdn(&settings.base_domain);
    let deployment = c.store.deployment(customer_id).map_err(Failure::from)?;
    let own_proxy = match (settings.proxy, &deployment) {
        (crate::domain::settings::ProxyKind::None, Some(_)) => {
            let kind = crate::engine::stack::render::NginxKind::Server;
            let templates = Some(c.template_dir.clone());
            let block = crate::engine::stack::render::render_nginx(
                kind,
                &fqdn,
                &crate::engine::stack::render::prefix(&settings, &customer),
                customer.layout,
                templates,
            )
            .map_err(|e| Failure::from(crate::engine::EngineError::from(e)))?;
            Some(crate::engine::worker::protocol::OwnProxy {
                server_block: block,
                network: settings.docker_network.clone(),
            })
        }
        _ => None,
    };
    let audit = c.store.audit_log(Some(customer_id), 50).map_err(Failure::from)?;
    let containers = if deployment.is_some() {
        with_ops(c, async |ops| ops.containers(&customer).await.map_err(Failure::from)).await
    } else {
        Ok(Vec::new())
    };
    let last_backup = c.store.backups_of(customer_id, 1).map_err(Failure::from)?.into_iter().next();
    Ok(Detail { customer, fqdn, deployment, audit, containers, last_backup, loaded_at: crate::store::now(), own_proxy })
}

/// Streams the customer's container logs, merged, in batches of at most 100 ms.
async fn follow_logs(c: &Ctx, customer_id: i64, tx: &UnboundedSender<Event>) -> Result<(), Failure> {
    let customer = c.store.customer(customer_id).map_err(Failure::from)?;
    let (containers, docker) = with_ops(c, async |ops| {
        let docker = ops.engines.for_customer(&customer).await.map_err(Failure::from)?;
        Ok((ops.containers(&customer).await.map_err(Failure::from)?, docker))
    })
    .await?;
    let streams = containers.iter().map(|x| Box::pin(docker.logs(&x.name, x.service.clone(), Some(200), true)));
    let mut merged = futures_util::stream::select_all(streams);
    let mut batch = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let mut rate = rate::LineRate::default();
    let mut first = true;
    loop {
        tokio::select! {
            line = merged.next() => match line {
                Some(Ok(l)) => batch.push(l),
                Some(Err(e)) => return Err(Failure::from(e)),
                None => break,
            },
            _ = tick.tick() => {
                // The first batch is every container's tail, not a rate.
                let per_second = if first { 0 } else { rate.add(std::time::Instant::now(), batch.len()) };
                first &= batch.is_empty();
                let rate_changed = rate.changed();
                if !batch.is_empty() || rate_changed {
                    // Within a batch (the first one holds every container's tail) keep time order.
                    batch.sort_by(|a, b| a.timestamp.cmp(&b.timestamp));
                    let lines = std::mem::take(&mut batch);
                    // Nobody listens any more (the app left): stop reading Docker's streams.
                    if tx.send(Event::Logs { customer_id, lines, per_second }).is_err() {
                        return Ok(());
                    }
                }
            }
        }
    }
    if !batch.is_empty() {
        let _ = tx.send(Event::Logs { customer_id, lines: batch, per_second: 0 });
    }
    Ok(())
}
