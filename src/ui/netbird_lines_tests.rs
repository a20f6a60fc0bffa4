//! The NetBird tab's typed lines: policies added and changed, legacy routes, nameserver groups
//! and identity providers added — each pressed key by key through the keymap.

use super::netbird_tests::{policies, sent, snap, with};
use super::tests::draw;
use crate::app::netbird::Section;
use crate::domain::netbird::{AdminAction, AdminAnswer};

/// A policy is added and changed by typed lines: `n` starts an empty one, `e` starts from the
/// selected policy's own line; a policy of several rules is not offered as a line.
#[test]
fn policies_are_added_and_changed_by_a_typed_line() {
    use crate::app::fixtures::press;
    use crate::domain::policy::{NewPolicy, PolicyEdit};
    use crossterm::event::KeyCode::{Backspace, Char, Down, Enter};
    let typed = |s: &mut crate::app::AppState, text: &str| {
        for c in text.chars() {
            press(s, Char(c));
        }
    };
    let mut s = with(policies(), Section::Policies);
    press(&mut s, Char('n'));
    typed(&mut s, "web from=staff to=servers proto=sctp");
    assert!(sent(press(&mut s, Enter)).is_empty());
    assert!(draw(&s, 120, 40).contains("protocol 'sctp'"), "{}", draw(&s, 120, 40));
    for _ in 0.."sctp".len() {
        press(&mut s, Backspace);
    }
    typed(&mut s, "tcp ports=443 oneway");
    let want = NewPolicy {
        name: "web".into(),
        sources: vec!["staff".into()],
        destinations: vec!["servers".into()],
        protocol: "tcp".into(),
        ports: vec!["443".into()],
        bidirectional: false,
        ..NewPolicy::default()
    };
    assert_eq!(sent(press(&mut s, Enter)), [AdminAction::CreatePolicy(want)]);

    // The Default policy's line, narrowed to the staff group.
    press(&mut s, Char('e'));
    assert!(draw(&s, 120, 40).contains("Default from=All to=All"), "{}", draw(&s, 120, 40));
    for _ in 0.."All".len() {
        press(&mut s, Backspace);
    }
    typed(&mut s, "staff");
    let edit = sent(press(&mut s, Enter));
    let AdminAction::EditPolicy { policy, edit } = &edit[0] else { panic!("{edit:?}") };
    assert_eq!(policy, "p1");
    assert_eq!(edit.destinations, Some(vec!["staff".to_string()]));
    assert_eq!(edit.sources, Some(vec!["All".to_string()]));
    assert_ne!(*edit, PolicyEdit::default());

    // Two rules: no line to start from, and the reason where it would be.
    press(&mut s, Down);
    press(&mut s, Char('e'));
    assert!(draw(&s, 120, 40).contains("has several rules"), "{}", draw(&s, 120, 40));
}

/// Legacy routes: listed after the networks, added from one typed line, deleted after a `y`.
#[test]
fn legacy_routes_are_listed_added_and_deleted_by_keys() {
    use crate::app::fixtures::press;
    use crate::domain::networks::{NetworkAction, RouterVia};
    use crate::domain::routes::{NbRoute, NewRoute};
    use crossterm::event::KeyCode::{Char, Enter};
    let routes = AdminAnswer::Routes(vec![
        NbRoute {
            id: "rt1".into(),
            network_id: "office".into(),
            description: String::new(),
            network: "10.10.0.0/16".into(),
            domains: vec![],
            peer: "gateway-1".into(),
            peer_groups: vec![],
            groups: vec!["staff".into()],
            masquerade: true,
            metric: 9999,
            enabled: true,
        },
        NbRoute {
            id: "rt2".into(),
            network_id: "intranet".into(),
            description: String::new(),
            network: String::new(),
            domains: vec!["wiki.corp".into()],
            peer: String::new(),
            peer_groups: vec!["routers".into()],
            groups: vec!["All".into()],
            masquerade: true,
            metric: 100,
            enabled: false,
        },
    ]);
    let mut s = with(routes, Section::Routes);
    snap("netbird_routes", &s);
    let screen = draw(&s, 120, 40);
    assert!(
        screen.contains("10.10.0.0/16") && screen.contains("gateway-1") && screen.contains("intranet (off)"),
        "{screen}"
    );
    assert!(screen.contains("wiki.corp") && screen.contains("routers"), "{screen}");
    press(&mut s, Char('n'));
    for c in "lab 10.20.0.0/16 via=gw-2 to=staff".chars() {
        press(&mut s, Char(c));
    }
    let sent = press(&mut s, Enter);
    let want = NewRoute {
        network_id: "lab".into(),
        description: String::new(),
        network: Some("10.20.0.0/16".into()),
        domains: vec![],
        via: RouterVia::Peer("gw-2".into()),
        groups: vec!["staff".into()],
        masquerade: true,
        metric: 9999,
    };
    assert!(
        sent.iter().any(|c| matches!(c, crate::app::Command::NetBird { action, .. }
            if *action == AdminAction::Network(NetworkAction::CreateRoute(want.clone())))),
        "{sent:?}"
    );
    // A fresh list: the route is deleted after the question.
    let mut s = with(
        AdminAnswer::Routes(vec![NbRoute {
            id: "rt1".into(),
            network_id: "office".into(),
            description: String::new(),
            network: "10.10.0.0/16".into(),
            domains: vec![],
            peer: "gw".into(),
            peer_groups: vec![],
            groups: vec!["staff".into()],
            masquerade: true,
            metric: 9999,
            enabled: true,
        }]),
        Section::Routes,
    );
    press(&mut s, Char('d'));
    assert!(draw(&s, 80, 24).contains("delete route 'office'?"), "{}", draw(&s, 80, 24));
    let sent = press(&mut s, Char('y'));
    assert!(
        sent.iter().any(|c| matches!(c, crate::app::Command::NetBird { action, .. }
            if *action == AdminAction::Network(NetworkAction::DeleteRoute { route: "rt1".into() }))),
        "{sent:?}"
    );
}

/// Nameserver groups and identity providers are added from typed lines; an identity provider's
/// client secret is typed on a line of its own and drawn as dots.
#[test]
fn nameservers_and_identity_providers_are_added_from_typed_lines() {
    use crate::app::fixtures::press;
    use crossterm::event::KeyCode::{Char, Enter};
    let typed = |s: &mut crate::app::AppState, text: &str| {
        for c in text.chars() {
            press(s, Char(c));
        }
    };
    let mut s = with(AdminAnswer::Nameservers(Vec::new()), Section::Dns);
    assert!(draw(&s, 80, 24).contains("n creates one"), "{}", draw(&s, 80, 24));
    press(&mut s, Char('n'));
    typed(&mut s, "quad9 ns=9.9.9.9 groups=All");
    let made = sent(press(&mut s, Enter));
    let [AdminAction::CreateNameservers(n)] = made.as_slice() else { panic!("{made:?}") };
    assert_eq!(
        (n.name.as_str(), n.servers.clone(), n.groups.clone()),
        ("quad9", vec![("9.9.9.9".into(), 53)], vec!["All".into()])
    );

    let mut s = with(AdminAnswer::Idps(Vec::new()), Section::Idps);
    press(&mut s, Char('n'));
    typed(&mut s, "okta Staff SSO client-id=0oa1 issuer=https://acme.okta.com");
    assert!(sent(press(&mut s, Enter)).is_empty(), "the secret is asked next");
    typed(&mut s, "s3cr3t-value");
    let screen = draw(&s, 120, 40);
    assert!(!screen.contains("s3cr3t-value") && screen.contains("••••"), "{screen}");
    let made = sent(press(&mut s, Enter));
    let [AdminAction::CreateIdp(i)] = made.as_slice() else { panic!("{made:?}") };
    assert_eq!((i.kind.as_str(), i.name.as_str(), i.secret.0.as_str()), ("okta", "Staff SSO", "s3cr3t-value"));
    assert!(!format!("{made:?}").contains("s3cr3t-value"), "Debug never prints it");
}
