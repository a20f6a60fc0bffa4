//! The public-path check through a real proxy: a real nginx serving the server block nbmsp
//! generates (`customer proxy-config`) over TLS with a self-signed certificate, in front of a
//! deployed stand-in stack. The check must see NetBird's API and the relay WebSocket through it,
//! call the certificate and DNS what they are (warnings), and never make a working stack unhealthy.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::common::docker::DockerEnv;

/// A running nginx, stopped when dropped: `nginx -s stop` so its workers go too (killing the
/// master alone leaves them serving).
struct Nginx {
    child: Child,
    binary: PathBuf,
    dir: PathBuf,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let conf = self.dir.join("nginx.conf");
        let stopped = Command::new(&self.binary)
            .args(["-p", self.dir.to_str().unwrap_or(""), "-c", conf.to_str().unwrap_or(""), "-s", "stop"])
            .status();
        if !stopped.is_ok_and(|s| s.success()) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

fn nginx_binary() -> Option<PathBuf> {
    let found = ["/usr/sbin/nginx", "/usr/local/sbin/nginx"].into_iter().map(PathBuf::from).find(|p| p.exists());
    if found.is_none() && std::env::var("CI").as_deref() == Ok("true") {
        panic!("nginx is not installed in CI (.ci/run installs nginx-light)");
    }
    found
}

fn container_ip(name: &str) -> String {
    let out = Command::new("docker")
        .args(["inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", name])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap_or_default().to_string()
}

/// Starts nginx on 127.0.0.1:`port` with nbmsp's server block for `sub`, the container names
/// replaced by their addresses (this host cannot use Docker's DNS) and a throwaway certificate.
fn start_proxy(env: &DockerEnv, sub: &str, dir: &Path, port: u16) -> Nginx {
    let nginx = nginx_binary().unwrap();
    let domain = format!("{sub}.msp.example");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", &format!("/CN={domain}")])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(made.status.success(), "openssl: {}", String::from_utf8_lossy(&made.stderr));
    let r = env.home.run(&["customer", "proxy-config", sub]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut server = r
        .stdout
        .replace(&format!("/etc/letsencrypt/live/{domain}/fullchain.pem"), cert.to_str().unwrap())
        .replace(&format!("/etc/letsencrypt/live/{domain}/privkey.pem"), key.to_str().unwrap())
        .replace("listen 443 ssl http2;", &format!("listen 127.0.0.1:{port} ssl http2;"))
        .replace("listen [::]:443 ssl http2;", "");
    for svc in ["server", "dashboard"] {
        let name = env.home.container(sub, svc);
        server = server.replace(&format!("\"{name}"), &format!("\"{}", container_ip(&name)));
    }
    let conf = format!(
        "pid {d}/nginx.pid;\nerror_log {d}/error.log;\nevents {{}}\nhttp {{\n access_log off;\n{server}\n}}\n",
        d = dir.display()
    );
    std::fs::write(dir.join("nginx.conf"), &conf).unwrap();
    let child = Command::new(&nginx)
        .args(["-p", dir.to_str().unwrap(), "-c", dir.join("nginx.conf").to_str().unwrap(), "-g", "daemon off;"])
        .spawn()
        .unwrap();
    let guard = Nginx { child, binary: nginx, dir: dir.to_path_buf() };
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nginx did not start:\n{conf}");
        std::thread::sleep(Duration::from_millis(50));
    }
    guard
}

#[test]
fn the_public_path_is_checked_through_a_real_proxy_and_only_ever_warns() {
    if nginx_binary().is_none() {
        eprintln!("SKIPPED: nginx is not installed here");
        return;
    }
    let Some(env) = DockerEnv::new("the_public_path_is_checked_through_a_real_proxy") else { return };
    let sub = env.subdomain("pub");
    let email = format!("it@{sub}.example");
    assert_eq!(env.home.run(&["customer", "create", "--name", "P", "--subdomain", &sub, "--email", &email]).code, 0);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    assert_eq!(env.home.run(&["settings", "set", "proxy.https_address", &format!("127.0.0.1:{port}")]).code, 0);

    let dir = tempfile::tempdir().unwrap();
    let proxy = start_proxy(&env, &sub, dir.path(), port);
    let r = env.home.run(&["customer", "health", &sub, "--json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let public = r.json()["public"].clone();
    assert_eq!(public["api_ok"], true, "NetBird's API through nginx: {public}");
    assert_eq!(public["relay_ok"], true, "the relay WebSocket through nginx: {public}");
    let notes = public["notes"].to_string();
    assert!(notes.contains("not trusted yet"), "a self-signed certificate is named: {notes}");
    assert!(notes.contains("DNS:"), "the domain does not resolve here: {notes}");

    // The proxy goes away: users are cut off, which is a warning; the stack itself is healthy.
    drop(proxy);
    let r = env.home.run(&["customer", "health", &sub, "--json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let h = r.json();
    assert_eq!(h["healthy"], true);
    assert_eq!((h["public"]["api_ok"].as_bool(), h["public"]["relay_ok"].as_bool()), (Some(false), Some(false)), "{h}");
    let text = env.home.run(&["customer", "health", &sub]).stdout;
    assert!(text.contains("WARN public"), "{text}");
}
