//! Encrypted secrets: the unlocked data key and the `secrets` table.

use rusqlite::{OptionalExtension, params};
use zeroize::Zeroizing;

use super::crypto::{self, KEY_LEN};
use super::{Result, Store, fmt_time, now};

/// The unlocked data key. Only a successful login yields one; it never touches the disk unwrapped.
pub struct Vault {
    key: Zeroizing<[u8; KEY_LEN]>,
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
        Self { key }
    }

    pub(crate) fn key(&self) -> &[u8; KEY_LEN] {
        &self.key
    }
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
    /// Stores `value` encrypted under `scope`/`name`, replacing any earlier value.
    pub fn put_secret(&self, vault: &Vault, scope: &str, name: &str, value: &str) -> Result<()> {
        let sealed = crypto::seal(vault.key(), &aad(scope, name), value.as_bytes())?;
        self.conn.execute(
            "INSERT INTO secrets (scope, name, sealed, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (scope, name) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at",
            params![scope, name, sealed, fmt_time(now())],
        )?;
        Ok(())
    }

    /// The decrypted secret, or `None` when never set.
    pub fn secret(&self, vault: &Vault, scope: &str, name: &str) -> Result<Option<Zeroizing<String>>> {
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

    /// Every secret of `scope`, decrypted (what a customer backup carries).
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
            if let Some(v) = self.secret(vault, scope, &n)? {
                out.insert(n, v);
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
