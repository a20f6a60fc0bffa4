//! Application state and the pure `update` step: `update(&mut state, action) -> Vec<Command>`.
//!
//! No IO and no await here: the keymap turns input into an [`Action`], `update` changes the
//! state and returns [`Command`]s for the engine worker, and the worker's events come back as
//! [`Action::Engine`]. `update` sets `dirty` when something visible changed; the event loop
//! draws only then.

pub mod baseline_edit;
pub mod command_line;
pub mod dashboard;
#[cfg(test)]
mod dashboard_tests;
pub mod detail;
mod events;
#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod fleet_tests;
pub mod form;
mod forms;
pub mod help;
pub mod keymap;
pub mod netbird;
pub mod netbird_form;
mod netbird_keys;
#[cfg(test)]
mod netbird_tests;
mod operate;
pub mod overlays;
pub mod reports;
mod screen;
pub mod settings;
pub mod setup;
pub mod stack;
mod tabs;
#[cfg(test)]
mod tests;
pub mod text;
mod update;
#[cfg(test)]
mod ux_tests;

use std::collections::BTreeMap;

pub use crate::engine::ops::lifecycle::Progress;
pub use crate::engine::worker::{Command, Event, Operation};
pub use update::update;

use dashboard::DashboardState;

/// Which screen is showing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    /// First run: create the admin and the settings.
    Setup,
    /// Username and password.
    Login,
    /// Stats cards and the customers table.
    Dashboard,
    /// New or edit customer.
    Form,
    /// The settings editor.
    Settings,
    /// One customer, in tabs.
    Detail,
}

/// A key for text entry (login fields, the filter, the command line, confirmations).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKey {
    /// A printable character.
    Char(char),
    /// Delete the character before the cursor.
    Backspace,
    /// Delete the character under the cursor.
    Delete,
    /// Cursor to the start (Home, Ctrl-A).
    Home,
    /// Cursor to the end (End, Ctrl-E).
    End,
    /// Cursor a word back (Ctrl-Left, Alt-B).
    WordLeft,
    /// Cursor a word on (Ctrl-Right, Alt-F).
    WordRight,
    /// Ctrl-U: empty the field.
    ClearLine,
    /// Ctrl-W: delete the last word.
    DeleteWord,
    /// Submit.
    Enter,
    /// Cancel.
    Esc,
    /// Next field.
    Tab,
    /// Previous field.
    BackTab,
    /// Cursor up (notes).
    Up,
    /// Cursor down (notes).
    Down,
    /// Cursor left (notes; toggles the layout).
    Left,
    /// Cursor right (notes; toggles the layout).
    Right,
    /// Submit from anywhere (Ctrl-S).
    Submit,
    /// Test the NPM connection (Ctrl-T, setup wizard).
    Test,
}

/// Something that happened: a key mapped by the keymap, or an engine event.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// The operator's editor closed on [`AppState::external_edit`]'s file: its text, or why not.
    Edited(Result<String, crate::domain::error::Failure>),
    /// Leave the app.
    Quit,
    /// Mark or unmark the selected customer for a bulk action.
    ToggleMark,
    /// Mark every customer the filter shows (or unmark them all).
    MarkVisible,
    /// Open or close the help overlay.
    ToggleHelp,
    /// Close the overlay or go back a screen.
    Back,
    /// Open the `:` command line.
    CommandLine,
    /// Selection up/down by n rows.
    Move(isize),
    /// First row.
    Top,
    /// Last row.
    Bottom,
    /// Open the selection.
    Open,
    /// Start typing the incremental filter.
    Filter,
    /// Cycle the status filter.
    CycleStatus,
    /// Cycle the sort column.
    CycleSort,
    /// Next/previous detail tab.
    NextTab(isize),
    /// Detail tab by number (0-based).
    GoTab(usize),
    /// Open the new-customer form.
    NewCustomer,
    /// Open the edit form for the shown or selected customer.
    EditCustomer,
    /// Run an operation on the selected or shown customer (asks first when destructive).
    Operate(Operation),
    /// Drain the selected host, or open it again (the hosts view).
    ToggleDrain,
    /// Health check now.
    CheckHealth,
    /// Logs: follow on/off.
    ToggleFollow,
    /// Logs: start a search.
    LogSearch,
    /// Logs: next (+1) / previous (-1) match.
    LogJump(isize),
    /// Logs: wrap on/off.
    ToggleWrap,
    /// Logs: timestamps on/off.
    ToggleTimestamps,
    /// Logs: cycle the service filter.
    CycleService,
    /// Logs: write the shown lines to a file.
    ExportLogs,
    /// Reports: copy the shown month's invoice CSV (OSC 52).
    CopyReport,
    /// Reports: write the shown month's reports to `reports.dir`.
    ExportReport,
    /// Reload from the database.
    Refresh,
    /// Mouse capture on/off (off by default: it takes text selection away from the terminal).
    ToggleMouse,
    /// A mouse click at a cell (column, row).
    Click(u16, u16),
    /// Copy the setup URL to the clipboard (OSC 52: works over SSH and tmux).
    CopySetupUrl,
    /// Cancel the open customer's running deploy or redeploy (it is rolled back).
    CancelOperation,
    /// Show the NetBird owner credentials (after a confirmation).
    ShowCredentials,
    /// Show or hide the nginx server block for the operator's own proxy (proxy = none).
    ShowNginx,
    /// NetBird tab: the previous (-1) or next (+1) list.
    Section(isize),
    /// NetBird tab: a change to the selected record, or a new one.
    NetBird(netbird::Key),
    /// NetBird tab: copy the `netbird up` line of the key just created (OSC 52).
    CopySecret,
    /// Open the settings editor.
    OpenSettings,
    /// Settings: test the stored NPM configuration.
    TestNpm,
    /// Settings: change one's own password.
    ChangePassword,
    /// Settings: add a user.
    AddUser,
    /// A key while a text input has the keyboard.
    Text(TextKey),
    /// The terminal has a new size.
    Resize(u16, u16),
    /// The engine reports.
    Engine(Event),
}

/// What the engine's Docker connection looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DockerState {
    /// Not asked yet.
    Unknown,
    /// Engine version.
    Up(String),
    /// Why it is unreachable.
    Down(String),
}

/// A short message above the footer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The text.
    pub text: String,
    /// An error (shown as such, not only by colour).
    pub error: bool,
}

impl Notice {
    /// Rows an error needs in its own panel at `width` columns, or `None` when it fits the notice
    /// line. A panel is dismissed by the next key, which does nothing else.
    pub fn panel_rows(&self, width: u16) -> Option<usize> {
        if !self.error || width == 0 {
            return None;
        }
        let inner = usize::from(width.saturating_sub(4)).max(1);
        let rows: usize = self.text.lines().map(|l| l.chars().count().div_ceil(inner).max(1)).sum();
        (rows > 1 || self.text.chars().count() + 4 > usize::from(width)).then_some(rows)
    }
}

/// An operation asking for confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    /// Which customer.
    pub customer_id: i64,
    /// Its subdomain (typed to confirm a delete).
    pub subdomain: String,
    /// What would run.
    pub op: Asked,
    /// What the user typed so far.
    pub typed: text::Field,
    /// For a bulk action: every customer (id, subdomain) it runs on; for a reconcile: each fix
    /// it will apply (0, text); empty for one customer.
    pub bulk: Vec<(i64, String)>,
    /// For a move: the host it goes to.
    pub to_host: Option<String>,
}

/// What a confirmation asks for: an engine operation, or one of the app's own that the engine
/// never sees (showing secrets on screen, quitting while operations run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asked {
    /// An operation the engine runs.
    Run(Operation),
    /// Showing the owner's password on this screen.
    ShowCredentials,
    /// Leaving the app while operations run (they finish first).
    Quit,
}

impl Asked {
    /// The words the question uses.
    pub fn verb(self) -> &'static str {
        match self {
            Asked::Run(op) => op.verb(),
            Asked::ShowCredentials => "show the owner password of",
            Asked::Quit => "quit while these run:",
        }
    }
}

impl From<Operation> for Asked {
    fn from(op: Operation) -> Self {
        Asked::Run(op)
    }
}

impl PartialEq<Operation> for Asked {
    fn eq(&self, op: &Operation) -> bool {
        *self == Asked::Run(*op)
    }
}

impl Confirm {
    /// Deleting asks for the subdomain to be typed; other operations for `y`.
    pub fn needs_typing(&self) -> bool {
        self.op == Operation::Delete
    }
}

/// A running operation, for progress display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Running {
    /// What runs.
    pub op: Operation,
    /// On whom.
    pub subdomain: String,
    /// Steps finished.
    pub done: Vec<(String, String)>,
    /// The step under way.
    pub current: Option<String>,
}

/// A deploy or redeploy that ended while its customer was open: its steps stay on the
/// Deployment tab with the outcome while it stays open, until the next operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinishedRun {
    /// What ran, with every step it took.
    pub run: Running,
    /// It succeeded.
    pub ok: bool,
    /// What it said at the end.
    pub outcome: String,
}

/// The login form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoginState {
    /// Username.
    pub user: text::Field,
    /// Password (never drawn).
    pub password: text::Field,
    /// 0: username, 1: password.
    pub field: usize,
    /// The last refusal (wrong password, lockout with the wait).
    pub message: Option<String>,
    /// Waiting for the engine.
    pub busy: bool,
}

/// The smallest terminal every screen is laid out for.
pub const MIN_SIZE: (u16, u16) = (80, 24);

/// Everything the UI shows; rendering reads it and never changes it.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The screen that is up, with its state (written only through `screen.rs`'s methods).
    pub view: screen::View,
    /// Login form.
    pub login: LoginState,
    /// Logged-in user.
    pub user: Option<String>,
    /// Their role: keys it may not use are left out of the footer and help.
    pub role: crate::domain::user::Role,
    /// The customers table.
    pub dashboard: DashboardState,
    /// The base domain (from settings at login).
    pub base_domain: String,
    /// The default layout for new customers (from settings at login).
    pub default_layout: crate::domain::customer::Layout,
    /// What is open over the screen (help, fleet views, confirmations, the command line); the
    /// topmost has the keyboard.
    pub overlays: stack::Overlays,
    /// `:reconcile` asked the engine what it would fix; the answer opens the confirmation.
    pub reconcile_asked: bool,
    /// The last notice.
    pub notice: Option<Notice>,
    /// Docker as last seen.
    pub docker: DockerState,
    /// NPM as last seen (`None`: `proxy = none`, not shown).
    pub npm: Option<DockerState>,
    /// Host gauges from the monitor (header, on wide screens).
    pub host_stats: Option<crate::domain::fleet::HostStats>,
    /// Operations under way, by customer.
    pub running: BTreeMap<i64, Running>,
    /// This host's name (header).
    pub host: String,
    /// Terminal size.
    pub size: (u16, u16),
    /// Colour allowed (`NO_COLOR` unset).
    pub color: bool,
    /// The key tables in force (defaults plus `keys.toml`); shared, never changed by `update`.
    pub keys: std::sync::Arc<crate::app::keymap::Keymap>,
    /// Text waiting to be put on the clipboard by the terminal layer (OSC 52).
    pub clipboard: Option<String>,
    /// A file the terminal layer opens in the operator's editor; the result comes back as
    /// [`Action::Edited`].
    pub external_edit: Option<baseline_edit::ExternalEdit>,
    /// `:baseline` between the editor and the engine's answer.
    pub baseline: baseline_edit::BaselineEditor,
    /// Mouse capture wanted (the terminal layer applies it).
    pub mouse: bool,
    /// Set once the user asked to leave.
    pub should_quit: bool,
    /// Something visible changed since the last draw.
    pub dirty: bool,
    /// Only log lines changed since the last draw: drawn within a frame interval, not at once.
    pub logs_dirty: bool,
}

impl AppState {
    /// The state at the first start: the setup wizard for a data home at `home`.
    pub fn first_run(host: String, home: &str, color: bool) -> Self {
        let mut s = Self::new(host, "admin".into(), color);
        s.show_setup(setup::SetupState::new(home));
        s
    }

    /// The state at start-up: the login screen with `user` filled in.
    pub fn new(host: String, user: String, color: bool) -> Self {
        Self {
            view: screen::View::Login,
            login: LoginState { user: user.into(), field: 1, ..Default::default() },
            user: None,
            role: crate::domain::user::Role::Viewer,
            dashboard: DashboardState::default(),
            base_domain: String::new(),
            default_layout: crate::domain::customer::Layout::Combined,
            overlays: Default::default(),
            reconcile_asked: false,
            notice: None,
            docker: DockerState::Unknown,
            npm: None,
            host_stats: None,
            running: BTreeMap::new(),
            host,
            size: (80, 24),
            color,
            keys: std::sync::Arc::default(),
            clipboard: None,
            external_edit: None,
            baseline: Default::default(),
            mouse: false,
            should_quit: false,
            dirty: true,
            logs_dirty: false,
        }
    }

    /// Whether the terminal is smaller than every screen is laid out for (`size` is the last
    /// resize; 0×0 before the first one is not "small").
    pub fn too_small(&self) -> bool {
        let (w, h) = self.size;
        w > 0 && h > 0 && (w < MIN_SIZE.0 || h < MIN_SIZE.1)
    }

    /// The operations that fit the selected (dashboard) or open (detail) customer's status —
    /// what a person would do next with it — for the footer to name first.
    pub fn next_operations(&self) -> Vec<Action> {
        use crate::domain::customer::CustomerStatus as S;
        let status = match (self.screen(), self.detail()) {
            (Screen::Detail, Some(d)) => self
                .dashboard
                .rows
                .iter()
                .find(|r| r.customer.id == d.customer_id)
                .map(|r| r.customer.status)
                .or_else(|| d.data.as_ref().map(|x| x.customer.status)),
            (Screen::Dashboard, _) => self.dashboard.selected_row().map(|r| r.customer.status),
            _ => None,
        };
        let ops: &[Operation] = match status {
            Some(S::Stopped) => &[Operation::Start],
            Some(S::Inactive) => &[Operation::Deploy],
            Some(S::Error) => &[Operation::Restart, Operation::Redeploy],
            Some(S::Active | S::Degraded) => &[Operation::Stop, Operation::Restart],
            Some(S::Deploying) | None => &[],
        };
        ops.iter().map(|op| Action::Operate(*op)).collect()
    }

    /// True while a text input has the keyboard (the keymap then sends [`Action::Text`]).
    pub fn text_input(&self) -> bool {
        match self.overlays.top() {
            Some(stack::Overlay::Confirm(_) | stack::Overlay::CommandLine(_)) => true,
            // A view or the help over the screen takes keys as keys.
            Some(_) => false,
            None => {
                matches!(self.screen(), Screen::Login | Screen::Form | Screen::Setup)
                    || self.dashboard.filtering
                    || self.settings().is_some_and(|x| x.editing.is_some() || x.account.is_some())
                    || self.detail().is_some_and(|d| d.log_search.is_some() || d.netbird.typing())
            }
        }
    }

    /// Whether the logged-in role may do what `action` asks (the engine checks it again; this
    /// only decides what the footer and help offer).
    pub fn may(&self, action: &Action) -> bool {
        use crate::domain::rights::Right;
        let right = match action {
            Action::Operate(op) => op.right(),
            Action::ShowCredentials => Right::Credentials,
            Action::AddUser => Right::Users,
            Action::NewCustomer => Right::CreateCustomers,
            Action::EditCustomer => Right::EditCustomers,
            // Only deploys and redeploys can be cancelled, by who may start them.
            Action::CancelOperation => Right::Deploy,
            // Marks only serve bulk operations, the least of which is a restart.
            Action::ToggleMark => Right::Restart,
            Action::ToggleDrain => Right::DrainHosts,
            Action::NetBird(key) => self.detail().map_or(Right::NetBirdGrant, |d| d.netbird.needs(*key)),
            _ => Right::Look,
        };
        self.role.allows(right.needs())
    }

    fn cards_height(&self) -> usize {
        let (w, h) = self.size;
        if w >= 110 && h >= 30 { 3 } else { 1 }
    }

    /// Rows the customers table can show at the current size (shared with the renderer).
    pub fn table_height(&self) -> usize {
        // header + cards + table borders and heading + notice + footer
        usize::from(self.size.1).saturating_sub(1 + self.cards_height() + 3 + 1 + 1)
    }

    /// The screen row of the table's first customer (same layout as the renderer).
    pub fn table_first_row(&self) -> usize {
        1 + self.cards_height() + 2
    }
}
