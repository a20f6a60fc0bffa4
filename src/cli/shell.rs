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
/// The page of `path` (`["customer", "create"]`; empty: nbmsp), or every page into `dir`.
pub fn man(path: &[String], dir: Option<&std::path::Path>) -> CliResult {
    let mut root = Cli::command().disable_help_subcommand(true);
    // Built, so subcommands carry their display names (nbmsp-customer-create) for the pages.
    root.build();
    if let Some(dir) = dir {
        return clap_mangen::generate_to(root, dir)
            .map_err(|e| CliError::runtime(format!("cannot write the man pages into {}: {e}", dir.display())));
    }
    let mut cmd = root;
    for (i, name) in path.iter().enumerate() {
        cmd = cmd.find_subcommand(name).cloned().ok_or_else(|| {
            CliError::usage(format!("no command `nbmsp {}`: see `nbmsp --help`", path[..=i].join(" ")))
        })?;
    }
    let page = clap_mangen::Man::new(cmd);
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

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// An argument of a subcommand whose id equals a global option's (`user`, `home`, `json`)
    /// is the same argument to clap: `customer users acme role ci-bot admin` once logged in
    /// as `ci-bot`. No command may reuse a global id.
    #[test]
    fn no_subcommand_argument_shadows_a_global_option() {
        let root = super::Cli::command();
        let globals: Vec<String> =
            root.get_arguments().filter(|a| a.is_global_set()).map(|a| a.get_id().to_string()).collect();
        assert!(globals.contains(&"user".to_string()), "{globals:?}");
        let mut stack: Vec<(String, clap::Command)> =
            root.get_subcommands().map(|c| (c.get_name().to_string(), c.clone())).collect();
        let mut seen = 0;
        while let Some((path, cmd)) = stack.pop() {
            for a in cmd.get_arguments().filter(|a| !a.is_global_set()) {
                assert!(
                    !globals.contains(&a.get_id().to_string()),
                    "`{path}` has an argument `{}` that is also a global option",
                    a.get_id()
                );
                seen += 1;
            }
            stack.extend(cmd.get_subcommands().map(|c| (format!("{path} {}", c.get_name()), c.clone())));
        }
        assert!(seen > 50, "walked the whole tree ({seen} arguments)");
    }
}
