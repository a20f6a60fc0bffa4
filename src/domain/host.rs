//! Docker hosts: where a customer's containers run, how nbmsp reaches that engine, and which
//! host a new customer goes to. The local engine is the default host and needs no record.

use std::net::IpAddr;

use serde::Serialize;

use super::ValidationError;
use super::customer::Layout;

/// The name the local engine goes by in lists and in `--host`.
pub const LOCAL: &str = "local";

/// How nbmsp reaches a host's Docker engine: Docker's own remote access, no agent of ours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum DockerAddress {
    /// `ssh://user@host[:port]`: the system's OpenSSH runs `docker system dial-stdio` there, as the
    /// docker CLI does; keys and known hosts are the operator's own.
    Ssh {
        /// Login on the host.
        user: String,
        /// Host name or address.
        host: String,
        /// SSH port.
        port: u16,
    },
    /// `tcp://host:port` with TLS client certificates (the daemon's `--tlsverify`).
    Tcp {
        /// Host name or address.
        host: String,
        /// The daemon's TLS port (2376 by convention).
        port: u16,
    },
    /// `unix:///path`: an engine on this machine at another socket.
    Unix {
        /// Socket path.
        path: String,
    },
}

impl DockerAddress {
    /// Parses what an operator typed: `ssh://user@host[:port]`, `tcp://host:port` or
    /// `unix:///path`. Plain `tcp://` without TLS is checked by [`NewHost::validate`].
    pub fn parse(uri: &str) -> Result<Self, ValidationError> {
        let bad = |rule: &str| ValidationError::new("docker", rule.to_string());
        if uri.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(bad("must not contain spaces or control characters"));
        }
        let (host_port, default_port) = if let Some(rest) = uri.strip_prefix("ssh://") {
            let Some((user, hp)) = rest.split_once('@') else {
                return Err(bad("ssh:// needs a login: ssh://user@host"));
            };
            if user.is_empty() || !user.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
                return Err(bad("the ssh login may hold letters, digits, '.', '_' and '-'"));
            }
            let (host, port) = split_host_port(hp, Some(22)).map_err(|r| bad(&r))?;
            return Ok(Self::Ssh { user: user.to_string(), host, port });
        } else if let Some(rest) = uri.strip_prefix("tcp://") {
            (rest, None)
        } else if let Some(path) = uri.strip_prefix("unix://") {
            if !path.starts_with('/') {
                return Err(bad("unix:// needs an absolute socket path: unix:///run/docker.sock"));
            }
            return Ok(Self::Unix { path: path.to_string() });
        } else {
            return Err(bad("must start with ssh://, tcp:// or unix://"));
        };
        let (host, port) = split_host_port(host_port, default_port).map_err(|r| bad(&r))?;
        Ok(Self::Tcp { host, port })
    }

    /// The address as bollard takes it.
    pub fn uri(&self) -> String {
        match self {
            Self::Ssh { user, host, port: 22 } => format!("ssh://{user}@{host}"),
            Self::Ssh { user, host, port } => format!("ssh://{user}@{host}:{port}"),
            Self::Tcp { host, port } => format!("tcp://{host}:{port}"),
            Self::Unix { path } => format!("unix://{path}"),
        }
    }
}

fn split_host_port(s: &str, default_port: Option<u16>) -> Result<(String, u16), String> {
    let s = s.trim_end_matches('/');
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() => {
            let port = p.parse::<u16>().ok().filter(|p| *p > 0).ok_or(format!("'{p}' is not a port"))?;
            (h, port)
        }
        _ => (s, default_port.ok_or("tcp:// needs a port: tcp://host:2376")?),
    };
    if host.is_empty() || !host.chars().all(|c| c.is_ascii_alphanumeric() || ".-_[]:".contains(c)) {
        return Err("needs a host name or address".into());
    }
    Ok((host.to_string(), port))
}

/// The client certificate files for a `tcp://` engine (paths on this machine).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TlsFiles {
    /// The CA that signed the daemon's certificate.
    pub ca: String,
    /// nbmsp's client certificate.
    pub cert: String,
    /// Its key.
    pub key: String,
}

/// A Docker host other than the local engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Host {
    /// Row id.
    pub id: i64,
    /// Short name (`--host NAME`).
    pub name: String,
    /// How nbmsp reaches its engine.
    pub docker: DockerAddress,
    /// TLS files for `tcp://`.
    pub tls: Option<TlsFiles>,
    /// The SSH key for `ssh://` (else the operator's SSH configuration decides).
    pub ssh_key: Option<String>,
    /// The address customers' DNS points to and STUN is checked at.
    pub public_ip: IpAddr,
    /// Where customers' instance files live on that host (else the `data_dir` setting).
    pub data_dir: Option<String>,
    /// Being emptied: new customers are never placed here.
    pub draining: bool,
    /// Its own Nginx Proxy Manager (with `proxy = npm` customers here are published by it).
    pub npm: Option<HostNpm>,
}

/// A host's own Nginx Proxy Manager. Each host needs one: a proxy reaches the customer
/// containers by name on its engine's Docker network only, and the host's public IP is where
/// the customers' DNS points. What is not given here comes from the `npm.*` settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct HostNpm {
    /// Its API as that host sees it (reached through the host's SSH tunnel for `ssh://`), so the
    /// admin port need not be public: `http://127.0.0.1:81`.
    pub url: String,
    /// Its login, when not the `npm.identity` setting (the password: `npm.secret` or the host's own).
    pub identity: Option<String>,
    /// A wildcard certificate there to attach instead of requesting one per customer.
    pub certificate_id: Option<i64>,
    /// Where it serves HTTPS for the public-path check (`host:port`); else the host's public IP on 443.
    pub https_address: Option<String>,
}

impl HostNpm {
    /// Checks each field by the rule of the setting it stands in for (`npm.url`, ...), returning
    /// the values as they are kept.
    pub fn validate(&self) -> Result<Self, ValidationError> {
        use super::settings::normalise;
        let opt = |key: &str, v: &Option<String>| -> Result<Option<String>, ValidationError> {
            v.as_deref().filter(|v| !v.is_empty()).map(|v| normalise(key, v)).transpose()
        };
        let url = normalise("npm.url", &self.url)?;
        if url.is_empty() {
            return Err(ValidationError::new(
                "npm",
                "needs the NPM API's URL as the host sees it: http://127.0.0.1:81",
            ));
        }
        if self.certificate_id.is_some_and(|c| c <= 0) {
            return Err(ValidationError::new("npm_certificate", "must be an NPM certificate id (1 or more)"));
        }
        Ok(Self {
            url,
            identity: opt("npm.identity", &self.identity)?,
            certificate_id: self.certificate_id,
            https_address: opt("proxy.https_address", &self.https_address)?,
        })
    }
}

impl Host {
    /// Where this host's proxy serves HTTPS, for the public-path check.
    pub fn https_address(&self) -> String {
        match self.npm.as_ref().and_then(|n| n.https_address.clone()) {
            Some(a) => a,
            None if self.public_ip.is_ipv6() => format!("[{}]:443", self.public_ip),
            None => format!("{}:443", self.public_ip),
        }
    }
}

/// What `host add` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewHost {
    /// Short name.
    pub name: String,
    /// The engine's address as typed.
    pub docker: String,
    /// TLS files for `tcp://`.
    pub tls: Option<TlsFiles>,
    /// An SSH key for `ssh://`.
    pub ssh_key: Option<String>,
    /// Public address.
    pub public_ip: String,
    /// Instance files' root on that host, when not the `data_dir` setting.
    pub data_dir: Option<String>,
    /// Its own Nginx Proxy Manager.
    pub npm: Option<HostNpm>,
}

impl NewHost {
    /// Checks the record before anything connects: a name that can be typed, an address nbmsp
    /// can use, TLS for tcp (a plain Docker TCP socket gives root on the host to whoever reaches
    /// it), and a public IP.
    pub fn validate(&self) -> Result<(DockerAddress, IpAddr), ValidationError> {
        host_name(&self.name)?;
        let docker = DockerAddress::parse(&self.docker)?;
        match (&docker, &self.tls) {
            (DockerAddress::Tcp { .. }, None) => {
                return Err(ValidationError::new(
                    "docker",
                    "tcp:// needs --tls-ca, --tls-cert and --tls-key: a Docker TCP socket without TLS gives root on that host to anyone who reaches it",
                ));
            }
            (DockerAddress::Ssh { .. } | DockerAddress::Unix { .. }, Some(_)) => {
                return Err(ValidationError::new("docker", "TLS files are for tcp:// engines only"));
            }
            _ => {}
        }
        if let Some(npm) = &self.npm {
            npm.validate()?;
        }
        if self.ssh_key.is_some() && !matches!(docker, DockerAddress::Ssh { .. }) {
            return Err(ValidationError::new("ssh_key", "an SSH key is for ssh:// engines only"));
        }
        if let Some(d) = &self.data_dir
            && (!d.starts_with('/') || d.chars().any(char::is_control) || d.split('/').any(|p| p == ".."))
        {
            return Err(ValidationError::new("data_dir", "must be an absolute path without '..'"));
        }
        let public_ip = self
            .public_ip
            .trim()
            .parse::<IpAddr>()
            .map_err(|_| ValidationError::new("public_ip", "must be an IPv4 or IPv6 address"))?;
        Ok((docker, public_ip))
    }
}

/// Host names: lowercase letters, digits and '-', 1 to 32 characters, not `local`.
pub fn host_name(value: &str) -> Result<(), ValidationError> {
    let ok = !value.is_empty()
        && value.len() <= 32
        && value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !value.starts_with('-');
    if !ok {
        return Err(ValidationError::new("name", "1-32 lowercase letters, digits or '-', not starting with '-'"));
    }
    if value == LOCAL {
        return Err(ValidationError::new("name", "'local' is the name of this machine's own engine"));
    }
    Ok(())
}

/// Memory a customer's stack takes at rest, by layout, for placement (measured on NetBird 0.5x
/// images: the four-container layout about 600 MB, the combined server about 350 MB).
pub fn stack_memory_mb(layout: Layout) -> u64 {
    match layout {
        Layout::Combined => 350,
        _ => 600,
    }
}

/// One host as placement sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Room {
    /// `None` for the local engine.
    pub host_id: Option<i64>,
    /// Its name.
    pub name: String,
    /// Draining hosts get nothing new.
    pub draining: bool,
    /// Whether its engine answered just now.
    pub reachable: bool,
    /// Customers placed there.
    pub customers: usize,
    /// UDP ports of the range no customer there holds.
    pub udp_free: usize,
    /// The engine's memory, when it answered.
    pub memory_mb: Option<u64>,
    /// Memory its customers' stacks take (by layout).
    pub committed_mb: u64,
    /// Why it takes no customers whatever its room (no NPM of its own while `proxy = npm`, a
    /// tcp:// host nbmsp cannot place files on); `None` when it can.
    pub unusable: Option<String>,
}

impl Room {
    /// Memory left after the stacks already placed.
    pub fn headroom_mb(&self) -> Option<u64> {
        self.memory_mb.map(|m| m.saturating_sub(self.committed_mb))
    }

    /// Why nothing new may go here, if so.
    pub fn refusal(&self, need_mb: u64) -> Option<String> {
        if self.draining {
            return Some("draining".into());
        }
        if !self.reachable {
            return Some("unreachable".into());
        }
        if let Some(why) = &self.unusable {
            return Some(why.clone());
        }
        if self.udp_free == 0 {
            return Some("no free UDP port".into());
        }
        match self.headroom_mb() {
            Some(h) if h < need_mb => Some(format!("{h} MB free, a stack needs {need_mb} MB")),
            _ => None,
        }
    }
}

/// Why no host could take a new customer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no host has room for a new customer: {0}")]
pub struct NoRoom(pub String);

/// The host a new customer of `need_mb` goes to: of those with room, the one with the most
/// memory left (then the fewest customers, then this machine, then the name, so the choice is
/// stable).
pub fn place(rooms: &[Room], need_mb: u64) -> Result<&Room, NoRoom> {
    rooms
        .iter()
        .filter(|r| r.refusal(need_mb).is_none())
        .max_by(|a, b| {
            a.headroom_mb()
                .unwrap_or(0)
                .cmp(&b.headroom_mb().unwrap_or(0))
                .then(b.customers.cmp(&a.customers))
                // This machine on a tie: nothing between nbmsp and its engine.
                .then(a.host_id.is_none().cmp(&b.host_id.is_none()))
                .then(b.name.cmp(&a.name))
        })
        .ok_or_else(|| {
            NoRoom(
                rooms
                    .iter()
                    .map(|r| format!("{} ({})", r.name, r.refusal(need_mb).unwrap_or_default()))
                    .collect::<Vec<_>>()
                    .join(", "),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(name: &str, memory_mb: u64, committed_mb: u64, customers: usize) -> Room {
        Room {
            host_id: Some(1),
            name: name.into(),
            draining: false,
            reachable: true,
            customers,
            udp_free: 10,
            memory_mb: Some(memory_mb),
            committed_mb,
            unusable: None,
        }
    }

    #[test]
    fn addresses_parse_and_print_back() {
        for (typed, uri) in [
            ("ssh://root@10.0.0.2", "ssh://root@10.0.0.2"),
            ("ssh://ops@host-b.example:2222", "ssh://ops@host-b.example:2222"),
            ("tcp://10.0.0.3:2376", "tcp://10.0.0.3:2376"),
            ("unix:///run/other.sock", "unix:///run/other.sock"),
        ] {
            assert_eq!(DockerAddress::parse(typed).unwrap().uri(), uri);
        }
        for bad in [
            "ssh://10.0.0.2",
            "tcp://10.0.0.3",
            "http://x:1",
            "ssh://a b@x",
            "unix://rel",
            "tcp://:2376",
            "ssh://r@x:0",
        ] {
            assert!(DockerAddress::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tcp_without_tls_is_refused_and_says_why() {
        let h = NewHost {
            name: "b".into(),
            docker: "tcp://10.0.0.3:2376".into(),
            tls: None,
            ssh_key: None,
            public_ip: "203.0.113.7".into(),
            data_dir: None,
            npm: None,
        };
        assert!(h.validate().unwrap_err().to_string().contains("root"));
        assert!(NewHost { name: "local".into(), docker: "ssh://r@x".into(), ..h.clone() }.validate().is_err());
        assert!(NewHost { docker: "ssh://r@x".into(), public_ip: "x".into(), ..h }.validate().is_err());
    }

    #[test]
    fn a_hosts_npm_follows_the_settings_rules() {
        let npm = HostNpm { url: "http://127.0.0.1:81/".into(), ..Default::default() };
        assert_eq!(npm.validate().unwrap().url, "http://127.0.0.1:81");
        assert!(HostNpm { url: "ftp://x".into(), ..Default::default() }.validate().is_err());
        assert!(HostNpm::default().validate().unwrap_err().to_string().contains("127.0.0.1:81"));
        assert!(HostNpm { certificate_id: Some(0), ..npm.clone() }.validate().is_err());
        let ok = HostNpm { identity: Some(String::new()), https_address: Some("203.0.113.7:8443".into()), ..npm };
        let kept = ok.validate().unwrap();
        assert_eq!((kept.identity, kept.https_address.as_deref()), (None, Some("203.0.113.7:8443")));
    }

    #[test]
    fn placement_takes_the_most_headroom_and_skips_hosts_without_room() {
        let a = room("a", 8000, 6000, 10);
        let b = room("b", 8000, 1200, 2);
        let mut drained = room("c", 64000, 0, 0);
        drained.draining = true;
        let mut down = room("d", 64000, 0, 0);
        down.reachable = false;
        let mut no_ports = room("e", 64000, 0, 0);
        no_ports.udp_free = 0;
        let mut no_proxy = room("g", 64000, 0, 0);
        no_proxy.unusable = Some("no NPM of its own".into());
        let rooms = [a.clone(), b, drained, down, no_ports, no_proxy];
        assert_eq!(place(&rooms, 600).unwrap().name, "b");
        let full = room("f", 1000, 800, 1);
        let err = place(&[full, rooms[2].clone()], 600).unwrap_err().to_string();
        assert!(err.contains("f (200 MB free") && err.contains("c (draining)"), "{err}");
    }

    #[test]
    fn equal_headroom_goes_to_fewer_customers() {
        let rooms = [room("a", 8000, 1000, 5), room("b", 8000, 1000, 3)];
        assert_eq!(place(&rooms, 600).unwrap().name, "b");
    }
}
