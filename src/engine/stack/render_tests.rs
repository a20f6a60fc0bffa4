//! Tests of the renderer: the layouts' files, secrets, overrides, and hostile customer text
//! (a fixed table and property tests).

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
        contract_id: None,
        psa_ref: None,
        sla_target: None,
        reverse_proxy: false,
        layout,
        status: CustomerStatus::Inactive,
        status_reason: None,
        created_at: t,
        updated_at: t,
        host_id: None,
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
        proxy: None,
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
        "${X:?boom} $$ $ $HOME$".into(),
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
            (l, render_with("plain", l).files.iter().map(|f| (f.name.to_string(), f.content.lines().count())).collect())
        })
        .collect();
    for text in hostile_values() {
        for layout in [Layout::Combined, Layout::Legacy] {
            let stack = render_with(&text, layout);
            for (svc, s) in &stack.compose.services {
                assert_eq!(s.labels["nbmsp.customer.name"], text, "{layout} {svc}: the value round-trips exactly");
                assert_eq!(s.labels.len(), 5, "{layout} {svc}: no label was added");
                assert!(s.healthcheck.is_none() && s.command.as_ref().is_none_or(|c| c.len() == 7));
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
    // X-Forwarded-For is believed for the one proxy in front only (#27: upstream trusted anyone).
    assert_eq!(cfg["server"]["reverseProxy"]["trustedHTTPProxiesCount"], 1);
    // Compose's `version:` is obsolete (the Compose Specification; docker-compose >= 1.27 reads it).
    assert!(!stack.files[0].content.contains("\nversion:"), "{}", stack.files[0].content);
}

#[test]
fn legacy_files_carry_port_domain_and_secrets() {
    let stack = render_with("ACME", Layout::Legacy);
    let mgmt: serde_json::Value = serde_json::from_str(&stack.files[1].content).unwrap();
    assert_eq!(mgmt["Stuns"][0]["URI"], "stun:acme.msp.example:3481");
    assert_eq!(mgmt["Relay"]["Secret"], "relay-secret");
    assert_eq!(mgmt["EmbeddedIdP"]["Enabled"], true);
    // Kept, so dashboard sessions survive a restart (#27: without it upstream makes one per start).
    assert_eq!(mgmt["EmbeddedIdP"]["SessionCookieEncryptionKey"], secrets().session_cookie_key);
    assert!(!stack.files[0].content.contains("\nversion:"));
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
        proxy: None,
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
            beside_foreign: false,
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
        '"', '\'', '\\', '\n', '\r', '\t', ':', '#', '{', '}', '[', ']', '%', '$', '`', '&', '*', '!', '|', '>', '-',
        '?', ',', ';', '=', '@', '\u{0}', '\u{85}', '\u{2028}', '\u{feff}', ' ',
    ]);
    prop::collection::vec(prop_oneof![3 => special, 1 => any::<char>(), 2 => proptest::char::range('a', 'z')], 0..80)
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

#[test]
fn every_websocket_location_tells_netbird_the_scheme() {
    // #27: the WebSocket locations lacked X-Forwarded-Proto; the others carried it.
    let block = render_nginx(NginxKind::Server, "acme.msp.example", "acme", Layout::Combined, None).unwrap();
    let sections: Vec<&str> = block.split("location ").skip(1).collect();
    let ws: Vec<&&str> = sections.iter().filter(|s| s.contains("Upgrade $http_upgrade")).collect();
    assert_eq!(ws.len(), 3, "{block}");
    for s in ws {
        assert!(s.contains("X-Forwarded-Proto $scheme"), "{s}");
    }
}
