//! Who may do what: every guarded use case is a [`Right`], and one table says what each needs.
//!
//! The engine checks a right where the use case runs (a customer operation where it takes its
//! lock, the rest in `engine::usecase` and the store's writes), so the CLI, the app, the monitor
//! and every later door get the same answer. The README's role table is generated from this
//! table and a test keeps the two equal.

use super::user::Permission;

/// Declares [`Right`] from one table: variant, lock and audit word, what it needs, and the
/// words for "a viewer may not …" messages and the README.
macro_rules! rights {
    ($($(#[$meta:meta])* $variant:ident = ($word:literal, $needs:ident, $what:literal)),+ $(,)?) => {
        /// A guarded use case.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Right { $($(#[$meta])* $variant),+ }

        impl Right {
            /// Every right, in table order (the README's order).
            pub const ALL: &'static [Right] = &[$(Right::$variant),+];

            /// The word a customer lock and the audit log carry ("deploy", "retry-cert").
            pub fn word(self) -> &'static str {
                match self { $(Right::$variant => $word),+ }
            }

            /// What it needs.
            pub fn needs(self) -> Permission {
                match self { $(Right::$variant => Permission::$needs),+ }
            }

            /// What it does, for "a viewer may not stop customers" and the README.
            pub fn what(self) -> &'static str {
                match self { $(Right::$variant => $what),+ }
            }
        }
    };
}

rights! {
    /// Lists, health, logs, stats, devices, audit, reconcile's report, doctor, `npm test`.
    Look = ("look", Read, "list and show customers, health, logs, stats, audit, reconcile's report, doctor, `npm test`, alerts and hosts"),
    /// A NetBird instance's devices, setup keys, users and groups, read.
    NetBirdList = ("netbird-list", Read, "list a customer's NetBird devices, setup keys, users and groups"),
    /// The month's reports: uptime against the SLA, devices, invoice lines.
    Reports = ("reports", Read, "read the month's reports (uptime against SLA, devices, invoice lines) and the Reports screen"),
    /// One's own password, with the current one.
    OwnPassword = ("passwd", Read, "change their own password (with the current one)"),
    /// A new customer (or many, imported).
    CreateCustomers = ("create", Operate, "create and import customers"),
    /// A customer's fields.
    EditCustomers = ("edit", Operate, "edit customers"),
    /// First deploy.
    Deploy = ("deploy", Operate, "deploy customers"),
    /// Render and apply again.
    Redeploy = ("redeploy", Operate, "redeploy customers"),
    /// Start a stopped stack.
    Start = ("start", Operate, "start customers"),
    /// Stop a stack.
    Stop = ("stop", Operate, "stop customers"),
    /// Restart a stack.
    Restart = ("restart", Operate, "restart customers"),
    /// Ask NPM for a certificate again.
    RetryCert = ("retry-cert", Operate, "retry certificates"),
    /// Renew the stored NetBird access token.
    RenewToken = ("renew-token", Operate, "renew NetBird tokens"),
    /// New images, customer by customer, and putting old ones back when it fails.
    Rollout = ("rollout", Operate, "run rollouts"),
    /// Finish or roll back an interrupted operation.
    Recover = ("recover", Operate, "finish interrupted operations"),
    /// A backup sealed with the installation's key.
    Backup = ("backup", Operate, "back up customers (sealed with the installation's key)"),
    /// Reconcile's fixes (`reconcile --yes`).
    Reconcile = ("reconcile", Operate, "apply reconcile's fixes"),
    /// The monitor's round (it renews tokens and finishes operations).
    Monitor = ("monitor", Operate, "run the monitor"),
    /// A test alert to every channel.
    TestAlerts = ("alerts-test", Operate, "send a test alert"),
    /// Stop or resume placing new customers on a host.
    DrainHosts = ("drain", Operate, "drain hosts"),
    /// Give each host's edge its configuration again (`nbmsp edge apply`).
    Edge = ("edge", Operate, "apply the edge's configuration"),
    /// Changes in a NetBird instance that only narrow access or rename.
    NetBirdChange = ("netbird-change", Operate, "in a customer's NetBird: rename devices, change login expiration, revoke setup keys, block or unblock users, create and rename groups"),
    /// Changes in a NetBird instance that hand out access or remove something.
    NetBirdGrant = ("netbird-grant", Admin, "in a customer's NetBird: create setup keys and users (their secret is shown once), change user roles, delete devices, keys, users and groups"),
    /// A customer's published services (Reverse Proxy), read.
    ServicesList = ("services-list", Read, "list a customer's published services"),
    /// Turn published services on and off.
    ServicesToggle = ("services-toggle", Operate, "enable and disable a customer's published services"),
    /// Publish and delete services (their PIN or password is set then).
    ServicesPublish = ("services-publish", Admin, "publish and delete a customer's services (with their PIN or password)"),
    /// Replace the stored NetBird access token.
    SetToken = ("set-token", Admin, "set a customer's NetBird token"),
    /// The NetBird owner's password.
    Credentials = ("credentials", Admin, "see owner credentials"),
    /// Files with secrets on disk.
    Render = ("render", Admin, "write files that hold secrets (`customer render`)"),
    /// Remove a customer and its containers.
    Delete = ("delete", Admin, "delete customers"),
    /// A backup sealed with a passphrase of the customer's own (carries secrets out).
    BackupWithPassphrase = ("backup-passphrase", Admin, "back up with a passphrase"),
    /// Put a customer back from a backup.
    Restore = ("restore", Admin, "restore customers"),
    /// Delete directories reconcile found without a customer.
    PurgeDirs = ("purge-dir", Admin, "delete directories that may hold customer data (`reconcile --purge-dir`)"),
    /// Move customers' data to the current layout.
    Migrate = ("migrate", Admin, "migrate customers' data"),
    /// Change settings.
    Settings = ("settings", Admin, "change settings"),
    /// Add users and set other users' passwords.
    Users = ("users", Admin, "add users and set their passwords"),
    /// The database's backup and restore.
    DatabaseBackup = ("database-backup", Admin, "back up and restore the database"),
    /// Add a Docker host.
    AddHosts = ("host-add", Admin, "add hosts"),
    /// Change a host's address or capacity.
    ChangeHosts = ("host-edit", Admin, "change hosts"),
    /// Remove an empty host.
    RemoveHosts = ("host-remove", Admin, "remove hosts"),
    /// Bring every customer's NetBird to the fleet's baseline (`nbmsp baseline apply`).
    Baseline = ("baseline", Admin, "apply the fleet's NetBird baseline (`nbmsp baseline apply`)"),
    /// Change what the baseline says (`baseline.toml`: `nbmsp baseline set`, the app's `:baseline`).
    BaselineEdit = ("baseline-edit", Admin, "change the fleet's NetBird baseline (`nbmsp baseline set`, `:baseline`)"),
    /// Move a customer to another host.
    Move = ("move", Admin, "move customers between hosts"),
}

impl Right {
    /// The right a customer lock's operation word stands for; an unknown word stands for the
    /// most guarded one, so a new operation is admin-only until it is put in the table.
    pub fn of_word(word: &str) -> Right {
        Right::ALL.iter().copied().find(|r| r.word() == word).unwrap_or(Right::Delete)
    }
}

/// A role that does not cover what was tried, in the words every door shows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} {role} may not {what} (it needs {needed})", if *role == super::user::Role::Viewer { "a" } else { "an" })]
pub struct Refusal {
    /// The user's role.
    pub role: super::user::Role,
    /// What was tried.
    pub what: String,
    /// The least role that may.
    pub needed: &'static str,
}

/// Whether `role` may use `right`, `what` naming the attempt in the refusal ("create a setup
/// key" rather than the right's row in the role table). The one check behind every door's.
pub fn check(role: super::user::Role, right: Right, what: &str) -> Result<(), Refusal> {
    if role.allows(right.needs()) {
        return Ok(());
    }
    let needed = match right.needs() {
        Permission::Read => "a viewer",
        Permission::Operate => "an operator or admin",
        Permission::Admin => "an admin",
    };
    Err(Refusal { role, what: what.to_string(), needed })
}

/// The README's role table, as Markdown: one row per right, a column per role.
pub fn readme_table() -> String {
    use super::user::Role;
    let mut out = String::from("| may… | viewer | operator | admin |\n|---|---|---|---|\n");
    for r in Right::ALL {
        let cells: Vec<&str> = [Role::Viewer, Role::Operator, Role::Admin]
            .iter()
            .map(|role| if role.allows(r.needs()) { "yes" } else { "—" })
            .collect();
        out.push_str(&format!("| {} | {} |\n", r.what(), cells.join(" | ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_unique_and_unknown_words_need_an_admin() {
        let mut words: Vec<&str> = Right::ALL.iter().map(|r| r.word()).collect();
        words.sort_unstable();
        let n = words.len();
        words.dedup();
        assert_eq!(words.len(), n, "two rights share a word");
        assert_eq!(Right::of_word("stop"), Right::Stop);
        assert_eq!(Right::of_word("something-new").needs(), Permission::Admin);
    }

    #[test]
    fn the_readme_shows_this_table() {
        let readme = include_str!("../../README.md");
        let table = readme_table();
        assert!(
            readme.contains(&table),
            "README.md's role table differs from domain::rights; put this there:\n{table}"
        );
    }
}
