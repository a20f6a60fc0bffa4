//! Access-control policies to create or change: who (source groups) may reach what
//! (destination groups), how (protocol, ports, one way or both), accept or drop. One rule per
//! policy, as NetBird's dashboard writes them; a policy with several rules is changed there.
//! The CLI builds these from flags, the app from one typed line ([`NewPolicy::parse_line`]);
//! the engine resolves group names to ids (NetBird drops ids it does not know without a word,
//! `management/server/policy.go` `getValidGroupIDs`) and sends the whole record.

use super::ValidationError;

/// The protocols NetBird takes in a rule.
pub const PROTOCOLS: [&str; 5] = ["all", "tcp", "udp", "icmp", "netbird-ssh"];

/// A policy to add.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NewPolicy {
    /// Name.
    pub name: String,
    /// Description (the baseline marks the policies it owns here).
    pub description: String,
    /// Switched on.
    pub enabled: bool,
    /// Source groups (names or ids).
    pub sources: Vec<String>,
    /// Destination groups (names or ids).
    pub destinations: Vec<String>,
    /// One of [`PROTOCOLS`].
    pub protocol: String,
    /// Ports (tcp and udp only; none: every port).
    pub ports: Vec<String>,
    /// Destinations may open connections back.
    pub bidirectional: bool,
    /// `accept` or `drop`.
    pub action: String,
    /// Posture checks (names or ids) its source devices must pass.
    pub posture: Vec<String>,
}

impl Default for NewPolicy {
    fn default() -> Self {
        Self {
            name: String::new(),
            description: String::new(),
            enabled: true,
            sources: Vec::new(),
            destinations: Vec::new(),
            protocol: "all".into(),
            ports: Vec::new(),
            bidirectional: true,
            action: "accept".into(),
            posture: Vec::new(),
        }
    }
}

/// What to change in a one-rule policy; `None` keeps what it has.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct PolicyEdit {
    /// New name.
    pub name: Option<String>,
    /// New source groups.
    pub sources: Option<Vec<String>>,
    /// New destination groups.
    pub destinations: Option<Vec<String>>,
    /// New protocol.
    pub protocol: Option<String>,
    /// New ports (empty: every port).
    pub ports: Option<Vec<String>>,
    /// Both ways or one way.
    pub bidirectional: Option<bool>,
    /// `accept` or `drop`.
    pub action: Option<String>,
    /// On or off.
    pub enabled: Option<bool>,
    /// Posture checks (names or ids) its source devices must pass.
    pub posture: Option<Vec<String>>,
}

impl PolicyEdit {
    /// Nothing to change.
    pub fn is_empty(&self) -> bool {
        *self == PolicyEdit::default()
    }

    /// Whether it touches the rule (not only the name).
    pub fn touches_rule(&self) -> bool {
        self.sources.is_some()
            || self.destinations.is_some()
            || self.protocol.is_some()
            || self.ports.is_some()
            || self.bidirectional.is_some()
            || self.action.is_some()
    }
}

/// The words nbmsp checks before NetBird sees them (NetBird's own checks — ports in range, no
/// ports for all/icmp — answer with NetBird's words).
fn check_words(protocol: &str, action: &str) -> Result<(), String> {
    if !PROTOCOLS.contains(&protocol) {
        return Err(format!("protocol '{protocol}': {}", PROTOCOLS.join(", ")));
    }
    if action != "accept" && action != "drop" {
        return Err(format!("action '{action}': accept or drop"));
    }
    Ok(())
}

impl NewPolicy {
    /// A name, groups on both sides, known words.
    pub fn check(&self) -> Result<(), ValidationError> {
        let why = || -> Result<(), String> {
            if self.name.trim().is_empty() {
                return Err("a policy needs a name".into());
            }
            if self.sources.is_empty() || self.destinations.is_empty() {
                return Err("a policy needs source and destination groups (from= and to=)".into());
            }
            check_words(&self.protocol, &self.action)
        };
        why().map_err(|rule| ValidationError::new("policy", rule))
    }

    /// The app's one-line form: `NAME… from=G,… to=G,… [proto=tcp] [ports=80,443]
    /// [posture=CHECK,…] [oneway] [drop] [off]`. The name is the words before the first `key=value` or flag.
    pub fn parse_line(text: &str) -> Result<NewPolicy, ValidationError> {
        let why = || -> Result<NewPolicy, String> {
            let mut p = NewPolicy::default();
            let mut name = Vec::new();
            let mut named = false;
            for word in text.split_whitespace() {
                let list = |v: &str| v.split(',').filter(|s| !s.is_empty()).map(String::from).collect::<Vec<_>>();
                match word.split_once('=') {
                    Some(("from", v)) => p.sources = list(v),
                    Some(("to", v)) => p.destinations = list(v),
                    Some(("proto" | "protocol", v)) => p.protocol = v.to_ascii_lowercase(),
                    Some(("ports", v)) => p.ports = list(v),
                    Some(("posture", v)) => p.posture = list(v),
                    Some((k, _)) => return Err(format!("'{k}': from, to, proto, ports or posture")),
                    None if named => match word {
                        "oneway" => p.bidirectional = false,
                        "drop" => p.action = "drop".into(),
                        "off" => p.enabled = false,
                        other => return Err(format!("'{other}': the name comes first; then oneway, drop or off")),
                    },
                    None => {
                        name.push(word);
                        continue;
                    }
                }
                named = true;
            }
            p.name = name.join(" ");
            p.check().map_err(|e| e.rule)?;
            Ok(p)
        };
        why().map_err(|rule| ValidationError::new("policy", rule))
    }
}

/// A one-rule policy as the line [`NewPolicy::parse_line`] reads (the app's edit prompt starts
/// from it); `None` for a policy of several rules.
pub fn policy_line(p: &super::netbird::Policy) -> Option<String> {
    let [r] = p.rules.as_slice() else { return None };
    let mut line = format!("{} from={} to={}", p.name, r.sources.join(","), r.destinations.join(","));
    if r.protocol != "all" {
        line.push_str(&format!(" proto={}", r.protocol));
    }
    if !r.ports.is_empty() {
        line.push_str(&format!(" ports={}", r.ports.join(",")));
    }
    if !p.posture_checks.is_empty() {
        line.push_str(&format!(" posture={}", p.posture_checks.join(",")));
    }
    if !r.bidirectional {
        line.push_str(" oneway");
    }
    if r.action == "drop" {
        line.push_str(" drop");
    }
    Some(line)
}

impl PolicyEdit {
    /// Everything a typed line says, as a change (the app's edit prompt).
    pub fn from_line(p: NewPolicy) -> PolicyEdit {
        PolicyEdit {
            name: Some(p.name),
            sources: Some(p.sources),
            destinations: Some(p.destinations),
            protocol: Some(p.protocol),
            ports: Some(p.ports),
            bidirectional: Some(p.bidirectional),
            action: Some(p.action),
            enabled: None,
            // The line is the whole rule: checks left off it are taken off the policy.
            posture: Some(p.posture),
        }
    }

    /// Known words in what it changes.
    pub fn check(&self) -> Result<(), ValidationError> {
        let why = || -> Result<(), String> {
            if self.is_empty() {
                return Err("nothing to change: name, groups, protocol, ports, direction or action".into());
            }
            if self.name.as_ref().is_some_and(|n| n.trim().is_empty()) {
                return Err("a policy needs a name".into());
            }
            if self.sources.as_ref().is_some_and(Vec::is_empty) || self.destinations.as_ref().is_some_and(Vec::is_empty)
            {
                return Err("a rule needs groups on both sides".into());
            }
            check_words(self.protocol.as_deref().unwrap_or("all"), self.action.as_deref().unwrap_or("accept"))
        };
        why().map_err(|rule| ValidationError::new("policy", rule))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_names_the_policy_then_who_reaches_what() {
        let p = NewPolicy::parse_line("Staff to servers from=staff,admins to=servers proto=tcp ports=22,443 oneway")
            .unwrap();
        assert_eq!(p.name, "Staff to servers");
        assert_eq!((p.sources.len(), p.destinations.as_slice()), (2, ["servers".to_string()].as_slice()));
        assert_eq!((p.protocol.as_str(), p.ports.len(), p.bidirectional, p.enabled), ("tcp", 2, false, true));
        let c = NewPolicy::parse_line("web from=staff to=servers posture=modern,office").unwrap();
        assert_eq!(c.posture, vec!["modern".to_string(), "office".to_string()]);
        assert_eq!(PolicyEdit::from_line(c).posture.map(|p| p.len()), Some(2), "the line is the whole rule");
        let d = NewPolicy::parse_line("block guests from=guests to=servers drop off").unwrap();
        assert_eq!((d.action.as_str(), d.enabled, d.protocol.as_str()), ("drop", false, "all"));
    }

    #[test]
    fn a_line_that_cannot_become_a_policy_says_why() {
        for (line, why) in [
            ("from=a to=b", "needs a name"),
            ("x from=a", "source and destination"),
            ("x from=a to=b proto=sctp", "protocol 'sctp'"),
            ("x from=a to=b via=c", "'via'"),
            ("x from=a to=b maybe", "'maybe'"),
        ] {
            let e = NewPolicy::parse_line(line).unwrap_err();
            assert!(e.rule.contains(why), "{line}: {e}");
        }
        assert!(PolicyEdit::default().check().unwrap_err().rule.contains("nothing to change"));
        let e = PolicyEdit { sources: Some(vec![]), ..Default::default() }.check().unwrap_err();
        assert!(e.rule.contains("both sides"), "{e}");
    }
}
