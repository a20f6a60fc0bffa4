//! The one dispatch of the app's commands after login: each becomes a job (or, without any
//! database or network work, is answered at once).

use std::path::PathBuf;

use tokio::sync::mpsc::UnboundedSender;

use super::{Command, Ctx, Dispatch, Event, background, fleet, logs, send_customers, send_settings, with_ops};
use crate::domain::user::Permission;
use crate::engine::proxy::{self, AnyProxy};

/// Hands `cmd` to the job that does it.
pub(super) fn handle(d: &mut Dispatch, cmd: Command) {
    match cmd {
        Command::Login { .. } | Command::Init(_) | Command::TestNpm { .. } => {}
        Command::LoadCustomers => {
            d.focus.send_replace(None);
            d.job("customers", |c, tx| async move { send_customers(&c, &tx) });
        }
        Command::LoadHosts => fleet::hosts_command(d, None),
        Command::Drain { host, draining } => fleet::hosts_command(d, Some((host, draining))),
        Command::Move { target, to } => fleet::move_command(d, target, to),
        Command::LoadDetail { customer_id } => {
            d.focus.send_replace(Some(customer_id));
            logs::load(d, customer_id);
        }
        Command::Operate { target, op } => fleet::operate_command(d, target, op),
        Command::Cancel { customer_id } => fleet::cancel(d, customer_id),
        Command::Bulk { targets, op } => fleet::bulk(d, targets, op),
        Command::Reconcile => match d.shared.session.require(Permission::Operate, "apply reconcile's fixes") {
            Ok(()) => fleet::reconcile(d),
            Err(e) => {
                let _ = d.tx.send(Event::Error(e.to_string()));
            }
        },
        Command::Rollout => fleet::rollout_command(d),
        Command::CheckReconcile => d.job("reconcile", |c, tx| async move {
            let r = with_ops(&c, async |ops| {
                crate::engine::fleet::reconcile::check(ops, &[]).await.map_err(|e| e.to_string())
            })
            .await;
            let _ = tx.send(match r {
                Ok(findings) => Event::Reconciled { applied: Vec::new(), findings },
                Err(e) => Event::Error(format!("reconcile: {e}")),
            });
        }),
        Command::CheckHealth { customer_id } => d.job("health", move |c, tx| async move {
            let report = with_ops(&c, async |ops| ops.health(customer_id).await.map_err(|e| e.to_string())).await;
            let _ = tx.send(Event::Health { customer_id, report });
            // One resource sample per container, after the check (Docker needs about a second).
            let stats = with_ops(&c, async |ops| ops.stats(customer_id).await.map_err(|e| e.to_string())).await;
            let _ = tx.send(Event::Stats { customer_id, stats });
        }),
        Command::FollowLogs { customer_id } => logs::follow(d, customer_id),
        Command::StopLogs => logs::stop(d),
        Command::ShowCredentials { target } => d.job("credentials", move |c, tx| async move {
            let customer_id = target.id;
            let result = credentials(&c, &target);
            let _ = tx.send(Event::Credentials { customer_id, result });
        }),
        Command::NetBird { target, action } => d.job("netbird", move |c, tx| async move {
            let result = match c.store.expect_customer(&target) {
                Ok(_) => {
                    let act = action.clone();
                    with_ops(&c, async |ops| ops.netbird(target.id, act).await.map_err(|e| e.to_string())).await
                }
                Err(e) => Err(e.to_string()),
            };
            let reply = crate::engine::protocol::NetBirdReply { customer_id: target.id, action, result };
            let _ = tx.send(Event::NetBird(Box::new(reply)));
        }),
        Command::LoadSettings => d.job("settings", |c, tx| async move { send_settings(&c, &tx) }),
        Command::SetSetting { key, value, expected } => d.job("settings", move |c, tx| async move {
            if let Err(e) = c.store.set_setting_if(&c.session, &key, &value, expected.as_deref()) {
                let message = match e {
                    crate::store::StoreError::Invalid(v) => v.rule,
                    other => other.to_string(),
                };
                let _ = tx.send(Event::SettingFailed { key, message });
            }
            send_settings(&c, &tx);
            background::probe_npm(&c, &tx).await;
        }),
        Command::TestStoredNpm => d.job("npm-test", |c, tx| async move {
            let _ = tx.send(Event::NpmTested(test_stored_npm(&c).await));
        }),
        Command::TestAlerts => d.job("alerts-test", |c, tx| async move {
            let result = async {
                let n = crate::engine::notify::Notifier::from_settings(&c.store, &c.session.vault)
                    .map_err(|e| e.to_string())?
                    .ok_or("no alert channel is configured: set alerts.webhook_url or alerts.gotify_url")?;
                n.send(&crate::engine::notify::test_notice(&c.session.user.username))
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(format!("test notification sent to {}", n.channels()))
            }
            .await;
            let _ = tx.send(Event::NpmTested(result));
        }),
        Command::ChangeOwnPassword { current, password } => d.job("account", move |c, tx| async move {
            let own = c.session.user.username.clone();
            let r = c
                .store
                .change_password(&c.session, &own, Some(&current), &password)
                .map(|()| "your password was changed".to_string());
            let _ = tx.send(Event::AccountDone(r.map_err(|e| e.to_string())));
        }),
        Command::AddUser { username, password, role } => d.job("account", move |c, tx| async move {
            let r = c
                .store
                .add_user(&c.session, &username, &password, role)
                .map(|u| format!("user {} added as {}", u.username, u.role));
            let _ = tx.send(Event::AccountDone(r.map_err(|e| e.to_string())));
            send_settings(&c, &tx);
        }),
        Command::ExportLogs { subdomain, lines } => export_logs(d, subdomain, lines),
        Command::Create(new) => d.job("save", move |c, tx| async move {
            let created = async {
                c.session.require(Permission::Operate, "create customers").map_err(|e| e.to_string())?;
                if let Some(e) = new.validate().into_iter().next() {
                    return Err(e.to_string());
                }
                let host =
                    crate::engine::hosts::place(&c.store, None, &[new.layout]).await.map_err(|e| e.to_string())?;
                let cust = c.store.create_customer(&c.session.user.username, &new).map_err(|e| e.to_string())?;
                c.store.set_customer_host(cust.id, host[0]).map_err(|e| e.to_string())?;
                Ok(cust)
            }
            .await;
            let _ = tx.send(match created {
                Ok(cust) => Event::Saved { customer_id: cust.id, subdomain: cust.subdomain, created: true },
                Err(e) => Event::SaveFailed(e),
            });
            send_customers(&c, &tx);
        }),
        Command::Restore { file } => d.job("restore", move |c, tx| async move {
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
        }),
        Command::Update { target, patch } => d.job("save", move |c, tx| async move {
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
        }),
    }
}

/// The owner's credentials, for admins only; showing them is audited.
fn credentials(
    c: &Ctx,
    target: &crate::domain::customer::CustomerRef,
) -> Result<crate::engine::netbird::OwnerCredentials, String> {
    let customer_id = target.id;
    let result = c
        .session
        .require(Permission::Admin, "see owner credentials")
        .and_then(|()| c.store.expect_customer(target))
        .map_err(|e| e.to_string())
        .and_then(|_| {
            crate::engine::netbird::owner_credentials(&c.store, &c.session.vault, customer_id)
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
        && let Err(e) = c.store.log_customer(
            &c.session.user.username,
            &cust,
            "credentials",
            crate::domain::audit::AuditStatus::Info,
            "owner credentials shown",
        )
    {
        tracing::warn!("audit: {e}");
    }
    result
}

/// Logs in to the NPM in settings and counts its proxy hosts.
async fn test_stored_npm(c: &Ctx) -> Result<String, String> {
    match proxy::from_settings(&c.store, &c.session.vault, None) {
        Ok(AnyProxy::Npm(p)) => {
            let version = p.client.version().await.map_err(|e| e.to_string())?;
            p.client.login().await.map_err(|e| e.to_string())?;
            let hosts = p.client.hosts(None).await.map_err(|e| e.to_string())?;
            Ok(format!("Nginx Proxy Manager {version}: login ok, {} proxy hosts", hosts.len()))
        }
        Ok(AnyProxy::None(_)) => Err("proxy = none: nothing to test".to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// Writes the lines shown to a private file under the home's `exports/`.
fn export_logs(d: &Dispatch, subdomain: String, lines: Vec<crate::domain::deployment::LogLine>) {
    let dir = d.shared.template_dir.parent().map(|h| h.join("exports")).unwrap_or_else(|| PathBuf::from("exports"));
    let file = dir.join(format!("{subdomain}-{}.log", time::OffsetDateTime::now_utc().unix_timestamp()));
    let text: String =
        lines.iter().map(|l| format!("{} {} {}\n", l.timestamp.as_deref().unwrap_or("-"), l.service, l.text)).collect();
    let n = lines.len();
    let tx: UnboundedSender<Event> = d.tx.clone();
    tokio::task::spawn_local(async move {
        let shown = file.display().to_string();
        let r = crate::engine::blocking(move || {
            std::fs::create_dir_all(&dir)
                .and_then(|()| crate::engine::instance::write_private(&file, text.as_bytes()))
                .map_err(|e| crate::engine::EngineError::Files(format!("cannot write {}: {e}", file.display())))
        })
        .await
        .map(|()| format!("{n} lines written to {shown}"))
        .map_err(|e| e.to_string());
        let _ = tx.send(Event::Exported(r));
    });
}
