//! Child processes nbmsp starts (hooks, `ssh`): what they inherit is decided here, once.
//!
//! nbmsp's own secrets reach it through the environment (`NBMSP_PASSWORD` for unattended use),
//! and a child inherits the whole environment unless told otherwise; a DNS hook or an `ssh`
//! has no business with the operator's login password.

use std::sync::OnceLock;

/// Environment variables that carry nbmsp secrets: never passed on to a child.
pub const SECRET_VARS: [&str; 2] = ["NBMSP_PASSWORD", "NBMSP_NEW_PASSWORD"];

static TAKEN: OnceLock<Vec<(&'static str, String)>> = OnceLock::new();

/// Moves the secret variables out of this process's environment into private memory, so that
/// no child started later (including those libraries start, such as bollard's `ssh`) inherits
/// them. Read them back with [`secret_var`].
///
/// # Safety
/// Must run while this process has a single thread (first thing in `main`): changing the
/// environment races with any other thread reading it.
pub unsafe fn take_secret_vars() {
    let mut taken = Vec::new();
    for name in SECRET_VARS {
        if let Ok(value) = std::env::var(name) {
            taken.push((name, value));
        }
        // SAFETY: the caller guarantees no other thread exists yet.
        unsafe { std::env::remove_var(name) };
    }
    let _already = TAKEN.set(taken);
}

/// A secret variable: from what [`take_secret_vars`] took, else (a library caller that never
/// took them, such as a test) from the environment.
pub fn secret_var(name: &str) -> Option<String> {
    match TAKEN.get() {
        Some(taken) => taken.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone()),
        None => std::env::var(name).ok(),
    }
}

/// Removes every secret variable from what `cmd` passes to its child.
pub fn scrub(cmd: &mut tokio::process::Command) -> &mut tokio::process::Command {
    for name in SECRET_VARS {
        cmd.env_remove(name);
    }
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_scrubbed_child_sees_no_secret() {
        let mut cmd = tokio::process::Command::new("env");
        cmd.env("NBMSP_PASSWORD", "hunter2").env("NBMSP_NEW_PASSWORD", "x").env("KEEP", "1");
        let out = scrub(&mut cmd).output().await.expect("run env");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(!text.contains("NBMSP_PASSWORD") && !text.contains("NBMSP_NEW_PASSWORD"), "{text}");
        assert!(text.contains("KEEP=1"), "other variables pass: {text}");
    }
}
