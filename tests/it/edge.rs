//! The edge's configuration in a real nginx (Debian's, with its stream module): it passes
//! `nginx -t` for a fleet, and traffic goes where the names say, with the visitor's address in a
//! PROXY header only where one is wanted.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use nbmsp::domain::edge::{Plan, Route, nginx_conf};

/// Debian builds the stream module as a dynamic one (package libnginx-mod-stream).
const STREAM_MODULE: &str = "/usr/lib/nginx/modules/ngx_stream_module.so";

fn module() -> &'static str {
    assert!(
        std::path::Path::new(STREAM_MODULE).exists(),
        "{STREAM_MODULE} is missing: apt-get install libnginx-mod-stream (.ci/run does)"
    );
    STREAM_MODULE
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Three free loopback ports in a row for the internal servers.
fn free_run() -> u16 {
    loop {
        let p = free_port();
        if p < 65000 && (1..3).all(|i| TcpListener::bind(("127.0.0.1", p + i)).is_ok()) {
            return p;
        }
    }
}

fn nginx_test(dir: &std::path::Path, conf: &str) -> std::process::Output {
    std::fs::write(dir.join("nginx.conf"), conf).unwrap();
    Command::new("nginx")
        .args(["-t", "-p"])
        .arg(dir)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .output()
        .expect("nginx runs")
}

#[test]
fn the_config_for_a_hundred_customers_passes_nginx_t_and_a_broken_one_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let routes = (0..100)
        .map(|i| Route { domain: format!("c{i:03}.msp.example"), upstream: format!("netbird-c{i:03}-proxy:8443") })
        .collect();
    let plan = Plan {
        listen: "127.0.0.1:443".into(),
        fallback: Some("npm:443".into()),
        routes,
        internal_port: 10443,
        resolver: Some("127.0.0.11".into()),
    };
    let conf = nginx_conf(&plan, Some(module()), dir.path().to_str().unwrap()).unwrap();
    let out = nginx_test(dir.path(), &conf);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // nginx -t really reads the routing: a map entry without its value is refused.
    let broken = conf.replacen("*.c042.msp.example 127.0.0.1:10443;", "*.c042.msp.example;", 1);
    assert_ne!(broken, conf);
    let out = nginx_test(dir.path(), &broken);
    assert!(!out.status.success(), "a broken config passed nginx -t");
}

/// A backend that records what each connection sent first (up to the TLS ClientHello).
struct Backend {
    port: u16,
    seen: mpsc::Receiver<Vec<u8>>,
}

impl Backend {
    fn start() -> Self {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let (tx, seen) = mpsc::channel();
        std::thread::spawn(move || {
            for c in l.incoming() {
                let Ok(mut c) = c else { return };
                c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                let mut buf = vec![0u8; 4096];
                let n = c.read(&mut buf).unwrap_or(0);
                buf.truncate(n);
                if tx.send(buf).is_err() {
                    return;
                }
            }
        });
        Backend { port, seen }
    }

    fn next(&self) -> Vec<u8> {
        self.seen.recv_timeout(Duration::from_secs(10)).expect("a connection reached this backend")
    }

    fn nothing(&self) {
        assert!(self.seen.recv_timeout(Duration::from_millis(300)).is_err(), "a connection reached the wrong backend");
    }
}

/// A TLS ClientHello asking for `name` (what a browser sends first; enough for `ssl_preread`).
pub(crate) fn client_hello(name: &str) -> Vec<u8> {
    let name = name.as_bytes();
    let mut sni = Vec::new();
    let list_len = (name.len() + 3) as u16;
    sni.extend_from_slice(&[0x00, 0x00]); // extension: server_name
    sni.extend_from_slice(&(list_len + 2).to_be_bytes());
    sni.extend_from_slice(&list_len.to_be_bytes());
    sni.push(0x00); // host_name
    sni.extend_from_slice(&(name.len() as u16).to_be_bytes());
    sni.extend_from_slice(name);
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&[7u8; 32]); // random
    body.push(0); // session id
    body.extend_from_slice(&[0x00, 0x02, 0x13, 0x01]); // one cipher suite
    body.extend_from_slice(&[0x01, 0x00]); // no compression
    body.extend_from_slice(&(sni.len() as u16).to_be_bytes());
    body.extend_from_slice(&sni);
    let mut hs = vec![0x01, 0x00];
    hs.extend_from_slice(&(body.len() as u16).to_be_bytes());
    hs.extend_from_slice(&body);
    let mut rec = vec![0x16, 0x03, 0x01];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

struct Nginx(Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn names_reach_their_customers_proxy_with_the_visitors_address_and_the_rest_reaches_npm() {
    let dir = tempfile::tempdir().unwrap();
    let (acme, beta, npm) = (Backend::start(), Backend::start(), Backend::start());
    let listen = free_port();
    let plan = Plan {
        listen: format!("127.0.0.1:{listen}"),
        fallback: Some(format!("127.0.0.1:{}", npm.port)),
        routes: vec![
            Route { domain: "acme.msp.example".into(), upstream: format!("127.0.0.1:{}", acme.port) },
            Route { domain: "beta.msp.example".into(), upstream: format!("127.0.0.1:{}", beta.port) },
        ],
        internal_port: free_run(),
        resolver: None,
    };
    let conf = nginx_conf(&plan, Some(module()), dir.path().to_str().unwrap()).unwrap();
    std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
    let child = Command::new("nginx")
        .args(["-g", "daemon off; master_process off;", "-p"])
        .arg(dir.path())
        .arg("-c")
        .arg(dir.path().join("nginx.conf"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nginx starts");
    let _nginx = Nginx(child);
    let connect = || {
        for _ in 0..100 {
            if let Ok(c) = TcpStream::connect(("127.0.0.1", listen)) {
                return c;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("nginx does not listen on {listen}");
    };
    let send = |name: &str| {
        let mut c = connect();
        let client_port = c.local_addr().unwrap().port();
        c.write_all(&client_hello(name)).unwrap();
        (c, client_port)
    };

    // A service of acme's: its proxy, with a PROXY header naming the visitor, then the hello.
    let (_c, port) = send("wiki.acme.msp.example");
    let got = acme.next();
    let text = String::from_utf8_lossy(&got);
    let header = text.lines().next().unwrap();
    assert!(header.starts_with(&format!("PROXY TCP4 127.0.0.1 127.0.0.1 {port} ")), "{header}");
    let hello = &got[header.len() + 2..];
    assert_eq!(hello, client_hello("wiki.acme.msp.example").as_slice(), "the hello arrives untouched");
    beta.nothing();
    npm.nothing();

    // acme's own management domain: NPM, as it came (no PROXY header: NPM does not expect one).
    let (_c, _) = send("acme.msp.example");
    assert_eq!(npm.next(), client_hello("acme.msp.example"));
    acme.nothing();

    // Another customer's service name never reaches acme; an unknown name goes to NPM.
    let (_c, _) = send("wiki.beta.msp.example");
    assert!(String::from_utf8_lossy(&beta.next()).starts_with("PROXY TCP4 127.0.0.1 "));
    acme.nothing();
    let (_c, _) = send("acme.msp.example.evil.example");
    assert_eq!(npm.next(), client_hello("acme.msp.example.evil.example"));
    acme.nothing();
}
