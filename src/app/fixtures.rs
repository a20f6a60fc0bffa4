//! Deterministic data for update and snapshot tests.

use crate::domain::customer::{Customer, CustomerStatus, Layout};
use crate::store::customers::CustomerRow;

/// A customer row with fixed times.
pub fn row(id: i64, name: &str, sub: &str, status: CustomerStatus, port: Option<u16>) -> CustomerRow {
    let t = time::macros::datetime!(2026-03-02 10:00 UTC) + time::Duration::days(id);
    CustomerRow {
        customer: Customer {
            id,
            name: name.into(),
            company: if id % 2 == 0 { String::new() } else { format!("{name} GmbH") },
            subdomain: sub.into(),
            email: format!("it@{sub}.example"),
            max_devices: 20,
            notes: String::new(),
            contract_id: None,
            psa_ref: None,
            sla_target: None,
            reverse_proxy: false,
            layout: Layout::Combined,
            status,
            status_reason: (status == CustomerStatus::Error).then(|| "deploy failed at wait until ready".to_string()),
            created_at: t,
            updated_at: t,
            host_id: None,
        },
        udp_port: port,
        devices: port.map(|_| 3),
        online: port.map(|_| 2),
        outdated: None,
        proxy_pending: None,
        proxied: port.is_some(),
        host: None,
        services: None,
    }
}

/// A small fleet.
pub fn rows() -> Vec<CustomerRow> {
    vec![
        row(1, "ACME Logistics", "acme", CustomerStatus::Active, Some(3481)),
        row(2, "Acme Bakery", "acmebakery", CustomerStatus::Error, None),
        row(3, "Zeta Systems", "zeta", CustomerStatus::Inactive, None),
        row(4, "Beta Labs", "beta", CustomerStatus::Active, Some(3482)),
    ]
}

/// A state logged in as admin with [`rows`] loaded and Docker up.
pub fn logged_in() -> crate::app::AppState {
    use crate::app::{Action, AppState, Event, update};
    let mut s = AppState::new("msp-host".into(), "admin".into(), false);
    update(
        &mut s,
        Action::Engine(Event::LoggedIn {
            user: "admin".into(),
            role: crate::domain::user::Role::Admin,
            base_domain: "msp.example".into(),
            layout: Layout::Combined,
        }),
    );
    update(&mut s, Action::Engine(Event::Docker(Ok("20.10.24".into()))));
    update(&mut s, Action::Engine(Event::Customers(rows())));
    s
}

/// Presses `key` as a person does: through the keymap of the state's current mode, then
/// `update`, exactly as the event loop in `tui.rs` does. Tests of anything a person does by
/// key use this, so a binding missing from the keymap fails them.
pub fn press(s: &mut crate::app::AppState, code: crossterm::event::KeyCode) -> Vec<crate::app::Command> {
    let key = crossterm::event::KeyEvent::new(code, crossterm::event::KeyModifiers::NONE);
    match crate::app::keymap::map(s, key) {
        Some(action) => crate::app::update(s, action),
        None => Vec::new(),
    }
}
