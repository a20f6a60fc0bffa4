//! `nbmsp completions SHELL` and `nbmsp man`: generated from the command definitions
//! themselves, so they cannot drift from `--help`.

use clap::CommandFactory;

use super::{Cli, CliError, CliResult};

/// Shells completions are written for.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Shell {
    /// bash (install as /usr/share/bash-completion/completions/nbmsp)
    Bash,
    /// zsh (install as _nbmsp in a directory of $fpath)
    Zsh,
    /// fish (install as ~/.config/fish/completions/nbmsp.fish)
    Fish,
}

/// Prints the completion script for `shell` on stdout.
pub fn completions(shell: Shell) -> CliResult {
    let mut cmd = Cli::command();
    let shell = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "nbmsp", &mut out);
    write_out(&out)
}

/// Prints the man page (roff) on stdout: `nbmsp man | man -l -`.
pub fn man() -> CliResult {
    let page = clap_mangen::Man::new(Cli::command());
    let mut out = Vec::new();
    page.render(&mut out).map_err(|e| CliError::runtime(format!("cannot render the man page: {e}")))?;
    write_out(&out)
}

/// Writes `bytes` to stdout; a reader that went away ends the command like `head` expects.
fn write_out(bytes: &[u8]) -> CliResult {
    use std::io::Write;
    match std::io::stdout().lock().write_all(bytes) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(141),
        r => r.map_err(|e| CliError::runtime(format!("cannot write to standard output: {e}"))),
    }
}
