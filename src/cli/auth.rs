//! Getting a password without echo or shell history, and logging in.

use std::io::{IsTerminal, Read};
use std::path::Path;

use super::GlobalArgs;
use super::error::{CliError, CliResult, ErrorKind};
use crate::store::{Session, Store};

/// Environment variable holding the password for non-interactive use.
pub const PASSWORD_ENV: &str = "NBMSP_PASSWORD";

/// Largest secret file read: passwords and tokens are short, and `/dev/zero` must not fill memory.
pub const SECRET_FILE_MAX: u64 = 64 * 1024;

/// Reads a secret from `path` (`-` for stdin), dropping one trailing newline; at most
/// [`SECRET_FILE_MAX`] bytes.
pub fn read_secret_file(path: &Path) -> CliResult<String> {
    let mut bytes = Vec::new();
    let name = if path == Path::new("-") { "standard input".to_string() } else { path.display().to_string() };
    let read = if path == Path::new("-") {
        std::io::stdin().take(SECRET_FILE_MAX + 1).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(SECRET_FILE_MAX + 1).read_to_end(&mut bytes))
    };
    read.map_err(|e| CliError::new(ErrorKind::Usage, format!("cannot read {name}: {e}")))?;
    if bytes.len() as u64 > SECRET_FILE_MAX {
        return Err(CliError::usage(format!("{name} is larger than {SECRET_FILE_MAX} bytes: not a password file")));
    }
    let mut s = String::from_utf8(bytes).map_err(|_| CliError::usage(format!("{name} is not UTF-8 text")))?;
    if s.ends_with('\n') {
        s.pop();
        if s.ends_with('\r') {
            s.pop();
        }
    }
    Ok(s)
}

/// The password from `--password-file`, else `NBMSP_PASSWORD`, else a prompt without echo.
pub fn password(file: Option<&Path>, prompt: &str) -> CliResult<String> {
    if let Some(f) = file {
        return read_secret_file(f);
    }
    if let Some(p) = crate::engine::hosts::process::secret_var(PASSWORD_ENV) {
        return Ok(p);
    }
    ask(prompt)
}

/// Prompts on the terminal without echo; refuses when there is no terminal to ask on.
pub fn ask(prompt: &str) -> CliResult<String> {
    if !std::io::stdin().is_terminal() {
        return Err(CliError::usage(format!(
            "no password given and no terminal to ask on: use --password-file FILE or set {PASSWORD_ENV}"
        )));
    }
    rpassword::prompt_password(prompt).map_err(|e| CliError::runtime(format!("cannot read the password: {e}")))
}

/// A new password: from `file`, else the prompt twice (they must match).
pub fn new_password(file: Option<&Path>, env: Option<&str>, who: &str) -> CliResult<String> {
    if let Some(f) = file {
        return read_secret_file(f);
    }
    if let Some(p) = env.and_then(crate::engine::hosts::process::secret_var) {
        return Ok(p);
    }
    let first = ask(&format!("New password for {who}: "))?;
    let second = ask("Repeat it: ")?;
    if first != second {
        return Err(CliError::usage("the two passwords differ"));
    }
    Ok(first)
}

/// Says on stderr what the monitor's last integrity check found wrong with the database, if
/// anything: a damaged page of a table this command never reads would otherwise go unnoticed.
pub fn warn_if_damaged(store: &Store) {
    match store.damage_found() {
        Ok(Some(d)) => eprintln!(
            "nbmsp: WARNING the database file is damaged: {}; run `nbmsp doctor`, then `nbmsp backup restore FILE`",
            crate::domain::sanitize::terminal_safe(&d)
        ),
        Ok(None) => {}
        Err(e) => eprintln!("nbmsp: WARNING cannot read the database's integrity record: {e}"),
    }
}

/// Opens the store and logs in as `--user`.
pub fn login(g: &GlobalArgs) -> CliResult<(Store, Session)> {
    login_keeping_password(g).map(|(store, session, _)| (store, session))
}

/// [`login`] that also hands back the password it was given (the proof of the current
/// password that changing one's own needs).
pub fn login_keeping_password(g: &GlobalArgs) -> CliResult<(Store, Session, zeroize::Zeroizing<String>)> {
    let mut store = g.open_store()?;
    // Check the lockout before asking, so a locked user is not made to type for nothing.
    if let Some(wait_s) = store.lockout_remaining(&g.user, unix_now())? {
        return Err(crate::store::AuthError::Throttled { username: g.user.clone(), wait_s }.into());
    }
    let pw = zeroize::Zeroizing::new(password(g.password_file.as_deref(), &format!("Password for {}: ", g.user))?);
    let session = store.login(&g.user, &pw, unix_now())?;
    warn_if_damaged(&store);
    Ok((store, session, pw))
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
