//! The settings editor: the registry's keys in tabs, inline editing with the store's own rules,
//! an NPM test, and the Security tab (own password, users).

use super::TextKey;
use crate::domain::settings::SettingView;
use crate::domain::user::{Role, User};

/// Settings tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingsTab {
    /// Domains, dirs, network, ports, layout, proxy, timeouts.
    System,
    /// Nginx Proxy Manager.
    Npm,
    /// NetBird: container images, pulls and owner tokens.
    Images,
    /// The fleet monitor's intervals and the alert channels.
    Alerts,
    /// Own password and users.
    Security,
}

impl SettingsTab {
    /// All tabs.
    pub const ALL: [SettingsTab; 5] =
        [SettingsTab::System, SettingsTab::Npm, SettingsTab::Images, SettingsTab::Alerts, SettingsTab::Security];

    /// Title.
    pub fn title(self) -> &'static str {
        match self {
            SettingsTab::System => "System",
            SettingsTab::Npm => "NPM",
            SettingsTab::Images => "NetBird",
            SettingsTab::Alerts => "Monitor+alerts",
            SettingsTab::Security => "Security",
        }
    }

    /// Whether `key` belongs on this tab.
    pub fn has(self, key: &str) -> bool {
        match self {
            SettingsTab::System => ![
                "npm.", "proxy.", "edge.", "images.", "netbird.", "monitor.", "alerts.", "sla.", "history.", "reports.",
            ]
            .iter()
            .any(|p| key.starts_with(p)),
            // What stands in front of customers: NPM and the edge.
            SettingsTab::Npm => key.starts_with("npm.") || key.starts_with("proxy.") || key.starts_with("edge."),
            SettingsTab::Images => key.starts_with("images.") || key.starts_with("netbird."),
            // The monitor, what it alerts on, and what it records for the month's reports.
            SettingsTab::Alerts => {
                ["monitor.", "alerts.", "sla.", "history.", "reports."].iter().any(|p| key.starts_with(p))
            }
            SettingsTab::Security => false,
        }
    }
}

/// A small form on the Security tab.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountForm {
    /// Username when adding a user; the current password when changing one's own.
    pub username: crate::app::text::Field,
    /// New password.
    pub password: crate::app::text::Field,
    /// Repeated.
    pub repeat: crate::app::text::Field,
    /// Admin role (adding only).
    pub admin: bool,
    /// Focused field: 0 username, 1 password, 2 repeat.
    pub field: usize,
    /// Adding a user (else changing one's own password).
    pub adding: bool,
}

impl AccountForm {
    /// The problem with the current values, if any.
    pub fn problem(&self) -> Option<String> {
        if self.adding
            && let Err(e) = crate::domain::validate::username(&self.username)
        {
            return Some(e.to_string());
        }
        if !self.adding && self.username.is_empty() {
            return Some("type your current password first".into());
        }
        if let Err(e) = crate::domain::validate::password(&self.password) {
            return Some(e.to_string());
        }
        (self.password != self.repeat).then(|| "the passwords differ".to_string())
    }

    /// The role chosen.
    pub fn role(&self) -> Role {
        if self.admin { Role::Admin } else { Role::Operator }
    }

    /// Applies a key.
    pub fn key(&mut self, k: TextKey) {
        let first = 0;
        match k {
            TextKey::Tab | TextKey::Down => self.field = if self.field >= 2 { first } else { self.field + 1 },
            TextKey::BackTab | TextKey::Up => self.field = if self.field <= first { 2 } else { self.field - 1 },
            TextKey::Char(' ') if self.adding && self.field == 0 && self.username.is_empty() => {
                self.admin = !self.admin
            }
            k => {
                let text = match self.field {
                    0 => &mut self.username,
                    1 => &mut self.password,
                    _ => &mut self.repeat,
                };
                text.edit(k);
            }
        }
    }
}

/// The editor's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SettingsState {
    /// Every setting as the store shows it (secrets as set/unset).
    pub rows: Vec<SettingView>,
    /// Users (Security tab).
    pub users: Vec<User>,
    /// Current tab (index into [`SettingsTab::ALL`]).
    pub tab: usize,
    /// Selected row on the tab.
    pub selected: usize,
    /// The value being typed for the selected key.
    pub editing: Option<crate::app::text::Field>,
    /// The last refusal: (key, the rule broken).
    pub error: Option<(String, String)>,
    /// The last value sent (key, value): a refusal puts it back in the field to fix.
    pub submitted: Option<(String, String)>,
    /// The last test's answer (NPM on the NPM tab, a test notification elsewhere).
    pub npm_test: Option<Result<String, crate::domain::error::Failure>>,
    /// The open Security form.
    pub account: Option<AccountForm>,
}

impl SettingsState {
    /// The tab shown.
    pub fn current_tab(&self) -> SettingsTab {
        SettingsTab::ALL[self.tab.min(SettingsTab::ALL.len() - 1)]
    }

    /// The rows of the current tab.
    pub fn tab_rows(&self) -> Vec<&SettingView> {
        let tab = self.current_tab();
        self.rows.iter().filter(|r| tab.has(r.key)).collect()
    }

    /// The selected setting.
    pub fn selected_row(&self) -> Option<&SettingView> {
        self.tab_rows().get(self.selected).copied()
    }
}
