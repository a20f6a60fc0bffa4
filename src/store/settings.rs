//! The settings repository. Plain settings live in `settings`; secret ones in `secrets`.

use std::collections::BTreeMap;

use rusqlite::params;
use serde::Serialize;

use super::vault::SCOPE_SETTINGS;
use super::{Result, Session, Store, StoreError, fmt_time, now};
use crate::domain::settings::{self, SETTINGS, Settings};

/// One setting as shown to users: secrets only as `set`/`unset`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettingView {
    /// The key.
    pub key: &'static str,
    /// The value, or `set`/`unset` for secrets.
    pub value: String,
    /// True for secrets.
    pub secret: bool,
    /// What it is for.
    pub help: &'static str,
}

impl Store {
    /// Stored plain settings, by key.
    pub fn settings_map(&self) -> Result<BTreeMap<String, String>> {
        let mut stmt = self.conn.prepare("SELECT key, value FROM settings")?;
        let map = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
        Ok(map)
    }

    /// The typed settings (secrets excluded).
    pub fn settings(&self) -> Result<Settings> {
        Ok(Settings::from_map(&self.settings_map()?)?)
    }

    /// Every setting in registry order, secrets masked.
    pub fn settings_view(&self) -> Result<Vec<SettingView>> {
        let map = self.settings_map()?;
        SETTINGS
            .iter()
            .map(|d| {
                let value = if d.is_secret() {
                    if self.secret_is_set(SCOPE_SETTINGS, d.key)? { "set" } else { "unset" }.to_string()
                } else {
                    map.get(d.key).cloned().unwrap_or_else(|| d.default.to_string())
                };
                Ok(SettingView { key: d.key, value, secret: d.is_secret(), help: d.help })
            })
            .collect()
    }

    /// Validates and stores one setting (admins only); secrets are encrypted. Rules that span
    /// keys (the port range) are checked against the other stored values. Returns the value as
    /// stored (normalised), or `set` for a secret.
    pub fn set_setting(&self, session: &Session, key: &str, value: &str) -> Result<String> {
        session.require_admin("change settings")?;
        let def = settings::def(key)?;
        let value = settings::normalise(key, value)?;
        let actor = &session.user.username;
        if def.is_secret() {
            if value.is_empty() {
                self.delete_secret(SCOPE_SETTINGS, key)?;
            } else {
                self.put_secret(&session.vault, SCOPE_SETTINGS, key, &value)?;
            }
            self.audit_system(actor, "settings.set", key, &format!("secret setting {key} changed"))?;
            return Ok(if value.is_empty() { "unset" } else { "set" }.to_string());
        }
        let mut map = self.settings_map()?;
        map.insert(key.to_string(), value.clone());
        Settings::from_map(&map).map_err(StoreError::from)?;
        self.conn.execute(
            "INSERT INTO settings (key, value, updated_at, updated_by) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            params![key, value, fmt_time(now()), actor],
        )?;
        self.audit_system(actor, "settings.set", key, &format!("{key} set to {value:?}"))?;
        Ok(value)
    }
}
