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

    /// Writes `content` to a file in the home's parent-less temp area and returns its path.
    pub fn file(&self, name: &str, content: &str) -> PathBuf {
        let p = self.path().join(name);
        std::fs::write(&p, content).expect("write file");
        p
    }
}
