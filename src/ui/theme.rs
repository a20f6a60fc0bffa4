//! Colours and status markers. Status always has a text marker too, so it reads without colour;
//! with `NO_COLOR` every style is plain. Only the 16 basic colours are used (tmux, SSH, old terminals).

use ratatui::style::{Color, Modifier, Style};

use crate::domain::customer::CustomerStatus;

/// Styles for one frame.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    color: bool,
}

impl Theme {
    /// Colour on or off.
    pub fn new(color: bool) -> Self {
        Self { color }
    }

    fn fg(&self, c: Color) -> Style {
        if self.color { Style::new().fg(c) } else { Style::new() }
    }

    /// Bold text (kept without colour).
    pub fn bold(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    /// Secondary text.
    pub fn dim(&self) -> Style {
        if self.color { Style::new().fg(Color::DarkGray) } else { Style::new() }
    }

    /// Errors.
    pub fn error(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    /// Good news.
    pub fn ok(&self) -> Style {
        self.fg(Color::Green)
    }

    /// Warnings.
    pub fn warn(&self) -> Style {
        self.fg(Color::Yellow)
    }

    /// The selected row.
    pub fn selected(&self) -> Style {
        if self.color {
            Style::new().bg(Color::Blue).fg(Color::White)
        } else {
            Style::new().add_modifier(Modifier::REVERSED)
        }
    }

    /// Key labels in the footer.
    pub fn key(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    /// Marker and style for a status.
    pub fn status(&self, s: CustomerStatus) -> (&'static str, Style) {
        match s {
            CustomerStatus::Active => ("●", self.ok()),
            CustomerStatus::Degraded => ("▲", self.warn()),
            CustomerStatus::Inactive => ("○", self.dim()),
            CustomerStatus::Stopped => ("■", self.dim()),
            CustomerStatus::Deploying => ("◐", self.warn()),
            CustomerStatus::Error => ("✗", self.error()),
        }
    }
}
