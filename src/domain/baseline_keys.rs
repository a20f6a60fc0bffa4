//! Two account-wide parts of the fleet's baseline: which groups' DNS NetBird does not manage
//! (`dns_unmanaged_groups`, the account's DNS settings, owned whole when the key is present), and
//! what setup keys may be (`[setup_keys]`): reusable or not, and how long they may last. A key
//! rule is enforced when nbmsp creates a key (the engine asks [`KeyRules::allows`]) and checked
//! against the keys a customer already has (a valid key that breaks it drifts; its fix is to
//! revoke it — shown in the plan before anything is done).

use super::ValidationError;

use serde::{Deserialize, Serialize};

use super::netbird::SetupKey;

/// `[setup_keys]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRules {
    /// Reusable keys allowed.
    #[serde(default = "yes")]
    pub reusable: bool,
    /// The longest a key may last, in days (none: any, never-expiring keys too).
    #[serde(default)]
    pub max_days: Option<u32>,
}

fn yes() -> bool {
    true
}

impl KeyRules {
    /// Whether a key asked for (`reusable`, `expires_days`, 0: never) fits; why not, in words.
    pub fn allows(&self, reusable: bool, expires_days: u32) -> Result<(), ValidationError> {
        let why = || -> Result<(), String> {
            if reusable && !self.reusable {
                return Err(
                    "the fleet's baseline allows one-off setup keys only ([setup_keys] reusable = false)".into()
                );
            }
            match self.max_days {
                Some(max) if expires_days == 0 || expires_days > max => Err(format!(
                    "the fleet's baseline lets setup keys last at most {max} days ([setup_keys] max_days = {max})"
                )),
                _ => Ok(()),
            }
        };
        why().map_err(|rule| ValidationError::new("setup key", rule))
    }

    /// Why an existing valid key breaks the rules (`None`: it does not, or it no longer works).
    pub fn broken_by(&self, key: &SetupKey, now_unix: i64) -> Option<String> {
        if key.state != "valid" {
            return None;
        }
        if key.kind == "reusable" && !self.reusable {
            return Some(format!("setup key '{}' is reusable", key.name));
        }
        let max = self.max_days?;
        let limit = now_unix + i64::from(max) * 86_400;
        match key.expires {
            None => Some(format!("setup key '{}' never expires (at most {max} days)", key.name)),
            Some(t) if t.unix_timestamp() > limit => {
                Some(format!("setup key '{}' lasts until {} (at most {max} days)", key.name, t.date()))
            }
            Some(_) => None,
        }
    }
}

/// The groups whose DNS NetBird should not manage but does, and those it should but does not:
/// `(group name, managed)` changes that make `seen` what `wanted` says.
pub fn dns_changes(wanted: &[String], seen: &[String]) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> =
        wanted.iter().filter(|g| !seen.contains(g)).map(|g| (g.clone(), false)).collect();
    out.extend(seen.iter().filter(|g| !wanted.contains(g)).map(|g| (g.clone(), true)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kind: &str, state: &str, expires: Option<i64>) -> SetupKey {
        SetupKey {
            id: "k".into(),
            name: "office".into(),
            kind: kind.into(),
            state: state.into(),
            revoked: false,
            used_times: 0,
            usage_limit: 0,
            expires: expires.map(|t| time::OffsetDateTime::from_unix_timestamp(t).unwrap()),
            auto_groups: vec![],
            ephemeral: false,
        }
    }

    #[test]
    fn key_rules_refuse_new_keys_and_flag_valid_ones_that_break_them() {
        let rules = KeyRules { reusable: false, max_days: Some(30) };
        assert!(rules.allows(true, 7).unwrap_err().rule.contains("one-off"));
        assert!(rules.allows(false, 0).unwrap_err().rule.contains("at most 30 days"));
        assert!(rules.allows(false, 31).is_err());
        assert_eq!(rules.allows(false, 30), Ok(()));
        let now = 1_800_000_000;
        assert!(rules.broken_by(&key("reusable", "valid", Some(now + 86_400)), now).unwrap().contains("reusable"));
        assert!(rules.broken_by(&key("one-off", "valid", None), now).unwrap().contains("never expires"));
        assert!(rules.broken_by(&key("one-off", "valid", Some(now + 40 * 86_400)), now).is_some());
        assert_eq!(rules.broken_by(&key("one-off", "valid", Some(now + 20 * 86_400)), now), None);
        assert_eq!(rules.broken_by(&key("reusable", "revoked", None), now), None, "a key that no longer works");
    }

    #[test]
    fn dns_changes_turn_management_off_and_on_to_match() {
        let wanted = vec!["servers".to_string()];
        assert_eq!(dns_changes(&wanted, &["servers".into()]), vec![]);
        assert_eq!(dns_changes(&wanted, &["lab".into()]), vec![("servers".into(), false), ("lab".into(), true)]);
    }
}
