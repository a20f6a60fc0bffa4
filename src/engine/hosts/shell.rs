//! Shell work on a remote host, where the customer's instance files are: they go there and come
//! back as tar streams, checked and removed by small POSIX scripts. An ssh:// host runs them
//! with the system's OpenSSH (the operator's keys, agent, config and known hosts, as the docker
//! CLI uses them); a tcp:// host, where nbmsp has only Docker's API, runs the same scripts in a
//! busybox helper container that sees the data dir ([`crate::engine::docker::helper`]).
//!
//! HTTP checks of an ssh:// host's containers go through a SOCKS tunnel (`ssh -D`), so they
//! reach the Docker network on that host as they would on this one (a tcp:// host's through
//! [`crate::engine::docker::socks`]).

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};

use crate::domain::host::{DockerAddress, Host};
use crate::engine::EngineError;

/// How long an SSH login (and the tunnel's first answer) may take.
const LOGIN_TIMEOUT: Duration = Duration::from_secs(15);

fn ssh_error(host: &Host, detail: impl std::fmt::Display) -> EngineError {
    let over = if matches!(host.docker, DockerAddress::Ssh { .. }) { "over SSH" } else { "through a helper container" };
    EngineError::Files(format!("host {} {over}: {detail}", host.name))
}

/// A remote host as its shell work reaches it.
#[derive(Debug, Clone)]
pub struct Shell {
    /// The host.
    pub host: Host,
    /// Where instance files go there (its own data dir, else the setting's): a tcp:// host's
    /// helper sees this dir and nothing else.
    pub data_dir: String,
    /// `images.helper`, for a tcp:// host.
    pub helper_image: String,
}

/// `ssh` with the options nbmsp needs: no prompts (it runs unattended), new host keys
/// accepted once and then held to (as the docker CLI's SSH does), the host's key if recorded.
fn ssh(host: &Host) -> Result<Command, EngineError> {
    let DockerAddress::Ssh { user, host: addr, port } = &host.docker else {
        return Err(EngineError::Usage(format!(
            "host {} is reached over {}: nbmsp places instance files only on ssh:// hosts",
            host.name,
            host.docker.uri()
        )));
    };
    let mut cmd = Command::new("ssh");
    crate::engine::hosts::process::scrub(&mut cmd);
    cmd.args(["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=accept-new", "-o", "ConnectTimeout=10"]);
    cmd.args(["-o", "ServerAliveInterval=15", "-p", &port.to_string()]);
    if let Some(key) = &host.ssh_key {
        cmd.args(["-i", key, "-o", "IdentitiesOnly=yes"]);
    }
    cmd.arg(format!("{user}@{addr}"));
    cmd.kill_on_drop(true);
    Ok(cmd)
}

/// A path as one word for the remote shell.
fn quote(p: &Path) -> String {
    format!("'{}'", p.to_string_lossy().replace('\'', r"'\''"))
}

/// Runs `script` on the host (over SSH, or in a helper on a tcp:// host), feeding it `input`; its stdout comes back. A failure carries
/// what the remote side printed on stderr.
async fn run(sh: &Shell, script: &str, input: Vec<u8>) -> Result<Vec<u8>, EngineError> {
    let host = &sh.host;
    if !matches!(host.docker, DockerAddress::Ssh { .. }) {
        let engine = crate::engine::docker::DockerEngine::connect_to(host, &sh.helper_image).await?;
        return crate::engine::docker::helper::run_script(&engine, &sh.helper_image, &sh.data_dir, script, input)
            .await
            .map_err(|e| ssh_error(host, e));
    }
    // Every script here may run twice (it writes whole files, reads, checks or removes), so a
    // login that failed in passing is simply tried again.
    let mut attempt = 1;
    loop {
        let mut cmd = ssh(host)?;
        cmd.arg("--").arg(script).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| ssh_error(host, format!("cannot run ssh: {e}")))?;
        let mut stdin = child.stdin.take();
        let input = input.clone();
        let feed = async move {
            if let Some(s) = stdin.as_mut() {
                s.write_all(&input).await?;
                s.shutdown().await?;
            }
            drop(stdin);
            Ok::<_, std::io::Error>(())
        };
        let (fed, out) = tokio::join!(feed, child.wait_with_output());
        let out = out.map_err(|e| ssh_error(host, e))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let err = crate::domain::sanitize::terminal_safe(err.trim());
            // 255 is ssh's own failure; the scripts never exit with it.
            if out.status.code() == Some(255) && attempt < LOGIN_ATTEMPTS && login_may_pass(&err) {
                tracing::debug!(host = %host.name, attempt, error = %err, "ssh failed; trying again");
                tokio::time::sleep(login_pause(attempt)).await;
                attempt += 1;
                continue;
            }
            return Err(ssh_error(host, if err.is_empty() { format!("exited with {}", out.status) } else { err }));
        }
        fed.map_err(|e| ssh_error(host, format!("writing to ssh: {e}")))?;
        return Ok(out.stdout);
    }
}

/// Attempts at an SSH login before its error is the answer.
pub const LOGIN_ATTEMPTS: u32 = 3;

/// How long to wait before attempt `attempt + 1` at a login: long enough for sshd to have let
/// the logins that crowded it in, short enough not to be felt.
pub fn login_pause(attempt: u32) -> Duration {
    Duration::from_millis(300 * u64::from(attempt))
}

/// Whether an SSH login that failed with these words (ssh's stderr) may succeed when tried
/// again. A refused key, a changed or unverifiable host key, a name that does not resolve, a
/// host that cannot be reached (waited for once is enough) or a configuration error will not;
/// a connection dropped or reset before the login finished will (sshd drops new connections at
/// random while too many are unauthenticated, `MaxStartups`).
pub fn login_may_pass(words: &str) -> bool {
    const LASTING: [&str; 12] = [
        "Permission denied",
        "Host key verification failed",
        "IDENTIFICATION HAS CHANGED",
        "Could not resolve",
        "Too many authentication failures",
        "Bad configuration",
        "no such identity",
        "Connection refused",
        "Connection timed out",
        "Operation timed out",
        "No route to host",
        "Network is unreachable",
    ];
    !LASTING.iter().any(|w| words.contains(w))
}

/// A file to write on a host: name in the dir, content, mode.
pub type FileOut<'a> = (&'a str, &'a [u8], u32);

/// A tar stream of `files`, each with its own mode.
fn tar_of(host: &Host, files: &[FileOut<'_>]) -> Result<Vec<u8>, EngineError> {
    let mut tar = tar::Builder::new(Vec::new());
    let now = u64::try_from(time::OffsetDateTime::now_utc().unix_timestamp()).unwrap_or(0);
    for (name, content, mode) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(content.len() as u64);
        h.set_mode(*mode);
        h.set_mtime(now);
        tar.append_data(&mut h, name, *content).map_err(|e| ssh_error(host, e))?;
    }
    tar.into_inner().map_err(|e| ssh_error(host, e))
}

/// Writes `files` into `dir` on the host, creating it private (0700, with `data/`) as
/// [`crate::engine::stack::instance::create_dirs`] does here.
pub async fn push_files(sh: &Shell, dir: &Path, files: &[FileOut<'_>]) -> Result<(), EngineError> {
    let host = &sh.host;
    let d = quote(dir);
    let script = format!("umask 077 && mkdir -p {d}/data && chmod 700 {d} {d}/data && tar -x --no-same-owner -C {d}");
    run(sh, &script, tar_of(host, files)?).await.map(|_| ())
}

/// Writes `files` into the existing `dir` on the host.
pub async fn put_files(sh: &Shell, dir: &Path, files: &[FileOut<'_>]) -> Result<(), EngineError> {
    let host = &sh.host;
    run(sh, &format!("tar -x --no-same-owner -C {}", quote(dir)), tar_of(host, files)?).await.map(|_| ())
}

/// The named files of `dir` on the host that exist there, with their content.
pub async fn read_files(sh: &Shell, dir: &Path, names: &[&str]) -> Result<Vec<(String, Vec<u8>)>, EngineError> {
    let host = &sh.host;
    let list: Vec<String> = names.iter().map(|n| quote(Path::new(n))).collect();
    let script = format!(
        // No `tar -T`: busybox builds may lack it. The names are collected as arguments.
        "cd {} && set -- && for f in {}; do [ -f \"$f\" ] && set -- \"$@\" \"$f\"; done; if [ $# -gt 0 ]; then tar -c -f - \"$@\"; fi",
        quote(dir),
        list.join(" ")
    );
    let archive = run(sh, &script, Vec::new()).await?;
    let mut out = Vec::new();
    let mut t = tar::Archive::new(archive.as_slice());
    for entry in t.entries().map_err(|e| ssh_error(host, e))? {
        let mut entry = entry.map_err(|e| ssh_error(host, e))?;
        let name = entry.path().map_err(|e| ssh_error(host, e))?.to_string_lossy().into_owned();
        let mut content = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut content).map_err(|e| ssh_error(host, e))?;
        out.push((name, content));
    }
    Ok(out)
}

/// Copies the whole tree at `local` to `dir` on the host (a restore or a move).
pub async fn push_tree(sh: &Shell, local: &Path, dir: &Path) -> Result<(), EngineError> {
    let from = local.to_path_buf();
    let archive = crate::engine::blocking(move || {
        let mut tar = tar::Builder::new(Vec::new());
        tar.follow_symlinks(false);
        tar.append_dir_all(".", &from).map_err(|e| EngineError::Files(format!("{}: {e}", from.display())))?;
        tar.into_inner().map_err(|e| EngineError::Files(e.to_string()))
    })
    .await?;
    let d = quote(dir);
    let script = format!("umask 077 && mkdir -p {d} && chmod 700 {d} && tar -x --no-same-owner -C {d}");
    run(sh, &script, archive).await.map(|_| ())
}

/// Copies the tree at `dir` on the host into `local` (which must not exist yet).
pub async fn fetch_tree(sh: &Shell, dir: &Path, local: &Path) -> Result<(), EngineError> {
    let archive = run(sh, &format!("tar -c -C {} .", quote(dir)), Vec::new()).await?;
    let into = local.to_path_buf();
    crate::engine::blocking(move || {
        std::fs::create_dir_all(&into).map_err(|e| EngineError::Files(format!("{}: {e}", into.display())))?;
        let mut t = tar::Archive::new(archive.as_slice());
        t.set_preserve_permissions(true);
        t.unpack(&into).map_err(|e| EngineError::Files(format!("unpacking into {}: {e}", into.display())))
    })
    .await
}

/// (percent used, bytes free) of the filesystem holding `path` on the host (its nearest
/// existing ancestor, as [`super::local::disk_usage`] measures here).
pub async fn disk_usage(sh: &Shell, path: &Path) -> Result<(f64, u64), EngineError> {
    let host = &sh.host;
    let script = format!("p={}; while [ ! -e \"$p\" ]; do p=$(dirname \"$p\"); done; df -Pk \"$p\"", quote(path));
    let out = run(sh, &script, Vec::new()).await?;
    parse_df(&String::from_utf8_lossy(&out))
        .ok_or_else(|| ssh_error(host, format!("df said something else: {}", String::from_utf8_lossy(&out).trim())))
}

/// Reads POSIX `df -Pk` output: used / (used + available), as df's own percentage, and the
/// bytes available to unprivileged users.
fn parse_df(out: &str) -> Option<(f64, u64)> {
    let line = out.lines().nth(1)?;
    let fields: Vec<&str> = line.split_whitespace().collect();
    // The filesystem name may hold spaces: the numbers are counted from the end.
    let n = fields.len();
    if n < 6 {
        return None;
    }
    let used: u64 = fields[n - 4].parse().ok()?;
    let avail: u64 = fields[n - 3].parse().ok()?;
    let denom = used + avail;
    let percent = if denom > 0 { used as f64 * 100.0 / denom as f64 } else { 0.0 };
    Some((percent, avail.saturating_mul(1024)))
}

/// What [`probe`] asks of a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// It exists.
    Exists,
    /// It is a directory holding something.
    HasFiles,
}

/// Answers every check in one SSH session (a script fed on stdin, one line per check): what a
/// fleet-wide pass such as reconcile asks of hundreds of customers costs one login per host.
pub async fn probe(sh: &Shell, checks: &[(Probe, &Path)]) -> Result<Vec<bool>, EngineError> {
    let host = &sh.host;
    let mut script = String::new();
    for (what, path) in checks {
        let test = match what {
            Probe::Exists => format!("[ -e {} ]", quote(path)),
            Probe::HasFiles => format!("[ -n \"$(ls -A {} 2>/dev/null)\" ]", quote(path)),
        };
        script.push_str(&format!("if {test}; then echo 1; else echo 0; fi\n"));
    }
    let out = run(sh, "sh -s", script.into_bytes()).await?;
    let answers: Vec<bool> = String::from_utf8_lossy(&out).lines().map(|l| l.trim() == "1").collect();
    if answers.len() != checks.len() {
        return Err(ssh_error(host, format!("{} answers to {} checks", answers.len(), checks.len())));
    }
    Ok(answers)
}

/// Removes `dir` on the host. Only a customer's instance dir is ever passed here: the path
/// must be absolute and at least two levels deep, so a bad setting cannot reach `/`.
pub async fn remove_tree(sh: &Shell, dir: &Path) -> Result<(), EngineError> {
    let host = &sh.host;
    if !dir.is_absolute() || dir.components().count() < 3 {
        return Err(ssh_error(host, format!("refusing to remove {}", dir.display())));
    }
    run(sh, &format!("rm -rf -- {}", quote(dir)), Vec::new()).await.map(|_| ())
}

/// Why one attempt at a tunnel failed.
enum Failed {
    /// ssh ended with these words.
    Login(String),
    /// Anything else (no local port, no ssh to run, no answer in time).
    Other(EngineError),
}

impl From<EngineError> for Failed {
    fn from(e: EngineError) -> Self {
        Self::Other(e)
    }
}

/// An `ssh -D` SOCKS tunnel to the host, alive as long as this value.
#[derive(Debug)]
pub struct Tunnel {
    /// Where the SOCKS proxy listens here.
    pub addr: SocketAddr,
    _child: Child,
}

impl Tunnel {
    /// Opens the tunnel and waits until it answers (or the login fails, said with ssh's words;
    /// a login that failed in passing is tried again).
    pub async fn open(host: &Host) -> Result<Self, EngineError> {
        let mut attempt = 1;
        loop {
            match Self::open_once(host).await {
                Err(Failed::Login(words)) if attempt < LOGIN_ATTEMPTS && login_may_pass(&words) => {
                    tokio::time::sleep(login_pause(attempt)).await;
                    attempt += 1;
                }
                Err(Failed::Login(words)) => return Err(ssh_error(host, words)),
                Err(Failed::Other(e)) => return Err(e),
                Ok(t) => return Ok(t),
            }
        }
    }

    async fn open_once(host: &Host) -> Result<Self, Failed> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| ssh_error(host, format!("no local port for the tunnel: {e}")))?
            .port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut cmd = ssh(host)?;
        cmd.args(["-N", "-o", "ExitOnForwardFailure=yes", "-D", &addr.to_string()]);
        cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| ssh_error(host, format!("cannot run ssh: {e}")))?;
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait().map_err(|e| ssh_error(host, e))? {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = e.read_to_string(&mut err).await;
                }
                let err = crate::domain::sanitize::terminal_safe(err.trim());
                return Err(Failed::Login(format!("tunnel ended ({status}): {err}")));
            }
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                return Ok(Self { addr, _child: child });
            }
            if start.elapsed() > LOGIN_TIMEOUT {
                return Err(ssh_error(host, format!("no tunnel within {} s", LOGIN_TIMEOUT.as_secs())).into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_logins_that_failed_in_passing_are_tried_again() {
        assert!(login_may_pass("kex_exchange_identification: read: Connection reset by peer"));
        assert!(login_may_pass("Connection closed by 10.0.0.2 port 22"));
        assert!(login_may_pass(""));
        assert!(!login_may_pass("root@10.0.0.2: Permission denied (publickey)."));
        assert!(!login_may_pass("Host key verification failed."));
        assert!(!login_may_pass("ssh: connect to host 10.0.0.2 port 22: Connection timed out"));
        assert!(!login_may_pass("ssh: Could not resolve hostname h: Name or service not known"));
    }

    #[test]
    fn paths_are_one_word_for_the_remote_shell() {
        assert_eq!(quote(Path::new("/srv/nb/a b")), "'/srv/nb/a b'");
        assert_eq!(quote(Path::new("/srv/it's")), r"'/srv/it'\''s'");
    }
}
