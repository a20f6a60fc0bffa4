//! The login screen.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::centered;
use super::theme::Theme;
use crate::app::AppState;

/// Draws the login form (the password as bullets, never its characters).
pub fn render(state: &AppState, t: &Theme, frame: &mut Frame, area: Rect) {
    let l = &state.login;
    let field = |label: &str, value: &crate::app::text::Field, active: bool, mask: bool| {
        let style = if active { t.bold() } else { t.dim() };
        let text = super::field(value, active, mask, 40);
        Line::from(vec![Span::raw(format!("  {label:<10}")), Span::styled(text, style)])
    };
    let mut lines = vec![
        Line::raw(""),
        field("User", &l.user, l.field == 0, false),
        field("Password", &l.password, l.field == 1, true),
        Line::raw(""),
    ];
    if l.busy {
        lines.push(Line::styled("  checking…", t.dim()));
    } else if let Some(m) = &l.message {
        lines.push(Line::styled(format!("  ✗ {m}"), t.error()));
    }
    let box_area = centered(area, 60, 9);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(format!(" nbmsp {} · log in ", env!("CARGO_PKG_VERSION")))),
        box_area,
    );
}
