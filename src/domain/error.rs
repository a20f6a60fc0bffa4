//! The kinds of failure every door reports the same way: the CLI's `--json` `kind` and exit
//! code, the app's notice. The store and the engine say which kind each of their errors is.

use serde::Serialize;

/// The class of a failure; scripts branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The command line itself is wrong, or the request does not apply.
    Usage,
    /// A value broke a rule.
    Validation,
    /// Login refused.
    Auth,
    /// Logged in, but the role does not cover it (see `domain::rights`).
    Forbidden,
    /// The thing named does not exist.
    NotFound,
    /// It would clash with something that exists, or another operation holds the customer.
    Conflict,
    /// nbmsp has not been set up here.
    NotInitialised,
    /// The database file is damaged (restore a backup).
    DamagedDatabase,
    /// A customer's data that must exist is missing or damaged: nothing was started.
    Data,
    /// Something nbmsp talks to (Docker, NPM, a customer's NetBird) could not be reached.
    Unavailable,
    /// A signal stopped the command; what it had begun was rolled back.
    Interrupted,
    /// Anything else that went wrong while running (a step failed; the message names it).
    Runtime,
}

impl ErrorKind {
    /// The word `--json` writes.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Usage => "usage",
            ErrorKind::Validation => "validation",
            ErrorKind::Auth => "auth",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::NotInitialised => "not_initialised",
            ErrorKind::DamagedDatabase => "damaged_database",
            ErrorKind::Data => "data",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Interrupted => "interrupted",
            ErrorKind::Runtime => "runtime",
        }
    }

    /// The CLI's exit status: 2 for usage and validation errors, 130 for an interruption (as a
    /// shell reports a command SIGINT ended), 1 for everything else.
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorKind::Usage | ErrorKind::Validation => 2,
            ErrorKind::Interrupted => 130,
            _ => 1,
        }
    }

    /// Whether trying again later may work without anyone changing anything (another
    /// operation ends, a service comes back): the app words such a failure as a warning.
    pub fn transient(self) -> bool {
        matches!(self, ErrorKind::Conflict | ErrorKind::Unavailable | ErrorKind::Interrupted)
    }
}

/// A failure as a front end shows it: its kind and one sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    /// Class of failure.
    pub kind: ErrorKind,
    /// One sentence for a person.
    pub message: String,
}

impl Failure {
    /// A failure of `kind`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }

    /// A failure of kind runtime.
    pub fn runtime(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Runtime, message)
    }
}

/// Test fixtures write failures as text; production code names the kind.
#[cfg(test)]
impl From<&str> for Failure {
    fn from(message: &str) -> Self {
        Self::runtime(message)
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorKind;

    #[test]
    fn the_words_are_the_serde_words() {
        for k in [ErrorKind::NotFound, ErrorKind::DamagedDatabase, ErrorKind::Forbidden, ErrorKind::Runtime] {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
    }
}
