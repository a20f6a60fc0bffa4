//! `nbmsp user ...`.

use std::path::PathBuf;

use clap::Subcommand;

use super::{CliResult, GlobalArgs, auth, output};
use crate::domain::user::Role;

/// Environment variable with the new password for `user add`/`user passwd` in scripts.
pub const NEW_PASSWORD_ENV: &str = "NBMSP_NEW_PASSWORD";

/// User commands.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user (admins only)
    Add {
        /// Login name
        username: String,
        /// What the user may do
        #[arg(long, default_value = "operator")]
        role: Role,
        /// Read the new user's password from FILE (else NBMSP_NEW_PASSWORD, else a prompt)
        #[arg(long, value_name = "FILE")]
        new_password_file: Option<PathBuf>,
    },
    /// Change your password (admins may reset anyone's)
    Passwd {
        /// Whose password [default: your own]
        username: Option<String>,
        /// Read the new password from FILE (else NBMSP_NEW_PASSWORD, else a prompt)
        #[arg(long, value_name = "FILE")]
        new_password_file: Option<PathBuf>,
    },
    /// List users
    List,
}

/// Runs a user command.
pub fn run(g: &GlobalArgs, cmd: UserCommand) -> CliResult {
    let (store, session, current) = auth::login_keeping_password(g)?;
    match cmd {
        UserCommand::Add { username, role, new_password_file } => {
            session.require(crate::domain::rights::Right::Users)?;
            let pw = auth::new_password(new_password_file.as_deref(), Some(NEW_PASSWORD_ENV), &username)?;
            let u = store.add_user(&session, &username, &pw, role)?;
            if g.json { output::json(&u) } else { ok(format!("added user '{}' ({})", u.username, u.role)) }
        }
        UserCommand::Passwd { username, new_password_file } => {
            let who = username.unwrap_or_else(|| session.user.username.clone());
            let pw = auth::new_password(new_password_file.as_deref(), Some(NEW_PASSWORD_ENV), &who)?;
            store.change_password(&session, &who, Some(&current), &pw)?;
            if g.json {
                output::json(&serde_json::json!({ "user": who, "password": "changed" }))
            } else {
                ok(format!("password of '{who}' changed"))
            }
        }
        UserCommand::List => {
            let users = store.users()?;
            if g.json {
                return output::json(&users);
            }
            let rows: Vec<Vec<String>> = users
                .iter()
                .map(|u| vec![u.username.clone(), u.role.to_string(), crate::store::fmt_time(u.created_at)])
                .collect();
            ok(output::table(&["USER", "ROLE", "CREATED"], &rows))
        }
    }
}

fn ok(line: String) -> CliResult {
    println!("{line}");
    Ok(())
}
