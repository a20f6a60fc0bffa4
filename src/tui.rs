//! The terminal: setup, restore (on every exit path, panics included) and the event loop.
//! The only module that touches the terminal.
//!
//! The loop draws only when `update` marked the state dirty, and drains every queued engine
//! event before drawing, so a burst of log lines costs one frame, and an idle screen writes
//! nothing at all. Log lines alone draw at most four frames a second, one when they flood (`app::detail::log_frame`).

mod quiet;

use std::io::{self, Stdout};
use std::path::PathBuf;

use crossterm::event::{Event, EventStream, KeyEventKind};
use crossterm::execute;
use crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode};
use futures_util::StreamExt;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

use crate::app::keymap;
use crate::app::{self, Action, AppState, Command};
use crate::engine::worker;
use crate::ui;

type Term = Terminal<quiet::Quiet<CrosstermBackend<Stdout>>>;

/// What the app starts with.
#[derive(Debug, Clone)]
pub struct Options {
    /// Data home.
    pub home: PathBuf,
    /// The database file.
    pub db: PathBuf,
    /// Username to log in as.
    pub user: String,
    /// Password for logging in without typing (`--password-file`, `NBMSP_PASSWORD`).
    pub password: Option<String>,
    /// This host's name, for the header.
    pub host: String,
    /// Colour allowed.
    pub color: bool,
}

/// The process's own stderr while it is set aside (-1: not set aside).
static SAVED_STDERR: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(-1);

/// While the screen is up, stderr (fd 2) goes to `file`: programs nbmsp starts inherit it — the
/// ssh under a remote Docker connection passes on what `docker system dial-stdio` says there
/// ("dial unix ...: no such file") — and would write raw text over the screen.
fn set_stderr_aside(file: &std::path::Path) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let log = std::fs::OpenOptions::new().create(true).append(true).open(file)?;
    // SAFETY: plain descriptor calls on descriptors this process owns; failure is checked.
    let saved = unsafe { libc::dup(2) };
    if saved < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above; fd 2 is replaced atomically by dup2.
    if unsafe { libc::dup2(log.as_raw_fd(), 2) } < 0 {
        let e = io::Error::last_os_error();
        // SAFETY: closing the duplicate just made.
        unsafe { libc::close(saved) };
        return Err(e);
    }
    SAVED_STDERR.store(saved, std::sync::atomic::Ordering::SeqCst);
    Ok(())
}

/// Gives the process its own stderr back (before anything is printed to the user).
fn stderr_back() {
    let saved = SAVED_STDERR.swap(-1, std::sync::atomic::Ordering::SeqCst);
    if saved >= 0 {
        // SAFETY: `saved` is the duplicate made by set_stderr_aside, used once.
        unsafe {
            libc::dup2(saved, 2);
            libc::close(saved);
        }
    }
}

/// Puts the terminal back as it was. Safe to call more than once.
pub fn restore() {
    stderr_back();
    let _ = disable_raw_mode();
    let _ =
        execute!(io::stdout(), crossterm::event::DisableMouseCapture, LeaveAlternateScreen, crossterm::cursor::Show);
}

/// Makes panics restore the terminal before the report is printed, so the report is readable.
pub fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
}

fn setup() -> io::Result<Term> {
    enable_raw_mode()?;
    if let Err(e) = execute!(io::stdout(), EnterAlternateScreen) {
        restore();
        return Err(e);
    }
    Terminal::new(quiet::Quiet::new(CrosstermBackend::new(io::stdout())))
}

/// How the app ended: the user quit, or a signal ended it (its number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The user quit (or the input ended).
    Quit,
    /// SIGTERM, SIGHUP or SIGINT from outside: the process exits with 128 + this number, as a
    /// shell reports a command a signal ended, so a supervisor can tell.
    Signal(i32),
}

/// Runs the full-screen app until the user quits or a signal ends it.
pub async fn run(opts: Options) -> io::Result<Ending> {
    let (commands, events) = worker::spawn(opts.db.clone(), opts.home.clone());
    let mut state = if opts.db.exists() {
        AppState::new(opts.host.clone(), opts.user.clone(), opts.color)
    } else {
        AppState::first_run(opts.host.clone(), &opts.home.display().to_string(), opts.color)
    };
    // Rebindings from $NBMSP_HOME/keys.toml; problems are shown, the defaults used for them.
    if let Ok(text) = std::fs::read_to_string(opts.home.join("keys.toml")) {
        let (keys, problems) = keymap::Keymap::load(&text);
        state.keys = std::sync::Arc::new(keys);
        if !problems.is_empty() {
            state.notice = Some(app::Notice { text: problems.join("; "), error: true });
        }
    }
    if let (true, Some(password)) = (opts.db.exists(), opts.password.clone()) {
        state.login.busy = true;
        let _ = commands.send(Command::Login { user: opts.user.clone(), password });
    }
    // What finished after the last session's screen was gone (a signal, a dropped SSH link).
    let report = opts.home.join(AFTER_EXIT_REPORT);
    if let Ok(text) = std::fs::read_to_string(&report) {
        let text = crate::domain::sanitize::terminal_safe(text.trim());
        state.notice = Some(app::Notice { text: format!("after the last session closed: {text}"), error: false });
        if let Err(e) = std::fs::remove_file(&report) {
            tracing::warn!("cannot remove {}: {e}", report.display());
        }
    }
    let logs = crate::store::home::log_dir(&opts.home);
    let aside = logs.join("stderr.log");
    let set = crate::store::home::ensure_private_dir(&logs)
        .map_err(|e| e.to_string())
        .and_then(|()| set_stderr_aside(&aside).map_err(|e| e.to_string()));
    if let Err(e) = set {
        tracing::warn!("stderr stays on the terminal ({}): {e}", aside.display());
    }
    let mut term = match setup() {
        Ok(t) => t,
        Err(e) => {
            stderr_back();
            return Err(e);
        }
    };
    let mut events = events;
    let result = event_loop(&mut term, &mut state, &commands, &mut events, &opts.home).await;
    restore();
    finish_running(&mut state, &commands, &mut events, &report).await;
    result
}

/// Where operations that finished after the screen was gone are written for the next start.
const AFTER_EXIT_REPORT: &str = "after-exit.txt";

/// After the screen is gone (quit confirmed, SIGTERM, SIGHUP), lets the operations still running
/// finish or roll back on their own timeouts instead of dying with the process: each end is
/// written to stderr (when there still is one) and to a file the next start shows.
async fn finish_running(
    state: &mut AppState,
    commands: &tokio::sync::mpsc::UnboundedSender<Command>,
    events: &mut tokio::sync::mpsc::UnboundedReceiver<worker::Event>,
    report: &std::path::Path,
) {
    use std::io::Write;
    if state.running.is_empty() {
        return;
    }
    let list: Vec<String> = state.running.values().map(|r| format!("{} ({})", r.subdomain, r.op.verb())).collect();
    // A hung-up terminal makes these writes fail: that is fine, the file still gets the story.
    let _ = writeln!(io::stderr(), "nbmsp: waiting for {} to finish or roll back ...", list.join(", "));
    let mut lines = Vec::new();
    while !state.running.is_empty() {
        let Some(ev) = events.recv().await else { break };
        if let worker::Event::Finished { customer_id, op, result } = &ev {
            let who = state.running.get(customer_id).map_or_else(|| format!("#{customer_id}"), |r| r.subdomain.clone());
            let line = match result {
                Ok(m) => format!("{who}: {} done: {m}", op.verb()),
                Err(e) => format!("{who}: {} failed: {e}", op.verb()),
            };
            let _ = writeln!(io::stderr(), "nbmsp: {}", crate::domain::sanitize::terminal_safe(&line));
            lines.push(line);
        }
        for c in app::update(state, Action::Engine(ev)) {
            let _ = commands.send(c);
        }
    }
    if !lines.is_empty()
        && let Err(e) = std::fs::write(report, lines.join("; "))
    {
        tracing::warn!("cannot write {}: {e}", report.display());
    }
}

async fn event_loop(
    term: &mut Term,
    state: &mut AppState,
    commands: &tokio::sync::mpsc::UnboundedSender<Command>,
    events: &mut tokio::sync::mpsc::UnboundedReceiver<worker::Event>,
    home: &std::path::Path,
) -> io::Result<Ending> {
    use tokio::signal::unix::{SignalKind, signal};
    // SIGTERM, SIGHUP (the SSH link dropped) and SIGINT from outside leave like a confirmed quit:
    // the terminal is restored and running operations finish first.
    let mut term_sig = signal(SignalKind::terminate())?;
    let mut hup_sig = signal(SignalKind::hangup())?;
    let mut int_sig = signal(SignalKind::interrupt())?;
    let send = |cmds: Vec<Command>| {
        for c in cmds {
            let _ = commands.send(c);
        }
    };
    let size = term.size()?;
    send(app::update(state, Action::Resize(size.width, size.height)));
    let mut input = EventStream::new();
    let mut engine_alive = true;
    let mut mouse_on = false;
    let mut last_frame = tokio::time::Instant::now();
    loop {
        // A key draws at once; log lines alone wait for the next frame slot, so a container
        // writing hundreds of lines a second costs a frame or a few a second (`log_frame`, by
        // the rate), not one per batch.
        let log_frame = app::detail::log_frame(state.detail().map_or(0, |d| d.log_rate));
        let logs_due = state.logs_dirty && last_frame.elapsed() >= log_frame;
        if state.dirty || logs_due {
            term.draw(|f| ui::render(state, f))?;
            state.dirty = false;
            state.logs_dirty = false;
            last_frame = tokio::time::Instant::now();
        }
        let logs_waiting = state.logs_dirty;
        let action = tokio::select! {
            _ = tokio::time::sleep_until(last_frame + log_frame), if logs_waiting => None,
            ev = input.next() => match ev {
                Some(Ok(Event::Key(k))) if k.kind != KeyEventKind::Release => keymap::map(state, k),
                Some(Ok(Event::Resize(w, h))) => Some(Action::Resize(w, h)),
                Some(Ok(Event::Mouse(m))) => keymap::mouse(state, m),
                Some(Ok(_)) => None,
                Some(Err(e)) => return Err(e),
                None => break,
            },
            _ = term_sig.recv() => return Ok(Ending::Signal(libc::SIGTERM)),
            _ = hup_sig.recv() => return Ok(Ending::Signal(libc::SIGHUP)),
            _ = int_sig.recv() => return Ok(Ending::Signal(libc::SIGINT)),
            ev = events.recv(), if engine_alive => match ev {
                Some(ev) => Some(Action::Engine(ev)),
                None => {
                    engine_alive = false;
                    Some(Action::Engine(worker::Event::Error("the engine stopped; restart nbmsp".into())))
                }
            },
        };
        if let Some(a) = action {
            send(app::update(state, a));
        }
        // Everything already queued is applied before the next frame.
        while let Ok(ev) = events.try_recv() {
            send(app::update(state, Action::Engine(ev)));
        }
        if state.mouse != mouse_on {
            mouse_on = state.mouse;
            if mouse_on {
                execute!(io::stdout(), crossterm::event::EnableMouseCapture)?;
            } else {
                execute!(io::stdout(), crossterm::event::DisableMouseCapture)?;
            }
        }
        if let Some(text) = state.clipboard.take() {
            copy_to_clipboard(&text)?;
        }
        if let Some(edit) = state.external_edit.take() {
            // The input stream's reader thread would take keys meant for the editor: it goes
            // first, and a new one starts after.
            drop(input);
            let edited = edit_externally(term, home, &edit).await?;
            input = EventStream::new();
            send(app::update(state, Action::Edited(edited)));
        }
        if state.should_quit {
            break;
        }
    }
    Ok(Ending::Quit)
}

/// The editor a person chose: `$VISUAL`, `$EDITOR`, else Debian's `sensible-editor`, else `vi`.
fn editor() -> String {
    let set = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    set("VISUAL").or_else(|| set("EDITOR")).unwrap_or_else(|| {
        let sensible = std::path::Path::new("/usr/bin/sensible-editor");
        if sensible.exists() { sensible.display().to_string() } else { "vi".into() }
    })
}

/// Hands the terminal to the operator's editor on a private copy of `edit.text` (in the data
/// home, 0600), takes it back, and returns the file's text — or why there is none (the editor
/// could not start or exited with an error: nothing is saved then). The editor is awaited, not
/// blocked on; the screen is redrawn whole afterwards.
async fn edit_externally(
    term: &mut Term,
    home: &std::path::Path,
    edit: &app::baseline_edit::ExternalEdit,
) -> io::Result<Result<String, crate::domain::error::Failure>> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = home.join("edit");
    crate::store::home::ensure_private_dir(&dir).map_err(|e| io::Error::other(e.to_string()))?;
    let file = dir.join(&edit.name);
    match std::fs::remove_file(&file) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&file)?;
        f.write_all(edit.text.as_bytes())?;
    }
    disable_raw_mode()?;
    execute!(io::stdout(), LeaveAlternateScreen, crossterm::cursor::Show)?;
    let status = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{} \"$1\"", editor()))
        .arg("nbmsp-editor")
        .arg(&file)
        .status()
        .await;
    enable_raw_mode()?;
    execute!(io::stdout(), EnterAlternateScreen, crossterm::terminal::Clear(crossterm::terminal::ClearType::All))?;
    term.backend_mut().forget();
    // The next frame must be drawn whole: an empty frame makes ratatui's previous buffer blank
    // (`Terminal::clear` would ask the terminal where its cursor is, and the answer can be lost
    // while the input reader starts again).
    term.draw(|_| {})?;
    let failed = crate::domain::error::Failure::runtime;
    let result = match status {
        Ok(s) if s.success() => {
            std::fs::read_to_string(&file).map_err(|e| failed(format!("cannot read {}: {e}", file.display())))
        }
        Ok(s) => Err(failed(format!("{} ended with {s}; nothing saved", editor()))),
        Err(e) => Err(failed(format!("cannot start {}: {e}", editor()))),
    };
    if let Err(e) = std::fs::remove_file(&file) {
        tracing::warn!("cannot remove {}: {e}", file.display());
    }
    Ok(result)
}

/// Puts `text` on the clipboard of the terminal the user sits at with OSC 52, which travels
/// through SSH; inside tmux the sequence is wrapped so tmux passes it on.
fn copy_to_clipboard(text: &str) -> io::Result<()> {
    use base64::Engine as _;
    use std::io::Write;
    let payload = base64::engine::general_purpose::STANDARD.encode(text);
    let seq = if std::env::var_os("TMUX").is_some() {
        format!("\x1bPtmux;\x1b\x1b]52;c;{payload}\x07\x1b\\")
    } else {
        format!("\x1b]52;c;{payload}\x07")
    };
    let mut out = io::stdout();
    out.write_all(seq.as_bytes())?;
    out.flush()
}
