//! The customer table: filtering, status and sort cycles, and a selection that follows the customer.

use super::tests::{logged_in, typed};

use super::*;
use crate::domain::customer::CustomerRef;

#[test]
fn incremental_filter_narrows_and_escape_clears() {
    let mut s = logged_in();
    assert_eq!(s.dashboard.visible.len(), 4);
    update(&mut s, Action::Filter);
    typed(&mut s, "acme");
    assert_eq!(s.dashboard.visible.len(), 2, "name, subdomain, email and company are searched");
    typed(&mut s, "bak");
    assert_eq!(s.dashboard.selected_row().unwrap().customer.subdomain, "acmebakery");
    update(&mut s, Action::Text(TextKey::Esc));
    assert_eq!(s.dashboard.visible.len(), 4);
    assert!(!s.dashboard.filtering);
    // Enter keeps the filter, Esc afterwards clears it.
    update(&mut s, Action::Filter);
    typed(&mut s, "zeta");
    update(&mut s, Action::Text(TextKey::Enter));
    assert_eq!(s.dashboard.visible.len(), 1);
    update(&mut s, Action::Back);
    assert_eq!(s.dashboard.visible.len(), 4);
}

#[test]
fn status_filter_and_sort_cycle() {
    let mut s = logged_in();
    update(&mut s, Action::CycleStatus);
    assert_eq!(s.dashboard.visible.len(), 2, "active only");
    // degraded, inactive, stopped, deploying, error
    for _ in 0..5 {
        update(&mut s, Action::CycleStatus);
    }
    assert_eq!(s.dashboard.status_filter, Some(crate::domain::customer::CustomerStatus::Error));
    assert_eq!(s.dashboard.visible.len(), 1);
    update(&mut s, Action::CycleStatus);
    assert_eq!(s.dashboard.visible.len(), 4);
    update(&mut s, Action::CycleSort);
    let subs: Vec<&str> =
        s.dashboard.visible.iter().map(|i| s.dashboard.rows[*i].customer.subdomain.as_str()).collect();
    assert_eq!(subs, ["acme", "acmebakery", "beta", "zeta"]);
    update(&mut s, Action::CycleSort);
    let first = &s.dashboard.rows[s.dashboard.visible[0]].customer;
    assert_eq!(first.subdomain, "acmebakery", "status sort puts errors first");
}

#[test]
fn selection_stays_on_the_customer_through_sort_filter_and_refresh() {
    let mut s = logged_in();
    update(&mut s, Action::Move(3));
    let selected = |s: &AppState| s.dashboard.selected_row().unwrap().customer.subdomain.clone();
    assert_eq!(selected(&s), "beta");
    update(&mut s, Action::CycleSort);
    assert_eq!(selected(&s), "beta", "by subdomain it is row 3, and still selected");
    update(&mut s, Action::CycleSort);
    assert_eq!(selected(&s), "beta", "by status");
    update(&mut s, Action::Filter);
    typed(&mut s, "b");
    assert_eq!(selected(&s), "beta", "the filter keeps it");
    update(&mut s, Action::Text(TextKey::Esc));
    // Another process deleted acme and added a customer: the rows shift, the selection does not.
    let mut rows = super::fixtures::rows();
    rows.remove(0);
    rows.insert(
        0,
        super::fixtures::row(5, "Aardvark", "aardvark", crate::domain::customer::CustomerStatus::Active, None),
    );
    update(&mut s, Action::Engine(Event::Customers(rows)));
    assert_eq!(selected(&s), "beta");
    update(&mut s, Action::Operate(Operation::Stop));
    assert_eq!(
        update(&mut s, Action::Text(TextKey::Char('y'))),
        vec![Command::Operate { target: CustomerRef::new(4, "beta"), op: Operation::Stop }],
        "the action names the customer the operator saw"
    );
}

#[test]
fn selection_scrolls_a_long_table_and_survives_reloads() {
    let mut s = logged_in();
    let many: Vec<_> = (1..=1000)
        .map(|i| {
            super::fixtures::row(
                i,
                &format!("Customer {i:04}"),
                &format!("c{i}"),
                crate::domain::customer::CustomerStatus::Active,
                None,
            )
        })
        .collect();
    update(&mut s, Action::Resize(80, 24));
    update(&mut s, Action::Engine(Event::Customers(many.clone())));
    update(&mut s, Action::Bottom);
    let h = s.table_height();
    assert_eq!(s.dashboard.selected, 999);
    assert_eq!(s.dashboard.offset, 1000 - h, "the last row is in view");
    update(&mut s, Action::Move(-2));
    assert_eq!(s.dashboard.selected, 999 - h, "a page up");
    let id = s.dashboard.selected_row().unwrap().customer.id;
    update(&mut s, Action::Engine(Event::Customers(many)));
    assert_eq!(s.dashboard.selected_row().unwrap().customer.id, id, "a reload keeps the selection");
}
