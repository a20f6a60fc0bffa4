//! The deployment engine: everything that talks to Docker, the proxy and NetBird.
//!
//! Library types (bollard, reqwest) stay inside this module; callers see domain types and
//! [`EngineError`] only.

pub mod checks;
pub mod data;
pub mod docker;
pub mod fleet;
pub mod hosts;
pub mod netbird;
pub mod npm;
pub mod ops;
pub mod stack;
pub mod usecase;
pub mod worker;

/// What went wrong talking to the outside world, in words a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The Docker engine could not be reached at all.
    #[error(
        "the Docker engine at {host} is unreachable: {detail}; is the Docker daemon running and may this user use it?"
    )]
    DockerUnreachable {
        /// The address tried (from `DOCKER_HOST` or the default socket).
        host: String,
        /// What the connection attempt said.
        detail: String,
    },
    /// A Docker API call failed.
    #[error("Docker: {0}")]
    Docker(String),
    /// Instance files could not be written or removed.
    #[error("{0}")]
    Files(String),
    /// Rendering the customer's files failed.
    #[error(transparent)]
    Render(#[from] stack::render::RenderError),
    /// The stack did not become healthy.
    #[error("{0}")]
    Unhealthy(String),
    /// The database refused.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The proxy step failed.
    #[error("proxy: {0}")]
    Proxy(String),
    /// A customer's NetBird management API could not be reached or refused.
    #[error("NetBird {0}")]
    NetBird(String),
    /// NetBird refused nbmsp's stored access token; the text says how to renew it.
    #[error("{0}")]
    TokenRejected(String),
    /// Asked for something that does not apply (an operation on many customers that works on
    /// one at a time): nothing was done.
    #[error("{0}")]
    Usage(String),
    /// A customer's data that must exist is missing or empty: nothing was started.
    #[error("{0}")]
    DataMissing(String),
    /// Data nbmsp wrote or was given is damaged (a backup that does not open, a deployment
    /// record without its port): nothing was changed.
    #[error("{0}")]
    Damaged(String),
    /// A service nbmsp depends on did not answer or refused (an alert channel): trying again
    /// later may work.
    #[error("{0}")]
    Unavailable(String),
    /// It would clash with what is there (a draining host, one engine under two records, a
    /// directory in the way, a migration not finished): nothing was done.
    #[error("{0}")]
    Conflict(String),
    /// A secret that opens something was wrong (a backup's passphrase): nothing was done.
    #[error("{0}")]
    Refused(String),
    /// A step of an operation failed; the operation says what it left, and the failure keeps
    /// the kind of what caused it (a move that failed because Docker stopped answering is
    /// `unavailable`, not a failure of its own).
    #[error("{message}")]
    Step {
        /// The step's name ("move", "deploy", ...).
        step: &'static str,
        /// The kind of the failure that stopped it.
        kind: crate::domain::error::ErrorKind,
        /// What happened and what is left, for a person.
        message: String,
    },
    /// Nginx Proxy Manager could not be reached or answered badly.
    #[error("Nginx Proxy Manager at {url}: {detail}")]
    Npm {
        /// The configured URL.
        url: String,
        /// What went wrong.
        detail: String,
    },
}

impl EngineError {
    /// Which kind of failure this is for the CLI and the app. The store's kinds survive the
    /// trip through the engine: a lock another operator holds is a conflict, not a failure.
    pub fn kind(&self) -> crate::domain::error::ErrorKind {
        use crate::domain::error::ErrorKind;
        match self {
            EngineError::Store(s) => s.kind(),
            EngineError::Step { kind, .. } => *kind,
            EngineError::DataMissing(_) | EngineError::Damaged(_) => ErrorKind::Data,
            EngineError::Usage(_) => ErrorKind::Usage,
            EngineError::Conflict(_) => ErrorKind::Conflict,
            EngineError::Refused(_) => ErrorKind::Auth,
            EngineError::DockerUnreachable { .. } | EngineError::Npm { .. } | EngineError::Unavailable(_) => {
                ErrorKind::Unavailable
            }
            _ => ErrorKind::Runtime,
        }
    }
}

impl From<EngineError> for crate::domain::error::Failure {
    fn from(e: EngineError) -> Self {
        Self::new(e.kind(), e.to_string())
    }
}

/// An error's whole chain in one line, terminal-safe (reqwest's top message hides the reason:
/// TLS, DNS, a refused connection).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut next = e.source();
    while let Some(s) = next {
        parts.push(s.to_string());
        next = s.source();
    }
    crate::domain::sanitize::terminal_safe(&parts.join(": "))
}

/// The innermost reason of an error ("Connection refused (os error 111)", "failed to lookup
/// address information: …"), for messages that already name what was tried.
pub fn root_cause(e: &dyn std::error::Error) -> String {
    let mut last = e.to_string();
    let mut next = e.source();
    while let Some(s) = next {
        last = s.to_string();
        next = s.source();
    }
    crate::domain::sanitize::terminal_safe(&last)
}

/// Makes rustls use the `ring` provider (chosen over aws-lc for a much faster build). Safe to
/// call many times.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Runs file work that may take long (copying or removing a customer's data, packing a backup)
/// on a blocking thread, so the runtime it is called from keeps streaming logs, running the
/// monitor and beating lock heartbeats meanwhile.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, EngineError> + Send + 'static,
) -> Result<T, EngineError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| EngineError::Files(format!("file work stopped unexpectedly: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::EngineError;
    use crate::domain::error::ErrorKind;

    #[test]
    fn a_failed_step_keeps_the_kind_of_its_cause() {
        let cause = EngineError::DockerUnreachable { host: "ssh://root@b".into(), detail: "refused".into() };
        let moved = EngineError::Step { step: "move", kind: cause.kind(), message: format!("move failed: {cause}") };
        assert_eq!(moved.kind(), ErrorKind::Unavailable);
        assert!(moved.to_string().starts_with("move failed: the Docker engine at ssh://root@b"));
    }
}
