//! The Reports view (`:reports`), by keys: opened from the command line, drawn when both
//! months arrive (misses first, daily devices, downtime by cause), Tab to the last month, `y`
//! copies the invoice CSV, `x` asks for the export, Esc closes; snapshots at 80x24 and 120x40.

use std::collections::BTreeMap;

use crossterm::event::KeyCode;

use super::tests::draw;
use crate::app::fixtures::press;
use crate::app::keymap::{Mode, mode};
use crate::app::{Command, Event};
use crate::domain::sla::{Month, Target};
use crate::engine::fleet::reports::{Report, ReportRow};

fn row(sub: &str, pct: Option<f64>, down: i64, causes: &[(&str, i64)]) -> ReportRow {
    let target = Target(99_900);
    ReportRow {
        subdomain: sub.into(),
        name: sub.into(),
        contract_id: Some(format!("C-{sub}")),
        uptime_pct: pct,
        up_s: 2_000_000,
        downtime_s: down,
        maintenance_s: 1_800,
        unknown_s: 600,
        degraded_s: 0,
        sla_target: target,
        sla_met: pct.map(|p| p * 1000.0 >= f64::from(target.0)),
        devices_peak: Some(12),
        devices_avg: Some(8.4),
        devices: Some(15),
        users: Some(6),
        outdated: None,
        max_devices: 20,
        over_limit: false,
        partial: sub == "newco",
        deleted: false,
        causes: causes.iter().map(|(k, v)| (k.to_string(), *v)).collect::<BTreeMap<_, _>>(),
        devices_daily_peak: (1..=30u32).map(|d| (d % 7 != 0).then_some(4 + d % 9)).collect(),
    }
}

fn report(month: &str, in_progress: bool, rows: Vec<ReportRow>) -> Report {
    Report {
        month: month.into(),
        timezone: "UTC",
        in_progress,
        maintenance: "excluded",
        generated_at: if in_progress { format!("{month}-07T05:00:00Z") } else { "2026-12-07T05:00:00Z".into() },
        rows,
    }
}

fn open(s: &mut crate::app::AppState) -> Vec<Command> {
    press(s, KeyCode::Char(':'));
    for c in "reports".chars() {
        press(s, KeyCode::Char(c));
    }
    press(s, KeyCode::Enter)
}

#[test]
fn the_reports_view_shows_misses_first_and_switches_months_by_keys() {
    let mut s = super::tests::dashboard();
    assert_eq!(open(&mut s), vec![Command::LoadReports]);
    assert_eq!(mode(&s), Mode::Reports);
    assert!(draw(&s, 120, 40).contains("computing the month"));
    let this = report(
        "2026-12",
        true,
        vec![
            row("acme", Some(100.0), 0, &[]),
            row("globex", Some(99.2), 20_700, &[("down", 18_000), ("health", 2_700)]),
            row("newco", None, 0, &[]),
        ],
    );
    let last = report("2026-11", false, vec![row("acme", Some(99.95), 600, &[("stun", 600)])]);
    crate::app::update(&mut s, crate::app::Action::Engine(Event::Reports(Ok(Box::new((this, last))))));
    let screen = draw(&s, 120, 40);
    assert!(screen.contains("2026-12 (UTC, up to now) · 1 of 3 missed their SLA"), "{screen}");
    let globex = screen.lines().position(|l| l.contains("globex")).unwrap();
    let acme = screen.lines().position(|l| l.contains("acme")).unwrap();
    assert!(globex < acme, "misses first:\n{screen}");
    assert!(screen.contains("5h45m") && screen.contains("Downtime by cause"), "{screen}");
    for (w, h) in [(80, 24), (120, 40)] {
        insta::assert_snapshot!(format!("reports_view_{w}x{h}"), draw(&s, w, h));
    }
    // Tab: the month before, closed.
    press(&mut s, KeyCode::Tab);
    let screen = draw(&s, 80, 24);
    assert!(screen.contains("2026-11 (UTC) · 0 of 1 missed"), "{screen}");
    // y copies that month's invoice CSV; x asks for its files.
    assert!(press(&mut s, KeyCode::Char('y')).is_empty());
    let csv = s.clipboard.take().expect("copied");
    assert!(
        csv.starts_with("contract_id,subdomain,name,") && csv.contains("C-acme,acme,acme,12,8.4,6,99.950"),
        "{csv}"
    );
    assert_eq!(
        press(&mut s, KeyCode::Char('x')),
        vec![Command::ExportReports { month: Month { year: 2026, month: 11 } }]
    );
    press(&mut s, KeyCode::Esc);
    assert!(s.overlays.reports().is_none());
    assert_eq!(mode(&s), Mode::Dashboard);
    // An answer after the view closed opens nothing.
    crate::app::update(&mut s, crate::app::Action::Engine(Event::Reports(Err("database: locked".into()))));
    assert!(s.overlays.reports().is_none());
}

#[test]
fn a_report_that_cannot_be_computed_says_why_and_r_asks_again() {
    let mut s = super::tests::dashboard();
    open(&mut s);
    crate::app::update(&mut s, crate::app::Action::Engine(Event::Reports(Err("the database is locked".into()))));
    assert!(draw(&s, 80, 24).contains("cannot compute the reports: the database is locked"));
    assert_eq!(press(&mut s, KeyCode::Char('R')), vec![Command::LoadReports]);
    assert!(press(&mut s, KeyCode::Char('y')).is_empty(), "nothing to copy");
    assert!(s.clipboard.is_none());
}
