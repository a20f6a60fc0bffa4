//! Keys of the overlays that take keys as keys: the help, and the fleet views opened from the
//! command line, `:devices` (the counts the table holds already) and `:hosts` (asked of every
//! engine when opened, `R` again).

pub use super::stack::HostsView;
use super::stack::Overlay;
use super::{Action, AppState, Command, Event};

/// Opens the hosts view and asks for the list.
pub fn open_hosts(s: &mut AppState) -> Vec<Command> {
    // Asking again keeps the row the operator is on.
    let selected = s.overlays.hosts().map_or(0, |v| v.selected);
    s.overlays.push(Overlay::Hosts(HostsView { selected, list: None }));
    vec![Command::LoadHosts]
}

/// Keys while a view or the help is on top; `None` when neither is (the key goes on).
pub fn on_key(s: &mut AppState, action: Action) -> Option<Vec<Command>> {
    let scrolled = |scroll: u16| match action {
        Action::Move(n) => Some(scroll.saturating_add_signed(n.clamp(-10, 10) as i16)),
        Action::Top => Some(0),
        _ => None,
    };
    match s.overlays.top()? {
        Overlay::Reports(_) => return super::reports::on_key(s, action),
        Overlay::Help { .. } => return Some(on_help_key(s, action)),
        Overlay::Confirm(_) | Overlay::CommandLine(_) => return None,
        Overlay::Hosts(_) | Overlay::Devices { .. } => {}
    }
    if matches!(action, Action::Back | Action::Quit) {
        s.overlays.pop();
        return Some(Vec::new());
    }
    match s.overlays.top_mut()? {
        Overlay::Hosts(view) => {
            let hosts = view.list.as_ref().and_then(|l| l.as_ref().ok());
            let last = hosts.map_or(0, |h| h.len().saturating_sub(1));
            match action {
                Action::Refresh => return Some(open_hosts(s)),
                Action::ToggleDrain => {
                    let Some(h) = hosts.and_then(|h| h.get(view.selected)) else {
                        s.dirty = false;
                        return Some(Vec::new());
                    };
                    let (host, draining) = (h.name.clone(), !h.draining);
                    view.list = None;
                    let what = if draining { "draining" } else { "open for new customers" };
                    s.notify(format!("host {host}: {what}"), false);
                    return Some(vec![Command::Drain { host, draining }]);
                }
                _ => match scrolled(u16::try_from(view.selected).unwrap_or(u16::MAX)) {
                    Some(n) => view.selected = usize::from(n).min(last),
                    None => s.dirty = false,
                },
            }
        }
        Overlay::Devices { scroll } => match scrolled(*scroll) {
            Some(n) => *scroll = n,
            None => s.dirty = false,
        },
        _ => {}
    }
    Some(Vec::new())
}

/// Keys while the help is on top: it scrolls, and closes by the key that opened it.
fn on_help_key(s: &mut AppState, action: Action) -> Vec<Command> {
    let max = super::help::help_max_scroll(s);
    let Some(Overlay::Help { scroll }) = s.overlays.top_mut() else { return Vec::new() };
    match action {
        Action::Back | Action::ToggleHelp | Action::Quit => {
            s.overlays.pop();
        }
        // Up is negative in the table's terms, and the help scrolls the same way; it stops
        // at its last line, so a key back up moves at once.
        Action::Move(n) => {
            let step = n.signum() as i16 * n.unsigned_abs().min(super::keymap::HELP_PAGE.unsigned_abs()) as i16;
            *scroll = scroll.saturating_add_signed(step).min(max);
        }
        Action::Top => *scroll = 0,
        Action::Bottom => *scroll = max,
        _ => s.dirty = false,
    }
    Vec::new()
}

/// The engines' answer, kept when the view is still open.
pub fn on_event(s: &mut AppState, ev: &Event) {
    if let (Event::Hosts(list), Some(view)) = (ev, s.overlays.hosts_mut()) {
        view.list = Some(list.clone().map_err(|f| f.message));
    }
}
