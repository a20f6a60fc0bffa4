//! nbmsp: run many isolated, self-hosted NetBird control planes from one host, by keyboard.
//!
//! Layers, innermost first: [`domain`] (pure rules), [`store`] (SQLite), [`engine`] (Docker,
//! proxy, NetBird), [`app`] (state and update, no IO), [`ui`] (pure rendering), [`cli`]
//! (headless commands) and [`tui`] (the terminal and the event loop).

pub mod domain;
pub mod store;
