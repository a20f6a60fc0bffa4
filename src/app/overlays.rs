//! The fleet views opened over any screen from the command line: `:devices` (the counts the
//! table holds already) and `:hosts` (asked of every engine when opened, `R` again).

use super::{Action, AppState, Command, Event};

/// The hosts view: its scroll offset and the last answer (`None` while asked).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostsView {
    /// Rows scrolled past.
    pub scroll: u16,
    /// The hosts, or why they could not be listed; `None` while the engines are asked.
    pub list: Option<Result<Vec<crate::engine::hosts::HostStatus>, String>>,
}

/// Opens the hosts view and asks for the list.
pub fn open_hosts(s: &mut AppState) -> Vec<Command> {
    s.hosts_view = Some(HostsView::default());
    vec![Command::LoadHosts]
}

/// Keys while a fleet view is open; `None` when none is (the key goes on).
pub fn on_key(s: &mut AppState, action: Action) -> Option<Vec<Command>> {
    let scrolled = |scroll: u16| match action {
        Action::Move(n) => Some(scroll.saturating_add_signed(n.clamp(-10, 10) as i16)),
        Action::Top => Some(0),
        _ => None,
    };
    if let Some(view) = &mut s.hosts_view {
        match action {
            Action::Back | Action::Quit => s.hosts_view = None,
            Action::Refresh => return Some(open_hosts(s)),
            _ => match scrolled(view.scroll) {
                Some(n) => view.scroll = n,
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
        view.list = Some(list.clone());
    }
}
