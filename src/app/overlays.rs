//! The fleet views opened over any screen from the command line: `:devices` (the counts the
//! table holds already) and `:hosts` (asked of every engine when opened, `R` again).

use super::{Action, AppState, Command, Event};

/// The hosts view: the selected row and the last answer (`None` while asked).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostsView {
    /// The selected host's row.
    pub selected: usize,
    /// The hosts, or why they could not be listed; `None` while the engines are asked.
    pub list: Option<Result<Vec<crate::engine::hosts::HostStatus>, String>>,
}

/// Opens the hosts view and asks for the list.
pub fn open_hosts(s: &mut AppState) -> Vec<Command> {
    // Asking again keeps the row the operator is on.
    let selected = s.hosts_view.as_ref().map_or(0, |v| v.selected);
    s.hosts_view = Some(HostsView { selected, list: None });
    vec![Command::LoadHosts]
}

/// Keys while a fleet view is open; `None` when none is (the key goes on).
pub fn on_key(s: &mut AppState, action: Action) -> Option<Vec<Command>> {
    if s.reports_view.is_some() {
        return super::reports::on_key(s, action);
    }
    let scrolled = |scroll: u16| match action {
        Action::Move(n) => Some(scroll.saturating_add_signed(n.clamp(-10, 10) as i16)),
        Action::Top => Some(0),
        _ => None,
    };
    if let Some(view) = &mut s.hosts_view {
        let hosts = view.list.as_ref().and_then(|l| l.as_ref().ok());
        let last = hosts.map_or(0, |h| h.len().saturating_sub(1));
        match action {
            Action::Back | Action::Quit => s.hosts_view = None,
            Action::Refresh => return Some(open_hosts(s)),
            Action::ToggleDrain => {
                let Some(h) = hosts.and_then(|h| h.get(view.selected)) else {
                    s.dirty = false;
                    return Some(Vec::new());
                };
                let (host, draining) = (h.name.clone(), !h.draining);
                view.list = None;
                let what = if draining { "draining" } else { "open for new customers" };
                super::update::notice(s, format!("host {host}: {what}"), false);
                return Some(vec![Command::Drain { host, draining }]);
            }
            _ => match scrolled(u16::try_from(view.selected).unwrap_or(u16::MAX)) {
                Some(n) => view.selected = usize::from(n).min(last),
                None => s.dirty = false,
            },
        }
        return Some(Vec::new());
    }
    let scroll = s.devices_view?;
    match action {
        Action::Back | Action::Quit => s.devices_view = None,
        _ => match scrolled(scroll) {
            Some(n) => s.devices_view = Some(n),
            None => s.dirty = false,
        },
    }
    Some(Vec::new())
}

/// The engines' answer, kept when the view is still open.
pub fn on_event(s: &mut AppState, ev: &Event) {
    if let (Event::Hosts(list), Some(view)) = (ev, &mut s.hosts_view) {
        view.list = Some(list.clone().map_err(|f| f.message));
    }
}
