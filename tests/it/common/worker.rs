//! Driving the app's engine worker (the same one the full-screen app runs) from a test.
#![allow(dead_code)]

use std::time::Duration;

use nbmsp::engine::worker::protocol::{Command, Event};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

use super::{ADMIN_PASSWORD, Home};

/// A worker on `home`'s database, logged in as admin.
pub async fn logged_in(home: &Home) -> (UnboundedSender<Command>, UnboundedReceiver<Event>) {
    let (tx, mut rx) = nbmsp::engine::worker::spawn(home.path().join("nbmsp.db"), home.path().to_path_buf());
    tx.send(Command::Login { user: "admin".into(), password: ADMIN_PASSWORD.into() }).unwrap();
    next(&mut rx, "login", |e| matches!(e, Event::LoggedIn { .. }).then_some(())).await;
    (tx, rx)
}

/// The next event that `pick` accepts; other events are passed over. The deadline only bounds a
/// failure: the test goes on the moment the event arrives.
pub async fn next<T>(rx: &mut UnboundedReceiver<Event>, what: &str, mut pick: impl FnMut(Event) -> Option<T>) -> T {
    let wait = async {
        while let Some(ev) = rx.recv().await {
            if let Some(v) = pick(ev) {
                return v;
            }
        }
        panic!("the worker stopped before {what}");
    };
    tokio::time::timeout(Duration::from_secs(60), wait).await.unwrap_or_else(|_| panic!("no {what} within 60 s"))
}
