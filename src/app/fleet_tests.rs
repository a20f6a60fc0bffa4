//! `update()` for fleet work: marks and bulk actions, rollout, reconcile, cancelling a deploy.

use super::tests::{logged_in, typed};
use super::*;
use crate::domain::customer::CustomerRef;

#[test]
fn marked_customers_get_one_confirmed_bulk_action() {
    let mut s = logged_in();
    update(&mut s, Action::ToggleMark);
    assert_eq!(s.dashboard.selected, 1, "marking moves down, like k9s");
    update(&mut s, Action::ToggleMark);
    assert_eq!(s.dashboard.marked.len(), 2);
    // Delete is never bulk.
    assert!(update(&mut s, Action::Operate(Operation::Delete)).is_empty());
    assert!(s.overlays.confirm().is_none());
    assert!(s.notice.as_ref().unwrap().text.contains("one customer at a time"));
    assert!(update(&mut s, Action::Operate(Operation::Restart)).is_empty(), "asks first");
    let c = s.overlays.confirm().cloned().unwrap();
    assert_eq!(c.bulk.iter().map(|(_, n)| n.as_str()).collect::<Vec<_>>(), ["acme", "acmebakery"]);
    let cmds = update(&mut s, Action::Text(TextKey::Char('y')));
    assert_eq!(
        cmds,
        vec![Command::Bulk {
            targets: vec![CustomerRef::new(1, "acme"), CustomerRef::new(2, "acmebakery")],
            op: Operation::Restart
        }]
    );
    assert!(s.dashboard.marked.is_empty(), "marks are used up");
    assert_eq!(s.running.len(), 2);
    // Per-customer ends, then the summary.
    update(&mut s, Action::Engine(Event::Finished { customer_id: 1, op: Operation::Restart, result: Ok("ok".into()) }));
    update(
        &mut s,
        Action::Engine(Event::Finished { customer_id: 2, op: Operation::Restart, result: Err("no containers".into()) }),
    );
    assert!(s.running.is_empty());
    let summary = crate::engine::fleet::bulk::BulkSummary {
        operation: "restart",
        ok: 1,
        failed: 1,
        results: vec![crate::engine::fleet::bulk::BulkResult {
            customer_id: 2,
            subdomain: "acmebakery".into(),
            result: Err("no containers".into()),
        }],
    };
    update(&mut s, Action::Engine(Event::BulkDone(summary)));
    let n = s.notice.clone().unwrap();
    assert!(n.error && n.text.contains("restart of 2: 1 ok, 1 failed (acmebakery: no containers)"), "{n:?}");
}

#[test]
fn mark_all_shown_respects_the_filter_and_esc_clears_marks_first() {
    let mut s = logged_in();
    update(&mut s, Action::Filter);
    typed(&mut s, "acme");
    update(&mut s, Action::Text(TextKey::Enter));
    update(&mut s, Action::MarkVisible);
    assert_eq!(s.dashboard.marked.len(), 2);
    update(&mut s, Action::Back);
    assert!(s.dashboard.marked.is_empty());
    assert_eq!(s.dashboard.filter, "acme", "the filter stays until the next Esc");
    update(&mut s, Action::MarkVisible);
    update(&mut s, Action::MarkVisible);
    assert!(s.dashboard.marked.is_empty(), "toggles");
    // A reload keeps marks of customers that still exist.
    update(&mut s, Action::MarkVisible);
    let rows: Vec<_> = crate::app::fixtures::rows().into_iter().filter(|r| r.customer.id != 2).collect();
    update(&mut s, Action::Engine(Event::Customers(rows)));
    assert_eq!(s.dashboard.marked.iter().copied().collect::<Vec<_>>(), [1]);
}

#[test]
fn a_rollout_is_confirmed_then_reports_waves_and_the_outcome() {
    let mut s = logged_in();
    update(&mut s, Action::CommandLine);
    typed(&mut s, "rollout");
    assert!(update(&mut s, Action::Text(TextKey::Enter)).is_empty(), "asks first");
    assert_eq!(s.overlays.confirm().map(|c| c.op), Some(Operation::Rollout.into()));
    assert_eq!(update(&mut s, Action::Text(TextKey::Char('y'))), vec![Command::Rollout]);
    use crate::engine::worker::protocol::RolloutUpdate;
    update(&mut s, Action::Engine(Event::Rollout(Box::new(RolloutUpdate::Wave(1, vec!["acme".into()])))));
    assert_eq!(s.notice.as_ref().unwrap().text, "rollout canary: acme");
    let report = crate::engine::fleet::rollout::RolloutReport {
        failed: Some(("acme".into(), "server exited".into())),
        not_started: vec!["beta".into()],
        ..Default::default()
    };
    let done = RolloutUpdate::Finished(Ok((report, Some("settings put back: images.server = a:1".into()))));
    update(&mut s, Action::Engine(Event::Rollout(Box::new(done))));
    let n = s.notice.clone().unwrap();
    assert!(n.error && n.text.contains("STOPPED at acme") && n.text.contains("settings put back"), "{n:?}");
}

#[test]
fn reconcile_findings_at_start_are_announced_and_fixed_on_request() {
    let mut s = logged_in();
    let finding = orphan();
    let applied = vec![crate::engine::fleet::reconcile::Applied {
        subject: "acme".into(),
        kind: "interrupted",
        ok: true,
        message: "redeploy finished".into(),
    }];
    update(&mut s, Action::Engine(Event::Reconciled { applied, findings: vec![finding] }));
    let n = s.notice.clone().unwrap();
    assert!(n.error && n.text.contains("1 fixed; 1 problem(s): orphan container netbird-gone-server"), "{n:?}");
    if n.panel_rows(s.size.0).is_some() {
        update(&mut s, Action::Back); // the first key closes the error panel, and only that
    }
    update(&mut s, Action::CommandLine);
    typed(&mut s, "reconcile");
    assert_eq!(update(&mut s, Action::Text(TextKey::Enter)), vec![Command::CheckReconcile], "asks what it would fix");
    assert!(s.overlays.confirm().is_none());
    let orphan = orphan();
    update(&mut s, Action::Engine(Event::Reconciled { applied: vec![], findings: vec![orphan] }));
    let c = s.overlays.confirm().cloned().expect("the confirmation lists the fixes");
    assert_eq!(c.bulk, vec![(0, "orphan container netbird-gone-server: remove the container".to_string())]);
    assert_eq!(update(&mut s, Action::Text(TextKey::Char('y'))), vec![Command::Reconcile]);
    update(&mut s, Action::Engine(Event::Reconciled { applied: vec![], findings: vec![] }));
    assert_eq!(s.notice.as_ref().unwrap().text, "reconcile: consistent");
}

#[test]
fn a_running_deploy_can_be_cancelled_from_its_progress_view() {
    let mut s = logged_in();
    update(&mut s, Action::Open);
    assert!(s.detail().is_some());
    update(&mut s, Action::CancelOperation);
    assert_eq!(s.notice.as_ref().unwrap().text, "nothing is running for this customer");
    let cmds = update(&mut s, Action::Operate(Operation::Deploy));
    assert!(
        cmds.contains(&Command::Operate { target: CustomerRef::new(1, "acme"), op: Operation::Deploy }),
        "{cmds:?}"
    );
    assert_eq!(update(&mut s, Action::CancelOperation), vec![Command::Cancel { customer_id: 1 }]);
    update(
        &mut s,
        Action::Engine(Event::Finished {
            customer_id: 1,
            op: Operation::Deploy,
            result: Err(crate::domain::error::Failure::new(
                crate::domain::error::ErrorKind::Interrupted,
                "deploy cancelled by admin at 'wait until ready' and rolled back",
            )),
        }),
    );
    assert!(s.running.is_empty());
    let n = s.notice.as_ref().unwrap();
    // #29: a cancel asked for is not said as a failure.
    assert_eq!(n.text, "acme: deploy cancelled by admin at 'wait until ready' and rolled back");
    assert!(!n.error, "not an error");
}

/// A safe finding reconcile reports: a container of a customer that does not exist.
fn orphan() -> crate::engine::fleet::reconcile::Finding {
    crate::engine::fleet::reconcile::Finding {
        kind: "orphan_container",
        subject: "netbird-gone-server".into(),
        detail: "customer #9 does not exist".into(),
        fix: "remove the container".into(),
        safe: true,
        action: None,
    }
}
