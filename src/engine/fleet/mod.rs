//! The fleet as a whole: the monitor (rounds, probes, alerts, scheduled backups), bulk
//! operations, image rollouts in waves, and reconcile (drift between the database, Docker, the
//! instance dirs and the proxy, and recovery of interrupted operations).

pub mod bulk;
pub mod monitor;
pub mod reconcile;
pub mod rollout;
