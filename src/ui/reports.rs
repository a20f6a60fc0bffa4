//! The Reports view (`:reports`): per customer, uptime against its promise (misses first) with
//! the time down, in maintenance and unknown, and a sparkline of its daily devices online; below,
//! the fleet's downtime by cause as bars. Months and times are UTC.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Clear, Paragraph, Row, Table};

use super::fit;
use super::theme::Theme;
use crate::app::Action;
use crate::app::keymap::{Keymap, Mode};
use crate::app::reports::{ReportsView, Shown};
use crate::engine::fleet::reports::{Report, ReportKind, ReportRow};

/// Draws the view over `body`.
pub fn render(view: &ReportsView, keys: &Keymap, t: &Theme, frame: &mut Frame, body: Rect) {
    let area = super::centered(body, 120, body.height);
    frame.render_widget(Clear, area);
    let width = usize::from(area.width.saturating_sub(2));
    let key = |a: Action| keys.label(Mode::Reports, &a).unwrap_or("—").to_string();
    let other = if view.shown == Shown::This { "last month" } else { "this month" };
    let bottom = format!(
        " {} {other} · {} copies the invoice CSV · {} exports · {} closes ",
        key(Action::NextTab(1)),
        key(Action::CopyReport),
        key(Action::ExportReport),
        key(Action::Back)
    );
    let report = match &view.data {
        None => return message(" Reports ", "computing the month's figures …", &bottom, t, frame, area),
        Some(Err(e)) => {
            return message(" Reports ", &format!("cannot compute the reports: {e}"), &bottom, t, frame, area);
        }
        Some(Ok(_)) => view.report(),
    };
    let Some(report) = report else { return };
    let missed = report.rows.iter().filter(|r| r.sla_met == Some(false)).count();
    let progress = if report.in_progress { ", up to now" } else { "" };
    let title = format!(
        " Reports · {} (UTC{progress}) · {missed} of {} missed their SLA · maintenance {} ",
        report.month,
        report.rows.len(),
        report.maintenance
    );
    let block = Block::bordered()
        .title(Line::styled(fit(&title, width), t.bold()))
        .title_bottom(Line::from(fit(&bottom, width)));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let causes = report.causes();
    let chart_height = u16::try_from(causes.len().clamp(1, 4)).unwrap_or(1) + 1;
    let [table_area, chart_area] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(chart_height)]).areas(inner);
    table(report, view.scroll, t, frame, table_area);
    chart(&causes, t, frame, chart_area);
}

fn message(title: &str, text: &str, bottom: &str, t: &Theme, frame: &mut Frame, area: Rect) {
    let width = usize::from(area.width.saturating_sub(2));
    let block =
        Block::bordered().title(Line::styled(title.to_string(), t.bold())).title_bottom(Line::from(fit(bottom, width)));
    frame.render_widget(Paragraph::new(text.to_string()).block(block), area);
}

/// Seconds as people read a month's downtime: `0`, `43m`, `2h05m`, `3d04h`.
pub fn duration(s: i64) -> String {
    let m = s / 60;
    match (m / 1440, (m / 60) % 24, m % 60) {
        _ if s <= 0 => "0".into(),
        (0, 0, 0) => format!("{s}s"),
        (0, 0, min) => format!("{min}m"),
        (0, h, min) => format!("{h}h{min:02}m"),
        (d, h, _) => format!("{d}d{h:02}h"),
    }
}

/// A row of block characters, one per day, scaled to the highest day shown; a day without a
/// count is a space.
pub fn sparkline(days: &[Option<u32>]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = days.iter().flatten().copied().max().unwrap_or(0).max(1);
    days.iter()
        .map(|d| match d {
            None => ' ',
            Some(n) => BARS[usize::try_from(u64::from(*n) * 7 / u64::from(max)).unwrap_or(7).min(7)],
        })
        .collect()
}

/// The days to draw: up to today in a month under way, at most `n`, the latest ones.
fn shown_days(report: &Report, row: &ReportRow, n: usize) -> String {
    let today = if report.in_progress {
        report.generated_at.get(8..10).and_then(|d| d.parse::<usize>().ok()).unwrap_or(row.devices_daily_peak.len())
    } else {
        row.devices_daily_peak.len()
    };
    let days = &row.devices_daily_peak[..today.min(row.devices_daily_peak.len())];
    sparkline(&days[days.len().saturating_sub(n)..])
}

fn table(report: &Report, scroll: u16, t: &Theme, frame: &mut Frame, area: Rect) {
    let wide = area.width >= 100;
    let spark = if wide { 31 } else { 14 };
    let height = usize::from(area.height.saturating_sub(1)).max(1);
    let rows = report.sorted(ReportKind::Uptime);
    let start = usize::from(scroll).min(rows.len().saturating_sub(height));
    let lines = rows.iter().skip(start).take(height).map(|r| {
        let uptime = r.uptime_pct.map_or("—".to_string(), |p| format!("{p:.3}%"));
        let (sla, style) = match r.sla_met {
            Some(false) => ("missed", t.error()),
            Some(true) => ("kept", t.ok()),
            None => ("—", t.dim()),
        };
        let name = if r.partial { format!("{} ◐", r.subdomain) } else { r.subdomain.clone() };
        let devices = match (r.devices_peak, r.devices_avg) {
            (Some(p), Some(a)) => format!("{p}/{a:.1}"),
            _ => "—".into(),
        };
        let mut cells = vec![
            Cell::from(fit(&name, 24)),
            Cell::from(Span::styled(uptime, style)),
            Cell::from(Span::styled(sla, style)),
        ];
        if wide {
            cells.push(Cell::from(format!("{}%", r.sla_target)));
        }
        cells.push(Cell::from(duration(r.downtime_s)));
        cells.push(Cell::from(duration(r.maintenance_s)));
        cells.push(Cell::from(Span::styled(duration(r.unknown_s), t.dim())));
        if wide {
            cells.push(Cell::from(devices));
        }
        cells.push(Cell::from(shown_days(report, r, spark)));
        Row::new(cells)
    });
    let (header, widths) = if wide {
        (
            vec![
                "Customer",
                "Uptime",
                "SLA",
                "Target",
                "Down",
                "Maint.",
                "Unknown",
                "Peak/avg",
                "Devices online per day",
            ],
            vec![
                Constraint::Min(14),
                Constraint::Length(9),
                Constraint::Length(6),
                Constraint::Length(7),
                Constraint::Length(7),
                Constraint::Length(7),
                Constraint::Length(7),
                Constraint::Length(9),
                Constraint::Length(31),
            ],
        )
    } else {
        (
            vec!["Customer", "Uptime", "SLA", "Down", "Maint.", "Unkn.", "Devices/day"],
            vec![
                Constraint::Min(10),
                Constraint::Length(9),
                Constraint::Length(6),
                Constraint::Length(6),
                Constraint::Length(6),
                Constraint::Length(6),
                Constraint::Length(14),
            ],
        )
    };
    let header = Row::new(header).style(t.bold());
    frame.render_widget(Table::new(lines, widths).header(header), area);
}

fn chart(causes: &[(String, i64)], t: &Theme, frame: &mut Frame, area: Rect) {
    let mut lines = vec![Line::from(vec![
        Span::styled("Downtime by cause", t.bold()),
        Span::styled("   ◐ created or deleted during the month", t.dim()),
    ])];
    if causes.is_empty() {
        lines.push(Line::styled("none recorded", t.dim()));
    }
    let max = causes.first().map_or(1, |c| c.1.max(1));
    let bar_width = usize::from(area.width).saturating_sub(24).max(4);
    for (cause, s) in causes.iter().take(4) {
        let n = usize::try_from(*s * i64::try_from(bar_width).unwrap_or(1) / max).unwrap_or(0).max(1);
        lines.push(Line::from(vec![
            Span::raw(format!("{:<12} ", fit(cause, 12))),
            Span::styled("█".repeat(n), t.error()),
            Span::raw(format!(" {}", duration(*s))),
        ]));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(duration(0), "0");
        assert_eq!(duration(45), "45s");
        assert_eq!(duration(43 * 60), "43m");
        assert_eq!(duration(2 * 3600 + 5 * 60), "2h05m");
        assert_eq!(duration(3 * 86_400 + 4 * 3600 + 59), "3d04h");
    }

    #[test]
    fn sparklines_scale_to_the_busiest_day_and_leave_gaps() {
        assert_eq!(sparkline(&[Some(0), Some(7), None, Some(14)]), "▁▄ █");
        assert_eq!(sparkline(&[None, None]), "  ");
    }
}
