//! The fleet as a whole: the monitor (rounds, probes, alerts, scheduled backups), bulk
//! operations, image rollouts in waves, and reconcile (drift between the database, Docker, the
//! instance dirs and the proxy, and recovery of interrupted operations).

pub mod baseline;
pub mod bulk;
pub mod metrics;
pub mod monitor;
pub mod notify;
pub mod reconcile;
pub mod recovery;
pub mod reports;
pub mod rollout;
pub mod window;
