//! The help overlay's content: the keys of the screen under it and every `:` command, wrapped
//! to the width it is drawn at. Made here (pure, from the keymap) so that the overlay draws
//! exactly what `update` bounds the scroll by.

use super::AppState;
use super::keymap::{Binding, Mode};
use crate::app::{Action, Screen};

/// The key table the help overlay lists: the one of the screen under it.
pub fn help_table(state: &AppState) -> &[Binding] {
    let netbird = state.detail().is_some_and(|d| d.tab == crate::app::detail::Tab::NetBird);
    state.keys.table(match state.screen() {
        Screen::Detail if netbird => Mode::NetBird,
        Screen::Detail => Mode::Detail,
        Screen::Settings => Mode::Settings,
        _ => Mode::Dashboard,
    })
}

/// The help overlay's width at most, border included.
pub const HELP_WIDTH: u16 = 76;

/// One line of the help overlay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelpRow {
    /// A key (or command) and what it does (a continuation line has an empty key).
    Key {
        /// Right-aligned key label, or `:command`.
        key: String,
        /// What it does.
        what: String,
    },
    /// A heading.
    Heading(String),
    /// Space between the keys and the commands.
    Blank,
}

/// Every line of the help overlay, wrapped to the width it is drawn at: the usable keys of the
/// screen under it, then every `:` command. Drawn exactly as listed, so the scroll can be
/// bounded by their number.
pub fn help_rows(state: &AppState) -> Vec<HelpRow> {
    let width = usize::from(HELP_WIDTH.min(state.size.0).saturating_sub(2)).max(20);
    let mut rows = Vec::new();
    for b in help_table(state).iter().filter(|b| state.may(&b.action)) {
        push_wrapped(&mut rows, format!("{:>7}  ", b.label), b.what, width);
    }
    rows.push(HelpRow::Blank);
    rows.push(HelpRow::Heading("  : commands (CUSTOMER is a subdomain or #id; Tab completes):".into()));
    for (cmd, what) in crate::app::command_line::COMMANDS {
        push_wrapped(&mut rows, format!("  :{cmd}  "), what, width);
    }
    rows
}

/// `key` and `what`, wrapped to `width` with continuation lines indented under `what`; a key
/// wider than half the line gets a line of its own, `what` indented below it.
fn push_wrapped(rows: &mut Vec<HelpRow>, key: String, what: &str, width: usize) {
    let mut indent = unicode_width::UnicodeWidthStr::width(key.as_str());
    let mut key = Some(key);
    if indent > width / 2 {
        rows.push(HelpRow::Key { key: key.take().unwrap_or_default(), what: String::new() });
        indent = 6;
    }
    for piece in wrap(what, width.saturating_sub(indent).max(10)) {
        let key = key.take().unwrap_or_else(|| " ".repeat(indent));
        rows.push(HelpRow::Key { key, what: piece });
    }
}

/// The label of the key that scrolls the help down (rebindable like every other).
pub fn help_scroll_label(state: &AppState) -> String {
    state
        .keys
        .table(Mode::Help)
        .iter()
        .find(|b| b.action == Action::Move(1))
        .map_or_else(String::new, |b| b.label.to_string())
}

/// `text` in pieces of at most `width` columns, broken at spaces where it can be.
fn wrap(text: &str, width: usize) -> Vec<String> {
    use unicode_width::UnicodeWidthStr;
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let extra = usize::from(!line.is_empty()) + word.width();
        if !line.is_empty() && line.width() + extra > width {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push(line);
    out
}

/// How many lines the help overlay has (see [`help_rows`]).
pub fn help_lines(state: &AppState) -> u16 {
    u16::try_from(help_rows(state).len()).unwrap_or(u16::MAX)
}

/// The furthest the help can scroll at the current terminal size: its lines less those shown
/// (the body is the screen less header, notice and footer; the box's border takes two).
pub fn help_max_scroll(state: &AppState) -> u16 {
    let shown = state.size.1.saturating_sub(3).saturating_sub(2);
    help_lines(state).saturating_sub(shown)
}
