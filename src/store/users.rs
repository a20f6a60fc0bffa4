//! Reading users (accounts are changed through [`super::auth`]).

use rusqlite::{OptionalExtension, Row, params};

use super::{Result, Store, parse_time, parse_word};
use crate::domain::user::User;

fn user_from_row(r: &Row<'_>) -> rusqlite::Result<(i64, String, String, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn to_user((id, username, role, created): (i64, String, String, String)) -> Result<User> {
    Ok(User { id, username, role: parse_word("users", &role)?, created_at: parse_time("users", &created)? })
}

impl Store {
    /// The user called `username`.
    pub fn user(&self, username: &str) -> Result<Option<User>> {
        self.conn
            .query_row(
                "SELECT id, username, role, created_at FROM users WHERE username = ?1",
                params![username],
                user_from_row,
            )
            .optional()?
            .map(to_user)
            .transpose()
    }

    /// Every user, by name.
    pub fn users(&self) -> Result<Vec<User>> {
        let mut stmt = self.conn.prepare("SELECT id, username, role, created_at FROM users ORDER BY username")?;
        let rows = stmt.query_map([], user_from_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(to_user).collect()
    }

    /// True once `init` has run.
    pub fn is_initialised(&self) -> Result<bool> {
        Ok(self.conn.query_row("SELECT EXISTS (SELECT 1 FROM users)", [], |r| r.get(0))?)
    }
}
