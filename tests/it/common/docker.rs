//! Helpers for tests on the real Docker engine: availability (fail in CI, skip elsewhere),
//! stand-in images, and an isolated environment that removes what it created even on failure.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use super::Home;

/// True when the engine answers. In CI (`CI=true`) an unreachable engine fails the test; on a
/// developer machine without Docker the test prints that it was skipped.
pub fn available(test: &str) -> bool {
    static UP: OnceLock<Result<(), String>> = OnceLock::new();
    let up = UP.get_or_init(|| {
        let out = Command::new("docker").args(["info", "--format", "{{.ServerVersion}}"]).output();
        match out {
            Ok(o) if o.status.success() => Ok(()),
            Ok(o) => Err(String::from_utf8_lossy(&o.stderr).trim().to_string()),
            Err(e) => Err(format!("cannot run docker: {e}")),
        }
    });
    match up {
        Ok(()) => true,
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("{test}: the Docker engine is unreachable in CI: {e}")
        }
        Err(e) => {
            eprintln!("SKIPPED {test}: no Docker engine here ({e})");
            false
        }
    }
}

/// Builds the stand-in images once per test process (the script itself locks across processes).
pub fn standin_images() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/standin-images.sh");
        let out = Command::new("bash").arg(&script).output().expect("run standin-images.sh");
        assert!(out.status.success(), "standin-images.sh failed:\n{}", String::from_utf8_lossy(&out.stderr));
    });
}

/// A data home configured for the stand-in images, a private Docker network and a UDP port
/// range of its own. Dropping it removes every container of this installation and the network.
pub struct DockerEnv {
    pub home: Home,
    pub network: String,
    pub base_port: u16,
    pub installation: String,
}

fn unique(tag: &str) -> String {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("{tag}{:x}{:x}", std::process::id(), nanos)
}

/// A port range per test name, so tests running in parallel do not race for ports. Every range
/// stays below 32768: Linux hands out 32768–60999 to short-lived sockets, and Docker's embedded
/// DNS listens on one of them inside each container of a user-defined network — a customer's
/// UDP port that lands on it makes NetBird's STUN bind fail at start (seen: "cannot listen on udp
/// 44180: Address already in use", gone at Docker's restart with a new sandbox).
fn base_port(test: &str) -> u16 {
    let h = test.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    10_000 + u16::try_from(h % 1130).unwrap_or(0) * 20
}

impl DockerEnv {
    /// Sets up the environment, or `None` (skipped) when there is no engine outside CI.
    pub fn new(test: &str) -> Option<Self> {
        if !available(test) {
            return None;
        }
        standin_images();
        let home = Home::initialised();
        let network = unique("nbmsp-t-");
        let base_port = base_port(test);
        for (k, v) in [
            ("images.server", "nbmsp-standin/netbird-server:latest".to_string()),
            ("images.dashboard", "nbmsp-standin/dashboard:latest".into()),
            ("images.management", "nbmsp-standin/management:latest".into()),
            ("images.signal", "nbmsp-standin/signal:latest".into()),
            ("images.relay", "nbmsp-standin/relay:latest".into()),
            ("images.proxy", "nbmsp-standin/reverse-proxy:latest".into()),
            ("images.helper", "nbmsp-standin/busybox:latest".into()),
            ("docker_network", network.clone()),
            ("relay_base_port", base_port.to_string()),
            ("relay_port_count", "20".into()),
            ("health_timeout_s", "30".into()),
        ] {
            let r = home.run(&["settings", "set", k, &v]);
            assert_eq!(r.code, 0, "settings set {k}: {}", r.stderr);
        }
        let store = nbmsp::store::Store::open(&home.path().join("nbmsp.db"), false).expect("open store");
        let installation = store.installation_id().expect("installation id");
        Some(Self { home, network, base_port, installation })
    }

    /// A subdomain unique on this engine (container names are global).
    pub fn subdomain(&self, tag: &str) -> String {
        unique(tag)
    }

    /// Names of this installation's containers on the engine.
    pub fn containers(&self) -> Vec<String> {
        let out = Command::new("docker")
            .args([
                "ps",
                "-a",
                "--format",
                "{{.Names}}",
                "--filter",
                &format!("label=nbmsp.installation={}", self.installation),
            ])
            .output()
            .expect("docker ps");
        String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect()
    }

    /// Containers attached to the test network.
    pub fn network_members(&self) -> Vec<String> {
        let out = Command::new("docker")
            .args(["network", "inspect", &self.network, "--format", "{{range .Containers}}{{.Name}} {{end}}"])
            .output()
            .expect("docker network inspect");
        String::from_utf8_lossy(&out.stdout).split_whitespace().map(str::to_string).collect()
    }

    /// Creates a container that carries this installation's labels for a customer that does not
    /// exist (what a crash or an outage can leave behind); returns its name.
    pub fn create_orphan(&self, tag: &str) -> String {
        let name = format!("netbird-{}-server", self.subdomain(tag));
        let out = Command::new("docker")
            .args([
                "create",
                "--name",
                &name,
                "--label",
                &format!("nbmsp.installation={}", self.installation),
                "--label",
                "nbmsp.customer=999",
                "nbmsp-standin/dashboard:latest",
            ])
            .output()
            .expect("docker create");
        assert!(out.status.success(), "docker create: {}", String::from_utf8_lossy(&out.stderr));
        name
    }

    /// Where instance dirs go.
    pub fn data_dir(&self) -> PathBuf {
        self.home.path().join("instances")
    }
}

impl Drop for DockerEnv {
    fn drop(&mut self) {
        let names = self.containers();
        if !names.is_empty() {
            let _ = Command::new("docker").arg("rm").arg("-f").args(&names).output();
        }
        let _ = Command::new("docker").args(["network", "rm", &self.network]).output();
    }
}

/// A TCP forwarder to the local Docker socket that can be cut and restored, to take the
/// engine away from nbmsp in the middle of an operation (what a Docker restart looks like to a
/// client) without touching the engine other tests use.
pub struct DockerLink {
    /// `tcp://127.0.0.1:<port>`, for `DOCKER_HOST`.
    pub host: String,
    cut: std::sync::Arc<std::sync::atomic::AtomicBool>,
    conns: std::sync::Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>,
}

impl DockerLink {
    pub fn start() -> Self {
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let host = format!("tcp://{}", listener.local_addr().unwrap());
        let cut = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let conns = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (c2, k2) = (cut.clone(), conns.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if c2.load(Ordering::SeqCst) {
                    let _ = client.shutdown(std::net::Shutdown::Both);
                    continue;
                }
                let Ok(engine) = std::os::unix::net::UnixStream::connect("/var/run/docker.sock") else { continue };
                k2.lock().unwrap().push(client.try_clone().unwrap());
                let (mut c_in, mut c_out) = (client.try_clone().unwrap(), client);
                let (mut e_in, mut e_out) = (engine.try_clone().unwrap(), engine);
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut c_in, &mut e_out);
                    let _ = e_out.shutdown(std::net::Shutdown::Both);
                });
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut e_in, &mut c_out);
                    let _ = c_out.shutdown(std::net::Shutdown::Both);
                });
            }
        });
        Self { host, cut, conns }
    }

    /// Drops every connection and refuses new ones.
    pub fn cut(&self) {
        self.cut.store(true, std::sync::atomic::Ordering::SeqCst);
        for c in self.conns.lock().unwrap().drain(..) {
            let _ = c.shutdown(std::net::Shutdown::Both);
        }
    }

    /// Lets connections through again.
    pub fn restore(&self) {
        self.cut.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Runs `docker ARGS` when dropped, pass or fail: removes what a test made outside a
/// [`DockerEnv`] (a second network, a foreign container).
pub struct OnDrop(pub Vec<String>);

impl OnDrop {
    /// `docker rm -f NAME` at the end.
    pub fn container(name: &str) -> Self {
        Self(vec!["rm".into(), "-f".into(), name.into()])
    }

    /// `docker network rm NAME` at the end.
    pub fn network(name: &str) -> Self {
        Self(vec!["network".into(), "rm".into(), name.into()])
    }
}

impl Drop for OnDrop {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(&self.0).output();
    }
}
