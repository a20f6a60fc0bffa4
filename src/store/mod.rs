//! The embedded SQLite store: migrations, repositories and secret encryption.
//!
//! Everything leaves this module as domain types; rusqlite types stay inside.

mod admin_key;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod backups;
pub mod crypto;
pub mod customers;
pub mod deployments;
pub mod history;
pub mod home;
pub mod hosts;
pub mod journal;
pub mod locks;
pub mod meta;
pub mod migrations;
pub mod monitor;
pub mod settings;
pub mod users;
pub mod vault;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::domain::{Timestamp, ValidationError};

pub use auth::{AuthError, Session};
pub use vault::Vault;

/// File name of the database inside the data home.
pub const DB_FILE: &str = "nbmsp.db";

/// Everything that can go wrong in the store, in words a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite itself failed.
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
    /// SQLite found the file damaged in the middle of its work.
    #[error(
        "the database is damaged ({0}); restore it with `nbmsp backup restore FILE` (from a file `nbmsp backup \
         create` wrote)"
    )]
    Malformed(String),
    /// The database was written by a newer nbmsp.
    #[error(
        "the database is at schema version {found} but this nbmsp knows only up to {known}; upgrade nbmsp (or restore a backup)"
    )]
    TooNew {
        /// Version found.
        found: usize,
        /// Newest version this build knows.
        known: usize,
    },
    /// No database at the data home yet.
    #[error("nbmsp is not initialised in {0}: run `nbmsp init` first (or pass --home)")]
    NotInitialised(PathBuf),
    /// The database file exists but is not a usable nbmsp database. Never recreated in place:
    /// that would orphan every customer's containers and secrets.
    #[error(
        "damaged database at {path}: {detail}; nothing was changed. Restore it with `nbmsp backup restore FILE` \
         (from a file `nbmsp backup create` wrote)"
    )]
    Damaged {
        /// The database file.
        path: PathBuf,
        /// What is wrong with it.
        detail: String,
    },
    /// `init` on a database that already has users.
    #[error("nbmsp is already initialised in {0}")]
    AlreadyInitialised(PathBuf),
    /// A lookup found nothing.
    #[error("{0}")]
    NotFound(String),
    /// A uniqueness rule would break (subdomain taken, user exists).
    #[error("{0}")]
    Conflict(String),
    /// The customer an operation was meant for is no longer the one at that id.
    #[error("{0}")]
    Stale(String),
    /// A value broke a domain rule.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// Encryption or hashing failed.
    #[error(transparent)]
    Crypto(#[from] crypto::CryptoError),
    /// Login refused or not allowed.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The filesystem around the database failed.
    #[error("{context}: {source}")]
    Io {
        /// What nbmsp was doing.
        context: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A stored row does not parse as its domain type (edited by hand, or a bug).
    #[error("corrupt row in {table}: {detail}")]
    Corrupt {
        /// Table name.
        table: &'static str,
        /// What was wrong.
        detail: String,
    },
}

impl StoreError {
    /// Which kind of failure this is for the CLI and the app.
    pub fn kind(&self) -> crate::domain::error::ErrorKind {
        use crate::domain::error::ErrorKind;
        match self {
            StoreError::Invalid(_) => ErrorKind::Validation,
            StoreError::NotFound(_) => ErrorKind::NotFound,
            StoreError::Conflict(_) | StoreError::AlreadyInitialised(_) | StoreError::Stale(_) => ErrorKind::Conflict,
            StoreError::Damaged { .. } | StoreError::Malformed(_) => ErrorKind::DamagedDatabase,
            StoreError::NotInitialised(_) => ErrorKind::NotInitialised,
            StoreError::Auth(auth::AuthError::NotAllowed { .. } | auth::AuthError::SealedForAdmins(_)) => {
                ErrorKind::Forbidden
            }
            StoreError::Auth(_) => ErrorKind::Auth,
            _ => ErrorKind::Runtime,
        }
    }
}

impl From<StoreError> for crate::domain::error::Failure {
    fn from(e: StoreError) -> Self {
        Self::new(e.kind(), e.to_string())
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match &e {
            rusqlite::Error::SqliteFailure(f, _)
                if matches!(f.code, rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase) =>
            {
                StoreError::Malformed(e.to_string())
            }
            _ => StoreError::Sqlite(e),
        }
    }
}

/// Shorthand for store results.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// An open database. One per process (or per thread); SQLite's WAL lets several processes share
/// the file.
pub struct Store {
    conn: Connection,
    path: Option<PathBuf>,
}

impl Store {
    /// Opens the database at `path`, applying pending migrations. `create` allows making a new
    /// file (only `init` does that); otherwise a missing file is [`StoreError::NotInitialised`].
    pub fn open(path: &Path, create: bool) -> Result<Self> {
        if !create && !path.exists() {
            return Err(StoreError::NotInitialised(path.parent().unwrap_or(path).to_path_buf()));
        }
        if path.exists() {
            check_file(path)?;
        }
        let mut flags =
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        if create {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let damaged = |e: StoreError| match e {
            StoreError::Malformed(detail) => StoreError::Damaged { path: path.to_path_buf(), detail },
            e => e,
        };
        let existed = path.exists();
        let conn = Connection::open_with_flags(path, flags).map_err(|e| damaged(e.into()))?;
        if existed && !create {
            // An initialised database is at version 1 or later: version 0 here means the schema
            // is gone (a file emptied or replaced), and migrating would start over on it.
            let v = migrations::version(&conn).map_err(damaged)?;
            if v == 0 {
                return Err(StoreError::Damaged {
                    path: path.to_path_buf(),
                    detail: "it holds no nbmsp schema".into(),
                });
            }
        }
        Self::setup(conn, Some(path.to_path_buf())).map_err(damaged)
    }

    /// A private in-memory database, for tests.
    pub fn open_in_memory() -> Result<Self> {
        Self::setup(Connection::open_in_memory()?, None)
    }

    fn setup(mut conn: Connection, path: Option<PathBuf>) -> Result<Self> {
        // Several TUIs and CLIs share one file: wait for a writer instead of failing at once.
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "foreign_keys", true)?;
        if path.is_some() {
            let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
            if !mode.eq_ignore_ascii_case("wal") {
                tracing::warn!(mode, "SQLite refused WAL mode");
            }
            conn.pragma_update(None, "synchronous", "NORMAL")?;
        }
        migrations::migrate_to(&mut conn, migrations::LATEST)?;
        Ok(Self { conn, path })
    }

    /// Path of the database file (`None` in memory).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<usize> {
        migrations::version(&self.conn)
    }

    /// Runs `f` inside an IMMEDIATE transaction (the write lock is taken at once, so concurrent
    /// writers in other processes queue instead of failing half-way), committing on `Ok`.
    pub(crate) fn immediate<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        match f(&self.conn) {
            Ok(v) => {
                self.conn.execute_batch("COMMIT")?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// A number that changes whenever another connection (another nbmsp process) commits to the
    /// database: a cheap way to notice outside changes without re-reading tables.
    pub fn data_version(&self) -> Result<i64> {
        Ok(self.conn.query_row("PRAGMA data_version", [], |r| r.get(0))?)
    }

    /// SQLite's own consistency check: sound, or the first problem it reports.
    pub fn integrity_check(&self) -> Result<Integrity> {
        let r: String = self.conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
        Ok(if r == "ok" { Integrity::Sound } else { Integrity::Damaged(r) })
    }

    /// [`Store::integrity_check`] of the file at `path` on a connection of its own (read-only),
    /// for a blocking thread: it reads every page, which takes a while on a large database.
    pub fn integrity_check_file(path: &Path) -> Result<Integrity> {
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let r: std::result::Result<String, rusqlite::Error> = conn.query_row("PRAGMA quick_check", [], |r| r.get(0));
        Ok(match r {
            Ok(r) if r == "ok" => Integrity::Sound,
            Ok(r) => Integrity::Damaged(r),
            // SQLite stops the check itself on some damage: that is the finding.
            Err(e) => Integrity::Damaged(e.to_string()),
        })
    }
}

/// What SQLite's consistency check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Integrity {
    /// No problem.
    Sound,
    /// The first problem it reported.
    Damaged(String),
}

impl Integrity {
    /// The problem, if any.
    pub fn problem(&self) -> Option<&str> {
        match self {
            Self::Sound => None,
            Self::Damaged(p) => Some(p),
        }
    }
}

/// Refuses files that cannot be an SQLite database before SQLite sees them: SQLite treats an
/// empty file as a new database and would let the schema be created again over it.
pub fn check_file(path: &Path) -> Result<()> {
    use std::io::Read;
    let damaged = |detail: &str| StoreError::Damaged { path: path.to_path_buf(), detail: detail.into() };
    let mut f = std::fs::File::open(path)
        .map_err(|source| StoreError::Io { context: format!("cannot open {}", path.display()), source })?;
    let mut header = [0u8; 16];
    let mut read = 0;
    while read < header.len() {
        match f.read(&mut header[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(source) => return Err(StoreError::Io { context: format!("cannot read {}", path.display()), source }),
        }
    }
    if read == 0 {
        return Err(damaged("the file is empty"));
    }
    if read < header.len() || &header != b"SQLite format 3\0" {
        return Err(damaged("the file is not an SQLite database"));
    }
    Ok(())
}

/// Current time, UTC, truncated to whole seconds so stored and compared values agree.
pub fn now() -> Timestamp {
    let t = time::OffsetDateTime::now_utc();
    t.replace_nanosecond(0).unwrap_or(t)
}

pub use crate::domain::fmt_time;

pub(crate) fn parse_time(table: &'static str, s: &str) -> Result<Timestamp> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|e| StoreError::Corrupt { table, detail: format!("bad time {s:?}: {e}") })
}

pub(crate) fn parse_word<T: std::str::FromStr<Err = String>>(table: &'static str, s: &str) -> Result<T> {
    s.parse().map_err(|e| StoreError::Corrupt { table, detail: format!("{s:?} {e}") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_from_empty_and_from_each_earlier_version() {
        for start in 0..=migrations::LATEST {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(DB_FILE);
            {
                let mut conn = Connection::open(&path).unwrap();
                migrations::migrate_to(&mut conn, start).unwrap();
                if start >= 1 {
                    conn.execute(
                        "INSERT INTO customers (name, subdomain, email, created_at, updated_at) VALUES ('Old', 'old', 'o@old.example', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
                        [],
                    )
                    .unwrap();
                }
            }
            if start == 0 {
                // No schema at all is not an old database but a lost one.
                let err = Store::open(&path, false).err().unwrap();
                assert!(matches!(err, StoreError::Damaged { .. }), "{err}");
                continue;
            }
            let store = Store::open(&path, false).unwrap();
            assert_eq!(store.schema_version().unwrap(), migrations::LATEST, "from {start}");
            if start >= 1 {
                let c = store.find_customer("old").unwrap();
                assert_eq!(c.name, "Old", "data written at version {start} survives");
            }
            assert_eq!(store.integrity_check().unwrap(), Integrity::Sound);
        }
    }

    #[test]
    fn version_7_widens_the_status_and_names_stopped_customers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE);
        {
            let mut conn = Connection::open(&path).unwrap();
            migrations::migrate_to(&mut conn, 6).unwrap();
            conn.execute_batch(
                "INSERT INTO customers (name, subdomain, email, status, status_reason, created_at, updated_at)
                 VALUES ('Old', 'old', 'o@old.example', 'inactive', 'stopped', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
            )
            .unwrap();
            let err = conn.execute("UPDATE customers SET status = 'degraded'", []).unwrap_err();
            assert!(err.to_string().contains("CHECK"), "{err}");
        }
        let store = Store::open(&path, false).unwrap();
        let c = store.find_customer("old").unwrap();
        assert_eq!(c.status, crate::domain::customer::CustomerStatus::Stopped);
        store.set_customer_status(c.id, crate::domain::customer::CustomerStatus::Degraded, Some("x")).unwrap();
        let bad = store.conn.execute("UPDATE customers SET status = 'paused'", []).unwrap_err();
        assert!(bad.to_string().contains("CHECK"), "the constraint still holds: {bad}");
        assert_eq!(store.integrity_check().unwrap(), Integrity::Sound);
    }

    #[test]
    fn version_17_keeps_deployments_and_makes_ports_unique_per_host() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE);
        {
            let mut conn = Connection::open(&path).unwrap();
            migrations::migrate_to(&mut conn, 16).unwrap();
            conn.execute_batch(
                "INSERT INTO hosts (name, docker, public_ip, created_at) VALUES ('far', 'ssh://far', '203.0.113.5', 't');
                 INSERT INTO customers (name, subdomain, email, created_at, updated_at, host_id)
                 VALUES ('Old', 'old', 'o@old.example', 't', 't', NULL), ('Far', 'far', 'f@far.example', 't', 't', 1);
                 INSERT INTO deployments (customer_id, container_prefix, relay_udp_port, npm_proxy_id, devices_total,
                                          created_at, updated_at)
                 VALUES (1, 'nb-old', 3478, 7, 12, 't', 't');",
            )
            .unwrap();
            let unique = conn.execute(
                "INSERT INTO deployments (customer_id, container_prefix, relay_udp_port, created_at, updated_at)
                 VALUES (2, 'nb-far', 3478, 't', 't')",
                [],
            );
            assert!(unique.unwrap_err().to_string().contains("UNIQUE"), "before: one port per installation");
        }
        let store = Store::open(&path, false).unwrap();
        let old = store.deployment(1).unwrap().unwrap();
        assert_eq!((old.relay_udp_port, old.devices_total), (Some(3478), Some(12)), "every column copied");
        store
            .conn
            .execute(
                "INSERT INTO deployments (customer_id, container_prefix, relay_udp_port, created_at, updated_at)
                 VALUES (2, 'nb-far', 3478, 't', 't')",
                [],
            )
            .unwrap();
        assert_eq!(store.integrity_check().unwrap(), Integrity::Sound);
    }

    #[test]
    fn refuses_a_newer_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE);
        Store::open(&path, true).unwrap();
        Connection::open(&path).unwrap().pragma_update(None, "user_version", 99).unwrap();
        let err = Store::open(&path, false).err().unwrap();
        assert!(matches!(err, StoreError::TooNew { found: 99, .. }), "{err}");
        assert!(err.to_string().contains("upgrade nbmsp"));
    }

    #[test]
    fn missing_database_is_not_created_by_accident() {
        let dir = tempfile::tempdir().unwrap();
        let err = Store::open(&dir.path().join(DB_FILE), false).err().unwrap();
        assert!(err.to_string().contains("nbmsp init"), "{err}");
        assert!(!dir.path().join(DB_FILE).exists());
    }

    #[test]
    fn uses_wal_and_foreign_keys() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join(DB_FILE), true).unwrap();
        let mode: String = store.conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        let fk: i64 = store.conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0)).unwrap();
        assert_eq!((mode.as_str(), fk), ("wal", 1));
    }
}
