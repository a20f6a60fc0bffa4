//! `update` for the screens that are forms: the customer form, the first-run wizard and the
//! settings editor.

use super::{Action, AppState, Command, TextKey};
use crate::domain::customer::CustomerRef;

pub(super) fn on_settings_text(s: &mut AppState, k: TextKey) -> Vec<Command> {
    let Some(st) = s.settings_mut() else { return Vec::new() };
    if let Some(form) = st.account.as_mut() {
        match k {
            TextKey::Esc => st.account = None,
            TextKey::Enter | TextKey::Submit => {
                if let Some(p) = form.problem() {
                    s.notify(p, true);
                    return Vec::new();
                }
                let f = st.account.take().unwrap_or_default();
                return vec![if f.adding {
                    Command::AddUser {
                        username: f.username.to_string(),
                        password: f.password.to_string(),
                        role: f.role(),
                    }
                } else {
                    Command::ChangeOwnPassword { current: f.username.to_string(), password: f.password.to_string() }
                }];
            }
            k => form.key(k),
        }
        return Vec::new();
    }
    let Some(value) = st.editing.as_mut() else { return Vec::new() };
    match k {
        TextKey::Esc => st.editing = None,
        TextKey::Enter | TextKey::Submit => {
            let value = st.editing.take().unwrap_or_default();
            let Some(row) = st.selected_row() else { return Vec::new() };
            let (key, expected) = (row.key.to_string(), (!row.secret).then(|| row.value.clone()));
            st.error = None;
            st.submitted = Some((key.clone(), value.to_string()));
            return vec![Command::SetSetting { key, value: value.to_string(), expected }];
        }
        k => {
            value.edit(k);
        }
    }
    Vec::new()
}

pub(super) fn on_settings(s: &mut AppState, action: Action) -> Vec<Command> {
    use super::settings::{AccountForm, SettingsTab};
    let Some(st) = s.settings_mut() else { return s.leave_to_dashboard() };
    match action {
        Action::Back => return s.leave_to_dashboard(),
        Action::NextTab(n) => {
            st.tab = (st.tab as isize + n).rem_euclid(SettingsTab::ALL.len() as isize) as usize;
            st.selected = 0;
        }
        Action::GoTab(i) if i < SettingsTab::ALL.len() => {
            st.tab = i;
            st.selected = 0;
        }
        Action::Move(n) => {
            let count = st.tab_rows().len();
            st.selected = st.selected.saturating_add_signed(n.signum()).min(count.saturating_sub(1));
        }
        Action::Open => match st.selected_row() {
            // Secrets start empty: their value is never shown, only replaced.
            Some(r) => st.editing = Some(if r.secret { Default::default() } else { r.value.clone().into() }),
            None => s.dirty = false,
        },
        Action::TestNpm => {
            st.npm_test = None;
            return vec![if st.current_tab() == SettingsTab::Alerts {
                Command::TestAlerts
            } else {
                Command::TestStoredNpm
            }];
        }
        // The account forms live on the Security tab: shown there, wherever the key was pressed.
        Action::ChangePassword | Action::AddUser => {
            st.tab = SettingsTab::ALL.iter().position(|t| *t == SettingsTab::Security).unwrap_or(0);
            st.account = Some(if action == Action::AddUser {
                AccountForm { adding: true, ..Default::default() }
            } else {
                AccountForm { field: 0, ..Default::default() }
            });
        }
        Action::Refresh => return vec![Command::LoadSettings],
        _ => s.dirty = false,
    }
    Vec::new()
}

pub(super) fn on_setup(s: &mut AppState, k: TextKey) -> Vec<Command> {
    use super::setup::SetupField as F;
    let Some(w) = s.setup_mut() else { return Vec::new() };
    if w.busy {
        s.dirty = false;
        return Vec::new();
    }
    match k {
        TextKey::Esc => s.should_quit = true,
        TextKey::Tab | TextKey::Down => w.move_focus(1),
        TextKey::BackTab | TextKey::Up => w.move_focus(-1),
        TextKey::Test => {
            if !w.npm() {
                w.npm_test = Some(Err(crate::domain::error::Failure::new(
                    crate::domain::error::ErrorKind::Usage,
                    "choose proxy npm first (Space on the Proxy field)",
                )));
                return Vec::new();
            }
            w.npm_test = None;
            return vec![Command::TestNpm {
                url: w.get(F::NpmUrl).trim().trim_end_matches('/').to_string(),
                identity: w.get(F::NpmIdentity).trim().to_string(),
                secret: w.get(F::NpmSecret).to_string(),
            }];
        }
        TextKey::Enter | TextKey::Submit => {
            w.validate();
            if let Some((f, e)) = w.errors.first() {
                let msg = format!("{}: {e}", f.label());
                w.focus = *f;
                s.notify(msg, true);
                return Vec::new();
            }
            // What was wrong is fixed: its line goes with it (it stayed through the login).
            s.notice = None;
            let Some(w) = s.setup_mut() else { return Vec::new() };
            w.busy = true;
            let mut settings: Vec<(String, String)> = [
                ("layout", F::Layout),
                ("proxy", F::Proxy),
                ("data_dir", F::DataDir),
                ("docker_network", F::Network),
                ("relay_base_port", F::BasePort),
                ("relay_port_count", F::PortCount),
            ]
            .iter()
            .map(|(k, f)| ((*k).to_string(), w.get(*f).trim().to_string()))
            .collect();
            if w.npm() {
                settings.push(("npm.url".into(), w.get(F::NpmUrl).trim().to_string()));
                settings.push(("npm.identity".into(), w.get(F::NpmIdentity).trim().to_string()));
                settings.push(("npm.secret".into(), w.get(F::NpmSecret).to_string()));
            }
            return vec![Command::Init(crate::engine::worker::InitRequest {
                admin_user: w.get(F::User).trim().to_string(),
                password: w.get(F::Password).to_string(),
                base_domain: w.get(F::BaseDomain).trim().to_string(),
                admin_email: w.get(F::Email).trim().to_string(),
                settings,
                beside_foreign: w.beside_foreign,
            })];
        }
        k => w.key(k),
    }
    Vec::new()
}

fn taken(s: &AppState) -> Vec<(String, String)> {
    s.dashboard.rows.iter().map(|r| (r.customer.subdomain.clone(), r.customer.name.clone())).collect()
}

pub(super) fn on_form(s: &mut AppState, k: TextKey) -> Vec<Command> {
    let taken = taken(s);
    let Some(f) = s.form_mut() else { return Vec::new() };
    if f.busy {
        s.dirty = false;
        return Vec::new();
    }
    let notes = f.focus == super::form::Field::Notes;
    match k {
        TextKey::Esc => {
            s.close_form();
        }
        TextKey::Tab => f.move_focus(1),
        TextKey::BackTab => f.move_focus(-1),
        TextKey::Up | TextKey::Down if !notes => f.move_focus(if k == TextKey::Up { -1 } else { 1 }),
        TextKey::Submit => return submit(s),
        TextKey::Enter if !notes => return submit(s),
        k => {
            f.key(k);
            f.server_error = None;
            f.validate(&taken);
        }
    }
    Vec::new()
}

fn submit(s: &mut AppState) -> Vec<Command> {
    let taken = taken(s);
    let Some(f) = s.form_mut() else { return Vec::new() };
    f.validate(&taken);
    if let Some(e) = f.errors.first() {
        let msg = format!("fix the marked fields first ({e})");
        s.notify(msg, true);
        return Vec::new();
    }
    f.busy = true;
    match f.editing {
        Some(customer_id) => {
            vec![Command::Update { target: CustomerRef::new(customer_id, f.subdomain.to_string()), patch: f.patch() }]
        }
        None => vec![Command::Create(f.new_customer_value())],
    }
}
