//! The worker's background tasks: the customer table refresh, the fleet monitor, reconcile at
//! start and after an outage, and the Docker and NPM state for the header.

use crate::domain::error::Failure;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;

use super::{Ctx, Dispatch, Event, Shared, send_customers, with_ops};
use crate::engine::docker::DockerEngine;

/// After a login: the table, the background jobs, and the dispatcher's state for this login.
pub(super) fn start(shared: Arc<Shared>, tx: &UnboundedSender<Event>) -> Dispatch {
    let (focus, focus_rx) = tokio::sync::watch::channel(None);
    let d = Dispatch { shared: shared.clone(), tx: tx.clone(), logs: None, tasks: Default::default(), focus };
    d.job("customers", |c, tx| async move { send_customers(&c, &tx) });
    d.job("refresh", refresh_customers);
    d.job("monitor", move |c, tx| monitor(c, tx, focus_rx));
    d.job("reconcile", startup_reconcile);
    d.job("npm-probe", |c, tx| async move { probe_npm(&c, &tx).await });
    tokio::task::spawn_local(watch_docker(shared, tx.clone()));
    d
}

/// Re-reads the customer table as soon as another process (the CLI, the monitor, another
/// operator's app) commits to the database, and every `refresh_interval_s` regardless; reports
/// it only when it differs, so a steady fleet costs no redraw. Noticing a commit costs one
/// `PRAGMA data_version` per half second.
async fn refresh_customers(c: Rc<Ctx>, tx: UnboundedSender<Event>) {
    const POLL: Duration = Duration::from_millis(500);
    let mut last = c.store.customer_rows().ok();
    let mut seen = c.store.data_version().ok();
    let mut since_read = Duration::ZERO;
    let mut last_settings = None;
    let read_interval = || Duration::from_secs(c.store.settings().map(|s| s.refresh_interval_s).unwrap_or(10));
    let mut interval = read_interval();
    loop {
        tokio::time::sleep(POLL).await;
        since_read += POLL;
        let version = c.store.data_version().ok();
        if version == seen && since_read < interval {
            continue;
        }
        // The interval is re-read with the rest, not on every poll.
        interval = read_interval();
        seen = version;
        since_read = Duration::ZERO;
        // Settings changed by the CLI or another app show in an open editor too.
        if let (Ok(view), Ok(users)) = (c.store.settings_view(), c.store.users())
            && last_settings.as_ref() != Some(&(view.clone(), users.clone()))
        {
            if last_settings.is_some() && tx.send(Event::Settings { rows: view.clone(), users: users.clone() }).is_err()
            {
                return;
            }
            last_settings = Some((view, users));
        }
        let Ok(rows) = c.store.customer_rows() else { continue };
        if last.as_ref() != Some(&rows) {
            if tx.send(Event::Customers(rows.clone())).is_err() {
                return;
            }
            last = Some(rows);
        }
    }
}

/// Runs the fleet monitor for the app: statuses change in the table as containers die or
/// recover, the header gets host gauges, the customer on screen gets live resource samples.
/// Waits (with backoff) while Docker is unreachable; `watch_docker` tells the user.
async fn monitor(c: Rc<Ctx>, tx: UnboundedSender<Event>, focus: tokio::sync::watch::Receiver<Option<i64>>) {
    let mut backoff = Duration::from_secs(1);
    let docker = loop {
        match crate::engine::hosts::Engines::connect(&c.store).await {
            Ok(d) => break d,
            Err(_) => {
                if tx.is_closed() {
                    return;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        }
    };
    let mut m = match crate::engine::fleet::monitor::Monitor::new(&c.store, &docker, &c.session.vault) {
        Ok(m) => m,
        Err(e) => {
            let _ = tx.send(Event::Error(format!("monitor: {e}")));
            return;
        }
    };
    if c.session.require(crate::domain::rights::Right::Monitor).is_err() {
        m.observe_only();
    }
    let forward = |e: crate::engine::fleet::monitor::MonitorEvent| {
        use crate::engine::fleet::monitor::MonitorEvent as M;
        match e {
            M::Round(r) if r.changed > 0 => send_customers(&c, &tx),
            M::Host(h) => {
                let _ = tx.send(Event::Host(h));
            }
            M::Stats { customer_id, stats } => {
                let _ = tx.send(Event::Stats { customer_id, stats });
            }
            M::Error(e) => tracing::warn!("monitor: {e}"),
            M::Round(_) | M::Notice { .. } => {}
        }
        !tx.is_closed()
    };
    m.run(focus, std::future::pending(), forward).await;
}

/// At start: finishes or undoes operations a crash interrupted, then tells the user what else
/// reconcile found (fixing that is their call: `:reconcile`).
async fn startup_reconcile(c: Rc<Ctx>, tx: UnboundedSender<Event>) {
    let r = with_ops(&c, async |ops| {
        // A viewer's app reports interrupted work; finishing it is for whoever may.
        let interrupted = if ops.role.allows(crate::domain::rights::Right::Recover.needs()) {
            crate::engine::fleet::reconcile::interrupted(&c.store).map_err(Failure::from)?
        } else {
            Vec::new()
        };
        let applied = crate::engine::fleet::reconcile::apply(ops, &interrupted).await;
        let findings = crate::engine::fleet::reconcile::check(ops, &[]).await.map_err(Failure::from)?;
        Ok((applied, findings))
    })
    .await;
    if let Ok((applied, findings)) = r
        && (!applied.is_empty() || !findings.is_empty())
    {
        let _ = tx.send(Event::Reconciled { applied, findings });
        send_customers(&c, &tx);
    }
}

/// Asks NPM (when it is the proxy) for its version, for the header.
pub(super) async fn probe_npm(c: &Ctx, tx: &UnboundedSender<Event>) {
    let settings = match c.store.settings() {
        Ok(s) => s,
        Err(e) => {
            let _ = tx.send(Event::Npm(Some(Err(Failure::from(e)))));
            return;
        }
    };
    if settings.proxy == crate::domain::settings::ProxyKind::None || settings.npm_url.is_empty() {
        let _ = tx.send(Event::Npm(None));
        return;
    }
    let r = match crate::engine::npm::http_client() {
        Ok(client) => {
            crate::engine::npm::probe(&client, &settings.npm_url).await.map(|s| s.version).map_err(Failure::from)
        }
        Err(e) => Err(Failure::from(e)),
    };
    let _ = tx.send(Event::Npm(Some(r)));
}

/// Reports the Docker engine's state when it changes: re-checked every minute while up, and
/// with backoff (1 s doubling to 30 s) while down, so the UI reconnects by itself. When the
/// engine comes back after an outage, reconcile runs again: operations the outage broke are
/// finished or undone, and what is left is reported.
async fn watch_docker(shared: Arc<Shared>, tx: UnboundedSender<Event>) {
    let mut last: Option<Result<String, Failure>> = None;
    let mut backoff = Duration::from_secs(1);
    loop {
        let status = match DockerEngine::connect().await {
            Ok(d) => d.info().await.map(|i| i.version).map_err(Failure::from),
            Err(e) => Err(Failure::from(e)),
        };
        let wait = if status.is_ok() {
            backoff = Duration::from_secs(1);
            Duration::from_secs(60)
        } else {
            let w = backoff;
            backoff = (backoff * 2).min(Duration::from_secs(30));
            w
        };
        if last.as_ref() != Some(&status) {
            if tx.send(Event::Docker(status.clone())).is_err() {
                return;
            }
            if status.is_ok() && last.as_ref().is_some_and(Result::is_err) {
                super::jobs::spawn(&shared, &tx, "reconcile", {
                    let tx = tx.clone();
                    move |c| startup_reconcile(c, tx)
                });
            }
            last = Some(status);
        }
        tokio::time::sleep(wait).await;
    }
}
