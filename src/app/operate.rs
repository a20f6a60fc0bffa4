//! Starting operations: on the open or selected customer, on the marked ones, on the fleet,
//! and the confirmations that come first.

use super::detail::Tab;
use super::stack::Overlay;
use super::{Action, AppState, Asked, Command, Confirm, Operation, Running, Screen, TextKey};
use crate::domain::customer::CustomerRef;

pub(super) fn on_confirm(s: &mut AppState, k: TextKey, c: Confirm) -> Vec<Command> {
    let fire = match (c.needs_typing(), k) {
        (_, TextKey::Esc) | (false, TextKey::Char('n' | 'N')) => {
            s.overlays.pop();
            return Vec::new();
        }
        (false, TextKey::Char('y' | 'Y')) | (false, TextKey::Enter) => true,
        (true, TextKey::Enter) if *c.typed == *c.subdomain => true,
        (true, TextKey::Enter) => {
            s.notify(format!("type {} exactly to confirm, or Esc", c.subdomain), true);
            false
        }
        (true, k) => {
            if let Some(Overlay::Confirm(open)) = s.overlays.top_mut() {
                open.typed.edit(k);
            }
            return Vec::new();
        }
        (false, _) => false,
    };
    if !fire {
        return Vec::new();
    }
    s.overlays.pop();
    let op = match c.op {
        Asked::Quit => {
            s.should_quit = true;
            return Vec::new();
        }
        Asked::ShowCredentials => {
            if let Some(d) = s.detail_mut() {
                d.tab = Tab::Deployment;
            }
            return vec![Command::ShowCredentials { target: CustomerRef::new(c.customer_id, c.subdomain) }];
        }
        Asked::Run(op) => op,
    };
    if !c.bulk.is_empty() && op != Operation::Reconcile {
        return start_bulk(s, c.bulk, op);
    }
    if c.op == Operation::Rollout {
        s.notify("rollout started: canary first, then batches", false);
        return vec![Command::Rollout];
    }
    if c.op == Operation::Reconcile {
        s.notify("reconcile started", false);
        return vec![Command::Reconcile];
    }
    if let (Operation::Move, Some(to)) = (op, c.to_host.clone()) {
        let running = Running { op, subdomain: c.subdomain.clone(), done: Vec::new(), current: None };
        s.running.insert(c.customer_id, running);
        s.notify(format!("{}: moving to host {to}", c.subdomain), false);
        return vec![Command::Move { target: CustomerRef::new(c.customer_id, c.subdomain), to }];
    }
    start(s, c.customer_id, c.subdomain, op)
}

pub(super) fn start(s: &mut AppState, customer_id: i64, subdomain: String, op: Operation) -> Vec<Command> {
    if let Some(r) = s.running.get(&customer_id) {
        s.notify(format!("{subdomain}: {} is still running", r.op.verb()), true);
        return Vec::new();
    }
    s.running.insert(customer_id, Running { op, subdomain: subdomain.clone(), done: Vec::new(), current: None });
    // A new operation replaces the last one's kept steps.
    if let Some(d) = s.detail_mut().filter(|d| d.customer_id == customer_id) {
        d.finished = None;
    }
    s.notify(format!("{subdomain}: {} under way", op.verb()), false);
    let mut cmds = vec![Command::Operate { target: CustomerRef::new(customer_id, subdomain), op }];
    if let Some(d) = s.detail_mut().filter(|d| d.customer_id == customer_id)
        && matches!(op, Operation::Deploy | Operation::Redeploy)
    {
        if d.tab == Tab::Logs {
            cmds.insert(0, Command::StopLogs);
        }
        d.tab = Tab::Deployment;
    }
    cmds
}

/// Starts `op` on the marked customers (those already busy are left out and named).
fn start_bulk(s: &mut AppState, targets: Vec<(i64, String)>, op: Operation) -> Vec<Command> {
    let (busy, free): (Vec<_>, Vec<_>) = targets.into_iter().partition(|(id, _)| s.running.contains_key(id));
    for (id, subdomain) in &free {
        s.running.insert(*id, Running { op, subdomain: subdomain.clone(), done: Vec::new(), current: None });
    }
    s.dashboard.marked.clear();
    let mut msg = format!("{} of {} customers started", op.verb(), free.len());
    if !busy.is_empty() {
        let names: Vec<&str> = busy.iter().map(|(_, n)| n.as_str()).collect();
        msg.push_str(&format!("; skipped, still busy: {}", names.join(", ")));
    }
    s.notify(msg, !busy.is_empty());
    if free.is_empty() {
        return Vec::new();
    }
    vec![Command::Bulk { targets: free.into_iter().map(|(id, sub)| CustomerRef::new(id, sub)).collect(), op }]
}

/// The customer an operation applies to: the open one, else the selected row.
pub(super) fn target(s: &AppState) -> Option<(i64, String)> {
    match (s.screen(), s.detail()) {
        (Screen::Detail, Some(d)) => Some((d.customer_id, d.subdomain.clone())),
        _ => s.dashboard.selected_row().map(|r| (r.customer.id, r.customer.subdomain.clone())),
    }
}

pub(super) fn operate(s: &mut AppState, op: Operation) -> Vec<Command> {
    if op == Operation::Reconcile {
        // What would be fixed is asked first: the confirmation lists it.
        s.reconcile_asked = true;
        s.notify("reconcile: looking for what to fix…", false);
        return vec![Command::CheckReconcile];
    }
    if op == Operation::Rollout {
        s.overlays.push(Overlay::Confirm(Confirm {
            customer_id: 0,
            subdomain: if op == Operation::Rollout { "every running customer" } else { "the fleet" }.into(),
            op: op.into(),
            typed: Default::default(),
            bulk: Vec::new(),
            to_host: None,
        }));
        return Vec::new();
    }
    if s.screen() == Screen::Dashboard && !s.dashboard.marked.is_empty() {
        if !crate::engine::fleet::bulk::allowed(op) {
            let clear = s.keys.label(super::keymap::Mode::Dashboard, &Action::Back).unwrap_or("Esc");
            s.notify(format!("{} works on one customer at a time; {clear} clears the marks", op.verb()), true);
            return Vec::new();
        }
        let bulk = s.dashboard.marked_rows();
        let (id, subdomain) = bulk[0].clone();
        s.overlays.push(Overlay::Confirm(Confirm {
            customer_id: id,
            subdomain,
            op: op.into(),
            typed: Default::default(),
            bulk,
            to_host: None,
        }));
        return Vec::new();
    }
    let Some((id, subdomain)) = target(s) else {
        s.notify("no customer selected", true);
        return Vec::new();
    };
    if matches!(op, Operation::Stop | Operation::Restart | Operation::Delete | Operation::Redeploy) {
        s.overlays.push(Overlay::Confirm(Confirm {
            customer_id: id,
            subdomain,
            op: op.into(),
            typed: Default::default(),
            bulk: Vec::new(),
            to_host: None,
        }));
        return Vec::new();
    }
    start(s, id, subdomain, op)
}
