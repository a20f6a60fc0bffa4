//! Layout under pressure: wide characters, long fields and notices, scrolled lists, paused
//! logs, and the footer's choice of keys.

use super::tests::{dashboard, detail, draw};
use crate::app::detail::Tab;
use crate::app::{Action, AppState, Event, update};
use crate::domain::deployment::LogLine;

#[test]
fn wide_characters_are_measured_in_columns() {
    assert_eq!(super::fit("東京ロジスティクス", 7), "東京ロ…");
    assert_eq!(super::fit("🚀🚀🚀", 4), "🚀…");
    assert_eq!(super::fit("plain", 5), "plain");
}

#[test]
fn the_settings_list_scrolls_to_the_selected_key() {
    use crate::store::settings::SettingView;
    let mut s = dashboard();
    update(&mut s, Action::OpenSettings);
    let rows: Vec<SettingView> = crate::domain::settings::SETTINGS
        .iter()
        .map(|d| SettingView { key: d.key, value: d.default.to_string(), secret: d.is_secret(), help: d.help })
        .collect();
    update(&mut s, Action::Engine(crate::app::Event::Settings { rows, users: Vec::new() }));
    for _ in 0..30 {
        update(&mut s, Action::Move(1));
    }
    let last = s.settings().unwrap().tab_rows().last().map(|r| r.key).unwrap();
    let screen = draw(&s, 80, 24);
    assert!(
        screen.contains(&format!("▶ {last}")) || screen.contains(&format!("▶{last}")),
        "{last} on screen:\n{screen}"
    );
}

#[test]
fn a_long_field_keeps_its_cursor_in_view() {
    let mut f = crate::app::text::Field::new("registry.example.com/netbirdio/dashboard:v2.90.9");
    let shown = super::field(&f, true, false, 12);
    assert!(shown.ends_with("v2.90.9▏") && shown.starts_with('…') && shown.chars().count() <= 12, "{shown}");
    f.edit(crate::app::TextKey::Home);
    let shown = super::field(&f, true, false, 12);
    assert!(shown.starts_with("▏registry") && shown.ends_with('…') && shown.chars().count() <= 12, "{shown}");
    assert_eq!(super::field(&crate::app::text::Field::new("secret"), false, true, 12), "••••••");
}

#[test]
fn a_paused_log_view_says_how_many_lines_it_is_missing_and_the_rate() {
    let mut s = detail(Tab::Logs);
    let d = s.detail_mut().unwrap();
    d.log_rate = 37;
    update(&mut s, Action::ToggleFollow);
    let line = LogLine { service: "server".into(), timestamp: None, text: "new".into() };
    update(&mut s, Action::Engine(Event::Logs { customer_id: 1, per_second: 37, lines: vec![line.clone(), line] }));
    let screen = draw(&s, 120, 40);
    assert!(screen.contains("paused — 2 new lines (f follows)"), "{screen}");
    assert!(screen.contains("37 lines/s"), "{screen}");
    assert!(!screen.contains("showing the latest"), "37 lines a second are all shown: {screen}");
    // A flood is shown as what it is: its rate, read at a glance, and the latest lines only.
    update(&mut s, Action::Engine(Event::Logs { customer_id: 1, per_second: 5012, lines: vec![] }));
    let screen = draw(&s, 120, 40);
    assert!(screen.contains("5,012 lines/s, showing the latest"), "{screen}");
}

/// The footer names what fits the selected customer first: `S stop` for a running one,
/// `u start` for a stopped one, `D deploy` for one never deployed (moved to by keys).
#[test]
fn the_footer_names_the_operation_that_fits_the_selected_customer() {
    use crate::app::fixtures::press;
    use crossterm::event::KeyCode;
    let mut s = dashboard();
    s.dashboard.rows[3].customer.status = crate::domain::customer::CustomerStatus::Stopped;
    let footer = |s: &AppState| draw(s, 80, 24).lines().last().unwrap_or_default().to_string();
    // The table is sorted by name: Acme Bakery (error), ACME Logistics, Beta Labs, Zeta.
    let mut seen = Vec::new();
    for _ in 0..4 {
        let sub = s.dashboard.selected_row().unwrap().customer.subdomain.clone();
        seen.push((sub, footer(&s)));
        press(&mut s, KeyCode::Char('j'));
    }
    let of = |sub: &str| seen.iter().find(|(s, _)| s == sub).map(|(_, f)| f.clone()).unwrap();
    assert!(of("acme").contains("S stop") && of("acme").contains("r restart"), "{}", of("acme"));
    assert!(of("beta").contains("u start") && !of("beta").contains("S stop"), "{}", of("beta"));
    assert!(of("zeta").contains("D deploy"), "{}", of("zeta"));
    assert!(of("acmebakery").contains("r restart"), "{}", of("acmebakery"));
    for (_, f) in &seen {
        assert!(f.contains("? help") && f.contains("q quit"), "help and quit always: {f}");
    }
}

/// A notice longer than the line wraps instead of losing its end (where the path usually is).
#[test]
fn a_long_notice_wraps_instead_of_being_cut() {
    let mut s = dashboard();
    let path = "/var/lib/nbmsp/exports/a-very-long-directory-name-that-an-operator-chose/acme-1765087200.log";
    crate::app::update(
        &mut s,
        crate::app::Action::Engine(crate::app::Event::Exported(Ok(format!("1200 lines written to {path}")))),
    );
    for (w, h) in [(80, 24), (120, 40)] {
        let screen = draw(&s, w, h);
        let joined: String = screen.lines().map(|l| l.trim_matches('"').trim()).collect::<Vec<_>>().join("");
        assert!(joined.contains("acme-1765087200.log"), "the end is shown at {w}x{h}:\n{screen}");
        assert!(screen.contains("? help"), "the footer stays:\n{screen}");
    }
}
