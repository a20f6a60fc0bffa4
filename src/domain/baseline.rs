//! The fleet's NetBird baseline (`$NBMSP_HOME/baseline.toml`): what every customer's NetBird
//! must look like, and how one differs. Pure: the engine reads the file and the policies.
//!
//! What it covers today: whether NetBird's Default "All → All" policy (every device of a
//! customer reaches every other) may stay enabled, and the groups every customer has (so
//! policies and keys can name them). Keys it does not know are refused by name, so a baseline
//! is never silently half applied. What it names is all it owns: a group it lists is created
//! when missing and never deleted, and nothing else is touched.

use serde::{Deserialize, Serialize};

use super::ValidationError;
use super::netbird::Policy;

/// The baseline as written.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// Whether a policy letting every device reach every other may stay enabled.
    #[serde(default = "yes")]
    pub allow_default_policy: bool,
    /// Groups every customer's NetBird has (created when missing).
    #[serde(default)]
    pub groups: Vec<String>,
}

fn yes() -> bool {
    true
}

impl Default for Baseline {
    /// No file: nothing is required.
    fn default() -> Self {
        Self { allow_default_policy: true, groups: Vec::new() }
    }
}

impl Baseline {
    /// Reads `baseline.toml`'s text; an unknown key or a wrong type is an error that says which.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        toml::from_str(text).map_err(|e| {
            ValidationError::new(
                "baseline.toml",
                format!("{} (known keys: allow_default_policy, groups)", e.message().trim_end_matches('\n')),
            )
        })
    }
}

/// One way a customer's NetBird differs from the baseline, with the change that fixes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drift {
    /// What differs, in words.
    pub what: String,
    /// The fix.
    pub fix: Fix,
}

/// A change that brings a customer to the baseline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Fix {
    /// Turn a policy off (kept, so an operator can look at it or turn it on again).
    DisablePolicy {
        /// Its NetBird id.
        id: String,
        /// Its name.
        name: String,
    },
    /// Create a group the baseline lists.
    CreateGroup {
        /// Its name.
        name: String,
    },
}

/// What a customer's NetBird holds of what a baseline speaks about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    /// Its policies.
    pub policies: Vec<Policy>,
    /// Its groups' names.
    pub groups: Vec<String>,
}

/// How `policies` differ from `baseline`. Only what the baseline speaks about is looked at:
/// every other policy is the customer's own and is never changed.
pub fn drift(baseline: &Baseline, seen: &Observed) -> Vec<Drift> {
    let mut out: Vec<Drift> = baseline
        .groups
        .iter()
        .filter(|g| !seen.groups.contains(g))
        .map(|g| Drift { what: format!("group '{g}' is missing"), fix: Fix::CreateGroup { name: g.clone() } })
        .collect();
    if !baseline.allow_default_policy {
        out.extend(seen.policies.iter().filter(|p| p.all_to_all).map(|p| Drift {
            what: format!("policy '{}' lets every device reach every other (All → All)", p.name),
            fix: Fix::DisablePolicy { id: p.id.clone(), name: p.name.clone() },
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::netbird::PolicyRule;

    fn policy(id: &str, name: &str, all: bool) -> Policy {
        let group = if all { "All" } else { "staff" };
        Policy {
            id: id.into(),
            name: name.into(),
            description: String::new(),
            enabled: true,
            rules: vec![PolicyRule {
                name: name.into(),
                enabled: true,
                action: "accept".into(),
                protocol: "all".into(),
                bidirectional: true,
                ports: Vec::new(),
                sources: vec![group.into()],
                destinations: vec![group.into()],
            }],
            all_to_all: all,
            posture_checks: Vec::new(),
        }
    }

    #[test]
    fn only_flat_policies_drift_and_only_when_the_baseline_forbids_them() {
        let seen =
            Observed { policies: vec![policy("p1", "Default", true), policy("p2", "staff", false)], groups: vec![] };
        assert!(drift(&Baseline::default(), &seen).is_empty());
        let strict = Baseline::parse("allow_default_policy = false\n").unwrap();
        let d = drift(&strict, &seen);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].fix, Fix::DisablePolicy { id: "p1".into(), name: "Default".into() });
        assert!(d[0].what.contains("All → All"));
    }

    #[test]
    fn a_listed_group_that_is_missing_drifts_and_one_that_exists_does_not() {
        let base = Baseline::parse("groups = [\"staff\", \"servers\"]\n").unwrap();
        let seen = Observed { policies: vec![], groups: vec!["All".into(), "staff".into()] };
        let d = drift(&base, &seen);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].fix, Fix::CreateGroup { name: "servers".into() });
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_refused_by_name() {
        let e = Baseline::parse("allow_default_policy = false\ndns = []\n").unwrap_err();
        assert!(e.rule.contains("dns") && e.rule.contains("known keys"), "{}", e.rule);
        assert!(Baseline::parse("allow_default_policy = \"no\"").is_err());
        assert_eq!(Baseline::parse("").unwrap(), Baseline::default());
    }
}
