//! The typed subset of docker-compose files nbmsp renders and applies. The rendered
//! `docker-compose.yml` is the single source of truth: the engine parses it with these types
//! (unknown keys are errors, so nothing in a template is silently ignored) and applies it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A compose file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ComposeFile {
    /// File format version (docker-compose v1 needs it).
    #[serde(default)]
    pub version: Option<String>,
    /// Services by name, in name order.
    pub services: BTreeMap<String, Service>,
    /// Networks by compose-local key.
    #[serde(default)]
    pub networks: BTreeMap<String, Network>,
}

/// One service (one container, since nbmsp never scales).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// Image reference.
    pub image: String,
    /// Container name.
    pub container_name: String,
    /// Arguments after the image's entrypoint.
    #[serde(default)]
    pub command: Option<Vec<String>>,
    /// Environment variables.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// Env files (absolute paths), read in order; `environment` wins.
    #[serde(default)]
    pub env_file: Vec<String>,
    /// Bind mounts `host:container[:ro]`.
    #[serde(default)]
    pub volumes: Vec<String>,
    /// Published ports `host:container[/udp]`.
    #[serde(default)]
    pub ports: Vec<String>,
    /// Compose-local network keys.
    #[serde(default)]
    pub networks: Vec<String>,
    /// Restart policy (`no`, `always`, `unless-stopped`, `on-failure`).
    #[serde(default)]
    pub restart: Option<String>,
    /// Labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Container health check.
    #[serde(default)]
    pub healthcheck: Option<Healthcheck>,
}

/// A compose health check.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Healthcheck {
    /// `["CMD", ...]` or `["CMD-SHELL", "..."]`.
    pub test: Vec<String>,
    /// e.g. `10s`.
    #[serde(default)]
    pub interval: Option<String>,
    /// e.g. `5s`.
    #[serde(default)]
    pub timeout: Option<String>,
    /// Failures before unhealthy.
    #[serde(default)]
    pub retries: Option<u32>,
}

/// A compose file nbmsp cannot use as it is: what is wrong, naming the service or key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ComposeError(pub String);

impl From<ComposeError> for String {
    fn from(e: ComposeError) -> String {
        e.0
    }
}

/// Parses a compose duration such as `10s`, `1m30s`, `500ms` into nanoseconds.
pub fn parse_duration_ns(s: &str) -> Result<i64, ComposeError> {
    let why = || -> Result<i64, String> {
        let mut total: i64 = 0;
        let mut num = String::new();
        let mut chars = s.trim().chars().peekable();
        if s.trim().is_empty() {
            return Err("empty duration".into());
        }
        while let Some(c) = chars.next() {
            if c.is_ascii_digit() {
                num.push(c);
                continue;
            }
            let unit = if c == 'm' && chars.peek() == Some(&'s') {
                chars.next();
                1_000_000
            } else {
                match c {
                    'h' => 3_600_000_000_000,
                    'm' => 60_000_000_000,
                    's' => 1_000_000_000,
                    _ => return Err(format!("duration {s:?}: unknown unit {c:?}")),
                }
            };
            let n: i64 = num.parse().map_err(|_| format!("duration {s:?}: a number must come before each unit"))?;
            total = total.saturating_add(n.saturating_mul(unit));
            num.clear();
        }
        if !num.is_empty() {
            return Err(format!("duration {s:?}: the last number has no unit"));
        }
        Ok(total)
    };
    why().map_err(ComposeError)
}

impl Healthcheck {
    /// Docker's form: (test, interval ns, timeout ns, retries), with compose's defaults (30 s, 30 s, 3).
    pub fn to_docker(&self) -> Result<(Vec<String>, i64, i64, i64), ComposeError> {
        let why = || -> Result<(Vec<String>, i64, i64, i64), String> {
            let d = |v: &Option<String>| v.as_deref().map_or(Ok(30_000_000_000), parse_duration_ns);
            if !matches!(self.test.first().map(String::as_str), Some("CMD" | "CMD-SHELL" | "NONE")) {
                return Err("healthcheck test must start with CMD, CMD-SHELL or NONE".into());
            }
            Ok((self.test.clone(), d(&self.interval)?, d(&self.timeout)?, i64::from(self.retries.unwrap_or(3))))
        };
        why().map_err(ComposeError)
    }
}

/// A network declaration; nbmsp uses only external ones (the shared proxy network).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// The network exists outside this file.
    #[serde(default)]
    pub external: bool,
    /// The Docker network's real name.
    pub name: String,
}

/// A published port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortMapping {
    /// Port on the host.
    pub host: u16,
    /// Port in the container.
    pub container: u16,
    /// UDP rather than TCP.
    pub udp: bool,
}

impl PortMapping {
    /// Parses `host:container[/udp|/tcp]`.
    pub fn parse(s: &str) -> Result<Self, ComposeError> {
        let why = || -> Result<Self, String> {
            let (ports, proto) = s.split_once('/').unwrap_or((s, "tcp"));
            let udp = match proto {
                "udp" => true,
                "tcp" => false,
                other => return Err(format!("port {s:?}: unknown protocol {other:?}")),
            };
            let (host, container) =
                ports.split_once(':').ok_or_else(|| format!("port {s:?}: expected host:container"))?;
            let p = |v: &str| v.parse::<u16>().map_err(|_| format!("port {s:?}: {v:?} is not a port number"));
            Ok(Self { host: p(host)?, container: p(container)?, udp })
        };
        why().map_err(ComposeError)
    }

    /// Docker's key for the container side, e.g. `3478/udp`.
    pub fn container_key(&self) -> String {
        format!("{}/{}", self.container, if self.udp { "udp" } else { "tcp" })
    }
}

/// A bind mount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Absolute host path.
    pub host: String,
    /// Path in the container.
    pub container: String,
    /// Mounted read-only.
    pub read_only: bool,
}

impl Mount {
    /// Parses `host:container[:ro|:rw]`; the host side must be absolute.
    pub fn parse(s: &str) -> Result<Self, ComposeError> {
        let why = || -> Result<Self, String> {
            let parts: Vec<&str> = s.split(':').collect();
            let (host, container, mode) = match parts.as_slice() {
                [h, c] => (*h, *c, "rw"),
                [h, c, m] => (*h, *c, *m),
                _ => return Err(format!("volume {s:?}: expected /host/path:/container/path[:ro]")),
            };
            if !host.starts_with('/') || !container.starts_with('/') {
                return Err(format!("volume {s:?}: both paths must be absolute"));
            }
            let read_only = match mode {
                "ro" => true,
                "rw" => false,
                other => return Err(format!("volume {s:?}: unknown mode {other:?}")),
            };
            Ok(Self { host: host.into(), container: container.into(), read_only })
        };
        why().map_err(ComposeError)
    }
}

impl ComposeFile {
    /// Parses and checks a rendered compose file: every port, mount and network reference must
    /// make sense before anything touches Docker.
    pub fn parse(text: &str) -> Result<Self, ComposeError> {
        let why = || -> Result<Self, String> {
            let mut file: ComposeFile = serde_saphyr::from_str(text).map_err(|e| format!("docker-compose.yml: {e}"))?;
            file.uninterpolate()?;
            for (name, svc) in &file.services {
                for p in &svc.ports {
                    PortMapping::parse(p).map_err(|e| format!("service {name}: {e}"))?;
                }
                for v in &svc.volumes {
                    Mount::parse(v).map_err(|e| format!("service {name}: {e}"))?;
                }
                if let Some(h) = &svc.healthcheck {
                    h.to_docker().map_err(|e| format!("service {name}: {e}"))?;
                }
                for n in &svc.networks {
                    if !file.networks.contains_key(n) {
                        return Err(format!("service {name}: network {n:?} is not declared under networks"));
                    }
                }
            }
            Ok(file)
        };
        why().map_err(ComposeError)
    }

    /// Reads every value as docker-compose does: `$$` is a literal `$`. Interpolation of
    /// variables (`$VAR`, `${VAR}`) is refused: nbmsp and docker-compose would read the file
    /// differently (the renderer writes every `$` of a value as `$$`).
    fn uninterpolate(&mut self) -> Result<(), String> {
        for (name, svc) in &mut self.services {
            let at = |e: ComposeError| format!("docker-compose.yml, service {name}: {e}");
            let one = |s: &mut String| literal(s).map(|v| *s = v).map_err(at);
            for s in [&mut svc.image, &mut svc.container_name].into_iter().chain(svc.restart.as_mut()) {
                one(s)?;
            }
            for s in svc.command.iter_mut().flatten().chain(svc.env_file.iter_mut()).chain(svc.volumes.iter_mut()) {
                one(s)?;
            }
            for s in svc.ports.iter_mut().chain(svc.environment.values_mut()).chain(svc.labels.values_mut()) {
                one(s)?;
            }
            for s in svc.healthcheck.iter_mut().flat_map(|h| h.test.iter_mut()) {
                one(s)?;
            }
        }
        for n in self.networks.values_mut() {
            n.name = literal(&n.name).map_err(|e| format!("docker-compose.yml, networks: {e}"))?;
        }
        Ok(())
    }

    /// The Docker network name behind compose-local key `key`.
    pub fn network_name(&self, key: &str) -> Option<&str> {
        self.networks.get(key).map(|n| n.name.as_str())
    }
}

/// `value` with compose's escape `$$` read as `$`; any other `$` is interpolation, refused.
pub fn literal(value: &str) -> Result<String, ComposeError> {
    let why = || -> Result<String, String> {
        if !value.contains('$') {
            return Ok(value.to_string());
        }
        let mut out = String::with_capacity(value.len());
        let mut chars = value.chars();
        while let Some(c) = chars.next() {
            if c != '$' {
                out.push(c);
            } else if chars.next() == Some('$') {
                out.push('$');
            } else {
                return Err(format!(
                    "{value:?} uses $-interpolation, which nbmsp does not apply; write $$ for a literal $"
                ));
            }
        }
        Ok(out)
    };
    why().map_err(ComposeError)
}

/// Parses a Docker env file: `KEY=VALUE` per line, `#` comments and blank lines skipped, the
/// value taken literally.
pub fn parse_env_file(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(|l| l.trim_start())
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| match l.split_once('=') {
            Some((k, v)) => (k.trim().to_string(), v.to_string()),
            None => (l.trim().to_string(), String::new()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_and_mounts() {
        assert_eq!(PortMapping::parse("3481:3478/udp"), Ok(PortMapping { host: 3481, container: 3478, udp: true }));
        assert_eq!(PortMapping::parse("80:80").map(|p| p.udp), Ok(false));
        assert!(PortMapping::parse("80").is_err());
        assert!(PortMapping::parse("x:80").is_err());
        assert!(Mount::parse("/a:/b:ro").unwrap().read_only);
        assert!(Mount::parse("rel:/b").is_err());
        assert!(Mount::parse("/a:/b:/c:ro").is_err());
    }

    #[test]
    fn unknown_keys_and_undeclared_networks_are_rejected() {
        let base = "services:\n  a:\n    image: \"x\"\n    container_name: \"c\"\n";
        assert!(ComposeFile::parse(base).is_ok());
        assert!(ComposeFile::parse(&format!("{base}    privileged: true\n")).is_err());
        assert!(ComposeFile::parse(&format!("{base}    networks: [\"n\"]\n")).is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ns("10s"), Ok(10_000_000_000));
        assert_eq!(parse_duration_ns("1m30s"), Ok(90_000_000_000));
        assert_eq!(parse_duration_ns("500ms"), Ok(500_000_000));
        assert!(parse_duration_ns("10").is_err());
        assert!(parse_duration_ns("10x").is_err());
        let h = Healthcheck {
            test: vec!["CMD".into(), "/standin".into()],
            interval: Some("5s".into()),
            timeout: None,
            retries: None,
        };
        assert_eq!(h.to_docker().unwrap().1, 5_000_000_000);
        assert_eq!(h.to_docker().unwrap().3, 3);
        assert!(Healthcheck { test: vec!["curl".into()], ..h }.to_docker().is_err());
    }

    #[test]
    fn env_file_values_are_literal() {
        let env = parse_env_file("# c\nA=1\n\nB=x=y \"q\"\nC\n");
        assert_eq!(env, [("A".into(), "1".into()), ("B".into(), "x=y \"q\"".into()), ("C".into(), String::new())]);
    }
}
