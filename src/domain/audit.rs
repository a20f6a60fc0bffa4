//! Audit/deployment log entries: who did what to which customer, and how it ended.

use serde::Serialize;

use super::{Timestamp, word_enum};

word_enum! {
    /// Outcome of a logged action.
    pub enum AuditStatus {
        /// It worked.
        Success = "success",
        /// It failed; the message says why.
        Error = "error",
        /// A note along the way.
        Info = "info",
    }
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// Row id, increasing with time.
    pub id: i64,
    /// The customer concerned; `None` for system actions or once the customer is deleted.
    pub customer_id: Option<i64>,
    /// What the action was about, kept readable after a customer is deleted (its subdomain, a setting key, a user).
    pub subject: String,
    /// The nbmsp user who acted (or `system`).
    pub actor: String,
    /// A short verb such as `customer.create` or `settings.set`.
    pub action: String,
    /// How it ended.
    pub status: AuditStatus,
    /// One human sentence.
    pub message: String,
    /// Optional machine detail (JSON or text).
    pub details: Option<String>,
    /// When it happened.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
}

/// An entry to append; the store adds id and time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEntry {
    /// See [`AuditEntry::customer_id`].
    pub customer_id: Option<i64>,
    /// See [`AuditEntry::subject`].
    pub subject: String,
    /// See [`AuditEntry::actor`].
    pub actor: String,
    /// See [`AuditEntry::action`].
    pub action: String,
    /// See [`AuditEntry::status`].
    pub status: AuditStatus,
    /// See [`AuditEntry::message`].
    pub message: String,
    /// See [`AuditEntry::details`].
    pub details: Option<String>,
}
