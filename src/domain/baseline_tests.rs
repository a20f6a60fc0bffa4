//! Tests of `baseline.rs`.

use super::*;
use crate::domain::baseline_drift::{Fix, Observed, drift};
use crate::domain::netbird::{NbNameservers, NbPosture, Policy, PolicyRule};

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
        Observed { policies: vec![policy("p1", "Default", true), policy("p2", "staff", false)], ..Observed::default() };
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
    let seen =
        Observed { groups: vec![("g1".into(), "All".into()), ("g2".into(), "staff".into())], ..Observed::default() };
    let d = drift(&base, &seen);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].fix, Fix::CreateGroup { name: "servers".into() });
}

#[test]
fn unknown_keys_and_wrong_types_are_refused_by_name() {
    let e = Baseline::parse("allow_default_policy = false\ndns = []\n").unwrap_err();
    assert!(e.rule.contains("nameservers"), "the known keys are named: {}", e.rule);
    assert!(e.rule.contains("dns") && e.rule.contains("known keys"), "{}", e.rule);
    assert!(Baseline::parse("allow_default_policy = \"no\"").is_err());
    assert_eq!(Baseline::parse("").unwrap(), Baseline::default());
}

const FULL: &str = r#"
groups = ["staff", "servers"]

[[posture]]
name = "modern"
min_version = "0.60.0"
os = { linux = "5.10" }

[[policies]]
name = "staff-ssh"
from = ["staff"]
to = ["servers"]
protocol = "tcp"
ports = ["22"]
bidirectional = false
posture = ["modern"]

[[nameservers]]
name = "msp-dns"
servers = ["10.10.0.53"]
groups = ["All"]
"#;

/// What the baseline made, as NetBird lists it back (ids, group names, the marker).
fn made(base: &Baseline) -> Observed {
    let pol = base.policies[0].request();
    let pos = base.posture[0].request().unwrap();
    Observed {
        groups: vec![("g0".into(), "All".into()), ("g1".into(), "staff".into()), ("g2".into(), "servers".into())],
        postures: vec![NbPosture {
            id: "pc1".into(),
            name: pos.name.clone(),
            description: MARKER.into(),
            min_version: pos.min_version.clone(),
            checks: pos.summary(),
        }],
        policies: vec![Policy {
            id: "p9".into(),
            name: pol.name.clone(),
            description: MARKER.into(),
            enabled: true,
            rules: vec![PolicyRule {
                name: pol.name.clone(),
                enabled: true,
                action: "accept".into(),
                protocol: "tcp".into(),
                bidirectional: false,
                ports: vec!["22".into()],
                sources: vec!["staff".into()],
                destinations: vec!["servers".into()],
            }],
            all_to_all: false,
            posture_checks: vec!["pc1".into()],
        }],
        nameservers: vec![NbNameservers {
            id: "ns1".into(),
            name: "msp-dns".into(),
            description: MARKER.into(),
            servers: vec!["10.10.0.53:53".into()],
            groups: vec!["g0".into()],
            primary: true,
            domains: vec![],
            enabled: true,
        }],
        ..Observed::default()
    }
}

#[test]
fn a_customer_without_the_baselines_objects_gets_each_in_the_order_they_can_be_made() {
    let base = Baseline::parse(FULL).unwrap();
    let seen = Observed { groups: vec![("g0".into(), "All".into())], ..Observed::default() };
    let kinds: Vec<&str> = drift(&base, &seen)
        .iter()
        .map(|d| match d.fix {
            Fix::CreateGroup { .. } => "group",
            Fix::CreatePosture(_) => "posture",
            Fix::CreatePolicy(_) => "policy",
            Fix::CreateNameservers(_) => "dns",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["group", "group", "posture", "policy", "dns"]);
    let Fix::CreatePolicy(p) = &drift(&base, &seen)[3].fix else { panic!() };
    assert_eq!((p.description.as_str(), p.posture.as_slice()), (MARKER, ["modern".to_string()].as_slice()));
}

#[test]
fn what_the_baseline_made_matches_and_a_change_to_it_is_put_back() {
    let base = Baseline::parse(FULL).unwrap();
    let mut seen = made(&base);
    assert_eq!(drift(&base, &seen), vec![], "what it made, read back, is no drift");
    seen.policies[0].rules[0].ports = vec!["22".into(), "80".into()];
    seen.postures[0].checks = vec!["client ≥ 0.50.0".into()];
    seen.nameservers[0].servers = vec!["1.1.1.1:53".into()];
    let d = drift(&base, &seen);
    assert!(matches!(&d[0].fix, Fix::UpdatePosture { id, .. } if id == "pc1"), "{d:?}");
    assert!(d[1].what.contains("differs: ports"), "{}", d[1].what);
    let Fix::UpdatePolicy { edit, .. } = &d[1].fix else { panic!("{d:?}") };
    assert_eq!((edit.ports.clone(), edit.enabled), (Some(vec!["22".to_string()]), Some(true)));
    assert!(matches!(&d[2].fix, Fix::ReplaceNameservers { id, .. } if id == "ns1"));
    assert_eq!(d[2].fix.actions().len(), 2, "deleted, then added as the baseline says");
}

#[test]
fn only_marked_objects_are_changed_or_removed() {
    let base = Baseline::parse(FULL).unwrap();
    let mut seen = made(&base);
    // The customer's own policy with the baseline's name, and its own DNS: left alone.
    let mut own = seen.policies[0].clone();
    own.id = "mine".into();
    own.description = "ours".into();
    own.rules[0].ports = vec!["1".into()];
    seen.policies.push(own);
    let mut own_ns = seen.nameservers[0].clone();
    own_ns.id = "ns-own".into();
    own_ns.description = String::new();
    own_ns.name = "office".into();
    seen.nameservers.push(own_ns);
    assert_eq!(drift(&base, &seen), vec![]);
    // Dropped from the baseline: the marked ones go, policies before the check they require.
    let empty = Baseline::parse("groups = [\"staff\", \"servers\"]").unwrap();
    let fixes: Vec<Fix> = drift(&empty, &seen).into_iter().map(|d| d.fix).collect();
    assert_eq!(
        fixes,
        vec![
            Fix::DeletePolicy { id: "p9".into(), name: "staff-ssh".into() },
            Fix::DeletePosture { id: "pc1".into(), name: "modern".into() },
            Fix::DeleteNameservers { id: "ns1".into(), name: "msp-dns".into() },
        ]
    );
}

#[test]
fn the_template_is_a_baseline_that_requires_nothing_and_every_example_in_it_parses() {
    assert_eq!(Baseline::parse(TEMPLATE).unwrap(), Baseline::default());
    let uncommented: String = TEMPLATE
        .lines()
        .filter(|l| {
            l.starts_with("# ")
                && !l.starts_with("# The")
                && !l.contains('`')
                && !l.contains("Objects")
                && !l.contains("ever changed")
        })
        .map(|l| format!("{}\n", l.trim_start_matches("# ")))
        .collect();
    let b = Baseline::parse(&uncommented).unwrap_or_else(|e| panic!("{}\n{uncommented}", e.rule));
    assert_eq!(
        b.summary(),
        "All → All forbidden; 2 groups, 1 policy, 1 posture check, 1 nameserver group; DNS unmanaged for 1 group; \
         setup keys one-off, at most 30 days"
    );
}

#[test]
fn a_baseline_that_names_what_it_does_not_list_is_refused_by_name() {
    for (text, why) in [
        ("[[policies]]\nname = \"a\"\nfrom = [\"staff\"]\nto = [\"All\"]\n", "group 'staff'"),
        ("[[policies]]\nname = \"a\"\nfrom = [\"All\"]\nto = [\"All\"]\nposture = [\"x\"]\n", "posture check 'x'"),
        ("[[posture]]\nname = \"p\"\nos = { beos = \"5\" }\n", "os 'beos'"),
        ("[[posture]]\nname = \"p\"\n", "at least one check"),
        ("[[nameservers]]\nname = \"n\"\nservers = [\"dns.example\"]\ngroups = [\"All\"]\n", "IP address"),
        (
            "[[policies]]\nname = \"a\"\nfrom = [\"All\"]\nto = [\"All\"]\n[[policies]]\nname = \"a\"\nfrom = [\"All\"]\nto = [\"All\"]\n",
            "two policies",
        ),
    ] {
        let e = Baseline::parse(text).unwrap_err();
        assert!(e.rule.contains(why), "{text}: {}", e.rule);
    }
}

#[test]
fn dns_settings_and_setup_keys_drift_only_when_the_baseline_speaks_about_them() {
    let key = |id: &str, kind: &str, expires: Option<i64>| crate::domain::netbird::SetupKey {
        id: id.into(),
        name: id.into(),
        kind: kind.into(),
        state: "valid".into(),
        revoked: false,
        used_times: 0,
        usage_limit: 0,
        expires: expires.map(|t| time::OffsetDateTime::from_unix_timestamp(t).unwrap()),
        auto_groups: vec![],
        ephemeral: false,
    };
    let now = 1_800_000_000;
    let seen = Observed {
        dns_unmanaged: vec!["lab".into()],
        keys: vec![key("forever", "reusable", None), key("week", "one-off", Some(now + 7 * 86_400))],
        at_unix: now,
        ..Observed::default()
    };
    assert_eq!(drift(&Baseline::default(), &seen), vec![], "not spoken about: the customer's own");
    let base = Baseline::parse(
        "groups = [\"servers\"]\ndns_unmanaged_groups = [\"servers\"]\n[setup_keys]\nreusable = false\nmax_days = 30\n",
    )
    .unwrap();
    let fixes: Vec<Fix> = drift(&base, &Observed { groups: vec![("g".into(), "servers".into())], ..seen })
        .into_iter()
        .map(|d| d.fix)
        .collect();
    assert_eq!(
        fixes,
        vec![
            Fix::DnsManagement { group: "servers".into(), managed: false },
            Fix::DnsManagement { group: "lab".into(), managed: true },
            Fix::RevokeKey { id: "forever".into(), name: "forever".into() },
        ]
    );
    let e = Baseline::parse("dns_unmanaged_groups = [\"ghosts\"]\n").unwrap_err();
    assert!(e.rule.contains("group 'ghosts'"), "{}", e.rule);
}
