//! Posture checks: what a device must run, and where it must be, to be let through the policies
//! that require the check. The kinds NetBird v0.77.1 validates (`management/server/posture/`):
//! the NetBird client's version, the operating system's version, the device's network ranges
//! and its country. One request type for both doors: the CLI builds it from flags, the app's
//! prompt from one line ([`NewPosture::parse_line`]); the engine checks it ([`NewPosture::check`])
//! before NetBird sees it.

use super::ValidationError;

use serde::Serialize;

/// An operating system a posture check names, as NetBird keys it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Os {
    /// Android (its version).
    Android,
    /// macOS (its version; NetBird says `darwin`).
    Darwin,
    /// iOS (its version).
    Ios,
    /// Linux (the kernel's version).
    Linux,
    /// Windows (the kernel's version, e.g. 10.0.19045).
    Windows,
}

impl Os {
    /// NetBird's key in `os_version_check`.
    pub fn key(self) -> &'static str {
        match self {
            Os::Android => "android",
            Os::Darwin => "darwin",
            Os::Ios => "ios",
            Os::Linux => "linux",
            Os::Windows => "windows",
        }
    }

    /// The field that holds the version: Linux and Windows are checked by their kernel.
    pub fn field(self) -> &'static str {
        match self {
            Os::Linux | Os::Windows => "min_kernel_version",
            _ => "min_version",
        }
    }

    /// A name a person types (`macos` is `darwin`).
    pub fn parse(s: &str) -> Option<Os> {
        Some(match s.to_ascii_lowercase().as_str() {
            "android" => Os::Android,
            "darwin" | "macos" | "mac" => Os::Darwin,
            "ios" => Os::Ios,
            "linux" => Os::Linux,
            "windows" => Os::Windows,
            _ => return None,
        })
    }

    /// For people.
    pub fn label(self) -> &'static str {
        match self {
            Os::Android => "Android",
            Os::Darwin => "macOS",
            Os::Ios => "iOS",
            Os::Linux => "Linux kernel",
            Os::Windows => "Windows kernel",
        }
    }
}

/// Whether matching devices are let through or kept out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Only matching devices pass.
    Allow,
    /// Matching devices fail.
    Deny,
}

impl Action {
    /// NetBird's word.
    pub fn word(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Deny => "deny",
        }
    }
}

/// A posture check to add.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct NewPosture {
    /// Its name (unique in the account).
    pub name: String,
    /// Description (the baseline marks the checks it owns here).
    pub description: String,
    /// The least NetBird client version let through.
    pub min_version: Option<String>,
    /// The least version per operating system; an OS left out fails the check.
    pub os: Vec<(Os, String)>,
    /// Network ranges (CIDR) matched against the device's addresses.
    pub ranges: Option<(Action, Vec<String>)>,
    /// Countries (ISO 3166-1 alpha-2) of the device's public address.
    pub countries: Option<(Action, Vec<String>)>,
}

impl NewPosture {
    /// What nbmsp refuses before asking NetBird: no name, no check, a country that is not two
    /// letters (NetBird would take `de` and never match it: GeoLite's codes are upper case, so
    /// codes are sent upper case), a range that is not `ADDRESS/LENGTH`.
    pub fn check(&self) -> Result<(), ValidationError> {
        let why = || -> Result<(), String> {
            if self.name.trim().is_empty() {
                return Err("a posture check needs a name".into());
            }
            if self.min_version.is_none() && self.os.is_empty() && self.ranges.is_none() && self.countries.is_none() {
                return Err(
                    "a posture check needs at least one check: a client version, an OS version, ranges or countries"
                        .into(),
                );
            }
            if let Some((_, r)) = &self.ranges {
                if r.is_empty() {
                    return Err("a range check needs at least one range".into());
                }
                if let Some(bad) = r.iter().find(|r| !is_prefix(r)) {
                    return Err(format!("'{bad}' is not a network range (ADDRESS/LENGTH, e.g. 10.0.0.0/8)"));
                }
            }
            if let Some((_, c)) = &self.countries {
                if c.is_empty() {
                    return Err("a country check needs at least one country".into());
                }
                if let Some(bad) = c.iter().find(|c| c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase())) {
                    return Err(format!("'{bad}' is not a country code (two letters, ISO 3166-1, e.g. DE)"));
                }
            }
            Ok(())
        };
        why().map_err(|rule| ValidationError::new("posture check", rule))
    }

    /// Every check it holds, in words and in one order (NetBird's list is read into the same
    /// words, so a baseline and a customer's check compare equal when they check the same).
    pub fn summary(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(m) = &self.min_version {
            out.push(format!("client ≥ {m}"));
        }
        let mut os = self.os.clone();
        os.sort();
        out.extend(os.iter().map(|(os, v)| format!("{} ≥ {v}", os.label())));
        if let Some((a, r)) = &self.ranges {
            out.push(format!("ranges {} {}", a.word(), r.join(",")));
        }
        if let Some((a, c)) = &self.countries {
            out.push(format!("countries {} {}", a.word(), c.join(",")));
        }
        out
    }

    /// The app's one-line form: `NAME… [client=V] [linux=V] [windows=V] [macos=V] [ios=V]
    /// [android=V] [allow=CIDR,…|deny=CIDR,…] [countries=CC,…|not-countries=CC,…]`. The name is
    /// the words before the first `key=value`.
    pub fn parse_line(text: &str) -> Result<NewPosture, ValidationError> {
        let why = || -> Result<NewPosture, String> {
            let mut p = NewPosture::default();
            let mut name = Vec::new();
            for word in text.split_whitespace() {
                let Some((key, value)) = word.split_once('=') else {
                    if p.min_version.is_some() || !p.os.is_empty() || p.ranges.is_some() || p.countries.is_some() {
                        return Err(format!("'{word}': the name comes first, then KEY=VALUE"));
                    }
                    name.push(word);
                    continue;
                };
                let list = || value.split(',').filter(|s| !s.is_empty()).map(String::from).collect::<Vec<_>>();
                match key.to_ascii_lowercase().as_str() {
                    "client" => p.min_version = Some(value.to_string()),
                    "allow" | "deny" if p.ranges.is_some() => return Err("ranges: allow= or deny=, once".into()),
                    "allow" => p.ranges = Some((Action::Allow, list())),
                    "deny" => p.ranges = Some((Action::Deny, list())),
                    "countries" | "not-countries" if p.countries.is_some() => {
                        return Err("countries: countries= or not-countries=, once".into());
                    }
                    "countries" => p.countries = Some((Action::Allow, upper(list()))),
                    "not-countries" => p.countries = Some((Action::Deny, upper(list()))),
                    other => match Os::parse(other) {
                        Some(os) if p.os.iter().any(|(o, _)| *o == os) => return Err(format!("{other}: once")),
                        Some(os) => p.os.push((os, value.to_string())),
                        None => {
                            return Err(format!(
                                "'{key}': client, linux, windows, macos, ios, android, allow, deny, countries or not-countries"
                            ));
                        }
                    },
                }
            }
            p.name = name.join(" ");
            p.check().map_err(|e| e.rule)?;
            Ok(p)
        };
        why().map_err(|rule| ValidationError::new("posture check", rule))
    }
}

/// Country codes as GeoLite writes them.
pub fn upper(codes: Vec<String>) -> Vec<String> {
    codes.into_iter().map(|c| c.to_ascii_uppercase()).collect()
}

/// `10.0.0.0/8`, `2001:db8::/32`: an address and a length that fits it.
fn is_prefix(p: &str) -> bool {
    let Some((ip, len)) = p.split_once('/') else { return false };
    let Ok(len) = len.parse::<u8>() else { return false };
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => len <= 32,
        Ok(std::net::IpAddr::V6(_)) => len <= 128,
        Err(_) => false,
    }
}

/// A posture check as NetBird lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NbPosture {
    /// NetBird's id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// The least NetBird client version it lets through (`None`: it checks something else).
    pub min_version: Option<String>,
    /// Every check it holds, for people: `client ≥ 0.60.0`, `Linux kernel ≥ 5.10`,
    /// `ranges allow 10.0.0.0/8`, `countries deny RU`.
    pub checks: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_names_the_check_then_its_kinds() {
        let p = NewPosture::parse_line(
            "Office laptops client=0.60.0 linux=5.10 macos=14.0 allow=10.0.0.0/8,192.168.0.0/16 countries=de,at",
        )
        .unwrap();
        assert_eq!(p.name, "Office laptops");
        assert_eq!(p.min_version.as_deref(), Some("0.60.0"));
        assert_eq!(p.os, vec![(Os::Linux, "5.10".into()), (Os::Darwin, "14.0".into())]);
        assert_eq!(p.ranges, Some((Action::Allow, vec!["10.0.0.0/8".into(), "192.168.0.0/16".into()])));
        assert_eq!(p.countries, Some((Action::Allow, vec!["DE".into(), "AT".into()])), "sent as GeoLite writes them");
        let d = NewPosture::parse_line("no-russia not-countries=RU deny=203.0.113.0/24").unwrap();
        assert_eq!(d.countries, Some((Action::Deny, vec!["RU".into()])));
        assert_eq!(d.ranges.unwrap().0, Action::Deny);
    }

    #[test]
    fn a_line_that_cannot_become_a_check_says_why() {
        for (line, why) in [
            ("only-a-name", "at least one check"),
            ("client=0.60.0", "needs a name"),
            ("x allow=10.0.0.0/8 deny=10.1.0.0/16", "once"),
            ("x allow=10.0.0.0", "not a network range"),
            ("x allow=10.0.0.0/33", "not a network range"),
            ("x countries=DEU", "not a country code"),
            ("x beos=5", "'beos'"),
            ("x linux=5 linux=6", "once"),
            ("x client=1 trailing", "name comes first"),
        ] {
            let e = NewPosture::parse_line(line).unwrap_err();
            assert!(e.rule.contains(why), "{line}: {e}");
        }
    }
}
