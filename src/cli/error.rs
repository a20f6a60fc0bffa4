//! CLI errors: one actionable sentence, a stable kind for `--json`, and the exit code.

use serde::Serialize;

use crate::engine::EngineError;
use crate::store::{AuthError, StoreError};

pub use crate::domain::error::ErrorKind;

/// A failed command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct CliError {
    /// Class of failure.
    pub kind: ErrorKind,
    /// One sentence for a human.
    pub message: String,
}

impl CliError {
    /// Builds an error of `kind`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }

    /// A usage error.
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Usage, message)
    }

    /// A runtime error.
    pub fn runtime(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Runtime, message)
    }

    /// Exit status 1 after the command already said everything (a check that found something):
    /// nothing more is printed.
    pub fn silent_failure() -> Self {
        Self::new(ErrorKind::Runtime, String::new())
    }

    /// The `{"error": {...}}` document printed with `--json`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "error": { "kind": self.kind, "message": self.message } })
    }
}

impl From<StoreError> for CliError {
    fn from(e: StoreError) -> Self {
        Self::new(e.kind(), e.to_string())
    }
}

impl From<AuthError> for CliError {
    fn from(e: AuthError) -> Self {
        StoreError::from(e).into()
    }
}

impl From<EngineError> for CliError {
    fn from(e: EngineError) -> Self {
        Self::new(e.kind(), e.to_string())
    }
}

impl From<crate::domain::error::Failure> for CliError {
    fn from(f: crate::domain::error::Failure) -> Self {
        Self::new(f.kind, f.message)
    }
}

impl From<crate::domain::ValidationError> for CliError {
    fn from(e: crate::domain::ValidationError) -> Self {
        Self::new(ErrorKind::Validation, e.to_string())
    }
}

/// Shorthand for CLI results.
pub type CliResult<T = ()> = Result<T, CliError>;
