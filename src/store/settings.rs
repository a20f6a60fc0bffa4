//! The settings repository. Plain settings live in `settings`; secret ones in `secrets`.

use std::collections::BTreeMap;

use rusqlite::params;

use super::vault::SCOPE_SETTINGS;
use super::{Result, Session, Store, StoreError, fmt_time, now};
pub use crate::domain::settings::SettingView;
use crate::domain::settings::{self, SETTINGS, Settings};

/// Settings whose change moves customers' data or networks, with the `nbmsp migrate`
/// subcommand that does that; a plain edit of them is refused while customers are deployed.
pub fn moves_data(key: &str) -> Option<&'static str> {
    match key {
        "data_dir" => Some("data-dir"),
        "docker_network" => Some("network"),
        _ => None,
    }
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
        let mut settings = Settings::from_map(&self.settings_map()?)?;
        settings.name_prefix = self.name_prefix()?;
        Ok(settings)
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
        self.set_setting_if(session, key, value, None)
    }

    /// Like [`Store::set_setting`], but refuses when the stored value is no longer `expected` (the
    /// value the editor showed): another admin changed it meanwhile, and overwriting it silently
    /// would lose their update. Secrets are not compared (their values are never shown).
    pub fn set_setting_if(&self, session: &Session, key: &str, value: &str, expected: Option<&str>) -> Result<String> {
        session.require(crate::domain::rights::Right::Settings)?;
        self.write_setting(session, key, value, expected)
    }

    /// Puts image settings back after a failed rollout. Part of the rollout itself: whoever may
    /// run a rollout may undo its image change (checked here by the rollout's own permission,
    /// the same one its lock checks), so a rollout never leaves the fleet on an image it could
    /// not put back. Only `images.*` keys.
    pub fn put_back_images(&self, session: &Session, images: &[(String, String)]) -> Result<()> {
        session.require(crate::domain::rights::Right::Rollout)?;
        if let Some((k, _)) = images.iter().find(|(k, _)| !k.starts_with("images.")) {
            return Err(StoreError::Invalid(crate::domain::ValidationError::new(
                k.as_str(),
                "a rollout puts back images only",
            )));
        }
        for (k, v) in images {
            self.write_setting(session, k, v, None)?;
        }
        Ok(())
    }

    fn write_setting(&self, session: &Session, key: &str, value: &str, expected: Option<&str>) -> Result<String> {
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
        self.immediate(|conn| {
            let mut map = self.settings_map()?;
            let current = map.get(key).cloned().unwrap_or_else(|| def.default.to_string());
            if let Some(exp) = expected
                && exp != current
            {
                let (by, at): (String, String) = conn
                    .query_row("SELECT updated_by, updated_at FROM settings WHERE key = ?1", params![key], |r| Ok((r.get(0)?, r.get(1)?)))
                    .unwrap_or_else(|_| ("someone".into(), "just now".into()));
                return Err(StoreError::Conflict(format!(
                    "{key} was changed by {by} at {at} to {current:?} while you edited it; yours was not saved (reload with R and try again)"
                )));
            }
            if let Some(command) = moves_data(key)
                && value != current
            {
                let deployed: i64 = conn.query_row("SELECT count(*) FROM deployments", [], |r| r.get(0))?;
                if deployed > 0 {
                    return Err(StoreError::Conflict(format!(
                        "{key} cannot be edited while {deployed} customer(s) are deployed: their stacks use {current:?} \
                         and would come back without their data; run `nbmsp migrate {command} {value}`, which moves \
                         each stack and checks it"
                    )));
                }
            }
            map.insert(key.to_string(), value.clone());
            Settings::from_map(&map).map_err(StoreError::from)?;
            conn.execute(
                "INSERT INTO settings (key, value, updated_at, updated_by) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
                params![key, value, fmt_time(now()), actor],
            )?;
            Ok(())
        })?;
        self.audit_system(actor, "settings.set", key, &format!("{key} set to {value:?}"))?;
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::store::auth::InitParams;
    use crate::store::{Store, StoreError};

    #[test]
    fn a_concurrent_change_is_detected_not_overwritten() {
        let mut store = Store::open_in_memory().unwrap();
        let p = InitParams {
            home: Path::new("/h"),
            admin_user: "admin",
            password: "admin-password-1",
            admin_email: "a@b.example",
            base_domain: "b.example",
            beside_foreign: false,
        };
        let s = store.initialise(&p).unwrap();
        // Two editors saw 3478; the first saves 4000.
        store.set_setting_if(&s, "relay_base_port", "4000", Some("3478")).unwrap();
        let e = store.set_setting_if(&s, "relay_base_port", "5000", Some("3478")).unwrap_err();
        assert!(matches!(e, StoreError::Conflict(_)));
        assert!(e.to_string().contains("was changed by admin"), "{e}");
        assert_eq!(store.settings().unwrap().relay_base_port, 4000, "the first change survives");
        // Without an expectation (the CLI), the last write wins as asked.
        store.set_setting_if(&s, "relay_base_port", "5000", None).unwrap();
        assert_eq!(store.settings().unwrap().relay_base_port, 5000);
    }
}
