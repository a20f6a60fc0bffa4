//! The month's reports as every door asks for them.

use crate::domain::rights::Right;
use crate::domain::sla::Month;
use crate::engine::EngineError;
use crate::engine::fleet::reports::{self, Report};
use crate::store::{Session, Store};

/// Writes `month`'s reports (three CSV files and a JSON, 0600) to `reports.dir`; says where.
pub fn export(store: &Store, session: &Session, month: Month) -> Result<String, EngineError> {
    let report = self::month(store, session, month)?;
    let settings = store.settings()?;
    let dir = crate::engine::fleet::monitor::reports_dir(store, &settings);
    let files = crate::engine::fleet::monitor::write_reports(&dir, &report)?;
    Ok(format!("{} reports of {month} written to {}", files.len(), dir.display()))
}

/// `month`'s report as of now (every role may read it; a month not over runs up to now).
pub fn month(store: &Store, session: &Session, month: Month) -> Result<Report, EngineError> {
    session.require(Right::Reports)?;
    let settings = store.settings()?;
    Ok(reports::build(store, &settings, month, crate::store::now().unix_timestamp())?)
}
