//! `nbmsp devices`: the fleet's devices from the counts the monitor keeps (refreshed every
//! `monitor.devices_s`; `customer devices ID` counts one customer now).

use clap::Args;

use super::{CliResult, GlobalArgs, auth, output};
use crate::store::customers::by_device_use;

/// `devices` options.
#[derive(Debug, Args)]
pub struct DevicesArgs {
    /// Only customers over their `max_devices`
    #[arg(long)]
    over: bool,
}

/// One customer's line.
#[derive(serde::Serialize)]
struct Line<'a> {
    id: i64,
    subdomain: &'a str,
    devices: Option<u32>,
    max_devices: i64,
    over_limit: bool,
    online: Option<u32>,
    outdated: Option<u32>,
}

/// Prints the fleet's device use, customers over their limit first.
pub fn run(g: &GlobalArgs, a: DevicesArgs) -> CliResult {
    let (store, _session) = auth::login(g)?;
    let rows = store.customer_rows()?;
    let lines: Vec<Line> = by_device_use(&rows)
        .into_iter()
        .map(|r| Line {
            id: r.customer.id,
            subdomain: &r.customer.subdomain,
            devices: r.devices,
            max_devices: r.customer.max_devices,
            over_limit: r.devices.is_some_and(|n| i64::from(n) > r.customer.max_devices),
            online: r.online,
            outdated: r.outdated,
        })
        .filter(|l| !a.over || l.over_limit)
        .collect();
    if g.json {
        return output::json(&lines);
    }
    let n = |v: Option<u32>| v.map_or("—".to_string(), |n| n.to_string());
    let rows: Vec<Vec<String>> = lines
        .iter()
        .map(|l| {
            vec![
                l.subdomain.to_string(),
                format!("{}/{}", n(l.devices), l.max_devices),
                if l.over_limit { "OVER".into() } else { String::new() },
                n(l.online),
                n(l.outdated),
            ]
        })
        .collect();
    println!("{}", output::table(&["CUSTOMER", "DEVICES", "LIMIT", "ONLINE", "OLD CLIENTS"], &rows));
    Ok(())
}
