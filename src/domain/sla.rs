//! Service levels: what a month of recorded states and maintenance windows adds up to, per
//! customer, in UTC. Pure arithmetic over intervals of unix seconds; the monitor records, the
//! store keeps, this module counts.
//!
//! Every second of a customer's month falls in exactly one bucket, decided in this order:
//! outside its service (before it was created, after it was deleted, not yet over) → nothing;
//! inside a maintenance window an operator's operation opened → maintenance; then the state the
//! monitor recorded (up, degraded, down, stopped → maintenance, off → not in service); no record
//! at all (no monitor ran, its host did not answer) → unknown. Unknown is never counted as up
//! or down: it is reported beside the figure it was left out of.

use std::collections::BTreeMap;

use serde::Serialize;

use super::customer::CustomerStatus;
use super::fleet::Condition;
use super::rights::Right;

/// Whether an operation with this right is maintenance: an operator (or a schedule one set)
/// takes the customer's service down on purpose. A recovery the monitor makes on its own is
/// not: the downtime it repairs counts.
pub fn is_maintenance(right: Right) -> bool {
    matches!(
        right,
        Right::Deploy
            | Right::Redeploy
            | Right::Restart
            | Right::Stop
            | Right::Start
            | Right::Rollout
            | Right::Move
            | Right::Restore
            | Right::Migrate
            | Right::Backup
    )
}

/// What the monitor saw of a customer at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Served {
    /// Every check passed.
    Up,
    /// Serving, with something wrong (a failed STUN check, a pending certificate…).
    Degraded,
    /// Not serving.
    Down,
    /// Nothing known: its host did not answer.
    Unknown,
    /// Stopped by an operator: maintenance.
    Stopped,
    /// Not in service: never deployed, or taken down on purpose.
    Off,
}

impl Served {
    /// The word stored and printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Up => "up",
            Self::Degraded => "degraded",
            Self::Down => "down",
            Self::Unknown => "unknown",
            Self::Stopped => "stopped",
            Self::Off => "off",
        }
    }
}

impl std::str::FromStr for Served {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [Self::Up, Self::Degraded, Self::Down, Self::Unknown, Self::Stopped, Self::Off]
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| "is not a service state (up, degraded, down, unknown, stopped, off)".to_string())
    }
}

/// What a monitor's verdict means for the SLA (`None`: an operation holds the customer; its
/// maintenance window says what the time was). The cause is the kind of the first condition
/// that decided it (`down`, `health`, `stun`…), never free text.
pub fn served(status: CustomerStatus, deployed: bool, conditions: &[Condition]) -> Option<(Served, Option<String>)> {
    let cause = |outage: bool| {
        conditions
            .iter()
            .find(|c| !outage || c.is_outage())
            .or(conditions.first())
            .map(|c| c.key().split(':').next().unwrap_or_default().to_string())
    };
    Some(match status {
        _ if !deployed => (Served::Off, None),
        CustomerStatus::Active => (Served::Up, None),
        CustomerStatus::Degraded => (Served::Degraded, cause(false)),
        CustomerStatus::Error => (Served::Down, cause(true).or_else(|| Some("error".into()))),
        CustomerStatus::Stopped => (Served::Stopped, None),
        CustomerStatus::Inactive => (Served::Off, None),
        CustomerStatus::Deploying => return None,
    })
}

/// A recorded state from `start` to `end` (unix seconds, end excluded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// First second.
    pub start: i64,
    /// First second after it.
    pub end: i64,
    /// What was seen.
    pub state: Served,
    /// The failing condition (down, degraded, unknown), as its stable key.
    pub cause: Option<String>,
}

/// A maintenance window an operator's operation opened (`end: None`: still open, e.g. a stop).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// When the operation started.
    pub start: i64,
    /// When it ended (a stop's window ends when the customer is started again).
    pub end: Option<i64>,
}

/// A calendar month in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    /// The year.
    pub year: i32,
    /// 1 to 12.
    pub month: u8,
}

impl Month {
    /// The month `t` (unix seconds) falls in.
    pub fn of(t: i64) -> Self {
        let d = time::OffsetDateTime::from_unix_timestamp(t).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        Self { year: d.year(), month: u8::from(d.month()) }
    }

    /// The month before.
    pub fn previous(self) -> Self {
        if self.month == 1 { Self { year: self.year - 1, month: 12 } } else { Self { month: self.month - 1, ..self } }
    }

    /// The month after.
    pub fn next(self) -> Self {
        if self.month == 12 { Self { year: self.year + 1, month: 1 } } else { Self { month: self.month + 1, ..self } }
    }

    /// Its first second (00:00:00 UTC on the 1st).
    pub fn start(self) -> i64 {
        let m = time::Month::try_from(self.month).unwrap_or(time::Month::January);
        time::Date::from_calendar_date(self.year, m, 1)
            .map(|d| d.midnight().assume_utc().unix_timestamp())
            .unwrap_or_default()
    }

    /// The first second of the next month.
    pub fn end(self) -> i64 {
        self.next().start()
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl std::str::FromStr for Month {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not a month: write YYYY-MM, e.g. 2026-11");
        let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u8 = m.parse().map_err(|_| bad())?;
        if y.len() != 4 || m.len() != 2 || !(1..=12).contains(&month) || !(1970..=9999).contains(&year) {
            return Err(bad());
        }
        Ok(Self { year, month })
    }
}

/// An uptime promise in thousandths of a percent (99.9 % is 99 900): exact, comparable, and
/// written the way contracts write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Target(pub u32);

impl Target {
    /// As a percentage.
    pub fn percent(self) -> f64 {
        f64::from(self.0) / 1000.0
    }
}

impl Serialize for Target {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Target {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = format!("{:.3}", self.percent());
        write!(f, "{}", s.trim_end_matches('0').trim_end_matches('.'))
    }
}

impl std::str::FromStr for Target {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || "must be a percentage above 0 and at most 100 with up to three decimals, e.g. 99.9".to_string();
        let t = s.trim().trim_end_matches('%').trim();
        let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
        if whole.is_empty() || frac.len() > 3 || !(whole.bytes().chain(frac.bytes())).all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let whole: u32 = whole.parse().map_err(|_| bad())?;
        let frac: u32 = format!("{frac:0<3}").parse().map_err(|_| bad())?;
        let v = whole.checked_mul(1000).and_then(|w| w.checked_add(frac)).ok_or_else(bad)?;
        if v == 0 || v > 100_000 {
            return Err(bad());
        }
        Ok(Self(v))
    }
}

/// When a customer was in the books: created, and deleted if it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetime {
    /// Created (unix seconds).
    pub created: i64,
    /// Deleted (unix seconds).
    pub deleted: Option<i64>,
}

/// A customer's month, in seconds per bucket.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Uptime {
    /// Seconds of the month the customer existed (and that have passed).
    pub counted_s: i64,
    /// Every check passed.
    pub up_s: i64,
    /// Serving with something wrong (counts as available).
    pub degraded_s: i64,
    /// Not serving, outside maintenance.
    pub downtime_s: i64,
    /// Inside an operator's maintenance window, or stopped by one.
    pub maintenance_s: i64,
    /// Nothing known (no monitor ran, its host did not answer).
    pub unknown_s: i64,
    /// Not in service (not deployed yet).
    pub off_s: i64,
    /// Available ÷ measured, in percent (`None`: nothing was measured).
    pub uptime_pct: Option<f64>,
    /// Created or deleted inside the month: the figures cover only part of it.
    pub partial: bool,
    /// The month is not over yet.
    pub in_progress: bool,
    /// Downtime seconds by the condition that caused them.
    pub causes: BTreeMap<String, i64>,
}

impl Uptime {
    /// Whether the promise was kept (`None`: nothing measured, nothing to say).
    pub fn met(&self, target: Target) -> Option<bool> {
        // Compared in thousandths, as the target is written, so 99.9 meets 99.9.
        self.uptime_pct.map(|p| (p * 1000.0).round() >= f64::from(target.0))
    }
}

/// Adds up `month` for one customer. `spans` are its recorded states (any order; where they
/// overlap, the one that started last wins), `windows` its maintenance windows; `now` ends an
/// unfinished month. With `maintenance_counts`, maintenance is measured time that was not
/// available (the SLA does not exclude it); otherwise it is left out of the measure.
pub fn uptime(
    month: Month,
    life: Lifetime,
    spans: &[Span],
    windows: &[Window],
    now: i64,
    maintenance_counts: bool,
) -> Uptime {
    let from = month.start().max(life.created);
    let to = month.end().min(life.deleted.unwrap_or(i64::MAX)).min(now);
    let mut u = Uptime {
        partial: life.created > month.start() || life.deleted.is_some_and(|d| d < month.end()),
        in_progress: now < month.end(),
        ..Uptime::default()
    };
    if to <= from {
        return u;
    }
    let mut spans: Vec<&Span> = spans.iter().filter(|s| s.end > from && s.start < to && s.end > s.start).collect();
    spans.sort_by_key(|s| (s.start, s.end));
    let windows: Vec<(i64, i64)> = windows
        .iter()
        .map(|w| (w.start, w.end.unwrap_or(i64::MAX)))
        .filter(|(s, e)| *e > from && *s < to && e > s)
        .collect();
    let mut cuts: Vec<i64> = vec![from, to];
    for s in &spans {
        cuts.extend([s.start, s.end]);
    }
    for (s, e) in &windows {
        cuts.extend([*s, *e]);
    }
    cuts.retain(|t| (from..=to).contains(t));
    cuts.sort_unstable();
    cuts.dedup();
    for pair in cuts.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let len = b - a;
        if windows.iter().any(|(s, e)| *s <= a && a < *e) {
            u.maintenance_s += len;
            continue;
        }
        // The latest-starting span that covers `a`.
        let covering = spans.iter().rev().find(|s| s.start <= a && a < s.end);
        match covering.map(|s| (s.state, s.cause.as_deref())) {
            Some((Served::Up, _)) => u.up_s += len,
            Some((Served::Degraded, _)) => u.degraded_s += len,
            Some((Served::Down, cause)) => {
                u.downtime_s += len;
                *u.causes.entry(cause.unwrap_or("down").to_string()).or_default() += len;
            }
            Some((Served::Stopped, _)) => u.maintenance_s += len,
            Some((Served::Off, _)) => u.off_s += len,
            Some((Served::Unknown, _)) | None => u.unknown_s += len,
        }
    }
    u.counted_s = to - from;
    let available = u.up_s + u.degraded_s;
    let measured = available + u.downtime_s + if maintenance_counts { u.maintenance_s } else { 0 };
    u.uptime_pct = (measured > 0).then(|| available as f64 * 100.0 / measured as f64);
    u
}

/// A customer's devices over a month, from the per-day figures the monitor keeps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct DeviceMonth {
    /// Most devices online at one sample.
    pub peak: Option<u32>,
    /// Devices online on average over the samples.
    pub average: Option<f64>,
    /// Most devices registered in the account.
    pub devices: Option<u32>,
    /// Most users in the account.
    pub users: Option<u32>,
    /// Most peers on an outdated client.
    pub outdated: Option<u32>,
}

/// One day's device figures (what the store keeps per customer and day).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeviceDay {
    /// Most devices online at one sample that day.
    pub online_peak: u32,
    /// Sum of the online counts of its samples (÷ samples = average).
    pub online_sum: u64,
    /// Samples taken.
    pub samples: u32,
    /// Most devices registered.
    pub devices: u32,
    /// Most users (`None`: not counted).
    pub users: Option<u32>,
    /// Most outdated peers (`None`: not checked).
    pub outdated: Option<u32>,
}

impl DeviceDay {
    /// This day with one more sample folded in.
    pub fn add(self, online: u32, devices: u32, users: Option<u32>, outdated: Option<u32>) -> Self {
        let max = |a: Option<u32>, b: Option<u32>| a.max(b);
        Self {
            online_peak: self.online_peak.max(online),
            online_sum: self.online_sum + u64::from(online),
            samples: self.samples + 1,
            devices: self.devices.max(devices),
            users: max(self.users, users),
            outdated: max(self.outdated, outdated),
        }
    }
}

/// Adds up the days of a month.
pub fn devices(days: &[DeviceDay]) -> DeviceMonth {
    let samples: u64 = days.iter().map(|d| u64::from(d.samples)).sum();
    let sum: u64 = days.iter().map(|d| d.online_sum).sum();
    DeviceMonth {
        peak: days.iter().map(|d| d.online_peak).max(),
        average: (samples > 0).then(|| sum as f64 / samples as f64),
        devices: days.iter().map(|d| d.devices).max(),
        users: days.iter().filter_map(|d| d.users).max(),
        outdated: days.iter().filter_map(|d| d.outdated).max(),
    }
}

#[cfg(test)]
#[path = "sla_tests.rs"]
mod tests;
