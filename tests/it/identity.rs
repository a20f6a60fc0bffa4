//! Stable customer identity, end to end: the app's engine worker (the same one the full-screen
//! app runs) against a database that the CLI changes underneath it.

use crate::common;

use std::time::Duration;

use crate::common::Home;
use crate::common::worker::next;
use nbmsp::domain::customer::CustomerRef;
use nbmsp::engine::worker::protocol::{Command, Event, Operation};

fn create(h: &Home, sub: &str) -> i64 {
    let email = format!("it@{sub}.example");
    let r =
        h.run(&["customer", "create", "--no-deploy", "--name", sub, "--subdomain", sub, "--email", &email, "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.json()["id"].as_i64().expect("id")
}

#[tokio::test]
async fn a_screen_naming_a_deleted_customer_cannot_hit_the_one_created_after_it() {
    let h = Home::initialised();
    create(&h, "acme");
    let x = create(&h, "xray");
    let (tx, mut rx) = common::worker::logged_in(&h).await;
    // The operator looks at xray (the highest id) ...
    let seen = next(&mut rx, "the customer table", |e| match e {
        Event::Customers(rows) => Some(rows),
        _ => None,
    })
    .await;
    assert!(seen.iter().any(|r| r.customer.id == x));
    // ... while someone deletes it from the CLI and creates another customer.
    let r = h.run(&["customer", "delete", "xray", "--yes"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let y = create(&h, "yankee");
    assert_ne!(y, x, "the id is not handed out again");
    // The app learns of both without waiting for its refresh interval (10 s by default).
    let rows = tokio::time::timeout(
        Duration::from_secs(5),
        next(&mut rx, "a table without xray", |e| match e {
            Event::Customers(rows) if rows.iter().any(|r| r.customer.id == y) => Some(rows),
            _ => None,
        }),
    )
    .await
    .expect("an outside change shows within a few polls");
    assert!(rows.iter().all(|r| r.customer.subdomain != "xray"));
    // The confirmation still on screen names xray: the worker refuses it.
    tx.send(Command::Operate { target: CustomerRef::new(x, "xray"), op: Operation::Delete }).unwrap();
    let result = next(&mut rx, "the refusal", |e| match e {
        Event::Finished { customer_id, result, .. } if customer_id == x => Some(result),
        _ => None,
    })
    .await;
    let err = result.expect_err("a stale target is refused").message;
    assert!(err.contains("changed since you looked") && err.contains("deleted"), "{err}");
    // A wrong subdomain for a live id is refused the same way, and nothing happened to yankee.
    tx.send(Command::Operate { target: CustomerRef::new(y, "xray"), op: Operation::Stop }).unwrap();
    let err = next(&mut rx, "the second refusal", |e| match e {
        Event::Finished { customer_id, result, .. } if customer_id == y => Some(result),
        _ => None,
    })
    .await
    .expect_err("refused")
    .message;
    assert!(err.contains("is now 'yankee'"), "{err}");
    let show = h.run(&["customer", "show", "yankee", "--json"]);
    assert_eq!(show.code, 0, "yankee is untouched: {}", show.stderr);
}
