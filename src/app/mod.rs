//! Application state and the pure `update` step: `update(state, action) -> Vec<Command>`.
//!
//! No IO and no await here: input becomes an [`Action`], `update` changes the state and returns
//! [`Command`]s for the engine, and engine results come back as further actions.

/// Which screen is showing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    /// Shown until the dashboard lands: where nbmsp stands and what the CLI offers.
    Welcome,
}

/// Everything the UI shows; rendering reads it and never changes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppState {
    /// The current screen.
    pub screen: Screen,
    /// Whether the help overlay is open.
    pub help_open: bool,
    /// Set once the user asked to leave.
    pub should_quit: bool,
    /// Data home shown in the header.
    pub home: String,
    /// Whether `nbmsp init` has run in the data home.
    pub initialised: bool,
}

impl AppState {
    /// The state at start-up.
    pub fn new(home: String, initialised: bool) -> Self {
        Self { screen: Screen::Welcome, help_open: false, should_quit: false, home, initialised }
    }
}

/// Something that happened: a key mapped by the keymap, or an engine event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Leave the app.
    Quit,
    /// Open or close the help overlay.
    ToggleHelp,
    /// Close the topmost overlay or go back.
    Back,
    /// The terminal changed size; the next frame must be drawn.
    Resize,
}

/// Work for the engine. Empty until the engine joins the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {}

/// Applies `action` to `state`; returns the commands it causes and whether anything visible changed.
pub fn update(state: &mut AppState, action: Action) -> (Vec<Command>, bool) {
    let before = state.clone();
    match action {
        Action::Quit => state.should_quit = true,
        Action::ToggleHelp => state.help_open = !state.help_open,
        Action::Back => {
            if state.help_open {
                state.help_open = false;
            }
        }
        Action::Resize => return (Vec::new(), true),
    }
    let changed = *state != before;
    (Vec::new(), changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_toggles_and_back_closes_it() {
        let mut s = AppState::new("/h".into(), true);
        assert_eq!(update(&mut s, Action::ToggleHelp), (vec![], true));
        assert!(s.help_open);
        assert_eq!(update(&mut s, Action::Back), (vec![], true));
        assert!(!s.help_open);
        assert_eq!(update(&mut s, Action::Back), (vec![], false), "nothing to go back from: no redraw");
        update(&mut s, Action::Quit);
        assert!(s.should_quit);
    }
}
