//! The NetBird tab's forms: a new setup key's fields, and a new service's line and secret.

use super::text::Field;
use crate::domain::ValidationError;
use crate::domain::netbird::{NewService, NewSetupKey, Secret, ServiceAuth};
use crate::domain::service_target::TargetSpec;

/// The fields of a new setup key, in focus order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyForm {
    /// Name.
    pub name: Field,
    /// Reusable (Space toggles).
    pub reusable: bool,
    /// Days until it expires ("0": never).
    pub days: Field,
    /// Uses allowed, reusable keys only ("0": unlimited).
    pub limit: Field,
    /// Group names, comma-separated.
    pub groups: Field,
    /// Ephemeral devices (Space toggles).
    pub ephemeral: bool,
    /// Focused field, 0..6.
    pub focus: usize,
    /// Why the last submit was refused.
    pub error: Option<String>,
}

impl KeyForm {
    /// Field labels in focus order.
    pub const LABELS: [&'static str; 6] = ["Name", "Reusable", "Expires in days", "Usage limit", "Groups", "Ephemeral"];

    /// An empty form within the fleet's `rules` for keys: one-off when reusable keys are not
    /// allowed, and an expiry no longer than allowed (7 days, or less).
    pub(super) fn new(rules: Option<&crate::domain::baseline_keys::KeyRules>) -> Self {
        let days = rules.and_then(|r| r.max_days).map_or(7, |max| max.clamp(1, 7));
        Self {
            name: Default::default(),
            reusable: rules.is_none_or(|r| r.reusable),
            days: days.to_string().as_str().into(),
            limit: "0".into(),
            groups: Default::default(),
            ephemeral: false,
            focus: 0,
            error: None,
        }
    }

    /// The key asked for, or why not.
    pub fn request(&self) -> Result<NewSetupKey, ValidationError> {
        let why = || -> Result<NewSetupKey, String> {
            let name = self.name.trim();
            if name.is_empty() {
                return Err("a setup key needs a name".into());
            }
            let num =
                |v: &str, what: &str| v.trim().parse::<u32>().map_err(|_| format!("{what} must be a whole number"));
            Ok(NewSetupKey {
                name: name.to_string(),
                reusable: self.reusable,
                expires_days: num(&self.days, "expires in days")?,
                usage_limit: if self.reusable { num(&self.limit, "usage limit")? } else { 0 },
                auto_groups: self
                    .groups
                    .split(',')
                    .map(str::trim)
                    .filter(|g| !g.is_empty())
                    .map(String::from)
                    .collect(),
                ephemeral: self.ephemeral,
            })
        };
        why().map_err(|rule| ValidationError::new("setup key", rule))
    }

    pub(super) fn text_mut(&mut self) -> Option<&mut Field> {
        match self.focus {
            0 => Some(&mut self.name),
            2 => Some(&mut self.days),
            3 => Some(&mut self.limit),
            4 => Some(&mut self.groups),
            _ => None,
        }
    }
}

/// A new service from one typed line, `NAME TARGET [none|sso|pin|password]` (the target as
/// `TargetSpec` reads it: a device or resource, `@ADDRESS` in a subnet, `:PORT`): the service,
/// and whether a PIN or password must be asked for next (it is never typed on the same line,
/// which the screen shows).
pub fn parse_service(text: &str) -> Result<(NewService, bool), ValidationError> {
    let why = || -> Result<(NewService, bool), ValidationError> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let usage = || {
            ValidationError::new("service", "type: NAME DEVICE-OR-RESOURCE[@ADDRESS][:PORT] [none|sso|pin|password]")
        };
        let (name, target, auth) = match words.as_slice() {
            [n, t] => (*n, *t, "none"),
            [n, t, a] => (*n, *t, *a),
            _ => return Err(usage()),
        };
        let target = TargetSpec::parse(target, "http")?;
        let (auth, secret) = match auth {
            "none" => (ServiceAuth::None, false),
            "sso" => (ServiceAuth::Sso, false),
            "pin" => (ServiceAuth::Pin(Secret(String::new())), true),
            "password" => (ServiceAuth::Password(Secret(String::new())), true),
            other => {
                return Err(ValidationError::new("service", format!("{other}: expected none, sso, pin or password")));
            }
        };
        Ok((NewService { name: name.to_string(), target, scheme: "http".into(), auth }, secret))
    };
    why()
}

/// `service` with the secret it was waiting for.
pub fn with_secret(mut service: NewService, secret: &str) -> NewService {
    service.auth = match service.auth {
        ServiceAuth::Pin(_) => ServiceAuth::Pin(Secret(secret.to_string())),
        ServiceAuth::Password(_) => ServiceAuth::Password(Secret(secret.to_string())),
        other => other,
    };
    service
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_line_names_the_device_port_and_how_visitors_sign_in() {
        let (s, ask) = parse_service("wiki  nas:8080 pin").unwrap();
        assert_eq!((s.name.as_str(), s.target.name.as_str(), s.target.port, ask), ("wiki", "nas", 8080, true));
        let s = with_secret(s, "4821");
        assert_eq!(s.auth, ServiceAuth::Pin(Secret("4821".into())));
        assert_eq!(format!("{:?}", s.auth), "Pin(Secret(***))", "Debug never shows it");
        assert_eq!(
            parse_service("app nas").unwrap(),
            (
                NewService {
                    name: "app".into(),
                    target: TargetSpec { name: "nas".into(), address: None, port: 80 },
                    scheme: "http".into(),
                    auth: ServiceAuth::None
                },
                false
            )
        );
        assert!(
            parse_service("wiki").is_err()
                && parse_service("w nas:0").is_err()
                && parse_service("w nas magic").is_err()
        );
        let (s, _) = parse_service("files lan@10.1.2.3:445 sso").unwrap();
        assert_eq!((s.target.name.as_str(), s.target.address, s.target.port), ("lan", "10.1.2.3".parse().ok(), 445));
    }
}
