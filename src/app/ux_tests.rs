//! `update()` for the operator's rough edges: each test failed before its fix.

use super::tests::{logged_in, typed};
use super::*;
use crate::domain::customer::{CustomerRef, CustomerStatus};

#[test]
fn the_key_that_closes_an_error_panel_does_nothing_else() {
    let mut s = logged_in();
    update(&mut s, Action::Resize(80, 24));
    let long = "cannot pull image netbirdio/dashboard:v2.90.9: no such host; set images.dashboard or load the image with docker load".repeat(2);
    update(&mut s, Action::Engine(Event::Error(long)));
    assert!(update(&mut s, Action::ToggleHelp).is_empty());
    assert!(s.overlays.help().is_none() && s.notice.is_none(), "? only closed the panel");
    // A short error on the notice line does not take the key.
    update(&mut s, Action::Engine(Event::Error("short".into())));
    update(&mut s, Action::ToggleHelp);
    assert!(s.overlays.help().is_some());
}

#[test]
fn account_keys_open_their_form_where_it_is_shown() {
    let mut s = logged_in();
    update(&mut s, Action::OpenSettings);
    update(&mut s, Action::Engine(Event::Settings { rows: Vec::new(), users: Vec::new() }));
    update(&mut s, Action::ChangePassword);
    let st = s.settings().unwrap();
    assert_eq!(st.current_tab(), settings::SettingsTab::Security, "not an invisible form on tab 1");
    assert!(st.account.is_some());
}

#[test]
fn commands_take_a_customer_and_health_opens_it() {
    let mut s = logged_in();
    update(&mut s, Action::CommandLine);
    typed(&mut s, "health");
    let cmds = update(&mut s, Action::Text(TextKey::Enter));
    assert_eq!(s.screen(), Screen::Detail, "the selected customer's Health tab");
    assert!(cmds.contains(&Command::CheckHealth { customer_id: 1 }), "{cmds:?}");
    assert!(s.overlays.command_line().is_none());
    update(&mut s, Action::Back);
    update(&mut s, Action::CommandLine);
    typed(&mut s, "start beta");
    let cmds = update(&mut s, Action::Text(TextKey::Enter));
    assert_eq!(cmds, vec![Command::Operate { target: CustomerRef::new(4, "beta"), op: Operation::Start }]);
    assert_eq!(s.notice.as_ref().unwrap().text, "beta: start under way");
    update(&mut s, Action::CommandLine);
    typed(&mut s, "stop nobody");
    update(&mut s, Action::Text(TextKey::Enter));
    assert!(s.notice.as_ref().unwrap().text.starts_with("no customer nobody"));
    update(&mut s, Action::CommandLine);
    typed(&mut s, "frob");
    update(&mut s, Action::Text(TextKey::Enter));
    assert_eq!(s.notice.as_ref().unwrap().text, "unknown command :frob (? lists the commands)");
}

#[test]
fn help_reaches_its_last_line_by_keys_at_80x24_in_every_mode_it_opens_in() {
    use super::fixtures::press;
    use crossterm::event::KeyCode;
    use crossterm::event::KeyCode::{Char, Down, End, Esc, Home, PageDown, PageUp, Up};
    let mut s = logged_in();
    update(&mut s, Action::Resize(80, 24));
    let screens: [&dyn Fn(&mut AppState); 4] = [
        &|_| {},
        &|s| {
            press(s, KeyCode::Enter);
        },
        &|s| {
            press(s, KeyCode::Enter);
            update(s, Action::Engine(Event::Customers(super::fixtures::rows())));
            update(s, Action::NextTab(1));
        },
        &|s| {
            update(s, Action::OpenSettings);
        },
    ];
    for (i, open_screen) in screens.iter().enumerate() {
        let mut s = s.clone();
        open_screen(&mut s);
        press(&mut s, Char('?'));
        assert!(s.overlays.help().is_some(), "screen {i}: ? opens the help");
        let max = help::help_max_scroll(&s);
        assert!(max > 0, "screen {i}: at 80x24 the help is longer than the screen");
        press(&mut s, Char('j'));
        press(&mut s, Down);
        assert_eq!(s.overlays.help().unwrap_or(0), 2, "screen {i}: j and Down");
        press(&mut s, Up);
        press(&mut s, Char('k'));
        assert_eq!(s.overlays.help().unwrap_or(0), 0, "screen {i}: k and Up");
        for _ in 0..100 {
            press(&mut s, PageDown);
        }
        assert_eq!(s.overlays.help().unwrap_or(0), max, "screen {i}: PgDn stops at the last line");
        let rows = help::help_rows(&s);
        let shown: usize = 24 - 3 - 2;
        assert_eq!(
            usize::from(s.overlays.help().unwrap_or(0)) + shown,
            rows.len(),
            "screen {i}: the last line is in view"
        );
        assert!(
            matches!(rows.last(), Some(help::HelpRow::Key { what, .. }) if !what.is_empty()),
            "screen {i}: the last row is a command"
        );
        press(&mut s, PageUp);
        assert_eq!(s.overlays.help().unwrap_or(0), max.saturating_sub(10), "screen {i}: PgUp moves back at once");
        press(&mut s, Home);
        assert_eq!(s.overlays.help().unwrap_or(0), 0);
        press(&mut s, End);
        assert_eq!(s.overlays.help().unwrap_or(0), max);
        press(&mut s, Esc);
        assert!(s.overlays.help().is_none(), "screen {i}: Esc closes");
    }
}

#[test]
fn help_scrolls_and_closes_back_at_the_top() {
    let mut s = logged_in();
    update(&mut s, Action::ToggleHelp);
    update(&mut s, Action::Move(1));
    update(&mut s, Action::Move(1));
    assert_eq!(s.overlays.help().unwrap_or(0), 2);
    update(&mut s, Action::Move(-1));
    assert_eq!(s.overlays.help().unwrap_or(0), 1);
    update(&mut s, Action::Back);
    assert!(s.overlays.help().is_none());
}

#[test]
fn stopped_is_its_own_card_and_filter_as_it_is_in_the_cli() {
    // #29: the Inactive card counted a stopped customer while `--status inactive` did not;
    // now the cards, the `s` filter and the CLI's --status say the same.
    let mut s = logged_in();
    let mut rows = fixtures::rows();
    rows.push(fixtures::row(5, "Paused Co", "paused", CustomerStatus::Stopped, Some(3483)));
    update(&mut s, Action::Engine(Event::Customers(rows)));
    assert_eq!((s.dashboard.counts().inactive, s.dashboard.counts().stopped), (1, 1));
    let mut seen = Vec::new();
    for _ in 0..CustomerStatus::ALL.len() {
        super::fixtures::press(&mut s, crossterm::event::KeyCode::Char('s'));
        seen.push(s.dashboard.status_filter);
        match s.dashboard.status_filter {
            Some(CustomerStatus::Inactive) => assert_eq!(s.dashboard.visible.len(), 1, "never deployed only"),
            Some(CustomerStatus::Stopped) => assert_eq!(s.dashboard.visible.len(), 1, "the stopped one"),
            _ => {}
        }
    }
    assert!(seen.contains(&Some(CustomerStatus::Stopped)), "{seen:?}");
    update(&mut s, Action::Resize(120, 40));
    let screen = crate::ui::tests::draw(&s, 120, 40);
    assert!(screen.contains(" Stopped "), "a card of its own: {screen}");
}

#[test]
fn a_paused_log_view_stays_on_its_lines() {
    let mut s = logged_in();
    update(&mut s, Action::Open);
    update(&mut s, Action::GoTab(2));
    let l = |t: &str| crate::domain::deployment::LogLine { service: "server".into(), timestamp: None, text: t.into() };
    update(&mut s, Action::Engine(Event::Logs { customer_id: 1, per_second: 0, lines: vec![l("a"), l("b"), l("c")] }));
    update(&mut s, Action::ToggleFollow);
    let d = s.detail().unwrap();
    assert!(!d.follow);
    let before = d.log_scroll;
    s.dirty = false;
    update(&mut s, Action::Engine(Event::Logs { customer_id: 1, per_second: 0, lines: vec![l("d"), l("e")] }));
    let d = s.detail().unwrap();
    assert_eq!(d.log_scroll, before + 2, "anchored to the same lines");
    assert_eq!(d.paused_new, 2, "the paused view counts what it is missing");
    assert!(!s.dirty, "only the counter changes: drawn in the next log frame");
    update(&mut s, Action::ToggleFollow);
    assert_eq!(s.detail().unwrap().paused_new, 0);
}

#[test]
fn tab_completes_commands_and_subdomains() {
    let mut s = logged_in();
    update(&mut s, Action::CommandLine);
    typed(&mut s, "rest");
    update(&mut s, Action::Text(TextKey::Tab));
    assert_eq!(s.overlays.command_line().map(|c| c.value()), Some("rest"), "restart and restore share it");
    assert!(s.notice.as_ref().unwrap().text.contains("restart") && s.notice.as_ref().unwrap().text.contains("restore"));
    typed(&mut s, "ar");
    update(&mut s, Action::Text(TextKey::Tab));
    assert_eq!(s.overlays.command_line().map(|c| c.value()), Some("restart "));
    typed(&mut s, "acme");
    update(&mut s, Action::Text(TextKey::Tab));
    assert_eq!(s.overlays.command_line().map(|c| c.value()), Some("restart acme"), "acme and acmebakery share it");
    typed(&mut s, "b");
    update(&mut s, Action::Text(TextKey::Tab));
    assert_eq!(s.overlays.command_line().map(|c| c.value()), Some("restart acmebakery "));
}

/// Fields have a cursor: Ctrl-A/Home, Ctrl-E/End, arrows and word moves (Ctrl-arrows, Alt-B/F)
/// move it, typing and Delete act where it is; the same in every field, drawn where it is.
#[test]
fn every_field_edits_at_its_cursor() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let mut s = logged_in();
    update(&mut s, Action::NewCustomer);
    typed(&mut s, "Logistics");
    let key = |s: &AppState, code: KeyCode, m: KeyModifiers| keymap::map(s, KeyEvent::new(code, m)).unwrap();
    let home = key(&s, KeyCode::Char('a'), KeyModifiers::CONTROL);
    assert_eq!(home, Action::Text(TextKey::Home));
    update(&mut s, home);
    typed(&mut s, "ACME ");
    assert_eq!(s.form().unwrap().name.value(), "ACME Logistics");
    let end = key(&s, KeyCode::End, KeyModifiers::NONE);
    update(&mut s, end);
    let back = key(&s, KeyCode::Char('b'), KeyModifiers::ALT);
    assert_eq!(back, Action::Text(TextKey::WordLeft));
    update(&mut s, back);
    let del = key(&s, KeyCode::Delete, KeyModifiers::NONE);
    update(&mut s, del);
    assert_eq!(s.form().unwrap().name.value(), "ACME ogistics", "Delete takes the character at the cursor");
    let screen = crate::ui::tests::draw(&s, 80, 24);
    assert!(screen.contains("[ACME ▏ogistics]"), "the cursor is drawn where it is:\n{screen}");
    // The command line is the same field.
    update(&mut s, Action::Text(TextKey::Esc));
    update(&mut s, Action::CommandLine);
    typed(&mut s, "start acme");
    let word_left = key(&s, KeyCode::Left, KeyModifiers::CONTROL);
    update(&mut s, word_left);
    update(&mut s, Action::Text(TextKey::DeleteWord));
    assert_eq!(s.overlays.command_line().unwrap().value(), "acme");
    let end = key(&s, KeyCode::Char('e'), KeyModifiers::CONTROL);
    update(&mut s, end);
    assert_eq!(s.overlays.command_line().unwrap().cursor(), 4);
}

#[test]
fn below_80x24_no_key_acts_unseen_and_q_still_quits() {
    use crossterm::event::KeyCode::{Char, Tab};
    let mut s = super::fixtures::logged_in();
    update(&mut s, Action::Resize(70, 20));
    update(&mut s, Action::Open);
    let before = s.detail().map(|d| d.tab);
    assert!(super::fixtures::press(&mut s, Tab).is_empty());
    assert!(super::fixtures::press(&mut s, Char('2')).is_empty());
    assert!(super::fixtures::press(&mut s, Char('S')).is_empty(), "no stop asked for");
    assert!(s.overlays.confirm().is_none() && s.detail().map(|d| d.tab) == before, "nothing changed unseen");
    assert!(!s.should_quit);
    super::fixtures::press(&mut s, Char('q'));
    assert!(s.should_quit, "q quits, as the screen says");
    // Back at a size that fits, keys act again.
    let mut s = super::fixtures::logged_in();
    update(&mut s, Action::Resize(80, 24));
    assert!(!super::fixtures::press(&mut s, Char('S')).is_empty() || s.overlays.confirm().is_some());
}

#[test]
fn esc_clears_a_status_filter_as_the_empty_table_says() {
    use crossterm::event::KeyCode::{Char, Esc};
    let mut s = super::fixtures::logged_in();
    update(&mut s, Action::Resize(120, 40));
    let all = s.dashboard.visible.len();
    // Cycle the status filter to one no customer has (deploying).
    while s.dashboard.status_filter != Some(CustomerStatus::Deploying) {
        super::fixtures::press(&mut s, Char('s'));
    }
    assert!(s.dashboard.visible.is_empty());
    assert!(crate::ui::tests::draw(&s, 120, 40).contains("No customer matches the filter (Esc clears it)"));
    super::fixtures::press(&mut s, Esc);
    assert_eq!((s.dashboard.status_filter, s.dashboard.visible.len()), (None, all));
}

#[test]
fn a_deployed_customers_layout_is_shown_fixed_and_tab_never_stops_there() {
    use crossterm::event::KeyCode::{Char, Tab};
    let mut s = super::fixtures::logged_in();
    update(&mut s, Action::Resize(120, 40));
    assert!(s.dashboard.selected_row().unwrap().udp_port.is_some(), "the fixture's first customer is deployed");
    super::fixtures::press(&mut s, Char('e'));
    let layout = s.form().unwrap().layout;
    for _ in 0..super::form::Field::all().len() * 2 {
        super::fixtures::press(&mut s, Tab);
        let f = s.form().unwrap();
        assert_ne!(f.focus, super::form::Field::Layout, "Tab stops only where something can change");
        if f.focus != super::form::Field::Notes {
            super::fixtures::press(&mut s, Char(' '));
        }
    }
    assert_eq!(s.form().unwrap().layout, layout);
    assert!(crate::ui::tests::draw(&s, 120, 40).contains("(fixed: deployed"));
}

#[test]
fn a_wizard_error_goes_once_it_is_fixed_and_does_not_follow_to_the_login() {
    use super::setup::SetupField as F;
    let mut s = AppState::first_run("host".into(), "/var/lib/nbmsp", true);
    update(&mut s, Action::Text(TextKey::Enter));
    typed(&mut s, "correct horse battery");
    update(&mut s, Action::Text(TextKey::Tab));
    typed(&mut s, "correct horse batter");
    for (f, text) in [(F::BaseDomain, "msp.example"), (F::Email, "ops@msp.example")] {
        while s.setup().unwrap().focus != f {
            update(&mut s, Action::Text(TextKey::Tab));
        }
        typed(&mut s, text);
    }
    update(&mut s, Action::Text(TextKey::Enter));
    assert!(s.notice.as_ref().is_some_and(|n| n.text.contains("the passwords differ")), "{:?}", s.notice);
    assert_eq!(s.setup().unwrap().focus, F::Repeat);
    typed(&mut s, "y");
    let cmds = update(&mut s, Action::Text(TextKey::Enter));
    assert!(matches!(cmds.as_slice(), [Command::Init(_)]), "{cmds:?}");
    assert!(s.notice.is_none(), "the fixed error's line is gone: {:?}", s.notice);
    update(&mut s, Action::Engine(Event::Initialised { user: "admin".into() }));
    assert_eq!(s.screen(), Screen::Login);
    assert!(s.notice.is_none());
}

#[test]
fn a_restart_shows_in_its_customers_row_while_it_runs() {
    use crossterm::event::KeyCode::Char;
    let mut s = super::fixtures::logged_in();
    update(&mut s, Action::Resize(120, 40));
    super::fixtures::press(&mut s, Char('r'));
    let cmds = super::fixtures::press(&mut s, Char('y'));
    assert!(cmds.iter().any(|c| matches!(c, Command::Operate { op: Operation::Restart, .. })), "{cmds:?}");
    let screen = crate::ui::tests::draw(&s, 120, 40);
    let row = screen.lines().find(|l| l.contains("acme ")).unwrap_or_default();
    assert!(row.contains("◐ restart…"), "the row says what runs: {row}");
}

#[test]
fn a_health_report_from_before_a_start_is_not_shown_after_it() {
    let mut s = super::fixtures::logged_in();
    update(&mut s, Action::Open);
    if let Some(d) = s.detail_mut() {
        d.health = Some(Err(crate::domain::error::Failure::runtime("server: container is not running")));
    }
    update(
        &mut s,
        Action::Engine(Event::Finished { customer_id: 1, op: Operation::Start, result: Ok("started, healthy".into()) }),
    );
    assert!(s.detail().unwrap().health.is_none(), "the stale report is gone; h checks again");
}
