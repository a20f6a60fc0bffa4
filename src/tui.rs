//! The terminal: setup, restore (on every exit path, panics included) and the event loop.
//! The only module that touches the terminal.

use std::io::{self, Stdout};

use crossterm::event::{Event, EventStream, KeyEventKind};
use crossterm::execute;
use crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode};
use futures_util::StreamExt;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

use crate::app::{self, Action, AppState, Screen};
use crate::ui::{self, keymap};

type Term = Terminal<CrosstermBackend<Stdout>>;

/// Puts the terminal back as it was. Safe to call more than once.
pub fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(io::stdout(), LeaveAlternateScreen, crossterm::cursor::Show);
}

/// Makes panics restore the terminal before the report is printed, so the report is readable.
pub fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
}

fn setup() -> io::Result<Term> {
    enable_raw_mode()?;
    if let Err(e) = execute!(io::stdout(), EnterAlternateScreen) {
        restore();
        return Err(e);
    }
    Terminal::new(CrosstermBackend::new(io::stdout()))
}

/// Runs the full-screen app until the user quits. Draws only when the state changed, so an idle
/// screen writes nothing to the terminal.
pub async fn run(mut state: AppState) -> io::Result<()> {
    let mut term = setup()?;
    let result = event_loop(&mut term, &mut state).await;
    restore();
    result
}

async fn event_loop(term: &mut Term, state: &mut AppState) -> io::Result<()> {
    let mut events = EventStream::new();
    term.draw(|f| ui::render(state, f))?;
    while let Some(event) = events.next().await {
        let action = match event? {
            Event::Key(k) if k.kind != KeyEventKind::Release => {
                let bindings = match state.screen {
                    Screen::Welcome => keymap::WELCOME,
                };
                keymap::lookup(bindings, k)
            }
            Event::Resize(..) => Some(Action::Resize),
            _ => None,
        };
        let Some(action) = action else { continue };
        let (_commands, changed) = app::update(state, action);
        if state.should_quit {
            break;
        }
        if changed {
            term.draw(|f| ui::render(state, f))?;
        }
    }
    Ok(())
}
