//! The dashboard: stats cards and the customers table. Only the visible rows are built, so
//! 10,000 customers cost no more per frame than 30.

use crate::domain::sanitize::terminal_safe;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table};

use super::fit;
use super::theme::Theme;
use crate::app::AppState;
use crate::domain::customer::CustomerStatus;

/// Draws cards and table into `area`.
pub fn render(state: &AppState, t: &Theme, frame: &mut Frame, area: Rect) {
    let big = area.width >= 110 && state.size.1 >= 30;
    let [cards, table] =
        Layout::vertical([Constraint::Length(if big { 3 } else { 1 }), Constraint::Min(3)]).areas(area);
    if big {
        cards_boxes(state, t, frame, cards)
    } else {
        cards_line(state, t, frame, cards)
    }
    customers(state, t, frame, table);
}

fn cards_boxes(state: &AppState, t: &Theme, frame: &mut Frame, area: Rect) {
    let n = state.dashboard.counts();
    let (used, allowed) = state.dashboard.devices();
    let cells =
        Layout::horizontal([Constraint::Length(15); 6].into_iter().chain([Constraint::Length(20), Constraint::Min(0)]))
            .split(area);
    let card = |title: &str, value: Line<'static>| {
        Paragraph::new(value).centered().block(Block::bordered().title(format!(" {title} ")))
    };
    frame.render_widget(card("Total", Line::styled(n.total.to_string(), t.bold())), cells[0]);
    let cards = [
        ("Active", CustomerStatus::Active, n.active),
        ("Degraded", CustomerStatus::Degraded, n.degraded),
        ("Inactive", CustomerStatus::Inactive, n.inactive),
        ("Stopped", CustomerStatus::Stopped, n.stopped),
        ("Error", CustomerStatus::Error, n.error),
    ];
    for (i, (title, status, count)) in cards.into_iter().enumerate() {
        let (m, s) = t.status(status);
        frame.render_widget(card(title, Line::styled(format!("{m} {count}"), s)), cells[i + 1]);
    }
    frame.render_widget(card("Devices", Line::raw(format!("{used} / {allowed}"))), cells[6]);
}

fn cards_line(state: &AppState, t: &Theme, frame: &mut Frame, area: Rect) {
    let n = state.dashboard.counts();
    let (used, allowed) = state.dashboard.devices();
    let (ma, sa) = t.status(CustomerStatus::Active);
    let (md, sd) = t.status(CustomerStatus::Degraded);
    let (mi, si) = t.status(CustomerStatus::Inactive);
    let (mst, sst) = t.status(CustomerStatus::Stopped);
    let (me, se) = t.status(CustomerStatus::Error);
    let line = Line::from(vec![
        Span::styled(format!(" Total {}", n.total), t.bold()),
        Span::raw(" · "),
        Span::styled(format!("{ma} {} active", n.active), sa),
        Span::raw(" · "),
        Span::styled(format!("{md} {} degr.", n.degraded), sd),
        Span::raw(" · "),
        Span::styled(format!("{mi} {} inact.", n.inactive), si),
        Span::raw(" · "),
        Span::styled(format!("{mst} {} stop.", n.stopped), sst),
        Span::raw(" · "),
        Span::styled(format!("{me} {} err.", n.error), se),
        Span::raw(format!(" · dev {used}/{allowed}")),
    ]);
    frame.render_widget(Paragraph::new(line), area);
}

/// Columns by priority; narrower screens drop them from the end of this list. "Host" shows only
/// once a customer runs on another host than this machine, "Contract" once a customer has one.
const COLUMNS: [(&str, u16); 11] = [
    ("Name", 20),
    ("Subdomain", 14),
    ("Status", 12),
    ("Host", 10),
    ("Devices", 8),
    ("Svc", 6),
    ("UDP", 6),
    ("Online", 6),
    ("Company", 18),
    ("Created", 10),
    ("Contract", 14),
];

fn customers(state: &AppState, t: &Theme, frame: &mut Frame, area: Rect) {
    let d = &state.dashboard;
    let mut title = vec![Span::styled(format!(" Customers ({}) ", d.rows.len()), t.bold())];
    if !d.filter.is_empty() || d.filtering {
        title.push(Span::raw(format!("─ /{} ", super::field(&d.filter, d.filtering, false, 30))));
    }
    title.push(Span::raw(format!("─ status: {} ", d.status_filter.map_or("all".to_string(), |s| s.to_string()))));
    title.push(Span::raw(format!("─ sort: {} ", d.sort.map_or("name", |s| s.label()))));
    if !d.marked.is_empty() {
        title.push(Span::styled(format!("─ ✓ {} marked ", d.marked.len()), t.warn()));
    }
    let height = state.table_height();
    let shown = d.visible.len().min(d.offset + height).saturating_sub(d.offset);
    let range = if d.visible.is_empty() {
        "0 of 0".to_string()
    } else {
        format!("{}-{} of {}", d.offset + 1, d.offset + shown, d.visible.len())
    };
    let mut block =
        Block::bordered().title(Line::from(title)).title_bottom(Line::from(format!(" {range} ")).right_aligned());
    // Why the selected customer is in trouble, where the eye already is (the whole text and
    // what to do are on its Info tab).
    if let Some(c) = d.selected_row().map(|r| &r.customer)
        && let Some(reason) = c.status_reason.as_deref()
    {
        let room = usize::from(area.width).saturating_sub(range.chars().count() + 8);
        let text = terminal_safe(&format!("{}: {reason}", c.subdomain));
        block = block.title_bottom(Line::styled(format!(" {} ", fit(&text, room)), t.status(c.status).1));
    }

    if d.visible.is_empty() {
        let new_key = state
            .keys
            .table(crate::app::keymap::Mode::Dashboard)
            .iter()
            .find(|b| b.action == crate::app::Action::NewCustomer)
            .map(|b| b.label.to_string());
        let msg = if !d.loaded {
            "loading…".to_string()
        } else if d.rows.is_empty() {
            // The key, as the keymap (and keys.toml) has it: this is the app, not the CLI.
            match new_key {
                Some(k) => format!("No customers yet. Press {k} to create one."),
                None => "No customers yet.".to_string(),
            }
        } else {
            "No customer matches the filter (Esc clears it).".to_string()
        };
        frame.render_widget(Paragraph::new(Line::styled(format!(" {msg}"), t.dim())).block(block), area);
        return;
    }

    // Fit columns: keep adding by priority while they fit (the name column takes the rest).
    let inner = area.width.saturating_sub(4);
    let mut used = 0u16;
    let mut cols = Vec::new();
    let several_hosts = d.rows.iter().any(|r| r.host.is_some());
    let contracts = d.rows.iter().any(|r| r.customer.contract_id.is_some());
    let services = d.rows.iter().any(|r| r.customer.reverse_proxy);
    for (i, (name, w)) in COLUMNS.iter().enumerate() {
        if (*name == "Host" && !several_hosts) || (*name == "Contract" && !contracts) || (*name == "Svc" && !services) {
            continue;
        }
        if i == 0 || used + w < inner {
            used += w + 1;
            cols.push((*name, *w));
        }
    }
    let widths: Vec<Constraint> = cols
        .iter()
        .enumerate()
        .map(|(i, (_, w))| if i == 0 { Constraint::Min(*w) } else { Constraint::Length(*w) })
        .collect();
    let rows = d.visible[d.offset..d.offset + shown].iter().enumerate().map(|(i, idx)| {
        let r = &d.rows[*idx];
        let c = &r.customer;
        let (marker, style) = t.status(c.status);
        let cells = cols.iter().map(|(name, w)| match *name {
            "Name" => Cell::from(fit(&terminal_safe(&c.name), 40)),
            "Subdomain" => Cell::from(fit(&c.subdomain, usize::from(*w))),
            // An operation this app runs on the customer shows in its row, not only in the header.
            "Status" => match state.running.get(&c.id) {
                Some(run) => Cell::from(Span::styled(format!("◐ {}…", run.op.verb()), t.warn())),
                None => Cell::from(Span::styled(format!("{marker} {}", c.status), style)),
            },
            "Devices" => {
                let text = format!("{}/{}", r.devices.map_or("—".to_string(), |n| n.to_string()), c.max_devices);
                // Over the allowance is flagged in words too, not only in colour.
                match r.devices {
                    Some(n) if i64::from(n) > c.max_devices => Cell::from(Span::styled(format!("{text}!"), t.warn())),
                    _ => Cell::from(text),
                }
            }
            // Services its reverse proxy publishes; those in trouble counted apart, in words too.
            "Svc" => match r.services {
                Some((n, 0)) => Cell::from(n.to_string()),
                Some((n, bad)) => Cell::from(Span::styled(format!("{n} ✗{bad}"), t.warn())),
                None if c.reverse_proxy => Cell::from("—"),
                None => Cell::from(""),
            },
            "Online" => Cell::from(r.online.map_or("—".to_string(), |n| format!("● {n}"))),
            "UDP" => Cell::from(r.udp_port.map_or("—".to_string(), |p| p.to_string())),
            "Host" => Cell::from(fit(r.host.as_deref().unwrap_or(crate::domain::host::LOCAL), usize::from(*w))),
            "Company" => Cell::from(if c.company.is_empty() {
                "—".to_string()
            } else {
                fit(&terminal_safe(&c.company), usize::from(*w))
            }),
            "Contract" => Cell::from(
                c.contract_id.as_deref().map_or("—".to_string(), |x| fit(&terminal_safe(x), usize::from(*w))),
            ),
            _ => Cell::from(c.created_at.date().to_string()),
        });
        let selected = d.offset + i == d.selected;
        let prefix = match (selected, d.marked.contains(&c.id)) {
            (true, true) => "▶✓",
            (true, false) => "▶ ",
            (false, true) => " ✓",
            (false, false) => "  ",
        };
        let mut all = vec![Cell::from(prefix)];
        all.extend(cells);
        let row = Row::new(all);
        if selected { row.style(t.selected()) } else { row }
    });
    let mut w = vec![Constraint::Length(2)];
    w.extend(widths);
    let header = {
        let mut h = vec![Cell::from("")];
        h.extend(cols.iter().map(|(n, _)| Cell::from(*n)));
        Row::new(h).style(t.bold())
    };
    frame.render_widget(Table::new(rows, w).header(header).block(block), area);
}
