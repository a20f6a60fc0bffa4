//! The real binary in a real terminal: a detached tmux session the test types into and reads.
#![allow(dead_code)]

use std::process::Command;
use std::time::{Duration, Instant};

use super::{ADMIN_PASSWORD, Home};

/// A tmux session running `nbmsp`, killed when dropped.
pub struct Tmux {
    pub session: String,
}

impl Tmux {
    pub fn keys(&self, keys: &[&str]) {
        let st = Command::new("tmux").args(["send-keys", "-t", &self.session]).args(keys).status().unwrap();
        assert!(st.success());
    }

    pub fn screen(&self) -> String {
        let out = Command::new("tmux").args(["capture-pane", "-p", "-t", &self.session]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the screen shows `text` (the app draws asynchronously).
    pub fn wait_for(&self, text: &str) -> String {
        self.wait_for_within(text, Duration::from_secs(15))
    }

    /// [`Self::wait_for`] for work whose length depends on the machine's disk (`limit`).
    pub fn wait_for_within(&self, text: &str, limit: Duration) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if s.contains(text) {
                return s;
            }
            assert!(start.elapsed() < limit, "waited for {text:?}; the screen shows:\n{s}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Presses Escape one at a time until the screen shows `text`, at most `times` presses. Each
    /// press waits for the screen to change first, so no two ESC bytes share a read (see
    /// [`Self::wait_gone`]); for screens where a notice may or may not need closing first.
    pub fn escape_until(&self, text: &str, times: usize) -> String {
        for _ in 0..times {
            let before = self.screen();
            if before.contains(text) {
                return before;
            }
            self.keys(&["Escape"]);
            let start = Instant::now();
            while self.screen() == before {
                assert!(start.elapsed() < Duration::from_secs(15), "Escape changed nothing:\n{before}");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        self.wait_for(text)
    }

    /// Waits until the screen no longer shows `text`. Two keys that each change the screen
    /// (Escape, Escape) must be sent with this in between: crossterm reads two ESC bytes that
    /// arrive in one read as a single Esc (an ESC prefix cannot be told from a key pressed twice),
    /// which a busy machine makes likely.
    pub fn wait_gone(&self, text: &str) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if !s.contains(text) {
                return s;
            }
            assert!(start.elapsed() < Duration::from_secs(15), "waited for {text:?} to go; the screen shows:\n{s}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Starts `nbmsp` for data home `home` in a detached tmux session of `cols` x `rows`; its exit
/// code lands in the returned file. Docker is made unreachable so the screens do not depend on it.
pub fn start(h: &Home, home: &std::path::Path, tag: &str, cols: u16, rows: u16) -> (Tmux, std::path::PathBuf) {
    start_with(h, home, tag, cols, rows, "DOCKER_HOST=tcp://127.0.0.1:1")
}

/// [`start`] with other environment assignments (`env`, e.g. none: the local Docker engine).
pub fn start_with(
    h: &Home,
    home: &std::path::Path,
    tag: &str,
    cols: u16,
    rows: u16,
    env: &str,
) -> (Tmux, std::path::PathBuf) {
    let session = format!("nbmsp-{tag}-{}", std::process::id());
    let exit_file = h.path().join(format!("exit-code-{tag}"));
    let cmd = format!(
        "NBMSP_HOME='{}' {env} NO_COLOR=1 '{}'; echo $? > '{}'; sleep 30",
        home.display(),
        env!("CARGO_BIN_EXE_nbmsp"),
        exit_file.display()
    );
    let (c, r) = (cols.to_string(), rows.to_string());
    // The first sessions of a run start the tmux server; two tests doing it at once can see
    // "server exited unexpectedly" — tried again, not a failure of the app.
    let mut said = String::new();
    let started = (0..3).any(|_| {
        let out = Command::new("tmux")
            .args(["new-session", "-d", "-s", &session, "-x", &c, "-y", &r, &cmd])
            .output()
            .unwrap();
        said = String::from_utf8_lossy(&out.stderr).into_owned();
        out.status.success()
    });
    assert!(started, "tmux new-session: {said}");
    (Tmux { session }, exit_file)
}

/// Waits for the app to exit and returns its exit code.
pub fn exit_code(t: &Tmux, exit_file: &std::path::Path) -> String {
    // The shell creates the file before it writes the status into it: an empty file is not
    // an answer yet (read between the two, it failed a test under load).
    let start = Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(exit_file)
            && text.ends_with('\n')
        {
            return text.trim().to_string();
        }
        assert!(start.elapsed() < Duration::from_secs(10), "nbmsp did not exit; screen:\n{}", t.screen());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Types the admin password at the login screen.
pub fn log_in(t: &Tmux) {
    t.wait_for("log in");
    t.keys(&["-l", ADMIN_PASSWORD]);
    t.keys(&["Enter"]);
}

pub fn tmux_missing() -> bool {
    if Command::new("tmux").arg("-V").output().is_ok() {
        return false;
    }
    assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "tmux is missing in CI (.ci/run installs it)");
    eprintln!("SKIPPED: tmux is not installed here");
    true
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["kill-session", "-t", &self.session]).output();
    }
}
