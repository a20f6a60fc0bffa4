//! Nginx Proxy Manager: the stand-in against NPM's recorded behaviour, the client and the proxy
//! against the stand-in, the generated nginx config against a real `nginx -t`, and whole deploys
//! on the Docker engine with NPM failing in the ways the real one does.

use crate::common;

use std::path::PathBuf;

use crate::common::npm_standin::{Behaviour, IDENTITY, NpmStandin, Resolve, SECRET};
use nbmsp::domain::customer::Layout;
use nbmsp::engine::npm::client::NpmClient;
use nbmsp::engine::npm::proxy::{NpmProxy, Proxy, ProxyRequest};
use serde_json::Value;

/// One raw request (the transcripts hold bodies no typed client would send), its body as JSON.
fn raw(url: &str, method: &str, path: &str, auth: Option<&str>, body: Option<&str>) -> (u16, Value) {
    let mut headers = vec![("Accept", "application/json")];
    if let Some(a) = auth {
        headers.push(("Authorization", a));
    }
    let (status, body) =
        common::http::request(url.trim_start_matches("http://"), method, path, &headers, body).unwrap();
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

fn transcripts() -> Option<Vec<Value>> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/reference/npm/transcripts.jsonl");
    let text = std::fs::read_to_string(&p).ok()?;
    Some(text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect())
}

#[test]
fn the_standin_answers_every_recorded_request_like_the_real_npm() {
    let Some(records) = transcripts() else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("../shared/reference/npm/transcripts.jsonl is missing in CI");
        }
        eprintln!("SKIPPED: no ../shared/reference/npm/transcripts.jsonl here");
        return;
    };
    let mut standin = NpmStandin::start(Behaviour { resolve: Resolve::Nothing, ..Default::default() });
    let mut run = "A".to_string();
    let mut mismatches = Vec::new();
    for r in &records {
        let this_run = r["run"].as_str().unwrap();
        // A and B start from empty databases; C and D continue B's.
        if this_run != run && (this_run == "A" || this_run == "B") {
            let resolve = if this_run == "B" { Resolve::Everything } else { Resolve::Nothing };
            standin = NpmStandin::start(Behaviour { resolve, ..Default::default() });
        }
        run = this_run.to_string();
        let name = r["name"].as_str().unwrap();
        let auth = r["request_headers"]["Authorization"].as_str().map(|a| {
            let fresh = if name.contains("expired_token") { standin.token(0) } else { standin.token(86_400) };
            a.replace("<token>", &fresh)
        });
        let body = match &r["request_body"] {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            v => Some(v.to_string()),
        };
        let (status, answer) = raw(
            &standin.url,
            r["method"].as_str().unwrap(),
            r["path"].as_str().unwrap(),
            auth.as_deref(),
            body.as_deref(),
        );
        let want = r["status"].as_u64().unwrap() as u16;
        if status != want {
            mismatches.push(format!("{name}: {} {} -> {status}, recorded {want}", r["method"], r["path"]));
            continue;
        }
        // Error messages and nginx verdicts must match too: clients act on them.
        if let Some(msg) = r["response_body"].pointer("/error/message")
            && answer.pointer("/error/message") != Some(msg)
        {
            mismatches.push(format!("{name}: message {:?}, recorded {msg}", answer.pointer("/error/message")));
        }
        if let Some(online) = r["response_body"].pointer("/meta/nginx_online")
            && answer.pointer("/meta/nginx_online") != Some(online)
        {
            mismatches
                .push(format!("{name}: nginx_online {:?}, recorded {online}", answer.pointer("/meta/nginx_online")));
        }
        // A certificate has every field the real one has (`expires_on` among them: what an
        // expiry check reads), as an object or in a list.
        if r["path"].as_str().unwrap().starts_with("/api/nginx/certificates") {
            let keys = |v: &Value| -> Vec<String> {
                let one = if let Value::Array(a) = v { a.first().cloned().unwrap_or(Value::Null) } else { v.clone() };
                let mut k: Vec<String> = one.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
                k.sort();
                k
            };
            if r["response_body"].get("error").is_none() && keys(&answer) != keys(&r["response_body"]) {
                mismatches.push(format!(
                    "{name}: fields {:?}, recorded {:?}",
                    keys(&answer),
                    keys(&r["response_body"])
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} records differ:\n{}",
        mismatches.len(),
        records.len(),
        mismatches.join("\n")
    );
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

fn proxy(standin: &NpmStandin, certificate_id: Option<i64>) -> NpmProxy {
    NpmProxy { client: NpmClient::new(&standin.url, IDENTITY, SECRET).unwrap(), certificate_id, template_dir: None }
}

fn request(layout: Layout) -> ProxyRequest {
    ProxyRequest {
        customer_id: 7,
        domain: "acme.msp.example".into(),
        layout,
        prefix: "acme".into(),
        installation: "inst".into(),
    }
}

#[test]
fn register_creates_exactly_one_host_with_the_netbird_routes() {
    let standin = NpmStandin::start(Behaviour { letsencrypt_ok: true, ..Default::default() });
    let p = proxy(&standin, None);
    let record = rt().block_on(p.register(&request(Layout::Combined))).unwrap();
    let hosts = standin.hosts();
    assert_eq!(hosts.len(), 1);
    let h = &hosts[0];
    assert_eq!(h["domain_names"], serde_json::json!(["acme.msp.example"]));
    assert_eq!(h["forward_host"], "netbird-acme-dashboard");
    assert_eq!(h["forward_port"], 80);
    for flag in ["http2_support", "allow_websocket_upgrade", "block_exploits", "ssl_forced", "hsts_enabled"] {
        assert_eq!(h[flag], true, "{flag}");
    }
    let adv = h["advanced_config"].as_str().unwrap();
    assert!(adv.contains(r#"set $nb_management "netbird-acme-server";"#), "{adv}");
    assert!(adv.contains("grpc_pass grpc://$nb_management:80;"), "resolved per request: {adv}");
    assert!(adv.contains("grpc_set_header X-Real-IP $remote_addr;"), "peers keep their address: {adv}");
    assert!(adv.contains("grpc_read_timeout 1d;") && adv.contains("client_header_timeout 1d;"));
    assert!(adv.contains("location ~ ^/(api|oauth2)/"));
    assert_eq!(record.proxy_id, h["id"].as_i64());
    assert!(record.certificate_owned && record.certificate_id.is_some() && record.pending.is_none(), "{record:?}");
    assert_eq!(h["certificate_id"].as_i64(), record.certificate_id);
    // Registering again (a redeploy) adopts the same host.
    let again = rt().block_on(p.register(&request(Layout::Combined))).unwrap();
    assert_eq!(again.proxy_id, record.proxy_id);
    assert_eq!(standin.hosts().len(), 1);
    // Teardown removes the host and the certificate nbmsp requested.
    rt().block_on(p.unregister(&record)).unwrap();
    assert!(standin.hosts().is_empty());
    assert!(standin.certificates().is_empty());
}

#[test]
fn legacy_routes_go_to_the_right_containers() {
    let standin = NpmStandin::start(Behaviour::default());
    rt().block_on(proxy(&standin, Some(3)).register(&request(Layout::Legacy))).unwrap();
    let adv = standin.hosts()[0]["advanced_config"].as_str().unwrap().to_string();
    assert!(adv.contains(r#"set $nb_signal_grpc "netbird-acme-signal:10000";"#), "{adv}");
    assert!(adv.contains(r#"set $nb_management "netbird-acme-management";"#));
    assert!(adv.contains(r#"set $nb_relay "netbird-acme-relay";"#));
    assert!(adv.contains("grpc_pass grpc://$nb_signal_grpc;") && adv.contains("proxy_pass http://$nb_relay:80;"));
    assert_eq!(standin.hosts()[0]["certificate_id"], 3, "the configured wildcard certificate is attached");
}

#[test]
fn nginx_rejecting_the_config_is_an_error_and_leaves_no_host() {
    // An operator's template override with a literal upstream name that does not resolve.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("nginx")).unwrap();
    std::fs::write(
        dir.path().join("nginx/locations.conf"),
        "location /x {\n    grpc_pass grpc://nowhere-{{ domain }}:80;\n}\n",
    )
    .unwrap();
    let standin = NpmStandin::start(Behaviour { resolve: Resolve::Nothing, ..Default::default() });
    let p = NpmProxy { template_dir: Some(dir.path().to_path_buf()), ..proxy(&standin, None) };
    let err = rt().block_on(p.register(&request(Layout::Combined))).unwrap_err().to_string();
    assert!(err.contains("nginx rejected the configuration for acme.msp.example"), "{err}");
    assert!(
        err.contains("host not found in upstream \"nowhere-acme.msp.example\""),
        "nginx's words reach the user: {err}"
    );
    assert!(standin.hosts().is_empty(), "the rejected host was removed");
}

/// NPM tests the WHOLE config before it writes a host: one broken host elsewhere makes every
/// change a 500, and NPM keeps the row it had stored. Nothing of nbmsp's may stay behind.
#[test]
fn a_broken_host_elsewhere_fails_registration_and_leaves_nothing_of_ours() {
    let standin = NpmStandin::start(Behaviour { resolve: Resolve::Nothing, ..Default::default() });
    let broken =
        standin.insert_host_with("old.msp.example", "x", "location /g {\n    grpc_pass grpc://gone-server:80;\n}\n");
    assert!(standin.whole_config_test().unwrap_err().contains("gone-server"));
    let err = rt().block_on(proxy(&standin, None).register(&request(Layout::Combined))).unwrap_err().to_string();
    assert!(err.contains("answered 500"), "{err}");
    let ids: Vec<i64> = standin.hosts().iter().map(|h| h["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [broken], "the row NPM kept for our failed create was removed");
}

/// A certificate was issued, then attaching it failed: the certificate and the host go.
#[test]
fn a_failed_proxy_update_leaves_no_host_or_certificate() {
    let standin = NpmStandin::start(Behaviour { letsencrypt_ok: true, fail_update: Some(500), ..Default::default() });
    let err = rt().block_on(proxy(&standin, None).register(&request(Layout::Combined))).unwrap_err().to_string();
    assert!(err.contains("answered 500"), "{err}");
    assert!(standin.hosts().is_empty(), "{:?}", standin.hosts());
    assert!(standin.certificates().is_empty(), "{:?}", standin.certificates());
    let log = standin.request_log();
    assert!(
        log.iter().any(|(m, p, s)| m == "POST" && p == "/api/nginx/certificates" && *s == 201),
        "one was issued: {log:?}"
    );
}

#[test]
fn a_failed_certificate_degrades_instead_of_failing_and_can_be_retried() {
    let standin = NpmStandin::start(Behaviour::default());
    let p = proxy(&standin, None);
    let record = rt().block_on(p.register(&request(Layout::Combined))).unwrap();
    let pending = record.pending.clone().unwrap();
    assert!(pending.starts_with("certificate pending: "), "{pending}");
    assert!(pending.contains("Failed to resolve 'acme-v02.api.letsencrypt.org'"), "certbot's words: {pending}");
    assert_eq!(standin.hosts().len(), 1, "the host stays, on HTTP");
    assert_eq!(standin.hosts()[0]["ssl_forced"], false);
    standin.set_behaviour(|b| b.letsencrypt_ok = true);
    let fixed = rt().block_on(p.retry_certificate(&request(Layout::Combined), &record)).unwrap();
    assert!(fixed.pending.is_none(), "{fixed:?}");
    assert_eq!(standin.hosts()[0]["ssl_forced"], true);
}

#[test]
fn a_domain_used_by_someone_else_is_refused_not_taken_over() {
    let standin = NpmStandin::start(Behaviour::default());
    let t = standin.token(3600);
    let body = r#"{"domain_names":["ACME.msp.example"],"forward_scheme":"http","forward_host":"other-app","forward_port":8080}"#;
    assert_eq!(raw(&standin.url, "POST", "/api/nginx/proxy-hosts", Some(&format!("Bearer {t}")), Some(body)).0, 201);
    let err = rt().block_on(proxy(&standin, Some(1)).register(&request(Layout::Combined))).unwrap_err().to_string();
    assert!(err.contains("already served by Nginx Proxy Manager host #1 (forwarding to other-app)"), "{err}");
    assert_eq!(standin.hosts()[0]["forward_host"], "other-app", "untouched");
}

#[test]
fn the_client_logs_in_again_when_npm_drops_its_token() {
    let standin = NpmStandin::start(Behaviour::default());
    let client = NpmClient::new(&standin.url, IDENTITY, SECRET).unwrap();
    let rt = rt();
    assert!(rt.block_on(client.hosts(None)).unwrap().is_empty());
    // A restarted NPM forgets tokens: it then answers 404 "Not Found - /nginx/proxy-hosts".
    standin.forget_tokens();
    assert!(rt.block_on(client.hosts(None)).unwrap().is_empty());
    let logins = standin.request_log().iter().filter(|(m, p, _)| m == "POST" && p == "/api/tokens").count();
    assert_eq!(logins, 2, "one login at first use, one after the 404");
    let bad = NpmClient::new(&standin.url, IDENTITY, "wrong").unwrap();
    let e = rt.block_on(bad.hosts(None)).unwrap_err().to_string();
    assert!(e.contains("refused the login of admin@example.com: Invalid email or password"), "{e}");
}

/// nginx's real parser on a whole fleet's config, as NPM lays it out: one server block per
/// customer (both layouts) with the generated locations, NPM's resolver in `http`, and NONE of
/// the container names resolvable here: the config must pass because every upstream is
/// resolved per request. A literal name, as a negative control, must fail the same test.
#[test]
fn generated_nginx_config_passes_a_real_nginx_test() {
    let nginx = ["/usr/sbin/nginx", "/usr/local/sbin/nginx"].into_iter().map(PathBuf::from).find(|p| p.exists());
    let Some(nginx) = nginx else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("nginx is not installed in CI (.ci/run installs nginx-light)");
        }
        eprintln!("SKIPPED: nginx is not installed here");
        return;
    };
    let nginx_t = |servers: &str| {
        let dir = tempfile::tempdir().unwrap();
        let conf = format!(
            "pid {d}/nginx.pid;\nerror_log {d}/error.log;\nevents {{}}\nhttp {{\n access_log off;\n resolver 127.0.0.11 valid=10s;\n{servers}\n}}\n",
            d = dir.path().display()
        );
        std::fs::write(dir.path().join("nginx.conf"), &conf).unwrap();
        let out = std::process::Command::new(&nginx)
            .args(["-t", "-p", dir.path().to_str().unwrap(), "-c", dir.path().join("nginx.conf").to_str().unwrap()])
            .output()
            .unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned(), conf)
    };
    let mut servers = String::new();
    for (i, (prefix, layout)) in
        [("acme", Layout::Combined), ("beta", Layout::Legacy), ("gone", Layout::Combined)].into_iter().enumerate()
    {
        let domain = format!("{prefix}.msp.example");
        let locations = nbmsp::engine::stack::render::render_nginx(
            nbmsp::engine::stack::render::NginxKind::Locations,
            &domain,
            prefix,
            layout,
            None,
        )
        .unwrap();
        servers.push_str(&format!(
            " server {{\n  listen 127.0.0.1:{};\n  server_name {domain};\n  set $server \"netbird-{prefix}-dashboard\";\n{locations}\n  location / {{ proxy_pass http://$server:80; }}\n }}\n",
            18990 + i
        ));
    }
    let (ok, err, conf) = nginx_t(&servers);
    assert!(ok, "nginx -t failed on a fleet whose containers do not resolve:\n{err}\n{conf}");
    let literal = format!(
        "{servers} server {{\n  listen 127.0.0.1:18989;\n  location /g {{ grpc_pass grpc://netbird-gone-server:80; }}\n }}\n"
    );
    let (ok, err, _) = nginx_t(&literal);
    assert!(!ok && err.contains("host not found in upstream"), "a literal name must fail the test: {err}");
    // The full server block for operators' own proxies must parse too, with a throwaway
    // certificate in place of theirs.
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=acme.msp.example",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output();
    let server = nbmsp::engine::stack::render::render_nginx(
        nbmsp::engine::stack::render::NginxKind::Server,
        "acme.msp.example",
        "acme",
        Layout::Legacy,
        None,
    )
    .unwrap();
    assert!(server.contains("server_name acme.msp.example;") && server.contains("location / {"));
    if made.is_ok_and(|o| o.status.success()) {
        let mut server = server
            .replace("/etc/letsencrypt/live/acme.msp.example/fullchain.pem", cert.to_str().unwrap())
            .replace("/etc/letsencrypt/live/acme.msp.example/privkey.pem", key.to_str().unwrap())
            .replace("listen 443", "listen 127.0.0.1:18998")
            .replace("listen [::]:443 ssl http2;", "");
        for svc in ["server", "dashboard", "management", "signal", "relay"] {
            server = server.replace(&format!("netbird-acme-{svc}"), "127.0.0.1");
        }
        let conf = format!(
            "pid {d}/nginx.pid;\nerror_log {d}/error.log;\nevents {{}}\nhttp {{\n{server}\n}}\n",
            d = dir.path().display()
        );
        std::fs::write(dir.path().join("nginx.conf"), &conf).unwrap();
        let out = std::process::Command::new(&nginx)
            .args(["-t", "-p", dir.path().to_str().unwrap(), "-c", dir.path().join("nginx.conf").to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "server block: nginx -t failed:\n{}\n{conf}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A Docker test environment whose proxy is the NPM stand-in.
fn npm_env(test: &str, behaviour: Behaviour) -> Option<(common::docker::DockerEnv, NpmStandin)> {
    let env = common::docker::DockerEnv::new(test)?;
    let standin = NpmStandin::start(behaviour);
    common::npm_standin::use_in(&env.home, &standin);
    Some((env, standin))
}

fn create(env: &common::docker::DockerEnv, sub: &str) -> common::Run {
    let email = format!("it@{sub}.example");
    env.home.run(&["customer", "create", "--name", "N", "--subdomain", sub, "--email", &email, "--json"])
}

#[test]
fn deploy_with_npm_registers_one_host_and_delete_removes_it() {
    let behaviour = Behaviour { resolve: Resolve::DockerContainers, letsencrypt_ok: true, ..Default::default() };
    let Some((env, standin)) = npm_env("deploy_with_npm_registers_one_host", behaviour) else { return };
    let r = env.home.run(&["npm", "test", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["version"], "2.15.1");
    let sub = env.subdomain("npm");
    let r = create(&env, &sub);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let c = r.json();
    assert_eq!(c["status"], "active");
    assert_eq!(c["proxy_pending"], Value::Null);
    let hosts = standin.hosts();
    assert_eq!(hosts.len(), 1, "exactly one proxy host");
    assert_eq!(hosts[0]["domain_names"][0], format!("{sub}.msp.example"));
    assert_eq!(hosts[0]["forward_host"], env.home.container(&sub, "dashboard"));
    assert_eq!(hosts[0]["meta"]["nginx_online"], true);
    assert_eq!(c["proxy_host_id"], hosts[0]["id"]);
    assert_eq!(standin.certificates().len(), 1);
    // A redeploy adopts the same host.
    assert_eq!(env.home.run(&["customer", "redeploy", &sub]).code, 0);
    assert_eq!(standin.hosts().len(), 1);
    let r = env.home.run(&["customer", "delete", &sub, "--yes", "--purge-data"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(standin.hosts().is_empty(), "host gone");
    assert!(standin.certificates().is_empty(), "the certificate nbmsp requested is gone");
    assert!(env.containers().is_empty());
}

#[test]
fn npm_failing_mid_deploy_rolls_everything_back() {
    let behaviour = Behaviour { resolve: Resolve::DockerContainers, fail_create: Some(500), ..Default::default() };
    let Some((env, standin)) = npm_env("npm_failing_mid_deploy_rolls_everything_back", behaviour) else { return };
    let sub = env.subdomain("nf");
    let r = create(&env, &sub);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.json()["error"]["message"].as_str().unwrap().contains("Nginx Proxy Manager answered 500"),
        "{}",
        r.stdout
    );
    assert!(env.containers().is_empty(), "no containers left");
    assert!(standin.hosts().is_empty());
    let c = env.home.run(&["customer", "show", &sub, "--json"]).json();
    assert_eq!(c["status"], "error");
    assert_eq!(c["relay_udp_port"], Value::Null, "port freed");
}

#[test]
fn nginx_rejecting_the_host_rolls_the_deploy_back() {
    let behaviour = Behaviour { resolve: Resolve::Nothing, ..Default::default() };
    let Some((env, standin)) = npm_env("nginx_rejecting_the_host_rolls_the_deploy_back", behaviour) else { return };
    // Another host in NPM no longer resolves: NPM's whole-config test fails every change.
    standin.insert_host_with("old.msp.example", "x", "location /g {\n    grpc_pass grpc://gone-server:80;\n}\n");
    let sub = env.subdomain("off");
    let r = create(&env, &sub);
    assert_eq!(r.code, 1);
    let msg = r.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(msg.contains("Nginx Proxy Manager answered 500"), "{msg}");
    assert_eq!(standin.hosts().len(), 1, "only the foreign host is left: {:?}", standin.hosts());
    assert!(env.containers().is_empty());
}

/// One stopped customer must never block the proxy for the others: its containers leave
/// Docker's DNS, and NPM tests every host's config on every change and at start.
#[test]
fn a_stopped_customer_never_blocks_the_proxy_for_the_others() {
    let behaviour = Behaviour { resolve: Resolve::DockerContainers, letsencrypt_ok: true, ..Default::default() };
    let Some((env, standin)) = npm_env("a_stopped_customer_never_blocks_the_proxy", behaviour) else { return };
    let a = env.subdomain("a");
    assert_eq!(create(&env, &a).code, 0);
    assert_eq!(env.home.run(&["customer", "stop", &a]).code, 0);
    // The problem is real in this model: a literal upstream of A's, as nbmsp once wrote, breaks it.
    let literal = format!("location /g {{\n    grpc_pass grpc://{}:80;\n}}\n", env.home.container(&a, "server"));
    let probe = standin.insert_host_with("probe.msp.example", "x", &literal);
    let broken = standin.whole_config_test().unwrap_err();
    assert!(broken.contains(&env.home.container(&a, "server")), "{broken}");
    standin.remove_host(probe);
    standin.restart().unwrap();
    // With A stopped, B deploys through NPM, and NPM restarts with every host online.
    let b = env.subdomain("b");
    let r = create(&env, &b);
    assert_eq!(r.code, 0, "{}", r.stderr);
    standin.whole_config_test().unwrap();
    standin.restart().expect("nginx starts with A stopped");
    let hosts = standin.hosts();
    assert_eq!(hosts.len(), 2);
    assert!(hosts.iter().all(|h| h["meta"]["nginx_online"] == true), "{hosts:?}");
    // And A comes back.
    assert_eq!(env.home.run(&["customer", "start", &a]).code, 0);
}

/// The owner exists before anything is public: `/api/setup` needs no authentication.
#[test]
fn the_owner_is_created_before_the_proxy_host_both_layouts() {
    let behaviour = Behaviour { resolve: Resolve::DockerContainers, observe_instance: true, ..Default::default() };
    let Some((env, standin)) = npm_env("the_owner_is_created_before_the_proxy_host", behaviour) else { return };
    for layout in ["combined", "legacy"] {
        let sub = env.subdomain(&layout[..3]);
        let email = format!("it@{sub}.example");
        let r = env.home.run(&[
            "customer",
            "create",
            "--name",
            "N",
            "--subdomain",
            &sub,
            "--email",
            &email,
            "--layout",
            layout,
            "--json",
        ]);
        assert_eq!(r.code, 0, "{layout}: {}", r.stderr);
        let creds = env.home.run(&["customer", "credentials", &sub, "--yes", "--json"]).json();
        assert!(creds["pat"].as_str().is_some_and(|p| p.starts_with("nbp_")), "{layout}: {creds}");
    }
    let seen = standin.observed();
    assert_eq!(seen, [r#"{"setup_required":false}"#; 2], "when each proxy host was created the owner existed");
}

#[test]
fn a_failed_certificate_leaves_the_customer_degraded_until_retry_cert() {
    let behaviour = Behaviour { resolve: Resolve::DockerContainers, ..Default::default() };
    let Some((env, standin)) = npm_env("a_failed_certificate_leaves_the_customer_degraded", behaviour) else { return };
    let sub = env.subdomain("cert");
    let r = create(&env, &sub);
    assert_eq!(r.code, 0, "a certificate failure does not tear the customer down: {}", r.stderr);
    let c = r.json();
    assert_eq!(c["status"], "active");
    let pending = c["proxy_pending"].as_str().unwrap();
    assert!(pending.starts_with("certificate pending:") && pending.contains("letsencrypt"), "{pending}");
    assert!(c["status_reason"].as_str().unwrap().starts_with("certificate pending"));
    let r = env.home.run(&["customer", "retry-cert", &sub]);
    assert_eq!(r.code, 1, "still failing: {}", r.stderr);
    standin.set_behaviour(|b| b.letsencrypt_ok = true);
    let r = env.home.run(&["customer", "retry-cert", &sub, "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let c = env.home.run(&["customer", "show", &sub, "--json"]).json();
    assert_eq!(c["proxy_pending"], Value::Null);
    assert_eq!(c["status_reason"], Value::Null);
    assert_eq!(standin.hosts()[0]["ssl_forced"], true);
}

#[test]
fn a_hung_npm_times_out_the_deploy_rolls_back_and_reconcile_cleans_up_later() {
    let behaviour = Behaviour {
        resolve: Resolve::DockerContainers,
        delay: std::time::Duration::from_secs(3),
        ..Default::default()
    };
    let Some((env, standin)) = npm_env("a_hung_npm_times_out_the_deploy", behaviour) else { return };
    assert_eq!(env.home.run(&["settings", "set", "npm.timeout_s", "1"]).code, 0);
    let sub = env.subdomain("slow");
    let r = create(&env, &sub);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let msg = r.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(msg.contains("no answer within 1 s (npm.timeout_s)"), "{msg}");
    assert!(env.containers().is_empty(), "rolled back");
    let c = env.home.run(&["customer", "show", &sub, "--json"]).json();
    assert_eq!((c["status"].as_str(), c["relay_udp_port"].as_u64()), (Some("error"), None));
    // NPM recovers; whatever it did late is found and removed, and the deploy goes through.
    standin.set_behaviour(|b| b.delay = std::time::Duration::ZERO);
    std::thread::sleep(std::time::Duration::from_secs(3));
    let r = env.home.run(&["reconcile", "--yes", "--json"]);
    assert!(r.json()["applied"].as_array().unwrap().iter().all(|a| a["ok"] == true), "{}", r.stdout);
    assert!(standin.hosts().is_empty(), "no orphan proxy host: {:?}", standin.hosts());
    let r = env.home.run(&["customer", "deploy", &sub, "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(standin.hosts().len(), 1);
}

#[test]
fn npm_down_fails_the_deploy_with_a_clear_message_and_leaves_nothing() {
    let Some((env, _standin)) = npm_env("npm_down_fails_the_deploy", Behaviour::default()) else { return };
    // A port nothing listens on: NPM is down.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    assert_eq!(env.home.run(&["settings", "set", "npm.url", &format!("http://{closed}")]).code, 0);
    let sub = env.subdomain("down");
    let r = create(&env, &sub);
    assert_eq!(r.code, 1);
    let msg = r.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(msg.contains("unreachable") && msg.contains("cannot connect"), "{msg}");
    assert!(env.containers().is_empty(), "rolled back");
    let c = env.home.run(&["customer", "show", &sub, "--json"]).json();
    assert_eq!(c["status"], "error");
    assert!(c["status_reason"].as_str().unwrap().contains("proxy"), "{c}");
}
