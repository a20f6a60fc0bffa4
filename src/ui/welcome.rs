//! The welcome screen: where nbmsp stands and what the command line offers meanwhile.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::app::AppState;

/// Draws the welcome screen into `area`.
pub fn render(state: &AppState, frame: &mut Frame, area: Rect) {
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let mut lines = vec![
        Line::styled(format!("nbmsp {}", env!("CARGO_PKG_VERSION")), bold),
        Line::raw(format!("data home: {}", state.home)),
        Line::raw(""),
    ];
    if state.initialised {
        lines.push(Line::raw("The full-screen dashboard is not built yet. Meanwhile the command line does it all:"));
        for cmd in ["nbmsp customer list", "nbmsp customer create --help", "nbmsp settings show", "nbmsp doctor"] {
            lines.push(Line::raw(format!("  {cmd}")));
        }
    } else {
        lines.push(Line::raw("nbmsp is not set up here yet. Quit and run:"));
        lines.push(Line::raw("  nbmsp init --admin-email you@example.com --base-domain msp.example.com"));
    }
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(Block::bordered().title(" nbmsp ")),
        area,
    );
}
