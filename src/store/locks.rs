//! Operation locks: one running operation per customer across every process using the database.
//! A lock is stale (and may be taken over) when its heartbeat is older than [`STALE_AFTER_S`]
//! or its process is gone from this host.

use rusqlite::{OptionalExtension, params};

use super::{Result, Store, StoreError, fmt_time, now};

/// Seconds without a heartbeat after which a lock is considered abandoned.
pub const STALE_AFTER_S: i64 = 90;

/// Who holds a lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockHolder {
    /// What runs.
    pub operation: String,
    /// The nbmsp user.
    pub owner: String,
    /// Its process id.
    pub pid: u32,
    /// Its host name.
    pub host: String,
    /// When it started.
    pub started_at: String,
    /// Unix time of the last heartbeat.
    pub heartbeat_at: i64,
}

/// This machine's name (locks from other hosts cannot be checked for a live process).
pub fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_string()).unwrap_or_else(|_| "localhost".into())
}

fn process_alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

impl LockHolder {
    /// True when the holder is gone: no heartbeat for a while, or no such process here.
    pub fn is_stale(&self, now_s: i64) -> bool {
        now_s - self.heartbeat_at > STALE_AFTER_S || (self.host == host_name() && !process_alive(self.pid))
    }
}

impl Store {
    /// The current lock on `customer_id`, if any.
    pub fn lock_holder(&self, customer_id: i64) -> Result<Option<LockHolder>> {
        Ok(self
            .conn
            .query_row(
                "SELECT operation, owner, pid, host, started_at, heartbeat_at FROM operation_locks WHERE customer_id = ?1",
                params![customer_id],
                |r| {
                    Ok(LockHolder {
                        operation: r.get(0)?,
                        owner: r.get(1)?,
                        pid: r.get(2)?,
                        host: r.get(3)?,
                        started_at: r.get(4)?,
                        heartbeat_at: r.get(5)?,
                    })
                },
            )
            .optional()?)
    }

    /// Takes the lock on `customer_id` for `operation` and returns its token (heartbeats and the
    /// release name it), or says who holds it: `busy: deploy by admin since
    /// 2026-11-23T12:00:01Z`. A stale lock is taken over. Another operation of the same process
    /// is refused like any other: the lock is the operation's.
    pub fn acquire_lock(&self, customer_id: i64, operation: &str, owner: &str, pid: u32, now_s: i64) -> Result<String> {
        let token: String = super::crypto::random_bytes::<8>()?.iter().map(|b| format!("{b:02x}")).collect();
        self.immediate(|conn| {
            let holder = self.lock_holder(customer_id)?;
            if let Some(h) = holder.filter(|h| !h.is_stale(now_s)) {
                let place = if h.host == host_name() { String::new() } else { format!(" on {}", h.host) };
                return Err(StoreError::Conflict(format!("busy: {} by {}{place} since {}", h.operation, h.owner, h.started_at)));
            }
            conn.execute(
                "INSERT INTO operation_locks (customer_id, operation, owner, pid, host, started_at, heartbeat_at, token)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (customer_id) DO UPDATE SET operation = excluded.operation, owner = excluded.owner, pid = excluded.pid,
                     host = excluded.host, started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at,
                     token = excluded.token",
                params![customer_id, operation, owner, pid, host_name(), fmt_time(now()), now_s, token],
            )?;
            Ok(())
        })?;
        Ok(token)
    }

    /// Proves the holder of `token` is alive, and that it still holds the lock: the token is
    /// compared in the same statement that renews it (a fencing token). A holder that stalled
    /// past [`STALE_AFTER_S`] and was taken over gets `Stale` and must stop before acting.
    pub fn heartbeat_lock(&self, customer_id: i64, token: &str, now_s: i64) -> Result<()> {
        let renewed = self.conn.execute(
            "UPDATE operation_locks SET heartbeat_at = ?1 WHERE customer_id = ?2 AND token = ?3",
            params![now_s, customer_id, token],
        )?;
        if renewed == 0 {
            let by = self.lock_holder(customer_id)?.map_or_else(
                || "nobody holds it now".to_string(),
                |h| format!("{} by {} (pid {}) took it over", h.operation, h.owner, h.pid),
            );
            return Err(StoreError::Stale(format!(
                "this operation lost the customer's lock while it was stalled ({by}); it stopped before changing \
                 anything more"
            )));
        }
        Ok(())
    }

    /// Releases the lock if the operation holding `token` still holds it.
    pub fn release_lock(&self, customer_id: i64, token: &str) -> Result<()> {
        self.conn.execute(
            "DELETE FROM operation_locks WHERE customer_id = ?1 AND token = ?2",
            params![customer_id, token],
        )?;
        Ok(())
    }

    /// Releases the lock of a deploy or redeploy of process `pid` whose task was dropped (a
    /// cancel: the dropped task cannot release it, and its token went with it).
    pub fn release_cancelled_lock(&self, customer_id: i64, pid: u32) -> Result<()> {
        self.conn.execute(
            "DELETE FROM operation_locks
             WHERE customer_id = ?1 AND operation IN ('deploy', 'redeploy') AND pid = ?2 AND host = ?3",
            params![customer_id, pid, host_name()],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::customer::{Layout, NewCustomer};

    fn store_with_customer() -> (Store, i64) {
        let s = Store::open_in_memory().unwrap();
        let new = NewCustomer {
            name: "A".into(),
            company: String::new(),
            subdomain: "a".into(),
            email: "a@a.example".into(),
            max_devices: 1,
            notes: String::new(),
            contract_id: None,
            psa_ref: None,
            sla_target: None,
            reverse_proxy: false,
            layout: Layout::Combined,
        };
        let id = s.create_customer("t", &new).unwrap().id;
        (s, id)
    }

    #[test]
    fn a_live_lock_refuses_a_second_operation_and_names_it() {
        let (s, id) = store_with_customer();
        let me = std::process::id();
        let token = s.acquire_lock(id, "deploy", "admin", me, 1000).unwrap();
        // Another process (our parent is alive on this host) wants it.
        let other = std::os::unix::process::parent_id();
        let e = s.acquire_lock(id, "delete", "ops", other, 1010).unwrap_err().to_string();
        assert!(e.starts_with("busy: deploy by admin since "), "{e}");
        // So does another operation of this very process (a stop during a rollout's redeploy).
        let e = s.acquire_lock(id, "stop", "admin", me, 1010).unwrap_err().to_string();
        assert!(e.starts_with("busy: deploy by admin"), "{e}");
        s.release_lock(id, "not-the-token").unwrap();
        assert!(s.lock_holder(id).unwrap().is_some(), "only the holder's token releases");
        s.release_lock(id, &token).unwrap();
        s.acquire_lock(id, "delete", "ops", other, 1011).unwrap();
    }

    #[test]
    fn stale_locks_are_taken_over() {
        let (s, id) = store_with_customer();
        let parent = std::os::unix::process::parent_id();
        s.acquire_lock(id, "deploy", "admin", parent, 1000).unwrap();
        // No heartbeat for longer than the limit.
        let t = s.acquire_lock(id, "stop", "ops", std::process::id(), 1000 + STALE_AFTER_S + 1).unwrap();
        assert_eq!(s.lock_holder(id).unwrap().unwrap().operation, "stop");
        // A holder whose process is gone from this host.
        s.release_lock(id, &t).unwrap();
        s.acquire_lock(id, "deploy", "admin", u32::MAX - 7, 2000).unwrap();
        s.acquire_lock(id, "stop", "ops", std::process::id(), 2001).unwrap();
    }

    #[test]
    fn heartbeats_keep_a_lock_alive() {
        let (s, id) = store_with_customer();
        let parent = std::os::unix::process::parent_id();
        let t = s.acquire_lock(id, "deploy", "admin", parent, 1000).unwrap();
        s.heartbeat_lock(id, &t, 1000 + STALE_AFTER_S).unwrap();
        assert!(s.acquire_lock(id, "stop", "ops", std::process::id(), 1000 + STALE_AFTER_S + 10).is_err());
    }
}
