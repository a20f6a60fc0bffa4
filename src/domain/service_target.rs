//! Where a published service sends its visitors, as typed at either door:
//! `NAME[@ADDRESS][:PORT]` — a device (NetBird peer) or a network resource by name or id, and
//! for a subnet resource the address inside it (NetBird refuses a subnet target without one:
//! `service.go` `validateHTTPTargets`). Pure: which of the account's objects NAME is, and
//! whether the address lies in the subnet, are decided against NetBird's lists in the engine.

use std::net::IpAddr;

use super::validate::ValidationError;

/// A service target as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetSpec {
    /// A device's or a network resource's name or id.
    pub name: String,
    /// The address inside a subnet resource.
    pub address: Option<IpAddr>,
    /// The port there.
    pub port: u16,
}

impl TargetSpec {
    /// Reads `NAME[@ADDRESS][:PORT]` (an IPv6 address in brackets); without a port, the
    /// scheme's (80 for http, 443 for https).
    pub fn parse(text: &str, scheme: &str) -> Result<Self, ValidationError> {
        let why = || -> Result<Self, String> {
            let usage = || format!("'{text}': expected NAME[:PORT], or RESOURCE@ADDRESS[:PORT] for a subnet");
            let default_port = if scheme == "https" { 443 } else { 80 };
            let port_of =
                |p: &str| p.parse::<u16>().ok().filter(|n| *n > 0).ok_or(format!("{p} is not a port (1-65535)"));
            let (name, rest) = match text.split_once('@') {
                Some((n, r)) => (n, Some(r)),
                None => (text, None),
            };
            let (name, address, port) = match rest {
                None => match name.rsplit_once(':') {
                    Some((n, p)) => (n, None, port_of(p)?),
                    None => (name, None, default_port),
                },
                Some(r) => {
                    let (addr, port) = if let Some(v6) = r.strip_prefix('[') {
                        let (a, after) = v6.split_once(']').ok_or_else(usage)?;
                        match after {
                            "" => (a, default_port),
                            p => (a, port_of(p.strip_prefix(':').ok_or_else(usage)?)?),
                        }
                    } else {
                        match r.rsplit_once(':') {
                            Some((a, p)) => (a, port_of(p)?),
                            None => (r, default_port),
                        }
                    };
                    let ip: IpAddr = addr.parse().map_err(|_| format!("{addr} is not an IP address"))?;
                    (name, Some(ip), port)
                }
            };
            if name.is_empty() || name.chars().any(char::is_whitespace) {
                return Err(usage());
            }
            Ok(Self { name: name.to_string(), address, port })
        };
        why().map_err(|rule| ValidationError::new("target", rule))
    }
}

/// Whether `ip` lies in `cidr` (`10.1.0.0/16` as NetBird answers a subnet resource).
pub fn in_subnet(cidr: &str, ip: IpAddr) -> bool {
    let Some((net, bits)) = cidr.split_once('/') else { return false };
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else { return false };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(n) & mask == u32::from(i) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(i)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(n) & mask == u128::from(i) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, address: Option<&str>, port: u16) -> TargetSpec {
        TargetSpec { name: name.into(), address: address.map(|a| a.parse().unwrap()), port }
    }

    #[test]
    fn a_target_names_a_device_or_resource_and_a_subnet_its_address() {
        assert_eq!(TargetSpec::parse("nas:8080", "http").unwrap(), spec("nas", None, 8080));
        assert_eq!(TargetSpec::parse("nas", "http").unwrap(), spec("nas", None, 80));
        assert_eq!(TargetSpec::parse("nas", "https").unwrap(), spec("nas", None, 443));
        assert_eq!(TargetSpec::parse("lan@10.1.2.3:8080", "http").unwrap(), spec("lan", Some("10.1.2.3"), 8080));
        assert_eq!(TargetSpec::parse("lan@10.1.2.3", "http").unwrap(), spec("lan", Some("10.1.2.3"), 80));
        assert_eq!(TargetSpec::parse("lan@[fd00::5]:8443", "http").unwrap(), spec("lan", Some("fd00::5"), 8443));
        assert_eq!(TargetSpec::parse("lan@[fd00::5]", "https").unwrap(), spec("lan", Some("fd00::5"), 443));
        for bad in ["nas:0", "nas:http", ":80", "lan@10.1.2:80", "lan@nas:80", "lan@[fd00::5", "@10.0.0.1"] {
            let e = TargetSpec::parse(bad, "http").unwrap_err();
            assert_eq!(e.field, "target", "{bad}");
        }
    }

    #[test]
    fn an_address_is_in_a_subnet_by_its_prefix() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(in_subnet("10.1.0.0/16", ip("10.1.200.3")));
        assert!(!in_subnet("10.1.0.0/16", ip("10.2.0.1")));
        assert!(in_subnet("0.0.0.0/0", ip("192.0.2.1")));
        assert!(in_subnet("fd00::/64", ip("fd00::5")));
        assert!(!in_subnet("fd00::/64", ip("fd00:0:0:1::5")));
        assert!(!in_subnet("10.1.0.0/16", ip("fd00::5")), "families differ");
        assert!(!in_subnet("db.example.com", ip("10.1.0.1")));
    }
}
