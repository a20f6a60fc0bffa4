//! Which notifications to send: one when a condition starts, one when it ends, none while it
//! lasts, and no more than a set number per customer and hour so a flapping customer cannot
//! flood the channel. Pure bookkeeping; the engine persists the firing set and does the sending.

use std::collections::{BTreeMap, VecDeque};

use serde::Serialize;

/// Scope of host-wide conditions (the disk).
pub const HOST_SCOPE: &str = "host";

/// Scope of a remote Docker host's own conditions (`host:NAME`).
pub fn host_scope(name: &str) -> String {
    format!("{HOST_SCOPE}:{name}")
}

const HOUR: i64 = 3600;

/// A condition that is firing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActiveAlert {
    /// `<scope>/<condition key>`: one alert per key while it lasts.
    pub key: String,
    /// The customer's subdomain, or [`HOST_SCOPE`].
    pub scope: String,
    /// The condition key (`down:server`, `stun`, ...).
    pub kind: String,
    /// The latest description.
    pub message: String,
    /// Unix seconds when it started.
    pub since: i64,
    /// Whether its start was sent (false while the rate limit holds it back).
    pub notified: bool,
}

/// What a notification announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeState {
    /// A condition started.
    Firing,
    /// A condition ended.
    Resolved,
    /// The rate limit holds further notices for this scope back.
    Suppressed,
    /// Sent by "send test notification".
    Test,
    /// A closed month's summary (SLA misses, devices over the limit).
    Report,
}

/// One message to deliver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notice {
    /// What it announces.
    pub state: NoticeState,
    /// Customer subdomain or [`HOST_SCOPE`].
    pub scope: String,
    /// Condition key (empty for suppression and test notices).
    pub kind: String,
    /// One line title.
    pub title: String,
    /// The text.
    pub message: String,
    /// Unix seconds.
    pub at: i64,
}

/// One scope's conditions as judged this round: (condition key, description).
pub type Judged = (String, Vec<(String, String)>);

/// The firing set and the send history.
#[derive(Debug, Clone, Default)]
pub struct AlertBook {
    active: BTreeMap<String, ActiveAlert>,
    sent: BTreeMap<String, VecDeque<i64>>,
    suppression_notice: BTreeMap<String, i64>,
    per_hour: u32,
}

impl AlertBook {
    /// A book allowing `per_hour` notices per scope, resuming the firing set `active` (as
    /// persisted by an earlier run, so a restart does not notify again).
    pub fn new(per_hour: u32, active: Vec<ActiveAlert>) -> Self {
        Self {
            active: active.into_iter().map(|a| (a.key.clone(), a)).collect(),
            per_hour: per_hour.max(1),
            ..Self::default()
        }
    }

    /// Changes the per-hour limit (a settings edit).
    pub fn set_limit(&mut self, per_hour: u32) {
        self.per_hour = per_hour.max(1);
    }

    /// The firing set.
    pub fn active(&self) -> impl Iterator<Item = &ActiveAlert> {
        self.active.values()
    }

    /// Takes this round's judgement of some scopes (scopes not listed keep their alerts, e.g.
    /// a customer skipped because an operation runs) and returns the notices to send.
    pub fn update(&mut self, now: i64, judged: &[Judged]) -> Vec<Notice> {
        let mut out = Vec::new();
        for (scope, conditions) in judged {
            let prefix = format!("{scope}/");
            let ended: Vec<String> = self
                .active
                .keys()
                .filter(|k| k.starts_with(&prefix))
                .filter(|k| !conditions.iter().any(|(kind, _)| format!("{prefix}{kind}") == **k))
                .cloned()
                .collect();
            for key in ended {
                let Some(a) = self.active.remove(&key) else { continue };
                // Nobody heard of a start the rate limit held back: its end is not news either.
                if a.notified && self.allow(scope, now, &mut out) {
                    out.push(Notice {
                        state: NoticeState::Resolved,
                        scope: scope.clone(),
                        kind: a.kind.clone(),
                        title: format!("RESOLVED {scope}: {}", a.kind),
                        message: format!("resolved after {}: {}", super::human_duration(now - a.since), a.message),
                        at: now,
                    });
                }
            }
            for (kind, message) in conditions {
                let key = format!("{prefix}{kind}");
                let entry = self.active.entry(key.clone()).or_insert_with(|| ActiveAlert {
                    key,
                    scope: scope.clone(),
                    kind: kind.clone(),
                    message: message.clone(),
                    since: now,
                    notified: false,
                });
                entry.message.clone_from(message);
                if entry.notified {
                    continue;
                }
                let (kind, message, since) = (entry.kind.clone(), entry.message.clone(), entry.since);
                if self.allow(scope, now, &mut out) {
                    if let Some(a) = self.active.get_mut(&format!("{prefix}{kind}")) {
                        a.notified = true;
                    }
                    let late = if now > since {
                        format!(" (since {})", super::human_duration(now - since))
                    } else {
                        String::new()
                    };
                    out.push(Notice {
                        state: NoticeState::Firing,
                        scope: scope.clone(),
                        kind: kind.clone(),
                        title: format!("ALERT {scope}: {kind}"),
                        message: format!("{message}{late}"),
                        at: now,
                    });
                }
            }
        }
        out
    }

    /// Drops a scope's alerts without notices (the customer was deleted).
    pub fn forget(&mut self, scope: &str) {
        let prefix = format!("{scope}/");
        self.active.retain(|k, _| !k.starts_with(&prefix));
    }

    /// Records a send for `scope` if the limit allows; when it first does not, queues one
    /// suppression notice for the hour.
    fn allow(&mut self, scope: &str, now: i64, out: &mut Vec<Notice>) -> bool {
        let sent = self.sent.entry(scope.to_string()).or_default();
        while sent.front().is_some_and(|t| now - t >= HOUR) {
            sent.pop_front();
        }
        if sent.len() < self.per_hour as usize {
            sent.push_back(now);
            return true;
        }
        let noticed = self.suppression_notice.get(scope).is_some_and(|t| now - t < HOUR);
        if !noticed {
            self.suppression_notice.insert(scope.to_string(), now);
            let wait = sent.front().map_or(HOUR, |t| HOUR - (now - t));
            out.push(Notice {
                state: NoticeState::Suppressed,
                scope: scope.to_string(),
                kind: String::new(),
                title: format!("RATE LIMIT {scope}"),
                message: format!(
                    "{} notices for {scope} in the last hour; further ones are held back for up to {} \
                     (those still true then are sent)",
                    self.per_hour,
                    super::human_duration(wait)
                ),
                at: now,
            });
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(scope: &str, kinds: &[&str]) -> Judged {
        (scope.to_string(), kinds.iter().map(|k| (k.to_string(), format!("{k} is wrong"))).collect())
    }

    fn states(n: &[Notice]) -> Vec<(NoticeState, &str, &str)> {
        n.iter().map(|n| (n.state, n.scope.as_str(), n.kind.as_str())).collect()
    }

    #[test]
    fn fires_once_then_resolves_once() {
        let mut b = AlertBook::new(10, vec![]);
        let n = b.update(0, &[judged("acme", &["down:server"])]);
        assert_eq!(states(&n), [(NoticeState::Firing, "acme", "down:server")]);
        assert!(b.update(60, &[judged("acme", &["down:server"])]).is_empty(), "deduplicated");
        let n = b.update(120, &[judged("acme", &[])]);
        assert_eq!(states(&n), [(NoticeState::Resolved, "acme", "down:server")]);
        assert!(n[0].message.contains("after 2m 0s"), "{}", n[0].message);
        assert!(b.update(180, &[judged("acme", &[])]).is_empty());
    }

    #[test]
    fn scopes_not_judged_keep_their_alerts() {
        let mut b = AlertBook::new(10, vec![]);
        b.update(0, &[judged("acme", &["stun"]), judged("beta", &["health"])]);
        assert!(b.update(10, &[judged("beta", &["health"])]).is_empty());
        assert_eq!(b.active().count(), 2);
        b.forget("acme");
        assert_eq!(b.active().map(|a| a.scope.as_str()).collect::<Vec<_>>(), ["beta"]);
    }

    #[test]
    fn a_restart_resumes_without_notifying_again() {
        let mut b = AlertBook::new(10, vec![]);
        b.update(0, &[judged("acme", &["stun"])]);
        let saved: Vec<ActiveAlert> = b.active().cloned().collect();
        let mut again = AlertBook::new(10, saved);
        assert!(again.update(30, &[judged("acme", &["stun"])]).is_empty());
        assert_eq!(states(&again.update(40, &[judged("acme", &[])])), [(NoticeState::Resolved, "acme", "stun")]);
    }

    #[test]
    fn flapping_is_rate_limited_with_one_notice_and_caught_up_later() {
        let mut b = AlertBook::new(4, vec![]);
        let mut all = Vec::new();
        for i in 0..20 {
            let kinds: &[&str] = if i % 2 == 0 { &["down:server"] } else { &[] };
            all.extend(b.update(i * 60, &[judged("acme", kinds)]));
        }
        let firing = all.iter().filter(|n| n.state == NoticeState::Firing).count();
        let resolved = all.iter().filter(|n| n.state == NoticeState::Resolved).count();
        let suppressed = all.iter().filter(|n| n.state == NoticeState::Suppressed).count();
        assert_eq!((firing + resolved, suppressed), (4, 1), "{all:#?}");
        // Other customers are not affected by acme's limit.
        assert_eq!(b.update(1200, &[judged("beta", &["stun"])]).len(), 1);
        // Still down an hour later: the held-back start is delivered.
        b.update(1200, &[judged("acme", &["down:server"])]);
        let n = b.update(3700, &[judged("acme", &["down:server"])]);
        assert_eq!(states(&n), [(NoticeState::Firing, "acme", "down:server")]);
        assert!(n[0].message.contains("(since"), "{}", n[0].message);
    }

    #[test]
    fn an_unheard_start_has_no_end_notice() {
        let mut b = AlertBook::new(1, vec![]);
        b.update(0, &[judged("acme", &["stun"])]);
        let n = b.update(10, &[judged("acme", &["stun", "health"])]);
        assert_eq!(states(&n), [(NoticeState::Suppressed, "acme", "")]);
        let n = b.update(20, &[judged("acme", &["stun"])]);
        assert!(n.is_empty(), "health's start was held back, so its end is not sent: {n:?}");
    }
}
