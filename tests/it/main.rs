//! The integration tests, in one binary: each module was once a binary of its own, and
//! linking the whole crate 21 times cost minutes of every cold `cargo test`. The modules
//! still share nothing but `common` (and its once-per-process setup, such as the stand-in
//! images, which now happens once for all of them).

mod common;

mod baseline;
mod bulk;
mod cli;
mod crash;
mod datasafety;
mod edge;
mod engine;
mod hosts;
mod identity;
mod monitor;
mod moves;
mod netbird;
mod netbird_admin;
mod networks;
mod npm;
mod package;
mod process;
mod public;
mod reconcile;
mod recovery;
mod reports;
mod reverse_proxy;
mod roles;
mod rollout;
mod standin;
mod trust;
mod tui;
