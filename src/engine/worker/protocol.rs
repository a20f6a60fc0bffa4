//! The messages between the TUI and the engine worker: [`Command`]s in, [`Event`]s out. Plain
//! data in domain types, so the UI never sees bollard, reqwest or SQL types.

use crate::domain::audit::AuditEntry;
use crate::domain::customer::{Customer, CustomerRef};
use crate::domain::deployment::{ContainerInfo, Deployment, LogLine};
use crate::domain::error::Failure;
use crate::domain::fleet::CustomerRow;
use crate::engine::checks::health::HealthReport;
use crate::engine::ops::lifecycle::Progress;

/// Work the UI asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Check a password and unlock the secrets.
    Login {
        /// Username.
        user: String,
        /// Password.
        password: String,
    },
    /// Reload the customers table (back on the dashboard: the monitor's focus is cleared).
    LoadCustomers,
    /// Ask every Docker host about itself (the hosts view).
    LoadHosts,
    /// This month's and last month's reports (the Reports view).
    LoadReports,
    /// The baseline's text, to edit (`:baseline`).
    LoadBaseline,
    /// The baseline's rules for setup keys, for the key form's starting values.
    LoadKeyRules,
    /// Replace the baseline with an operator's text (admins; refused unless it parses).
    SaveBaseline {
        /// The new text.
        text: String,
    },
    /// Write a month's reports (three CSV files and a JSON) to `reports.dir`.
    ExportReports {
        /// Which month.
        month: crate::domain::sla::Month,
    },
    /// Load everything the detail view shows; the customer becomes the monitor's focus (live
    /// resource samples every few seconds).
    LoadDetail {
        /// Which customer.
        customer_id: i64,
    },
    /// Run an operation on a customer (refused when that id no longer holds the customer the
    /// operator saw).
    Operate {
        /// Which customer, as shown.
        target: CustomerRef,
        /// What to do.
        op: Operation,
    },
    /// Cancel the customer's running deploy or redeploy; what it did is undone.
    Cancel {
        /// Which customer.
        customer_id: i64,
    },
    /// Run an operation on several customers, a few at a time.
    Bulk {
        /// Which customers, as shown (any that changed since are left out and reported).
        targets: Vec<CustomerRef>,
        /// What to do (start, stop, restart, deploy, redeploy).
        op: Operation,
    },
    /// Move a customer to another Docker host.
    Move {
        /// Which customer, as shown.
        target: CustomerRef,
        /// The host's name (`local`: this machine's engine).
        to: String,
    },
    /// Stop (or resume) placing new customers on a host, then list the hosts again.
    Drain {
        /// The host's name.
        host: String,
        /// Draining from now on (else open again).
        draining: bool,
    },
    /// Roll the images in settings out to the fleet: a canary, then batches.
    Rollout,
    /// Apply reconcile's safe fixes.
    Reconcile,
    /// Find what reconcile would fix, changing nothing (answered with `Event::Reconciled`).
    CheckReconcile,
    /// Run a health check (with STUN).
    CheckHealth {
        /// Which customer.
        customer_id: i64,
    },
    /// Stream the customer's logs until [`Command::StopLogs`].
    FollowLogs {
        /// Which customer.
        customer_id: i64,
    },
    /// Stop streaming logs.
    StopLogs,
    /// Load the NetBird owner credentials nbmsp stored for a customer.
    ShowCredentials {
        /// Which customer, as shown.
        target: CustomerRef,
    },
    /// Ask something of the customer's NetBird as its owner (lists, or an audited change).
    NetBird {
        /// Which customer, as shown.
        target: CustomerRef,
        /// What to do.
        action: crate::domain::netbird::AdminAction,
    },
    /// First run: create the database, the admin and the settings.
    Init(InitRequest),
    /// Log in to NPM with these values and report its version.
    TestNpm {
        /// Admin URL.
        url: String,
        /// Login.
        identity: String,
        /// Password.
        secret: String,
    },
    /// Load the settings and users.
    LoadSettings,
    /// Change one setting.
    SetSetting {
        /// Key.
        key: String,
        /// New value.
        value: String,
        /// The value the editor showed (a concurrent change is refused, not overwritten).
        expected: Option<String>,
    },
    /// Test the stored NPM configuration.
    TestStoredNpm,
    /// Send a test notification to the configured alert channels.
    TestAlerts,
    /// Change the logged-in user's password.
    ChangeOwnPassword {
        /// The current password (required: an open session alone does not change it).
        current: String,
        /// The new password.
        password: String,
    },
    /// Add a user.
    AddUser {
        /// Login.
        username: String,
        /// Password.
        password: String,
        /// Role.
        role: crate::domain::user::Role,
    },
    /// Write log lines to a file under the data home's `exports/`.
    ExportLogs {
        /// Whose (for the file name).
        subdomain: String,
        /// The lines, as shown.
        lines: Vec<LogLine>,
    },
    /// Create a customer and deploy it.
    Create(crate::domain::customer::NewCustomer),
    /// Recreate a customer and its stack from a backup file (sealed with this installation's
    /// key; passphrase-sealed backups are restored with the CLI).
    Restore {
        /// The backup file.
        file: std::path::PathBuf,
    },
    /// Change a customer.
    Update {
        /// Which customer, as shown.
        target: CustomerRef,
        /// The change.
        patch: crate::domain::customer::CustomerPatch,
    },
}

/// The answer to a [`Command::NetBird`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetBirdReply {
    /// Which customer.
    pub customer_id: i64,
    /// What was asked.
    pub action: crate::domain::netbird::AdminAction,
    /// The answer, or why there is none.
    pub result: Result<crate::domain::netbird::AdminAnswer, Failure>,
}

impl Event {
    /// A [`Event::NetBird`] reply.
    pub fn netbird(
        customer_id: i64,
        action: crate::domain::netbird::AdminAction,
        result: Result<crate::domain::netbird::AdminAnswer, Failure>,
    ) -> Event {
        Event::NetBird(Box::new(NetBirdReply { customer_id, action, result }))
    }
}

/// What the setup wizard collected.
#[derive(Clone, PartialEq, Eq)]
pub struct InitRequest {
    /// First admin.
    pub admin_user: String,
    /// Its password.
    pub password: String,
    /// Base domain.
    pub base_domain: String,
    /// The MSP's email.
    pub admin_email: String,
    /// Further settings to store (key, value), secrets included.
    pub settings: Vec<(String, String)>,
    /// Go ahead although another installation's containers run on the engine (asked after a
    /// first refusal).
    pub beside_foreign: bool,
}

impl std::fmt::Debug for InitRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the passwords, not even in test failure output.
        f.debug_struct("InitRequest")
            .field("admin_user", &self.admin_user)
            .field("base_domain", &self.base_domain)
            .finish_non_exhaustive()
    }
}

/// Operations on a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Deploy (or redeploy when deployed).
    Deploy,
    /// Redeploy.
    Redeploy,
    /// Start.
    Start,
    /// Stop.
    Stop,
    /// Restart.
    Restart,
    /// Delete (a restorable backup is kept).
    Delete,
    /// Write a backup into the backup dir.
    Backup,
    /// Retry the certificate.
    RetryCert,
    /// Move to another Docker host (the host travels with the command).
    Move,
    /// The fleet, not one customer: roll the images in settings out in waves.
    Rollout,
    /// The fleet: apply reconcile's safe fixes.
    Reconcile,
}

impl Operation {
    /// The right it takes (`domain::rights`): what `Ops::locked` checks for the engine
    /// operation behind it, here for the app to know beforehand.
    pub fn right(self) -> crate::domain::rights::Right {
        use crate::domain::rights::Right;
        match self {
            Operation::Deploy => Right::Deploy,
            Operation::Redeploy => Right::Redeploy,
            Operation::Start => Right::Start,
            Operation::Stop => Right::Stop,
            Operation::Restart => Right::Restart,
            Operation::Delete => Right::Delete,
            Operation::Backup => Right::Backup,
            Operation::RetryCert => Right::RetryCert,
            Operation::Move => Right::Move,
            Operation::Rollout => Right::Rollout,
            Operation::Reconcile => Right::Reconcile,
        }
    }

    /// The verb shown to users.
    pub fn verb(self) -> &'static str {
        match self {
            Operation::Deploy => "deploy",
            Operation::Redeploy => "redeploy",
            Operation::Start => "start",
            Operation::Stop => "stop",
            Operation::Restart => "restart",
            Operation::Delete => "delete",
            Operation::Backup => "back up",
            Operation::RetryCert => "retry certificate",
            Operation::Move => "move",
            Operation::Rollout => "roll the images in settings out to",
            Operation::Reconcile => "apply reconcile's safe fixes to",
        }
    }
}

/// What the detail view shows about one customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detail {
    /// The customer.
    pub customer: Customer,
    /// Its public domain.
    pub fqdn: String,
    /// Its deployment.
    pub deployment: Option<Deployment>,
    /// Its newest audit entries.
    pub audit: Vec<AuditEntry>,
    /// Its containers, or why they could not be listed.
    pub containers: Result<Vec<ContainerInfo>, Failure>,
    /// Its newest backup nbmsp wrote, if any.
    pub last_backup: Option<crate::domain::deployment::BackupRecord>,
    /// When this was loaded (uptimes are shown as of then: the screen does not tick).
    pub loaded_at: crate::domain::Timestamp,
    /// With `proxy = none`: the nginx server block for the operator's own proxy.
    pub own_proxy: Option<OwnProxy>,
}

/// What an operator's own nginx needs for a customer when nbmsp runs no proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnProxy {
    /// The server block (`customer proxy-config` prints the same).
    pub server_block: String,
    /// The Docker network nginx must join to reach the containers by name.
    pub network: String,
}

/// What the engine reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Login worked.
    LoggedIn {
        /// Who.
        user: String,
        /// Their role (the app hides keys the role may not use).
        role: crate::domain::user::Role,
        /// The base domain setting (for FQDN previews).
        base_domain: String,
        /// The default layout setting.
        layout: crate::domain::customer::Layout,
    },
    /// The first-run setup finished; log in now.
    Initialised {
        /// The admin created.
        user: String,
    },
    /// The first-run setup failed.
    InitFailed(String),
    /// The owner credentials, or why there are none.
    Credentials {
        /// Which customer.
        customer_id: i64,
        /// The credentials.
        result: Result<crate::engine::netbird::OwnerCredentials, Failure>,
    },
    /// What the customer's NetBird answered to a [`Command::NetBird`] (boxed: lists are large).
    NetBird(Box<NetBirdReply>),
    /// NPM's state for the header: `None` with `proxy = none`, else its version or the error.
    Npm(Option<Result<String, Failure>>),
    /// The outcome of a test from the settings or setup screen (NPM, or a test notification).
    NpmTested(Result<String, Failure>),
    /// Settings and users.
    Settings {
        /// Every setting (secrets masked).
        rows: Vec<crate::domain::settings::SettingView>,
        /// Users.
        users: Vec<crate::domain::user::User>,
    },
    /// A setting change was refused.
    SettingFailed {
        /// Key.
        key: String,
        /// Why.
        message: String,
    },
    /// A password change or user addition ended.
    AccountDone(Result<String, Failure>),
    /// The wizard's setup was refused because another installation's containers run on the
    /// engine (the operator may confirm and go ahead).
    InitForeign(String),
    /// A restore ended: what it made, or why it failed.
    Restored(Result<String, Failure>),
    /// An export ended: the file written, or why not.
    Exported(Result<String, Failure>),
    /// A customer was created or changed.
    Saved {
        /// Which customer.
        customer_id: i64,
        /// Its subdomain.
        subdomain: String,
        /// Newly created (a deploy follows).
        created: bool,
    },
    /// The store refused to save (validation, a taken subdomain).
    SaveFailed(String),
    /// Login refused; the store's sentence (wrong password, lockout with the wait).
    LoginFailed(String),
    /// The customers table.
    Customers(Vec<CustomerRow>),
    /// Every Docker host as it answered (or why the list could not be made).
    Hosts(Result<Vec<crate::engine::hosts::HostStatus>, Failure>),
    /// The baseline's text, and whether the session may change it.
    Baseline(Result<crate::engine::usecase::baseline::BaselineText, Failure>),
    /// The baseline's rules for setup keys (`None`: no baseline, or none for keys).
    KeyRules(Option<crate::domain::baseline_keys::KeyRules>),
    /// A baseline save ended: what it now requires, or why it was refused (with the text sent,
    /// so nothing typed is lost).
    BaselineSaved {
        /// What was sent.
        text: String,
        /// What it requires now, or why not.
        result: Result<String, Failure>,
    },
    /// This month's report and the last's.
    Reports(Result<Box<(crate::engine::fleet::reports::Report, crate::engine::fleet::reports::Report)>, Failure>),
    /// Detail data.
    Detail(Box<Detail>),
    /// Docker's state: its version, or why it is unreachable.
    Docker(Result<String, Failure>),
    /// Host gauges from the monitor (sent when a shown figure changes).
    Host(crate::domain::fleet::HostStats),
    /// A step of a running operation.
    Progress {
        /// Which customer.
        customer_id: i64,
        /// The step event.
        progress: Progress,
    },
    /// An operation ended.
    Finished {
        /// Which customer.
        customer_id: i64,
        /// What ran.
        op: Operation,
        /// Its outcome, as one sentence.
        result: Result<String, Failure>,
    },
    /// A bulk operation ended (each customer also got its own [`Event::Finished`]).
    BulkDone(crate::engine::fleet::bulk::BulkSummary),
    /// A rollout moved on: a wave started, a customer ended, or it finished.
    Rollout(Box<RolloutUpdate>),
    /// Reconcile ran (at start, or on request): what it fixed and what is (still) wrong.
    Reconciled {
        /// Fixes applied.
        applied: Vec<crate::engine::fleet::reconcile::Applied>,
        /// Findings left.
        findings: Vec<crate::engine::fleet::reconcile::Finding>,
    },
    /// A health check ended.
    Health {
        /// Which customer.
        customer_id: i64,
        /// The report or the error.
        report: Result<HealthReport, Failure>,
    },
    /// Resource samples of the customer's containers.
    Stats {
        /// Which customer.
        customer_id: i64,
        /// The samples or the error.
        stats: Result<Vec<crate::domain::deployment::ContainerStats>, Failure>,
    },
    /// New log lines (batched so a chatty container does not cause a redraw per line).
    Logs {
        /// Which customer.
        customer_id: i64,
        /// The lines.
        lines: Vec<LogLine>,
        /// Lines per second over the last few seconds (sent alone when only it changed).
        per_second: u32,
    },
    /// Something failed outside an operation.
    Error(String),
    /// Something allowed that invites trouble, in words (shown, not an error).
    Caution(String),
}

/// Rollout progress for the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RolloutUpdate {
    /// Wave `n` (1 = the canary) starts with these customers.
    Wave(usize, Vec<String>),
    /// A customer ended.
    Customer(crate::engine::fleet::bulk::BulkResult),
    /// The rollout ended: its report, and what was done about the settings after a failure.
    Finished(Result<(crate::engine::fleet::rollout::RolloutReport, Option<String>), Failure>),
}
