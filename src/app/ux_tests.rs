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
    assert!(!s.help_open && s.notice.is_none(), "? only closed the panel");
    // A short error on the notice line does not take the key.
    update(&mut s, Action::Engine(Event::Error("short".into())));
    update(&mut s, Action::ToggleHelp);
    assert!(s.help_open);
}

#[test]
fn account_keys_open_their_form_where_it_is_shown() {
    let mut s = logged_in();
    update(&mut s, Action::OpenSettings);
    update(&mut s, Action::Engine(Event::Settings { rows: Vec::new(), users: Vec::new() }));
    update(&mut s, Action::ChangePassword);
    let st = s.settings.as_ref().unwrap();
    assert_eq!(st.current_tab(), settings::SettingsTab::Security, "not an invisible form on tab 1");
    assert!(st.account.is_some());
}

#[test]
fn commands_take_a_customer_and_health_opens_it() {
    let mut s = logged_in();
    update(&mut s, Action::CommandLine);
    typed(&mut s, "health");
    let cmds = update(&mut s, Action::Text(TextKey::Enter));
    assert_eq!(s.screen, Screen::Detail, "the selected customer's Health tab");
    assert!(cmds.contains(&Command::CheckHealth { customer_id: 1 }), "{cmds:?}");
    assert!(s.command.is_none());
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
fn help_scrolls_and_closes_back_at_the_top() {
    let mut s = logged_in();
    update(&mut s, Action::ToggleHelp);
    update(&mut s, Action::Move(1));
    update(&mut s, Action::Move(1));
    assert_eq!(s.help_scroll, 2);
    update(&mut s, Action::Move(-1));
    assert_eq!(s.help_scroll, 1);
    update(&mut s, Action::Back);
    assert_eq!((s.help_open, s.help_scroll), (false, 0));
}

#[test]
fn the_inactive_filter_shows_what_the_inactive_card_counts() {
    let mut s = logged_in();
    let mut rows = fixtures::rows();
    rows.push(fixtures::row(5, "Paused Co", "paused", CustomerStatus::Stopped, Some(3483)));
    update(&mut s, Action::Engine(Event::Customers(rows)));
    assert_eq!(s.dashboard.counts().inactive, 2);
    let mut seen = Vec::new();
    for _ in 0..CustomerStatus::ALL.len() {
        update(&mut s, Action::CycleStatus);
        seen.push(s.dashboard.status_filter);
        if s.dashboard.status_filter == Some(CustomerStatus::Inactive) {
            assert_eq!(s.dashboard.visible.len(), 2, "inactive and stopped, as the card");
        }
    }
    assert!(!seen.contains(&Some(CustomerStatus::Stopped)), "no separate stopped filter: {seen:?}");
}

#[test]
fn a_paused_log_view_stays_on_its_lines() {
    let mut s = logged_in();
    update(&mut s, Action::Open);
    update(&mut s, Action::GoTab(2));
    let l = |t: &str| crate::domain::deployment::LogLine { service: "server".into(), timestamp: None, text: t.into() };
    update(&mut s, Action::Engine(Event::Logs { customer_id: 1, per_second: 0, lines: vec![l("a"), l("b"), l("c")] }));
    update(&mut s, Action::ToggleFollow);
    let d = s.detail.as_ref().unwrap();
    assert!(!d.follow);
    let before = d.log_scroll;
    s.dirty = false;
    update(&mut s, Action::Engine(Event::Logs { customer_id: 1, per_second: 0, lines: vec![l("d"), l("e")] }));
    let d = s.detail.as_ref().unwrap();
    assert_eq!(d.log_scroll, before + 2, "anchored to the same lines");
    assert_eq!(d.paused_new, 2, "the paused view counts what it is missing");
    assert!(!s.dirty, "only the counter changes: drawn in the next log frame");
    update(&mut s, Action::ToggleFollow);
    assert_eq!(s.detail.as_ref().unwrap().paused_new, 0);
}

#[test]
fn tab_completes_commands_and_subdomains() {
    let mut s = logged_in();
    update(&mut s, Action::CommandLine);
    typed(&mut s, "rest");
    update(&mut s, Action::Text(TextKey::Tab));
    assert_eq!(s.command.as_deref(), Some("rest"), "restart and restore share it");
    assert!(s.notice.as_ref().unwrap().text.contains("restart") && s.notice.as_ref().unwrap().text.contains("restore"));
    typed(&mut s, "ar");
    update(&mut s, Action::Text(TextKey::Tab));
    assert_eq!(s.command.as_deref(), Some("restart "));
    typed(&mut s, "acme");
    update(&mut s, Action::Text(TextKey::Tab));
    assert_eq!(s.command.as_deref(), Some("restart acme"), "acme and acmebakery share it");
    typed(&mut s, "b");
    update(&mut s, Action::Text(TextKey::Tab));
    assert_eq!(s.command.as_deref(), Some("restart acmebakery "));
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
    assert_eq!(s.form.as_ref().unwrap().name.value(), "ACME Logistics");
    let end = key(&s, KeyCode::End, KeyModifiers::NONE);
    update(&mut s, end);
    let back = key(&s, KeyCode::Char('b'), KeyModifiers::ALT);
    assert_eq!(back, Action::Text(TextKey::WordLeft));
    update(&mut s, back);
    let del = key(&s, KeyCode::Delete, KeyModifiers::NONE);
    update(&mut s, del);
    assert_eq!(s.form.as_ref().unwrap().name.value(), "ACME ogistics", "Delete takes the character at the cursor");
    let screen = crate::ui::tests::draw(&s, 80, 24);
    assert!(screen.contains("[ACME ▏ogistics]"), "the cursor is drawn where it is:\n{screen}");
    // The command line is the same field.
    update(&mut s, Action::Text(TextKey::Esc));
    update(&mut s, Action::CommandLine);
    typed(&mut s, "start acme");
    let word_left = key(&s, KeyCode::Left, KeyModifiers::CONTROL);
    update(&mut s, word_left);
    update(&mut s, Action::Text(TextKey::DeleteWord));
    assert_eq!(s.command.as_ref().unwrap().value(), "acme");
    let end = key(&s, KeyCode::Char('e'), KeyModifiers::CONTROL);
    update(&mut s, end);
    assert_eq!(s.command.as_ref().unwrap().cursor(), 4);
}
