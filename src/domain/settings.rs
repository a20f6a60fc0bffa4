//! The registry of system settings: every key, its kind, default and rule.
//!
//! Settings live in the database and are edited in the app or with `nbmsp settings set`; this
//! table is the one place that says what a valid value is, for both.

use std::collections::BTreeMap;

use super::customer::Layout;
use super::validate::{self, ValidationError};
use super::word_enum;

word_enum! {
    /// When deploys pull images.
    pub enum ImagePull {
        /// Only images not present on the engine.
        Missing = "missing",
        /// Every time: a tag that was re-pointed upstream arrives.
        Always = "always",
    }
}

word_enum! {
    /// How customers' domains are published.
    pub enum ProxyKind {
        /// Nginx Proxy Manager over its REST API.
        Npm = "npm",
        /// No proxy calls; nbmsp prints the nginx snippet for a proxy the user runs.
        None = "none",
    }
}

/// What kind of value a setting holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingKind {
    /// A domain name.
    Domain,
    /// An email address.
    Email,
    /// An absolute filesystem path.
    Path,
    /// A Docker network name.
    NetworkName,
    /// An integer in a range.
    Int {
        /// Smallest accepted.
        min: i64,
        /// Largest accepted.
        max: i64,
    },
    /// An integer in a range, or empty for "not set".
    OptionalInt {
        /// Smallest accepted.
        min: i64,
        /// Largest accepted.
        max: i64,
    },
    /// One word out of a fixed list.
    Choice(&'static [&'static str]),
    /// A dotted version such as 0.70.0, or empty.
    Version,
    /// An http(s) URL, or empty.
    Url,
    /// Free text on one line, possibly empty.
    Text,
    /// A Docker image reference.
    Image,
    /// `host:port` (a name or an address; IPv6 in brackets), or empty.
    HostPort,
    /// A secret: stored encrypted, never shown.
    Secret,
    /// A percentage above 0 and at most 100 with up to three decimals (an uptime promise).
    Percent,
}

/// One setting's definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettingDef {
    /// The key as typed by users (`npm.url`).
    pub key: &'static str,
    /// What it holds.
    pub kind: SettingKind,
    /// Value written at init; empty means "not set". `data_dir` is resolved against the data home.
    pub default: &'static str,
    /// One line for help texts and the settings editor.
    pub help: &'static str,
    /// False when the setting may be left empty ("not set").
    pub required: bool,
}

impl SettingDef {
    /// True for settings stored encrypted.
    pub fn is_secret(&self) -> bool {
        self.kind == SettingKind::Secret
    }
}

#[path = "settings_registry.rs"]
mod registry;
pub use registry::SETTINGS;

/// The definition of `key`, or an error listing the valid keys.
pub fn def(key: &str) -> Result<&'static SettingDef, ValidationError> {
    SETTINGS.iter().find(|d| d.key == key).ok_or_else(|| {
        let keys: Vec<&str> = SETTINGS.iter().map(|d| d.key).collect();
        ValidationError::new(key, format!("unknown setting; valid keys: {}", keys.join(", ")))
    })
}

/// Checks `value` for `key` and returns it normalised (trimmed; domains lowercased).
/// Empty is allowed where a setting may be unset.
pub fn normalise(key: &str, value: &str) -> Result<String, ValidationError> {
    let d = def(key)?;
    let v = if d.is_secret() { value.to_string() } else { value.trim().to_string() };
    let err = |rule: String| Err(ValidationError::new(key, rule));
    if v.is_empty() {
        return if d.required { err("must not be empty".into()) } else { Ok(v) };
    }
    match d.kind {
        SettingKind::Domain => {
            let v = v.to_ascii_lowercase();
            validate::base_domain(&v).map_err(|e| ValidationError::new(key, e.rule))?;
            Ok(v)
        }
        SettingKind::Email => validate::email(&v).map(|()| v).map_err(|e| ValidationError::new(key, e.rule)),
        SettingKind::Path => {
            if !v.starts_with('/') {
                return err("must be an absolute path".into());
            }
            validate::line(key, &v, true, 4096).map(|()| v)
        }
        SettingKind::NetworkName => {
            let ok = v.len() <= 64
                && v.starts_with(|c: char| c.is_ascii_alphanumeric())
                && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
            if ok {
                Ok(v)
            } else {
                err("must be a Docker network name: letters, digits, '_', '.', '-' (64 at most)".into())
            }
        }
        SettingKind::Int { min, max } | SettingKind::OptionalInt { min, max } => match v.parse::<i64>() {
            Ok(n) => validate::int_in(key, n, min..=max).map(|()| n.to_string()),
            Err(_) => err(format!("must be a whole number between {min} and {max}")),
        },
        SettingKind::Choice(words) => {
            if words.contains(&v.as_str()) {
                Ok(v)
            } else {
                err(format!("must be one of: {}", words.join(", ")))
            }
        }
        SettingKind::Url => {
            let rest = v.strip_prefix("http://").or_else(|| v.strip_prefix("https://"));
            match rest {
                Some(r)
                    if !r.is_empty()
                        && !r.contains(char::is_whitespace)
                        && validate::line(key, &v, true, 2048).is_ok() =>
                {
                    Ok(v.trim_end_matches('/').to_string())
                }
                _ => err("must be an http:// or https:// URL such as http://127.0.0.1:81".into()),
            }
        }
        SettingKind::Text => validate::line(key, &v, false, 1000).map(|()| v),
        SettingKind::HostPort => {
            let ok = v.rsplit_once(':').is_some_and(|(host, port)| {
                let host = host.trim_start_matches('[').trim_end_matches(']');
                !host.is_empty()
                    && host.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:".contains(&b))
                    && port.parse::<u16>().is_ok_and(|p| p > 0)
            });
            if ok { Ok(v) } else { err("must be host:port, e.g. 203.0.113.10:443".into()) }
        }
        SettingKind::Image => {
            let ok = v.len() <= 255
                && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-/:@".contains(&b))
                && v.starts_with(|c: char| c.is_ascii_alphanumeric());
            if ok { Ok(v) } else { err("must be a Docker image reference such as netbirdio/dashboard:v2.9.0".into()) }
        }
        SettingKind::Secret => validate::line(key, &v, false, 4096).map(|()| v),
        SettingKind::Percent => v.parse::<crate::domain::sla::Target>().map(|t| t.to_string()).or_else(err),
        SettingKind::Version => {
            let v = v.trim_start_matches('v').to_string();
            let parts: Vec<&str> = v.split('.').collect();
            let ok = parts.len() <= 4 && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
            if ok { Ok(v) } else { err("must be a version such as 0.70.0".into()) }
        }
    }
}

/// The system settings as typed values (secrets excluded: they come from the vault).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// See [`SETTINGS`].
    pub base_domain: String,
    /// See [`SETTINGS`].
    pub admin_email: String,
    /// See [`SETTINGS`].
    pub data_dir: String,
    /// See [`SETTINGS`].
    pub docker_network: String,
    /// See [`SETTINGS`].
    pub relay_base_port: u16,
    /// See [`SETTINGS`].
    pub relay_port_count: u16,
    /// See [`SETTINGS`].
    pub layout: Layout,
    /// See [`SETTINGS`].
    pub proxy: ProxyKind,
    /// See [`SETTINGS`].
    pub npm_url: String,
    /// See [`SETTINGS`].
    pub npm_identity: String,
    /// See [`SETTINGS`].
    pub npm_certificate_id: Option<i64>,
    /// See [`SETTINGS`].
    pub npm_timeout_s: u64,
    /// Where the proxy serves HTTPS, for the public-path check (`None`: not known, no check).
    pub https_address: Option<String>,
    /// Images by service name (`server`, `dashboard`, `management`, `signal`, `relay`).
    pub images: BTreeMap<String, String>,
    /// See [`SETTINGS`].
    pub images_pull: ImagePull,
    /// See [`SETTINGS`]: days an owner access token is valid.
    pub pat_days: u32,
    /// See [`SETTINGS`]: days before expiry the token is renewed.
    pub pat_renew_days: u32,
    /// See [`SETTINGS`]: devices on an older NetBird client are counted as outdated (`None`: not checked).
    pub min_client_version: Option<String>,
    /// See [`SETTINGS`]: NetBird's geolocation (off: `NB_DISABLE_GEOLOCATION`).
    pub geolocation: bool,
    /// See [`SETTINGS`].
    pub health_timeout_s: u64,
    /// See [`SETTINGS`].
    pub refresh_interval_s: u64,
    /// Where backups go (empty: `backups/` in the data home).
    pub backup_dir: String,
    /// `images.helper`: busybox for file work and checks on tcp:// hosts.
    pub helper_image: String,
    /// `hooks.dns`: run after a move to another host (empty: none).
    pub dns_hook: String,
    /// Not a setting anyone edits: fixed at `init` (see `Store::name_prefix`), carried here
    /// because every container name is derived from it.
    pub name_prefix: String,
    /// Hours between scheduled backups (`None`: none).
    pub backup_schedule_h: Option<u64>,
    /// Scheduled backups kept per customer.
    pub backup_keep: usize,
    /// The monitor's intervals and limits.
    pub monitor: MonitorSettings,
    /// Where and how alerts go (the Gotify token comes from the vault).
    pub alerts: AlertSettings,
    /// The edge in front of NPM (`edge.*`, `images.edge`).
    pub edge: EdgeSettings,
    /// Service levels and reports (`sla.*`, `history.*`, `reports.*`).
    pub sla: SlaSettings,
}

/// The `sla.*`, `history.*` and `reports.*` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaSettings {
    /// The uptime promised to customers without their own.
    pub target: crate::domain::sla::Target,
    /// Whether maintenance counts against uptime (`sla.maintenance = counted`).
    pub maintenance_counts: bool,
    /// Months of history kept.
    pub retention_months: u32,
    /// Where month-end reports go (empty: `reports/` in the data home).
    pub reports_dir: String,
}

/// The `edge.*` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeSettings {
    /// Where the edge takes visitors on each host (`None`: no edge is run).
    pub listen: Option<String>,
    /// Where other names go (`None`: closed).
    pub fallback: Option<String>,
    /// DNS server for container names.
    pub resolver: String,
    /// The nginx image.
    pub image: String,
}

/// The `monitor.*` settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonitorSettings {
    /// See [`SETTINGS`].
    pub containers_s: u64,
    /// See [`SETTINGS`].
    pub health_s: u64,
    /// See [`SETTINGS`].
    pub stats_s: u64,
    /// See [`SETTINGS`].
    pub devices_s: u64,
    /// See [`SETTINGS`].
    pub concurrency: usize,
}

/// The `alerts.*` settings (without the secret token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertSettings {
    /// See [`SETTINGS`].
    pub webhook_url: String,
    /// See [`SETTINGS`].
    pub gotify_url: String,
    /// See [`SETTINGS`].
    pub per_hour: u32,
    /// See [`SETTINGS`].
    pub cert_pending_min: i64,
    /// See [`SETTINGS`].
    pub disk_percent: u8,
}

/// The proxy's HTTPS address: the setting, or with NPM the host of its admin URL on 443.
fn https_address(setting: &str, proxy: &str, npm_url: &str) -> Option<String> {
    if !setting.is_empty() {
        return Some(setting.to_string());
    }
    let host = npm_url.split("://").nth(1)?.split('/').next()?;
    let host = match host.rsplit_once(':') {
        Some((h, port)) if port.parse::<u16>().is_ok() => h,
        _ => host,
    };
    (proxy == "npm" && !host.is_empty()).then(|| format!("{host}:443"))
}

/// Linux's ephemeral ports (`net.ipv4.ip_local_port_range`'s default): short-lived sockets take
/// them, Docker's embedded DNS inside each container among them.
pub const EPHEMERAL_PORTS: std::ops::RangeInclusive<u32> = 32_768..=60_999;

impl Settings {
    /// A setting that is allowed but invites trouble, in words (`None`: nothing to say): customer
    /// UDP ports in the ephemeral range now and then meet Docker's embedded DNS inside the
    /// container, and NetBird's STUN bind fails at start.
    pub fn caution(&self) -> Option<String> {
        let first = u32::from(self.relay_base_port);
        let last = first + u32::from(self.relay_port_count).saturating_sub(1);
        let meets = first <= *EPHEMERAL_PORTS.end() && last >= *EPHEMERAL_PORTS.start();
        meets.then(|| {
            format!(
                "customer UDP ports {first}-{last} reach into {}-{}, the ports Linux hands to short-lived sockets \
                 (Docker's embedded DNS in each container among them): a customer port taken there makes its \
                 NetBird fail to start now and then; a range below {} avoids it",
                EPHEMERAL_PORTS.start(),
                EPHEMERAL_PORTS.end(),
                EPHEMERAL_PORTS.start()
            )
        })
    }

    /// Builds typed settings from stored key/value pairs; a key missing from `map` takes its
    /// default, a stored value that breaks its rule is an error naming the key.
    pub fn from_map(map: &BTreeMap<String, String>) -> Result<Self, ValidationError> {
        let get = |key: &str| -> Result<String, ValidationError> {
            let d = def(key)?;
            let raw = map.get(key).map_or(d.default, String::as_str);
            if raw.is_empty() { Ok(String::new()) } else { normalise(key, raw) }
        };
        let int = |key: &str| -> Result<i64, ValidationError> {
            get(key)?.parse::<i64>().map_err(|_| ValidationError::new(key, "must be a whole number"))
        };
        let base = int("relay_base_port")?;
        let count = int("relay_port_count")?;
        validate::port_range(base, count)?;
        let images = ["server", "dashboard", "management", "signal", "relay", "proxy"]
            .into_iter()
            .map(|svc| Ok((svc.to_string(), get(&format!("images.{svc}"))?)))
            .collect::<Result<_, ValidationError>>()?;
        let cert = get("npm.certificate_id")?;
        Ok(Self {
            base_domain: get("base_domain")?,
            admin_email: get("admin_email")?,
            data_dir: get("data_dir")?,
            docker_network: get("docker_network")?,
            // port_range() above guarantees both fit in u16.
            relay_base_port: u16::try_from(base)
                .map_err(|_| ValidationError::new("relay_base_port", "must be at most 65535"))?,
            relay_port_count: u16::try_from(count)
                .map_err(|_| ValidationError::new("relay_port_count", "must be at most 64512"))?,
            layout: get("layout")?.parse().map_err(|e: String| ValidationError::new("layout", e))?,
            proxy: get("proxy")?.parse().map_err(|e: String| ValidationError::new("proxy", e))?,
            npm_url: get("npm.url")?,
            npm_identity: get("npm.identity")?,
            npm_certificate_id: if cert.is_empty() { None } else { cert.parse().ok() },
            npm_timeout_s: u64::try_from(int("npm.timeout_s")?).unwrap_or(30),
            https_address: https_address(&get("proxy.https_address")?, &get("proxy")?, &get("npm.url")?),
            images,
            images_pull: get("images.pull")?.parse().map_err(|e: String| ValidationError::new("images.pull", e))?,
            pat_days: u32::try_from(int("netbird.pat_days")?).unwrap_or(365),
            pat_renew_days: u32::try_from(int("netbird.pat_renew_days")?).unwrap_or(30),
            min_client_version: Some(get("netbird.min_client_version")?).filter(|v| !v.is_empty()),
            geolocation: get("netbird.geolocation")? != "off",
            health_timeout_s: u64::try_from(int("health_timeout_s")?).unwrap_or(60),
            refresh_interval_s: u64::try_from(int("refresh_interval_s")?).unwrap_or(10),
            backup_dir: get("backup.dir")?,
            helper_image: get("images.helper")?,
            dns_hook: get("hooks.dns")?,
            name_prefix: String::new(),
            backup_schedule_h: get("backup.schedule_h")?.parse().ok(),
            backup_keep: usize::try_from(int("backup.keep")?).unwrap_or(7),
            edge: EdgeSettings {
                listen: Some(get("edge.listen")?).filter(|v| !v.is_empty()),
                fallback: Some(get("edge.fallback")?).filter(|v| !v.is_empty()),
                resolver: get("edge.resolver")?,
                image: get("images.edge")?,
            },
            sla: SlaSettings {
                target: get("sla.target")?.parse().map_err(|e: String| ValidationError::new("sla.target", e))?,
                maintenance_counts: get("sla.maintenance")? == "counted",
                retention_months: u32::try_from(int("history.retention_months")?).unwrap_or(13),
                reports_dir: get("reports.dir")?,
            },
            monitor: MonitorSettings {
                containers_s: u64::try_from(int("monitor.containers_s")?).unwrap_or(15),
                health_s: u64::try_from(int("monitor.health_s")?).unwrap_or(120),
                stats_s: u64::try_from(int("monitor.stats_s")?).unwrap_or(600),
                devices_s: u64::try_from(int("monitor.devices_s")?).unwrap_or(900),
                concurrency: usize::try_from(int("monitor.concurrency")?).unwrap_or(4),
            },
            alerts: AlertSettings {
                webhook_url: get("alerts.webhook_url")?,
                gotify_url: get("alerts.gotify_url")?,
                per_hour: u32::try_from(int("alerts.per_hour")?).unwrap_or(6),
                cert_pending_min: int("alerts.cert_pending_min")?,
                disk_percent: u8::try_from(int("alerts.disk_percent")?).unwrap_or(90),
            },
        })
    }
}

/// One setting as shown to users: secrets only as `set`/`unset`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SettingView {
    /// The key.
    pub key: &'static str,
    /// The value, or `set`/`unset` for secrets.
    pub value: String,
    /// True for secrets.
    pub secret: bool,
    /// What it is for.
    pub help: &'static str,
}

#[cfg(test)]
#[path = "settings_tests.rs"]
mod tests;
