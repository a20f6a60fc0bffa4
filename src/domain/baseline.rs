//! The fleet's NetBird baseline (`$NBMSP_HOME/baseline.toml`): what every customer's NetBird
//! must look like, and how one differs. Pure: the engine reads the file and the customer's lists.
//!
//! What it covers: whether NetBird's Default "All → All" policy (every device of a customer
//! reaches every other) may stay enabled; the groups every customer has; and the policies,
//! posture checks and DNS nameserver groups every customer has. Keys it does not know are
//! refused by name, so a baseline is never silently half applied.
//!
//! Ownership: a policy, posture check or nameserver group the baseline made carries [`MARKER`]
//! in its description (a field NetBird keeps as written). Only those are changed or deleted; a
//! customer's own objects — even with the same name — are never touched. A group it lists is
//! created when missing and never deleted (groups have no description to mark).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ValidationError;
use super::netbird::NewNameservers;
use super::policy::NewPolicy;
use super::posture::{Action, NewPosture, Os};

/// Written in the description of every object the baseline owns.
pub const MARKER: &str = "[nbmsp baseline]";

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
    /// Policies every customer has (`[[policies]]`).
    #[serde(default)]
    pub policies: Vec<BasePolicy>,
    /// Posture checks every customer has (`[[posture]]`).
    #[serde(default)]
    pub posture: Vec<BasePosture>,
    /// DNS nameserver groups every customer has (`[[nameservers]]`).
    #[serde(default)]
    pub nameservers: Vec<BaseNameservers>,
    /// The groups whose DNS NetBird does not manage — exactly these (absent: not spoken about).
    #[serde(default)]
    pub dns_unmanaged_groups: Option<Vec<String>>,
    /// What setup keys may be (`[setup_keys]`; absent: anything).
    #[serde(default)]
    pub setup_keys: Option<super::baseline_keys::KeyRules>,
}

fn yes() -> bool {
    true
}
fn all() -> String {
    "all".into()
}
fn accept() -> String {
    "accept".into()
}

/// A policy of the baseline (one rule; groups by name).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BasePolicy {
    /// Name.
    pub name: String,
    /// Source groups.
    pub from: Vec<String>,
    /// Destination groups.
    pub to: Vec<String>,
    /// all, tcp, udp, icmp, netbird-ssh.
    #[serde(default = "all")]
    pub protocol: String,
    /// Ports (tcp/udp; none: every port).
    #[serde(default)]
    pub ports: Vec<String>,
    /// Both ways.
    #[serde(default = "yes")]
    pub bidirectional: bool,
    /// accept or drop.
    #[serde(default = "accept")]
    pub action: String,
    /// Switched on.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Posture checks of the baseline (by name) its source devices must pass.
    #[serde(default)]
    pub posture: Vec<String>,
}

impl BasePolicy {
    /// As a request, marked as the baseline's.
    pub fn request(&self) -> NewPolicy {
        NewPolicy {
            name: self.name.clone(),
            description: MARKER.into(),
            enabled: self.enabled,
            sources: self.from.clone(),
            destinations: self.to.clone(),
            protocol: self.protocol.to_ascii_lowercase(),
            ports: self.ports.clone(),
            bidirectional: self.bidirectional,
            action: self.action.to_ascii_lowercase(),
            posture: self.posture.clone(),
        }
    }
}

/// A posture check of the baseline.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BasePosture {
    /// Name.
    pub name: String,
    /// The least NetBird client version.
    #[serde(default)]
    pub min_version: Option<String>,
    /// The least version per OS: `{ linux = "5.10", windows = "10.0.19045", macos = "14.0" }`.
    #[serde(default)]
    pub os: BTreeMap<String, String>,
    /// Only devices in these ranges pass.
    #[serde(default)]
    pub allow_ranges: Vec<String>,
    /// Devices in these ranges fail.
    #[serde(default)]
    pub deny_ranges: Vec<String>,
    /// Only devices in these countries pass.
    #[serde(default)]
    pub allow_countries: Vec<String>,
    /// Devices in these countries fail.
    #[serde(default)]
    pub deny_countries: Vec<String>,
}

impl BasePosture {
    /// As a request, marked as the baseline's; a wrong OS name or both allow and deny given is
    /// an error that names the check.
    pub fn request(&self) -> Result<NewPosture, ValidationError> {
        let why = || -> Result<NewPosture, String> {
            let either = |what: &str, allow: &[String], deny: &[String]| match (allow.is_empty(), deny.is_empty()) {
                (true, true) => Ok(None),
                (false, true) => Ok(Some((Action::Allow, allow.to_vec()))),
                (true, false) => Ok(Some((Action::Deny, deny.to_vec()))),
                (false, false) => Err(format!("posture '{}': allow_{what} or deny_{what}, not both", self.name)),
            };
            let mut os = Vec::new();
            for (k, v) in &self.os {
                let o = Os::parse(k).ok_or_else(|| {
                    format!("posture '{}': os '{k}' (android, macos, ios, linux or windows)", self.name)
                })?;
                os.push((o, v.clone()));
            }
            let p = NewPosture {
                name: self.name.clone(),
                description: MARKER.into(),
                min_version: self.min_version.clone(),
                os,
                ranges: either("ranges", &self.allow_ranges, &self.deny_ranges)?,
                countries: either(
                    "countries",
                    &super::posture::upper(self.allow_countries.clone()),
                    &super::posture::upper(self.deny_countries.clone()),
                )?,
            };
            p.check().map_err(|e| format!("posture '{}': {}", self.name, e.rule))?;
            Ok(p)
        };
        why().map_err(|rule| ValidationError::new("baseline.toml", rule))
    }
}

/// A DNS nameserver group of the baseline.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BaseNameservers {
    /// Name.
    pub name: String,
    /// Resolvers, `IP[:PORT]`.
    pub servers: Vec<String>,
    /// Device groups that use them.
    pub groups: Vec<String>,
    /// Only for these domains (none: every name).
    #[serde(default)]
    pub domains: Vec<String>,
    /// Devices add the domains to their search list.
    #[serde(default)]
    pub search_domains: bool,
}

impl BaseNameservers {
    /// As a request, marked as the baseline's.
    pub fn request(&self) -> Result<NewNameservers, ValidationError> {
        let why = || -> Result<NewNameservers, String> {
            let servers = self
                .servers
                .iter()
                .map(|s| super::netbird::parse_resolver(s).map_err(|e| e.rule))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("nameservers '{}': {e}", self.name))?;
            if servers.is_empty() || servers.len() > 3 {
                return Err(format!("nameservers '{}': 1 to 3 servers", self.name));
            }
            Ok(NewNameservers {
                name: self.name.clone(),
                description: MARKER.into(),
                servers,
                groups: self.groups.clone(),
                domains: self.domains.clone(),
                search_domains: self.search_domains,
            })
        };
        why().map_err(|rule| ValidationError::new("baseline.toml", rule))
    }
}

impl Default for Baseline {
    /// No file: nothing is required.
    fn default() -> Self {
        Self {
            allow_default_policy: true,
            groups: Vec::new(),
            policies: Vec::new(),
            posture: Vec::new(),
            nameservers: Vec::new(),
            dns_unmanaged_groups: None,
            setup_keys: None,
        }
    }
}

impl Baseline {
    /// Reads `baseline.toml`'s text; an unknown key, a wrong type, or a policy that names a
    /// group or posture check the baseline does not list is an error that says which.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        let b: Baseline = toml::from_str(text).map_err(|e| {
            ValidationError::new(
                "baseline.toml",
                format!(
                    "{} (known keys: allow_default_policy, groups, policies, posture, nameservers, dns_unmanaged_groups, setup_keys)",
                    e.message().trim_end_matches('\n')
                ),
            )
        })?;
        b.validate().map_err(|e| ValidationError::new("baseline.toml", e))?;
        Ok(b)
    }

    /// Everything named exists in the baseline itself (`All` is in every account), names are
    /// unique per kind, and each object is a request NetBird can take.
    fn validate(&self) -> Result<(), String> {
        let group = |g: &String, whose: &str| {
            if g == "All" || self.groups.contains(g) {
                Ok(())
            } else {
                Err(format!("{whose} names group '{g}': list it in groups (or use All)"))
            }
        };
        let unique = |names: Vec<&String>, kind: &str| {
            let mut seen = std::collections::BTreeSet::new();
            match names.into_iter().find(|n| !seen.insert(*n)) {
                Some(n) => Err(format!("two {kind} are called '{n}'")),
                None => Ok(()),
            }
        };
        unique(self.policies.iter().map(|p| &p.name).collect(), "policies")?;
        unique(self.posture.iter().map(|p| &p.name).collect(), "posture checks")?;
        unique(self.nameservers.iter().map(|p| &p.name).collect(), "nameserver groups")?;
        for p in &self.posture {
            p.request().map_err(|e| e.rule)?;
        }
        for p in &self.policies {
            let whose = format!("policy '{}'", p.name);
            p.request().check().map_err(|e| format!("{whose}: {}", e.rule))?;
            p.from.iter().chain(&p.to).try_for_each(|g| group(g, &whose))?;
            if let Some(c) = p.posture.iter().find(|c| !self.posture.iter().any(|x| x.name == **c)) {
                return Err(format!("{whose} names posture check '{c}': add it as [[posture]]"));
            }
        }
        for g in self.dns_unmanaged_groups.iter().flatten() {
            group(g, "dns_unmanaged_groups")?;
        }
        for n in &self.nameservers {
            n.request().map_err(|e| e.rule)?;
            n.groups.iter().try_for_each(|g| group(g, &format!("nameservers '{}'", n.name)))?;
        }
        Ok(())
    }
}

impl Baseline {
    /// What it requires, in a few words (audit lines, notices).
    pub fn summary(&self) -> String {
        let n = |count: usize, one: &str, many: &str| format!("{count} {}", if count == 1 { one } else { many });
        format!(
            "All → All {}; {}, {}, {}, {}",
            if self.allow_default_policy { "allowed" } else { "forbidden" },
            n(self.groups.len(), "group", "groups"),
            n(self.policies.len(), "policy", "policies"),
            n(self.posture.len(), "posture check", "posture checks"),
            n(self.nameservers.len(), "nameserver group", "nameserver groups"),
        ) + &self
            .dns_unmanaged_groups
            .as_ref()
            .map_or(String::new(), |g| format!("; DNS unmanaged for {}", n(g.len(), "group", "groups")))
            + &self.setup_keys.as_ref().map_or(String::new(), |k| {
                let days = k.max_days.map_or(String::new(), |d| format!(", at most {d} days"));
                format!("; setup keys {}{days}", if k.reusable { "reusable or one-off" } else { "one-off" })
            })
    }
}

/// What a new `baseline.toml` starts as: every key, commented, with what it does.
pub const TEMPLATE: &str = r#"# The fleet's NetBird baseline: what every customer's NetBird must look like.
# `nbmsp baseline check` shows who differs; `nbmsp baseline apply` converges them.
# Objects the baseline makes carry "[nbmsp baseline]" in their description; nothing else is
# ever changed or deleted.

# allow_default_policy = false      # turn NetBird's Default "All -> All" policy off
# groups = ["staff", "servers"]     # groups every customer has
# dns_unmanaged_groups = ["servers"]  # exactly these groups' DNS is not managed by NetBird

# [setup_keys]                      # what setup keys may be (checked when nbmsp makes one too)
# reusable = false                  # a valid reusable key drifts: revoked by apply
# max_days = 30                     # a valid key lasting longer (or for ever) drifts

# [[posture]]
# name = "modern"
# min_version = "0.60.0"
# os = { linux = "5.10", windows = "10.0.19045" }
# allow_ranges = ["10.0.0.0/8"]     # or deny_ranges; allow_countries / deny_countries = ["DE"]

# [[policies]]
# name = "staff-ssh"
# from = ["staff"]
# to = ["servers"]
# protocol = "tcp"                  # all, tcp, udp, icmp, netbird-ssh
# ports = ["22"]
# bidirectional = false
# posture = ["modern"]

# [[nameservers]]
# name = "msp-dns"
# servers = ["10.10.0.53", "10.10.0.54:53"]
# groups = ["All"]
# domains = []                      # none: every name
"#;

#[cfg(test)]
#[path = "baseline_tests.rs"]
mod tests;
