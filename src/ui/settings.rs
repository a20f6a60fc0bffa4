//! The settings editor.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, Wrap};

use super::fit;
use super::theme::Theme;
use crate::app::AppState;
use crate::app::settings::{SettingsState, SettingsTab};

/// Draws the editor into `area`.
pub fn render(state: &AppState, t: &Theme, frame: &mut Frame, area: Rect) {
    let Some(st) = state.settings() else { return };
    let [tabs, body, foot] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(3), Constraint::Length(2)]).areas(area);
    let spans: Vec<Span> = SettingsTab::ALL
        .iter()
        .enumerate()
        .map(|(i, tab)| {
            let label = format!(" [{} {}] ", i + 1, tab.title());
            if i == st.tab { Span::styled(label, t.selected()) } else { Span::raw(label) }
        })
        .collect();
    frame.render_widget(Paragraph::new(Line::from(spans)), tabs);
    if st.current_tab() == SettingsTab::Security {
        security(st, t, frame, body);
    } else {
        keys(st, t, frame, body);
    }
    let mut lines = Vec::new();
    if let Some((key, msg)) = &st.error {
        lines.push(Line::styled(format!(" ✗ {key}: {msg}"), t.error()));
    }
    match &st.npm_test {
        Some(Ok(m)) => lines.push(Line::styled(format!(" ✓ {m}"), t.ok())),
        Some(Err(e)) => lines.push(Line::styled(format!(" ✗ test: {e}"), t.error())),
        None => {}
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), foot);
}

fn keys(st: &SettingsState, t: &Theme, frame: &mut Frame, area: Rect) {
    let width = usize::from(area.width).saturating_sub(4);
    // Keys are never cut (they are what `nbmsp settings set` takes); values get what is left.
    let key_w = st.tab_rows().iter().map(|r| r.key.len()).max().unwrap_or(10).max(10);
    let value_w = 38.min(width.saturating_sub(key_w) / 2).max(12);
    let rows = st.tab_rows().into_iter().enumerate().map(|(i, r)| {
        let selected = i == st.selected;
        let value = match (&st.editing, selected) {
            (Some(v), true) => Span::styled(super::field(v, true, r.secret, value_w), t.bold()),
            // One word for "nothing there", secret or not; where empty means a default, it says which.
            _ if r.value.is_empty() || (r.secret && r.value == "unset") => Span::styled(
                match r.key {
                    "backup.dir" => "(not set: backups/ in the data home)",
                    "edge.listen" => "(not set: no edge)",
                    _ => "(not set)",
                },
                t.dim(),
            ),
            _ if r.secret => Span::styled("(set)", t.dim()),
            _ => Span::raw(r.value.clone()),
        };
        let err = st.error.as_ref().filter(|(k, _)| k == r.key).map(|_| Span::styled("✗ ", t.error()));
        let row = Row::new(vec![
            Cell::from(if selected { "▶" } else { " " }),
            Cell::from(r.key),
            Cell::from(Line::from(err.into_iter().chain([value]).collect::<Vec<_>>())),
            Cell::from(Span::styled(fit(r.help, width.saturating_sub(key_w + value_w + 3)), t.dim())),
        ]);
        if selected && st.editing.is_none() { row.style(t.selected()) } else { row }
    });
    let widths = [
        Constraint::Length(1),
        Constraint::Length(key_w as u16),
        Constraint::Length(value_w as u16),
        Constraint::Min(10),
    ];
    // A local table state: ratatui scrolls the window to the selected row (the list is longer
    // than a small terminal), and render stays free of app state changes.
    let mut scroll = ratatui::widgets::TableState::default().with_selected(Some(st.selected));
    frame.render_stateful_widget(
        Table::new(rows, widths).block(Block::bordered().title(" Settings ")),
        area,
        &mut scroll,
    );
}

fn security(st: &SettingsState, t: &Theme, frame: &mut Frame, area: Rect) {
    let [form, users] = Layout::vertical([Constraint::Length(7), Constraint::Min(3)]).areas(area);
    let lines = match &st.account {
        None => vec![Line::styled(" P changes your password · a adds a user (admins)", t.dim())],
        Some(f) => {
            let field = |i: usize, label: &str, value: &crate::app::text::Field, mask: bool, after: String| {
                let focused = f.field == i;
                Line::from(vec![
                    Span::styled(format!(" {label:<14}"), if focused { t.bold() } else { t.dim() }),
                    Span::styled(
                        super::field(value, focused, mask, 40),
                        if focused { t.bold() } else { Default::default() },
                    ),
                    Span::styled(after, t.dim()),
                ])
            };
            let mut l = Vec::new();
            if !f.adding {
                l.push(field(0, "Current", &f.username, true, String::new()));
            }
            if f.adding {
                let role = format!("   role: {} (Space on an empty name toggles)", f.role());
                l.push(field(0, "Username", &f.username, false, role));
            }
            l.push(field(1, "New password", &f.password, true, String::new()));
            l.push(field(2, "Repeat", &f.repeat, true, String::new()));
            if let Some(p) = f.problem().filter(|_| !f.password.is_empty()) {
                l.push(Line::styled(format!(" ✗ {p}"), t.error()));
            }
            l
        }
    };
    let title = match &st.account {
        Some(f) if f.adding => " Add user (Enter saves, Esc cancels) ",
        Some(_) => " Change your password (Enter saves, Esc cancels) ",
        None => " Account ",
    };
    frame.render_widget(Paragraph::new(lines).block(Block::bordered().title(title)), form);
    let rows = st
        .users
        .iter()
        .map(|u| Row::new(vec![u.username.clone(), u.role.to_string(), crate::domain::fmt_time(u.created_at)]));
    let widths = [Constraint::Length(20), Constraint::Length(10), Constraint::Min(10)];
    frame.render_widget(
        Table::new(rows, widths)
            .header(Row::new(["User", "Role", "Created"]).style(t.bold()))
            .block(Block::bordered().title(" Users ")),
        users,
    );
}
