//! Operations on one customer: deploy (lifecycle.rs, with the images it needs), redeploy, and
//! start, stop, restart, delete, health and stats (operations.rs), moving to another host
//! (moving.rs), all as methods of `Ops`; what must hold before any of them acts is in guards.rs.

mod guards;
mod images;
pub mod lifecycle;
pub mod moving;
pub mod operations;
pub mod progress;
mod proxying;
mod redeploy;
