//! The Docker hosts view (`:hosts`): every engine with its version (or why it did not answer),
//! customers, containers, memory its stacks take against what it has, disk and UDP ports.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Clear, Paragraph, Row, Table, Wrap};

use super::fit;
use super::theme::Theme;
use crate::app::overlays::HostsView;
use crate::domain::edge::EdgeHealth;

/// Draws the view over `body`.
pub fn render(view: &HostsView, keys: &crate::app::keymap::Keymap, t: &Theme, frame: &mut Frame, body: Rect) {
    let edges = matches!(&view.list, Some(Ok(h)) if h.iter().any(|h| h.edge != EdgeHealth::NotWanted));
    let area = super::centered(body, if edges { 119 } else { 110 }, body.height);
    frame.render_widget(Clear, area);
    let width = usize::from(area.width.saturating_sub(2));
    let hosts = match &view.list {
        None => return message(" Hosts ", "asking every engine ...", t, frame, area),
        Some(Err(e)) => return message(" Hosts ", &format!("cannot list the hosts: {e}"), t, frame, area),
        Some(Ok(h)) => h,
    };
    let down = hosts.iter().filter(|h| h.error.is_some()).count();
    // The edge column (`edges`) only where nbmsp runs edges (`edge.listen`).
    // The selected host's edge trouble, in words, on a line under the table.
    let trouble = hosts.get(view.selected).and_then(|h| match &h.edge {
        EdgeHealth::Trouble { reason } => Some(format!(" edge on {}: {reason}", h.name)),
        _ => None,
    });
    let (area, note) = match &trouble {
        Some(_) if area.height > 4 => {
            let [a, n] = ratatui::layout::Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(area);
            (a, Some(n))
        }
        _ => (area, None),
    };
    let customers: usize = hosts.iter().map(|h| h.customers).sum();
    let height = usize::from(area.height.saturating_sub(3)).max(1);
    // The selected row stays in sight.
    let start = view.selected.saturating_sub(height - 1).min(hosts.len().saturating_sub(height));
    // Narrow terminals drop the public IP and the container counts, not the verdict.
    let wide = area.width >= 100;
    let gb = |mb: u64| format!("{:.1}", mb as f64 / 1024.0);
    let rows = hosts.iter().enumerate().skip(start).take(height).map(|(i, h)| {
        let engine = match (&h.version, &h.error) {
            // The state first: a narrow column cuts the version, not the state.
            (Some(v), _) if h.draining => Cell::from(Span::styled(format!("draining · {v}"), t.warn())),
            // proxy = npm and no NPM of its own: it takes no customers.
            (Some(v), _) if !h.publishable => Cell::from(Span::styled(format!("no NPM · {v}"), t.warn())),
            (Some(v), _) => Cell::from(v.clone()),
            (None, e) => Cell::from(Span::styled(
                format!("unreachable: {}", e.as_deref().unwrap_or("no answer")),
                t.status(crate::domain::customer::CustomerStatus::Error).1,
            )),
        };
        let r = h.resources;
        let mut cells = vec![Cell::from(fit(&h.name, 14)), engine];
        if wide {
            cells.push(Cell::from(fit(h.public_ip.as_deref().unwrap_or("this machine"), 16)));
        }
        cells.push(Cell::from(h.customers.to_string()));
        if wide {
            cells.push(Cell::from(h.ours.map_or("—".into(), |(running, all)| format!("{running}/{all}"))));
        }
        cells.push(Cell::from(r.map_or("—".into(), |r| format!("{}/{} GB", gb(h.committed_mb), gb(r.memory_mb)))));
        if wide {
            let disk = h.disk_percent.map_or("—".into(), |p| format!("{p}%"));
            let style =
                if h.disk_percent.is_some_and(|p| p >= 90) { t.warn() } else { ratatui::style::Style::default() };
            cells.push(Cell::from(Span::styled(disk, style)));
        }
        cells.push(Cell::from(format!("{}/{}", h.udp_used, h.udp_free)));
        if edges {
            let style =
                if matches!(h.edge, EdgeHealth::Trouble { .. }) { t.warn() } else { ratatui::style::Style::default() };
            cells.push(Cell::from(Span::styled(h.edge.short(), style)));
        }
        let row = Row::new(cells);
        if i == view.selected { row.style(t.selected()) } else { row }
    });
    let (mut header, mut widths) = if wide {
        (
            vec!["Host", "Docker", "Public IP", "Customers", "Running", "Memory stacks/host", "Disk", "UDP used/free"],
            vec![
                Constraint::Length(14),
                Constraint::Min(16),
                Constraint::Length(16),
                Constraint::Length(9),
                Constraint::Length(8),
                Constraint::Length(18),
                Constraint::Length(5),
                Constraint::Length(13),
            ],
        )
    } else {
        (
            vec!["Host", "Docker", "Cust.", "Memory", "UDP"],
            vec![
                Constraint::Length(12),
                Constraint::Min(14),
                Constraint::Length(5),
                Constraint::Length(14),
                Constraint::Length(8),
            ],
        )
    };
    if edges {
        header.push("Edge");
        widths.push(Constraint::Length(8));
    }
    let header = Row::new(header).style(t.bold());
    let title = format!(" Hosts · {} · {customers} customers · {down} unreachable ", hosts.len());
    let key = |a: crate::app::Action| keys.label(crate::app::keymap::Mode::Hosts, &a).unwrap_or("—").to_string();
    let keys = format!(
        " {} drains/opens · {} asks again · `nbmsp host add` adds one · {} closes ",
        key(crate::app::Action::ToggleDrain),
        key(crate::app::Action::Refresh),
        key(crate::app::Action::Back)
    );
    let block =
        Block::bordered().title(Line::styled(fit(&title, width), t.bold())).title_bottom(Line::from(fit(&keys, width)));
    frame.render_widget(Table::new(rows, widths).header(header).block(block), area);
    if let (Some(n), Some(text)) = (note, trouble) {
        frame.render_widget(Clear, n);
        frame.render_widget(Paragraph::new(Line::styled(fit(&text, usize::from(n.width)), t.warn())), n);
    }
}

fn message(title: &str, text: &str, t: &Theme, frame: &mut Frame, area: Rect) {
    let block = Block::bordered().title(Line::styled(title, t.bold()));
    frame.render_widget(Paragraph::new(text.to_string()).wrap(Wrap { trim: true }).block(block), area);
}
