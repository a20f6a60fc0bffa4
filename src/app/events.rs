//! `update` for what the engine reports: login results, tables, detail data, progress, logs.

use super::detail::{DetailState, Tab};
use super::operate::start;
use super::{AppState, Command, DockerState, Event, Operation};
use crate::engine::ops::lifecycle::Progress;

pub(super) fn on_event(s: &mut AppState, ev: Event) -> Vec<Command> {
    match ev {
        Event::LoggedIn { user, role, base_domain, layout } => {
            s.user = Some(user);
            s.role = role;
            s.base_domain = base_domain;
            s.default_layout = layout;
            s.show_dashboard();
            s.login.password.clear();
            s.login.busy = false;
            s.login.message = None;
        }
        Event::LoginFailed(msg) => {
            s.login.message = Some(msg);
            s.login.password.clear();
            s.login.busy = false;
        }
        ev @ Event::Hosts(_) => super::overlays::on_event(s, &ev),
        ev @ Event::Reports(_) => super::reports::on_event(s, ev),
        ev @ (Event::Baseline(_) | Event::BaselineSaved { .. }) => return super::baseline_edit::on_event(s, ev),
        Event::KeyRules(rules) => {
            if let Some(d) = s.detail_mut() {
                d.netbird.key_rules = Some(rules);
            }
        }
        // The monitor sends the list after its rounds; one that says what the table shows already
        // costs no frame (a settled fleet writes nothing).
        Event::Customers(rows) if s.dashboard.loaded && rows == s.dashboard.rows => s.dirty = false,
        Event::Customers(rows) => {
            s.dashboard.set_rows(rows);
            let height = s.table_height();
            s.dashboard.scroll_into_view(height);
        }
        Event::Detail(d) => {
            if let Some(det) = s.detail_mut().filter(|det| det.customer_id == d.customer.id) {
                det.subdomain = d.customer.subdomain.clone();
                det.data = Some(*d);
            }
        }
        Event::Docker(r) => {
            let new = r.map_err(|f| f.message).map_or_else(DockerState::Down, DockerState::Up);
            s.dirty = s.docker != new;
            s.docker = new;
        }
        Event::Stats { customer_id, stats } => match s.detail_mut().filter(|d| d.customer_id == customer_id) {
            Some(d) => {
                d.stats = Some(stats.map_err(|f| f.message));
                s.dirty = d.tab == Tab::Health;
            }
            None => s.dirty = false,
        },
        Event::Host(h) => {
            // Only a change a person would read is worth bytes (`HostStats::as_read`).
            let read = h.as_read(s.host_stats.as_ref());
            s.dirty = s.host_stats != Some(read);
            s.host_stats = Some(read);
        }
        Event::Npm(r) => {
            let new = r.map(|r| r.map_err(|f| f.message).map_or_else(DockerState::Down, DockerState::Up));
            s.dirty = s.npm != new;
            s.npm = new;
        }
        Event::NetBird(r) => {
            return super::netbird_keys::answered(s, r.customer_id, r.action, r.result);
        }
        Event::Credentials { customer_id, result } => {
            if let Some(d) = s.detail_mut().filter(|d| d.customer_id == customer_id) {
                d.credentials = Some(result);
            }
        }
        Event::Progress { customer_id, progress } => {
            if let Some(run) = s.running.get_mut(&customer_id) {
                match progress {
                    Progress::Started { step } => run.current = Some(step.label().to_string()),
                    Progress::Done { step, detail } => {
                        run.current = None;
                        run.done.push((step.label().to_string(), detail));
                    }
                    Progress::Failed { step, error } => {
                        run.current = None;
                        run.done.push((step.label().to_string(), format!("FAILED: {error}")));
                    }
                    Progress::Note { .. } => s.dirty = false,
                }
            }
        }
        Event::Finished { customer_id, op, result } => {
            let run = s.running.remove(&customer_id);
            let name = run.as_ref().map_or_else(|| format!("customer {customer_id}"), |r| r.subdomain.clone());
            let (ok, outcome) = match &result {
                Ok(msg) => (true, format!("{} done: {msg}", op.verb())),
                // A cancel asked for is said as what it is, not as a failure.
                Err(e) if e.kind == crate::domain::error::ErrorKind::Interrupted => (false, e.message.clone()),
                Err(e) => (false, format!("{} failed: {e}", op.verb())),
            };
            // A first deploy made the NetBird owner: say where its credentials are.
            let offer = match (ok, op, s.keys.label(super::keymap::Mode::Detail, &super::Action::ShowCredentials)) {
                (true, Operation::Deploy, Some(k)) => format!(" · {k} shows the NetBird owner's password"),
                _ => String::new(),
            };
            let error = result.as_ref().is_err_and(|e| e.kind != crate::domain::error::ErrorKind::Interrupted);
            s.notify(format!("{name}: {outcome}{offer}"), error);
            // Its steps stay where they were watched, with the outcome, until Esc.
            if let (Some(run), Some(d)) = (run, s.detail_mut().filter(|d| d.customer_id == customer_id))
                && matches!(op, Operation::Deploy | Operation::Redeploy)
            {
                d.finished = Some(super::FinishedRun { run, ok, outcome });
            }
            if op == Operation::Delete && s.detail().is_some_and(|d| d.customer_id == customer_id) {
                s.show_dashboard();
                return vec![Command::StopLogs];
            }
            if let Some(d) = s.detail_mut().filter(|d| d.customer_id == customer_id) {
                // The containers changed: a health report from before says nothing any more
                // (#29: red FAIL rows stayed after a start until h).
                if matches!(op, Operation::Start | Operation::Restart | Operation::Deploy | Operation::Redeploy) {
                    d.health = None;
                }
                return vec![Command::LoadDetail { customer_id }];
            }
        }
        Event::Reconciled { applied, findings } if std::mem::take(&mut s.reconcile_asked) && applied.is_empty() => {
            let fixes: Vec<(i64, String)> = findings
                .iter()
                .filter(|f| f.safe)
                .map(|f| (0, format!("{} {}: {}", f.kind.replace('_', " "), f.subject, f.fix)))
                .collect();
            let needs_you = findings.len() - fixes.len();
            if fixes.is_empty() {
                let text = if needs_you == 0 {
                    "reconcile: consistent, nothing to fix".to_string()
                } else {
                    format!("reconcile: nothing it may fix alone; {needs_you} finding(s) need you (`nbmsp reconcile`)")
                };
                s.notify(text, needs_you > 0);
            } else {
                s.notice = None;
                s.overlays.push(super::stack::Overlay::Confirm(super::Confirm {
                    customer_id: 0,
                    subdomain: "the fleet".into(),
                    op: Operation::Reconcile.into(),
                    typed: Default::default(),
                    bulk: fixes,
                    to_host: None,
                }));
            }
        }
        Event::Reconciled { applied, findings } => {
            let fixed = applied.iter().filter(|a| a.ok).count();
            let failed: Vec<String> =
                applied.iter().filter(|a| !a.ok).map(|a| format!("{}: {}", a.subject, a.message)).collect();
            let mut text = String::from("reconcile: ");
            if !applied.is_empty() {
                text.push_str(&format!("{fixed} fixed"));
                if !failed.is_empty() {
                    text.push_str(&format!(", {} failed ({})", failed.len(), failed.join("; ")));
                }
                text.push_str("; ");
            }
            if findings.is_empty() {
                text.push_str("consistent");
            } else {
                let first: Vec<String> =
                    findings.iter().take(3).map(|f| format!("{} {}", f.kind.replace('_', " "), f.subject)).collect();
                text.push_str(&format!(
                    "{} problem(s): {} (:reconcile fixes the safe ones; `nbmsp reconcile` lists all)",
                    findings.len(),
                    first.join(", ")
                ));
            }
            s.notify(text, !failed.is_empty() || !findings.is_empty());
        }
        Event::BulkDone(summary) => s.notify(summary.sentence(), summary.failed > 0),
        Event::Rollout(u) => {
            use crate::engine::worker::protocol::RolloutUpdate as U;
            match *u {
                U::Wave(n, who) => {
                    let what = if n == 1 { "canary".to_string() } else { format!("wave {n}") };
                    s.notify(format!("rollout {what}: {}", who.join(", ")), false);
                }
                U::Customer(r) => match r.result {
                    Ok(m) => s.notify(format!("rollout: {} {m}", r.subdomain), false),
                    Err(e) => s.notify(format!("rollout: {} failed: {e}", r.subdomain), true),
                },
                U::Finished(Ok((report, reverted))) => {
                    let mut text = report.sentence();
                    if let Some(r) = reverted {
                        text.push_str(&format!("; {r}"));
                    }
                    s.notify(text, report.failed.is_some());
                }
                U::Finished(Err(e)) => s.notify(format!("rollout failed: {e}"), true),
            }
        }
        Event::Health { customer_id, report } => {
            if let Some(d) = s.detail_mut().filter(|d| d.customer_id == customer_id) {
                d.health = Some(report);
                d.health_running = false;
                // The check stamped "last checked" in the database.
                return vec![Command::LoadDetail { customer_id }];
            }
        }
        Event::Logs { customer_id, lines, per_second } => {
            if let Some(d) = s.detail_mut().filter(|d| d.customer_id == customer_id) {
                // With follow off the view stays on the lines it shows (a search hit must not
                // drift away): it is counted from the end, so it moves back by what arrived.
                let shown_new =
                    lines.iter().filter(|l| d.service_filter.as_ref().is_none_or(|s| &l.service == s)).count();
                d.logs.extend(lines);
                d.log_rate = per_second;
                if !d.follow {
                    d.log_scroll = d.log_scroll.saturating_add(shown_new);
                    d.paused_new += shown_new;
                }
                // Log lines never draw at once: the loop coalesces them into a few frames a
                // second (a slow link gets 4 frames, not 10). A hidden tab draws nothing.
                s.logs_dirty |= d.tab == Tab::Logs;
            }
            s.dirty = false;
        }
        Event::Saved { customer_id, subdomain, created } => {
            if created {
                // A new customer is deployed at once; its Deployment tab shows the progress.
                s.show_detail(DetailState::new(customer_id, subdomain.clone()));
                let mut cmds = vec![Command::LoadDetail { customer_id }];
                cmds.extend(start(s, customer_id, subdomain, Operation::Deploy));
                if let Some(d) = s.detail_mut() {
                    d.tab = Tab::Deployment;
                }
                return cmds;
            }
            s.notify(format!("{subdomain}: saved (layout and limits apply on the next redeploy)"), false);
            s.close_form();
            return vec![Command::LoadDetail { customer_id }];
        }
        Event::SaveFailed(msg) => {
            if let Some(f) = s.form_mut() {
                f.busy = false;
                f.server_error = Some(msg);
            } else {
                s.notify(msg, true);
            }
        }
        Event::Initialised { user } => {
            s.notice = None;
            s.show_login();
            s.login = super::LoginState { user: user.into(), field: 1, ..Default::default() };
        }
        Event::InitForeign(msg) => match s.setup_mut() {
            Some(w) => {
                w.busy = false;
                w.beside_foreign = true;
                w.server_error = Some(format!("{msg}. Or press Enter again to set up a separate installation here."));
            }
            None => s.notify(msg, true),
        },
        Event::InitFailed(msg) => match s.setup_mut() {
            Some(w) => {
                w.busy = false;
                w.server_error = Some(msg);
            }
            None => s.notify(msg, true),
        },
        Event::NpmTested(r) => {
            if let Some(w) = s.setup_mut() {
                w.npm_test = Some(r);
            } else if let Some(st) = s.settings_mut() {
                st.npm_test = Some(r);
            }
        }
        Event::Settings { rows, users } => {
            if let Some(get) = rows.iter().find(|r| r.key == "base_domain") {
                s.base_domain.clone_from(&get.value);
            }
            if let Some(l) = rows.iter().find(|r| r.key == "layout").and_then(|r| r.value.parse().ok()) {
                s.default_layout = l;
            }
            if let Some(st) = s.settings_mut() {
                st.rows = rows;
                st.users = users;
                let n = st.tab_rows().len();
                st.selected = st.selected.min(n.saturating_sub(1));
            }
        }
        Event::SettingFailed { key, message } => {
            if let Some(st) = s.settings_mut() {
                // What was typed comes back into the field, to be fixed rather than retyped.
                if let Some(v) = st.submitted.take().filter(|(k, _)| *k == key).map(|(_, v)| v) {
                    st.editing = Some(v.into());
                }
                st.error = Some((key, message));
            }
        }
        Event::Exported(r) | Event::Restored(r) => match r {
            Ok(m) => s.notify(m, false),
            Err(e) => s.notify(e.message, true),
        },
        Event::AccountDone(r) => match r {
            Ok(m) => s.notify(m, false),
            Err(e) => s.notify(e.message, true),
        },
        Event::Error(msg) => s.notify(msg, true),
        Event::Caution(msg) => s.notify(format!("caution: {msg}"), false),
    }
    Vec::new()
}
