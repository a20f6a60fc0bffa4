//! `nbmsp settings ...`.

use std::path::PathBuf;

use clap::Subcommand;

use super::{CliError, CliResult, GlobalArgs, auth, output};
use crate::domain::settings;

/// Settings commands.
#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// Show every setting (secrets only as set/unset)
    Show,
    /// Change one setting
    Set {
        /// The key, e.g. base_domain, npm.url, relay_base_port
        key: String,
        /// The new value (secrets must come from --value-file, to stay out of shell history)
        #[arg(required_unless_present = "value_file", conflicts_with = "value_file")]
        value: Option<String>,
        /// Read the value from FILE ('-' for stdin); one trailing newline is dropped
        #[arg(long, value_name = "FILE")]
        value_file: Option<PathBuf>,
    },
}

/// Runs a settings command.
pub fn run(g: &GlobalArgs, cmd: SettingsCommand) -> CliResult {
    let (store, session) = auth::login(g)?;
    match cmd {
        SettingsCommand::Show => {
            let view = store.settings_view()?;
            if g.json {
                let map: serde_json::Map<String, serde_json::Value> =
                    view.iter().map(|s| (s.key.to_string(), s.value.clone().into())).collect();
                return output::json(&map);
            }
            let rows: Vec<Vec<String>> =
                view.iter().map(|s| vec![s.key.to_string(), s.value.clone(), s.help.to_string()]).collect();
            println!("{}", output::table(&["KEY", "VALUE", "MEANING"], &rows));
            Ok(())
        }
        SettingsCommand::Set { key, value, value_file } => {
            let def = settings::def(&key)?;
            let value = match (value, value_file) {
                (Some(_), _) if def.is_secret() => {
                    return Err(CliError::usage(format!(
                        "{key} is a secret: pass it with --value-file FILE (or '-' for stdin) so it stays out of shell history"
                    )));
                }
                (Some(v), _) => v,
                (None, Some(f)) => auth::read_secret_file(&f)?,
                (None, None) => return Err(CliError::usage("give a VALUE or --value-file FILE")),
            };
            let stored = store.set_setting(&session, &key, &value)?;
            // Allowed, but worth a word (the same words the app's editor shows).
            let caution = store.settings().ok().and_then(|s| s.caution());
            if g.json {
                output::json(&serde_json::json!({ "key": key, "value": stored, "caution": caution }))
            } else {
                println!("{key} = {stored}");
                if let Some(c) = caution {
                    eprintln!("nbmsp: caution: {c}");
                }
                Ok(())
            }
        }
    }
}
