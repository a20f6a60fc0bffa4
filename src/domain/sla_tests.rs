use super::*;

const NOV: Month = Month { year: 2026, month: 11 };
const H: i64 = 3600;
const D: i64 = 86_400;

fn span(start: i64, end: i64, state: Served, cause: Option<&str>) -> Span {
    Span { start, end, state, cause: cause.map(str::to_string) }
}

fn all_month() -> Lifetime {
    Lifetime { created: NOV.start() - 10 * D, deleted: None }
}

#[test]
fn months_are_utc_calendar_months() {
    assert_eq!(NOV.start(), time::macros::datetime!(2026-11-01 00:00 UTC).unix_timestamp());
    assert_eq!(NOV.end() - NOV.start(), 30 * D);
    assert_eq!("2026-02".parse::<Month>().map(|m| m.end() - m.start()), Ok(28 * D));
    assert_eq!("2028-02".parse::<Month>().map(|m| m.end() - m.start()), Ok(29 * D));
    assert_eq!(Month { year: 2026, month: 12 }.next(), Month { year: 2027, month: 1 });
    assert_eq!(Month { year: 2027, month: 1 }.previous(), Month { year: 2026, month: 12 });
    // 23:30 on 30 November in New York is already December in UTC: reports are in UTC.
    let new_york = time::macros::datetime!(2026-11-30 23:30 -05:00).unix_timestamp();
    assert_eq!(Month::of(new_york), Month { year: 2026, month: 12 });
    assert_eq!(Month::of(NOV.end() - 1), NOV);
    for bad in ["2026-13", "2026-1", "26-11", "2026/11", "", "2026-00", "november"] {
        assert!(bad.parse::<Month>().is_err(), "{bad}");
    }
    assert_eq!(NOV.to_string(), "2026-11");
}

#[test]
fn targets_are_exact_thousandths() {
    assert_eq!("99.9".parse(), Ok(Target(99_900)));
    assert_eq!("99.95%".parse(), Ok(Target(99_950)));
    assert_eq!("100".parse(), Ok(Target(100_000)));
    assert_eq!(Target(99_900).to_string(), "99.9");
    assert_eq!(Target(100_000).to_string(), "100");
    for bad in ["0", "100.001", "99.9999", "-1", "abc", "", "99,9", "1e2"] {
        assert!(bad.parse::<Target>().is_err(), "{bad}");
    }
}

#[test]
fn a_whole_month_up_with_one_outage() {
    let m0 = NOV.start();
    let spans = [
        span(m0 - D, m0 + 10 * D, Served::Up, None),
        span(m0 + 10 * D, m0 + 10 * D + H, Served::Down, Some("containers_down")),
        span(m0 + 10 * D + H, NOV.end() + D, Served::Up, None),
    ];
    let u = uptime(NOV, all_month(), &spans, &[], NOV.end() + 5 * D, false);
    assert_eq!(u.downtime_s, H);
    assert_eq!(u.up_s, 30 * D - H);
    assert_eq!(u.unknown_s, 0);
    assert_eq!(u.counted_s, 30 * D);
    assert!(!u.partial && !u.in_progress);
    assert_eq!(u.causes.get("containers_down"), Some(&H));
    let pct = u.uptime_pct.unwrap();
    assert!((pct - (1.0 - 1.0 / 720.0) * 100.0).abs() < 1e-9, "{pct}");
    // 43 minutes of downtime is the most a 99.9 % month of 30 days allows (43.2).
    assert_eq!(u.met(Target(99_900)), Some(false));
    assert_eq!(u.met(Target(99_800)), Some(true));
}

#[test]
fn gaps_and_unknown_are_neither_up_nor_down() {
    let m0 = NOV.start();
    let spans = [
        span(m0, m0 + 10 * D, Served::Up, None),
        // No record for a day: no monitor ran.
        span(m0 + 11 * D, m0 + 12 * D, Served::Unknown, Some("host_unreachable")),
        span(m0 + 12 * D, NOV.end(), Served::Up, None),
    ];
    let u = uptime(NOV, all_month(), &spans, &[], NOV.end(), false);
    assert_eq!(u.unknown_s, 2 * D);
    assert_eq!(u.downtime_s, 0);
    assert_eq!(u.uptime_pct, Some(100.0));
    assert_eq!(u.up_s + u.unknown_s, 30 * D);
}

#[test]
fn nothing_recorded_means_nothing_measured() {
    let u = uptime(NOV, all_month(), &[], &[], NOV.end(), false);
    assert_eq!(u.unknown_s, 30 * D);
    assert_eq!(u.uptime_pct, None);
    assert_eq!(u.met(Target(99_900)), None);
}

#[test]
fn maintenance_is_excluded_or_counted_by_the_setting() {
    let m0 = NOV.start();
    let spans = [
        span(m0, m0 + 5 * D, Served::Up, None),
        // The containers were down during a redeploy: its window makes that maintenance.
        span(m0 + 5 * D, m0 + 5 * D + 600, Served::Down, Some("containers_down")),
        span(m0 + 5 * D + 600, m0 + 20 * D, Served::Up, None),
        // Stopped by an operator for two days (the stop's window is still open).
        span(m0 + 20 * D, m0 + 22 * D, Served::Stopped, None),
        span(m0 + 22 * D, NOV.end(), Served::Up, None),
    ];
    let windows =
        [Window { start: m0 + 5 * D - 60, end: Some(m0 + 5 * D + 600) }, Window { start: m0 + 20 * D, end: None }];
    // The stop's open window runs to the month's end: everything after is maintenance.
    let u = uptime(NOV, all_month(), &spans, &windows, NOV.end(), false);
    assert_eq!(u.maintenance_s, 660 + 10 * D);
    assert_eq!(u.downtime_s, 0);
    assert_eq!(u.uptime_pct, Some(100.0));
    let closed = [windows[0], Window { start: m0 + 20 * D, end: Some(m0 + 22 * D) }];
    let u = uptime(NOV, all_month(), &spans, &closed, NOV.end(), false);
    assert_eq!(u.maintenance_s, 660 + 2 * D);
    assert_eq!(u.up_s, 30 * D - 660 - 2 * D);
    let counted = uptime(NOV, all_month(), &spans, &closed, NOV.end(), true);
    let pct = counted.uptime_pct.unwrap();
    assert!((pct - (30.0 * 86400.0 - 660.0 - 2.0 * 86400.0) / (30.0 * 86400.0) * 100.0).abs() < 1e-9);
    // A Stopped state without any window (stopped before windows were kept) is maintenance too.
    let u = uptime(NOV, all_month(), &spans, &[], NOV.end(), false);
    assert_eq!(u.maintenance_s, 2 * D);
    assert_eq!(u.downtime_s, 600);
}

#[test]
fn overlapping_spans_take_the_later_one_and_windows_beat_states() {
    let m0 = NOV.start();
    // Two monitors on one database: the one that started last is what was seen last.
    let spans = [span(m0, m0 + 2 * H, Served::Up, None), span(m0 + H, m0 + 3 * H, Served::Down, Some("health"))];
    let u =
        uptime(NOV, all_month(), &spans, &[Window { start: m0 + 2 * H, end: Some(m0 + 150 * 60) }], m0 + 3 * H, false);
    assert_eq!(u.up_s, H);
    assert_eq!(u.maintenance_s, 30 * 60);
    assert_eq!(u.downtime_s, H + 30 * 60);
    assert!(u.in_progress);
    assert_eq!(u.counted_s, 3 * H);
}

#[test]
fn partial_months_are_prorated_and_marked() {
    let m0 = NOV.start();
    let spans = [span(m0 + 10 * D, m0 + 20 * D + H, Served::Up, None)];
    // Created on the 11th, deleted on the 21st: only those ten days count.
    let life = Lifetime { created: m0 + 10 * D, deleted: Some(m0 + 20 * D) };
    let u = uptime(NOV, life, &spans, &[], NOV.end() + D, false);
    assert!(u.partial);
    assert_eq!(u.counted_s, 10 * D);
    assert_eq!(u.up_s, 10 * D);
    assert_eq!(u.uptime_pct, Some(100.0));
    // Before it was deployed it was off: not in service, not down.
    let spans = [span(m0 + 10 * D, m0 + 12 * D, Served::Off, None), span(m0 + 12 * D, NOV.end(), Served::Up, None)];
    let u = uptime(NOV, Lifetime { created: m0 + 10 * D, deleted: None }, &spans, &[], NOV.end(), false);
    assert_eq!((u.off_s, u.up_s, u.downtime_s), (2 * D, 18 * D, 0));
    // Deleted before the month began: nothing at all.
    let gone = Lifetime { created: m0 - 40 * D, deleted: Some(m0 - D) };
    assert_eq!(uptime(NOV, gone, &spans, &[], NOV.end(), false).counted_s, 0);
}

#[test]
fn a_month_not_over_counts_up_to_now() {
    let m0 = NOV.start();
    let spans = [span(m0 - D, m0 + 3 * D, Served::Up, None)];
    let u = uptime(NOV, all_month(), &spans, &[], m0 + 3 * D, false);
    assert!(u.in_progress);
    assert_eq!(u.counted_s, 3 * D);
    assert_eq!(u.uptime_pct, Some(100.0));
}

#[test]
fn device_days_add_up_to_peak_average_and_most() {
    let a = DeviceDay::default().add(3, 10, Some(4), Some(1)).add(5, 11, Some(4), None);
    let b = DeviceDay::default().add(2, 12, None, Some(2));
    assert_eq!(
        (a.online_peak, a.online_sum, a.samples, a.devices, a.users, a.outdated),
        (5, 8, 2, 11, Some(4), Some(1))
    );
    let m = devices(&[a, b]);
    assert_eq!(m.peak, Some(5));
    assert_eq!(m.devices, Some(12));
    assert_eq!(m.users, Some(4));
    assert_eq!(m.outdated, Some(2));
    assert!((m.average.unwrap() - 10.0 / 3.0).abs() < 1e-9);
    assert_eq!(devices(&[]), DeviceMonth::default());
}

#[test]
fn verdicts_map_to_states_with_a_cause_that_is_a_kind_not_text() {
    use crate::domain::customer::CustomerStatus as S;
    let down = [Condition::StunFailing, Condition::ContainerDown { service: "server".into() }];
    assert_eq!(served(S::Error, true, &down), Some((Served::Down, Some("down".into()))));
    assert_eq!(served(S::Error, true, &[]), Some((Served::Down, Some("error".into()))));
    assert_eq!(served(S::Degraded, true, &down[..1]), Some((Served::Degraded, Some("stun".into()))));
    let trouble = [Condition::ServiceTrouble { service: "wiki \"x\"".into(), status: "error".into() }];
    assert_eq!(served(S::Degraded, true, &trouble), Some((Served::Degraded, Some("service".into()))));
    assert_eq!(served(S::Active, true, &[]), Some((Served::Up, None)));
    assert_eq!(served(S::Stopped, true, &[]), Some((Served::Stopped, None)));
    assert_eq!(served(S::Active, false, &[]), Some((Served::Off, None)));
    assert_eq!(served(S::Deploying, true, &[]), None);
    assert!(is_maintenance(Right::Stop) && is_maintenance(Right::Rollout) && !is_maintenance(Right::Recover));
}
