//! Rendering a customer's stack: the files a deploy writes, checked before anything runs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::Serialize;

use crate::domain::customer::{Customer, Layout};
use crate::domain::settings::Settings;
use crate::engine::stack::compose::{self, ComposeFile};
use crate::engine::{EngineError, stack::ports};
use crate::store::crypto;
use crate::store::vault::customer_scope;
use crate::store::{Store, Vault};

/// Label every nbmsp container carries.
pub const LABEL_MANAGED: &str = "nbmsp.managed";
/// Label with the id of the nbmsp installation that owns a container.
pub const LABEL_INSTALLATION: &str = "nbmsp.installation";
/// Label with the customer id.
pub const LABEL_CUSTOMER: &str = "nbmsp.customer";
/// Label with the customer's subdomain: with the id, it tells this customer's containers from
/// those of another customer that once had the same id (a database put back from an old backup).
pub const LABEL_SUBDOMAIN: &str = "nbmsp.customer.subdomain";

/// A rendering failed: a template is broken, or its output does not have the structure nbmsp
/// expects (which would also catch an injection the escaping missed).
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// minijinja failed.
    #[error("template {name}: {detail}")]
    Template {
        /// Template name.
        name: String,
        /// minijinja's message.
        detail: String,
    },
    /// The output does not parse or lost its structure.
    #[error("rendered {name} is not valid: {detail}")]
    Invalid {
        /// File name.
        name: String,
        /// What is wrong.
        detail: String,
    },
    /// Generating or storing the customer's secrets failed.
    #[error("customer secrets: {0}")]
    Secrets(String),
}

/// One generated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    /// File name inside the instance dir.
    pub name: &'static str,
    /// Content.
    pub content: String,
    /// Holds secrets: written 0600.
    pub secret: bool,
}

impl RenderedFile {
    /// The mode it is written with: private when it holds secrets.
    pub fn mode(&self) -> u32 {
        if self.secret { 0o600 } else { 0o644 }
    }
}

/// Everything a deploy writes and applies for one customer.
#[derive(Debug, Clone)]
pub struct RenderedStack {
    /// Files in the instance dir.
    pub files: Vec<RenderedFile>,
    /// The parsed compose file (from `files`).
    pub compose: ComposeFile,
    /// The customer's instance directory.
    pub instance_dir: PathBuf,
    /// Compose project name (`nbmsp-<prefix>`).
    pub project: String,
}

/// The generated secrets of one customer; created once, kept for the customer's lifetime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomerSecrets {
    /// Relay shared secret.
    pub auth_secret: String,
    /// Store encryption key (base64 of 32 bytes, with padding).
    pub store_encryption_key: String,
    /// Embedded IdP cookie key (base64 of 32 bytes).
    pub session_cookie_key: String,
}

const SECRET_NAMES: [&str; 3] = ["auth_secret", "store_encryption_key", "session_cookie_key"];

/// Loads the customer's secrets, generating and storing (encrypted) any that are missing. A new
/// store key would make existing data unreadable, so existing values are never replaced.
pub fn ensure_secrets(store: &Store, vault: &Vault, customer_id: i64) -> Result<CustomerSecrets, RenderError> {
    let scope = customer_scope(customer_id);
    let err = |e: crate::store::StoreError| RenderError::Secrets(e.to_string());
    let mut values = BTreeMap::new();
    for name in SECRET_NAMES {
        let v = match store.secret(vault, &scope, name).map_err(err)? {
            Some(v) => v.to_string(),
            None => {
                let bytes = crypto::random_bytes::<32>().map_err(|e| RenderError::Secrets(e.to_string()))?;
                let v = if name == "auth_secret" {
                    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
                } else {
                    base64::engine::general_purpose::STANDARD.encode(bytes)
                };
                store.put_secret(vault, &scope, name, &v).map_err(err)?;
                v
            }
        };
        values.insert(name, v);
    }
    let mut take = |k| values.remove(k).unwrap_or_default();
    Ok(CustomerSecrets {
        auth_secret: take("auth_secret"),
        store_encryption_key: take("store_encryption_key"),
        session_cookie_key: take("session_cookie_key"),
    })
}

/// What a stack is rendered from.
#[derive(Debug, Clone)]
pub struct RenderInput<'a> {
    /// The customer.
    pub customer: &'a Customer,
    /// System settings.
    pub settings: &'a Settings,
    /// The customer's public UDP port.
    pub udp_port: u16,
    /// This installation's id (label on every container).
    pub installation: &'a str,
    /// The customer's secrets.
    pub secrets: &'a CustomerSecrets,
    /// Template overrides (`$NBMSP_HOME/templates`), if any.
    pub template_dir: Option<PathBuf>,
    /// NetBird's Reverse Proxy, when the customer has it on and its token exists (a first
    /// deploy renders without it, creates the token once the server answers, then again).
    pub proxy: Option<ProxyInput>,
}

/// What the reverse proxy's files are rendered from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProxyInput {
    /// Its access token (`NB_PROXY_TOKEN`; upstream reads it from the environment only).
    pub token: String,
    /// Who may send it PROXY headers (`NB_PROXY_TRUSTED_PROXIES`); empty: anyone may.
    pub trusted: String,
}

/// Services of a layout, in apply order (servers before the dashboard that points at them).
pub fn services(layout: Layout) -> &'static [&'static str] {
    match layout {
        Layout::Combined => &["server", "dashboard"],
        Layout::Legacy => &["management", "signal", "relay", "dashboard"],
    }
}

/// Files of a layout: (file name, holds secrets).
pub fn files(layout: Layout) -> &'static [(&'static str, bool)] {
    match layout {
        Layout::Combined => &[("docker-compose.yml", false), ("config.yaml", true), ("dashboard.env", false)],
        Layout::Legacy => {
            &[("docker-compose.yml", false), ("management.json", true), ("relay.env", true), ("dashboard.env", false)]
        }
    }
}

/// The customer secret holding the reverse proxy's token, and the one holding its id (to revoke it).
pub const PROXY_TOKEN: &str = "proxy_token";
/// See [`PROXY_TOKEN`].
pub const PROXY_TOKEN_ID: &str = "proxy_token_id";

/// The reverse proxy's environment file (combined layout, when the proxy is on).
pub const PROXY_ENV: &str = "proxy.env";

/// Every file name either layout writes (what a redeploy snapshots: a layout switch replaces
/// one set with the other, turning the reverse proxy off drops its file).
pub fn all_file_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> =
        [Layout::Combined, Layout::Legacy].iter().flat_map(|l| files(*l).iter().map(|(n, _)| *n)).collect();
    names.push(PROXY_ENV);
    names.sort_unstable();
    names.dedup();
    names
}

/// Prefix of a customer's container names and compose project: its subdomain,
/// after the installation's name prefix (empty unless the installation was made beside another).
pub fn prefix(settings: &Settings, customer: &Customer) -> String {
    format!("{}{}", settings.name_prefix, customer.subdomain)
}

/// `netbird-<prefix>-<service>`.
pub fn container_name(prefix: &str, service: &str) -> String {
    format!("netbird-{prefix}-{service}")
}

/// The customer's instance directory under the `data_dir` setting.
pub fn instance_dir(settings: &Settings, customer: &Customer) -> PathBuf {
    // By subdomain alone: the data dir is the installation's own.
    Path::new(&settings.data_dir).join(&customer.subdomain)
}

/// Where the customer's NetBird keeps its store (peers, users, keys): the management
/// service's data dir, `data/server` or `data/management` by layout.
pub fn store_dir(settings: &Settings, customer: &Customer) -> PathBuf {
    instance_dir(settings, customer).join("data").join(customer.layout.management_service())
}

/// True when `dir` exists and holds at least one entry.
pub fn has_files(dir: &Path) -> bool {
    std::fs::read_dir(dir).map(|mut d| d.next().is_some()).unwrap_or(false)
}

#[derive(Serialize)]
struct Context<'a> {
    customer: CustomerContext<'a>,
    domain: String,
    layout: &'static str,
    prefix: String,
    project: String,
    udp_port: u16,
    network: &'a str,
    instance_dir: String,
    data_dir: String,
    images: &'a BTreeMap<String, String>,
    secrets: &'a CustomerSecrets,
    names: BTreeMap<&'static str, String>,
    labels: BTreeMap<&'static str, String>,
    proxy: Option<&'a ProxyInput>,
    geolocation: bool,
}

#[derive(Serialize)]
struct CustomerContext<'a> {
    id: i64,
    name: &'a str,
    company: &'a str,
    subdomain: &'a str,
    email: &'a str,
}

/// The labels nbmsp puts on every container of `customer` (compose's own are added at apply).
pub fn labels(installation: &str, customer: &Customer) -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        (LABEL_MANAGED, "true".to_string()),
        (LABEL_INSTALLATION, installation.to_string()),
        (LABEL_CUSTOMER, customer.id.to_string()),
        (LABEL_SUBDOMAIN, customer.subdomain.clone()),
        ("nbmsp.customer.name", customer.name.clone()),
    ])
}

/// Renders every file of the customer's layout and checks the results.
pub fn render(input: &RenderInput<'_>) -> Result<RenderedStack, RenderError> {
    let c = input.customer;
    let layout = c.layout;
    let instance_dir = instance_dir(input.settings, c);
    let instance = instance_dir.to_string_lossy().into_owned();
    // Compose's volume syntax splits on ':'; a path with one cannot be expressed safely.
    if instance.contains([':', ',']) {
        return Err(RenderError::Invalid {
            name: "data_dir".into(),
            detail: format!("{instance} contains ':' or ','; choose a data_dir without them"),
        });
    }
    let prefix = prefix(input.settings, c);
    let with_proxy = input.proxy.is_some() && c.reverse_proxy && layout == Layout::Combined;
    let mut names: BTreeMap<&'static str, String> =
        services(layout).iter().map(|s| (*s, container_name(&prefix, s))).collect();
    names.insert("proxy", container_name(&prefix, "proxy"));
    let labels = labels(input.installation, c);
    let ctx = Context {
        customer: CustomerContext {
            id: c.id,
            name: &c.name,
            company: &c.company,
            subdomain: &c.subdomain,
            email: &c.email,
        },
        domain: c.fqdn(&input.settings.base_domain),
        layout: layout.as_str(),
        project: format!("nbmsp-{prefix}"),
        prefix,
        udp_port: input.udp_port,
        network: &input.settings.docker_network,
        data_dir: format!("{instance}/data"),
        instance_dir: instance,
        images: &input.settings.images,
        secrets: input.secrets,
        names,
        labels,
        proxy: input.proxy.as_ref().filter(|_| with_proxy),
        geolocation: input.settings.geolocation,
    };
    let env = crate::engine::stack::templates::environment(input.template_dir.clone());
    let mut out = Vec::new();
    let proxy_file = [(PROXY_ENV, true)];
    let extra: &[(&str, bool)] = if with_proxy { &proxy_file } else { &[] };
    for (file, secret) in files(layout).iter().chain(extra) {
        let name = format!("{}/{file}", layout.as_str());
        let tpl_err = |e: minijinja::Error| RenderError::Template { name: name.clone(), detail: format!("{e:#}") };
        let content = env.get_template(&name).map_err(tpl_err)?.render(&ctx).map_err(tpl_err)?;
        out.push(RenderedFile { name: file, content, secret: *secret });
    }
    let compose = check(layout, with_proxy, &out, &ctx.labels)?;
    Ok(RenderedStack { files: out, compose, instance_dir, project: ctx.project })
}

/// Parses every rendered file and verifies the structure nbmsp relies on, so a broken override
/// or an escaping bug fails the render instead of the deploy.
fn check(
    layout: Layout,
    with_proxy: bool,
    files: &[RenderedFile],
    labels: &BTreeMap<&str, String>,
) -> Result<ComposeFile, RenderError> {
    let invalid = |name: &str, detail: String| RenderError::Invalid { name: name.to_string(), detail };
    let mut compose = None;
    for f in files {
        match f.name {
            "docker-compose.yml" => {
                let parsed = ComposeFile::parse(&f.content).map_err(|e| invalid(f.name, e.0))?;
                let got: BTreeSet<&str> = parsed.services.keys().map(String::as_str).collect();
                let mut want: BTreeSet<&str> = services(layout).iter().copied().collect();
                if with_proxy {
                    want.insert("proxy");
                }
                if got != want {
                    return Err(invalid(f.name, format!("services are {got:?}, expected {want:?}")));
                }
                for (svc, s) in &parsed.services {
                    for (k, v) in labels {
                        if s.labels.get(*k) != Some(v) {
                            return Err(invalid(f.name, format!("service {svc} lost label {k}")));
                        }
                    }
                }
                compose = Some(parsed);
            }
            "config.yaml" => {
                let v: serde_json::Value =
                    serde_saphyr::from_str(&f.content).map_err(|e| invalid(f.name, e.to_string()))?;
                let keys: Vec<&String> = v.as_object().map(|o| o.keys().collect()).unwrap_or_default();
                if keys != ["server"] {
                    return Err(invalid(f.name, format!("top-level keys are {keys:?}, expected [\"server\"]")));
                }
            }
            "management.json" => {
                let v: serde_json::Value =
                    serde_json::from_str(&f.content).map_err(|e| invalid(f.name, e.to_string()))?;
                if v.get("Stuns").and_then(|s| s.as_array()).is_none_or(Vec::is_empty) {
                    return Err(invalid(f.name, "Stuns is missing".into()));
                }
            }
            name if name.ends_with(".env") => {
                let vars = compose::parse_env_file(&f.content);
                if vars
                    .iter()
                    .any(|(k, _)| !k.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'))
                {
                    return Err(invalid(f.name, "contains a line that is not KEY=VALUE".into()));
                }
            }
            _ => {}
        }
    }
    compose.ok_or_else(|| invalid("docker-compose.yml", "missing".into()))
}

/// Renders `customer`'s files with `udp_port`; needs the store and the vault, not Docker.
pub fn render_customer(
    store: &Store,
    vault: &Vault,
    customer: &Customer,
    udp_port: u16,
    template_dir: Option<PathBuf>,
) -> Result<RenderedStack, EngineError> {
    // On a remote host the compose file names that host's paths.
    let (settings, _) = crate::engine::hosts::files::settings_for(store, customer)?;
    let secrets = ensure_secrets(store, vault, customer.id)?;
    let installation = store.installation_id()?;
    let proxy = match customer.reverse_proxy {
        true => store
            .secret(vault, &customer_scope(customer.id), PROXY_TOKEN)?
            .map(|t| -> Result<ProxyInput, EngineError> {
                Ok(ProxyInput {
                    token: t.to_string(),
                    trusted: crate::engine::npm::edge::trusted(store, customer.host_id)?,
                })
            })
            .transpose()?,
        false => None,
    };
    Ok(render(&RenderInput {
        customer,
        settings: &settings,
        udp_port,
        installation: &installation,
        secrets: &secrets,
        template_dir,
        proxy,
    })?)
}

/// The port a dry-run render should use: the allocated one, or the one a deploy would most
/// likely get, without reserving it.
pub fn preview_port(store: &Store, customer: &Customer) -> Result<u16, EngineError> {
    if let Some(p) = store.deployment(customer.id)?.and_then(|d| d.relay_udp_port) {
        return Ok(p);
    }
    let s = store.settings()?;
    crate::domain::ports::choose(
        s.relay_base_port,
        s.relay_port_count,
        &store.allocated_ports_on(customer.host_id)?,
        ports::udp_port_free,
    )
    .map_err(|e| EngineError::Store(crate::store::StoreError::Conflict(e.to_string())))
}

/// Container names nginx routes a customer's paths to, by role.
#[derive(Debug, Clone, Serialize)]
struct Upstreams {
    relay: String,
    signal_ws: String,
    signal_grpc: String,
    management: String,
    dashboard: String,
}

fn upstreams(prefix: &str, layout: Layout) -> Upstreams {
    let n = |s: &str| container_name(prefix, s);
    match layout {
        Layout::Combined => Upstreams {
            relay: n("server"),
            signal_ws: n("server"),
            signal_grpc: format!("{}:80", n("server")),
            management: n("server"),
            dashboard: n("dashboard"),
        },
        Layout::Legacy => Upstreams {
            relay: n("relay"),
            signal_ws: n("signal"),
            signal_grpc: format!("{}:10000", n("signal")),
            management: n("management"),
            dashboard: n("dashboard"),
        },
    }
}

/// Which nginx text to render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NginxKind {
    /// The `location` blocks and timeouts: NPM's `advanced_config`.
    Locations,
    /// A whole `server {}` block for a proxy the operator runs (`proxy = none`).
    Server,
}

/// Renders the nginx configuration that routes `domain` to the customer's containers.
pub fn render_nginx(
    kind: NginxKind,
    domain: &str,
    prefix: &str,
    layout: Layout,
    template_dir: Option<PathBuf>,
) -> Result<String, RenderError> {
    let name = match kind {
        NginxKind::Locations => "nginx/locations.conf",
        NginxKind::Server => "nginx/server.conf",
    };
    let env = crate::engine::stack::templates::environment(template_dir);
    let ctx = minijinja::context! { domain => domain, upstream => upstreams(prefix, layout) };
    let tpl_err = |e: minijinja::Error| RenderError::Template { name: name.to_string(), detail: format!("{e:#}") };
    env.get_template(name).map_err(tpl_err)?.render(ctx).map_err(tpl_err)
}

#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;
