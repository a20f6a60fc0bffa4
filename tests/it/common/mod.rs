//! Helpers for tests that run the real `nbmsp` binary against a private data home.
#![allow(dead_code)]

pub mod docker;
pub mod http;
pub mod npm_standin;
pub mod receiver;
pub mod remote;
pub mod tmux;
pub mod worker;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The admin password every test home is initialised with.
pub const ADMIN_PASSWORD: &str = "admin-password-1";

/// A private data home and a way to run `nbmsp` in it.
pub struct Home {
    pub dir: tempfile::TempDir,
}

/// What one run printed and how it ended.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout parsed as JSON; panics with both streams when it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr))
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Home {
    /// An empty home (not initialised).
    pub fn empty() -> Self {
        Home { dir: tempfile::tempdir().expect("temp dir") }
    }

    /// A home initialised with admin/`ADMIN_PASSWORD`, base domain msp.example.
    pub fn initialised() -> Self {
        let h = Self::empty();
        let r = h.run_with(
            &["init", "--admin-email", "ops@msp.example", "--base-domain", "msp.example", "--beside-foreign"],
            &[("NBMSP_PASSWORD", ADMIN_PASSWORD)],
        );
        assert_eq!(r.code, 0, "init failed: {}", r.stderr);
        h
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The last `n` lines of every log file of this home (for a failure's message).
    pub fn log_tail(&self, n: usize) -> String {
        let Ok(dir) = std::fs::read_dir(self.path().join("logs")) else { return "(no logs)".into() };
        let mut out = String::new();
        for entry in dir.flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            out.push_str(&format!("== {}\n", entry.path().display()));
            out.push_str(&lines[lines.len().saturating_sub(n)..].join("\n"));
            out.push('\n');
        }
        out
    }

    /// A command for `nbmsp` in this home, with no password in the environment and no stdin.
    pub fn command(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_nbmsp"));
        c.env("NBMSP_HOME", self.path())
            .env_remove("NBMSP_PASSWORD")
            .env_remove("NBMSP_USER")
            .env_remove("NBMSP_NEW_PASSWORD")
            .stdin(Stdio::null());
        c
    }

    /// Runs `nbmsp args` logged in as admin (password from the environment).
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, &[("NBMSP_PASSWORD", ADMIN_PASSWORD)])
    }

    /// Runs `nbmsp args` with extra environment variables.
    pub fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut c = self.command();
        c.args(args);
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().expect("run nbmsp").into()
    }

    /// The name of customer `sub`'s container for `service` in this installation (its names
    /// carry the installation's prefix when it was made beside another, as tests' are).
    pub fn container(&self, sub: &str, service: &str) -> String {
        format!("netbird-{}{sub}-{service}", self.name_prefix())
    }

    /// This installation's container-name prefix (empty, or its short id and a dash).
    pub fn name_prefix(&self) -> String {
        let conn = rusqlite::Connection::open(self.path().join("nbmsp.db")).expect("open the database");
        conn.query_row("SELECT value FROM meta WHERE key = 'name_prefix'", [], |r| r.get(0)).unwrap_or_default()
    }

    /// Writes `content` to a file in the home's parent-less temp area and returns its path.
    pub fn file(&self, name: &str, content: &str) -> PathBuf {
        let p = self.path().join(name);
        std::fs::write(&p, content).expect("write file");
        p
    }
}

/// A directory whose filesystem is full: a tmpfs mounted over it holding what was there,
/// with every inode taken, so creating any file in it fails with ENOSPC as on a full disk.
/// Unmounted when dropped (what was under it comes back unchanged). Needs root, which CI is.
pub struct FullDisk {
    at: PathBuf,
}

impl FullDisk {
    /// Fills `dir` (created if missing), or `None` (skipped) where mounting is not allowed
    /// outside CI.
    pub fn at(dir: &Path, test: &str) -> Option<Self> {
        Self::leaving(dir, test, 0)
    }

    /// Like [`FullDisk::at`], but with `pages` 4 KiB pages left free (files can still be
    /// created), so a disk fills up in the middle of what a test runs.
    pub fn leaving(dir: &Path, test: &str, pages: u64) -> Option<Self> {
        std::fs::create_dir_all(dir).expect("create the dir to fill");
        let keep = tempfile::tempdir().expect("temp dir");
        let copy = |from: &Path, to: &Path| {
            let out = Command::new("cp").arg("-a").arg(from.join(".")).arg(to).output().expect("run cp");
            assert!(out.status.success(), "cp: {}", String::from_utf8_lossy(&out.stderr));
        };
        copy(dir, keep.path());
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=8m,nr_inodes=256,mode=0700", "tmpfs"])
            .arg(dir)
            .output()
            .expect("run mount");
        if !out.status.success() {
            let why = String::from_utf8_lossy(&out.stderr).trim().to_string();
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("{test}: cannot mount a tmpfs to fill (CI runs as root): {why}");
            }
            eprintln!("SKIPPED {test}: cannot mount a tmpfs here ({why})");
            return None;
        }
        let full = Self { at: dir.to_path_buf() };
        copy(keep.path(), dir);
        // Every byte, then every inode, then `pages` given back.
        let filler = dir.join(".filler");
        let mut f = std::fs::File::create_new(&filler).expect("create the filler");
        let block = vec![0u8; 64 * 1024];
        while std::io::Write::write_all(&mut f, &block).is_ok() {}
        let mut small = vec![0u8; 4096];
        while !small.is_empty() {
            if std::io::Write::write_all(&mut f, &small).is_err() {
                small.truncate(small.len() / 2);
            }
        }
        let mut n = 0;
        while pages == 0 && std::fs::File::create_new(dir.join(format!(".filler-{n}"))).is_ok() {
            n += 1;
        }
        if pages > 0 {
            let len = f.metadata().expect("filler size").len();
            f.set_len(len.saturating_sub(pages * 4096)).expect("give pages back");
        }
        Some(full)
    }
}

impl Drop for FullDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.at).output();
    }
}
