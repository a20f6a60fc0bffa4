//! The hosts view (`:hosts`): asked when opened, drawn as the engines answered (one down, one
//! draining), asked again with R, closed with Esc; snapshots at 80x24 and 120x40.

use super::tests::draw;
use crate::app::keymap::{Mode, mode};
use crate::app::{Action, Command, Event, TextKey, update};
use crate::engine::docker::EngineResources;
use crate::engine::hosts::HostStatus;

fn host(name: &str, version: Option<&str>, customers: usize) -> HostStatus {
    HostStatus {
        name: name.into(),
        docker: if name == "local" {
            "unix:///var/run/docker.sock".into()
        } else {
            format!("ssh://root@{name}.msp.example")
        },
        public_ip: (name != "local").then(|| format!("203.0.113.{}", name.len())),
        draining: name == "b",
        version: version.map(String::from),
        error: version.is_none().then(|| "no answer within 10 s".to_string()),
        resources: version.map(|_| EngineResources { cpus: 8, memory_mb: 32_000, containers: 80, running: 78 }),
        ours: version.map(|_| (customers as u64 * 2 - 1, customers as u64 * 2)),
        disk_percent: version.map(|_| 20 + customers as u8),
        disk_free_mb: version.map(|_| 200_000),
        customers,
        udp_used: customers,
        udp_free: 200 - customers,
        committed_mb: customers as u64 * 600,
        npm: None,
        publishable: true,
        edge: crate::domain::edge::EdgeHealth::NotWanted,
    }
}

#[test]
fn the_hosts_view_asks_every_engine_and_shows_who_is_down() {
    let mut s = super::tests::dashboard();
    update(&mut s, Action::CommandLine);
    for c in "hosts".chars() {
        update(&mut s, Action::Text(TextKey::Char(c)));
    }
    assert_eq!(update(&mut s, Action::Text(TextKey::Enter)), vec![Command::LoadHosts]);
    assert_eq!(mode(&s), Mode::Hosts);
    assert!(draw(&s, 120, 40).contains("asking every engine"));
    let list = vec![host("local", Some("20.10.24"), 40), host("b", Some("24.0.7"), 12), host("c", None, 30)];
    update(&mut s, Action::Engine(Event::Hosts(Ok(list))));
    let screen = draw(&s, 120, 40);
    assert!(screen.contains("3 · 82 customers · 1 unreachable"), "{screen}");
    for (w, h) in [(80, 24), (120, 40)] {
        insta::assert_snapshot!(format!("hosts_view_{w}x{h}"), draw(&s, w, h));
    }
    assert_eq!(update(&mut s, Action::Refresh), vec![Command::LoadHosts], "R asks again");
    update(&mut s, Action::Back);
    assert!(s.overlays.hosts().is_none());
    // An answer after the view closed opens nothing.
    update(&mut s, Action::Engine(Event::Hosts(Err("database: locked".into()))));
    assert!(s.overlays.hosts().is_none());
}

#[test]
fn the_customer_table_names_hosts_once_there_is_more_than_one() {
    let mut s = super::tests::dashboard();
    assert!(!draw(&s, 120, 40).contains("Host "), "one host: no column");
    s.dashboard.rows[1].host = Some("edge-b".into());
    let sub = s.dashboard.rows[1].customer.subdomain.clone();
    let screen = draw(&s, 120, 40);
    assert!(screen.contains("Host "), "{screen}");
    let line = screen.lines().find(|l| l.contains(&sub)).unwrap();
    assert!(line.contains("edge-b"), "{line}");
    let other = screen.lines().find(|l| l.contains(&s.dashboard.rows[0].customer.subdomain)).unwrap();
    assert!(other.contains("local"), "{other}");
}

#[test]
fn d_drains_the_selected_host_or_opens_it_again() {
    let mut s = super::tests::dashboard();
    update(&mut s, Action::CommandLine);
    for c in "hosts".chars() {
        update(&mut s, Action::Text(TextKey::Char(c)));
    }
    update(&mut s, Action::Text(TextKey::Enter));
    assert_eq!(update(&mut s, Action::ToggleDrain), vec![], "nothing listed yet: nothing to drain");
    let list = vec![host("local", Some("20.10.24"), 40), host("b", Some("24.0.7"), 12), host("c", None, 30)];
    update(&mut s, Action::Engine(Event::Hosts(Ok(list.clone()))));
    assert_eq!(
        update(&mut s, Action::ToggleDrain),
        vec![Command::Drain { host: "local".into(), draining: true }],
        "the first row is selected"
    );
    assert!(draw(&s, 120, 40).contains("asking every engine"), "the list is asked again");
    update(&mut s, Action::Engine(Event::Hosts(Ok(list))));
    update(&mut s, Action::Move(5));
    assert_eq!(s.overlays.hosts().unwrap().selected, 2, "the selection stops at the last host");
    update(&mut s, Action::Move(-1));
    // b drains already: d opens it again.
    assert_eq!(update(&mut s, Action::ToggleDrain), vec![Command::Drain { host: "b".into(), draining: false }]);
    assert!(s.notice.as_ref().unwrap().text.contains("host b: open for new customers"));
}

#[test]
fn move_asks_first_then_runs_with_its_progress_like_an_operation() {
    use crate::engine::worker::protocol::Operation;
    let mut s = super::tests::dashboard();
    let (id, sub) = (s.dashboard.rows[0].customer.id, s.dashboard.rows[0].customer.subdomain.clone());
    update(&mut s, Action::CommandLine);
    for c in "move edge-b".chars() {
        update(&mut s, Action::Text(TextKey::Char(c)));
    }
    assert_eq!(update(&mut s, Action::Text(TextKey::Enter)), vec![]);
    assert_eq!(mode(&s), Mode::Confirm);
    for (w, h) in [(80, 24), (120, 40)] {
        insta::assert_snapshot!(format!("confirm_move_{w}x{h}"), draw(&s, w, h));
    }
    let cmds = update(&mut s, Action::Text(TextKey::Char('y')));
    let target = crate::domain::customer::CustomerRef::new(id, sub.clone());
    assert_eq!(cmds, vec![Command::Move { target, to: "edge-b".into() }]);
    assert_eq!(s.running[&id].op, Operation::Move);
    update(
        &mut s,
        Action::Engine(Event::Finished {
            customer_id: id,
            op: Operation::Move,
            result: Ok("now on host edge-b".into()),
        }),
    );
    assert!(s.running.is_empty());
    assert_eq!(s.notice.as_ref().unwrap().text, format!("{sub}: move done: now on host edge-b"));
    // While it runs, a second move is refused at once.
    s.running.insert(id, crate::app::Running { op: Operation::Move, subdomain: sub, done: Vec::new(), current: None });
    update(&mut s, Action::CommandLine);
    for c in "move local".chars() {
        update(&mut s, Action::Text(TextKey::Char(c)));
    }
    assert_eq!(update(&mut s, Action::Text(TextKey::Enter)), vec![]);
    assert!(s.overlays.confirm().is_none());
    assert!(s.notice.as_ref().unwrap().text.contains("move is still running"));
}

/// The popup stack: reconcile's question arrives while the operator has opened `:hosts` in
/// the meantime. It is drawn on top of the view and has the keys (before, the view kept the
/// keys and the question was not drawn); answering it shows the view again, Esc closes that.
#[test]
fn a_confirmation_that_arrives_over_the_hosts_view_is_drawn_on_top_and_takes_the_keys() {
    use crossterm::event::KeyCode::{Char, Enter, Esc};
    let press = crate::app::fixtures::press;
    let typed = |s: &mut crate::app::AppState, line: &str| {
        let keys = [Char(':')].into_iter().chain(line.chars().map(Char)).chain([Enter]);
        keys.flat_map(|k| press(s, k)).collect::<Vec<_>>()
    };
    let mut s = super::tests::dashboard();
    assert_eq!(typed(&mut s, "reconcile"), vec![Command::CheckReconcile]);
    assert_eq!(typed(&mut s, "hosts"), vec![Command::LoadHosts]);
    update(&mut s, Action::Engine(Event::Hosts(Ok(vec![host("local", Some("20.10.24"), 4)]))));
    let finding = crate::engine::fleet::reconcile::Finding {
        kind: "orphan_container",
        subject: "netbird-gone-server".into(),
        detail: "no customer".into(),
        fix: "remove the container".into(),
        safe: true,
        action: None,
    };
    update(&mut s, Action::Engine(Event::Reconciled { applied: vec![], findings: vec![finding] }));
    assert_eq!(mode(&s), Mode::Confirm);
    let screen = draw(&s, 120, 40);
    assert!(screen.contains("Apply these 1 fix(es)?"), "{screen}");
    assert!(press(&mut s, Char('n')).is_empty(), "n answers the question, not the view");
    assert_eq!(mode(&s), Mode::Hosts, "the view under the question is back");
    assert!(draw(&s, 120, 40).contains("local"));
    press(&mut s, Esc);
    assert!(s.overlays.is_empty());
    assert_eq!(mode(&s), Mode::Dashboard);
}

/// Where nbmsp runs edges the view gets an Edge column, and the selected host's trouble in
/// words under the table; keys move the selection (`:hosts`, then `j`).
#[test]
fn the_hosts_view_shows_each_hosts_edge_and_the_selected_ones_trouble() {
    use crate::app::fixtures::press;
    use crate::domain::edge::EdgeHealth;
    use crossterm::event::KeyCode;
    let mut s = super::tests::dashboard();
    press(&mut s, KeyCode::Char(':'));
    for c in "hosts".chars() {
        press(&mut s, KeyCode::Char(c));
    }
    assert_eq!(press(&mut s, KeyCode::Enter), vec![Command::LoadHosts]);
    let mut list = vec![host("local", Some("20.10.24"), 40), host("b", Some("24.0.7"), 12), host("c", None, 30)];
    list[0].edge = EdgeHealth::Serving { routes: 7 };
    list[1].edge = EdgeHealth::Trouble { reason: "not running: `nbmsp edge apply` starts it".into() };
    list[2].edge = EdgeHealth::Unknown;
    update(&mut s, Action::Engine(Event::Hosts(Ok(list))));
    let screen = draw(&s, 120, 40);
    assert!(screen.contains("Edge") && screen.contains("ok · 7"), "{screen}");
    assert!(!screen.contains("edge on"), "local's edge serves: nothing to say\n{screen}");
    press(&mut s, KeyCode::Char('j'));
    let screen = draw(&s, 120, 40);
    assert!(screen.contains("edge on b: not running: `nbmsp edge apply` starts it"), "{screen}");
    for (w, h) in [(80, 24), (120, 40)] {
        insta::assert_snapshot!(format!("hosts_view_edges_{w}x{h}"), draw(&s, w, h));
    }
}
