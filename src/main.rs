//! The `nbmsp` binary: parses the command line, sets up logging, then runs a CLI command or the
//! full-screen app.

use std::process::ExitCode;

use clap::Parser;
use color_eyre::eyre::WrapErr;
use nbmsp::cli::{self, Cli, CliError};
use nbmsp::{store, tui};

/// Keeps glibc from holding on to argon2id's working memory. A login or key unwrap allocates
/// 19 MiB at once; freeing an mmap'd block that size raises glibc's dynamic mmap threshold to
/// it, so the next KDF's 19 MiB come from the heap and stay resident for the app's whole life
/// (measured: the app's peak RSS with 1,000 customers 42.6 MB, 36.6 MB with the threshold fixed).
/// Fixing the threshold at its default keeps big blocks mmap'd, given back when freed.
fn return_big_blocks() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; it runs before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

fn main() -> ExitCode {
    // SAFETY: first thing in main, before any thread exists.
    unsafe { nbmsp::engine::hosts::process::take_secret_vars() };
    quiet_on_broken_pipe();
    return_big_blocks();
    // `args_os`: a non-UTF-8 argument is clap's usage error (exit 2), not a panic.
    let args_os: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let args: Vec<String> = args_os.iter().map(|a| a.to_string_lossy().into_owned()).collect();
    let cli = match Cli::try_parse_from(&args_os) {
        Ok(c) => c,
        Err(e) if cli::wants_json(&args) && e.use_stderr() => {
            let msg = e.kind().to_string();
            let detail = e.to_string().lines().next().unwrap_or_default().trim_start_matches("error: ").to_string();
            return exit(cli::report(&CliError::usage(if detail.is_empty() { msg } else { detail }), true));
        }
        Err(e) => e.exit(),
    };
    let _log_guard = init_logging(&cli.global);
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            return exit(cli::report(
                &CliError::runtime(format!("cannot start the async runtime: {e}")),
                cli.global.json,
            ));
        }
    };
    match cli.command {
        Some(command) => match runtime.block_on(cli::run(&cli.global, command)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                tracing::error!(kind = ?e.kind, message = %e.message, "command failed");
                exit(cli::report(&e, cli.global.json))
            }
        },
        None => match run_tui(&cli.global, &runtime) {
            Ok(tui::Ending::Quit) => ExitCode::SUCCESS,
            Ok(tui::Ending::Signal(n)) => exit(128 + n),
            Err(report) => {
                tui::restore();
                eprintln!("nbmsp: {report:?}");
                ExitCode::FAILURE
            }
        },
    }
}

fn run_tui(g: &cli::GlobalArgs, runtime: &tokio::runtime::Runtime) -> color_eyre::Result<tui::Ending> {
    color_eyre::install()?;
    tui::install_panic_hook();
    let home = g.home().map_err(|e| color_eyre::eyre::eyre!(e.message))?;
    // Log in without typing when a password is given (never prompted here: the TUI asks).
    let password = match &g.password_file {
        Some(f) => Some(cli::auth::read_secret_file(f).map_err(|e| color_eyre::eyre::eyre!(e.message))?),
        None => nbmsp::engine::hosts::process::secret_var(cli::auth::PASSWORD_ENV),
    };
    let host = store::locks::host_name();
    let opts = tui::Options {
        db: store::home::db_path(&home),
        home,
        user: g.user.clone(),
        password,
        host,
        color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    runtime.block_on(tui::run(opts)).wrap_err("the terminal failed")
}

/// A reader that went away (`nbmsp customer list | head -1`) ends the command quietly, as
/// coreutils do, with the status a SIGPIPE death would give (141). Rust ignores SIGPIPE, so
/// the write fails and `println!` panics: this hook turns exactly that panic into the exit.
fn quiet_on_broken_pipe() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let text = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        // Our own errors are values, never panics: a panic naming a broken pipe is a write to
        // the reader that left (println!, or a library writing to stdout for us).
        if text.contains("Broken pipe") {
            std::process::exit(141);
        }
        // Any other failed write to stdout (a full disk, `> /dev/full`): one sentence and a
        // failure status, not a backtrace. What was printed before may be incomplete.
        if text.starts_with("failed printing to stdout") {
            let why = text.split_once(": ").map_or(text, |(_, why)| why);
            eprintln!("nbmsp: cannot write the output: {why}; it is incomplete");
            std::process::exit(74);
        }
        previous(info);
    }));
}

fn exit(code: i32) -> ExitCode {
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// Logs go to a daily-rotated file under the data home, never to the terminal (the TUI owns it).
fn init_logging(g: &cli::GlobalArgs) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    use tracing_subscriber::EnvFilter;
    let home = g.home().ok()?;
    let dir = store::home::log_dir(&home);
    store::home::ensure_private_dir(&dir).ok()?;
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("nbmsp")
        .filename_suffix("log")
        .max_log_files(14)
        .build(&dir)
        .ok()?;
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(format!("nbmsp={}", g.log_level)));
    tracing_subscriber::fmt().with_writer(writer).with_ansi(false).with_env_filter(filter).try_init().ok()?;
    Some(guard)
}
