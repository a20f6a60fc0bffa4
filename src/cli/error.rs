//! CLI errors: one actionable sentence, a stable kind for `--json`, and the exit code.

use serde::Serialize;

use crate::engine::EngineError;
use crate::store::{AuthError, StoreError};

/// The class of a failure; scripts branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The command line itself is wrong.
    Usage,
    /// A value broke a rule.
    Validation,
    /// Login refused or not allowed.
    Auth,
    /// The thing named does not exist.
    NotFound,
    /// It would clash with something that exists.
    Conflict,
    /// nbmsp has not been set up here.
    NotInitialised,
    /// The database file is damaged (restore a backup).
    DamagedDatabase,
    /// Anything else that went wrong while running.
    Runtime,
}

impl ErrorKind {
    /// 2 for usage and validation errors, 1 for everything else.
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorKind::Usage | ErrorKind::Validation => 2,
            _ => 1,
        }
    }
}

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

    /// The `{"error": {...}}` document printed with `--json`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "error": { "kind": self.kind, "message": self.message } })
    }
}

impl From<StoreError> for CliError {
    fn from(e: StoreError) -> Self {
        let kind = match &e {
            StoreError::Invalid(_) => ErrorKind::Validation,
            StoreError::NotFound(_) => ErrorKind::NotFound,
            StoreError::Conflict(_) | StoreError::AlreadyInitialised(_) | StoreError::Stale(_) => ErrorKind::Conflict,
            StoreError::Damaged { .. } | StoreError::Malformed(_) => ErrorKind::DamagedDatabase,
            StoreError::NotInitialised(_) => ErrorKind::NotInitialised,
            StoreError::Auth(_) => ErrorKind::Auth,
            _ => ErrorKind::Runtime,
        };
        Self::new(kind, e.to_string())
    }
}

impl From<AuthError> for CliError {
    fn from(e: AuthError) -> Self {
        StoreError::from(e).into()
    }
}

impl From<EngineError> for CliError {
    fn from(e: EngineError) -> Self {
        Self::runtime(e.to_string())
    }
}

impl From<crate::domain::ValidationError> for CliError {
    fn from(e: crate::domain::ValidationError) -> Self {
        Self::new(ErrorKind::Validation, e.to_string())
    }
}

/// Shorthand for CLI results.
pub type CliResult<T = ()> = Result<T, CliError>;
