//! The new/edit customer form, drawn over the dashboard: errors inline next to each field, the
//! resulting FQDN beside the subdomain, and the save button marked unavailable while invalid.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::theme::Theme;
use super::{centered, fit};
use crate::app::AppState;
use crate::app::form::{Field, FormState};
use crate::domain::customer::Layout as NbLayout;

/// Draws the form box into `area`.
pub fn render(state: &AppState, t: &Theme, frame: &mut Frame, area: Rect) {
    let Some(f) = state.form() else { return };
    // One row per field (the notes have their own box): the form grows with the reference fields.
    let rows = u16::try_from(Field::all().len() - 1).unwrap_or(u16::MAX);
    let outer = centered(area, 76, rows.saturating_add(11));
    frame.render_widget(Clear, outer);
    let title = if f.editing.is_some() { " Edit customer " } else { " New customer " };
    let block = Block::bordered().title(title);
    let inner = block.inner(outer);
    frame.render_widget(block, outer);
    let [fields, notes, status, buttons] =
        Layout::vertical([Constraint::Length(rows), Constraint::Min(3), Constraint::Length(2), Constraint::Length(1)])
            .areas(inner);
    let width = usize::from(inner.width);
    let mut lines = Vec::new();
    for field in Field::all().into_iter().filter(|x| *x != Field::Notes) {
        lines.push(field_line(f, field, t, width));
    }
    frame.render_widget(Paragraph::new(lines), fields);

    let focused = f.focus == Field::Notes;
    let mut notes_area = f.notes.clone();
    notes_area.set_block(Block::bordered().title(if focused {
        " Notes (Enter: new line, Ctrl-S: save) "
    } else {
        " Notes "
    }));
    notes_area.set_cursor_line_style(ratatui::style::Style::new());
    if !focused {
        notes_area.set_cursor_style(ratatui::style::Style::new());
    }
    frame.render_widget(&notes_area, notes);

    let message = match (&f.server_error, f.errors.first(), f.busy) {
        (_, _, true) => Line::styled(" saving…", t.dim()),
        (Some(e), _, _) => Line::styled(format!(" ✗ {e}"), t.error()),
        (None, Some(e), _) => Line::styled(format!(" ✗ {e}"), t.error()),
        (None, None, false) => Line::styled(" ✓ ready", t.ok()),
    };
    frame.render_widget(Paragraph::new(message).wrap(Wrap { trim: true }), status);
    let action = if f.editing.is_some() { "[ Save ]" } else { "[ Create and deploy ]" };
    let style = if f.errors.is_empty() && !f.busy { t.bold() } else { t.dim() };
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(action, style),
            Span::raw("  Enter   "),
            Span::styled("[ Cancel ]", t.dim()),
            Span::raw("  Esc"),
        ]))
        .right_aligned(),
        buttons,
    );
}

fn field_line(f: &FormState, field: Field, t: &Theme, width: usize) -> Line<'static> {
    let focused = f.focus == field;
    let label = Span::styled(format!(" {:<12}", field.label()), if focused { t.bold() } else { t.dim() });
    let text = |x: &crate::app::text::Field| super::field(x, focused, false, 30);
    let value = match field {
        Field::Name => text(&f.name),
        Field::Company => text(&f.company),
        Field::Subdomain => text(&f.subdomain),
        Field::Email => text(&f.email),
        Field::MaxDevices => text(&f.max_devices),
        Field::Ref(i) => text(&f.refs[i]),
        Field::Sla => {
            let value = super::field(&f.sla, focused, false, 8);
            let mut spans = vec![
                label,
                Span::styled(format!("[{value}]"), if focused { t.bold() } else { Default::default() }),
                Span::styled(" % uptime; empty: the sla.target setting", t.dim()),
            ];
            if let Some(e) = f.error(field) {
                spans = spans[..2].to_vec();
                spans.push(Span::styled(format!(" ✗ {}", fit(&e.rule, width.saturating_sub(26))), t.error()));
            }
            return Line::from(spans);
        }
        Field::Layout if f.layout_fixed => {
            return Line::from(vec![
                label,
                Span::styled(format!("{} (fixed: deployed; its data lives in this layout's place)", f.layout), t.dim()),
            ]);
        }
        Field::Layout => {
            let mark = |l: NbLayout| if f.layout == l { "(•)" } else { "( )" };
            return Line::from(vec![
                label,
                Span::styled(
                    format!("{} combined  {} legacy", mark(NbLayout::Combined), mark(NbLayout::Legacy)),
                    if focused { t.bold() } else { t.dim() },
                ),
                Span::styled(if focused { "   Space toggles" } else { "" }, t.dim()),
            ]);
        }
        Field::ReverseProxy => {
            let mark = |on: bool| if f.reverse_proxy == on { "(•)" } else { "( )" };
            let line = vec![
                label,
                Span::styled(
                    format!("{} off  {} on", mark(false), mark(true)),
                    if focused { t.bold() } else { t.dim() },
                ),
                Span::styled(if focused { "   Space toggles" } else { "" }, t.dim()),
            ];
            let mut spans = line;
            if let Some(e) = f.error(field) {
                spans.push(Span::styled(format!(" ✗ {}", fit(&e.rule, width.saturating_sub(40))), t.error()));
            }
            return Line::from(spans);
        }
        Field::Notes => String::new(),
    };
    let mut spans =
        vec![label, Span::styled(format!("[{value}]"), if focused { t.bold() } else { Default::default() })];
    if field == Field::Subdomain {
        match (f.editing.is_some(), f.fqdn()) {
            (true, Some(d)) => spans.push(Span::styled(format!(" → {d} (fixed)"), t.dim())),
            (false, Some(d)) if f.error(Field::Subdomain).is_none() => {
                spans.push(Span::styled(format!(" → {d} ✓"), t.ok()))
            }
            _ => {}
        }
    }
    if let Some(e) = f.error(field) {
        let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
        spans.push(Span::styled(format!(" ✗ {}", fit(&e.rule, width.saturating_sub(used + 3))), t.error()));
    }
    Line::from(spans)
}
