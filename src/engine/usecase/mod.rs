//! Use cases that the CLI and the app both call: each decides permission, validation and
//! the writes that belong together in one place, so no door can forget a rule the other keeps.
//! The doors only parse what a person typed and format what comes back.

pub mod alerts;
pub mod baseline;
pub mod customers;
pub mod reports;
