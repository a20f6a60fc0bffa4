//! The monitor's alerting half: which notices a round raises, the lease that lets one monitor
//! send them, delivery with retries, and the one-off notice after a Docker outage.

use super::{Monitor, MonitorEvent, PENDING_MAX};
use crate::domain::alerts::{AlertBook, HOST_SCOPE, Judged, Notice, host_scope};
use crate::domain::settings::Settings;
use crate::engine::fleet::notify::Notifier;
use crate::store::customers::CustomerRow;

impl Monitor<'_> {
    pub(super) async fn alerts(
        &mut self,
        settings: &Settings,
        rows: &[CustomerRow],
        judged: &[Judged],
        sink: &mut impl FnMut(MonitorEvent),
    ) {
        let now_s = crate::store::now().unix_timestamp();
        let ttl = i64::try_from(settings.monitor.containers_s.max(20) * 4).unwrap_or(120);
        let holds = match self.store.claim_alert_lease(&self.holder, now_s, ttl) {
            Ok(h) => h,
            Err(e) => {
                sink(MonitorEvent::Error(format!("alert lease: {e}")));
                false
            }
        };
        if holds && !self.alerting {
            // Taking over: continue from the stored firing set so nothing is announced twice.
            match self.store.active_alerts() {
                Ok(active) => self.book = AlertBook::new(settings.alerts.per_hour, active),
                Err(e) => sink(MonitorEvent::Error(format!("alerts: {e}"))),
            }
        }
        self.alerting = holds;
        if !holds {
            return;
        }
        self.book.set_limit(settings.alerts.per_hour);
        let hosts: Vec<String> = self.engines.keys().into_iter().map(|k| host_scope(&self.engines.name(k))).collect();
        for a in self.book.active().map(|a| a.scope.clone()).collect::<Vec<_>>() {
            if a != HOST_SCOPE && !hosts.contains(&a) && !rows.iter().any(|r| r.customer.subdomain == a) {
                self.book.forget(&a);
            }
        }
        let notices = self.book.update(now_s, judged);
        if let Err(e) = self.store.save_alerts(self.book.active()) {
            sink(MonitorEvent::Error(format!("alerts: {e}")));
        }
        self.pending.extend(notices);
        if self.pending.len() > PENDING_MAX {
            let drop = self.pending.len() - PENDING_MAX;
            tracing::warn!(dropped = drop, "undelivered alert notices dropped");
            self.pending.drain(..drop);
        }
        self.deliver(settings, sink).await;
    }

    pub(super) async fn deliver(&mut self, settings: &Settings, sink: &mut impl FnMut(MonitorEvent)) {
        if self.pending.is_empty() {
            return;
        }
        let key = (settings.alerts.webhook_url.clone(), settings.alerts.gotify_url.clone());
        if self.notifier_key.as_ref() != Some(&key) || self.notifier.is_none() {
            match Notifier::from_settings(self.store, self.vault) {
                Ok(n) => {
                    self.notifier = n;
                    self.notifier_key = Some(key);
                }
                Err(e) => {
                    sink(MonitorEvent::Error(format!("alerts: {e}")));
                    return;
                }
            }
        }
        let Some(notifier) = &self.notifier else {
            // No channel configured: notices are logged only.
            for n in self.pending.drain(..) {
                tracing::warn!(scope = %n.scope, kind = %n.kind, "{}: {}", n.title, n.message);
                sink(MonitorEvent::Notice {
                    notice: n,
                    delivered: Err(crate::domain::error::Failure::new(
                        crate::domain::error::ErrorKind::Usage,
                        "no alert channel configured",
                    )),
                });
            }
            return;
        };
        let mut failed = Vec::new();
        for n in std::mem::take(&mut self.pending) {
            let r = notifier.send(&n).await.map_err(crate::domain::error::Failure::from);
            match &r {
                Ok(()) => tracing::info!(scope = %n.scope, kind = %n.kind, "notice sent: {}", n.title),
                Err(e) => tracing::warn!(scope = %n.scope, "notice not sent, retrying next round: {e}"),
            }
            if r.is_err() {
                failed.push(n.clone());
            }
            sink(MonitorEvent::Notice { notice: n, delivered: r });
        }
        self.pending = failed;
    }

    /// Docker is back after an outage: finish or undo operations a crash interrupted, and tell
    /// the MSP what else an outage may have left (operations that failed half-way while the
    /// engine was gone) — fixing that stays a person's call (`nbmsp reconcile --yes`).
    pub(super) async fn after_outage(&mut self, sink: &mut impl FnMut(MonitorEvent)) {
        let templates = self.store.path().and_then(|p| p.parent()).map(|h| h.join("templates"));
        let proxy = match crate::engine::npm::proxy::from_settings(self.store, self.vault, templates.clone()) {
            Ok(p) => p,
            Err(e) => return sink(MonitorEvent::Error(format!("after the Docker outage: {e}"))),
        };
        if !self.acting {
            return;
        }
        let ops = crate::engine::ops::lifecycle::Ops {
            store: self.store,
            vault: self.vault,
            actor: "monitor",
            // The monitor renews tokens, takes backups and finishes interrupted work: an
            // operator's share, whoever started it.
            role: crate::domain::user::Role::Operator,
            engines: self.engines,
            proxy: &proxy,
            template_dir: templates,
        };
        let recovered = match crate::engine::fleet::reconcile::interrupted(self.store) {
            Ok(found) => crate::engine::fleet::reconcile::apply(&ops, &found).await,
            Err(e) => return sink(MonitorEvent::Error(format!("after the Docker outage: {e}"))),
        };
        let findings = match crate::engine::fleet::reconcile::check(&ops, &[]).await {
            Ok(f) => f,
            Err(e) => return sink(MonitorEvent::Error(format!("after the Docker outage: {e}"))),
        };
        if recovered.is_empty() && findings.is_empty() {
            return;
        }
        let mut lines: Vec<String> =
            recovered.iter().map(|a| format!("recovered {}: {}", a.subject, a.message)).collect();
        lines.extend(findings.iter().map(|f| format!("{} {}: {}", f.kind.replace('_', " "), f.subject, f.detail)));
        let notice = Notice {
            state: crate::domain::alerts::NoticeState::Firing,
            scope: HOST_SCOPE.to_string(),
            kind: "drift".into(),
            title: format!("nbmsp: {} problem(s) after a Docker outage", findings.len()),
            message: format!("{}; `nbmsp reconcile --yes` applies the safe fixes", lines.join("; ")),
            at: crate::store::now().unix_timestamp(),
        };
        tracing::warn!("{}: {}", notice.title, notice.message);
        if self.alerting {
            self.pending.push(notice);
            if let Ok(settings) = self.store.settings() {
                self.deliver(&settings, sink).await;
            }
        } else {
            sink(MonitorEvent::Notice {
                notice,
                delivered: Err(crate::domain::error::Failure::new(
                    crate::domain::error::ErrorKind::Conflict,
                    "another monitor sends the alerts",
                )),
            });
        }
    }
}
