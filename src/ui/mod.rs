//! Rendering: `render(&AppState, &mut Frame)`, pure, no IO, one file per view.

pub mod keymap;
mod welcome;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::app::{AppState, Screen};
use keymap::Binding;

/// Draws the whole screen for `state`.
pub fn render(state: &AppState, frame: &mut Frame) {
    let [body, footer_area] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(frame.area());
    let bindings = match state.screen {
        Screen::Welcome => {
            welcome::render(state, frame, body);
            keymap::WELCOME
        }
    };
    frame.render_widget(footer(bindings), footer_area);
    if state.help_open {
        help(bindings, frame, body);
    }
}

fn footer(bindings: &[Binding]) -> Paragraph<'static> {
    let mut spans = Vec::new();
    for b in bindings {
        spans.push(Span::styled(format!(" {}", b.key_label), Style::new().add_modifier(Modifier::BOLD)));
        spans.push(Span::raw(format!(" {} ", b.what)));
    }
    Paragraph::new(Line::from(spans))
}

fn help(bindings: &[Binding], frame: &mut Frame, area: Rect) {
    let lines: Vec<Line> = bindings
        .iter()
        .map(|b| {
            Line::from(vec![
                Span::styled(format!("{:>6}  ", b.key_label), Style::new().add_modifier(Modifier::BOLD)),
                Span::raw(b.what),
            ])
        })
        .collect();
    let h = u16::try_from(lines.len()).unwrap_or(u16::MAX).saturating_add(2).min(area.height);
    let w = 30.min(area.width);
    let popup = Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h };
    frame.render_widget(Clear, popup);
    frame.render_widget(Paragraph::new(lines).block(Block::bordered().title(" Keys ")), popup);
}

#[cfg(test)]
mod tests {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use super::*;

    fn draw(state: &AppState, w: u16, h: u16) -> String {
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        t.draw(|f| render(state, f)).unwrap();
        t.backend().to_string()
    }

    #[test]
    fn welcome_snapshots() {
        let s = AppState::new("/var/lib/nbmsp".into(), true);
        insta::assert_snapshot!("welcome_80x24", draw(&s, 80, 24));
        insta::assert_snapshot!("welcome_120x40", draw(&s, 120, 40));
        let s = AppState { help_open: true, initialised: false, ..s };
        insta::assert_snapshot!("welcome_help_uninitialised_80x24", draw(&s, 80, 24));
    }
}
