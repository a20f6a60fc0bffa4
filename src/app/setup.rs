//! The first-run setup wizard: what `nbmsp init` asks, plus the proxy and port settings, with
//! the same rules as the CLI and a password strength hint.

use super::TextKey;
use crate::domain::settings;
use crate::domain::validate;

/// Wizard fields in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetupField {
    /// First admin's username.
    User,
    /// Password.
    Password,
    /// Password again.
    Repeat,
    /// Base domain.
    BaseDomain,
    /// The MSP's email.
    Email,
    /// Layout toggle.
    Layout,
    /// Proxy toggle (none / npm).
    Proxy,
    /// NPM admin URL.
    NpmUrl,
    /// NPM login.
    NpmIdentity,
    /// NPM password.
    NpmSecret,
    /// Data dir.
    DataDir,
    /// The Docker network customers' containers and the proxy share.
    Network,
    /// First UDP port.
    BasePort,
    /// Number of UDP ports.
    PortCount,
}

impl SetupField {
    /// All fields in order.
    pub const ALL: [SetupField; 14] = [
        SetupField::User,
        SetupField::Password,
        SetupField::Repeat,
        SetupField::BaseDomain,
        SetupField::Email,
        SetupField::Layout,
        SetupField::Proxy,
        SetupField::NpmUrl,
        SetupField::NpmIdentity,
        SetupField::NpmSecret,
        SetupField::DataDir,
        SetupField::Network,
        SetupField::BasePort,
        SetupField::PortCount,
    ];

    /// Label.
    pub fn label(self) -> &'static str {
        match self {
            SetupField::User => "Admin user",
            SetupField::Password => "Password",
            SetupField::Repeat => "Repeat",
            SetupField::BaseDomain => "Base domain",
            SetupField::Email => "Admin email",
            SetupField::Layout => "Layout",
            SetupField::Proxy => "Proxy",
            SetupField::NpmUrl => "NPM URL",
            SetupField::NpmIdentity => "NPM login",
            SetupField::NpmSecret => "NPM password",
            SetupField::DataDir => "Data dir",
            SetupField::Network => "Network",
            SetupField::BasePort => "UDP from",
            SetupField::PortCount => "UDP ports",
        }
    }

    /// Fields shown only with `proxy = npm`.
    pub fn npm_only(self) -> bool {
        matches!(self, SetupField::NpmUrl | SetupField::NpmIdentity | SetupField::NpmSecret)
    }

    /// Fields drawn as bullets.
    pub fn secret(self) -> bool {
        matches!(self, SetupField::Password | SetupField::Repeat | SetupField::NpmSecret)
    }
}

/// The wizard's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupState {
    /// Values by field, in [`SetupField::ALL`] order (toggles hold their word).
    pub values: Vec<crate::app::text::Field>,
    /// Focused field.
    pub focus: SetupField,
    /// Problems by field.
    pub errors: Vec<(SetupField, String)>,
    /// The NPM test's answer.
    pub npm_test: Option<Result<String, crate::domain::error::Failure>>,
    /// Waiting for the engine.
    pub busy: bool,
    /// The engine's refusal.
    pub server_error: Option<String>,
    /// The operator saw the warning about another installation's containers and submits again
    /// to go ahead beside them.
    pub beside_foreign: bool,
}

/// Password strength for the hint: 0 weak, 1 fair, 2 strong.
pub fn strength(pw: &str) -> u8 {
    let classes = [
        pw.chars().any(|c| c.is_ascii_lowercase()),
        pw.chars().any(|c| c.is_ascii_uppercase()),
        pw.chars().any(|c| c.is_ascii_digit()),
        pw.chars().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    match (pw.chars().count(), classes) {
        (n, _) if n < validate::PASSWORD_MIN => 0,
        (n, c) if n >= 16 || (n >= 12 && c >= 3) => 2,
        (_, c) if c >= 2 => 1,
        _ => 0,
    }
}

impl SetupState {
    /// Defaults for a data home at `home`.
    pub fn new(home: &str) -> Self {
        let network = settings::def("docker_network").map(|d| d.default).unwrap_or_default();
        let defaults = [
            "admin",
            "",
            "",
            "",
            "",
            "combined",
            "none",
            "",
            "",
            "",
            &format!("{home}/instances"),
            network,
            "3478",
            "100",
        ];
        let mut s = Self {
            values: defaults.iter().map(|v| crate::app::text::Field::new(*v)).collect(),
            focus: SetupField::Password,
            errors: Vec::new(),
            npm_test: None,
            busy: false,
            server_error: None,
            beside_foreign: false,
        };
        s.validate();
        s
    }

    fn idx(f: SetupField) -> usize {
        SetupField::ALL.iter().position(|x| *x == f).unwrap_or(0)
    }

    /// The value of `f`.
    pub fn get(&self, f: SetupField) -> &str {
        &self.values[Self::idx(f)]
    }

    /// The field behind `f` (for drawing its cursor).
    pub fn field(&self, f: SetupField) -> &crate::app::text::Field {
        &self.values[Self::idx(f)]
    }

    /// NPM chosen.
    pub fn npm(&self) -> bool {
        self.get(SetupField::Proxy) == "npm"
    }

    /// Fields currently shown.
    pub fn fields(&self) -> Vec<SetupField> {
        SetupField::ALL.into_iter().filter(|f| self.npm() || !f.npm_only()).collect()
    }

    /// The problem with `f`, if any.
    pub fn error(&self, f: SetupField) -> Option<&str> {
        self.errors.iter().find(|(x, _)| *x == f).map(|(_, e)| e.as_str())
    }

    /// Re-checks every shown field with the same rules as `nbmsp init` and `settings set`.
    pub fn validate(&mut self) {
        let mut errors = Vec::new();
        let mut check = |f: SetupField, r: Result<(), String>| {
            if let Err(e) = r {
                errors.push((f, e));
            }
        };
        let rule = |e: crate::domain::ValidationError| e.rule;
        check(SetupField::User, validate::username(self.get(SetupField::User)).map_err(rule));
        check(SetupField::Password, validate::password(self.get(SetupField::Password)).map_err(rule));
        check(
            SetupField::Repeat,
            if self.get(SetupField::Repeat) == self.get(SetupField::Password) {
                Ok(())
            } else {
                Err("the passwords differ".into())
            },
        );
        for (f, key) in [
            (SetupField::BaseDomain, "base_domain"),
            (SetupField::Email, "admin_email"),
            (SetupField::DataDir, "data_dir"),
            (SetupField::Network, "docker_network"),
            (SetupField::BasePort, "relay_base_port"),
            (SetupField::PortCount, "relay_port_count"),
        ] {
            check(f, settings::normalise(key, self.get(f)).map(|_| ()).map_err(rule));
        }
        if let (Ok(b), Ok(c)) =
            (self.get(SetupField::BasePort).parse::<i64>(), self.get(SetupField::PortCount).parse::<i64>())
        {
            check(SetupField::PortCount, validate::port_range(b, c).map_err(rule));
        }
        if self.npm() {
            for (f, key) in [(SetupField::NpmUrl, "npm.url"), (SetupField::NpmIdentity, "npm.identity")] {
                let v = self.get(f);
                check(
                    f,
                    if v.is_empty() {
                        Err("must not be empty".into())
                    } else {
                        settings::normalise(key, v).map(|_| ()).map_err(rule)
                    },
                );
            }
            check(
                SetupField::NpmSecret,
                if self.get(SetupField::NpmSecret).is_empty() { Err("must not be empty".into()) } else { Ok(()) },
            );
        }
        self.errors = errors;
    }

    /// Moves the focus among the shown fields.
    pub fn move_focus(&mut self, delta: isize) {
        let fields = self.fields();
        let n = fields.len() as isize;
        let i = fields.iter().position(|f| *f == self.focus).unwrap_or(0) as isize;
        self.focus = fields[(i + delta).rem_euclid(n) as usize];
    }

    /// Applies a key to the focused field.
    pub fn key(&mut self, k: TextKey) {
        let i = Self::idx(self.focus);
        match self.focus {
            SetupField::Layout | SetupField::Proxy => {
                if matches!(k, TextKey::Char(' ') | TextKey::Left | TextKey::Right) {
                    let v = &mut self.values[i];
                    *v = match v.value() {
                        "combined" => "legacy",
                        "legacy" => "combined",
                        "none" => "npm",
                        _ => "none",
                    }
                    .to_string()
                    .into();
                }
            }
            _ => {
                self.values[i].edit(k);
            }
        }
        self.npm_test = None;
        self.server_error = None;
        self.validate();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strength_table() {
        for (pw, want) in [
            ("short", 0),
            ("alllowercase", 0),
            ("lower1234567", 1),
            ("Lower-1234567", 2),
            ("a very long passphrase", 2),
        ] {
            assert_eq!(strength(pw), want, "{pw}");
        }
    }

    #[test]
    fn defaults_leave_only_what_the_user_must_type() {
        let s = SetupState::new("/var/lib/nbmsp");
        let missing: Vec<SetupField> = s.errors.iter().map(|(f, _)| *f).collect();
        assert_eq!(missing, [SetupField::Password, SetupField::BaseDomain, SetupField::Email]);
        assert_eq!(s.fields().len(), 11, "NPM fields hidden with proxy = none");
    }
}
