//! The one dispatch of the app's commands after login: each becomes a job (or, without any
//! database or network work, is answered at once).

use crate::domain::error::Failure;
use std::path::PathBuf;

use tokio::sync::mpsc::UnboundedSender;

use super::{Command, Ctx, Dispatch, Event, background, fleet, logs, send_customers, send_settings, with_ops};
use crate::domain::rights::Right;
use crate::engine::npm::proxy::{self, AnyProxy};

/// Hands `cmd` to the job that does it.
pub(super) fn handle(d: &mut Dispatch, cmd: Command) {
    match cmd {
        Command::Login { .. } | Command::Init(_) | Command::TestNpm { .. } => {}
        Command::LoadCustomers => {
            d.focus.send_replace(None);
            d.job("customers", |c, tx| async move { send_customers(&c, &tx) });
        }
        Command::LoadHosts => fleet::hosts_command(d, None),
        Command::LoadReports => d.job("reports", |c, tx| async move {
            let now = crate::domain::sla::Month::of(crate::store::now().unix_timestamp());
            let both = crate::engine::usecase::reports::month(&c.store, &c.session, now).and_then(|this| {
                crate::engine::usecase::reports::month(&c.store, &c.session, now.previous()).map(|last| (this, last))
            });
            let _ = tx.send(Event::Reports(both.map(Box::new).map_err(Failure::from)));
        }),
        Command::LoadBaseline => d.job("baseline", |c, tx| async move {
            let r = crate::engine::usecase::baseline::read(&c.store, &c.session).map_err(Failure::from);
            let _ = tx.send(Event::Baseline(r));
        }),
        Command::LoadKeyRules => d.job("baseline", |c, tx| async move {
            // A baseline that cannot be read starts the form at its own defaults; the engine
            // still judges the key when it is asked for.
            let rules = crate::engine::fleet::baseline::load(&c.store).ok().flatten().and_then(|b| b.setup_keys);
            let _ = tx.send(Event::KeyRules(rules));
        }),
        Command::SaveBaseline { text } => d.job("baseline", |c, tx| async move {
            let result = crate::engine::usecase::baseline::save(&c.store, &c.session, &text).map_err(Failure::from);
            let _ = tx.send(Event::BaselineSaved { text, result });
        }),
        Command::ExportReports { month } => d.job("reports", move |c, tx| async move {
            let r = crate::engine::usecase::reports::export(&c.store, &c.session, month).map_err(Failure::from);
            let _ = tx.send(Event::Exported(r));
        }),
        Command::Drain { host, draining } => fleet::hosts_command(d, Some((host, draining))),
        Command::Move { target, to } => fleet::move_command(d, target, to),
        Command::LoadDetail { customer_id } => {
            d.focus.send_replace(Some(customer_id));
            logs::load(d, customer_id);
        }
        Command::Operate { target, op } => fleet::operate_command(d, target, op),
        Command::Cancel { customer_id } => fleet::cancel(d, customer_id),
        Command::Bulk { targets, op } => fleet::bulk(d, targets, op),
        Command::Reconcile => match d.shared.session.require(Right::Reconcile) {
            Ok(()) => fleet::reconcile(d),
            Err(e) => {
                let _ = d.tx.send(Event::Error(e.to_string()));
            }
        },
        Command::Rollout => fleet::rollout_command(d),
        Command::CheckReconcile => d.job("reconcile", |c, tx| async move {
            let r =
                with_ops(&c, async |ops| crate::engine::fleet::reconcile::check(ops, &[]).await.map_err(Failure::from))
                    .await;
            let _ = tx.send(match r {
                Ok(findings) => Event::Reconciled { applied: Vec::new(), findings },
                Err(e) => Event::Error(format!("reconcile: {e}")),
            });
        }),
        Command::CheckHealth { customer_id } => d.job("health", move |c, tx| async move {
            let report = with_ops(&c, async |ops| ops.health(customer_id).await.map_err(Failure::from)).await;
            let _ = tx.send(Event::Health { customer_id, report });
            // One resource sample per container, after the check (Docker needs about a second).
            let stats = with_ops(&c, async |ops| ops.stats(customer_id).await.map_err(Failure::from)).await;
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
                    with_ops(&c, async |ops| ops.netbird(target.id, act).await.map_err(Failure::from)).await
                }
                Err(e) => Err(Failure::from(e)),
            };
            let reply = crate::engine::worker::protocol::NetBirdReply { customer_id: target.id, action, result };
            let _ = tx.send(Event::NetBird(Box::new(reply)));
        }),
        Command::LoadSettings => d.job("settings", |c, tx| async move { send_settings(&c, &tx) }),
        Command::SetSetting { key, value, expected } => d.job("settings", move |c, tx| async move {
            match c.store.set_setting_if(&c.session, &key, &value, expected.as_deref()) {
                Err(e) => {
                    let message = match e {
                        crate::store::StoreError::Invalid(v) => v.rule,
                        other => other.to_string(),
                    };
                    let _ = tx.send(Event::SettingFailed { key, message });
                }
                Ok(_) => {
                    if let Some(caution) = c.store.settings().ok().and_then(|s| s.caution()) {
                        let _ = tx.send(Event::Caution(caution));
                    }
                }
            }
            send_settings(&c, &tx);
            background::probe_npm(&c, &tx).await;
        }),
        Command::TestStoredNpm => d.job("npm-test", |c, tx| async move {
            let _ = tx.send(Event::NpmTested(test_stored_npm(&c).await));
        }),
        Command::TestAlerts => d.job("alerts-test", |c, tx| async move {
            let result = crate::engine::usecase::alerts::send_test(&c.store, &c.session)
                .await
                .map(|channels| format!("test notification sent to {channels}"))
                .map_err(Failure::from);
            let _ = tx.send(Event::NpmTested(result));
        }),
        Command::ChangeOwnPassword { current, password } => d.job("account", move |c, tx| async move {
            let own = c.session.user.username.clone();
            let r = c
                .store
                .change_password(&c.session, &own, Some(&current), &password)
                .map(|()| "your password was changed".to_string());
            let _ = tx.send(Event::AccountDone(r.map_err(Failure::from)));
        }),
        Command::AddUser { username, password, role } => d.job("account", move |c, tx| async move {
            let r = c
                .store
                .add_user(&c.session, &username, &password, role)
                .map(|u| format!("user {} added as {}", u.username, u.role));
            let _ = tx.send(Event::AccountDone(r.map_err(Failure::from)));
            send_settings(&c, &tx);
        }),
        Command::ExportLogs { subdomain, lines } => export_logs(d, subdomain, lines),
        Command::Create(new) => d.job("save", move |c, tx| async move {
            let created = crate::engine::usecase::customers::create(&c.store, &c.session, &[new], None)
                .await
                .map(|mut v| v.remove(0))
                .map_err(Failure::from);
            let _ = tx.send(match created {
                Ok(cust) => Event::Saved { customer_id: cust.id, subdomain: cust.subdomain, created: true },
                Err(e) => Event::SaveFailed(e.to_string()),
            });
            send_customers(&c, &tx);
        }),
        Command::Restore { file } => d.job("restore", move |c, tx| async move {
            let r = with_ops(&c, async |ops| {
                let mut quiet = |_| {};
                ops.restore(&file, None, None, &mut quiet).await.map_err(Failure::from)
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
            let updated = crate::engine::usecase::customers::edit(&c.store, &c.session, &target, &patch);
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
) -> Result<crate::engine::netbird::OwnerCredentials, Failure> {
    crate::engine::usecase::customers::credentials(&c.store, &c.session, target).map_err(Failure::from)
}

/// Logs in to the NPM in settings and counts its proxy hosts.
async fn test_stored_npm(c: &Ctx) -> Result<String, Failure> {
    match proxy::from_settings(&c.store, &c.session.vault, None) {
        Ok(AnyProxy::Npm(p)) => {
            let version = p.client.version().await.map_err(Failure::from)?;
            p.client.login().await.map_err(Failure::from)?;
            let hosts = p.client.hosts(None).await.map_err(Failure::from)?;
            Ok(format!("Nginx Proxy Manager {version}: login ok, {} proxy hosts", hosts.len()))
        }
        Ok(AnyProxy::None(_)) => {
            Err(Failure::new(crate::domain::error::ErrorKind::Usage, "proxy = none: nothing to test"))
        }
        Err(e) => Err(Failure::from(e)),
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
                .and_then(|()| crate::engine::stack::instance::write_private(&file, text.as_bytes()))
                .map_err(|e| crate::engine::EngineError::Files(format!("cannot write {}: {e}", file.display())))
        })
        .await
        .map(|()| format!("{n} lines written to {shown}"))
        .map_err(Failure::from);
        let _ = tx.send(Event::Exported(r));
    });
}
