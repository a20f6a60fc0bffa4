//! The database file's own health: SQLite notices a damaged page only when something reads
//! it, and most commands never read most tables (a damaged audit log page stays hidden until
//! `doctor`). The monitor checks the whole file on a slow schedule, on a blocking thread with
//! a connection of its own, and records what it found; every command reports that finding.

use std::time::{Duration, Instant};

use super::{Monitor, MonitorEvent};
use crate::engine::EngineError;

/// How often the whole file is read through.
const CHECK_EVERY: Duration = Duration::from_secs(3600);

impl Monitor<'_> {
    /// Checks the database file when due (`force`: now); records the finding (or its end) and
    /// reports a damaged file as an error event.
    pub async fn integrity_due(&mut self, force: bool, sink: &mut impl FnMut(MonitorEvent)) -> Result<(), EngineError> {
        if !force && Instant::now() < self.next_integrity_check {
            return Ok(());
        }
        self.next_integrity_check = Instant::now() + CHECK_EVERY;
        let Some(path) = self.store.path().map(std::path::Path::to_path_buf) else { return Ok(()) };
        let found = crate::engine::blocking(move || {
            crate::store::Store::integrity_check_file(&path).map_err(EngineError::from)
        })
        .await?;
        let problem = found.problem().map(str::to_string);
        self.store.record_integrity(problem.as_deref())?;
        if let Some(p) = problem {
            sink(MonitorEvent::Error(format!(
                "the database file is damaged ({p}); run `nbmsp doctor`, then restore a backup with `nbmsp backup \
                 restore FILE`"
            )));
        }
        Ok(())
    }
}
