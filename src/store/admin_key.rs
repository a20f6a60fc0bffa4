//! The admin key's wraps: its private half sealed per admin under that admin's own
//! password-derived key (table `admin_wraps`), as the data key is per user. Only a session whose
//! password opened such a wrap holds the admin key, whatever the `users` table says of its role.

use rusqlite::{Connection, OptionalExtension, params};
use zeroize::Zeroizing;

use super::auth::{AuthError, Session};
use super::crypto::{self, KEY_LEN};
use super::{Result, StoreError};
use crate::domain::user::Role;

/// The admin key a new wrap for `username` (of `role`) carries: an admin's wrap must carry it,
/// and only a session that holds it can give it.
pub(super) fn admin_key_for<'s>(session: &'s Session, role: Role, username: &str) -> Result<Option<&'s [u8; KEY_LEN]>> {
    if role != Role::Admin {
        return Ok(None);
    }
    match session.vault.admin_key() {
        Some(k) => Ok(Some(k)),
        None => Err(AuthError::NoAdminKey(format!("{} (giving it to {username})", session.user.username)).into()),
    }
}

fn admin_aad(user_id: i64) -> Vec<u8> {
    format!("nbmsp:v1:adminkey:{user_id}").into_bytes()
}

/// Seals the admin key for one admin under that admin's wrapping key.
pub(super) fn store_admin_wrap(
    conn: &Connection,
    user_id: i64,
    wrapping: &[u8; KEY_LEN],
    key: &[u8; KEY_LEN],
) -> Result<()> {
    let sealed = crypto::seal(wrapping, &admin_aad(user_id), key)?;
    conn.execute(
        "INSERT INTO admin_wraps (user_id, sealed) VALUES (?1, ?2)
         ON CONFLICT (user_id) DO UPDATE SET sealed = excluded.sealed",
        params![user_id, sealed],
    )?;
    Ok(())
}

/// The admin key from one admin's wrap, or `None` when that user has none.
pub(super) fn open_admin_wrap(
    conn: &Connection,
    user_id: i64,
    wrapping: &[u8; KEY_LEN],
) -> Result<Option<Zeroizing<[u8; KEY_LEN]>>> {
    let sealed: Option<Vec<u8>> = conn
        .query_row("SELECT sealed FROM admin_wraps WHERE user_id = ?1", params![user_id], |r| r.get(0))
        .optional()?;
    let Some(sealed) = sealed else { return Ok(None) };
    let plain = crypto::open(wrapping, &admin_aad(user_id), &sealed)?;
    let key: [u8; KEY_LEN] = plain
        .as_slice()
        .try_into()
        .map_err(|_| StoreError::Corrupt { table: "admin_wraps", detail: "key length".into() })?;
    Ok(Some(Zeroizing::new(key)))
}
