//! The operation journal: deploy, redeploy and delete record each step as they start it, so a
//! crash (kill -9, power loss) leaves a `running` entry naming the operation and its last step.
//! Reconcile finds such entries whose process is gone and finishes or undoes the operation.

use rusqlite::params;

use super::locks::{LockHolder, host_name};
use super::{Result, Store, fmt_time, now};

/// One journal entry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct JournalEntry {
    /// Row id.
    pub id: i64,
    /// The customer (its row may be gone after a delete).
    pub customer_id: i64,
    /// Its subdomain, for messages.
    pub subdomain: String,
    /// `deploy` (a first deploy), `redeploy` or `delete`.
    pub operation: String,
    /// For a delete: the customer's data goes too (else it is archived).
    pub purge_data: bool,
    /// The last step started.
    pub step: String,
    /// `running`, `done`, `failed` or `recovered`.
    pub state: String,
    /// Who ran it.
    pub actor: String,
    /// Its process.
    pub pid: u32,
    /// Its host.
    pub host: String,
    /// When it started.
    pub started_at: String,
    /// When it last moved.
    pub updated_at: String,
    /// How it ended, in words.
    pub outcome: Option<String>,
    /// For a move: the hosts it goes between (`None`: this machine's engine).
    pub moving: Option<(Option<i64>, Option<i64>)>,
    /// For a move: the UDP port the source's files publish (the target may use another).
    pub move_port: Option<u16>,
}

impl JournalEntry {
    /// True when the process that ran it is gone, so nobody will ever finish it.
    pub fn is_abandoned(&self, lock: Option<&LockHolder>, now_s: i64) -> bool {
        let same_process_holds = lock.is_some_and(|l| l.pid == self.pid && l.host == self.host && !l.is_stale(now_s));
        !same_process_holds
            && (self.host != host_name() || !std::path::Path::new(&format!("/proc/{}", self.pid)).exists())
    }
}

const COLUMNS: &str =
    "id, customer_id, subdomain, operation, step, state, actor, pid, host, started_at, updated_at, outcome, purge_data,
     move_from, move_to, move_port";

fn entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<JournalEntry> {
    Ok(JournalEntry {
        id: r.get(0)?,
        customer_id: r.get(1)?,
        subdomain: r.get(2)?,
        operation: r.get(3)?,
        step: r.get(4)?,
        state: r.get(5)?,
        actor: r.get(6)?,
        pid: r.get(7)?,
        host: r.get(8)?,
        started_at: r.get(9)?,
        updated_at: r.get(10)?,
        outcome: r.get(11)?,
        purge_data: r.get(12)?,
        // 0 stands for this machine's engine (NULL would be "no move").
        moving: if r.get::<_, String>(3)? == "move" {
            let key = |v: Option<i64>| v.filter(|id| *id != 0);
            Some((key(r.get(13)?), key(r.get(14)?)))
        } else {
            None
        },
        move_port: r.get(15)?,
    })
}

impl Store {
    /// Opens the journal entry of a move between two hosts (`None`: this machine's engine) from
    /// UDP `port`, so a recovery knows which side to finish or undo and what the source publishes.
    pub fn journal_begin_move(
        &self,
        customer_id: i64,
        subdomain: &str,
        actor: &str,
        from: Option<i64>,
        to: Option<i64>,
        port: u16,
    ) -> Result<i64> {
        let id = self.journal_begin(customer_id, subdomain, "move", actor)?;
        self.conn.execute(
            "UPDATE journal SET move_from = ?1, move_to = ?2, move_port = ?3 WHERE id = ?4",
            params![from.unwrap_or(0), to.unwrap_or(0), port, id],
        )?;
        Ok(id)
    }

    /// Opens a journal entry for an operation this process starts.
    pub fn journal_begin(&self, customer_id: i64, subdomain: &str, operation: &str, actor: &str) -> Result<i64> {
        self.journal_begin_with(customer_id, subdomain, operation, actor, false)
    }

    /// [`Store::journal_begin`] for a delete that also removes the data (`purge_data`), so a
    /// recovery finishes it the way it was asked for.
    pub fn journal_begin_with(
        &self,
        customer_id: i64,
        subdomain: &str,
        operation: &str,
        actor: &str,
        purge_data: bool,
    ) -> Result<i64> {
        let t = fmt_time(now());
        self.conn.execute(
            "INSERT INTO journal (customer_id, subdomain, operation, purge_data, step, state, actor, pid, host,
                                  started_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, 'start', 'running', ?5, ?6, ?7, ?8, ?8)",
            params![customer_id, subdomain, operation, purge_data, actor, std::process::id(), host_name(), t],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Records the step an operation starts now.
    pub fn journal_step(&self, id: i64, step: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE journal SET step = ?1, updated_at = ?2 WHERE id = ?3",
            params![step, fmt_time(now()), id],
        )?;
        Ok(())
    }

    /// Closes an entry: `done`, `failed` (the operation cleaned up after itself) or
    /// `recovered` (reconcile finished or undid it).
    pub fn journal_end(&self, id: i64, state: &str, outcome: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE journal SET state = ?1, outcome = ?2, updated_at = ?3 WHERE id = ?4",
            params![state, outcome, fmt_time(now()), id],
        )?;
        Ok(())
    }

    /// Entries still `running` (under way elsewhere, or abandoned by a crash).
    pub fn journal_running(&self) -> Result<Vec<JournalEntry>> {
        let mut stmt =
            self.conn.prepare(&format!("SELECT {COLUMNS} FROM journal WHERE state = 'running' ORDER BY id"))?;
        Ok(stmt.query_map([], entry)?.collect::<rusqlite::Result<_>>()?)
    }

    /// The newest entries of a customer.
    #[cfg(test)]
    fn journal_of(&self, customer_id: i64, limit: usize) -> Result<Vec<JournalEntry>> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {COLUMNS} FROM journal WHERE customer_id = ?1 ORDER BY id DESC LIMIT ?2"))?;
        Ok(stmt
            .query_map(params![customer_id, i64::try_from(limit).unwrap_or(i64::MAX)], entry)?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// One entry.
    #[cfg(test)]
    fn journal_entry(&self, id: i64) -> Result<Option<JournalEntry>> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn
            .query_row(&format!("SELECT {COLUMNS} FROM journal WHERE id = ?1"), params![id], entry)
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_and_ends_are_recorded() {
        let s = Store::open_in_memory().unwrap();
        let id = s.journal_begin(7, "acme", "deploy", "admin").unwrap();
        s.journal_step(id, "start containers").unwrap();
        let running = s.journal_running().unwrap();
        assert_eq!(running.len(), 1);
        assert_eq!((running[0].step.as_str(), running[0].pid), ("start containers", std::process::id()));
        assert!(!running[0].is_abandoned(None, 0), "this process is alive");
        let mut dead = running[0].clone();
        dead.pid = u32::MAX - 1;
        assert!(dead.is_abandoned(None, 0));
        s.journal_end(id, "done", "deployed").unwrap();
        assert!(s.journal_running().unwrap().is_empty());
        assert_eq!(s.journal_of(7, 5).unwrap()[0].outcome.as_deref(), Some("deployed"));
        let purge = s.journal_begin_with(7, "acme", "delete", "admin", true).unwrap();
        assert!(s.journal_entry(purge).unwrap().unwrap().purge_data, "a recovery deletes the data as asked");
        assert!(!s.journal_entry(id).unwrap().unwrap().purge_data);
        let bad = s.conn.execute("UPDATE journal SET operation = 'dance'", []);
        assert!(bad.is_err(), "operations are a closed list");
    }
}
