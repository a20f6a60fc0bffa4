//! The first-run setup wizard.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::centered;
use super::theme::Theme;
use crate::app::AppState;
use crate::app::setup::{SetupField, strength};

/// Draws the wizard over the whole screen (there is nothing behind it yet).
pub fn render(state: &AppState, t: &Theme, frame: &mut Frame, area: Rect) {
    let Some(w) = state.setup() else { return };
    let mut lines = vec![
        Line::styled(" Welcome. Set up nbmsp: the first admin, your domain, and how customers are published.", t.dim()),
        Line::raw(""),
    ];
    for f in w.fields() {
        let focused = w.focus == f;
        let value = w.get(f);
        let shown = match f {
            SetupField::Layout => {
                format!("{} combined  {} legacy", radio(value == "combined"), radio(value == "legacy"))
            }
            SetupField::Proxy => format!(
                "{} none (print nginx config)  {} Nginx Proxy Manager",
                radio(value == "none"),
                radio(value == "npm")
            ),
            f => super::field(w.field(f), focused, f.secret(), 40),
        };
        let mut spans = vec![
            Span::styled(format!(" {:<13}", f.label()), if focused { t.bold() } else { t.dim() }),
            Span::styled(shown, if focused { t.bold() } else { Default::default() }),
        ];
        if f == SetupField::Password && !value.is_empty() {
            spans.push(match strength(value) {
                0 => Span::styled("  weak", t.error()),
                1 => Span::styled("  fair", t.warn()),
                _ => Span::styled("  strong", t.ok()),
            });
        }
        if let Some(e) = w.error(f).filter(|_| !value.is_empty() || focused) {
            spans.push(Span::styled(format!("  ✗ {e}"), t.error()));
        }
        lines.push(Line::from(spans));
    }
    lines.push(Line::raw(""));
    match &w.npm_test {
        Some(Ok(m)) => lines.push(Line::styled(format!(" ✓ {m}"), t.ok())),
        Some(Err(e)) => lines.push(Line::styled(format!(" ✗ NPM test: {e}"), t.error())),
        None if w.npm() => lines.push(Line::styled(" Ctrl-T tests the NPM login.", t.dim())),
        None => {}
    }
    if w.busy {
        lines.push(Line::styled(" setting up…", t.dim()));
    } else if let Some(e) = &w.server_error {
        lines.push(Line::styled(format!(" ✗ {e}"), t.error()));
    }
    let area = centered(area, 100, 24);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(format!(" nbmsp {} · first-run setup ", env!("CARGO_PKG_VERSION")))),
        area,
    );
}

fn radio(on: bool) -> &'static str {
    if on { "(•)" } else { "( )" }
}
