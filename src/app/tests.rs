//! `update()` driven by Action sequences: state and emitted commands, no sleeps, no IO.

use super::*;
use crate::app::detail::Tab;
use crate::domain::customer::CustomerRef;

pub(super) fn logged_in() -> AppState {
    super::fixtures::logged_in()
}

pub(super) fn typed(s: &mut AppState, text: &str) -> Vec<Command> {
    text.chars().flat_map(|c| update(s, Action::Text(TextKey::Char(c)))).collect()
}

#[test]
fn login_sends_the_typed_password_and_shows_refusals() {
    let mut s = AppState::new("host".into(), "admin".into(), true);
    assert!(s.text_input());
    assert!(typed(&mut s, "secret").is_empty());
    let cmds = update(&mut s, Action::Text(TextKey::Enter));
    assert_eq!(cmds, vec![Command::Login { user: "admin".into(), password: "secret".into() }]);
    assert!(s.login.busy);
    update(&mut s, Action::Engine(Event::LoginFailed("too many failed logins for 'admin': try again in 30 s".into())));
    assert_eq!(s.login.password, "", "the password is not kept after a refusal");
    assert!(s.login.message.as_deref().unwrap().contains("try again in 30 s"));
    update(
        &mut s,
        Action::Engine(Event::LoggedIn {
            user: "admin".into(),
            role: crate::domain::user::Role::Admin,
            base_domain: "msp.example".into(),
            layout: crate::domain::customer::Layout::Combined,
        }),
    );
    assert_eq!(s.screen(), Screen::Dashboard);
}

#[test]
fn opening_a_customer_loads_it_and_tabs_drive_logs_and_health() {
    let mut s = logged_in();
    let cmds = update(&mut s, Action::Open);
    assert_eq!(cmds, vec![Command::LoadDetail { customer_id: 1 }]);
    assert_eq!(s.screen(), Screen::Detail);
    assert_eq!(update(&mut s, Action::GoTab(2)), vec![Command::FollowLogs { customer_id: 1 }]);
    assert_eq!(update(&mut s, Action::NextTab(1)), vec![Command::StopLogs, Command::CheckHealth { customer_id: 1 }]);
    assert_eq!(s.detail().unwrap().tab, Tab::Health);
    let cmds = update(&mut s, Action::NextTab(1));
    assert!(
        matches!(cmds.as_slice(), [Command::NetBird { .. }, Command::LoadKeyRules]),
        "Health -> NetBird asks for its list and the fleet's key rules: {cmds:?}"
    );
    assert!(update(&mut s, Action::NextTab(1)).is_empty(), "NetBird -> Info");
    // Leaving the detail stops the logs and reloads the table.
    update(&mut s, Action::GoTab(2));
    assert_eq!(update(&mut s, Action::Back), vec![Command::StopLogs, Command::LoadCustomers]);
    assert_eq!(s.screen(), Screen::Dashboard);
}

/// Log lines never draw at once (the loop coalesces them: `logs_dirty`), and lines for a hidden
/// tab do not draw at all.
#[test]
fn log_lines_for_a_hidden_tab_do_not_redraw() {
    let mut s = logged_in();
    update(&mut s, Action::Open);
    s.dirty = false;
    let line = crate::domain::deployment::LogLine { service: "server".into(), timestamp: None, text: "x".into() };
    update(&mut s, Action::Engine(Event::Logs { customer_id: 1, per_second: 0, lines: vec![line.clone()] }));
    assert!(!s.dirty && !s.logs_dirty, "Info tab shown: nothing visible changed");
    update(&mut s, Action::GoTab(2));
    s.dirty = false;
    update(&mut s, Action::Engine(Event::Logs { customer_id: 1, per_second: 40, lines: vec![line] }));
    assert!(!s.dirty && s.logs_dirty, "drawn in the next log frame, not at once");
    assert_eq!(s.detail().unwrap().log_rate, 40);
    assert_eq!(s.detail().unwrap().logs.len(), 2);
}

#[test]
fn delete_needs_the_subdomain_typed() {
    let mut s = logged_in();
    assert!(update(&mut s, Action::Operate(Operation::Delete)).is_empty());
    assert!(s.overlays.confirm().is_some());
    typed(&mut s, "acm");
    assert!(update(&mut s, Action::Text(TextKey::Enter)).is_empty(), "wrong text does nothing");
    assert!(s.notice.as_ref().unwrap().error);
    typed(&mut s, "e");
    let cmds = update(&mut s, Action::Text(TextKey::Enter));
    assert_eq!(cmds, vec![Command::Operate { target: CustomerRef::new(1, "acme"), op: Operation::Delete }]);
    assert!(s.overlays.confirm().is_none());
    assert!(s.running.contains_key(&1));
    // A second operation on the same customer waits for the first.
    assert!(update(&mut s, Action::Operate(Operation::Start)).is_empty());
    update(
        &mut s,
        Action::Engine(Event::Finished { customer_id: 1, op: Operation::Delete, result: Ok("deleted".into()) }),
    );
    assert!(s.running.is_empty());
    assert_eq!(s.notice.as_ref().unwrap().text, "acme: delete done: deleted");
}

#[test]
fn stop_asks_yes_or_no_and_deploy_does_not_ask() {
    let mut s = logged_in();
    update(&mut s, Action::Operate(Operation::Stop));
    assert!(update(&mut s, Action::Text(TextKey::Char('n'))).is_empty());
    assert!(s.overlays.confirm().is_none());
    update(&mut s, Action::Operate(Operation::Stop));
    assert_eq!(
        update(&mut s, Action::Text(TextKey::Char('y'))),
        vec![Command::Operate { target: CustomerRef::new(1, "acme"), op: Operation::Stop }]
    );
    update(&mut s, Action::Move(1));
    assert_eq!(
        update(&mut s, Action::Operate(Operation::Deploy)),
        vec![Command::Operate { target: CustomerRef::new(2, "acmebakery"), op: Operation::Deploy }]
    );
}

#[test]
fn deploy_progress_is_tracked_per_step() {
    let mut s = logged_in();
    update(&mut s, Action::Operate(Operation::Deploy));
    use crate::engine::ops::lifecycle::Step;
    update(
        &mut s,
        Action::Engine(Event::Progress { customer_id: 1, progress: Progress::Started { step: Step::Validate } }),
    );
    assert_eq!(s.running[&1].current.as_deref(), Some("validate"));
    update(
        &mut s,
        Action::Engine(Event::Progress {
            customer_id: 1,
            progress: Progress::Done { step: Step::Validate, detail: "ok".into() },
        }),
    );
    assert_eq!(s.running[&1].done, vec![("validate".to_string(), "ok".to_string())]);
    s.dirty = false;
    update(
        &mut s,
        Action::Engine(Event::Progress { customer_id: 1, progress: Progress::Note { text: "pulling".into() } }),
    );
    assert!(!s.dirty, "notes are not drawn");
}

#[test]
fn command_line_runs_commands_and_reports_unknown_ones() {
    let mut s = logged_in();
    update(&mut s, Action::CommandLine);
    typed(&mut s, "frobnicate");
    update(&mut s, Action::Text(TextKey::Enter));
    assert!(s.notice.as_ref().unwrap().text.starts_with("unknown command :frobnicate"));
    update(&mut s, Action::CommandLine);
    typed(&mut s, "q");
    update(&mut s, Action::Text(TextKey::Enter));
    assert!(s.should_quit);
}

#[test]
fn backup_runs_at_once_and_restore_takes_a_file() {
    let mut s = logged_in();
    update(&mut s, Action::Open);
    let cmds = update(&mut s, Action::Operate(Operation::Backup));
    assert_eq!(cmds, vec![Command::Operate { target: CustomerRef::new(1, "acme"), op: Operation::Backup }]);
    update(&mut s, Action::Back);
    update(&mut s, Action::CommandLine);
    typed(&mut s, "restore /var/lib/nbmsp/backups/acme.nbmsp-backup");
    let cmds = update(&mut s, Action::Text(TextKey::Enter));
    assert_eq!(cmds, vec![Command::Restore { file: "/var/lib/nbmsp/backups/acme.nbmsp-backup".into() }]);
    update(&mut s, Action::Engine(Event::Restored(Err("subdomain 'acme' is already taken".into()))));
    assert!(s.notice.as_ref().unwrap().error);
}

#[test]
fn quitting_with_operations_running_asks_and_names_them() {
    let mut s = logged_in();
    update(&mut s, Action::Operate(Operation::Deploy));
    assert!(update(&mut s, Action::Quit).is_empty());
    assert!(!s.should_quit, "asked first");
    let c = s.overlays.confirm().cloned().unwrap();
    assert_eq!((c.op, c.subdomain.as_str()), (crate::app::Asked::Quit, "acme (deploy)"));
    update(&mut s, Action::Text(TextKey::Char('n')));
    assert!(!s.should_quit && s.overlays.confirm().is_none());
    update(&mut s, Action::Quit);
    update(&mut s, Action::Text(TextKey::Char('y')));
    assert!(s.should_quit, "leaves; the terminal loop lets the deploy finish before exiting");
}

#[test]
fn help_swallows_keys_until_closed() {
    let mut s = logged_in();
    update(&mut s, Action::ToggleHelp);
    assert!(update(&mut s, Action::Open).is_empty());
    assert_eq!(s.screen(), Screen::Dashboard);
    update(&mut s, Action::Back);
    assert!(s.overlays.help().is_none());
}

#[test]
fn the_new_customer_form_validates_live_and_creates_then_deploys() {
    let mut s = logged_in();
    update(&mut s, Action::NewCustomer);
    assert_eq!(s.screen(), Screen::Form);
    assert!(update(&mut s, Action::Text(TextKey::Enter)).is_empty(), "an empty form cannot be submitted");
    assert!(s.notice.as_ref().unwrap().error);
    typed(&mut s, "Gamma Corp");
    update(&mut s, Action::Text(TextKey::Tab));
    update(&mut s, Action::Text(TextKey::Tab));
    typed(&mut s, "acme");
    let f = s.form().unwrap();
    assert_eq!(f.error(form::Field::Subdomain).unwrap().rule, "\"acme\" is already taken by ACME Logistics");
    update(&mut s, Action::Text(TextKey::Backspace));
    update(&mut s, Action::Text(TextKey::Backspace));
    typed(&mut s, "_X");
    assert!(s.form().unwrap().error(form::Field::Subdomain).is_some(), "invalid label");
    for _ in 0..2 {
        update(&mut s, Action::Text(TextKey::Backspace));
    }
    typed(&mut s, "gamma");
    assert_eq!(s.form().unwrap().fqdn().as_deref(), Some("acgamma.msp.example"));
    update(&mut s, Action::Text(TextKey::Tab));
    typed(&mut s, "it@gamma.example");
    update(&mut s, Action::Text(TextKey::Tab));
    update(&mut s, Action::Text(TextKey::Tab));
    typed(&mut s, "MSP-7");
    update(&mut s, Action::Text(TextKey::Tab));
    typed(&mut s, "HALO-4711");
    // The promise: a percentage or empty (the setting's).
    update(&mut s, Action::Text(TextKey::Tab));
    typed(&mut s, "99.9x");
    let rule = &s.form().unwrap().error(form::Field::Sla).unwrap().rule;
    assert!(rule.contains("percentage"), "{rule}");
    update(&mut s, Action::Text(TextKey::Backspace));
    // Notes take several lines; Enter there is a new line, not a submit.
    for _ in 0..3 {
        update(&mut s, Action::Text(TextKey::Tab));
    }
    typed(&mut s, "line one");
    assert!(update(&mut s, Action::Text(TextKey::Enter)).is_empty());
    typed(&mut s, "line two");
    assert!(s.form().unwrap().errors.is_empty(), "{:?}", s.form().unwrap().errors);
    let cmds = update(&mut s, Action::Text(TextKey::Submit));
    let [Command::Create(new)] = cmds.as_slice() else { panic!("{cmds:?}") };
    assert_eq!(
        (new.name.as_str(), new.subdomain.as_str(), new.notes.as_str(), new.contract_id.as_deref()),
        ("Gamma Corp", "acgamma", "line one\nline two", Some("MSP-7"))
    );
    assert_eq!(new.psa_ref.as_deref(), Some("HALO-4711"));
    assert_eq!(new.sla_target, Some(crate::domain::sla::Target(99_900)));
    // The store refuses (taken meanwhile): the message shows in the form, nothing is lost.
    update(&mut s, Action::Engine(Event::SaveFailed("subdomain 'acgamma' is already taken by X (id 9)".into())));
    assert_eq!(s.form().unwrap().name, "Gamma Corp");
    assert!(s.form().unwrap().server_error.is_some());
    // Saved: the detail opens on the Deployment tab and the deploy starts.
    let cmds =
        update(&mut s, Action::Engine(Event::Saved { customer_id: 9, subdomain: "acgamma".into(), created: true }));
    assert_eq!(
        cmds,
        vec![
            Command::LoadDetail { customer_id: 9 },
            Command::Operate { target: CustomerRef::new(9, "acgamma"), op: Operation::Deploy }
        ]
    );
    assert_eq!(s.screen(), Screen::Detail);
    assert_eq!(s.detail().unwrap().tab, Tab::Deployment);
    assert!(s.form().is_none());
}

#[test]
fn editing_keeps_the_subdomain_and_sends_a_patch() {
    let mut s = logged_in();
    update(&mut s, Action::EditCustomer);
    let f = s.form().unwrap();
    assert_eq!((f.editing, f.name.value()), (Some(1), "ACME Logistics"));
    update(&mut s, Action::Text(TextKey::Tab));
    update(&mut s, Action::Text(TextKey::Tab));
    assert_eq!(s.form().unwrap().focus, form::Field::Email, "the subdomain is skipped");
    let cmds = update(&mut s, Action::Text(TextKey::Enter));
    let [Command::Update { target, patch }] = cmds.as_slice() else { panic!("{cmds:?}") };
    assert_eq!(target, &CustomerRef::new(1, "acme"));
    assert_eq!(patch.name.as_deref(), Some("ACME Logistics"));
    update(&mut s, Action::Engine(Event::Saved { customer_id: 1, subdomain: "acme".into(), created: false }));
    assert_eq!(s.screen(), Screen::Dashboard);
}

#[test]
fn the_first_run_wizard_checks_everything_then_initialises() {
    use super::setup::SetupField as F;
    let mut s = AppState::first_run("host".into(), "/var/lib/nbmsp", true);
    assert_eq!(s.screen(), Screen::Setup);
    assert!(update(&mut s, Action::Text(TextKey::Enter)).is_empty(), "incomplete");
    assert_eq!(s.setup().unwrap().focus, F::Password, "focus goes to the first problem");
    typed(&mut s, "correct horse battery");
    update(&mut s, Action::Text(TextKey::Tab));
    typed(&mut s, "correct horse batter");
    assert_eq!(s.setup().unwrap().error(F::Repeat), Some("the passwords differ"));
    typed(&mut s, "y");
    update(&mut s, Action::Text(TextKey::Tab));
    typed(&mut s, "MSP.example");
    update(&mut s, Action::Text(TextKey::Tab));
    typed(&mut s, "ops@msp.example");
    update(&mut s, Action::Text(TextKey::Tab));
    update(&mut s, Action::Text(TextKey::Tab));
    update(&mut s, Action::Text(TextKey::Char(' ')));
    assert!(s.setup().unwrap().npm(), "proxy toggled to npm: its fields appear");
    assert!(s.setup().unwrap().error(F::NpmUrl).is_some());
    update(&mut s, Action::Text(TextKey::Char(' ')));
    let cmds = update(&mut s, Action::Text(TextKey::Enter));
    let [Command::Init(req)] = cmds.as_slice() else { panic!("{cmds:?}") };
    assert_eq!((req.admin_user.as_str(), req.base_domain.as_str()), ("admin", "MSP.example"));
    assert!(req.settings.contains(&("proxy".to_string(), "none".to_string())));
    assert!(req.settings.contains(&("docker_network".to_string(), "nbmsp".to_string())), "the wizard asks for it");
    assert!(!req.settings.iter().any(|(k, _)| k.starts_with("npm.")));
    assert!(!format!("{req:?}").contains("horse"), "passwords never reach debug output");
    update(&mut s, Action::Engine(Event::InitFailed("nbmsp is already initialised in /x".into())));
    assert!(s.setup().unwrap().server_error.is_some());
    update(&mut s, Action::Engine(Event::Initialised { user: "admin".into() }));
    assert_eq!(s.screen(), Screen::Login);
    assert_eq!(s.login.user, "admin");
}

#[test]
fn setup_url_copy_and_credentials_need_no_io_in_update() {
    let mut s = logged_in();
    update(&mut s, Action::Open);
    update(&mut s, Action::CopySetupUrl);
    assert!(s.clipboard.is_none(), "nothing loaded: nothing to copy");
    assert!(s.notice.as_ref().unwrap().error);
    // Showing the owner password asks first, then asks the engine.
    assert!(update(&mut s, Action::ShowCredentials).is_empty());
    assert_eq!(
        update(&mut s, Action::Text(TextKey::Char('y'))),
        vec![Command::ShowCredentials { target: CustomerRef::new(1, "acme") }]
    );
    update(&mut s, Action::Engine(Event::Credentials { customer_id: 1, result: Err("none".into()) }));
    assert!(s.detail().unwrap().credentials.is_some());
    update(&mut s, Action::ShowCredentials);
    assert!(s.detail().unwrap().credentials.is_none(), "p hides them again");
}

#[test]
fn an_unchanged_docker_state_does_not_redraw() {
    let mut s = logged_in();
    update(&mut s, Action::Engine(Event::Docker(Err("down".into()))));
    assert!(s.dirty);
    s.dirty = false;
    update(&mut s, Action::Engine(Event::Docker(Err("down".into()))));
    assert!(!s.dirty);
    update(&mut s, Action::Engine(Event::Docker(Ok("20.10".into()))));
    assert!(s.dirty);
}

fn setting(key: &'static str, value: &str, secret: bool) -> crate::store::settings::SettingView {
    crate::store::settings::SettingView { key, value: value.into(), secret, help: "" }
}

#[test]
fn the_settings_editor_edits_with_the_store_rules_and_manages_accounts() {
    let mut s = logged_in();
    assert_eq!(update(&mut s, Action::OpenSettings), vec![Command::LoadSettings]);
    let rows = vec![
        setting("base_domain", "msp.example", false),
        setting("relay_base_port", "3478", false),
        setting("npm.url", "", false),
        setting("npm.secret", "set", true),
    ];
    update(&mut s, Action::Engine(Event::Settings { rows, users: vec![] }));
    update(&mut s, Action::Move(1));
    update(&mut s, Action::Open);
    assert!(s.text_input());
    update(&mut s, Action::Text(TextKey::Backspace));
    typed(&mut s, "0");
    let cmds = update(&mut s, Action::Text(TextKey::Enter));
    assert_eq!(
        cmds,
        vec![Command::SetSetting {
            key: "relay_base_port".into(),
            value: "3470".into(),
            expected: Some("3478".into())
        }]
    );
    update(
        &mut s,
        Action::Engine(Event::SettingFailed {
            key: "relay_base_port".into(),
            message: "must be between 1024 and 65535".into(),
        }),
    );
    assert_eq!(s.settings().unwrap().error.as_ref().unwrap().0, "relay_base_port");
    assert_eq!(s.settings().unwrap().editing.as_deref(), Some("3470"), "what was typed comes back to fix");
    update(&mut s, Action::Text(TextKey::Esc));
    // A secret is replaced, never shown: editing starts empty.
    update(&mut s, Action::GoTab(1));
    update(&mut s, Action::Move(1));
    update(&mut s, Action::Open);
    assert_eq!(s.settings().unwrap().editing.as_deref(), Some(""));
    update(&mut s, Action::Text(TextKey::Esc));
    assert_eq!(update(&mut s, Action::TestNpm), vec![Command::TestStoredNpm]);
    // On the monitor+alerts tab, `t` sends a test notification instead.
    update(&mut s, Action::GoTab(3));
    assert_eq!(update(&mut s, Action::TestNpm), vec![Command::TestAlerts]);
    // Security: add a user; a weak password is refused before anything is sent.
    update(&mut s, Action::GoTab(4));
    update(&mut s, Action::AddUser);
    typed(&mut s, "ops");
    update(&mut s, Action::Text(TextKey::Tab));
    typed(&mut s, "short");
    assert!(update(&mut s, Action::Text(TextKey::Enter)).is_empty());
    update(&mut s, Action::Text(TextKey::Tab));
    update(&mut s, Action::Text(TextKey::BackTab));
    typed(&mut s, "-but-long-now");
    update(&mut s, Action::Text(TextKey::Tab));
    typed(&mut s, "short-but-long-now");
    let cmds = update(&mut s, Action::Text(TextKey::Enter));
    assert_eq!(
        cmds,
        vec![Command::AddUser {
            username: "ops".into(),
            password: "short-but-long-now".into(),
            role: crate::domain::user::Role::Operator
        }]
    );
    update(&mut s, Action::Back);
    assert_eq!(s.screen(), Screen::Dashboard);
}

#[test]
fn log_search_wrap_filter_and_export() {
    let mut s = logged_in();
    update(&mut s, Action::Open);
    update(&mut s, Action::GoTab(2));
    let l = |svc: &str, text: &str| crate::domain::deployment::LogLine {
        service: svc.into(),
        timestamp: None,
        text: text.into(),
    };
    update(
        &mut s,
        Action::Engine(Event::Logs {
            customer_id: 1,
            per_second: 0,
            lines: vec![l("server", "relay up"), l("dashboard", "GET /"), l("server", "relay peer")],
        }),
    );
    update(&mut s, Action::LogSearch);
    assert!(s.text_input());
    typed(&mut s, "relay");
    update(&mut s, Action::Text(TextKey::Enter));
    let d = s.detail().unwrap();
    assert_eq!((d.log_query.as_str(), d.follow, d.log_match), ("relay", false, 1));
    update(&mut s, Action::LogJump(1));
    assert_eq!(s.detail().unwrap().log_match, 0, "wraps around");
    update(&mut s, Action::ToggleWrap);
    update(&mut s, Action::ToggleTimestamps);
    update(&mut s, Action::CycleService);
    let d = s.detail().unwrap();
    assert!(d.wrap && !d.timestamps);
    assert_eq!(d.service_filter.as_deref(), Some("dashboard"));
    let cmds = update(&mut s, Action::ExportLogs);
    let [Command::ExportLogs { subdomain, lines }] = cmds.as_slice() else { panic!("{cmds:?}") };
    assert_eq!((subdomain.as_str(), lines.len()), ("acme", 1), "exports what is shown");
}

#[test]
fn mouse_is_off_by_default_and_a_click_selects_a_row() {
    let mut s = logged_in();
    assert!(!s.mouse);
    update(&mut s, Action::ToggleMouse);
    assert!(s.mouse);
    update(&mut s, Action::Resize(120, 40));
    let first = s.table_first_row() as u16;
    update(&mut s, Action::Click(10, first + 2));
    assert_eq!(s.dashboard.selected, 2);
    s.dirty = false;
    update(&mut s, Action::Click(10, 0));
    assert!(!s.dirty, "a click outside the rows changes nothing");
    assert_eq!(s.dashboard.selected, 2);
}

#[test]
fn a_quiet_event_does_not_hide_an_earlier_change_before_the_next_frame() {
    let mut s = logged_in();
    s.dirty = false;
    update(&mut s, Action::Engine(Event::Customers(super::fixtures::rows()[..2].to_vec())));
    // Applied in the same frame: nothing visible changes with this one.
    update(&mut s, Action::Engine(Event::Npm(None)));
    assert!(s.dirty, "the table change must still be drawn");
}

/// The app and the screen know the engine's messages and the domain, never the store: a
/// layer that reached into storage would be one a door could bypass (#25). Test files may
/// build fixtures from anywhere.
#[test]
fn the_app_the_screens_and_the_protocol_import_nothing_from_the_store() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![root.join("engine/worker/protocol.rs")];
    for dir in ["app", "ui"] {
        for e in std::fs::read_dir(root.join(dir)).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            if name.ends_with(".rs") && !name.contains("tests") && name != "fixtures.rs" && name != "screenshots.rs" {
                files.push(p);
            }
        }
    }
    assert!(files.len() > 20, "{files:?}");
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        // The file's own test module, at its end, may.
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        assert!(!code.contains("crate::store"), "{} imports the store", f.display());
    }
}

/// The modules of `app/` call each other one way only: no circle (a dispatcher that is called
/// back by what it dispatches to, a type module that imports its users). The parent module
/// (`mod.rs`, the shared types) is not counted.
#[test]
fn the_app_modules_import_each_other_without_a_circle() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/app");
    let mut code = std::collections::BTreeMap::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_stem().unwrap().to_string_lossy().to_string();
        if name.contains("tests") || name == "fixtures" || name == "mod" {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        code.insert(name, text.split("#[cfg(test)]").next().unwrap_or_default().to_string());
    }
    let uses = |text: &str, other: &str| {
        text.contains(&format!("super::{other}::")) || text.contains(&format!("super::{other};"))
    };
    let names: Vec<String> = code.keys().cloned().collect();
    let edges: std::collections::BTreeMap<&str, Vec<&str>> = names
        .iter()
        .map(|m| (m.as_str(), names.iter().filter(|o| *o != m && uses(&code[m], o)).map(String::as_str).collect()))
        .collect();
    assert!(edges["update"].contains(&"command_line"), "the check sees imports: {edges:?}");
    // Depth-first: a module reached again on the path it started is a circle.
    fn visit<'a>(m: &'a str, edges: &std::collections::BTreeMap<&'a str, Vec<&'a str>>, path: &mut Vec<&'a str>) {
        if let Some(at) = path.iter().position(|p| *p == m) {
            panic!("a circle of imports in app/: {:?}", &path[at..]);
        }
        path.push(m);
        for n in &edges[m] {
            visit(n, edges, path);
        }
        path.pop();
    }
    for m in edges.keys() {
        visit(m, &edges, &mut Vec::new());
    }
}

/// A caution from the engine (a setting allowed but risky) is shown, and not as an error.
#[test]
fn a_caution_is_shown_and_is_not_an_error() {
    let mut s = logged_in();
    update(&mut s, Action::Engine(Event::Caution("customer UDP ports 40000-40019 reach into …".into())));
    let n = s.notice.clone().expect("shown");
    assert!(n.text.starts_with("caution: customer UDP ports") && !n.error, "{n:?}");
}
