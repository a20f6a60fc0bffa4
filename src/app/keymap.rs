//! Keys per mode, in one table each: the event loop maps keys with them, and the footer and the
//! help overlay are generated from the same tables, so they can never disagree. The defaults
//! below can be rebound in `$NBMSP_HOME/keys.toml` (see [`Keymap::load`]).

use std::borrow::Cow;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::app::{Action, AppState, Operation, Screen, TextKey};

/// One binding.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    /// The keys (any of them).
    pub keys: Cow<'static, [KeyCode]>,
    /// How the keys are written in help and footer.
    pub label: Cow<'static, str>,
    /// What it does, in two or three words.
    pub what: &'static str,
    /// The action.
    pub action: Action,
    /// Shown in the footer (all bindings are in the help).
    pub footer: bool,
}

const fn b(keys: &'static [KeyCode], label: &'static str, what: &'static str, action: Action, footer: bool) -> Binding {
    Binding { keys: Cow::Borrowed(keys), label: Cow::Borrowed(label), what, action, footer }
}

impl Binding {
    /// The name used in keys.toml: the help text with underscores (`next tab` -> `next_tab`).
    pub fn id(&self) -> String {
        self.what.replace([' ', '/'], "_")
    }
}

use KeyCode::{BackTab, Char, Down, End, Enter, Esc, Home, Left, PageDown, PageUp, Right, Tab, Up};

use crate::app::netbird::Key as NbKey;

/// The dashboard.
pub static DASHBOARD: &[Binding] = &[
    b(&[Enter], "Enter", "open", Action::Open, true),
    b(&[Char('n')], "n", "new", Action::NewCustomer, true),
    b(&[Char('e')], "e", "edit", Action::EditCustomer, false),
    b(&[Char('j'), Down], "j/↓", "move", Action::Move(1), false),
    b(&[Char('k'), Up], "k/↑", "up", Action::Move(-1), false),
    b(&[PageDown], "PgDn", "page down", Action::Move(2), false),
    b(&[PageUp], "PgUp", "page up", Action::Move(-2), false),
    b(&[Char('g'), Home], "g", "first", Action::Top, false),
    b(&[Char('G'), End], "G", "last", Action::Bottom, false),
    b(&[Char('/')], "/", "filter", Action::Filter, true),
    b(&[Char('s')], "s", "status", Action::CycleStatus, true),
    b(&[Char('o')], "o", "sort", Action::CycleSort, true),
    b(&[Char(' ')], "space", "mark", Action::ToggleMark, true),
    b(&[Char('*')], "*", "mark all shown", Action::MarkVisible, false),
    b(&[Char('D')], "D", "deploy", Action::Operate(Operation::Deploy), true),
    b(&[Char('U')], "U", "redeploy", Action::Operate(Operation::Redeploy), false),
    b(&[Char('u')], "u", "start", Action::Operate(Operation::Start), false),
    b(&[Char('S')], "S", "stop", Action::Operate(Operation::Stop), true),
    b(&[Char('r')], "r", "restart", Action::Operate(Operation::Restart), true),
    b(&[Char('d')], "d", "delete", Action::Operate(Operation::Delete), true),
    b(&[Char('b')], "b", "back up", Action::Operate(Operation::Backup), false),
    b(&[Char('R')], "R", "reload", Action::Refresh, false),
    b(&[Char('C')], "C", "settings", Action::OpenSettings, false),
    b(&[Char('M')], "M", "mouse on/off", Action::ToggleMouse, false),
    b(&[Esc], "Esc", "clear marks/filter", Action::Back, false),
    b(&[Char(':')], ":", "command", Action::CommandLine, true),
    b(&[Char('?')], "?", "help", Action::ToggleHelp, true),
    b(&[Char('q')], "q", "quit", Action::Quit, true),
];

/// Switching the customer detail's tabs: the same keys on every tab.
pub static DETAIL_TABS: &[Binding] = &[
    b(&[Tab], "Tab", "next tab", Action::NextTab(1), true),
    b(&[BackTab], "S-Tab", "previous tab", Action::NextTab(-1), false),
    b(&[Char('1')], "1", "info", Action::GoTab(0), false),
    b(&[Char('2')], "2", "deployment", Action::GoTab(1), false),
    b(&[Char('3')], "3", "logs", Action::GoTab(2), false),
    b(&[Char('4')], "4", "health", Action::GoTab(3), false),
    b(&[Char('5')], "5", "netbird", Action::GoTab(4), false),
];

/// The customer detail view (after [`DETAIL_TABS`]).
pub static DETAIL: &[Binding] = &[
    b(&[Char('f')], "f", "follow logs", Action::ToggleFollow, true),
    b(&[Char('/')], "/", "search logs", Action::LogSearch, false),
    b(&[Char('n')], "n", "next match", Action::LogJump(1), false),
    b(&[Char('N')], "N", "previous match", Action::LogJump(-1), false),
    b(&[Char('w')], "w", "wrap logs", Action::ToggleWrap, false),
    b(&[Char('t')], "t", "timestamps", Action::ToggleTimestamps, false),
    b(&[Char('v')], "v", "service filter", Action::CycleService, false),
    b(&[Char('x')], "x", "export logs", Action::ExportLogs, false),
    b(&[Char('j'), Down], "j/↓", "scroll logs", Action::Move(-1), false),
    b(&[Char('k'), Up], "k/↑", "scroll up", Action::Move(1), false),
    b(&[PageUp], "PgUp", "page up", Action::Move(10), false),
    b(&[PageDown], "PgDn", "page down", Action::Move(-10), false),
    b(&[Char('h')], "h", "check health", Action::CheckHealth, true),
    b(&[Char('e')], "e", "edit", Action::EditCustomer, false),
    b(&[Char('y')], "y", "copy setup URL", Action::CopySetupUrl, false),
    b(&[Char('X')], "X", "cancel deploy", Action::CancelOperation, false),
    b(&[Char('p')], "p", "owner password", Action::ShowCredentials, false),
    b(&[Char('P')], "P", "nginx server block", Action::ShowNginx, false),
    b(&[Char('D')], "D", "deploy", Action::Operate(Operation::Deploy), true),
    b(&[Char('U')], "U", "redeploy", Action::Operate(Operation::Redeploy), false),
    b(&[Char('u')], "u", "start", Action::Operate(Operation::Start), false),
    b(&[Char('S')], "S", "stop", Action::Operate(Operation::Stop), false),
    b(&[Char('r')], "r", "restart", Action::Operate(Operation::Restart), true),
    b(&[Char('c')], "c", "retry certificate", Action::Operate(Operation::RetryCert), false),
    b(&[Char('d')], "d", "delete", Action::Operate(Operation::Delete), false),
    b(&[Char('b')], "b", "back up", Action::Operate(Operation::Backup), false),
    b(&[Char('R')], "R", "reload", Action::Refresh, false),
    b(&[Char('M')], "M", "mouse on/off", Action::ToggleMouse, false),
    b(&[Char(':')], ":", "command", Action::CommandLine, false),
    b(&[Char('?')], "?", "help", Action::ToggleHelp, true),
    b(&[Esc, Char('q')], "Esc", "back", Action::Back, true),
];

/// The NetBird tab of the customer detail, after [`DETAIL_TABS`] (its own table: the log keys
/// mean nothing there).
pub static NETBIRD: &[Binding] = &[
    b(&[Left, Char('h')], "←/h", "previous list", Action::Section(-1), false),
    b(&[Right, Char('l')], "→/l", "next list", Action::Section(1), false),
    b(&[Char('j'), Down], "j/↓", "move", Action::Move(1), false),
    b(&[Char('k'), Up], "k/↑", "up", Action::Move(-1), false),
    b(&[PageDown], "PgDn", "page down", Action::Move(2), false),
    b(&[PageUp], "PgUp", "page up", Action::Move(-2), false),
    b(&[Char('g'), Home], "g", "first", Action::Top, false),
    b(&[Char('G'), End], "G", "last", Action::Bottom, false),
    b(&[Char('/')], "/", "search", Action::Filter, true),
    b(&[Char('n')], "n", "new", Action::NetBird(NbKey::New), true),
    b(&[Char('e')], "e", "rename/edit", Action::NetBird(NbKey::Rename), false),
    b(&[Char('x')], "x", "revoke/block/on-off", Action::NetBird(NbKey::Toggle), true),
    b(&[Char('E')], "E", "login expiration", Action::NetBird(NbKey::LoginExpiry), false),
    b(&[Char('o')], "o", "user role", Action::NetBird(NbKey::Role), false),
    b(&[Char('d')], "d", "delete", Action::NetBird(NbKey::Delete), true),
    b(&[Char('y')], "y", "copy netbird up line", Action::CopySecret, false),
    b(&[Char('R')], "R", "reload", Action::Refresh, false),
    b(&[Char(':')], ":", "command", Action::CommandLine, false),
    b(&[Char('?')], "?", "help", Action::ToggleHelp, true),
    b(&[Esc, Char('q')], "Esc", "back", Action::Back, true),
];

/// The settings editor.
pub static SETTINGS: &[Binding] = &[
    b(&[Tab], "Tab", "next tab", Action::NextTab(1), true),
    b(&[BackTab], "S-Tab", "previous tab", Action::NextTab(-1), false),
    b(&[Char('1')], "1", "system", Action::GoTab(0), false),
    b(&[Char('2')], "2", "NPM", Action::GoTab(1), false),
    b(&[Char('3')], "3", "images", Action::GoTab(2), false),
    b(&[Char('4')], "4", "monitor+alerts", Action::GoTab(3), false),
    b(&[Char('5')], "5", "security", Action::GoTab(4), false),
    b(&[Char('j'), Down], "j/↓", "move", Action::Move(1), false),
    b(&[Char('k'), Up], "k/↑", "up", Action::Move(-1), false),
    b(&[Enter], "Enter", "edit", Action::Open, true),
    b(&[Char('t')], "t", "test NPM/alerts", Action::TestNpm, true),
    b(&[Char('P')], "P", "my password", Action::ChangePassword, true),
    b(&[Char('a')], "a", "add user", Action::AddUser, true),
    b(&[Char('R')], "R", "reload", Action::Refresh, false),
    b(&[Char('?')], "?", "help", Action::ToggleHelp, false),
    b(&[Esc, Char('q')], "Esc", "back", Action::Back, true),
];

/// The fleet's devices view.
pub static DEVICES: &[Binding] = &[
    b(&[Char('j'), Down], "j/↓", "scroll", Action::Move(1), true),
    b(&[Char('k'), Up], "k/↑", "scroll up", Action::Move(-1), false),
    b(&[PageDown], "PgDn", "page down", Action::Move(10), false),
    b(&[PageUp], "PgUp", "page up", Action::Move(-10), false),
    b(&[Char('g'), Home], "g", "top", Action::Top, false),
    b(&[Esc, Char('q')], "Esc", "close", Action::Back, true),
];

/// The Reports view.
pub static REPORTS: &[Binding] = &[
    b(&[Tab, BackTab], "Tab", "this month / last month", Action::NextTab(1), true),
    b(&[Char('j'), Down], "j/↓", "scroll", Action::Move(1), true),
    b(&[Char('k'), Up], "k/↑", "scroll up", Action::Move(-1), false),
    b(&[PageDown], "PgDn", "page down", Action::Move(10), false),
    b(&[PageUp], "PgUp", "page up", Action::Move(-10), false),
    b(&[Char('g'), Home], "g", "top", Action::Top, false),
    b(&[Char('y')], "y", "copy the invoice CSV", Action::CopyReport, true),
    b(&[Char('x')], "x", "export to reports.dir", Action::ExportReport, true),
    b(&[Char('R')], "R", "compute again", Action::Refresh, false),
    b(&[Esc, Char('q')], "Esc", "close", Action::Back, true),
];

/// The Docker hosts view.
pub static HOSTS: &[Binding] = &[
    b(&[Char('j'), Down], "j/↓", "select", Action::Move(1), true),
    b(&[Char('k'), Up], "k/↑", "select up", Action::Move(-1), false),
    b(&[Char('g'), Home], "g", "top", Action::Top, false),
    b(&[Char('d')], "d", "drain / open", Action::ToggleDrain, true),
    b(&[Char('R')], "R", "ask again", Action::Refresh, true),
    b(&[Esc, Char('q')], "Esc", "close", Action::Back, true),
];

/// The help overlay: it scrolls like any list (it is longer than 24 lines).
pub static HELP: &[Binding] = &[
    b(&[Esc, Char('?'), Char('q')], "Esc", "close help", Action::Back, true),
    b(&[Char('j'), Down], "j/↓", "scroll", Action::Move(1), true),
    b(&[Char('k'), Up], "k/↑", "scroll up", Action::Move(-1), false),
    b(&[PageDown, Char(' ')], "PgDn", "page down", Action::Move(HELP_PAGE), false),
    b(&[PageUp], "PgUp", "page up", Action::Move(-HELP_PAGE), false),
    b(&[Char('g'), Home], "g", "top", Action::Top, false),
    b(&[Char('G'), End], "G", "end", Action::Bottom, false),
];

/// Lines a PgDn/PgUp moves the help by.
pub const HELP_PAGE: isize = 10;

/// Text entry (login, filter, command line, confirmations): shown in the footer only.
pub static TEXT: &[Binding] = &[
    b(&[Enter], "Enter", "submit", Action::Text(TextKey::Enter), true),
    b(&[Esc], "Esc", "cancel", Action::Text(TextKey::Esc), true),
];

/// A yes/no confirmation: the footer says what the dialog says.
pub static CONFIRM: &[Binding] = &[
    b(&[Char('y'), Enter], "y", "yes", Action::Text(TextKey::Char('y')), true),
    b(&[Char('n')], "n", "no", Action::Text(TextKey::Char('n')), true),
    b(&[Esc], "Esc", "cancel", Action::Text(TextKey::Esc), true),
];

/// A confirmation by typing the subdomain (delete).
pub static CONFIRM_TYPED: &[Binding] = &[
    b(&[Enter], "Enter", "delete once typed", Action::Text(TextKey::Enter), true),
    b(&[Esc], "Esc", "cancel", Action::Text(TextKey::Esc), true),
];

/// The form while the notes field has the keyboard: Enter is a new line there.
pub static NOTES: &[Binding] = &[
    b(&[Tab], "Tab", "next field", Action::Text(TextKey::Tab), true),
    b(&[Enter], "Enter", "new line", Action::Text(TextKey::Enter), true),
    b(&[], "C-s", "save", Action::Text(TextKey::Submit), true),
    b(&[Esc], "Esc", "cancel", Action::Text(TextKey::Esc), true),
];

/// The new/edit customer form.
pub static FORM: &[Binding] = &[
    b(&[Tab], "Tab", "next field", Action::Text(TextKey::Tab), true),
    b(&[BackTab], "S-Tab", "previous field", Action::Text(TextKey::BackTab), false),
    b(&[Enter], "Enter", "save", Action::Text(TextKey::Enter), true),
    b(&[], "C-s", "save (from notes)", Action::Text(TextKey::Submit), true),
    b(&[], "Space", "toggle layout", Action::Text(TextKey::Char(' ')), false),
    b(&[Esc], "Esc", "cancel", Action::Text(TextKey::Esc), true),
];

/// The first-run wizard.
pub static SETUP: &[Binding] = &[
    b(&[Tab], "Tab", "next field", Action::Text(TextKey::Tab), true),
    b(&[Enter], "Enter", "finish setup", Action::Text(TextKey::Enter), true),
    b(&[], "C-t", "test NPM", Action::Text(TextKey::Test), true),
    b(&[], "Space", "toggle", Action::Text(TextKey::Char(' ')), true),
    b(&[Esc], "Esc", "quit", Action::Text(TextKey::Esc), true),
];

/// The login form.
pub static LOGIN: &[Binding] = &[
    b(&[Tab], "Tab", "next field", Action::Text(TextKey::Tab), true),
    b(&[Enter], "Enter", "log in", Action::Text(TextKey::Enter), true),
    b(&[Esc], "Esc", "quit", Action::Text(TextKey::Esc), true),
];

/// The modes that have their own table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The dashboard.
    Dashboard,
    /// Customer detail.
    Detail,
    /// The detail's NetBird tab.
    NetBird,
    /// Settings editor.
    Settings,
    /// Help overlay.
    Help,
    /// The fleet's devices view.
    Devices,
    /// The Docker hosts view.
    Hosts,
    /// The Reports view.
    Reports,
    /// Login.
    Login,
    /// Text entry.
    Text,
    /// A yes/no confirmation.
    Confirm,
    /// A confirmation by typing.
    ConfirmTyped,
    /// The form's notes field.
    Notes,
    /// Customer form.
    Form,
    /// First-run wizard.
    Setup,
}

impl Mode {
    /// The modes keys.toml may rebind, with their section names.
    pub const REBINDABLE: [(Mode, &'static str); 4] = [
        (Mode::Dashboard, "dashboard"),
        (Mode::Detail, "detail"),
        (Mode::NetBird, "netbird"),
        (Mode::Settings, "settings"),
    ];
}

/// The key tables in force: the defaults with the user's rebindings applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Keymap {
    tables: Vec<(Mode, Vec<Binding>)>,
}

impl Default for Keymap {
    fn default() -> Self {
        let t = |m: Mode, b: &'static [Binding]| (m, b.to_vec());
        Self {
            tables: vec![
                t(Mode::Dashboard, DASHBOARD),
                (Mode::Detail, [DETAIL_TABS, DETAIL].concat()),
                (Mode::NetBird, [DETAIL_TABS, NETBIRD].concat()),
                t(Mode::Settings, SETTINGS),
                t(Mode::Help, HELP),
                t(Mode::Devices, DEVICES),
                t(Mode::Hosts, HOSTS),
                t(Mode::Reports, REPORTS),
                t(Mode::Login, LOGIN),
                t(Mode::Text, TEXT),
                t(Mode::Confirm, CONFIRM),
                t(Mode::ConfirmTyped, CONFIRM_TYPED),
                t(Mode::Notes, NOTES),
                t(Mode::Form, FORM),
                t(Mode::Setup, SETUP),
            ],
        }
    }
}

/// How a key is written in help, footer and hints (the names [`parse_key`] reads).
pub fn key_name(key: KeyCode) -> String {
    match key {
        Char(' ') => "Space".into(),
        Char(c) => c.to_string(),
        Enter => "Enter".into(),
        Esc => "Esc".into(),
        Tab => "Tab".into(),
        BackTab => "S-Tab".into(),
        KeyCode::Backspace => "Backspace".into(),
        Up => "↑".into(),
        Down => "↓".into(),
        Left => "←".into(),
        Right => "→".into(),
        Home => "Home".into(),
        End => "End".into(),
        PageUp => "PgUp".into(),
        PageDown => "PgDn".into(),
        KeyCode::F(n) => format!("F{n}"),
        other => format!("{other:?}"),
    }
}

/// Parses a key name from keys.toml: one character, or Enter, Esc, Tab, BackTab, Backspace, Up,
/// Down, Left, Right, Home, End, PageUp, PageDown, Space, F1-F12.
pub fn parse_key(name: &str) -> Option<KeyCode> {
    let mut chars = name.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        return Some(KeyCode::Char(c));
    }
    Some(match name.to_ascii_lowercase().as_str() {
        "enter" => Enter,
        "esc" | "escape" => Esc,
        "tab" => Tab,
        "backtab" | "shift-tab" => BackTab,
        "backspace" => KeyCode::Backspace,
        "up" => Up,
        "down" => Down,
        "left" => KeyCode::Left,
        "right" => KeyCode::Right,
        "home" => Home,
        "end" => End,
        "pageup" => PageUp,
        "pagedown" => PageDown,
        "space" => Char(' '),
        f if f.starts_with('f') => KeyCode::F(f[1..].parse().ok().filter(|n| (1..=12).contains(n))?),
        _ => return None,
    })
}

impl Keymap {
    /// The table of `mode`.
    pub fn table(&self, mode: Mode) -> &[Binding] {
        self.tables.iter().find(|(m, _)| *m == mode).map_or(&[], |(_, t)| t.as_slice())
    }

    /// How the key for `action` in `mode` is written ("D", or what keys.toml made it), for
    /// hints in the screens' own text; `None` when no key does it any more.
    pub fn label(&self, mode: Mode, action: &Action) -> Option<&str> {
        self.table(mode)
            .iter()
            .find(|b| b.action == *action && (!b.keys.is_empty() || b.label.starts_with("C-")))
            .map(|b| b.label.as_ref())
    }

    /// The defaults with the rebindings in `toml` applied, and every problem found (unknown
    /// sections, actions or keys), which are skipped rather than fatal:
    ///
    /// ```toml
    /// [dashboard]
    /// deploy = "p"
    /// move = ["j", "Down"]
    /// ```
    pub fn load(toml_text: &str) -> (Self, Vec<String>) {
        let mut map = Self::default();
        let mut problems = Vec::new();
        let doc: toml::Table = match toml_text.parse() {
            Ok(d) => d,
            Err(e) => return (map, vec![format!("keys.toml is not valid TOML: {}", e.message())]),
        };
        for (section, value) in doc {
            let Some((mode, _)) = Mode::REBINDABLE.iter().find(|(_, name)| *name == section) else {
                problems
                    .push(format!("keys.toml: unknown section [{section}] (use dashboard, detail, netbird, settings)"));
                continue;
            };
            let Some(entries) = value.as_table() else { continue };
            for (id, keys) in entries {
                let names: Vec<&str> = match keys {
                    toml::Value::String(s) => vec![s.as_str()],
                    toml::Value::Array(a) => a.iter().filter_map(toml::Value::as_str).collect(),
                    _ => Vec::new(),
                };
                let parsed: Vec<KeyCode> = names.iter().filter_map(|n| parse_key(n)).collect();
                if parsed.is_empty() || parsed.len() != names.len() {
                    problems.push(format!("keys.toml [{section}] {id}: {keys} is not a key name"));
                    continue;
                }
                let Some(table) = map.tables.iter_mut().find(|(m, _)| m == mode).map(|(_, t)| t) else { continue };
                if !table.iter().any(|b| b.id() == *id) {
                    problems.push(format!("keys.toml [{section}]: unknown action {id}"));
                    continue;
                }
                // A key moved to this action stops meaning anything else in the mode.
                for other in table.iter_mut().filter(|b| b.id() != *id) {
                    if other.keys.iter().any(|k| parsed.contains(k)) {
                        other.keys = Cow::Owned(other.keys.iter().filter(|k| !parsed.contains(k)).copied().collect());
                        // Its label named the key it lost.
                        other.label = Cow::Owned(other.keys.iter().map(|k| key_name(*k)).collect::<Vec<_>>().join("/"));
                    }
                }
                if let Some(b) = table.iter_mut().find(|b| b.id() == *id) {
                    b.label = Cow::Owned(names.join("/"));
                    b.keys = Cow::Owned(parsed);
                }
            }
        }
        (map, problems)
    }
}

/// The mode `state` is in.
pub fn mode(state: &AppState) -> Mode {
    use crate::app::stack::Overlay;
    // The topmost overlay has the keyboard (the popup stack decides, nothing else).
    match state.overlays.top() {
        Some(Overlay::Help { .. }) => return Mode::Help,
        Some(Overlay::Reports(_)) => return Mode::Reports,
        Some(Overlay::Hosts(_)) => return Mode::Hosts,
        Some(Overlay::Devices { .. }) => return Mode::Devices,
        Some(Overlay::Confirm(c)) => return if c.needs_typing() { Mode::ConfirmTyped } else { Mode::Confirm },
        Some(Overlay::CommandLine(_)) => return Mode::Text,
        None => {}
    }
    if state.screen() == Screen::Login {
        Mode::Login
    } else if state.screen() == Screen::Setup {
        Mode::Setup
    } else if state.detail().is_some_and(|d| d.netbird.confirm.is_some()) && state.screen() == Screen::Detail {
        Mode::Confirm
    } else if state.screen() == Screen::Form {
        if state.form().is_some_and(|f| f.focus == crate::app::form::Field::Notes) { Mode::Notes } else { Mode::Form }
    } else if state.text_input() {
        Mode::Text
    } else if state.screen() == Screen::Settings {
        Mode::Settings
    } else if state.screen() == Screen::Detail {
        if state.detail().is_some_and(|d| d.tab == crate::app::detail::Tab::NetBird) {
            Mode::NetBird
        } else {
            Mode::Detail
        }
    } else {
        Mode::Dashboard
    }
}

/// The bindings in force for `state`.
pub fn bindings(state: &AppState) -> &[Binding] {
    state.keys.table(mode(state))
}

/// The bindings shown in the footer and help: those the logged-in role may use (the others
/// still answer, with the engine's reason, if pressed).
pub fn usable(state: &AppState) -> impl Iterator<Item = &Binding> {
    bindings(state).iter().filter(|b| state.may(&b.action))
}

/// The action for a mouse event (only delivered while mouse capture is on): the wheel moves
/// like j/k (scrolling logs in the Logs tab), a left click selects.
pub fn mouse(state: &AppState, ev: crossterm::event::MouseEvent) -> Option<Action> {
    use crossterm::event::{MouseButton, MouseEventKind};
    let logs = state.screen() == Screen::Detail;
    match ev.kind {
        MouseEventKind::ScrollDown => Some(Action::Move(if logs { -1 } else { 1 })),
        MouseEventKind::ScrollUp => Some(Action::Move(if logs { 1 } else { -1 })),
        MouseEventKind::Down(MouseButton::Left) if !state.text_input() => Some(Action::Click(ev.column, ev.row)),
        _ => None,
    }
}

/// The action for `key` in `state`; Ctrl-C always quits.
pub fn map(state: &AppState, key: KeyEvent) -> Option<Action> {
    // A screen too small to draw says so and takes no key but quitting: nothing may happen unseen.
    if state.too_small() {
        return match key.code {
            Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => Some(Action::Quit),
            Char('q') => Some(Action::Quit),
            _ => None,
        };
    }
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        return match key.code {
            Char('c') => Some(Action::Quit),
            Char('s') if state.text_input() => Some(Action::Text(TextKey::Submit)),
            Char('u') if state.text_input() => Some(Action::Text(TextKey::ClearLine)),
            Char('w') if state.text_input() => Some(Action::Text(TextKey::DeleteWord)),
            Char('a') if state.text_input() => Some(Action::Text(TextKey::Home)),
            Char('e') if state.text_input() => Some(Action::Text(TextKey::End)),
            KeyCode::Left if state.text_input() => Some(Action::Text(TextKey::WordLeft)),
            KeyCode::Right if state.text_input() => Some(Action::Text(TextKey::WordRight)),
            Char('t') if state.screen() == Screen::Setup => Some(Action::Text(TextKey::Test)),
            _ => None,
        };
    }
    if key.modifiers.contains(KeyModifiers::ALT) && state.text_input() {
        return match key.code {
            Char('b') => Some(Action::Text(TextKey::WordLeft)),
            Char('f') => Some(Action::Text(TextKey::WordRight)),
            _ => None,
        };
    }
    if state.text_input() {
        return match key.code {
            KeyCode::Delete => Some(Action::Text(TextKey::Delete)),
            Home => Some(Action::Text(TextKey::Home)),
            End => Some(Action::Text(TextKey::End)),
            Char(c) => Some(Action::Text(TextKey::Char(c))),
            KeyCode::Backspace => Some(Action::Text(TextKey::Backspace)),
            Enter => Some(Action::Text(TextKey::Enter)),
            Esc => Some(Action::Text(TextKey::Esc)),
            Tab => Some(Action::Text(TextKey::Tab)),
            BackTab => Some(Action::Text(TextKey::BackTab)),
            Up => Some(Action::Text(TextKey::Up)),
            Down => Some(Action::Text(TextKey::Down)),
            KeyCode::Left => Some(Action::Text(TextKey::Left)),
            KeyCode::Right => Some(Action::Text(TextKey::Right)),
            _ => None,
        };
    }
    bindings(state).iter().find(|b| b.keys.contains(&key.code)).map(|b| b.action.clone())
}

#[cfg(test)]
#[path = "keymap_tests.rs"]
mod tests;
