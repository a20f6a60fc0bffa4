//! Rendering a customer's stack: the files a deploy writes, checked before anything runs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::Serialize;

use super::compose::{self, ComposeFile};
use super::{EngineError, ports};
use crate::domain::customer::{Customer, Layout};
use crate::domain::settings::Settings;
use crate::store::crypto;
use crate::store::vault::customer_scope;
use crate::store::{Store, Vault};

/// Label every nbmsp container carries.
pub const LABEL_MANAGED: &str = "nbmsp.managed";
/// Label with the id of the nbmsp installation that owns a container.
pub const LABEL_INSTALLATION: &str = "nbmsp.installation";
/// Label with the customer id.
pub const LABEL_CUSTOMER: &str = "nbmsp.customer";

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

/// Every file name either layout writes (what a redeploy snapshots: a layout switch replaces
/// one set with the other).
pub fn all_file_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> =
        [Layout::Combined, Layout::Legacy].iter().flat_map(|l| files(*l).iter().map(|(n, _)| *n)).collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// Prefix of a customer's container names, instance dir and compose project.
pub fn prefix(customer: &Customer) -> String {
    customer.subdomain.clone()
}

/// `netbird-<prefix>-<service>`.
pub fn container_name(prefix: &str, service: &str) -> String {
    format!("netbird-{prefix}-{service}")
}

/// The customer's instance directory under the `data_dir` setting.
pub fn instance_dir(settings: &Settings, customer: &Customer) -> PathBuf {
    Path::new(&settings.data_dir).join(prefix(customer))
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
        ("nbmsp.customer.subdomain", customer.subdomain.clone()),
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
    let prefix = prefix(c);
    let names = services(layout).iter().map(|s| (*s, container_name(&prefix, s))).collect();
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
    };
    let env = super::templates::environment(input.template_dir.clone());
    let mut out = Vec::new();
    for (file, secret) in files(layout) {
        let name = format!("{}/{file}", layout.as_str());
        let tpl_err = |e: minijinja::Error| RenderError::Template { name: name.clone(), detail: format!("{e:#}") };
        let content = env.get_template(&name).map_err(tpl_err)?.render(&ctx).map_err(tpl_err)?;
        out.push(RenderedFile { name: file, content, secret: *secret });
    }
    let compose = check(layout, &out, &ctx.labels)?;
    Ok(RenderedStack { files: out, compose, instance_dir, project: ctx.project })
}

/// Parses every rendered file and verifies the structure nbmsp relies on, so a broken override
/// or an escaping bug fails the render instead of the deploy.
fn check(layout: Layout, files: &[RenderedFile], labels: &BTreeMap<&str, String>) -> Result<ComposeFile, RenderError> {
    let invalid = |name: &str, detail: String| RenderError::Invalid { name: name.to_string(), detail };
    let mut compose = None;
    for f in files {
        match f.name {
            "docker-compose.yml" => {
                let parsed = ComposeFile::parse(&f.content).map_err(|e| invalid(f.name, e))?;
                let got: BTreeSet<&str> = parsed.services.keys().map(String::as_str).collect();
                let want: BTreeSet<&str> = services(layout).iter().copied().collect();
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
    let settings = store.settings()?;
    let secrets = ensure_secrets(store, vault, customer.id)?;
    let installation = store.installation_id()?;
    Ok(render(&RenderInput {
        customer,
        settings: &settings,
        udp_port,
        installation: &installation,
        secrets: &secrets,
        template_dir,
    })?)
}

/// The port a dry-run render should use: the allocated one, or the one a deploy would most
/// likely get, without reserving it.
pub fn preview_port(store: &Store, customer: &Customer) -> Result<u16, EngineError> {
    if let Some(p) = store.deployment(customer.id)?.and_then(|d| d.relay_udp_port) {
        return Ok(p);
    }
    let s = store.settings()?;
    crate::domain::ports::choose(s.relay_base_port, s.relay_port_count, &store.allocated_ports()?, ports::udp_port_free)
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
    let env = super::templates::environment(template_dir);
    let ctx = minijinja::context! { domain => domain, upstream => upstreams(prefix, layout) };
    let tpl_err = |e: minijinja::Error| RenderError::Template { name: name.to_string(), detail: format!("{e:#}") };
    env.get_template(name).map_err(tpl_err)?.render(ctx).map_err(tpl_err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::customer::CustomerStatus;

    fn settings() -> Settings {
        let map = BTreeMap::from([
            ("base_domain".to_string(), "msp.example".to_string()),
            ("data_dir".to_string(), "/srv/nbmsp/instances".to_string()),
        ]);
        Settings::from_map(&map).unwrap()
    }

    fn customer(text: &str, layout: Layout) -> Customer {
        let t = time::OffsetDateTime::UNIX_EPOCH;
        Customer {
            id: 7,
            name: text.into(),
            company: text.into(),
            subdomain: "acme".into(),
            email: text.into(),
            max_devices: 20,
            notes: text.into(),
            layout,
            status: CustomerStatus::Inactive,
            status_reason: None,
            created_at: t,
            updated_at: t,
        }
    }

    fn secrets() -> CustomerSecrets {
        CustomerSecrets {
            auth_secret: "relay-secret".into(),
            store_encryption_key: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into(),
            session_cookie_key: "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=".into(),
        }
    }

    fn render_with(text: &str, layout: Layout) -> RenderedStack {
        let (s, c, sec) = (settings(), customer(text, layout), secrets());
        let input = RenderInput {
            customer: &c,
            settings: &s,
            udp_port: 3481,
            installation: "inst",
            secrets: &sec,
            template_dir: None,
        };
        render(&input).unwrap_or_else(|e| panic!("render of {text:?} failed: {e}"))
    }

    /// Customer text that tries to break out of every format nbmsp writes.
    pub(crate) fn hostile_values() -> Vec<String> {
        vec![
            "plain".into(),
            "quote\" and 'single'".into(),
            "new\nline: injected\n  privileged: true".into(),
            "carriage\rreturn".into(),
            "# comment".into(),
            "{{ secrets.auth_secret }} {% if true %}x{% endif %}".into(),
            "${HOME} $(id) `id`".into(),
            "&anchor *alias !!python/object:os.system".into(),
            "- list item".into(),
            "key: value".into(),
            "}; server { listen 80; }".into(),
            "\\\" backslash-quote".into(),
            "Ünïcødé 🚀 \u{2028} \u{85} \u{feff}".into(),
            "tab\there".into(),
            "x".repeat(4096),
        ]
    }

    #[test]
    fn hostile_customer_text_never_changes_file_structure() {
        let baseline: BTreeMap<Layout, Vec<(String, usize)>> = [Layout::Combined, Layout::Legacy]
            .into_iter()
            .map(|l| {
                (
                    l,
                    render_with("plain", l)
                        .files
                        .iter()
                        .map(|f| (f.name.to_string(), f.content.lines().count()))
                        .collect(),
                )
            })
            .collect();
        for text in hostile_values() {
            for layout in [Layout::Combined, Layout::Legacy] {
                let stack = render_with(&text, layout);
                for (svc, s) in &stack.compose.services {
                    assert_eq!(s.labels["nbmsp.customer.name"], text, "{layout} {svc}: the value round-trips exactly");
                    assert_eq!(s.labels.len(), 5, "{layout} {svc}: no label was added");
                    assert!(s.healthcheck.is_none() && s.command.as_ref().is_none_or(|c| c.len() == 8));
                }
                // Same number of lines as with plain text: nothing was broken onto new lines.
                let lines: Vec<(String, usize)> =
                    stack.files.iter().map(|f| (f.name.to_string(), f.content.lines().count())).collect();
                assert_eq!(lines, baseline[&layout], "{layout} with {text:?}");
            }
        }
    }

    #[test]
    fn combined_files_carry_port_domain_and_secrets() {
        let stack = render_with("ACME", Layout::Combined);
        let names: Vec<&str> = stack.files.iter().map(|f| f.name).collect();
        assert_eq!(names, ["docker-compose.yml", "config.yaml", "dashboard.env"]);
        let cfg: serde_json::Value = serde_saphyr::from_str(&stack.files[1].content).unwrap();
        assert_eq!(cfg["server"]["exposedAddress"], "https://acme.msp.example:443");
        assert_eq!(cfg["server"]["stunPorts"][0], 3481);
        assert_eq!(cfg["server"]["store"]["encryptionKey"], secrets().store_encryption_key);
        assert_eq!(cfg["server"]["auth"]["issuer"], "https://acme.msp.example/oauth2");
        let server = &stack.compose.services["server"];
        assert_eq!(server.container_name, "netbird-acme-server");
        assert_eq!(server.ports, ["3481:3481/udp"]);
        assert_eq!(server.volumes[0], "/srv/nbmsp/instances/acme/config.yaml:/etc/netbird/config.yaml:ro");
        assert_eq!(stack.compose.network_name("proxy"), Some("nbmsp"));
        assert!(stack.files[1].secret && !stack.files[0].secret);
        assert_eq!(stack.project, "nbmsp-acme");
    }

    #[test]
    fn legacy_files_carry_port_domain_and_secrets() {
        let stack = render_with("ACME", Layout::Legacy);
        let mgmt: serde_json::Value = serde_json::from_str(&stack.files[1].content).unwrap();
        assert_eq!(mgmt["Stuns"][0]["URI"], "stun:acme.msp.example:3481");
        assert_eq!(mgmt["Relay"]["Secret"], "relay-secret");
        assert_eq!(mgmt["EmbeddedIdP"]["Enabled"], true);
        let relay_env = compose::parse_env_file(&stack.files[2].content);
        assert!(relay_env.contains(&("NB_EXPOSED_ADDRESS".into(), "rels://acme.msp.example:443".into())));
        assert_eq!(stack.compose.services["relay"].ports, ["3481:3478/udp"]);
        assert_eq!(stack.compose.services.len(), 4);
    }

    #[test]
    fn a_broken_override_fails_the_render_not_the_deploy() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("combined")).unwrap();
        std::fs::write(dir.path().join("combined/config.yaml"), "server: [unclosed\n").unwrap();
        let (s, c, sec) = (settings(), customer("x", Layout::Combined), secrets());
        let input = RenderInput {
            customer: &c,
            settings: &s,
            udp_port: 1,
            installation: "i",
            secrets: &sec,
            template_dir: Some(dir.path().to_path_buf()),
        };
        let e = render(&input).unwrap_err();
        assert!(e.to_string().contains("config.yaml"), "{e}");
    }

    #[test]
    fn secrets_are_generated_once_and_kept() {
        let mut store = Store::open_in_memory().unwrap();
        let home = std::path::Path::new("/h");
        let session = store
            .initialise(&crate::store::auth::InitParams {
                home,
                admin_user: "admin",
                password: "admin-password-1",
                admin_email: "a@b.example",
                base_domain: "b.example",
            })
            .unwrap();
        let a = ensure_secrets(&store, &session.vault, 1).unwrap();
        let b = ensure_secrets(&store, &session.vault, 1).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.store_encryption_key.len(), 44);
        assert!(a.store_encryption_key.ends_with('='));
        assert!(a.auth_secret.len() >= 43);
        assert_ne!(ensure_secrets(&store, &session.vault, 2).unwrap(), a);
    }

    /// Text built from the characters that matter to YAML, JSON, env files, nginx and Jinja,
    /// plus arbitrary Unicode (control characters included: the renderer must hold even where
    /// a validator was bypassed).
    fn hostile_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let special = prop::sample::select(vec![
            '"', '\'', '\\', '\n', '\r', '\t', ':', '#', '{', '}', '[', ']', '%', '$', '`', '&', '*', '!', '|', '>',
            '-', '?', ',', ';', '=', '@', '\u{0}', '\u{85}', '\u{2028}', '\u{feff}', ' ',
        ]);
        prop::collection::vec(
            prop_oneof![3 => special, 1 => any::<char>(), 2 => proptest::char::range('a', 'z')],
            0..80,
        )
        .prop_map(|v| v.into_iter().collect())
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 96, ..Default::default() })]

        /// For any customer text the generated compose, YAML, JSON and env files parse and keep
        /// exactly their structure, and the text round-trips exactly where it is used.
        #[test]
        fn any_customer_text_keeps_every_file_structure(text in hostile_text()) {
            for layout in [Layout::Combined, Layout::Legacy] {
                let plain = render_with("plain", layout);
                let stack = render_with(&text, layout);
                for (svc, s) in &stack.compose.services {
                    proptest::prop_assert_eq!(&s.labels["nbmsp.customer.name"], &text, "{} {}", layout, svc);
                    proptest::prop_assert_eq!(s.labels.len(), 5);
                    proptest::prop_assert_eq!(&s.image, &plain.compose.services[svc].image);
                    proptest::prop_assert_eq!(&s.ports, &plain.compose.services[svc].ports);
                    proptest::prop_assert_eq!(&s.environment, &plain.compose.services[svc].environment);
                }
                proptest::prop_assert_eq!(stack.compose.services.len(), plain.compose.services.len());
                for (f, p) in stack.files.iter().zip(&plain.files) {
                    proptest::prop_assert_eq!(f.content.lines().count(), p.content.lines().count(), "{}", f.name);
                    if f.name.ends_with(".json") {
                        let a: serde_json::Value = serde_json::from_str(&f.content).unwrap();
                        let b: serde_json::Value = serde_json::from_str(&p.content).unwrap();
                        proptest::prop_assert_eq!(keys(&a), keys(&b));
                    } else if f.name.ends_with(".yaml") || f.name.ends_with(".yml") {
                        let a: serde_json::Value = serde_saphyr::from_str(&f.content).unwrap();
                        let b: serde_json::Value = serde_saphyr::from_str(&p.content).unwrap();
                        proptest::prop_assert_eq!(keys(&a), keys(&b));
                    } else if f.name.ends_with(".env") {
                        let a: Vec<String> = compose::parse_env_file(&f.content).into_iter().map(|(k, _)| k).collect();
                        let b: Vec<String> = compose::parse_env_file(&p.content).into_iter().map(|(k, _)| k).collect();
                        proptest::prop_assert_eq!(a, b);
                    }
                }
            }
        }

        /// Every domain the validators accept renders nginx blocks of the same shape.
        #[test]
        fn any_valid_subdomain_renders_nginx_of_the_same_shape(sub in "[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?") {
            proptest::prop_assume!(crate::domain::validate::subdomain(&sub).is_ok());
            let domain = crate::domain::customer::fqdn(&sub, "msp.example");
            for layout in [Layout::Combined, Layout::Legacy] {
                let base = render_nginx(NginxKind::Server, "a.msp.example", "a", layout, None).unwrap();
                let conf = render_nginx(NginxKind::Server, &domain, &sub, layout, None).unwrap();
                proptest::prop_assert_eq!(conf.lines().count(), base.lines().count());
                proptest::prop_assert_eq!(conf.matches('{').count(), base.matches('{').count());
                proptest::prop_assert_eq!(conf.matches(';').count(), base.matches(';').count());
            }
        }
    }

    /// Every key path of a JSON/YAML document (structure without the values).
    fn keys(v: &serde_json::Value) -> Vec<String> {
        fn walk(v: &serde_json::Value, at: String, out: &mut Vec<String>) {
            match v {
                serde_json::Value::Object(m) => {
                    for (k, x) in m {
                        walk(x, format!("{at}.{k}"), out);
                    }
                }
                serde_json::Value::Array(a) => {
                    for (i, x) in a.iter().enumerate() {
                        walk(x, format!("{at}[{i}]"), out);
                    }
                }
                _ => out.push(at),
            }
        }
        let mut out = Vec::new();
        walk(v, String::new(), &mut out);
        out
    }
}
