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
use super::netbird::{AdminAction, NbNameservers, NbPosture, NewNameservers, Policy};
use super::policy::{NewPolicy, PolicyEdit};
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
    /// Add a posture check.
    CreatePosture(NewPosture),
    /// Make an owned posture check check what the baseline says.
    UpdatePosture {
        /// Its NetBird id.
        id: String,
        /// What it becomes.
        new: NewPosture,
    },
    /// Remove an owned posture check the baseline no longer lists.
    DeletePosture {
        /// Its NetBird id.
        id: String,
        /// Its name.
        name: String,
    },
    /// Add a policy.
    CreatePolicy(NewPolicy),
    /// Make an owned policy say what the baseline says.
    UpdatePolicy {
        /// Its NetBird id.
        id: String,
        /// Every field, as the baseline has it.
        edit: PolicyEdit,
    },
    /// Remove an owned policy the baseline no longer lists.
    DeletePolicy {
        /// Its NetBird id.
        id: String,
        /// Its name.
        name: String,
    },
    /// Add a nameserver group.
    CreateNameservers(NewNameservers),
    /// Replace an owned nameserver group that differs (deleted, then added as the baseline says).
    ReplaceNameservers {
        /// Its NetBird id.
        id: String,
        /// What it becomes.
        new: NewNameservers,
    },
    /// Remove an owned nameserver group the baseline no longer lists.
    DeleteNameservers {
        /// Its NetBird id.
        id: String,
        /// Its name.
        name: String,
    },
    /// Let NetBird manage a group's DNS (`managed`), or stop it.
    DnsManagement {
        /// The group's name.
        group: String,
        /// Managed from now on.
        managed: bool,
    },
    /// Revoke a setup key that breaks `[setup_keys]`.
    RevokeKey {
        /// Its NetBird id.
        id: String,
        /// Its name.
        name: String,
    },
}

impl Fix {
    /// The NetBird changes that make it, in order; each goes through the engine's one door
    /// (role, audit).
    pub fn actions(&self) -> Vec<AdminAction> {
        use AdminAction as A;
        match self.clone() {
            Fix::DisablePolicy { id, .. } => vec![A::PolicyEnabled { policy: id, enabled: false }],
            Fix::CreateGroup { name } => vec![A::CreateGroup { name }],
            Fix::CreatePosture(p) => vec![A::CreatePosture(p)],
            Fix::UpdatePosture { id, new } => vec![A::UpdatePosture { posture: id, new }],
            Fix::DeletePosture { id, .. } => vec![A::DeletePosture { posture: id }],
            Fix::CreatePolicy(p) => vec![A::CreatePolicy(p)],
            Fix::UpdatePolicy { id, edit } => vec![A::EditPolicy { policy: id, edit }],
            Fix::DeletePolicy { id, .. } => vec![A::DeletePolicy { policy: id }],
            Fix::CreateNameservers(n) => vec![A::CreateNameservers(n)],
            Fix::ReplaceNameservers { id, new } => {
                vec![A::DeleteNameservers { group: id }, A::CreateNameservers(new)]
            }
            Fix::DeleteNameservers { id, .. } => vec![A::DeleteNameservers { group: id }],
            Fix::DnsManagement { group, managed } => {
                vec![A::Network(super::networks::NetworkAction::DnsManagement { group, managed })]
            }
            Fix::RevokeKey { id, .. } => vec![A::RevokeKey { key: id }],
        }
    }
}

/// What a customer's NetBird holds of what a baseline speaks about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    /// Its policies.
    pub policies: Vec<Policy>,
    /// Its groups: (id, name).
    pub groups: Vec<(String, String)>,
    /// Its posture checks.
    pub postures: Vec<NbPosture>,
    /// Its nameserver groups.
    pub nameservers: Vec<NbNameservers>,
    /// Names of the groups whose DNS NetBird does not manage.
    pub dns_unmanaged: Vec<String>,
    /// Its setup keys.
    pub keys: Vec<super::netbird::SetupKey>,
    /// When it was looked at (Unix seconds: how long a key may still last is counted from it).
    pub at_unix: i64,
}

fn owned(description: &str) -> bool {
    description.contains(MARKER)
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// How a customer's NetBird differs from `baseline`. Only what the baseline speaks about is
/// looked at: every object without the marker is the customer's own and is never changed. The
/// fixes come in the order they can be made: groups, posture checks, policies (which name
/// them), then what is removed (policies before the checks they require), then DNS.
pub fn drift(baseline: &Baseline, seen: &Observed) -> Vec<Drift> {
    let mut out: Vec<Drift> = baseline
        .groups
        .iter()
        .filter(|g| !seen.groups.iter().any(|(_, n)| n == *g))
        .map(|g| Drift { what: format!("group '{g}' is missing"), fix: Fix::CreateGroup { name: g.clone() } })
        .collect();
    let postures: Vec<&NbPosture> = seen.postures.iter().filter(|p| owned(&p.description)).collect();
    for base in &baseline.posture {
        // Checked when the baseline was read.
        let Ok(want) = base.request() else { continue };
        match postures.iter().find(|p| p.name == base.name) {
            None => out.push(Drift {
                what: format!("posture check '{}' is missing", base.name),
                fix: Fix::CreatePosture(want),
            }),
            Some(p) if p.checks != want.summary() => out.push(Drift {
                what: format!(
                    "posture check '{}' checks {} (baseline: {})",
                    base.name,
                    p.checks.join("; "),
                    want.summary().join("; ")
                ),
                fix: Fix::UpdatePosture { id: p.id.clone(), new: want },
            }),
            Some(_) => {}
        }
    }
    let policies: Vec<&Policy> = seen.policies.iter().filter(|p| owned(&p.description)).collect();
    let posture_name =
        |id: &String| seen.postures.iter().find(|p| p.id == *id).map_or_else(|| id.clone(), |p| p.name.clone());
    for base in &baseline.policies {
        let want = base.request();
        match policies.iter().find(|p| p.name == base.name) {
            None => {
                out.push(Drift { what: format!("policy '{}' is missing", base.name), fix: Fix::CreatePolicy(want) })
            }
            Some(p) => {
                let differs = policy_differences(p, &want, &posture_name);
                if !differs.is_empty() {
                    let mut edit = PolicyEdit::from_line(want.clone());
                    edit.enabled = Some(want.enabled);
                    out.push(Drift {
                        what: format!("policy '{}' differs: {}", base.name, differs.join(", ")),
                        fix: Fix::UpdatePolicy { id: p.id.clone(), edit },
                    });
                }
            }
        }
    }
    if !baseline.allow_default_policy {
        out.extend(seen.policies.iter().filter(|p| p.all_to_all).map(|p| Drift {
            what: format!("policy '{}' lets every device reach every other (All → All)", p.name),
            fix: Fix::DisablePolicy { id: p.id.clone(), name: p.name.clone() },
        }));
    }
    for p in policies.iter().filter(|p| !baseline.policies.iter().any(|b| b.name == p.name)) {
        out.push(Drift {
            what: format!("policy '{}' was the baseline's and is no longer in it", p.name),
            fix: Fix::DeletePolicy { id: p.id.clone(), name: p.name.clone() },
        });
    }
    for p in postures.iter().filter(|p| !baseline.posture.iter().any(|b| b.name == p.name)) {
        out.push(Drift {
            what: format!("posture check '{}' was the baseline's and is no longer in it", p.name),
            fix: Fix::DeletePosture { id: p.id.clone(), name: p.name.clone() },
        });
    }
    out.extend(dns_drift(baseline, seen));
    if let Some(wanted) = &baseline.dns_unmanaged_groups {
        out.extend(super::baseline_keys::dns_changes(wanted, &seen.dns_unmanaged).into_iter().map(
            |(group, managed)| {
                let what = if managed {
                    format!("NetBird does not manage the DNS of group '{group}'")
                } else {
                    format!("NetBird manages the DNS of group '{group}'")
                };
                Drift { what, fix: Fix::DnsManagement { group, managed } }
            },
        ));
    }
    if let Some(rules) = &baseline.setup_keys {
        out.extend(seen.keys.iter().filter_map(|k| {
            let what = rules.broken_by(k, seen.at_unix)?;
            Some(Drift { what, fix: Fix::RevokeKey { id: k.id.clone(), name: k.name.clone() } })
        }));
    }
    out
}

/// Which fields of an owned policy differ from the baseline's (empty: none).
fn policy_differences(p: &Policy, want: &NewPolicy, posture_name: &dyn Fn(&String) -> String) -> Vec<&'static str> {
    let mut d = Vec::new();
    if p.enabled != want.enabled {
        d.push("enabled");
    }
    let [r] = p.rules.as_slice() else {
        d.push("rules");
        return d;
    };
    let checks = [
        (sorted(r.sources.clone()) != sorted(want.sources.clone()), "from"),
        (sorted(r.destinations.clone()) != sorted(want.destinations.clone()), "to"),
        (r.protocol != want.protocol, "protocol"),
        (sorted(r.ports.clone()) != sorted(want.ports.clone()), "ports"),
        (r.bidirectional != want.bidirectional, "direction"),
        (r.action != want.action, "action"),
        (sorted(p.posture_checks.iter().map(posture_name).collect()) != sorted(want.posture.clone()), "posture"),
    ];
    d.extend(checks.iter().filter(|(differs, _)| *differs).map(|(_, what)| *what));
    d
}

/// Nameserver groups: missing, differing (resolvers, groups, domains, switched off) or extra.
fn dns_drift(baseline: &Baseline, seen: &Observed) -> Vec<Drift> {
    let mut out = Vec::new();
    let owned_ns: Vec<&NbNameservers> = seen.nameservers.iter().filter(|n| owned(&n.description)).collect();
    let group_name =
        |id: &String| seen.groups.iter().find(|(i, _)| i == id).map_or_else(|| id.clone(), |(_, n)| n.clone());
    for base in &baseline.nameservers {
        let Ok(want) = base.request() else { continue };
        let servers: Vec<String> =
            want.servers.iter().map(|(ip, port)| super::netbird::resolver_text(ip, *port)).collect();
        match owned_ns.iter().find(|n| n.name == base.name) {
            None => out.push(Drift {
                what: format!("nameserver group '{}' is missing", base.name),
                fix: Fix::CreateNameservers(want),
            }),
            Some(n) => {
                let differs = !n.enabled
                    || sorted(n.servers.clone()) != sorted(servers)
                    || sorted(n.groups.iter().map(group_name).collect()) != sorted(want.groups.clone())
                    || sorted(n.domains.clone()) != sorted(want.domains.clone());
                if differs {
                    out.push(Drift {
                        what: format!("nameserver group '{}' differs from the baseline", base.name),
                        fix: Fix::ReplaceNameservers { id: n.id.clone(), new: want },
                    });
                }
            }
        }
    }
    for n in owned_ns.iter().filter(|n| !baseline.nameservers.iter().any(|b| b.name == n.name)) {
        out.push(Drift {
            what: format!("nameserver group '{}' was the baseline's and is no longer in it", n.name),
            fix: Fix::DeleteNameservers { id: n.id.clone(), name: n.name.clone() },
        });
    }
    out
}

#[cfg(test)]
#[path = "baseline_tests.rs"]
mod tests;
