//! Getting a password without echo or shell history, and logging in.

use std::io::{IsTerminal, Read};
use std::path::Path;

use super::GlobalArgs;
use super::error::{CliError, CliResult, ErrorKind};
use crate::store::{Session, Store};

/// Environment variable holding the password for non-interactive use.
pub const PASSWORD_ENV: &str = "NBMSP_PASSWORD";

/// Reads a secret from `path` (`-` for stdin), dropping one trailing newline.
pub fn read_secret_file(path: &Path) -> CliResult<String> {
    let mut s = String::new();
    if path == Path::new("-") {
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| CliError::runtime(format!("cannot read standard input: {e}")))?;
    } else {
        s = std::fs::read_to_string(path)
            .map_err(|e| CliError::new(ErrorKind::Usage, format!("cannot read {}: {e}", path.display())))?;
    }
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
    if let Ok(p) = std::env::var(PASSWORD_ENV) {
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
    if let Some(p) = env.and_then(|e| std::env::var(e).ok()) {
        return Ok(p);
    }
    let first = ask(&format!("New password for {who}: "))?;
    let second = ask("Repeat it: ")?;
    if first != second {
        return Err(CliError::usage("the two passwords differ"));
    }
    Ok(first)
}

/// Opens the store and logs in as `--user`.
pub fn login(g: &GlobalArgs) -> CliResult<(Store, Session)> {
    let mut store = g.open_store()?;
    // Check the lockout before asking, so a locked user is not made to type for nothing.
    if let Some(wait_s) = store.lockout_remaining(&g.user, unix_now())? {
        return Err(crate::store::AuthError::Throttled { username: g.user.clone(), wait_s }.into());
    }
    let pw = password(g.password_file.as_deref(), &format!("Password for {}: ", g.user))?;
    let session = store.login(&g.user, &pw, unix_now())?;
    Ok((store, session))
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
