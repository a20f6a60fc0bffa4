//! Keys per screen, in one table: the event loop maps keys with it, and the footer and the help
//! overlay are generated from it, so they can never disagree.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::app::Action;

/// One binding: the key, its label in the footer/help, and what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding {
    /// The key.
    pub code: KeyCode,
    /// How the key is written in help and footer.
    pub key_label: &'static str,
    /// What it does, in two or three words.
    pub what: &'static str,
    /// The action it triggers.
    pub action: Action,
}

/// Bindings of the welcome screen.
pub const WELCOME: &[Binding] = &[
    Binding { code: KeyCode::Char('?'), key_label: "?", what: "help", action: Action::ToggleHelp },
    Binding { code: KeyCode::Esc, key_label: "Esc", what: "back", action: Action::Back },
    Binding { code: KeyCode::Char('q'), key_label: "q", what: "quit", action: Action::Quit },
];

/// The action for `key` in `bindings`; Ctrl-C always quits.
pub fn lookup(bindings: &[Binding], key: KeyEvent) -> Option<Action> {
    if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
        return Some(Action::Quit);
    }
    bindings.iter().find(|b| b.code == key.code).map(|b| b.action)
}
