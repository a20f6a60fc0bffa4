//! Snapshots of the NetBird tab at 80x24 and 120x40: each list, a secret shown once, the
//! new-key form, an instance that did not answer, and what a viewer is offered.

use super::tests::{detail, draw};
use crate::app::detail::Tab;
use crate::app::netbird::{Key, Section};
use crate::app::{Action, Event, TextKey, update};
use crate::domain::netbird::{AdminAction, AdminAnswer, CreatedKey, Group, NbUser, Peer, SetupKey};

fn snap(name: &str, state: &crate::app::AppState) {
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

fn with(tab_list: AdminAnswer, section: Section) -> crate::app::AppState {
    let mut s = detail(Tab::NetBird);
    let d = s.detail.as_mut().unwrap();
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
    assert_eq!(s.devices_view, None);
}

/// With `proxy = none` the operator runs the proxy: the Deployment tab says how to get the
/// server block, P shows it with the Docker network nginx must join, y copies it, Esc closes.
#[test]
fn the_nginx_server_block_is_shown_for_an_own_proxy() {
    let mut s = detail(Tab::Info);
    let d = s.detail.as_mut().unwrap();
    let data = d.data.as_mut().unwrap();
    data.deployment.as_mut().unwrap().npm_proxy_id = None;
    data.own_proxy = Some(crate::engine::protocol::OwnProxy {
        server_block: "server {\n    listen 443 ssl;\n    server_name acme.msp.example;\n}\n".into(),
        network: "netbird".into(),
    });
    let mut on_deployment = s.clone();
    update(&mut on_deployment, Action::GoTab(1));
    assert!(draw(&on_deployment, 120, 40).contains("proxy = none: P shows the nginx server block"));
    update(&mut s, Action::ShowNginx);
    assert_eq!(s.detail.as_ref().unwrap().tab, Tab::Deployment, "P opens it on the Deployment tab");
    snap("nginx_server_block", &s);
    update(&mut s, Action::Move(-1));
    assert_eq!(s.detail.as_ref().unwrap().nginx_scroll, 1, "j scrolls the block");
    update(&mut s, Action::CopySetupUrl);
    assert!(s.clipboard.as_deref().is_some_and(|c| c.starts_with("server {")), "y copies the block, not the URL");
    update(&mut s, Action::Back);
    assert!(!s.detail.as_ref().unwrap().nginx_open);
    assert_eq!(s.screen, crate::app::Screen::Detail, "Esc closed the block, not the view");
    update(&mut s, Action::ShowNginx);
    update(&mut s, Action::GoTab(2));
    assert!(!s.detail.as_ref().unwrap().nginx_open, "another tab puts it away");
    // With NPM there is nothing to show: it says who holds the proxy host.
    let mut npm = detail(Tab::Deployment);
    update(&mut npm, Action::ShowNginx);
    assert!(npm.notice.clone().unwrap().text.contains("holds this customer's proxy host (#7)"));
}
