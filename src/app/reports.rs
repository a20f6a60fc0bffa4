//! The Reports view (`:reports`): this month and the last per customer, uptime against the
//! promise with the misses first, each customer's daily devices and the fleet's downtime by
//! cause. `y` copies the shown month's invoice CSV, `x` writes its reports to `reports.dir`.

use super::stack::Overlay;
pub use super::stack::{ReportsView, Shown};
use super::{Action, AppState, Command, Event};
use crate::engine::fleet::reports::{Report, ReportKind};

impl ReportsView {
    /// The report on screen, once loaded.
    pub fn report(&self) -> Option<&Report> {
        let (this, last) = self.data.as_ref()?.as_ref().ok()?.as_ref();
        Some(if self.shown == Shown::This { this } else { last })
    }
}

/// Opens the view (or asks again, keeping the month and scroll) and asks for both months.
pub fn open(s: &mut AppState) -> Vec<Command> {
    let keep = s.overlays.reports().cloned().unwrap_or_default();
    s.overlays.push(Overlay::Reports(ReportsView { data: None, ..keep }));
    vec![Command::LoadReports]
}

/// Keys while the view is open; `None` when it is not (the key goes on).
pub fn on_key(s: &mut AppState, action: Action) -> Option<Vec<Command>> {
    let Some(Overlay::Reports(view)) = s.overlays.top_mut() else { return None };
    let rows = view.report().map_or(0, |r| r.rows.len());
    match action {
        Action::Back | Action::Quit => {
            s.overlays.pop();
        }
        Action::Refresh => return Some(open(s)),
        Action::NextTab(_) => {
            view.shown = if view.shown == Shown::This { Shown::Last } else { Shown::This };
            view.scroll = 0;
        }
        Action::Move(n) => {
            let max = u16::try_from(rows.saturating_sub(1)).unwrap_or(u16::MAX);
            view.scroll = view.scroll.saturating_add_signed(n.clamp(-10, 10) as i16).min(max);
        }
        Action::Top => view.scroll = 0,
        Action::CopyReport => match view.report() {
            Some(r) => {
                let csv = crate::engine::fleet::reports::csv(r, ReportKind::Invoice);
                let what = format!("copied the {} invoice CSV ({} customers) to the clipboard", r.month, r.rows.len());
                s.clipboard = Some(csv);
                s.notify(what, false);
            }
            None => s.dirty = false,
        },
        Action::ExportReport => match view.report() {
            Some(r) => match r.month.parse() {
                Ok(month) => return Some(vec![Command::ExportReports { month }]),
                Err(_) => s.dirty = false,
            },
            None => s.dirty = false,
        },
        _ => s.dirty = false,
    }
    Some(Vec::new())
}

/// The computed reports, kept while the view is open.
pub fn on_event(s: &mut AppState, ev: Event) {
    if let (Event::Reports(r), Some(view)) = (ev, s.overlays.reports_mut()) {
        view.data = Some(r.map_err(|f| f.message));
    }
}
