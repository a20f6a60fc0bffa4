//! `nbmsp init`: database, first admin, settings.

use clap::Args;

use super::error::{CliError, ErrorKind};
use super::{CliResult, GlobalArgs, auth, output, show_path};
use crate::store::{self, Store, auth::InitParams};

/// Arguments of `nbmsp init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Username of the first admin
    #[arg(long, value_name = "USER", default_value = "admin")]
    pub admin_user: String,
    /// The MSP's contact address (also the default Let's Encrypt contact)
    #[arg(long, value_name = "EMAIL")]
    pub admin_email: String,
    /// Domain under which customers get <subdomain>.<base-domain>
    #[arg(long, value_name = "DOMAIN")]
    pub base_domain: String,
    /// Start a new installation although containers of another nbmsp installation run on this
    /// Docker engine (they stay untouched: nbmsp only acts on its own installation's labels)
    #[arg(long, conflicts_with = "adopt")]
    pub beside_foreign: bool,
    /// Take over the installation id of the containers found on this engine (when its database
    /// is lost and no backup exists); reconcile then lists them against the new database
    #[arg(long, value_name = "INSTALLATION_ID")]
    pub adopt: Option<String>,
}

/// Runs `nbmsp init`.
pub async fn run(g: &GlobalArgs, a: InitArgs) -> CliResult {
    let home = g.home()?;
    let db = store::home::db_path(&home);
    if db.exists() && Store::open(&db, false)?.is_initialised()? {
        return Err(store::StoreError::AlreadyInitialised(home).into());
    }
    // Validate before asking for a password, so a typo does not cost a prompt.
    crate::domain::settings::normalise("admin_email", &a.admin_email)?;
    crate::domain::settings::normalise("base_domain", &a.base_domain)?;
    crate::domain::validate::username(&a.admin_user)?;
    let foreign = crate::engine::hosts::local::foreign_installations().await;
    match (&foreign, &a.adopt) {
        (Ok(found), None) if !found.is_empty() && !a.beside_foreign => {
            return Err(CliError::new(ErrorKind::Conflict, crate::engine::hosts::local::foreign_refusal(found)));
        }
        (Ok(found), Some(id)) if !found.contains_key(id) => {
            return Err(CliError::usage(format!("no containers of installation {id} run on this engine")));
        }
        (Err(e), _) => eprintln!("WARN could not check the Docker engine for other installations: {e}"),
        _ => {}
    }
    let password = auth::new_password(g.password_file.as_deref(), Some(auth::PASSWORD_ENV), &a.admin_user)?;
    crate::domain::validate::password(&password)?;
    store::home::ensure_private_dir(&home)?;
    let mut st = Store::open(&db, true)?;
    let session = st.initialise(&InitParams {
        home: &home,
        admin_user: &a.admin_user,
        password: &password,
        admin_email: &a.admin_email,
        base_domain: &a.base_domain,
        beside_foreign: a.beside_foreign,
    })?;
    if let Some(id) = &a.adopt {
        st.adopt_installation_id(id)?;
        // Its containers keep their names: an installation made beside another named them
        // with its short id, and so must this one now.
        let short = format!("{}-", id.get(..8).unwrap_or(id));
        let named = |n: &String| n.starts_with(&format!("netbird-{short}"));
        if let Ok(found) = &foreign
            && found.get(id).is_some_and(|names| !names.is_empty() && names.iter().all(named))
        {
            st.set_name_prefix(&short)?;
        }
    }
    let settings = st.settings()?;
    if g.json {
        output::json(&serde_json::json!({
            "home": show_path(&home),
            "database": show_path(&db),
            "admin_user": session.user.username,
            "base_domain": settings.base_domain,
            "data_dir": settings.data_dir,
        }))
    } else {
        println!("nbmsp initialised in {}", show_path(&home));
        println!(
            "admin user: {}   base domain: {}   data dir: {}",
            session.user.username, settings.base_domain, settings.data_dir
        );
        println!(
            "next: `nbmsp doctor` checks Docker, the proxy and the port range; `nbmsp settings show` lists the settings"
        );
        Ok(())
    }
}
