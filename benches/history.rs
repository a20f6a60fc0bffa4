//! The month's history at 1,000 customers over simulated years, in a real SQLite file: rows and
//! bytes it takes with `history.retention_months` pruning (13), what recording one monitor round
//! costs at the end, and how long a month's report over the fleet takes. Prints `bench` lines.
//!
//! The simulated fleet, per customer and month: two incidents (down, then up again), four
//! operator operations (maintenance windows), four monitor restarts (gaps, which open new spans),
//! and device counts folded into one row per day (their number does not change the rows, so the
//! simulation writes one a day).

use std::time::Instant;

use nbmsp::domain::customer::{Layout, NewCustomer};
use nbmsp::domain::settings::Settings;
use nbmsp::domain::sla::{Month, Served};
use nbmsp::engine::fleet::reports;
use nbmsp::store::Store;

const CUSTOMERS: usize = 1000;
const DAY: i64 = 86_400;

fn main() {
    let dir = std::env::temp_dir().join(format!("nbmsp-bench-history-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("nbmsp.db");
    let store = Store::open(&path, true).unwrap();
    let ids: Vec<i64> = (0..CUSTOMERS)
        .map(|i| {
            let new = NewCustomer {
                name: format!("Customer {i}"),
                company: String::new(),
                subdomain: format!("c{i:04}"),
                email: format!("it@c{i}.example"),
                max_devices: 20,
                notes: String::new(),
                contract_id: Some(format!("MSP-{i:05}")),
                psa_ref: None,
                sla_target: None,
                reverse_proxy: false,
                layout: Layout::Combined,
            };
            store.create_customer("bench", &new).unwrap().id
        })
        .collect();
    let settings: Settings = store.settings().unwrap();
    let start = Month { year: 2025, month: 1 }.start();
    let years = 2;
    let mut t = start;
    let end = start + years * 365 * DAY;
    let mut rows_after_year = Vec::new();
    // Rounds every 6 hours carry the steady states; the events below fall between them.
    while t < end {
        let day = (t - start) / DAY;
        let hour = ((t - start) % DAY) / 3600;
        let seen: Vec<(i64, Served, Option<String>)> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                // Each customer's incidents on its own days: twice a month, six hours long.
                let down = (day + i as i64) % 15 == 0 && hour == 6;
                if down { (*id, Served::Down, Some("down".into())) } else { (*id, Served::Up, None) }
            })
            .collect();
        // A monitor restart a week: the gap before this round stays unknown.
        let gap = if (day % 7 == 3) && hour == 0 { 0 } else { 7 * 3600 };
        store.record_states(&seen, t, gap).unwrap();
        if hour == 12 && day % 7 == 1 {
            for id in &ids {
                let w = store.open_maintenance(*id, "redeploy", "bench", t).unwrap();
                store.close_maintenance(w, t + 300).unwrap();
            }
        }
        if hour == 0 {
            // A day's counts fold into one row whatever their number: one sample stands for them.
            for id in &ids {
                let online = 2 + u32::try_from((day + id) % 5).unwrap();
                store.record_device_sample(*id, t, online, 12, Some(4), Some(1)).unwrap();
            }
        }
        t += 6 * 3600;
        if (t - start) % (365 * DAY) == 0 {
            let cutoff = {
                let mut m = Month::of(t);
                for _ in 0..settings.sla.retention_months {
                    m = m.previous();
                }
                m.start()
            };
            store.prune_history(cutoff).unwrap();
            let (rows, bytes) = store.history_size().unwrap();
            rows_after_year.push((rows, bytes));
        }
    }
    // One round's recording at the end (what the monitor adds to every round).
    let mut samples = Vec::new();
    for k in 0..20 {
        let seen: Vec<(i64, Served, Option<String>)> = ids.iter().map(|id| (*id, Served::Up, None)).collect();
        let t0 = Instant::now();
        store.record_states(&seen, end + k * 15, 7 * 3600).unwrap();
        store.close_abandoned_maintenance(end + k * 15).unwrap();
        samples.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    samples.sort_by(f64::total_cmp);
    let month = Month::of(end).previous();
    let t0 = Instant::now();
    let report = reports::build(&store, &settings, month, end).unwrap();
    let report_ms = t0.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(report.rows.len(), CUSTOMERS);
    for (i, (rows, bytes)) in rows_after_year.iter().enumerate() {
        println!("bench history_rows_1k_year{} {rows} rows", i + 1);
        println!("bench history_bytes_1k_year{} {bytes} bytes", i + 1);
    }
    let file = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0)
        + std::fs::metadata(path.with_extension("db-wal")).map(|m| m.len()).unwrap_or(0);
    println!("bench history_db_file_1k {file} bytes");
    println!("bench history_round_record_ms_1k {:.2} ms", samples[samples.len() / 2]);
    println!("bench report_month_ms_1k {report_ms:.1} ms");
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}
