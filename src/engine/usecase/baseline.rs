//! The fleet's baseline file as people change it, from either door (`nbmsp baseline show|set`,
//! the app's `:baseline`): read by everyone, replaced by admins only, never with a text that
//! does not parse, written whole (a reader sees the old file or the new one), and each change in
//! the audit log with the new text.

use crate::domain::baseline::{Baseline, TEMPLATE};
use crate::domain::rights::Right;
use crate::engine::EngineError;
use crate::engine::fleet::baseline::path;
use crate::store::{Session, Store, StoreError};

/// The baseline's text as it stands, and whether this session may change it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaselineText {
    /// The file's text, or [`TEMPLATE`] when there is no file yet.
    pub text: String,
    /// There is a file.
    pub exists: bool,
    /// The session's role may replace it ([`Right::BaselineEdit`]).
    pub may_change: bool,
}

/// Reads `baseline.toml` (everyone may).
pub fn read(store: &Store, session: &Session) -> Result<BaselineText, EngineError> {
    let file = path(store);
    let may_change = session.require(Right::BaselineEdit).is_ok();
    match std::fs::read_to_string(&file) {
        Ok(text) => Ok(BaselineText { text, exists: true, may_change }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Ok(BaselineText { text: TEMPLATE.into(), exists: false, may_change })
        }
        Err(e) => Err(EngineError::Files(format!("cannot read {}: {e}", file.display()))),
    }
}

/// Replaces `baseline.toml` with `text` (admins): refused, and nothing written, unless it
/// parses; audited with the new text. Returns what it now requires, in words.
pub fn save(store: &Store, session: &Session, text: &str) -> Result<String, EngineError> {
    session.require(Right::BaselineEdit)?;
    let parsed = Baseline::parse(text).map_err(StoreError::Invalid)?;
    let file = path(store);
    crate::engine::stack::instance::write_atomic(&file, text.as_bytes(), 0o600)?;
    let summary = parsed.summary();
    store.audit(&crate::domain::audit::NewAuditEntry {
        customer_id: None,
        subject: "baseline.toml".into(),
        actor: session.user.username.clone(),
        action: "baseline-edit".into(),
        status: crate::domain::audit::AuditStatus::Success,
        message: format!("baseline changed: {summary}"),
        details: Some(text.to_string()),
    })?;
    Ok(summary)
}
