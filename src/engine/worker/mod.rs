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
use super::ops::lifecycle::Ops;
use super::proxy::{self, AnyProxy};
use crate::domain::user::Permission;
use crate::store::{Session, Store};

mod background;
mod fleet;
mod rate;

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
                // Starting over next to another installation's containers usually means its
                // database was lost: the wizard refuses, the CLI names the ways on.
                let found = super::host::foreign_installations().await.unwrap_or_default();
                let _ = tx.send(if !found.is_empty() && !req.beside_foreign {
                    Event::InitForeign(super::host::foreign_refusal(&found))
                } else {
                    match initialise(&db, &home, &req) {
                        Ok(()) => Event::Initialised { user: req.admin_user.clone() },
                        Err(e) => Event::InitFailed(e),
                    }
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
                // argon2 twice (verify, unwrap the key): on a blocking thread, not this runtime.
                let (db, home) = (db.clone(), home.clone());
                let result = tokio::task::spawn_blocking(move || {
                    let mut store = Store::open(&db, false).map_err(|e| e.to_string())?;
                    let now = time::OffsetDateTime::now_utc().unix_timestamp();
                    let session = store.login(&user, &password, now).map_err(|e| e.to_string())?;
                    Ok::<_, String>((store, session))
                })
                .await
                .map_err(|e| format!("login stopped unexpectedly: {e}"))
                .and_then(|r| r)
                .map(|(store, session)| Ctx {
                    store,
                    session,
                    template_dir: home.join("templates"),
                    tasks: Default::default(),
                });
                match result {
                    Ok(c) => {
                        let (base_domain, layout) = c
                            .store
                            .settings()
                            .map(|s| (s.base_domain, s.layout))
                            .unwrap_or((String::new(), crate::domain::customer::Layout::Combined));
                        let _ = tx.send(Event::LoggedIn {
                            user: c.session.user.username.clone(),
                            role: c.session.role(),
                            base_domain,
                            layout,
                        });
                        let c = Rc::new(c);
                        send_customers(&c, &tx);
                        tokio::task::spawn_local(background::watch_docker(c.clone(), tx.clone()));
                        tokio::task::spawn_local(background::refresh_customers(c.clone(), tx.clone()));
                        tokio::task::spawn_local(background::monitor(c.clone(), tx.clone(), focus_rx.clone()));
                        tokio::task::spawn_local(background::startup_reconcile(c.clone(), tx.clone()));
                        background::probe_npm(&c, &tx);
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
        Command::Operate { target, op } => match c.store.expect_customer(&target) {
            Ok(_) => fleet::operate_command(c, tx, target.id, op),
            Err(e) => {
                let _ = tx.send(Event::Finished { customer_id: target.id, op, result: Err(e.to_string()) });
                send_customers(&c, &tx);
            }
        },
        Command::Cancel { customer_id } => fleet::cancel(c, tx, customer_id),
        Command::Bulk { targets, op } => {
            let mut ids = Vec::new();
            for t in targets {
                match c.store.expect_customer(&t) {
                    Ok(_) => ids.push(t.id),
                    Err(e) => {
                        let _ = tx.send(Event::Finished { customer_id: t.id, op, result: Err(e.to_string()) });
                    }
                }
            }
            fleet::bulk(c, tx, ids, op);
        }
        Command::Reconcile => match c.session.require(Permission::Operate, "apply reconcile's fixes") {
            Ok(()) => fleet::reconcile(c, tx),
            Err(e) => {
                let _ = tx.send(Event::Error(e.to_string()));
            }
        },
        Command::Rollout => fleet::rollout_command(c, tx),
        Command::CheckReconcile => {
            tokio::task::spawn_local(async move {
                let r = with_ops(&c, async |ops| {
                    crate::engine::fleet::reconcile::check(ops, &[]).await.map_err(|e| e.to_string())
                })
                .await;
                let _ = tx.send(match r {
                    Ok(findings) => Event::Reconciled { applied: Vec::new(), findings },
                    Err(e) => Event::Error(format!("reconcile: {e}")),
                });
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
        Command::ShowCredentials { target } => {
            let customer_id = target.id;
            let result = c
                .session
                .require(Permission::Admin, "see owner credentials")
                .and_then(|()| c.store.expect_customer(&target))
                .map_err(|e| e.to_string())
                .and_then(|_| {
                    super::netbird::owner_credentials(&c.store, &c.session.vault, customer_id)
                        .map_err(|e| e.to_string())
                })
                .and_then(|o| {
                    o.ok_or_else(|| {
                        "nbmsp holds no owner credentials for this customer (not deployed yet, or set up outside nbmsp)"
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
        Command::NetBird { target, action } => {
            tokio::task::spawn_local(async move {
                let result = match c.store.expect_customer(&target) {
                    Ok(_) => {
                        let act = action.clone();
                        with_ops(&c, async |ops| ops.netbird(target.id, act).await.map_err(|e| e.to_string())).await
                    }
                    Err(e) => Err(e.to_string()),
                };
                let reply = super::protocol::NetBirdReply { customer_id: target.id, action, result };
                let _ = tx.send(Event::NetBird(Box::new(reply)));
            });
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
            background::probe_npm(&c, &tx);
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
        Command::ChangeOwnPassword { current, password } => {
            let own = c.session.user.username.clone();
            let r = c
                .store
                .change_password(&c.session, &own, Some(&current), &password)
                .map(|()| "your password was changed".to_string());
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
            let n = lines.len();
            tokio::task::spawn_local(async move {
                let shown = file.display().to_string();
                let r = super::blocking(move || {
                    std::fs::create_dir_all(&dir)
                        .and_then(|()| crate::engine::instance::write_private(&file, text.as_bytes()))
                        .map_err(|e| super::EngineError::Files(format!("cannot write {}: {e}", file.display())))
                })
                .await
                .map(|()| format!("{n} lines written to {shown}"))
                .map_err(|e| e.to_string());
                let _ = tx.send(Event::Exported(r));
            });
        }
        Command::Create(new) => {
            let created = c
                .session
                .require(Permission::Operate, "create customers")
                .and_then(|()| c.store.create_customer(&c.session.user.username, &new));
            let _ = tx.send(match created {
                Ok(cust) => Event::Saved { customer_id: cust.id, subdomain: cust.subdomain, created: true },
                Err(e) => Event::SaveFailed(e.to_string()),
            });
            send_customers(&c, &tx);
        }
        Command::Restore { file } => {
            tokio::task::spawn_local(async move {
                let r = with_ops(&c, async |ops| {
                    let mut quiet = |_| {};
                    ops.restore(&file, None, None, &mut quiet).await.map_err(|e| e.to_string())
                })
                .await
                .map(|s| match s.udp_port {
                    Some(p) => format!("restored '{}' as #{} on UDP {p}", s.subdomain, s.customer_id),
                    None => format!("restored '{}' as #{} (it was not deployed)", s.subdomain, s.customer_id),
                });
                let _ = tx.send(Event::Restored(r));
                send_customers(&c, &tx);
            });
        }
        Command::Update { target, patch } => {
            let updated = c
                .session
                .require(Permission::Operate, "change customers")
                .and_then(|()| c.store.expect_customer(&target))
                .and_then(|_| c.store.update_customer(&c.session.user.username, target.id, &patch));
            let _ = tx.send(match updated {
                Ok(cust) => Event::Saved { customer_id: cust.id, subdomain: cust.subdomain, created: false },
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
        role: c.session.role(),
        docker: &docker,
        proxy: &proxy,
        template_dir: Some(c.template_dir.clone()),
    };
    f(&ops).await
}

async fn load_detail(c: &Ctx, customer_id: i64) -> Result<Detail, String> {
    let customer = c.store.customer(customer_id).map_err(|e| e.to_string())?;
    let settings = c.store.settings().map_err(|e| e.to_string())?;
    let fqdn = customer.fqdn(&settings.base_domain);
    let deployment = c.store.deployment(customer_id).map_err(|e| e.to_string())?;
    let own_proxy = match (settings.proxy, &deployment) {
        (crate::domain::settings::ProxyKind::None, Some(_)) => {
            let kind = super::render::NginxKind::Server;
            let templates = Some(c.template_dir.clone());
            let block =
                super::render::render_nginx(kind, &fqdn, &super::render::prefix(&customer), customer.layout, templates)
                    .map_err(|e| e.to_string())?;
            Some(super::protocol::OwnProxy { server_block: block, network: settings.docker_network.clone() })
        }
        _ => None,
    };
    let audit = c.store.audit_log(Some(customer_id), 50).map_err(|e| e.to_string())?;
    let containers = if deployment.is_some() {
        with_ops(c, async |ops| ops.containers(&customer).await.map_err(|e| e.to_string())).await
    } else {
        Ok(Vec::new())
    };
    let last_backup = c.store.backups_of(customer_id, 1).map_err(|e| e.to_string())?.into_iter().next();
    Ok(Detail { customer, fqdn, deployment, audit, containers, last_backup, loaded_at: crate::store::now(), own_proxy })
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
    let mut rate = rate::LineRate::default();
    let mut first = true;
    loop {
        tokio::select! {
            line = merged.next() => match line {
                Some(Ok(l)) => batch.push(l),
                Some(Err(e)) => return Err(e.to_string()),
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
