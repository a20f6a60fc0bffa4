//! Encrypted secrets: the unlocked data key and the `secrets` table.
//!
//! Every secret is sealed under the data key, which every user's password unwraps. Secrets only
//! admins may see ([`ADMIN_ONLY`]) are sealed once more, to the admin key pair's public half,
//! before that: any session can store one (a deploy by an operator creates the owner), only an
//! admin's session, whose own password unwrapped the private half, can read one.

use base64::Engine as _;
use rusqlite::{Connection, OptionalExtension, params};
use zeroize::Zeroizing;

use super::crypto::{self, KEY_LEN};
use super::{Result, Store, StoreError, fmt_time, now};

/// Secrets only admins may read: the NetBird owner's password (`customer credentials`).
pub const ADMIN_ONLY: [&str; 1] = ["owner_password"];

/// How an admin-only value is stored: this prefix, then the sealed box in base64.
const ADMIN_SEALED: &str = "admin-sealed:v1:";

/// The unlocked data key (and, in an admin's session, the admin key). Only a successful login
/// yields one; neither ever touches the disk unwrapped.
pub struct Vault {
    key: Zeroizing<[u8; KEY_LEN]>,
    admin: Option<Zeroizing<[u8; KEY_LEN]>>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault(..)")
    }
}

fn aad(scope: &str, name: &str) -> Vec<u8> {
    format!("nbmsp:v1:secret:{scope}:{name}").into_bytes()
}

impl Vault {
    pub(crate) fn from_key(key: Zeroizing<[u8; KEY_LEN]>) -> Self {
        Self { key, admin: None }
    }

    pub(crate) fn with_admin(mut self, admin: Option<Zeroizing<[u8; KEY_LEN]>>) -> Self {
        self.admin = admin;
        self
    }

    pub(crate) fn key(&self) -> &[u8; KEY_LEN] {
        &self.key
    }

    /// The admin key's private half, in an admin's session only.
    pub(crate) fn admin_key(&self) -> Option<&[u8; KEY_LEN]> {
        self.admin.as_deref()
    }
}

/// Bound to the secret's name, not its scope: a restore gives the customer a new id, and its
/// owner's password, sealed under the old one, must still open.
fn admin_aad(name: &str) -> Vec<u8> {
    format!("nbmsp:v1:admin-only:{name}").into_bytes()
}

/// The admin key's public half, once there is one.
pub(crate) fn admin_public(conn: &Connection) -> Result<Option<[u8; KEY_LEN]>> {
    let hex: Option<String> =
        conn.query_row("SELECT value FROM meta WHERE key = 'admin_public'", [], |r| r.get(0)).optional()?;
    let Some(hex) = hex else { return Ok(None) };
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| StoreError::Corrupt { table: "meta", detail: "admin_public is not hex".into() })?;
    let key: [u8; KEY_LEN] =
        bytes.try_into().map_err(|_| StoreError::Corrupt { table: "meta", detail: "admin_public length".into() })?;
    Ok(Some(key))
}

/// Records the admin key's public half.
pub(crate) fn set_admin_public(conn: &Connection, public: &[u8; KEY_LEN]) -> Result<()> {
    let hex: String = public.iter().map(|b| format!("{b:02x}")).collect();
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('admin_public', ?1)", params![hex])?;
    Ok(())
}

/// Secret scope of settings (`npm.secret`).
pub const SCOPE_SETTINGS: &str = "setting";

/// Secret scope of one host's secrets (its NPM password).
pub fn host_scope(host_id: i64) -> String {
    format!("host:{host_id}")
}

/// Secret scope of one customer's generated secrets.
pub fn customer_scope(customer_id: i64) -> String {
    format!("customer:{customer_id}")
}

impl Store {
    /// Stores `value` encrypted under `scope`/`name`, replacing any earlier value. An
    /// [`ADMIN_ONLY`] value is first sealed to the admin key (unless it arrives sealed already,
    /// from a backup of this installation).
    pub fn put_secret(&self, vault: &Vault, scope: &str, name: &str, value: &str) -> Result<()> {
        let value = self.admin_sealed(name, value)?;
        let sealed = crypto::seal(vault.key(), &aad(scope, name), value.as_bytes())?;
        self.conn.execute(
            "INSERT INTO secrets (scope, name, sealed, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (scope, name) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at",
            params![scope, name, sealed, fmt_time(now())],
        )?;
        Ok(())
    }

    /// `value` as an [`ADMIN_ONLY`] secret is stored: sealed to the admin key. Before an
    /// installation has an admin key (until its first admin login after the upgrade) it stays as
    /// it is; that login seals it ([`Store::seal_admin_only_secrets`]).
    fn admin_sealed(&self, name: &str, value: &str) -> Result<Zeroizing<String>> {
        if !ADMIN_ONLY.contains(&name) || value.starts_with(ADMIN_SEALED) {
            return Ok(Zeroizing::new(value.to_string()));
        }
        let Some(public) = admin_public(&self.conn)? else { return Ok(Zeroizing::new(value.to_string())) };
        let sealed = crypto::box_seal(&public, &admin_aad(name), value.as_bytes())?;
        Ok(Zeroizing::new(format!("{ADMIN_SEALED}{}", base64::engine::general_purpose::STANDARD.encode(sealed))))
    }

    /// Seals every [`ADMIN_ONLY`] secret still stored without the admin key (an installation
    /// from before it): run once, when the admin key is made.
    pub(crate) fn seal_admin_only_secrets(&self, vault: &Vault) -> Result<()> {
        let rows: Vec<(String, String)> = self
            .conn
            .prepare(&format!(
                "SELECT scope, name FROM secrets WHERE name IN ({})",
                ADMIN_ONLY.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(",")
            ))?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (scope, name) in rows {
            if let Some(v) = self.stored_secret(vault, &scope, &name)? {
                self.put_secret(vault, &scope, &name, &v)?;
            }
        }
        Ok(())
    }

    /// The decrypted secret, or `None` when never set. An [`ADMIN_ONLY`] secret opens only in an
    /// admin's session (with the admin key its password unwrapped); anyone else is refused.
    pub fn secret(&self, vault: &Vault, scope: &str, name: &str) -> Result<Option<Zeroizing<String>>> {
        let Some(stored) = self.stored_secret(vault, scope, name)? else { return Ok(None) };
        let Some(b64) = stored.strip_prefix(ADMIN_SEALED) else { return Ok(Some(stored)) };
        let Some(admin) = vault.admin_key() else {
            return Err(super::auth::AuthError::SealedForAdmins("read the owner's password").into());
        };
        let sealed = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|_| StoreError::Corrupt { table: "secrets", detail: format!("{scope}/{name} is not base64") })?;
        let plain = crypto::box_open(admin, &admin_aad(name), &sealed)?;
        let text = String::from_utf8(plain.to_vec())
            .map_err(|_| StoreError::Corrupt { table: "secrets", detail: format!("{scope}/{name} is not text") })?;
        Ok(Some(Zeroizing::new(text)))
    }

    /// The secret as stored under the data key: an [`ADMIN_ONLY`] one still sealed to the
    /// admin key.
    fn stored_secret(&self, vault: &Vault, scope: &str, name: &str) -> Result<Option<Zeroizing<String>>> {
        let sealed: Option<Vec<u8>> = self
            .conn
            .query_row("SELECT sealed FROM secrets WHERE scope = ?1 AND name = ?2", params![scope, name], |r| r.get(0))
            .optional()?;
        let Some(sealed) = sealed else {
            return Ok(None);
        };
        let plain = crypto::open(vault.key(), &aad(scope, name), &sealed)?;
        let text = String::from_utf8(plain.to_vec()).map_err(|_| super::StoreError::Corrupt {
            table: "secrets",
            detail: format!("{scope}/{name} is not text"),
        })?;
        Ok(Some(Zeroizing::new(text)))
    }

    /// True when a secret is stored (needs no key: for `set`/`unset` displays).
    pub fn secret_is_set(&self, scope: &str, name: &str) -> Result<bool> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM secrets WHERE scope = ?1 AND name = ?2)",
            params![scope, name],
            |r| r.get(0),
        )?)
    }

    /// Every secret of `scope`, decrypted under the data key (what a customer backup of this
    /// installation carries): [`ADMIN_ONLY`] ones stay sealed to the admin key, so a backup, and
    /// whoever made it, holds the owner's password only in that form.
    pub fn secrets_of(
        &self,
        vault: &Vault,
        scope: &str,
    ) -> Result<std::collections::BTreeMap<String, Zeroizing<String>>> {
        let names: Vec<String> = self
            .conn
            .prepare("SELECT name FROM secrets WHERE scope = ?1 ORDER BY name")?
            .query_map(params![scope], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut out = std::collections::BTreeMap::new();
        for n in names {
            if let Some(v) = self.stored_secret(vault, scope, &n)? {
                out.insert(n, v);
            }
        }
        Ok(out)
    }

    /// Every secret of `scope` in plain text, admin-only ones opened (a backup sealed with a
    /// passphrase, for another installation whose admin key differs): admins only.
    pub fn secrets_for_export(
        &self,
        vault: &Vault,
        scope: &str,
    ) -> Result<std::collections::BTreeMap<String, Zeroizing<String>>> {
        let mut out = self.secrets_of(vault, scope)?;
        for (name, value) in &mut out {
            if value.starts_with(ADMIN_SEALED) {
                *value = self.secret(vault, scope, name)?.unwrap_or_default();
            }
        }
        Ok(out)
    }

    /// Removes one secret.
    pub fn delete_secret(&self, scope: &str, name: &str) -> Result<()> {
        self.conn.execute("DELETE FROM secrets WHERE scope = ?1 AND name = ?2", params![scope, name])?;
        Ok(())
    }

    /// Removes every secret of `scope` (a deleted customer's).
    pub fn delete_secret_scope(&self, scope: &str) -> Result<()> {
        self.conn.execute("DELETE FROM secrets WHERE scope = ?1", params![scope])?;
        Ok(())
    }
}
