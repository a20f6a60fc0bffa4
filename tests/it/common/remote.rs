//! A second Docker host on this machine for tests: a network namespace of its own (one veth to
//! this machine, so its address is all that is reachable of it — its Docker networks are not,
//! as on a real remote host), its own `dockerd` (socket, data root, exec root, no default
//! bridge) and `sshd` inside it. It is reached over SSH with a key the test makes (sessions
//! get `DOCKER_HOST` pointing at that daemon, so `docker system dial-stdio` lands there) and
//! over tcp:// with TLS certificates made for the test. Dropping it removes its containers,
//! stops both daemons, removes the namespace and deletes the files.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The second host.
pub struct RemoteHost {
    /// Everything of it lives here.
    pub dir: PathBuf,
    /// Its engine's socket.
    pub socket: PathBuf,
    /// `ssh://root@IP`.
    pub ssh_uri: String,
    /// The key that opens it.
    pub ssh_key: PathBuf,
    /// `tcp://IP:2376` (TLS).
    pub tcp_uri: String,
    /// CA, client certificate and key for the tcp:// side.
    pub tls: (PathBuf, PathBuf, PathBuf),
    /// Where customers' instance files live on it.
    pub data_dir: PathBuf,
    /// Its address (public IP, SSH and TLS endpoints).
    pub ip: String,
    netns: String,
    veth: String,
    dockerd: Child,
    sshd: Child,
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Waits until `ready` holds, failing with `what` and the log after `limit`.
fn wait(what: &str, log: &Path, limit: Duration, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(
            start.elapsed() < limit,
            "{what} not ready within {limit:?}:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl RemoteHost {
    /// Starts the second host (fails the test when it cannot).
    pub fn start(tag: &str) -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        // Short: a unix socket path has a ~100 byte limit.
        let dir = PathBuf::from(format!("/tmp/nbr-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let socket = dir.join("d.sock");
        let data_dir = dir.join("instances");
        std::fs::create_dir_all(&data_dir).unwrap();

        // The host's network: a namespace and a /30 to it, unique per host of this test run.
        let idx = (std::process::id() % 4000) * 4 + n;
        let (hi, lo) = ((idx * 4) / 256 % 256, (idx * 4) % 256);
        let netns = format!("nbr{idx}");
        let veth = format!("vh{idx}");
        let ip = format!("10.250.{hi}.{}", lo + 2);
        let _ = Command::new("ip").args(["netns", "del", &netns]).output();
        let _ = Command::new("ip").args(["link", "del", &veth]).output();
        let inside = format!("vn{idx}");
        for args in [
            vec!["netns", "add", &netns],
            vec!["link", "add", &veth, "type", "veth", "peer", "name", &inside],
            vec!["link", "set", &inside, "netns", &netns],
            vec!["addr", "add", &format!("10.250.{hi}.{}/30", lo + 1), "dev", &veth],
            vec!["link", "set", &veth, "up"],
        ] {
            run(Command::new("ip").args(&args));
        }
        for args in [
            vec!["addr", "add", &format!("{ip}/30"), "dev", &inside],
            vec!["link", "set", &inside, "up"],
            vec!["link", "set", "lo", "up"],
        ] {
            run(Command::new("ip").args(["netns", "exec", &netns, "ip"]).args(&args));
        }
        // nsenter --net: only the network is the host's own; ip netns exec would also remount
        // /sys, which hides the cgroups dockerd needs. Never start this dockerd in this
        // machine's own namespace: with --bridge=none dockerd deletes any docker0 it finds,
        // and that one belongs to the main engine.
        let ns = format!("--net=/var/run/netns/{netns}");

        // TLS: a CA, the daemon's certificate for its address, the client's.
        let ssl = |args: &[&str]| run(Command::new("openssl").current_dir(&dir).args(args).stderr(Stdio::piped()));
        ssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=test-ca",
            "-keyout",
            "ca-key.pem",
            "-out",
            "ca.pem",
        ]);
        let server_ext = format!("subjectAltName=IP:{ip}\nextendedKeyUsage=serverAuth");
        for (name, ext) in [("server", server_ext.as_str()), ("client", "extendedKeyUsage=clientAuth")] {
            std::fs::write(dir.join(format!("{name}.ext")), ext).unwrap();
            ssl(&[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                &format!("/CN={name}"),
                "-keyout",
                &format!("{name}-key.pem"),
                "-out",
                &format!("{name}.csr"),
            ]);
            ssl(&[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca-key.pem",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                &format!("{name}.ext"),
                "-out",
                &format!("{name}.pem"),
            ]);
        }

        let tcp_port = 2376;
        std::fs::write(dir.join("daemon.json"), "{}").unwrap();
        let log = std::fs::File::create(dir.join("dockerd.log")).unwrap();
        let dockerd = Command::new("nsenter")
            .args([ns.as_str(), "dockerd"])
            .args(["--config-file", &dir.join("daemon.json").to_string_lossy()])
            .args(["--host", &format!("unix://{}", socket.display())])
            .args(["--host", &format!("tcp://{ip}:{tcp_port}")])
            .args(["--tlsverify", "--tlscacert", &dir.join("ca.pem").to_string_lossy()])
            .args(["--tlscert", &dir.join("server.pem").to_string_lossy()])
            .args(["--tlskey", &dir.join("server-key.pem").to_string_lossy()])
            .args(["--data-root", &dir.join("data").to_string_lossy()])
            .args(["--exec-root", &dir.join("exec").to_string_lossy()])
            .args(["--pidfile", &dir.join("docker.pid").to_string_lossy()])
            .args(["--iptables=false", "--ip-masq=false", "--bridge=none"])
            .args(["--default-address-pool", "base=10.213.0.0/16,size=24"])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start a second dockerd");

        // SSH: a host key, the test's key, sshd on a free port for root with that key only.
        run(Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-f"]).arg(dir.join("host_key")));
        run(Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-f"]).arg(dir.join("id_test")));
        std::fs::copy(dir.join("id_test.pub"), dir.join("authorized_keys")).unwrap();
        let ssh_port = 22;
        // A key left from an earlier host at this address would make ssh refuse this one.
        let _ = Command::new("ssh-keygen").args(["-R", &ip]).output();
        std::fs::create_dir_all("/run/sshd").unwrap();
        let config = format!(
            "Port {ssh_port}\nListenAddress {ip}\nHostKey {d}/host_key\nPidFile {d}/sshd.pid\n\
             AuthorizedKeysFile {d}/authorized_keys\nStrictModes no\nPermitRootLogin prohibit-password\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n\
             SetEnv DOCKER_HOST=unix://{sock}\n",
            d = dir.display(),
            sock = socket.display()
        );
        std::fs::write(dir.join("sshd_config"), config).unwrap();
        let slog = std::fs::File::create(dir.join("sshd.log")).unwrap();
        let sshd = Command::new("nsenter")
            .args([ns.as_str(), "/usr/sbin/sshd", "-D", "-e", "-f"])
            .arg(dir.join("sshd_config"))
            .stdout(slog.try_clone().unwrap())
            .stderr(slog)
            .spawn()
            .expect("start sshd (openssh-server)");

        let host = Self {
            ssh_uri: format!("ssh://root@{ip}"),
            ssh_key: dir.join("id_test"),
            tcp_uri: format!("tcp://{ip}:{tcp_port}"),
            tls: (dir.join("ca.pem"), dir.join("client.pem"), dir.join("client-key.pem")),
            socket,
            data_dir,
            ip: ip.clone(),
            netns,
            veth,
            dockerd,
            sshd,
            dir,
        };
        let sock = host.socket.clone();
        wait(&format!("{tag}: the second dockerd"), &host.dir.join("dockerd.log"), Duration::from_secs(60), || {
            Command::new("docker")
                .args(["-H", &format!("unix://{}", sock.display()), "version"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        });
        wait(&format!("{tag}: sshd"), &host.dir.join("sshd.log"), Duration::from_secs(20), || {
            std::net::TcpStream::connect((ip.as_str(), ssh_port)).is_ok()
        });
        host
    }

    /// Its network namespace (`ip netns` name).
    pub fn netns(&self) -> &str {
        &self.netns
    }

    /// Its engine's address for `docker -H`.
    pub fn engine(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// `docker` on this host's engine.
    pub fn docker(&self) -> Command {
        let mut c = Command::new("docker");
        c.args(["-H", &format!("unix://{}", self.socket.display())]);
        c
    }

    /// Copies images from the main engine here (`docker save | docker load`: no registry).
    pub fn load_images(&self, images: &[&str]) {
        let mut save = Command::new("docker").arg("save").args(images).stdout(Stdio::piped()).spawn().unwrap();
        let out = self.docker().arg("load").stdin(save.stdout.take().unwrap()).output().unwrap();
        assert!(save.wait().unwrap().success());
        assert!(out.status.success(), "docker load: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// SSH logins this host's sshd has accepted so far.
    pub fn logins(&self) -> usize {
        let log = std::fs::read_to_string(self.dir.join("sshd.log")).unwrap_or_default();
        log.lines().filter(|l| l.starts_with("Accepted publickey")).count()
    }

    /// Its containers' names (all states).
    pub fn containers(&self) -> Vec<String> {
        let out = self.docker().args(["ps", "-a", "--format", "{{.Names}}"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect()
    }

    /// Stops the engine (the host "goes down"); its sshd stays, like a host whose Docker died.
    pub fn stop_engine(&mut self) {
        let _ = Command::new("kill").arg(self.dockerd.id().to_string()).status();
        let _ = self.dockerd.wait();
    }
}

impl Drop for RemoteHost {
    fn drop(&mut self) {
        let ids = self.docker().args(["ps", "-aq"]).output().map(|o| o.stdout).unwrap_or_default();
        let ids: Vec<String> = String::from_utf8_lossy(&ids).lines().map(str::to_string).collect();
        if !ids.is_empty() {
            let _ = self.docker().args(["rm", "-f"]).args(&ids).output();
        }
        // Every process of the host goes: sshd's sessions (a tunnel's, left when its client
        // died) outlive sshd itself, and would stay behind as orphans.
        let pids = Command::new("ip").args(["netns", "pids", &self.netns]).output().map(|o| o.stdout);
        for pid in String::from_utf8_lossy(&pids.unwrap_or_default()).split_whitespace() {
            let _ = Command::new("kill").arg(pid).status();
        }
        let _ = self.sshd.kill();
        let _ = self.sshd.wait();
        let _ = Command::new("kill").arg(self.dockerd.id().to_string()).status();
        let _ = self.dockerd.wait();
        let _ = Command::new("ip").args(["link", "del", &self.veth]).output();
        let _ = Command::new("ip").args(["netns", "del", &self.netns]).output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The stand-in images a remote host needs for a customer (and the helper a tcp:// host uses).
pub const IMAGES: [&str; 3] =
    ["nbmsp-standin/netbird-server:latest", "nbmsp-standin/dashboard:latest", "nbmsp-standin/busybox:latest"];

/// The command's stdout as JSON (it must have succeeded).
pub fn json(r: &super::Run) -> serde_json::Value {
    assert_eq!(r.code, 0, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", r.stdout))
}

/// `host add NAME` for `remote` over ssh://, with its key and data dir.
pub fn add_ssh_host(env: &super::docker::DockerEnv, remote: &RemoteHost, name: &str) -> super::Run {
    env.home.run(&[
        "host",
        "add",
        name,
        "--docker",
        &remote.ssh_uri,
        "--ssh-key",
        remote.ssh_key.to_str().unwrap(),
        "--public-ip",
        &remote.ip,
        "--data-dir",
        remote.data_dir.to_str().unwrap(),
    ])
}

/// `host add NAME` for `remote` over tcp:// with TLS (`cert`: the client certificate to
/// present) and `extra` options; no SSH is recorded, so nothing of it goes over SSH.
pub fn add_tls_host(
    env: &super::docker::DockerEnv,
    remote: &RemoteHost,
    name: &str,
    cert: &str,
    extra: &[&str],
) -> super::Run {
    let (ca, _, key) = &remote.tls;
    let mut args = vec!["host", "add", name, "--docker", &remote.tcp_uri, "--tls-ca", ca.to_str().unwrap()];
    args.extend(["--tls-cert", cert, "--tls-key", key.to_str().unwrap(), "--public-ip", &remote.ip]);
    args.extend(extra);
    env.home.run(&args)
}

/// The host a customer is placed on.
pub fn host_of(env: &super::docker::DockerEnv, sub: &str) -> String {
    json(&env.home.run(&["customer", "show", sub, "--json"]))["host"].as_str().unwrap().to_string()
}

/// This machine's engine and a second host named `b` with the stand-in images (`None`: no
/// Docker here, outside CI).
pub fn two_hosts(test: &str, tag: &str) -> Option<(super::docker::DockerEnv, RemoteHost)> {
    let env = super::docker::DockerEnv::new(test)?;
    let remote = RemoteHost::start(tag);
    remote.load_images(&IMAGES);
    let r = add_ssh_host(&env, &remote, "b");
    assert_eq!(r.code, 0, "{}", r.stderr);
    Some((env, remote))
}

/// Creates and deploys a customer (subdomain from `prefix`) on `host`; returns its subdomain.
pub fn deployed_on(env: &super::docker::DockerEnv, prefix: &str, host: &str) -> String {
    let sub = env.subdomain(prefix);
    let email = format!("it@{sub}.example");
    let r =
        env.home.run(&["customer", "create", "--name", prefix, "--subdomain", &sub, "--email", &email, "--host", host]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    sub
}
