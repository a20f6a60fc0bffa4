//! nbmsp's own users (the MSP's staff), not NetBird users.

use serde::Serialize;

use super::{Timestamp, word_enum};

word_enum! {
    /// What a user may do (see [`Permission`] and [`super::rights`]).
    pub enum Role {
        /// Everything, including users, settings, secrets and deleting customers.
        Admin = "admin",
        /// Runs customers (create, deploy, start, stop, restart, redeploy, rollout) and reads
        /// health and logs; no secrets, deletes, settings or users.
        Operator = "operator",
        /// Reads: the fleet, health, logs, audit. Never a secret, never a change.
        Viewer = "viewer",
    }
}

/// What an action needs, from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Permission {
    /// Looking: lists, health, logs, stats, audit.
    Read,
    /// Running customers: lifecycle operations, create and edit, rollouts, fixes.
    Operate,
    /// Secrets, deletes, settings, users, migrations and restores.
    Admin,
}

impl Role {
    /// Whether this role may do what `needed` covers.
    pub fn allows(self, needed: Permission) -> bool {
        let has = match self {
            Role::Admin => Permission::Admin,
            Role::Operator => Permission::Operate,
            Role::Viewer => Permission::Read,
        };
        has >= needed
    }
}

/// A stored user (never with its password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Row id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Role.
    pub role: Role,
    /// When the user was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
}

/// Failed logins allowed before a user is locked out.
pub const LOCKOUT_AFTER: u32 = 5;
/// The first lockout's length; each further failure doubles it.
pub const LOCKOUT_BASE_S: i64 = 30;
/// The longest lockout.
pub const LOCKOUT_MAX_S: i64 = 24 * 3600;

/// Seconds a user must wait after `failures` consecutive failed logins, or `None` while they may
/// still try. 5 failures lock for 30 s, each further one doubles the wait, up to a day.
pub fn lockout_seconds(failures: u32) -> Option<i64> {
    let over = failures.checked_sub(LOCKOUT_AFTER)?;
    let factor = 1i64.checked_shl(over.min(32)).unwrap_or(i64::MAX);
    Some(LOCKOUT_BASE_S.saturating_mul(factor).min(LOCKOUT_MAX_S))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_nest() {
        assert!(Role::Viewer.allows(Permission::Read) && !Role::Viewer.allows(Permission::Operate));
        assert!(Role::Operator.allows(Permission::Operate) && !Role::Operator.allows(Permission::Admin));
        assert!(Role::Admin.allows(Permission::Admin));
    }

    #[test]
    fn lockout_starts_at_five_and_doubles() {
        let table: &[(u32, Option<i64>)] = &[
            (0, None),
            (4, None),
            (5, Some(30)),
            (6, Some(60)),
            (7, Some(120)),
            (20, Some(LOCKOUT_MAX_S)),
            (u32::MAX, Some(LOCKOUT_MAX_S)),
        ];
        for (failures, want) in table {
            assert_eq!(lockout_seconds(*failures), *want, "{failures} failures");
        }
    }
}
