//! Which screen is up, with its state, as one value ([`View`]): a form without its fields, a
//! detail view without its customer, or two screens at once cannot be represented. The form
//! keeps the customer view it was opened from, which comes back when it closes. Moving between
//! screens goes through the methods here, the only writers of [`AppState::view`].

use super::detail::DetailState;
use super::form::FormState;
use super::settings::SettingsState;
use super::setup::SetupState;
use super::{AppState, Screen};

/// The screen and its state.
#[derive(Debug, Clone)]
pub enum View {
    /// First run: the wizard.
    Setup(Box<SetupState>),
    /// Username and password.
    Login,
    /// Stats cards and the customers table.
    Dashboard,
    /// New or edit customer; `back` is the customer view it was opened from.
    Form {
        /// The fields.
        form: Box<FormState>,
        /// Shown again when the form closes (`None`: the dashboard).
        back: Option<Box<DetailState>>,
    },
    /// The settings editor.
    Settings(Box<SettingsState>),
    /// One customer, in tabs.
    Detail(Box<DetailState>),
}

impl View {
    /// Which screen, without its state.
    pub fn kind(&self) -> Screen {
        match self {
            View::Setup(_) => Screen::Setup,
            View::Login => Screen::Login,
            View::Dashboard => Screen::Dashboard,
            View::Form { .. } => Screen::Form,
            View::Settings(_) => Screen::Settings,
            View::Detail(_) => Screen::Detail,
        }
    }
}

impl AppState {
    /// Which screen is up.
    pub fn screen(&self) -> Screen {
        self.view.kind()
    }

    /// The open customer: the detail screen, or the one a form was opened from.
    pub fn detail(&self) -> Option<&DetailState> {
        match &self.view {
            View::Detail(d) => Some(d),
            View::Form { back: Some(d), .. } => Some(d),
            _ => None,
        }
    }

    /// [`Self::detail`], to change.
    pub fn detail_mut(&mut self) -> Option<&mut DetailState> {
        match &mut self.view {
            View::Detail(d) => Some(d),
            View::Form { back: Some(d), .. } => Some(d),
            _ => None,
        }
    }

    /// The customer form, when it is up.
    pub fn form(&self) -> Option<&FormState> {
        match &self.view {
            View::Form { form, .. } => Some(form),
            _ => None,
        }
    }

    /// [`Self::form`], to change.
    pub fn form_mut(&mut self) -> Option<&mut FormState> {
        match &mut self.view {
            View::Form { form, .. } => Some(form),
            _ => None,
        }
    }

    /// The first-run wizard, when it is up.
    pub fn setup(&self) -> Option<&SetupState> {
        match &self.view {
            View::Setup(s) => Some(s),
            _ => None,
        }
    }

    /// [`Self::setup`], to change.
    pub fn setup_mut(&mut self) -> Option<&mut SetupState> {
        match &mut self.view {
            View::Setup(s) => Some(s),
            _ => None,
        }
    }

    /// The settings editor, when it is up.
    pub fn settings(&self) -> Option<&SettingsState> {
        match &self.view {
            View::Settings(s) => Some(s),
            _ => None,
        }
    }

    /// [`Self::settings`], to change.
    pub fn settings_mut(&mut self) -> Option<&mut SettingsState> {
        match &mut self.view {
            View::Settings(s) => Some(s),
            _ => None,
        }
    }

    /// Shows one customer.
    pub fn show_detail(&mut self, d: DetailState) {
        self.view = View::Detail(Box::new(d));
    }

    /// Opens the customer form over what is shown (a customer view comes back when it closes).
    pub fn show_form(&mut self, form: FormState) {
        let back = match std::mem::replace(&mut self.view, View::Dashboard) {
            View::Detail(d) => Some(d),
            View::Form { back, .. } => back,
            _ => None,
        };
        self.view = View::Form { form: Box::new(form), back };
    }

    /// Closes the form: back to the customer it was opened from, else the dashboard.
    pub fn close_form(&mut self) {
        self.view = match std::mem::replace(&mut self.view, View::Dashboard) {
            View::Form { back: Some(d), .. } => View::Detail(d),
            View::Form { back: None, .. } => View::Dashboard,
            other => other,
        };
    }

    /// Shows the dashboard; the customer view that was open (or under the form), if any.
    pub fn show_dashboard(&mut self) -> Option<DetailState> {
        match std::mem::replace(&mut self.view, View::Dashboard) {
            View::Detail(d) | View::Form { back: Some(d), .. } => Some(*d),
            _ => None,
        }
    }

    /// Back to the table: the customer view that was open stops following its logs, and the
    /// table is asked for again.
    pub fn leave_to_dashboard(&mut self) -> Vec<super::Command> {
        match self.show_dashboard() {
            Some(_) => vec![super::Command::StopLogs, super::Command::LoadCustomers],
            None => Vec::new(),
        }
    }

    /// Puts a notice in the footer (an error is drawn as one, and waits for a key).
    pub fn notify(&mut self, text: impl Into<String>, error: bool) {
        self.notice = Some(super::Notice { text: text.into(), error });
    }

    /// Shows the settings editor.
    pub fn show_settings(&mut self, st: SettingsState) {
        self.view = View::Settings(Box::new(st));
    }

    /// Shows the first-run wizard.
    pub fn show_setup(&mut self, st: SetupState) {
        self.view = View::Setup(Box::new(st));
    }

    /// Shows the login screen.
    pub fn show_login(&mut self) {
        self.view = View::Login;
    }
}
