//! Logins, persisted throttling, and wrapping the data key per user.

use std::path::Path;

use rusqlite::{OptionalExtension, TransactionBehavior, params};
use zeroize::Zeroizing;

use super::admin_key::{admin_key_for, open_admin_wrap, store_admin_wrap};
use super::crypto::{self, KEY_LEN, KdfParams, SALT_LEN};
use super::{Result, Store, StoreError, Vault, fmt_time, home, now};
use crate::domain::rights::Right;
use crate::domain::settings::SETTINGS;
use crate::domain::user::{Role, User, lockout_seconds};
use crate::domain::{settings, validate};

/// Why a login or an account action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Unknown user or wrong password; deliberately the same message for both.
    #[error("wrong username or password")]
    BadCredentials,
    /// An empty password: refused before any check, and not counted as a failed attempt.
    #[error("the password is empty")]
    EmptyPassword,
    /// Changing one's own password needs the current one.
    #[error("the current password is wrong")]
    WrongCurrentPassword,
    /// Too many failures: no attempt is checked until the wait is over. The message does not
    /// name the user, so it confirms nothing about who exists.
    #[error("too many failed logins: try again in {wait_s} s")]
    Throttled {
        /// Who is locked.
        username: String,
        /// Seconds left.
        wait_s: i64,
    },
    /// A secret sealed for admins was asked for in a session without the admin key: not a
    /// rule that could be checked elsewhere, but the key that is not there.
    #[error("only an admin may {0}")]
    SealedForAdmins(&'static str),
    /// The user's role does not cover the action.
    #[error("{} {role} may not {what} (it needs {needed})", if *role == Role::Viewer { "a" } else { "an" })]
    NotAllowed {
        /// The user's role.
        role: Role,
        /// What was tried.
        what: String,
        /// The least role that may.
        needed: &'static str,
    },
    /// The user has no wrapped data key (database edited by hand?).
    #[error("user '{0}' has no key to the secrets; an admin must reset their password")]
    NoKeyWrap(String),
    /// The account is an admin in the `users` table but holds no admin key: its role was
    /// changed outside nbmsp, or it was an admin before the admin key existed.
    #[error(
        "user '{0}' is marked admin but holds no admin key (was the role changed in the database by hand?); \
         another admin gives it one by resetting its password: `nbmsp user passwd {0}`"
    )]
    NoAdminKey(String),
}

/// A logged-in user with the unlocked secrets.
#[derive(Debug)]
pub struct Session {
    /// Who is logged in.
    pub user: User,
    /// The unlocked data key.
    pub vault: Vault,
}

impl Session {
    /// Fails unless the user's role covers `right` (the one check every door goes through).
    pub fn require(&self, right: Right) -> Result<()> {
        require_role(self.user.role, right)
    }
}

/// Fails unless `role` covers `right` (for callers that hold a role, not a session).
pub fn require_role(role: Role, right: Right) -> Result<()> {
    require_role_doing(role, right, right.what())
}

/// [`require_role`] with more precise words for the message ("create a setup key" rather than
/// the right's row in the role table).
pub fn require_role_doing(role: Role, right: Right, what: &str) -> Result<()> {
    crate::domain::rights::check(role, right, what)
        .map_err(|r| AuthError::NotAllowed { role: r.role, what: r.what, needed: r.needed }.into())
}

impl Session {
    /// The user's role.
    pub fn role(&self) -> Role {
        self.user.role
    }
}

/// What `init` needs to set up a new installation.
#[derive(Debug, Clone)]
pub struct InitParams<'a> {
    /// Data home (for the default `data_dir`).
    pub home: &'a Path,
    /// First admin's username.
    pub admin_user: &'a str,
    /// First admin's password.
    pub password: &'a str,
    /// The MSP's contact address.
    pub admin_email: &'a str,
    /// Base domain for customers.
    pub base_domain: &'a str,
    /// Another installation's containers run on the engine: this one's container names carry
    /// its own short id, so the two never claim one name (see [`Store::name_prefix`]).
    pub beside_foreign: bool,
}

fn wrap_aad(user_id: i64) -> Vec<u8> {
    format!("nbmsp:v1:datakey:{user_id}").into_bytes()
}

impl Store {
    /// Creates the first admin, a fresh data key and every setting at its default. Refuses when
    /// any user exists.
    pub fn initialise(&mut self, p: &InitParams<'_>) -> Result<Session> {
        validate::username(p.admin_user)?;
        validate::password(p.password)?;
        let email = settings::normalise("admin_email", p.admin_email)?;
        let domain = settings::normalise("base_domain", p.base_domain)?;
        let data_dir = home::default_data_dir(p.home).to_string_lossy().into_owned();
        let data_dir = settings::normalise("data_dir", &data_dir)?;
        let data_key = crypto::new_data_key()?;
        let hash = crypto::hash_password(p.password)?;
        let (admin_key, admin_public) = crypto::box_keypair()?;
        let wrap = WrappedKey::new(p.password, &data_key)?.with_admin(Some(&admin_key));

        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let users: i64 = tx.query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))?;
        if users > 0 {
            return Err(StoreError::AlreadyInitialised(p.home.to_path_buf()));
        }
        let t = fmt_time(now());
        tx.execute(
            "INSERT INTO users (username, password_hash, role, created_at, updated_at) VALUES (?1, ?2, 'admin', ?3, ?3)",
            params![p.admin_user, hash, t],
        )?;
        let user_id = tx.last_insert_rowid();
        wrap.store(&tx, user_id)?;
        super::vault::set_admin_public(&tx, &admin_public)?;
        for d in SETTINGS.iter().filter(|d| !d.is_secret()) {
            let value = match d.key {
                "admin_email" => email.as_str(),
                "base_domain" => domain.as_str(),
                "data_dir" => data_dir.as_str(),
                _ => d.default,
            };
            tx.execute(
                "INSERT INTO settings (key, value, updated_at, updated_by) VALUES (?1, ?2, ?3, ?4)",
                params![d.key, value, t, p.admin_user],
            )?;
        }
        if p.beside_foreign {
            tx.execute(
                "INSERT OR REPLACE INTO meta (key, value)
                 SELECT 'name_prefix', substr(value, 1, 8) || '-' FROM meta WHERE key = 'installation_id'",
                [],
            )?;
        }
        tx.commit()?;
        let user = self.user(p.admin_user)?.ok_or_else(|| StoreError::NotFound("the new admin vanished".into()))?;
        self.audit_system(&user.username, "init", &user.username, "nbmsp initialised")?;
        Ok(Session { user, vault: Vault::from_key(data_key).with_admin(Some(admin_key)) })
    }

    /// Checks the password, honouring and updating the persisted throttle, and unlocks the
    /// secrets. `now_s` is the Unix time (a parameter so tests can move the clock).
    pub fn login(&mut self, username: &str, password: &str, now_s: i64) -> Result<Session> {
        if password.is_empty() {
            return Err(AuthError::EmptyPassword.into());
        }
        if let Some(wait_s) = self.lockout_remaining(username, now_s)? {
            return Err(AuthError::Throttled { username: username.to_string(), wait_s }.into());
        }
        let row: Option<(i64, String)> = self
            .conn
            .query_row("SELECT id, password_hash FROM users WHERE username = ?1", params![username], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        // The key wrap is the password check: the data key opens only under argon2id of the
        // right password, so a right password costs one derivation and no separate hash check
        // (#29: it halved the login under the first frame). An unknown user derives from the
        // first user's wrap, whose parameters are the same, and discards what it gets.
        let first: Option<i64> = match &row {
            Some(_) => None,
            None => self.conn.query_row("SELECT MIN(user_id) FROM key_wraps", [], |r| r.get(0))?,
        };
        let wrap_owner = row.as_ref().map(|(id, _)| *id).or(first);
        let opened = match wrap_owner {
            Some(id) => WrappedKey::load(&self.conn, id)?.and_then(|w| w.unwrap_key(password, id).ok()),
            None => None,
        };
        let (key, wrapping) = match (&row, opened) {
            (Some(_), Some(keys)) => keys,
            _ => {
                // Refused either way after one verification of a stored hash (an unknown user's
                // against the first user's hash): what tells a wrong password from a damaged
                // wrap costs the same for a name that does not exist.
                let dummy: Option<String>;
                let phc = match &row {
                    Some((_, h)) => h.as_str(),
                    None => {
                        dummy = self
                            .conn
                            .query_row("SELECT password_hash FROM users ORDER BY id LIMIT 1", [], |r| r.get(0))
                            .optional()?;
                        dummy.as_deref().unwrap_or("")
                    }
                };
                if crypto::verify_password(password, phc) && row.is_some() {
                    // The right password, but its wrap is missing or does not open.
                    return Err(match WrappedKey::load(&self.conn, wrap_owner.unwrap_or_default())? {
                        None => AuthError::NoKeyWrap(username.to_string()).into(),
                        Some(_) => StoreError::Corrupt {
                            table: "key_wraps",
                            detail: format!("{username}'s key does not open with the right password"),
                        },
                    });
                }
                self.record_failure(username, now_s)?;
                return Err(AuthError::BadCredentials.into());
            }
        };
        self.conn.execute("DELETE FROM login_attempts WHERE username = ?1", params![username])?;
        let user = self.user(username)?.ok_or(AuthError::BadCredentials)?;
        let vault = Vault::from_key(key);
        // An admin's session holds the admin key, unwrapped by this admin's own password: the
        // role column alone (which anyone who can write the file can change) opens nothing.
        let admin = if user.role == Role::Admin { Some(self.admin_key_of(&user, &wrapping, &vault)?) } else { None };
        Ok(Session { user, vault: vault.with_admin(admin) })
    }

    /// The admin key of admin `user`, from its own wrap. An installation from before the admin
    /// key gets one at its first admin login (and its admin-only secrets are sealed to it).
    fn admin_key_of(&self, user: &User, wrapping: &[u8; KEY_LEN], vault: &Vault) -> Result<Zeroizing<[u8; KEY_LEN]>> {
        if let Some(key) = open_admin_wrap(&self.conn, user.id, wrapping)? {
            return Ok(key);
        }
        if super::vault::admin_public(&self.conn)?.is_some() {
            return Err(AuthError::NoAdminKey(user.username.clone()).into());
        }
        let (key, public) = crypto::box_keypair()?;
        self.immediate(|conn| {
            store_admin_wrap(conn, user.id, wrapping, &key)?;
            super::vault::set_admin_public(conn, &public)
        })?;
        self.seal_admin_only_secrets(vault)?;
        self.audit_system(&user.username, "admin-key", &user.username, "the admin key was created")?;
        Ok(key)
    }

    /// Seconds `username` must still wait before a login is checked, if locked.
    pub fn lockout_remaining(&self, username: &str, now_s: i64) -> Result<Option<i64>> {
        let until: Option<Option<i64>> = self
            .conn
            .query_row("SELECT locked_until FROM login_attempts WHERE username = ?1", params![username], |r| r.get(0))
            .optional()?;
        Ok(until.flatten().map(|u| u - now_s).filter(|w| *w > 0))
    }

    fn record_failure(&mut self, username: &str, now_s: i64) -> Result<()> {
        // Immediate: two processes failing at once must both count.
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let failures: u32 = tx
            .query_row("SELECT failures FROM login_attempts WHERE username = ?1", params![username], |r| r.get(0))
            .optional()?
            .unwrap_or(0);
        let failures = failures.saturating_add(1);
        let locked_until = lockout_seconds(failures).map(|s| now_s + s);
        tx.execute(
            "INSERT INTO login_attempts (username, failures, last_failure_at, locked_until) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (username) DO UPDATE SET failures = excluded.failures, last_failure_at = excluded.last_failure_at, locked_until = excluded.locked_until",
            params![username, failures, now_s, locked_until],
        )?;
        tx.commit()?;
        tracing::warn!(username, failures, "failed login");
        Ok(())
    }

    /// Adds a user (admins only); the new user gets their own wrap of the data key.
    pub fn add_user(&self, session: &Session, username: &str, password: &str, role: Role) -> Result<User> {
        session.require(Right::Users)?;
        validate::username(username)?;
        validate::password(password)?;
        let hash = crypto::hash_password(password)?;
        let wrap = WrappedKey::new(password, session.vault.key())?.with_admin(admin_key_for(session, role, username)?);
        self.immediate(|conn| {
            let t = fmt_time(now());
            let inserted = conn.execute(
                "INSERT INTO users (username, password_hash, role, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (username) DO NOTHING",
                params![username, hash, role.as_str(), t],
            )?;
            if inserted == 0 {
                return Err(StoreError::Conflict(format!("user '{username}' already exists")));
            }
            wrap.store(conn, conn.last_insert_rowid())
        })?;
        self.audit_system(&session.user.username, "user.add", username, &format!("user '{username}' added as {role}"))?;
        self.user(username)?.ok_or_else(|| StoreError::NotFound(format!("user '{username}' vanished")))
    }

    /// Sets a new password for `username` and re-wraps the data key under it. Users change their
    /// own; admins may reset anyone's.
    pub fn change_password(
        &self,
        session: &Session,
        username: &str,
        current: Option<&str>,
        new_password: &str,
    ) -> Result<()> {
        if session.user.username != username {
            session.require(Right::Users)?;
        } else {
            // A session left open at a desk must not be enough to take the account over.
            let stored: String =
                self.conn.query_row("SELECT password_hash FROM users WHERE username = ?1", params![username], |r| {
                    r.get(0)
                })?;
            if !current.is_some_and(|c| crypto::verify_password(c, &stored)) {
                return Err(AuthError::WrongCurrentPassword.into());
            }
        }
        validate::password(new_password)?;
        let user = self.user(username)?.ok_or_else(|| StoreError::NotFound(format!("no user '{username}'")))?;
        let hash = crypto::hash_password(new_password)?;
        let wrap = WrappedKey::new(new_password, session.vault.key())?
            .with_admin(admin_key_for(session, user.role, username)?);
        self.immediate(|conn| {
            conn.execute(
                "UPDATE users SET password_hash = ?1, updated_at = ?2 WHERE id = ?3",
                params![hash, fmt_time(now()), user.id],
            )?;
            wrap.store(conn, user.id)?;
            conn.execute("DELETE FROM login_attempts WHERE username = ?1", params![username])?;
            Ok(())
        })?;
        self.audit_system(&session.user.username, "user.passwd", username, &format!("password of '{username}' changed"))
    }
}

/// A key in memory that is wiped when dropped.
type Key = Zeroizing<[u8; KEY_LEN]>;

/// The data key sealed under one user's password-derived key (and, for an admin, the admin key).
struct WrappedKey {
    salt: [u8; SALT_LEN],
    params: KdfParams,
    sealed: Vec<u8>,
    /// Kept until the user id is known, since the id is part of the associated data.
    key: Zeroizing<[u8; KEY_LEN]>,
    wrapping: Zeroizing<[u8; KEY_LEN]>,
    /// The admin key, for an admin's wrap.
    admin: Option<Zeroizing<[u8; KEY_LEN]>>,
}

impl WrappedKey {
    fn new(password: &str, data_key: &[u8; KEY_LEN]) -> Result<Self> {
        let salt = crypto::random_bytes::<SALT_LEN>()?;
        let params = KdfParams::DEFAULT;
        let wrapping = crypto::derive_wrapping_key(password, &salt, params)?;
        Ok(Self { salt, params, sealed: Vec::new(), key: Zeroizing::new(*data_key), wrapping, admin: None })
    }

    /// This wrap also carries `admin` (an admin's wrap); `None` leaves it without (and a store
    /// removes any admin wrap the user had: a demoted or non-admin user holds none).
    fn with_admin(mut self, admin: Option<&[u8; KEY_LEN]>) -> Self {
        self.admin = admin.map(|k| Zeroizing::new(*k));
        self
    }

    fn store(mut self, conn: &rusqlite::Connection, user_id: i64) -> Result<()> {
        self.sealed = crypto::seal(&self.wrapping, &wrap_aad(user_id), self.key.as_ref())?;
        conn.execute(
            "INSERT INTO key_wraps (user_id, kdf_salt, kdf_params, wrapped_key) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (user_id) DO UPDATE SET kdf_salt = excluded.kdf_salt, kdf_params = excluded.kdf_params, wrapped_key = excluded.wrapped_key",
            params![user_id, &self.salt[..], self.params.encode(), self.sealed],
        )?;
        match &self.admin {
            Some(k) => store_admin_wrap(conn, user_id, &self.wrapping, k)?,
            None => {
                conn.execute("DELETE FROM admin_wraps WHERE user_id = ?1", params![user_id])?;
            }
        }
        Ok(())
    }

    fn load(conn: &rusqlite::Connection, user_id: i64) -> Result<Option<Self>> {
        let row: Option<(Vec<u8>, String, Vec<u8>)> = conn
            .query_row(
                "SELECT kdf_salt, kdf_params, wrapped_key FROM key_wraps WHERE user_id = ?1",
                params![user_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((salt, params, sealed)) = row else {
            return Ok(None);
        };
        let corrupt = |detail: &str| StoreError::Corrupt { table: "key_wraps", detail: detail.to_string() };
        let salt: [u8; SALT_LEN] = salt.try_into().map_err(|_| corrupt("salt length"))?;
        let params = KdfParams::decode(&params).ok_or_else(|| corrupt("kdf params"))?;
        Ok(Some(Self {
            salt,
            params,
            sealed,
            key: Zeroizing::new([0; KEY_LEN]),
            wrapping: Zeroizing::new([0; KEY_LEN]),
            admin: None,
        }))
    }

    /// The data key, and the wrapping key it was opened with (it opens the admin wrap too).
    fn unwrap_key(self, password: &str, user_id: i64) -> Result<(Key, Key)> {
        let wrapping = crypto::derive_wrapping_key(password, &self.salt, self.params)?;
        let plain = crypto::open(&wrapping, &wrap_aad(user_id), &self.sealed)?;
        let key: [u8; KEY_LEN] = plain
            .as_slice()
            .try_into()
            .map_err(|_| StoreError::Corrupt { table: "key_wraps", detail: "key length".into() })?;
        Ok((Zeroizing::new(key), wrapping))
    }
}

#[cfg(test)]
#[path = "auth_tests.rs"]
mod tests;
