//! The engine as a task for the TUI: it takes [`Command`]s and emits [`Event`]s, on its own
//! thread with its own runtime, so a slow Docker or NPM call never blocks input or drawing.
//! The database connection and the unlocked secrets live only here.

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use super::docker::DockerEngine;
use super::lifecycle::{Ops, Progress};
use super::proxy::{self, AnyProxy};
use crate::store::{Session, Store};

pub use super::protocol::{Command, Detail, Event, InitRequest, Operation};

struct Ctx {
    store: Store,
    session: Session,
    template_dir: PathBuf,
    /// Deploys and redeploys under way, so they can be cancelled.
    tasks: Rc<RefCell<std::collections::HashMap<i64, (Operation, tokio::task::AbortHandle)>>>,
}

/// Starts the worker thread for the database at `db` (templates overrides under `home`).
pub fn spawn(db: PathBuf, home: PathBuf) -> (UnboundedSender<Command>, UnboundedReceiver<Event>) {
    let (cmd_tx, cmd_rx) = unbounded_channel();
    let (ev_tx, ev_rx) = unbounded_channel();
    std::thread::Builder::new()
        .name("nbmsp-engine".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ev_tx.send(Event::Error(format!("cannot start the engine: {e}")));
                    return;
                }
            };
            let local = tokio::task::LocalSet::new();
            local.block_on(&rt, run(db, home, cmd_rx, ev_tx));
        })
        .ok();
    (cmd_tx, ev_rx)
}

async fn run(db: PathBuf, home: PathBuf, mut rx: UnboundedReceiver<Command>, tx: UnboundedSender<Event>) {
    let mut ctx: Option<Rc<Ctx>> = None;
    let logs: Rc<RefCell<Option<tokio::task::AbortHandle>>> = Rc::new(RefCell::new(None));
    let (focus_tx, focus_rx) = tokio::sync::watch::channel(None);
    while let Some(cmd) = rx.recv().await {
        match cmd {
            Command::Init(req) => {
                let _ = tx.send(match initialise(&db, &home, &req) {
                    Ok(()) => Event::Initialised { user: req.admin_user.clone() },
                    Err(e) => Event::InitFailed(e),
                });
            }
            Command::TestNpm { url, identity, secret } => {
                let tx = tx.clone();
                tokio::task::spawn_local(async move {
                    let result = async {
                        let client =
                            super::npm::client::NpmClient::new(&url, &identity, &secret).map_err(|e| e.to_string())?;
                        let version = client.version().await.map_err(|e| e.to_string())?;
                        client.login().await.map_err(|e| e.to_string())?;
                        Ok(format!("Nginx Proxy Manager {version}: login ok"))
                    }
                    .await;
                    let _ = tx.send(Event::NpmTested(result));
                });
            }
            Command::Login { user, password } => {
                let result = Store::open(&db, false).map_err(|e| e.to_string()).and_then(|mut store| {
                    let now = time::OffsetDateTime::now_utc().unix_timestamp();
                    let session = store.login(&user, &password, now).map_err(|e| e.to_string())?;
                    Ok(Ctx { store, session, template_dir: home.join("templates"), tasks: Default::default() })
                });
                match result {
                    Ok(c) => {
                        let (base_domain, layout) = c
                            .store
                            .settings()
                            .map(|s| (s.base_domain, s.layout))
                            .unwrap_or((String::new(), crate::domain::customer::Layout::Combined));
                        let _ = tx.send(Event::LoggedIn { user: c.session.user.username.clone(), base_domain, layout });
                        let c = Rc::new(c);
                        send_customers(&c, &tx);
                        tokio::task::spawn_local(watch_docker(c.clone(), tx.clone()));
                        tokio::task::spawn_local(refresh_customers(c.clone(), tx.clone()));
                        tokio::task::spawn_local(monitor(c.clone(), tx.clone(), focus_rx.clone()));
                        tokio::task::spawn_local(startup_reconcile(c.clone(), tx.clone()));
                        probe_npm(&c, &tx);
                        ctx = Some(c);
                    }
                    Err(e) => {
                        let _ = tx.send(Event::LoginFailed(e));
                    }
                }
            }
            cmd => {
                let Some(c) = ctx.clone() else {
                    let _ = tx.send(Event::Error("not logged in".into()));
                    continue;
                };
                match &cmd {
                    Command::LoadDetail { customer_id } => focus_tx.send_replace(Some(*customer_id)),
                    Command::LoadCustomers => focus_tx.send_replace(None),
                    _ => None,
                };
                handle(c, cmd, &tx, &logs);
            }
        }
    }
}

/// Creates the database, the admin and the settings (the wizard's `nbmsp init`).
fn initialise(db: &std::path::Path, home: &std::path::Path, req: &InitRequest) -> Result<(), String> {
    crate::store::home::ensure_private_dir(home).map_err(|e| e.to_string())?;
    let mut store = Store::open(db, true).map_err(|e| e.to_string())?;
    let session = store
        .initialise(&crate::store::auth::InitParams {
            home,
            admin_user: &req.admin_user,
            password: &req.password,
            admin_email: &req.admin_email,
            base_domain: &req.base_domain,
        })
        .map_err(|e| e.to_string())?;
    for (k, v) in &req.settings {
        store.set_setting(&session, k, v).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Re-reads the customer table every `refresh_interval_s` (other nbmsp processes, the CLI and
/// the monitor change it) and reports it only when it differs, so a steady fleet costs no redraw.
async fn refresh_customers(c: Rc<Ctx>, tx: UnboundedSender<Event>) {
    let mut last = c.store.customer_rows().ok();
    loop {
        let secs = c.store.settings().map(|s| s.refresh_interval_s).unwrap_or(10);
        tokio::time::sleep(Duration::from_secs(secs)).await;
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
        match DockerEngine::connect().await {
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
    let mut m = match super::monitor::Monitor::new(&c.store, &docker, &c.session.vault) {
        Ok(m) => m,
        Err(e) => {
            let _ = tx.send(Event::Error(format!("monitor: {e}")));
            return;
        }
    };
    let forward = |e: super::monitor::MonitorEvent| {
        use super::monitor::MonitorEvent as M;
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
        let interrupted = super::reconcile::interrupted(&c.store).map_err(|e| e.to_string())?;
        let applied = super::reconcile::apply(ops, &interrupted).await;
        let findings = super::reconcile::check(ops, &[]).await.map_err(|e| e.to_string())?;
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
fn probe_npm(c: &Ctx, tx: &UnboundedSender<Event>) {
    let settings = match c.store.settings() {
        Ok(s) => s,
        Err(e) => {
            let _ = tx.send(Event::Npm(Some(Err(e.to_string()))));
            return;
        }
    };
    if settings.proxy == crate::domain::settings::ProxyKind::None || settings.npm_url.is_empty() {
        let _ = tx.send(Event::Npm(None));
        return;
    }
    let tx = tx.clone();
    tokio::task::spawn_local(async move {
        let r = match super::npm::http_client() {
            Ok(client) => {
                super::npm::probe(&client, &settings.npm_url).await.map(|s| s.version).map_err(|e| e.to_string())
            }
            Err(e) => Err(e.to_string()),
        };
        let _ = tx.send(Event::Npm(Some(r)));
    });
}

/// Reports the Docker engine's state when it changes: re-checked every minute while up, and
/// with backoff (1 s doubling to 30 s) while down, so the UI reconnects by itself. When the
/// engine comes back after an outage, reconcile runs again: operations the outage broke are
/// finished or undone, and what is left is reported.
async fn watch_docker(c: Rc<Ctx>, tx: UnboundedSender<Event>) {
    let mut last: Option<Result<String, String>> = None;
    let mut backoff = Duration::from_secs(1);
    loop {
        let status = match DockerEngine::connect().await {
            Ok(d) => d.info().await.map(|i| i.version).map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
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
                tokio::task::spawn_local(startup_reconcile(c.clone(), tx.clone()));
            }
            last = Some(status);
        }
        tokio::time::sleep(wait).await;
    }
}

fn send_settings(c: &Ctx, tx: &UnboundedSender<Event>) {
    let _ = tx.send(match (c.store.settings_view(), c.store.users()) {
        (Ok(rows), Ok(users)) => Event::Settings { rows, users },
        (Err(e), _) | (_, Err(e)) => Event::Error(e.to_string()),
    });
}

fn send_customers(c: &Ctx, tx: &UnboundedSender<Event>) {
    let _ = tx.send(match c.store.customer_rows() {
        Ok(rows) => Event::Customers(rows),
        Err(e) => Event::Error(e.to_string()),
    });
}

fn handle(c: Rc<Ctx>, cmd: Command, tx: &UnboundedSender<Event>, logs: &Rc<RefCell<Option<tokio::task::AbortHandle>>>) {
    let tx = tx.clone();
    match cmd {
        Command::Login { .. } | Command::Init(_) | Command::TestNpm { .. } => {}
        Command::LoadCustomers => send_customers(&c, &tx),
        Command::LoadDetail { customer_id } => {
            tokio::task::spawn_local(async move {
                let ev = match load_detail(&c, customer_id).await {
                    Ok(d) => Event::Detail(Box::new(d)),
                    Err(e) => Event::Error(e),
                };
                let _ = tx.send(ev);
            });
        }
        Command::Operate { customer_id, op } => {
            let tasks = c.tasks.clone();
            let (c2, tx2) = (c.clone(), tx.clone());
            let handle = tokio::task::spawn_local(async move {
                let result = operate(&c2, customer_id, op, &tx2).await;
                c2.tasks.borrow_mut().remove(&customer_id);
                let _ = tx2.send(Event::Finished { customer_id, op, result });
                send_customers(&c2, &tx2);
            });
            if matches!(op, Operation::Deploy | Operation::Redeploy) {
                tasks.borrow_mut().insert(customer_id, (op, handle.abort_handle()));
            }
        }
        Command::Cancel { customer_id } => {
            let Some((op, handle)) = c.tasks.borrow_mut().remove(&customer_id) else {
                let _ = tx.send(Event::Error("nothing to cancel: the operation already ended".into()));
                return;
            };
            // Dropping the task stops it at its current await, like a crash in this process;
            // then the journal says what to undo.
            handle.abort();
            tokio::task::spawn_local(async move {
                let result = with_ops(&c, async |ops| {
                    super::reconcile::undo_cancelled(ops, customer_id).await.map_err(|e| e.to_string())
                })
                .await
                .and_then(|m| Err(format!("cancelled: {m}")));
                let _ = tx.send(Event::Finished { customer_id, op, result });
                send_customers(&c, &tx);
            });
        }
        Command::Bulk { customer_ids, op } => {
            tokio::task::spawn_local(async move {
                let parallel = c.store.settings().map(|s| s.monitor.concurrency).unwrap_or(4);
                let progress = |customer_id: i64, p: Progress| {
                    let _ = tx.send(Event::Progress { customer_id, progress: p });
                };
                let mut done = |r: &super::bulk::BulkResult| {
                    let _ = tx.send(Event::Finished { customer_id: r.customer_id, op, result: r.result.clone() });
                };
                let summary = with_ops(&c, async |ops| {
                    super::bulk::run(ops, &customer_ids, op, parallel, &progress, &mut done)
                        .await
                        .map_err(|e| e.to_string())
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
        Command::Reconcile => {
            tokio::task::spawn_local(async move {
                let r = with_ops(&c, async |ops| {
                    let findings = super::reconcile::check(ops, &[]).await.map_err(|e| e.to_string())?;
                    let applied = super::reconcile::apply(ops, &findings).await;
                    let left = super::reconcile::check(ops, &[]).await.map_err(|e| e.to_string())?;
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
        Command::Rollout => {
            tokio::task::spawn_local(async move {
                let r = rollout(&c, &tx).await;
                let _ = tx.send(Event::Rollout(Box::new(super::protocol::RolloutUpdate::Finished(r))));
                send_customers(&c, &tx);
            });
        }
        Command::CheckHealth { customer_id } => {
            tokio::task::spawn_local(async move {
                let report = with_ops(&c, async |ops| ops.health(customer_id).await.map_err(|e| e.to_string())).await;
                let _ = tx.send(Event::Health { customer_id, report });
                // One resource sample per container, after the check (Docker needs about a second).
                let stats = with_ops(&c, async |ops| ops.stats(customer_id).await.map_err(|e| e.to_string())).await;
                let _ = tx.send(Event::Stats { customer_id, stats });
            });
        }
        Command::FollowLogs { customer_id } => {
            if let Some(h) = logs.borrow_mut().take() {
                h.abort();
            }
            let handle = tokio::task::spawn_local(async move {
                if let Err(e) = follow_logs(&c, customer_id, &tx).await {
                    let _ = tx.send(Event::Error(format!("logs: {e}")));
                }
            });
            *logs.borrow_mut() = Some(handle.abort_handle());
        }
        Command::StopLogs => {
            if let Some(h) = logs.borrow_mut().take() {
                h.abort();
            }
        }
        Command::ShowCredentials { customer_id } => {
            let result = super::owner::owner_credentials(&c.store, &c.session.vault, customer_id)
                .map_err(|e| e.to_string())
                .and_then(|o| {
                    o.ok_or_else(|| {
                        "nbmsp holds no owner credentials for this customer (legacy layout, or set up outside nbmsp)"
                            .to_string()
                    })
                });
            if result.is_ok()
                && let Ok(cust) = c.store.customer(customer_id)
            {
                let _ = c.store.log_customer(
                    &c.session.user.username,
                    &cust,
                    "credentials",
                    crate::domain::audit::AuditStatus::Info,
                    "owner credentials shown",
                );
            }
            let _ = tx.send(Event::Credentials { customer_id, result });
        }
        Command::LoadSettings => send_settings(&c, &tx),
        Command::SetSetting { key, value, expected } => {
            if let Err(e) = c.store.set_setting_if(&c.session, &key, &value, expected.as_deref()) {
                let message = match e {
                    crate::store::StoreError::Invalid(v) => v.rule,
                    other => other.to_string(),
                };
                let _ = tx.send(Event::SettingFailed { key, message });
            }
            send_settings(&c, &tx);
            probe_npm(&c, &tx);
        }
        Command::TestStoredNpm => {
            tokio::task::spawn_local(async move {
                let result = match proxy::from_settings(&c.store, &c.session.vault, None) {
                    Ok(AnyProxy::Npm(p)) => {
                        async {
                            let version = p.client.version().await.map_err(|e| e.to_string())?;
                            p.client.login().await.map_err(|e| e.to_string())?;
                            let hosts = p.client.hosts(None).await.map_err(|e| e.to_string())?;
                            Ok(format!("Nginx Proxy Manager {version}: login ok, {} proxy hosts", hosts.len()))
                        }
                        .await
                    }
                    Ok(AnyProxy::None(_)) => Err("proxy = none: nothing to test".to_string()),
                    Err(e) => Err(e.to_string()),
                };
                let _ = tx.send(Event::NpmTested(result));
            });
        }
        Command::TestAlerts => {
            tokio::task::spawn_local(async move {
                let result = async {
                    let n = super::notify::Notifier::from_settings(&c.store, &c.session.vault)
                        .map_err(|e| e.to_string())?
                        .ok_or("no alert channel is configured: set alerts.webhook_url or alerts.gotify_url")?;
                    n.send(&super::notify::test_notice(&c.session.user.username)).await.map_err(|e| e.to_string())?;
                    Ok(format!("test notification sent to {}", n.channels()))
                }
                .await;
                let _ = tx.send(Event::NpmTested(result));
            });
        }
        Command::ChangeOwnPassword { password } => {
            let own = c.session.user.username.clone();
            let r =
                c.store.change_password(&c.session, &own, &password).map(|()| "your password was changed".to_string());
            let _ = tx.send(Event::AccountDone(r.map_err(|e| e.to_string())));
        }
        Command::AddUser { username, password, role } => {
            let r = c
                .store
                .add_user(&c.session, &username, &password, role)
                .map(|u| format!("user {} added as {}", u.username, u.role));
            let _ = tx.send(Event::AccountDone(r.map_err(|e| e.to_string())));
            send_settings(&c, &tx);
        }
        Command::ExportLogs { subdomain, lines } => {
            let dir = c.template_dir.parent().map(|h| h.join("exports")).unwrap_or_else(|| PathBuf::from("exports"));
            let file = dir.join(format!("{subdomain}-{}.log", time::OffsetDateTime::now_utc().unix_timestamp()));
            let text: String = lines
                .iter()
                .map(|l| format!("{} {} {}\n", l.timestamp.as_deref().unwrap_or("-"), l.service, l.text))
                .collect();
            let r = std::fs::create_dir_all(&dir)
                .and_then(|()| std::fs::write(&file, text))
                .map(|()| format!("{} lines written to {}", lines.len(), file.display()))
                .map_err(|e| format!("cannot write {}: {e}", file.display()));
            let _ = tx.send(Event::Exported(r));
        }
        Command::Create(new) => {
            let _ = tx.send(match c.store.create_customer(&c.session.user.username, &new) {
                Ok(cust) => Event::Saved { customer_id: cust.id, subdomain: cust.subdomain, created: true },
                Err(e) => Event::SaveFailed(e.to_string()),
            });
            send_customers(&c, &tx);
        }
        Command::Update { customer_id, patch } => {
            let _ = tx.send(match c.store.update_customer(&c.session.user.username, customer_id, &patch) {
                Ok(cust) => Event::Saved { customer_id, subdomain: cust.subdomain, created: false },
                Err(e) => Event::SaveFailed(e.to_string()),
            });
            send_customers(&c, &tx);
        }
    }
}

async fn with_ops<T>(c: &Ctx, f: impl AsyncFnOnce(&Ops<'_, AnyProxy>) -> Result<T, String>) -> Result<T, String> {
    // Built per operation: the settings may have changed since the last one.
    let proxy =
        proxy::from_settings(&c.store, &c.session.vault, Some(c.template_dir.clone())).map_err(|e| e.to_string())?;
    let docker = DockerEngine::connect().await.map_err(|e| e.to_string())?;
    let ops = Ops {
        store: &c.store,
        vault: &c.session.vault,
        actor: &c.session.user.username,
        docker: &docker,
        proxy: &proxy,
        template_dir: Some(c.template_dir.clone()),
    };
    f(&ops).await
}

async fn load_detail(c: &Ctx, customer_id: i64) -> Result<Detail, String> {
    let customer = c.store.customer(customer_id).map_err(|e| e.to_string())?;
    let fqdn = customer.fqdn(&c.store.settings().map_err(|e| e.to_string())?.base_domain);
    let deployment = c.store.deployment(customer_id).map_err(|e| e.to_string())?;
    let audit = c.store.audit_log(Some(customer_id), 50).map_err(|e| e.to_string())?;
    let containers = if deployment.is_some() {
        with_ops(c, async |ops| ops.containers(&customer).await.map_err(|e| e.to_string())).await
    } else {
        Ok(Vec::new())
    };
    Ok(Detail { customer, fqdn, deployment, audit, containers, loaded_at: crate::store::now() })
}

async fn operate(c: &Ctx, customer_id: i64, op: Operation, tx: &UnboundedSender<Event>) -> Result<String, String> {
    with_ops(c, async |ops| {
        let mut progress = |p: Progress| {
            let _ = tx.send(Event::Progress { customer_id, progress: p });
        };
        let r = match op {
            Operation::Deploy => {
                ops.deploy(customer_id, &mut progress).await.map(|o| format!("up on UDP {}", o.udp_port))
            }
            Operation::Redeploy => ops.redeploy(customer_id, &mut progress).await.map(|_| "redeployed".to_string()),
            Operation::Start => ops.start(customer_id).await.map(|_| "started, healthy".to_string()),
            Operation::Stop => ops.stop(customer_id).await.map(|()| "stopped".to_string()),
            Operation::Restart => ops.restart(customer_id).await.map(|_| "restarted, healthy".to_string()),
            Operation::Delete => ops.delete(customer_id, false).await.map(|a| match a {
                Some(p) => format!("deleted; data kept in {}", p.display()),
                None => "deleted".to_string(),
            }),
            Operation::RetryCert => ops.retry_certificate(customer_id).await.map(|r| r.detail),
            Operation::ShowCredentials | Operation::Rollout | Operation::Reconcile => Ok(String::new()),
        };
        r.map_err(|e| e.to_string())
    })
    .await
}

/// Streams the customer's container logs, merged, in batches of at most 100 ms.
async fn follow_logs(c: &Ctx, customer_id: i64, tx: &UnboundedSender<Event>) -> Result<(), String> {
    let customer = c.store.customer(customer_id).map_err(|e| e.to_string())?;
    let containers = with_ops(c, async |ops| ops.containers(&customer).await.map_err(|e| e.to_string())).await?;
    let docker = DockerEngine::connect().await.map_err(|e| e.to_string())?;
    let streams = containers.iter().map(|x| Box::pin(docker.logs(&x.name, x.service.clone(), Some(200), true)));
    let mut merged = futures_util::stream::select_all(streams);
    let mut batch = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            line = merged.next() => match line {
                Some(Ok(l)) => batch.push(l),
                Some(Err(e)) => return Err(e.to_string()),
                None => break,
            },
            _ = tick.tick() => {
                if !batch.is_empty() {
                    // Within a batch (the first one holds every container's tail) keep time order.
                    batch.sort_by(|a, b| a.timestamp.cmp(&b.timestamp));
                    let _ = tx.send(Event::Logs { customer_id, lines: std::mem::take(&mut batch) });
                }
            }
        }
    }
    if !batch.is_empty() {
        let _ = tx.send(Event::Logs { customer_id, lines: batch });
    }
    Ok(())
}

/// A rollout from the app: waves as configured, and on a failure the image settings go back to
/// what customers ran before, so nothing else picks the failing image up.
async fn rollout(
    c: &Ctx,
    tx: &UnboundedSender<Event>,
) -> Result<(super::rollout::RolloutReport, Option<String>), String> {
    use super::protocol::RolloutUpdate;
    use super::rollout::RolloutEvent;
    let batch = c.store.settings().map(|s| s.monitor.concurrency).unwrap_or(4);
    let on = |e: RolloutEvent| {
        let u = match e {
            RolloutEvent::Wave(n, who) => RolloutUpdate::Wave(n, who),
            RolloutEvent::Done(r) => RolloutUpdate::Customer(r),
            RolloutEvent::Step(..) => return,
        };
        let _ = tx.send(Event::Rollout(Box::new(u)));
    };
    let report = with_ops(c, async |ops| {
        super::rollout::run(ops, super::rollout::RolloutPlan { canary: None, batch }, &on)
            .await
            .map_err(|e| e.to_string())
    })
    .await?;
    let mut reverted = None;
    if report.failed.is_some() && !report.previous.is_empty() {
        let mut done = Vec::new();
        for (svc, image) in &report.previous {
            let key = format!("images.{svc}");
            c.store.set_setting(&c.session, &key, image).map_err(|e| e.to_string())?;
            done.push(format!("{key} = {image}"));
        }
        reverted = Some(format!("settings put back: {}", done.join(", ")));
    }
    Ok((report, reverted))
}
