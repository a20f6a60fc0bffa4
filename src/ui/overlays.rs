//! Overlays drawn over any screen: help (from the keymap), the command line, confirmations,
//! and the notice line.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::centered;
use super::theme::Theme;
use crate::app::help;
use crate::app::stack::Overlay;
use crate::app::text::Field;
use crate::app::{AppState, Confirm};

/// Draws the open overlays, bottom first, so the one that has the keyboard is on top.
pub fn render(state: &AppState, t: &Theme, frame: &mut Frame, body: Rect) {
    for overlay in state.overlays.iter() {
        match overlay {
            Overlay::Help { scroll } => help(state, *scroll, t, frame, body),
            Overlay::Reports(view) => super::reports::render(view, &state.keys, t, frame, body),
            Overlay::Hosts(view) => super::hosts::render(view, &state.keys, t, frame, body),
            Overlay::Devices { scroll } => super::devices::render(state, *scroll, t, frame, body),
            Overlay::Confirm(c) => confirm(c, t, frame, body),
            Overlay::CommandLine(cmd) => command_line(cmd, t, frame, body),
        }
    }
}

/// A confirmation, in a box.
fn confirm(c: &Confirm, t: &Theme, frame: &mut Frame, body: Rect) {
    let text = if c.needs_typing() {
        vec![
            Line::raw(format!("Delete customer {}?", c.subdomain)),
            Line::raw("Its containers, proxy host, files and port go; a backup is kept."),
            Line::raw(""),
            Line::from(vec![
                Span::raw("Type the subdomain to confirm: "),
                Span::styled(super::field(&c.typed, true, false, 40), t.bold()),
            ]),
        ]
    } else if c.op == crate::engine::worker::protocol::Operation::Reconcile {
        let mut l = vec![Line::raw(format!("Apply these {} fix(es)?", c.bulk.len()))];
        l.extend(c.bulk.iter().take(8).map(|(_, f)| Line::styled(format!("· {f}"), t.dim())));
        if c.bulk.len() > 8 {
            l.push(Line::styled(format!("and {} more (`nbmsp reconcile` lists all)", c.bulk.len() - 8), t.dim()));
        }
        l.push(Line::raw("y yes   n no   Esc cancel"));
        l
    } else if !c.bulk.is_empty() {
        let names: Vec<&str> = c.bulk.iter().map(|(_, n)| n.as_str()).take(6).collect();
        let more = if c.bulk.len() > names.len() {
            format!(" and {} more", c.bulk.len() - names.len())
        } else {
            String::new()
        };
        vec![
            Line::raw(format!("{} {} marked customers?", capitalise(c.op.verb()), c.bulk.len())),
            Line::styled(format!("{}{more}", names.join(", ")), t.dim()),
            Line::raw("A few run at a time (monitor.concurrency); each is reported."),
            Line::raw("y yes   n no   Esc cancel"),
        ]
    } else if let Some(to) = &c.to_host {
        vec![
            Line::raw(format!("Move {} to host {to}?", c.subdomain)),
            Line::raw("Backup, stop, copy there, start and check there, then remove here."),
            Line::raw("Afterwards its DNS points at the new host (hooks.dns can do it)."),
            Line::raw("y yes   n no   Esc cancel"),
        ]
    } else if c.op == crate::app::Asked::Quit {
        vec![
            Line::raw(format!("Still running: {}.", c.subdomain)),
            Line::raw("Quit now? nbmsp leaves the screen and exits once they have finished or rolled back."),
            Line::raw("y quit when done   n stay"),
        ]
    } else {
        vec![
            Line::raw(format!("{} {}?", capitalise(c.op.verb()), c.subdomain)),
            Line::raw(""),
            Line::raw("y yes   n no   Esc cancel"),
        ]
    };
    let rows = u16::try_from(text.len()).unwrap_or(u16::MAX).saturating_add(2).max(6);
    let area = centered(body, 76, rows);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(text).wrap(Wrap { trim: false }).block(Block::bordered().title(" Confirm ")),
        area,
    );
}

/// The `:` command line, on the body's last row.
fn command_line(cmd: &Field, t: &Theme, frame: &mut Frame, body: Rect) {
    let area = Rect { y: body.y + body.height.saturating_sub(1), height: 1, ..body };
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(":", t.key()),
            Span::raw(super::field(cmd, true, false, usize::from(area.width.saturating_sub(2)))),
        ])),
        area,
    );
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

fn help(state: &AppState, scroll: u16, t: &Theme, frame: &mut Frame, body: Rect) {
    let lines: Vec<Line> = help::help_rows(state)
        .into_iter()
        .map(|row| match row {
            help::HelpRow::Key { key, what } => Line::from(vec![Span::styled(key, t.key()), Span::raw(what)]),
            help::HelpRow::Heading(h) => Line::styled(h, t.dim()),
            help::HelpRow::Blank => Line::raw(""),
        })
        .collect();
    let total = u16::try_from(lines.len()).unwrap_or(u16::MAX);
    let h = total.saturating_add(2).min(body.height);
    let inner = h.saturating_sub(2);
    let scroll = scroll.min(total.saturating_sub(inner));
    let title = if total > inner {
        let scroll_keys = help::help_scroll_label(state);
        format!(" Keys · lines {}-{} of {total} · {scroll_keys} scroll ", scroll + 1, (scroll + inner).min(total))
    } else {
        " Keys ".to_string()
    };
    let area = centered(body, help::HELP_WIDTH, h);
    frame.render_widget(Clear, area);
    // The rows are wrapped to this width already: what is drawn is what `help_rows` counted.
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)).block(Block::bordered().title(title)), area);
}

/// The notice line above the footer.
pub fn notice(state: &AppState, t: &Theme, frame: &mut Frame, area: Rect) {
    if let Some(n) = &state.notice {
        let (mark, style) = if n.error { ("✗ ", t.error()) } else { ("✓ ", t.ok()) };
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(format!(" {mark}"), style),
                Span::raw(crate::domain::sanitize::terminal_safe(&n.text)),
            ]))
            .wrap(Wrap { trim: false }),
            area,
        );
    } else if let Some(r) = state.running.values().next() {
        let step = r.current.clone().unwrap_or_else(|| "starting".into());
        frame.render_widget(
            Paragraph::new(Line::styled(format!(" ◐ {} {}: {step}", r.op.verb(), r.subdomain), t.warn())),
            area,
        );
    } else if let crate::app::DockerState::Down(why) = &state.docker {
        let text = format!(" ✗ Docker engine unreachable, retrying (the customer list still works): {why}");
        frame.render_widget(Paragraph::new(Line::styled(super::fit(&text, usize::from(area.width)), t.error())), area);
    }
}

/// An error too long for the notice line gets a panel at the bottom of the body, so the engine's
/// whole actionable message (often with a container's last log lines) can be read.
pub fn error_panel(state: &AppState, t: &Theme, frame: &mut Frame, body: Rect) {
    let Some(n) = state.notice.as_ref() else { return };
    let Some(rows) = n.panel_rows(body.width) else { return };
    let h = u16::try_from(rows + 2).unwrap_or(u16::MAX).min(body.height / 2).max(3);
    let area = Rect { y: body.y + body.height - h, height: h, ..body };
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(n.text.clone())
            .wrap(Wrap { trim: false })
            .style(t.error())
            .block(Block::bordered().title(" Error (any key closes) ")),
        area,
    );
}
