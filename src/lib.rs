//! nbmsp: run many isolated, self-hosted NetBird control planes from one host, by keyboard.
//!
//! Layers, innermost first: [`domain`] (pure rules), [`store`] (SQLite), [`engine`] (Docker,
//! proxy, NetBird), [`app`] (state and update, no IO), [`ui`] (pure rendering), [`cli`]
//! (headless commands) and [`tui`] (the terminal and the event loop).

pub mod app;
pub mod cli;
pub mod domain;
pub mod engine;
pub mod store;
pub mod tui;
pub mod ui;
