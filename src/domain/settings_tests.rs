//! Tests of the settings registry and typed settings.

use super::*;

#[test]
fn defaults_are_valid() {
    for d in SETTINGS {
        if !d.default.is_empty() {
            assert_eq!(normalise(d.key, d.default).as_deref(), Ok(d.default), "{}", d.key);
        }
    }
}

#[test]
fn unknown_key_lists_valid_keys() {
    let e = normalise("npm.password", "x").unwrap_err();
    assert!(e.rule.contains("npm.secret") && e.rule.contains("base_domain"), "{e}");
}

#[test]
fn values_table() {
    let cases: &[(&str, &str, Result<&str, ()>)] = &[
        ("base_domain", "MSP.Example.com", Ok("msp.example.com")),
        ("base_domain", "localhost", Err(())),
        ("base_domain", "", Err(())),
        ("relay_base_port", " 4000 ", Ok("4000")),
        ("relay_base_port", "80", Err(())),
        ("relay_base_port", "abc", Err(())),
        ("layout", "legacy", Ok("legacy")),
        ("layout", "k8s", Err(())),
        ("proxy", "npm", Ok("npm")),
        ("npm.url", "http://127.0.0.1:81/", Ok("http://127.0.0.1:81")),
        ("npm.url", "ftp://x", Err(())),
        ("npm.url", "", Ok("")),
        ("npm.certificate_id", "", Ok("")),
        ("npm.certificate_id", "7", Ok("7")),
        ("npm.certificate_id", "0", Err(())),
        ("images.server", "registry.local:5000/nb/server:1.2", Ok("registry.local:5000/nb/server:1.2")),
        ("images.server", "bad image", Err(())),
        ("data_dir", "relative/dir", Err(())),
        ("data_dir", "/var/lib/nbmsp/instances", Ok("/var/lib/nbmsp/instances")),
        ("docker_network", "npm_default", Ok("npm_default")),
        ("docker_network", "-x", Err(())),
        ("admin_email", "ops@msp.example", Ok("ops@msp.example")),
        ("health_timeout_s", "0", Err(())),
        ("proxy.https_address", "203.0.113.10:443", Ok("203.0.113.10:443")),
        ("proxy.https_address", "[2001:db8::1]:8443", Ok("[2001:db8::1]:8443")),
        ("proxy.https_address", "npm.internal", Err(())),
        ("proxy.https_address", "", Ok("")),
    ];
    for (key, value, want) in cases {
        let got = normalise(key, value);
        match want {
            Ok(v) => assert_eq!(got.as_deref(), Ok(*v), "{key}={value:?}"),
            Err(()) => assert!(got.is_err(), "{key}={value:?} should fail, got {got:?}"),
        }
    }
}

#[test]
fn typed_settings_from_defaults_and_range_check() {
    let mut map = BTreeMap::new();
    map.insert("base_domain".to_string(), "msp.example".to_string());
    map.insert("data_dir".to_string(), "/srv/nb".to_string());
    let s = Settings::from_map(&map).unwrap();
    assert_eq!(s.relay_base_port, 3478);
    assert_eq!(s.layout, Layout::Combined);
    assert_eq!(s.proxy, ProxyKind::None);
    assert_eq!(s.images["dashboard"], "netbirdio/dashboard:v2.90.9");
    assert_eq!(s.images["server"], "netbirdio/netbird-server:0.77.1");
    assert_eq!(s.images_pull, ImagePull::Missing);
    assert_eq!(s.https_address, None, "proxy = none and nothing set: no public check");
    let mut npm = map.clone();
    npm.insert("proxy".into(), "npm".into());
    npm.insert("npm.url".into(), "http://10.0.0.5:81".into());
    assert_eq!(Settings::from_map(&npm).unwrap().https_address.as_deref(), Some("10.0.0.5:443"));
    map.insert("relay_base_port".to_string(), "65500".to_string());
    assert_eq!(Settings::from_map(&map).unwrap_err().field, "relay_port_count");
}

#[test]
fn the_minimum_client_version_is_a_dotted_version_or_unset() {
    assert_eq!(normalise("netbird.min_client_version", " v0.70.0 ").unwrap(), "0.70.0");
    assert_eq!(normalise("netbird.min_client_version", "").unwrap(), "");
    for bad in ["latest", "0..1", "1.2.3.4.5", "0.7a"] {
        assert!(normalise("netbird.min_client_version", bad).is_err(), "{bad}");
    }
}

#[test]
fn a_customer_port_range_in_the_ephemeral_ports_is_cautioned_and_the_default_is_not() {
    let with = |base: &str, count: &str| {
        let mut map: BTreeMap<String, String> =
            SETTINGS.iter().map(|d| (d.key.to_string(), d.default.to_string())).collect();
        map.insert("base_domain".into(), "msp.example".into());
        map.insert("admin_email".into(), "ops@msp.example".into());
        map.insert("relay_base_port".into(), base.into());
        map.insert("relay_port_count".into(), count.into());
        Settings::from_map(&map).unwrap().caution()
    };
    assert_eq!(with("3478", "100"), None);
    assert_eq!(with("32000", "768"), None, "up to 32767");
    assert!(with("32000", "769").unwrap().contains("32000-32768 reach into 32768-60999"));
    assert!(with("40000", "20").unwrap().contains("a range below 32768 avoids it"));
    assert_eq!(with("61000", "100"), None, "above the range");
}
