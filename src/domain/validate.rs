//! Validation rules for everything a user can type. Pure functions, no IO.
//!
//! Each rule returns a [`ValidationError`] that names the field and the rule broken, so the CLI and
//! the TUI can show it next to the field without rewording it.

use std::fmt;

/// A value broke a rule; `field` names what the user typed into, `rule` says what is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    /// The field as the user knows it (`subdomain`, `email`, `relay_base_port`, ...).
    pub field: String,
    /// One sentence: what is allowed, not only what is wrong.
    pub rule: String,
}

impl ValidationError {
    /// Builds an error for `field` with the broken `rule`.
    pub fn new(field: impl Into<String>, rule: impl Into<String>) -> Self {
        Self { field: field.into(), rule: rule.into() }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.rule)
    }
}

impl std::error::Error for ValidationError {}

/// Longest customer/company name accepted.
pub const NAME_MAX: usize = 200;
/// Longest email accepted (RFC 5321 path limit).
pub const EMAIL_MAX: usize = 254;
/// Longest notes text accepted.
pub const NOTES_MAX: usize = 10_000;
/// Device limit range per customer.
pub const MAX_DEVICES_RANGE: std::ops::RangeInclusive<i64> = 1..=100_000;
/// Ports nbmsp may publish: unprivileged ones only.
pub const PORT_RANGE: std::ops::RangeInclusive<i64> = 1024..=65_535;

/// A customer's subdomain: one DNS label (lowercase a-z, 0-9 and hyphen, 1-63 chars, no hyphen
/// at either end) that is not all digits, because bare digits on a command line name a
/// customer id.
pub fn subdomain(value: &str) -> Result<(), ValidationError> {
    dns_label(value)?;
    if value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ValidationError::new(
            "subdomain",
            "must contain a letter or hyphen (all digits would read as a customer id)",
        ));
    }
    Ok(())
}

/// One DNS label: lowercase a-z, 0-9 and hyphen, 1-63 chars, no hyphen at either end.
fn dns_label(value: &str) -> Result<(), ValidationError> {
    let err = |rule: &str| Err(ValidationError::new("subdomain", rule));
    if value.is_empty() {
        return err("must not be empty");
    }
    if value.len() > 63 {
        return err("must be at most 63 characters (one DNS label)");
    }
    if !value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        return err("may contain only lowercase letters a-z, digits and hyphens");
    }
    if value.starts_with('-') || value.ends_with('-') {
        return err("must not start or end with a hyphen");
    }
    Ok(())
}

/// A fully qualified domain name: at least two labels, each 1-63 of a-z/0-9/hyphen (no hyphen at
/// either end), 253 chars at most, and a top-level label that is not all digits.
pub fn base_domain(value: &str) -> Result<(), ValidationError> {
    let err = |rule: &str| Err(ValidationError::new("base_domain", rule));
    let value = value.strip_suffix('.').unwrap_or(value);
    if value.is_empty() {
        return err("must not be empty");
    }
    if value.len() > 253 {
        return err("must be at most 253 characters");
    }
    let labels: Vec<&str> = value.split('.').collect();
    if labels.len() < 2 {
        return err("must be a fully qualified domain such as msp.example.com");
    }
    for label in &labels {
        if dns_label(label).is_err() {
            return err(
                "each dot-separated part must be 1-63 lowercase letters, digits or hyphens, not starting or ending with a hyphen",
            );
        }
    }
    if labels.last().is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit())) {
        return err("must end in a name, not a number");
    }
    Ok(())
}

/// A syntactically valid address `local@domain`: printable ASCII local part without spaces or
/// quotes, a domain of at least two labels. Deliberately stricter than RFC 5322: these addresses
/// end up in generated files and in Let's Encrypt requests.
pub fn email(value: &str) -> Result<(), ValidationError> {
    let err = |rule: &str| Err(ValidationError::new("email", rule));
    if value.is_empty() {
        return err("must not be empty");
    }
    if value.len() > EMAIL_MAX {
        return err("must be at most 254 characters");
    }
    let Some((local, domain)) = value.rsplit_once('@') else {
        return err("must look like name@example.com");
    };
    if local.is_empty() || local.len() > 64 {
        return err("must have 1-64 characters before the @");
    }
    let local_ok = local.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~.".contains(&b));
    if !local_ok || local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return err("may contain only letters, digits and !#$%&'*+-/=?^_`{|}~. before the @");
    }
    if base_domain(&domain.to_ascii_lowercase()).is_err() {
        return err("must have a domain such as example.com after the @");
    }
    Ok(())
}

/// Free text on one line: no control characters, at most `max` characters; `required` rejects
/// empty (or whitespace-only) values.
pub fn line(field: &str, value: &str, required: bool, max: usize) -> Result<(), ValidationError> {
    if required && value.trim().is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(ValidationError::new(field, format!("must be at most {max} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(ValidationError::new(field, "must not contain control characters (tabs, newlines, escapes)"));
    }
    invisible(field, value)
}

/// Refuses bidi controls and zero-width characters: they reorder or hide what an operator reads.
fn invisible(field: &str, value: &str) -> Result<(), ValidationError> {
    match value.chars().find(|c| super::sanitize::is_invisible_format(*c)) {
        Some(c) => Err(ValidationError::new(
            field,
            format!(
                "must not contain invisible formatting characters (U+{:04X}: text direction or zero-width), which \
                 change what a reader sees",
                c as u32
            ),
        )),
        None => Ok(()),
    }
}

/// A customer's display name: 1-200 characters, no control characters.
pub fn name(value: &str) -> Result<(), ValidationError> {
    line("name", value, true, NAME_MAX)
}

/// A company name: optional, at most 200 characters, no control characters.
pub fn company(value: &str) -> Result<(), ValidationError> {
    line("company", value, false, NAME_MAX)
}

/// NetBird's Reverse Proxy registers with the combined server (NetBird >= 0.65); the legacy
/// layout's management predates it.
pub fn reverse_proxy(layout: super::customer::Layout, on: bool) -> Result<(), ValidationError> {
    if on && layout == super::customer::Layout::Legacy {
        return Err(ValidationError::new(
            "reverse_proxy",
            "needs the combined layout: NetBird's Reverse Proxy came after the legacy layout's management",
        ));
    }
    Ok(())
}

/// Notes may span lines (newline and tab allowed) but carry no other control characters.
pub fn notes(value: &str) -> Result<(), ValidationError> {
    if value.chars().count() > NOTES_MAX {
        return Err(ValidationError::new("notes", format!("must be at most {NOTES_MAX} characters")));
    }
    if value.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(ValidationError::new("notes", "must not contain control characters other than newlines and tabs"));
    }
    invisible("notes", value)
}

/// Device limit per customer.
pub fn max_devices(value: i64) -> Result<(), ValidationError> {
    int_in("max_devices", value, MAX_DEVICES_RANGE)
}

/// An integer inside `range`, with a message that names it.
pub fn int_in(field: &str, value: i64, range: std::ops::RangeInclusive<i64>) -> Result<(), ValidationError> {
    if range.contains(&value) {
        Ok(())
    } else {
        Err(ValidationError::new(field, format!("must be between {} and {}", range.start(), range.end())))
    }
}

/// The relay port range `[base, base + count)` must lie inside 1024..=65535.
pub fn port_range(base: i64, count: i64) -> Result<(), ValidationError> {
    int_in("relay_base_port", base, PORT_RANGE)?;
    if count < 1 {
        return Err(ValidationError::new("relay_port_count", "must be at least 1"));
    }
    let last = base + count - 1;
    if last > *PORT_RANGE.end() {
        return Err(ValidationError::new(
            "relay_port_count",
            format!("makes the range end at {last}; relay_base_port + relay_port_count - 1 must be at most 65535"),
        ));
    }
    Ok(())
}

/// A username: 1-32 of a-z, 0-9, `.`, `_`, `-`, starting with a letter.
pub fn username(value: &str) -> Result<(), ValidationError> {
    let ok = !value.is_empty()
        && value.len() <= 32
        && value.starts_with(|c: char| c.is_ascii_lowercase())
        && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(ValidationError::new(
            "username",
            "must be 1-32 characters of a-z, 0-9, '.', '_' or '-', starting with a letter",
        ))
    }
}

/// Shortest password accepted for nbmsp users; they guard every customer's secrets.
pub const PASSWORD_MIN: usize = 10;

/// A password: at least [`PASSWORD_MIN`] characters, at most 1024, no control characters.
pub fn password(value: &str) -> Result<(), ValidationError> {
    let n = value.chars().count();
    if n < PASSWORD_MIN {
        return Err(ValidationError::new("password", format!("must be at least {PASSWORD_MIN} characters")));
    }
    if n > 1024 {
        return Err(ValidationError::new("password", "must be at most 1024 characters"));
    }
    if value.chars().any(char::is_control) {
        return Err(ValidationError::new("password", "must not contain control characters"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Whatever is typed, the validators answer (never panic), and what they accept is
        /// clean: no control characters, bounded, and for names of things, their alphabet.
        #[test]
        fn validators_accept_only_clean_bounded_text(s in proptest::prelude::any::<String>()) {
            if name(&s).is_ok() || company(&s).is_ok() {
                proptest::prop_assert!(!s.chars().any(char::is_control) && s.chars().count() <= NAME_MAX);
            }
            if notes(&s).is_ok() {
                proptest::prop_assert!(s.chars().all(|c| !c.is_control() || c == '\n' || c == '\t'));
            }
            if subdomain(&s).is_ok() {
                proptest::prop_assert!(s.len() <= 63 && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
            }
            if email(&s).is_ok() {
                proptest::prop_assert!(s.is_ascii() && !s.contains(|c: char| c.is_whitespace() || c == '"' || c == '\\'));
                proptest::prop_assert_eq!(s.matches('@').count(), 1);
            }
            if let Err(e) = name(&s) {
                proptest::prop_assert_eq!(e.field.as_str(), "name", "errors name their field");
            }
        }

        /// Addresses of the usual shape are accepted.
        #[test]
        fn ordinary_addresses_are_accepted(local in "[a-z0-9][a-z0-9._+-]{0,20}[a-z0-9]", host in "[a-z][a-z0-9-]{0,20}[a-z0-9]") {
            proptest::prop_assume!(!local.contains(".."));
            let addr = format!("{local}@{host}.example");
            proptest::prop_assert!(email(&addr).is_ok(), "{}", addr);
        }
    }

    #[test]
    fn subdomain_table() {
        let long = "a".repeat(63);
        let too_long = "a".repeat(64);
        let cases: &[(&str, bool)] = &[
            ("acme", true),
            ("a", true),
            ("0", false),
            ("123", false),
            ("1a", true),
            ("acme-2", true),
            ("a1b2", true),
            (&long, true),
            (&too_long, false),
            ("", false),
            ("-acme", false),
            ("acme-", false),
            ("Acme", false),
            ("ac_me", false),
            ("ac.me", false),
            ("ac me", false),
            ("acmé", false),
            ("acme\n", false),
        ];
        for (value, ok) in cases {
            assert_eq!(subdomain(value).is_ok(), *ok, "subdomain {value:?}");
        }
    }

    #[test]
    fn base_domain_table() {
        let cases: &[(&str, bool)] = &[
            ("msp.example.com", true),
            ("example.com", true),
            ("example.com.", true),
            ("a-b.c-d.io", true),
            ("localhost", false),
            ("", false),
            ("msp..example.com", false),
            ("-msp.example.com", false),
            ("msp.example.com-", false),
            ("MSP.example.com", false),
            ("1.2.3.4", false),
            ("msp example.com", false),
            ("msp.example.com/", false),
        ];
        for (value, ok) in cases {
            assert_eq!(base_domain(value).is_ok(), *ok, "base_domain {value:?}");
        }
        assert!(base_domain(&format!("{}.com", "a.".repeat(130))).is_err(), "over 253 chars");
    }

    #[test]
    fn email_table() {
        let cases: &[(&str, bool)] = &[
            ("it@acme.example", true),
            ("first.last+tag@sub.acme.example", true),
            ("o'brien@acme.example", true),
            ("IT@ACME.EXAMPLE", true),
            ("", false),
            ("acme.example", false),
            ("@acme.example", false),
            ("it@", false),
            ("it@localhost", false),
            ("it@@acme.example", false),
            ("i t@acme.example", false),
            ("it\"@acme.example", false),
            (".it@acme.example", false),
            ("it..x@acme.example", false),
            ("it@acme.example\n", false),
            ("it@acme.example\nBcc: x@y.z", false),
        ];
        for (value, ok) in cases {
            assert_eq!(email(value).is_ok(), *ok, "email {value:?}");
        }
    }

    #[test]
    fn name_table() {
        let max = "x".repeat(NAME_MAX);
        let over = "x".repeat(NAME_MAX + 1);
        let unicode_max = "é".repeat(NAME_MAX);
        let cases: &[(&str, bool)] = &[
            ("ACME Logistics", true),
            ("Ünïcødé GmbH & Co. KG", true),
            (&max, true),
            (&unicode_max, true),
            (&over, false),
            ("", false),
            ("   ", false),
            ("ACME\nLogistics", false),
            ("ACME\tLogistics", false),
            ("ACME\u{1b}[31m", false),
            ("ACME\u{0}", false),
        ];
        for (value, ok) in cases {
            assert_eq!(name(value).is_ok(), *ok, "name {value:?}");
        }
        assert!(company("").is_ok(), "company is optional");
        assert!(company("a\nb").is_err());
    }

    #[test]
    fn notes_allow_lines_but_not_escapes() {
        assert!(notes("line one\nline two\tindented").is_ok());
        assert!(notes("").is_ok());
        assert!(notes("bell\u{7}").is_err());
        assert!(notes(&"n".repeat(NOTES_MAX + 1)).is_err());
    }

    #[test]
    fn numeric_tables() {
        let devices: &[(i64, bool)] =
            &[(1, true), (20, true), (100_000, true), (0, false), (-1, false), (100_001, false)];
        for (value, ok) in devices {
            assert_eq!(max_devices(*value).is_ok(), *ok, "max_devices {value}");
        }
        let ranges: &[((i64, i64), bool)] = &[
            ((3478, 100), true),
            ((1024, 1), true),
            ((65_535, 1), true),
            ((65_436, 100), true),
            ((65_437, 100), false),
            ((1023, 10), false),
            ((3478, 0), false),
            ((70_000, 1), false),
        ];
        for ((base, count), ok) in ranges {
            assert_eq!(port_range(*base, *count).is_ok(), *ok, "port_range {base}+{count}");
        }
    }

    #[test]
    fn username_and_password() {
        for (value, ok) in
            [("admin", true), ("ops.team-1", true), ("", false), ("1admin", false), ("Admin", false), ("a b", false)]
        {
            assert_eq!(username(value).is_ok(), ok, "username {value:?}");
        }
        assert!(password("correct horse").is_ok());
        assert!(password("short").is_err());
        assert!(password("ten chars\n!").is_err());
    }

    #[test]
    fn errors_name_the_field() {
        let e = subdomain("Bad").unwrap_err();
        assert_eq!(e.field, "subdomain");
        assert!(e.to_string().starts_with("subdomain: "));
    }
}
