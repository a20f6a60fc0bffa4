use super::*;
use crate::domain::customer::{Layout, NewCustomer};

fn store_with(subdomains: &[&str]) -> (Store, Vec<i64>) {
    let s = Store::open_in_memory().unwrap();
    let ids = subdomains
        .iter()
        .map(|sub| {
            let new = NewCustomer {
                name: sub.to_string(),
                company: String::new(),
                subdomain: sub.to_string(),
                email: format!("it@{sub}.example"),
                max_devices: 20,
                notes: String::new(),
                contract_id: Some(format!("C-{sub}")),
                psa_ref: None,
                sla_target: None,
                reverse_proxy: false,
                layout: Layout::Combined,
            };
            s.create_customer("t", &new).unwrap().id
        })
        .collect();
    (s, ids)
}

fn spans(s: &Store, id: i64) -> Vec<(String, Option<String>, i64, i64, i64)> {
    s.conn
        .prepare("SELECT state, cause, start_s, end_s, latest FROM sla_spans WHERE customer_id = ?1 ORDER BY id")
        .unwrap()
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

#[test]
fn a_steady_state_is_one_span_extended_and_a_change_opens_the_next() {
    let (s, ids) = store_with(&["acme"]);
    let id = ids[0];
    assert_eq!(s.record_states(&[(id, Served::Up, None)], 1000, 60).unwrap(), 1);
    assert_eq!(s.record_states(&[(id, Served::Up, None)], 1015, 60).unwrap(), 0);
    assert_eq!(s.record_states(&[(id, Served::Up, None)], 1030, 60).unwrap(), 0);
    let down = Some("containers_down".to_string());
    assert_eq!(s.record_states(&[(id, Served::Down, down.clone())], 1045, 60).unwrap(), 1);
    // A second monitor seeing the same thing adds nothing.
    assert_eq!(s.record_states(&[(id, Served::Down, down.clone())], 1046, 60).unwrap(), 0);
    assert_eq!(spans(&s, id), vec![("up".into(), None, 1000, 1045, 0), ("down".into(), down.clone(), 1045, 1046, 1)]);
    // No monitor for ten minutes: the down span ends where it was last seen; the gap stays unknown.
    s.record_states(&[(id, Served::Down, down.clone())], 1646, 60).unwrap();
    let got = spans(&s, id);
    assert_eq!(got[1], ("down".into(), down.clone(), 1045, 1046, 0));
    assert_eq!(got[2], ("down".into(), down, 1646, 1646, 1));
}

#[test]
fn maintenance_windows_open_close_and_a_stop_stays_open_until_the_next_operation() {
    let (s, ids) = store_with(&["acme"]);
    let id = ids[0];
    let w = s.open_maintenance(id, "redeploy", "ops", 100).unwrap();
    s.close_maintenance(w, 160).unwrap();
    let stop = s.open_maintenance(id, "stop", "ops", 200).unwrap();
    assert!(stop > w);
    // Still stopped at the month's end: open.
    let rec = s.month_record(Month::of(100)).unwrap();
    assert_eq!(rec.windows[&id], vec![Window { start: 100, end: Some(160) }, Window { start: 200, end: None }]);
    // The start that follows closes it.
    s.open_maintenance(id, "start", "ops", 900).unwrap();
    let rec = s.month_record(Month::of(100)).unwrap();
    assert_eq!(rec.windows[&id][1], Window { start: 200, end: Some(900) });
    // A process killed mid-operation left its window open; no lock holds it: closed.
    assert_eq!(s.close_abandoned_maintenance(1000).unwrap(), 1);
    assert_eq!(s.month_record(Month::of(100)).unwrap().windows[&id][2], Window { start: 900, end: Some(1000) });
}

#[test]
fn device_samples_fold_into_days() {
    let (s, ids) = store_with(&["acme"]);
    let id = ids[0];
    let t = Month { year: 2026, month: 11 }.start() + 3600;
    s.record_device_sample(id, t, 3, 10, Some(4), None).unwrap();
    s.record_device_sample(id, t + 60, 5, 9, None, Some(1)).unwrap();
    s.record_device_sample(id, t + 86_400, 1, 11, Some(5), Some(0)).unwrap();
    let rec = s.month_record(Month { year: 2026, month: 11 }).unwrap();
    let mut days: Vec<DeviceDay> = rec.days[&id].iter().map(|(_, d)| *d).collect();
    assert_eq!(rec.days[&id].iter().map(|(n, _)| *n).collect::<std::collections::BTreeSet<_>>(), [1, 2].into());
    days.sort_by_key(|d| d.samples);
    assert_eq!(
        days[1],
        DeviceDay { online_peak: 5, online_sum: 8, samples: 2, devices: 10, users: Some(4), outdated: Some(1) }
    );
    assert_eq!(
        days[0],
        DeviceDay { online_peak: 1, online_sum: 1, samples: 1, devices: 11, users: Some(5), outdated: Some(0) }
    );
    // The first day of December belongs to December.
    s.record_device_sample(id, Month { year: 2026, month: 12 }.start(), 7, 7, None, None).unwrap();
    assert_eq!(s.month_record(Month { year: 2026, month: 11 }).unwrap().days[&id].len(), 2);
}

#[test]
fn the_ledger_keeps_a_deleted_customer_and_follows_changes() {
    let (s, ids) = store_with(&["acme", "globex"]);
    let patch = crate::domain::customer::CustomerPatch {
        contract_id: Some("C-NEW".into()),
        psa_ref: None,
        sla_target: Some(Some(Target(99_950))),
        ..Default::default()
    };
    s.update_customer("t", ids[0], &patch).unwrap();
    s.delete_customer("t", ids[1]).unwrap();
    let month = Month::of(crate::store::now().unix_timestamp());
    let rec = s.month_record(month).unwrap();
    let subs: Vec<&str> = rec.customers.iter().map(|c| c.subdomain.as_str()).collect();
    assert_eq!(subs, ["acme", "globex"], "a customer deleted this month is still in this month's books");
    assert_eq!(rec.customers[0].contract_id.as_deref(), Some("C-NEW"));
    assert_eq!(rec.customers[0].sla_target, Some(Target(99_950)));
    assert!(rec.customers[1].life.deleted.is_some());
    assert_eq!(rec.customers[1].contract_id.as_deref(), Some("C-globex"));
    // Next month it is gone from the books; its own month keeps it.
    assert_eq!(s.month_record(month.next()).unwrap().customers.len(), 1);
}

#[test]
fn pruning_keeps_what_is_current() {
    let (s, ids) = store_with(&["acme"]);
    let id = ids[0];
    s.record_states(&[(id, Served::Up, None)], 100, 60).unwrap();
    s.record_states(&[(id, Served::Down, None)], 150, 60).unwrap();
    let w = s.open_maintenance(id, "restart", "ops", 120).unwrap();
    s.close_maintenance(w, 130).unwrap();
    s.record_device_sample(id, 100, 1, 1, None, None).unwrap();
    let (rows, _) = s.history_size().unwrap();
    assert_eq!(s.prune_history(10 * 86_400).unwrap(), 3);
    let (after, _) = s.history_size().unwrap();
    assert_eq!(rows - after, 3);
    assert_eq!(spans(&s, id).len(), 1, "the current span stays");
}
