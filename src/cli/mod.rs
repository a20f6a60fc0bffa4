//! The headless command line: the same store and engine as the TUI, for scripts.
//!
//! Exit codes: 0 ok, 1 runtime failure, 2 usage or validation error. With `--json`, results
//! are JSON on stdout and errors are `{"error": {"kind", "message"}}` on stdout too.

mod access;
pub mod auth;
pub mod backup;
mod baseline;
pub mod customer;
mod customer_data;
mod customer_view;
pub mod deploy;
mod devices;
pub mod doctor;
pub mod edge;
pub mod error;
pub mod host;
pub mod init;
pub mod migrate;
pub mod monitor;
mod netbird;
mod netbird_view;
mod networks;
pub mod npm;
pub mod output;
pub mod reconcile;
pub mod ref_args;
mod report;
pub mod rollout;
mod routes;
pub mod settings;
pub mod shell;
pub mod user;

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

pub use error::{CliError, CliResult, ErrorKind};

use crate::store::{self, Store};

/// nbmsp runs many isolated, self-hosted NetBird control planes from one host.
///
/// Without a command it opens the full-screen app.
#[derive(Debug, Parser)]
#[command(name = "nbmsp", version, about, long_about = None, propagate_version = true, after_help = "Without a command, nbmsp opens the full-screen app (a setup wizard on the first run).")]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do; none opens the full-screen app.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options every command takes.
#[derive(Debug, Clone, clap::Args)]
pub struct GlobalArgs {
    /// Data home holding the database and logs [default: NBMSP_HOME, else the platform's data
    /// dir, e.g. ~/.local/share/nbmsp]
    // NBMSP_HOME is read in `home()`, not by clap: clap lists an argument set from the
    // environment among the required ones of a usage error.
    #[arg(long, global = true, value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// nbmsp user to act as
    #[arg(long, global = true, env = "NBMSP_USER", default_value = "admin", value_name = "USER")]
    pub user: String,
    /// Read the password from FILE ('-' for stdin) instead of NBMSP_PASSWORD or a prompt
    #[arg(long, global = true, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// Log level for the log file (error, warn, info, debug, trace); RUST_LOG overrides
    #[arg(long, global = true, default_value = "info", value_name = "LEVEL")]
    pub log_level: String,
    /// Print results and errors as JSON on stdout
    #[arg(long, global = true)]
    pub json: bool,
}

impl GlobalArgs {
    /// The data home in use.
    pub fn home(&self) -> CliResult<PathBuf> {
        let from_env = || std::env::var_os("NBMSP_HOME").filter(|v| !v.is_empty()).map(PathBuf::from);
        Ok(store::home::resolve(self.home.clone().or_else(from_env).as_deref())?)
    }

    /// Opens the existing database (never creates one).
    pub fn open_store(&self) -> CliResult<Store> {
        Ok(Store::open(&store::home::db_path(&self.home()?), false)?)
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Set up nbmsp here: database, first admin, default settings
    Init(init::InitArgs),
    /// Create, list, show, change and delete customers
    #[command(subcommand)]
    Customer(customer::CustomerCommand),
    /// Show and change system settings
    #[command(subcommand)]
    Settings(settings::SettingsCommand),
    /// Manage nbmsp's own users
    #[command(subcommand)]
    User(user::UserCommand),
    /// The Docker hosts customers run on: add (ssh:// or tcp:// with TLS), list, show, drain, remove
    #[command(subcommand)]
    Host(host::HostCommand),
    /// Check the database, Docker, the proxy, the data dir, the port range, the configured images, the edge and whether a monitor runs
    Doctor,
    /// Write a consistent copy of the database (safe while nbmsp runs)
    Backup(backup::BackupArgs),
    /// Move deployed customers to a new data_dir or Docker network (settings that hold their data)
    #[command(subcommand)]
    Migrate(migrate::MigrateCommand),
    /// Nginx Proxy Manager checks
    #[command(subcommand)]
    Npm(npm::NpmCommand),
    /// The edge in front of NPM that brings visitors to customers' reverse proxies: config, apply, status
    #[command(subcommand)]
    Edge(edge::EdgeCommand),
    /// Compare the database with Docker, the instance dirs and NPM; --yes applies the safe fixes
    Reconcile(reconcile::ReconcileArgs),
    /// Upgrade the fleet's images in waves: a canary first, then batches; stops at the first failure
    Rollout(rollout::RolloutArgs),
    /// Watch the fleet and send alerts, in the foreground (what the systemd unit runs)
    Monitor(monitor::MonitorArgs),
    /// The fleet's devices per customer (over the limit first, online, on old clients), as the
    /// monitor last counted them
    Devices(devices::DevicesArgs),
    /// Firing alerts, and a test notification to the configured channels
    #[command(subcommand)]
    Alerts(monitor::AlertsCommand),
    /// Every customer's NetBird against $NBMSP_HOME/baseline.toml: check (exit 1 when any
    /// differs), apply (canary first, then waves), show and set the file (admins)
    #[command(subcommand)]
    Baseline(baseline::BaselineCommand),
    /// The month per customer (UTC): uptime against the SLA, devices, invoice lines; table, --csv or --json
    #[command(subcommand)]
    Report(report::ReportCommand),
    /// Print shell completions for bash, zsh or fish (install.sh installs them)
    Completions {
        /// The shell
        shell: shell::Shell,
    },
    /// Print a man page (roff): `nbmsp man | man -l -`, `nbmsp man customer create` for that
    /// command's own page; `--dir DIR` writes every page (nbmsp.1, nbmsp-customer.1, …) into DIR
    Man {
        /// The command whose page to print [default: nbmsp itself]
        #[arg(value_name = "COMMAND")]
        command: Vec<String>,
        /// Write every command's page into DIR instead (what install.sh and the .deb install)
        #[arg(long, value_name = "DIR", conflicts_with = "command")]
        dir: Option<PathBuf>,
    },
}

/// Runs one command.
pub async fn run(g: &GlobalArgs, command: Command) -> CliResult {
    match command {
        Command::Init(a) => init::run(g, a).await,
        Command::Customer(c) => customer::run(g, c).await,
        Command::Settings(c) => settings::run(g, c),
        Command::User(c) => user::run(g, c),
        Command::Host(c) => host::run(g, c).await,
        Command::Doctor => doctor::run(g).await,
        Command::Backup(a) => backup::run(g, a),
        Command::Npm(c) => npm::run(g, c).await,
        Command::Edge(c) => edge::run(g, c).await,
        Command::Migrate(c) => migrate::run(g, c).await,
        Command::Monitor(a) => monitor::run(g, a).await,
        Command::Rollout(a) => rollout::run(g, a).await,
        Command::Reconcile(a) => reconcile::run(g, a).await,
        Command::Alerts(c) => monitor::alerts(g, c).await,
        Command::Devices(a) => devices::run(g, a),
        Command::Report(c) => report::run(g, c),
        Command::Baseline(c) => baseline::run(g, c).await,
        Command::Completions { shell } => shell::completions(shell),
        Command::Man { command, dir } => shell::man(&command, dir.as_deref()),
    }
}

/// Prints a failed command's error the way the CLI contract says and returns its exit code.
pub fn report(err: &CliError, json: bool) -> i32 {
    if err.message.is_empty() {
        // Already reported in full by the command (doctor's per-check lines).
    } else if json {
        println!("{}", err.to_json());
    } else {
        // Error texts carry what Docker, NPM, NetBird or an import file said.
        eprintln!("nbmsp: {}", crate::domain::sanitize::terminal_safe(&err.message));
    }
    err.kind.exit_code()
}

/// True when `--json` appears among raw arguments (used when clap itself rejects the line).
pub fn wants_json(args: &[String]) -> bool {
    args.iter().take_while(|a| *a != "--").any(|a| a == "--json")
}

/// A path shown to users.
pub fn show_path(p: &Path) -> String {
    p.display().to_string()
}
