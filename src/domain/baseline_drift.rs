//! How a customer's NetBird differs from the fleet's baseline (`baseline.rs`), and the changes
//! that bring it there. Pure: the engine gathers what it [`Observed`] and carries out each
//! [`Fix::actions`] through its one door.

use serde::Serialize;

use super::baseline::{Baseline, MARKER};
use super::netbird::{AdminAction, NbNameservers, NbPosture, NewNameservers, Policy};
use super::policy::{NewPolicy, PolicyEdit};
use super::posture::NewPosture;

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
