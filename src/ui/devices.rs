//! The fleet's devices view (`:devices`): used/allowed per customer, over the limit first,
//! online now and devices on old clients, from the counts the monitor keeps.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Clear, Row, Table};

use super::fit;
use super::theme::Theme;
use crate::app::AppState;
use crate::domain::fleet::by_device_use;

/// Draws the view over `body`.
pub fn render(state: &AppState, scroll: u16, t: &Theme, frame: &mut Frame, body: Rect) {
    let rows = by_device_use(&state.dashboard.rows);
    let over = rows.iter().filter(|r| r.devices.is_some_and(|n| i64::from(n) > r.customer.max_devices)).count();
    let outdated: u32 = rows.iter().filter_map(|r| r.outdated).sum();
    let (used, allowed) = state.dashboard.devices();
    let online: u32 = rows.iter().filter_map(|r| r.online).sum();
    let height = usize::from(body.height.saturating_sub(3)).max(1);
    let start = usize::from(scroll).min(rows.len().saturating_sub(height));
    let lines = rows.iter().skip(start).take(height).map(|r| {
        let c = &r.customer;
        let counted = r.devices.map_or("—".to_string(), |n| n.to_string());
        let over = r.devices.is_some_and(|n| i64::from(n) > c.max_devices);
        let use_cell = format!("{counted}/{}{}", c.max_devices, if over { " over" } else { "" });
        Row::new(vec![
            Cell::from(fit(&c.subdomain, 24)),
            if over { Cell::from(Span::styled(use_cell, t.warn())) } else { Cell::from(use_cell) },
            Cell::from(r.online.map_or("—".to_string(), |n| n.to_string())),
            Cell::from(r.outdated.map_or("—".to_string(), |n| n.to_string())),
            Cell::from(Span::styled(c.status.to_string(), t.status(c.status).1)),
        ])
    });
    let header = Row::new(["Customer", "Devices", "Online", "Old clients", "Status"]).style(t.bold());
    let title = format!(" Devices · {used} of {allowed} allowed · {online} online · {over} over their limit ");
    let bottom = if outdated > 0 {
        format!(" {outdated} on clients older than netbird.min_client_version · Esc closes ")
    } else {
        " old clients: set netbird.min_client_version · Esc closes ".to_string()
    };
    let area = super::centered(body, 90, body.height);
    frame.render_widget(Clear, area);
    let widths = [
        Constraint::Min(14),
        Constraint::Length(12),
        Constraint::Length(7),
        Constraint::Length(12),
        Constraint::Length(10),
    ];
    let block = Block::bordered()
        .title(Line::styled(fit(&title, usize::from(area.width.saturating_sub(2))), t.bold()))
        .title_bottom(Line::from(fit(&bottom, usize::from(area.width.saturating_sub(2)))));
    frame.render_widget(Table::new(lines, widths).header(header).block(block), area);
}
