//! Installation-wide facts in the `meta` table: the installation id, and the plan of a
//! migration under way (so an interrupted `nbmsp migrate` is resumed, not started over).

use rusqlite::{OptionalExtension, params};

use super::{Result, Store, fmt_time, now};
use crate::domain::settings::{self, Settings};

/// What `nbmsp migrate` is doing, stored before its first step.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MigrationPlan {
    /// The setting being moved (`data_dir` or `docker_network`).
    pub key: String,
    /// Its value before.
    pub from: String,
    /// Its value after.
    pub to: String,
    /// Who started it.
    pub actor: String,
}

const PLAN: &str = "migration";
const DAMAGED: &str = "damaged";

impl Store {
    /// What the last integrity check found wrong with the database file (when and what), if
    /// anything: every command reports it, since a damaged page in a table it does not read
    /// goes unnoticed by SQLite until something does.
    pub fn damage_found(&self) -> Result<Option<String>> {
        Ok(self.conn.query_row("SELECT value FROM meta WHERE key = ?1", params![DAMAGED], |r| r.get(0)).optional()?)
    }

    /// Records the outcome of an integrity check (`None`: the file is sound).
    pub fn record_integrity(&self, problem: Option<&str>) -> Result<()> {
        match problem {
            Some(p) => self.conn.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![DAMAGED, format!("{p} (found {})", fmt_time(now()))],
            )?,
            None => self.conn.execute("DELETE FROM meta WHERE key = ?1", params![DAMAGED])?,
        };
        Ok(())
    }

    /// The migration under way, if any.
    pub fn migration_plan(&self) -> Result<Option<MigrationPlan>> {
        let raw: Option<String> =
            self.conn.query_row("SELECT value FROM meta WHERE key = ?1", params![PLAN], |r| r.get(0)).optional()?;
        raw.map(|s| {
            serde_json::from_str(&s)
                .map_err(|e| super::StoreError::Corrupt { table: "meta", detail: format!("migration plan: {e}") })
        })
        .transpose()
    }

    /// Records the migration about to start.
    pub fn begin_migration(&self, plan: &MigrationPlan) -> Result<()> {
        let json = serde_json::to_string(plan)
            .map_err(|e| super::StoreError::Corrupt { table: "meta", detail: e.to_string() })?;
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![PLAN, json],
        )?;
        self.audit_system(
            &plan.actor,
            "migrate.start",
            &plan.key,
            &format!("{} {} -> {}", plan.key, plan.from, plan.to),
        )
    }

    /// Closes the migration: its setting now holds the new value.
    pub fn end_migration(&self, plan: &MigrationPlan) -> Result<()> {
        self.conn.execute("DELETE FROM meta WHERE key = ?1", params![PLAN])?;
        self.audit_system(&plan.actor, "migrate.done", &plan.key, &format!("{} is now {}", plan.key, plan.to))
    }

    /// Sets a setting that moves data (refused to plain edits while customers are deployed) as
    /// one step of the migration `plan`, which has moved or is about to redeploy every stack.
    pub fn apply_migrated_setting(&self, plan: &MigrationPlan) -> Result<()> {
        let value = settings::normalise(&plan.key, &plan.to)?;
        let mut map = self.settings_map()?;
        map.insert(plan.key.clone(), value.clone());
        Settings::from_map(&map)?;
        self.conn.execute(
            "INSERT INTO settings (key, value, updated_at, updated_by) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            params![plan.key, value, fmt_time(now()), plan.actor],
        )?;
        self.audit_system(
            &plan.actor,
            "settings.set",
            &plan.key,
            &format!("{} set to {value:?} by a migration", plan.key),
        )
    }
}
