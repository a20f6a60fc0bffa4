//! `nbmsp monitor`: the fleet monitor without the app (for a systemd unit), and `nbmsp alerts`:
//! the firing alerts and a test notification.

use std::time::Duration;

use clap::{Args, Subcommand};

use super::{CliResult, GlobalArgs, auth, output};
use crate::engine::fleet::monitor::{Monitor, MonitorEvent};
use crate::engine::hosts::Engines;

/// `nbmsp monitor` options.
#[derive(Debug, Args)]
pub struct MonitorArgs {
    /// Judge the fleet once (containers, then a health probe of every customer, its reverse proxy
    /// and services, renew owner tokens and write scheduled backups that are due), print the
    /// result and exit, instead of running until stopped
    #[arg(long)]
    pub once: bool,
    /// Serve Prometheus metrics at http://ADDR/metrics: PORT alone listens on loopback,
    /// IP:PORT where told (e.g. 0.0.0.0:9464 for a Prometheus on another machine)
    #[arg(long, value_name = "ADDR", value_parser = crate::engine::fleet::metrics::parse_addr, conflicts_with = "once")]
    pub metrics: Option<std::net::SocketAddr>,
}

/// `nbmsp alerts` commands.
#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// List the alerts firing now (as the monitor last saw them)
    List,
    /// Send a test notification to every configured channel (webhook, Gotify)
    Test,
}

/// Runs the monitor in the foreground until SIGINT/SIGTERM; progress goes to the log file,
/// status changes and notices also to stdout (journald keeps them under systemd).
pub async fn run(g: &GlobalArgs, a: MonitorArgs) -> CliResult {
    let (store, session) = auth::login(g)?;
    // It records verdicts, renews tokens and writes backups: an operator's work.
    session.require(crate::domain::rights::Right::Monitor)?;
    if a.once {
        let engines = Engines::connect(&store).await?;
        let mut m = Monitor::new(&store, &engines, &session.vault)?;
        let mut notices = Vec::new();
        let mut sink = |e: MonitorEvent| {
            if let MonitorEvent::Notice { notice, delivered } = e {
                notices.push(
                    serde_json::json!({ "notice": notice, "delivered": delivered.is_ok(), "error": delivered.err().map(|f| f.message) }),
                );
            }
        };
        m.round(&mut sink).await?;
        m.probe_all(&store.settings()?).await?;
        m.reverse_all().await?;
        m.baseline_all().await?;
        m.renew_due_tokens(&store.settings()?).await?;
        m.backups_due(&store.settings()?, true).await?;
        let mut damage = None;
        m.integrity_due(true, &mut |e| {
            if let MonitorEvent::Error(text) = e {
                damage = Some(text);
            }
        })
        .await?;
        if let Some(d) = &damage {
            eprintln!("nbmsp monitor: {d}");
        }
        let report = m.round(&mut sink).await;
        m.finish();
        let report = report?;
        let rows = store.customer_rows()?;
        if g.json {
            let customers: Vec<_> = rows
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "subdomain": r.customer.subdomain,
                        "status": r.customer.status,
                        "reason": r.customer.status_reason,
                    })
                })
                .collect();
            return output::json(&serde_json::json!({ "round": report, "customers": customers, "notices": notices }));
        }
        let table: Vec<Vec<String>> = rows
            .iter()
            .map(|r| {
                vec![
                    r.customer.subdomain.clone(),
                    r.customer.status.to_string(),
                    r.customer.status_reason.clone().unwrap_or_default(),
                ]
            })
            .collect();
        println!("{}", output::table(&["SUBDOMAIN", "STATUS", "REASON"], &table));
        println!(
            "{} customers, {} containers, {} changed; {} Docker API calls, {} ms",
            report.customers, report.containers, report.changed, report.docker_calls, report.millis
        );
        return Ok(());
    }
    // Bound before anything else, so a taken port is said at once rather than after a round.
    let mut metrics = match a.metrics {
        Some(addr) => {
            let listener = crate::engine::fleet::metrics::bind(addr).await?;
            let (tx, rx) = tokio::sync::watch::channel(std::sync::Arc::default());
            tokio::spawn(crate::engine::fleet::metrics::serve(listener, rx));
            eprintln!("nbmsp monitor: metrics at http://{addr}/metrics");
            Some(tx)
        }
        None => None,
    };
    eprintln!("nbmsp monitor: watching the fleet (log: {})", g.home()?.join("logs").display());
    let stop = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
        }
    };
    tokio::pin!(stop);
    // Docker may be down when the unit starts (boot order) or restart later: keep trying.
    let mut backoff = Duration::from_secs(1);
    loop {
        let docker = tokio::select! {
            () = &mut stop => return Ok(()),
            d = Engines::connect(&store) => d,
        };
        let docker = match docker {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!("monitor: {e}; retrying in {}s", backoff.as_secs());
                eprintln!("nbmsp monitor: {e}; retrying in {}s", backoff.as_secs());
                tokio::select! {
                    () = &mut stop => return Ok(()),
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(30));
                continue;
            }
        };
        // A crash (of this service, an app, a CLI) may have left operations half done.
        let recovered = super::deploy::with_ops(g, &store, &session, async |ops| {
            let interrupted = crate::engine::fleet::reconcile::interrupted(&store)?;
            Ok(crate::engine::fleet::reconcile::apply(ops, &interrupted).await)
        })
        .await;
        match recovered {
            Ok(done) => {
                for a in done {
                    println!("recovered {}: {}", a.subject, a.message);
                }
            }
            Err(e) => eprintln!("nbmsp monitor: recovery of interrupted operations: {}", e.message),
        }
        let mut m = Monitor::new(&store, &docker, &session.vault)?;
        if let Some(tx) = metrics.take() {
            m.publish_metrics(tx);
        }
        let (_focus_tx, focus_rx) = tokio::sync::watch::channel(None);
        m.run(focus_rx, &mut stop, print_event).await;
        return Ok(());
    }
}

fn print_event(e: MonitorEvent) -> bool {
    match e {
        MonitorEvent::Round(r) => {
            tracing::debug!(
                customers = r.customers,
                containers = r.containers,
                calls = r.docker_calls,
                ms = r.millis,
                "round"
            );
            if r.changed > 0 {
                println!("{} customer status(es) changed", r.changed);
            }
        }
        MonitorEvent::Notice { notice, delivered } => match delivered {
            Ok(()) => println!("sent: {}: {}", notice.title, notice.message),
            Err(e) => println!("NOT sent ({e}): {}: {}", notice.title, notice.message),
        },
        MonitorEvent::Error(e) => {
            tracing::warn!("monitor: {e}");
            eprintln!("nbmsp monitor: {e}");
        }
        MonitorEvent::Host(_) | MonitorEvent::Stats { .. } => {}
    }
    true
}

/// `nbmsp alerts list|test`.
pub async fn alerts(g: &GlobalArgs, cmd: AlertsCommand) -> CliResult {
    let (store, session) = auth::login(g)?;
    match cmd {
        AlertsCommand::List => {
            let active = store.active_alerts()?;
            if g.json {
                return output::json(&active);
            }
            if active.is_empty() {
                println!("no alerts firing");
                return Ok(());
            }
            let rows: Vec<Vec<String>> = active
                .iter()
                .map(|a| {
                    let since = time::OffsetDateTime::from_unix_timestamp(a.since).map(crate::store::fmt_time);
                    vec![a.scope.clone(), a.kind.clone(), since.unwrap_or_default(), a.message.clone()]
                })
                .collect();
            println!("{}", output::table(&["SCOPE", "KIND", "SINCE", "MESSAGE"], &rows));
            Ok(())
        }
        AlertsCommand::Test => {
            let channels = crate::engine::usecase::alerts::send_test(&store, &session).await?;
            if g.json {
                output::json(&serde_json::json!({ "sent": true, "channels": channels }))
            } else {
                println!("test notification sent to {channels}");
                Ok(())
            }
        }
    }
}
