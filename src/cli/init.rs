//! `nbmsp init`: database, first admin, settings.

use clap::Args;

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
}

/// Runs `nbmsp init`.
pub fn run(g: &GlobalArgs, a: InitArgs) -> CliResult {
    let home = g.home()?;
    let db = store::home::db_path(&home);
    if db.exists() && Store::open(&db, false)?.is_initialised()? {
        return Err(store::StoreError::AlreadyInitialised(home).into());
    }
    // Validate before asking for a password, so a typo does not cost a prompt.
    crate::domain::settings::normalise("admin_email", &a.admin_email)?;
    crate::domain::settings::normalise("base_domain", &a.base_domain)?;
    crate::domain::validate::username(&a.admin_user)?;
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
    })?;
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
