//! Snapshots of the NetBird tab at 80x24 and 120x40: each list, a secret shown once, the
//! new-key form, an instance that did not answer, and what a viewer is offered.

use super::tests::{detail, draw};
use crate::app::detail::Tab;
use crate::app::netbird::{Key, Section};
use crate::app::{Action, Event, TextKey, update};
use crate::domain::netbird::{AdminAction, AdminAnswer, CreatedKey, Group, NbUser, Peer, SetupKey};

pub(super) fn snap(name: &str, state: &crate::app::AppState) {
    for (w, h) in [(80, 24), (120, 40)] {
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), draw(state, w, h));
    }
}

fn t(h: u8) -> Option<crate::domain::Timestamp> {
    Some(time::macros::datetime!(2026-03-03 00:00 UTC) + time::Duration::hours(i64::from(h)))
}

pub(crate) fn peers() -> AdminAnswer {
    let p = |i: u8, name: &str, connected: bool, os: &str, version: &str| Peer {
        id: format!("p{i}"),
        name: name.into(),
        ip: format!("100.64.0.{i}"),
        connected,
        last_seen: t(i),
        os: os.into(),
        version: version.into(),
        groups: vec!["All".into(), "laptops".into()],
        approval_required: i == 4,
        login_expiration_enabled: i % 2 == 1,
        added_with_sso: i % 2 == 1,
        ssh_enabled: false,
        inactivity_expiration_enabled: false,
    };
    AdminAnswer::Peers(vec![
        p(1, "ceo-laptop", true, "darwin", "0.77.1"),
        p(2, "build-server-with-a-very-long-name", false, "linux", "0.60.2"),
        p(3, "reception 東京", true, "windows", "0.77.1"),
        p(4, "new-phone", false, "ios", "0.77.0"),
    ])
}

fn keys() -> AdminAnswer {
    AdminAnswer::Keys(vec![SetupKey {
        id: "k1".into(),
        name: "onboarding".into(),
        kind: "reusable".into(),
        state: "valid".into(),
        revoked: false,
        used_times: 2,
        usage_limit: 5,
        expires: t(24 * 7),
        auto_groups: vec!["laptops".into()],
        ephemeral: false,
    }])
}

/// The NetBird changes and lists among the commands a key produced.
pub(super) fn sent(cmds: Vec<crate::app::Command>) -> Vec<AdminAction> {
    cmds.into_iter()
        .filter_map(|c| match c {
            crate::app::Command::NetBird { action, .. } => Some(action),
            _ => None,
        })
        .collect()
}

pub(super) fn with(tab_list: AdminAnswer, section: Section) -> crate::app::AppState {
    let mut s = detail(Tab::NetBird);
    let d = s.detail_mut().unwrap();
    d.netbird.section = section;
    let action = section.list();
    update(&mut s, Action::Engine(Event::netbird(1, action, Ok(tab_list))));
    s
}

#[test]
fn netbird_tab_lists() {
    snap("netbird_peers", &with(peers(), Section::Peers));
    snap("netbird_keys", &with(keys(), Section::Keys));
    let users = AdminAnswer::Users(vec![
        NbUser {
            id: "u1".into(),
            email: "owner@acme.example".into(),
            name: "Acme Owner".into(),
            role: "owner".into(),
            status: "active".into(),
            blocked: false,
            service: false,
            last_login: t(9),
        },
        NbUser {
            id: "u2".into(),
            email: String::new(),
            name: "ci-bot".into(),
            role: "user".into(),
            status: "active".into(),
            blocked: true,
            service: true,
            last_login: None,
        },
    ]);
    snap("netbird_users", &with(users, Section::Users));
    let groups = AdminAnswer::Groups(vec![
        Group { id: "g1".into(), name: "All".into(), peers_count: 4 },
        Group { id: "g2".into(), name: "laptops".into(), peers_count: 2 },
    ]);
    snap("netbird_groups", &with(groups, Section::Groups));
    let service = |name: &str, status: &str, auth: &[&str], enabled: bool| crate::domain::netbird::ServiceInfo {
        id: format!("s-{name}"),
        name: name.into(),
        domain: format!("{name}.acme.msp.example"),
        target: "d1:8080".into(),
        auth: auth.iter().map(|a| (*a).to_string()).collect(),
        enabled,
        status: status.into(),
    };
    let services = AdminAnswer::Services(vec![
        service("wiki", "active", &["pin"], true),
        service("grafana", "tunnel_not_created", &["sso"], true),
        service("old", "pending", &[], false),
    ]);
    snap("netbird_services", &with(services, Section::Services));
}

#[test]
fn netbird_tab_states() {
    let mut s = detail(Tab::NetBird);
    let err =
        "'acme' is not running (netbird-acme-server is stopped or missing): start it with `nbmsp customer start acme`";
    update(&mut s, Action::Engine(Event::netbird(1, AdminAction::Peers, Err(err.into()))));
    snap("netbird_stopped", &s);

    let mut s = with(keys(), Section::Keys);
    update(&mut s, Action::NetBird(Key::New));
    for c in "laptop-ann".chars() {
        update(&mut s, Action::Text(TextKey::Char(c)));
    }
    snap("netbird_key_form", &s);

    let mut s = with(keys(), Section::Keys);
    let key = match keys() {
        AdminAnswer::Keys(k) => k[0].clone(),
        _ => unreachable!(),
    };
    let secret = "A1B2C3D4-0000-4000-8000-00000000CAFE".to_string();
    let created =
        CreatedKey { command: crate::domain::netbird::join_command("acme.msp.example", &secret), key, secret };
    let action = AdminAction::CreateKey(crate::domain::netbird::NewSetupKey {
        name: "onboarding".into(),
        reusable: true,
        expires_days: 7,
        usage_limit: 5,
        auto_groups: vec![],
        ephemeral: false,
    });
    update(&mut s, Action::Engine(Event::netbird(1, action, Ok(AdminAnswer::KeyCreated(created)))));
    snap("netbird_new_key", &s);
}

#[test]
fn a_viewer_is_not_offered_what_it_may_not_do() {
    let mut s = with(keys(), Section::Keys);
    s.role = crate::domain::user::Role::Viewer;
    let screen = draw(&s, 120, 40);
    let footer = screen.lines().last().unwrap().to_string();
    assert!(!footer.contains("new key") && !footer.contains("delete") && !footer.contains("revoke"), "{footer}");
    assert!(footer.contains("search") && footer.contains("help"), "{footer}");
    s.role = crate::domain::user::Role::Operator;
    let footer = draw(&s, 120, 40).lines().last().unwrap().to_string();
    assert!(footer.contains("revoke") && !footer.contains("new key"), "operators revoke, admins create: {footer}");
}

#[test]
fn the_fleet_devices_view_puts_customers_over_their_limit_first() {
    let mut s = super::tests::dashboard();
    // acme at 25 of 20 (over), beta at 19 of 20, the rest as the fixtures have them.
    for r in &mut s.dashboard.rows {
        match r.customer.subdomain.as_str() {
            "acme" => (r.devices, r.online, r.outdated) = (Some(25), Some(20), Some(3)),
            "beta" => (r.devices, r.online, r.outdated) = (Some(19), Some(4), Some(0)),
            _ => {}
        }
    }
    let order: Vec<&str> = crate::store::customers::by_device_use(&s.dashboard.rows)
        .iter()
        .map(|r| r.customer.subdomain.as_str())
        .collect();
    assert_eq!(&order[..2], ["acme", "beta"], "{order:?}");
    assert!(update(&mut s, Action::CommandLine).is_empty());
    for c in "devices".chars() {
        update(&mut s, Action::Text(TextKey::Char(c)));
    }
    update(&mut s, Action::Text(TextKey::Enter));
    assert_eq!(crate::app::keymap::mode(&s), crate::app::keymap::Mode::Devices);
    snap("fleet_devices", &s);
    update(&mut s, Action::Back);
    assert!(s.overlays.devices().is_none());
}

/// With `proxy = none` the operator runs the proxy: the Deployment tab says how to get the
/// server block, P shows it with the Docker network nginx must join, y copies it, Esc closes.
#[test]
fn the_nginx_server_block_is_shown_for_an_own_proxy() {
    let mut s = detail(Tab::Info);
    let d = s.detail_mut().unwrap();
    let data = d.data.as_mut().unwrap();
    data.deployment.as_mut().unwrap().npm_proxy_id = None;
    data.own_proxy = Some(crate::engine::worker::protocol::OwnProxy {
        server_block: "server {\n    listen 443 ssl;\n    server_name acme.msp.example;\n}\n".into(),
        network: "netbird".into(),
    });
    let mut on_deployment = s.clone();
    update(&mut on_deployment, Action::GoTab(1));
    assert!(draw(&on_deployment, 120, 40).contains("proxy = none: P shows the nginx server block"));
    update(&mut s, Action::ShowNginx);
    assert_eq!(s.detail().unwrap().tab, Tab::Deployment, "P opens it on the Deployment tab");
    snap("nginx_server_block", &s);
    update(&mut s, Action::Move(-1));
    assert_eq!(s.detail().unwrap().nginx_scroll, 1, "j scrolls the block");
    update(&mut s, Action::CopySetupUrl);
    assert!(s.clipboard.as_deref().is_some_and(|c| c.starts_with("server {")), "y copies the block, not the URL");
    update(&mut s, Action::Back);
    assert!(!s.detail().unwrap().nginx_open);
    assert_eq!(s.screen(), crate::app::Screen::Detail, "Esc closed the block, not the view");
    update(&mut s, Action::ShowNginx);
    update(&mut s, Action::GoTab(2));
    assert!(!s.detail().unwrap().nginx_open, "another tab puts it away");
    // With NPM there is nothing to show: it says who holds the proxy host.
    let mut npm = detail(Tab::Deployment);
    update(&mut npm, Action::ShowNginx);
    assert!(npm.notice.clone().unwrap().text.contains("holds this customer's proxy host (#7)"));
}

pub(super) fn policies() -> AdminAnswer {
    use crate::domain::netbird::{Policy, PolicyRule};
    let rule = |from: &str, to: &str, protocol: &str, ports: &[&str]| PolicyRule {
        name: "r".into(),
        enabled: true,
        action: "accept".into(),
        protocol: protocol.into(),
        bidirectional: from == to,
        ports: ports.iter().map(|p| (*p).to_string()).collect(),
        sources: vec![from.into()],
        destinations: vec![to.into()],
    };
    AdminAnswer::Policies(vec![
        Policy {
            id: "p1".into(),
            name: "Default".into(),
            description: "This is a default rule".into(),
            enabled: true,
            rules: vec![rule("All", "All", "all", &[])],
            all_to_all: true,
            posture_checks: Vec::new(),
        },
        Policy {
            id: "p2".into(),
            name: "staff-ssh".into(),
            description: String::new(),
            enabled: true,
            rules: vec![rule("staff", "servers", "tcp", &["22"]), rule("staff", "staff", "icmp", &[])],
            all_to_all: false,
            posture_checks: Vec::new(),
        },
    ])
}

/// The Policies list marks the flat All → All policy, and `x` turns it off after a y, by keys.
#[test]
fn the_policies_list_marks_all_to_all_and_x_turns_it_off() {
    use crate::app::fixtures::press;
    use crossterm::event::KeyCode;
    let mut s = with(policies(), Section::Policies);
    snap("netbird_policies", &s);
    let screen = draw(&s, 80, 24);
    assert!(screen.contains("⚠ ALL→ALL") && screen.contains("All ↔ All"), "{screen}");
    assert!(screen.contains("staff → servers +1"), "{screen}");
    assert!(press(&mut s, KeyCode::Char('x')).is_empty(), "asked first");
    let asked = draw(&s, 80, 24);
    assert!(asked.contains("disable policy 'Default'? (every device can reach every other now)"), "{asked}");
    let cmds = press(&mut s, KeyCode::Char('y'));
    let sent: Vec<&AdminAction> = cmds
        .iter()
        .filter_map(|c| match c {
            crate::app::Command::NetBird { action, .. } => Some(action),
            _ => None,
        })
        .collect();
    assert_eq!(sent, [&AdminAction::PolicyEnabled { policy: "p1".into(), enabled: false }]);
}

/// NetBird's own audit events, newest first, read only: `d` and `x` do nothing there.
#[test]
fn the_events_list_is_read_only() {
    use crate::app::fixtures::press;
    use crate::domain::netbird::NbEvent;
    use crossterm::event::KeyCode;
    let at = |m: i64| Some(time::macros::datetime!(2026-12-07 09:00 UTC) + time::Duration::minutes(m));
    let event = |m: i64, activity: &str, code: &str, meta: &[(&str, &str)]| NbEvent {
        time: at(m),
        activity: activity.into(),
        code: code.into(),
        initiator: "owner@acme.example".into(),
        target: "p1".into(),
        meta: meta.iter().map(|(k, v)| ((*k).to_string(), (*v).to_string())).collect(),
    };
    let events = AdminAnswer::Events(vec![
        event(30, "Policy updated", "policy.update", &[("name", "Default")]),
        event(10, "Group created", "group.add", &[("name", "staff")]),
        event(0, "Account created", "account.create", &[]),
    ]);
    let mut s = with(events, Section::Events);
    snap("netbird_events", &s);
    let screen = draw(&s, 80, 24);
    assert!(screen.contains("Policy updated") && screen.contains("2026-12-07 09:30"), "{screen}");
    assert!(press(&mut s, KeyCode::Char('d')).is_empty() && press(&mut s, KeyCode::Char('x')).is_empty());
    assert!(s.detail().unwrap().netbird.confirm.is_none(), "nothing asked");
}

/// Networks: what each routes to and through which device, a network no device routes marked;
/// `n` asks for a new one's name and `d` for a confirmation, both sent by keys.
#[test]
fn the_networks_list_marks_one_without_a_router_and_keys_create_and_delete() {
    use crate::app::fixtures::press;
    use crate::domain::networks::{NbNetwork, NbResource, NbRouter, NetworkAction};
    use crossterm::event::KeyCode;
    let resource = |name: &str, kind: &str, address: &str| NbResource {
        id: format!("r-{name}"),
        name: name.into(),
        kind: kind.into(),
        address: address.into(),
        groups: vec!["office".into()],
        enabled: true,
    };
    let nets = AdminAnswer::Networks(vec![
        NbNetwork {
            id: "n1".into(),
            name: "office".into(),
            description: String::new(),
            resources: vec![resource("nas", "host", "10.0.0.5/32"), resource("lan", "subnet", "10.0.1.0/24")],
            routers: vec![NbRouter {
                id: "rt1".into(),
                peer: "gateway-1".into(),
                peer_groups: vec![],
                masquerade: true,
                metric: 9999,
                enabled: true,
            }],
            routing_peers: 1,
        },
        NbNetwork {
            id: "n2".into(),
            name: "lab".into(),
            description: String::new(),
            resources: vec![resource("wiki", "domain", "wiki.lab.example")],
            routers: vec![],
            routing_peers: 0,
        },
    ]);
    let mut s = with(nets, Section::Networks);
    snap("netbird_networks", &s);
    let screen = draw(&s, 80, 24);
    assert!(screen.contains("gateway-1") && screen.contains("nas 10.0.0.5/32"), "{screen}");
    assert!(screen.contains("⚠ no router"), "{screen}");
    press(&mut s, KeyCode::Down);
    press(&mut s, KeyCode::Char('d'));
    let confirm = s.detail().unwrap().netbird.confirm.clone().expect("asked");
    assert!(confirm.0.contains("delete network (with its resources and routers) 'lab'?"), "{confirm:?}");
    assert_eq!(confirm.1, AdminAction::Network(NetworkAction::Delete { network: "n2".into() }));
    press(&mut s, KeyCode::Char('n'));
    assert!(s.detail().unwrap().netbird.confirm.is_none(), "n answered the question: no");
    press(&mut s, KeyCode::Char('n'));
    for c in "branch".chars() {
        press(&mut s, KeyCode::Char(c));
    }
    let sent = press(&mut s, KeyCode::Enter);
    assert!(
        format!("{sent:?}").contains(r#"Create { name: "branch", description: "" }"#),
        "the new network is sent: {sent:?}"
    );
}

/// The access lists the CLI had alone: posture checks, nameserver groups and identity providers,
/// reached by → from the policies, drawn as NetBird answered, deleted by `d` after a question.
#[test]
fn posture_dns_and_idps_are_listed_and_deleted_by_keys() {
    use crate::app::fixtures::press;
    use crate::domain::netbird::{NbIdp, NbNameservers, NbPosture};
    use crossterm::event::KeyCode::{Char, Right};
    let mut s = with(AdminAnswer::Policies(Vec::new()), Section::Policies);
    let answer = |s: &mut crate::app::AppState, action: AdminAction, answer: AdminAnswer| {
        update(s, Action::Engine(Event::netbird(1, action, Ok(answer))));
    };
    assert_eq!(sent(press(&mut s, Right)), [AdminAction::Postures]);
    let postures = vec![
        NbPosture {
            id: "pc1".into(),
            name: "Client 0.60+".into(),
            description: String::new(),
            min_version: Some("0.60.0".into()),
            checks: vec!["client ≥ 0.60.0".into()],
        },
        NbPosture {
            id: "pc2".into(),
            name: "Office only".into(),
            description: String::new(),
            min_version: None,
            checks: vec!["ranges allow 10.0.0.0/8".into()],
        },
    ];
    answer(&mut s, AdminAction::Postures, AdminAnswer::Postures(postures));
    snap("netbird_posture", &s);
    let screen = draw(&s, 80, 24);
    assert!(screen.contains("Client 0.60+") && screen.contains("0.60.0"), "{screen}");
    assert!(screen.contains("ranges allow 10.0.0.0/8"), "{screen}");
    assert!(press(&mut s, Char('d')).is_empty(), "asked first");
    assert!(draw(&s, 80, 24).contains("delete posture check 'Client 0.60+'?"));
    assert_eq!(sent(press(&mut s, Char('y'))), [AdminAction::DeletePosture { posture: "pc1".into() }]);

    // A new check is one typed line; one that cannot be sent stays, with the reason.
    assert!(press(&mut s, Char('n')).is_empty());
    for c in "Office client=0.60.0 countries=DEU".chars() {
        press(&mut s, Char(c));
    }
    assert!(sent(press(&mut s, crossterm::event::KeyCode::Enter)).is_empty());
    let screen = draw(&s, 120, 40);
    assert!(screen.contains("'DEU' is not a country code") && screen.contains("countries=DEU"), "{screen}");
    for _ in 0..3 {
        press(&mut s, crossterm::event::KeyCode::Backspace);
    }
    for c in "de linux=5.10".chars() {
        press(&mut s, Char(c));
    }
    let made = sent(press(&mut s, crossterm::event::KeyCode::Enter));
    let want = crate::domain::posture::NewPosture {
        name: "Office".into(),
        description: String::new(),
        min_version: Some("0.60.0".into()),
        os: vec![(crate::domain::posture::Os::Linux, "5.10".into())],
        ranges: None,
        countries: Some((crate::domain::posture::Action::Allow, vec!["DE".into()])),
    };
    assert_eq!(made, [AdminAction::CreatePosture(want)]);

    assert_eq!(sent(press(&mut s, Right)), [AdminAction::Nameservers]);
    let ns = NbNameservers {
        id: "ns1".into(),
        name: "Quad9".into(),
        description: String::new(),
        servers: vec!["9.9.9.9:53".into()],
        groups: vec!["g-all".into()],
        primary: true,
        domains: vec![],
        enabled: true,
    };
    answer(&mut s, AdminAction::Nameservers, AdminAnswer::Nameservers(vec![ns]));
    snap("netbird_dns", &s);
    let screen = draw(&s, 120, 40);
    assert!(screen.contains("Quad9") && screen.contains("9.9.9.9:53") && screen.contains("every name"), "{screen}");
    press(&mut s, Char('d'));
    assert_eq!(sent(press(&mut s, Char('y'))), [AdminAction::DeleteNameservers { group: "ns1".into() }]);

    assert_eq!(sent(press(&mut s, Right)), [AdminAction::Idps]);
    answer(&mut s, AdminAction::Idps, AdminAnswer::Idps(Vec::new()));
    assert!(draw(&s, 80, 24).contains("no identity providers"), "{}", draw(&s, 80, 24));
    let idp = NbIdp {
        id: "okta-1".into(),
        kind: "okta".into(),
        name: "Staff SSO".into(),
        issuer: "https://acme.okta.com".into(),
        client_id: "0oa1".into(),
    };
    answer(&mut s, AdminAction::Idps, AdminAnswer::Idps(vec![idp]));
    snap("netbird_idps", &s);
    press(&mut s, Char('d'));
    assert!(draw(&s, 80, 24).contains("delete identity provider 'Staff SSO'?"));
    assert_eq!(sent(press(&mut s, Char('y'))), [AdminAction::DeleteIdp { idp: "okta-1".into() }]);
}
