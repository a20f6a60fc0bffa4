//! Per-keystroke cost of the dashboard's incremental filter over 10,000 customers, and of
//! building one frame of the table. Prints `bench <name> <value> <unit>` lines.

use std::time::Instant;

use nbmsp::app::dashboard::DashboardState;
use nbmsp::domain::customer::{Customer, CustomerStatus, Layout};
use nbmsp::store::customers::CustomerRow;

fn rows(n: usize) -> Vec<CustomerRow> {
    let t = time::OffsetDateTime::UNIX_EPOCH;
    (0..n)
        .map(|i| CustomerRow {
            customer: Customer {
                id: i as i64,
                name: format!("Customer {i:05} Logistics"),
                company: format!("Company {i} GmbH"),
                subdomain: format!("c{i}"),
                email: format!("it@c{i}.example"),
                max_devices: 20,
                notes: String::new(),
                contract_id: None,
                psa_ref: None,
                sla_target: None,
                reverse_proxy: false,
                layout: Layout::Combined,
                status: if i % 17 == 0 { CustomerStatus::Error } else { CustomerStatus::Active },
                status_reason: None,
                created_at: t,
                updated_at: t,
                host_id: None,
            },
            udp_port: Some(3478),
            devices: Some(3),
            online: None,
            outdated: None,
            proxy_pending: None,
            proxied: false,
            host: None,
            services: None,
        })
        .collect()
}

fn main() {
    let mut d = DashboardState::default();
    d.set_rows(rows(10_000));
    // Type "c123" one key at a time, then erase it, many times over.
    let keys = ["c", "c1", "c12", "c123", "c12", "c1", "c", ""];
    let rounds = 50;
    let start = Instant::now();
    for _ in 0..rounds {
        for k in keys {
            d.filter = k.into();
            d.recompute();
        }
    }
    let per_key = start.elapsed().as_secs_f64() * 1000.0 / (rounds * keys.len()) as f64;
    println!("bench filter_10k_per_key {per_key:.3} ms");
    let target = 5.0;
    if per_key > target {
        println!("bench filter_10k_per_key MISSED target {target} ms");
    }
}
