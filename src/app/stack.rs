//! The popup stack: what is drawn over the screen and takes its keys. The topmost overlay
//! has the keyboard and is drawn last; closing it shows the one below. This is the one place
//! that decides which overlay wins (keys, mode, drawing all ask [`Overlays::top`]).

use super::Confirm;
use super::text::Field;

/// The hosts view: the selected row and the last answer (`None` while asked).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostsView {
    /// The selected host's row.
    pub selected: usize,
    /// The hosts, or why they could not be listed; `None` while the engines are asked.
    pub list: Option<Result<Vec<crate::engine::hosts::HostStatus>, String>>,
}

/// Which month the view shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Shown {
    /// The month under way (up to now).
    #[default]
    This,
    /// The month before, closed.
    Last,
}

/// The view's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportsView {
    /// Which month.
    pub shown: Shown,
    /// Rows scrolled past.
    pub scroll: u16,
    /// This month's report and the last's, or why not; `None` while they are computed.
    pub data:
        Option<Result<Box<(crate::engine::fleet::reports::Report, crate::engine::fleet::reports::Report)>, String>>,
}

/// One overlay and its state.
#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    /// The help panel, scrolled by so many lines.
    Help {
        /// Lines scrolled past.
        scroll: u16,
    },
    /// The fleet's devices (`:devices`), scrolled by so many rows.
    Devices {
        /// Rows scrolled past.
        scroll: u16,
    },
    /// The Docker hosts (`:hosts`).
    Hosts(HostsView),
    /// The month's reports (`:reports`).
    Reports(ReportsView),
    /// An operation asking to be confirmed.
    Confirm(Confirm),
    /// The `:` command line, while typed.
    CommandLine(Field),
}

impl Overlay {
    /// Overlays of one kind replace each other: a second `:hosts` is the same view asked again.
    fn same_kind(&self, other: &Overlay) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
    }
}

/// The open overlays, bottom first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overlays(Vec<Overlay>);

impl Overlays {
    /// Opens `overlay` on top; one of the same kind already open is taken out first.
    pub fn push(&mut self, overlay: Overlay) {
        self.0.retain(|o| !o.same_kind(&overlay));
        self.0.push(overlay);
    }

    /// Closes the topmost overlay.
    pub fn pop(&mut self) -> Option<Overlay> {
        self.0.pop()
    }

    /// The overlay that has the keyboard.
    pub fn top(&self) -> Option<&Overlay> {
        self.0.last()
    }

    /// The overlay that has the keyboard, to change.
    pub fn top_mut(&mut self) -> Option<&mut Overlay> {
        self.0.last_mut()
    }

    /// Every open overlay, bottom first (the order they are drawn in).
    pub fn iter(&self) -> impl Iterator<Item = &Overlay> {
        self.0.iter()
    }

    /// True when nothing is open over the screen.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Closes every overlay `f` picks (a view whose answer is no longer wanted).
    pub fn close(&mut self, f: impl Fn(&Overlay) -> bool) {
        self.0.retain(|o| !f(o));
    }

    /// The open confirmation, wherever it is in the stack.
    pub fn confirm(&self) -> Option<&Confirm> {
        self.0.iter().rev().find_map(|o| if let Overlay::Confirm(c) = o { Some(c) } else { None })
    }

    /// The command line being typed, wherever it is in the stack.
    pub fn command_line(&self) -> Option<&Field> {
        self.0.iter().rev().find_map(|o| if let Overlay::CommandLine(c) = o { Some(c) } else { None })
    }

    /// The help panel's scroll, while it is open.
    pub fn help(&self) -> Option<u16> {
        self.0.iter().rev().find_map(|o| if let Overlay::Help { scroll } = o { Some(*scroll) } else { None })
    }

    /// The devices view's scroll, while it is open.
    pub fn devices(&self) -> Option<u16> {
        self.0.iter().rev().find_map(|o| if let Overlay::Devices { scroll } = o { Some(*scroll) } else { None })
    }

    /// The hosts view, while it is open.
    pub fn hosts(&self) -> Option<&HostsView> {
        self.0.iter().rev().find_map(|o| if let Overlay::Hosts(v) = o { Some(v) } else { None })
    }

    /// The hosts view, to take an answer in.
    pub fn hosts_mut(&mut self) -> Option<&mut HostsView> {
        self.0.iter_mut().rev().find_map(|o| if let Overlay::Hosts(v) = o { Some(v) } else { None })
    }

    /// The reports view, while it is open.
    pub fn reports(&self) -> Option<&ReportsView> {
        self.0.iter().rev().find_map(|o| if let Overlay::Reports(v) = o { Some(v) } else { None })
    }

    /// The reports view, to take an answer in.
    pub fn reports_mut(&mut self) -> Option<&mut ReportsView> {
        self.0.iter_mut().rev().find_map(|o| if let Overlay::Reports(v) = o { Some(v) } else { None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_opened_overlay_has_the_keyboard_and_one_of_a_kind_is_kept() {
        let mut o = Overlays::default();
        o.push(Overlay::Devices { scroll: 3 });
        o.push(Overlay::CommandLine(Field::from("hosts")));
        assert!(matches!(o.top(), Some(Overlay::CommandLine(_))));
        o.pop();
        o.push(Overlay::Hosts(HostsView::default()));
        o.push(Overlay::Devices { scroll: 0 });
        assert_eq!(o.iter().count(), 2, "a second devices view replaced the first");
        assert_eq!(o.top(), Some(&Overlay::Devices { scroll: 0 }));
        assert_eq!(o.devices(), Some(0));
        o.pop();
        assert!(o.hosts().is_some() && o.devices().is_none());
    }
}
