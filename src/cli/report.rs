//! `nbmsp report uptime|devices|invoice`: the month, per customer, as a table, CSV or JSON.
//! Months, days and times are UTC.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{CliResult, GlobalArgs, auth, output};
use crate::domain::sla::Month;
use crate::engine::fleet::reports::{self, ReportKind};
use crate::engine::usecase;

/// `nbmsp report` commands.
#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Uptime against each customer's SLA, misses first: minutes down, in maintenance and unknown
    Uptime(ReportArgs),
    /// Devices per customer: peak and average online, registered, users, on old clients
    Devices(ReportArgs),
    /// One line per customer to invoice: contract, devices, users, uptime, SLA met or missed
    Invoice(ReportArgs),
}

/// What every report takes.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The month, YYYY-MM in UTC [default: this month, up to now]
    #[arg(long, value_name = "YYYY-MM", value_parser = parse_month)]
    month: Option<Month>,
    /// CSV instead of a table (what the month-end files hold)
    #[arg(long, conflicts_with = "output")]
    csv: bool,
    /// Write the CSV to FILE (0600) instead of printing it
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
}

fn parse_month(s: &str) -> Result<Month, String> {
    s.parse()
}

/// Runs one report.
pub fn run(g: &GlobalArgs, c: ReportCommand) -> CliResult {
    let (kind, a) = match c {
        ReportCommand::Uptime(a) => (ReportKind::Uptime, a),
        ReportCommand::Devices(a) => (ReportKind::Devices, a),
        ReportCommand::Invoice(a) => (ReportKind::Invoice, a),
    };
    let (store, session) = auth::login(g)?;
    let month = a.month.unwrap_or_else(|| Month::of(crate::store::now().unix_timestamp()));
    let report = usecase::reports::month(&store, &session, month)?;
    if let Some(path) = &a.output {
        crate::engine::stack::instance::write_atomic(path, reports::csv(&report, kind).as_bytes(), 0o600)?;
        if g.json {
            return output::json(&serde_json::json!({ "written": path, "rows": report.rows.len() }));
        }
        println!("{} rows written to {}", report.rows.len(), super::show_path(path));
        return Ok(());
    }
    if g.json {
        let rows = report.sorted(kind);
        return output::json(&serde_json::json!({
            "month": report.month,
            "timezone": report.timezone,
            "in_progress": report.in_progress,
            "maintenance": report.maintenance,
            "generated_at": report.generated_at,
            "rows": rows,
        }));
    }
    if a.csv {
        print!("{}", reports::csv(&report, kind));
        return Ok(());
    }
    let (header, rows) = reports::table(&report, kind);
    let header: Vec<String> = header.iter().map(|h| h.to_ascii_uppercase()).collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let state = if report.in_progress { ", in progress (up to now)" } else { "" };
    println!("{} {month} (UTC{state}; maintenance {})", kind.as_str(), report.maintenance);
    if rows.is_empty() {
        println!("no customer existed in {month}");
    } else {
        println!("{}", output::table(&header, &rows));
    }
    if kind == ReportKind::Uptime {
        let missed = report.rows.iter().filter(|r| r.sla_met == Some(false)).count();
        println!("{missed} of {} missed their SLA; partial = created or deleted during the month", report.rows.len());
    }
    Ok(())
}
